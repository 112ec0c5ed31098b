//! The whole pipeline: photo + region + plan → layered previews on disk.
//!
//! [`render_preview`] is the in-memory entry point (no disk, for servers,
//! tests and other programs); [`run_job`] reads the inputs, renders, and
//! writes every output atomically, refusing to write over an input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use image::{GrayImage, RgbImage};
use rayon::prelude::*;

use crate::composite::Erythema;
use crate::error::{Error, Result};
use crate::follicle::{make_dots, pair_up, Dot};
use crate::hair::{hair_cover, skin_luminance, HairCover};
use crate::hairline::{Hairline, HairlineDesign, HairlineLook, HairlineStyle};
use crate::head::{
    fade_to_silhouette, head_cover, take_out, Clipped, HeadCover, SILHOUETTE_FEATHER_MM,
};
use crate::photo::{
    encode_image_coded, encode_image_meta, load_photo, photo_dimensions, within_size_limits,
    write_atomic, write_atomic_with,
};
use crate::pipeline::{Design, Estimate, Limits, Pipeline, Scene, Sessions};
use crate::plan::{Format, Frame, Plan, PlanFile};
use crate::preset::{
    Preset, PresetDesign, CROWN_BEHIND_MM, CROWN_MM, DEFAULT_FRONTAL_MM, DEFAULT_PATCH_MM,
};
use crate::provenance::{ImageMeta, Provenance};
use crate::region::{Rect, Region};
use crate::sampling::{sample, SamplePoint, SamplerParams};
use crate::scar::hold_on_scar;
use crate::shade::{match_hair, ShadeMatch};
use crate::shape::HeadShape;
use crate::sheet::{
    side_by_side_layered, simulated_mark, simulated_mark_bounds, simulated_mark_part, Crop,
    DEFAULT_SCALP_MARGIN,
};
use crate::strips::{Coded, Layered, Piece};
use crate::timeline::{Stage, StageLook};
use crate::units::{Mm, Scale};

/// `region = "auto"` (`--region auto`): finding the scalp in the photo by
/// itself. Not available yet; it is refused with what to give instead.
pub const AUTO_REGION: &str = "auto";

/// Where the treatment region comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum RegionSource {
    /// A greyscale mask image of the photo's size.
    Mask(PathBuf),
    /// A polygon in photo pixel coordinates.
    Polygon(Vec<[f32; 2]>),
    /// Everything behind a designed hairline, on the head (the outline
    /// always ends it), within a mask or polygon if one is given too.
    Hairline {
        /// The hairline.
        design: HairlineDesign,
        /// A mask or polygon the region is limited to.
        within: Option<Box<RegionSource>>,
    },
    /// A pattern preset placed from landmarks.
    Preset(PresetDesign),
}

/// A region built for a photo, with the hairline it was designed from.
#[derive(Debug, Clone)]
pub struct BuiltRegion {
    /// The region (before clipping to the head and taking out hair).
    pub region: Region,
    /// The hairline laid out on the photo, for a hairline design.
    pub hairline: Option<Hairline>,
    /// What the design found for itself (e.g. the glabella on the brow
    /// line), to tell the user.
    pub note: Option<String>,
    /// Landmarks the design was placed from, named (e.g. "G", the
    /// glabella), photo px: drawn on the design overlay.
    pub landmarks: Vec<(String, [f32; 2])>,
}

impl RegionSource {
    /// Builds a mask or polygon region for a photo of `size`, feathered
    /// over `feather_px`. Designs need the photo: see [`RegionSource::build`].
    pub fn load(&self, size: (u32, u32), feather_px: f32) -> Result<Region> {
        match self {
            RegionSource::Mask(p) => Region::load_mask(p, size, feather_px),
            RegionSource::Polygon(pts) => Region::from_polygon(pts, size, feather_px),
            RegionSource::Hairline { .. } | RegionSource::Preset(_) => Err(Error::field(
                "region",
                "hairline",
                "a design",
                "a designed region is built for its photo; give a mask or polygon here",
            )),
        }
    }

    /// [`RegionSource::load`], with a mask source's image when it has
    /// been read already (`mask`).
    pub fn load_read(
        &self,
        mask: Option<&GrayImage>,
        size: (u32, u32),
        feather_px: f32,
    ) -> Result<Region> {
        match (self, mask) {
            (RegionSource::Mask(path), Some(m)) => {
                Region::from_mask(m, size, feather_px, path.as_path())
            }
            _ => self.load(size, feather_px),
        }
    }

    /// Writes this source into plan-file fields; a mask by the path
    /// `place` gives it.
    pub fn write_to(&self, pf: &mut PlanFile, place: &dyn Fn(&Path) -> PathBuf) {
        match self {
            RegionSource::Mask(m) => pf.region = Some(place(m)),
            RegionSource::Polygon(p) => pf.polygon = Some(p.clone()),
            RegionSource::Hairline { design, within } => {
                pf.hairline = Some(design.points.clone());
                write_look(&design.look, pf);
                if let Some(w) = within {
                    w.write_to(pf, place);
                }
            }
            RegionSource::Preset(d) => {
                pf.preset = Some(d.preset.name());
                pf.glabella = d.glabella;
                pf.frontal_mm = Some(d.frontal_mm);
                write_look(&d.look, pf);
                if d.preset == Preset::AlopeciaPatch {
                    pf.patch = d.patch;
                    pf.patch_mm = Some(d.patch_mm);
                }
            }
        }
    }

    /// Whether building the region looks at the photo's pixels.
    pub fn needs_photo(&self) -> bool {
        !matches!(self, RegionSource::Mask(_) | RegionSource::Polygon(_))
    }

    /// Builds the region for `photo` at `scale`: a mask or polygon feathered
    /// over `plan.feather`; a hairline design with its own taper (and the
    /// plan's seed for its irregularity). `source` names the plan in errors.
    pub fn build(
        &self,
        photo: &impl Scene,
        scale: Scale,
        plan: &Plan,
        source: &str,
    ) -> Result<BuiltRegion> {
        let feather = scale.px(plan.feather);
        let size = photo.image().dimensions();
        match self {
            RegionSource::Mask(_) | RegionSource::Polygon(_) => Ok(BuiltRegion {
                region: self.load(size, feather)?,
                hairline: None,
                note: None,
                landmarks: Vec::new(),
            }),
            RegionSource::Hairline { design, within } => {
                let hairline = design.build(size, scale, plan.seed, source)?;
                // Behind the hairline runs up to the photo's top: the head's
                // outline ends it, whatever the plan says about clipping
                // rough regions (a close-up without a backdrop keeps it all).
                let nothing = |_| {
                    Error::field(
                        source,
                        "hairline",
                        points_text(&design.points),
                        "no scalp lies behind this hairline on the head: are the points above \
                         the top of the head, or on the backdrop?",
                    )
                };
                let mut region = fade_to_silhouette(
                    photo,
                    &hairline.region().map_err(nothing)?,
                    scale.px(Mm(SILHOUETTE_FEATHER_MM)),
                )
                .map_err(nothing)?;
                if let Some(w) = within {
                    let limit = w.load(size, feather)?;
                    region = region.times(&limit, "the hairline design within its region")?;
                }
                Ok(BuiltRegion {
                    region,
                    hairline: Some(hairline),
                    note: None,
                    landmarks: Vec::new(),
                })
            }
            RegionSource::Preset(d) => {
                let layout = d.build(photo, scale, plan.seed, source)?;
                let mut landmarks = Vec::new();
                if let Some(g) = d.glabella.or(layout.glabella_found) {
                    if d.preset != Preset::AlopeciaPatch && d.preset != Preset::Crown {
                        landmarks.push(("G".to_string(), g));
                    }
                }
                if let (Preset::AlopeciaPatch, Some(p)) = (d.preset, d.patch) {
                    landmarks.push(("P".to_string(), p));
                }
                let glabella = layout.glabella_found.map(|g| {
                    format!(
                        "glabella: {:.0},{:.0}, found on the brow line (give --glabella to place \
                         it yourself)",
                        g[0], g[1]
                    )
                });
                // The crown lies over the top: say how little of it a front
                // view shows, rather than let a thin rim pass for the crown.
                let crown = (d.preset == Preset::Crown).then(|| {
                    format!(
                        "crown: a {CROWN_MM:.0} mm patch centred {CROWN_BEHIND_MM:.0} mm behind \
                         the top of the head; a front view shows only its front rim, a thin lens at \
                         the top of the silhouette; to preview the crown itself, give a top or \
                         back view with a drawn --region or --polygon"
                    )
                });
                let note = match (glabella, crown) {
                    (Some(a), Some(b)) => Some(format!("{a}\n{b}")),
                    (a, b) => a.or(b),
                };
                Ok(BuiltRegion {
                    landmarks,
                    region: layout.region,
                    hairline: layout.hairline,
                    note,
                })
            }
        }
    }
}

