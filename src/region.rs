//! Where to pigment: a weight per pixel in [0, 1].
//!
//! A region comes from a mask image (white = treat, grey = partial weight)
//! or a polygon in photo pixel coordinates. Its edge is feathered inward over
//! a width in mm with a smoothstep of the Euclidean distance to the nearest
//! untreated pixel, so the dot density tapers off instead of stopping at a
//! line; the frame's own border is not an edge. Pixels of weight zero are
//! never touched by the compositor.

use std::path::Path;
use std::sync::Arc;

use image::GrayImage;
use rayon::prelude::*;

use crate::error::{Error, Result};

/// How far outside the photo a polygon's points may lie, in multiples of
/// the photo's longer side: far enough for any rough outline, near enough
/// that the outline keeps its shape in single-precision pixels.
pub const MAX_POLYGON_REACH: f32 = 10.0;

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

/// A non-empty treatment region: one weight per photo pixel. Only the
/// weights inside [`Region::bounds`] are stored; every pixel outside is 0.
#[derive(Debug, Clone)]
pub struct Region {
    width: u32,
    height: u32,
    /// Weights over `bounds`, row-major.
    weights: Vec<f32>,
    bounds: Rect,
    total_weight: f64,
    /// What of some pixels pigment cannot reach (see [`Kept`]).
    kept: Option<Arc<Kept>>,
}

/// The part of a pixel's light that pigment in the skin cannot darken, for
/// the few pixels a region shares with something else: the backdrop's share
/// of a pixel the head's outline crosses, the share of a hair strand over
/// the skin. Linear RGB, per pixel, sorted by row then column, with the
/// pixel's share of skin; a pixel not listed is all skin.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kept {
    /// `(x, y, light, skin share)`, sorted by `(y, x)`.
    px: Vec<(u32, u32, [f32; 3], f32)>,
}

impl Kept {
    /// From `(x, y, light, skin share)` entries in any order (a pixel
    /// listed twice keeps the sum of its lights, at most 1 a channel, and
    /// the smaller share).
    pub fn new(mut px: Vec<(u32, u32, [f32; 3], f32)>) -> Kept {
        px.sort_by_key(|&(x, y, _, _)| (y, x));
        px.dedup_by(|b, a| {
            let same = a.0 == b.0 && a.1 == b.1;
            if same {
                for c in 0..3 {
                    a.2[c] = (a.2[c] + b.2[c]).min(1.0);
                }
                a.3 = a.3.min(b.3);
            }
            same
        });
        Kept { px }
    }

    /// Number of pixels listed.
    pub fn len(&self) -> usize {
        self.px.len()
    }

    /// Whether no pixel is listed.
    pub fn is_empty(&self) -> bool {
        self.px.is_empty()
    }

    /// The entries of row `y` from column `x0` to `x1` (exclusive), as
    /// `(x, light)`.
    pub fn row(&self, y: u32, x0: u32, x1: u32) -> impl Iterator<Item = (u32, [f32; 3])> + '_ {
        let start = self.px.partition_point(|&(x, yy, _, _)| (yy, x) < (y, x0));
        self.px[start..]
            .iter()
            .take_while(move |&&(x, yy, _, _)| yy == y && x < x1)
            .map(|&(x, _, l, _)| (x, l))
    }

    /// The share of pixel `(x, y)` that is skin: 1 for a pixel not listed.
    pub fn skin_share(&self, x: u32, y: u32) -> f32 {
        let i = self.px.partition_point(|&(xx, yy, _, _)| (yy, xx) < (y, x));
        match self.px.get(i) {
            Some(&(xx, yy, _, s)) if (xx, yy) == (x, y) => s,
            _ => 1.0,
        }
    }
}

impl Region {
    /// A region from per-pixel weights in [0, 1] (row-major), feathered
    /// inward over `feather_px` pixels. `what` names the source in errors.
    pub fn from_weights(
        width: u32,
        height: u32,
        weights: Vec<f32>,
        feather_px: f32,
        what: &str,
    ) -> Result<Self> {
        assert_eq!(weights.len(), width as usize * height as usize);
        let all = Rect {
            x0: 0,
            y0: 0,
            x1: width,
            y1: height,
        };
        Self::from_window(width, height, all, weights, feather_px, what)
    }

    /// A region from the weights of the frame's top rows (row-major, a whole
    /// number of `width`-wide rows); every pixel below them has weight 0.
    /// For designs that know nothing lies below some row.
    pub(crate) fn from_top_rows(
        width: u32,
        height: u32,
        weights: Vec<f32>,
        what: &str,
    ) -> Result<Self> {
        let rows = (weights.len() / width as usize) as u32;
        let window = Rect {
            x0: 0,
            y0: 0,
            x1: width,
            y1: rows,
        };
        Self::from_window(width, height, window, weights, 0.0, what)
    }

