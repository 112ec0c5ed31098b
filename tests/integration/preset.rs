//! Pattern presets (#4 item 2): every preset lays out and renders on every
//! shipped photo, on the head and above the brow only; impossible
//! landmarks are refused with a message that says which.

use smp_render::{
    background_pixels, render_preview, HairlineLook, HairlineStyle, Plan, Preset, PresetDesign,
    Scale, DEFAULT_FRONTAL_MM, DEFAULT_PATCH_MM, PRESET_NAMES,
};

use crate::util::{root, run, shipped_photo, stderr, SHIPPED};

fn design(name: &str, glabella: [f32; 2]) -> PresetDesign {
    PresetDesign {
        preset: Preset::parse(name, "t").unwrap(),
        glabella: Some(glabella),
        frontal_mm: DEFAULT_FRONTAL_MM,
        look: HairlineLook::of(HairlineStyle::Natural),
        // On the top of the head, right of the midline.
        patch: Some([glabella[0] + 60.0, 290.0]),
        patch_mm: DEFAULT_PATCH_MM,
    }
}

#[test]
fn every_preset_lays_out_on_every_photo_on_the_head_above_the_brow() {
    let mut renders = 0;
    for (i, (stem, ppm, g)) in SHIPPED.iter().enumerate() {
        let img = shipped_photo(stem);
        let scale = Scale::new(*ppm, "t").unwrap();
        for (j, name) in PRESET_NAMES.iter().enumerate() {
            let layout = design(name, *g)
                .build(&img, scale, 1, "t")
                .unwrap_or_else(|e| panic!("{stem} {name}: {e}"));
            let r = &layout.region;
            let area = r.total_weight() * scale.mm2_per_px() / 100.0;
            assert!(area > 0.3, "{stem} {name}: {area:.2} cm²");
            let b = r.bounds();
            assert!(
                (b.y1 as f32) < g[1],
                "{stem} {name}: region reaches y {} below the brow at {}",
                b.y1,
                g[1]
            );
            let on_backdrop = background_pixels(&img, r)
                .iter()
                .zip(r.bounded_weights())
                .filter(|(off, w)| **off && **w > 0.0)
                .count();
            assert_eq!(on_backdrop, 0, "{stem} {name}: pixels on the backdrop");
            if let Some(h) = &layout.hairline {
                // The mid-frontal point: 80 mm above the glabella on the scalp
                // lands 50-90 % of that in the picture (the forehead curves
                // back), and below the head's top.
                let m = h.design.points[1];
                let drop = (g[1] - m[1]) / ppm;
                assert!(
                    (0.5 * 80.0..0.9 * 80.0).contains(&drop) && m[1] > layout.top,
                    "{stem} {name}: mid-frontal {drop:.0} mm above the glabella in the picture"
                );
            }
            eprintln!("{stem} {name}: {area:.1} cm²");
            // Each preset rendered on one photo (a different one each).
            if j % SHIPPED.len() == i {
                let plan = Plan {
                    sessions: 1,
                    session_shares: None,
                    session_strengths: None,
                    ..Plan::default()
                };
                let p = render_preview(&img, r, &plan, scale);
                assert!(!p.dots.is_empty() && p.sessions[0] != img, "{stem} {name}");
                renders += 1;
            }
        }
    }
    assert_eq!(renders, PRESET_NAMES.len());
}

#[test]
fn presets_differ_as_their_stages_do() {
    let (stem, ppm, g) = SHIPPED[0];
    let img = shipped_photo(stem);
    let scale = Scale::new(ppm, "t").unwrap();
    let area = |name: &str| {
        design(name, g)
            .build(&img, scale, 1, "t")
            .unwrap()
            .region
            .total_weight()
    };
    // More is bare at each Norwood stage from 2 to 4; a wider parting at
    // each Ludwig stage.
    assert!(area("norwood-2") < area("norwood-3"));
    assert!(area("norwood-3") < area("norwood-4"));
    assert!(area("norwood-5") <= area("norwood-6"));
    assert!(area("ludwig-1") < area("ludwig-2") && area("ludwig-2") < area("ludwig-3"));
    // An aggressive hairline (70 mm) lies lower than a conservative one (100 mm).
    let mid = |mm: f32| {
        let mut d = design("shaved", g);
        d.frontal_mm = mm;
        d.build(&img, scale, 1, "t")
            .unwrap()
            .hairline
            .unwrap()
            .design
            .points[1][1]
    };
    assert!(mid(70.0) > mid(80.0) && mid(80.0) > mid(100.0));
}

