//! Hairline designs: the front edge of the treatment, drawn the way a
//! practitioner draws it.
//!
//! A hairline is a curve across the forehead in photo pixels, set by three
//! control points (left temple, mid-frontal point, right temple; in a front
//! view the temples are the curve's ends) and any number of further points
//! that nudge it. A style shapes the curve between them and gives its edge:
//!
//! | style | shape between the points | transition | edge irregularity (macro / micro) | isolated dots in front |
//! |---|---|---|---|---|
//! | `natural` (`soft`) | gentle arch, `p(u) = u^2.2` | 10 mm | 1.5 / 0.6 mm | yes |
//! | `defined` | gentle arch, `u^2.2` | 1 mm | 0.2 / 0.1 mm | no |
//! | `receded` (`mature`) | arch with the temple corners 12 mm further back | 8 mm | 1.5 / 0.6 mm | yes |
//! | `straight` | flat across, turning only at the temples, `u^8` | 4 mm | 0.8 / 0.4 mm | few |
//! | `rounded` | a round dome, `1 - √(1 - u²)` | 8 mm | 1.2 / 0.5 mm | yes |
//! | `widows-peak` | arch with a 7 mm point down at the centre | 6 mm | 1.0 / 0.5 mm | yes |
//!
//! `u` runs from 0 at the mid-frontal point to 1 at each temple; the curve is
//! `y = y_mid + (y_temple − y_mid)·p(u)` on each side. Further control points
//! add a smooth correction through them (zero at the three main points).
//!
//! **Edge.** The front edge wanders around the curve by two value noises:
//! *macro* (a 12 mm wavelength, the hairline's lobes) and *micro* (1.5 mm,
//! single follicle groups). Behind the edge the density rises over the
//! *transition* width (a smoothstep from 0 to the plan's density): the
//! soft, graded front that reads as natural hair rather than a drawn line.
//! In front of it, a 3 mm band holds a few *isolated dots* (at about 4 % of
//! the plan's density: stray follicles ahead of the line). A natural
//! hairline is never a mirror image: the right half is shifted by a random
//! amount of at most the *asymmetry* (2 mm unless told otherwise), growing
//! from nothing at the centre to its full value at the temple.
//!
//! Sources for the figures: docs/domain.md (hairline design: soft front over
//! 5-15 mm, mid-frontal point 7-10 cm above the glabella, natural
//! asymmetry about 2 mm). Distances are in mm at the plan's scale, measured
//! in the picture.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::region::Region;
use crate::sampling::{mix, value_noise};
use crate::units::Scale;

/// Depth of the band in front of the edge that holds isolated dots, mm.
pub const ISOLATED_BAND_MM: f32 = 3.0;
/// Wavelength of the macro irregularity, mm.
pub const MACRO_WAVELENGTH_MM: f32 = 12.0;
/// Wavelength of the micro irregularity, mm.
pub const MICRO_WAVELENGTH_MM: f32 = 1.5;
/// Default largest left/right asymmetry, mm.
pub const DEFAULT_ASYMMETRY_MM: f32 = 2.0;

/// A hairline style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HairlineStyle {
    /// Soft, irregular front with a long taper and isolated dots (`soft`).
    Natural,
    /// A crisp edge-up.
    Defined,
    /// Temple corners set back, as in a mature hairline (`mature`).
    Receded,
    /// Flat across, turning only at the temples.
    Straight,
    /// A round dome.
    Rounded,
    /// A point down at the centre.
    WidowsPeak,
}

/// Every style's name as written on the command line, with its aliases.
pub const HAIRLINE_STYLES: &[(&str, HairlineStyle)] = &[
    ("natural", HairlineStyle::Natural),
    ("soft", HairlineStyle::Natural),
    ("defined", HairlineStyle::Defined),
    ("receded", HairlineStyle::Receded),
    ("mature", HairlineStyle::Receded),
    ("straight", HairlineStyle::Straight),
    ("rounded", HairlineStyle::Rounded),
    ("widows-peak", HairlineStyle::WidowsPeak),
];

/// A style's parameters, all in mm except the shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StyleParams {
    /// Width over which density rises from 0 to full behind the edge, mm.
    pub transition_mm: f32,
    /// Amplitude of the 12 mm-wavelength wander of the edge, mm.
    pub macro_mm: f32,
    /// Amplitude of the 1.5 mm-wavelength wander of the edge, mm.
    pub micro_mm: f32,
    /// Region weight of the band in front of the edge (the share of the
    /// plan's density found there as isolated dots), 0 to 0.1.
    pub isolated: f32,
    /// How far the temple corners are set back, mm (receded).
    pub recession_mm: f32,
    /// How far the centre point reaches down, mm (widow's peak).
    pub peak_mm: f32,
}

