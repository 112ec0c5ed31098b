//! Dots that read like good healed work (#15 items 1 and 8): an even
//! shadow at 1.5 mm with the variety still there dot by dot, and a dot's
//! apparent size what the plan says.

use image::{Rgb, RgbImage};
use smp_render::{
    composite_sessions, pigment_blur, render_preview, stage_dots, DotsPerCm2, Mm, Plan, Region,
    SamplePoint, Scale,
};

const GREY: [u8; 3] = [128, 128, 128];

fn lin(v: u8) -> f64 {
    let c = v as f64 / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn luma(p: &Rgb<u8>) -> f64 {
    0.2126 * lin(p[0]) + 0.7152 * lin(p[1]) + 0.0722 * lin(p[2])
}

/// A flat grey photo of `size`² px, all of it the region at full weight.
fn flat(size: u32) -> (RgbImage, Region) {
    let photo = RgbImage::from_pixel(size, size, Rgb(GREY));
    let weights = vec![1.0; (size * size) as usize];
    (
        photo,
        Region::from_weights(size, size, weights, 0.0, "flat").unwrap(),
    )
}

/// Darkening `1 − Y/Y₀` of each pixel of a render of the flat photo.
fn darkening(img: &RgbImage) -> Vec<f64> {
    let y0 = luma(&Rgb(GREY));
    img.pixels().map(|p| 1.0 - luma(p) / y0).collect()
}

/// Separable Gaussian smoothing of a `w`-wide field, σ in px (edges clamped).
fn smooth(v: &[f64], w: usize, sigma: f64) -> Vec<f64> {
    let h = v.len() / w;
    let r = (3.0 * sigma).ceil() as isize;
    let k: Vec<f64> = (-r..=r)
        .map(|i| (-((i * i) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = k.iter().sum();
    let pass = |src: &[f64], step: (usize, usize), n: usize| {
        let mut out = vec![0.0; src.len()];
        for (i, o) in out.iter_mut().enumerate() {
            let (x, y) = (i % w, i / w);
            let at = if step.0 == 1 { x } else { y };
            *o = k
                .iter()
                .enumerate()
                .map(|(j, kv)| {
                    let t = (at as isize + j as isize - r).clamp(0, n as isize - 1) as usize;
                    let idx = if step.0 == 1 { y * w + t } else { t * w + x };
                    kv * src[idx]
                })
                .sum::<f64>()
                / sum;
        }
        out
    };
    let a = pass(v, (1, 0), w);
    pass(&a, (0, 1), h)
}

/// Coefficient of variation of the darkening smoothed by a Gaussian of
/// σ = `sigma_px`, away from the frame's edge.
fn smoothed_cv(img: &RgbImage, sigma_px: f64) -> f64 {
    let w = img.width() as usize;
    let s = smooth(&darkening(img), w, sigma_px);
    let m = (4.0 * sigma_px).ceil() as usize;
    let v: Vec<f64> = s
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            let (x, y) = (i % w, i / w);
            x >= m && y >= m && x < w - m && y < s.len() / w - m
        })
        .map(|(_, v)| *v)
        .collect();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
    var.sqrt() / mean
}

fn cv(v: &[f64]) -> f64 {
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt() / mean
}

/// #15 item 1: on a flat photo at 3.3 px/mm, the default plan's darkening
/// smoothed over 1.5 mm (Gaussian σ 1.5 mm) varies at most 1.25 × as much
/// as the same plan with uniform dots (no size or strength spread, no
/// clusters); the same dots placed at random vary far more, so the
/// measure sees patchiness.
#[test]
fn the_default_plan_is_as_even_as_uniform_dots() {
    let px_per_mm = 3.3;
    let scale = Scale::new(px_per_mm, "t").unwrap();
    let (photo, region) = flat(1200);
    let sigma = 1.5 * px_per_mm as f64;
    let plan = Plan::default();
    let default = render_preview(&photo, &region, &plan, scale);
    let uniform_plan = Plan {
        dot_diameter_spread: 0.0,
        strength_spread: 0.0,
        clusters: 0.0,
        ..plan.clone()
    };
    let uniform = render_preview(&photo, &region, &uniform_plan, scale);
    // The default plan's dots at uniformly random places (xorshift).
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut rnd = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let mut points = Vec::new();
    for (k, n) in default.dots_per_session().iter().enumerate() {
        for _ in 0..*n {
            points.push(SamplePoint {
                x: rnd() * photo.width() as f32,
                y: rnd() * photo.height() as f32,
                session: k as u8 + 1,
                weight: 1.0,
                spacing: 1.0,
            });
        }
    }
    let dots = stage_dots(&points, &plan, scale, None);
    let blur = pigment_blur(&photo, &region, &plan, scale);
    let random = composite_sessions(&photo, &region, &plan, scale, &dots, blur);
    let [d, u, r] = [
        default.sessions.last().unwrap(),
        uniform.sessions.last().unwrap(),
        random.last().unwrap(),
    ]
    .map(|img| smoothed_cv(img, sigma));
    eprintln!(
        "CV of the darkening smoothed over 1.5 mm: default {d:.3}, uniform dots {u:.3}, random placement {r:.3}; default/uniform {:.2}",
        d / u
    );
    assert!(d <= 1.25 * u, "default {d:.3} vs uniform {u:.3}");
    // README ("Even, not patchy"): 0.063, 0.057 and 0.143, to their
    // printed 3 decimals with a little room (a CV over a 1.5 mm window of
    // some 10⁴ dots moves in the third decimal from seed to seed).
    for (got, want) in [(d, 0.063), (u, 0.057), (r, 0.143)] {
        assert!((got - want).abs() <= 0.003, "CV {got:.4}, README {want}");
    }
    assert!(
        r > 1.8 * u,
        "random {r:.3} vs uniform {u:.3}: the measure is blind"
    );
    // The variety is still there, dot by dot: sizes and deposit strengths
    // vary as the plan says.
    let sizes: Vec<f64> = default.dots.iter().map(|d| d.diameter as f64).collect();
    let strengths: Vec<f64> = default
        .dots
        .iter()
        .filter(|d| d.session == 3)
        .map(|d| d.strength as f64)
        .collect();
    let (cs, ct) = (cv(&sizes), cv(&strengths));
    eprintln!("dot diameter CV {cs:.2}, deposit strength CV {ct:.2}");
    assert!(cs > 0.2 && ct > 0.12, "{cs} {ct}");
}

/// The mean radial darkening profile of the lone dots of `preview` (no
/// other dot within 3 mm), in bins of ¼ px, and each dot's peak.
fn profile(img: &RgbImage, dots: &[smp_render::Dot], scale: Scale) -> (Vec<f64>, Vec<f64>, usize) {
    let y0 = luma(&Rgb(GREY));
    let reach = scale.px(Mm(1.5));
    let lone = scale.px(Mm(3.0));
    let (w, h) = (img.width() as f32, img.height() as f32);
    let bins = (reach * 4.0) as usize;
    let (mut sum, mut count) = (vec![0.0f64; bins], vec![0.0f64; bins]);
    let mut peaks = Vec::new();
    for d in dots {
        if d.x < reach + 2.0 || d.y < reach + 2.0 || d.x > w - reach - 2.0 || d.y > h - reach - 2.0
        {
            continue;
        }
        if dots
            .iter()
            .any(|o| (o.x, o.y) != (d.x, d.y) && (o.x - d.x).hypot(o.y - d.y) < lone)
        {
            continue;
        }
        let r = reach.ceil() as i32;
        let mut peak = 0.0f64;
        for j in -r..=r {
            for i in -r..=r {
                let (x, y) = (d.x.floor() as i32 + i, d.y.floor() as i32 + j);
                let dist = (x as f32 + 0.5 - d.x).hypot(y as f32 + 0.5 - d.y);
                let b = (dist * 4.0) as usize;
                if b < bins {
                    let v = 1.0 - luma(img.get_pixel(x as u32, y as u32)) / y0;
                    sum[b] += v;
                    count[b] += 1.0;
                    if dist < 2.0 {
                        peak = peak.max(v);
                    }
                }
            }
        }
        peaks.push(peak);
    }
    let n = peaks.len();
    let prof = sum
        .iter()
        .zip(&count)
        .map(|(s, c)| s / c.max(1.0))
        .collect();
    (prof, peaks, n)
}

/// #15 item 8: at 20 px/mm a lone dot's darkening, averaged over every
/// lone dot's radial profile, is as wide at half its peak as the plan's
/// `dot_diameter_mm` (±15 %), for small, default and large dots; and the
/// dots' peaks differ from dot to dot (the variety shows at 100 %).
#[test]
fn a_sparse_dot_measures_its_planned_diameter() {
    let px_per_mm = 20.0;
    let scale = Scale::new(px_per_mm, "t").unwrap();
    let (photo, region) = flat(1400);
    for planned in [0.3f32, 0.5, 0.7] {
        let plan = Plan {
            density: DotsPerCm2(5.0),
            dot_diameter: Mm(planned),
            ..Plan::default()
        };
        let preview = render_preview(&photo, &region, &plan, scale);
        let (prof, peaks, n) = profile(preview.sessions.last().unwrap(), &preview.dots, scale);
        assert!(n >= 50, "{n} lone dots");
        let peak = prof[..4].iter().cloned().fold(0.0, f64::max);
        let at = (4..prof.len())
            .find(|&b| prof[b] < peak / 2.0)
            .expect("the profile falls to half");
        // Between the centres of the bins either side of half the peak.
        let (r0, r1) = ((at as f64 - 0.5) / 4.0, (at as f64 + 0.5) / 4.0);
        let (p0, p1) = (prof[at - 1], prof[at]);
        let half = r0 + (p0 - peak / 2.0) / (p0 - p1) * (r1 - r0);
        let fwhm = 2.0 * half / px_per_mm as f64;
        let peak_cv = cv(&peaks);
        eprintln!(
            "plan {planned} mm: {n} lone dots, {:.0} % darkening at the centre, FWHM {fwhm:.3} mm ({:.2} ×), peaks vary by {:.0} %",
            peak * 100.0,
            fwhm / planned as f64,
            peak_cv * 100.0
        );
        assert!(
            (fwhm / planned as f64 - 1.0).abs() <= 0.15,
            "plan {planned} mm: FWHM {fwhm:.3} mm"
        );
        assert!(peak_cv > 0.1, "dots all alike: peaks vary by {peak_cv:.3}");
        // README: 0.29, 0.47 and 0.64 mm; 190 dots' mean profile in
        // 0.25 px bins at 20 px/mm, so within 0.01 mm.
        let readme = if planned < 0.4 {
            0.29
        } else if planned < 0.6 {
            0.47
        } else {
            0.64
        };
        assert!(
            (fwhm - readme).abs() <= 0.01,
            "plan {planned} mm: FWHM {fwhm:.3} mm, README {readme}"
        );
    }
}
