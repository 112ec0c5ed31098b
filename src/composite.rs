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
        let skin = SkinLight::measure(out, region);
        let r = self.rect;
        let lw = r.width() as usize;
        let pw = out.width() as usize;
        let b = region.bounds();
        let (x0, x1) = (r.x0.max(b.x0), r.x1.min(b.x1));
        if x0 >= x1 {
            return;
        }
        out.as_mut()
            .par_chunks_mut(pw * 3)
            .enumerate()
            .skip(r.y0.max(b.y0) as usize)
            .take((r.y1.min(b.y1) as usize).saturating_sub(r.y0.max(b.y0) as usize))
            .for_each(|(y, row)| {
                let lrow = &self.data[(y - r.y0 as usize) * lw..][..lw];
                let lrow = &lrow[(x0 - r.x0) as usize..(x1 - r.x0) as usize];
                let wrow = region.row_within_bounds(y as u32, x0, x1);
                composite_row(lrow, wrow, &mut row[x0 as usize * 3..], lut, &skin);
            });
    }
}

/// Multiplies a row of transmittance `lrow` into the pixels of `prow` (which
/// start at the same column) in linear light, under the skin's gloss;
/// pixels no dot touched or of weight zero keep their bytes.
#[inline]
fn composite_row(lrow: &[[f32; 3]], wrow: &[f32], prow: &mut [u8], lut: &[f32], skin: &SkinLight) {
    for ((t, &wgt), px) in lrow.iter().zip(wrow).zip(prow.chunks_exact_mut(3)) {
        if *t == [1.0; 3] || wgt <= 0.0 {
            continue;
        }
        let lin = [
            lut[px[0] as usize],
            lut[px[1] as usize],
            lut[px[2] as usize],
        ];
        // Pigment lies under the skin's surface: it darkens the light that
        // went into the skin, not the gloss.
        let gloss = skin.specular(lin);
        for c in 0..3 {
            px[c] = linear_to_srgb((lin[c] - gloss) * t[c] + gloss);
        }
    }
}

/// The skin's own colour under the region, for telling the light that
/// entered the skin (tinted by it, and darkened by pigment beneath) from the
/// gloss reflected by its surface (the colour of the light, untouched by
/// pigment): the dichromatic reflection model. A pixel `p` (linear RGB) is
/// `d·(1, ρg, ρb) + s·(1, 1, 1)`; with the skin's ratios `ρ` known, the
/// gloss `s` follows from each of the green and blue channels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SkinLight {
    /// Green/red and blue/red ratios of the skin's diffuse colour.
    rho: [f32; 2],
}

/// Gloss below this (linear) is taken for noise and ignored.
const GLOSS_NOISE: f32 = 0.05;
/// Skins this close to grey (ratios above) give no usable split.
const GREY_SKIN: f32 = 0.92;

impl SkinLight {
    /// The median diffuse ratios over the region's pixels of weight ≥ 0.5,
    /// from the darker half of them (so highlights do not bias the skin's
    /// colour toward white).
    pub fn measure(photo: &RgbImage, region: &Region) -> SkinLight {
        let lut = srgb_to_linear_table();
        let b = region.bounds();
        let step = ((b.width() as u64 * b.height() as u64 / 200_000) as f64)
            .sqrt()
            .max(1.0) as u32;
        let mut px: Vec<[f32; 3]> = Vec::new();
        for y in (b.y0..b.y1).step_by(step as usize) {
            for x in (b.x0..b.x1).step_by(step as usize) {
                if region.weight_at(x as f32 + 0.5, y as f32 + 0.5) >= 0.5 {
                    let p = photo.get_pixel(x, y).0;
                    let l = [lut[p[0] as usize], lut[p[1] as usize], lut[p[2] as usize]];
                    if l[0] > 0.01 {
                        px.push(l);
                    }
                }
            }
        }
        if px.len() < 16 {
            return SkinLight { rho: [1.0, 1.0] };
        }
        let mid = px.len() / 2;
        px.select_nth_unstable_by(mid, |a, b| {
            (a[0] + a[1] + a[2]).total_cmp(&(b[0] + b[1] + b[2]))
        });
        let dark = &mut px[..mid.max(8)];
        let ratio = |c: usize| {
            let mut r: Vec<f32> = dark.iter().map(|p| p[c] / p[0]).collect();
            let m = r.len() / 2;
            *r.select_nth_unstable_by(m, f32::total_cmp).1
        };
        SkinLight {
            rho: [ratio(1), ratio(2)],
        }
    }

