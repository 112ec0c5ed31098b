//! Pigment into the photo: area-exact dot rasterisation and absorption in
//! linear light.
//!
//! Dots are drawn into a *transmittance layer* over the region's bounds,
//! one value per channel and pixel, starting at 1. A dot covering a share
//! `c` of a pixel multiplies it by `1 − c·(1 − T)`, the area-weighted mix the
//! eye averages, where `T` is the dot's transmittance. The photo is then
//! decoded to linear light, multiplied by the layer and encoded back. Light
//! and shade of the head stay, because pigment multiplies the skin's light.
//!
//! Coverage is area-exact at every scale, which is what keeps the tone right
//! from close-ups to whole-head photos: a dot under two pixels across is a
//! square of the dot's area whose overlap with each pixel is computed
//! exactly; a larger dot is an ellipse with a soft edge whose coverage is
//! normalised to the ellipse's area. Either way the sum of a dot's coverage
//! is its area in px², so 1,000 tiny dots darken a patch as much as 10 large
//! ones of the same total area.
//!
//! Speed: dots are binned into bands of rows and bands are drawn in parallel;
//! each band draws its dots in list order, so the result does not depend on
//! the number of threads.

use image::RgbImage;
use rayon::prelude::*;

use crate::follicle::Dot;
use crate::photo::{linear_to_srgb, srgb_to_linear_table};
use crate::region::{Rect, Region};
use crate::shade::Shade;

/// Rows per band of the parallel rasteriser.
const BAND: usize = 32;
/// Dots narrower than this (px) are drawn as area-exact squares.
const SMALL_DOT_PX: f32 = 2.0;
/// Width of a large dot's soft edge as a share of its radius (the healed
/// pigment's scatter halo); never less than one pixel.
const EDGE_SOFTNESS: f32 = 0.45;

/// Per-pixel transmittance over a rectangle of the photo.
#[derive(Debug, Clone)]
pub struct PigmentLayer {
    rect: Rect,
    data: Vec<[f32; 3]>,
}

impl PigmentLayer {
    /// A clear layer (transmittance 1) over `rect`.
    pub fn new(rect: Rect) -> Self {
        PigmentLayer {
            rect,
            data: vec![[1.0; 3]; rect.width() as usize * rect.height() as usize],
        }
    }

    /// The rectangle the layer covers.
    pub fn rect(&self) -> Rect {
        self.rect
    }

    /// Transmittance at a photo pixel; 1 outside the layer.
    pub fn at(&self, x: u32, y: u32) -> [f32; 3] {
        let r = self.rect;
        if x < r.x0 || y < r.y0 || x >= r.x1 || y >= r.y1 {
            return [1.0; 3];
        }
        self.data[(y - r.y0) as usize * r.width() as usize + (x - r.x0) as usize]
    }

    /// Draws dots, multiplying their transmittance in. Each dot is drawn
    /// as seen through a Gaussian blur of `blur` px (the camera's point
    /// spread and the skin's scatter): its edge widens while its pigment
    /// mass stays the same, so a dot is never sharper than the photo.
    pub fn draw(&mut self, dots: &[Dot], shade: &Shade, blur: f32) {
        let r = self.rect;
        let w = r.width() as usize;
        let h = r.height() as usize;
        if w == 0 || h == 0 {
            return;
        }
        let bins = bin_dots(dots, r, blur);
        let absorb: Vec<[f32; 3]> = dots
            .par_iter()
            .map(|d| shade.absorption(d.strength))
            .collect();
        self.data
            .par_chunks_mut(BAND * w)
            .zip(bins.par_iter())
            .enumerate()
            .for_each(|(b, (band, bin))| {
                let band_y0 = r.y0 as usize + b * BAND;
                let rows = band.len() / w;
                let mut scratch = Vec::new();
                for &i in bin {
                    let d = &dots[i as usize];
                    draw_dot(
                        d,
                        blur,
                        absorb[i as usize],
                        band,
                        w,
                        r.x0 as usize,
                        band_y0,
                        rows,
                        &mut scratch,
                    );
                }
            });
    }

    /// Composites the layer into `photo` in linear light. Pixels of weight
    /// zero, or that no dot touched, keep their exact input bytes.
    pub fn apply(&self, photo: &RgbImage, region: &Region) -> RgbImage {
        let mut out = photo.clone();
        self.apply_in_place(&mut out, region);
        out
    }

