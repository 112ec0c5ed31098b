//! Command-line arguments (binary only): clap definitions and their
//! conversion to the library's checked options.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use smp_render::{Batch, BatchOptions, Error, Format, Plan, PlanFile, Region, RenderJob, Result};

/// Scalp micropigmentation previews: layered follicle dots composited into
/// a scalp photo in linear light.
#[derive(Debug, Parser)]
#[command(name = "smp-render", version, about, max_term_width = 100)]
pub struct Cli {
    /// Worker threads (default: one per core). Output bytes do not depend on it.
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render before/after previews of a photo, one image per session.
    Render(Box<RenderArgs>),
    /// Render many photos from a TOML jobs file, side by side, with a JSON report.
    Batch(BatchArgs),
    /// List the named pigment shades.
    Shades,
}

/// Options of `render`. Every option can also come from a TOML plan file
/// (`--plan`); options given here override the file.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The scalp photo (JPEG, PNG, WebP or TIFF; EXIF orientation is honoured).
    #[arg(value_name = "PHOTO")]
    pub photo: Option<PathBuf>,
    /// A TOML plan file; its keys are these options' long names with `_` for `-`
    /// (e.g. `density_per_cm2 = 90`). Relative paths in it are relative to the file.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Treatment region mask of the photo's size: white = treat, grey = partial weight, black = untouched.
    #[arg(long, value_name = "MASK", conflicts_with = "polygon")]
    pub region: Option<PathBuf>,
    /// Treatment region as a polygon in photo pixels: "x,y x,y x,y ...".
    #[arg(long, value_name = "POINTS", allow_hyphen_values = true)]
    pub polygon: Option<String>,
    /// Image scale in pixels per millimetre on the scalp (0.2 to 200).
    #[arg(long, value_name = "F")]
    pub px_per_mm: Option<f32>,
    /// Number of sessions, 1 to 4. [default: 3]
    #[arg(long, value_name = "N")]
    pub sessions: Option<u8>,
    /// Final dot density at full region weight, dots/cm², 5 to 400. [default: 90]
    #[arg(long = "density", value_name = "DOTS_PER_CM2")]
    pub density_per_cm2: Option<f32>,
    /// Cumulative share of the final density after each session, comma-separated,
    /// increasing, last 1. [default: 0.4,0.75,1 for 3 sessions]
    #[arg(long, value_name = "S,S,..", value_delimiter = ',')]
    pub session_shares: Option<Vec<f32>>,
    /// Apparent diameter of a healed dot, mm, 0.05 to 2. [default: 0.4]
    #[arg(long, value_name = "MM")]
    pub dot_diameter_mm: Option<f32>,
    /// Relative standard deviation of the dot diameter, 0 to 0.8. [default: 0.25]
    #[arg(long, value_name = "F")]
    pub dot_diameter_spread: Option<f32>,
    /// Largest long/short axis ratio of a dot, 1 to 3. [default: 1.35]
    #[arg(long, value_name = "F")]
    pub elongation: Option<f32>,
    /// Relative standard deviation of a dot's pigment strength, 0 to 0.6. [default: 0.18]
    #[arg(long, value_name = "F")]
    pub strength_spread: Option<f32>,
    /// Pigment in each dot's scatter halo (0.5 mm around it), as a multiple of the dot's own,
    /// 0 to 8. [default: 1.5]
    #[arg(long, value_name = "F")]
    pub halo: Option<f32>,
    /// Pigment shade: jet-black, black-brown, soft-black, ash-grey, or #rrggbb (the dot's
    /// transmittance seen through skin). [default: jet-black]
    #[arg(long, value_name = "NAME")]
    pub shade: Option<String>,
    /// Pigment dilution, 0.05 to 1 (1 = undiluted). [default: 1]
    #[arg(long, value_name = "F")]
    pub dilution: Option<f32>,
    /// Pigment strength of each session, comma-separated, 0.1 to 1.5.
    /// [default: 0.8,1,1 for 3 sessions: session 1 lighter]
    #[arg(long, value_name = "S,S,..", value_delimiter = ',')]
    pub session_strengths: Option<Vec<f32>>,
    /// Width of the region's feathered edge, mm, 0 to 60. [default: 6]
    #[arg(long, value_name = "MM")]
    pub feather_mm: Option<f32>,
    /// Random seed; same inputs and seed give the same bytes. [default: 1]
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// The photo's blur as a Gaussian σ in px (0 to 6), applied to the pigment so dots are no
    /// sharper than the skin. [default: estimated from the photo, at least 0.8]
    #[arg(long, value_name = "PX")]
    pub camera_blur_px: Option<f32>,
    /// Output folder. [default: smp-out]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output image format: png (lossless, fast compression) or jpeg. [default: png]
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: Option<Format>,
    /// JPEG quality, 1 to 100. [default: 90]
    #[arg(long, value_name = "Q")]
    pub quality: Option<u8>,
    /// Also write every dot as CSV (session,x_px,y_px,diameter_px,...) to this file.
    #[arg(long, value_name = "FILE.csv")]
    pub dots: Option<PathBuf>,
}