    /// A region from the weights over `window` (row-major); every pixel
    /// outside it has weight 0. The window must hold a one-pixel ring around
    /// the nonzero weights wherever it does not reach the frame's edge, or
    /// feathering takes the window's edge for the frame's (no edge): so a
    /// region built over a window costs memory and time for the window, not
    /// for the whole photo.
    pub(crate) fn from_window(
        width: u32,
        height: u32,
        window: Rect,
        mut weights: Vec<f32>,
        feather_px: f32,
        what: &str,
    ) -> Result<Self> {
        let empty = || Error::EmptyRegion {
            what: what.to_string(),
        };
        let (ww, wh) = (window.width(), window.height());
        weights.par_iter_mut().for_each(|w| {
            *w = if w.is_finite() {
                w.clamp(0.0, 1.0)
            } else {
                0.0
            };
        });
        let b = nonzero_bounds(ww, &weights).ok_or_else(empty)?;
        if feather_px > 0.0 {
            // The ring the window holds is zero; where the window stops at
            // the frame there is no ring, so the frame's edge is no edge.
            feather(ww, wh, &mut weights, b, feather_px);
        }
        let b = nonzero_bounds(ww, &weights).ok_or_else(empty)?;
        let row = ww as usize;
        // Cut to the bounds in place: each row moves toward the start (or
        // stays), so no second buffer of the window's size is touched.
        let bw = b.width() as usize;
        for (j, y) in (b.y0..b.y1).enumerate() {
            let start = y as usize * row + b.x0 as usize;
            weights.copy_within(start..start + bw, j * bw);
        }
        weights.truncate(bw * b.height() as usize);
        weights.shrink_to_fit();
        let cropped = weights;
        let total_weight = cropped
            .par_chunks(b.width() as usize)
            .map(|r| r.iter().map(|&w| w as f64).sum::<f64>())
            .sum();
        Ok(Region {
            width,
            height,
            weights: cropped,
            bounds: Rect {
                x0: window.x0 + b.x0,
                y0: window.y0 + b.y0,
                x1: window.x0 + b.x1,
                y1: window.y0 + b.y1,
            },
            total_weight,
            kept: None,
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
        let (w, h) = mask.dimensions();
        let what = path.display().to_string();
        let b = nonzero_bounds(w, mask.as_raw())
            .ok_or_else(|| Error::EmptyRegion { what: what.clone() })?;
        let window = grow(b, 1, w, h);
        let raw = mask.as_raw();
        let mut weights = Vec::with_capacity(window.width() as usize * window.height() as usize);
        for y in window.y0..window.y1 {
            let row = y as usize * w as usize;
            weights.extend(
                raw[row + window.x0 as usize..row + window.x1 as usize]
                    .iter()
                    .map(|&v| v as f32 / 255.0),
            );
        }
        Self::from_window(w, h, window, weights, feather_px, &what)
    }

    /// Loads a mask image file; see [`Region::from_mask`].
    pub fn load_mask(path: &Path, photo_size: (u32, u32), feather_px: f32) -> Result<Self> {
        Self::from_mask(&Self::read_mask(path)?, photo_size, feather_px, path)
    }

    /// Reads and decodes a mask image file as greyscale.
    pub fn read_mask(path: &Path) -> Result<GrayImage> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Ok(crate::photo::decode_dynamic(&bytes, path)?.into_luma8())
    }

    /// A region inside a polygon given in photo pixel coordinates (pixel
    /// centres inside the polygon, even-odd rule, get weight 1).
    pub fn from_polygon(points: &[[f32; 2]], size: (u32, u32), feather_px: f32) -> Result<Self> {
        // (Coordinates are checked below: finite, and within
        // [`MAX_POLYGON_REACH`] times the photo's size.)
        if points.len() < 3 {
            return Err(Error::field(
                "polygon",
                "polygon",
                format!("{} points", points.len()),
                "must have at least 3 points \"x,y\" with finite pixel coordinates",
            ));
        }
        let (w, h) = size;
        // Far beyond the photo, f32 scanlines lose the polygon's shape (a
        // point at 1e12 px made the whole frame "inside").
        let reach = MAX_POLYGON_REACH * w.max(h) as f32;
        if let Some(p) = points
            .iter()
            .find(|p| p.iter().any(|v| !v.is_finite() || v.abs() > reach))
        {
            return Err(Error::field(
                "polygon",
                "polygon",
                format!("a point {},{}", p[0], p[1]),
                format!(
                    "every point must be finite and within {MAX_POLYGON_REACH} times the photo's \
                     size of it (±{reach} px)"
                ),
            ));
        }
        // The polygon's bounding box, one pixel wider, within the frame.
        let lo = |i: usize, max: u32| {
            let v = points.iter().map(|p| p[i]).fold(f32::INFINITY, f32::min);
            (v.floor().max(0.0) as u32).saturating_sub(1).min(max)
        };
        let hi = |i: usize, max: u32| {
            let v = points
                .iter()
                .map(|p| p[i])
                .fold(f32::NEG_INFINITY, f32::max);
            ((v.ceil().max(0.0) as u32).saturating_add(1)).min(max)
        };
        let window = Rect {
            x0: lo(0, w),
            y0: lo(1, h),
            x1: hi(0, w),
            y1: hi(1, h),
        };
        if window.x0 >= window.x1 || window.y0 >= window.y1 {
            return Err(Error::EmptyRegion {
                what: "polygon".to_string(),
            });
        }
        let ww = window.width() as usize;
        let mut weights = vec![0.0f32; ww * window.height() as usize];
        weights.par_chunks_mut(ww).enumerate().for_each(|(j, row)| {
            let cy = (window.y0 as usize + j) as f32 + 0.5;
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
                let a = ((pair[0] - 0.5).ceil().max(0.0) as usize)
                    .clamp(window.x0 as usize, window.x1 as usize);
                let b = ((pair[1] - 0.5).ceil().max(0.0) as usize)
                    .clamp(window.x0 as usize, window.x1 as usize);
                if a < b {
                    row[a - window.x0 as usize..b - window.x0 as usize].fill(1.0);
                }
            }
        });
        Self::from_window(w, h, window, weights, feather_px, "polygon")
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
    /// The weights over [`Region::bounds`], row-major (every weight
    /// outside the bounds is 0).
    pub fn bounded_weights(&self) -> &[f32] {
        &self.weights
    }

    /// What of some pixels pigment cannot reach ([`Kept`]), if anything.
    pub fn kept(&self) -> Option<&Kept> {
        self.kept.as_deref()
    }

    /// This region with `kept` as the light pigment cannot reach.
    pub fn with_kept(mut self, kept: Kept) -> Region {
        self.kept = (!kept.is_empty()).then(|| Arc::new(kept));
        self
    }

    /// This region with each weight over [`Region::bounds`] multiplied by
    /// `factor` (row-major over the bounds, like
    /// [`Region::bounded_weights`]); the bounds shrink to what is left, and
    /// `what` names the result in the error if nothing is.
    pub fn scaled_within_bounds(&self, factor: &[f32], what: &str) -> Result<Region> {
        self.scaled_by(factor.to_vec(), what)
    }

    /// [`Region::scaled_within_bounds`], the factors' buffer becoming the
    /// new weights (no third buffer of the bounds' size).
    pub(crate) fn scaled_by(&self, mut factor: Vec<f32>, what: &str) -> Result<Region> {
        assert_eq!(factor.len(), self.weights.len(), "one factor per weight");
        factor
            .par_iter_mut()
            .zip(&self.weights)
            .for_each(|(f, w)| *f *= w);
        Region::from_window(self.width, self.height, self.bounds, factor, 0.0, what)
    }

    /// A region of the same frame with no pixel in it (no weights held).
    pub(crate) fn emptied(&self) -> Region {
        Region {
            width: self.width,
            height: self.height,
            weights: Vec::new(),
            bounds: Rect {
                x0: 0,
                y0: 0,
                x1: 0,
                y1: 0,
            },
            total_weight: 0.0,
            kept: None,
        }
    }

    /// The weights over the bounds, row-major, to change in place; the
    /// region is then made again from them ([`Region::refit`]) unless they
    /// are as they were.
    pub(crate) fn weights_mut(&mut self) -> &mut [f32] {
        &mut self.weights
    }

    /// The region made again from its weights as they are now (after
    /// [`Region::weights_mut`]): as [`Region::scaled_by`] makes it, with
    /// no buffer besides its own.
    pub(crate) fn refit(self, what: &str) -> Result<Region> {
        Region::from_window(
            self.width,
            self.height,
            self.bounds,
            self.weights,
            0.0,
            what,
        )
    }

    /// This region with each weight multiplied by `other`'s at the same
    /// pixel (the two intersected); `what` names the result in the error if
    /// nothing is left.
    pub fn times(&self, other: &Region, what: &str) -> Result<Region> {
        let b = self.bounds;
        let bw = b.width() as usize;
        let factor: Vec<f32> = (0..self.weights.len())
            .into_par_iter()
            .map(|i| {
                let (x, y) = (b.x0 as usize + i % bw, b.y0 as usize + i / bw);
                other.weight_at(x as f32 + 0.5, y as f32 + 0.5)
            })
            .collect();
        self.scaled_by(factor, what)
    }

    /// The weights of row `y` from column `x0` to `x1` (exclusive), all
    /// inside the bounds.
    #[inline]
    pub fn row_within_bounds(&self, y: u32, x0: u32, x1: u32) -> &[f32] {
        let b = self.bounds;
        debug_assert!(y >= b.y0 && y < b.y1 && x0 >= b.x0 && x1 <= b.x1);
        let start = (y - b.y0) as usize * b.width() as usize;
        &self.weights[start + (x0 - b.x0) as usize..start + (x1 - b.x0) as usize]
    }

    /// The weight at a point in pixel coordinates (pixel `(i, j)` covers
    /// `[i, i + 1) × [j, j + 1)`); 0 outside the bounds.
    #[inline]
    pub fn weight_at(&self, x: f32, y: f32) -> f32 {
        let b = self.bounds;
        if !(x >= b.x0 as f32 && y >= b.y0 as f32) {
            return 0.0;
        }
        let (xi, yi) = (x as u32, y as u32);
        if xi >= b.x1 || yi >= b.y1 {
            return 0.0;
        }
        self.weights[(yi - b.y0) as usize * b.width() as usize + (xi - b.x0) as usize]
    }
}

/// `r` grown by `by` px on every side, within a `width` × `height` frame.
pub(crate) fn grow(r: Rect, by: u32, width: u32, height: u32) -> Rect {
    Rect {
        x0: r.x0.saturating_sub(by),
        y0: r.y0.saturating_sub(by),
        x1: (r.x1 + by).min(width),
        y1: (r.y1 + by).min(height),
    }
}

/// Bounds of the values above zero in a `width`-wide row-major buffer.
fn nonzero_bounds<T: Copy + Default + PartialOrd + Sync>(width: u32, values: &[T]) -> Option<Rect> {
    let zero = T::default();
    let rows: Vec<Option<(u32, u32)>> = values
        .par_chunks(width as usize)
        .map(|row| {
            let first = row.iter().position(|&w| w > zero)?;
            let last = row.iter().rposition(|&w| w > zero)?;
            Some((first as u32, last as u32 + 1))
        })
        .collect();
    rows_to_rect(&rows)
}

/// The rectangle holding every row's nonzero span.
fn rows_to_rect(rows: &[Option<(u32, u32)>]) -> Option<Rect> {
    let y0 = rows.iter().position(Option::is_some)? as u32;
    let y1 = rows.iter().rposition(Option::is_some)? as u32 + 1;
    let (x0, x1) = rows
        .iter()
        .flatten()
        .fold((u32::MAX, 0), |(a, b), &(f, l)| (a.min(f), b.max(l)));
    Some(Rect { x0, y0, x1, y1 })
}

/// Columns of a block in [`column_distances`]: a row of a block is two
/// cache lines of `u16`.
const BLOCK: usize = 64;
/// A column distance beyond the cap.
const FAR: u16 = u16::MAX;

/// Rows from each pixel of a row-major grid `width` wide (`width` > 0) to
/// the nearest pixel of `set` in its column, [`FAR`] beyond `cap` (below
/// 65,535): down the columns, then up, a block of [`BLOCK`] columns at a
/// time side by side; block `b` holds columns `b·BLOCK..`, row-major.
fn column_distances(width: usize, set: &[bool], cap: u32) -> Vec<Vec<u16>> {
    let height = set.len() / width;
    (0..width.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let (x0, x1) = (b * BLOCK, ((b + 1) * BLOCK).min(width));
            let bw = x1 - x0;
            let mut col = vec![FAR; bw * height];
            let step = |above: u16| if (above as u32) < cap { above + 1 } else { FAR };
            for y in 0..height {
                let (done, row) = col.split_at_mut(y * bw);
                let row = &mut row[..bw];
                let above = y.checked_sub(1).map(|_| &done[done.len() - bw..]);
                for (k, g) in row.iter_mut().enumerate() {
                    *g = if set[y * width + x0 + k] {
                        0
                    } else {
                        above.map_or(FAR, |a| step(a[k]))
                    };
                }
            }
            for y in (0..height.saturating_sub(1)).rev() {
                let (row, below) = col[y * bw..].split_at_mut(bw);
                for (g, &b) in row.iter_mut().zip(&below[..bw]) {
                    *g = (*g).min(step(b));
                }
            }
            col
        })
        .collect()
}

