//! The treatment plan: sessions, density, dots, shade, seed.
//!
//! [`Plan`] is what the library renders; [`PlanFile`] is the same plan as a
//! TOML file, with every field optional, plus the inputs and outputs of a
//! command-line render. Values are checked where they come from, so an error
//! names the file (or the command line), the field and the allowed range.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::shade::Shade;
use crate::timeline::{Permanence, Stage};
use crate::units::{DotsPerCm2, Mm};

/// Most sessions a plan may have (docs/domain.md: 2-4, a 4th for about 20% of clients).
pub const MAX_SESSIONS: u8 = 4;

/// Cumulative share of the final density reached after each session, by
/// session count. Session 1 lays a sparse base, later sessions fill in.
pub fn default_session_shares(sessions: u8) -> Vec<f32> {
    match sessions {
        1 => vec![1.0],
        2 => vec![0.55, 1.0],
        3 => vec![0.4, 0.75, 1.0],
        _ => vec![0.35, 0.65, 0.85, 1.0],
    }
}

/// Pigment strength of each session relative to the shade: session 1 is
/// lighter than the later ones, as practitioners do.
pub fn default_session_strengths(sessions: u8) -> Vec<f32> {
    let mut v = vec![1.0; sessions as usize];
    if sessions > 1 {
        v[0] = 0.8;
    }
    v
}