/// An in-memory render: the photo after each session.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The photo after session 1, 2, … (index 0 is session 1).
    pub sessions: Vec<RgbImage>,
    /// Every dot, ordered by session.
    pub dots: Vec<Dot>,
    /// Blur applied to the pigment layer, px (camera and skin scatter).
    pub blur: f32,
    /// The head shape the dots were placed on (`None`: a flat scalp).
    pub head: Option<HeadShape>,
}

impl Preview {
    /// Number of dots placed by each session (not cumulative).
    pub fn dots_per_session(&self) -> Vec<usize> {
        let n = self.sessions.len();
        (1..=n as u8)
            .map(|k| self.dots.iter().filter(|d| d.session == k).count())
            .collect()
    }
}

/// Samples, shapes and composites every session of `plan` into `photo`.
/// The region is used as given: take the hair out first with
/// [`prepare_region`] to keep it and clip to the head, and match a shade
/// with [`resolve_shade`].
pub fn render_preview(photo: &RgbImage, region: &Region, plan: &Plan, scale: Scale) -> Preview {
    let head = fit_head(photo, region, plan, scale);
    let points = place_points(region, plan, scale, head.as_ref());
    let dots = stage_dots(&points, plan, scale, head.as_ref());
    let blur = pigment_blur(photo, region, plan, scale);
    let sessions = composite_sessions(photo, region, plan, scale, &dots, blur);
    Preview {
        sessions,
        dots,
        blur,
        head,
    }
}

/// The head shape the plan's dots are placed on: fitted to the photo's
/// outline around `region` when [`Plan::head_shape`] asks for it and an
/// outline is found; `None` means a flat scalp.
pub fn fit_head(
    photo: &impl Scene,
    region: &Region,
    plan: &Plan,
    scale: Scale,
) -> Option<HeadShape> {
    if plan.head_shape {
        HeadShape::fit(photo, region, scale)
    } else {
        None
    }
}

/// Every session's sample points over `region`, at the plan's density per
/// cm² of scalp: on a head `shape`, the density per pixel rises by
/// [`HeadShape::density_factor`] toward the silhouette. Each point keeps
/// the region's own weight where it lies; 2-dot clusters are paired up
/// ([`pair_up`]).
pub fn place_points(
    region: &Region,
    plan: &Plan,
    scale: Scale,
    shape: Option<&HeadShape>,
) -> Vec<SamplePoint> {
    place_points_with(region, plan, scale, shape.map(|s| (s, None)))
}

/// [`place_points`], with the head's density factor over the region's
/// bounds when it has been found already ([`density_factors`]).
pub(crate) fn place_points_with(
    region: &Region,
    plan: &Plan,
    scale: Scale,
    shape: Option<(&HeadShape, Option<Vec<f32>>)>,
) -> Vec<SamplePoint> {
    let mut points = place_centres(region, plan, scale, shape);
    // A dot's centre lies on the skin: never on a pixel that is more
    // backdrop or strand than skin (their share of it still takes the
    // pigment that spreads there).
    if let Some(kept) = region.kept() {
        points.retain(|p| kept.skin_share(p.x as u32, p.y as u32) >= 0.5);
    }
    points
}

/// The head's density factor ([`HeadShape::density_factor`]) at each
/// pixel of the region's bounds (row-major), 0 where the region has no
/// weight (only its pixels need one).
pub(crate) fn density_factors(region: &Region, shape: &HeadShape) -> Vec<f32> {
    let b = region.bounds();
    let bw = b.width() as usize;
    let weights = region.bounded_weights();
    let mut out = vec![0.0f32; weights.len()];
    // A row at a time: each pixel's factor found from its own column and
    // row (no division of its index), side by side along the row.
    out.par_chunks_mut(bw.max(1))
        .zip(weights.par_chunks(bw.max(1)))
        .enumerate()
        .for_each(|(r, (out, weights))| {
            let y = (b.y0 as usize + r) as f32 + 0.5;
            for ((o, &w), x) in out.iter_mut().zip(weights).zip(b.x0..) {
                let f = shape.density_factor(x as f32 + 0.5, y);
                *o = if w <= 0.0 { 0.0 } else { f };
            }
        });
    out
}

/// [`place_points`] before the points on mixed pixels are dropped.
fn place_centres(
    region: &Region,
    plan: &Plan,
    scale: Scale,
    shape: Option<(&HeadShape, Option<Vec<f32>>)>,
) -> Vec<SamplePoint> {
    let params = sampler_params(plan, scale);
    let Some((shape, factors)) = shape else {
        return pair_up(sample(region, &params), region, plan, scale, None);
    };
    let mut relative = factors.unwrap_or_else(|| density_factors(region, shape));
    let top = relative.iter().copied().fold(1.0f32, f32::max);
    relative.par_iter_mut().for_each(|f| *f /= top);
    let Ok(dense) = region.scaled_by(relative, "the region on the head's shape") else {
        return pair_up(sample(region, &params), region, plan, scale, None);
    };
    let params = SamplerParams {
        densities: params.densities.iter().map(|d| d * top as f64).collect(),
        ..params
    };
    let mut points = sample(&dense, &params);
    for p in &mut points {
        p.weight = region.weight_at(p.x, p.y);
    }
    pair_up(points, region, plan, scale, Some(shape))
}

/// The sampler settings a plan makes at a scale.
pub fn sampler_params(plan: &Plan, scale: Scale) -> SamplerParams {
    // 2-dot clusters add their second dots to the sites sampled.
    let per_px2 = plan.density.per_mm2() as f64 * scale.mm2_per_px() / (1.0 + plan.clusters as f64);
    SamplerParams {
        densities: plan.shares().iter().map(|s| *s as f64 * per_px2).collect(),
        seed: plan.seed,
    }
}

/// Share of a dot's diameter by which pigment scatters in the skin (σ of
/// the sub-surface blur): dots sit *in* the skin, not on it.
pub const SCATTER_SHARE: f32 = 0.12;

