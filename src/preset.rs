//! Pattern presets: treatment regions for the common cases, placed on a
//! front-view photo from the glabella (brow midpoint) and the head's
//! outline, which is found against the backdrop.
//!
//! **Landmarks.** The head's shape is fitted to its outline (an ellipsoid,
//! see [`crate::HeadShape`]). The mid-frontal point lies `frontal_mm`
//! (default 80 mm; 70 aggressive, 100 conservative) above the glabella *on
//! the scalp*: the distance is walked up the fitted surface, so on a
//! forehead that curves away it lands lower in the picture than a flat
//! 80 mm would. The temple points lie 20 mm lower on the surface and 50 mm
//! to each side around the head. A hairline of the chosen style runs
//! through the three (see [`crate::hairline`]).
//!
//! **Regions** (front view; `u` is the lateral position, 0 on the midline,
//! 1 at a temple point; depths are mm behind the hairline's edge):
//!
//! | preset | what is bare and treated |
//! |---|---|
//! | `norwood-2` | the temple corners: `u ≥ 0.4`, up to 8 + 12·u′ mm deep |
//! | `norwood-3` | deep temple recessions: `u ≥ 0.25`, up to 15 + 25·u′ mm deep |
//! | `norwood-4` | the front to 45 mm deep, and the crown (as `crown`) |
//! | `norwood-5` | the whole top behind the hairline, not the sides beyond the temples |
//! | `norwood-6` | the whole top and the sides down to the temple points' level |
//! | `norwood-7` | as 6 and the sides a quarter of the way further down toward the brow |
//! | `shaved` | the full shaved look: everything behind the hairline, sides half-way down to the brow |
//! | `crown` | the crown only: a [`CROWN_MM`] patch on the scalp centred [`CROWN_BEHIND_MM`] behind the top of the head, on the fitted ellipsoid |
//! | `ludwig-1` … `ludwig-3` | a widening parting on the midline: 15, 30, 55 mm wide, behind the hairline; dots go between the hairs |
//! | `alopecia-patch` | an irregular round patch of `patch_mm` (default 30 mm) around `patch` |
//!
//! (`u′` rescales `u` from the preset's lateral start to 1.) The crown lies
//! over the top of the head and faces up and back: a front view shows only
//! its front rim, a lens about 5 mm deep and 65-75 mm wide hugging the top of
//! the silhouette (1.2-1.4 cm² on the shipped photos), and the render says
//! so. Top-view photos are not laid out by these presets.

use rayon::prelude::*;

use crate::brow::find_brow;
use crate::error::{Error, Result};
use crate::hairline::{Hairline, HairlineDesign, HairlineLook};
use crate::head::{fade_to_silhouette, Outline, SILHOUETTE_FEATHER_MM};
use crate::pipeline::Scene;
use crate::region::Region;
use crate::sampling::value_noise;
use crate::shape::HeadShape;
use crate::units::Scale;

/// Default distance of the mid-frontal point above the glabella, mm.
pub const DEFAULT_FRONTAL_MM: f32 = 80.0;
/// Width of the soft edge of a preset's cuts (its sides, a Norwood 4's
/// crown), mm.
pub const SIDE_EDGE_MM: f32 = 6.0;
/// Diameter of the crown (vertex) patch of `crown` and `norwood-4`, mm,
/// measured on the scalp.
pub const CROWN_MM: f32 = 90.0;
/// How far behind the top of the head (its highest point in a front view)
/// the crown's centre lies, mm along the scalp's midline: the crown whorl
/// sits on the back of the top.
pub const CROWN_BEHIND_MM: f32 = 20.0;
/// Default diameter of an alopecia patch, mm.
pub const DEFAULT_PATCH_MM: f32 = 30.0;
/// Every preset's name.
pub const PRESET_NAMES: &[&str] = &[
    "norwood-2",
    "norwood-3",
    "norwood-4",
    "norwood-5",
    "norwood-6",
    "norwood-7",
    "shaved",
    "crown",
    "ludwig-1",
    "ludwig-2",
    "ludwig-3",
    "alopecia-patch",
];

