//! Where the dots go: a progressive, variable-density blue-noise sampler.
//!
//! One ordered set of points serves every session: session *k* is a prefix
//! of session *k + 1*, so earlier dots never move. Each session is sampled
//! with its own spacing radius (larger first) against every earlier point,
//! so new dots fall *between* old ones and every prefix is blue noise,
//! not clumps grown from a seed.
//!
//! Per session the method is Bridson's, tuned: a background grid of cell
//! `r/√2` holding the points themselves with a border so neighbour loops need
//! no bounds checks, candidates on a ring just outside the radius from a
//! random start angle. Variable density comes from the radius field
//! `r(w) = r₁/√w`: the density of a maximal-ish Poisson-disk set goes as
//! `1/r²`, so it follows the region weight `w`; below a weight floor the
//! radius stops growing and placed points are kept with probability
//! `w/floor` instead; one not kept still holds its place as a ghost (within
//! its tile and session), so the packing stays the floor's and the density
//! falls linearly with `w` rather than stalling at the floor's. A candidate may not lie closer than its own radius to any point.
//! A later session starts its fronts from the earlier points, each trying
//! only a few candidates (most are buried among other dots), then random
//! darts find any gap no front reached.
//!
//! Each session samples slightly more points than planned and then drops
//! a hash-chosen random subset of the new ones, so that the count matches
//! the plan exactly (density within a fraction of a percent) whatever the
//! sampler's packing constant does at edges and gradients.
//!
//! Threads: the plane is cut into square tiles far wider than any radius and
//! processed in four phases (Wei 2008): no two tiles of one phase touch, so
//! they run in parallel, each on a copy of the grid around it, with its own
//! random stream derived from (seed, session, tile). Results are merged in
//! tile order, so the output is the same on any number of threads.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

use crate::region::Region;

/// One sampled dot position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplePoint {
    /// Column, photo pixels (continuous; pixel centres are at +0.5).
    pub x: f32,
    /// Row, photo pixels.
    pub y: f32,
    /// Session that placed it, from 1.
    pub session: u8,
    /// Region weight where it lies, in (0, 1].
    pub weight: f32,
    /// The spacing radius in force when it was placed, px: no point placed
    /// before it (or in its session) lies closer than this. 0 for the
    /// second point of a 2-dot cluster, which the sampler did not place
    /// (see [`crate::follicle::pair_up`]).
    pub spacing: f32,
}

/// Sampler settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplerParams {
    /// Cumulative density after each session at full weight, dots per px².
    pub densities: Vec<f64>,
    /// Random seed.
    pub seed: u64,
}

/// Density of a later session's cumulative set at radius r is about
/// `PACKING / r²`: new dots fill the gaps between earlier ones, which packs
/// less tightly than a fresh set (measured on large uniform regions: about
/// 0.57-0.60; see `packing_is_calibrated` in the tests).
pub const PACKING: f64 = 0.56;
/// The same for the first session, sampled on an empty plane (about 0.72).
pub const FIRST_PACKING: f64 = 0.68;
/// Each session samples this much more than planned before thinning.
pub const OVERSAMPLE: f64 = 1.06;
/// Below this weight the radius stops growing; candidates are thinned instead.
pub const WEIGHT_FLOOR: f32 = 1.0 / 9.0;
/// Candidates tried around each active point.
const CANDIDATES: usize = 8;
/// Candidates tried around a point of an earlier session: most of them lie
/// in the middle of earlier dots, so only the few that border free space
/// need to start a front.
const EARLIER_CANDIDATES: usize = 3;
/// Candidates fall at distance r·(1 + RING_WIDTH·u), u uniform in [0, 1).
const RING_WIDTH: f32 = 0.18;
/// Tile side in grid cells.
const TILE: usize = 32;
/// Consecutive failed random darts after which a tile counts as full.
const DART_FAILURES: usize = 24;

/// Spacing radius of a later session at full weight, px, for a cumulative
/// density in dots per px²: the smallest spacing any session uses for that
/// density (the first session's is larger).
pub fn full_weight_radius(density_per_px2: f64) -> f32 {
    (PACKING / (density_per_px2 * OVERSAMPLE)).sqrt() as f32
}

/// Spacing radius of the first session at full weight, px.
pub fn first_session_radius(density_per_px2: f64) -> f32 {
    (FIRST_PACKING / (density_per_px2 * OVERSAMPLE)).sqrt() as f32
}

