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
    match find_hair(photo, rect, skin, false, OWN_SUMS_BELOW) {
        Found::Strands(strand) => strand,
        Found::Cover(_) => unreachable!("asked for the strands alone"),
    }
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
    match find_hair(photo, rect, skin, true, OWN_SUMS_BELOW) {
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
fn find_hair(photo: &RgbImage, rect: Rect, skin: f32, cover: bool, own_below: f32) -> Found {
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
            let (from, to) = ((-d).max(0), gw as i64 - d.max(0));
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
    let lut = srgb_to_linear_table();
    let grid_row = |j: usize| {
        let start = ((gy0 as usize + j) * w as usize + gx0 as usize) * 3;
        &photo.as_raw()[start..start + gw * 3]
    };
    // … and their luminances and sums, into `lums` and `sums`.
    let band_sums = |(ya, yb): (usize, usize), lums: &mut Vec<f32>, sums: &mut Vec<f32>| {
        lums.resize((yb - ya) * gw, 0.0);
        sums.resize((yb - ya) * gw, 0.0);
        for j in ya..yb {
            let lum = &mut lums[(j - ya) * gw..][..gw];
            for (l, p) in lum.iter_mut().zip(grid_row(j).chunks_exact(3)) {
                *l = luminance_of(lut, p);
            }
            hsum_row(lum, &mut sums[(j - ya) * gw..][..gw]);
        }
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
                    r += luminance_of(lut, p);
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
    // Whether the pixel at grid (x, y) is a strand's core, given its
    // neighbourhood's mean.
    // `at` is the luminance at grid (x, y) (from a band's, where the
    // ridges' neighbours two rows away are too).
    let strand_core = |x: i64, y: i64, at: &dyn Fn(i64, i64) -> f32, local: &dyn Fn() -> f32| {
        let l = at(x, y);
        // Most pixels are skin and fail here, so the neighbourhood is
        // looked at only for the few dark or light ones.
        if l < dark {
            return l < HAIR_LOCAL * local();
        }
        // Outside highlights only: on a shiny scalp a glint on stubble
        // is a light ridge too, and cannot be told from a grey hair.
        if l > light && local() < HAIR_LIGHT_SURROUND * skin {
            let v = |x: i64, y: i64| {
                (x >= 0 && y >= 0 && x < gw as i64 && y < gh as i64).then(|| at(x, y))
            };
            return [(2, 0), (0, 2), (2, 2), (2, -2)].iter().any(|&(dx, dy)| {
                match (v(x - dx, y - dy), v(x + dx, y + dy)) {
                    (Some(a), Some(b)) => l > HAIR_RIDGE * a.max(b),
                    _ => false,
                }
            });
        }
        false
    };
    // Row by row, each pixel judged; the few dark or light enough to be
    // looked at further add up their neighbourhood's mean from the band's
    // row sums (`local`: the same sums in the same order).
    // Each pixel's state in one byte: a strand's core, seen by the grouping
    // below, a strand, beside a strand (four arrays of bools were 14 MB
    // of fresh pages at 12 MP).
    let mut state = vec![0u8; rw * rh];
    state
        .par_chunks_mut((rw * BAND).max(1))
        .enumerate()
        .for_each_init(
            || (Vec::new(), Vec::new()),
            |(lums, sums): &mut (Vec<f32>, Vec<f32>), (band, out)| {
                let r0 = band * BAND;
                let rows = band_rows(r0, r0 + out.len() / rw);
                band_sums(rows, lums, sums);
                let (lums, sums) = (&lums[..], &sums[..]);
                let at = |x: i64, y: i64| lums[(y as usize - rows.0) * gw + x as usize];
                for (k, out) in out.chunks_mut(rw).enumerate() {
                    let y = rect.y0 as i64 + (r0 + k) as i64 - gy0;
                    let gx = (rect.x0 as i64 - gx0) as usize;
                    // Most pixels are neither dark nor light enough to be
                    // looked at further (a strand's core is one or the
                    // other): they stay zero.
                    let lum = &lums[(y as usize - rows.0) * gw + gx..][..rw];
                    for (c, (o, &l)) in out.iter_mut().zip(lum).enumerate() {
                        if (dark..=light).contains(&l) {
                            continue;
                        }
                        let x = (gx + c) as i64;
                        let mean = || local(x, y, sums, rows.0);
                        *o = u8::from(strand_core(x, y, &at, &mean)) * CORE;
                    }
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
            let cover = |own_below| match find_hair(&photo, rect, skin, true, own_below) {
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
        }
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
