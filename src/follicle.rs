//! From sample points to follicle-like dots.
//!
//! A healed SMP dot imitates a follicle seen end-on: roughly round, a little
//! elongated, each a bit different in size and intensity, because a
//! perfectly uniform pattern looks printed (docs/domain.md, "Dots"). Every dot's
//! variation comes from a hash of (seed, session, position), so it does not
//! depend on the order or the thread the dot was made on.

use crate::plan::Plan;
use crate::region::Region;
use crate::sampling::{mix, SamplePoint};
use crate::shape::HeadShape;
use crate::units::{Mm, Scale};

/// One pigment dot, in photo pixels: the hand-over from geometry to the
/// compositor, which knows nothing of how dots were placed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dot {
    /// Centre column, px.
    pub x: f32,
    /// Centre row, px.
    pub y: f32,
    /// Session that placed it, from 1.
    pub session: u8,
    /// Diameter of the circle of the same area, px.
    pub diameter: f32,
    /// Ratio of long to short axis, ≥ 1 (the area stays that of `diameter`).
    pub elongation: f32,
    /// Direction of the long axis, radians in [0, π).
    pub angle: f32,
    /// Relative optical density of its pigment (1 = the shade at full strength).
    pub strength: f32,
    /// Region weight at the dot.
    pub weight: f32,
    /// Sampler spacing radius when it was placed, px.
    pub spacing: f32,
    /// Radius of the pigment's scatter halo in the skin, px.
    pub halo_radius: f32,
    /// Pigment in the halo, as a multiple of the dot's own (0 = none).
    pub halo_mass: f32,
}

/// Diameter of a dot's visible deposit as a share of its apparent diameter
/// ([`Plan::dot_diameter`]): the deposit seen through the skin's scatter
/// and the photo's blur, with its scatter halo, darkens a disc of the
/// apparent diameter at half its peak (test
/// `dots::a_sparse_dot_measures_its_planned_diameter`).
pub const DEPOSIT_SHARE: f32 = 0.85;

/// Radius of a dot's scatter halo as a multiple of its apparent diameter
/// (1.2 mm for the 0.5 mm default): pigment scattered in the dermis greys
/// the skin faintly around a deposit, which is what turns a field of dots
/// into a "shadow" at conversational distance. It scales with the dot, so
/// that the halo stays under half the dot's peak and the apparent size
/// stays the planned one for every diameter.
pub const HALO_REACH: f32 = 2.4;

/// Uniform in [0, 1) from a hash.
#[inline]
fn unit(h: u64) -> f32 {
    (h >> 40) as f32 / (1u64 << 24) as f32
}

