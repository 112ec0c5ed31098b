//! Portfolio output: fixed canvas sizes for social posts, screens and print,
//! and a studio's name or logo as a watermark.

use std::path::Path;

use image::{imageops::FilterType, GrayImage, Luma, Rgb, RgbImage, RgbaImage};

use super::{blend_mask, legible_text_px, Face};
use crate::error::{Error, Result};

/// The named canvas sizes: name, width, height, print resolution (dpi) and
/// what the size is for.
pub const PRESETS: &[(&str, u32, u32, Option<u16>, &str)] = &[
    (
        "square",
        1080,
        1080,
        None,
        "square social post, 1080 × 1080",
    ),
    (
        "portrait",
        1080,
        1350,
        None,
        "portrait social post (4:5), 1080 × 1350",
    ),
    (
        "landscape",
        1920,
        1080,
        None,
        "screen or video, 16:9, 1920 × 1080",
    ),
    (
        "a4",
        2480,
        3508,
        Some(300),
        "A4 portrait at 300 dpi, 2480 × 3508",
    ),
    (
        "a4-landscape",
        3508,
        2480,
        Some(300),
        "A4 landscape at 300 dpi, 3508 × 2480",
    ),
];

/// Largest canvas side accepted, px.
pub const MAX_CANVAS_SIDE: u32 = 16_384;

/// A fixed output size: the sheet is fitted into it (scaled uniformly and
/// centred on the background), never stretched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canvas {
    /// Preset name or `WxH`, for file names.
    pub name: String,
    /// Width, px.
    pub width: u32,
    /// Height, px.
    pub height: u32,
    /// Print resolution written into the file, dots per inch. Default: none.
    pub dpi: Option<u16>,
}

impl Canvas {
    /// A preset by name (see [`PRESETS`]; its size such as `1080x1350`
    /// also names it) or any `WxH` size in px.
    pub fn parse(s: &str) -> Result<Canvas> {
        let key = s.trim().to_ascii_lowercase().replace('×', "x");
        if let Some((name, w, h, dpi, _)) = PRESETS
            .iter()
            .find(|(n, w, h, _, _)| *n == key || format!("{w}x{h}") == key)
        {
            return Ok(Canvas {
                name: name.to_string(),
                width: *w,
                height: *h,
                dpi: *dpi,
            });
        }
        let bad = || {
            let names: Vec<&str> = PRESETS.iter().map(|p| p.0).collect();
            Error::field(
                "command line",
                "preset",
                format!("{s:?}"),
                format!(
                    "must be one of {} or a size WxH (each side 64 to {MAX_CANVAS_SIDE} px)",
                    names.join(", ")
                ),
            )
        };
        let (w, h) = key.split_once('x').ok_or_else(bad)?;
        let (w, h): (u32, u32) = (
            w.trim().parse().map_err(|_| bad())?,
            h.trim().parse().map_err(|_| bad())?,
        );
        if !(64..=MAX_CANVAS_SIDE).contains(&w) || !(64..=MAX_CANVAS_SIDE).contains(&h) {
            return Err(bad());
        }
        Ok(Canvas {
            name: format!("{w}x{h}"),
            width: w,
            height: h,
            dpi: None,
        })
    }
}

/// Where a watermark sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WatermarkPosition {
    /// Top-left corner.
    TopLeft,
    /// Top-right corner.
    TopRight,
    /// Bottom-left corner.
    BottomLeft,
    /// Bottom-right corner. Default.
    #[default]
    BottomRight,
    /// The middle of the sheet.
    Center,
}

impl WatermarkPosition {
    /// Parses `top-left`, `top-right`, `bottom-left`, `bottom-right` or `center`.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "top-left" => WatermarkPosition::TopLeft,
            "top-right" => WatermarkPosition::TopRight,
            "bottom-left" => WatermarkPosition::BottomLeft,
            "bottom-right" => WatermarkPosition::BottomRight,
            "center" | "centre" => WatermarkPosition::Center,
            _ => {
                return Err(Error::field(
                    "command line",
                    "watermark_position",
                    format!("{s:?}"),
                    "must be top-left, top-right, bottom-left, bottom-right or center",
                ))
            }
        })
    }

    /// Whether the watermark is at the bottom left, where the notice goes.
    pub(crate) fn is_bottom_left(self) -> bool {
        self == WatermarkPosition::BottomLeft
    }

    /// Whether the watermark shares the bottom edge with the notice.
    pub(crate) fn is_bottom(self) -> bool {
        matches!(
            self,
            WatermarkPosition::BottomLeft | WatermarkPosition::BottomRight
        )
    }
}

