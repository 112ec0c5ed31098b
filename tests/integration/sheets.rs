//! Comparison layouts: sizes and aspect ratios, the split line, crops, and
//! the "Simulated preview" notice.

use std::path::Path;

use image::RgbImage;
use smp_render::{compose, Canvas, Layout, Panel, SheetOptions, PRESETS};

use crate::util::{bbox, near, root, run, save, solid, stderr};

const RED: [u8; 3] = [220, 30, 30];
const GREEN: [u8; 3] = [30, 200, 60];
const BLUE: [u8; 3] = [30, 60, 220];

fn bbox_of(img: &RgbImage, c: [u8; 3]) -> (u32, u32, u32, u32) {
    bbox(img, |p| near(p, c, 6)).unwrap_or_else(|| panic!("no pixel of {c:?}"))
}

fn size_of(b: (u32, u32, u32, u32)) -> (u32, u32) {
    (b.2 - b.0, b.3 - b.1)
}

#[test]
fn layouts_keep_aspect_ratio_and_sizes() {
    let panels = [
        Panel::new(solid(300, 200, RED), "Before"),
        Panel::new(solid(150, 200, GREEN), "Session 1"),
        Panel::new(solid(600, 400, BLUE), "Session 2"),
    ];
    // At the pictures' own size nothing is enlarged: every picture gets the
    // smallest one's height, the large one is halved.
    let out = compose(&panels, &SheetOptions::default()).unwrap();
    assert_eq!(size_of(bbox_of(&out, RED)), (300, 200));
    assert_eq!(size_of(bbox_of(&out, GREEN)), (150, 200));
    assert_eq!(size_of(bbox_of(&out, BLUE)), (300, 200));
    let (r, g, b) = (
        bbox_of(&out, RED),
        bbox_of(&out, GREEN),
        bbox_of(&out, BLUE),
    );
    assert!(r.2 < g.0 && g.2 < b.0, "in order, apart: {r:?} {g:?} {b:?}");
    assert!(r.1 == g.1 && g.1 == b.1, "one row");

    // On every preset, in every layout, the sheet has the preset's size and
    // each picture its own aspect ratio.
    for (name, w, h, _, _) in PRESETS {
        for layout in [
            Layout::SideBySide,
            Layout::Strip,
            Layout::Grid { columns: None },
            Layout::Grid { columns: Some(1) },
        ] {
            let opts = SheetOptions {
                layout,
                canvas: Some(Canvas::parse(name).unwrap()),
                ..Default::default()
            };
            let out = compose(&panels, &opts).unwrap();
            assert_eq!(out.dimensions(), (*w, *h), "{name} {layout:?}");
            let used: &[([u8; 3], f64)] = if layout == Layout::SideBySide {
                &[(RED, 1.5), (BLUE, 1.5)]
            } else {
                &[(RED, 1.5), (GREEN, 0.75), (BLUE, 1.5)]
            };
            for (c, aspect) in used {
                let (pw, ph) = size_of(bbox_of(&out, *c));
                let got = pw as f64 / ph as f64;
                assert!(
                    (got - aspect).abs() <= 1.0 / ph as f64 + 1e-9,
                    "{name} {layout:?}: {c:?} is {pw} x {ph}, aspect {got} instead of {aspect}"
                );
                assert!(
                    pw > *w / 8 || ph > *h / 8,
                    "{name} {layout:?}: {c:?} only {pw} x {ph} px"
                );
            }
            if layout == (Layout::Grid { columns: Some(1) }) {
                let (r, g) = (bbox_of(&out, RED), bbox_of(&out, GREEN));
                assert!(r.3 < g.1, "one column: {r:?} above {g:?}");
            }
        }
    }
}

#[test]
fn split_position_is_where_asked() {
    for at in [0.3f32, 0.5, 0.8] {
        let opts = SheetOptions {
            layout: Layout::Split { at },
            simulated_label: false,
            ..Default::default()
        };
        let out = compose(
            &[
                Panel::new(solid(400, 300, BLUE), "Before"),
                Panel::new(solid(400, 300, RED), "After"),
            ],
            &opts,
        )
        .unwrap();
        let picture = bbox(&out, |p| near(p, BLUE, 6) || near(p, RED, 6)).unwrap();
        assert_eq!(size_of(picture), (400, 300), "the split keeps the size");
        let y = picture.1 + 200; // below the tags
        let row: Vec<[u8; 3]> = (picture.0..picture.2)
            .map(|x| out.get_pixel(x, y).0)
            .collect();
        let last_blue = row.iter().rposition(|p| near(*p, BLUE, 6)).unwrap();
        let first_red = row.iter().position(|p| near(*p, RED, 6)).unwrap();
        assert!(row[..last_blue].iter().all(|p| near(*p, BLUE, 6)));
        assert!(row[first_red..].iter().all(|p| near(*p, RED, 6)));
        let line = (last_blue + first_red) as f32 / 2.0;
        let asked = at * 400.0;
        assert!(
            (line - asked).abs() <= 1.5 && first_red - last_blue <= 6,
            "split at {at}: line between {last_blue} and {first_red}, asked {asked}"
        );
        // A white line marks the split.
        assert!(row[last_blue + 1..first_red].contains(&[255, 255, 255]));
    }
}