/// The least camera blur an estimate is trusted down to, px. A pixel's
/// own aperture is a 1 px box (σ 0.29 px) and Bayer demosaicing widens it
/// to about 0.6-0.8 px; the smaller figures the edge estimate gives on
/// phone and studio JPEGs come from their sharpening, which steepens edges
/// but never reaches skin-deep pigment. A given `camera_blur_px` is used
/// as it is.
pub const MIN_CAMERA_BLUR: f32 = 0.8;

/// The blur applied to the pigment layer, px: the photo's own (given, or
/// estimated and at least [`MIN_CAMERA_BLUR`]) combined with the skin's
/// scatter.
pub fn pigment_blur(photo: &impl Scene, region: &Region, plan: &Plan, scale: Scale) -> f32 {
    let camera = plan
        .camera_blur_px
        .unwrap_or_else(|| photo.blur_near(region.bounds()).max(MIN_CAMERA_BLUR));
    let scatter = SCATTER_SHARE * scale.px(plan.dot_diameter);
    (camera * camera + scatter * scatter).sqrt()
}

/// One image per session, each adding that session's dots, the pigment
/// blurred by `blur` px, as they look at the plan's stage (its shade and
/// the skin's redness; the dots come from [`stage_dots`]).
pub fn composite_sessions(
    photo: &RgbImage,
    region: &Region,
    plan: &Plan,
    scale: Scale,
    dots: &[Dot],
    blur: f32,
) -> Vec<RgbImage> {
    composite_upto(photo, region, plan, scale, dots, blur, false)
}

/// [`composite_sessions`], or with `last_only` only the image of the plan's
/// last session (the same pixels).
fn composite_upto(
    photo: &RgbImage,
    region: &Region,
    plan: &Plan,
    scale: Scale,
    dots: &[Dot],
    blur: f32,
    last_only: bool,
) -> Vec<RgbImage> {
    let (r, crops) = composite_crops(photo, region, plan, scale, dots, blur, last_only);
    crops
        .iter()
        .map(|crop| {
            let mut out = photo.clone();
            crate::composite::paste(&mut out, crop, r);
            out
        })
        .collect()
}

/// [`composite_upto`]'s images cut to the region's bounds, with them.
fn composite_crops(
    photo: &RgbImage,
    region: &Region,
    plan: &Plan,
    scale: Scale,
    dots: &[Dot],
    blur: f32,
    last_only: bool,
) -> (Rect, Vec<RgbImage>) {
    let look = StageLook::of(plan.stage, plan.pigment);
    let erythema = (look.redness > 0.0).then(|| Erythema {
        strength: look.redness,
        patch_px: scale.px(Mm(ERYTHEMA_PATCH_MM)),
        seed: plan.seed,
    });
    crate::composite::composite_crops(
        photo,
        region,
        dots,
        &look.shade(&plan.shade),
        plan.sessions,
        last_only,
        blur,
        erythema.as_ref(),
        plan.matte,
    )
}

/// [`composite_with_scar`]'s images cut to the region's bounds, with them
/// (the whole frame when the scar has a shade of its own).
pub(crate) fn composite_with_scar_crops(
    photo: &RgbImage,
    region: &Region,
    plan: &Plan,
    scale: Scale,
    dots: &[Dot],
    blur: f32,
    scar: Option<&Region>,
) -> (Rect, Vec<RgbImage>) {
    if scar.is_some() && plan.scar_shade.is_some() {
        let frame = Rect {
            x0: 0,
            y0: 0,
            x1: photo.width(),
            y1: photo.height(),
        };
        let images = composite_with_scar(photo, region, plan, scale, dots, blur, scar);
        return (frame, images);
    }
    composite_crops(photo, region, plan, scale, dots, blur, false)
}

/// [`composite_sessions`] with the dots on `scar` (weight ≥ ½ there) in
/// the plan's [`Plan::scar_shade`] when it has one: those are laid over
/// each session's image as a layer of their own, which multiplies the
/// light as one layer would (pigment absorbs; absorptions add).
pub fn composite_with_scar(
    photo: &RgbImage,
    region: &Region,
    plan: &Plan,
    scale: Scale,
    dots: &[Dot],
    blur: f32,
    scar: Option<&Region>,
) -> Vec<RgbImage> {
    composite_with_scar_upto(photo, region, plan, scale, dots, blur, scar, false)
}

/// [`composite_with_scar`], or with `last_only` only the image of the
/// plan's last session (the same pixels).
#[allow(clippy::too_many_arguments)]
pub(crate) fn composite_with_scar_upto(
    photo: &RgbImage,
    region: &Region,
    plan: &Plan,
    scale: Scale,
    dots: &[Dot],
    blur: f32,
    scar: Option<&Region>,
    last_only: bool,
) -> Vec<RgbImage> {
    let (Some(scar), Some(shade)) = (scar, &plan.scar_shade) else {
        return composite_upto(photo, region, plan, scale, dots, blur, last_only);
    };
    let on_scar = |d: &Dot| scar.weight_at(d.x, d.y) >= 0.5;
    let skin: Vec<Dot> = dots.iter().filter(|d| !on_scar(d)).copied().collect();
    let mut images = composite_upto(photo, region, plan, scale, &skin, blur, last_only);
    let look = StageLook::of(plan.stage, plan.pigment).shade(shade);
    let first = if last_only { plan.sessions } else { 1 };
    images.par_iter_mut().enumerate().for_each(|(k, img)| {
        let session = k as u8 + first;
        let layer: Vec<Dot> = dots
            .iter()
            .filter(|d| on_scar(d) && d.session <= session)
            .map(|d| Dot { session: 1, ..*d })
            .collect();
        if !layer.is_empty() {
            *img = crate::composite::composite_sessions(
                img, region, &layer, &look, 1, blur, None, 0.0,
            )
            .pop()
            .expect("one session");
        }
    });
    images
}

/// Size of the patches of a fresh treatment's redness, mm.
pub const ERYTHEMA_PATCH_MM: f32 = 4.0;

/// The region as the plan treats it: clipped to the head
/// ([`Plan::clip_to_head`]) and without the client's hair strands
/// ([`Plan::keep_hair`]), both found side by side on the region as given
/// and taken out at once; with what was clipped and how many hair pixels
/// were left out.
pub fn prepare_region(
    plan: &Plan,
    photo: &impl Scene,
    region: Region,
) -> Result<(Region, Clipped, usize)> {
    let (head, hair) = region_covers(plan, photo, &region);
    take_out(region, head.as_ref(), hair.as_ref())
}

/// What [`prepare_region`] takes out of `region`: the head's cover
/// ([`Plan::clip_to_head`]) and the hair's ([`Plan::keep_hair`]), found
/// side by side.
pub(crate) fn region_covers(
    plan: &Plan,
    photo: &impl Scene,
    region: &Region,
) -> (Option<HeadCover>, Option<HairCover>) {
    let b = region.bounds();
    let image = photo.image();
    rayon::join(
        || plan.clip_to_head.then(|| head_cover(photo, region)),
        || {
            plan.keep_hair
                .then(|| hair_cover(image, b, skin_luminance(image, region)))
        },
    )
}

/// How far around the region (or a given point) hair is sampled for
/// `--shade auto`, mm.
pub const HAIR_REACH_MM: f32 = 10.0;