#[test]
fn impossible_landmarks_are_refused_by_name() {
    let (stem, ppm, g) = SHIPPED[1];
    let img = shipped_photo(stem);
    let scale = Scale::new(ppm, "t").unwrap();
    let refuse = |d: PresetDesign, words: &[&str]| {
        let e = d
            .build(&img, scale, 1, "plan.toml")
            .unwrap_err()
            .to_string();
        for w in words {
            assert!(e.contains(w), "{e:?} lacks {w:?}");
        }
    };
    // On the backdrop.
    refuse(
        design("norwood-3", [100.0, 100.0]),
        &["glabella", "100,100", "backdrop"],
    );
    // Outside the photo.
    refuse(
        design("shaved", [5000.0, 400.0]),
        &["glabella", "in the photo"],
    );
    // So high that 8 cm above it is above the head.
    refuse(
        design("shaved", [g[0], 300.0]),
        &["glabella", "mid-frontal point", "above the top of the head"],
    );
    // An impossible distance.
    let mut d = design("norwood-4", g);
    d.frontal_mm = 150.0;
    refuse(d, &["frontal_mm", "60 to 120"]);
    // A patch without its centre, and without a glabella for a Norwood.
    let mut d = design("alopecia-patch", g);
    d.patch = None;
    refuse(d, &["patch", "centre"]);
    // No glabella given and no brow line to find it on: a head-shaped
    // disc of plain skin against a grey backdrop.
    let disc = image::RgbImage::from_fn(600, 700, |x, y| {
        let (dx, dy) = ((x as f32 - 300.0) / 200.0, (y as f32 - 380.0) / 240.0);
        if dx * dx + dy * dy <= 1.0 {
            image::Rgb([205, 160, 140])
        } else {
            image::Rgb([200, 204, 206])
        }
    });
    let mut d = design("norwood-5", g);
    d.glabella = None;
    let e = d
        .build(&disc, Scale::new(2.5, "t").unwrap(), 1, "plan.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("glabella") && e.contains("no brow line"), "{e}");
    // A scale that makes the head impossibly large.
    let e = design("shaved", g)
        .build(&img, Scale::new(1.0, "t").unwrap(), 1, "t")
        .unwrap_err()
        .to_string();
    assert!(e.contains("glabella") && e.contains("scale"), "{e}");
    // Through the command line: the message reaches the user.
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &[
            "render",
            root()
                .join(format!("assets/photos/{stem}.jpg"))
                .to_str()
                .unwrap(),
            "--preset",
            "norwood-9",
            "--glabella",
            "671,498",
            "--px-per-mm",
            "3.27",
        ],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("preset") && err.contains("norwood-7"), "{err}");
}

/// The brow line is found where it was measured by hand (the darkest row of
/// the eyebrows beside the midline), within 5 px, and a preset without a
/// glabella is placed from it.
#[test]
fn the_brow_line_is_found_where_measured() {
    for (stem, ppm, g) in SHIPPED {
        let img = shipped_photo(stem);
        let scale = Scale::new(ppm, "t").unwrap();
        let (head, _) = smp_render::HeadShape::fit_near(&img, [675.0, 540.0], scale).unwrap();
        let brow = smp_render::find_brow(&img, &head).unwrap();
        eprintln!("{stem}: brow at y {:.1}, by hand {}", brow[1], g[1]);
        assert!((brow[1] - g[1]).abs() <= 5.0, "{stem}: {brow:?} vs {g:?}");
        assert!((brow[0] - g[0]).abs() <= 10.0, "{stem}: {brow:?} vs {g:?}");
        let mut d = design("shaved", g);
        d.glabella = None;
        let layout = d.build(&img, scale, 1, "t").unwrap();
        let found = layout.glabella_found.unwrap();
        assert!((found[1] - brow[1]).abs() < 0.01);
    }
}

/// `--region auto` is refused with what to give instead, not guessed.
#[test]
fn region_auto_says_what_to_give_instead() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &[
            "render",
            root()
                .join("assets/photos/frl-london_021_03.jpg")
                .to_str()
                .unwrap(),
            "--region",
            "auto",
            "--px-per-mm",
            "3.27",
        ],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("region") && err.contains("--preset") && err.contains("--hairline"),
        "{err}"
    );
}

