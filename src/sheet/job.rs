//! Sheets from files to files: the pictures come from image files (with
//! captions) or from a render done in memory; the sheet is written once per
//! canvas, and the comparison page if asked, every file atomically.

use std::path::{Path, PathBuf};

use image::Rgb;

use super::crop::Crop;
use super::html::{comparison_page, PageOptions};
use super::layout::{compose, Layout, Panel, SheetOptions, DEFAULT_BACKGROUND};
use super::portfolio::{Canvas, Watermark};
use crate::error::{Error, Result};
use crate::photo::{decode_photo, encode_image_meta, load_photo, write_atomic};
use crate::plan::{Format, Plan, PlanFile};
use crate::provenance::{read_provenance, ImageMeta, Provenance};
use crate::region::Rect;
use crate::render::{render_preview, same_file, RegionSource, RenderJob, DEFAULT_QUALITY};

/// One variant of a plan for a grid: the same photo, region and seed with
/// one value changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Caption, e.g. "ash-grey" or "60 dots/cm²".
    pub label: String,
    /// The plan.
    pub plan: Plan,
}

/// Plan-file keys a variant may change.
const VARIANT_KEYS: &[&str] = &[
    "sessions",
    "density_per_cm2",
    "session_shares",
    "dot_diameter_mm",
    "dot_diameter_spread",
    "elongation",
    "strength_spread",
    "halo",
    "shade",
    "dilution",
    "session_strengths",
    "feather_mm",
    "seed",
    "camera_blur_px",
];

impl Variant {
    /// `base` with the plan-file key `key` set to `value` (a TOML value; a
    /// bare word is taken as a string), checked, and captioned after it.
    pub fn parse(key: &str, value: &str, base: &Plan) -> Result<Variant> {
        let key = key.trim();
        let value = value.trim();
        let source = "command line (--vary)";
        if !VARIANT_KEYS.contains(&key) {
            return Err(Error::field(
                source,
                "vary",
                format!("{key:?}"),
                format!("must be a plan key: {}", VARIANT_KEYS.join(", ")),
            ));
        }
        let fields: PlanFile = toml::from_str(&format!("{key} = {value}"))
            .or_else(|_| toml::from_str(&format!("{key} = \"{}\"", value.replace('"', ""))))
            .map_err(|e| Error::field(source, key, value, e.message().trim_end().to_string()))?;
        let plan = fields.apply_to(base.clone(), source)?;
        let label = match key {
            "shade" => value.to_string(),
            "density_per_cm2" => format!("{value} dots/cm²"),
            "dot_diameter_mm" => format!("{value} mm dots"),
            "sessions" => format!("{value} session{}", if value == "1" { "" } else { "s" }),
            "dilution" => format!("dilution {value}"),
            "seed" => format!("seed {value}"),
            _ => format!("{} {value}", key.replace('_', " ")),
        };
        Ok(Variant { label, plan })
    }

    /// Variants from `KEY=V1,V2,...` (values separated by commas, or by
    /// semicolons when a value is itself a list).
    pub fn parse_list(spec: &str, base: &Plan) -> Result<Vec<Variant>> {
        let (key, values) = spec.split_once('=').ok_or_else(|| {
            Error::field(
                "command line",
                "vary",
                format!("{spec:?}"),
                "must be KEY=V1,V2,... (e.g. shade=jet-black,soft-black,ash-grey)",
            )
        })?;
        let sep = if values.contains(';') { ';' } else { ',' };
        let values: Vec<&str> = values.split(sep).filter(|v| !v.trim().is_empty()).collect();
        if values.is_empty() {
            return Err(Error::field(
                "command line",
                "vary",
                format!("{spec:?}"),
                "give at least one value after the =",
            ));
        }
        values
            .iter()
            .map(|v| Variant::parse(key, v, base))
            .collect()
    }
}