    /// [`PigmentLayer::apply`] into an image that holds the photo.
    pub fn apply_in_place(&self, out: &mut RgbImage, region: &Region) {
        let lut = srgb_to_linear_table();
        let r = self.rect;
        let lw = r.width() as usize;
        let pw = out.width() as usize;
        let b = region.bounds();
        out.as_mut()
            .par_chunks_mut(pw * 3)
            .enumerate()
            .skip(r.y0.max(b.y0) as usize)
            .take((r.y1.min(b.y1) as usize).saturating_sub(r.y0.max(b.y0) as usize))
            .for_each(|(y, row)| {
                let lrow = &self.data[(y - r.y0 as usize) * lw..][..lw];
                let (x0, x1) = (r.x0.max(b.x0), r.x1.min(b.x1));
                if x0 >= x1 {
                    return;
                }
                let wrow = region.row_within_bounds(y as u32, x0, x1);
                for (lx, t) in lrow.iter().enumerate() {
                    let x = r.x0 as usize + lx;
                    if x < x0 as usize || x >= x1 as usize {
                        continue;
                    }
                    if *t == [1.0; 3] || wrow[x - x0 as usize] <= 0.0 {
                        continue;
                    }
                    let px = &mut row[x * 3..x * 3 + 3];
                    for c in 0..3 {
                        px[c] = linear_to_srgb(lut[px[c] as usize] * t[c]);
                    }
                }
            });
    }
}

/// Dot indices per band of [`BAND`] rows of `r`, for every band a dot's
/// footprint touches, in list order.
fn bin_dots(dots: &[Dot], r: Rect, blur: f32) -> Vec<Vec<u32>> {
    let h = r.height() as usize;
    let mut bins: Vec<Vec<u32>> = vec![Vec::new(); h.div_ceil(BAND)];
    if h == 0 {
        return bins;
    }
    for (i, d) in dots.iter().enumerate() {
        let ext = extent(d, blur);
        let y0 = (d.y - ext).floor() - r.y0 as f32;
        let y1 = (d.y + ext).ceil() - r.y0 as f32;
        if y1 < 0.0 || y0 >= h as f32 {
            continue;
        }
        let b0 = (y0.max(0.0) as usize) / BAND;
        let b1 = ((y1.max(0.0) as usize).min(h - 1)) / BAND;
        for bin in &mut bins[b0..=b1] {
            bin.push(i as u32);
        }
    }
    bins
}

/// Renders every session at once: image *k* is the photo with the dots of
/// sessions 1 to *k* (in `dots`, ordered by session) composited in linear
/// light, each seen through a blur of `blur` px.
///
/// The same as drawing a [`PigmentLayer`] and applying it after each
/// session, but band by band: each band of rows is drawn into a small
/// buffer and composited into every session's image while it is in cache,
/// so no full-frame layer is ever allocated.
pub fn composite_sessions(
    photo: &RgbImage,
    region: &Region,
    dots: &[Dot],
    shade: &Shade,
    sessions: u8,
    blur: f32,
) -> Vec<RgbImage> {
    let mut outs: Vec<RgbImage> = (0..sessions).map(|_| photo.clone()).collect();
    // Pixels outside the bounds have weight zero and are never changed, so
    // the bounds are all the layer needs.
    let r = region.bounds();
    let (w, pw) = (r.width() as usize, photo.width() as usize);
    if w == 0 || r.height() == 0 || sessions == 0 {
        return outs;
    }
    let bins = bin_dots(dots, r, blur);
    let absorb: Vec<[f32; 3]> = dots
        .par_iter()
        .map(|d| shade.absorption(d.strength))
        .collect();
    let band_bytes = BAND * pw * 3;
    let skip = r.y0 as usize * pw * 3;
    // For each band, its rows in every session's image.
    let mut bands: Vec<Vec<&mut [u8]>> = (0..bins.len()).map(|_| Vec::new()).collect();
    for out in outs.iter_mut() {
        let rows = &mut out.as_mut()[skip..];
        for (band, chunk) in bands.iter_mut().zip(rows.chunks_mut(band_bytes)) {
            band.push(chunk);
        }
    }
    let lut = srgb_to_linear_table();
    bands
        .into_par_iter()
        .zip(bins.par_iter())
        .enumerate()
        .for_each(|(bi, (mut targets, bin))| {
            let band_y0 = r.y0 as usize + bi * BAND;
            let rows = BAND.min(r.y1 as usize - band_y0);
            let mut layer = vec![[1.0f32; 3]; rows * w];
            let mut scratch = Vec::new();
            let mut next = 0;
            for (k, target) in targets.iter_mut().enumerate() {
                let session = k as u8 + 1;
                while next < bin.len() && dots[bin[next] as usize].session <= session {
                    let i = bin[next] as usize;
                    draw_dot(
                        &dots[i],
                        blur,
                        absorb[i],
                        &mut layer,
                        w,
                        r.x0 as usize,
                        band_y0,
                        rows,
                        &mut scratch,
                    );
                    next += 1;
                }
                for ly in 0..rows {
                    let y = band_y0 + ly;
                    let lrow = &layer[ly * w..][..w];
                    let wrow = region.row_within_bounds(y as u32, r.x0, r.x1);
                    let prow = &mut target[ly * pw * 3..][..pw * 3];
                    for (lx, (t, &wgt)) in lrow.iter().zip(wrow).enumerate() {
                        if *t == [1.0; 3] || wgt <= 0.0 {
                            continue;
                        }
                        let x = r.x0 as usize + lx;
                        let px = &mut prow[x * 3..x * 3 + 3];
                        for c in 0..3 {
                            px[c] = linear_to_srgb(lut[px[c] as usize] * t[c]);
                        }
                    }
                }
            }
        });
    outs
}

