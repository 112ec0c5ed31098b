//! # smp-render
//!
//! Scalp micropigmentation previews: follicle-like pigment dots placed on a
//! scalp photo, layered session by session, and composited as pigment seen
//! through skin, in linear light. This is the library under the
//! `smp-render` program; the README (in the repository) is the user's guide
//! to the program and its figures.
//!
//! ## The pipeline, module by module
//!
//! | stage | module | what it holds |
//! |---|---|---|
//! | photo in | [`photo`] | decoding with limits, linear light, atomic encoding |
//! | plan | [`plan`], [`units`], [`shade`], [`timeline`] | the treatment plan, its units, pigment shades, healing and fading stages |
//! | region | [`region`], [`hairline`], [`preset`], [`brow`], [`scar`] | the treated area: masks, polygons, hairline designs, presets placed from landmarks, scars |
//! | the head | [`head`], [`hair`], [`shape`] | the backdrop and outline, the client's own hair, the head's curvature |
//! | dots | [`sampling`], [`follicle`] | blue-noise points per session, and the dots drawn at them |
//! | pigment | [`optics`], [`composite`] | the camera's blur, and the pigment layer composited into the photo |
//! | a render | [`pipeline`], [`render`] | the stages with their caches; the jobs the program runs |
//! | outputs | [`sheet`], [`design`], [`provenance`] | sheets and pages, design overlays, what an image records about itself |
//! | at scale | [`batch`], [`studio`] | many photos from a jobs file; the live consultation page |
//! | errors | [`error`] | one error type naming the file, the field and what is allowed |
//!
//! The [`prelude`] holds the common path:
//!
//! ```no_run
//! use smp_render::prelude::*;
//! use std::path::Path;
//!
//! let photo = load_photo(Path::new("assets/photos/frl-london_037_03.jpg"))?;
//! let scale = Scale::new(3.27, "example")?;
//! let plan = Plan { sessions: 3, ..Default::default() };
//! let region = Region::load_mask(
//!     Path::new("assets/frl-london_037_03.region.png"),
//!     photo.dimensions(),
//!     scale.px(plan.feather),
//! )?;
//! let preview = render_preview(&photo, &region, &plan, scale);
//! println!("dots per session: {:?}", preview.dots_per_session());
//! # Ok::<(), Error>(())
//! ```
//!
//! The module paths and the prelude are the library's API. The items are
//! also re-exported at the crate root, hidden from these docs, for code
//! written against 0.1's flat paths.
#![warn(missing_docs)]

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The common path: load a photo, make a plan and a region, render.
pub mod prelude {
    pub use crate::error::{Error, Result};
    pub use crate::photo::{encode_image, load_photo, write_atomic};
    pub use crate::pipeline::{Design, Limits, Pipeline, Sessions};
    pub use crate::plan::{Plan, PlanFile};
    pub use crate::region::Region;
    pub use crate::render::{render_preview, render_timeline, run_job, Preview, RenderJob};
    pub use crate::shade::Shade;
    pub use crate::timeline::{Permanence, Stage};
    pub use crate::units::{DotsPerCm2, Mm, Scale};
}

pub mod batch;
pub mod brow;
pub mod composite;
pub mod design;
pub mod error;
pub mod follicle;
pub mod hair;
pub mod hairline;
pub mod head;
mod jpegscan;
pub mod optics;
pub mod photo;
pub mod pipeline;
pub mod plan;
pub mod preset;
pub mod provenance;
pub mod region;
pub mod render;
pub mod sampling;
pub mod scar;
pub mod shade;
pub mod shape;
pub mod sheet;
mod strips;
pub mod studio;
pub mod timeline;
pub mod units;