/// What a watermark shows.
#[derive(Debug, Clone, PartialEq)]
pub enum WatermarkContent {
    /// A studio's name, in DejaVu Sans Bold, white with a soft dark outline.
    Text(String),
    /// A logo image; its alpha channel is honoured.
    Logo(RgbaImage),
}

/// A studio's name or logo laid over a sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Watermark {
    /// The name or the logo.
    pub content: WatermarkContent,
    /// Where it sits. Default: bottom right.
    pub position: WatermarkPosition,
    /// Opacity, 0 (invisible) to 1. Default: 0.7.
    pub opacity: f32,
    /// Width of a logo as a share of the sheet's shorter side. Default: 0.18.
    pub logo_share: f32,
}

/// Default [`Watermark::opacity`].
pub const DEFAULT_WATERMARK_OPACITY: f32 = 0.7;
/// Default [`Watermark::logo_share`].
pub const DEFAULT_LOGO_SHARE: f32 = 0.18;

impl Watermark {
    /// A studio name at the default position and opacity.
    pub fn text(name: &str) -> Self {
        Watermark {
            content: WatermarkContent::Text(name.to_string()),
            position: WatermarkPosition::default(),
            opacity: DEFAULT_WATERMARK_OPACITY,
            logo_share: DEFAULT_LOGO_SHARE,
        }
    }

    /// A logo image file (PNG with transparency works best) at the default
    /// position and opacity.
    pub fn logo(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let logo = crate::photo::decode_dynamic(&bytes, path)?.into_rgba8();
        Ok(Watermark {
            content: WatermarkContent::Logo(logo),
            position: WatermarkPosition::default(),
            opacity: DEFAULT_WATERMARK_OPACITY,
            logo_share: DEFAULT_LOGO_SHARE,
        })
    }