/// The plan with its shade matched to the client's hair when it asks for
/// `auto` ([`Plan::shade_auto`]) or names no shade ([`Plan::shade_unset`]),
/// session 1 one dilution step (0.1) lighter as practitioners do;
/// otherwise the plan as it is. A plan that names no shade and has no hair
/// to match (a bald head) keeps its default shade ([`crate::DEFAULT_SHADE`]),
/// and the returned match says why in [`ShadeMatch::fallback`]; `auto`
/// without hair is an error that asks for a point on the hair.
pub fn resolve_shade(
    plan: &Plan,
    photo: &RgbImage,
    region: &Region,
    scale: Scale,
) -> Result<(Plan, Option<ShadeMatch>)> {
    if !plan.shade_auto && !plan.shade_unset {
        return Ok((plan.clone(), None));
    }
    let found = match_hair(
        photo,
        region,
        plan.hair_point,
        scale.px(Mm(HAIR_REACH_MM)),
        "shade auto",
    );
    let m = match found {
        Ok(m) => m,
        Err(e) if plan.shade_unset && !plan.shade_auto => {
            let reason = match &e {
                crate::Error::InvalidField { value, .. } => {
                    format!("no hair to match beside the region ({value})")
                }
                _ => "no hair to match".to_string(),
            };
            return Ok((
                Plan {
                    shade_unset: false,
                    ..plan.clone()
                },
                Some(ShadeMatch {
                    shade: plan.shade.clone(),
                    delta_e: f32::NAN,
                    hair: [0; 3],
                    skin: [0; 3],
                    hair_pixels: 0,
                    fallback: Some(reason),
                }),
            ));
        }
        Err(e) => return Err(e),
    };
    let mut p = plan.clone();
    p.shade = m.shade.clone();
    p.shade_unset = false;
    if p.session_strengths.is_none() && p.sessions > 1 {
        let d = m.shade.dilution;
        let mut st = crate::plan::default_session_strengths(p.sessions);
        st[0] = (d - 0.1).max(0.2) / d;
        p.session_strengths = Some(st);
    }
    Ok((p, Some(m)))
}

/// The plan's dots for `points`, as they look at the plan's stage
/// ([`make_dots`] gives the healed look), seen on the sloping scalp of
/// `shape` when there is one.
pub fn stage_dots(
    points: &[SamplePoint],
    plan: &Plan,
    scale: Scale,
    shape: Option<&HeadShape>,
) -> Vec<Dot> {
    let mut dots = make_dots(points, plan, scale);
    StageLook::of(plan.stage, plan.pigment).apply(&mut dots, &plan.shade, plan.seed);
    if let Some(shape) = shape {
        shape.foreshorten(&mut dots);
    }
    dots
}

