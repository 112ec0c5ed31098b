//! Scars: where the skin holds pigment differently.
//!
//! Scar tissue is tougher, smoother and uneven; it often holds less
//! pigment, and blotchily (docs/domain.md, "Scars"). A scar is a region of its
//! own (a mask or a polygon); every dot on it keeps only a share of its
//! pigment, the *retention*, varied in patches of about 2 mm so the
//! camouflage is uneven where a real one would be. The photo's own colour
//! of the scar is left as it is, so the preview shows honestly where the
//! scar stays visible after the sessions.

use crate::follicle::Dot;
use crate::region::Region;
use crate::sampling::value_noise;
use crate::units::{Mm, Scale};

/// Default share of its pigment a dot on a scar keeps.
pub const DEFAULT_SCAR_RETENTION: f32 = 0.55;
/// Size of the patches in which a scar's hold varies, mm.
pub const SCAR_PATCH_MM: f32 = 2.0;
/// How much the hold varies between patches (± this share).
const BLOTCH: f32 = 0.6;

/// Lightens the dots on `scar` (by its weight there) to `retention` of
/// their pigment, patchily; returns how many dots lie on the scar.
pub fn hold_on_scar(
    dots: &mut [Dot],
    scar: &Region,
    retention: f32,
    scale: Scale,
    seed: u64,
) -> usize {
    let cell = scale.px(Mm(SCAR_PATCH_MM)).max(1.0);
    let mut n = 0;
    for d in dots.iter_mut() {
        let s = scar.weight_at(d.x, d.y);
        if s <= 0.0 {
            continue;
        }
        n += 1;
        let patch = value_noise(seed ^ 0x5ca2_0000, d.x / cell, d.y / cell);
        let hold = (retention * (1.0 + BLOTCH * (2.0 * patch - 1.0))).clamp(0.0, 1.0);
        d.strength *= 1.0 - s * (1.0 - hold);
        // What scar tissue does not hold does not scatter either.
        d.halo_mass *= 1.0 - s * (1.0 - hold);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_on_the_scar_keep_their_share_patchily() {
        let scale = Scale::new(10.0, "t").unwrap();
        // A scar over the left half of a 400 × 100 frame.
        let weights = (0..400 * 100)
            .map(|i| if i % 400 < 200 { 1.0 } else { 0.0 })
            .collect();
        let scar = Region::from_weights(400, 100, weights, 0.0, "scar").unwrap();
        let mut dots: Vec<Dot> = (0..4000)
            .map(|i| Dot {
                x: (i % 100) as f32 * 4.0 + 1.0,
                y: (i / 100) as f32 * 2.5 + 0.5,
                session: 1,
                diameter: 3.0,
                elongation: 1.0,
                angle: 0.0,
                strength: 1.0,
                weight: 1.0,
                spacing: 3.0,
                halo_radius: 5.0,
                halo_mass: 1.5,
            })
            .collect();
        let on = hold_on_scar(&mut dots, &scar, 0.5, scale, 7);
        assert_eq!(on, 2000);
        let (left, right): (Vec<&Dot>, Vec<&Dot>) = dots.iter().partition(|d| d.x < 200.0);
        assert!(right.iter().all(|d| d.strength == 1.0));
        let mean = left.iter().map(|d| d.strength).sum::<f32>() / left.len() as f32;
        assert!((mean - 0.5).abs() < 0.08, "mean hold {mean}");
        let sd = (left
            .iter()
            .map(|d| (d.strength - mean).powi(2))
            .sum::<f32>()
            / left.len() as f32)
            .sqrt();
        assert!(sd > 0.05, "blotchy: sd {sd}");
    }
}