/// Spacing radius at weight `w` given the full-weight radius.
#[inline]
pub fn radius_at(r1: f32, w: f32) -> f32 {
    r1 / w.max(WEIGHT_FLOOR).sqrt()
}

/// Samples every session's points over the region. Points come out ordered
/// by session; within a session, by tile.
pub fn sample(region: &Region, params: &SamplerParams) -> Vec<SamplePoint> {
    let mut points: Vec<SamplePoint> = Vec::new();
    for (k, &density) in params.densities.iter().enumerate() {
        let session = k as u8 + 1;
        let target = (density * region.total_weight()).round() as usize;
        let r1 = if k == 0 {
            first_session_radius(density)
        } else {
            full_weight_radius(density)
        };
        let mut new = sample_session(region, &points, r1, session, params.seed);
        let want = target.saturating_sub(points.len());
        if new.len() > want {
            thin(&mut new, want, params.seed, session);
        }
        points.extend(new);
    }
    points
}

/// Keeps `want` of the points, chosen by a hash of their position, in order.
fn thin(points: &mut Vec<SamplePoint>, want: usize, seed: u64, session: u8) {
    let mut keyed: Vec<(u64, usize)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let pos = (p.x.to_bits() as u64) << 32 | p.y.to_bits() as u64;
            (mix(mix(seed ^ 0x7417_0000 ^ session as u64) ^ pos), i)
        })
        .collect();
    if want == 0 {
        points.clear();
        return;
    }
    keyed.select_nth_unstable(want - 1);
    let mut keep = vec![false; points.len()];
    for &(_, i) in &keyed[..want] {
        keep[i] = true;
    }
    let mut i = 0;
    points.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// SplitMix64 finaliser: a well-mixed 64-bit hash of a 64-bit value.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Smooth value noise in [0, 1) at `(fx, fy)` in units of its cells: a
/// hash of `seed` and each cell corner, blended with a smoothstep. Patchy
/// skin effects (redness, a scar's uneven hold) draw on it.
pub(crate) fn value_noise(seed: u64, fx: f32, fy: f32) -> f32 {
    let node = |cx: f32, cy: f32| {
        let h = mix(seed ^ ((cx as i64 as u64) << 32) ^ (cy as i64 as u64 & 0xffff_ffff));
        (h >> 40) as f32 / (1u64 << 24) as f32
    };
    let smooth = |t: f32| t * t * (3.0 - 2.0 * t);
    let (cx, cy) = (fx.floor(), fy.floor());
    let (tx, ty) = (smooth(fx - cx), smooth(fy - cy));
    let top = node(cx, cy) * (1.0 - tx) + node(cx + 1.0, cy) * tx;
    let bot = node(cx, cy + 1.0) * (1.0 - tx) + node(cx + 1.0, cy + 1.0) * tx;
    top * (1.0 - ty) + bot * ty
}

/// Marks an empty grid cell; far enough that its distance never conflicts.
const EMPTY: [f32; 2] = [-1.0e18, -1.0e18];

/// The background grid of one session.
struct Grid {
    /// Cell side, px.
    cell: f32,
    /// Pixel position of cell (0, 0)'s corner.
    origin: [f32; 2],
    /// Cells across, borders included.
    nx: usize,
    /// Border width in cells on every side.
    border: usize,
    cells: Vec<[f32; 2]>,
    /// Region weight at each cell's point (0 where empty).
    weights: Vec<f32>,
}

impl Grid {
    #[inline]
    fn cell_of(&self, x: f32, y: f32) -> (usize, usize) {
        (
            ((x - self.origin[0]) / self.cell) as usize,
            ((y - self.origin[1]) / self.cell) as usize,
        )
    }
}