/// A treatment plan. Construct with `Plan { .., ..Default::default() }` and
/// check with [`Plan::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Number of sessions, 1 to 4. Default: 3.
    pub sessions: u8,
    /// Final density at full region weight, dots per cm² of scalp, 5 to 400.
    /// Default: 110 (docs/domain.md: a finished scalp reads as 40-120; the shaved look
    /// of `frl-london_037_03.jpg`'s own stubble needs the dense end).
    pub density: DotsPerCm2,
    /// Cumulative share of `density` after each session, increasing, the last
    /// 1. Default: [`default_session_shares`] (40% / 75% / 100% for 3).
    pub session_shares: Option<Vec<f32>>,
    /// Apparent diameter of a healed dot, mm, 0.05 to 2: the width at half
    /// its peak of the darkening a lone dot makes (its deposit, drawn at
    /// [`crate::DEPOSIT_SHARE`] of this, plus its scatter halo, seen
    /// through the pigment blur). Default: 0.5 mm (docs/domain.md: 0.3-0.5 mm
    /// apparent).
    pub dot_diameter: Mm,
    /// Relative standard deviation of the dot diameter, 0 to 0.8. Default: 0.25.
    pub dot_diameter_spread: f32,
    /// Largest ratio of a dot's long to short axis, 1 to 3; each dot draws
    /// its own ratio between 1 and this. Default: 1.35.
    pub elongation: f32,
    /// Relative standard deviation of the optical density of a dot's
    /// deposit, 0 to 0.6 (its halo takes up the difference, so the
    /// pigment per dot stays even). Default: 0.18.
    pub strength_spread: f32,
    /// Share of the dots placed as 2-dot clusters, 0 to 0.5: a second,
    /// slightly smaller impression beside the first, as practitioners set
    /// a few doubles among singles to imitate follicular units of two
    /// hairs. Only where the region's weight is full (never in the
    /// feathered edge or a hairline's taper, where single fine dots go);
    /// the sampler places fewer sites so that the dots still make the
    /// planned density. Default: 0.06.
    pub clusters: f32,
    /// Pigment scattered into a faint halo around each dot (reaching
    /// [`crate::HALO_REACH`] × its apparent diameter), as a multiple of the
    /// pigment in a dot of the planned size and strength, 0 to 8. Each
    /// dot's own halo balances its pigment mass: a smaller or lighter
    /// deposit scatters more ([`crate::make_dots`]). Default: 4 (so that a
    /// healed 3-session top reads as a shadow with fine texture, not as
    /// pepper, and a dot's darkening measures its planned diameter at half
    /// its peak).
    pub halo: f32,
    /// Pigment placed too deep ("blowout"), 0 to 1: each dot's pigment
    /// spreads into a wider, softer smudge (1 = a badly blown-out
    /// dot: 3 × the halo's radius and pigment, 1.5 × the dot's diameter).
    /// Useful to show a client what poor work looks like. Default: 0.
    pub blowout: f32,
    /// A matte (anti-shine) finish on the treated scalp, 0 to 1: the share
    /// of the skin's own gloss (the specular part of its light, estimated
    /// from the skin's colour) taken away before the pigment is composited
    /// (1 = fully matte, as SMP clients' anti-shine products leave it; 0 =
    /// the photo's own shine). Default: 0.
    pub matte: f32,
    /// Pigment shade and dilution. Default: [`crate::DEFAULT_SHADE`]
    /// (soft-black), as mixed; see also [`Plan::shade_unset`].
    pub shade: Shade,
    /// Pigment strength of each session, 0.1 to 1.5. Default:
    /// [`default_session_strengths`] (session 1 at 0.8).
    pub session_strengths: Option<Vec<f32>>,
    /// Width over which the region's edge fades in, mm, 0 to 60. Default: 6 mm.
    pub feather: Mm,
    /// Random seed: same photo, plan and seed give the same bytes. Default: 1.
    pub seed: u64,
    /// The photo's own blur (Gaussian σ, px, 0 to 6) applied to the pigment
    /// layer so dots are no sharper than the skin; `None` estimates it from
    /// the photo ([`crate::estimate_blur`]). A property of the photo, hence
    /// in pixels. Default: `None`.
    pub camera_blur_px: Option<f32>,
    /// Permanent or semi-permanent pigment (how it heals and fades).
    /// Default: permanent.
    pub pigment: Permanence,
    /// The moment of the treatment's life to show. Default: healed (what the
    /// client lives with).
    pub stage: Stage,
    /// Choose the shade and dilution to match the client's hair
    /// ([`crate::match_hair`]) instead of `shade`. Default: false.
    pub shade_auto: bool,
    /// The plan names no shade: the pipeline matches one to the client's
    /// hair as `auto` does ([`crate::resolve_shade`]) and keeps
    /// [`Plan::shade`] (the default, [`crate::DEFAULT_SHADE`]) when there
    /// is no hair to match, saying why. Set by [`Plan::for_client`], the
    /// plan the command line, batches and the studio start from; cleared
    /// by a plan file or option that names a shade or dilution. Default:
    /// false (a library plan renders its `shade`).
    pub shade_unset: bool,
    /// A point on the client's hair (photo px) for `shade_auto`; `None`
    /// samples the hair beside the region. Default: `None`.
    pub hair_point: Option<[f32; 2]>,
    /// Leave the client's own hair strands inside the region untouched and
    /// place dots between them ([`crate::keep_hair`]). Default: true.
    pub keep_hair: bool,
    /// Share of its pigment a dot on a scar keeps, 0 to 1 (patchily; see
    /// [`crate::hold_on_scar`]). Default: 0.55.
    pub scar_retention: f32,
    /// The pigment shade and dilution for dots on a scar, whose own colour
    /// differs from the skin around it (docs/domain.md, "Scars"); `None` uses
    /// [`Plan::shade`]. Default: none.
    pub scar_shade: Option<Shade>,
    /// Clip the region to the head: what lies on the photo's plain
    /// backdrop is never pigmented ([`crate::clip_to_head`]). Default: true.
    pub clip_to_head: bool,
    /// Place the dots on the scalp of a head shape fitted to the photo's
    /// outline ([`crate::HeadShape`]): toward the silhouette they crowd
    /// together and foreshorten, as follicles do. Without an outline (a
    /// close-up) the scalp is taken as flat, and the report says so.
    /// Default: true.
    pub head_shape: bool,
}

/// Default [`Plan::halo`].
pub const DEFAULT_HALO: f32 = 4.0;

impl Default for Plan {
    fn default() -> Self {
        Plan {
            sessions: 3,
            density: DotsPerCm2(110.0),
            session_shares: None,
            dot_diameter: Mm(0.5),
            dot_diameter_spread: 0.25,
            elongation: 1.35,
            strength_spread: 0.18,
            clusters: 0.06,
            halo: DEFAULT_HALO,
            blowout: 0.0,
            matte: 0.0,
            shade: Shade::default(),
            session_strengths: None,
            feather: Mm(6.0),
            seed: 1,
            camera_blur_px: None,
            pigment: Permanence::Permanent,
            stage: Stage::Healed,
            shade_auto: false,
            shade_unset: false,
            hair_point: None,
            keep_hair: true,
            scar_retention: crate::scar::DEFAULT_SCAR_RETENTION,
            scar_shade: None,
            clip_to_head: true,
            head_shape: true,
        }
    }
}