/// Where a sheet's pictures come from.
#[derive(Debug, Clone)]
pub enum SheetSource {
    /// Image files with captions, in order; the first is the before. Nothing
    /// is rendered. The region, if given, serves [`Crop::Scalp`].
    Images {
        /// Caption and file of each picture.
        images: Vec<(String, PathBuf)>,
        /// The treatment region of the photo the images show.
        region: Option<RegionSource>,
    },
    /// A render done in memory: the photo as "Before", then every session;
    /// with variants, the photo then each variant's final session.
    Render {
        /// The render.
        job: Box<RenderJob>,
        /// Variants of the job's plan. Default: none.
        variants: Vec<Variant>,
    },
}

/// A sheet from files to files.
#[derive(Debug, Clone)]
pub struct SheetJob {
    /// Where the pictures come from.
    pub source: SheetSource,
    /// The arrangement.
    pub layout: Layout,
    /// File stem of the sheet, e.g. `sheet-progression`; a canvas adds its
    /// name (`sheet-progression-portrait.png`).
    pub name: String,
    /// A crop for every picture. Default: none (whole pictures).
    pub crop: Option<Crop>,
    /// Fixed output sizes, one sheet each; empty: one sheet at the
    /// pictures' own size. Default: empty.
    pub canvases: Vec<Canvas>,
    /// Background colour. Default: [`DEFAULT_BACKGROUND`].
    pub background: Rgb<u8>,
    /// The "Simulated preview" notice on the sheet and the page. Default: true.
    pub simulated_label: bool,
    /// A studio's name or logo. Default: none.
    pub watermark: Option<Watermark>,
    /// Output folder (created if missing). Default: `smp-out`.
    pub out_dir: PathBuf,
    /// Image format of the sheets. Default: PNG.
    pub format: Format,
    /// JPEG quality of the sheets and the page's pictures. Default: 90.
    pub quality: u8,
    /// Where to write the comparison page, if anywhere. Default: none.
    pub html: Option<PathBuf>,
    /// Title of the page. Default: "Scalp micropigmentation preview".
    pub title: Option<String>,
    /// Where the split line sits on the page at first, 0-1. Default: 0.5.
    pub page_split_at: f32,
}

impl SheetJob {
    /// A job with every option at its default.
    pub fn new(source: SheetSource, layout: Layout, name: &str) -> Self {
        SheetJob {
            source,
            layout,
            name: name.to_string(),
            crop: None,
            canvases: Vec::new(),
            background: DEFAULT_BACKGROUND,
            simulated_label: true,
            watermark: None,
            out_dir: crate::render::DEFAULT_OUT_DIR.into(),
            format: Format::Png,
            quality: DEFAULT_QUALITY,
            html: None,
            title: None,
            page_split_at: 0.5,
        }
    }

    /// Every file this job writes: one sheet per canvas, then the page.
    pub fn output_paths(&self) -> Vec<PathBuf> {
        let ext = self.format.extension();
        let mut v: Vec<PathBuf> = if self.canvases.is_empty() {
            vec![self.out_dir.join(format!("{}.{ext}", self.name))]
        } else {
            self.canvases
                .iter()
                .map(|c| self.out_dir.join(format!("{}-{}.{ext}", self.name, c.name)))
                .collect()
        };
        v.extend(self.html.iter().cloned());
        v
    }

    fn inputs(&self) -> Vec<PathBuf> {
        let v = match &self.source {
            SheetSource::Images { images, region } => {
                let mut v: Vec<PathBuf> = images.iter().map(|(_, p)| p.clone()).collect();
                if let Some(RegionSource::Mask(m)) = region {
                    v.push(m.clone());
                }
                v
            }
            SheetSource::Render { job, .. } => job.inputs(),
        };
        v
    }
}

/// What a sheet job wrote.
#[derive(Debug, Clone)]
pub struct SheetReport {
    /// Files written.
    pub outputs: Vec<PathBuf>,
    /// Size of each sheet, px, in the order of `outputs`.
    pub sizes: Vec<(u32, u32)>,
}