fn sample_session(
    region: &Region,
    earlier: &[SamplePoint],
    r1: f32,
    session: u8,
    seed: u64,
) -> Vec<SamplePoint> {
    let cell = r1 / std::f32::consts::SQRT_2;
    let r_max = radius_at(r1, 0.0);
    let border = (r_max / cell).ceil() as usize + 1;
    let b = region.bounds();
    let tiles_x = ((b.width() as f32 / cell).ceil() as usize)
        .div_ceil(TILE)
        .max(1);
    let tiles_y = ((b.height() as f32 / cell).ceil() as usize)
        .div_ceil(TILE)
        .max(1);
    let nx = tiles_x * TILE + 2 * border;
    let ny = tiles_y * TILE + 2 * border; // rows
    let origin = [
        b.x0 as f32 - border as f32 * cell,
        b.y0 as f32 - border as f32 * cell,
    ];
    let mut grid = Grid {
        cell,
        origin,
        nx,

        border,
        cells: vec![EMPTY; nx * ny],
        weights: vec![0.0; nx * ny],
    };
    for p in earlier {
        let (cx, cy) = grid.cell_of(p.x, p.y);
        grid.cells[cy * nx + cx] = [p.x, p.y];
        grid.weights[cy * nx + cx] = p.weight;
    }
    let mut out = Vec::new();
    for phase in 0..4 {
        let tiles: Vec<(usize, usize)> = (0..tiles_y)
            .filter(|ty| ty % 2 == phase / 2)
            .flat_map(|ty| {
                (0..tiles_x)
                    .filter(move |tx| tx % 2 == phase % 2)
                    .map(move |tx| (tx, ty))
            })
            .collect();
        let results: Vec<Vec<SamplePoint>> = tiles
            .par_iter()
            .map(|&(tx, ty)| {
                let stream = mix(mix(mix(seed) ^ session as u64) ^ (ty * tiles_x + tx) as u64);
                sample_tile(region, &grid, tx, ty, r1, session, stream)
            })
            .collect();
        for pts in results {
            for p in &pts {
                let (cx, cy) = grid.cell_of(p.x, p.y);
                grid.cells[cy * nx + cx] = [p.x, p.y];
                grid.weights[cy * nx + cx] = p.weight;
            }
            out.extend(pts);
        }
    }
    out
}

