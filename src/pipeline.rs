//! The staged pipeline every front end renders through: the command line
//! ([`crate::run_job`]), `batch` and the studio.
//!
//! A render goes through four stages, each kept until what it depends on
//! changes:
//!
//! 1. **Photo** ([`Analysis`]): the decoded photo and what is found in it
//!    once, whatever the design: the backdrop's flood (clipping, the
//!    silhouette's fade, the head's outline, the brow line all read it) and
//!    the camera-blur estimate around each area asked about.
//! 2. **Region** ([`RegionStage`]): the region built from its design
//!    (mask, polygon, hairline or preset), clipped to the head, without the
//!    client's hair, and the head shape fitted around it. Redone when the
//!    design, the scale, the seed or the plan's region options change.
//! 3. **Points**: every session's sample points over the region. Redone
//!    when the density, the sessions, the clusters, the dot size or the
//!    seed change.
//! 4. **Composite**: the dots as they look at the plan's stage in its
//!    shade, composited into the photo. Redone on every render; a shade,
//!    stage or session change redoes only this.
//!
//! [`Pipeline::render`] says which stage it had to start from
//! ([`Redone`]). The same inputs give the same bytes whether a stage was
//! kept or recomputed.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use image::{GrayImage, RgbImage};
use rayon::prelude::*;

use crate::error::Result;
use crate::follicle::Dot;
use crate::head::{take_out, Backdrop, Clipped};
use crate::optics::estimate_blur;
use crate::plan::Plan;
use crate::region::{Rect, Region};
use crate::render::{
    composite_with_scar, composite_with_scar_crops, composite_with_scar_upto, density_factors,
    fit_head, pigment_blur, place_points_with, region_covers, resolve_shade, stage_dots,
    BuiltRegion, RegionSource,
};
use crate::sampling::SamplePoint;
use crate::scar::hold_on_scar;
use crate::shade::ShadeMatch;
use crate::shape::HeadShape;
use crate::units::Scale;

/// A photo as the pipeline's stages read it: its pixels and what is found
/// in it regardless of the design. A bare [`RgbImage`] finds each thing
/// every time it is asked; an [`Analysis`] finds it once and keeps it.
pub trait Scene: Sync {
    /// The photo's pixels.
    fn image(&self) -> &RgbImage;
    /// The photo's backdrop (`None`: the border is not a backdrop).
    fn backdrop(&self) -> Cow<'_, Option<Backdrop>>;
    /// The camera's blur σ around `near`, px (see [`estimate_blur`]).
    fn blur_near(&self, near: Rect) -> f32;
}

impl Scene for RgbImage {
    fn image(&self) -> &RgbImage {
        self
    }
    fn backdrop(&self) -> Cow<'_, Option<Backdrop>> {
        Cow::Owned(Backdrop::find(self))
    }
    fn blur_near(&self, near: Rect) -> f32 {
        estimate_blur(self, near)
    }
}

impl<T: Scene + ?Sized> Scene for &T {
    fn image(&self) -> &RgbImage {
        (**self).image()
    }
    fn backdrop(&self) -> Cow<'_, Option<Backdrop>> {
        (**self).backdrop()
    }
    fn blur_near(&self, near: Rect) -> f32 {
        (**self).blur_near(near)
    }
}

/// Stage 1: a decoded photo and what is found in it, each found the first
/// time it is asked for and kept.
#[derive(Debug)]
pub struct Analysis {
    photo: RgbImage,
    backdrop: OnceLock<Option<Backdrop>>,
    /// Blur estimates by the area they were made around.
    blur: Mutex<Vec<(Rect, f32)>>,
}

/// How many blur estimates an [`Analysis`] keeps (the latest areas).
const BLUR_MEMO: usize = 16;

impl Analysis {
    /// The photo, with nothing found in it yet.
    pub fn new(photo: RgbImage) -> Self {
        Analysis {
            photo,
            backdrop: OnceLock::new(),
            blur: Mutex::new(Vec::new()),
        }
    }

    /// Finds what every design needs now (the backdrop's flood), so that
    /// the first render does not wait for it.
    pub fn warm(&self) {
        let _ = self.backdrop();
    }

    /// The photo's pixels.
    pub fn photo(&self) -> &RgbImage {
        &self.photo
    }