/// Whether each pixel of a row-major grid `width` wide lies within
/// `reach2` (a squared distance) of a pixel where `set` is true: the same
/// as `squared_distances(..)[i] as f64 <= reach2`, reach below 65,534 px.
/// A column's nearest set pixel `g` rows away covers the pixels of the row
/// up to √(reach2 − g²) to each side (whole pixels: an integer root), so a
/// row is the union of one span per column near enough: no envelope of
/// parabolas, no distances.
pub(crate) fn within_reach(width: usize, set: &[bool], reach2: f64) -> Vec<bool> {
    let mut out = vec![false; set.len()];
    if width == 0 || reach2 < 0.0 {
        return out;
    }
    // Squared distances are whole numbers: at most the floor of reach2.
    let r2 = reach2.floor().min(((u16::MAX - 1) as f64).powi(2)) as u64;
    let cap = r2.isqrt() as u32;
    let blocks = column_distances(width, set, cap);
    // How far to each side a column `g` rows from its set pixel reaches.
    let half: Vec<usize> = (0..=u64::from(cap))
        .map(|g| (r2 - g * g).isqrt() as usize)
        .collect();
    out.par_chunks_mut(width).enumerate().for_each_init(
        Vec::new,
        |starts: &mut Vec<i32>, (y, out)| {
            // +1 where a span starts, −1 past where it ends.
            starts.clear();
            starts.resize(width + 1, 0);
            for (b, col) in blocks.iter().enumerate() {
                let bw = (width - b * BLOCK).min(BLOCK);
                for (k, &g) in col[y * bw..(y + 1) * bw].iter().enumerate() {
                    // Columns beyond the cap are FAR.
                    let Some(&half) = half.get(g as usize) else {
                        continue;
                    };
                    let q = b * BLOCK + k;
                    starts[q.saturating_sub(half)] += 1;
                    starts[(q + half + 1).min(width)] -= 1;
                }
            }
            let mut depth = 0;
            for (o, &s) in out.iter_mut().zip(starts.iter()) {
                depth += s;
                *o = depth > 0;
            }
        },
    );
    out
}

