//! The head against its background: rough regions are clipped to the head.
//!
//! A consultant draws a region quickly; where it spills past the head onto
//! the background, pigment must not follow (docs/domain.md: never pigment the
//! background). Consultation photos are taken against a plain backdrop, so
//! the background is found by flooding from the photo's border over pixels
//! of the backdrop's colour: the flood stops at the head's silhouette, whose
//! colour jumps and is redder. The flood runs on cells of a grid of at most
//! [`FLOOD_SIDE`] a side; a full-resolution pixel of the region is then
//! background when its cell was reached and its own colour is the cell's.

use std::collections::VecDeque;

use image::RgbImage;
use rayon::prelude::*;

use crate::error::Result;
use crate::hair::HairCover;
use crate::pipeline::Scene;
use crate::region::{grow, Region};

/// Longest side of the copy the flood runs on, px.
pub const FLOOD_SIDE: u32 = 400;
/// Largest colour distance (sRGB code values, Euclidean) of a border cell
/// from the border's median colour for the flood to start there.
pub const BACKDROP_TOLERANCE: f32 = 24.0;
/// Largest colour step between neighbouring cells the flood takes.
pub const FLOOD_STEP: f32 = 5.0;
/// Largest difference in tint (red − green, blue − green) from the
/// backdrop's.
pub const BACKDROP_TINT: f32 = 7.0;
/// Largest distance of a pixel from its cell's mean colour to be backdrop.
const PIXEL_TOLERANCE: f32 = 14.0;

/// Share of the backdrop's red that its red may exceed its blue by: above
/// it the border is warm like skin or hair, so the photo is taken for a
/// close-up of the scalp, with no backdrop to clip to. Studio backdrops are
/// grey, white or cool; a warm beige wall is taken for skin too, which
/// leaves the region unclipped rather than clipping skin.
pub const WARM_BORDER: f32 = 0.12;

/// Whether the photo's border has the colour of a backdrop, not of skin
/// or hair (see [`WARM_BORDER`]).
fn has_backdrop(bg: [f32; 3]) -> bool {
    !(bg[0] > bg[1] && bg[1] > bg[2] && bg[0] - bg[2] > WARM_BORDER * bg[0])
}

/// The backdrop's colour: the median of the photo's border pixels.
fn backdrop(photo: &RgbImage) -> [f32; 3] {
    let (w, h) = photo.dimensions();
    let mut px: Vec<[u8; 3]> = Vec::new();
    let step = ((w + h) / 400).max(1) as usize;
    for x in (0..w).step_by(step) {
        px.push(photo.get_pixel(x, 0).0);
    }
    for y in (0..h).step_by(step) {
        px.push(photo.get_pixel(0, y).0);
        px.push(photo.get_pixel(w - 1, y).0);
    }
    std::array::from_fn(|c| {
        let mut v: Vec<u8> = px.iter().map(|p| p[c]).collect();
        let m = v.len() / 2;
        *v.select_nth_unstable(m).1 as f32
    })
}

/// The largest `x` whose square root is at most `t` (`t` ≥ 0): a root is
/// over `t` exactly when its square is over `below_root(t)`, as the root
/// is correctly rounded and never decreases; so a distance can be compared
/// without its root.
fn below_root(t: f32) -> f32 {
    let mut x = t * t;
    while x.sqrt() > t {
        x = x.next_down();
    }
    while x.next_up().sqrt() <= t {
        x = x.next_up();
    }
    x
}