impl HairlineStyle {
    /// Parses a style name (see [`HAIRLINE_STYLES`]); `source` names the
    /// file or command line in the error.
    pub fn parse(name: &str, source: &str) -> Result<Self> {
        HAIRLINE_STYLES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|&(_, s)| s)
            .ok_or_else(|| {
                Error::field(
                    source,
                    "hairline_style",
                    name,
                    "must be one of natural (soft), defined, receded (mature), straight, \
                     rounded, widows-peak",
                )
            })
    }

    /// The style's name as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            HairlineStyle::Natural => "natural",
            HairlineStyle::Defined => "defined",
            HairlineStyle::Receded => "receded",
            HairlineStyle::Straight => "straight",
            HairlineStyle::Rounded => "rounded",
            HairlineStyle::WidowsPeak => "widows-peak",
        }
    }

    /// The style's default parameters (see the module's table).
    pub fn params(self) -> StyleParams {
        let base = StyleParams {
            transition_mm: 10.0,
            macro_mm: 1.5,
            micro_mm: 0.6,
            isolated: 0.04,
            recession_mm: 0.0,
            peak_mm: 0.0,
        };
        match self {
            HairlineStyle::Natural => base,
            HairlineStyle::Defined => StyleParams {
                transition_mm: 1.0,
                macro_mm: 0.2,
                micro_mm: 0.1,
                isolated: 0.0,
                ..base
            },
            HairlineStyle::Receded => StyleParams {
                transition_mm: 8.0,
                recession_mm: 12.0,
                ..base
            },
            HairlineStyle::Straight => StyleParams {
                transition_mm: 4.0,
                macro_mm: 0.8,
                micro_mm: 0.4,
                isolated: 0.02,
                ..base
            },
            HairlineStyle::Rounded => StyleParams {
                transition_mm: 8.0,
                macro_mm: 1.2,
                micro_mm: 0.5,
                ..base
            },
            HairlineStyle::WidowsPeak => StyleParams {
                transition_mm: 6.0,
                macro_mm: 1.0,
                micro_mm: 0.5,
                peak_mm: 7.0,
                ..base
            },
        }
    }

    /// The curve's profile between the mid-frontal point (`u = 0`) and a
    /// temple (`u = 1`), 0 to 1.
    fn profile(self, u: f32) -> f32 {
        let u = u.clamp(0.0, 1.0);
        match self {
            HairlineStyle::Straight => u.powi(8),
            HairlineStyle::Rounded => 1.0 - (1.0 - u * u).max(0.0).sqrt(),
            _ => u.powf(2.2),
        }
    }
}

/// How a hairline looks: its style, and any of the style's parameters
/// overridden. A designed hairline and a preset's share it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HairlineLook {
    /// The style.
    pub style: HairlineStyle,
    /// Transition width, mm, 0.5 to 20 (default: the style's).
    pub transition_mm: Option<f32>,
    /// Macro irregularity amplitude, mm, 0 to 5; the micro irregularity
    /// is 0.4 of it (default: the style's).
    pub irregularity_mm: Option<f32>,
    /// Largest left/right asymmetry, mm, 0 to 10 (default: 2).
    pub asymmetry_mm: Option<f32>,
    /// Share of the plan's density in front of the edge as isolated dots,
    /// 0 to 0.1 (default: the style's).
    pub isolated: Option<f32>,
}

impl HairlineLook {
    /// The style with its own parameters.
    pub fn of(style: HairlineStyle) -> Self {
        HairlineLook {
            style,
            transition_mm: None,
            irregularity_mm: None,
            asymmetry_mm: None,
            isolated: None,
        }
    }
}

/// A hairline as the consultant designs it: control points and a look.
#[derive(Debug, Clone, PartialEq)]
pub struct HairlineDesign {
    /// Left temple, mid-frontal point, right temple, then any further
    /// points the curve passes through; photo pixels.
    pub points: Vec<[f32; 2]>,
    /// The style and its overrides.
    pub look: HairlineLook,
}

/// A hairline laid out on a photo: the curve and its irregular edge per
/// pixel column, and the weights behind it.
#[derive(Debug, Clone)]
pub struct Hairline {
    /// The design it was built from.
    pub design: HairlineDesign,
    /// The parameters used (the style's, with the design's overrides).
    pub params: StyleParams,
    /// The right half's shift at the temple, mm (drawn from the seed).
    pub asymmetry_mm: f32,
    scale: Scale,
    width: u32,
    height: u32,
    /// The smooth curve's y at each pixel column's centre.
    curve: Vec<f32>,
    /// The irregular front edge's y at each pixel column's centre.
    edge: Vec<f32>,
}