    /// The gloss (specular) part of a linear pixel, 0 for a grey skin.
    #[inline]
    pub fn specular(&self, p: [f32; 3]) -> f32 {
        let [rg, rb] = self.rho;
        if rg > GREY_SKIN || rb > GREY_SKIN {
            return 0.0;
        }
        // From each channel against red; the smaller is the safer estimate.
        let sg = (p[1] - rg * p[0]) / (1.0 - rg);
        let sb = (p[2] - rb * p[0]) / (1.0 - rb);
        (sg.min(sb) - GLOSS_NOISE).clamp(0.0, p[0].min(p[1]).min(p[2]))
    }
}

/// Dot indices per band of [`BAND`] rows of `r`, for every band a dot's
/// footprint touches, ordered by session, then column.
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
    // Left to right within each session, so a band's pixels are visited in
    // memory order (products commute, so only rounding depends on this
    // order, and it is fixed).
    bins.par_iter_mut().for_each(|bin| {
        bin.sort_unstable_by_key(|&i| {
            let d = &dots[i as usize];
            (d.session, d.x.max(0.0) as u32, i)
        })
    });
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
    let skin = SkinLight::measure(photo, region);
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
                    let prow = &mut target[(ly * pw + r.x0 as usize) * 3..][..w * 3];
                    composite_row(lrow, wrow, prow, lut, &skin);
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
    d.diameter < SMALL_DOT_PX && blur < SHARP_BLUR && d.halo_mass <= 0.0
}