#[inline]
fn distance(p: [u8; 3], b: [f32; 3]) -> f32 {
    let d = [p[0] as f32 - b[0], p[1] as f32 - b[1], p[2] as f32 - b[2]];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

/// Mean colour of each cell of a coarse grid (`cell` px square, row-major,
/// `gw` × `gh`).
fn cell_means(photo: &RgbImage, cell: u32) -> (Vec<[f32; 3]>, u32, u32) {
    let (w, h) = photo.dimensions();
    let (gw, gh) = (w.div_ceil(cell), h.div_ceil(cell));
    let means = (0..gw * gh)
        .into_par_iter()
        .map(|i| {
            let (cx, cy) = (i % gw, i / gw);
            // At most 4 × 4 samples a cell: a mean of the backdrop needs
            // no more, and the flood runs over the whole photo.
            let step = (cell / 4).max(1) as usize;
            let (mut s, mut n) = ([0.0f32; 3], 0.0);
            for y in (cy * cell..((cy + 1) * cell).min(h)).step_by(step) {
                for x in (cx * cell..((cx + 1) * cell).min(w)).step_by(step) {
                    let p = photo.get_pixel(x, y).0;
                    for c in 0..3 {
                        s[c] += p[c] as f32;
                    }
                    n += 1.0;
                }
            }
            [s[0] / n, s[1] / n, s[2] / n]
        })
        .collect();
    (means, gw, gh)
}

/// The colour's tint: red against green, blue against green.
#[inline]
fn tint(c: [f32; 3]) -> [f32; 2] {
    [c[0] - c[1], c[2] - c[1]]
}

/// Which cells of a coarse grid over the photo the backdrop flood reaches
/// from the border: it steps to a neighbouring cell whose colour differs
/// by at most [`FLOOD_STEP`] (a backdrop shades off slowly, a silhouette
/// is a jump) and whose tint stays within [`BACKDROP_TINT`] of the
/// backdrop's (skin is redder than any plain backdrop).
fn flood(photo: &RgbImage, bg: [f32; 3]) -> (Vec<bool>, Vec<[f32; 3]>, u32, u32) {
    let (w, h) = photo.dimensions();
    let cell = w.max(h).div_ceil(FLOOD_SIDE).max(1);
    let (means, gw, gh) = cell_means(photo, cell);
    let bt = tint(bg);
    let tinted = |c: [f32; 3]| {
        let t = tint(c);
        (t[0] - bt[0]).abs().max((t[1] - bt[1]).abs()) <= BACKDROP_TINT
    };
    let mut reached = vec![false; means.len()];
    let mut queue = VecDeque::new();
    let idx = |x: u32, y: u32| (y * gw + x) as usize;
    // Seeds: border cells of the backdrop's colour.
    for x in 0..gw {
        queue.push_back((x, 0));
        queue.push_back((x, gh - 1));
    }
    for y in 0..gh {
        queue.push_back((0, y));
        queue.push_back((gw - 1, y));
    }
    queue.retain(|&(x, y)| {
        let c = means[idx(x, y)];
        distance_f(c, bg) <= BACKDROP_TOLERANCE && tinted(c)
    });
    for &(x, y) in &queue {
        reached[idx(x, y)] = true;
    }
    while let Some((x, y)) = queue.pop_front() {
        let from = means[idx(x, y)];
        let mut go = |nx: u32, ny: u32| {
            let j = idx(nx, ny);
            let c = means[j];
            if !reached[j] && distance_f(c, from) <= FLOOD_STEP && tinted(c) {
                reached[j] = true;
                queue.push_back((nx, ny));
            }
        };
        neighbours(x, y, gw, gh).for_each(|(nx, ny)| go(nx, ny));
    }
    (reached, means, gw, cell)
}

/// The 4-connected neighbours of cell `(x, y)` on a `gw` × `gh` grid.
fn neighbours(x: u32, y: u32, gw: u32, gh: u32) -> impl Iterator<Item = (u32, u32)> {
    [
        (x > 0).then(|| (x - 1, y)),
        (x + 1 < gw).then_some((x + 1, y)),
        (y > 0).then(|| (x, y - 1)),
        (y + 1 < gh).then_some((x, y + 1)),
    ]
    .into_iter()
    .flatten()
}

#[inline]
fn distance_f(a: [f32; 3], b: [f32; 3]) -> f32 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

/// What clipping a region to the head did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clipped {
    /// Share of the region's weight that lay on the background, 0 to 1.
    pub share: f64,
    /// Pixels of the region taken out.
    pub pixels: usize,
}

/// The region without the photo's background, and how much was clipped:
/// a pixel the head's outline crosses keeps the head's share of its weight
/// and the backdrop's light ([`head_cover`]).
pub fn clip_to_head(photo: &impl Scene, region: &Region) -> Result<(Region, Clipped)> {
    let head = head_cover(photo, region);
    let (kept, clipped, _) = take_out(region.clone(), Some(&head), None)?;
    Ok((kept, clipped))
}

/// Width over which a designed region (a hairline or a preset) fades out
/// toward the head's silhouette, mm: the outline is found to within a few
/// pixels, and dots fade into the hair's fuzz there instead of stopping in
/// a line (or stepping along the flood's cells).
pub const SILHOUETTE_FEATHER_MM: f32 = 2.0;

/// `region` on the head only, fading out over `feather_px` inward from the
/// silhouette (and only there: the region's own edges are left as they
/// are). A photo without a backdrop leaves the region as it is.
pub fn fade_to_silhouette(photo: &impl Scene, region: &Region, feather_px: f32) -> Result<Region> {
    let (w, h) = photo.image().dimensions();
    let window = grow(region.bounds(), feather_px.ceil() as u32 + 2, w, h);
    let area = window.width() as usize * window.height() as usize;
    // Every pixel of the window (the region's bounds grown by the
    // feather): which are backdrop.
    let probe = Region::from_window(w, h, window, vec![1.0; area], 0.0, "the head")?;
    let off = background_pixels(photo, &probe);
    if !off.iter().any(|&o| o) {
        return Ok(region.clone());
    }
    // The head over the window, 0 on the backdrop. The window's own edges
    // are not the silhouette: feathering takes them for the frame's edge,
    // and every backdrop pixel lies inside the window.
    debug_assert_eq!(probe.bounds(), window);
    let head: Vec<f32> = off.iter().map(|&o| if o { 0.0 } else { 1.0 }).collect();
    let head = Region::from_window(w, h, window, head, feather_px, "the head")?;
    region.times(&head, "the region on the head")
}