fn check(source: &str, field: &str, v: f32, lo: f32, hi: f32, unit: &str) -> Result<f32> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(Error::field(
            source,
            field,
            v,
            format!("must be {lo} to {hi}{unit}"),
        ))
    }
}

impl HairlineDesign {
    /// Checks the design against a photo of `size` at `scale`, and lays it
    /// out with the irregularity drawn from `seed`.
    pub fn build(
        &self,
        size: (u32, u32),
        scale: Scale,
        seed: u64,
        source: &str,
    ) -> Result<Hairline> {
        let (w, h) = size;
        let pts = &self.points;
        if pts.len() < 3 {
            return Err(Error::field(
                source,
                "hairline",
                format!("{} points", pts.len()),
                "needs at least 3 points \"x,y\": left temple, mid-frontal point, right temple",
            ));
        }
        for p in pts {
            if !(p[0].is_finite() && p[1].is_finite())
                || p[0] < 0.0
                || p[1] < 0.0
                || p[0] > w as f32
                || p[1] > h as f32
            {
                return Err(Error::field(
                    source,
                    "hairline",
                    format!("{},{}", p[0], p[1]),
                    format!("every point must lie in the photo (0-{w}, 0-{h})"),
                ));
            }
        }
        let (l, m, r) = (pts[0], pts[1], pts[2]);
        let min_half = scale.px_per_mm() * 15.0;
        if !(m[0] - l[0] >= min_half && r[0] - m[0] >= min_half) {
            return Err(Error::field(
                source,
                "hairline",
                format!("{},{} {},{} {},{}", l[0], l[1], m[0], m[1], r[0], r[1]),
                "the first three points are the left temple, the mid-frontal point and the \
                 right temple, left to right, each at least 15 mm from the next",
            ));
        }
        for p in &pts[3..] {
            if !(l[0] < p[0] && p[0] < r[0]) || (p[0] - m[0]).abs() < 1.0 {
                return Err(Error::field(
                    source,
                    "hairline",
                    format!("{},{}", p[0], p[1]),
                    "further points must lie between the temples, off the mid-frontal point",
                ));
            }
        }
        let look = self.look;
        let mut params = look.style.params();
        if let Some(v) = look.transition_mm {
            params.transition_mm = check(source, "hairline_transition_mm", v, 0.5, 20.0, " mm")?;
        }
        if let Some(v) = look.irregularity_mm {
            params.macro_mm = check(source, "hairline_irregularity_mm", v, 0.0, 5.0, " mm")?;
            params.micro_mm = 0.4 * params.macro_mm;
        }
        if let Some(v) = look.isolated {
            params.isolated = check(source, "hairline_isolated", v, 0.0, 0.1, "")?;
        }
        let asym_max = match look.asymmetry_mm {
            Some(v) => check(source, "hairline_asymmetry_mm", v, 0.0, 10.0, " mm")?,
            None => DEFAULT_ASYMMETRY_MM,
        };
        let unit = |k: u64| (mix(seed ^ 0x4a11_0000 ^ k) >> 40) as f32 / (1u64 << 24) as f32;
        let asymmetry_mm = asym_max * (2.0 * unit(1) - 1.0);
        let ppm = scale.px_per_mm();
        let style = look.style;
        let base = |x: f32| -> f32 {
            let (t, u) = if x < m[0] {
                (l, (m[0] - x) / (m[0] - l[0]))
            } else {
                (r, (x - m[0]) / (r[0] - m[0]))
            };
            let u = u.clamp(0.0, 1.0);
            let mut y = m[1] + (t[1] - m[1]) * style.profile(u);
            y -= params.recession_mm * ppm * (-((u - 0.62) / 0.2).powi(2)).exp();
            y += params.peak_mm * ppm * (1.0 - u / 0.18).max(0.0).powf(1.6);
            if x > m[0] {
                y += asymmetry_mm * ppm * u;
            }
            y
        };
        // Further points: a smooth correction through their offsets from the
        // styled curve, zero at the three main points.
        let mut knots: Vec<[f32; 2]> = vec![[l[0], 0.0], [m[0], 0.0], [r[0], 0.0]];
        knots.extend(pts[3..].iter().map(|p| [p[0], p[1] - base(p[0])]));
        knots.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let correction = |x: f32| hermite(&knots, x);
        let seed_macro = mix(seed ^ 0x4a11_0002);
        let seed_micro = mix(seed ^ 0x4a11_0003);
        let curve: Vec<f32> = (0..w)
            .into_par_iter()
            .map(|x| {
                let x = (x as f32 + 0.5).clamp(l[0], r[0]);
                base(x) + correction(x)
            })
            .collect();
        let edge = curve
            .par_iter()
            .enumerate()
            .map(|(x, &y)| {
                let mm = (x as f32 + 0.5) / ppm;
                let macro_ = value_noise(seed_macro, mm / MACRO_WAVELENGTH_MM, 0.5) * 2.0 - 1.0;
                let micro = value_noise(seed_micro, mm / MICRO_WAVELENGTH_MM, 0.5) * 2.0 - 1.0;
                y + ppm * (params.macro_mm * macro_ + params.micro_mm * micro)
            })
            .collect();
        Ok(Hairline {
            design: self.clone(),
            params,
            asymmetry_mm,
            scale,
            width: w,
            height: h,
            curve,
            edge,
        })
    }
}

