//! Rough regions are clipped to the head: the backdrop is never pigmented.

use crate::util::{root, run, stderr};

#[test]
fn a_rough_polygon_is_clipped_to_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join("assets/frl-london_021_03.toml");
    // A box over the top of the head reaching 30 px above it (the head's
    // top is at row 230 in this photo).
    let poly = "480,200 880,200 880,330 480,330";
    let args = |out: &'static str, clip: &'static str| {
        vec![
            "render".to_string(),
            "--plan".into(),
            plan.to_str().unwrap().into(),
            "--polygon".into(),
            poly.into(),
            "--clip-to-head".into(),
            clip.into(),
            "--out".into(),
            out.into(),
        ]
    };
    let go = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run(dir.path(), &a)
    };
    let o = go(args("clip", "true"));
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    let share: f64 = said
        .split("region clipped to the head: ")
        .nth(1)
        .and_then(|s| s.split(" %").next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no clipped share reported: {said}"));
    assert!(share > 20.0 && share < 70.0, "{share}");
    let read = |d: &str, f: &str| image::open(dir.path().join(d).join(f)).unwrap().to_rgb8();
    let before = read("clip", "before.png");
    let changed = |img: &image::RgbImage, y0: u32, y1: u32| {
        (y0..y1)
            .flat_map(|y| (480..880).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y) != before.get_pixel(x, y))
            .count()
    };
    let clipped = read("clip", "session-3.png");
    assert_eq!(changed(&clipped, 200, 222), 0, "background pigmented");
    assert!(changed(&clipped, 250, 320) > 5000);
    // Without clipping the backdrop is pigmented.
    let o = go(args("raw", "false"));
    assert!(o.status.success());
    assert!(changed(&read("raw", "session-3.png"), 200, 222) > 1000);
}
