//! Measures issue 15's dot figures: evenness (CV of the darkening smoothed
//! over 1.5 mm on a flat photo at 3.3 px/mm), a sparse dot's apparent size
//! (FWHM of the mean radial profile at 20 px/mm), and the region-mean
//! ΔE2000 between the named shades on every shipped plan.
//!
//! `cargo run --release --example realism_measure [even|fwhm|shades|all]`

use image::{Rgb, RgbImage};
use palette::color_difference::Ciede2000;
use palette::{FromColor, Lab, LinSrgb};
use smp_render::{
    composite_sessions, pigment_blur, prepare_region, render_preview, stage_dots, DotsPerCm2, Plan,
    PlanFile, Region, SamplePoint, Scale, Shade, NAMED_SHADES,
};

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

fn full(size: u32) -> Region {
    Region::from_weights(size, size, vec![1.0; (size * size) as usize], 0.0, "flat").unwrap()
}

/// Separable Gaussian blur of a w×h field, σ px.
fn gauss(v: &[f64], w: usize, h: usize, sigma: f64) -> Vec<f64> {
    let r = (3.0 * sigma).ceil() as isize;
    let k: Vec<f64> = (-r..=r)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let s: f64 = k.iter().sum();
    let k: Vec<f64> = k.iter().map(|x| x / s).collect();
    let mut a = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for (j, kv) in k.iter().enumerate() {
                let xx = (x as isize + j as isize - r).clamp(0, w as isize - 1) as usize;
                acc += kv * v[y * w + xx];
            }
            a[y * w + x] = acc;
        }
    }
    let mut b = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for (j, kv) in k.iter().enumerate() {
                let yy = (y as isize + j as isize - r).clamp(0, h as isize - 1) as usize;
                acc += kv * a[yy * w + x];
            }
            b[y * w + x] = acc;
        }
    }
    b
}

fn boxf(v: &[f64], w: usize, h: usize, n: usize) -> Vec<f64> {
    let mut o = vec![0.0; w * h];
    for y in 0..h - n {
        for x in 0..w - n {
            let mut a = 0.0;
            for j in 0..n {
                for i in 0..n {
                    a += v[(y + j) * w + x + i];
                }
            }
            o[y * w + x] = a / (n * n) as f64;
        }
    }
    o
}