fn parse_format(s: &str) -> std::result::Result<Format, String> {
    match s.to_ascii_lowercase().as_str() {
        "png" => Ok(Format::Png),
        "jpeg" | "jpg" => Ok(Format::Jpeg),
        _ => Err(format!("{s:?} is not a format; use png or jpeg")),
    }
}

impl RenderArgs {
    /// The options given on the command line as plan-file fields.
    fn fields(&self) -> Result<PlanFile> {
        Ok(PlanFile {
            photo: self.photo.clone(),
            region: self.region.clone(),
            polygon: self
                .polygon
                .as_deref()
                .map(Region::parse_polygon)
                .transpose()?,
            px_per_mm: self.px_per_mm,
            sessions: self.sessions,
            density_per_cm2: self.density_per_cm2,
            session_shares: self.session_shares.clone(),
            dot_diameter_mm: self.dot_diameter_mm,
            dot_diameter_spread: self.dot_diameter_spread,
            elongation: self.elongation,
            strength_spread: self.strength_spread,
            halo: self.halo,
            shade: self.shade.clone(),
            dilution: self.dilution,
            session_strengths: self.session_strengths.clone(),
            feather_mm: self.feather_mm,
            seed: self.seed,
            camera_blur_px: self.camera_blur_px,
            out: self.out.clone(),
            format: self.format,
            quality: self.quality,
            dots: self.dots.clone(),
        })
    }

    /// The checked job: plan file first, command-line options over it.
    pub fn job(&self) -> Result<RenderJob> {
        let cli = self.fields()?;
        let (file, base, source) = match &self.plan {
            Some(p) => {
                let file = PlanFile::load(p)?;
                let base = file.apply_to(Plan::default(), &p.display().to_string())?;
                (file, base, p.display().to_string())
            }
            None => (
                PlanFile::default(),
                Plan::default(),
                "command line".to_string(),
            ),
        };
        let plan = cli.apply_to(base, "command line")?;
        let merged = file.overridden_by(cli);
        // A region on the command line replaces the file's, whichever kind it is.
        let merged = if self.region.is_some() || self.polygon.is_some() {
            PlanFile {
                region: self.region.clone(),
                polygon: merged.polygon.filter(|_| self.polygon.is_some()),
                ..merged
            }
        } else {
            merged
        };
        let mut job = RenderJob::from_fields(&merged, plan, &source)?;
        job.other_inputs.extend(self.plan.iter().cloned());
        if merged.photo.is_none() {
            return Err(Error::field(
                source,
                "photo",
                "(missing)",
                "a photo file is required",
            ));
        }
        Ok(job)
    }
}

/// Options of `batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The jobs file: TOML with `[[job]]` tables of plan-file keys (plus `name` and `plan`)
    /// and optional `[defaults]`; with --plan, a folder of photos instead.
    #[arg(value_name = "JOBS.toml")]
    pub input: PathBuf,
    /// Render every photo (JPEG, PNG, WebP, TIFF) in the folder given instead of a jobs file with
    /// this plan file; a mask `<stem>.region.png` beside a photo is its region.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Most jobs in flight at once; each holds its photo and session images in memory.
    /// [default: the thread count]
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
    /// Render jobs whose outputs all exist and are newer than their inputs (skipped otherwise).
    #[arg(long)]
    pub force: bool,
    /// Print each job's dots per session, sampled without rendering; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Folder of the jobs without their own `out` (each in OUT/<name>) and of the report.
    /// [default: the jobs file's `out_dir`, else smp-out]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where to write the JSON report of every job. [default: OUT/batch-report.json]
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

impl BatchArgs {
    /// The checked batch, from the jobs file or the folder of photos.
    pub fn batch(&self) -> Result<Batch> {
        match &self.plan {
            Some(plan) => Batch::from_photos(plan, &self.input, self.out.clone()),
            None => Batch::load(&self.input, self.out.clone()),
        }
    }

    /// How to run it; `cancel` stops it.
    pub fn options(&self, cancel: Arc<AtomicBool>) -> BatchOptions {
        BatchOptions {
            max_in_flight: self.jobs.map(NonZeroUsize::get),
            force: self.force,
            dry_run: self.dry_run,
            cancel: Some(cancel),
        }
    }
}