/// The squared Euclidean distance from each pixel of a row-major grid
/// `width` wide to the nearest pixel where `set` is true (0 on those),
/// exact wherever it is at most `cap`² (`cap` below 65,535) and
/// `u32::MAX` wherever it is more (everywhere when none is set).
/// Felzenszwalb and Huttenlocher's separable transform in integers: the
/// distance down each column in two sweeps (columns in blocks side by side),
/// then the lower envelope of parabolas along each row (the rows side by
/// side). A column further than `cap` from a set pixel holds no parabola
/// that could bring a pixel within `cap`, so it is left out: the envelope
/// is only as long as the edges are near. Up to `cap`, the same figures as
/// `imageproc`'s `euclidean_squared_distance_transform`.
/// (The feather uses it a row at a time: [`RowDistances`].)
#[cfg(test)]
pub(crate) fn squared_distances(width: usize, set: &[bool], cap: u32) -> Vec<u32> {
    if width == 0 {
        return Vec::new();
    }
    let rows = RowDistances::new(width, set, cap);
    let mut out = vec![u32::MAX; set.len()];
    out.par_chunks_mut(width)
        .enumerate()
        .for_each_init(Envelope::default, |env, (y, out)| rows.row(y, env, out));
    out
}

/// [`squared_distances`] a row at a time: the distances down the columns,
/// found once, and then each row's from them ([`RowDistances::row`]), so a
/// caller that uses a row as it comes holds no grid of distances.
struct RowDistances {
    width: usize,
    /// [`column_distances`] in blocks of [`BLOCK`] columns.
    blocks: Vec<Vec<u16>>,
    /// The cap, squared.
    cap2: u64,
}

