//! The noise of the figures the README states: each measured over several
//! seeds, so that the tests pinning them (`tone::`, `shape::`,
//! `timeline::`) can hold them to about that noise. Run with
//! `cargo test --release --test integration figures:: -- --ignored --nocapture`.

use smp_render::{prepare_region, render_preview, render_timeline, Plan, Stage};

use crate::util::shipped;

/// Mean and sample standard deviation.
fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, var.sqrt())
}

/// Linear luminance of an sRGB pixel.
pub(crate) fn lum(p: &image::Rgb<u8>) -> f64 {
    let lin = |v: u8| {
        let c = v as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(p[0]) + 0.7152 * lin(p[1]) + 0.0722 * lin(p[2])
}

#[test]
#[ignore = "a measurement of the figures' noise, minutes long"]
fn figures_across_seeds() {
    let seeds = [1u64, 2, 3, 4, 5];
    // Tone across scale (README, "Colour and tone").
    let tone: Vec<f64> = seeds
        .iter()
        .map(|&s| {
            let (c, f) = (
                crate::tone::flat_render(2.0, s),
                crate::tone::flat_render(20.0, s),
            );
            (c - f).abs() / f * 100.0
        })
        .collect();
    eprintln!("tone difference, %: {tone:.4?} -> {:.4?}", mean_sd(&tone));

    // 037's treated top after/before (README, "Calibration").
    let (photo, region, plan, scale) = shipped("frl-london_037_03");
    let (prepared, _, _) = prepare_region(&plan, &photo, region.clone()).unwrap();
    let mut treated = Vec::new();
    let mut stages: Vec<Vec<f64>> = vec![Vec::new(); 5];
    for &s in &seeds {
        let plan = Plan {
            seed: s,
            ..plan.clone()
        };
        let after = render_preview(&photo, &prepared, &plan, scale);
        let after = after.sessions.last().unwrap();
        let (mut a, mut b) = (0.0, 0.0);
        for (x, y, p) in photo.enumerate_pixels() {
            if prepared.weight_at(x as f32 + 0.5, y as f32 + 0.5) >= 0.999 {
                b += lum(p);
                a += lum(after.get_pixel(x, y));
            }
        }
        treated.push(a / b);
        // The timeline's darkening (README, "timeline").
        let st = [
            Stage::Fresh,
            Stage::Crusting,
            Stage::Healed,
            Stage::Years(5.0),
            Stage::Years(10.0),
        ];
        let (images, _, _) = render_timeline(&photo, &region, None, &plan, scale, &st);
        let d = crate::timeline::darkening(&photo, &region, &images);
        for (v, x) in stages.iter_mut().zip(d) {
            v.push(x * 100.0);
        }
    }
    eprintln!(
        "037 treated/before: {treated:.4?} -> {:.4?}",
        mean_sd(&treated)
    );
    for (name, v) in ["fresh", "crusting", "healed", "5 years", "10 years"]
        .iter()
        .zip(&stages)
    {
        eprintln!("darkening {name}, %: {v:.2?} -> {:.3?}", mean_sd(v));
    }
}