/// Cubic Hermite interpolation through `knots` (sorted by x) with
/// Catmull-Rom tangents and flat ends; constant outside them.
fn hermite(knots: &[[f32; 2]], x: f32) -> f32 {
    let n = knots.len();
    if x <= knots[0][0] {
        return knots[0][1];
    }
    if x >= knots[n - 1][0] {
        return knots[n - 1][1];
    }
    let i = knots.windows(2).position(|k| x < k[1][0]).unwrap_or(n - 2);
    let slope = |j: usize| -> f32 {
        if j == 0 || j == n - 1 {
            0.0
        } else {
            (knots[j + 1][1] - knots[j - 1][1]) / (knots[j + 1][0] - knots[j - 1][0])
        }
    };
    let (x0, y0, x1, y1) = (knots[i][0], knots[i][1], knots[i + 1][0], knots[i + 1][1]);
    let hx = x1 - x0;
    let t = (x - x0) / hx;
    let (t2, t3) = (t * t, t * t * t);
    (2.0 * t3 - 3.0 * t2 + 1.0) * y0
        + (t3 - 2.0 * t2 + t) * hx * slope(i)
        + (-2.0 * t3 + 3.0 * t2) * y1
        + (t3 - t2) * hx * slope(i + 1)
}

impl Hairline {
    /// The smooth curve's y at column `x` (px); beyond the temples, the
    /// temple's.
    pub fn curve_y(&self, x: f32) -> f32 {
        self.curve[(x.max(0.0) as usize).min(self.curve.len() - 1)]
    }

    /// The irregular front edge's y at column `x` (px).
    pub fn edge_y(&self, x: f32) -> f32 {
        self.edge[(x.max(0.0) as usize).min(self.edge.len() - 1)]
    }

    /// How far `(x, y)` lies behind the front edge, mm (negative: in
    /// front of it, on the forehead).
    pub fn behind_mm(&self, x: f32, y: f32) -> f32 {
        (self.edge_y(x) - y) / self.scale.px_per_mm()
    }

    /// The region weight the design gives at `mm` behind the edge.
    pub fn weight_behind(&self, mm: f32) -> f32 {
        let t = self.params.transition_mm;
        if mm >= t {
            1.0
        } else if mm >= 0.0 {
            let s = mm / t;
            s * s * (3.0 - 2.0 * s)
        } else if mm >= -ISOLATED_BAND_MM {
            self.params.isolated
        } else {
            0.0
        }
    }

    /// The smooth curve as a polyline from temple to temple, one point
    /// every few pixels.
    pub fn polyline(&self) -> Vec<[f32; 2]> {
        let (l, r) = (self.design.points[0][0], self.design.points[2][0]);
        let n = ((r - l) / 4.0).ceil().max(2.0) as usize;
        (0..=n)
            .map(|i| {
                let x = l + (r - l) * i as f32 / n as f32;
                [x, self.curve_y(x)]
            })
            .collect()
    }

    /// The treatment region the design gives: everything behind the edge
    /// (up to the photo's top, to be clipped to the head's outline), with
    /// the taper and the isolated dots' band in front. Beyond the temples
    /// the edge runs on level with them.
    pub fn region(&self) -> Result<Region> {
        let (w, h) = (self.width, self.height);
        let front = ISOLATED_BAND_MM * self.scale.px_per_mm();
        let lowest = self.edge.iter().copied().fold(0.0f32, f32::max) + front + 2.0;
        let rows = (lowest.ceil() as u32).min(h);
        // Only the rows down to the lowest isolated dot: nothing lies below.
        let mut weights = vec![0.0f32; w as usize * rows as usize];
        weights
            .par_chunks_mut(w as usize)
            .enumerate()
            .for_each(|(y, row)| {
                for (x, v) in row.iter_mut().enumerate() {
                    *v = self.weight_behind(self.behind_mm(x as f32 + 0.5, y as f32 + 0.5));
                }
            });
        Region::from_top_rows(w, h, weights, "hairline design")
    }
}