impl Plan {
    /// The default plan as the command line, batches and the studio start
    /// from: its shade not yet chosen ([`Plan::shade_unset`]).
    pub fn for_client() -> Plan {
        Plan {
            shade_unset: true,
            ..Plan::default()
        }
    }

    /// Cumulative density share after each session.
    pub fn shares(&self) -> Vec<f32> {
        self.session_shares
            .clone()
            .unwrap_or_else(|| default_session_shares(self.sessions))
    }

    /// Pigment strength of each session.
    pub fn strengths(&self) -> Vec<f32> {
        self.session_strengths
            .clone()
            .unwrap_or_else(|| default_session_strengths(self.sessions))
    }

    /// Every value of the plan as plan-file fields, defaults written out,
    /// so that the file renders the same plan even if a default changes.
    pub fn to_plan_file(&self) -> PlanFile {
        // Destructured in full so that a new field cannot be forgotten here.
        let Plan {
            sessions,
            density,
            session_shares: _,
            dot_diameter,
            dot_diameter_spread,
            elongation,
            strength_spread,
            clusters,
            halo,
            shade,
            session_strengths: _,
            feather,
            seed,
            camera_blur_px,
            blowout,
            matte,
            pigment,
            stage,
            shade_auto,
            shade_unset,
            hair_point,
            keep_hair,
            scar_retention,
            scar_shade,
            clip_to_head,
            head_shape,
        } = self;
        // A shade not yet chosen stays unchosen (matched when rendered).
        let chosen = !shade_unset || *shade_auto;
        PlanFile {
            sessions: Some(i64::from(*sessions)),
            density_per_cm2: Some(density.0),
            session_shares: Some(self.shares()),
            dot_diameter_mm: Some(dot_diameter.0),
            dot_diameter_spread: Some(*dot_diameter_spread),
            elongation: Some(*elongation),
            strength_spread: Some(*strength_spread),
            clusters: Some(*clusters),
            halo: Some(*halo),
            shade: chosen.then(|| {
                if *shade_auto {
                    "auto".to_string()
                } else {
                    shade.name.clone()
                }
            }),
            dilution: chosen.then_some(shade.dilution),
            blowout: Some(*blowout),
            matte: Some(*matte),
            pigment: Some(
                match pigment {
                    Permanence::Permanent => "permanent",
                    Permanence::SemiPermanent => "semi-permanent",
                }
                .to_string(),
            ),
            stage: Some(stage.to_string()),
            hair: *hair_point,
            keep_hair: Some(*keep_hair),
            scar_retention: Some(*scar_retention),
            scar_shade: scar_shade.as_ref().map(|s| s.name.clone()),
            scar_dilution: scar_shade.as_ref().map(|s| s.dilution),
            clip_to_head: Some(*clip_to_head),
            head_shape: Some(*head_shape),
            // A shade matched when rendered sets session 1's strength
            // itself, unless the plan gives the strengths.
            session_strengths: if chosen {
                Some(self.strengths())
            } else {
                self.session_strengths.clone()
            },
            feather_mm: Some(feather.0),
            seed: Some(*seed),
            camera_blur_px: *camera_blur_px,
            ..Default::default()
        }
    }

