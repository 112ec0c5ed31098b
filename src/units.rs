//! Physical units at the interface, pixels inside.
//!
//! Every quantity a user gives is physical (mm, dots/cm²); pixels appear
//! only after calibration with a [`Scale`]. Keeping the two apart in types
//! stops a diameter in mm from being used as a radius in px by accident.

use crate::error::{Error, Result};

/// Smallest scale accepted, px per mm (a 2 m wide frame on a 400 px image).
pub const MIN_PX_PER_MM: f32 = 0.2;
/// Largest scale accepted, px per mm (a macro lens).
pub const MAX_PX_PER_MM: f32 = 200.0;

/// Image scale: how many pixels make one millimetre on the scalp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    px_per_mm: f32,
}

impl Scale {
    /// A scale of `px_per_mm` pixels per millimetre, checked against
    /// 0.2..=200 px/mm.
    pub fn new(px_per_mm: f32, source: &str) -> Result<Self> {
        if !(MIN_PX_PER_MM..=MAX_PX_PER_MM).contains(&px_per_mm) || !px_per_mm.is_finite() {
            return Err(Error::field(
                source,
                "px_per_mm",
                px_per_mm,
                format!("must be {MIN_PX_PER_MM} to {MAX_PX_PER_MM} pixels per millimetre"),
            ));
        }
        Ok(Scale { px_per_mm })
    }

    /// Pixels per millimetre.
    pub fn px_per_mm(self) -> f32 {
        self.px_per_mm
    }

    /// A length in millimetres as pixels.
    pub fn px(self, mm: Mm) -> f32 {
        mm.0 * self.px_per_mm
    }

    /// Square millimetres covered by one pixel.
    pub fn mm2_per_px(self) -> f64 {
        1.0 / (self.px_per_mm as f64 * self.px_per_mm as f64)
    }
}

/// A length in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Mm(pub f32);

/// An areal density in dots per square centimetre.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct DotsPerCm2(pub f32);

impl DotsPerCm2 {
    /// The same density in dots per square millimetre.
    pub fn per_mm2(self) -> f32 {
        self.0 / 100.0
    }
}
