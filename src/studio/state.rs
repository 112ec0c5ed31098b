//! The studio's state: the folder it serves and the photos open in it,
//! each with its own preview pipeline.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use image::{GrayImage, RgbImage};

use crate::batch::PHOTO_EXTENSIONS;
use crate::error::{Error, Result};
use crate::hairline::{HairlineLook, HairlineStyle};
use crate::photo::decode_photo;
use crate::pipeline::Pipeline;
use crate::preset::{Preset, PresetDesign, DEFAULT_FRONTAL_MM, DEFAULT_PATCH_MM};
use crate::shape::{HeadShape, HEAD_BREADTH_MM};
use crate::units::Scale;

/// Largest preview, pixels: the photo is shown and re-rendered live at
/// this size or less (full resolution only on export).
pub const PREVIEW_PIXELS: u64 = 2_000_000;
/// Photos kept open at once (over all tabs); opening one more closes the
/// one opened longest ago.
pub const MAX_OPEN_PHOTOS: usize = 6;

/// Where an open photo came from.
#[derive(Debug)]
pub(crate) enum Source {
    /// A photo of the studio's folder, by its path.
    Folder(PathBuf),
    /// A photo uploaded from the page: its bytes, kept in memory only.
    Upload(Arc<Vec<u8>>),
}

/// A photo open in a tab.
#[derive(Debug)]
pub(crate) struct OpenPhoto {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) source: Source,
    /// Full-resolution size, px.
    pub(crate) size: (u32, u32),
    /// Preview px per photo px.
    pub(crate) factor: f32,
    /// The preview's pipeline (the photo at preview size).
    pub(crate) pipeline: Pipeline,
    /// The preview as JPEG.
    pub(crate) before_jpeg: Vec<u8>,
    /// The newest render request's sequence number.
    pub(crate) latest: AtomicU64,
    /// Painted masks decoded lately, by a hash of their data: the same
    /// painting keeps the same mask, so the region stage is kept.
    pub(crate) painted: Mutex<VecDeque<(u64, Arc<GrayImage>)>>,
    /// What was found at opening, for the page.
    pub(crate) found: Found,
    /// Time to decode and to analyse at opening.
    pub(crate) timings: (Duration, Duration),
}

/// What the studio finds in a photo when it opens it, photo px.
#[derive(Debug, Clone, Default)]
pub(crate) struct Found {
    /// The scale from the head's outline, with its assumption.
    pub(crate) scale: Option<(f32, String)>,
    /// The glabella on the brow line.
    pub(crate) glabella: Option<[f32; 2]>,
    /// A hairline to start from: left temple, mid-frontal point, right
    /// temple, as the `shaved` preset places them.
    pub(crate) hairline: Option<Vec<[f32; 2]>>,
}

/// The studio: its folder and the photos open.
#[derive(Debug)]
pub(crate) struct Studio {
    /// The folder: photos are listed from it, exports go under it.
    pub(crate) root: PathBuf,
    /// A photo named on the command line, to open at start.
    pub(crate) initial: Option<String>,
    open: Mutex<VecDeque<Arc<OpenPhoto>>>,
    next_id: AtomicU64,
}

impl Studio {
    /// The studio for a photo (its folder is served) or a folder (`None`:
    /// the current one).
    pub(crate) fn new(target: Option<&Path>) -> Result<Self> {
        let target = target.unwrap_or(Path::new("."));
        let meta = std::fs::metadata(target).map_err(|e| Error::io(target, e))?;
        let (root, initial) = if meta.is_dir() {
            (target.to_path_buf(), None)
        } else {
            let name = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let dir = target
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            (dir.to_path_buf(), Some(name))
        };
        let root = root.canonicalize().map_err(|e| Error::io(&root, e))?;
        Ok(Studio {
            root,
            initial,
            open: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(1),
        })
    }

    /// What the studio serves, for the terminal.
    pub(crate) fn describe(&self) -> String {
        match &self.initial {
            Some(n) => format!("{} (in {})", n, self.root.display()),
            None => format!("the photos in {}", self.root.display()),
        }
    }