fn cv_of(img: &RgbImage, before: f64, sigma_px: f64) -> f64 {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let d: Vec<f64> = img.pixels().map(|p| 1.0 - luma(p) / before).collect();
    let s = if sigma_px < 0.0 {
        boxf(&d, w, h, (-sigma_px) as usize)
    } else {
        gauss(&d, w, h, sigma_px)
    };
    let m = (4.0 * sigma_px) as usize;
    let mut v = Vec::new();
    for y in m..h - m {
        for x in m..w - m {
            v.push(s[y * w + x]);
        }
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
    var.sqrt() / mean
}

fn even() {
    let size = 1200u32;
    let scale = Scale::new(3.3, "t").unwrap();
    let photo = RgbImage::from_pixel(size, size, Rgb([128, 128, 128]));
    let before = luma(&Rgb([128, 128, 128]));
    let region = full(size);
    let sig = 1.5 * 3.3;
    for seed in [1u64, 2] {
        let plan = Plan {
            seed,
            ..Plan::default()
        };
        let default = render_preview(&photo, &region, &plan, scale);
        let uniform_plan = Plan {
            dot_diameter_spread: 0.0,
            strength_spread: 0.0,
            clusters: 0.0,
            ..plan.clone()
        };
        let uniform = render_preview(&photo, &region, &uniform_plan, scale);
        // Random placement: the default plan's dots at uniform random positions.
        let n = default.dots.len();
        let mut st = seed.wrapping_mul(0x9e3779b97f4a7c15) | 1;
        let mut rnd = || {
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            (st >> 11) as f32 / (1u64 << 53) as f32
        };
        let per = default.dots_per_session();
        let mut pts = Vec::new();
        for (k, c) in per.iter().enumerate() {
            for _ in 0..*c {
                pts.push(SamplePoint {
                    x: rnd() * size as f32,
                    y: rnd() * size as f32,
                    session: k as u8 + 1,
                    weight: 1.0,
                    spacing: 1.0,
                });
            }
        }
        assert_eq!(pts.len(), n);
        let rdots = stage_dots(&pts, &plan, scale, None);
        let blur = pigment_blur(&photo, &region, &plan, scale);
        let random = composite_sessions(&photo, &region, &plan, scale, &rdots, blur);
        for (name, img) in [
            ("default", default.sessions.last().unwrap()),
            ("uniform", uniform.sessions.last().unwrap()),
            ("random", random.last().unwrap()),
        ] {
            let mean: f64 =
                img.pixels().map(|p| 1.0 - luma(p) / before).sum::<f64>() / (size * size) as f64;
            println!(
                "seed {seed} {name:8}: mean darkening {mean:.3}, CV gauss σ1.5mm {:.3}, σ0.75mm {:.3}, box5 {:.3} box 10 {:.3}",
                cv_of(img, before, sig),
                cv_of(img, before, sig / 2.0),
                cv_of(img, before, -5.0),
                cv_of(img, before, -10.0),
            );
        }
    }
}

fn fwhm() {
    let size = 1400u32;
    let scale = Scale::new(20.0, "t").unwrap();
    let photo = RgbImage::from_pixel(size, size, Rgb([128, 128, 128]));
    let before = luma(&Rgb([128, 128, 128]));
    let region = full(size);
    for d in [0.3f32, 0.5, 0.7] {
        let plan = Plan {
            density: DotsPerCm2(5.0),
            dot_diameter: smp_render::Mm(d),
            ..Plan::default()
        };
        let pv = render_preview(&photo, &region, &plan, scale);
        let img = pv.sessions.last().unwrap();
        let bin = 0.25f32;
        let nb = 200;
        let mut sum = vec![0.0f64; nb];
        let mut cnt = vec![0.0f64; nb];
        let mut used = 0;
        for dot in &pv.dots {
            let r = 2.0 * scale.px(smp_render::Mm(1.5));
            if dot.x < r || dot.y < r || dot.x > size as f32 - r || dot.y > size as f32 - r {
                continue;
            }
            // Isolated: no other dot within 3 mm.
            if pv.dots.iter().any(|o| {
                !(o.x == dot.x && o.y == dot.y)
                    && (o.x - dot.x).hypot(o.y - dot.y) < scale.px(smp_render::Mm(3.0))
            }) {
                continue;
            }
            used += 1;
            let ri = r as i32;
            for j in -ri..=ri {
                for i in -ri..=ri {
                    let (x, y) = (dot.x.floor() as i32 + i, dot.y.floor() as i32 + j);
                    let dist = ((x as f32 + 0.5 - dot.x).powi(2)
                        + (y as f32 + 0.5 - dot.y).powi(2))
                    .sqrt();
                    let b = (dist / bin) as usize;
                    if b < nb {
                        sum[b] += 1.0 - luma(img.get_pixel(x as u32, y as u32)) / before;
                        cnt[b] += 1.0;
                    }
                }
            }
        }
        let prof: Vec<f64> = sum.iter().zip(&cnt).map(|(s, c)| s / c.max(1.0)).collect();
        let peak = prof[0].max(prof[1]);
        let half = (0..nb).find(|&b| prof[b] < peak / 2.0).unwrap();
        // Interpolate between bin centres.
        let (r0, r1) = (
            (half as f64 - 0.5) * bin as f64,
            (half as f64 + 0.5) * bin as f64,
        );
        let (p0, p1) = (prof[half - 1], prof[half]);
        let rh = r0 + (p0 - peak / 2.0) / (p0 - p1) * (r1 - r0);
        println!(
            "plan {d} mm: {used} dots, centre {:.0}% darkening, FWHM {:.3} mm ({:.2}x)",
            peak * 100.0,
            2.0 * rh / 20.0,
            2.0 * rh / 20.0 / d as f64
        );
    }
}

fn lab_mean(img: &RgbImage, region: &Region) -> Lab {
    let (mut s, mut n) = ([0.0f64; 3], 0.0);
    let thr: f32 = std::env::var("W")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.5);
    for (x, y, p) in img.enumerate_pixels() {
        if region.weight_at(x as f32 + 0.5, y as f32 + 0.5) >= thr {
            for c in 0..3 {
                s[c] += lin(p[c]);
            }
            n += 1.0;
        }
    }
    Lab::from_color(LinSrgb::new(
        (s[0] / n) as f32,
        (s[1] / n) as f32,
        (s[2] / n) as f32,
    ))
}

/// A shipped photo's plan (`assets/frl-london_STEM_03.toml`): its photo,
/// its region as the plan treats it, the plan and the scale.
fn shipped_plan(stem: &str) -> (RgbImage, Region, Plan, Scale) {
    let path = std::path::PathBuf::from(format!("assets/frl-london_{stem}_03.toml"));
    let file = PlanFile::load(&path).unwrap();
    let plan = file.apply_to(Plan::default(), "t").unwrap();
    let scale = Scale::new(file.px_per_mm.unwrap(), "t").unwrap();
    let photo = smp_render::load_photo(file.photo.as_ref().unwrap()).unwrap();
    let region = Region::load_mask(
        file.region.as_ref().unwrap(),
        photo.dimensions(),
        scale.px(plan.feather),
    )
    .unwrap();
    let (region, _, _) = prepare_region(&plan, &photo, region).unwrap();
    (photo, region, plan, scale)
}

