//! The photo's own optics: how blurred is it?
//!
//! A rendered dot must be no sharper than the skin around it, or it looks
//! printed on (docs/domain.md, "Compositing into a photograph"). This stage
//! estimates the camera's point spread as a Gaussian σ in pixels from the
//! photo itself, by re-blurring (Zhuo & Sim 2011): at an edge blurred by σ₀,
//! the gradient peak falls as `1/σ`; blurring it again by a known σᵦ gives
//! `σ = √(σ₀² + σᵦ²)`, so the ratio `R` of the two gradient peaks gives
//! `σ₀ = σᵦ / √(R² − 1)`. The median over the strongest edges near the
//! treatment region is robust to noise, texture and JPEG blocking. A
//! correction for the discrete gradient operator is calibrated on synthetic
//! edges of known blur (see the tests).

use image::RgbImage;
use rayon::prelude::*;

use crate::region::Rect;

/// The σ used for re-blurring, px.
const REBLUR_SIGMA: f32 = 1.0;
/// Estimates are clamped to this range, px.
pub const BLUR_RANGE: (f32, f32) = (0.25, 4.0);
/// Fallback when the photo has too few edges to measure.
pub const DEFAULT_BLUR: f32 = 0.8;

/// Separable Gaussian blur of a single-channel image (zero outside).
pub(crate) fn blur_plane(data: &mut [f32], w: usize, h: usize, sigma: f32) {
    if sigma <= 0.0 || w == 0 || h == 0 {
        return;
    }
    let k = kernel(sigma);
    let r = k.len() / 2;
    // Rows.
    data.par_chunks_mut(w).for_each(|row| {
        let src = row.to_vec();
        for (x, out) in row.iter_mut().enumerate() {
            let mut s = 0.0;
            for (i, kv) in k.iter().enumerate() {
                let xi = x as isize + i as isize - r as isize;
                if xi >= 0 && (xi as usize) < w {
                    s += kv * src[xi as usize];
                }
            }
            *out = s;
        }
    });
    // Columns, in strips of columns for cache locality.
    let src = data.to_vec();
    data.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        row.fill(0.0);
        for (i, kv) in k.iter().enumerate() {
            let yi = y as isize + i as isize - r as isize;
            if yi >= 0 && (yi as usize) < h {
                let s = &src[yi as usize * w..][..w];
                for (o, v) in row.iter_mut().zip(s) {
                    *o += kv * v;
                }
            }
        }
    });
}

/// A normalised Gaussian kernel of radius ⌈3σ⌉.
/// [`blur_plane`] of an 8-bit grey image (zero outside), rounded back.
pub(crate) fn blur_gray(img: &image::GrayImage, sigma: f32) -> image::GrayImage {
    let (w, h) = img.dimensions();
    let mut plane: Vec<f32> = img.as_raw().iter().map(|&v| v as f32).collect();
    blur_plane(&mut plane, w as usize, h as usize, sigma);
    let raw = plane
        .iter()
        .map(|v| v.round().clamp(0.0, 255.0) as u8)
        .collect();
    image::GrayImage::from_raw(w, h, raw).expect("same size")
}

pub(crate) fn kernel(sigma: f32) -> Vec<f32> {
    let r = (3.0 * sigma).ceil().max(1.0) as isize;
    let mut k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let s: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= s);
    k
}

fn gradient(l: &[f32], w: usize, h: usize) -> Vec<[f32; 2]> {
    let mut g = vec![[0.0; 2]; w * h];
    g.chunks_mut(w).enumerate().for_each(|(y, row)| {
        if y == 0 || y + 1 >= h {
            return;
        }
        for (x, out) in row.iter_mut().enumerate().take(w - 1).skip(1) {
            let i = y * w + x;
            *out = [(l[i + 1] - l[i - 1]) * 0.5, (l[i + w] - l[i - w]) * 0.5];
        }
    });
    g
}

/// Side of the square tiles the estimate analyses, px.
const TILE: u32 = 256;
/// At most this many tiles are analysed (about 0.5 MP), spread evenly over
/// the area, so the estimate costs the same on any size of photo.
const MAX_TILES: u32 = 8;