/// A pattern preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Norwood stage 2 to 7.
    Norwood(u8),
    /// Ludwig stage 1 to 3.
    Ludwig(u8),
    /// The full shaved look.
    Shaved,
    /// The crown only.
    Crown,
    /// One alopecia areata patch.
    AlopeciaPatch,
}

impl Preset {
    /// Parses a preset name (see [`PRESET_NAMES`]).
    pub fn parse(name: &str, source: &str) -> Result<Preset> {
        let n = name.trim().to_ascii_lowercase();
        let stage = |prefix: &str| n.strip_prefix(prefix).and_then(|s| s.parse::<u8>().ok());
        let p = match n.as_str() {
            "shaved" => Some(Preset::Shaved),
            "crown" => Some(Preset::Crown),
            "alopecia-patch" => Some(Preset::AlopeciaPatch),
            _ => match (stage("norwood-"), stage("ludwig-")) {
                (Some(k @ 2..=7), _) => Some(Preset::Norwood(k)),
                (_, Some(k @ 1..=3)) => Some(Preset::Ludwig(k)),
                _ => None,
            },
        };
        p.ok_or_else(|| {
            Error::field(
                source,
                "preset",
                name,
                format!("must be one of {}", PRESET_NAMES.join(", ")),
            )
        })
    }

    /// The preset's name.
    pub fn name(self) -> String {
        match self {
            Preset::Norwood(k) => format!("norwood-{k}"),
            Preset::Ludwig(k) => format!("ludwig-{k}"),
            Preset::Shaved => "shaved".into(),
            Preset::Crown => "crown".into(),
            Preset::AlopeciaPatch => "alopecia-patch".into(),
        }
    }
}

/// A preset with its landmarks.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetDesign {
    /// The preset.
    pub preset: Preset,
    /// The glabella (brow midpoint), photo px, for every preset but the
    /// crown and the alopecia patch; found on the brow line when not given.
    pub glabella: Option<[f32; 2]>,
    /// Mid-frontal point above the glabella on the scalp, mm, 60 to 120.
    pub frontal_mm: f32,
    /// How the preset's hairline looks.
    pub look: HairlineLook,
    /// Centre of an alopecia patch, photo px.
    pub patch: Option<[f32; 2]>,
    /// Diameter of an alopecia patch, mm, 5 to 150.
    pub patch_mm: f32,
}

/// Where a preset put things.
#[derive(Debug, Clone)]
pub struct PresetLayout {
    /// The treatment region (on the head).
    pub region: Region,
    /// The hairline, for the presets that have one.
    pub hairline: Option<Hairline>,
    /// The head shape the landmarks were placed on.
    pub head: HeadShape,
    /// The top of the head's silhouette, px.
    pub top: f32,
    /// The glabella found on the brow line, when none was given.
    pub glabella_found: Option<[f32; 2]>,
}

/// How far a round patch's edge wanders at `angle` around its centre, -1
/// to 1: smooth value noise on a circle, so the edge closes on itself.
fn edge_wobble(seed: u64, angle: f32) -> f32 {
    2.0 * value_noise(seed, 3.0 + 2.0 * angle.cos(), 3.0 + 2.0 * angle.sin()) - 1.0
}