/// Fills one tile, reading the grid around it and writing only inside it.
fn sample_tile(
    region: &Region,
    grid: &Grid,
    tx: usize,
    ty: usize,
    r1: f32,
    session: u8,
    stream: u64,
) -> Vec<SamplePoint> {
    let mut rng = Pcg64Mcg::seed_from_u64(stream);
    let m = grid.border;
    let side = TILE + 2 * m;
    // Local copy: tile plus border, in global cell coordinates starting at (gx0, gy0).
    let gx0 = m + tx * TILE - m;
    let gy0 = m + ty * TILE - m;
    let mut local = vec![EMPTY; side * side];
    for j in 0..side {
        let src = (gy0 + j) * grid.nx + gx0;
        local[j * side..(j + 1) * side].copy_from_slice(&grid.cells[src..src + side]);
    }
    let cell = grid.cell;
    let lorigin = [
        grid.origin[0] + gx0 as f32 * cell,
        grid.origin[1] + gy0 as f32 * cell,
    ];
    // The tile's own area in pixels.
    let own0 = [lorigin[0] + m as f32 * cell, lorigin[1] + m as f32 * cell];
    let own1 = [own0[0] + TILE as f32 * cell, own0[1] + TILE as f32 * cell];
    let inv_cell = 1.0 / cell;

    // Weights of the tile's own area within the region's bounds (candidates
    // outside it are never tried), copied so that lookups stay in cache.
    let b = region.bounds();
    let wx0 = (own0[0].floor().max(0.0) as u32).clamp(b.x0, b.x1) as usize;
    let wy0 = (own0[1].floor().max(0.0) as u32).clamp(b.y0, b.y1) as usize;
    let wx1 = (own1[0].ceil().max(0.0) as u32).clamp(b.x0, b.x1) as usize;
    let wy1 = (own1[1].ceil().max(0.0) as u32).clamp(b.y0, b.y1) as usize;
    let ww = wx1.saturating_sub(wx0);
    let mut lw = Vec::with_capacity(ww * wy1.saturating_sub(wy0));
    for y in wy0..wy1 {
        lw.extend_from_slice(region.row_within_bounds(y as u32, wx0 as u32, wx1 as u32));
    }
    let (fx0, fy0, fx1, fy1) = (wx0 as f32, wy0 as f32, wx1 as f32, wy1 as f32);
    let wat = |x: f32, y: f32| -> f32 {
        if x >= fx0 && x < fx1 && y >= fy0 && y < fy1 {
            lw[(y as usize - wy0) * ww + (x as usize - wx0)]
        } else {
            region.weight_at(x, y)
        }
    };
    let mut active: Vec<[f32; 4]> = Vec::new();
    for (j, i) in (0..side).flat_map(|j| (0..side).map(move |i| (j, i))) {
        let c = local[j * side + i];
        if c[0] > -1.0e17 {
            let w = grid.weights[(gy0 + j) * grid.nx + gx0 + i];
            let ar = radius_at(r1, w);
            let reach = (1.0 + RING_WIDTH) * ar;
            let dx = (own0[0] - c[0]).max(c[0] - own1[0]).max(0.0);
            let dy = (own0[1] - c[1]).max(c[1] - own1[1]).max(0.0);
            if dx * dx + dy * dy < reach * reach {
                active.push([c[0], c[1], ar, EARLIER_CANDIDATES as f32]);
            }
        }
    }

    let mut out = Vec::new();
    let inside = |x: f32, y: f32| x >= own0[0] && x < own1[0] && y >= own0[1] && y < own1[1];
    // Tries a candidate inside the tile at weight `w` > 0; on success stores it.
    let try_place = |x: f32,
                     y: f32,
                     w: f32,
                     rng: &mut Pcg64Mcg,
                     local: &mut Vec<[f32; 2]>|
     -> Option<(SamplePoint, bool)> {
        let lx = ((x - lorigin[0]) * inv_cell) as usize;
        let ly = ((y - lorigin[1]) * inv_cell) as usize;
        // An occupied own cell always conflicts (its diagonal is r₁).
        if local[ly * side + lx][0] > -1.0e17 {
            return None;
        }
        let r = radius_at(r1, w);
        // Cells are r₁/√2 wide: at full weight two cells either side reach r.
        let reach = if w >= 1.0 {
            2
        } else {
            (r * inv_cell) as usize + 1
        };
        let r2 = r * r;
        for j in ly - reach..=ly + reach {
            let row = &local[j * side + lx - reach..=j * side + lx + reach];
            let hit = row.iter().fold(false, |hit, q| {
                let dx = q[0] - x;
                let dy = q[1] - y;
                hit | (dx * dx + dy * dy < r2)
            });
            if hit {
                return None;
            }
        }
        local[ly * side + lx] = [x, y];
        // Below the floor a placed point is kept with probability w/floor;
        // one not kept still holds its place (a ghost), so the packing
        // stays that of the floor and the density falls as w.
        let keep = w >= WEIGHT_FLOOR || rng.random::<f32>() * WEIGHT_FLOOR < w;
        Some((
            SamplePoint {
                x,
                y,
                session,
                weight: w,
                spacing: r,
            },
            keep,
        ))
    };

    loop {
        while !active.is_empty() {
            let i = rng.random_range(0..active.len());
            let [ax, ay, ar, tries] = active[i];
            let start = rng.random::<f32>() * std::f32::consts::TAU;
            let mut placed = false;
            let (mut s0, mut c0) = start.sin_cos();
            let (ss, cs) = (std::f32::consts::TAU / tries).sin_cos();
            for _ in 0..tries as usize {
                let (s, co) = (s0, c0);
                (s0, c0) = (s * cs + co * ss, co * cs - s * ss);
                let mut d = ar * (1.0 + RING_WIDTH * rng.random::<f32>());
                let (mut x, mut y) = (ax + d * co, ay + d * s);
                if !inside(x, y) {
                    continue;
                }
                let mut w = wat(x, y);
                // Moving down a density gradient: step out to the candidate's own radius.
                let rc = radius_at(r1, w);
                if rc > d {
                    d = rc * (1.0 + 0.5 * RING_WIDTH * rng.random::<f32>());
                    x = ax + d * co;
                    y = ay + d * s;
                    if !inside(x, y) {
                        continue;
                    }
                    w = wat(x, y);
                }
                if w <= 0.0 {
                    continue;
                }
                if let Some((p, keep)) = try_place(x, y, w, &mut rng, &mut local) {
                    active.push([p.x, p.y, p.spacing, CANDIDATES as f32]);
                    if keep {
                        out.push(p);
                    }
                    placed = true;
                    break;
                }
            }
            if !placed {
                active.swap_remove(i);
            }
        }
        // Random darts catch parts of the tile no front has reached.
        let mut failures = 0;
        let mut seeded = false;
        while failures < DART_FAILURES {
            let x = own0[0] + rng.random::<f32>() * (own1[0] - own0[0]);
            let y = own0[1] + rng.random::<f32>() * (own1[1] - own0[1]);
            let w = wat(x, y);
            if w <= 0.0 {
                failures += 1;
                continue;
            }
            if let Some((p, keep)) = try_place(x, y, w, &mut rng, &mut local) {
                active.push([p.x, p.y, p.spacing, CANDIDATES as f32]);
                if keep {
                    out.push(p);
                }
                seeded = true;
                break;
            }
            failures += 1;
        }
        if !seeded {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(size: u32) -> Region {
        Region::from_weights(size, size, vec![1.0; (size * size) as usize], 0.0, "t").unwrap()
    }

    fn params(d: &[f64]) -> SamplerParams {
        SamplerParams {
            densities: d.to_vec(),
            seed: 42,
        }
    }

    /// No point lies closer than its own spacing to any point before it.
    fn assert_spaced(pts: &[SamplePoint]) {
        for (i, p) in pts.iter().enumerate() {
            for q in &pts[..i] {
                let dist = ((p.x - q.x).powi(2) + (p.y - q.y).powi(2)).sqrt();
                assert!(dist >= p.spacing * 0.9999, "{p:?} {q:?} {dist}");
            }
        }
    }

    /// The share of the pixel centres of a `size`² square, `margin` px in
    /// from its sides, that lie at least `r` from every point: where one more
    /// point of spacing `r` would fit.
    fn hole_share(pts: &[SamplePoint], size: u32, margin: u32, r: f32) -> f64 {
        let cells = (size as f32 / r).ceil() as usize + 1;
        let mut grid = vec![Vec::new(); cells * cells];
        for p in pts {
            grid[(p.y / r) as usize * cells + (p.x / r) as usize].push([p.x, p.y]);
        }
        let (mut holes, mut all) = (0usize, 0usize);
        for y in margin..size - margin {
            for x in margin..size - margin {
                let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
                let (cx, cy) = ((fx / r) as usize, (fy / r) as usize);
                let near = (cy.saturating_sub(1)..=(cy + 1).min(cells - 1))
                    .flat_map(|j| {
                        (cx.saturating_sub(1)..=(cx + 1).min(cells - 1)).map(move |i| (i, j))
                    })
                    .flat_map(|(i, j)| grid[j * cells + i].iter())
                    .any(|q| (q[0] - fx).powi(2) + (q[1] - fy).powi(2) < r * r);
                holes += usize::from(!near);
                all += 1;
            }
        }
        holes as f64 / all as f64
    }

    /// A sample leaves no room for one more point: on a uniform square,
    /// the first session (at its own spacing) and the second (placed
    /// between the first's points, at the second's spacing) leave under
    /// 0.2 % and 1.5 % of the square where another point would fit (a
    /// maximal sample leaves none; these measure 0.04 % and 0.5 %, and a
    /// front that grows one way only or ignores the earlier session's
    /// points leaves 3-10 %).
    #[test]
    fn a_full_sample_leaves_no_room_for_another_point() {
        let n = 900u32;
        let region = square(n);
        for seed in 0..3u64 {
            let r1 = first_session_radius(0.004);
            let one = sample_session(&region, &[], r1, 1, seed);
            let r2 = full_weight_radius(0.01);
            let two = sample_session(&region, &one, r2, 2, seed);
            let both: Vec<SamplePoint> = one.iter().chain(&two).cloned().collect();
            let (h1, h2) = (hole_share(&one, n, 20, r1), hole_share(&both, n, 20, r2));
            assert!(
                h1 < 0.002,
                "seed {seed}: session 1 leaves {h1:.5} of the square free"
            );
            assert!(
                h2 < 0.015,
                "seed {seed}: session 2 leaves {h2:.5} of the square free"
            );
        }
    }

    /// A region in many pieces, each further from the next than a front
    /// can jump (islands 30, 60 or 100 px square, 20-30 px apart, with the
    /// first session's spacing 12.7 px): the random darts find every
    /// piece. At most 1 % of the smallest islands and none of the larger
    /// are left without a point (measured: at most 1 of 324 and none).
    #[test]
    fn every_piece_of_a_broken_region_gets_points() {
        let n = 900u32;
        for (side, period, allowed) in [(30u32, 50u32, 3usize), (60, 85, 0), (100, 130, 0)] {
            let on = |x: u32, y: u32| x % period < side && y % period < side;
            let weights = (0..n * n).map(|i| f32::from(on(i % n, i / n))).collect();
            let region = Region::from_weights(n, n, weights, 0.0, "t").unwrap();
            for seed in 0..3u64 {
                let pts = sample_session(&region, &[], first_session_radius(0.004), 1, seed);
                let per = n.div_ceil(period);
                let mut count = vec![0usize; (per * per) as usize];
                for p in &pts {
                    count[(p.y as u32 / period * per + p.x as u32 / period) as usize] += 1;
                }
                let empty = count.iter().filter(|&&c| c == 0).count();
                assert!(
                    empty <= allowed,
                    "islands of {side} px every {period} px, seed {seed}: {empty} of {} empty",
                    count.len()
                );
            }
        }
    }

    /// A region whose weight rises from 0 at the left to 1 at the right.
    fn ramp(w: u32, h: u32) -> Region {
        let weights = (0..w * h)
            .map(|i| ((i % w) as f32 + 0.5) / w as f32)
            .collect();
        Region::from_weights(w, h, weights, 0.0, "t").unwrap()
    }

    /// Density follows the weight (`r(w) = r₁/√w`, and below the floor a
    /// kept share of w/floor): on a ramp from 0 to 1, each sixth holds its
    /// weight's share of the dots (±10 %; ±15 % in the second, ±35 % in the
    /// faint first, whose mean weight is under the floor), for one session or two; and
    /// no dot lies closer than its own spacing to one placed before it.
    #[test]
    fn density_follows_the_weight_on_a_ramp() {
        let region = ramp(900, 300);
        for seed in [1u64, 2, 3] {
            for d in [vec![0.01], vec![0.004, 0.01]] {
                let pts = sample(
                    &region,
                    &SamplerParams {
                        densities: d.clone(),
                        seed,
                    },
                );
                let dens = *d.last().unwrap();
                let share = |s: usize| {
                    let n = pts.iter().filter(|p| (p.x / 150.0) as usize == s).count() as f64;
                    let weight: f64 = (s * 150..s * 150 + 150)
                        .map(|x| (x as f64 + 0.5) / 900.0 * 300.0)
                        .sum();
                    n / (weight * dens)
                };
                for s in 0..6 {
                    let tol = [0.35, 0.15, 0.1, 0.1, 0.1, 0.1][s];
                    assert!(
                        (share(s) - 1.0).abs() < tol,
                        "seed {seed} {d:?}: sixth {s} holds {:.2} of its share",
                        share(s)
                    );
                }
                assert_spaced(&pts);
                for p in &pts {
                    assert!(
                        (p.weight - (p.x / 900.0)).abs() < 1.0 / 900.0 + 1e-6,
                        "{p:?}"
                    );
                    let k = p.session as usize - 1;
                    let r1 = if k == 0 {
                        first_session_radius(d[0])
                    } else {
                        full_weight_radius(d[k])
                    };
                    let r = r1 / p.weight.max(1.0 / 9.0).sqrt();
                    assert!((p.spacing - r).abs() < 1e-3 * r, "{p:?}: spacing {r}");
                }
            }
        }
    }

    /// Below the weight floor the dots thin out in proportion: half a
    /// region at weight 0.03 (far under the floor of 1/9) beside half at 1
    /// holds 0.03/1.03 of the dots (±30 %).
    #[test]
    fn under_the_floor_dots_are_kept_in_proportion() {
        let (w, h) = (800u32, 400u32);
        let weights = (0..w * h)
            .map(|i| if i % w < w / 2 { 0.03 } else { 1.0 })
            .collect();
        let region = Region::from_weights(w, h, weights, 0.0, "t").unwrap();
        for seed in [4u64, 5] {
            let pts = sample(
                &region,
                &SamplerParams {
                    densities: vec![0.004, 0.01],
                    seed,
                },
            );
            let faint = pts.iter().filter(|p| p.x < (w / 2) as f32).count() as f64;
            let share = faint / pts.len() as f64;
            let want = 0.03 / 1.03;
            assert!(
                (share / want - 1.0).abs() < 0.3,
                "seed {seed}: {share:.4} vs {want:.4}"
            );
        }
    }

    /// A uniform region gets its share of dots right up to each of its
    /// four sides, from the photo's origin and away from it: every strip
    /// 40 px wide along a side holds its area's share (±15 %).
    #[test]
    fn every_side_gets_its_share() {
        let (w, h) = (700u32, 560u32);
        for (x0, y0) in [(0u32, 0u32), (90, 70)] {
            let (x1, y1) = (x0 + 480, y0 + 400);
            let weights = (0..w * h)
                .map(|i| {
                    let (x, y) = (i % w, i / w);
                    f32::from((x0..x1).contains(&x) && (y0..y1).contains(&y))
                })
                .collect();
            let region = Region::from_weights(w, h, weights, 0.0, "t").unwrap();
            let pts = sample(
                &region,
                &SamplerParams {
                    densities: vec![0.004, 0.01],
                    seed: 8,
                },
            );
            let per_px = pts.len() as f64 / (480.0 * 400.0);
            let (fx0, fy0, fx1, fy1) = (x0 as f32, y0 as f32, x1 as f32, y1 as f32);
            let on = |p: &SamplePoint| {
                [
                    p.x < fx0 + 40.0,
                    p.x >= fx1 - 40.0,
                    p.y < fy0 + 40.0,
                    p.y >= fy1 - 40.0,
                ]
            };
            let sides = ["left", "right", "top", "bottom"];
            let areas = [40.0 * 400.0, 40.0 * 400.0, 480.0 * 40.0, 480.0 * 40.0];
            for k in 0..4 {
                let n = pts.iter().filter(|p| on(p)[k]).count() as f64;
                let share = n / (per_px * areas[k]);
                assert!(
                    (share - 1.0).abs() < 0.15,
                    "from ({x0},{y0}), {}: {share:.2} of its share",
                    sides[k]
                );
            }
        }
    }

    #[test]
    fn oversampling_leaves_room_to_thin() {
        // Without thinning, a session must produce more than planned.
        let region = square(600);
        let r1 = full_weight_radius(0.01);
        let pts = sample_session(&region, &[], r1, 1, 3);
        let raw = pts.len() as f64 / (600.0 * 600.0);
        assert!(raw > 0.01 * 1.03, "raw density {raw}");
    }

    #[test]
    fn sessions_are_prefixes_and_counts_match() {
        let region = square(500);
        let d = [0.004, 0.0075, 0.01];
        let pts = sample(&region, &params(&d));
        let mut n = 0;
        for (k, &dk) in d.iter().enumerate() {
            n += pts.iter().filter(|p| p.session == k as u8 + 1).count();
            let want = dk * 250_000.0;
            assert!((n as f64 - want).abs() <= 1.0, "session {k}: {n} vs {want}");
        }
        assert!(pts.windows(2).all(|w| w[0].session <= w[1].session));
    }

    #[test]
    fn min_spacing_holds_per_session() {
        let region = square(400);
        let d = [0.005, 0.012];
        assert_spaced(&sample(&region, &params(&d)));
    }

    #[test]
    fn parallel_equals_serial() {
        let region = square(700);
        let p = params(&[0.003, 0.008]);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let four = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let a = one.install(|| sample(&region, &p));
        let b = four.install(|| sample(&region, &p));
        assert_eq!(a, b);
    }

    #[test]
    fn packing_is_calibrated() {
        // Every session's raw sample must exceed its target (so thinning can
        // make the count exact) without wasting much; this is what PACKING,
        // FIRST_PACKING and OVERSAMPLE promise.
        let n = 1200usize;
        let region = square(n as u32);
        let mut points: Vec<SamplePoint> = Vec::new();
        for (k, d) in [0.004, 0.0075, 0.01].iter().enumerate() {
            let r = if k == 0 {
                first_session_radius(*d)
            } else {
                full_weight_radius(*d)
            };
            let mut new = sample_session(&region, &points, r, k as u8 + 1, 9);
            let target = d * (n * n) as f64;
            let raw = (points.len() + new.len()) as f64 / target;
            assert!(
                (1.03..1.3).contains(&raw),
                "session {}: raw/target {raw:.3}",
                k + 1
            );
            thin(&mut new, target as usize - points.len(), 1, k as u8 + 1);
            points.extend(new);
        }
    }
}
