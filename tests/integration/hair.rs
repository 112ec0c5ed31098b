//! Hair that stays: strands inside the region keep their pixels and no dot
//! is centred on them.

use image::{Rgb, RgbImage};
use smp_render::{keep_hair, render_preview, Plan, Region, Scale};

/// A 300 × 200 skin photo, full region, with dark strands every 7th column.
fn thinning() -> (RgbImage, Region) {
    let photo = RgbImage::from_fn(300, 200, |x, y| {
        if x % 7 == 3 && (20..180).contains(&y) {
            Rgb([45, 38, 34])
        } else {
            Rgb([205, 170, 150])
        }
    });
    let region = Region::from_weights(300, 200, vec![1.0; 300 * 200], 0.0, "test").unwrap();
    (photo, region)
}

#[test]
fn strands_stay_and_dots_go_between() {
    let (photo, region) = thinning();
    let (kept, n) = keep_hair(&photo, &region).unwrap();
    assert_eq!(n, (300 / 7 + 1) * 160, "every strand pixel found");
    let plan = Plan {
        camera_blur_px: Some(0.8),
        ..Default::default()
    };
    let scale = Scale::new(10.0, "test").unwrap();
    let with = render_preview(&photo, &kept, &plan, scale);
    let without = render_preview(&photo, &region, &plan, scale);
    let last = |p: &smp_render::Preview| p.sessions.last().unwrap().clone();
    let (a, b) = (last(&with), last(&without));
    let strand = |x: u32, y: u32| x % 7 == 3 && (20..180).contains(&y);
    let mut changed_without = 0;
    for (x, y, p) in photo.enumerate_pixels() {
        if strand(x, y) {
            assert_eq!(a.get_pixel(x, y), p, "strand pixel ({x}, {y}) changed");
            changed_without += (b.get_pixel(x, y) != p) as usize;
        }
    }
    assert!(
        changed_without > 1000,
        "without keep_hair strands are pigmented too"
    );
    for d in &with.dots {
        assert!(
            !strand(d.x as u32, d.y as u32),
            "dot centred on a strand at {}, {}",
            d.x,
            d.y
        );
    }
    // Skin between the strands is still pigmented.
    let darker = photo
        .enumerate_pixels()
        .filter(|(x, y, p)| !strand(*x, *y) && a.get_pixel(*x, *y).0[1] < p.0[1])
        .count();
    assert!(darker > 10_000, "{darker}");
}

/// The shipped region of `stem` as a render builds it (mask, 6 mm feather).
fn shipped_region(stem: &str, photo: &RgbImage, ppm: f32) -> Region {
    Region::load_mask(
        &crate::util::root().join(format!("assets/{stem}.region.png")),
        photo.dimensions(),
        6.0 * ppm,
    )
    .unwrap()
}

#[test]
fn the_bald_head_has_almost_no_hair_and_the_haired_ones_have_some() {
    for (stem, ppm, _) in crate::util::SHIPPED {
        let photo = crate::util::shipped_photo(stem);
        let region = shipped_region(stem, &photo, ppm);
        let cover = smp_render::hair_cover(
            &photo,
            region.bounds(),
            smp_render::skin_luminance(&photo, &region),
        );
        let hair: f64 = cover
            .share
            .iter()
            .zip(region.bounded_weights())
            .map(|(s, w)| (s * w) as f64)
            .sum::<f64>()
            / region.total_weight();
        eprintln!("{stem}: {:.2} % of the region is hair", 100.0 * hair);
        if stem == "frl-london_021_03" {
            assert!(hair < 0.01, "{stem}: {hair}");
        } else {
            assert!(hair > 0.01, "{stem}: {hair}");
        }
    }
}

