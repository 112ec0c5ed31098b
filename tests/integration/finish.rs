//! How the preview is finished for the client: a matte scalp, and the
//! before/after sheet framed on the treated area.

use crate::util::{render_image, root};

/// Mean and standard deviation of the luma (0-255) of `img` over `px`.
fn stats(img: &image::RgbImage, px: &[(u32, u32)]) -> (f64, f64) {
    let l: Vec<f64> = px
        .iter()
        .map(|&(x, y)| {
            let p = img.get_pixel(x, y).0;
            0.2126 * p[0] as f64 + 0.7152 * p[1] as f64 + 0.0722 * p[2] as f64
        })
        .collect();
    let m = l.iter().sum::<f64>() / l.len() as f64;
    let v = l.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / l.len() as f64;
    (m, v.sqrt())
}

/// On the bald 021 (a strong highlight on top): `--matte 0` is the photo's
/// own shine (the same bytes as without the option), and under the
/// highlight the pigment hardly shows; `--matte 1` takes the shine away
/// and the dots show there.
#[test]
fn a_matte_scalp_loses_its_highlight_and_shows_the_pigment_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join("assets/frl-london_021_03.toml");
    let plan = plan.to_str().unwrap();
    let shiny = render_image(dir.path(), &["--plan", plan], "shiny", "session-3.png");
    let zero = render_image(
        dir.path(),
        &["--plan", plan, "--matte", "0"],
        "zero",
        "session-3.png",
    );
    assert!(shiny == zero, "--matte 0 changed the image");
    let matte = render_image(
        dir.path(),
        &["--plan", plan, "--matte", "1"],
        "matte",
        "session-3.png",
    );
    let before = image::open(dir.path().join("shiny/before.png"))
        .unwrap()
        .to_rgb8();
    // The highlight: the brightest 2 % of the region where its weight
    // (the mask feathered over 6 mm, as rendered) is at least a half.
    let region = smp_render::Region::load_mask(
        &root().join("assets/frl-london_021_03.region.png"),
        before.dimensions(),
        6.0 * 3.27,
    )
    .unwrap();
    let (w, h) = before.dimensions();
    let mut px: Vec<(u32, u32)> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .filter(|&(x, y)| region.weight_at(x as f32 + 0.5, y as f32 + 0.5) >= 0.5)
        .collect();
    assert!(px.len() > 1000, "{} px at half weight or more", px.len());
    let luma = |(x, y): (u32, u32)| {
        let p = before.get_pixel(x, y).0;
        0.2126 * p[0] as f64 + 0.7152 * p[1] as f64 + 0.0722 * p[2] as f64
    };
    px.sort_by(|a, b| luma(*a).total_cmp(&luma(*b)));
    let hi = &px[px.len() - px.len() / 50..];
    let (b, bs) = stats(&before, hi);
    let (s, ss) = stats(&shiny, hi);
    let (m, ms) = stats(&matte, hi);
    eprintln!(
        "highlight ({} px): before {b:.1} (sd {bs:.1}), matte 0 {s:.1} (sd {ss:.1}), matte 1 {m:.1} (sd {ms:.1})",
        hi.len()
    );
    assert!(b > 240.0, "no highlight: {b}");
    assert!(
        b - s < 5.0,
        "the shiny highlight hides the pigment: {b} -> {s}"
    );
    assert!(b - m > 20.0, "matte takes the highlight away: {b} -> {m}");
    assert!(
        ms > 3.0 * ss.max(1.0),
        "the dots show under a matte highlight: sd {ss} -> {ms}"
    );
    // Away from the region nothing changes.
    assert_eq!(matte.get_pixel(20, 20), before.get_pixel(20, 20));
}

/// `before-after.png` frames the treated area with context; `--frame full`
/// shows the whole photo (and so does the plan key `frame = "full"`).
#[test]
fn before_after_is_framed_on_the_treated_area_unless_asked_for_the_full_frame() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join("assets/frl-london_037_03.toml");
    let plan = plan.to_str().unwrap();
    let framed = render_image(dir.path(), &["--plan", plan], "framed", "before-after.png");
    let full = render_image(
        dir.path(),
        &["--plan", plan, "--frame", "full"],
        "full",
        "before-after.png",
    );
    let photo = crate::util::shipped_photo("frl-london_037_03");
    let (pw, ph) = photo.dimensions();
    eprintln!(
        "before-after: {} x {} framed, {} x {} full (photo {pw} x {ph})",
        framed.width(),
        framed.height(),
        full.width(),
        full.height()
    );
    assert!(full.height() >= ph && full.width() >= 2 * pw, "full frame");
    // The region (037's mask) is 375 x 94 px: with a fifth of it as margin
    // and the short side at least 2/3 of the long one, about 525 x 350.
    assert!(framed.width() < pw && framed.height() < ph / 2, "framed");
    // What changed (the treated area; the notice in the bottom corner
    // left out): under 2 % of the whole photo, many times that of the
    // framed sheet's panels.
    let read = |f: &str| image::open(dir.path().join(f)).unwrap().to_rgb8();
    let (before, after) = (read("framed/before.png"), read("framed/session-3.png"));
    let changed = (0..ph / 2)
        .flat_map(|y| (0..pw).map(move |x| (x, y)))
        .filter(|&(x, y)| before.get_pixel(x, y) != after.get_pixel(x, y))
        .count() as f64;
    // The sheet is two panels and a gap of max(panel / 200, 2) px.
    let panel = (2..20u32)
        .map(|g| (framed.width() - g) / 2)
        .find(|&p| framed.width() == 2 * p + (p / 200).max(2))
        .expect("two panels and a gap");
    let (whole, framed_share) = (
        changed / (pw as f64 * ph as f64),
        changed / (panel as f64 * framed.height() as f64),
    );
    eprintln!(
        "changed: {:.2} % of the photo, {:.1} % of a framed panel ({panel} x {})",
        100.0 * whole,
        100.0 * framed_share,
        framed.height()
    );
    assert!(whole < 0.02, "{whole}");
    assert!(framed_share > 5.0 * whole, "{framed_share} vs {whole}");
    // The plan key does the same as the option.
    let keyed = dir.path().join("keyed.toml");
    let text = std::fs::read_to_string(root().join("assets/frl-london_037_03.toml"))
        .unwrap()
        .replace("photos/", &format!("{}/assets/photos/", root().display()))
        .replace(
            "frl-london_037_03.region.png",
            &format!("{}/assets/frl-london_037_03.region.png", root().display()),
        );
    std::fs::write(&keyed, format!("{text}\nframe = \"full\"\n")).unwrap();
    let keyed = render_image(
        dir.path(),
        &["--plan", keyed.to_str().unwrap()],
        "keyed",
        "before-after.png",
    );
    assert_eq!(keyed.dimensions(), full.dimensions());
}
