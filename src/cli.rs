//! Command-line arguments (binary only): clap definitions and their
//! conversion to the library's checked options.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use smp_render::{
    Batch, BatchOptions, Canvas, Crop, Error, Format, Frame, Layout, Plan, PlanFile, Region,
    RegionSource, RenderJob, Result, SheetJob, SheetSource, Stage, Variant, Watermark,
    WatermarkPosition,
};

/// The most worker threads `--threads` takes: more than any machine this
/// runs on has cores, and few enough that starting them is instant.
pub const MAX_THREADS: u64 = 256;

/// Scalp micropigmentation previews: layered follicle dots composited into
/// a scalp photo in linear light.
#[derive(Debug, Parser)]
#[command(name = "smp-render", version, about, max_term_width = 100)]
pub struct Cli {
    /// Worker threads, 1 to 256 (default: one per core). Output bytes do not depend on it.
    #[arg(long, global = true, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=MAX_THREADS))]
    pub threads: Option<u64>,
    /// Print only the results (paths written, JSON, listings) and errors: no notes, progress
    /// or warnings on standard error.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render before/after previews of a photo, one image per session.
    Render(Box<RenderCmd>),
    /// Render the finished treatment at stages of its life: fresh, crusting, healed, years
    /// later; one image per stage and a labelled strip of all (timeline.png).
    Timeline(Box<TimelineArgs>),
    /// Lay rendered images out for a client or a portfolio: side by side, split view,
    /// session progression, timeline or a grid of variants; portfolio sizes, watermark, and an
    /// interactive comparison page (--html).
    Sheet(Box<SheetArgs>),
    /// Show a treatment design before rendering it: an overlay of the region (tinted by its
    /// weight; red where clipping to the head or the client's hair takes it out), the hairline
    /// (its curve, the end of its transition dashed, its control points), the scars and a
    /// millimetre scale bar; and save the design as a plan file to render or reuse.
    Design(Box<DesignArgs>),
    /// Print what an image made by smp-render records about itself: the simulation notice,
    /// the seed and the plan (as a plan file that renders it again).
    Provenance {
        /// PNG or JPEG files (- reads one from standard input).
        #[arg(value_name = "IMAGE", required = true)]
        images: Vec<PathBuf>,
        /// Print one JSON object instead of plan files: {"images": [{"path", "description",
        /// "seed", "plan"}]} (null where an image records nothing).
        #[arg(long)]
        json: bool,
    },
    /// Render many photos from a TOML jobs file, side by side, with a JSON report.
    Batch(BatchArgs),
    /// Merge the JSON reports of the shards of one batch (`batch --shard K/N`) into one: every
    /// job in file order, the summary counted again; exit 1 if a job failed.
    MergeReports(MergeArgs),
    /// List the named pigment shades.
    Shades,
    /// The consultation studio: a live page in the browser to design and preview a treatment
    /// with the client (open a photo, drag the hairline, choose the plan, compare, export).
    /// Served on this machine only, with a per-run token; nothing is written until you export.
    Studio(StudioArgs),
    /// Print a completion script for a shell to standard output (e.g. `smp-render completions
    /// bash > ~/.local/share/bash-completion/completions/smp-render`).
    Completions {
        /// bash, elvish, fish, powershell or zsh.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output (e.g. `smp-render man >
    /// ~/.local/share/man/man1/smp-render.1`).
    Man,
}

/// Options of `render`: those every rendering subcommand shares, and the summary as JSON.
#[derive(Debug, Args)]
pub struct RenderCmd {
    /// The render's options.
    #[command(flatten)]
    pub render: RenderArgs,
    /// Print the summary as one JSON object on standard output instead of the paths written
    /// (see the README for its fields).
    #[arg(long)]
    pub json: bool,
}

/// Options of `studio`.
#[derive(Debug, Args)]
pub struct StudioArgs {
    /// A photo to open at once, or a folder whose photos the page lists (default: the current
    /// folder). Exports go to a new folder under smp-studio/ in that folder.
    #[arg(value_name = "PHOTO|DIR")]
    pub target: Option<PathBuf>,
    /// Port to listen on (default: a free one).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub port: u16,
    /// Only print the page's address; do not open a browser.
    #[arg(long)]
    pub no_open: bool,
    /// Listen on this address instead of 127.0.0.1 (e.g. ::1; any non-loopback address is
    /// reachable from other machines and prints a warning).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub listen: std::net::IpAddr,
}

impl StudioArgs {
    /// The studio's options.
    pub fn options(&self, quiet: bool) -> smp_render::StudioOptions {
        smp_render::StudioOptions {
            target: self.target.clone(),
            port: self.port,
            listen: self.listen,
            open: !self.no_open,
            quiet,
        }
    }
}

/// Options of `render`. Every option can also come from a TOML plan file
/// (`--plan`); options given here override the file.
#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// The scalp photo (JPEG, PNG, WebP or TIFF; EXIF orientation is honoured); - reads it
    /// from standard input.
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
    /// A hairline design instead of (or within) a drawn region: "x,y x,y x,y [x,y ...]" in
    /// photo pixels, the left temple, the mid-frontal point and the right temple, then any
    /// further points the curve should pass through. The region is everything behind the
    /// hairline, clipped to the head (within --region or --polygon if given too).
    #[arg(long, value_name = "POINTS", allow_hyphen_values = true)]
    pub hairline: Option<String>,
    /// The hairline's style: natural (or soft: irregular, 10 mm taper, isolated dots in
    /// front), defined (crisp edge-up), receded (or mature: temple corners 12 mm back),
    /// straight, rounded, widows-peak; also the style of a --preset's hairline. [default:
    /// natural]
    #[arg(long, value_name = "STYLE")]
    pub hairline_style: Option<String>,
    /// Width over which the density rises behind the hairline's edge (of --hairline or a
    /// --preset), mm, 0.5 to 20.
    /// [default: the style's: natural 10, defined 1, receded 8, straight 4, rounded 8,
    /// widows-peak 6]
    #[arg(allow_negative_numbers = true, long, value_name = "MM")]
    pub hairline_transition_mm: Option<f32>,
    /// How far the hairline's edge wanders (its 12 mm lobes), mm, 0 to 5; the fine wander
    /// is 0.4 of it. [default: the style's: natural 1.5, defined 0.2]
    #[arg(allow_negative_numbers = true, long, value_name = "MM")]
    pub hairline_irregularity_mm: Option<f32>,
    /// Largest left/right asymmetry of the hairline, mm, 0 to 10 (the amount is drawn from
    /// the seed). [default: 2]
    #[arg(allow_negative_numbers = true, long, value_name = "MM")]
    pub hairline_asymmetry_mm: Option<f32>,
    /// Share of the density placed as isolated dots in a 3 mm band in front of the hairline,
    /// 0 to 0.1. [default: the style's: 0.04, defined 0, straight 0.02]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub hairline_isolated: Option<f32>,
    /// A pattern preset placed on a front-view photo from the glabella and the head's outline
    /// (found against the backdrop), instead of a region: norwood-2 to norwood-7, shaved,
    /// crown, ludwig-1 to ludwig-3 (a widening parting; dots between the hairs), or
    /// alopecia-patch (with --patch).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["region", "polygon", "hairline"])]
    pub preset: Option<String>,
    /// The glabella (brow midpoint) "x,y" in photo pixels, where a preset's hairline is
    /// measured from.
    #[arg(long, value_name = "X,Y", value_parser = parse_point, requires = "preset")]
    pub glabella: Option<[f32; 2]>,
    /// How far above the glabella a preset puts the mid-frontal point, measured on the scalp,
    /// mm, 60 to 120: 70 aggressive, 100 conservative. [default: 80]
    #[arg(
        allow_negative_numbers = true,
        long,
        value_name = "MM",
        requires = "preset"
    )]
    pub frontal_mm: Option<f32>,
    /// Centre of the alopecia-patch preset, "x,y" in photo pixels.
    #[arg(long, value_name = "X,Y", value_parser = parse_point, requires = "preset")]
    pub patch: Option<[f32; 2]>,
    /// Diameter of the alopecia-patch preset, mm, 5 to 150. [default: 30]
    #[arg(
        allow_negative_numbers = true,
        long,
        value_name = "MM",
        requires = "preset"
    )]
    pub patch_mm: Option<f32>,
    /// Image scale in pixels per millimetre on the scalp (0.2 to 200).
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub px_per_mm: Option<f32>,
    /// Two points "x,y x,y" in photo pixels whose real distance is --scale-mm: the scale
    /// from a ruler or a known length in the photo, instead of --px-per-mm.
    #[arg(
        long,
        value_name = "POINTS",
        requires = "scale_mm",
        conflicts_with = "px_per_mm"
    )]
    pub scale_points: Option<String>,
    /// The real distance between --scale-points, mm (0.1 to 1000).
    #[arg(
        allow_negative_numbers = true,
        long,
        value_name = "MM",
        requires = "scale_points"
    )]
    pub scale_mm: Option<f32>,
    /// Estimate the scale from the head's outline (front view against a plain backdrop),
    /// assuming the head is --head-breadth-mm wide at its widest above the ears; the estimate
    /// and its assumption are printed. Instead of --px-per-mm or --scale-points.
    #[arg(long, conflicts_with_all = ["px_per_mm", "scale_points"])]
    pub scale_from_head: bool,
    /// The head breadth --scale-from-head assumes, mm, 100 to 220. [default: 155, adult men's
    /// average; adults are about 140-165 mm, so the estimate is good to about ±8 %]
    #[arg(
        allow_negative_numbers = true,
        long,
        value_name = "MM",
        requires = "scale_from_head"
    )]
    pub head_breadth_mm: Option<f32>,
    /// Number of sessions, 1 to 4. [default: 3]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=4))]
    pub sessions: Option<u8>,
    /// Final dot density at full region weight, dots/cm², 5 to 400. [default: 110]
    #[arg(
        allow_negative_numbers = true,
        long = "density",
        value_name = "DOTS_PER_CM2"
    )]
    pub density_per_cm2: Option<f32>,
    /// Cumulative share of the final density after each session, comma-separated,
    /// increasing, last 1. [default: 0.4,0.75,1 for 3 sessions]
    #[arg(
        allow_negative_numbers = true,
        long,
        value_name = "S,S,..",
        value_delimiter = ','
    )]
    pub session_shares: Option<Vec<f32>>,
    /// Apparent diameter of a healed dot, mm, 0.05 to 2. [default: 0.5]
    #[arg(allow_negative_numbers = true, long, value_name = "MM")]
    pub dot_diameter_mm: Option<f32>,
    /// Relative standard deviation of the dot diameter, 0 to 0.8. [default: 0.25]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub dot_diameter_spread: Option<f32>,
    /// Largest long/short axis ratio of a dot, 1 to 3. [default: 1.35]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub elongation: Option<f32>,
    /// Relative standard deviation of a dot's pigment strength, 0 to 0.6. [default: 0.18]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub strength_spread: Option<f32>,
    /// Share of the dots set as 2-dot clusters (a smaller second impression beside the first),
    /// only at full region weight; the density stays as planned. 0 to 0.5. [default: 0.06]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub clusters: Option<f32>,
    /// Pigment in each dot's scatter halo (0.5 mm around it), as a multiple of the dot's own,
    /// 0 to 8. [default: 1.5]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub halo: Option<f32>,
    /// Pigment placed too deep ("blowout"), 0 to 1: dots spread into wider, softer smudges
    /// (1 = badly blown out). [default: 0]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub blowout: Option<f32>,
    /// A matte (anti-shine) finish, 0 to 1: the share of the scalp's own shine (its specular
    /// gloss) taken away before the pigment goes in; 0 = the photo's own shine. [default: 0]
    #[arg(long, value_name = "F")]
    pub matte: Option<f32>,
    /// Pigment shade: jet-black, black-brown, soft-black, ash-grey, #rrggbb (the dot's
    /// transmittance seen through skin), or auto (matched to the client's hair). [default:
    /// jet-black]
    #[arg(long, value_name = "NAME")]
    pub shade: Option<String>,
    /// A point on the client's hair, "x,y" in photo pixels, for --shade auto. [default: the
    /// dark pixels within 10 mm around the region]
    #[arg(long, value_name = "X,Y", value_parser = parse_point)]
    pub hair: Option<[f32; 2]>,
    /// Leave the client's own hair strands in the region untouched and place dots between
    /// them: true or false. [default: true]
    #[arg(long, value_name = "BOOL")]
    pub keep_hair: Option<bool>,
    /// Clip the region to the head: whatever of it lies on the photo's plain backdrop is never
    /// pigmented, and the clipped share is reported. true or false. [default: true]
    #[arg(long, value_name = "BOOL")]
    pub clip_to_head: Option<bool>,
    /// Place the dots on a head shape fitted to the photo's outline (an ellipsoid): toward the
    /// silhouette the scalp slopes away, so dots crowd together and narrow across the slope, as
    /// follicles do. Close-ups without an outline are taken as flat (reported). true or false.
    /// [default: true]
    #[arg(long, value_name = "BOOL")]
    pub head_shape: Option<bool>,
    /// Scar mask of the photo's size (white = scar): dots there hold less pigment, patchily.
    #[arg(long, value_name = "MASK", conflicts_with = "scar_polygon")]
    pub scar: Option<PathBuf>,
    /// Scar as a polygon in photo pixels: "x,y x,y x,y ...".
    #[arg(long, value_name = "POINTS", allow_hyphen_values = true)]
    pub scar_polygon: Option<String>,
    /// Share of its pigment a dot on a scar keeps, 0 to 1. [default: 0.55]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub scar_retention: Option<f32>,
    /// Pigment shade for the dots on the scar (scar tissue has its own colour): a shade name
    /// as for --shade, or #rrggbb. [default: the --shade]
    #[arg(long, value_name = "NAME")]
    pub scar_shade: Option<String>,
    /// Dilution of the scar's pigment, 0.05 to 1. [default: the --dilution]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub scar_dilution: Option<f32>,
    /// Pigment dilution, 0.05 to 1 (1 = undiluted). [default: 1]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub dilution: Option<f32>,
    /// Pigment strength of each session, comma-separated, 0.1 to 1.5.
    /// [default: 0.8,1,1 for 3 sessions: session 1 lighter]
    #[arg(
        allow_negative_numbers = true,
        long,
        value_name = "S,S,..",
        value_delimiter = ','
    )]
    pub session_strengths: Option<Vec<f32>>,
    /// Width of the region's feathered edge, mm, 0 to 60. [default: 6]
    #[arg(allow_negative_numbers = true, long, value_name = "MM")]
    pub feather_mm: Option<f32>,
    /// Random seed; same inputs and seed give the same bytes. [default: 1]
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// The photo's blur as a Gaussian σ in px (0 to 6), applied to the pigment so dots are no
    /// sharper than the skin. [default: estimated from the photo, at least 0.8]
    #[arg(allow_negative_numbers = true, long, value_name = "PX")]
    pub camera_blur_px: Option<f32>,
    /// Permanent or semi-permanent pigment: how it heals and fades. [default: permanent]
    #[arg(long, value_name = "KIND")]
    pub pigment: Option<String>,
    /// The moment to show: fresh (day 0), crusting (days 2-7), healed (about 4 weeks) or
    /// years:N (N years later, 0 to 30, without top-ups). [default: healed]
    #[arg(long, value_name = "STAGE")]
    pub stage: Option<String>,
    /// Output folder. [default: smp-out] (`sheet -o -` writes its one sheet to standard
    /// output.)
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output image format: png (lossless, fast compression) or jpeg. [default: png]
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: Option<Format>,
    /// What before-after shows: scalp (the treated area with context, as --crop scalp cuts it)
    /// or full (the whole photo). [default: scalp]
    #[arg(long, value_name = "FRAME", value_parser = parse_frame)]
    pub frame: Option<Frame>,
    /// JPEG quality, 1 to 100. [default: 90]
    #[arg(long, value_name = "Q")]
    pub quality: Option<u8>,
    /// Also write every dot as CSV (session,x_px,y_px,diameter_px,...) to this file.
    #[arg(long, value_name = "FILE.csv")]
    pub dots: Option<PathBuf>,
    /// Leave out the "Simulated preview" notice drawn on every rendered after-image (the
    /// files' metadata still records that they are simulations). Command line only.
    #[arg(long)]
    pub no_simulated_label: bool,
    /// Most dots a render may place; a plan estimated past it is refused with the estimate.
    /// [default: 10000000]
    #[arg(long, value_name = "N")]
    pub max_dots: Option<u64>,
    /// Most memory a render may be estimated to need, MiB, 64 to 16777216. [default: 6144]
    #[arg(long, value_name = "MB")]
    pub max_memory_mb: Option<u64>,
    /// Print the estimate (dots, area, memory) of the render and stop, writing nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Options of `design`: those of `render`, the overlay's file and the plan file to save.