    /// Checks every field; `source` names where the values came from.
    pub fn validate(&self, source: &str) -> Result<()> {
        let range = |field: &str, v: f32, lo: f32, hi: f32, unit: &str| -> Result<()> {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(Error::field(
                    source,
                    field,
                    v,
                    format!("must be {lo} to {hi}{unit}"),
                ))
            }
        };
        if !(1..=MAX_SESSIONS).contains(&self.sessions) {
            return Err(Error::field(
                source,
                "sessions",
                self.sessions,
                format!("must be 1 to {MAX_SESSIONS}"),
            ));
        }
        range("density_per_cm2", self.density.0, 5.0, 400.0, " dots/cm²")?;
        range("dot_diameter_mm", self.dot_diameter.0, 0.05, 2.0, " mm")?;
        range(
            "dot_diameter_spread",
            self.dot_diameter_spread,
            0.0,
            0.8,
            "",
        )?;
        range("elongation", self.elongation, 1.0, 3.0, "")?;
        range("strength_spread", self.strength_spread, 0.0, 0.6, "")?;
        range("clusters", self.clusters, 0.0, 0.5, "")?;
        range("halo", self.halo, 0.0, 8.0, "")?;
        range("blowout", self.blowout, 0.0, 1.0, "")?;
        range("matte", self.matte, 0.0, 1.0, "")?;
        range("scar_retention", self.scar_retention, 0.0, 1.0, "")?;
        range("feather_mm", self.feather.0, 0.0, 60.0, " mm")?;
        if let Some(b) = self.camera_blur_px {
            range("camera_blur_px", b, 0.0, 6.0, " px")?;
        }
        let n = self.sessions as usize;
        if let Some(shares) = &self.session_shares {
            let ok = shares.len() == n
                && shares
                    .iter()
                    .all(|s| s.is_finite() && *s > 0.0 && *s <= 1.0)
                && shares.windows(2).all(|w| w[0] < w[1])
                && (shares[n - 1] - 1.0).abs() < 1e-6;
            if !ok {
                return Err(Error::field(
                    source,
                    "session_shares",
                    format!("{shares:?}"),
                    format!(
                        "must be {n} increasing shares in (0, 1], one per session, the last 1.0"
                    ),
                ));
            }
        }
        if let Some(st) = &self.session_strengths {
            if st.len() != n || !st.iter().all(|s| s.is_finite() && (0.1..=1.5).contains(s)) {
                return Err(Error::field(
                    source,
                    "session_strengths",
                    format!("{st:?}"),
                    format!("must be {n} values from 0.1 to 1.5, one per session"),
                ));
            }
        }
        Ok(())
    }
}

/// Checks a real distance between two scale points, mm (0.1 to 1000).
pub(crate) fn check_scale_mm(mm: f32, source: &str) -> Result<f32> {
    if mm.is_finite() && (0.1..=1000.0).contains(&mm) {
        Ok(mm)
    } else {
        Err(Error::field(
            source,
            "scale_mm",
            mm,
            "must be 0.1 to 1000 mm",
        ))
    }
}

/// Output image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Lossless PNG with fast compression. Default.
    #[default]
    Png,
    /// JPEG (4:2:0) at the chosen quality.
    Jpeg,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpg",
        }
    }

    /// The format a name or file extension stands for (`png`, `jpg`,
    /// `jpeg`, any case).
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "png" => Some(Format::Png),
            "jpeg" | "jpg" => Some(Format::Jpeg),
            _ => None,
        }
    }
}

/// What a render's before/after sheet shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frame {
    /// The treated area with context: the region's bounds grown as
    /// [`crate::Crop::Scalp`] grows them. Default.
    #[default]
    Scalp,
    /// The whole photo.
    Full,
}

impl Frame {
    /// The frame a name stands for (`scalp`, `full`, any case).
    pub fn from_name(name: &str) -> Option<Frame> {
        match name.to_ascii_lowercase().as_str() {
            "scalp" => Some(Frame::Scalp),
            "full" => Some(Frame::Full),
            _ => None,
        }
    }
}