/// Points written as on the command line, "x,y x,y …".
fn points_text(points: &[[f32; 2]]) -> String {
    points
        .iter()
        .map(|p| format!("{},{}", p[0], p[1]))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Refuses the first option of `options` (name, whether it is set) that
/// is set: it `needs` something that is not there (`without`).
fn refuse_stray(source: &str, options: &[(&str, bool)], without: &str, needs: &str) -> Result<()> {
    match options.iter().find(|(_, set)| *set) {
        Some((name, _)) => Err(Error::field(source, *name, without, needs)),
        None => Ok(()),
    }
}

/// The hairline look the fields give (the natural style by default).
fn hairline_look(fields: &PlanFile, source: &str) -> Result<HairlineLook> {
    Ok(HairlineLook {
        style: match &fields.hairline_style {
            Some(s) => HairlineStyle::parse(s, source)?,
            None => HairlineStyle::Natural,
        },
        transition_mm: fields.hairline_transition_mm,
        irregularity_mm: fields.hairline_irregularity_mm,
        asymmetry_mm: fields.hairline_asymmetry_mm,
        isolated: fields.hairline_isolated,
    })
}

/// Writes a hairline look into plan-file fields.
fn write_look(look: &HairlineLook, pf: &mut PlanFile) {
    pf.hairline_style = Some(look.style.name().to_string());
    pf.hairline_transition_mm = look.transition_mm;
    pf.hairline_irregularity_mm = look.irregularity_mm;
    pf.hairline_asymmetry_mm = look.asymmetry_mm;
    pf.hairline_isolated = look.isolated;
}

/// The preset the fields give, if any.
fn preset_design(fields: &PlanFile, source: &str) -> Result<Option<PresetDesign>> {
    let Some(name) = &fields.preset else {
        refuse_stray(
            source,
            &[
                ("glabella", fields.glabella.is_some()),
                ("frontal_mm", fields.frontal_mm.is_some()),
                ("patch", fields.patch.is_some()),
                ("patch_mm", fields.patch_mm.is_some()),
            ],
            "without preset",
            "this option places a preset: give the preset too (preset / --preset)",
        )?;
        return Ok(None);
    };
    Ok(Some(PresetDesign {
        preset: Preset::parse(name, source)?,
        glabella: fields.glabella,
        frontal_mm: fields.frontal_mm.unwrap_or(DEFAULT_FRONTAL_MM),
        look: hairline_look(fields, source)?,
        patch: fields.patch,
        patch_mm: fields.patch_mm.unwrap_or(DEFAULT_PATCH_MM),
    }))
}

/// The hairline design the fields give, if any.
fn hairline_design(fields: &PlanFile, source: &str) -> Result<Option<HairlineDesign>> {
    let Some(points) = &fields.hairline else {
        if fields.preset.is_none() {
            refuse_stray(
                source,
                &[
                    ("hairline_style", fields.hairline_style.is_some()),
                    (
                        "hairline_transition_mm",
                        fields.hairline_transition_mm.is_some(),
                    ),
                    (
                        "hairline_irregularity_mm",
                        fields.hairline_irregularity_mm.is_some(),
                    ),
                    (
                        "hairline_asymmetry_mm",
                        fields.hairline_asymmetry_mm.is_some(),
                    ),
                    ("hairline_isolated", fields.hairline_isolated.is_some()),
                ],
                "without hairline",
                "a hairline option needs a hairline (hairline / --hairline) or a preset \
                 (preset / --preset)",
            )?;
        }
        return Ok(None);
    };
    Ok(Some(HairlineDesign {
        points: points.clone(),
        look: hairline_look(fields, source)?,
    }))
}

/// The scale of `photo` from its head's outline (see
/// [`HeadShape::scale_from_outline`]), looked for around the region's
/// polygon, or the upper middle of the photo for a mask; with a sentence
/// that states the assumption.
fn scale_from_head(
    photo: &Path,
    region: &RegionSource,
    fields: &PlanFile,
    source: &str,
) -> Result<(f32, String)> {
    let breadth = fields
        .head_breadth_mm
        .unwrap_or(crate::shape::HEAD_BREADTH_MM);
    if !(100.0..=220.0).contains(&breadth) {
        return Err(Error::field(
            source,
            "head_breadth_mm",
            breadth,
            "must be 100 to 220 mm",
        ));
    }
    let img = load_photo(photo)?;
    let (w, h) = img.dimensions();
    let near = match region {
        RegionSource::Polygon(pts) if !pts.is_empty() => {
            let n = pts.len() as f32;
            [
                pts.iter().map(|p| p[0]).sum::<f32>() / n,
                pts.iter().map(|p| p[1]).sum::<f32>() / n,
            ]
        }
        _ => [w as f32 / 2.0, h as f32 / 3.0],
    };
    let (ppm, _) = HeadShape::scale_from_outline(&img, near, breadth).ok_or_else(|| {
        Error::field(
            source,
            "scale_from_head",
            photo.display(),
            "no head outline against a plain backdrop was found; give px_per_mm or scale_points",
        )
    })?;
    Ok((
        ppm,
        format!(
            "scale: {ppm:.2} px/mm estimated from the head's outline ({:.0} px wide at its widest \
             above the ears), assuming the head is {breadth:.0} mm wide there (adults are about \
             140-165 mm, so about ±8 %; give --head-breadth-mm or a measured scale to do better)",
            ppm * breadth
        ),
    ))
}

/// A render from files to files.
#[derive(Debug, Clone)]
pub struct RenderJob {
    /// The photo.
    pub photo: PathBuf,
    /// The treatment region.
    pub region: RegionSource,
    /// Image scale.
    pub scale: Scale,
    /// The treatment plan.
    pub plan: Plan,
    /// Output folder (created if missing). Default: `smp-out`.
    pub out_dir: PathBuf,
    /// Output image format. Default: PNG.
    pub format: Format,
    /// What `before-after` shows. Default: [`Frame::Scalp`], the treated
    /// area with context.
    pub frame: Frame,
    /// JPEG quality, 1-100. Default: 90.
    pub quality: u8,
    /// Where to write the dots CSV, if anywhere.
    pub dots_csv: Option<PathBuf>,
    /// Other input files (a plan file) that must never be overwritten.
    pub other_inputs: Vec<PathBuf>,
    /// A scar inside the region, if any.
    pub scar: Option<RegionSource>,
    /// Draw the "Simulated preview" notice on every session image.
    /// Turning it off is an explicit choice. Default: true.
    pub simulated_label: bool,
    /// How the scale was found when it was estimated (printed by the
    /// command line), e.g. from the head's outline with its assumption.
    pub scale_note: Option<String>,
    /// How much the render may make (`max_dots`, `max_memory_mb`).
    pub limits: Limits,
}

/// The limits the fields set, checked.
fn job_limits(fields: &PlanFile, source: &str) -> Result<Limits> {
    let mut l = Limits::default();
    if let Some(n) = fields.max_dots {
        if n == 0 {
            return Err(Error::field(source, "max_dots", n, "must be at least 1"));
        }
        l.max_dots = n;
    }
    if let Some(mb) = fields.max_memory_mb {
        if !(64..=1 << 24).contains(&mb) {
            return Err(Error::field(
                source,
                "max_memory_mb",
                mb,
                "must be 64 to 16777216 MiB",
            ));
        }
        l.max_bytes = mb << 20;
    }
    Ok(l)
}

/// Width of a scar's soft edge, mm.
pub const SCAR_FEATHER_MM: f32 = 1.0;

/// Default output folder.
pub const DEFAULT_OUT_DIR: &str = "smp-out";
/// Default JPEG quality.
pub const DEFAULT_QUALITY: u8 = 90;

impl RenderJob {
    /// A job from merged plan-file fields and a checked plan. `source` names
    /// where the fields came from, for errors about missing inputs.
    pub fn from_fields(fields: &PlanFile, plan: Plan, source: &str) -> Result<Self> {
        let missing =
            |field: &str, what: &str| Error::field(source, field, "(missing)", what.to_string());
        let photo = fields
            .photo
            .clone()
            .ok_or_else(|| missing("photo", "a photo file is required"))?;
        let drawn = match (&fields.region, &fields.polygon) {
            (Some(_), Some(_)) => {
                return Err(Error::field(
                    source,
                    "region",
                    "both a mask and a polygon",
                    "give either a region mask or a polygon, not both",
                ))
            }
            (Some(m), None) if m.as_path() == Path::new(AUTO_REGION) => {
                return Err(Error::field(
                    source,
                    "region",
                    AUTO_REGION,
                    "finding the scalp by itself is not available yet (its hair edge is not \
                     reliable enough); give a mask, a polygon, a hairline (--hairline) or a \
                     preset (--preset, placed from the brow line it finds)",
                ))
            }
            (Some(m), None) => Some(RegionSource::Mask(m.clone())),
            (None, Some(p)) => Some(RegionSource::Polygon(p.clone())),
            (None, None) => None,
        };
        let preset = preset_design(fields, source)?;
        if preset.is_some() && (drawn.is_some() || fields.hairline.is_some()) {
            return Err(Error::field(
                source,
                "preset",
                fields.preset.as_deref().unwrap_or_default(),
                "a preset places its own region and hairline: give a preset, or a region and \
                 hairline, not both",
            ));
        }
        let region = match (drawn, hairline_design(fields, source)?, preset) {
            (_, _, Some(p)) => RegionSource::Preset(p),
            (within, Some(design), None) => RegionSource::Hairline {
                design,
                within: within.map(Box::new),
            },
            (Some(r), None, None) => r,
            (None, None, None) => {
                return Err(missing(
                    "region",
                    "a region is required: a mask (--region), a polygon (--polygon) or a \
                     hairline design (--hairline)",
                ))
            }
        };
        let from_head = fields.scale_from_head == Some(true);
        if from_head && (fields.px_per_mm.is_some() || fields.scale_points.is_some()) {
            return Err(Error::field(
                source,
                "scale_from_head",
                "with px_per_mm or scale_points",
                "give the scale one way: px_per_mm, scale_points, or scale_from_head",
            ));
        }
        let mut scale_note = None;
        let ppm = match (fields.px_per_mm, fields.scale_points, fields.scale_mm) {
            (None, None, _) if from_head => {
                let (ppm, note) = scale_from_head(&photo, &region, fields, source)?;
                scale_note = Some(note);
                ppm
            }
            (Some(_), Some(_), _) => {
                return Err(Error::field(
                    source,
                    "scale_points",
                    "both px_per_mm and scale_points",
                    "give the scale either as px_per_mm or as two points and their distance",
                ))
            }
            (Some(v), None, _) => v,
            (None, Some([a, b]), Some(mm)) => {
                let apart = (a[0] - b[0]).hypot(a[1] - b[1]);
                if !(apart >= 1.0 && apart.is_finite()) {
                    return Err(Error::field(
                        source,
                        "scale_points",
                        format!("{},{} {},{}", a[0], a[1], b[0], b[1]),
                        "must be two points at least 1 px apart (the ends of a known length in \
                         the photo)",
                    ));
                }
                apart / crate::plan::check_scale_mm(mm, source)?
            }
            (None, Some(_), None) => {
                return Err(missing(
                    "scale_mm",
                    "the real distance between scale_points is required",
                ))
            }
            (None, None, _) => return Err(missing(
                "px_per_mm",
                "the scale is required: px_per_mm, scale_points and scale_mm, or scale_from_head",
            )),
        };
        Ok(RenderJob {
            photo,
            region,
            scale: Scale::new(ppm, source)?,
            plan,
            out_dir: fields.out.clone().unwrap_or_else(|| DEFAULT_OUT_DIR.into()),
            format: fields.format.unwrap_or_default(),
            frame: fields.frame.unwrap_or_default(),
            quality: fields.quality.unwrap_or(DEFAULT_QUALITY),
            dots_csv: fields.dots.clone(),
            other_inputs: Vec::new(),
            scar: match (&fields.scar, &fields.scar_polygon) {
                (Some(_), Some(_)) => {
                    return Err(Error::field(
                        source,
                        "scar",
                        "both a mask and a polygon",
                        "give either a scar mask or a scar polygon, not both",
                    ))
                }
                (Some(m), None) => Some(RegionSource::Mask(m.clone())),
                (None, Some(p)) => Some(RegionSource::Polygon(p.clone())),
                (None, None) => None,
            },
            simulated_label: true,
            scale_note,
            limits: job_limits(fields, source)?,
        })
    }

    /// What the job's values came from, for errors: its plan file, or the
    /// command line.
    pub fn source(&self) -> String {
        match self.other_inputs.first() {
            Some(p) => p.display().to_string(),
            None => "command line".to_string(),
        }
    }

    /// Every output path this job writes, images first.
    pub fn output_paths(&self) -> Vec<PathBuf> {
        let ext = self.format.extension();
        let mut v = vec![self.out_dir.join(format!("before.{ext}"))];
        for k in 1..=self.plan.sessions {
            v.push(self.out_dir.join(format!("session-{k}.{ext}")));
        }
        v.push(self.out_dir.join(format!("before-after.{ext}")));
        v.extend(self.dots_csv.iter().cloned());
        v
    }

    /// The scar region for a photo of `size`, feathered over
    /// [`SCAR_FEATHER_MM`], if the job has a scar.
    pub fn scar_region(&self, size: (u32, u32)) -> Result<Option<Region>> {
        self.scar
            .as_ref()
            .map(|s| {
                s.load(size, self.scale.px(Mm(SCAR_FEATHER_MM)))
                    .map_err(|e| match e {
                        // The scar's polygon, not the region's.
                        Error::InvalidField {
                            field,
                            value,
                            allowed,
                            ..
                        } if field == "polygon" => {
                            Error::field(self.source(), "scar_polygon", value, allowed)
                        }
                        e => e,
                    })
            })
            .transpose()
    }

    /// A plan file (TOML) that renders this job's images again: every plan
    /// value, the scale, the region (a polygon in full, a mask by file
    /// name) and the photo by file name, never its folders.
    pub fn plan_toml(&self) -> String {
        toml::to_string(&self.plan_file(None)).unwrap_or_default()
    }

    /// The job as plan-file fields: every plan value, the scale, the region
    /// and scar (polygons in full) and the photo and masks by path: relative
    /// to `dir` (where the plan file goes) when they lie under it, absolute
    /// otherwise; by file name alone without a `dir`.
    pub fn plan_file(&self, dir: Option<&Path>) -> PlanFile {
        let place = |p: &Path| -> PathBuf {
            let Some(dir) = dir else {
                return p.file_name().map(PathBuf::from).unwrap_or_default();
            };
            let abs = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
            match dir.canonicalize() {
                Ok(d) => relative_to(&abs, &d).unwrap_or(abs),
                Err(_) => abs,
            }
        };
        let mut pf = self.plan.to_plan_file();
        pf.photo = Some(place(&self.photo));
        self.region.write_to(&mut pf, &place);
        match &self.scar {
            Some(RegionSource::Mask(m)) => pf.scar = Some(place(m)),
            Some(RegionSource::Polygon(p)) => pf.scar_polygon = Some(p.clone()),
            _ => {}
        }
        pf.px_per_mm = Some(self.scale.px_per_mm());
        // How the images were written, so the recorded plan renders the
        // same bytes: their format, the before/after's frame, the quality.
        pf.format = Some(self.format);
        pf.frame = Some(self.frame);
        pf.quality = Some(self.quality);
        pf
    }

    /// What an image of this job records about itself; `what` says what it
    /// shows (e.g. "session 2 of 3").
    pub fn provenance(&self, what: &str) -> Provenance {
        Provenance::new(
            &format!("scalp micropigmentation, {what}, rendered by smp-render, not photographed"),
            Some(self.plan.seed),
            Some(self.plan_toml()),
        )
    }

    /// Every input file this job reads: the photo, the region mask if any,
    /// and [`RenderJob::other_inputs`].
    pub fn inputs(&self) -> Vec<PathBuf> {
        let mut v = vec![self.photo.clone()];
        for source in std::iter::once(&self.region).chain(self.scar.as_ref()) {
            if let RegionSource::Mask(m) = source {
                v.push(m.clone());
            }
        }
        v.extend(self.other_inputs.iter().cloned());
        v
    }
}

/// `path` relative to `dir` (both absolute), with `..` where needed; `None`
/// when they share no root (another drive).
fn relative_to(path: &Path, dir: &Path) -> Option<PathBuf> {
    let (p, d): (Vec<_>, Vec<_>) = (path.components().collect(), dir.components().collect());
    let common = p.iter().zip(&d).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut rel = PathBuf::new();
    for _ in common..d.len() {
        rel.push("..");
    }
    for c in &p[common..] {
        rel.push(c);
    }
    Some(rel)
}

/// Time spent in each stage of a job.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Reading and decoding the photo.
    pub decode: Duration,
    /// Building and feathering the region.
    pub region: Duration,
    /// Sampling and shaping the dots, and estimating the photo's blur.
    pub dots: Duration,
    /// Compositing every session.
    pub composite: Duration,
    /// Building sheets, encoding and writing every output.
    pub write: Duration,
}