/// `region` with each pixel's weight cut to its share of skin: less the
/// backdrop's share (`head`) and the hair's (`hair`), the light of both
/// kept out of the pigment's reach ([`crate::region::Kept`]); with what was
/// clipped and how many pixels of weight above zero (not on the backdrop)
/// were wholly hair. A region that loses nothing comes back as it is.
pub(crate) fn take_out(
    mut region: Region,
    head: Option<&HeadCover>,
    hair: Option<&HairCover>,
) -> Result<(Region, Clipped, usize)> {
    let head_share = |i: usize| head.map_or(1.0, |h| h.share[i]);
    let hair_share = |i: usize| hair.map_or(0.0, |h| h.share[i]);
    // What is left of a weight `w` with the head's share `a` and the
    // hair's `s`…
    let factor_of = |w: f32, a: f32, s: f32| if w <= 0.0 { 1.0 } else { (a - s).max(0.0) };
    // … and of pixel `i`'s.
    let factor = |i: usize, w: f32| factor_of(w, head_share(i), hair_share(i));
    // The light kept from the pigment, with the pixel's share of skin: a
    // few pixels, found before the weights change.
    let b = region.bounds();
    let weights = region.bounded_weights();
    let at = |x: u32, y: u32| ((y - b.y0) * b.width() + x - b.x0) as usize;
    let light: Vec<(u32, u32, [f32; 3], f32)> = head
        .map_or(&[][..], |h| &h.backdrop_light[..])
        .iter()
        .chain(hair.map_or(&[][..], |h| &h.light[..]))
        .map(|&(x, y, l)| (x, y, l, factor(at(x, y), weights[at(x, y)])))
        .collect();
    let total = region.total_weight();
    // Each weight times its factor, in place (a second buffer of the
    // bounds' size was 14 MB of fresh pages at 12 MP).
    // The weight on the backdrop, added in the pixels' order (one chain of
    // additions: a pixel wholly head adds nothing, so it is passed over)…
    let mut lost = 0.0f64;
    if let Some(h) = head {
        for (&w, &a) in weights.iter().zip(&h.share) {
            if w > 0.0 && a < 1.0 {
                lost += (w * (1.0 - a)) as f64;
            }
        }
    }
    // … then the weights taken out of in place, a run of them a task.
    const RUN: usize = 1 << 16;
    let (clipped, strands, changed) = region
        .weights_mut()
        .par_chunks_mut(RUN)
        .enumerate()
        .map(|(k, run)| {
            let (mut clipped, mut strands, mut changed) = (0usize, 0usize, false);
            // The run's shares, beside its weights.
            let at = k * RUN..k * RUN + run.len();
            let heads = head.map(|h| &h.share[at.clone()]);
            let hairs = hair.map(|h| &h.share[at]);
            for (j, w) in run.iter_mut().enumerate() {
                if *w <= 0.0 {
                    continue;
                }
                let (a, s) = (heads.map_or(1.0, |h| h[j]), hairs.map_or(0.0, |h| h[j]));
                if a <= 0.0 {
                    clipped += 1;
                } else if s >= 1.0 {
                    strands += 1;
                }
                let f = factor_of(*w, a, s);
                changed |= f < 1.0;
                *w *= f;
            }
            (clipped, strands, changed)
        })
        .reduce(|| (0, 0, false), |a, b| (a.0 + b.0, a.1 + b.1, a.2 | b.2));
    let report = Clipped {
        share: lost / total,
        pixels: clipped,
    };
    if !changed {
        // Every factor was 1: the weights are as they were.
        return Ok((region, report, 0));
    }
    let what = match (head.is_some(), hair.is_some()) {
        (true, false) => "the region clipped to the head (it lies on the background)",
        (false, true) => "the region without its hair",
        _ => "the region clipped to the head and without the client's hair",
    };
    let kept = region
        .refit(what)?
        .with_kept(crate::region::Kept::new(light));
    Ok((kept, report, strands))
}

/// Which pixels of the region (over its bounds, row-major) lie on the photo's backdrop.
pub fn background_pixels(photo: &impl Scene, region: &Region) -> Vec<bool> {
    match photo.backdrop().as_ref() {
        Some(b) => b.pixels(photo.image(), region),
        None => vec![false; region.bounded_weights().len()],
    }
}

/// How much of each pixel of the region is head: see [`Backdrop::cover`];
/// all of every pixel when the photo has no backdrop.
pub fn head_cover(photo: &impl Scene, region: &Region) -> HeadCover {
    match photo.backdrop().as_ref() {
        Some(b) => b.cover(photo.image(), region),
        None => HeadCover {
            share: vec![1.0; region.bounded_weights().len()],
            backdrop_light: Vec::new(),
        },
    }
}

