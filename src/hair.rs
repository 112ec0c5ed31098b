//! Hair that stays: finding the client's own hair strands in the photo.
//!
//! On a thinning scalp the treated region still holds hair. Pigment goes
//! *between* the hairs and the hair itself is left as it is, so strands are
//! found and taken out of the region before dots are placed: no dot is
//! centred on a strand and no strand pixel changes.
//!
//! A pixel is taken for hair when it is dark against the skin (below
//! [`HAIR_DARKER`] of the skin's median luminance under the region) *and*
//! against its own 9 × 9 neighbourhood (below [`HAIR_LOCAL`] of its mean):
//! the second test tells thin strands from the broad shading of a curved
//! head, which is dark against the skin too but not against itself.

use image::RgbImage;
use rayon::prelude::*;

use crate::error::Result;
use crate::photo::srgb_to_linear_table;
use crate::region::{Rect, Region};

/// A hair pixel is darker than this share of the skin's median luminance…
pub const HAIR_DARKER: f32 = 0.6;
/// … and than this share of the mean of its 9 × 9 neighbourhood.
pub const HAIR_LOCAL: f32 = 0.8;
/// Half-width of the neighbourhood, px.
const LOCAL: i64 = 4;

/// Linear luminance of an sRGB pixel.
#[inline]
pub(crate) fn luminance(p: &image::Rgb<u8>) -> f32 {
    let lut = srgb_to_linear_table();
    0.2126 * lut[p.0[0] as usize] + 0.7152 * lut[p.0[1] as usize] + 0.0722 * lut[p.0[2] as usize]
}

/// The skin under the region: its pixels of weight ≥ 0.5, sampled on a
/// grid of at most about 40,000 points.
pub(crate) fn skin_pixels<'a>(
    photo: &'a RgbImage,
    region: &'a Region,
) -> impl Iterator<Item = image::Rgb<u8>> + 'a {
    let b = region.bounds();
    let step = ((b.width() as f64 * b.height() as f64 / 40_000.0)
        .sqrt()
        .max(1.0)) as usize;
    (b.y0..b.y1).step_by(step).flat_map(move |y| {
        (b.x0..b.x1)
            .step_by(step)
            .filter(move |&x| region.weight_at(x as f32 + 0.5, y as f32 + 0.5) >= 0.5)
            .map(move |x| *photo.get_pixel(x, y))
    })
}

/// Median linear luminance of the skin under the region (its pixels of
/// weight at least 0.5, sampled on a grid of about 40,000 points).
pub fn skin_luminance(photo: &RgbImage, region: &Region) -> f32 {
    let mut v: Vec<f32> = skin_pixels(photo, region).map(|p| luminance(&p)).collect();
    if v.is_empty() {
        return 0.0;
    }
    let m = v.len() / 2;
    *v.select_nth_unstable_by(m, f32::total_cmp).1
}

/// Which pixels of `rect` (row-major) are hair, judged against a skin of
/// luminance `skin`.
pub fn hair_pixels(photo: &RgbImage, rect: Rect, skin: f32) -> Vec<bool> {
    let (w, h) = (photo.width() as i64, photo.height() as i64);
    // Luminance over the rect grown by the neighbourhood.
    let gx0 = (rect.x0 as i64 - LOCAL).max(0);
    let gy0 = (rect.y0 as i64 - LOCAL).max(0);
    let gx1 = (rect.x1 as i64 + LOCAL + 1).min(w);
    let gy1 = (rect.y1 as i64 + LOCAL + 1).min(h);
    let gw = (gx1 - gx0) as usize;
    let gh = (gy1 - gy0) as usize;
    let lum: Vec<f32> = (0..gw * gh)
        .into_par_iter()
        .map(|i| {
            let (x, y) = (gx0 + (i % gw) as i64, gy0 + (i / gw) as i64);
            luminance(photo.get_pixel(x as u32, y as u32))
        })
        .collect();
    let rw = rect.width() as usize;
    let dark = HAIR_DARKER * skin;
    (0..rw * rect.height() as usize)
        .into_par_iter()
        .map(|i| {
            let x = rect.x0 as i64 + (i % rw) as i64 - gx0;
            let y = rect.y0 as i64 + (i / rw) as i64 - gy0;
            let l = lum[y as usize * gw + x as usize];
            // Most pixels are skin and fail here, so the neighbourhood is
            // summed only for the few dark ones.
            if l >= dark {
                return false;
            }
            let (x0, y0) = ((x - LOCAL).max(0) as usize, (y - LOCAL).max(0) as usize);
            let (x1, y1) = (
                (x + LOCAL + 1).min(gw as i64) as usize,
                (y + LOCAL + 1).min(gh as i64) as usize,
            );
            let s: f32 = (y0..y1)
                .map(|yy| lum[yy * gw + x0..yy * gw + x1].iter().sum::<f32>())
                .sum();
            let mean = s / ((x1 - x0) * (y1 - y0)) as f32;
            l < HAIR_LOCAL * mean
        })
        .collect()
}

/// The region without the hair strands inside it, and how many pixels of
/// hair were taken out. A region with no hair comes back as it is.
pub fn keep_hair(photo: &RgbImage, region: &Region) -> Result<(Region, usize)> {
    let hair = hair_pixels(photo, region.bounds(), skin_luminance(photo, region));
    let (kept, _, n) = crate::head::take_out(region.clone(), None, Some(&hair))?;
    Ok((kept, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strands_are_found_and_shading_is_not() {
        // Skin shaded from left to right, with dark vertical strands in the
        // middle third.
        let photo = RgbImage::from_fn(90, 60, |x, y| {
            let shade = 220 - x as u8;
            if (30..60).contains(&x) && x % 6 == 0 && y > 5 && y < 55 {
                image::Rgb([40, 35, 30])
            } else {
                image::Rgb([shade, shade - 30, shade - 50])
            }
        });
        let rect = Rect {
            x0: 0,
            y0: 0,
            x1: 90,
            y1: 60,
        };
        let skin = luminance(&image::Rgb([190, 160, 140]));
        let hair = hair_pixels(&photo, rect, skin);
        for y in 10..50 {
            for x in 0..90 {
                let strand = (30..60).contains(&x) && x % 6 == 0;
                assert_eq!(hair[y * 90 + x], strand, "({x}, {y})");
            }
        }
    }
}