    /// The photo, given back.
    pub fn into_photo(self) -> RgbImage {
        self.photo
    }
}

impl Scene for Analysis {
    fn image(&self) -> &RgbImage {
        &self.photo
    }
    fn backdrop(&self) -> Cow<'_, Option<Backdrop>> {
        Cow::Borrowed(self.backdrop.get_or_init(|| Backdrop::find(&self.photo)))
    }
    fn blur_near(&self, near: Rect) -> f32 {
        if let Some(&(_, b)) = self
            .blur
            .lock()
            .expect("blur memo")
            .iter()
            .find(|(r, _)| *r == near)
        {
            return b;
        }
        let b = estimate_blur(&self.photo, near);
        let mut memo = self.blur.lock().expect("blur memo");
        if memo.len() >= BLUR_MEMO {
            memo.remove(0);
        }
        memo.push((near, b));
        b
    }
}

/// How much a render may make: a plan within every documented range can
/// still ask for a hundred million dots (a whole frame at 0.2 px/mm and
/// 400 dots/cm²) or, on a huge photo, more memory than the machine has.
/// Checked from an [`Estimate`] made before any dot is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most dots a render places. Default: [`DEFAULT_MAX_DOTS`].
    pub max_dots: u64,
    /// Most memory a render is estimated to need, bytes. Default:
    /// [`DEFAULT_MAX_MEMORY_MB`] MiB.
    pub max_bytes: u64,
}

/// Default [`Limits::max_dots`]: 10 million (a full top of the head at
/// 20 px/mm is well under 100,000; the largest benchmark 0.3 million).
pub const DEFAULT_MAX_DOTS: u64 = 10_000_000;
/// Default [`Limits::max_bytes`], MiB: 6 GiB, so that `batch` can run two
/// such jobs side by side on a 24 GB machine with room to spare.
pub const DEFAULT_MAX_MEMORY_MB: u64 = 6 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_dots: DEFAULT_MAX_DOTS,
            max_bytes: DEFAULT_MAX_MEMORY_MB << 20,
        }
    }
}

/// What a render is expected to make and need, before it places a dot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Dots of every session (the region's weight at the plan's density,
    /// crowded toward the silhouette on a head shape).
    pub dots: u64,
    /// Peak memory, bytes: the photo and every image made from it, the
    /// region's planes, the dots and the sampler's work.
    pub bytes: u64,
    /// The treated area, cm² of picture (weighted by the region).
    pub area_cm2: f64,
}

impl Estimate {
    /// The estimate as a sentence.
    pub fn describe(&self) -> String {
        format!(
            "about {} dots over {:.1} cm², about {} MB of memory",
            self.dots,
            self.area_cm2,
            self.bytes.div_ceil(1 << 20)
        )
    }
}

/// Bytes a dot costs while it is made: its sample point, its dot, its
/// place in the compositor's bins, and the sampler's grid and discarded
/// candidates (about twice the rest).
const BYTES_PER_DOT: u64 =
    3 * (std::mem::size_of::<Dot>() + std::mem::size_of::<SamplePoint>() + 8) as u64;

/// Memory every render needs whatever its size, bytes: the program, the
/// allocator's reserves, the encoders' buffers (a 3-pixel photo's render
/// peaks at about 80 MB).
const BASE_BYTES: u64 = 96 << 20;

/// What a render is made of, besides the photo.
#[derive(Debug, Clone)]
pub struct Design {
    /// Where the region comes from.
    pub region: RegionSource,
    /// The mask image of a [`RegionSource::Mask`], already read (or painted
    /// in the studio): used instead of reading the mask's path.
    pub mask: Option<Arc<GrayImage>>,
    /// A scar inside the region, built for the photo.
    pub scar: Option<Region>,
    /// The image scale.
    pub scale: Scale,
    /// The treatment plan.
    pub plan: Plan,
    /// Where the design came from, for errors (a plan file, "command line").
    pub source: String,
    /// How much the render may make.
    pub limits: Limits,
}

/// Which session images a render makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sessions {
    /// The photo after every session, 1 to the plan's last.
    All,
    /// Only the photo after session `k` (1-based; clamped to the plan's
    /// sessions): the same pixels as that image of [`Sessions::All`].
    Only(u8),
}