fn write_inputs(dir: &Path) {
    save(&solid(400, 300, BLUE), &dir.join("before.png"));
    save(&solid(400, 300, GREEN), &dir.join("s1.png"));
    save(&solid(400, 300, RED), &dir.join("s2.png"));
}

#[test]
fn sheet_command_writes_every_preset_at_its_size() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let o = run(
        dir.path(),
        &[
            "sheet",
            "--layout",
            "timeline",
            "--image",
            "Before=before.png",
            "--image",
            "Healed=s1.png",
            "--image",
            "5 years=s2.png",
            "--size",
            "square,portrait,landscape,a4,800x600",
            "--out",
            "o",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for (name, size) in [
        ("square", (1080, 1080)),
        ("portrait", (1080, 1350)),
        ("landscape", (1920, 1080)),
        ("a4", (2480, 3508)),
        ("800x600", (800, 600)),
    ] {
        let path = dir.path().join(format!("o/sheet-timeline-{name}.png"));
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), size, "{name}");
        for c in [BLUE, GREEN, RED] {
            let (w, h) = size_of(bbox_of(&img, c));
            assert!((w as f64 / h as f64 - 4.0 / 3.0).abs() <= 1.0 / h as f64 + 1e-9);
        }
    }
    let a4 = std::fs::read(dir.path().join("o/sheet-timeline-a4.png")).unwrap();
    assert_eq!(smp_render::read_dpi(&a4), Some(300), "A4 prints at 300 dpi");
}

