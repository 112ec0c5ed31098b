//! Where to pigment: a weight per pixel in [0, 1].
//!
//! A region comes from a mask image (white = treat, grey = partial weight)
//! or a polygon in photo pixel coordinates. Its edge is feathered inward over
//! a width in mm with a smoothstep of the Euclidean distance to the nearest
//! untreated pixel, so the dot density tapers off instead of stopping at a
//! line; the frame's own border is not an edge. Pixels of weight zero are
//! never touched by the compositor.

use std::path::Path;

use image::GrayImage;
use rayon::prelude::*;

use crate::error::{Error, Result};

/// An axis-aligned pixel rectangle, `x0..x1` × `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left column (inclusive).
    pub x0: u32,
    /// Top row (inclusive).
    pub y0: u32,
    /// Right column (exclusive).
    pub x1: u32,
    /// Bottom row (exclusive).
    pub y1: u32,
}

impl Rect {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.x1 - self.x0
    }
    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.y1 - self.y0
    }
}

/// A non-empty treatment region: one weight per photo pixel.
#[derive(Debug, Clone)]
pub struct Region {
    width: u32,
    height: u32,
    weights: Vec<f32>,
    bounds: Rect,
    total_weight: f64,
}

impl Region {
    /// A region from per-pixel weights in [0, 1] (row-major), feathered
    /// inward over `feather_px` pixels. `what` names the source in errors.
    pub fn from_weights(
        width: u32,
        height: u32,
        mut weights: Vec<f32>,
        feather_px: f32,
        what: &str,
    ) -> Result<Self> {
        assert_eq!(weights.len(), width as usize * height as usize);
        for w in weights.iter_mut() {
            *w = if w.is_finite() {
                w.clamp(0.0, 1.0)
            } else {
                0.0
            };
        }
        let bounds = nonzero_bounds(width, height, &weights).ok_or_else(|| Error::EmptyRegion {
            what: what.to_string(),
        })?;
        if feather_px > 0.0 {
            feather(width, height, &mut weights, bounds, feather_px);
        }
        let bounds = nonzero_bounds(width, height, &weights).ok_or_else(|| Error::EmptyRegion {
            what: what.to_string(),
        })?;
        let total_weight = weights
            .par_chunks(width as usize)
            .map(|r| r.iter().map(|&w| w as f64).sum::<f64>())
            .sum();
        Ok(Region {
            width,
            height,
            weights,
            bounds,
            total_weight,
        })
    }

    /// A region from a greyscale mask of the photo's size: 255 = full
    /// weight, 0 = untouched, grey = partial weight.
    pub fn from_mask(
        mask: &GrayImage,
        photo_size: (u32, u32),
        feather_px: f32,
        path: &Path,
    ) -> Result<Self> {
        if mask.dimensions() != photo_size {
            return Err(Error::MaskSize {
                path: path.to_path_buf(),
                mask_width: mask.width(),
                mask_height: mask.height(),
                photo_width: photo_size.0,
                photo_height: photo_size.1,
            });
        }
        let weights = mask.as_raw().iter().map(|&v| v as f32 / 255.0).collect();
        Self::from_weights(
            mask.width(),
            mask.height(),
            weights,
            feather_px,
            &path.display().to_string(),
        )
    }

    /// Loads a mask image file; see [`Region::from_mask`].
    pub fn load_mask(path: &Path, photo_size: (u32, u32), feather_px: f32) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let mask = crate::photo::decode_dynamic(&bytes, path)?.into_luma8();
        Self::from_mask(&mask, photo_size, feather_px, path)
    }

    /// A region inside a polygon given in photo pixel coordinates (pixel
    /// centres inside the polygon, even-odd rule, get weight 1).
    pub fn from_polygon(points: &[[f32; 2]], size: (u32, u32), feather_px: f32) -> Result<Self> {
        if points.len() < 3 || points.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::field(
                "polygon",
                "polygon",
                format!("{} points", points.len()),
                "must have at least 3 points \"x,y\" with finite pixel coordinates",
            ));
        }
        let (w, h) = size;
        let mut weights = vec![0.0f32; w as usize * h as usize];
        weights
            .par_chunks_mut(w as usize)
            .enumerate()
            .for_each(|(y, row)| {
                let cy = y as f32 + 0.5;
                let mut xs: Vec<f32> = Vec::new();
                for i in 0..points.len() {
                    let [ax, ay] = points[i];
                    let [bx, by] = points[(i + 1) % points.len()];
                    if (ay <= cy) != (by <= cy) {
                        xs.push(ax + (cy - ay) / (by - ay) * (bx - ax));
                    }
                }
                xs.sort_by(f32::total_cmp);
                for pair in xs.chunks_exact(2) {
                    let a = (pair[0] - 0.5).ceil().max(0.0) as usize;
                    let b = ((pair[1] - 0.5).ceil().max(0.0) as usize).min(w as usize);
                    if a < b {
                        row[a..b].fill(1.0);
                    }
                }
            });
        Self::from_weights(w, h, weights, feather_px, "polygon")
    }

    /// Parses a polygon written as `"x,y x,y x,y ..."`.
    pub fn parse_polygon(text: &str) -> Result<Vec<[f32; 2]>> {
        text.split_whitespace()
            .map(|pair| {
                let mut it = pair.split(',').map(|v| v.trim().parse::<f32>());
                match (it.next(), it.next(), it.next()) {
                    (Some(Ok(x)), Some(Ok(y)), None) => Ok([x, y]),
                    _ => Err(Error::field(
                        "command line",
                        "polygon",
                        format!("{pair:?}"),
                        "points must be written \"x,y x,y x,y\" in photo pixels",
                    )),
                }
            })
            .collect()
    }

    /// Width of the photo the region belongs to.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Height of the photo the region belongs to.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// The smallest rectangle holding every pixel of weight above zero.
    pub fn bounds(&self) -> Rect {
        self.bounds
    }
    /// Sum of all weights, in pixels.
    pub fn total_weight(&self) -> f64 {
        self.total_weight
    }
    /// All weights, row-major.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }
    /// Weight of the pixel holding the point (x, y); 0 outside the photo.
    #[inline]
    pub fn weight_at(&self, x: f32, y: f32) -> f32 {
        if x < 0.0 || y < 0.0 {
            return 0.0;
        }
        let (xi, yi) = (x as u32, y as u32);
        if xi >= self.width || yi >= self.height {
            return 0.0;
        }
        self.weights[yi as usize * self.width as usize + xi as usize]
    }
}