/// A standard normal variate from two hashes (Box–Muller).
#[inline]
fn normal(h1: u64, h2: u64) -> f32 {
    let u1 = unit(h1).max(1e-7);
    let u2 = unit(h2);
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// Distance between the centres of a 2-dot cluster's impressions, mm:
/// close enough to read as one unit, far enough to be two.
pub const CLUSTER_GAP_MM: std::ops::Range<f32> = 0.35..0.55;
/// Diameter of a cluster's second impression relative to its first.
pub const CLUSTER_SECOND_SIZE: f32 = 0.8;
/// Weight from which a point counts as inside the region's full weight.
const FULL_WEIGHT: f32 = 0.999;

/// Makes a share ([`Plan::clusters`]) of the sampled sites 2-dot clusters:
/// a second point [`CLUSTER_GAP_MM`] beside the first, right after it,
/// with `spacing` 0 (the sampler did not place it). Only where the region's
/// weight is full at both points, so never in a feathered edge or a
/// hairline's taper, nor on the client's own hair; on a head `shape` the
/// gap narrows across the slope like the dots.
pub fn pair_up(
    points: Vec<SamplePoint>,
    region: &Region,
    plan: &Plan,
    scale: Scale,
    shape: Option<&HeadShape>,
) -> Vec<SamplePoint> {
    if plan.clusters <= 0.0 {
        return points;
    }
    let base = mix(plan.seed ^ 0xc105_7e25_0000);
    let mut out = Vec::with_capacity(points.len() + (points.len() as f32 * plan.clusters) as usize);
    for p in points {
        out.push(p);
        let h = mix(base ^ ((p.x.to_bits() as u64) << 32 | p.y.to_bits() as u64));
        let hs: [u64; 3] = std::array::from_fn(|i| mix(h.wrapping_add(i as u64 + 1)));
        if p.weight < FULL_WEIGHT || unit(hs[0]) >= plan.clusters {
            continue;
        }
        let gap = CLUSTER_GAP_MM.start + (CLUSTER_GAP_MM.end - CLUSTER_GAP_MM.start) * unit(hs[1]);
        let (s, c) = (std::f32::consts::TAU * unit(hs[2])).sin_cos();
        let mut step = [c * scale.px(Mm(gap)), s * scale.px(Mm(gap))];
        if let Some(shape) = shape {
            let v = shape.view_at(p.x, p.y);
            let along = step[0] * v.downhill[0] + step[1] * v.downhill[1];
            let squeeze = (1.0 - v.cos) * along;
            step = [
                step[0] - squeeze * v.downhill[0],
                step[1] - squeeze * v.downhill[1],
            ];
        }
        let (x, y) = (p.x + step[0], p.y + step[1]);
        let w = region.weight_at(x, y);
        if w >= FULL_WEIGHT {
            out.push(SamplePoint {
                x,
                y,
                weight: w,
                spacing: 0.0,
                ..p
            });
        }
    }
    out
}

/// Share of a lone dot's pigment each dot of a 2-dot cluster carries: the
/// pair holds 1.2 × a lone dot's pigment, so a cluster reads as a
/// follicular unit of two hairs up close but not as a dark spot from afar.
pub const CLUSTER_PIGMENT_SHARE: f32 = 0.6;
/// Bounds of a dot's scatter halo as a multiple of the plan's
/// ([`Plan::halo`]) when the halo balances the dot's pigment mass.
const HALO_BALANCE: std::ops::RangeInclusive<f32> = 0.15..=3.0;

/// Turns sample points into dots with the plan's size, shape and strength
/// variation; the second point of a 2-dot cluster (`spacing` 0, see
/// [`pair_up`]) makes a smaller dot.
///
/// Each impression puts about the same amount of pigment into the skin;
/// what varies from dot to dot is how much of it stays in the visible
/// deposit and how much scatters into the dermis around it. So a dot's
/// size and strength vary as the plan says (the variety seen dot by dot),
/// while its scatter halo takes the rest of a fixed pigment mass: a small
/// or light deposit has a stronger halo, a large or dark one a weaker. The
/// darkening averaged over a millimetre or two is then as even as with
/// uniform dots (healed SMP is an even shadow; patchiness is a known
/// failure), without the dots looking printed. Session strengths and the
/// finer, lighter dots of a feathered edge still change the mass, and a
/// 2-dot cluster holds [`CLUSTER_PIGMENT_SHARE`] of a dot's mass in each
/// of its dots. Without a halo (`halo` 0) nothing balances the mass.
pub fn make_dots(points: &[SamplePoint], plan: &Plan, scale: Scale) -> Vec<Dot> {
    // Blowout spreads each deposit: a larger, softer dot in a wider halo.
    let b = plan.blowout;
    let apparent = scale.px(plan.dot_diameter);
    let d0 = DEPOSIT_SHARE * apparent * (1.0 + 0.5 * b);
    let halo_radius = HALO_REACH * apparent * (1.0 + 2.0 * b);
    let halo_mass = plan.halo * (1.0 + 2.0 * b) + b;
    let strengths = plan.strengths();
    // The darkening a dot of relative strength `s` gives per unit of its
    // area (luminance-weighted absorption of the plan's shade).
    let absorbed = |s: f32| {
        let a = plan.shade.absorption(s);
        0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2]
    };
    let base = mix(plan.seed ^ 0xd075_0000_0000);
    points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let h = mix(base ^ ((p.x.to_bits() as u64) << 32 | p.y.to_bits() as u64));
            let hs: [u64; 6] = std::array::from_fn(|i| mix(h.wrapping_add(i as u64 + 1)));
            // Toward the feathered edge practitioners use finer, lighter dots.
            let edge = 0.8 + 0.2 * p.weight;
            let is_second = p.spacing == 0.0;
            let paired = is_second || points.get(i + 1).is_some_and(|n| n.spacing == 0.0);
            let second = if is_second { CLUSTER_SECOND_SIZE } else { 1.0 };
            let size = (1.0 + plan.dot_diameter_spread * normal(hs[0], hs[1])).clamp(0.35, 2.2);
            let spread = (1.0 + plan.strength_spread * normal(hs[2], hs[3])).clamp(0.25, 1.8);
            let nominal = (0.85 + 0.15 * p.weight) * strengths[p.session as usize - 1];
            let strength = spread * nominal;
            let diameter = d0 * size * edge * second;
            // The halo balances the pigment mass of a nominal dot.
            let halo = if halo_mass > 0.0 {
                let own = (d0 * edge).powi(2) * absorbed(nominal);
                let share = if paired { CLUSTER_PIGMENT_SHARE } else { 1.0 };
                let target = own * (1.0 + halo_mass) * share;
                let core = diameter * diameter * absorbed(strength);
                (target / core.max(1e-12) - 1.0).clamp(
                    halo_mass * HALO_BALANCE.start(),
                    halo_mass * HALO_BALANCE.end(),
                )
            } else {
                0.0
            };
            Dot {
                x: p.x,
                y: p.y,
                session: p.session,
                diameter,
                elongation: 1.0 + (plan.elongation - 1.0) * unit(hs[4]),
                angle: std::f32::consts::PI * unit(hs[5]),
                strength,
                weight: p.weight,
                spacing: p.spacing,
                halo_radius,
                halo_mass: halo,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blowout_spreads_every_dot() {
        let pts: Vec<SamplePoint> = (0..50)
            .map(|i| SamplePoint {
                x: i as f32 * 5.0,
                y: 3.0,
                session: 1,
                weight: 1.0,
                spacing: 2.0,
            })
            .collect();
        let scale = Scale::new(10.0, "t").unwrap();
        let clean = make_dots(&pts, &Plan::default(), scale);
        let blown = make_dots(
            &pts,
            &Plan {
                blowout: 1.0,
                ..Default::default()
            },
            scale,
        );
        for (c, b) in clean.iter().zip(&blown) {
            assert!((b.diameter / c.diameter - 1.5).abs() < 1e-4);
            assert!((b.halo_radius / c.halo_radius - 3.0).abs() < 1e-4);
            // Its halo takes three times the pigment (a dot's total pigment is
            // its area times 1 + its halo).
            let pigment = |d: &Dot| d.diameter * d.diameter * (1.0 + d.halo_mass);
            assert!(pigment(b) > 3.0 * pigment(c));
            assert_eq!((b.x, b.strength), (c.x, c.strength));
        }
    }

    #[test]
    fn clusters_pair_a_share_of_full_weight_sites_only() {
        let scale = Scale::new(10.0, "t").unwrap();
        // Full weight left of x = 500, a half-weight band right of it.
        let weights = (0..1000 * 400)
            .map(|i| if i % 1000 < 500 { 1.0 } else { 0.5 })
            .collect();
        let region = Region::from_weights(1000, 400, weights, 0.0, "t").unwrap();
        let pts: Vec<SamplePoint> = (0..4000)
            .map(|i| {
                let (x, y) = (10.0 + (i % 100) as f32 * 9.8, 10.0 + (i / 100) as f32 * 9.5);
                SamplePoint {
                    x,
                    y,
                    session: 1 + (i / 1400) as u8,
                    weight: region.weight_at(x, y),
                    spacing: 4.0,
                }
            })
            .collect();
        let plan = Plan::default();
        let out = pair_up(pts.clone(), &region, &plan, scale, None);
        let seconds: Vec<(usize, &SamplePoint)> = out
            .iter()
            .enumerate()
            .filter(|(_, p)| p.spacing == 0.0)
            .collect();
        let full_sites = pts.iter().filter(|p| p.weight >= 0.999).count();
        let share = seconds.len() as f32 / full_sites as f32;
        assert!((share - plan.clusters).abs() < 0.02, "share {share}");
        for &(i, p) in &seconds {
            let lead = &out[i - 1];
            assert!(lead.spacing > 0.0 && lead.session == p.session);
            let gap = ((p.x - lead.x).powi(2) + (p.y - lead.y).powi(2)).sqrt() / 10.0;
            assert!(CLUSTER_GAP_MM.contains(&gap), "gap {gap} mm");
            assert!(lead.weight >= 0.999 && p.weight >= 0.999);
        }
        // The sites themselves are all kept, in order.
        let sites: Vec<SamplePoint> = out.iter().filter(|p| p.spacing > 0.0).copied().collect();
        assert_eq!(sites, pts);
        // Second dots are smaller.
        let dots = make_dots(&out, &plan, scale);
        let mean = |second: bool| {
            let v: Vec<f32> = dots
                .iter()
                .filter(|d| (d.spacing == 0.0) == second)
                .map(|d| d.diameter)
                .collect();
            v.iter().sum::<f32>() / v.len() as f32
        };
        assert!((mean(true) / mean(false) - CLUSTER_SECOND_SIZE).abs() < 0.06);
        // None without clusters.
        let none = Plan {
            clusters: 0.0,
            ..Plan::default()
        };
        assert_eq!(pair_up(pts.clone(), &region, &none, scale, None), pts);
    }

    #[test]
    fn variation_is_real_and_bounded() {
        let pts: Vec<SamplePoint> = (0..2000)
            .map(|i| SamplePoint {
                x: (i % 50) as f32 * 3.0,
                y: (i / 50) as f32 * 3.0,
                session: 1 + (i % 3) as u8,
                weight: 1.0,
                spacing: 2.0,
            })
            .collect();
        let plan = Plan::default();
        let scale = Scale::new(10.0, "t").unwrap();
        let dots = make_dots(&pts, &plan, scale);
        let mean = dots.iter().map(|d| d.diameter).sum::<f32>() / dots.len() as f32;
        let sd = (dots
            .iter()
            .map(|d| (d.diameter - mean).powi(2))
            .sum::<f32>()
            / dots.len() as f32)
            .sqrt();
        let planned = DEPOSIT_SHARE * scale.px(plan.dot_diameter);
        assert!(
            (mean / planned - 1.0).abs() < 0.05,
            "mean diameter {mean} vs {planned}"
        );
        assert!(sd / mean > 0.15 && sd / mean < 0.35, "spread {}", sd / mean);
        assert!(dots
            .iter()
            .all(|d| d.elongation >= 1.0 && d.elongation <= plan.elongation));
        // Session 1 is lighter.
        let s = |k: u8| {
            let v: Vec<f32> = dots
                .iter()
                .filter(|d| d.session == k)
                .map(|d| d.strength)
                .collect();
            v.iter().sum::<f32>() / v.len() as f32
        };
        assert!(s(1) < s(3) * 0.9);
    }
}