/// The crown lies over the top of the head, behind its highest point: a
/// front view sees only the patch's front rim, a thin lens hugging the top
/// of the silhouette (deepest on the midline), and the render says so.
#[test]
fn the_crown_is_seen_edge_on_in_a_front_view() {
    for (stem, ppm, g) in SHIPPED {
        let img = shipped_photo(stem);
        let scale = Scale::new(ppm, "t").unwrap();
        let layout = design("crown", g).build(&img, scale, 1, "t").unwrap();
        let r = &layout.region;
        let b = r.bounds();
        // The lens's thickness in a column, mm: from its first pixel (at
        // the silhouette) to its last.
        let thickness = |x: u32| {
            let ys: Vec<u32> = (b.y0..b.y1)
                .filter(|&y| r.weight_at(x as f32 + 0.5, y as f32 + 0.5) > 0.0)
                .collect();
            ys.last().map_or(0.0, |l| (l + 1 - ys[0]) as f32 / ppm)
        };
        let mid = layout.head.centre[0] as u32;
        let side = (30.0 * ppm) as u32;
        let (t_mid, t_side) = (
            thickness(mid),
            thickness(mid - side).max(thickness(mid + side)),
        );
        let thickest = (b.x0..b.x1).map(thickness).fold(0.0f32, f32::max);
        let below_top = (b.y0 as f32 - layout.top) / ppm;
        let cm2 = r.total_weight() * scale.mm2_per_px() / 100.0;
        eprintln!(
            "{stem}: crown {cm2:.2} cm², {t_mid:.1} mm thick on the midline, {t_side:.1} mm 30 mm \
             aside, {thickest:.1} mm at most, {:.0} mm wide, starts {below_top:.1} mm below the top",
            b.width() as f32 / ppm
        );
        assert!(
            thickest < 7.0,
            "{stem}: the crown is {thickest:.1} mm thick"
        );
        assert!(t_mid > t_side, "{stem}: {t_mid} vs {t_side}");
        // (The flood's top is the tips of a buzz cut, 2-3 mm above the scalp.)
        assert!(
            below_top.abs() < 3.0,
            "{stem}: starts {below_top:.1} mm below the top"
        );
        assert!((50.0..110.0).contains(&(b.width() as f32 / ppm)), "{stem}");
    }
    // The render says how little of the crown a front view shows.
    let (stem, ppm, _) = SHIPPED[4];
    let dir = tempfile::tempdir().unwrap();
    let photo = root().join(format!("assets/photos/{stem}.jpg"));
    let o = run(
        dir.path(),
        &[
            "render",
            photo.to_str().unwrap(),
            "--preset",
            "crown",
            "--px-per-mm",
            &ppm.to_string(),
            "--sessions",
            "1",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout).to_string() + &stderr(&o);
    assert!(
        said.contains("crown: a 90 mm patch") && said.contains("front rim"),
        "{said}"
    );
}

/// The mid-frontal point lies `frontal_mm` up the scalp's surface from the
/// glabella, not up the picture: the arc of the fitted head's midline (an
/// ellipse in height and depth, `y = cy + B cos θ`, `z = C sin θ`) from the
/// glabella, integrated here over θ in 20,000 steps, reaches `frontal_mm`
/// at the hairline's middle point (within 1.5 px); and the surface is
/// foreshortened enough there that a flat measure would miss by over 5 px.
#[test]
fn the_mid_frontal_point_lies_frontal_mm_up_the_scalp() {
    for (stem, ppm, g) in SHIPPED {
        let img = shipped_photo(stem);
        let scale = Scale::new(ppm, "t").unwrap();
        for mm in [70.0f32, 90.0] {
            let mut d = design("shaved", g);
            d.frontal_mm = mm;
            let layout = d.build(&img, scale, 1, "t").unwrap();
            let got = layout.hairline.unwrap().design.points[1][1] as f64;
            let h = layout.head;
            let [a, b, c] = h.semi_axes.map(f64::from);
            let u = (g[0] as f64 - h.centre[0] as f64) / a;
            let k = (1.0 - u * u).sqrt();
            let (bb, cc) = (b * k, c * k);
            let cy = h.centre[1] as f64;
            // θ from the glabella (below the centre, or above it) toward
            // θ = π, the top of the head, where y = cy − B.
            let theta_g = ((g[1] as f64 - cy) / bb).clamp(-1.0, 1.0).acos();
            let want_px = mm as f64 * ppm as f64;
            let steps = 20_000;
            let dt = (std::f64::consts::PI - theta_g) / steps as f64;
            let mut s = 0.0;
            let mut want = None;
            for i in 0..steps {
                let t = theta_g + (i as f64 + 0.5) * dt;
                s += (bb * bb * t.sin().powi(2) + cc * cc * t.cos().powi(2)).sqrt() * dt;
                if s >= want_px {
                    want = Some(cy + bb * (t + 0.5 * dt).cos());
                    break;
                }
            }
            let want = want.expect("the arc reaches frontal_mm below the top");
            let flat = g[1] as f64 - want_px;
            eprintln!(
                "{stem}, {mm} mm: mid-frontal y {got:.1}, on the ellipse {want:.1}, flat {flat:.1}"
            );
            assert!(
                (got - want).abs() <= 1.5,
                "{stem}, {mm} mm: {got:.1} vs {want:.1}"
            );
            assert!(
                (flat - want).abs() > 5.0,
                "{stem}, {mm} mm: flat {flat:.1} vs {want:.1}"
            );
        }
    }
}