/// Blur σ (px) below which a small dot is still drawn as an exact square.
const SHARP_BLUR: f32 = 0.3;
/// Width of a smoothstep edge that matches a Gaussian edge of σ = 1 (their
/// 10-90 % rise widths agree: 2.56 σ = 0.61 W).
const EDGE_PER_SIGMA: f32 = 4.2;

/// Whether a dot is drawn as an area-exact square.
#[inline]
fn is_square(d: &Dot, blur: f32) -> bool {
    d.diameter < SMALL_DOT_PX && blur < SHARP_BLUR
}

/// Soft edge width of a round dot seen through `blur`, px.
#[inline]
fn edge_width(d: &Dot, blur: f32) -> f32 {
    let own = (EDGE_SOFTNESS * 0.5 * d.diameter).max(1.0);
    let optical = EDGE_PER_SIGMA * blur;
    (own * own + optical * optical).sqrt()
}

/// Half-extent of a dot's footprint, px.
#[inline]
fn extent(d: &Dot, blur: f32) -> f32 {
    if is_square(d, blur) {
        d.diameter * 0.5 + 0.5
    } else {
        let a = 0.5 * d.diameter * d.elongation.sqrt();
        a + edge_width(d, blur) * 0.5 + 1.0
    }
}

/// Length of the overlap of [a, b) with [p, p + 1).
#[inline]
fn overlap(a: f32, b: f32, p: f32) -> f32 {
    (b.min(p + 1.0) - a.max(p)).max(0.0)
}