/// The head's share of each pixel of a region, and the backdrop's light in
/// the pixels the outline crosses.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadCover {
    /// Over the region's bounds, row-major: 1 on the head, 0 on the
    /// backdrop, between on the pixels the outline crosses (0 outside
    /// the region).
    pub share: Vec<f32>,
    /// `(x, y, light)`: the backdrop's share of a pixel the outline
    /// crosses, linear RGB (its colour times its share).
    pub backdrop_light: Vec<(u32, u32, [f32; 3])>,
}

/// A pixel of the backdrop's colour beside the head is at least this far
/// (sRGB code values) from it to count toward the head's colour there.
const HEAD_DISTANCE: f32 = 3.0 * PIXEL_TOLERANCE;
/// How many flood cells away from the backdrop a pixel may lie and still
/// be looked at for its share of the backdrop (a backlit outline's bright
/// rim stops the flood a cell or two short of the head).
const BESIDE_CELLS: u32 = 3;
/// Share of a pixel below which the head's share is taken for noise and the
/// pixel for backdrop.
const COVER_NOISE: f32 = 0.1;

/// The backdrop of a photo: its colour and the cells of a coarse grid its
/// flood from the border reaches. Found once per photo ([`Backdrop::find`])
/// and kept by [`crate::Analysis`]; clipping, the silhouette's fade and
/// the head's outline all read it.
#[derive(Debug, Clone)]
pub struct Backdrop {
    colour: [f32; 3],
    reached: Vec<bool>,
    means: Vec<[f32; 3]>,
    gw: u32,
    cell: u32,
}

impl Backdrop {
    /// The backdrop of `photo`; `None` when its border is not a backdrop's
    /// colour (a close-up of skin or hair, see [`WARM_BORDER`]).
    pub fn find(photo: &RgbImage) -> Option<Backdrop> {
        let colour = backdrop(photo);
        if !has_backdrop(colour) {
            return None;
        }
        let (reached, means, gw, cell) = flood(photo, colour);
        Some(Backdrop {
            colour,
            reached,
            means,
            gw,
            cell,
        })
    }

    /// Which pixels of the region (over its bounds, row-major) lie on this
    /// backdrop of `photo`: those with no share of the head
    /// ([`Backdrop::cover`]).
    pub fn pixels(&self, photo: &RgbImage, region: &Region) -> Vec<bool> {
        let weights = region.bounded_weights();
        self.cover(photo, region)
            .share
            .iter()
            .zip(weights)
            .map(|(&s, &w)| w > 0.0 && s <= 0.0)
            .collect()
    }