#[doc(hidden)]
pub use batch::{
    count_dots, is_inside, is_up_to_date, may_overwrite, real_path, run_batch, Batch, BatchEvent,
    BatchJob, BatchOptions, BatchReport, JobResult, JobStatus, LoadOptions, OutputLock, Shard,
    Summary, LOCK_FILE, MASK_SUFFIX, PHOTO_EXTENSIONS, REPORT_FILE,
};
#[doc(hidden)]
pub use brow::{find_brow, BROW_DIP};
#[doc(hidden)]
pub use composite::{Erythema, PigmentLayer};
#[doc(hidden)]
pub use design::{
    overlay, run_design, DesignReport, CLIPPED_TINT, HAIRLINE_COLOUR, REGION_TINT, SCAR_COLOUR,
};
#[doc(hidden)]
pub use error::{Error, Result};
#[doc(hidden)]
pub use follicle::{
    make_dots, pair_up, Dot, CLUSTER_GAP_MM, CLUSTER_PIGMENT_SHARE, CLUSTER_SECOND_SIZE,
    DEPOSIT_SHARE, HALO_REACH,
};
#[doc(hidden)]
pub use hair::{
    hair_cover, hair_pixels, keep_hair, skin_luminance, HairCover, HAIR_DARKER, HAIR_LIGHTER,
    HAIR_LIGHT_SURROUND, HAIR_LOCAL, HAIR_RIDGE, MAX_SPECK_PX,
};
#[doc(hidden)]
pub use hairline::{
    parse_hairline_points, Hairline, HairlineDesign, HairlineLook, HairlineStyle, StyleParams,
    DEFAULT_ASYMMETRY_MM, HAIRLINE_STYLES, ISOLATED_BAND_MM, MACRO_WAVELENGTH_MM,
    MICRO_WAVELENGTH_MM,
};
#[doc(hidden)]
pub use head::{
    background_pixels, clip_to_head, head_cover, outline, Backdrop, Clipped, HeadCover, Outline,
    BACKDROP_TOLERANCE, FLOOD_SIDE, WARM_BORDER,
};
#[doc(hidden)]
pub use optics::{estimate_blur, BLUR_RANGE, DEFAULT_BLUR};
#[doc(hidden)]
pub use photo::{
    decode_photo, encode_image, encode_image_meta, load_photo, photo_dimensions,
    remove_stale_temporaries, write_atomic, MAX_PIXELS, MAX_SIDE,
};
#[doc(hidden)]
pub use pipeline::{
    Analysis, Design, Estimate, Limits, Pipeline, Redone, RegionStage, Rendered, Scene, Sessions,
    DEFAULT_MAX_DOTS, DEFAULT_MAX_MEMORY_MB,
};
#[doc(hidden)]
pub use plan::{
    default_session_shares, default_session_strengths, Format, Frame, Plan, PlanFile, DEFAULT_HALO,
    MAX_SESSIONS,
};
#[doc(hidden)]
pub use preset::{
    Preset, PresetDesign, PresetLayout, CROWN_BEHIND_MM, CROWN_MM, DEFAULT_FRONTAL_MM,
    DEFAULT_PATCH_MM, PRESET_NAMES,
};
#[doc(hidden)]
pub use provenance::{
    read_dpi, read_image_text, read_provenance, written_by_smp_render, ImageMeta, Provenance,
    DIGITAL_SOURCE_TYPE,
};
#[doc(hidden)]
pub use region::{Kept, Rect, Region};
#[doc(hidden)]
pub use render::{
    composite_sessions, composite_with_scar, dots_csv, estimate_job, fit_head, pigment_blur,
    place_points, prepare_region, render_preview, render_timeline, resolve_shade, run_job,
    run_timeline, sampler_params, stage_dots, BuiltRegion, JobReport, Preview, RegionSource,
    RenderJob, TimelineReport, Timings, AUTO_REGION, DEFAULT_OUT_DIR, DEFAULT_QUALITY,
    DOTS_CSV_HEADER, ERYTHEMA_PATCH_MM, HAIR_REACH_MM, MIN_CAMERA_BLUR, SCAR_FEATHER_MM,
    SCATTER_SHARE,
};
#[doc(hidden)]
pub use sampling::{
    full_weight_radius, radius_at, sample, SamplePoint, SamplerParams, WEIGHT_FLOOR,
};
#[doc(hidden)]
pub use scar::{hold_on_scar, DEFAULT_SCAR_RETENTION, SCAR_PATCH_MM};
#[doc(hidden)]
pub use shade::{match_hair, NamedShade, Shade, ShadeMatch, DEFAULT_SHADE, NAMED_SHADES};
#[doc(hidden)]
pub use shape::{
    HeadShape, View, DEPOSIT_DEPTH, DEPTH_RATIO, FIT_SPAN_MM, HEAD_BREADTH_MM, MIN_COS,
};
#[doc(hidden)]
pub use sheet::{
    comparison_page, compose, label, legible_text_px, parse_labelled_image, run_sheet,
    side_by_side, simulated_mark, Canvas, Crop, Layout, PageOptions, Panel, SheetJob, SheetOptions,
    SheetReport, SheetSource, Variant, Watermark, WatermarkContent, WatermarkPosition,
    DEFAULT_BACKGROUND, DEFAULT_LOGO_SHARE, DEFAULT_SCALP_MARGIN, DEFAULT_WATERMARK_OPACITY,
    MAX_CANVAS_SIDE, PRESETS, SHEET_NOTICE, SIMULATED_NOTICE,
};
#[doc(hidden)]
pub use studio::{
    run_studio, StudioOptions, MAX_JSON_BYTES, MAX_OPEN_PHOTOS, MAX_UPLOAD_BYTES, PREVIEW_PIXELS,
};
#[doc(hidden)]
pub use timeline::{retention, Permanence, Stage, StageLook, MAX_YEARS};
#[doc(hidden)]
pub use units::{DotsPerCm2, Mm, Scale};
