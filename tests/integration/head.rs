//! Rough regions are clipped to the head: the backdrop is never pigmented.

use crate::util::{root, run, stderr, SHIPPED};

/// The clipped share, %, that a render printed.
fn clipped_share(o: &std::process::Output) -> f64 {
    let said = String::from_utf8_lossy(&o.stderr).into_owned();
    said.split("region clipped to the head: ")
        .nth(1)
        .and_then(|s| s.split(" %").next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no clipped share reported: {said}"))
}

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
    let share = clipped_share(&o);
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

/// On every shipped photo: the shipped polygon pushed 30 px outward from
/// the head's centre, so that it spills 20-40 px past the silhouette, gives
/// no dot on the backdrop, and the clipped share is reported.
#[test]
fn rough_polygons_on_every_shipped_photo_leave_the_backdrop_alone() {
    let dir = tempfile::tempdir().unwrap();
    for (stem, _, _) in SHIPPED {
        let text =
            std::fs::read_to_string(root().join(format!("assets/{stem}.polygon.txt"))).unwrap();
        let pts = smp_render::Region::parse_polygon(&text).unwrap();
        let centre = [675.0f32, 520.0];
        let rough: Vec<String> = pts
            .iter()
            .map(|p| {
                let (dx, dy) = (p[0] - centre[0], p[1] - centre[1]);
                let d = dx.hypot(dy);
                format!("{:.0},{:.0}", p[0] + 30.0 * dx / d, p[1] + 30.0 * dy / d)
            })
            .collect();
        let csv = dir.path().join(format!("{stem}.csv"));
        let plan = root().join(format!("assets/{stem}.toml"));
        let o = run(
            dir.path(),
            &[
                "render",
                "--plan",
                plan.to_str().unwrap(),
                "--polygon",
                &rough.join(" "),
                "--out",
                stem,
                "--dots",
                csv.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{stem}: {}", stderr(&o));
        let share = clipped_share(&o);
        let photo = image::open(root().join(format!("assets/photos/{stem}.jpg")))
            .unwrap()
            .to_rgb8();
        let (w, h) = photo.dimensions();
        let all = smp_render::Region::from_weights(w, h, vec![1.0; (w * h) as usize], 0.0, "all")
            .unwrap();
        let backdrop = smp_render::background_pixels(&photo, &all);
        let dots = crate::util::read_dots(&csv);
        let on_backdrop = dots
            .iter()
            .filter(|d| backdrop[d.y as usize * w as usize + d.x as usize])
            .count();
        // The backdrop found independently of the renderer: no dot's
        // centre on it, and none of its pixels darkened by more than 3
        // levels (before the outline was unmixed, 7, 247, 619, 209 and 1
        // on these photos, along a rim stepped like the flood's cells).
        let pure = crate::backdrop::pure_backdrop(&photo);
        let on_pure = dots
            .iter()
            .filter(|d| pure[d.y as usize * w as usize + d.x as usize])
            .count();
        let after = image::open(dir.path().join(stem).join("session-3.png"))
            .unwrap()
            .to_rgb8();
        let (mut darkened, mut most) = (0usize, 0i32);
        for (i, _) in pure.iter().enumerate().filter(|(_, &b)| b) {
            let (x, y) = (i as u32 % w, i as u32 / w);
            let (p, q) = (photo.get_pixel(x, y).0, after.get_pixel(x, y).0);
            let d = (0..3).map(|c| p[c] as i32 - q[c] as i32).max().unwrap();
            most = most.max(d);
            darkened += (d > 3) as usize;
        }
        eprintln!(
            "{stem}: {share:.1} % clipped, {} dots, {on_backdrop} on the backdrop \
             ({on_pure} on the pure backdrop), {darkened} backdrop pixels darkened \
             by more than 3 levels (most {most})",
            dots.len()
        );
        assert!(share > 3.0, "{stem}: {share}");
        assert_eq!(on_backdrop, 0, "{stem}: dots on the backdrop");
        assert_eq!(on_pure, 0, "{stem}: dots on the pure backdrop");
        assert_eq!(
            darkened, 0,
            "{stem}: backdrop darkened (most {most} levels)"
        );
        // The head's side of the outline is still pigmented.
        let head_changed = (0..w * h)
            .filter(|&i| !pure[i as usize])
            .filter(|&i| photo.get_pixel(i % w, i / w) != after.get_pixel(i % w, i / w))
            .count();
        assert!(
            head_changed > 1000,
            "{stem}: {head_changed} head pixels pigmented"
        );
    }
}