/// Radius of a dot's halo seen through `blur`, px (0 without a halo).
#[inline]
fn halo_reach(d: &Dot, blur: f32) -> f32 {
    if d.halo_mass > 0.0 {
        d.halo_radius.max(0.5 * d.diameter) + 2.0 * blur
    } else {
        0.0
    }
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
        // Coverage is zero beyond rbar + soft/2 in the ellipse's metric,
        // whose long axis stretches by √elongation; +0.5 reaches every
        // pixel centre inside.
        let e = d.elongation.sqrt();
        (e * (0.5 * d.diameter + 0.5 * edge_width(d, blur))).max(halo_reach(d, blur)) + 0.5
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
    cov: &mut Vec<f32>,
) {
    let ext = extent(d, blur);
    let gx0 = (d.x - ext).floor().max(x_off as f32) as usize;
    let gx1 = ((d.x + ext).ceil() as usize).min(x_off + w);
    let gy0 = (d.y - ext).floor().max(0.0) as usize;
    let gy1 = (d.y + ext).ceil().max(0.0) as usize;
    // Rows of the footprint inside this band.
    let ry0 = gy0.max(band_y0);
    let ry1 = gy1.min(band_y0 + rows);
    if gx0 >= gx1 || ry0 >= ry1 {
        return;
    }
    let fw = gx1 - gx0;
    let area = std::f32::consts::FRAC_PI_4 * d.diameter * d.diameter;
    let mut k = 1.0f32;
    if is_square(d, blur) {
        // Exact overlaps; only this band's rows are needed.
        let s = area.sqrt() * 0.5;
        let (ax, bx, ay, by) = (d.x - s, d.x + s, d.y - s, d.y + s);
        cov.clear();
        cov.resize((ry1 - ry0) * fw, 0.0);
        for gy in ry0..ry1 {
            let oy = overlap(ay, by, gy as f32);
            if oy <= 0.0 {
                continue;
            }
            let row = &mut cov[(gy - ry0) * fw..][..fw];
            for (i, c) in row.iter_mut().enumerate() {
                *c = oy * overlap(ax, bx, (gx0 + i) as f32);
            }
        }
        composite_rows(cov, 1.0, absorb, band, w, x_off, band_y0, gx0, fw, ry0, ry1);
        return;
    }
    // The dot's full footprint, also rows outside this band, so that the
    // mass normalisation is the same in every band the dot touches.
    let rbar = 0.5 * d.diameter;
    let e = d.elongation.sqrt();
    let (s, c) = d.angle.sin_cos();
    // Map to a unit circle scaled by rbar: u along the long axis.
    let (ux, uy) = (c / e, s / e);
    let (vx, vy) = (-s * e, c * e);
    let soft = edge_width(d, blur);
    let inv_soft = 1.0 / soft;
    let inner = rbar - 0.5 * soft;
    let fh = gy1 - gy0;
    cov.clear();
    cov.resize(fh * fw, 0.0);
    let (mut total, mut peak) = (0.0f32, 0.0f32);
    for gy in gy0..gy1 {
        let dy = gy as f32 + 0.5 - d.y;
        let row = &mut cov[(gy - gy0) * fw..][..fw];
        for (i, out) in row.iter_mut().enumerate() {
            let dx = (gx0 + i) as f32 + 0.5 - d.x;
            let u = dx * ux + dy * uy;
            let v = dx * vx + dy * vy;
            let rho = (u * u + v * v).sqrt();
            let t = ((rho - inner) * inv_soft).clamp(0.0, 1.0);
            let cv = 1.0 - t * t * (3.0 - 2.0 * t);
            *out = cv;
            total += cv;
            peak = peak.max(cv);
        }
    }
    if total <= 0.0 {
        return;
    }
    // The scatter halo: a smooth round bump holding `halo_mass` times the
    // dot's pigment, added to the core's coverage once both are scaled.
    let reach = halo_reach(d, blur);
    let halo = if reach > 0.0 {
        let inv2 = 1.0 / (reach * reach);
        let bump = move |gx: usize, gy: usize| {
            let dx = gx as f32 + 0.5 - d.x;
            let dy = gy as f32 + 0.5 - d.y;
            let q = 1.0 - (dx * dx + dy * dy) * inv2;
            if q > 0.0 {
                q * q
            } else {
                0.0
            }
        };
        let mut sum = 0.0f32;
        for gy in gy0..gy1 {
            for gx in gx0..gx1 {
                sum += bump(gx, gy);
            }
        }
        (sum > 0.0).then(|| (d.halo_mass * area / sum, bump))
    } else {
        None
    };
    // Scale to the ellipse's area; what saturated pixels cannot take is
    // given to the others, so the mass stays exact for small dots too.
    k = k * area / total;
    if peak * k > 1.0 {
        for _ in 0..4 {
            let (mut full, mut rest) = (0.0f32, 0.0f32);
            for &cv in cov.iter() {
                if cv * k >= 1.0 {
                    full += 1.0;
                } else {
                    rest += cv;
                }
            }
            if full == 0.0 || rest <= 0.0 {
                break;
            }
            k = (area - full) / rest;
        }
    }
    let band_rows = &mut cov[(ry0 - gy0) * fw..(ry1 - gy0) * fw];
    if let Some((kh, bump)) = halo {
        // Fold the halo in: coverage = k·core + kh·bump (so k becomes 1).
        for gy in ry0..ry1 {
            let row = &mut band_rows[(gy - ry0) * fw..][..fw];
            for (i, c) in row.iter_mut().enumerate() {
                *c = (*c * k).min(1.0) + kh * bump(gx0 + i, gy);
            }
        }
        k = 1.0;
    }
    composite_rows(
        band_rows, k, absorb, band, w, x_off, band_y0, gx0, fw, ry0, ry1,
    );
}

/// Multiplies coverage `cov` (rows `ry0..ry1`, columns from `gx0`, `fw`
/// wide), scaled by `k` and capped at 1, into the band as absorption.
#[allow(clippy::too_many_arguments)]
#[inline]
fn composite_rows(
    cov: &[f32],
    k: f32,
    absorb: [f32; 3],
    band: &mut [[f32; 3]],
    w: usize,
    x_off: usize,
    band_y0: usize,
    gx0: usize,
    fw: usize,
    ry0: usize,
    ry1: usize,
) {
    for gy in ry0..ry1 {
        let src = &cov[(gy - ry0) * fw..][..fw];
        let dst = &mut band[(gy - band_y0) * w + gx0 - x_off..][..fw];
        for (px, &c) in dst.iter_mut().zip(src) {
            let cv = (c * k).min(1.0);
            if cv > 0.0 {
                px[0] *= 1.0 - cv * absorb[0];
                px[1] *= 1.0 - cv * absorb[1];
                px[2] *= 1.0 - cv * absorb[2];
            }
        }
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
            halo_radius: 0.0,
            halo_mass: 0.0,
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
