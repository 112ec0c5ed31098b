//! Figures of issue 15's outline and hair items, measured on rendered
//! outputs, independently of how the renderer finds the backdrop or hair.
//!
//! ```sh
//! # backdrop pixels darkened by more than 3 levels, and dots on the backdrop
//! cargo run --release --example edge_figures -- backdrop PHOTO SESSION.png [DOTS.csv]
//! # the share of a plan's region taken as hair
//! cargo run --release --example edge_figures -- hair PLAN.toml
//! # untouched 1-3 px islands inside the treated area at full weight
//! cargo run --release --example edge_figures -- specks PHOTO SESSION.png MASK.png PX_PER_MM
//! ```
//!
//! The backdrop is found here by a flood over full-resolution pixels from
//! the photo's border (each within 20 levels of the border's median colour
//! and of its tint), less a one-pixel rim: the pixels a head's edge shares
//! with the backdrop are not counted as backdrop.

use std::path::Path;

use image::RgbImage;
use smp_render::Region;

fn open(p: &str) -> RgbImage {
    image::open(p).expect(p).to_rgb8()
}

/// The backdrop found independently of the renderer, shared with the
/// integration tests.
#[path = "../tests/integration/backdrop.rs"]
mod independent;
use independent::pure_backdrop as backdrop;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("backdrop") => {
            let photo = open(&args[1]);
            let after = open(&args[2]);
            let bd = backdrop(&photo);
            let w = photo.width();
            if let Ok(path) = std::env::var("EDGE_MASK") {
                let h = photo.height();
                image::GrayImage::from_fn(w, h, |x, y| {
                    image::Luma([bd[(y * w + x) as usize] as u8 * 255])
                })
                .save(path)
                .unwrap();
            }
            let (mut n, mut worst) = (0usize, 0i32);
            for (i, &b) in bd.iter().enumerate() {
                if !b {
                    continue;
                }
                let (x, y) = (i as u32 % w, i as u32 / w);
                let (p, q) = (photo.get_pixel(x, y).0, after.get_pixel(x, y).0);
                let d = (0..3).map(|c| p[c] as i32 - q[c] as i32).max().unwrap();
                worst = worst.max(d);
                n += (d > 3) as usize;
            }
            let on = args.get(3).map_or(0, |csv| {
                std::fs::read_to_string(csv)
                    .unwrap()
                    .lines()
                    .skip(1)
                    .filter(|l| {
                        let v: Vec<f32> = l.split(',').map(|s| s.parse().unwrap()).collect();
                        bd[v[2] as usize * w as usize + v[1] as usize]
                    })
                    .count()
            });
            println!("backdrop pixels darkened > 3 levels: {n}; most: {worst}; dots on the backdrop: {on}");
        }
        Some("specks") => {
            let photo = open(&args[1]);
            let after = open(&args[2]);
            let ppm: f32 = args[4].parse().unwrap();
            let (w, h) = photo.dimensions();
            let region =
                Region::load_mask(Path::new(&args[3]), (w, h), 6.0 * ppm).expect("the mask");
            let bd = backdrop(&photo);
            let full = |x: u32, y: u32| {
                region.weight_at(x as f32 + 0.5, y as f32 + 0.5) >= 1.0 && !bd[(y * w + x) as usize]
            };
            let same = |x: u32, y: u32| photo.get_pixel(x, y) == after.get_pixel(x, y);
            let mut seen = vec![false; (w * h) as usize];
            let (mut islands, mut untouched, mut area) = ([0usize; 4], 0usize, 0usize);
            for y in 0..h {
                for x in 0..w {
                    if !full(x, y) {
                        continue;
                    }
                    area += 1;
                    if !same(x, y) || seen[(y * w + x) as usize] {
                        continue;
                    }
                    // An 8-connected island of untouched pixels.
                    let mut q = vec![(x, y)];
                    seen[(y * w + x) as usize] = true;
                    let mut n = 0;
                    while let Some((cx, cy)) = q.pop() {
                        n += 1;
                        for dy in -1i32..=1 {
                            for dx in -1i32..=1 {
                                let (nx, ny) = (cx as i32 + dx, cy as i32 + dy);
                                if nx < 0 || ny < 0 || nx >= w as i32 || ny >= h as i32 {
                                    continue;
                                }
                                let (nx, ny) = (nx as u32, ny as u32);
                                let j = (ny * w + nx) as usize;
                                if !seen[j] && same(nx, ny) {
                                    seen[j] = true;
                                    q.push((nx, ny));
                                }
                            }
                        }
                    }
                    untouched += n;
                    islands[n.min(4) - 1] += 1;
                }
            }
            println!(
                "full-weight area {area} px; untouched {untouched} px; islands of 1, 2, 3 px: {}, {}, {}; larger: {}",
                islands[0], islands[1], islands[2], islands[3]
            );
        }
        Some("hair") => {
            // The share of a plan's region taken as hair, weighted.
            let pf = smp_render::PlanFile::load(Path::new(&args[1])).unwrap();
            let plan = pf.apply_to(smp_render::Plan::default(), "plan").unwrap();
            let job = smp_render::RenderJob::from_fields(&pf, plan, "plan").unwrap();
            let photo = smp_render::load_photo(&job.photo).unwrap();
            let region = job
                .region
                .load(photo.dimensions(), job.scale.px(job.plan.feather))
                .unwrap();
            let b = region.bounds();
            let skin = smp_render::skin_luminance(&photo, &region);
            let cover = smp_render::hair_cover(&photo, b, skin);
            let (mut hair, mut full, mut part) = (0.0f64, 0usize, 0usize);
            for (s, w) in cover.share.iter().zip(region.bounded_weights()) {
                if *w > 0.0 {
                    hair += (*s * *w) as f64;
                    full += (*s >= 1.0) as usize;
                    part += (*s > 0.0 && *s < 1.0) as usize;
                }
            }
            if let Ok(path) = std::env::var("EDGE_MASK") {
                let (w, h) = photo.dimensions();
                let mut img = photo.clone();
                for (i, s) in cover.share.iter().enumerate() {
                    let (x, y) = (b.x0 + i as u32 % b.width(), b.y0 + i as u32 / b.width());
                    if *s > 0.0 && region.weight_at(x as f32 + 0.5, y as f32 + 0.5) > 0.0 {
                        let p = img.get_pixel_mut(x, y);
                        let l = smp_render::skin_luminance(&photo, &region);
                        let _ = l;
                        p.0 = [(255.0 * s) as u8, 0, 255];
                    }
                }
                let _ = (w, h);
                img.save(path).unwrap();
            }
            println!(
                "hair: {:.2} % of the region's weight; {full} px wholly hair, {part} px in part",
                100.0 * hair / region.total_weight()
            );
        }
        _ => eprintln!("usage: see the file's doc comment"),
    }
}