/// The crown patch on `head`, seen in a front view: a round patch of
/// [`CROWN_MM`] on the scalp centred [`CROWN_BEHIND_MM`] behind the top,
/// with an irregular edge softened over [`SIDE_EDGE_MM`]. The head's fitted
/// ellipsoid is taken for a sphere in its own normalised coordinates
/// (u, v across and down the picture, w toward the camera); distances on
/// the scalp are angles times the mean of its vertical and depth radii.
/// Only the patch's front rim lies on the half of the head that faces the
/// camera, so the weight is a thin lens at the top of the silhouette.
fn crown_weight(head: &HeadShape, ppm: f32, seed: u64) -> impl Fn(f32, f32) -> f32 + Sync {
    let [cx, cy] = head.centre;
    let [a, b, c] = head.semi_axes;
    let radius = 0.5 * (b + c);
    let behind = CROWN_BEHIND_MM * ppm / radius;
    let reach = 0.5 * CROWN_MM * ppm / radius;
    let centre = [0.0, -behind.cos(), -behind.sin()];
    let edge = SIDE_EDGE_MM * ppm / radius;
    move |x: f32, y: f32| {
        let (u, v) = ((x - cx) / a, (y - cy) / b);
        let r2 = u * u + v * v;
        if r2 >= 1.0 {
            return 0.0;
        }
        let w = (1.0 - r2).sqrt();
        let cos = (u * centre[0] + v * centre[1] + w * centre[2]).clamp(-1.0, 1.0);
        let angle = cos.acos();
        // Around the patch's centre, for the edge's wobble.
        let around = u.atan2(-v * centre[2] + w * centre[1]);
        let wobble = 0.08 * edge_wobble(seed ^ 0xc20e, around);
        let t = ((reach * (1.0 + wobble) - angle) / edge + 0.5).clamp(0.0, 1.0);
        t * t * (3.0 - 2.0 * t)
    }
}

/// The brow midpoint of the head in the upper middle of a front view,
/// with the head's shape and outline.
fn found_brow(photo: &impl Scene, scale: Scale) -> Option<([f32; 2], (HeadShape, Outline))> {
    let (w, h) = photo.image().dimensions();
    let fitted = HeadShape::fit_near(photo, [w as f32 / 2.0, h as f32 * 0.4], scale)?;
    Some((find_brow(photo.image(), &fitted.0)?, fitted))
}

