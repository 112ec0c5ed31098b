//! The studio's server against good and bad requests.

use crate::studio_server::StudioServer;
use crate::util::root;

#[test]
fn info_lists_the_folders_photos() {
    let s = StudioServer::start(&root().join("assets/photos"));
    let r = s.call("GET", "/api/info", b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let photos = r.json()["photos"].as_array().unwrap().len();
    assert_eq!(photos, 5);
}