#[derive(Debug, Clone, Args)]
pub struct DesignArgs {
    /// The overlay image to write (.png, .jpg or .jpeg; - for PNG on standard output).
    /// [default: design.png in --out]
    #[arg(long = "overlay", value_name = "FILE")]
    pub overlay: Option<PathBuf>,
    /// Save the design as a TOML plan file (every plan value, the scale, the region or
    /// hairline, the photo and masks by path relative to the file): `render --plan FILE`
    /// renders it, and it can be edited and reused.
    #[arg(long, value_name = "FILE.toml")]
    pub save_plan: Option<PathBuf>,
    /// Print the summary as one JSON object on standard output instead of the paths written
    /// (see the README for its fields).
    #[arg(long)]
    pub json: bool,
    /// The render's options (the design that would be rendered).
    #[command(flatten)]
    pub render: RenderArgs,
}

impl DesignArgs {
    /// The checked job and where the overlay goes.
    pub fn job(&self) -> Result<(RenderJob, PathBuf)> {
        let job = self.render.job()?;
        let out = self
            .overlay
            .clone()
            .unwrap_or_else(|| job.out_dir.join("design.png"));
        Ok((job, out))
    }
}

/// Options of `timeline`: those of `render` (except `--stage`) and the stages.
#[derive(Debug, Clone, Args)]
pub struct TimelineArgs {
    /// The stages to show, comma-separated: fresh, crusting, healed, years:N (N from 0 to 30).
    #[arg(
        long,
        value_name = "STAGE,..",
        value_delimiter = ',',
        default_value = "fresh,healed,years:2,years:5"
    )]
    pub stages: Vec<String>,
    /// The render's options.
    #[command(flatten)]
    pub render: RenderArgs,
}

