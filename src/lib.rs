#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod batch;
mod brow;
mod composite;
mod design;
mod error;
mod follicle;
mod hair;
mod hairline;
mod head;
mod jpegscan;
mod optics;
mod photo;
mod pipeline;
mod plan;
mod preset;
mod provenance;
mod region;
mod render;
mod sampling;
mod scar;
mod shade;
mod shape;
mod sheet;
mod studio;
mod timeline;
mod units;

pub use batch::{
    count_dots, is_inside, is_up_to_date, may_overwrite, real_path, run_batch, Batch, BatchEvent,
    BatchJob, BatchOptions, BatchReport, JobResult, JobStatus, LoadOptions, OutputLock, Shard,
    Summary, LOCK_FILE, MASK_SUFFIX, PHOTO_EXTENSIONS, REPORT_FILE,
};
pub use brow::{find_brow, BROW_DIP};
pub use composite::{Erythema, PigmentLayer};
pub use design::{
    overlay, run_design, DesignReport, CLIPPED_TINT, HAIRLINE_COLOUR, REGION_TINT, SCAR_COLOUR,
};
pub use error::{Error, Result};
pub use follicle::{
    make_dots, pair_up, Dot, CLUSTER_GAP_MM, CLUSTER_PIGMENT_SHARE, CLUSTER_SECOND_SIZE,
    DEPOSIT_SHARE, HALO_REACH,
};
pub use hair::{
    hair_cover, hair_pixels, keep_hair, skin_luminance, HairCover, HAIR_DARKER, HAIR_LIGHTER,
    HAIR_LIGHT_SURROUND, HAIR_LOCAL, HAIR_RIDGE, MAX_SPECK_PX,
};
pub use hairline::{
    parse_hairline_points, Hairline, HairlineDesign, HairlineLook, HairlineStyle, StyleParams,
    DEFAULT_ASYMMETRY_MM, HAIRLINE_STYLES, ISOLATED_BAND_MM, MACRO_WAVELENGTH_MM,
    MICRO_WAVELENGTH_MM,
};
pub use head::{
    background_pixels, clip_to_head, head_cover, outline, Backdrop, Clipped, HeadCover, Outline,
    BACKDROP_TOLERANCE, FLOOD_SIDE, WARM_BORDER,
};
pub use optics::{estimate_blur, BLUR_RANGE, DEFAULT_BLUR};
pub use photo::{
    decode_photo, encode_image, encode_image_meta, load_photo, photo_dimensions,
    remove_stale_temporaries, write_atomic, MAX_PIXELS, MAX_SIDE,
};
pub use pipeline::{
    Analysis, Design, Estimate, Limits, Pipeline, Redone, RegionStage, Rendered, Scene, Sessions,
    DEFAULT_MAX_DOTS, DEFAULT_MAX_MEMORY_MB,
};
pub use plan::{
    default_session_shares, default_session_strengths, Format, Frame, Plan, PlanFile, DEFAULT_HALO,
    MAX_SESSIONS,
};
pub use preset::{
    Preset, PresetDesign, PresetLayout, CROWN_BEHIND_MM, CROWN_MM, DEFAULT_FRONTAL_MM,
    DEFAULT_PATCH_MM, PRESET_NAMES,
};
pub use provenance::{
    read_dpi, read_image_text, read_provenance, written_by_smp_render, ImageMeta, Provenance,
    DIGITAL_SOURCE_TYPE,
};
pub use region::{Kept, Rect, Region};
pub use render::{
    composite_sessions, composite_with_scar, dots_csv, estimate_job, fit_head, pigment_blur,
    place_points, prepare_region, render_preview, render_timeline, resolve_shade, run_job,
    run_timeline, sampler_params, stage_dots, BuiltRegion, JobReport, Preview, RegionSource,
    RenderJob, TimelineReport, Timings, AUTO_REGION, DEFAULT_OUT_DIR, DEFAULT_QUALITY,
    DOTS_CSV_HEADER, ERYTHEMA_PATCH_MM, HAIR_REACH_MM, MIN_CAMERA_BLUR, SCAR_FEATHER_MM,
    SCATTER_SHARE,
};
pub use sampling::{
    full_weight_radius, radius_at, sample, SamplePoint, SamplerParams, WEIGHT_FLOOR,
};
pub use scar::{hold_on_scar, DEFAULT_SCAR_RETENTION, SCAR_PATCH_MM};
pub use shade::{match_hair, NamedShade, Shade, ShadeMatch, DEFAULT_SHADE, NAMED_SHADES};
pub use shape::{
    HeadShape, View, DEPOSIT_DEPTH, DEPTH_RATIO, FIT_SPAN_MM, HEAD_BREADTH_MM, MIN_COS,
};
pub use sheet::{
    comparison_page, compose, label, legible_text_px, parse_labelled_image, run_sheet,
    side_by_side, simulated_mark, Canvas, Crop, Layout, PageOptions, Panel, SheetJob, SheetOptions,
    SheetReport, SheetSource, Variant, Watermark, WatermarkContent, WatermarkPosition,
    DEFAULT_BACKGROUND, DEFAULT_LOGO_SHARE, DEFAULT_SCALP_MARGIN, DEFAULT_WATERMARK_OPACITY,
    MAX_CANVAS_SIDE, PRESETS, SHEET_NOTICE, SIMULATED_NOTICE,
};
pub use studio::{
    run_studio, StudioOptions, MAX_JSON_BYTES, MAX_OPEN_PHOTOS, MAX_UPLOAD_BYTES, PREVIEW_PIXELS,
};
pub use timeline::{retention, Permanence, Stage, StageLook, MAX_YEARS};
pub use units::{DotsPerCm2, Mm, Scale};
