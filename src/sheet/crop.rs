//! Explicit crops: a sheet shows the whole photo unless asked to cut it, and
//! then cuts exactly what was asked, the same rectangle from every picture.

use image::RgbImage;

use crate::error::{Error, Result};
use crate::region::Rect;

/// A crop applied to every picture of a sheet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Crop {
    /// A rectangle in photo pixels.
    Pixels {
        /// Left column.
        x: u32,
        /// Top row.
        y: u32,
        /// Width, px.
        width: u32,
        /// Height, px.
        height: u32,
    },
    /// The treatment region's bounding box grown by `margin` (a share of
    /// the box's longer side) on every side, then its shorter side grown
    /// (about the centre) to at least 2/3 of the longer, so that a thin
    /// band of scalp keeps the head around it; clipped to the photo.
    Scalp {
        /// Margin as a share of the box's longer side, 0 to 2. Default: [`DEFAULT_SCALP_MARGIN`].
        margin: f32,
    },
}

/// Default margin of [`Crop::Scalp`]: a fifth of the region's longer side.
pub const DEFAULT_SCALP_MARGIN: f32 = 0.2;

/// The least ratio of the shorter to the longer side of a [`Crop::Scalp`].
pub const MIN_SCALP_ASPECT: f64 = 2.0 / 3.0;