#[allow(clippy::too_many_arguments)]
fn draw_dot(
    d: &Dot,
    blur: f32,
    absorb: [f32; 3],
    band: &mut [[f32; 3]],
    w: usize,
    x_off: usize,
    band_y0: usize,
    rows: usize,
    scratch: &mut Vec<(usize, usize, f32)>,
) {
    let ext = extent(d, blur);
    let gx0 = (d.x - ext).floor().max(x_off as f32) as usize;
    let gx1 = ((d.x + ext).ceil() as usize).min(x_off + w);
    let gy0 = (d.y - ext).floor().max(0.0) as usize;
    let gy1 = (d.y + ext).ceil().max(0.0) as usize;
    if gx0 >= gx1 {
        return;
    }
    // The dot's full footprint, also rows outside this band, so that the
    // mass normalisation is the same in every band the dot touches.
    scratch.clear();
    let area = std::f32::consts::FRAC_PI_4 * d.diameter * d.diameter;
    if is_square(d, blur) {
        let s = area.sqrt() * 0.5;
        let (ax, bx, ay, by) = (d.x - s, d.x + s, d.y - s, d.y + s);
        for gy in gy0..gy1 {
            let oy = overlap(ay, by, gy as f32);
            if oy <= 0.0 {
                continue;
            }
            for gx in gx0..gx1 {
                let c = oy * overlap(ax, bx, gx as f32);
                if c > 0.0 {
                    scratch.push((gx, gy, c));
                }
            }
        }
    } else {
        let rbar = 0.5 * d.diameter;
        let e = d.elongation.sqrt();
        let (s, c) = d.angle.sin_cos();
        // Map to a unit circle scaled by rbar: u along the long axis.
        let (ux, uy) = (c / e, s / e);
        let (vx, vy) = (-s * e, c * e);
        let soft = edge_width(d, blur);
        let inner = rbar - 0.5 * soft;
        let mut total = 0.0f32;
        let cov = |gx: usize, gy: usize| -> f32 {
            let dx = gx as f32 + 0.5 - d.x;
            let dy = gy as f32 + 0.5 - d.y;
            let u = dx * ux + dy * uy;
            let v = dx * vx + dy * vy;
            let rho = (u * u + v * v).sqrt();
            let t = ((rho - inner) / soft).clamp(0.0, 1.0);
            1.0 - t * t * (3.0 - 2.0 * t)
        };
        for gy in gy0..gy1 {
            for gx in gx0..gx1 {
                let cv = cov(gx, gy);
                if cv > 0.0 {
                    total += cv;
                    scratch.push((gx, gy, cv));
                }
            }
        }
        if total <= 0.0 {
            return;
        }
        // Scale to the ellipse's area; what saturated pixels cannot take is
        // given to the others, so the mass stays exact for small dots too.
        let mut k = area / total;
        for _ in 0..4 {
            let (mut full, mut rest) = (0.0f32, 0.0f32);
            for e in scratch.iter() {
                if e.2 * k >= 1.0 {
                    full += 1.0;
                } else {
                    rest += e.2;
                }
            }
            if full == 0.0 || rest <= 0.0 {
                break;
            }
            k = (area - full) / rest;
        }
        for e in scratch.iter_mut() {
            e.2 = (e.2 * k).min(1.0);
        }
    }
    for &(gx, gy, cv) in scratch.iter() {
        if gy < band_y0 || gy >= band_y0 + rows {
            continue;
        }
        let px = &mut band[(gy - band_y0) * w + gx - x_off];
        px[0] *= 1.0 - cv * absorb[0];
        px[1] *= 1.0 - cv * absorb[1];
        px[2] *= 1.0 - cv * absorb[2];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(x: f32, y: f32, diameter: f32) -> Dot {
        Dot {
            x,
            y,
            session: 1,
            diameter,
            elongation: 1.0,
            angle: 0.0,
            strength: 1.0,
            weight: 1.0,
            spacing: 1.0,
        }
    }

    fn absorbed(layer: &PigmentLayer) -> f32 {
        layer.data.iter().map(|t| 1.0 - t[0]).sum()
    }

    #[test]
    fn coverage_mass_equals_area_at_every_size() {
        let shade = Shade::parse("#000000", 1.0, "t").unwrap();
        let rect = Rect {
            x0: 0,
            y0: 0,
            x1: 100,
            y1: 100,
        };
        for diameter in [0.3f32, 0.8, 1.5, 2.5, 6.0, 15.0] {
            for (x, y) in [(50.0, 50.0), (50.37, 49.81), (31.5, 63.5)] {
                let mut l = PigmentLayer::new(rect);
                l.draw(&[dot(x, y, diameter)], &shade, 0.0);
                let area = std::f32::consts::FRAC_PI_4 * diameter * diameter;
                let got = absorbed(&l);
                assert!(
                    (got - area).abs() < area * 0.01 + 1e-4,
                    "d={diameter} at {x},{y}: {got} vs {area}"
                );
            }
        }
    }

    #[test]
    fn blur_widens_a_dot_but_keeps_its_mass() {
        let shade = Shade::parse("#000000", 1.0, "t").unwrap();
        let rect = Rect {
            x0: 0,
            y0: 0,
            x1: 60,
            y1: 60,
        };
        for diameter in [0.5f32, 1.5, 4.0, 10.0] {
            let mut sharp = PigmentLayer::new(rect);
            sharp.draw(&[dot(30.2, 29.7, diameter)], &shade, 0.0);
            let mut soft = PigmentLayer::new(rect);
            soft.draw(&[dot(30.2, 29.7, diameter)], &shade, 1.5);
            let area = std::f32::consts::FRAC_PI_4 * diameter * diameter;
            assert!((absorbed(&soft) - area).abs() < area * 0.01 + 1e-4);
            let touched = |l: &PigmentLayer| l.data.iter().filter(|t| t[0] < 1.0).count();
            assert!(touched(&soft) > touched(&sharp), "d={diameter}");
            let peak = |l: &PigmentLayer| l.data.iter().map(|t| 1.0 - t[0]).fold(0.0, f32::max);
            assert!(peak(&soft) < peak(&sharp), "d={diameter}");
        }
    }

    #[test]
    fn subpixel_dot_stays_in_its_pixel() {
        let shade = Shade::parse("#000000", 1.0, "t").unwrap();
        let mut l = PigmentLayer::new(Rect {
            x0: 0,
            y0: 0,
            x1: 10,
            y1: 10,
        });
        l.draw(&[dot(4.5, 4.5, 0.5)], &shade, 0.0);
        let area = std::f32::consts::FRAC_PI_4 * 0.25;
        assert!((1.0 - l.at(4, 4)[0] - area).abs() < 1e-6);
        assert_eq!(l.at(3, 4), [1.0; 3]);
    }

    #[test]
    fn band_split_dots_are_whole() {
        let shade = Shade::parse("#000000", 1.0, "t").unwrap();
        let mut l = PigmentLayer::new(Rect {
            x0: 0,
            y0: 0,
            x1: 40,
            y1: 100,
        });
        // Straddles the band border at row 32.
        l.draw(&[dot(20.0, 32.0, 9.0)], &shade, 0.0);
        let area = std::f32::consts::FRAC_PI_4 * 81.0;
        assert!((absorbed(&l) - area).abs() < area * 0.01);
    }
}
