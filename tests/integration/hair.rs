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
