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
    luminance_of(srgb_to_linear_table(), &p.0)
}

/// [`luminance`] of a pixel's three bytes, with the table at hand.
#[inline(always)]
fn luminance_of(lut: &[f32; 256], p: &[u8]) -> f32 {
    0.2126 * lut[p[0] as usize] + 0.7152 * lut[p[1] as usize] + 0.0722 * lut[p[2] as usize]
}

/// Each channel's term of [`luminance_of`] for every code: the same
/// products, so a pixel's luminance is its three terms added in the same
/// order, to the same value, with no multiplication.
struct LumaTerms([[f32; 256]; 3]);

impl LumaTerms {
    fn get() -> &'static LumaTerms {
        static T: std::sync::OnceLock<LumaTerms> = std::sync::OnceLock::new();
        T.get_or_init(|| {
            let lut = srgb_to_linear_table();
            let term = |k: f32| std::array::from_fn(|i| k * lut[i]);
            LumaTerms([term(0.2126), term(0.7152), term(0.0722)])
        })
    }

    /// [`luminance_of`] a pixel's three bytes.
    #[inline(always)]
    fn of(&self, p: &[u8]) -> f32 {
        let [r, g, b] = &self.0;
        r[p[0] as usize] + g[p[1] as usize] + b[p[2] as usize]
    }
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

/// A hair pixel lighter than the skin (blond, grey or white hair) is
/// lighter than this multiple of the skin's median luminance…
pub const HAIR_LIGHTER: f32 = 1.4;
/// … and than this multiple of both pixels two steps away across it, in
/// one of four directions: a light strand is a thin ridge, where a
/// highlight's edge is light on one side only.
pub const HAIR_RIDGE: f32 = 1.2;
/// A light strand's 9 × 9 neighbourhood is darker on average than this
/// multiple of the skin's median luminance (not a highlight).
pub const HAIR_LIGHT_SURROUND: f32 = 1.25;
/// Connected groups of strand pixels this small (8-connected) are pores,
/// dots or noise, not strands.
pub const MAX_SPECK_PX: usize = 3;

/// The client's hair over a rectangle: how much of each pixel is strand,
/// and the strand's light in the pixels it covers in part.
#[derive(Debug, Clone, PartialEq)]
pub struct HairCover {
    /// Over the rectangle, row-major: 1 where a pixel is strand, a share
    /// beside a strand, 0 on skin.
    pub share: Vec<f32>,
    /// `(x, y, light)` of the pixels partly covered: the strand's share of
    /// the pixel's light (linear RGB, its colour times its share).
    pub light: Vec<(u32, u32, [f32; 3])>,
}

/// Which pixels of `rect` (row-major) are wholly hair, judged against a
/// skin of luminance `skin` ([`hair_cover`] at full share).
pub fn hair_pixels(photo: &RgbImage, rect: Rect, skin: f32) -> Vec<bool> {
    match find_hair(photo, rect, skin, false, OWN_SUMS_BELOW, None) {
        Found::Strands(strand) => strand,
        Found::Cover(_) => unreachable!("asked for the strands alone"),
    }
}

/// [`hair_pixels`] right at the pixels of `wanted` (over `rect`,
/// row-major), judging only those within [`within_strand_reach`] of them:
/// the other pixels are no strand.
pub(crate) fn hair_pixels_at(
    photo: &RgbImage,
    rect: Rect,
    skin: f32,
    wanted: &[bool],
) -> Vec<bool> {
    let only = within_strand_reach(rect.width() as usize, wanted);
    match find_hair(photo, rect, skin, false, OWN_SUMS_BELOW, Some(&only)) {
        Found::Strands(strand) => strand,
        Found::Cover(_) => unreachable!("asked for the strands alone"),
    }
}