    /// The photos of the folder, by name, sorted.
    pub(crate) fn photos(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut names: Vec<String> = dir
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| {
                Path::new(n)
                    .extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| PHOTO_EXTENSIONS.contains(&x.to_ascii_lowercase().as_str()))
            })
            .collect();
        names.sort();
        names
    }

    /// The path of the folder's photo `name`: only a name the folder lists
    /// (no separators, no `..`, nothing outside the folder).
    pub(crate) fn photo_path(&self, name: &str) -> Result<PathBuf> {
        if self.photos().iter().any(|n| n == name) {
            Ok(self.root.join(name))
        } else {
            Err(Error::field(
                "request",
                "name",
                name,
                "must be the name of a photo in the studio's folder (see /api/info)",
            ))
        }
    }

    /// The open photo `id`.
    pub(crate) fn get(&self, id: u64) -> Option<Arc<OpenPhoto>> {
        self.open
            .lock()
            .expect("open photos")
            .iter()
            .find(|p| p.id == id)
            .cloned()
    }

    /// Decodes and analyses a photo, and keeps it open under a new id.
    pub(crate) fn open(&self, name: &str, bytes: &[u8], source: Source) -> Result<Arc<OpenPhoto>> {
        let clock = Instant::now();
        let photo = decode_photo(bytes, Path::new(name))?;
        let decode = clock.elapsed();
        let clock = Instant::now();
        let size = photo.dimensions();
        let (preview, factor) = preview_of(photo);
        let pipeline = Pipeline::new(preview);
        let (found, before_jpeg) = rayon::join(
            || find(&pipeline, factor),
            || super::api::preview_jpeg(pipeline.photo(), "before.jpg"),
        );
        let open = Arc::new(OpenPhoto {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            name: name.to_string(),
            source,
            size,
            factor,
            pipeline,
            before_jpeg: before_jpeg?,
            latest: AtomicU64::new(0),
            painted: Mutex::new(VecDeque::new()),
            found,
            timings: (decode, clock.elapsed()),
        });
        let mut all = self.open.lock().expect("open photos");
        while all.len() >= MAX_OPEN_PHOTOS {
            all.pop_front();
        }
        all.push_back(open.clone());
        Ok(open)
    }
}

/// The photo at preview size (at most [`PREVIEW_PIXELS`]), and its scale
/// against the photo.
fn preview_of(photo: RgbImage) -> (RgbImage, f32) {
    let (w, h) = photo.dimensions();
    let pixels = w as u64 * h as u64;
    if pixels <= PREVIEW_PIXELS {
        return (photo, 1.0);
    }
    let f = (PREVIEW_PIXELS as f64 / pixels as f64).sqrt();
    let (pw, ph) = (
        ((w as f64 * f).floor() as u32).max(1),
        ((h as f64 * f).floor() as u32).max(1),
    );
    // An area average: every photo pixel counts, as in a camera's own
    // downscale.
    let small = image::imageops::thumbnail(&photo, pw, ph);
    (small, pw as f32 / w as f32)
}

/// What the studio finds in a photo at opening (see [`Found`]), in photo
/// px, from the preview's analysis.
fn find(pipeline: &Pipeline, factor: f32) -> Found {
    let scene = pipeline.analysis();
    scene.warm();
    let (w, h) = scene.photo().dimensions();
    let Some((ppm, _)) =
        HeadShape::scale_from_outline(scene, [w as f32 / 2.0, h as f32 / 3.0], HEAD_BREADTH_MM)
    else {
        return Found::default();
    };
    let full = ppm / factor;
    let note = format!(
        "{full:.2} px/mm estimated from the head's outline ({:.0} px wide at its widest above \
         the ears), assuming the head is {HEAD_BREADTH_MM:.0} mm wide there (adults are about \
         140-165 mm, so about ±8 %); measure a ruler in the photo to do better",
        full * HEAD_BREADTH_MM
    );
    let mut found = Found {
        scale: Some((full, note)),
        ..Found::default()
    };
    let Ok(scale) = Scale::new(ppm, "studio") else {
        return found;
    };
    let design = PresetDesign {
        preset: Preset::Shaved,
        glabella: None,
        frontal_mm: DEFAULT_FRONTAL_MM,
        look: HairlineLook {
            style: HairlineStyle::Natural,
            transition_mm: None,
            irregularity_mm: None,
            asymmetry_mm: None,
            isolated: None,
        },
        patch: None,
        patch_mm: DEFAULT_PATCH_MM,
    };
    if let Ok(layout) = design.build(scene, scale, 1, "studio") {
        let up = |p: [f32; 2]| [p[0] / factor, p[1] / factor];
        found.glabella = layout.glabella_found.map(up);
        found.hairline = layout
            .hairline
            .map(|h| h.design.points.iter().map(|&p| up(p)).collect());
    }
    found
}