fn shades() {
    let names: Vec<&str> = NAMED_SHADES.iter().map(|s| s.name).collect();
    for stem in ["021", "037", "061", "105", "172"] {
        let (photo, region, plan, scale) = shipped_plan(stem);
        let before = lab_mean(&photo, &region);
        let labs: Vec<Lab> = names
            .iter()
            .map(|n| {
                let p = Plan {
                    shade: Shade::parse(n, 1.0, "t").unwrap(),
                    ..plan.clone()
                };
                lab_mean(
                    render_preview(&photo, &region, &p, scale)
                        .sessions
                        .last()
                        .unwrap(),
                    &region,
                )
            })
            .collect();
        let mut line = format!("{stem} ({}): before L {:.1};", plan.shade.name, before.l);
        for (i, n) in names.iter().enumerate() {
            line += &format!(
                " {n} L {:.1} ΔE(before) {:.1};",
                labs[i].l,
                labs[i].difference(before)
            );
        }
        println!("{line}");
        let imgs: Vec<RgbImage> = names
            .iter()
            .map(|n| {
                let p = Plan {
                    shade: Shade::parse(n, 1.0, "t").unwrap(),
                    ..plan.clone()
                };
                render_preview(&photo, &region, &p, scale)
                    .sessions
                    .pop()
                    .unwrap()
            })
            .collect();
        let pix = |a: &RgbImage, b: &RgbImage| {
            let (mut s, mut k) = (0.0f64, 0.0);
            for (x, y, p) in a.enumerate_pixels() {
                if region.weight_at(x as f32 + 0.5, y as f32 + 0.5) > 0.0 {
                    let q = b.get_pixel(x, y);
                    let la = Lab::from_color(LinSrgb::new(
                        lin(p[0]) as f32,
                        lin(p[1]) as f32,
                        lin(p[2]) as f32,
                    ));
                    let lb = Lab::from_color(LinSrgb::new(
                        lin(q[0]) as f32,
                        lin(q[1]) as f32,
                        lin(q[2]) as f32,
                    ));
                    s += la.difference(lb) as f64;
                    k += 1.0;
                }
            }
            s / k
        };
        println!(
            "   per-pixel mean ΔE: jet→soft {:.2} jet→ash {:.2} jet→bb {:.2}",
            pix(&imgs[0], &imgs[2]),
            pix(&imgs[0], &imgs[3]),
            pix(&imgs[0], &imgs[1])
        );
        let mut line = "   adjacent:".to_string();
        for i in 1..names.len() {
            line += &format!(
                " {}→{} {:.2};",
                names[i - 1],
                names[i],
                labs[i - 1].difference(labs[i])
            );
        }
        line += &format!(" jet→ash {:.2}", labs[0].difference(labs[names.len() - 1]));
        println!("{line}");
    }
}

fn sweep() {
    let ks: Vec<f32> = vec![0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.3, 1.6, 2.0, 2.5];
    for stem in ["021", "037", "061", "105", "172"] {
        let (photo, region, plan, scale) = shipped_plan(stem);
        let before = lab_mean(&photo, &region);
        let mut line = format!("{stem} L {:.1}:", before.l);
        let mut prev: Option<Lab> = None;
        for &k in &ks {
            let mut shade = Shade::parse("jet-black", 1.0, "t").unwrap();
            shade.dilution = k;
            let p = Plan {
                shade,
                ..plan.clone()
            };
            let img = render_preview(&photo, &region, &p, scale)
                .sessions
                .pop()
                .unwrap();
            let lab = lab_mean(&img, &region);
            line += &format!(
                " k{k}: ΔE {:.1} (step {:.1}) Y {:.3};",
                lab.difference(before),
                prev.map_or(0.0, |p| p.difference(lab)),
                ((lab.l as f64 + 16.0) / (before.l as f64 + 16.0)).powi(3)
            );
            prev = Some(lab);
        }
        println!("{line}");
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("sweep") {
        sweep();
        return;
    }
    let what = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    if what == "even" || what == "all" {
        even();
    }
    if what == "fwhm" || what == "all" {
        fwhm();
    }
    if what == "shades" || what == "all" {
        shades();
    }
}