/// The pixels of a row-major grid `width` wide within [`MAX_SPECK_PX`]
/// steps (8-connected: a square) of one of `set`'s. A strand pixel's group
/// is a strand when it has more than `MAX_SPECK_PX` pixels, and then its
/// `MAX_SPECK_PX + 1` pixels nearest that pixel along the group are within
/// `MAX_SPECK_PX` steps of it: so a pixel of `set` is judged the same from
/// these pixels alone as from all.
pub(crate) fn within_strand_reach(width: usize, set: &[bool]) -> Vec<bool> {
    let k = MAX_SPECK_PX;
    if width == 0 {
        return Vec::new();
    }
    // Across each row: within k columns of a pixel of the set…
    let mut across = vec![false; set.len()];
    across
        .par_chunks_mut(width)
        .zip(set.par_chunks(width))
        .for_each(|(out, row)| {
            // Columns since the last pixel of the set, from the left, then
            // from the right.
            let mut since = usize::MAX;
            for (o, &s) in out.iter_mut().zip(row) {
                since = if s { 0 } else { since.saturating_add(1) };
                *o = since <= k;
            }
            since = usize::MAX;
            for (o, &s) in out.iter_mut().zip(row).rev() {
                since = if s { 0 } else { since.saturating_add(1) };
                *o |= since <= k;
            }
        });
    // … then down the columns: within k rows of such a pixel.
    let rows = set.len() / width;
    let mut out = vec![false; set.len()];
    out.par_chunks_mut(width).enumerate().for_each(|(y, out)| {
        for yy in y.saturating_sub(k)..(y + k + 1).min(rows) {
            for (o, &a) in out.iter_mut().zip(&across[yy * width..][..width]) {
                *o |= a;
            }
        }
    });
    out
}

/// What [`find_hair`] found: the strands alone, or their cover.
enum Found {
    Strands(Vec<bool>),
    Cover(HairCover),
}

/// The hair over `rect`, judged against a skin of luminance `skin`.
///
/// A strand pixel is dark (below [`HAIR_DARKER`] of the skin and
/// [`HAIR_LOCAL`] of its 9 × 9 neighbourhood's mean) or light (above
/// [`HAIR_LIGHTER`] of the skin and a thin ridge, [`HAIR_RIDGE`], outside
/// highlights, [`HAIR_LIGHT_SURROUND`]); groups of
/// at most [`MAX_SPECK_PX`] such pixels are dropped. Strand pixels are hair
/// wholly; a pixel beside one is hair by the share its luminance lies
/// between its neighbourhood's (the skin) and the strand's.
pub fn hair_cover(photo: &RgbImage, rect: Rect, skin: f32) -> HairCover {
    match find_hair(photo, rect, skin, true, OWN_SUMS_BELOW, None) {
        Found::Cover(cover) => cover,
        Found::Strands(_) => unreachable!("asked for the cover"),
    }
}