/// What a job did.
#[derive(Debug, Clone)]
pub struct JobReport {
    /// Files written.
    pub outputs: Vec<PathBuf>,
    /// Dots added by each session.
    pub dots_per_session: Vec<usize>,
    /// Blur applied to the pigment layer, px.
    pub blur: f32,
    /// The shade matched to the hair, for `shade = "auto"`.
    pub shade_match: Option<ShadeMatch>,
    /// Pixels of the client's own hair left untouched inside the region.
    pub hair_pixels: usize,
    /// What clipping the region to the head took out.
    pub clipped: Clipped,
    /// What the region's design found for itself, to tell the user.
    pub region_note: Option<String>,
    /// The head shape the dots were placed on (`None`: flat, because the
    /// plan said so or no outline was found).
    pub head: Option<HeadShape>,
    /// Time per stage.
    pub timings: Timings,
}

pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// What a job would place and need, without rendering it: the photo is
/// decoded and the region built (`render --dry-run`).
pub fn estimate_job(job: &RenderJob) -> Result<Estimate> {
    let photo = load_photo(&job.photo)?;
    let scar = job.scar_region(photo.dimensions())?;
    let pipeline = Pipeline::new(photo);
    pipeline.estimate(&Design {
        region: job.region.clone(),
        mask: None,
        scar,
        scale: job.scale,
        plan: job.plan.clone(),
        source: job.source(),
        limits: job.limits,
    })
}