/// Estimates the photo's blur σ in pixels around `near` (the area is grown
/// by half its size on every side). Returns [`DEFAULT_BLUR`] when fewer than
/// 50 usable edge points are found.
pub fn estimate_blur(photo: &RgbImage, near: Rect) -> f32 {
    let (pw, ph) = photo.dimensions();
    let gx = near.width() / 2 + 8;
    let gy = near.height() / 2 + 8;
    let area = Rect {
        x0: near.x0.saturating_sub(gx),
        y0: near.y0.saturating_sub(gy),
        x1: (near.x1 + gx).min(pw),
        y1: (near.y1 + gy).min(ph),
    };
    let grads: Vec<TileGradients> = tiles(area)
        .par_iter()
        .map(|t| TileGradients::new(photo, *t))
        .collect();
    // The strongest 3 % of gradients over all tiles are the edges measured.
    let mag = |g: [f32; 2]| (g[0] * g[0] + g[1] * g[1]).sqrt();
    let mut mags: Vec<f32> = grads
        .iter()
        .flat_map(|t| t.g0.iter().map(|&g| mag(g)))
        .filter(|m| *m > 0.0)
        .collect();
    if mags.len() < 100 {
        return DEFAULT_BLUR;
    }
    let idx = mags.len() * 97 / 100;
    let threshold = mags.select_nth_unstable_by(idx, f32::total_cmp).1.max(6.0);
    let mut sigmas: Vec<f32> = grads
        .par_iter()
        .flat_map_iter(|t| t.sigmas(threshold))
        .collect();
    if sigmas.len() < 50 {
        return DEFAULT_BLUR;
    }
    let mid = sigmas.len() / 2;
    let raw = *sigmas.select_nth_unstable_by(mid, f32::total_cmp).1;
    // The central-difference gradient itself blurs by about 0.5 px; remove it.
    let corrected = (raw * raw - DISCRETE_BLUR * DISCRETE_BLUR).max(0.0).sqrt();
    corrected.clamp(BLUR_RANGE.0, BLUR_RANGE.1)
}

/// Up to [`MAX_TILES`] tiles spread evenly over `area` (the area itself
/// when it is small).
fn tiles(area: Rect) -> Vec<Rect> {
    let (w, h) = (area.width(), area.height());
    if w < 8 || h < 8 {
        return Vec::new();
    }
    if w * h <= TILE * TILE * MAX_TILES {
        return vec![area];
    }
    let (tw, th) = (TILE.min(w), TILE.min(h));
    let cols = (w / tw).clamp(1, 4);
    let rows = (h / th).clamp(1, MAX_TILES / cols);
    let mut out = Vec::new();
    for j in 0..rows {
        for i in 0..cols {
            // Centre of the (i, j)-th cell of an even grid over the area.
            let cx = area.x0 + (w as u64 * (2 * i as u64 + 1) / (2 * cols as u64)) as u32;
            let cy = area.y0 + (h as u64 * (2 * j as u64 + 1) / (2 * rows as u64)) as u32;
            let x0 = cx.saturating_sub(tw / 2).max(area.x0).min(area.x1 - tw);
            let y0 = cy.saturating_sub(th / 2).max(area.y0).min(area.y1 - th);
            out.push(Rect {
                x0,
                y0,
                x1: x0 + tw,
                y1: y0 + th,
            });
        }
    }
    out
}

/// Gradients of one tile's luma, as it is and re-blurred.
struct TileGradients {
    w: usize,
    h: usize,
    g0: Vec<[f32; 2]>,
    g1: Vec<[f32; 2]>,
}