#[test]
fn crops_are_exact_and_their_errors_clear() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let sheet = |extra: &[&str]| {
        let mut args = vec![
            "sheet",
            "--layout",
            "side-by-side",
            "--image",
            "Before=before.png",
            "--image",
            "After=s2.png",
            "--out",
            "o",
        ];
        args.extend_from_slice(extra);
        run(dir.path(), &args)
    };
    let o = sheet(&["--crop", "10,20,100,50"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let img = image::open(dir.path().join("o/sheet-side-by-side.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(size_of(bbox_of(&img, BLUE)), (100, 50));
    assert_eq!(size_of(bbox_of(&img, RED)), (100, 50));

    let o = sheet(&["--crop", "300,0,200,100"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("before.png") && e.contains("right edge") && e.contains("400 x 300"),
        "{e}"
    );
    let e = stderr(&sheet(&["--crop", "0,250,10,100"]));
    assert!(e.contains("bottom edge") && e.contains("300"), "{e}");
    let e = stderr(&sheet(&["--crop", "1,2,3"]));
    assert!(e.contains("four numbers") && e.contains("x,y,w,h"), "{e}");
    let e = stderr(&sheet(&["--crop", "0,0,0,10"]));
    assert!(e.contains("at least 1 px"), "{e}");
    let e = stderr(&sheet(&["--crop", "scalp"]));
    assert!(e.contains("region") && e.contains("--region"), "{e}");
    // Images of different sizes cannot make a split view; the message says so.
    save(&solid(200, 300, RED), &dir.path().join("narrow.png"));
    let o = run(
        dir.path(),
        &[
            "sheet",
            "--layout",
            "split",
            "--image",
            "before.png",
            "--image",
            "narrow.png",
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("same size"), "{}", stderr(&o));
}

#[test]
fn scalp_crop_frames_the_region() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join("assets/frl-london_037_03.toml");
    let o = run(
        dir.path(),
        &[
            "sheet",
            "--plan",
            plan.to_str().unwrap(),
            "--layout",
            "split",
            "--crop",
            "scalp",
            "--crop-margin",
            "0",
            "--no-simulated-label",
            "--out",
            "o",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mask = image::open(root().join("assets/frl-london_037_03.region.png"))
        .unwrap()
        .to_luma8();
    let b = bbox(&image::DynamicImage::ImageLuma8(mask).to_rgb8(), |p| {
        p[0] > 0
    })
    .unwrap();
    let (w, h) = size_of(b);
    let img = image::open(dir.path().join("o/sheet-split.png")).unwrap();
    // The crop is the region's box grown to 2:3, and the sheet adds margins.
    let want_h = h.max((w as f64 * 2.0 / 3.0).ceil() as u32);
    assert!(
        img.width() > w && img.width() < w + w / 5,
        "sheet {} wide for a {w} px crop",
        img.width()
    );
    assert!(img.height() > want_h && img.height() < want_h + w / 5);
}

#[test]
fn simulated_label_is_there_by_default_and_gone_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join("assets/frl-london_037_03.toml");
    let plan = plan.to_str().unwrap();
    for (out, extra) in [("on", None), ("off", Some("--no-simulated-label"))] {
        let mut args = vec!["render", "--plan", plan, "--sessions", "1", "--out", out];
        args.extend(extra);
        let o = run(dir.path(), &args);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let img = |p: &str| image::open(dir.path().join(p)).unwrap().to_rgb8();
    let (on, off, before) = (
        img("on/session-1.png"),
        img("off/session-1.png"),
        img("on/before.png"),
    );
    let (w, h) = on.dimensions();
    let diff = bbox(
        &RgbImage::from_fn(w, h, |x, y| {
            image::Rgb(if on.get_pixel(x, y) != off.get_pixel(x, y) {
                [255; 3]
            } else {
                [0; 3]
            })
        }),
        |p| p[0] == 255,
    )
    .expect("the default image carries the notice");
    assert!(
        diff.0 > w / 2 && diff.1 > h * 9 / 10,
        "notice in the bottom-right corner: {diff:?}"
    );
    let white = (diff.0..diff.2)
        .flat_map(|x| (diff.1..diff.3).map(move |y| (x, y)))
        .filter(|&(x, y)| on.get_pixel(x, y).0.iter().all(|&c| c > 230))
        .count();
    assert!(white > 200, "legible white text: {white} px");
    // Without the notice, nothing outside the region differs from the photo.
    let mask = image::open(root().join("assets/frl-london_037_03.region.png"))
        .unwrap()
        .to_luma8();
    for (x, y, m) in mask.enumerate_pixels() {
        if m.0[0] == 0 {
            assert_eq!(off.get_pixel(x, y), before.get_pixel(x, y), "({x}, {y})");
        }
    }

    // Sheets and the page: a footer notice by default, none with the option.
    write_inputs(dir.path());
    let mut sizes = Vec::new();
    for (name, extra) in [("on", None), ("off", Some("--no-simulated-label"))] {
        let mut args = vec![
            "sheet",
            "--image",
            "before.png",
            "--image",
            "s1.png",
            "--out",
            name,
            "--html",
        ];
        let page = format!("{name}/page.html");
        args.push(&page);
        args.extend(extra);
        let o = run(dir.path(), &args);
        assert!(o.status.success(), "{}", stderr(&o));
        let sheet = img(&format!("{name}/sheet-progression.png"));
        // Lines of text under the pictures: the captions, then the notice.
        let lit: Vec<bool> = (bbox_of(&sheet, BLUE).3..sheet.height())
            .map(|y| (0..sheet.width()).any(|x| sheet.get_pixel(x, y).0[0] > 120))
            .collect();
        let lines = lit.windows(2).filter(|w| !w[0] && w[1]).count() + lit[0] as usize;
        let html = std::fs::read_to_string(dir.path().join(&page)).unwrap();
        if extra.is_none() {
            assert_eq!(lines, 2, "captions and the footer notice");
            assert!(html.contains("Simulated preview"));
        } else {
            assert_eq!(lines, 1, "captions only");
            assert!(!html.contains("Simulated preview") && !html.contains("simulated"));
        }
        sizes.push(sheet.height());
    }
    assert!(sizes[0] > sizes[1], "the footer takes room: {sizes:?}");
}

/// A session image with the "simulated" notice is the same image without
/// it, marked: where the treated area reaches the bottom-right corner the
/// notice is drawn over the dots, and the image is made a row at a time
/// from the photo, the crop and the notice's own pixels (`strips`), never
/// whole. Nothing else differs, on 1 thread and on 2.
#[test]
fn the_notice_is_drawn_over_the_dots_in_the_corner() {
    let dir = tempfile::tempdir().unwrap();
    let photo = root().join("assets/photos/frl-london_037_03.jpg");
    let photo = photo.to_str().unwrap();
    let render = |out: &str, threads: &str, label: bool| {
        let mut args = vec![
            "--threads",
            threads,
            "render",
            photo,
            "--polygon",
            "700,700 1350,700 1350,1350 700,1350",
            "--px-per-mm",
            "3.27",
            "--clip-to-head",
            "false",
            "--sessions",
            "2",
            "--out",
            out,
        ];
        if !label {
            args.push("--no-simulated-label");
        }
        let o = run(dir.path(), &args);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    render("marked", "2", true);
    render("marked-1", "1", true);
    render("plain", "2", false);
    for name in ["session-1.png", "session-2.png"] {
        let read = |d: &str| {
            image::open(dir.path().join(d).join(name))
                .unwrap()
                .to_rgb8()
        };
        let (marked, plain) = (read("marked"), read("plain"));
        assert!(marked == read("marked-1"), "{name}: 1 thread and 2 differ");
        let mut want = plain.clone();
        smp_render::simulated_mark(&mut want);
        assert!(marked == want, "{name}: not the plain image marked");
        // The notice lies on dots: the corner differs from the photo's.
        let (w, h) = plain.dimensions();
        let photo = image::open(photo).unwrap().to_rgb8();
        let dotted = (w - 120..w - 20)
            .flat_map(|x| (h - 60..h - 10).map(move |y| (x, y)))
            .filter(|&(x, y)| plain.get_pixel(x, y) != photo.get_pixel(x, y))
            .count();
        assert!(dotted > 200, "{name}: {dotted} pixels of the corner dotted");
    }
}
