//! Tone holds across scale: many sub-pixel dots darken as much as few large ones.

use image::{Rgb, RgbImage};
use smp_render::{render_preview, Plan, Region, Scale};

use crate::util::mean_linear_luminance;

fn flat_render(px_per_mm: f32) -> f64 {
    let size = 2000;
    let photo = RgbImage::from_pixel(size, size, Rgb([128, 128, 128]));
    let plan = Plan::default();
    let region = Region::from_weights(
        size,
        size,
        vec![1.0; (size * size) as usize],
        0.0,
        "full frame",
    )
    .unwrap();
    let scale = Scale::new(px_per_mm, "test").unwrap();
    let preview = render_preview(&photo, &region, &plan, scale);
    mean_linear_luminance(preview.sessions.last().unwrap())
}

#[test]
fn mean_tone_is_the_same_at_2_and_20_px_per_mm() {
    let before = mean_linear_luminance(&RgbImage::from_pixel(4, 4, Rgb([128, 128, 128])));
    let coarse = flat_render(2.0);
    let fine = flat_render(20.0);
    let rel = (coarse - fine).abs() / fine;
    eprintln!("mean linear luminance: before {before:.5}, 2 px/mm {coarse:.5}, 20 px/mm {fine:.5}, difference {:.3}%", rel * 100.0);
    assert!(rel < 0.02, "tone differs by {:.2}%", rel * 100.0);
    // And the dots do darken the skin noticeably.
    assert!(fine < before * 0.97, "{fine} vs {before}");
}
