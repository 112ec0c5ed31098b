//! The brow line: where a front view's forehead ends.
//!
//! Eyebrows are the first dark horizontal band below the forehead. Over two
//! windows left and right of the midline (where the brows are, 12-45 % of
//! the head's half-width out), the rows' mean linear luminance is profiled
//! from a little above the middle of the head down; the brow row is the
//! bottom of the first clear dip, at least [`BROW_DIP`] darker than the
//! brightest row of the forehead above it (the eyes' dip comes below it).
//! Presets measure the hairline from it when no glabella is given.

use image::RgbImage;

use crate::hair::luminance;
use crate::shape::HeadShape;

/// How much darker than the forehead above it the brow band must be.
pub const BROW_DIP: f32 = 0.12;

/// The brow midpoint of the head `shape` in `photo`, px; `None` when no
/// clear brow band is found.
pub fn find_brow(photo: &RgbImage, shape: &HeadShape) -> Option<[f32; 2]> {
    let (w, h) = photo.dimensions();
    let [cx, cy] = shape.centre;
    let [a, b, _] = shape.semi_axes;
    let y0 = (cy - 0.45 * b).max(0.0) as u32;
    let y1 = ((cy + 0.35 * b) as u32).min(h);
    let xs: Vec<u32> = [(-0.45f32, -0.12f32), (0.12, 0.45)]
        .iter()
        .flat_map(|&(l, r)| {
            let (l, r) = ((cx + l * a).max(0.0) as u32, ((cx + r * a) as u32).min(w));
            (l..r).step_by(2)
        })
        .collect();
    if xs.is_empty() || y1 <= y0 + 20 {
        return None;
    }
    let raw: Vec<f32> = (y0..y1)
        .map(|y| {
            xs.iter()
                .map(|&x| luminance(photo.get_pixel(x, y)))
                .sum::<f32>()
                / xs.len() as f32
        })
        .collect();
    let k = ((0.012 * b) as usize).max(1);
    let prof: Vec<f32> = (0..raw.len())
        .map(|i| {
            let (l, r) = (i.saturating_sub(k), (i + k + 1).min(raw.len()));
            raw[l..r].iter().sum::<f32>() / (r - l) as f32
        })
        .collect();
    // The first clear dip below the forehead: darker than the brightest
    // row above it (within a fifth of the head's height) by BROW_DIP, and
    // a local minimum.
    let reach = (0.2 * b) as usize;
    let mut best: Option<usize> = None;
    for i in reach..prof.len().saturating_sub(k + 1) {
        let above = prof[i - reach..i].iter().copied().fold(0.0f32, f32::max);
        if prof[i] < (1.0 - BROW_DIP) * above {
            // The dip's bottom: the darkest row within the brows' own
            // height below where it began.
            let end = (i + (0.1 * b) as usize).min(prof.len());
            let j = (i..end)
                .min_by(|&p, &q| prof[p].total_cmp(&prof[q]))
                .unwrap_or(i);
            best = Some(j);
            break;
        }
    }
    best.map(|i| [cx, (y0 + i as u32) as f32 + 0.5])
}