impl Crop {
    /// Parses `x,y,w,h` (pixels) or `scalp` (with [`DEFAULT_SCALP_MARGIN`]).
    pub fn parse(s: &str) -> Result<Crop> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("scalp") {
            return Ok(Crop::Scalp {
                margin: DEFAULT_SCALP_MARGIN,
            });
        }
        let bad = |why: &str| {
            Error::field(
                "command line",
                "crop",
                format!("{s:?}"),
                format!("{why}; give x,y,w,h in pixels (e.g. 300,150,800,600) or scalp"),
            )
        };
        let v: Vec<&str> = t.split(',').map(str::trim).collect();
        if v.len() != 4 {
            return Err(bad("must be four numbers or the word scalp"));
        }
        let n: Vec<u32> = v
            .iter()
            .map(|p| p.parse::<u32>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad("each of x, y, w, h must be a whole number of pixels, 0 or more"))?;
        if n[2] == 0 || n[3] == 0 {
            return Err(bad("the width and the height must be at least 1 px"));
        }
        Ok(Crop::Pixels {
            x: n[0],
            y: n[1],
            width: n[2],
            height: n[3],
        })
    }

    /// The rectangle this crop cuts from an image of `size`. `region` is the
    /// treatment region's bounding box, needed by [`Crop::Scalp`]; `what`
    /// names the image in errors.
    pub fn rect(&self, size: (u32, u32), region: Option<Rect>, what: &str) -> Result<Rect> {
        let (w, h) = size;
        match *self {
            Crop::Pixels {
                x,
                y,
                width,
                height,
            } => {
                let value = format!("{x},{y},{width},{height}");
                let err = |why: String| Error::field(what, "crop", &value, why);
                if x as u64 + width as u64 > w as u64 {
                    return Err(err(format!(
                        "reaches past the right edge of the {w} x {h} px image: x + w = {} but must be at most {w}",
                        x as u64 + width as u64
                    )));
                }
                if y as u64 + height as u64 > h as u64 {
                    return Err(err(format!(
                        "reaches past the bottom edge of the {w} x {h} px image: y + h = {} but must be at most {h}",
                        y as u64 + height as u64
                    )));
                }
                Ok(Rect {
                    x0: x,
                    y0: y,
                    x1: x + width,
                    y1: y + height,
                })
            }
            Crop::Scalp { margin } => {
                let b = region.ok_or_else(|| {
                    Error::field(
                        what,
                        "crop",
                        "scalp",
                        "needs the treatment region: give --region MASK or --polygon, or a plan with one",
                    )
                })?;
                if !(0.0..=2.0).contains(&margin) {
                    return Err(Error::field(
                        what,
                        "crop_margin",
                        margin,
                        "must be 0 to 2 (a share of the region's longer side)",
                    ));
                }
                if b.x1 > w || b.y1 > h {
                    return Err(Error::field(
                        what,
                        "crop",
                        "scalp",
                        format!(
                            "the region ({} x {} px) does not fit the {w} x {h} px image; the region must be of the photo's size",
                            b.x1, b.y1
                        ),
                    ));
                }
                let m = (b.width().max(b.height()) as f32 * margin).round() as i64;
                let (mut x0, mut y0) = (b.x0 as i64 - m, b.y0 as i64 - m);
                let (mut x1, mut y1) = (b.x1 as i64 + m, b.y1 as i64 + m);
                let least = |long: i64| (long as f64 * MIN_SCALP_ASPECT).ceil() as i64;
                if y1 - y0 < least(x1 - x0) {
                    let grow = least(x1 - x0) - (y1 - y0);
                    y0 -= grow / 2;
                    y1 += grow - grow / 2;
                } else if x1 - x0 < least(y1 - y0) {
                    let grow = least(y1 - y0) - (x1 - x0);
                    x0 -= grow / 2;
                    x1 += grow - grow / 2;
                }
                // Clipping on one side moves the box rather than shrinking it.
                let shift = |a0: &mut i64, a1: &mut i64, size: i64| {
                    if *a0 < 0 {
                        *a1 -= *a0;
                        *a0 = 0;
                    }
                    if *a1 > size {
                        *a0 -= *a1 - size;
                        *a1 = size;
                    }
                    *a0 = (*a0).max(0);
                };
                shift(&mut x0, &mut x1, w as i64);
                shift(&mut y0, &mut y1, h as i64);
                Ok(Rect {
                    x0: x0 as u32,
                    y0: y0 as u32,
                    x1: x1 as u32,
                    y1: y1 as u32,
                })
            }
        }
    }

    /// Cuts the crop's rectangle from `img`.
    pub fn apply(&self, img: &RgbImage, region: Option<Rect>, what: &str) -> Result<RgbImage> {
        let r = self.rect(img.dimensions(), region, what)?;
        Ok(image::imageops::crop_imm(img, r.x0, r.y0, r.width(), r.height()).to_image())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_and_scalp() {
        let c = Crop::parse("10, 20, 30, 40").unwrap();
        let r = c.rect((100, 100), None, "a.png").unwrap();
        assert_eq!((r.x0, r.y0, r.x1, r.y1), (10, 20, 40, 60));
        let s = Crop::parse("scalp").unwrap();
        let b = Rect {
            x0: 40,
            y0: 10,
            x1: 60,
            y1: 20,
        };
        // 20 x 10 grows by 4 on each side to 28 x 18, then to 28 x 19 (2:3).
        let r = s.rect((100, 100), Some(b), "a.png").unwrap();
        assert_eq!((r.x0, r.y0, r.x1, r.y1), (36, 6, 64, 25));
        // At the photo's top edge the box moves down instead of shrinking.
        let top = Rect { y0: 0, y1: 10, ..b };
        let r = s.rect((100, 100), Some(top), "a.png").unwrap();
        assert_eq!((r.y0, r.y1), (0, 19));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = Crop::parse("1,2,3").unwrap_err().to_string();
        assert!(e.contains("four numbers"), "{e}");
        let e = Crop::parse("1,2,0,4").unwrap_err().to_string();
        assert!(e.contains("at least 1 px"), "{e}");
        let e = Crop::parse("0,0,200,10")
            .unwrap()
            .rect((100, 50), None, "a.png")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("a.png") && e.contains("right edge") && e.contains("100"),
            "{e}"
        );
        let e = Crop::parse("scalp")
            .unwrap()
            .rect((100, 50), None, "a.png")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--region"), "{e}");
    }
}