impl TimelineArgs {
    /// The checked job and stages.
    pub fn job(&self) -> Result<(RenderJob, Vec<Stage>)> {
        let stages = self
            .stages
            .iter()
            .map(|s| Stage::parse(s, "command line", "stages"))
            .collect::<Result<Vec<_>>>()?;
        Ok((self.render.job()?, stages))
    }
}

fn parse_two_points(s: &str) -> Result<[[f32; 2]; 2]> {
    let pts = Region::parse_polygon(s)?;
    match pts[..] {
        [a, b] => Ok([a, b]),
        _ => Err(Error::field(
            "command line",
            "scale_points",
            s,
            "must be two points \"x,y x,y\" in photo pixels",
        )),
    }
}

fn parse_point(s: &str) -> std::result::Result<[f32; 2], String> {
    let v: Vec<f32> = s
        .split(',')
        .map(|t| t.trim().parse::<f32>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| format!("{s:?} is not a point; write x,y in photo pixels"))?;
    match v[..] {
        [x, y] => Ok([x, y]),
        _ => Err(format!("{s:?} is not a point; write x,y in photo pixels")),
    }
}

fn parse_frame(s: &str) -> std::result::Result<Frame, String> {
    Frame::from_name(s).ok_or_else(|| format!("{s:?} is not a frame; use scalp or full"))
}

