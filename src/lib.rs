#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod batch;
mod composite;
mod error;
mod follicle;
mod optics;
mod photo;
mod plan;
mod region;
mod render;
mod sampling;
mod shade;
mod sheet;
mod units;

pub use batch::{
    count_dots, is_up_to_date, run_batch, Batch, BatchEvent, BatchJob, BatchOptions, BatchReport,
    JobResult, JobStatus, Summary, MASK_SUFFIX, PHOTO_EXTENSIONS, REPORT_FILE,
};
pub use composite::PigmentLayer;
pub use error::{Error, Result};
pub use follicle::{make_dots, Dot, HALO_RADIUS_MM};
pub use optics::{estimate_blur, BLUR_RANGE, DEFAULT_BLUR};
pub use photo::{
    decode_photo, encode_image, load_photo, photo_dimensions, remove_stale_temporaries,
    write_atomic, MAX_PIXELS, MAX_SIDE,
};
pub use plan::{
    default_session_shares, default_session_strengths, Format, Plan, PlanFile, DEFAULT_HALO,
    MAX_SESSIONS,
};
pub use region::{Rect, Region};
pub use render::{
    composite_sessions, dots_csv, pigment_blur, render_preview, run_job, sampler_params, JobReport,
    Preview, RegionSource, RenderJob, Timings, DEFAULT_OUT_DIR, DEFAULT_QUALITY, DOTS_CSV_HEADER,
    MIN_CAMERA_BLUR, SCATTER_SHARE,
};
pub use sampling::{
    full_weight_radius, radius_at, sample, SamplePoint, SamplerParams, WEIGHT_FLOOR,
};
pub use shade::{Shade, NAMED_SHADES};
pub use sheet::{label, side_by_side};
pub use units::{DotsPerCm2, Mm, Scale};