/// The panels of a source, cropped, with the region's bounds (if known)
/// and what the panels record about themselves.
fn panels(job: &SheetJob) -> Result<(Vec<Panel>, Option<Provenance>)> {
    let (mut panels, bounds, provenance): (Vec<Panel>, Option<Rect>, Option<Provenance>) =
        match &job.source {
            SheetSource::Images { images, region } => {
                if images.is_empty() {
                    return Err(Error::field(
                        "command line",
                        "image",
                        "(none)",
                        "give at least one image as LABEL=PATH",
                    ));
                }
                let loaded: Vec<Result<(Panel, Option<Provenance>)>> = {
                    use rayon::prelude::*;
                    images
                        .par_iter()
                        .map(|(label, path)| {
                            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
                            let img = decode_photo(&bytes, path)?;
                            Ok((Panel::new(img, label.clone()), read_provenance(&bytes)))
                        })
                        .collect()
                };
                let mut panels = Vec::with_capacity(loaded.len());
                let mut found = None;
                for l in loaded {
                    let (p, prov) = l?;
                    found = found.or(prov);
                    panels.push(p);
                }
                let bounds = match region {
                    Some(r) => Some(r.load(panels[0].image.dimensions(), 0.0)?.bounds()),
                    None => None,
                };
                let labels: Vec<&str> = images.iter().map(|(l, _)| l.as_str()).collect();
                let what = format!(
                    "{} of {} images: {}",
                    job.name,
                    labels.len(),
                    labels.join(", ")
                );
                let provenance = match found {
                    Some(p) => Some(Provenance::new(
                        &format!("{what}; rendered by smp-render, not photographed"),
                        p.seed,
                        p.plan,
                    )),
                    None => job.simulated_label.then(|| {
                        Provenance::new(
                            &format!("{what}; the after images are not photographs"),
                            None,
                            None,
                        )
                    }),
                };
                (panels, bounds, provenance)
            }
            SheetSource::Render { job: rj, variants } => {
                let photo = load_photo(&rj.photo)?;
                let region = rj
                    .region
                    .build(&photo, rj.scale, &rj.plan, &rj.source())?
                    .region;
                let mut panels = Vec::new();
                let n = rj.plan.sessions;
                let provenance = if variants.is_empty() {
                    let preview = render_preview(&photo, &region, &rj.plan, rj.scale);
                    panels.push(Panel::new(photo, "Before"));
                    for (k, s) in preview.sessions.into_iter().enumerate() {
                        panels.push(Panel::new(s, format!("Session {}", k + 1)));
                    }
                    rj.provenance(&format!("{}: before and {n} sessions", job.name))
                } else {
                    panels.push(Panel::new(photo.clone(), "Before"));
                    for v in variants {
                        let mut preview = render_preview(&photo, &region, &v.plan, rj.scale);
                        let last = preview.sessions.pop().expect("at least one session");
                        panels.push(Panel::new(last, v.label.clone()));
                    }
                    let labels: Vec<&str> = variants.iter().map(|v| v.label.as_str()).collect();
                    let mut p = rj.provenance(&format!(
                        "{}: before and {} variants ({})",
                        job.name,
                        variants.len(),
                        labels.join(", ")
                    ));
                    if let Some(plan) = &mut p.plan {
                        plan.push_str(&format!(
                            "# Variants of this plan, same seed, one per picture: {}\n",
                            labels.join(", ")
                        ));
                    }
                    p
                };
                (panels, Some(region.bounds()), Some(provenance))
            }
        };
    if let Some(crop) = &job.crop {
        let names: Vec<String> = match &job.source {
            SheetSource::Images { images, .. } => images
                .iter()
                .map(|(_, p)| p.display().to_string())
                .collect(),
            SheetSource::Render { job, .. } => vec![job.photo.display().to_string(); panels.len()],
        };
        for (p, name) in panels.iter_mut().zip(names) {
            p.image = crop.apply(&p.image, bounds, &name)?;
        }
    }
    Ok((panels, provenance))
}

