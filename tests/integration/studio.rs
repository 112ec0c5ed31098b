//! The studio's server against good and bad requests.

use crate::studio_server::StudioServer;
use crate::util::root;

#[test]
fn info_lists_the_folders_photos_and_a_photo_opens() {
    let s = StudioServer::start(&root().join("assets/photos"));
    assert!(s.url.contains(&s.token));
    let r = s.call("GET", "/api/info", b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let photos = r.json()["photos"].as_array().unwrap().len();
    assert_eq!(photos, 5);
    let id = s.open("frl-london_037_03.jpg");
    let r = s.call("GET", &format!("/api/photo/{id}/before"), b"");
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..2], &[0xff, 0xd8], "a JPEG");
}