/// A render described in a TOML file: every field optional, every field of
/// the command line available. Relative paths are relative to the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// The photo.
    pub photo: Option<PathBuf>,
    /// A region mask image (white = treat, grey = partial weight).
    pub region: Option<PathBuf>,
    /// A region polygon in photo pixel coordinates, `[[x, y], ...]`.
    pub polygon: Option<Vec<[f32; 2]>>,
    /// Scale, pixels per millimetre.
    pub px_per_mm: Option<f32>,
    /// Two points in photo pixels whose real distance is `scale_mm`, for
    /// the scale instead of `px_per_mm`, `[[x, y], [x, y]]`.
    pub scale_points: Option<[[f32; 2]; 2]>,
    /// The real distance between `scale_points`, mm.
    pub scale_mm: Option<f32>,
    /// Estimate the scale from the head's outline, assuming a head
    /// `head_breadth_mm` wide (instead of `px_per_mm` or `scale_points`).
    pub scale_from_head: Option<bool>,
    /// The head breadth the estimate from the outline assumes, mm, 100 to
    /// 220. Default: [`crate::HEAD_BREADTH_MM`].
    pub head_breadth_mm: Option<f32>,
    /// See [`Plan::sessions`].
    pub sessions: Option<i64>,
    /// See [`Plan::density`], dots/cm².
    pub density_per_cm2: Option<f32>,
    /// See [`Plan::session_shares`].
    pub session_shares: Option<Vec<f32>>,
    /// See [`Plan::dot_diameter`], mm.
    pub dot_diameter_mm: Option<f32>,
    /// See [`Plan::dot_diameter_spread`].
    pub dot_diameter_spread: Option<f32>,
    /// See [`Plan::elongation`].
    pub elongation: Option<f32>,
    /// See [`Plan::strength_spread`].
    pub strength_spread: Option<f32>,
    /// See [`Plan::clusters`].
    pub clusters: Option<f32>,
    /// See [`Plan::halo`].
    pub halo: Option<f32>,
    /// See [`Plan::blowout`].
    pub blowout: Option<f32>,
    /// See [`Plan::matte`].
    pub matte: Option<f32>,
    /// Shade name, `#rrggbb` or `auto`; see [`Shade`] and [`Plan::shade_auto`].
    pub shade: Option<String>,
    /// See [`Plan::hair_point`], `[x, y]` in photo px.
    pub hair: Option<[f32; 2]>,
    /// See [`Plan::keep_hair`].
    pub keep_hair: Option<bool>,
    /// A scar mask image of the photo's size (white = scar).
    pub scar: Option<PathBuf>,
    /// A hairline design's control points in photo pixels, `[[x, y], ...]`:
    /// left temple, mid-frontal point, right temple, then any further points.
    pub hairline: Option<Vec<[f32; 2]>>,
    /// The hairline's style (see [`crate::HairlineStyle`]).
    pub hairline_style: Option<String>,
    /// The hairline's transition width, mm.
    pub hairline_transition_mm: Option<f32>,
    /// The hairline edge's macro irregularity, mm.
    pub hairline_irregularity_mm: Option<f32>,
    /// The hairline's largest left/right asymmetry, mm.
    pub hairline_asymmetry_mm: Option<f32>,
    /// Share of the density in front of the hairline as isolated dots.
    pub hairline_isolated: Option<f32>,
    /// A pattern preset (see [`crate::Preset`]).
    pub preset: Option<String>,
    /// The glabella (brow midpoint) in photo pixels, for presets.
    pub glabella: Option<[f32; 2]>,
    /// Mid-frontal point above the glabella on the scalp, mm, for presets.
    pub frontal_mm: Option<f32>,
    /// Centre of an alopecia patch in photo pixels.
    pub patch: Option<[f32; 2]>,
    /// Diameter of an alopecia patch, mm.
    pub patch_mm: Option<f32>,
    /// A scar polygon in photo pixel coordinates, `[[x, y], ...]`.
    pub scar_polygon: Option<Vec<[f32; 2]>>,
    /// See [`Plan::scar_retention`].
    pub scar_retention: Option<f32>,
    /// See [`Plan::scar_shade`]: its name.
    pub scar_shade: Option<String>,
    /// See [`Plan::scar_shade`]: its dilution (default: the plan's).
    pub scar_dilution: Option<f32>,
    /// See [`Plan::clip_to_head`].
    pub clip_to_head: Option<bool>,
    /// See [`Plan::head_shape`].
    pub head_shape: Option<bool>,
    /// Pigment dilution, see [`Shade::dilution`].
    pub dilution: Option<f32>,
    /// See [`Plan::session_strengths`].
    pub session_strengths: Option<Vec<f32>>,
    /// See [`Plan::feather`], mm.
    pub feather_mm: Option<f32>,
    /// See [`Plan::seed`].
    pub seed: Option<u64>,
    /// See [`Plan::camera_blur_px`].
    pub camera_blur_px: Option<f32>,
    /// See [`Plan::pigment`]: `permanent` or `semi-permanent`.
    pub pigment: Option<String>,
    /// See [`Plan::stage`]: `fresh`, `crusting`, `healed` or `years:N`.
    pub stage: Option<String>,
    /// Output directory.
    pub out: Option<PathBuf>,
    /// Output image format.
    pub format: Option<Format>,
    /// What the before/after sheet shows: `scalp` (the treated area with
    /// context) or `full` (the whole photo).
    pub frame: Option<Frame>,
    /// JPEG quality, 1 to 100.
    pub quality: Option<u8>,
    /// Where to write the dots CSV.
    pub dots: Option<PathBuf>,
    /// Most dots a render may place (see [`crate::Limits`]).
    pub max_dots: Option<u64>,
    /// Most memory a render may be estimated to need, MiB (see
    /// [`crate::Limits`]).
    pub max_memory_mb: Option<u64>,
}