/// Runs a job: decode, render, and write every output atomically.
pub fn run_job(job: &RenderJob) -> Result<JobReport> {
    let outputs = job.output_paths();
    for out in &outputs {
        if job.inputs().iter().any(|i| same_file(out, i)) {
            return Err(Error::WouldOverwriteInput { path: out.clone() });
        }
    }
    let mut t = Timings::default();
    // An image the same size as the photo takes from the photo's code
    // every strip of rows it has unchanged (PNG: see `strips`).
    let encode_write =
        |path: &Path, img: &Layered, what: &str, base: Option<&Coded>| -> Result<()> {
            let meta = ImageMeta {
                provenance: Some(job.provenance(what)),
                dpi: None,
            };
            let (file, _) = encode_image_coded(img, job.format, job.quality, path, &meta, base)?;
            write_atomic_with(path, &mut |w| file.write_to(w))
        };

    // The photo decodes on one core while the other reads the mask and
    // builds a mask or polygon region, which needs only the photo's size
    // (from its header); a region that cannot be built here is built (or
    // its error said) by the pipeline, after the photo's errors.
    let clock = Instant::now();
    let feather = job.scale.px(job.plan.feather);
    let (photo, region) = rayon::join(
        || load_photo(&job.photo),
        || -> Result<_> {
            let mask = match &job.region {
                RegionSource::Mask(path) => Some(Region::read_mask(path)?),
                _ => None,
            };
            let size = (!job.region.needs_photo())
                .then(|| photo_dimensions(&job.photo).ok())
                .flatten()
                // Over the limits the decoding refuses the photo: nothing
                // is built for it.
                .filter(|&(w, h)| within_size_limits(w, h));
            let built =
                size.and_then(|size| job.region.load_read(mask.as_ref(), size, feather).ok());
            Ok((mask, built))
        },
    );
    let photo = photo?;
    let (mask, built) = region?;
    t.decode = clock.elapsed();

    // `before` is encoded (in memory) while the region is built and the
    // dots are placed and composited; nothing is written until every input
    // has been checked.
    let scar = job.scar_region(photo.dimensions())?;
    let pipeline = match built {
        Some(region) => Pipeline::for_one_render(photo).with_region_built(region),
        None => Pipeline::for_one_render(photo),
    };
    let design = Design {
        region: job.region.clone(),
        mask: mask.map(Arc::new),
        scar,
        scale: job.scale,
        plan: job.plan.clone(),
        source: job.source(),
        limits: job.limits,
    };
    let (before, rendered) = rayon::join(
        || {
            encode_image_coded(
                &Layered::plain(pipeline.photo()),
                job.format,
                job.quality,
                &outputs[0],
                &ImageMeta::default(),
                None,
            )
        },
        || -> Result<_> {
            let r = pipeline.render_crops(&design)?;
            let (stage, _) = pipeline.region(&design)?;
            Ok((r, stage))
        },
    );
    let (r, stage) = rendered?;
    let (dots, blur, crops, within, shade_match) =
        (r.dots, r.blur, r.images, r.within, r.shade_match);
    let (hair_pixels, clipped, head, region_note, region_bounds) = (
        stage.hair_pixels,
        stage.clipped,
        stage.head,
        stage.built.note.clone(),
        stage.region.bounds(),
    );
    // The region and the points are not needed again: their memory goes
    // back before the outputs are made.
    drop(stage);
    let photo = &pipeline.into_photo();
    let [region_time, dots_time, composite_time] = [r.region_time, r.dots_time, r.composite_time];
    let clock = Instant::now();
    std::fs::create_dir_all(&job.out_dir).map_err(|e| Error::io(&job.out_dir, e))?;
    let (before, photo_code) = before?;
    let base = photo_code.as_ref();
    t.region = region_time;
    t.dots = dots_time;
    t.composite = composite_time;

    // The sheet is the largest image, so it starts first.
    let n = job.plan.sessions as usize;
    let after_label = format!(
        "After: {} session{} (simulated)",
        n,
        if n == 1 { "" } else { "s" }
    );
    // Each session's image is the photo with its crop of the region's
    // bounds over it, and the notice drawn on a copy of the few pixels
    // under it: made a row at a time as it is encoded, and every strip of
    // rows neither touches taken from the photo's code. The sheet is made
    // of the same pieces (its after-half shows the notice too).
    let full = Rect {
        x0: 0,
        y0: 0,
        x1: photo.width(),
        y1: photo.height(),
    };
    // The sheet frames the treated area with context (as `--crop scalp`
    // cuts it), unless asked for the whole photo.
    let frame = match job.frame {
        Frame::Full => None,
        Frame::Scalp => Some(
            Crop::Scalp {
                margin: DEFAULT_SCALP_MARGIN,
            }
            .rect(photo.dimensions(), Some(region_bounds), "before-after")?,
        ),
    };
    // What is written: the sheet, `before.png` (already coded: written
    // while the others are coded, not before them) and each session's
    // image, last first.
    enum Out<'c> {
        Sheet,
        Before,
        Session(usize, &'c RgbImage),
    }
    let mut images: Vec<(PathBuf, Out)> = vec![
        (outputs[n + 1].clone(), Out::Sheet),
        (outputs[0].clone(), Out::Before),
    ];
    for (k, crop) in crops.iter().enumerate().rev() {
        images.push((outputs[k + 1].clone(), Out::Session(k + 1, crop)));
    }
    let marked = job.simulated_label;
    let written: Vec<Result<()>> = images
        .par_iter()
        .with_max_len(1)
        .map(|(path, out)| match out {
            Out::Before => write_atomic_with(path, &mut |w| before.write_to(w)),
            Out::Session(k, crop) => {
                let img = session_image(photo, (crop, within), full, marked);
                encode_write(path, &img, &format!("session {k} of {n}"), base)
            }
            Out::Sheet => {
                let f = frame.unwrap_or(full);
                let before = Layered::view(photo, f);
                let after = session_image(photo, (&crops[n - 1], within), f, marked);
                let sheet = side_by_side_layered(before, "Before", after, &after_label);
                encode_write(
                    path,
                    &sheet,
                    &format!("before and after {n} sessions"),
                    None,
                )
            }
        })
        .collect();
    written.into_iter().collect::<Result<Vec<()>>>()?;
    if let Some(csv) = &job.dots_csv {
        if let Some(dir) = csv.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        write_atomic(csv, &dots_csv(&dots))?;
    }
    t.write = clock.elapsed();
    let dots_per_session = (1..=n as u8)
        .map(|k| dots.iter().filter(|d| d.session == k).count())
        .collect();
    Ok(JobReport {
        outputs,
        dots_per_session,
        blur,
        shade_match,
        hair_pixels,
        clipped,
        region_note,
        head,
        timings: t,
    })
}

/// A session's image framed to `f` (the whole photo, or the sheet's
/// frame): the photo's pixels there, the part of the session's `crop` of
/// the region's bounds (`within`) inside it, and when `marked`, the notice
/// drawn on a copy of the pixels under it.
fn session_image<'a>(
    photo: &'a RgbImage,
    (crop, within): (&'a RgbImage, Rect),
    f: Rect,
    marked: bool,
) -> Layered<'a> {
    let mut pieces = vec![Piece::cut(photo, f, (0, 0))];
    let (x0, y0) = (f.x0.max(within.x0), f.y0.max(within.y0));
    let (x1, y1) = (f.x1.min(within.x1), f.y1.min(within.y1));
    if x0 < x1 && y0 < y1 {
        let part = Rect {
            x0: x0 - within.x0,
            y0: y0 - within.y0,
            x1: x1 - within.x0,
            y1: y1 - within.y0,
        };
        pieces.push(Piece::cut(crop, part, (x0 - f.x0, y0 - f.y0)));
    }
    let mut img = Layered::new(f.width(), f.height(), pieces);
    let (w, h) = img.dimensions();
    let [x0, y0, x1, y1] = simulated_mark_bounds(w, h);
    if marked && x0 < x1 && y0 < y1 {
        let mut part = img.part(Rect { x0, y0, x1, y1 });
        simulated_mark_part(&mut part, (w, h), (x0, y0));
        img.push(Piece::owned(part, (x0, y0)));
    }
    img
}

/// What a timeline job did.
#[derive(Debug, Clone)]
pub struct TimelineReport {
    /// Files written: `before`, one image per stage, then the strip.
    pub outputs: Vec<PathBuf>,
    /// Dots of the whole treatment (every session).
    pub dots: usize,
    /// Blur applied to the pigment layer, px.
    pub blur: f32,
}