/// The earliest stage a render had to recompute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Redone {
    /// Only the composite: the region and the points were kept.
    Composite,
    /// The sample points and the composite: the region was kept.
    Points,
    /// The region, the points and the composite (the photo's analysis is
    /// always kept).
    Region,
}

impl Redone {
    /// Its name: `composite`, `points` or `region`.
    pub fn name(self) -> &'static str {
        match self {
            Redone::Composite => "composite",
            Redone::Points => "points",
            Redone::Region => "region",
        }
    }
}

/// Stage 2: the region for a design, as the plan treats it.
#[derive(Debug, Clone)]
pub struct RegionStage {
    key: RegionKey,
    /// The region built from the design, before clipping and hair.
    pub built: BuiltRegion,
    /// The region as treated: clipped to the head, without hair strands.
    pub region: Region,
    /// What clipping to the head took out.
    pub clipped: Clipped,
    /// Pixels of the client's hair left untouched.
    pub hair_pixels: usize,
    /// The head shape the dots are placed on (`None`: flat).
    pub head: Option<HeadShape>,
}

/// What the region stage depends on.
#[derive(Debug, Clone)]
struct RegionKey {
    source: RegionSource,
    mask: Option<Arc<GrayImage>>,
    px_per_mm: f32,
    feather: f32,
    seed: u64,
    clip_to_head: bool,
    keep_hair: bool,
    head_shape: bool,
}

impl PartialEq for RegionKey {
    fn eq(&self, o: &Self) -> bool {
        let same_mask = match (&self.mask, &o.mask) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        same_mask
            && self.source == o.source
            && self.px_per_mm.to_bits() == o.px_per_mm.to_bits()
            && self.feather.to_bits() == o.feather.to_bits()
            && self.seed == o.seed
            && self.clip_to_head == o.clip_to_head
            && self.keep_hair == o.keep_hair
            && self.head_shape == o.head_shape
    }
}

impl RegionKey {
    fn of(d: &Design) -> Self {
        RegionKey {
            source: d.region.clone(),
            mask: d.mask.clone(),
            px_per_mm: d.scale.px_per_mm(),
            feather: d.plan.feather.0,
            seed: d.plan.seed,
            clip_to_head: d.plan.clip_to_head,
            keep_hair: d.plan.keep_hair,
            head_shape: d.plan.head_shape,
        }
    }
}

/// What the points stage depends on (besides the region).
#[derive(Debug, Clone, PartialEq)]
struct PointsKey {
    density: f32,
    shares: Vec<f32>,
    clusters: f32,
    dot_diameter: f32,
    elongation: f32,
    seed: u64,
}

impl PointsKey {
    fn of(plan: &Plan) -> Self {
        PointsKey {
            density: plan.density.0,
            shares: plan.shares(),
            clusters: plan.clusters,
            dot_diameter: plan.dot_diameter.0,
            elongation: plan.elongation,
            seed: plan.seed,
        }
    }
}

/// A render's result.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The session images asked for: every session's, or the one; each
    /// the part of the photo at [`Rendered::within`].
    pub images: Vec<RgbImage>,
    /// Where the images lie in the photo: the whole frame, or for
    /// [`Pipeline::render_crops`] the region's bounds (every pixel outside
    /// them is the photo's).
    pub within: Rect,
    /// Every dot of the treatment, ordered by session.
    pub dots: Vec<Dot>,
    /// Blur applied to the pigment layer, px.
    pub blur: f32,
    /// The shade matched to the hair, for `shade = "auto"`.
    pub shade_match: Option<ShadeMatch>,
    /// The earliest stage recomputed.
    pub redone: Redone,
    /// Time in the region stage (zero when kept).
    pub region_time: Duration,
    /// Time placing and shaping the dots and estimating the blur.
    pub dots_time: Duration,
    /// Time compositing.
    pub composite_time: Duration,
}

/// The staged pipeline over one photo: its [`Analysis`] and the last
/// region and points it made, reused while what they depend on stays the
/// same.
///
/// Its stages sit behind locks, so one pipeline can serve renders from
/// several threads (the studio's requests): each render reads the stages
/// it can reuse and stores those it rebuilt; a render whose inputs another
/// one changed meanwhile simply rebuilds.
#[derive(Debug)]
pub struct Pipeline {
    analysis: Analysis,
    /// Whether the region stage keeps the region as built (see
    /// [`Pipeline::for_one_render`]).
    keep_built: bool,
    region: Mutex<Option<Arc<RegionStage>>>,
    /// The region of the one render's design, built before the pipeline
    /// was (see [`Pipeline::with_region_built`]): taken by the first
    /// region stage.
    built: Mutex<Option<Region>>,
    /// The points, with the region stage they were placed on.
    points: Mutex<Option<PointsStage>>,
}