impl TileGradients {
    fn new(photo: &RgbImage, t: Rect) -> Self {
        let (w, h) = (t.width() as usize, t.height() as usize);
        let mut luma = Vec::with_capacity(w * h);
        for y in t.y0..t.y1 {
            for x in t.x0..t.x1 {
                let p = photo.get_pixel(x, y).0;
                luma.push(0.2126 * p[0] as f32 + 0.7152 * p[1] as f32 + 0.0722 * p[2] as f32);
            }
        }
        let mut blurred = luma.clone();
        blur_plane(&mut blurred, w, h, REBLUR_SIGMA);
        TileGradients {
            w,
            h,
            g0: gradient(&luma, w, h),
            g1: gradient(&blurred, w, h),
        }
    }

    /// Blur estimates (σ, px, before the discrete correction) at the edge
    /// points whose gradient reaches `threshold` and peaks across the edge.
    fn sigmas(&self, threshold: f32) -> Vec<f32> {
        let (w, h, g0, g1) = (self.w, self.h, &self.g0, &self.g1);
        let mag = |g: [f32; 2]| (g[0] * g[0] + g[1] * g[1]).sqrt();
        let margin = 4 + (3.0 * REBLUR_SIGMA) as usize;
        let mut out = Vec::new();
        for y in margin..h.saturating_sub(margin) {
            for x in margin..w.saturating_sub(margin) {
                let i = y * w + x;
                let m = mag(g0[i]);
                if m < threshold {
                    continue;
                }
                // A peak across the edge: step one pixel along the gradient.
                let (dx, dy) = (g0[i][0] / m, g0[i][1] / m);
                let step = |s: f32| {
                    let xi = (x as f32 + s * dx).round() as usize;
                    let yi = (y as f32 + s * dy).round() as usize;
                    mag(g0[yi * w + xi])
                };
                if step(1.0) > m || step(-1.0) > m {
                    continue;
                }
                let r = m / mag(g1[i]).max(1e-6);
                if r > 1.02 {
                    out.push(REBLUR_SIGMA / (r * r - 1.0).sqrt());
                }
            }
        }
        out
    }
}

/// Blur the discrete gradient adds to an estimate, px (calibrated in the tests).
const DISCRETE_BLUR: f32 = 0.5;

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// A photo of random discs and bars, blurred by `sigma`, with mild noise.
    fn synthetic(sigma: f32) -> RgbImage {
        let (w, h) = (400usize, 300usize);
        let mut l = vec![60.0f32; w * h];
        let mut s = 12345u64;
        let mut rnd = || {
            s = crate::sampling::mix(s);
            (s >> 40) as f32 / (1u64 << 24) as f32
        };
        for _ in 0..40 {
            let (cx, cy, r, v) = (
                rnd() * w as f32,
                rnd() * h as f32,
                5.0 + rnd() * 30.0,
                60.0 + rnd() * 150.0,
            );
            for y in 0..h {
                for x in 0..w {
                    if (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) < r * r {
                        l[y * w + x] = v;
                    }
                }
            }
        }
        // Supersample-free: hard edges, then the blur under test.
        blur_plane(&mut l, w, h, sigma);
        RgbImage::from_fn(w as u32, h as u32, |x, y| {
            let v = l[y as usize * w + x as usize];
            let n = (rnd() - 0.5) * 3.0;
            let c = (v + n).clamp(0.0, 255.0) as u8;
            Rgb([c, c, c])
        })
    }

    #[test]
    fn recovers_known_blur() {
        let all = Rect {
            x0: 100,
            y0: 80,
            x1: 300,
            y1: 220,
        };
        for sigma in [0.8f32, 1.2, 2.0, 3.0] {
            let est = estimate_blur(&synthetic(sigma), all);
            eprintln!("true σ {sigma}: estimated {est:.2}");
            assert!(
                (est - sigma).abs() < 0.25 * sigma + 0.15,
                "true {sigma}, estimated {est}"
            );
        }
    }

    #[test]
    fn blur_keeps_mass() {
        let (w, h) = (50, 40);
        let mut d = vec![0.0f32; w * h];
        d[20 * w + 25] = 1.0;
        blur_plane(&mut d, w, h, 1.5);
        let s: f32 = d.iter().sum();
        assert!((s - 1.0).abs() < 1e-4);
        assert!(d[20 * w + 25] < 0.1);
    }
}