/// The strands over `rect` and, when `cover`, the share of the pixels
/// beside them ([`hair_cover`]); the strands alone are [`hair_pixels`].
///
/// A pixel beside a strand adds up its own neighbourhood when fewer than
/// `own_below` of its band's pixels are beside strands, and reads the
/// band's sums otherwise: the same means either way.
///
/// With `only` (over `rect`, row-major), just its pixels are judged: the
/// others are no strand, and a pixel of `only` is a strand only if the
/// group it would be in lies within `only` far enough to count (see
/// [`within_strand_reach`]).
fn find_hair(
    photo: &RgbImage,
    rect: Rect,
    skin: f32,
    cover: bool,
    own_below: f32,
    only: Option<&[bool]>,
) -> Found {
    let (w, h) = (photo.width() as i64, photo.height() as i64);
    // Luminance over the rect grown by the neighbourhood.
    let gx0 = (rect.x0 as i64 - LOCAL).max(0);
    let gy0 = (rect.y0 as i64 - LOCAL).max(0);
    let gx1 = (rect.x1 as i64 + LOCAL + 1).min(w);
    let gy1 = (rect.y1 as i64 + LOCAL + 1).min(h);
    let gw = (gx1 - gx0) as usize;
    let gh = (gy1 - gy0) as usize;
    // The sum of each pixel's row of its 9 × 9 neighbourhood (a 9-wide
    // sum of luminance, clipped at the grid's edges): the neighbourhood's
    // mean adds 9 of these instead of 81 luminances, in the same order, so
    // to the same value. A pixel's own luminance is looked up again when
    // needed rather than kept for the whole grid. The sums of a row of the
    // grid's luminances `row_lum` into `out`.
    let hsum_row = |row_lum: &[f32], out: &mut [f32]| {
        // Each pixel's 9 added left to right, a column of the
        // neighbourhood at a time across the row (for the cores to do side
        // by side): the same additions in the same order.
        out.fill(0.0);
        for d in -LOCAL..=LOCAL {
            // The pixels x with x + d in the row.
            let (from, to) = ((-d).max(0), row_lum.len() as i64 - d.max(0));
            if from >= to {
                continue;
            }
            let src = &row_lum[(from + d) as usize..(to + d) as usize];
            for (o, &l) in out[from as usize..to as usize].iter_mut().zip(src) {
                *o += l;
            }
        }
    };
    // The sums are made for a band of the rectangle's rows at a time (and
    // the rows around it that its neighbourhoods reach), never for the
    // whole grid (15-20 MB of fresh pages at 12 MP): the grid's rows that
    // the rectangle's rows `r0..r1` read…
    let band_rows = |r0: usize, r1: usize| -> (usize, usize) {
        let first = rect.y0 as i64 + r0 as i64 - gy0;
        let last = rect.y0 as i64 + r1 as i64 - 1 - gy0;
        (
            (first - LOCAL).max(0) as usize,
            (last + LOCAL + 1).min(gh as i64) as usize,
        )
    };
    // The photo's bytes of the grid's row `j`.
    let grid_row = |j: usize| {
        let start = ((gy0 as usize + j) * w as usize + gx0 as usize) * 3;
        &photo.as_raw()[start..start + gw * 3]
    };
    // … and their luminances in the grid's columns `spans`, into `lums`
    // (the other columns' left as they were)…
    let terms = LumaTerms::get();
    let band_lums = |(ya, yb): (usize, usize), spans: &[(usize, usize)], lums: &mut Vec<f32>| {
        lums.resize((yb - ya) * gw, 0.0);
        for j in ya..yb {
            let (lum, bytes) = (&mut lums[(j - ya) * gw..][..gw], grid_row(j));
            for &(a, b) in spans {
                for (l, p) in lum[a..b]
                    .iter_mut()
                    .zip(bytes[a * 3..b * 3].chunks_exact(3))
                {
                    *l = terms.of(p);
                }
            }
        }
    };
    // … and their sums, from those luminances into `sums`: right in each
    // span's columns but the `LOCAL` at its ends inside the grid.
    let band_row_sums =
        |(ya, yb): (usize, usize), spans: &[(usize, usize)], lums: &[f32], sums: &mut Vec<f32>| {
            sums.resize((yb - ya) * gw, 0.0);
            for j in ya..yb {
                let at = (j - ya) * gw;
                for &(a, b) in spans {
                    hsum_row(&lums[at + a..at + b], &mut sums[at + a..at + b]);
                }
            }
        };
    let whole_rows = [(0, gw)];
    let band_sums = |rows: (usize, usize), lums: &mut Vec<f32>, sums: &mut Vec<f32>| {
        band_lums(rows, &whole_rows, lums);
        band_row_sums(rows, &whole_rows, lums, sums);
    };
    let rw = rect.width() as usize;
    let rh = rect.height() as usize;
    let at = |x: i64, y: i64| luminance(photo.get_pixel((x + gx0) as u32, (y + gy0) as u32));
    // The mean of the 9 × 9 neighbourhood (grid coordinates), from the sums
    // of a band of the grid's rows from `ya`.
    let local = |x: i64, y: i64, sums: &[f32], ya: usize| {
        let (x0, y0) = ((x - LOCAL).max(0) as usize, (y - LOCAL).max(0) as usize);
        let (x1, y1) = (
            (x + LOCAL + 1).min(gw as i64) as usize,
            (y + LOCAL + 1).min(gh as i64) as usize,
        );
        let s: f32 = (y0..y1).map(|yy| sums[(yy - ya) * gw + x as usize]).sum();
        s / ((x1 - x0) * (y1 - y0)) as f32
    };
    // The same mean as `local`, from the pixels themselves: each row's 9
    // (clipped) added left to right from zero, as `hsum_row` adds them, and
    // the rows' sums added top to bottom.
    let own_local = |x: i64, y: i64| {
        let (x0, y0) = ((x - LOCAL).max(0), (y - LOCAL).max(0));
        let (x1, y1) = (
            (x + LOCAL + 1).min(gw as i64),
            (y + LOCAL + 1).min(gh as i64),
        );
        let s: f32 = (y0..y1)
            .map(|yy| {
                let row = grid_row(yy as usize);
                let mut r = 0.0f32;
                for p in row[x0 as usize * 3..x1 as usize * 3].chunks_exact(3) {
                    r += terms.of(p);
                }
                r
            })
            .sum();
        s / ((x1 - x0) * (y1 - y0)) as f32
    };
    // The same mean again, from the luminances of a band of the grid's
    // rows from `ya` (as `own_local`, without looking the pixels up).
    let lums_local = |x: i64, y: i64, lums: &[f32], ya: usize| {
        let (x0, y0) = ((x - LOCAL).max(0) as usize, (y - LOCAL).max(0) as usize);
        let (x1, y1) = (
            (x + LOCAL + 1).min(gw as i64) as usize,
            (y + LOCAL + 1).min(gh as i64) as usize,
        );
        let s: f32 = (y0..y1)
            .map(|yy| {
                let mut r = 0.0f32;
                for &l in &lums[(yy - ya) * gw + x0..(yy - ya) * gw + x1] {
                    r += l;
                }
                r
            })
            .sum();
        s / ((x1 - x0) * (y1 - y0)) as f32
    };
    let grid = |i: usize| {
        (
            rect.x0 as i64 + (i % rw) as i64 - gx0,
            rect.y0 as i64 + (i / rw) as i64 - gy0,
        )
    };
    let (dark, light) = (HAIR_DARKER * skin, HAIR_LIGHTER * skin);
    // A pixel at grid (x, y) is a strand's core when dark (below `dark`)
    // and darker than its neighbourhood's mean, or light (above `light`),
    // a thin ridge and not in a highlight. Whether a light pixel of
    // luminance `l` is a ridge, `at` being the luminance at grid (x, y)
    // (from a band's, where the neighbours two rows away are too).
    let ridge = |x: i64, y: i64, l: f32, at: &dyn Fn(i64, i64) -> f32| {
        let v =
            |x: i64, y: i64| (x >= 0 && y >= 0 && x < gw as i64 && y < gh as i64).then(|| at(x, y));
        [(2, 0), (0, 2), (2, 2), (2, -2)].iter().any(|&(dx, dy)| {
            match (v(x - dx, y - dy), v(x + dx, y + dy)) {
                (Some(a), Some(b)) => l > HAIR_RIDGE * a.max(b),
                _ => false,
            }
        })
    };
    // A band of rows at a time, each pixel judged; the few dark enough, or
    // light ridges, add up their neighbourhood's mean.
    // Each pixel's state in one byte: a strand's core, seen by the grouping
    // below, a strand, beside a strand (four arrays of bools were 14 MB
    // of fresh pages at 12 MP).
    let mut state = vec![0u8; rw * rh];
    state
        .par_chunks_mut((rw * BAND).max(1))
        .enumerate()
        .for_each_init(
            || (Vec::new(), Vec::new(), Vec::new(), Vec::new()),
            |(lums, sums, spans, looked): &mut Scratch, (band, out)| {
                let r0 = band * BAND;
                let rows = band_rows(r0, r0 + out.len() / rw);
                let gx = (rect.x0 as i64 - gx0) as usize;
                // The grid's columns whose luminance the band's pixels to
                // judge read: every column, or those within `LOCAL` of a
                // column with one of `only`'s pixels in the band.
                spans.clear();
                match only {
                    None => spans.push((0, gw)),
                    Some(only) => {
                        let judged = &only[r0 * rw..r0 * rw + out.len()];
                        let mut any = vec![false; rw];
                        for row in judged.chunks_exact(rw) {
                            for (a, &j) in any.iter_mut().zip(row) {
                                *a |= j;
                            }
                        }
                        let mut c = 0;
                        while c < rw {
                            if !any[c] {
                                c += 1;
                                continue;
                            }
                            let run = c;
                            while c < rw && any[c] {
                                c += 1;
                            }
                            let a = (gx + run).saturating_sub(LOCAL as usize);
                            let b = (gx + c + LOCAL as usize).min(gw);
                            match spans.last_mut() {
                                Some(last) if last.1 >= a => last.1 = b,
                                _ => spans.push((a, b)),
                            }
                        }
                        if spans.is_empty() {
                            return;
                        }
                    }
                }
                let judge = |i: usize| only.is_none_or(|o| o[r0 * rw + i]);
                band_lums(rows, spans, lums);
                // The pixels whose neighbourhood's mean decides: the dark,
                // and the light ridges (most pixels are skin, neither dark
                // nor light; a flat light backdrop is no ridge). The band's
                // row sums are made only when they are many: a few add up
                // their own from the luminances (the same sums in the same
                // order).
                let at = |x: i64, y: i64| lums[(y as usize - rows.0) * gw + x as usize];
                looked.clear();
                for k in 0..out.len() / rw {
                    let y = rect.y0 as i64 + (r0 + k) as i64 - gy0;
                    let lum = &lums[(y as usize - rows.0) * gw + gx..][..rw];
                    for (c, &l) in lum.iter().enumerate() {
                        if (dark..=light).contains(&l) || !judge(k * rw + c) {
                            continue;
                        }
                        if l < dark || ridge((gx + c) as i64, y, l, &at) {
                            looked.push((k * rw + c) as u32);
                        }
                    }
                }
                let whole = looked.len() as f32 >= own_below * out.len() as f32;
                if whole {
                    band_row_sums(rows, spans, lums, sums);
                }
                let (lums, sums) = (&lums[..], &sums[..]);
                for &i in looked.iter() {
                    let (c, k) = (i as usize % rw, i as usize / rw);
                    let (x, y) = ((gx + c) as i64, rect.y0 as i64 + (r0 + k) as i64 - gy0);
                    let mean = if whole {
                        local(x, y, sums, rows.0)
                    } else {
                        lums_local(x, y, lums, rows.0)
                    };
                    let l = lums[(y as usize - rows.0) * gw + x as usize];
                    let core = if l < dark {
                        l < HAIR_LOCAL * mean
                    } else {
                        // Outside highlights only: on a shiny scalp a glint
                        // on stubble is a light ridge too, and cannot be
                        // told from a grey hair.
                        mean < HAIR_LIGHT_SURROUND * skin
                    };
                    out[i as usize] = u8::from(core) * CORE;
                }
            },
        );
    // Groups of at most MAX_SPECK_PX strand pixels are not strands.
    let mut group = Vec::new();
    let mut strand_px = Vec::new();
    // Most pixels are no core: eight bytes of zero at a time are passed.
    let n = state.len();
    let mut next = 0;
    while next < n {
        if next % 8 == 0 && next + 8 <= n {
            let eight = u64::from_ne_bytes(state[next..next + 8].try_into().expect("8 bytes"));
            if eight == 0 {
                next += 8;
                continue;
            }
        }
        let start = next;
        next += 1;
        if state[start] != CORE {
            continue;
        }
        group.clear();
        group.push(start);
        state[start] |= SEEN;
        let mut k = 0;
        while k < group.len() {
            let i = group[k];
            k += 1;
            let (x, y) = ((i % rw) as i64, (i / rw) as i64);
            for (dx, dy) in NEIGHBOURS {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= rw as i64 || ny >= rh as i64 {
                    continue;
                }
                let j = ny as usize * rw + nx as usize;
                if state[j] == CORE {
                    state[j] |= SEEN;
                    group.push(j);
                }
            }
        }
        if group.len() > MAX_SPECK_PX {
            for &i in &group {
                state[i] |= STRAND;
            }
            strand_px.extend_from_slice(&group);
        }
    }
    if !cover {
        // In place: a byte a pixel either way.
        return Found::Strands(state.into_iter().map(|s| s & STRAND != 0).collect());
    }
    // The pixels beside a strand (the only ones a strand covers in part),
    // marked from the few strand pixels rather than looked for around
    // every pixel of the rectangle.
    for &i in &strand_px {
        let (x, y) = ((i % rw) as i64, (i / rw) as i64);
        for (dx, dy) in NEIGHBOURS {
            let (nx, ny) = (x + dx, y + dy);
            if nx >= 0 && ny >= 0 && nx < rw as i64 && ny < rh as i64 {
                state[ny as usize * rw + nx as usize] |= NEAR;
            }
        }
    }
    drop(strand_px);
    let state = state;
    let strand = |i: usize| state[i] & STRAND != 0;
    // Beside a strand: the share of the pixel it covers.
    let lut = srgb_to_linear_table();
    let lin = |x: i64, y: i64| {
        let p = photo.get_pixel((x + gx0) as u32, (y + gy0) as u32).0;
        [lut[p[0] as usize], lut[p[1] as usize], lut[p[2] as usize]]
    };
    // The share of each pixel row by row, and the light of the few a
    // strand covers in part: a list of them rather than an optional light
    // for every pixel of the rectangle (20 bytes a pixel, 73 MB at 12 MP).
    // `local` is the neighbourhood's mean (`local` above, over a band's sums).
    let fringe = |i: usize, local: &dyn Fn(i64, i64) -> f32| -> (f32, Option<[f32; 3]>) {
        if strand(i) {
            return (1.0, None);
        }
        if state[i] & NEAR == 0 {
            return (0.0, None);
        }
        let (x, y) = ((i % rw) as i64, (i / rw) as i64);
        let (mut hair, mut n) = ([0.0f32; 3], 0.0f32);
        for (dx, dy) in NEIGHBOURS {
            let (nx, ny) = (x + dx, y + dy);
            if nx < 0 || ny < 0 || nx >= rw as i64 || ny >= rh as i64 {
                continue;
            }
            if strand(ny as usize * rw + nx as usize) {
                let (qx, qy) = grid(ny as usize * rw + nx as usize);
                let l = lin(qx, qy);
                for c in 0..3 {
                    hair[c] += l[c];
                }
                n += 1.0;
            }
        }
        if n == 0.0 {
            return (0.0, None);
        }
        let hair = [hair[0] / n, hair[1] / n, hair[2] / n];
        let hl = 0.2126 * hair[0] + 0.7152 * hair[1] + 0.0722 * hair[2];
        let (gx, gy) = grid(i);
        let (l, skin_here) = (at(gx, gy), local(gx, gy));
        let share = if (skin_here - hl).abs() > 1e-4 {
            ((skin_here - l) / (skin_here - hl)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        if share <= 0.0 {
            (0.0, None)
        } else {
            // Never more than the whole pixel: at full share it is strand.
            let share = share.min(0.99);
            (
                share,
                Some([share * hair[0], share * hair[1], share * hair[2]]),
            )
        }
    };
    let mut share = vec![0.0f32; rw * rh];
    let light: Vec<Vec<(u32, u32, [f32; 3])>> = share
        .par_chunks_mut((rw * BAND).max(1))
        .enumerate()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(lums, sums): &mut (Vec<f32>, Vec<f32>), (band, out)| {
                let first = band * BAND * rw;
                let rows = band_rows(band * BAND, band * BAND + out.len() / rw);
                // The band's sums only where a pixel beside a strand needs
                // them, and only when there are many such pixels: a few
                // add up their own neighbourhoods, to the same sums in the
                // same order.
                let beside = state[first..first + out.len()]
                    .iter()
                    .filter(|&&s| s & (NEAR | STRAND) == NEAR)
                    .count();
                let whole = beside as f32 >= own_below * out.len() as f32;
                if whole {
                    band_sums(rows, lums, sums);
                }
                let banded = |x: i64, y: i64| local(x, y, sums, rows.0);
                let own = |x: i64, y: i64| own_local(x, y);
                let local: &dyn Fn(i64, i64) -> f32 = if whole { &banded } else { &own };
                let mut light = Vec::new();
                for (k, s) in out.iter_mut().enumerate() {
                    let i = first + k;
                    let (v, l) = fringe(i, local);
                    *s = v;
                    if let Some(l) = l {
                        light.push((rect.x0 + (i % rw) as u32, rect.y0 + (i / rw) as u32, l));
                    }
                }
                light
            },
        )
        .collect();
    Found::Cover(HairCover {
        share,
        light: light.into_iter().flatten().collect(),
    })
}

/// A band's luminances, row sums, columns to make, and pixels whose
/// neighbourhood's mean is looked at, kept from band to band.
type Scratch = (Vec<f32>, Vec<f32>, Vec<(usize, usize)>, Vec<u32>);

/// [`find_hair`]'s state of a pixel: a strand's core (dark or light enough)…
const CORE: u8 = 1;
/// … looked at by the grouping of cores into strands…
const SEEN: u8 = 2;
/// … in a strand (a group of more than [`MAX_SPECK_PX`] cores)…
const STRAND: u8 = 4;
/// … or beside one.
const NEAR: u8 = 8;

/// The share of a band's pixels beside strands under which each adds up
/// its own neighbourhood (81 luminances) rather than the band's sums being
/// made (about 10 operations for every pixel of the band).
const OWN_SUMS_BELOW: f32 = 10.0 / 81.0;

/// Rows of the rectangle [`find_hair`] judges at a time, from the sums of
/// those rows and the [`LOCAL`] rows on each side.
const BAND: usize = 64;

/// The 8-connected neighbours' offsets.
const NEIGHBOURS: [(i64, i64); 8] = [
    (-1, -1),
    (0, -1),
    (1, -1),
    (-1, 0),
    (1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

/// The region without the hair strands inside it (and with the share of
/// the pixels beside them that they cover), and how many pixels were
/// wholly hair. A region with no hair comes back as it is.
pub fn keep_hair(photo: &RgbImage, region: &Region) -> Result<(Region, usize)> {
    let hair = hair_cover(photo, region.bounds(), skin_luminance(photo, region));
    let (kept, _, n) = crate::head::take_out(region.clone(), None, Some(&hair))?;
    Ok((kept, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pixel_beside_a_strand_has_the_same_share_from_its_own_sums_as_from_its_bands() {
        // Strands of both kinds, sparse at the top and dense at the bottom,
        // on shaded skin, over a rectangle cut at the photo's edges and
        // inside them.
        let photo = RgbImage::from_fn(150, 200, |x, y| {
            let shade = (200 - x / 2 - y / 8) as u8;
            let dense = y > 100 && (x + y / 3) % 4 == 0;
            let sparse = y <= 100 && x % 23 == 5 && y % 31 > 3;
            if dense || sparse {
                image::Rgb([50 + (x % 7) as u8, 40, 35 + (y % 5) as u8])
            } else if x % 37 == 11 && y > 20 {
                image::Rgb([250, 248, 245])
            } else {
                image::Rgb([shade, shade - 30, shade - 50])
            }
        });
        let skin = luminance(&image::Rgb([170, 140, 120]));
        for rect in [
            Rect {
                x0: 0,
                y0: 0,
                x1: 150,
                y1: 200,
            },
            Rect {
                x0: 3,
                y0: 7,
                x1: 141,
                y1: 190,
            },
        ] {
            let cover = |own_below| match find_hair(&photo, rect, skin, true, own_below, None) {
                Found::Cover(c) => c,
                Found::Strands(_) => unreachable!(),
            };
            let (band, own) = (cover(0.0), cover(f32::INFINITY));
            assert!(band.light.len() > 100, "too few pixels beside strands");
            let bits = |c: &HairCover| {
                let s: Vec<u32> = c.share.iter().map(|v| v.to_bits()).collect();
                let l: Vec<_> = c
                    .light
                    .iter()
                    .map(|&(x, y, l)| (x, y, l.map(f32::to_bits)))
                    .collect();
                (s, l)
            };
            assert_eq!(bits(&band), bits(&own));
            // The strands alone too (their cores judged from the band's
            // sums or from each pixel's own).
            let strands = |own_below| match find_hair(&photo, rect, skin, false, own_below, None) {
                Found::Strands(s) => s,
                Found::Cover(_) => unreachable!(),
            };
            let (band, own) = (strands(0.0), strands(f32::INFINITY));
            assert!(band.iter().filter(|&&s| s).count() > 500, "too few strands");
            assert_eq!(band, own);
        }
    }

    #[test]
    fn strands_judged_near_the_wanted_pixels_alone_are_the_strands_judged_everywhere() {
        // Dark strands and specks of every length from 1 to 6 pixels, in
        // every direction, on skin; the pixels wanted are a ring around an
        // inner block, which strands cross, end beside and stop short of.
        let (w, h) = (160u32, 120u32);
        // And strands of just over a speck with one end alone wanted: one
        // across the inner block's left edge, one across the ring's top.
        let edge = |x: u32, y: u32| {
            (y == 54 && (35..39).contains(&x)) || (x == 66 && (14..18).contains(&y))
        };
        let beside_edge = |x: u32, y: u32| {
            (31..43).contains(&x) && (51..58).contains(&y)
                || (63..70).contains(&x) && (10..22).contains(&y)
        };
        let photo = RgbImage::from_fn(w, h, |x, y| {
            let (a, b) = (x % 12, y % 12);
            let len = 1 + (x / 12 + y / 12) % 6;
            let dark = match (x / 12 + 2 * (y / 12)) % 3 {
                0 => b == 5 && a >= 2 && a < 2 + len,
                1 => a == 8 && b >= 1 && b < 1 + len,
                _ => a == b && a >= 3 && a < 3 + len,
            };
            let dark = if beside_edge(x, y) { edge(x, y) } else { dark };
            if dark {
                image::Rgb([40, 32, 30])
            } else {
                let t = ((x * 5 + y * 3) % 9) as u8;
                image::Rgb([190 + t, 150 + t, 130 + t])
            }
        });
        let skin = luminance(&image::Rgb([194, 154, 134]));
        let rect = Rect {
            x0: 6,
            y0: 4,
            x1: 150,
            y1: 115,
        };
        let (rw, rh) = (rect.width() as usize, rect.height() as usize);
        let wanted: Vec<bool> = (0..rw * rh)
            .map(|i| {
                let (x, y) = (i % rw, i / rw);
                let inner = (30..110).contains(&x) && (25..85).contains(&y);
                let outer = (17..123).contains(&x) && (13..97).contains(&y);
                outer && !inner
            })
            .collect();
        let all = hair_pixels(&photo, rect, skin);
        let near = hair_pixels_at(&photo, rect, skin, &wanted);
        let at_wanted =
            |v: &[bool]| -> Vec<bool> { v.iter().zip(&wanted).map(|(&s, &w)| s && w).collect() };
        let strands = at_wanted(&all).iter().filter(|&&s| s).count();
        assert!(
            strands > 60,
            "too few strands among the wanted pixels: {strands}"
        );
        assert!(
            all.iter().filter(|&&s| s).count() > strands + 100,
            "the strands should reach beyond the wanted pixels"
        );
        assert_eq!(at_wanted(&all), at_wanted(&near));
        // Far from every wanted pixel, nothing was judged.
        let far = within_strand_reach(rw, &wanted);
        assert!(near.iter().zip(&far).all(|(&s, &f)| f || !s));
    }

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

    /// Photos and rectangles narrower and shorter than the 9 × 9
    /// neighbourhood (a region of a pixel or two at the photo's edge): a
    /// strand down the middle column is found wherever it is long enough
    /// not to be a speck, and nothing else is.
    #[test]
    fn strands_are_found_in_photos_narrower_than_the_neighbourhood() {
        for w in 1..=12u32 {
            for h in [1u32, 3, 9, 30] {
                let mid = w / 2;
                let photo = RgbImage::from_fn(w, h, |x, _| {
                    if x == mid && w >= 3 {
                        image::Rgb([30, 25, 20])
                    } else {
                        image::Rgb([200, 170, 150])
                    }
                });
                let rect = Rect {
                    x0: 0,
                    y0: 0,
                    x1: w,
                    y1: h,
                };
                let skin = luminance(&image::Rgb([200, 170, 150]));
                let hair = hair_pixels(&photo, rect, skin);
                let cover = hair_cover(&photo, rect, skin);
                assert_eq!(hair.len(), (w * h) as usize);
                assert_eq!(cover.share.len(), (w * h) as usize);
                let long = w >= 3 && h as usize > MAX_SPECK_PX;
                for y in 0..h {
                    for x in 0..w {
                        let want = long && x == mid;
                        assert_eq!(hair[(y * w + x) as usize], want, "{w}x{h} ({x}, {y})");
                    }
                }
            }
        }
    }

    #[test]
    fn light_strands_are_found_and_specks_are_not() {
        // Skin with grey strands (lighter than the skin) every 8th column,
        // a soft highlight, and isolated dark and light specks of 1-3 px.
        let photo = RgbImage::from_fn(120, 80, |x, y| {
            let speck = (y == 40 && (x == 10 || x == 11)) || (y == 20 && x == 100);
            if (20..80).contains(&x) && x % 8 == 0 && (5..75).contains(&y) {
                image::Rgb([235, 235, 232])
            } else if speck && x < 50 {
                image::Rgb([40, 35, 30])
            } else if speck {
                image::Rgb([250, 250, 250])
            } else if (84..120).contains(&x) && (44..80).contains(&y) {
                // A highlight, as soft as a bald crown's.
                let r2 = (x as f32 - 102.0).powi(2) + (y as f32 - 62.0).powi(2);
                let g = (-r2 / 128.0).exp();
                let v = |c: f32, top: f32| (c + (top - c) * g) as u8;
                image::Rgb([v(190.0, 252.0), v(150.0, 248.0), v(130.0, 245.0)])
            } else {
                image::Rgb([190, 150, 130])
            }
        });
        let rect = Rect {
            x0: 0,
            y0: 0,
            x1: 120,
            y1: 80,
        };
        let skin = luminance(&image::Rgb([190, 150, 130]));
        let cover = hair_cover(&photo, rect, skin);
        let at = |x: usize, y: usize| cover.share[y * 120 + x];
        for y in 10..70 {
            for x in (24..80).step_by(8) {
                assert_eq!(at(x, y), 1.0, "strand ({x}, {y})");
            }
        }
        assert_eq!(at(10, 40), 0.0, "dark speck");
        assert_eq!(at(100, 20), 0.0, "light speck");
        for y in 44..80 {
            for x in 84..120 {
                assert_eq!(at(x, y), 0.0, "highlight ({x}, {y})");
            }
        }
    }
}