/// Stage 3: the sample points, with the region they were placed on.
type PointsStage = (Arc<RegionStage>, PointsKey, Arc<Vec<SamplePoint>>);

impl Pipeline {
    /// A pipeline over `photo`, nothing computed yet.
    pub fn new(photo: RgbImage) -> Self {
        Pipeline {
            analysis: Analysis::new(photo),
            keep_built: true,
            region: Mutex::new(None),
            built: Mutex::new(None),
            points: Mutex::new(None),
        }
    }

    /// A pipeline over `photo` for one render (the command line's): its
    /// region stage keeps no copy of the region as built, before clipping
    /// and hair ([`RegionStage::built`]'s region is left empty), which the
    /// studio's overlays and the design command show and one render does
    /// not need (14 MB at 12 MP held through compositing and writing).
    pub fn for_one_render(photo: RgbImage) -> Self {
        Pipeline {
            keep_built: false,
            ..Pipeline::new(photo)
        }
    }

    /// This pipeline with the region of its one render's design already
    /// built: a mask or polygon region needs only the photo's size, so the
    /// command line builds it while the photo is decoded. The first region
    /// stage takes it instead of building it, when the design's region is
    /// a mask or polygon and it is the photo's size; it must be what that
    /// design builds ([`RegionSource::load`] at the plan's feather).
    pub fn with_region_built(self, region: Region) -> Self {
        *self.built.lock().expect("built region") = Some(region);
        self
    }

    /// The photo's analysis (stage 1).
    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// The photo.
    pub fn photo(&self) -> &RgbImage {
        self.analysis.photo()
    }

    /// Stage 2 for `design`: kept when its inputs are unchanged; with
    /// whether it was rebuilt.
    pub fn region(&self, design: &Design) -> Result<(Arc<RegionStage>, bool)> {
        let key = RegionKey::of(design);
        let kept = self.region.lock().expect("region stage").clone();
        if let Some(stage) = kept.filter(|r| r.key == key) {
            return Ok((stage, false));
        }
        let built = self.built.lock().expect("built region").take();
        let stage = Arc::new(build_region(
            &self.analysis,
            design,
            key,
            self.keep_built,
            built,
        )?);
        *self.region.lock().expect("region stage") = Some(stage.clone());
        *self.points.lock().expect("points stage") = None;
        Ok((stage, true))
    }

    /// What rendering `design` would make and need (building its region
    /// stage, which is kept).
    pub fn estimate(&self, design: &Design) -> Result<Estimate> {
        let (stage, _) = self.region(design)?;
        Ok(estimate(self.photo(), &stage, design))
    }

    /// Renders `design`: the session images asked for, from the stages
    /// kept where their inputs are unchanged.
    pub fn render(&self, design: &Design, which: Sessions) -> Result<Rendered> {
        Ok(self
            .render_unless(design, which, &|| false)?
            .expect("never stopped"))
    }