/// With the pigment blown out (each dot a dark smudge), no pixel of the
/// fully weighted treated area is left untouched as a speck of 1-3 px (a
/// pore or a speck of noise taken for a strand shows as a light speck in
/// the dark); and where a strand covers a pixel wholly, the pixel keeps its
/// bytes.
#[test]
fn blown_out_pigment_leaves_no_specks_and_whole_strands_keep_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    for (stem, ppm, _) in crate::util::SHIPPED {
        let photo = crate::util::shipped_photo(stem);
        let plan = crate::util::root().join(format!("assets/{stem}.toml"));
        let plan = plan.to_str().unwrap();
        let region = shipped_region(stem, &photo, ppm);
        let pure = crate::backdrop::pure_backdrop(&photo);
        let w = photo.width();
        let full = |x: u32, y: u32| {
            region.weight_at(x as f32 + 0.5, y as f32 + 0.5) >= 1.0 && !pure[(y * w + x) as usize]
        };
        let blown = crate::util::render_image(
            dir.path(),
            &["--plan", plan, "--blowout", "1"],
            &format!("{stem}-blown"),
            "session-3.png",
        );
        let specks = crate::util::untouched_islands(&photo, &blown, &full);
        // Whole strands: untouched in the default render.
        let after = crate::util::render_image(
            dir.path(),
            &["--plan", plan],
            &format!("{stem}-default"),
            "session-3.png",
        );
        let b = region.bounds();
        let cover = smp_render::hair_cover(&photo, b, smp_render::skin_luminance(&photo, &region));
        let (mut whole, mut changed) = (0usize, 0usize);
        for (i, s) in cover.share.iter().enumerate() {
            let (x, y) = (b.x0 + i as u32 % b.width(), b.y0 + i as u32 / b.width());
            if *s >= 1.0 && region.weight_at(x as f32 + 0.5, y as f32 + 0.5) > 0.0 {
                whole += 1;
                changed += (after.get_pixel(x, y) != photo.get_pixel(x, y)) as usize;
            }
        }
        eprintln!(
            "{stem}: untouched islands of 1, 2, 3 px at full weight with --blowout 1: {specks:?}; \
             {whole} px wholly strand, {changed} of them changed"
        );
        assert_eq!(specks, [0, 0, 0], "{stem}: specks");
        assert_eq!(changed, 0, "{stem}: strand pixels changed");
        if stem == "frl-london_105_03" || stem == "frl-london_172_03" {
            assert!(whole > 500, "{stem}: {whole} strand pixels");
        }
    }
}

/// On each shipped photo: the strands alone (`hair_pixels`, which skips the
/// cover beside them) are the pixels the cover counts wholly hair, and a
/// pixel is covered in part only when one of its 8 neighbours is a strand.
#[test]
fn the_strands_alone_agree_with_the_cover_and_part_cover_is_beside_them() {
    for (stem, ppm, _) in crate::util::SHIPPED {
        let photo = crate::util::shipped_photo(stem);
        let region = shipped_region(stem, &photo, ppm);
        let b = region.bounds();
        let skin = smp_render::skin_luminance(&photo, &region);
        let strands = smp_render::hair_pixels(&photo, b, skin);
        let cover = smp_render::hair_cover(&photo, b, skin);
        let whole: Vec<bool> = cover.share.iter().map(|&s| s >= 1.0).collect();
        assert_eq!(strands, whole, "{stem}");
        let (w, h) = (b.width() as i64, b.height() as i64);
        let strand_at =
            |x: i64, y: i64| x >= 0 && y >= 0 && x < w && y < h && strands[(y * w + x) as usize];
        let mut part = 0;
        for (i, &s) in cover.share.iter().enumerate() {
            if s > 0.0 && s < 1.0 {
                let (x, y) = (i as i64 % w, i as i64 / w);
                let beside = (-1..=1)
                    .flat_map(|dy| (-1..=1).map(move |dx| (dx, dy)))
                    .any(|(dx, dy)| (dx, dy) != (0, 0) && strand_at(x + dx, y + dy));
                assert!(
                    beside,
                    "{stem}: ({x}, {y}) covered {s} with no strand beside it"
                );
                part += 1;
            }
        }
        eprintln!(
            "{stem}: {} strand px, {part} px covered in part",
            strands.iter().filter(|&&s| s).count()
        );
        if stem != "frl-london_021_03" {
            assert!(part > 100, "{stem}: {part}");
        }
    }
}