/// The images of a timeline: the photo after every session of `plan`, at
/// each of `stages`, in memory, dots on `scar` holding less pigment. The
/// dots are placed once; each stage changes only how they look.
pub fn render_timeline(
    photo: &RgbImage,
    region: &Region,
    scar: Option<&Region>,
    plan: &Plan,
    scale: Scale,
    stages: &[Stage],
) -> (Vec<RgbImage>, usize, f32) {
    let head = fit_head(photo, region, plan, scale);
    let (points, blur) = rayon::join(
        || place_points(region, plan, scale, head.as_ref()),
        || pigment_blur(photo, region, plan, scale),
    );
    let images = stages
        .par_iter()
        .with_max_len(1)
        .map(|&stage| {
            let staged = Plan {
                stage,
                ..plan.clone()
            };
            let mut dots = stage_dots(&points, &staged, scale, head.as_ref());
            if let Some(scar) = scar {
                hold_on_scar(&mut dots, scar, plan.scar_retention, scale, plan.seed);
            }
            // Every session's dots at once: one image of the whole treatment.
            dots.iter_mut().for_each(|d| d.session = 1);
            let whole = Plan {
                sessions: 1,
                session_shares: None,
                session_strengths: None,
                ..staged
            };
            composite_with_scar(photo, region, &whole, scale, &dots, blur, scar)
                .pop()
                .expect("one session")
        })
        .collect();
    (images, points.len(), blur)
}

/// Runs a timeline job: the photo as `before.EXT`, the finished treatment
/// at each stage as `stage-NAME.EXT`, and all of them side by side,
/// labelled, as `timeline.EXT`; every file written atomically.
pub fn run_timeline(job: &RenderJob, stages: &[Stage]) -> Result<TimelineReport> {
    if stages.is_empty() {
        return Err(Error::field(
            "command line",
            "stages",
            "(none)",
            "give at least one stage",
        ));
    }
    // Two equal stages would write one file twice, side by side.
    let stems: Vec<String> = stages.iter().map(Stage::file_stem).collect();
    if let Some((i, stem)) = stems
        .iter()
        .enumerate()
        .find(|(i, s)| stems[..*i].contains(s))
    {
        let given: Vec<String> = stages.iter().map(|s| s.to_string()).collect();
        return Err(Error::field(
            "command line",
            "stages",
            given.join(","),
            format!(
                "each stage at most once: `{}` is given twice (stages {} and {})",
                stages[i],
                stems.iter().position(|s| s == stem).unwrap_or(0) + 1,
                i + 1
            ),
        ));
    }
    let ext = job.format.extension();
    let mut outputs = vec![job.out_dir.join(format!("before.{ext}"))];
    outputs.extend(
        stages
            .iter()
            .map(|s| job.out_dir.join(format!("stage-{}.{ext}", s.file_stem()))),
    );
    outputs.push(job.out_dir.join(format!("timeline.{ext}")));
    for out in &outputs {
        if job.inputs().iter().any(|i| same_file(out, i)) {
            return Err(Error::WouldOverwriteInput { path: out.clone() });
        }
    }
    let photo = load_photo(&job.photo)?;
    let scar = job.scar_region(photo.dimensions())?;
    let pipeline = Pipeline::for_one_render(photo);
    let design = |stage: Stage| Design {
        region: job.region.clone(),
        mask: None,
        scar: scar.clone(),
        scale: job.scale,
        plan: Plan {
            stage,
            ..job.plan.clone()
        },
        source: job.source(),
        limits: job.limits,
    };
    // Every session's dots at once: one image of the whole treatment at
    // each stage. The region and the points are made for the first stage
    // and kept for the others, which only composite again.
    let whole = Sessions::Only(job.plan.sessions);
    let first = pipeline.render(&design(stages[0]), whole)?;
    let (dots, blur) = (first.dots.len(), first.blur);
    let mut images = first.images;
    let rest: Vec<RgbImage> = stages[1..]
        .par_iter()
        .with_max_len(1)
        .map(|&stage| {
            pipeline
                .render(&design(stage), whole)
                .map(|r| r.images.into_iter().next().expect("one image"))
        })
        .collect::<Result<_>>()?;
    images.extend(rest);
    let photo = pipeline.photo();
    if job.simulated_label {
        images.par_iter_mut().for_each(simulated_mark);
    }
    let mut labelled: Vec<(&RgbImage, String)> = vec![(photo, "Before".to_string())];
    labelled.extend(
        images
            .iter()
            .zip(stages)
            .map(|(img, s)| (img, format!("{} (simulated)", s.label()))),
    );
    let strip = labelled_strip(&labelled);
    std::fs::create_dir_all(&job.out_dir).map_err(|e| Error::io(&job.out_dir, e))?;
    let all: Vec<&RgbImage> = std::iter::once(photo)
        .chain(images.iter())
        .chain(std::iter::once(&strip))
        .collect();
    let whats: Vec<Option<String>> = std::iter::once(None)
        .chain(
            stages
                .iter()
                .map(|s| Some(format!("the whole treatment, {}", s.label()))),
        )
        .chain(std::iter::once(Some("a timeline of stages".to_string())))
        .collect();
    all.par_iter()
        .zip(outputs.par_iter())
        .zip(whats.par_iter())
        .with_max_len(1)
        .map(|((img, path), what)| {
            // `before` is the photo as decoded: no provenance of a render.
            let meta = ImageMeta {
                provenance: what.as_ref().map(|w| job.provenance(w)),
                dpi: None,
            };
            write_atomic(
                path,
                &encode_image_meta(img, job.format, job.quality, path, &meta)?,
            )
        })
        .collect::<Result<Vec<()>>>()?;
    Ok(TimelineReport {
        outputs,
        dots,
        blur,
    })
}

/// Images in a row, each labelled, keeping their sizes (shorter ones are
/// padded with black at the bottom).
fn labelled_strip(images: &[(&RgbImage, String)]) -> RgbImage {
    let gap = (images[0].0.width() / 200).max(2);
    let w = images.iter().map(|(i, _)| i.width()).sum::<u32>() + gap * (images.len() as u32 - 1);
    let h = images.iter().map(|(i, _)| i.height()).max().unwrap_or(0);
    let mut out = RgbImage::new(w, h);
    let mut x = 0;
    for (img, text) in images {
        let mut copy = (*img).clone();
        crate::sheet::label(&mut copy, text);
        image::imageops::replace(&mut out, &copy, x as i64, 0);
        x += img.width() + gap;
    }
    out
}

/// The header of the dots CSV.
pub const DOTS_CSV_HEADER: &str =
    "session,x_px,y_px,diameter_px,elongation,angle_deg,strength,weight,spacing_px";

/// The dots as CSV: a header and one row per dot, in session order.
pub fn dots_csv(dots: &[Dot]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * (dots.len() + 1));
    writeln!(out, "{DOTS_CSV_HEADER}").unwrap();
    for d in dots {
        writeln!(
            out,
            "{},{:.3},{:.3},{:.3},{:.3},{:.1},{:.3},{:.4},{:.3}",
            d.session,
            d.x,
            d.y,
            d.diameter,
            d.elongation,
            d.angle.to_degrees(),
            d.strength,
            d.weight,
            d.spacing
        )
        .unwrap();
    }
    out
}
