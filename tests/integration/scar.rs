//! Scars: dots on a scar hold less pigment, so it stays visible honestly.

use crate::util::{render_image, root, run, stderr};

/// Mean green value of the pixels inside the rectangle.
fn mean_green(img: &image::RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) -> f64 {
    let mut s = 0.0;
    for y in y0..y1 {
        for x in x0..x1 {
            s += img.get_pixel(x, y).0[1] as f64;
        }
    }
    s / ((x1 - x0) * (y1 - y0)) as f64
}

#[test]
fn a_scar_holds_less_pigment_and_only_there() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join("assets/frl-london_037_03.toml");
    let render = |out: &str, extra: &[&str]| {
        let mut args = vec!["--plan", plan.to_str().unwrap()];
        args.extend_from_slice(extra);
        render_image(dir.path(), &args, out, "session-3.png")
    };
    let plain = render("plain", &[]);
    let scarred = render(
        "scar",
        &[
            "--scar-polygon",
            "640,250 720,245 730,275 650,285",
            "--scar-retention",
            "0",
        ],
    );
    let before = image::open(dir.path().join("plain/before.png"))
        .unwrap()
        .to_rgb8();
    // Inside the scar (away from its soft edge) almost no pigment holds.
    let b = mean_green(&before, 665, 255, 705, 272);
    let p = mean_green(&plain, 665, 255, 705, 272);
    let s = mean_green(&scarred, 665, 255, 705, 272);
    assert!(b - p > 2.0, "the plain render darkens: {b} -> {p}");
    assert!(
        b - s < 0.25 * (b - p),
        "scar keeps {s} vs before {b}, plain {p}"
    );
    // Away from the scar nothing changes.
    let far = |img: &image::RgbImage| mean_green(img, 560, 280, 620, 310);
    assert_eq!(far(&plain), far(&scarred));
    // A retention out of range is an error naming the field and the range.
    let o = run(
        dir.path(),
        &[
            "render",
            "--plan",
            plan.to_str().unwrap(),
            "--scar-retention",
            "1.5",
        ],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("scar_retention") && e.contains("0 to 1"), "{e}");
}

/// Mean R, G, B inside the rectangle.
fn mean_rgb(img: &image::RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) -> [f64; 3] {
    let mut s = [0.0; 3];
    for y in y0..y1 {
        for x in x0..x1 {
            for (c, v) in s.iter_mut().zip(img.get_pixel(x, y).0) {
                *c += v as f64;
            }
        }
    }
    s.map(|v| v / ((x1 - x0) * (y1 - y0)) as f64)
}

#[test]
fn a_scar_takes_its_own_shade_and_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join("assets/frl-london_037_03.toml");
    let scar = "640,250 720,245 730,275 650,285";
    let render = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "--plan",
            plan.to_str().unwrap(),
            "--scar-polygon",
            scar,
            "--scar-retention",
            "1",
        ];
        args.extend_from_slice(extra);
        render_image(dir.path(), &args, out, "session-3.png")
    };
    let same = render("same", &[]);
    // A warm brown, lighter: a scar's pigment chosen apart.
    let own = render(
        "own",
        &["--scar-shade", "#6b4a3a", "--scar-dilution", "0.8"],
    );
    let before = image::open(dir.path().join("same/before.png"))
        .unwrap()
        .to_rgb8();
    let (b, s, o) = (
        mean_rgb(&before, 665, 255, 705, 272),
        mean_rgb(&same, 665, 255, 705, 272),
        mean_rgb(&own, 665, 255, 705, 272),
    );
    // Both pigment the scar; the brown takes less red than blue away.
    assert!(s[1] < b[1] - 2.0 && o[1] < b[1] - 1.0, "{b:?} {s:?} {o:?}");
    let warmth = |c: [f64; 3]| c[0] - c[2];
    assert!(
        warmth(o) > warmth(s) + 1.0,
        "own shade {o:?} not warmer than {s:?}"
    );
    // Off the scar, the two renders are the same pixels.
    for (x, y, p) in same.enumerate_pixels() {
        if !(600..770).contains(&x) || !(215..320).contains(&y) {
            assert_eq!(p, own.get_pixel(x, y), "({x}, {y}) changed off the scar");
        }
    }
    // A bad scar dilution is named as such.
    let o = run(
        dir.path(),
        &[
            "render",
            "--plan",
            plan.to_str().unwrap(),
            "--scar-shade",
            "jet-black",
            "--scar-dilution",
            "3",
        ],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("scar_dilution") && e.contains("0.05"), "{e}");
}