    /// The head's share of each pixel of the region, to the sub-pixel: 1
    /// away from the backdrop; 0 on it; and where the outline crosses a
    /// pixel, the share of it that is head, found by unmixing its colour
    /// (linear light) between the backdrop's beside it and the head's
    /// beside it (the mean of the pixels within two flood cells that are
    /// clearly unlike the backdrop). A pixel lighter than the backdrop
    /// where the head is darker (the bright rim a backlit outline has) is
    /// backdrop; shares under `COVER_NOISE` are taken for noise.
    pub fn cover(&self, photo: &RgbImage, region: &Region) -> HeadCover {
        let (reached, means, gw, cell) = (&self.reached, &self.means, self.gw, self.cell);
        let gh = (reached.len() / gw as usize) as u32;
        let (w, h) = photo.dimensions();
        let lut = crate::photo::srgb_to_linear_table();
        let lin = |p: [u8; 3]| [lut[p[0] as usize], lut[p[1] as usize], lut[p[2] as usize]];
        let lin_f = |p: [f32; 3]| {
            std::array::from_fn::<f32, 3, _>(|c| lut[(p[c].round().clamp(0.0, 255.0)) as usize])
        };
        let b = region.bounds();
        let bw = b.width() as usize;
        let weights = region.bounded_weights();
        // The backdrop's colour beside a cell: the mean of the reached
        // cells around it (None: no reached cell there, so no backdrop).
        let beside_within = |cx: u32, cy: u32, k: u32| -> Option<[f32; 3]> {
            let (mut s, mut n) = ([0.0f32; 3], 0.0f32);
            for ny in cy.saturating_sub(k)..(cy + k + 1).min(gh) {
                for nx in cx.saturating_sub(k)..(cx + k + 1).min(gw) {
                    let j = (ny * gw + nx) as usize;
                    if reached[j] {
                        for c in 0..3 {
                            s[c] += means[j][c];
                        }
                        n += 1.0;
                    }
                }
            }
            (n > 0.0).then(|| [s[0] / n, s[1] / n, s[2] / n])
        };
        let beside = |cx: u32, cy: u32| -> Option<[f32; 3]> {
            (1..=BESIDE_CELLS).find_map(|k| beside_within(cx, cy, k))
        };
        let r = (BESIDE_CELLS + 1) * cell;
        let head_d2 = below_root(HEAD_DISTANCE);
        // The head's colour near a pixel is the mean of a (2r + 1)² window
        // around it; every pixel of one flood cell shares the cell's
        // backdrop colour, so each cell the outline crosses sums its
        // pixels' windows from one table of running sums (linear light and
        // count of the pixels clearly unlike the backdrop) over the cell
        // grown by r. Summing each window pixel by pixel cost (2r + 1)²
        // (6,561 at 12 MP) per pixel of the outline's band: seconds.
        let (gx0, gx1) = (b.x0 / cell, (b.x1 - 1) / cell + 1);
        let (gy0, gy1) = (b.y0 / cell, (b.y1 - 1) / cell + 1);
        // One flood cell: `put(i, share, light)` for each of its pixels
        // of weight that is not plainly head.
        let cover_cell =
            |cx: u32,
             cy: u32,
             sums: &mut Vec<[f64; 4]>,
             put: &mut dyn FnMut(usize, f32, Option<[f32; 3]>)| {
                let Some(bg) = beside(cx, cy) else {
                    return;
                };
                // The cell's pixels within the region's bounds.
                let (px0, px1) = ((cx * cell).max(b.x0), ((cx + 1) * cell).min(b.x1));
                let (py0, py1) = ((cy * cell).max(b.y0), ((cy + 1) * cell).min(b.y1));
                let mut pending = Vec::new();
                for y in py0..py1 {
                    for x in px0..px1 {
                        let i = (y - b.y0) as usize * bw + (x - b.x0) as usize;
                        if weights[i] <= 0.0 {
                            continue;
                        }
                        if distance(photo.get_pixel(x, y).0, bg) <= PIXEL_TOLERANCE {
                            put(i, 0.0, None);
                        } else {
                            pending.push((i, x, y));
                        }
                    }
                }
                if pending.is_empty() {
                    return;
                }
                // Running sums over the window of the whole cell, kept only
                // at the rows and columns the pending pixels' windows have
                // their corners on (each sum made as the whole table's
                // would be: the same additions in the same order).
                let (wx0, wx1) = (px0.saturating_sub(r), (px1 + r).min(w));
                let (wy0, wy1) = (py0.saturating_sub(r), (py1 + r).min(h));
                let (sw, sh) = ((wx1 - wx0) as usize + 1, (wy1 - wy0) as usize + 1);
                let r_us = r as usize;
                // Table index (0 = before the window) of a window's edges
                // around pixel `v` of the cell: `lo` and `hi`.
                let corners = |lo_w: u32, v0: u32, v1: u32, n: u32, table: usize| {
                    let mut at = vec![usize::MAX; table];
                    let mut k = 0;
                    for v in v0 as usize..v1 as usize {
                        for e in [v.saturating_sub(r_us), (v + r_us + 1).min(n as usize)] {
                            let i = e - lo_w as usize;
                            if at[i] == usize::MAX {
                                at[i] = 0;
                            }
                        }
                    }
                    for a in at.iter_mut().filter(|a| **a != usize::MAX) {
                        *a = k;
                        k += 1;
                    }
                    (at, k)
                };
                let (col_at, ncols) = corners(wx0, px0, px1, w, sw);
                let (row_at, nrows) = corners(wy0, py0, py1, h, sh);
                let kept_cols: Vec<usize> = (0..sw).filter(|&c| col_at[c] != usize::MAX).collect();
                sums.clear();
                sums.resize(nrows * ncols, [0.0; 4]);
                let mut acc = vec![[0.0f64; 4]; ncols];
                // Row 0 of the table is zero, as is column 0 of every row.
                let first = usize::from(kept_cols.first() == Some(&0));
                let raw = photo.as_raw();
                for y in wy0..wy1 {
                    let row = (y - wy0) as usize + 1;
                    let mut run = [0.0f64; 4];
                    let mut next = first;
                    let from = (y as usize * w as usize + wx0 as usize) * 3;
                    let pixels = raw[from..from + (wx1 - wx0) as usize * 3].chunks_exact(3);
                    for (k, q) in pixels.enumerate() {
                        let q = [q[0], q[1], q[2]];
                        // distance(q, bg) > HEAD_DISTANCE, without the root.
                        let d: [f32; 3] = std::array::from_fn(|c| q[c] as f32 - bg[c]);
                        if d[0] * d[0] + d[1] * d[1] + d[2] * d[2] > head_d2 {
                            let l = lin(q);
                            for c in 0..3 {
                                run[c] += l[c] as f64;
                            }
                            run[3] += 1.0;
                        }
                        if kept_cols.get(next) == Some(&(k + 1)) {
                            let above = acc[next];
                            acc[next] = std::array::from_fn(|c| above[c] + run[c]);
                            next += 1;
                        }
                    }
                    if row_at[row] != usize::MAX {
                        let at = row_at[row] * ncols;
                        sums[at..at + ncols].copy_from_slice(&acc);
                    }
                }
                let (bl, wx0, wy0) = (lin_f(bg), wx0 as usize, wy0 as usize);
                for (i, x, y) in pending {
                    let (x, y) = (x as usize, y as usize);
                    let (x0, x1) = (
                        x.saturating_sub(r as usize),
                        (x + r as usize + 1).min(w as usize),
                    );
                    let (y0, y1) = (
                        y.saturating_sub(r as usize),
                        (y + r as usize + 1).min(h as usize),
                    );
                    let at =
                        |xx: usize, yy: usize| sums[row_at[yy - wy0] * ncols + col_at[xx - wx0]];
                    let (a, bb, c, d) = (at(x1, y1), at(x0, y1), at(x1, y0), at(x0, y0));
                    let s: [f64; 4] = std::array::from_fn(|k| a[k] - bb[k] - c[k] + d[k]);
                    let n = s[3].round();
                    if n == 0.0 {
                        put(i, 1.0, None);
                        continue;
                    }
                    let head: [f32; 3] = std::array::from_fn(|k| (s[k] / n) as f32);
                    let pl = lin(photo.get_pixel(x as u32, y as u32).0);
                    let (mut dot, mut len) = (0.0f32, 0.0f32);
                    for c in 0..3 {
                        dot += (pl[c] - bl[c]) * (head[c] - bl[c]);
                        len += (head[c] - bl[c]) * (head[c] - bl[c]);
                    }
                    let share = if len > 0.0 { dot / len } else { 1.0 };
                    let share = ((share - COVER_NOISE) / (1.0 - COVER_NOISE)).clamp(0.0, 1.0);
                    if share >= 1.0 {
                        put(i, 1.0, None);
                    } else if share <= 0.0 {
                        put(i, 0.0, None);
                    } else {
                        let k = 1.0 - share;
                        put(i, share, Some([k * bl[0], k * bl[1], k * bl[2]]));
                    }
                }
            };
        // Every pixel of weight is head unless its cell says otherwise. The
        // cells write their shares in place, a row of cells (a run of the
        // bounds' rows) per task, and hand back the light of the pixels the
        // outline crosses.
        let mut share: Vec<f32> = weights
            .iter()
            .map(|&wt| if wt <= 0.0 { 0.0 } else { 1.0 })
            .collect();
        let mut cell_rows = Vec::with_capacity((gy1 - gy0) as usize);
        let mut rest = &mut share[..];
        for cy in gy0..gy1 {
            let rows = ((cy + 1) * cell).min(b.y1) - (cy * cell).max(b.y0);
            let (these, after) = rest.split_at_mut(rows as usize * bw);
            cell_rows.push((cy, these));
            rest = after;
        }
        let found: Vec<Vec<(usize, [f32; 3])>> = cell_rows
            .into_par_iter()
            .with_max_len(1)
            .map_init(Vec::new, |sums: &mut Vec<[f64; 4]>, (cy, shares)| {
                let mut light = Vec::new();
                let row0 = ((cy * cell).max(b.y0) - b.y0) as usize * bw;
                for cx in gx0..gx1 {
                    cover_cell(cx, cy, sums, &mut |i, s, l| {
                        shares[i - row0] = s;
                        if let Some(l) = l {
                            light.push((i, l));
                        }
                    });
                }
                light
            })
            .collect();
        let mut light: Vec<(usize, [f32; 3])> = found.into_iter().flatten().collect();
        light.sort_unstable_by_key(|&(i, _)| i);
        let backdrop_light = light
            .into_iter()
            .map(|(i, l)| (b.x0 + (i % bw) as u32, b.y0 + (i / bw) as u32, l))
            .collect();
        HeadCover {
            share,
            backdrop_light,
        }
    }
}
/// Points on the head's silhouette, in photo pixels: where the backdrop
/// flood stops around the head that contains `near` (a point on the head,
/// e.g. the treatment region's centre). One point on the outline's left and
/// right for every row of flood cells, one on its top for every column,
/// each refined to the pixel where the colour leaves the backdrop's. `None`
/// when `near` lies on the backdrop or the photo has no backdrop to flood.
pub fn outline(photo: &impl Scene, near: [f32; 2]) -> Option<Outline> {
    photo
        .backdrop()
        .as_ref()
        .as_ref()?
        .outline(photo.image(), near)
}