    /// Checks the opacity and the logo's size share.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.opacity) {
            return Err(Error::field(
                "command line",
                "watermark_opacity",
                self.opacity,
                "must be 0 to 1",
            ));
        }
        if !(0.02..=1.0).contains(&self.logo_share) {
            return Err(Error::field(
                "command line",
                "logo_size",
                self.logo_share,
                "must be 0.02 to 1 (a share of the sheet's shorter side)",
            ));
        }
        if let WatermarkContent::Text(t) = &self.content {
            if t.trim().is_empty() {
                return Err(Error::field(
                    "command line",
                    "watermark",
                    "\"\"",
                    "must not be empty",
                ));
            }
        }
        Ok(())
    }

    /// Text height of a name on a `w` × `h` sheet with `inset` margins.
    fn text_px(text: &str, w: u32, h: u32, inset: u32) -> f32 {
        let px = legible_text_px(w, h) * 1.15;
        let max_w = w.saturating_sub(2 * inset) as f32;
        let at_100 = super::text_width(text, 100.0, Face::Bold) as f32 / 100.0;
        px.min(max_w / at_100.max(1e-3)).max(8.0)
    }

    /// Size of a logo on a `w` × `h` sheet with `inset` margins.
    fn logo_size(&self, logo: &RgbaImage, w: u32, h: u32, inset: u32) -> (u32, u32) {
        let target_w = (w.min(h) as f32 * self.logo_share).round().max(1.0) as u32;
        let target_w = target_w.min(w.saturating_sub(2 * inset)).max(1);
        let target_h = ((logo.height() as f32 * target_w as f32 / logo.width() as f32).round()
            as u32)
            .clamp(1, h.max(1));
        (target_w, target_h)
    }

    /// Width and height the watermark covers on a `w` × `h` sheet.
    pub(crate) fn footprint(&self, w: u32, h: u32, inset: u32) -> (u32, u32) {
        match &self.content {
            WatermarkContent::Text(text) => {
                let px = Self::text_px(text, w, h, inset);
                (
                    super::text_width(text, px, Face::Bold) + 2,
                    px.ceil() as u32 + 2,
                )
            }
            WatermarkContent::Logo(logo) => self.logo_size(logo, w, h, inset),
        }
    }

    /// Lays the watermark over `img`, `inset` px from the edges.
    pub(crate) fn apply(&self, img: &mut RgbImage, inset: u32) {
        let (w, h) = img.dimensions();
        // What is laid down: colour and coverage per pixel.
        let paint: RgbaImage = match &self.content {
            WatermarkContent::Text(text) => {
                let px = Self::text_px(text, w, h, inset);
                let tw = super::text_width(text, px, Face::Bold) + 2;
                let mut m = GrayImage::new(tw, px.ceil() as u32 + 2);
                imageproc::drawing::draw_text_mut(
                    &mut m,
                    Luma([255]),
                    0,
                    0,
                    ab_glyph::PxScale::from(px),
                    Face::Bold.font(),
                    text,
                );
                // A soft dark outline so the name reads on light and dark photos.
                let shadow = crate::optics::blur_gray(
                    &imageproc::morphology::dilate(
                        &m,
                        imageproc::distance_transform::Norm::LInf,
                        (px / 14.0).ceil().max(1.0) as u8,
                    ),
                    (px / 16.0).max(0.6),
                );
                let (x, y) = self.origin(w, h, m.width(), m.height(), inset);
                blend_mask(img, &shadow, x, y, Rgb([0, 0, 0]), self.opacity * 0.55);
                RgbaImage::from_fn(m.width(), m.height(), |x, y| {
                    image::Rgba([255, 255, 255, m.get_pixel(x, y).0[0]])
                })
            }
            WatermarkContent::Logo(logo) => {
                let (tw, th) = self.logo_size(logo, w, h, inset);
                image::imageops::resize(logo, tw, th, FilterType::Lanczos3)
            }
        };
        let (x0, y0) = self.origin(w, h, paint.width(), paint.height(), inset);
        for (mx, my, c) in paint.enumerate_pixels() {
            let (x, y) = (x0 + mx as i32, y0 + my as i32);
            if c.0[3] == 0 || x < 0 || y < 0 || x >= w as i32 || y >= h as i32 {
                continue;
            }
            let a = c.0[3] as f32 / 255.0 * self.opacity;
            let p = img.get_pixel_mut(x as u32, y as u32);
            for k in 0..3 {
                p.0[k] = (p.0[k] as f32 * (1.0 - a) + c.0[k] as f32 * a).round() as u8;
            }
        }
    }

    fn origin(&self, w: u32, h: u32, mw: u32, mh: u32, inset: u32) -> (i32, i32) {
        let (w, h, mw, mh, inset) = (w as i32, h as i32, mw as i32, mh as i32, inset as i32);
        match self.position {
            WatermarkPosition::TopLeft => (inset, inset),
            WatermarkPosition::TopRight => (w - inset - mw, inset),
            WatermarkPosition::BottomLeft => (inset, h - inset - mh),
            WatermarkPosition::BottomRight => (w - inset - mw, h - inset - mh),
            WatermarkPosition::Center => ((w - mw) / 2, (h - mh) / 2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_sizes_parse() {
        let c = Canvas::parse("a4").unwrap();
        assert_eq!((c.width, c.height, c.dpi), (2480, 3508, Some(300)));
        assert_eq!(Canvas::parse("1080x1350").unwrap().name, "portrait");
        assert_eq!(Canvas::parse("800x600").unwrap().width, 800);
        let e = Canvas::parse("huge").unwrap_err().to_string();
        assert!(e.contains("square") && e.contains("WxH"), "{e}");
        assert!(Canvas::parse("10x10").is_err());
    }

    #[test]
    fn watermark_sits_in_its_corner_at_its_opacity() {
        let mut img = RgbImage::from_pixel(600, 400, Rgb([0, 0, 0]));
        let mut wm = Watermark::text("Studio");
        wm.position = WatermarkPosition::TopLeft;
        wm.opacity = 0.5;
        wm.apply(&mut img, 10);
        let max = img.pixels().map(|p| p.0[0]).max().unwrap();
        assert!((120..=130).contains(&max), "brightest {max}");
        assert!(img.get_pixel(590, 390).0 == [0; 3]);
        let lit: Vec<_> = img.enumerate_pixels().filter(|p| p.2 .0[0] > 0).collect();
        assert!(lit.iter().all(|(x, y, _)| *x < 300 && *y < 100));
    }
}