    /// [`Pipeline::render`], given up between stages (`Ok(None)`) as soon as
    /// `stop` says so, e.g. when a newer request has arrived.
    pub fn render_unless(
        &self,
        design: &Design,
        which: Sessions,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<Rendered>> {
        self.render_within(design, which, stop, false)
    }

    /// Every session, each image cut to the region's bounds
    /// ([`Rendered::within`]; the whole frame when a scar shade is
    /// layered on): the same pixels as [`Pipeline::render`]'s there, in a
    /// fraction of the memory, for a caller that takes the rest from the
    /// photo (as [`crate::run_job`] does, one whole image at a time).
    pub fn render_crops(&self, design: &Design) -> Result<Rendered> {
        Ok(self
            .render_within(design, Sessions::All, &|| false, true)?
            .expect("never stopped"))
    }

    fn render_within(
        &self,
        design: &Design,
        which: Sessions,
        stop: &(dyn Fn() -> bool + Sync),
        crops: bool,
    ) -> Result<Option<Rendered>> {
        let clock = Instant::now();
        let (stage, region_fresh) = self.region(design)?;
        let region_time = if region_fresh {
            clock.elapsed()
        } else {
            Duration::ZERO
        };
        if stop() {
            return Ok(None);
        }
        let scene = &self.analysis;
        let clock = Instant::now();
        let key = PointsKey::of(&design.plan);
        let kept = self
            .points
            .lock()
            .expect("points stage")
            .as_ref()
            .filter(|(r, k, _)| Arc::ptr_eq(r, &stage) && *k == key)
            .map(|(_, _, p)| p.clone());
        let points_fresh = kept.is_none();
        // Points placed afresh on a head take the head's density factors
        // the estimate finds (one pass over the region, not two).
        let factors = stage
            .head
            .as_ref()
            .filter(|_| points_fresh)
            .map(|h| density_factors(&stage.region, h));
        check_limits(
            &estimate_with(scene.photo(), &stage, design, factors.as_deref()),
            design,
        )?;
        // Matching the shade to the hair changes only the shade and the
        // sessions' strengths, none of which the points or the blur depend
        // on: the match runs beside them.
        let (resolved, (points, blur)) = rayon::join(
            || resolve_shade(&design.plan, scene.photo(), &stage.region, design.scale),
            || {
                rayon::join(
                    || {
                        kept.unwrap_or_else(|| {
                            Arc::new(place_points_with(
                                &stage.region,
                                &design.plan,
                                design.scale,
                                stage.head.as_ref().map(|h| (h, factors)),
                            ))
                        })
                    },
                    || pigment_blur(scene, &stage.region, &design.plan, design.scale),
                )
            },
        );
        let (plan, shade_match) = resolved?;
        debug_assert!(
            PointsKey::of(&plan) == key,
            "the shade match left the points' plan alone"
        );
        let mut dots = stage_dots(&points, &plan, design.scale, stage.head.as_ref());
        if let Some(scar) = &design.scar {
            hold_on_scar(
                &mut dots,
                scar,
                plan.scar_retention,
                design.scale,
                plan.seed,
            );
        }
        let dots_time = clock.elapsed();
        if points_fresh {
            *self.points.lock().expect("points stage") = Some((stage.clone(), key, points));
        }
        if stop() {
            return Ok(None);
        }
        let clock = Instant::now();
        let frame = Rect {
            x0: 0,
            y0: 0,
            x1: scene.photo().width(),
            y1: scene.photo().height(),
        };
        let (within, images) = match which {
            Sessions::All if crops => composite_with_scar_crops(
                scene.photo(),
                &stage.region,
                &plan,
                design.scale,
                &dots,
                blur,
                design.scar.as_ref(),
            ),
            Sessions::All => (
                frame,
                composite_with_scar(
                    scene.photo(),
                    &stage.region,
                    &plan,
                    design.scale,
                    &dots,
                    blur,
                    design.scar.as_ref(),
                ),
            ),
            Sessions::Only(k) => {
                let k = k.clamp(1, plan.sessions);
                // The dots of sessions 1 to k, drawn in the order of all
                // sessions' (by session), composited once: the image of
                // session k alone.
                let upto: Vec<Dot> = dots
                    .par_iter()
                    .filter(|d| d.session <= k)
                    .copied()
                    .collect();
                let plan_k = Plan {
                    sessions: k,
                    session_shares: None,
                    session_strengths: None,
                    ..plan.clone()
                };
                (
                    frame,
                    composite_with_scar_upto(
                        scene.photo(),
                        &stage.region,
                        &plan_k,
                        design.scale,
                        &upto,
                        blur,
                        design.scar.as_ref(),
                        true,
                    ),
                )
            }
        };
        let composite_time = clock.elapsed();
        dots.shrink_to_fit();
        Ok(Some(Rendered {
            images,
            within,
            dots,
            blur,
            shade_match,
            redone: if region_fresh {
                Redone::Region
            } else if points_fresh {
                Redone::Points
            } else {
                Redone::Composite
            },
            region_time,
            dots_time,
            composite_time,
        }))
    }

    /// The photo, given back.
    pub fn into_photo(self) -> RgbImage {
        self.analysis.into_photo()
    }
}

/// Builds stage 2: the region from its design, then clipped to the head
/// and without hair while the head's shape is fitted around it.
fn build_region(
    scene: &Analysis,
    d: &Design,
    key: RegionKey,
    keep_built: bool,
    prebuilt: Option<Region>,
) -> Result<RegionStage> {
    let feather = d.scale.px(d.plan.feather);
    let size = scene.photo().dimensions();
    let prebuilt = prebuilt.filter(|r| !d.region.needs_photo() && (r.width(), r.height()) == size);
    let mut built = match (&d.region, &d.mask, prebuilt) {
        (_, _, Some(region)) => BuiltRegion {
            region,
            hairline: None,
            note: None,
            landmarks: Vec::new(),
        },
        (RegionSource::Mask(_), Some(m), None) => BuiltRegion {
            region: d.region.load_read(Some(m), size, feather)?,
            hairline: None,
            note: None,
            landmarks: Vec::new(),
        },
        (source, _, None) => source.build(scene, d.scale, &d.plan, &d.source)?,
    };
    // The covers of what is taken out are found while the head's shape is
    // fitted; then the region as built is taken out of in place, unless
    // it is kept (a copy of 14 MB at 12 MP).
    let ((head_cover, hair_cover), head) = rayon::join(
        || region_covers(&d.plan, scene, &built.region),
        || fit_head(scene, &built.region, &d.plan, d.scale),
    );
    let region = if keep_built {
        built.region.clone()
    } else {
        let emptied = built.region.emptied();
        std::mem::replace(&mut built.region, emptied)
    };
    let (region, clipped, hair_pixels) =
        take_out(region, head_cover.as_ref(), hair_cover.as_ref())?;
    Ok(RegionStage {
        key,
        built,
        region,
        clipped,
        hair_pixels,
        head,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hairline::{HairlineDesign, HairlineLook, HairlineStyle};
    use crate::shade::Shade;
    use crate::timeline::Stage;
    use crate::units::DotsPerCm2;

    /// A skin-toned head (a disc) against a grey backdrop, with a little
    /// texture so that the blur estimate has edges.
    fn head() -> RgbImage {
        RgbImage::from_fn(300, 300, |x, y| {
            let (dx, dy) = (x as f32 - 150.0, y as f32 - 170.0);
            if dx * dx / 1.0 + dy * dy / 1.3 <= 110.0 * 110.0 {
                let t = ((x * 7 + y * 13) % 11) as u8;
                image::Rgb([200 + t, 160 + t, 140 + t])
            } else {
                image::Rgb([200, 204, 206])
            }
        })
    }

    fn design(dy: f32, density: f32, shade: &str, stage: Stage) -> Design {
        Design {
            region: RegionSource::Hairline {
                design: HairlineDesign {
                    points: vec![[95.0, 120.0], [150.0, 100.0 + dy], [205.0, 120.0]],
                    look: HairlineLook::of(HairlineStyle::Natural),
                },
                within: None,
            },
            mask: None,
            scar: None,
            scale: Scale::new(1.2, "t").unwrap(),
            plan: Plan {
                density: DotsPerCm2(density),
                shade: Shade::parse(shade, 1.0, "t").unwrap(),
                stage,
                ..Plan::default()
            },
            source: "t".into(),
            limits: Limits::default(),
        }
    }

    #[test]
    fn kept_stages_give_the_bytes_of_a_fresh_pipeline_and_say_what_was_redone() {
        let kept = Pipeline::new(head());
        let steps = [
            (
                design(0.0, 110.0, "jet-black", Stage::Healed),
                Redone::Region,
            ),
            (
                design(0.0, 110.0, "ash-grey", Stage::Healed),
                Redone::Composite,
            ),
            (
                design(0.0, 110.0, "ash-grey", Stage::Fresh),
                Redone::Composite,
            ),
            (design(0.0, 140.0, "ash-grey", Stage::Fresh), Redone::Points),
            (
                design(-8.0, 140.0, "ash-grey", Stage::Fresh),
                Redone::Region,
            ),
            (
                design(-8.0, 140.0, "jet-black", Stage::Healed),
                Redone::Composite,
            ),
        ];
        for (i, (d, redone)) in steps.iter().enumerate() {
            let r = kept.render(d, Sessions::All).unwrap();
            assert_eq!(r.redone, *redone, "step {i}");
            assert!(!r.dots.is_empty(), "step {i}: dots placed");
            let fresh = Pipeline::new(head()).render(d, Sessions::All).unwrap();
            assert_eq!(r.images, fresh.images, "step {i}: same pixels");
            assert_eq!(r.dots.len(), fresh.dots.len());
        }
    }

    #[test]
    fn a_region_built_beforehand_renders_as_the_stage_builds_it() {
        let mut d = design(0.0, 110.0, "jet-black", Stage::Healed);
        d.region = RegionSource::Polygon(vec![
            [80.0, 90.0],
            [220.0, 80.0],
            [210.0, 170.0],
            [90.0, 160.0],
        ]);
        let feather = d.scale.px(d.plan.feather);
        let fresh = Pipeline::for_one_render(head())
            .render(&d, Sessions::All)
            .unwrap();
        let given = |size: (u32, u32)| {
            let built = d.region.load(size, feather).unwrap();
            Pipeline::for_one_render(head()).with_region_built(built)
        };
        let r = given((300, 300)).render(&d, Sessions::All).unwrap();
        assert!(
            r.images == fresh.images,
            "the region built beforehand renders otherwise"
        );
        // One of another size is not the photo's: built again.
        let r = given((200, 300)).render(&d, Sessions::All).unwrap();
        assert!(
            r.images == fresh.images,
            "a region of another size was used"
        );
        // A design the photo's pixels build takes no region built without them.
        let mut hairline = design(0.0, 110.0, "jet-black", Stage::Healed);
        hairline.scale = d.scale;
        let fresh = Pipeline::for_one_render(head())
            .render(&hairline, Sessions::All)
            .unwrap();
        let r = given((300, 300)).render(&hairline, Sessions::All).unwrap();
        assert!(
            r.images == fresh.images,
            "a hairline design took the polygon's region"
        );
        // And the test can tell: the polygon's region is not the hairline's.
        let polygon = given((300, 300)).render(&d, Sessions::All).unwrap();
        assert!(polygon.images != fresh.images);
    }

    #[test]
    fn one_session_alone_is_that_session_of_all() {
        let p = Pipeline::new(head());
        let d = design(0.0, 110.0, "jet-black", Stage::Healed);
        let all = p.render(&d, Sessions::All).unwrap();
        assert_eq!(all.images.len(), 3);
        for k in 1..=3u8 {
            let one = p.render(&d, Sessions::Only(k)).unwrap();
            assert_eq!(one.images.len(), 1);
            assert!(
                one.images[0] == all.images[k as usize - 1],
                "session {k} alone differs from session {k} of all"
            );
        }
        assert!(all.images[0] != all.images[2], "sessions differ");
    }

    #[test]
    fn a_stopped_render_gives_nothing_and_keeps_the_region() {
        let p = Pipeline::new(head());
        let d = design(0.0, 110.0, "jet-black", Stage::Healed);
        assert!(p
            .render_unless(&d, Sessions::All, &|| true)
            .unwrap()
            .is_none());
        let r = p.render(&d, Sessions::All).unwrap();
        assert_eq!(
            r.redone,
            Redone::Points,
            "the region built before the stop was kept"
        );
    }
}

/// The estimate of a render of `design` over its region `stage`.
fn estimate(photo: &RgbImage, stage: &RegionStage, design: &Design) -> Estimate {
    estimate_with(photo, stage, design, None)
}

/// [`estimate`], with the head's density factors over the region's bounds
/// when they have been found ([`density_factors`]).
fn estimate_with(
    photo: &RgbImage,
    stage: &RegionStage,
    design: &Design,
    factors: Option<&[f32]>,
) -> Estimate {
    let plan = &design.plan;
    let region = &stage.region;
    let b = region.bounds();
    // Weighted area, crowded toward the silhouette as the sampler does.
    let found;
    let factors = match (factors, stage.head.as_ref()) {
        (Some(f), _) => Some(f),
        (None, Some(h)) => {
            found = density_factors(region, h);
            Some(&found[..])
        }
        (None, None) => None,
    };
    let weighted: f64 = region
        .bounded_weights()
        .par_iter()
        .enumerate()
        .map(|(i, &w)| {
            if w <= 0.0 {
                return 0.0;
            }
            (w * factors.map_or(1.0, |f| f[i])) as f64
        })
        .sum();
    let mm2 = weighted * design.scale.mm2_per_px();
    let dots = (mm2 * plan.density.per_mm2() as f64).ceil() as u64;
    let (w, h) = photo.dimensions();
    let image = w as u64 * h as u64 * 3;
    let crop = b.width() as u64 * b.height() as u64 * 3;
    // The photo and two whole images being encoded at a time; every
    // session's image as a crop of the region's bounds, and the
    // before/after sheet framed on them (two wide).
    let images = image * 3 + crop * (plan.sessions as u64 + 2);
    // The region's planes over its bounds: built, treated, the head's
    // density and the sampler's copy.
    let planes = 4 * 4 * b.width() as u64 * b.height() as u64;
    Estimate {
        dots,
        bytes: BASE_BYTES + images + planes + dots.saturating_mul(BYTES_PER_DOT),
        area_cm2: region.total_weight() * design.scale.mm2_per_px() / 100.0,
    }
}

/// Refuses a render whose estimate is past the design's limits, with the
/// estimate and what to change.
fn check_limits(e: &Estimate, design: &Design) -> Result<()> {
    let l = design.limits;
    let change = "lower the density, the sessions or the region (or the photo's size), or raise";
    if e.dots > l.max_dots {
        return Err(crate::error::Error::field(
            &design.source,
            "max_dots",
            l.max_dots,
            format!(
                "this render would place {}; {change} max_dots / --max-dots",
                e.describe()
            ),
        ));
    }
    if e.bytes > l.max_bytes {
        return Err(crate::error::Error::field(
            &design.source,
            "max_memory_mb",
            l.max_bytes >> 20,
            format!(
                "this render would need {}; {change} max_memory_mb / --max-memory-mb",
                e.describe()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod limit_tests {
    use super::*;
    use crate::units::DotsPerCm2;

    fn whole(photo: &RgbImage, ppm: f32, density: f32, limits: Limits) -> Design {
        let (w, h) = photo.dimensions();
        Design {
            region: RegionSource::Polygon(vec![
                [0.0, 0.0],
                [w as f32, 0.0],
                [w as f32, h as f32],
                [0.0, h as f32],
            ]),
            mask: None,
            scar: None,
            scale: Scale::new(ppm, "t").unwrap(),
            plan: Plan {
                density: DotsPerCm2(density),
                head_shape: false,
                clip_to_head: false,
                keep_hair: false,
                feather: crate::units::Mm(0.0),
                ..Plan::default()
            },
            source: "t".into(),
            limits,
        }
    }

    #[test]
    fn the_estimate_is_near_the_dots_placed() {
        let photo = RgbImage::from_pixel(400, 300, image::Rgb([200, 160, 140]));
        let d = whole(&photo, 4.0, 100.0, Limits::default());
        let p = Pipeline::new(photo);
        let e = p.estimate(&d).unwrap();
        let placed = p.render(&d, Sessions::All).unwrap().dots.len() as f64;
        // 100 x 75 mm at 1 dot/mm²: 7,500.
        assert!((e.dots as f64 - 7500.0).abs() < 50.0, "{e:?}");
        assert!(
            (placed / e.dots as f64 - 1.0).abs() < 0.1,
            "{placed} placed, {e:?}"
        );
        assert!(e.bytes > 6 * 400 * 300 * 3, "{e:?}");
    }

    #[test]
    fn a_render_past_its_limits_is_refused_with_the_estimate() {
        let photo = RgbImage::from_pixel(400, 300, image::Rgb([200, 160, 140]));
        let p = Pipeline::new(photo.clone());
        let few = Limits {
            max_dots: 1000,
            ..Limits::default()
        };
        let e = p
            .render(&whole(&photo, 4.0, 100.0, few), Sessions::All)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("max_dots")
                && e.contains("7500 dots over 75.0 cm²")
                && e.contains("--max-dots"),
            "{e}"
        );
        let small = Limits {
            max_bytes: 64 << 20,
            ..Limits::default()
        };
        let e = p
            .render(&whole(&photo, 4.0, 100.0, small), Sessions::All)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("max_memory_mb") && e.contains("MB of memory"),
            "{e}"
        );
        assert!(p
            .render(&whole(&photo, 4.0, 100.0, Limits::default()), Sessions::All)
            .is_ok());
    }
}