/// A hairline's points read from "x,y x,y x,y …" (see
/// [`HairlineDesign::points`]).
pub fn parse_hairline_points(points: &str, source: &str) -> Result<Vec<[f32; 2]>> {
    Region::parse_polygon(points).map_err(|_| {
        Error::field(
            source,
            "hairline",
            points,
            "points must be written \"x,y x,y x,y\" in photo pixels: left temple, mid-frontal \
             point, right temple",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(style: HairlineStyle) -> HairlineDesign {
        HairlineDesign {
            points: vec![[100.0, 300.0], [300.0, 200.0], [500.0, 300.0]],
            look: HairlineLook {
                asymmetry_mm: Some(0.0),
                ..HairlineLook::of(style)
            },
        }
    }

    fn scale() -> Scale {
        Scale::new(3.0, "t").unwrap()
    }

    #[test]
    fn the_curve_passes_through_its_points() {
        for &(_, style) in HAIRLINE_STYLES {
            if matches!(style, HairlineStyle::WidowsPeak | HairlineStyle::Receded) {
                continue;
            }
            let h = design(style).build((600, 600), scale(), 1, "t").unwrap();
            // Columns whose centres lie at (or, beyond the temples, are
            // clamped to) the points.
            for p in [[99.0, 300.0], [300.0, 200.0], [500.0, 300.0]] {
                assert!((h.curve_y(p[0]) - p[1]).abs() < 1.0, "{style:?} {p:?}");
            }
        }
        let mut d = design(HairlineStyle::Natural);
        d.points.push([200.0, 215.0]);
        let h = d.build((600, 600), scale(), 1, "t").unwrap();
        assert!((h.curve_y(200.0) - 215.0).abs() < 1.0);
        // The correction is smooth and local: the other half is as before.
        let plain = design(HairlineStyle::Natural)
            .build((600, 600), scale(), 1, "t")
            .unwrap();
        assert!((h.curve_y(420.0) - plain.curve_y(420.0)).abs() < 0.5);
    }

    #[test]
    fn styles_differ_where_they_should() {
        let at = |s: HairlineStyle, x: f32| {
            design(s)
                .build((600, 600), scale(), 1, "t")
                .unwrap()
                .curve_y(x)
        };
        // A widow's peak reaches down at the centre by about 7 mm.
        let dip = at(HairlineStyle::WidowsPeak, 300.5) - at(HairlineStyle::Natural, 300.5);
        assert!((dip - 21.0).abs() < 1.0, "{dip}");
        // Receded temple corners lie further back (smaller y).
        let back = at(HairlineStyle::Natural, 176.0) - at(HairlineStyle::Receded, 176.0);
        assert!(back > 30.0, "{back}");
        // Straight is flatter than rounded halfway out.
        assert!(at(HairlineStyle::Straight, 200.0) < at(HairlineStyle::Rounded, 200.0));
    }

    #[test]
    fn edge_wanders_within_its_amplitude_and_asymmetry_is_bounded() {
        let mut d = design(HairlineStyle::Natural);
        d.look.asymmetry_mm = None;
        for seed in 0..20 {
            let h = d.build((600, 600), scale(), seed, "t").unwrap();
            assert!(h.asymmetry_mm.abs() <= DEFAULT_ASYMMETRY_MM);
            let amp = (1.5 + 0.6) * 3.0;
            let mut most = 0.0f32;
            for x in 100..500 {
                let off = (h.edge_y(x as f32 + 0.5) - h.curve_y(x as f32 + 0.5)).abs();
                assert!(off <= amp + 1e-3);
                most = most.max(off);
            }
            assert!(most > 0.3 * amp, "the edge hardly wanders: {most}");
        }
    }

    #[test]
    fn bad_points_are_refused_by_name() {
        let mut d = design(HairlineStyle::Natural);
        d.points.swap(0, 2);
        let e = d
            .build((600, 600), scale(), 1, "plan.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("hairline") && e.contains("left to right"), "{e}");
        let mut d = design(HairlineStyle::Natural);
        d.points[1] = [300.0, 900.0];
        let e = d
            .build((600, 600), scale(), 1, "plan.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("in the photo"), "{e}");
        let e = HairlineStyle::parse("wavy", "cli").unwrap_err().to_string();
        assert!(
            e.contains("hairline_style") && e.contains("widows-peak"),
            "{e}"
        );
    }
}