impl PresetDesign {
    /// Lays the preset out on `photo` at `scale` (seed for the hairline's
    /// irregularity); refuses landmarks that cannot be, saying which.
    pub fn build(
        &self,
        photo: &impl Scene,
        scale: Scale,
        seed: u64,
        source: &str,
    ) -> Result<PresetLayout> {
        let (w, h) = photo.image().dimensions();
        let ppm = scale.px_per_mm();
        let in_photo = |p: [f32; 2]| {
            p[0].is_finite()
                && p[1].is_finite()
                && p[0] >= 0.0
                && p[1] >= 0.0
                && p[0] < w as f32
                && p[1] < h as f32
        };
        let bad =
            |field: &str, value: String, why: String| Err(Error::field(source, field, value, why));
        if !(60.0..=120.0).contains(&self.frontal_mm) {
            return bad(
                "frontal_mm",
                self.frontal_mm.to_string(),
                "must be 60 to 120 mm (70 aggressive, 80 usual, 100 conservative)".into(),
            );
        }
        // The head fitted while finding the brow, kept for the layout.
        let mut fitted = None;
        let anchor = match (self.preset, self.glabella, self.patch) {
            (Preset::AlopeciaPatch, _, Some(p)) => p,
            (Preset::AlopeciaPatch, _, None) => return bad(
                "patch",
                "(missing)".into(),
                "the alopecia-patch preset needs the patch's centre, patch = [x, y] / --patch X,Y"
                    .into(),
            ),
            (_, Some(g), _) => g,
            (Preset::Crown, None, _) => [w as f32 / 2.0, h as f32 / 3.0],
            (_, None, _) => match found_brow(photo, scale) {
                Some((g, head)) => {
                    fitted = Some(head);
                    g
                }
                None => {
                    return bad(
                        "glabella",
                        "(missing)".into(),
                        format!(
                        "the {} preset is placed from the glabella (brow midpoint), and no brow \
                             line was found in the photo: give glabella = [x, y] / --glabella X,Y",
                        self.preset.name()
                    ),
                    )
                }
            },
        };
        let field = if self.preset == Preset::AlopeciaPatch {
            "patch"
        } else {
            "glabella"
        };
        if !in_photo(anchor) {
            return bad(
                field,
                format!("{},{}", anchor[0], anchor[1]),
                format!("must lie in the photo (0-{w}, 0-{h})"),
            );
        }
        let glabella_found = fitted.is_some().then_some(anchor);
        let Some((head, found)) = fitted.or_else(|| HeadShape::fit_near(photo, anchor, scale))
        else {
            return bad(
                field,
                format!("{},{}", anchor[0], anchor[1]),
                "does not lie on a head whose outline stands against a plain backdrop at this \
                 scale (presets need a front view against a backdrop, and a scale that makes \
                 the head 80-260 mm wide); give a region or a hairline instead"
                    .into(),
            );
        };
        let top = found.top;
        let cy = head.centre[1];
        let [a, b, _] = head.semi_axes;
        let half_width = |y: f32| a * (1.0 - ((y - cy) / b).powi(2)).max(0.0).sqrt();
        let mut hairline = None;
        let weight: Box<dyn Fn(f32, f32) -> f32 + Sync> = match self.preset {
            Preset::AlopeciaPatch => {
                let p = anchor;
                if !(5.0..=150.0).contains(&self.patch_mm) {
                    return bad(
                        "patch_mm",
                        self.patch_mm.to_string(),
                        "must be 5 to 150 mm".into(),
                    );
                }
                let r = self.patch_mm / 2.0 * ppm;
                let edge = 2.0 * ppm;
                Box::new(move |x, y| {
                    let (dx, dy) = (x - p[0], y - p[1]);
                    let ang = dy.atan2(dx);
                    let wobble = 0.12 * edge_wobble(seed ^ 0xa10c, ang);
                    let d = (dx * dx + dy * dy).sqrt() - r * (1.0 + wobble);
                    (0.5 - d / edge).clamp(0.0, 1.0)
                })
            }
            Preset::Crown => Box::new(crown_weight(&head, ppm, seed)),
            _ => {
                let g = anchor;
                if g[1] <= top {
                    return bad(
                        "glabella",
                        format!("{},{}", g[0], g[1]),
                        format!("lies above the top of the head (y {top:.0})"),
                    );
                }
                // Up the midline surface from the glabella.
                let arc_to = |mm: f32| -> Option<f32> {
                    let (mut y, mut s) = (g[1], 0.0f32);
                    let mut z = head.depth_at(g[0], y);
                    while y > top {
                        let z1 = head.depth_at(g[0], y - 1.0);
                        s += (1.0 + (z1 - z).powi(2)).sqrt() / ppm;
                        y -= 1.0;
                        z = z1;
                        if s >= mm {
                            return Some(y);
                        }
                    }
                    None
                };
                let Some(my) = arc_to(self.frontal_mm) else {
                    return bad(
                        "glabella",
                        format!("{},{}", g[0], g[1]),
                        format!(
                            "the mid-frontal point {:.0} mm above it on the scalp would lie above the \
                             top of the head (y {top:.0}): the glabella is too high, the scale \
                             ({ppm:.2} px/mm) too small, or frontal_mm too large",
                            self.frontal_mm
                        ),
                    );
                };
                let ty = arc_to(self.frontal_mm - 20.0).unwrap_or(my);
                // 50 mm around the head at the temples' height.
                let hw = half_width(ty).max(1.0);
                let angle = (50.0 * ppm / hw).min(1.3);
                let tx = hw * angle.sin();
                if g[0] - tx < 0.0 || g[0] + tx > w as f32 {
                    return bad(
                        "glabella",
                        format!("{},{}", g[0], g[1]),
                        "puts the temple points outside the photo".into(),
                    );
                }
                let design = HairlineDesign {
                    points: vec![[g[0] - tx, ty], [g[0], my], [g[0] + tx, ty]],
                    look: self.look,
                };
                let line = design.build((w, h), scale, seed, source)?;
                let temple_dx = tx;
                // 0 to 1 over SIDE_EDGE_MM around 0 (a smoothstep): the soft
                // edge of a preset's cuts.
                let edge = SIDE_EDGE_MM * ppm;
                let ramp = move |d: f32| {
                    let s = (d / edge + 0.5).clamp(0.0, 1.0);
                    s * s * (3.0 - 2.0 * s)
                };
                let brow = g[1];
                let side_limit = |share: f32| ty + share * (brow - ty);
                let shape: Box<dyn Fn(f32, f32, f32) -> f32 + Sync> = match self.preset {
                    Preset::Norwood(k @ 2..=3) => {
                        let (start, d0, d1) = if k == 2 {
                            (0.4, 8.0, 12.0)
                        } else {
                            (0.25, 15.0, 25.0)
                        };
                        Box::new(move |x, _y, depth| {
                            let u = (x - g[0]).abs() / temple_dx;
                            let u2 = ((u - start) / (1.0 - start)).clamp(0.0, 1.0);
                            let lateral = ((u - start) * 10.0 + 0.5).clamp(0.0, 1.0);
                            let deep = ((d0 + d1 * u2 - depth) / 3.0 + 0.5).clamp(0.0, 1.0);
                            lateral * deep
                        })
                    }
                    Preset::Norwood(4) => {
                        let crown = crown_weight(&head, ppm, seed);
                        Box::new(move |x, y, depth| {
                            let front = ((45.0 - depth) / 5.0 + 0.5).clamp(0.0, 1.0);
                            let sides = 1.0 - ramp((x - g[0]).abs() - temple_dx) * ramp(y - my);
                            f32::max(front * sides, crown(x, y))
                        })
                    }
                    Preset::Ludwig(k) => {
                        let half = [7.5, 15.0, 27.5][k as usize - 1] * ppm;
                        let edge = 5.0 * ppm;
                        Box::new(move |x, _y, _| {
                            ((half - (x - g[0]).abs()) / edge + 0.5).clamp(0.0, 1.0)
                        })
                    }
                    _ => {
                        let limit = match self.preset {
                            Preset::Norwood(5) => my,
                            Preset::Norwood(6) => side_limit(0.0),
                            Preset::Norwood(_) => side_limit(0.25),
                            _ => side_limit(0.5),
                        };
                        Box::new(move |x, y, _| {
                            1.0 - ramp((x - g[0]).abs() - temple_dx) * ramp(y - limit)
                        })
                    }
                };
                let line2 = line.clone();
                hairline = Some(line);
                Box::new(move |x, y| {
                    let depth = line2.behind_mm(x, y);
                    let behind = line2.weight_behind(depth);
                    if behind <= 0.0 {
                        0.0
                    } else {
                        behind * shape(x, y, depth)
                    }
                })
            }
        };
        // Only the rows down to the head's fitted bottom: none lies below.
        let rows = (cy + b).min(h as f32).max(0.0) as usize;
        let mut weights = vec![0.0f32; w as usize * rows];
        weights
            .par_chunks_mut(w as usize)
            .enumerate()
            .for_each(|(y, row)| {
                for (x, v) in row.iter_mut().enumerate() {
                    *v = weight(x as f32 + 0.5, y as f32 + 0.5);
                }
            });
        let what = format!("the {} preset", self.preset.name());
        let region = Region::from_top_rows(w, h, weights, &what)?;
        // On the head only, fading out toward the silhouette.
        let region = fade_to_silhouette(photo, &region, SILHOUETTE_FEATHER_MM * ppm)?;
        Ok(PresetLayout {
            region,
            hairline,
            head,
            top,
            glabella_found,
        })
    }
}
