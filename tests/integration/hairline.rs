//! Hairline designs (#4 item 1): the density behind a `soft` hairline rises
//! over the configured transition and reaches the plan's density; in front
//! of it there are only the isolated dots. Measured from the dots CSV of a
//! real render, against the edge the library lays out for the same design
//! and seed.

use std::path::Path;

use smp_render::{HairlineDesign, HairlineLook, HairlineStyle, Scale, ISOLATED_BAND_MM};

use crate::util::{read_dots, render_image, root, run, stderr};

/// A close-up of 021's forehead skin (no backdrop, so nothing is clipped),
/// 3× enlarged: 960 × 510 px at 10 px/mm.
fn closeup(dir: &Path) -> std::path::PathBuf {
    let photo = image::open(root().join("assets/photos/frl-london_021_03.jpg"))
        .unwrap()
        .to_rgb8();
    let crop = image::imageops::crop_imm(&photo, 520, 300, 320, 170).to_image();
    let big = image::imageops::resize(&crop, 960, 510, image::imageops::FilterType::Triangle);
    let path = dir.join("closeup.png");
    big.save(&path).unwrap();
    path
}

const POINTS: &str = "40,420 480,330 920,420";
const PPM: f32 = 10.0;
const DENSITY: f32 = 110.0;

/// Dots per cm² in 1 mm bands behind the edge, from `lo` mm to `hi` mm
/// (negative: in front of the edge), with the dot count of each band.
fn bands(style: &str, seed: u64, lo: i32, hi: i32) -> Vec<(i32, f32, usize)> {
    let dir = tempfile::tempdir().unwrap();
    let photo = closeup(dir.path());
    let csv = dir.path().join("dots.csv");
    let o = run(
        dir.path(),
        &[
            "render",
            photo.to_str().unwrap(),
            "--hairline",
            POINTS,
            "--hairline-style",
            style,
            "--px-per-mm",
            "10",
            "--density",
            "110",
            "--head-shape",
            "false",
            "--keep-hair",
            "false",
            "--seed",
            &seed.to_string(),
            "--out",
            "out",
            "--dots",
            csv.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let dots = read_dots(&csv);
    let design = HairlineDesign {
        points: smp_render::Region::parse_polygon(POINTS).unwrap(),
        look: HairlineLook::of(HairlineStyle::parse(style, "t").unwrap()),
    };
    let hairline = design
        .build((960, 510), Scale::new(PPM, "t").unwrap(), seed, "t")
        .unwrap();
    let n = (hi - lo) as usize;
    let mut count = vec![0usize; n];
    let mut area = vec![0usize; n];
    let band = |d: f32| {
        let k = d.floor() as i32;
        (lo..hi).contains(&k).then(|| (k - lo) as usize)
    };
    for d in &dots {
        if let Some(k) = band(hairline.behind_mm(d.x, d.y)) {
            count[k] += 1;
        }
    }
    // Pixels a few mm in from the frame's sides only: the sampler's
    // spacing thins dots along the frame's edge.
    for y in 0..510 {
        for x in 0..960 {
            if let Some(k) = band(hairline.behind_mm(x as f32 + 0.5, y as f32 + 0.5)) {
                area[k] += 1;
            }
        }
    }
    (0..n)
        .map(|k| {
            let mm2 = area[k] as f32 / (PPM * PPM);
            (lo + k as i32, count[k] as f32 / mm2 * 100.0, count[k])
        })
        .collect()
}

#[test]
fn soft_hairline_density_tapers_over_its_transition() {
    let t = HairlineStyle::Natural.params().transition_mm;
    assert_eq!(t, 10.0);
    let b = bands("soft", 7, -8, 26);
    for (d, rho, n) in &b {
        eprintln!(
            "soft: {d:>3}..{:>3} mm behind: {rho:6.1} dots/cm² ({n} dots)",
            d + 1
        );
    }
    // Dots/cm² over the 2 mm bin starting at `mm` behind the edge.
    let bin = |mm: i32| {
        let two: Vec<f32> = b
            .iter()
            .filter(|(d, _, _)| *d == mm || *d == mm + 1)
            .map(|x| x.1)
            .collect();
        assert_eq!(two.len(), 2);
        (two[0] + two[1]) / 2.0
    };
    // Rises over the transition as a smoothstep: each 2 mm bin within 0.12
    // of the plan's density of the smoothstep's mean over it.
    let smooth = |s: f32| s * s * (3.0 - 2.0 * s);
    for mm in (0..t as i32).step_by(2) {
        let want = (0..20)
            .map(|k| smooth((mm as f32 + (k as f32 + 0.5) / 10.0) / t))
            .sum::<f32>()
            / 20.0;
        let got = bin(mm) / DENSITY;
        eprintln!(
            "soft: {mm}..{} mm: {got:.3} of the density, smoothstep {want:.3}",
            mm + 2
        );
        assert!(
            (got - want).abs() < 0.12,
            "{mm}..{} mm: {got:.3} of the density, smoothstep says {want:.3}",
            mm + 2
        );
    }
    assert!(bin(0) < bin(4) && bin(4) < bin(8) && bin(8) < bin(12) * 1.02);
    // Reaches the plan's density: every 2 mm bin behind the transition
    // within 10 %.
    for mm in (t as i32..24).step_by(2) {
        let got = bin(mm);
        assert!(
            (got - DENSITY).abs() < 0.1 * DENSITY,
            "{mm}..{} mm behind: {got:.1} dots/cm², plan {DENSITY}",
            mm + 2
        );
    }
    // In front: isolated dots only, in the 3 mm band, at about 4 % of the density.
    let front: usize = b
        .iter()
        .filter(|(d, _, _)| *d < 0 && *d >= -ISOLATED_BAND_MM as i32)
        .map(|x| x.2)
        .sum();
    let beyond: usize = b
        .iter()
        .filter(|(d, _, _)| *d < -ISOLATED_BAND_MM as i32)
        .map(|x| x.2)
        .sum();
    let front_rho: f32 = b
        .iter()
        .filter(|(d, _, _)| *d < 0 && *d >= -3)
        .map(|x| x.1)
        .sum::<f32>()
        / 3.0;
    eprintln!("soft: {front} isolated dots in front ({front_rho:.1}/cm²), {beyond} beyond");
    assert_eq!(beyond, 0, "dots further in front than the isolated band");
    assert!(front >= 3, "no isolated dots in front: {front}");
    assert!(front_rho < 0.1 * DENSITY, "too many in front: {front_rho}");
}

#[test]
fn defined_hairline_is_crisp_with_nothing_in_front() {
    let b = bands("defined", 3, -6, 12);
    for (d, rho, n) in &b {
        eprintln!(
            "defined: {d:>3}..{:>3} mm: {rho:6.1} dots/cm² ({n} dots)",
            d + 1
        );
    }
    let front: usize = b.iter().filter(|(d, _, _)| *d < 0).map(|x| x.2).sum();
    assert_eq!(front, 0);
    for (d, rho, _) in b.iter().filter(|(d, _, _)| (1..10).contains(d)) {
        assert!(
            (rho - DENSITY).abs() < 0.1 * DENSITY,
            "{d} mm behind a defined hairline: {rho:.1}"
        );
    }
}

/// `design` draws the region, the hairline and a scale bar over the photo
/// and saves a plan that renders the same images as the options it came
/// from; it never writes over its inputs.
#[test]
fn design_overlay_and_saved_plan_render_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let photo = root().join("assets/photos/frl-london_172_03.jpg");
    let opts = [
        "--hairline",
        "505,330 672,272 840,330",
        "--hairline-style",
        "defined",
        "--px-per-mm",
        "3.31",
        "--seed",
        "5",
    ];
    let mut args = vec![
        "design",
        photo.to_str().unwrap(),
        "--overlay",
        "d/design.png",
        "--save-plan",
        "d/plan.toml",
    ];
    args.extend(opts);
    let o = run(dir.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stderr);
    assert!(
        out.contains("hairline: defined style, transition 1.0 mm"),
        "{out}"
    );
    let overlay = image::open(dir.path().join("d/design.png"))
        .unwrap()
        .to_rgb8();
    let before = image::open(&photo).unwrap().to_rgb8();
    // Tinted behind the hairline on the head, untouched on the forehead.
    let changed = |x: u32, y: u32| overlay.get_pixel(x, y) != before.get_pixel(x, y);
    assert!(changed(672, 250), "no tint behind the hairline");
    assert!(!changed(672, 420), "forehead tinted");
    // The hairline's mid-frontal point is marked in the hairline colour.
    let yellow = (660..700)
        .flat_map(|x| (265..280).map(move |y| (x, y)))
        .filter(|&(x, y)| *overlay.get_pixel(x, y) == image::Rgb(smp_render::HAIRLINE_COLOUR))
        .count();
    assert!(yellow > 20, "{yellow}");
    // The saved plan renders the same bytes as the options it saved.
    let plan = std::fs::read_to_string(dir.path().join("d/plan.toml")).unwrap();
    assert!(plan.contains("hairline_style = \"defined\""), "{plan}");
    let a = render_image(dir.path(), &["--plan", "d/plan.toml"], "a", "session-3.png");
    let mut args = vec![photo.to_str().unwrap()];
    args.extend(opts);
    let b = render_image(dir.path(), &args, "b", "session-3.png");
    assert!(a == b, "the saved plan renders differently");
    assert!(a != before, "nothing rendered");
    // Never over an input.
    let o = run(
        dir.path(),
        &[
            "design",
            photo.to_str().unwrap(),
            "--overlay",
            photo.to_str().unwrap(),
            opts[0],
            opts[1],
            opts[4],
            opts[5],
        ],
    );
    assert!(!o.status.success());
}

/// A preset takes the hairline's options; a hairline with nothing of the
/// head behind it is refused by name; hairline options without a hairline
/// or preset are refused.
#[test]
fn hairline_options_reach_presets_and_bad_hairlines_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let photo = root().join("assets/photos/frl-london_021_03.jpg");
    let p = photo.to_str().unwrap();
    let o = run(
        dir.path(),
        &[
            "design",
            p,
            "--preset",
            "shaved",
            "--px-per-mm",
            "3.27",
            "--hairline-style",
            "defined",
            "--hairline-transition-mm",
            "5",
            "--overlay",
            "d.png",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stderr);
    assert!(
        out.contains("hairline: defined style, transition 5.0 mm"),
        "{out}"
    );
    assert!(out.contains("found on the brow line"), "{out}");
    // The glabella it was placed from is marked (a cross) where the brow
    // line was found (678, 486 on this photo).
    let overlay = image::open(dir.path().join("d.png")).unwrap().to_rgb8();
    let marked = (668..690)
        .flat_map(|x| (478..495).map(move |y| (x, y)))
        .filter(|&(x, y)| *overlay.get_pixel(x, y) == image::Rgb(smp_render::HAIRLINE_COLOUR))
        .count();
    assert!(marked > 10, "{marked}");
    let o = run(
        dir.path(),
        &[
            "render",
            p,
            "--hairline",
            "500,100 675,50 850,100",
            "--px-per-mm",
            "3.27",
        ],
    );
    let err = stderr(&o);
    assert!(
        !o.status.success() && err.contains("`hairline`") && err.contains("top of the head"),
        "{err}"
    );
    let o = run(
        dir.path(),
        &[
            "render",
            p,
            "--polygon",
            "600,240 760,236 770,290",
            "--px-per-mm",
            "3.27",
            "--hairline-isolated",
            "0.02",
        ],
    );
    let err = stderr(&o);
    assert!(
        !o.status.success() && err.contains("hairline_isolated") && err.contains("--preset"),
        "{err}"
    );
}