fn nonzero_bounds(width: u32, height: u32, weights: &[f32]) -> Option<Rect> {
    let rows: Vec<Option<(u32, u32)>> = weights
        .par_chunks(width as usize)
        .map(|row| {
            let first = row.iter().position(|&w| w > 0.0)?;
            let last = row.iter().rposition(|&w| w > 0.0)?;
            Some((first as u32, last as u32 + 1))
        })
        .collect();
    let y0 = rows.iter().position(Option::is_some)? as u32;
    let y1 = rows.iter().rposition(Option::is_some)? as u32 + 1;
    let (x0, x1) = rows
        .iter()
        .flatten()
        .fold((u32::MAX, 0), |(a, b), &(f, l)| (a.min(f), b.max(l)));
    debug_assert!(y1 <= height);
    Some(Rect { x0, y0, x1, y1 })
}

/// Multiplies each weight by smoothstep(distance to the nearest zero-weight
/// pixel / feather). Works on the region's bounds plus a one-pixel ring:
/// any zero pixel further out is further away than the ring.
fn feather(width: u32, height: u32, weights: &mut [f32], b: Rect, feather_px: f32) {
    let x0 = b.x0.saturating_sub(1);
    let y0 = b.y0.saturating_sub(1);
    let x1 = (b.x1 + 1).min(width);
    let y1 = (b.y1 + 1).min(height);
    let (cw, ch) = (x1 - x0, y1 - y0);
    let mut zeros = GrayImage::new(cw, ch);
    let mut any_zero = false;
    for y in 0..ch {
        for x in 0..cw {
            if weights[(y + y0) as usize * width as usize + (x + x0) as usize] <= 0.0 {
                zeros.put_pixel(x, y, image::Luma([255]));
                any_zero = true;
            }
        }
    }
    if !any_zero {
        return;
    }
    let d2 = imageproc::distance_transform::euclidean_squared_distance_transform(&zeros);
    let d2 = d2.as_raw();
    weights
        .par_chunks_mut(width as usize)
        .enumerate()
        .skip(y0 as usize)
        .take(ch as usize)
        .for_each(|(y, row)| {
            let cy = y - y0 as usize;
            for x in x0..x1 {
                let w = &mut row[x as usize];
                if *w > 0.0 {
                    let d = (d2[cy * cw as usize + (x - x0) as usize] as f32).sqrt();
                    let t = (d / feather_px).min(1.0);
                    *w *= t * t * (3.0 - 2.0 * t);
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_fills_inside_only() {
        let r = Region::from_polygon(
            &[[10.0, 10.0], [30.0, 10.0], [30.0, 20.0], [10.0, 20.0]],
            (40, 30),
            0.0,
        )
        .unwrap();
        assert_eq!(
            r.bounds(),
            Rect {
                x0: 10,
                y0: 10,
                x1: 30,
                y1: 20
            }
        );
        assert_eq!(r.total_weight(), 200.0);
        assert_eq!(r.weight_at(5.0, 5.0), 0.0);
        assert_eq!(r.weight_at(15.0, 15.0), 1.0);
    }

    #[test]
    fn feather_tapers_inward_but_not_at_the_frame() {
        let (w, h) = (100u32, 60u32);
        let mut weights = vec![0.0; (w * h) as usize];
        for y in 0..h {
            for x in 0..50 {
                weights[(y * w + x) as usize] = 1.0;
            }
        }
        let r = Region::from_weights(w, h, weights, 10.0, "t").unwrap();
        // Deep inside and at the frame's left edge: full weight.
        assert_eq!(r.weight_at(0.5, 30.5), 1.0);
        assert_eq!(r.weight_at(35.5, 0.5), 1.0);
        // Rising toward the inside near the edge at x = 50.
        let a = r.weight_at(49.5, 30.5);
        let b = r.weight_at(45.5, 30.5);
        assert!(a > 0.0 && a < b && b < 1.0, "{a} {b}");
        assert_eq!(r.weight_at(50.5, 30.5), 0.0);
    }

    #[test]
    fn empty_and_mismatched_regions_are_errors() {
        assert!(Region::from_weights(4, 4, vec![0.0; 16], 0.0, "t").is_err());
        let m = GrayImage::new(5, 5);
        let e = Region::from_mask(&m, (6, 5), 0.0, Path::new("m.png"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("m.png") && e.contains("5 x 5") && e.contains("6 x 5"),
            "{e}"
        );
    }

    #[test]
    fn polygon_text_parses() {
        assert_eq!(
            Region::parse_polygon("1,2 3.5,4").unwrap(),
            vec![[1.0, 2.0], [3.5, 4.0]]
        );
        assert!(Region::parse_polygon("1,2 3").is_err());
    }
}