impl Backdrop {
    /// The outline of the head that contains `near` against this backdrop
    /// of `photo`: see [`outline`].
    pub fn outline(&self, photo: &RgbImage, near: [f32; 2]) -> Option<Outline> {
        let (reached, means, gw, cell, bg) =
            (&self.reached, &self.means, self.gw, self.cell, self.colour);
        let gh = (reached.len() / gw as usize) as u32;
        let (w, h) = photo.dimensions();
        let start = (
            (near[0].max(0.0) as u32 / cell).min(gw - 1),
            (near[1].max(0.0) as u32 / cell).min(gh - 1),
        );
        let idx = |x: u32, y: u32| (y * gw + x) as usize;
        if reached[idx(start.0, start.1)] || !reached.iter().any(|&r| r) {
            return None;
        }
        // The head: the cells the flood did not reach, connected to `near`.
        let mut head = vec![false; reached.len()];
        let mut queue = VecDeque::from([start]);
        head[idx(start.0, start.1)] = true;
        while let Some((x, y)) = queue.pop_front() {
            let mut go = |nx: u32, ny: u32| {
                let j = idx(nx, ny);
                if !reached[j] && !head[j] {
                    head[j] = true;
                    queue.push_back((nx, ny));
                }
            };
            neighbours(x, y, gw, gh).for_each(|(nx, ny)| go(nx, ny));
        }
        // The backdrop colour beside a cell: the reached neighbour's mean.
        let beside = |x: i64, y: i64| -> [f32; 3] {
            if x >= 0
                && y >= 0
                && (x as u32) < gw
                && (y as u32) < gh
                && reached[idx(x as u32, y as u32)]
            {
                means[idx(x as u32, y as u32)]
            } else {
                bg
            }
        };
        let off = |p: [u8; 3], b: [f32; 3]| distance(p, b) > PIXEL_TOLERANCE;
        let c = cell as i64;
        let mut points = Vec::new();
        let mut rows = Vec::new();
        for cy in 0..gh {
            let row: Vec<u32> = (0..gw).filter(|&cx| head[idx(cx, cy)]).collect();
            let (Some(&l), Some(&r)) = (row.first(), row.last()) else {
                continue;
            };
            let y = (cy * cell + cell / 2).min(h - 1);
            let b = beside(l as i64 - 1, cy as i64);
            let x0 = ((l as i64 - 1) * c).max(0);
            let x1 = ((l as i64 + 2) * c).min(w as i64);
            let left = (x0..x1).find(|&x| off(photo.get_pixel(x as u32, y).0, b));
            let b = beside(r as i64 + 1, cy as i64);
            let x0 = ((r as i64 - 1) * c).max(0);
            let x1 = ((r as i64 + 2) * c).min(w as i64);
            let right = (x0..x1)
                .rev()
                .find(|&x| off(photo.get_pixel(x as u32, y).0, b))
                .map(|x| x + 1);
            let yc = y as f32 + 0.5;
            for x in left.iter().chain(&right) {
                points.push([*x as f32, yc]);
            }
            if let (Some(l), Some(r)) = (left, right) {
                rows.push([yc, l as f32, r as f32]);
            }
        }
        let mut top = f32::INFINITY;
        for cx in 0..gw {
            let Some(t) = (0..gh).find(|&cy| head[idx(cx, cy)]) else {
                continue;
            };
            let x = (cx * cell + cell / 2).min(w - 1);
            let b = beside(cx as i64, t as i64 - 1);
            let y0 = ((t as i64 - 1) * c).max(0);
            let y1 = ((t as i64 + 2) * c).min(h as i64);
            if let Some(y) = (y0..y1).find(|&y| off(photo.get_pixel(x, y as u32).0, b)) {
                points.push([x as f32 + 0.5, y as f32]);
                top = top.min(y as f32);
            }
        }
        top.is_finite().then_some(Outline { points, rows, top })
    }
}