impl PlanFile {
    /// Reads a plan file; relative paths in it are resolved against its folder.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut pf: PlanFile = toml::from_str(&text).map_err(|e| Error::PlanSyntax {
            path: path.to_path_buf(),
            reason: e.to_string().trim_end().to_string(),
        })?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let auto = pf.region.as_deref() == Some(Path::new(crate::render::AUTO_REGION));
        for p in [
            pf.photo.as_mut(),
            pf.region.as_mut().filter(|_| !auto),
            pf.scar.as_mut(),
            pf.out.as_mut(),
            pf.dots.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
        // Check the plan part now so that an error names this file.
        pf.apply_to(Plan::default(), &path.display().to_string())?;
        Ok(pf)
    }

    /// Fields of `later` that are set replace those of `self`.
    pub fn overridden_by(self, later: PlanFile) -> PlanFile {
        macro_rules! pick {
            ($($f:ident),*) => { PlanFile { $($f: later.$f.or(self.$f)),* } };
        }
        pick!(
            photo,
            region,
            polygon,
            hairline,
            hairline_style,
            hairline_transition_mm,
            hairline_irregularity_mm,
            hairline_asymmetry_mm,
            hairline_isolated,
            preset,
            glabella,
            frontal_mm,
            patch,
            patch_mm,
            px_per_mm,
            scale_points,
            scale_mm,
            scale_from_head,
            head_breadth_mm,
            sessions,
            density_per_cm2,
            session_shares,
            dot_diameter_mm,
            dot_diameter_spread,
            elongation,
            strength_spread,
            clusters,
            halo,
            blowout,
            matte,
            shade,
            hair,
            keep_hair,
            scar,
            scar_polygon,
            scar_retention,
            scar_shade,
            scar_dilution,
            clip_to_head,
            head_shape,
            dilution,
            session_strengths,
            feather_mm,
            seed,
            camera_blur_px,
            pigment,
            stage,
            out,
            format,
            frame,
            quality,
            dots,
            max_dots,
            max_memory_mb
        )
    }

    /// The plan these fields make on top of `base`, checked; `source` names
    /// where the values came from for error messages.
    pub fn apply_to(&self, base: Plan, source: &str) -> Result<Plan> {
        let mut p = base;
        if let Some(v) = self.sessions {
            // Checked here, not by the TOML reader ("expected u8" names no
            // range).
            let v = u8::try_from(v)
                .ok()
                .filter(|v| (1..=MAX_SESSIONS).contains(v))
                .ok_or_else(|| {
                    Error::field(
                        source,
                        "sessions",
                        v,
                        format!("must be 1 to {MAX_SESSIONS}"),
                    )
                })?;
            if v != p.sessions {
                p.session_shares = None;
                p.session_strengths = None;
            }
            p.sessions = v;
        }
        if let Some(v) = self.density_per_cm2 {
            p.density = DotsPerCm2(v);
        }
        if let Some(v) = &self.session_shares {
            p.session_shares = Some(v.clone());
        }
        if let Some(v) = self.dot_diameter_mm {
            p.dot_diameter = Mm(v);
        }
        if let Some(v) = self.dot_diameter_spread {
            p.dot_diameter_spread = v;
        }
        if let Some(v) = self.elongation {
            p.elongation = v;
        }
        if let Some(v) = self.strength_spread {
            p.strength_spread = v;
        }
        if let Some(v) = self.clusters {
            p.clusters = v;
        }
        if let Some(v) = self.halo {
            p.halo = v;
        }
        if let Some(v) = self.blowout {
            p.blowout = v;
        }
        if self.shade.is_some() || self.dilution.is_some() {
            p.shade_unset = false;
        }
        if let Some(v) = self.matte {
            p.matte = v;
        }
        if self.shade.as_deref().map(str::trim) == Some("auto") {
            p.shade_auto = true;
        } else if self.shade.is_some() || self.dilution.is_some() {
            let name = self.shade.clone().unwrap_or_else(|| p.shade.name.clone());
            p.shade = Shade::parse(&name, self.dilution.unwrap_or(p.shade.dilution), source)?;
            p.shade_auto &= self.shade.is_none();
        }
        if let Some(v) = self.keep_hair {
            p.keep_hair = v;
        }
        if let Some(v) = self.scar_retention {
            p.scar_retention = v;
        }
        if self.scar_shade.is_some() || self.scar_dilution.is_some() {
            let name = self
                .scar_shade
                .clone()
                .or_else(|| p.scar_shade.as_ref().map(|s| s.name.clone()))
                .unwrap_or_else(|| p.shade.name.clone());
            let dilution = self
                .scar_dilution
                .or_else(|| p.scar_shade.as_ref().map(|s| s.dilution))
                .unwrap_or(p.shade.dilution);
            let shade = Shade::parse(&name, dilution, source).map_err(|e| match e {
                Error::InvalidField {
                    source_name,
                    field,
                    value,
                    allowed,
                } => Error::InvalidField {
                    source_name,
                    field: format!("scar_{field}"),
                    value,
                    allowed,
                },
                other => other,
            })?;
            p.scar_shade = Some(shade);
        }
        if let Some(v) = self.clip_to_head {
            p.clip_to_head = v;
        }
        if let Some(v) = self.head_shape {
            p.head_shape = v;
        }
        if let Some(v) = self.hair {
            if !(v[0].is_finite() && v[1].is_finite() && v[0] >= 0.0 && v[1] >= 0.0) {
                return Err(Error::field(
                    source,
                    "hair",
                    format!("{v:?}"),
                    "must be a point x,y in photo pixels",
                ));
            }
            p.hair_point = Some(v);
        }
        if let Some(v) = &self.session_strengths {
            p.session_strengths = Some(v.clone());
        }
        if let Some(v) = self.feather_mm {
            p.feather = Mm(v);
        }
        if let Some(v) = self.seed {
            p.seed = v;
        }
        if let Some(v) = self.camera_blur_px {
            p.camera_blur_px = Some(v);
        }
        if let Some(v) = &self.pigment {
            p.pigment = Permanence::parse(v, source)?;
        }
        if let Some(v) = &self.stage {
            p.stage = Stage::parse(v, source, "stage")?;
        }
        if let Some(q) = self.quality {
            if !(1..=100).contains(&q) {
                return Err(Error::field(source, "quality", q, "must be 1 to 100"));
            }
        }
        if let Some(v) = self.px_per_mm {
            crate::units::Scale::new(v, source)?;
        }
        if let Some(mm) = self.scale_mm {
            check_scale_mm(mm, source)?;
        }
        p.validate(source)?;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Plan::default().validate("t").unwrap();
        for n in 1..=4 {
            let p = Plan {
                sessions: n,
                ..Default::default()
            };
            p.validate("t").unwrap();
            assert_eq!(p.shares().len(), n as usize);
            assert_eq!(*p.shares().last().unwrap(), 1.0);
        }
    }

    #[test]
    fn out_of_range_names_source_field_and_range() {
        let pf = PlanFile {
            density_per_cm2: Some(1000.0),
            ..Default::default()
        };
        let e = pf
            .apply_to(Plan::default(), "my.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("my.toml") && e.contains("density_per_cm2") && e.contains("5 to 400"),
            "{e}"
        );
        let pf = PlanFile {
            sessions: Some(3),
            session_shares: Some(vec![0.5, 0.4, 1.0]),
            ..Default::default()
        };
        assert!(pf.apply_to(Plan::default(), "x").is_err());
    }

    #[test]
    fn unknown_field_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.toml");
        std::fs::write(&f, "sesions = 2\n").unwrap();
        let e = PlanFile::load(&f).unwrap_err().to_string();
        assert!(e.contains("p.toml") && e.contains("sesions"), "{e}");
    }

    #[test]
    fn plan_file_of_a_plan_makes_the_same_plan() {
        let plan = Plan {
            sessions: 2,
            seed: 77,
            halo: 0.5,
            shade: Shade::parse("ash-grey", 0.6, "t").unwrap(),
            camera_blur_px: Some(1.25),
            ..Default::default()
        };
        let text = toml::to_string(&plan.to_plan_file()).unwrap();
        let back: PlanFile = toml::from_str(&text).unwrap();
        let expected = Plan {
            session_shares: Some(plan.shares()),
            session_strengths: Some(plan.strengths()),
            ..plan
        };
        assert_eq!(
            back.apply_to(Plan::default(), "t").unwrap(),
            expected,
            "{text}"
        );
    }

    #[test]
    fn later_fields_override() {
        let a = PlanFile {
            seed: Some(1),
            sessions: Some(2),
            ..Default::default()
        };
        let b = PlanFile {
            seed: Some(9),
            ..Default::default()
        };
        let m = a.overridden_by(b);
        assert_eq!((m.seed, m.sessions), (Some(9), Some(2)));
    }
}