/// Scratch of [`RowDistances::row`]: the parabolas of a row's lower
/// envelope, where each begins to be the lowest, and the row's column
/// distances.
#[derive(Default)]
struct Envelope {
    v: Vec<usize>,
    z: Vec<f64>,
    g: Vec<u16>,
}

impl RowDistances {
    /// The distances down the columns of the grid `width` (> 0) wide.
    fn new(width: usize, set: &[bool], cap: u32) -> Self {
        let cap = cap.min(u16::MAX as u32 - 1);
        RowDistances {
            width,
            blocks: column_distances(width, set, cap),
            cap2: (cap as u64).pow(2),
        }
    }

    /// Row `y` of [`squared_distances`] into `out` (`width` long).
    fn row(&self, y: usize, env: &mut Envelope, out: &mut [u32]) {
        let width = self.width;
        out.fill(u32::MAX);
        let Envelope { v, z, g } = env;
        // Along the row: the least (x − q)² + col(q)² over the columns q.
        g.clear();
        for (b, col) in self.blocks.iter().enumerate() {
            let bw = (width - b * BLOCK).min(BLOCK);
            g.extend_from_slice(&col[y * bw..(y + 1) * bw]);
        }
        let f = |q: usize| u64::from(g[q]) * u64::from(g[q]);
        // The parabolas of the envelope (`v`) and where each begins to
        // be the lowest (`z`).
        v.clear();
        z.clear();
        for q in (0..width).filter(|&q| g[q] != FAR) {
            let cross = |p: usize| {
                let (fq, fp) = (
                    (f(q) + (q * q) as u64) as f64,
                    (f(p) + (p * p) as u64) as f64,
                );
                (fq - fp) / (2.0 * (q as f64 - p as f64))
            };
            while let Some(&p) = v.last() {
                if cross(p) <= *z.last().expect("a start for each parabola") {
                    v.pop();
                    z.pop();
                } else {
                    break;
                }
            }
            let s = v.last().map_or(f64::NEG_INFINITY, |&p| cross(p));
            v.push(q);
            z.push(s);
        }
        if v.is_empty() {
            return;
        }
        // Parabola `k` is the lowest over the columns x with z[k] <= x <
        // z[k + 1]; of those, only the ones within the cap of its own
        // column can be within the cap (the rest stay far).
        let cap = self.cap2.isqrt() as usize;
        for (k, &q) in v.iter().enumerate() {
            // The first column x >= z[k], and the first past the segment.
            let first = |z: f64| {
                if z <= 0.0 {
                    0
                } else {
                    (z.ceil() as usize).min(width)
                }
            };
            let from = first(z[k]).max(q.saturating_sub(cap));
            let to = z
                .get(k + 1)
                .map_or(width, |&z| first(z))
                .min((q + cap + 1).min(width));
            if from >= to {
                continue;
            }
            for (o, x) in out[from..to].iter_mut().zip(from..) {
                let d2 = (x.abs_diff(q) as u64).pow(2) + f(q);
                if d2 <= self.cap2 {
                    *o = d2 as u32;
                }
            }
        }
    }
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
    // Which pixels of the bounds and the ring around them are zero, a row
    // of them at a time.
    let mut zeros = vec![false; cw as usize * ch as usize];
    zeros
        .par_chunks_mut(cw as usize)
        .enumerate()
        .for_each(|(r, out)| {
            let start = (y0 as usize + r) * width as usize + x0 as usize;
            for (z, &w) in out.iter_mut().zip(&weights[start..start + cw as usize]) {
                *z = w <= 0.0;
            }
        });
    if !zeros.contains(&true) {
        return;
    }
    // Beyond the feather every weight stays as it is. Each row's distances
    // are used as they are found: no grid of them is held.
    let rows = RowDistances::new(cw as usize, &zeros, feather_px.ceil() as u32);
    weights
        .par_chunks_mut(width as usize)
        .skip(y0 as usize)
        .take(ch as usize)
        .enumerate()
        .for_each_init(
            || (Envelope::default(), vec![0u32; cw as usize]),
            |(env, d2), (cy, row)| {
                rows.row(cy, env, d2);
                for x in x0..x1 {
                    let w = &mut row[x as usize];
                    // Past the cap (the feather, rounded up) a weight is
                    // kept whole: its taper would be exactly 1.
                    if *w > 0.0 && d2[(x - x0) as usize] != u32::MAX {
                        let d = (d2[(x - x0) as usize] as f32).sqrt();
                        let t = (d / feather_px).min(1.0);
                        *w *= t * t * (3.0 - 2.0 * t);
                    }
                }
            },
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `squared_distances` against the definition, pixel by pixel: the
    /// least squared distance to any set pixel, found by trying them all,
    /// and `u32::MAX` past the cap.
    /// Masks from one set pixel to half set, with whole rows and columns
    /// empty, in strips one pixel wide and in squares; none set is all far.
    #[test]
    fn squared_distances_are_exact() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(17);
        assert_eq!(squared_distances(5, &[false; 15], 100), vec![u32::MAX; 15]);
        assert!(squared_distances(0, &[], 100).is_empty());
        let mut cases = 0;
        for &(w, h) in &[
            (1, 1),
            (1, 30),
            (30, 1),
            (7, 5),
            (40, 33),
            (64, 64),
            (3, 50),
            // Past one block of columns.
            (150, 20),
            (129, 9),
        ] {
            for &share in &[0.0, 0.002, 0.03, 0.2, 0.5] {
                let mut set: Vec<bool> = (0..w * h).map(|_| rng.random::<f64>() < share).collect();
                // One set pixel at least, at a random place.
                set[rng.random_range(0..w * h)] = true;
                if w > 4 && h > 4 {
                    // An empty row and an empty column through the middle.
                    set.iter_mut()
                        .skip((h / 2) * w)
                        .take(w)
                        .for_each(|s| *s = false);
                    set.iter_mut()
                        .skip(w / 2)
                        .step_by(w)
                        .for_each(|s| *s = false);
                    set[0] = true;
                }
                // Exact within the cap, beyond it `u32::MAX`: caps past
                // every distance, and caps that cut the far pixels off.
                let cap = [65_534, 4, 9, 1, 0][(cases + cases / 5) % 5];
                let got = squared_distances(w, &set, cap);
                for y in 0..h {
                    for x in 0..w {
                        let want = (0..w * h)
                            .filter(|&j| set[j])
                            .map(|j| {
                                let (dx, dy) =
                                    ((j % w).abs_diff(x) as u64, (j / w).abs_diff(y) as u64);
                                dx * dx + dy * dy
                            })
                            .min()
                            .unwrap();
                        let want = if want <= (cap as u64).pow(2) {
                            want as u32
                        } else {
                            u32::MAX
                        };
                        assert_eq!(
                            got[y * w + x],
                            want,
                            "{w}x{h}, share {share}, at ({x}, {y})"
                        );
                    }
                }
                cases += 1;
            }
        }
        assert_eq!(cases, 45);
    }