fn parse_format(s: &str) -> std::result::Result<Format, String> {
    Format::from_name(s).ok_or_else(|| format!("{s:?} is not a format; use png or jpeg"))
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
            hairline: self
                .hairline
                .as_deref()
                .map(|p| smp_render::parse_hairline_points(p, "command line"))
                .transpose()?,
            hairline_style: self.hairline_style.clone(),
            hairline_transition_mm: self.hairline_transition_mm,
            hairline_irregularity_mm: self.hairline_irregularity_mm,
            hairline_asymmetry_mm: self.hairline_asymmetry_mm,
            hairline_isolated: self.hairline_isolated,
            preset: self.preset.clone(),
            glabella: self.glabella,
            frontal_mm: self.frontal_mm,
            patch: self.patch,
            patch_mm: self.patch_mm,
            px_per_mm: self.px_per_mm,
            scale_points: self
                .scale_points
                .as_deref()
                .map(parse_two_points)
                .transpose()?,
            scale_mm: self.scale_mm,
            scale_from_head: self.scale_from_head.then_some(true),
            head_breadth_mm: self.head_breadth_mm,
            sessions: self.sessions.map(i64::from),
            density_per_cm2: self.density_per_cm2,
            session_shares: self.session_shares.clone(),
            dot_diameter_mm: self.dot_diameter_mm,
            dot_diameter_spread: self.dot_diameter_spread,
            elongation: self.elongation,
            strength_spread: self.strength_spread,
            clusters: self.clusters,
            halo: self.halo,
            blowout: self.blowout,
            matte: self.matte,
            shade: self.shade.clone(),
            hair: self.hair,
            keep_hair: self.keep_hair,
            scar: self.scar.clone(),
            scar_polygon: self
                .scar_polygon
                .as_deref()
                .map(Region::parse_polygon)
                .transpose()?,
            scar_retention: self.scar_retention,
            scar_shade: self.scar_shade.clone(),
            scar_dilution: self.scar_dilution,
            clip_to_head: self.clip_to_head,
            head_shape: self.head_shape,
            dilution: self.dilution,
            session_strengths: self.session_strengths.clone(),
            feather_mm: self.feather_mm,
            seed: self.seed,
            camera_blur_px: self.camera_blur_px,
            pigment: self.pigment.clone(),
            stage: self.stage.clone(),
            out: self.out.clone(),
            format: self.format,
            frame: self.frame,
            quality: self.quality,
            dots: self.dots.clone(),
            max_dots: self.max_dots,
            max_memory_mb: self.max_memory_mb,
        })
    }

    /// The checked job: plan file first, command-line options over it.
    pub fn job(&self) -> Result<RenderJob> {
        let cli = self.fields()?;
        let (file, base, source) = match &self.plan {
            Some(p) => {
                let file = PlanFile::load(p)?;
                let base = file.apply_to(Plan::for_client(), &p.display().to_string())?;
                (file, base, p.display().to_string())
            }
            None => (
                PlanFile::default(),
                Plan::for_client(),
                "command line".to_string(),
            ),
        };
        let plan = cli.apply_to(base, "command line")?;
        let merged = file.overridden_by(cli);
        // A region on the command line replaces the file's, whichever kind it is.
        let merged = if self.region.is_some()
            || self.polygon.is_some()
            || self.hairline.is_some()
            || self.preset.is_some()
        {
            PlanFile {
                region: self.region.clone(),
                polygon: merged.polygon.filter(|_| self.polygon.is_some()),
                hairline: merged.hairline.filter(|_| self.hairline.is_some()),
                preset: merged.preset.filter(|_| self.preset.is_some()),
                ..merged
            }
        } else {
            merged
        };
        // A scale on the command line replaces the file's, whichever kind.
        let merged = PlanFile {
            px_per_mm: merged
                .px_per_mm
                .filter(|_| self.scale_points.is_none() && !self.scale_from_head),
            scale_points: merged
                .scale_points
                .filter(|_| self.px_per_mm.is_none() && !self.scale_from_head),
            scale_from_head: merged
                .scale_from_head
                .filter(|_| self.px_per_mm.is_none() && self.scale_points.is_none()),
            ..merged
        };
        // So does a scar, whichever kind.
        let merged = if self.scar.is_some() || self.scar_polygon.is_some() {
            PlanFile {
                scar: self.scar.clone(),
                scar_polygon: merged.scar_polygon.filter(|_| self.scar_polygon.is_some()),
                ..merged
            }
        } else {
            merged
        };
        let mut job = RenderJob::from_fields(&merged, plan, &source)?;
        job.other_inputs.extend(self.plan.iter().cloned());
        job.simulated_label = !self.no_simulated_label;
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

/// Options of `sheet`: the layout and output options, then either labelled images
/// (`--image`) or the options of `render` (the sheet renders in memory).
#[derive(Debug, Clone, Args)]
pub struct SheetArgs {
    /// The arrangement: side-by-side, split, progression, timeline or grid.
    #[arg(long, value_name = "LAYOUT", default_value = "progression", value_parser = [
        "side-by-side", "split", "progression", "timeline", "grid",
    ])]
    pub layout: String,
    /// A picture and its caption, LABEL=PATH (PATH alone is captioned with its file stem);
    /// repeat it, in order, the before first. With images nothing is rendered.
    #[arg(long = "image", value_name = "LABEL=PATH")]
    pub images: Vec<String>,
    /// Where the split view's line sits (and where the page's slider starts), from 0 (all
    /// after) to 1 (all before). [default: 0.5]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub split_at: Option<f32>,
    /// Pictures per row of a grid. [default: about square]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub columns: Option<u32>,
    /// Render one picture per value of a plan key, same seed: KEY=V1,V2,... (e.g.
    /// shade=jet-black,soft-black,ash-grey or density_per_cm2=60,90,120).
    #[arg(long, value_name = "KEY=V,V,..")]
    pub vary: Option<String>,
    /// Crop every picture alike: x,y,w,h in photo pixels, or scalp (the treatment region's
    /// bounding box and a margin; needs the region). [default: whole pictures]
    #[arg(long, value_name = "x,y,w,h|scalp")]
    pub crop: Option<String>,
    /// Margin of --crop scalp on each side, as a share of the region's longer side, 0 to 2.
    /// [default: 0.2]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub crop_margin: Option<f32>,
    /// Output size, one sheet each (comma-separated): square (1080x1080), portrait
    /// (1080x1350), landscape (1920x1080), a4 (2480x3508, 300 dpi), a4-landscape, or WxH.
    /// [default: the pictures' own size]
    #[arg(long, value_name = "NAME,..", value_delimiter = ',')]
    pub size: Vec<String>,
    /// A studio name laid over the sheet as a watermark.
    #[arg(long, value_name = "TEXT", conflicts_with = "logo")]
    pub watermark: Option<String>,
    /// A logo image (PNG with transparency works best) laid over the sheet as a watermark.
    #[arg(long, value_name = "FILE")]
    pub logo: Option<PathBuf>,
    /// Where the watermark sits: top-left, top-right, bottom-left, bottom-right or center.
    /// [default: bottom-right]
    #[arg(long, value_name = "POS")]
    pub watermark_position: Option<String>,
    /// Watermark opacity, 0 to 1. [default: 0.7]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub watermark_opacity: Option<f32>,
    /// Logo width as a share of the sheet's shorter side, 0.02 to 1. [default: 0.18]
    #[arg(allow_negative_numbers = true, long, value_name = "F")]
    pub logo_size: Option<f32>,
    /// Background colour #rrggbb. [default: #161616]
    #[arg(long, value_name = "#RRGGBB")]
    pub background: Option<String>,
    /// Also write an interactive before/after comparison page (one self-contained HTML
    /// file) here.
    #[arg(long, value_name = "FILE.html")]
    pub html: Option<PathBuf>,
    /// Title of the comparison page. [default: Scalp micropigmentation preview]
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// The render's options (not used with --image, except the region for --crop scalp and
    /// --out, --format, --quality, --no-simulated-label).
    #[command(flatten)]
    pub render: RenderArgs,
}