/// The head's silhouette as [`outline`] finds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    /// Points on the silhouette, photo pixels (x, y).
    pub points: Vec<[f32; 2]>,
    /// The silhouette's rows, top down: the row's y and its left and right
    /// edges, px.
    pub rows: Vec<[f32; 3]>,
    /// The highest row of the silhouette, px.
    pub top: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Comparing a squared distance with `below_root` is comparing its
    /// root with the distance, at and around the boundary and far off.
    #[test]
    fn below_root_splits_squares_as_roots_do() {
        for t in [0.0f32, 1.0, 3.0, 14.0, 42.0, 42.5, 1e3, 0.3] {
            let b = below_root(t);
            assert!(b.sqrt() <= t && b.next_up().sqrt() > t, "{t}: {b}");
            let mut x = (t * t).next_down().next_down().next_down();
            for _ in 0..8 {
                assert_eq!(x > b, x.sqrt() > t, "{t}: {x}");
                x = x.next_up();
            }
            for x in [0.0, t, t * t * 0.5, t * t * 2.0 + 1.0, 1e9] {
                assert_eq!(x > b, x.sqrt() > t, "{t}: {x}");
            }
        }
    }

    /// A grey backdrop with a skin-coloured disc (the head) of radius 60 at
    /// (100, 100).
    fn head() -> RgbImage {
        RgbImage::from_fn(200, 200, |x, y| {
            let (dx, dy) = (x as f32 - 100.0, y as f32 - 100.0);
            if dx * dx + dy * dy <= 3600.0 {
                image::Rgb([205, 160, 140])
            } else {
                image::Rgb([200, 204, 206])
            }
        })
    }

    /// A 200 × 200 region of full weight over `xs` × `ys`, 0 elsewhere.
    fn boxed(xs: std::ops::Range<u32>, ys: std::ops::Range<u32>) -> Region {
        let weights = (0..200 * 200)
            .map(|i| {
                let (x, y) = (i % 200, i / 200);
                if xs.contains(&x) && ys.contains(&y) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        Region::from_weights(200, 200, weights, 0.0, "t").unwrap()
    }

    #[test]
    fn a_design_fades_out_toward_the_silhouette_only() {
        let photo = head();
        // A box from inside the disc (its lower edge at y 120) up past its top.
        let region = boxed(60..140, 0..120);
        let faded = fade_to_silhouette(&photo, &region, 6.0).unwrap();
        let at = |x: f32, y: f32| faded.weight_at(x + 0.5, y + 0.5);
        // Nothing on the backdrop, full weight well inside, a ramp between.
        assert_eq!(at(100.0, 35.0), 0.0);
        assert_eq!(at(100.0, 60.0), 1.0);
        let ramp: Vec<f32> = (40..48).map(|y| at(100.0, y as f32)).collect();
        assert!(ramp.windows(2).all(|w| w[0] <= w[1]), "{ramp:?}");
        assert!(ramp[0] < 0.5 && ramp[7] > 0.5, "{ramp:?}");
        // The box's own lower edge, inside the head, is not faded.
        assert_eq!(at(100.0, 119.0), 1.0);
        assert_eq!(at(100.0, 120.0), 0.0);
    }

    #[test]
    fn fading_over_a_window_equals_fading_over_the_whole_frame() {
        let photo = head();
        // A box spilling past the disc's upper right.
        let region = boxed(90..175, 20..110);
        let faded = fade_to_silhouette(&photo, &region, 6.0).unwrap();
        // The same over the whole frame: the head is 1 everywhere but on
        // the backdrop, feathered, times the region.
        let all = Region::from_weights(200, 200, vec![1.0; 40_000], 0.0, "t").unwrap();
        let off = background_pixels(&photo, &all);
        let head: Vec<f32> = off.iter().map(|&o| if o { 0.0 } else { 1.0 }).collect();
        let head = Region::from_weights(200, 200, head, 6.0, "t").unwrap();
        let whole = region.times(&head, "t").unwrap();
        assert_eq!(faded.bounds(), whole.bounds());
        assert_eq!(faded.bounded_weights(), whole.bounded_weights());
        assert!(faded.total_weight() < 0.9 * region.total_weight());
    }

    #[test]
    fn a_close_up_of_skin_has_no_backdrop() {
        // Skin with a little texture to the frame's edge: nothing is clipped.
        let photo = RgbImage::from_fn(200, 200, |x, y| {
            let v = ((x * 7 + y * 13) % 9) as u8;
            image::Rgb([200 + v, 160 + v, 140 + v])
        });
        let region = Region::from_weights(200, 200, vec![1.0; 40_000], 0.0, "t").unwrap();
        assert!(background_pixels(&photo, &region).iter().all(|&b| !b));
        assert!(outline(&photo, [100.0, 100.0]).is_none());
        let (kept, c) = clip_to_head(&photo, &region).unwrap();
        assert_eq!(c.pixels, 0);
        assert_eq!(kept.total_weight(), region.total_weight());
    }

    #[test]
    fn a_spilling_region_loses_only_the_background() {
        let photo = head();
        // A square spilling past the disc's top.
        let region = boxed(70..130, 20..80);
        let (clipped, c) = clip_to_head(&photo, &region).unwrap();
        for y in 0..200u32 {
            for x in 0..200u32 {
                let (dx, dy) = (x as f32 + 0.5 - 100.0, y as f32 + 0.5 - 100.0);
                let w = clipped.weight_at(x as f32 + 0.5, y as f32 + 0.5);
                if dx * dx + dy * dy > 61.0 * 61.0 {
                    assert_eq!(w, 0.0, "background ({x}, {y}) kept");
                } else if dx * dx + dy * dy < 59.0 * 59.0 {
                    assert_eq!(
                        w,
                        region.weight_at(x as f32 + 0.5, y as f32 + 0.5),
                        "head ({x}, {y}) clipped"
                    );
                }
            }
        }
        // The share reported is what lies outside the disc.
        let outside = (0..200 * 200)
            .filter(|i| {
                let (x, y) = (i % 200, i / 200);
                let (dx, dy) = (x as f32 + 0.5 - 100.0, y as f32 + 0.5 - 100.0);
                (70..130).contains(&x) && (20..80).contains(&y) && dx * dx + dy * dy > 3600.0
            })
            .count();
        assert!(
            (c.pixels as f64 - outside as f64).abs() < 0.05 * outside as f64,
            "{c:?} vs {outside}"
        );
        assert!((c.share - c.pixels as f64 / 3600.0).abs() < 1e-9, "{c:?}");
    }
}