/// Runs a sheet job: gathers (or renders) and crops the pictures, lays them
/// out once per canvas and writes each sheet, and the page if asked, with
/// the simulation notice and the plan in the files' metadata.
pub fn run_sheet(job: &SheetJob) -> Result<SheetReport> {
    let outputs = job.output_paths();
    let inputs = job.inputs();
    for out in &outputs {
        if inputs.iter().any(|i| same_file(out, i)) {
            return Err(Error::WouldOverwriteInput { path: out.clone() });
        }
    }
    let (panels, provenance) = panels(job)?;
    let mut opts = SheetOptions {
        layout: job.layout,
        canvas: None,
        background: job.background,
        simulated_label: job.simulated_label,
        watermark: job.watermark.clone(),
    };
    // A render's last session is "the after" of a two-picture layout.
    let mut sheet_panels = panels.clone();
    if let (Layout::SideBySide | Layout::Split { .. }, SheetSource::Render { job: rj, variants }) =
        (job.layout, &job.source)
    {
        if variants.is_empty() {
            let n = rj.plan.sessions;
            let last = sheet_panels.last_mut().expect("before and sessions");
            last.label = format!("After {n} session{}", if n == 1 { "" } else { "s" });
        }
    }
    let mut sheets = Vec::new();
    let canvases: Vec<Option<&Canvas>> = if job.canvases.is_empty() {
        vec![None]
    } else {
        job.canvases.iter().map(Some).collect()
    };
    for canvas in canvases {
        opts.canvas = canvas.cloned();
        let sheet = compose(&sheet_panels, &opts)?;
        let meta = ImageMeta {
            provenance: provenance.clone(),
            dpi: canvas.and_then(|c| c.dpi),
        };
        sheets.push((sheet, meta));
    }
    let page = match &job.html {
        Some(_) => Some(comparison_page(
            &panels[0],
            &panels[1..],
            &PageOptions {
                title: job
                    .title
                    .clone()
                    .unwrap_or_else(|| PageOptions::default().title),
                simulated_label: job.simulated_label,
                quality: job.quality,
                split_at: job.page_split_at,
                provenance: provenance.clone(),
            },
        )?),
        None => None,
    };
    std::fs::create_dir_all(&job.out_dir).map_err(|e| Error::io(&job.out_dir, e))?;
    let mut sizes = Vec::new();
    for ((sheet, meta), path) in sheets.iter().zip(&outputs) {
        let bytes = encode_image_meta(sheet, job.format, job.quality, path, meta)?;
        write_atomic(path, &bytes)?;
        sizes.push(sheet.dimensions());
    }
    if let (Some(page), Some(path)) = (page, &job.html) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        write_atomic(path, page.as_bytes())?;
    }
    Ok(SheetReport { outputs, sizes })
}

/// Reads `LABEL=PATH` (the label may be left out: `PATH` alone is captioned
/// with its file stem).
pub fn parse_labelled_image(s: &str) -> (String, PathBuf) {
    match s.split_once('=') {
        Some((label, path)) if !label.trim().is_empty() && !Path::new(s).exists() => {
            (label.trim().to_string(), PathBuf::from(path.trim()))
        }
        _ => {
            let p = PathBuf::from(s);
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (stem, p)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_set_one_key_and_caption_it() {
        let base = Plan::default();
        let v = Variant::parse_list("shade=jet-black,soft-black,ash-grey", &base).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[2].label, "ash-grey");
        assert_eq!(v[2].plan.shade.name, "ash-grey");
        assert_eq!(v[2].plan.seed, base.seed);
        let d = Variant::parse_list("density_per_cm2=60,120", &base).unwrap();
        assert_eq!(d[0].plan.density.0, 60.0);
        assert_eq!(d[1].label, "120 dots/cm²");
        let e = Variant::parse_list("photo=a.jpg", &base)
            .unwrap_err()
            .to_string();
        assert!(e.contains("plan key"), "{e}");
        let e = Variant::parse_list("density_per_cm2=900", &base)
            .unwrap_err()
            .to_string();
        assert!(e.contains("5 to 400"), "{e}");
    }

    #[test]
    fn labelled_images() {
        assert_eq!(
            parse_labelled_image("Healed=out/a.png"),
            ("Healed".to_string(), PathBuf::from("out/a.png"))
        );
        assert_eq!(parse_labelled_image("out/b.png").0, "b");
    }
}
