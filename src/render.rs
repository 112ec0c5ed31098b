//! The whole pipeline: photo + region + plan → layered previews on disk.
//!
//! [`render_preview`] is the in-memory entry point (no disk, for servers,
//! tests and other programs); [`run_job`] reads the inputs, renders, and
//! writes every output atomically, refusing to write over an input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::RgbImage;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::follicle::{make_dots, Dot};
use crate::optics::estimate_blur;
use crate::photo::{encode_image, load_photo, write_atomic};
use crate::plan::{Format, Plan, PlanFile};
use crate::region::Region;
use crate::sampling::{sample, SamplerParams};
use crate::sheet::side_by_side;
use crate::units::Scale;

/// Where the treatment region comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum RegionSource {
    /// A greyscale mask image of the photo's size.
    Mask(PathBuf),
    /// A polygon in photo pixel coordinates.
    Polygon(Vec<[f32; 2]>),
}

impl RegionSource {
    /// Builds the region for a photo of `size`, feathered over `feather_px`.
    pub fn load(&self, size: (u32, u32), feather_px: f32) -> Result<Region> {
        match self {
            RegionSource::Mask(p) => Region::load_mask(p, size, feather_px),
            RegionSource::Polygon(pts) => Region::from_polygon(pts, size, feather_px),
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
pub fn render_preview(photo: &RgbImage, region: &Region, plan: &Plan, scale: Scale) -> Preview {
    let points = sample(region, &sampler_params(plan, scale));
    let dots = make_dots(&points, plan, scale);
    let blur = pigment_blur(photo, region, plan, scale);
    let sessions = composite_sessions(photo, region, plan, &dots, blur);
    Preview {
        sessions,
        dots,
        blur,
    }
}

/// The sampler settings a plan makes at a scale.
pub fn sampler_params(plan: &Plan, scale: Scale) -> SamplerParams {
    let per_px2 = plan.density.per_mm2() as f64 * scale.mm2_per_px();
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
pub fn pigment_blur(photo: &RgbImage, region: &Region, plan: &Plan, scale: Scale) -> f32 {
    let camera = plan
        .camera_blur_px
        .unwrap_or_else(|| estimate_blur(photo, region.bounds()).max(MIN_CAMERA_BLUR));
    let scatter = SCATTER_SHARE * scale.px(plan.dot_diameter);
    (camera * camera + scatter * scatter).sqrt()
}

/// One image per session, each adding that session's dots, the pigment
/// blurred by `blur` px.
pub fn composite_sessions(
    photo: &RgbImage,
    region: &Region,
    plan: &Plan,
    dots: &[Dot],
    blur: f32,
) -> Vec<RgbImage> {
    crate::composite::composite_sessions(photo, region, dots, &plan.shade, plan.sessions, blur)
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
    /// JPEG quality, 1-100. Default: 90.
    pub quality: u8,
    /// Where to write the dots CSV, if anywhere.
    pub dots_csv: Option<PathBuf>,
    /// Other input files (a plan file) that must never be overwritten.
    pub other_inputs: Vec<PathBuf>,
}

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
        let region = match (&fields.region, &fields.polygon) {
            (Some(_), Some(_)) => {
                return Err(Error::field(
                    source,
                    "region",
                    "both a mask and a polygon",
                    "give either a region mask or a polygon, not both",
                ))
            }
            (Some(m), None) => RegionSource::Mask(m.clone()),
            (None, Some(p)) => RegionSource::Polygon(p.clone()),
            (None, None) => {
                return Err(missing(
                    "region",
                    "a region mask (--region) or a polygon (--polygon) is required",
                ))
            }
        };
        let ppm = fields
            .px_per_mm
            .ok_or_else(|| missing("px_per_mm", "the scale in pixels per mm is required"))?;
        Ok(RenderJob {
            photo,
            region,
            scale: Scale::new(ppm, source)?,
            plan,
            out_dir: fields.out.clone().unwrap_or_else(|| DEFAULT_OUT_DIR.into()),
            format: fields.format.unwrap_or_default(),
            quality: fields.quality.unwrap_or(DEFAULT_QUALITY),
            dots_csv: fields.dots.clone(),
            other_inputs: Vec::new(),
        })
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

    /// Every input file this job reads: the photo, the region mask if any,
    /// and [`RenderJob::other_inputs`].
    pub fn inputs(&self) -> Vec<PathBuf> {
        let mut v = vec![self.photo.clone()];
        if let RegionSource::Mask(m) = &self.region {
            v.push(m.clone());
        }
        v.extend(self.other_inputs.iter().cloned());
        v
    }
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
    /// Time per stage.
    pub timings: Timings,
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
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
    let encode_write = |path: &Path, img: &RgbImage| -> Result<()> {
        write_atomic(path, &encode_image(img, job.format, job.quality, path)?)
    };

    // The photo and the mask decode side by side.
    let clock = Instant::now();
    let (photo, mask) = rayon::join(
        || load_photo(&job.photo),
        || match &job.region {
            RegionSource::Mask(path) => Region::read_mask(path).map(Some),
            RegionSource::Polygon(_) => Ok(None),
        },
    );
    let photo = photo?;
    let mask = mask?;
    t.decode = clock.elapsed();

    // `before` is encoded (in memory) while the region is built and the
    // dots are placed and composited; nothing is written until every input
    // has been checked.
    let (before, rendered) = rayon::join(
        || encode_image(&photo, job.format, job.quality, &outputs[0]),
        || -> Result<_> {
            let clock = Instant::now();
            let feather = job.scale.px(job.plan.feather);
            let region = match (&job.region, &mask) {
                (RegionSource::Mask(path), Some(m)) => {
                    Region::from_mask(m, photo.dimensions(), feather, path)?
                }
                (source, _) => source.load(photo.dimensions(), feather)?,
            };
            let region_time = clock.elapsed();
            let clock = Instant::now();
            let (dots, blur) = rayon::join(
                || {
                    let points = sample(&region, &sampler_params(&job.plan, job.scale));
                    make_dots(&points, &job.plan, job.scale)
                },
                || pigment_blur(&photo, &region, &job.plan, job.scale),
            );
            let dots_time = clock.elapsed();
            let clock = Instant::now();
            let sessions = composite_sessions(&photo, &region, &job.plan, &dots, blur);
            Ok((
                dots,
                blur,
                sessions,
                [region_time, dots_time, clock.elapsed()],
            ))
        },
    );
    drop(mask);
    let (dots, blur, sessions, [region_time, dots_time, composite_time]) = rendered?;
    let clock = Instant::now();
    std::fs::create_dir_all(&job.out_dir).map_err(|e| Error::io(&job.out_dir, e))?;
    write_atomic(&outputs[0], &before?)?;
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
    let mut images: Vec<(PathBuf, Option<&RgbImage>)> = vec![(outputs[n + 1].clone(), None)];
    for (k, img) in sessions.iter().enumerate().rev() {
        images.push((outputs[k + 1].clone(), Some(img)));
    }
    let written: Vec<Result<()>> = images
        .par_iter()
        .with_max_len(1)
        .map(|(path, img)| match img {
            Some(img) => encode_write(path, img),
            None => {
                let sheet = side_by_side(&photo, "Before", &sessions[n - 1], &after_label);
                encode_write(path, &sheet)
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
    let preview = Preview {
        sessions,
        dots,
        blur,
    };
    Ok(JobReport {
        outputs,
        dots_per_session: preview.dots_per_session(),
        blur,
        timings: t,
    })
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