    /// `within_reach` is the distances within the reach, by the definition
    /// (every set pixel tried), for whole and fractional reaches, none set,
    /// all set, and grids wider than a block of columns.
    #[test]
    fn within_reach_is_the_distance_test() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(23);
        assert!(within_reach(0, &[], 4.0).is_empty());
        assert_eq!(within_reach(4, &[false; 12], 100.0), vec![false; 12]);
        assert_eq!(within_reach(4, &[true; 12], 0.0), vec![true; 12]);
        let mut cases = 0;
        for &(w, h) in &[(1, 1), (9, 1), (1, 9), (17, 13), (150, 12), (70, 40)] {
            for &share in &[0.001, 0.02, 0.3] {
                for &reach2 in &[0.0, 1.0, 2.0, 2.5, 8.9, 25.0, 150.75, 1e4] {
                    let set: Vec<bool> = (0..w * h).map(|_| rng.random::<f64>() < share).collect();
                    let got = within_reach(w, &set, reach2);
                    for (i, &got) in got.iter().enumerate() {
                        let (x, y) = (i % w, i / w);
                        let want = (0..w * h).filter(|&j| set[j]).any(|j| {
                            let (dx, dy) = ((j % w).abs_diff(x), (j / w).abs_diff(y));
                            ((dx * dx + dy * dy) as f64) <= reach2
                        });
                        assert_eq!(
                            got, want,
                            "{w}x{h} share {share} reach² {reach2} at ({x}, {y})"
                        );
                    }
                    cases += 1;
                }
            }
        }
        assert_eq!(cases, 144);
    }

    /// Whether a point is inside a polygon by the even-odd rule: the parity
    /// of the edges a ray to +x crosses (written out here in f64).
    fn inside_polygon(p: &[[f32; 2]], x: f64, y: f64) -> bool {
        let mut inside = false;
        for i in 0..p.len() {
            let (a, b) = (p[i], p[(i + 1) % p.len()]);
            let (ax, ay, bx, by) = (a[0] as f64, a[1] as f64, b[0] as f64, b[1] as f64);
            if (ay > y) != (by > y) && x < ax + (y - ay) * (bx - ax) / (by - ay) {
                inside = !inside;
            }
        }
        inside
    }

    /// A polygon's region holds exactly the pixels whose centres lie inside
    /// it (even-odd), away from the origin, for slanted and concave shapes;
    /// its bounds are theirs and its size the photo's.
    #[test]
    fn a_polygon_is_the_pixel_centres_inside_it() {
        let (w, h) = (120u32, 90u32);
        let shapes: [&[[f32; 2]]; 4] = [
            &[[30.3, 12.7], [97.1, 25.2], [60.4, 80.9]],
            &[[20.6, 40.2], [55.5, 10.1], [101.8, 44.4], [58.2, 77.7]],
            &[
                [15.2, 15.2],
                [95.7, 15.2],
                [95.7, 70.3],
                [60.1, 30.6],
                [15.2, 70.3],
            ],
            &[[10.5, 20.5], [40.5, 20.5], [40.5, 50.5], [10.5, 50.5]],
        ];
        for shape in shapes {
            let r = Region::from_polygon(shape, (w, h), 0.0).unwrap();
            assert_eq!((r.width(), r.height()), (w, h));
            let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
            for y in 0..h {
                for x in 0..w {
                    let (cx, cy) = (x as f64 + 0.5, y as f64 + 0.5);
                    let want = inside_polygon(shape, cx, cy);
                    let got = r.weight_at(cx as f32, cy as f32);
                    assert_eq!(got, if want { 1.0 } else { 0.0 }, "{shape:?} at {x},{y}");
                    if want {
                        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
                    }
                }
            }
            assert_eq!(r.bounds(), Rect { x0, y0, x1, y1 }, "{shape:?}");
        }
        // A triangle is enough; a point within 10 times the photo's size
        // of it is taken, one past that or not finite is refused.
        let far = 10.0 * w as f32;
        assert!(Region::from_polygon(
            &[[10.0, 10.0], [far - 1.0, 20.0], [10.0, 30.0]],
            (w, h),
            0.0
        )
        .is_ok());
        for bad in [far + 1.0, -far - 1.0, f32::NAN, f32::INFINITY] {
            let e = Region::from_polygon(&[[10.0, 10.0], [bad, 20.0], [10.0, 30.0]], (w, h), 0.0)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("polygon") && e.contains("within 10 times"),
                "{bad}: {e}"
            );
        }
        let e = Region::from_polygon(&[[10.0, 10.0], [20.0, 20.0]], (w, h), 0.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 3 points"), "{e}");
    }

    /// A mask's weights are its grey levels over 255, from an image or its
    /// file; the top rows' weights stop where they stop.
    #[test]
    fn a_mask_is_its_grey_levels() {
        let mask = GrayImage::from_fn(60, 40, |x, y| {
            image::Luma([if (20..50).contains(&x) && (10..30).contains(&y) {
                ((x * 7 + y * 3) % 256) as u8
            } else {
                0
            }])
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mask.png");
        mask.save(&path).unwrap();
        let from_image = Region::from_mask(&mask, (60, 40), 0.0, &path).unwrap();
        let from_file = Region::load_mask(&path, (60, 40), 0.0).unwrap();
        for r in [&from_image, &from_file] {
            for (x, y, p) in mask.enumerate_pixels() {
                let got = r.weight_at(x as f32 + 0.5, y as f32 + 0.5);
                assert!((got - p.0[0] as f32 / 255.0).abs() < 1e-6, "{x},{y}: {got}");
            }
        }
        assert_eq!(from_file.bounds(), from_image.bounds());
        // Three rows of a 10 × 20 frame.
        let top: Vec<f32> = (0..30).map(|i| (i % 7) as f32 / 6.0).collect();
        let r = Region::from_top_rows(10, 20, top.clone(), "t").unwrap();
        assert_eq!((r.width(), r.height(), r.bounds().y1), (10, 20, 3));
        for (i, w) in top.iter().enumerate() {
            let (x, y) = ((i % 10) as f32 + 0.5, (i / 10) as f32 + 0.5);
            assert!((r.weight_at(x, y) - w).abs() < 1e-6);
        }
    }

    /// Two regions intersected: each pixel's weight is the product of the
    /// two weights at that pixel.
    #[test]
    fn times_multiplies_weights_pixel_by_pixel() {
        let mask = GrayImage::from_fn(80, 60, |x, y| {
            image::Luma([((x * 3 + y * 2) % 200 + 30) as u8])
        });
        let a = Region::from_mask(&mask, (80, 60), 0.0, Path::new("t")).unwrap();
        let b = Region::from_polygon(&[[20.5, 10.5], [70.5, 15.5], [40.5, 55.5]], (80, 60), 0.0)
            .unwrap();
        let c = a.times(&b, "t").unwrap();
        for y in 0..60 {
            for x in 0..80 {
                let (cx, cy) = (x as f32 + 0.5, y as f32 + 0.5);
                let want = a.weight_at(cx, cy) * b.weight_at(cx, cy);
                assert!((c.weight_at(cx, cy) - want).abs() < 1e-6, "{x},{y}");
            }
        }
    }

    /// Kept light is listed by row then column; a row's entries are those
    /// from its first column up to (not including) its last; a pixel not
    /// listed is all skin.
    #[test]
    fn kept_pixels_are_found_by_row_and_column() {
        assert!(Kept::default().is_empty());
        let light = |v: f32| [v, v, v];
        let k = Kept::new(vec![
            (5, 2, light(0.1), 0.5),
            (3, 2, light(0.2), 0.6),
            (9, 1, light(0.3), 0.7),
            (4, 2, light(0.4), 0.8),
            (7, 2, light(0.5), 0.9),
            (0, 3, light(0.6), 0.4),
        ]);
        assert_eq!((k.len(), k.is_empty()), (6, false));
        let xs = |y, x0, x1| k.row(y, x0, x1).map(|(x, _)| x).collect::<Vec<_>>();
        assert_eq!(xs(2, 0, 100), vec![3, 4, 5, 7]);
        assert_eq!(xs(2, 4, 7), vec![4, 5]);
        assert_eq!(xs(2, 3, 8), vec![3, 4, 5, 7]);
        assert_eq!(xs(2, 5, 5), Vec::<u32>::new());
        assert_eq!(xs(1, 0, 9), Vec::<u32>::new());
        assert_eq!(xs(1, 9, 10), vec![9]);
        assert_eq!(k.row(2, 4, 5).next(), Some((4, light(0.4))));
        for (x, y, share) in [(5, 2, 0.5), (3, 2, 0.6), (9, 1, 0.7), (0, 3, 0.4)] {
            assert_eq!(k.skin_share(x, y), share);
        }
        for (x, y) in [(6, 2), (2, 2), (8, 2), (9, 2), (0, 2), (1, 3), (9, 0)] {
            assert_eq!(k.skin_share(x, y), 1.0, "{x},{y}");
        }
    }

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

    /// A feathered rectangle's weight is smoothstep(distance to the nearest
    /// pixel outside / feather) on every side, pixel by pixel.
    #[test]
    fn feather_is_the_smoothstep_of_the_distance_on_every_side() {
        let (w, h) = (100u32, 60u32);
        let (x0, x1, y0, y1) = (20u32, 80u32, 15u32, 45u32);
        let weights = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                if (x0..x1).contains(&x) && (y0..y1).contains(&y) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let r = Region::from_weights(w, h, weights, 8.0, "t").unwrap();
        for y in 0..h {
            for x in 0..w {
                let inside = (x0..x1).contains(&x) && (y0..y1).contains(&y);
                let want = if inside {
                    let d = (x + 1 - x0).min(x1 - x).min(y + 1 - y0).min(y1 - y) as f32;
                    let t = (d / 8.0).min(1.0);
                    t * t * (3.0 - 2.0 * t)
                } else {
                    0.0
                };
                let got = r.weight_at(x as f32 + 0.5, y as f32 + 0.5);
                assert!((got - want).abs() < 1e-5, "{x},{y}: {got} not {want}");
            }
        }
    }

    #[test]
    fn mask_polygon_and_full_weights_agree() {
        // The same square as a full-frame weight vector, a mask (stored
        // from its bounds only) and a polygon: identical feathered weights.
        let (w, h) = (120u32, 90u32);
        let inside = |x: u32, y: u32| (30..80).contains(&x) && (20..70).contains(&y);
        let full: Vec<f32> = (0..w * h)
            .map(|i| if inside(i % w, i / w) { 1.0 } else { 0.0 })
            .collect();
        let mask = GrayImage::from_fn(w, h, |x, y| {
            image::Luma([if inside(x, y) { 255 } else { 0 }])
        });
        let a = Region::from_weights(w, h, full, 8.0, "t").unwrap();
        let b = Region::from_mask(&mask, (w, h), 8.0, Path::new("m.png")).unwrap();
        let c = Region::from_polygon(
            &[[30.0, 20.0], [80.0, 20.0], [80.0, 70.0], [30.0, 70.0]],
            (w, h),
            8.0,
        )
        .unwrap();
        assert_eq!(a.bounds(), b.bounds());
        assert_eq!(a.bounds(), c.bounds());
        for y in 0..h {
            for x in 0..w {
                let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
                assert_eq!(a.weight_at(fx, fy), b.weight_at(fx, fy), "{x},{y}");
                assert_eq!(a.weight_at(fx, fy), c.weight_at(fx, fy), "{x},{y}");
            }
        }
        assert!(a.weight_at(55.5, 45.5) == 1.0 && a.weight_at(31.5, 45.5) < 0.2);
        assert_eq!(a.total_weight(), b.total_weight());
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
