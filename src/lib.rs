#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod composite;
mod error;
mod follicle;
mod photo;
mod plan;
mod region;
mod sampling;
mod shade;
mod units;

pub use composite::PigmentLayer;
pub use error::{Error, Result};
pub use follicle::{make_dots, Dot};
pub use photo::{decode_photo, encode_image, load_photo, write_atomic, MAX_PIXELS, MAX_SIDE};
pub use plan::{
    default_session_shares, default_session_strengths, Format, Plan, PlanFile, MAX_SESSIONS,
};
pub use region::{Rect, Region};
pub use sampling::{sample, SamplePoint, SamplerParams};
pub use shade::{Shade, NAMED_SHADES};
pub use units::{DotsPerCm2, Mm, Scale};