fn parse_colour(s: &str) -> Result<image::Rgb<u8>> {
    let hex = s.trim().trim_start_matches('#');
    let v = (hex.len() == 6)
        .then(|| u32::from_str_radix(hex, 16).ok())
        .flatten()
        .ok_or_else(|| {
            Error::field(
                "command line",
                "background",
                format!("{s:?}"),
                "must be a colour #rrggbb",
            )
        })?;
    Ok(image::Rgb([(v >> 16) as u8, (v >> 8) as u8, v as u8]))
}

impl SheetArgs {
    /// The checked sheet job.
    pub fn job(&self) -> Result<SheetJob> {
        let split_at = self.split_at.unwrap_or(0.5);
        if !(0.0..=1.0).contains(&split_at) {
            return Err(Error::field(
                "command line",
                "split_at",
                split_at,
                "must be 0 (all after) to 1 (all before)",
            ));
        }
        let layout = match self.layout.as_str() {
            "side-by-side" => Layout::SideBySide,
            "split" => Layout::Split { at: split_at },
            "grid" => Layout::Grid {
                columns: self.columns,
            },
            _ => Layout::Strip,
        };
        if self.render.dots.is_some() {
            return Err(Error::field(
                "command line",
                "dots",
                "--dots",
                "is an option of render, not of sheet",
            ));
        }
        let cli = self.render.fields()?;
        let source = if self.images.is_empty() {
            if self.layout == "timeline" {
                return Err(Error::field(
                    "command line",
                    "layout",
                    "timeline",
                    "takes labelled images: --image LABEL=PATH for each stage \
                     (e.g. --image Fresh=fresh.png --image Healed=healed.png)",
                ));
            }
            let job = self.render.job()?;
            let variants = match &self.vary {
                Some(spec) => Variant::parse_list(spec, &job.plan)?,
                None => Vec::new(),
            };
            SheetSource::Render {
                job: Box::new(job),
                variants,
            }
        } else {
            // Only the region (for --crop scalp) and the output options apply to images.
            let render_only = PlanFile {
                region: None,
                polygon: None,
                out: None,
                format: None,
                quality: None,
                ..cli.clone()
            };
            if render_only != PlanFile::default() || self.vary.is_some() {
                return Err(Error::field(
                    "command line",
                    "image",
                    "--image with render options",
                    "with --image the sheet shows the given images and renders nothing; \
                     drop the render options (photo, plan values, --vary) or drop --image",
                ));
            }
            let file = match &self.render.plan {
                Some(p) => PlanFile::load(p)?,
                None => PlanFile::default(),
            };
            let region = match (&cli.region, &cli.polygon, &file.region, &file.polygon) {
                (Some(m), _, _, _) => Some(RegionSource::Mask(m.clone())),
                (None, Some(p), _, _) => Some(RegionSource::Polygon(p.clone())),
                (None, None, Some(m), _) => Some(RegionSource::Mask(m.clone())),
                (None, None, None, Some(p)) => Some(RegionSource::Polygon(p.clone())),
                _ => None,
            };
            SheetSource::Images {
                images: self
                    .images
                    .iter()
                    .map(|s| smp_render::parse_labelled_image(s))
                    .collect(),
                region,
            }
        };
        let (out_dir, format, quality) = match &source {
            SheetSource::Render { job, .. } => (job.out_dir.clone(), job.format, job.quality),
            SheetSource::Images { .. } => {
                let file = match &self.render.plan {
                    Some(p) => PlanFile::load(p)?,
                    None => PlanFile::default(),
                };
                let merged = file.overridden_by(cli);
                (
                    merged
                        .out
                        .unwrap_or_else(|| smp_render::DEFAULT_OUT_DIR.into()),
                    merged.format.unwrap_or_default(),
                    merged.quality.unwrap_or(smp_render::DEFAULT_QUALITY),
                )
            }
        };
        let mut job = SheetJob::new(source, layout, &format!("sheet-{}", self.layout));
        job.crop = match &self.crop {
            Some(c) => {
                let mut crop = Crop::parse(c)?;
                if let (Crop::Scalp { margin }, Some(m)) = (&mut crop, self.crop_margin) {
                    *margin = m;
                }
                Some(crop)
            }
            None => None,
        };
        job.canvases = self
            .size
            .iter()
            .map(|p| Canvas::parse(p))
            .collect::<Result<_>>()?;
        if let Some(b) = &self.background {
            job.background = parse_colour(b)?;
        }
        job.simulated_label = !self.render.no_simulated_label;
        let mut watermark = match (&self.watermark, &self.logo) {
            (Some(t), _) => Some(Watermark::text(t)),
            (None, Some(l)) => Some(Watermark::logo(l)?),
            (None, None) => None,
        };
        if let Some(w) = &mut watermark {
            if let Some(p) = &self.watermark_position {
                w.position = WatermarkPosition::parse(p)?;
            }
            if let Some(o) = self.watermark_opacity {
                w.opacity = o;
            }
            if let Some(s) = self.logo_size {
                w.logo_share = s;
            }
            w.validate()?;
        } else if self.watermark_position.is_some()
            || self.watermark_opacity.is_some()
            || self.logo_size.is_some()
        {
            return Err(Error::field(
                "command line",
                "watermark",
                "(none)",
                "--watermark-position, --watermark-opacity and --logo-size need --watermark TEXT or --logo FILE",
            ));
        }
        job.watermark = watermark;
        job.out_dir = out_dir;
        job.format = format;
        job.quality = quality;
        job.html = self.html.clone();
        job.title = self.title.clone();
        job.page_split_at = split_at;
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
    /// Render jobs whose outputs all exist and are newer than their inputs (skipped otherwise),
    /// and replace output files smp-render did not write (refused otherwise).
    #[arg(long)]
    pub force: bool,
    /// Let the jobs file write outside the output folder: an `out_dir` outside the jobs file's
    /// folder, `out` or `dots` outside the output folder (refused otherwise).
    #[arg(long)]
    pub allow_outside: bool,
    /// Print each job's dots per session, sampled without rendering; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Folder of the jobs without their own `out` (each in OUT/<name>) and of the report.
    /// [default: the jobs file's `out_dir`, else smp-out]
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where to write the JSON report of every job. [default: OUT/batch-report.json]
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// When another batch is writing to the same output folder, wait for it to end instead of
    /// refusing to start.
    #[arg(long)]
    pub wait: bool,
    /// Run only shard K of N (K from 1 to N): the jobs whose name hashes to it, a stable share
    /// whatever the jobs' order, for one batch over several machines. Give each shard its own
    /// --out; merge the reports with `smp-render merge-reports`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<smp_render::Shard>,
}

fn parse_shard(s: &str) -> std::result::Result<smp_render::Shard, String> {
    smp_render::Shard::parse(s, "command line").map_err(|e| e.to_string())
}

/// Options of `merge-reports`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The reports of every shard of one batch (`batch --shard K/N`), in any order.
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,
    /// Write the merged report here instead of to standard output (- is standard output).
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl BatchArgs {
    /// The checked batch, from the jobs file or the folder of photos.
    pub fn batch(&self) -> Result<Batch> {
        let options = smp_render::LoadOptions {
            out_dir: self.out.clone(),
            allow_outside: self.allow_outside,
        };
        let batch = match &self.plan {
            Some(plan) => Batch::from_photos_with(plan, &self.input, &options),
            None => Batch::load_with(&self.input, &options),
        }?;
        Ok(match self.shard {
            Some(shard) => batch.into_shard(shard),
            None => batch,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// clap's own consistency checks (no two options with one name, every
    /// `requires` names an option, ...): a debug build panics on the first
    /// parse otherwise.
    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// `-o` is `--out` wherever `--out` is; `-q` is global.
    #[test]
    fn short_out_and_global_quiet() {
        let cli = Cli::try_parse_from(["smp-render", "render", "p.jpg", "-o", "d", "-q"]).unwrap();
        assert!(cli.quiet);
        let Command::Render(r) = cli.command else {
            panic!("not render")
        };
        assert_eq!(r.render.out.as_deref(), Some(std::path::Path::new("d")));
        for sub in ["design", "timeline", "sheet"] {
            assert!(Cli::try_parse_from(["smp-render", sub, "p.jpg", "-o", "d"]).is_ok());
        }
        let cli = Cli::try_parse_from(["smp-render", "-q", "batch", "j.toml", "-o", "d"]).unwrap();
        assert!(matches!(cli.command, Command::Batch(b) if b.out.is_some()) && cli.quiet);
        let cli =
            Cli::try_parse_from(["smp-render", "merge-reports", "a.json", "-o", "-"]).unwrap();
        assert!(matches!(cli.command, Command::MergeReports(m) if m.out.is_some()));
        // --json where a summary is printed, not elsewhere.
        for ok in [
            &["smp-render", "render", "p.jpg", "--json"][..],
            &["smp-render", "design", "p.jpg", "--json"],
            &["smp-render", "provenance", "a.png", "--json"],
        ] {
            assert!(Cli::try_parse_from(ok).is_ok(), "{ok:?}");
        }
        assert!(Cli::try_parse_from(["smp-render", "timeline", "p.jpg", "--json"]).is_err());
    }

    #[test]
    fn threads_are_capped() {
        assert!(Cli::try_parse_from(["smp-render", "--threads", "256", "shades"]).is_ok());
        for bad in ["0", "257", "10000", "4294967295"] {
            let e = Cli::try_parse_from(["smp-render", "--threads", bad, "shades"]).unwrap_err();
            assert!(e.to_string().contains("1..=256"), "{bad}: {e}");
        }
    }
}
