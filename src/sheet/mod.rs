//! Sheets out: labelled before/after images, comparison layouts, portfolio
//! images and an interactive comparison page.
//!
//! * [`label`] and [`side_by_side`]: the labelled before/after sheet every
//!   render writes.
//! * [`compose`] (in `layout`): the comparison layouts (side by side, split
//!   view, strip, grid) at the panels' own resolution or fitted into a
//!   [`Canvas`] (the portfolio presets in `portfolio`), with captions,
//!   an optional [`Watermark`] and the "Simulated preview" notice.
//! * [`Crop`] (in `crop`): explicit crops, in pixels or around the region.
//! * [`comparison_page`] (in `html`): one self-contained HTML file with a
//!   before/after slider.
//! * [`run_sheet`] (in `job`): from image files or a render's options to
//!   files.
//!
//! Text uses DejaVu Sans (shipped in `assets/fonts/` with its licence,
//! compiled into the binary so a render never depends on the working
//! folder), rasterised with `ab_glyph` through `imageproc` and sized to the
//! output so it reads at phone size ([`legible_text_px`]). Pictures are only
//! ever scaled uniformly; anything cut away is cut by an explicit [`Crop`].

mod crop;
mod html;
mod job;
mod layout;
mod portfolio;

pub use crop::{Crop, DEFAULT_SCALP_MARGIN};
pub use html::{comparison_page, PageOptions};
pub use job::{parse_labelled_image, run_sheet, SheetJob, SheetReport, SheetSource, Variant};
pub use layout::{compose, Layout, Panel, SheetOptions, DEFAULT_BACKGROUND, SHEET_NOTICE};
pub use portfolio::{
    Canvas, Watermark, WatermarkContent, WatermarkPosition, DEFAULT_LOGO_SHARE,
    DEFAULT_WATERMARK_OPACITY, MAX_CANVAS_SIDE, PRESETS,
};

use std::sync::OnceLock;

use ab_glyph::{FontRef, PxScale};
use image::{GrayImage, Luma, Rgb, RgbImage};
use rayon::prelude::*;

use crate::region::Rect;
use crate::strips::{Layered, Piece};

static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
static FONT_REGULAR_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

fn font() -> &'static FontRef<'static> {
    static F: OnceLock<FontRef<'static>> = OnceLock::new();
    F.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).expect("shipped font parses"))
}

fn font_regular() -> &'static FontRef<'static> {
    static F: OnceLock<FontRef<'static>> = OnceLock::new();
    F.get_or_init(|| FontRef::try_from_slice(FONT_REGULAR_BYTES).expect("shipped font parses"))
}

/// The wording of the honesty notice on every rendered after-image.
pub const SIMULATED_NOTICE: &str = "Simulated preview";

/// Text height (ascender to descender, px) that reads at phone size on an
/// image of `width` × `height` px: 14 px (a 12 px font) once the image is
/// shown whole on a phone screen of 390 × 700 CSS px, and never under 14 px.
pub fn legible_text_px(width: u32, height: u32) -> f32 {
    let shrink = (width as f32 / 390.0).max(height as f32 / 700.0);
    (14.0 * shrink).max(14.0)
}

/// Which face of DejaVu Sans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Bold,
    Regular,
}

impl Face {
    fn font(self) -> &'static FontRef<'static> {
        match self {
            Face::Bold => font(),
            Face::Regular => font_regular(),
        }
    }
}

/// Width of `text` at a text height of `px`, px.
pub(crate) fn text_width(text: &str, px: f32, face: Face) -> u32 {
    imageproc::drawing::text_size(PxScale::from(px), face.font(), text).0
}

/// How to draw a line of text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pen {
    /// Text height, ascender to descender, px.
    pub px: f32,
    /// Colour.
    pub colour: Rgb<u8>,
    /// Opacity, 0-1.
    pub opacity: f32,
    /// Which face of DejaVu Sans.
    pub face: Face,
}

/// Draws `text` with the top of its line at (`x`, `y`), blending the glyph
/// coverage into the image.
pub(crate) fn draw_text(img: &mut RgbImage, x: i32, y: i32, text: &str, pen: Pen) {
    let w = text_width(text, pen.px, pen.face) + 2;
    let h = pen.px.ceil() as u32 + 2;
    let mut mask = GrayImage::new(w, h);
    imageproc::drawing::draw_text_mut(
        &mut mask,
        Luma([255]),
        0,
        0,
        PxScale::from(pen.px),
        pen.face.font(),
        text,
    );
    blend_mask(img, &mask, x, y, pen.colour, pen.opacity);
}

/// Blends `colour` into `img` through `mask` (255 = fully) placed at
/// (`x`, `y`), at `opacity`.
pub(crate) fn blend_mask(
    img: &mut RgbImage,
    mask: &GrayImage,
    x: i32,
    y: i32,
    colour: Rgb<u8>,
    opacity: f32,
) {
    for (mx, my, m) in mask.enumerate_pixels() {
        let (ix, iy) = (x + mx as i32, y + my as i32);
        if m.0[0] == 0 || ix < 0 || iy < 0 || ix >= img.width() as i32 || iy >= img.height() as i32
        {
            continue;
        }
        let a = m.0[0] as f32 / 255.0 * opacity;
        let p = img.get_pixel_mut(ix as u32, iy as u32);
        for c in 0..3 {
            p.0[c] = (p.0[c] as f32 * (1.0 - a) + colour.0[c] as f32 * a).round() as u8;
        }
    }
}

/// Darkens the rectangle `x0..x1` × `y0..y1` (clipped to the image) to
/// `keep` of its brightness: the band under a label.
pub(crate) fn darken(img: &mut RgbImage, x0: i32, y0: i32, x1: i32, y1: i32, keep: f32) {
    let (w, h) = (img.width() as i32, img.height() as i32);
    for y in y0.max(0)..y1.min(h) {
        for x in x0.max(0)..x1.min(w) {
            let p = img.get_pixel_mut(x as u32, y as u32);
            for c in p.0.iter_mut() {
                *c = (*c as f32 * keep).round() as u8;
            }
        }
    }
}

/// Draws the "Simulated preview" notice small in the bottom-right corner
/// of a rendered image, white on a darkened band, at a size that still
/// reads at phone size (about a 10 px font with the image shown whole on a
/// phone). Every rendered after-image carries it unless the user turns it
/// off explicitly.
pub fn simulated_mark(img: &mut RgbImage) {
    let (w, h) = img.dimensions();
    simulated_mark_part(img, (w, h), (0, 0));
}

/// The notice's size, inner padding and darkened band (x0, y0, x1, y1) on
/// an image of `w` × `h`.
fn mark_layout(w: u32, h: u32) -> (f32, i32, [i32; 4]) {
    let px = (legible_text_px(w, h) * 0.85).max(12.0);
    let px = px
        .min(w as f32 * 0.9 / (text_width(SIMULATED_NOTICE, 100.0, Face::Regular) as f32 / 100.0));
    let tw = text_width(SIMULATED_NOTICE, px, Face::Regular) as i32;
    let pad = (px * 0.35).round() as i32;
    let inset = (px * 0.5).round() as i32;
    let x1 = w as i32 - inset;
    let y1 = h as i32 - inset;
    let x0 = x1 - tw - 2 * pad;
    let y0 = y1 - px.ceil() as i32 - 2 * pad;
    (px, pad, [x0, y0, x1, y1])
}

/// The pixels [`simulated_mark`] may change on an image of `w` × `h`: the
/// darkened band and the text's mask, within the image (x0, y0, x1, y1).
pub(crate) fn simulated_mark_bounds(w: u32, h: u32) -> [u32; 4] {
    let (px, pad, [x0, y0, x1, y1]) = mark_layout(w, h);
    let mask_x1 = x0 + pad + text_width(SIMULATED_NOTICE, px, Face::Regular) as i32 + 2;
    let mask_y1 = y0 + pad + px.ceil() as i32 + 2;
    let clip = |v: i32, n: u32| v.clamp(0, n as i32) as u32;
    [
        clip(x0, w),
        clip(y0, h),
        clip(x1.max(mask_x1), w),
        clip(y1.max(mask_y1), h),
    ]
}

/// [`simulated_mark`] drawn on `part`, the pixels from `at` of an image of
/// `size`: the same pixels there as on the whole image.
pub(crate) fn simulated_mark_part(part: &mut RgbImage, size: (u32, u32), at: (u32, u32)) {
    let (px, pad, [x0, y0, x1, y1]) = mark_layout(size.0, size.1);
    let (ox, oy) = (at.0 as i32, at.1 as i32);
    darken(part, x0 - ox, y0 - oy, x1 - ox, y1 - oy, 0.45);
    draw_text(
        part,
        x0 + pad - ox,
        y0 + pad - oy,
        SIMULATED_NOTICE,
        Pen {
            px,
            colour: Rgb([255, 255, 255]),
            opacity: 0.95,
            face: Face::Regular,
        },
    );
}

/// Draws `text` in the top-left corner of `img` on a darkened band, with a
/// text height of about 1/28 of the image height (at least 14 px).
pub fn label(img: &mut RgbImage, text: &str) {
    let (w, h) = img.dimensions();
    label_at(img, 0, w, h, text);
}

/// Where [`label_at`] draws on a sub-image of `width` × `height` px: the
/// text's scale, the padding, and the darkened box's width and height.
fn label_layout(width: u32, height: u32, text: &str) -> (PxScale, u32, u32, u32) {
    let h = (height as f32 / 28.0).max(14.0);
    let scale = PxScale::from(h);
    let (tw, th) = imageproc::drawing::text_size(scale, font(), text);
    let pad = (h * 0.4) as u32;
    let x1 = (tw + 3 * pad).min(width);
    let y1 = (th.max(h as u32) + 2 * pad).min(height);
    (scale, pad, x1, y1)
}

/// The rows from the top that [`label_at`] may change on a sub-image of
/// `width` × `height` px: the darkened box's, and the text's below it
/// where the box is cut short (with room to spare).
fn label_rows(width: u32, height: u32, text: &str) -> u32 {
    let (scale, pad, _, y1) = label_layout(width, height, text);
    let (_, th) = imageproc::drawing::text_size(scale, font(), text);
    y1.max(2 * pad + th + scale.y.ceil() as u32).min(height)
}

/// [`label`] for the sub-image of `width` × `height` px whose left edge is
/// at column `x0` of `img`.
fn label_at(img: &mut RgbImage, x0: u32, width: u32, height: u32, text: &str) {
    let (scale, pad, x1, y1) = label_layout(width, height, text);
    for y in 0..y1 {
        for x in x0..x0 + x1 {
            let p = img.get_pixel_mut(x, y);
            for c in p.0.iter_mut() {
                *c = (*c as f32 * 0.4) as u8;
            }
        }
    }
    imageproc::drawing::draw_text_mut(
        img,
        Rgb([255, 255, 255]),
        (x0 + pad + pad / 2) as i32,
        pad as i32,
        scale,
        font(),
        text,
    );
}

/// [`side_by_side`] as rows ([`Layered`]): `left` and `right` (images
/// made of pieces) placed side by side, and the labels drawn on a copy of
/// the few rows at the top they lie on. The same pixels as
/// [`side_by_side`] of the two made whole, without making anything whole.
pub(crate) fn side_by_side_layered<'a>(
    left: Layered<'a>,
    left_label: &str,
    right: Layered<'a>,
    right_label: &str,
) -> Layered<'a> {
    let ((lw, lh), (rw, rh)) = (left.dimensions(), right.dimensions());
    let gap = (lw / 200).max(2);
    let (w, h) = (lw + gap + rw, lh.max(rh));
    let mut pieces = left.into_pieces();
    pieces.extend(right.into_pieces().into_iter().map(|p| Piece {
        at: (p.at.0 + lw + gap, p.at.1),
        ..p
    }));
    let mut sheet = Layered::new(w, h, pieces);
    let rows = label_rows(lw, lh, left_label).max(label_rows(rw, rh, right_label));
    let mut top = sheet.part(Rect {
        x0: 0,
        y0: 0,
        x1: w,
        y1: rows,
    });
    label_at(&mut top, 0, lw, lh, left_label);
    label_at(&mut top, lw + gap, rw, rh, right_label);
    sheet.push(Piece::owned(top, (0, 0)));
    sheet
}

/// Two images side by side (each keeps its size and aspect ratio; the
/// shorter is padded with black at the bottom), each labelled.
pub fn side_by_side(
    left: &RgbImage,
    left_label: &str,
    right: &RgbImage,
    right_label: &str,
) -> RgbImage {
    let gap = (left.width() / 200).max(2);
    let w = left.width() + gap + right.width();
    let h = left.height().max(right.height());
    let mut out = RgbImage::new(w, h);
    let (lw, rw) = (left.width() as usize * 3, right.width() as usize * 3);
    let r0 = lw + gap as usize * 3;
    out.as_mut()
        .par_chunks_mut(w as usize * 3)
        .enumerate()
        .for_each(|(y, row)| {
            if let Some(src) = left.as_raw().get(y * lw..(y + 1) * lw) {
                row[..lw].copy_from_slice(src);
            }
            if let Some(src) = right.as_raw().get(y * rw..(y + 1) * rw) {
                row[r0..r0 + rw].copy_from_slice(src);
            }
        });
    label_at(&mut out, 0, left.width(), left.height(), left_label);
    label_at(
        &mut out,
        left.width() + gap,
        right.width(),
        right.height(),
        right_label,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sheet made as rows (its halves made of pieces, the labels on a
    /// copy of the top rows) is the sheet made whole, from thumbnails
    /// (where a label is cut by the half's edge) to 12 MP halves, with
    /// halves of different heights and labels of different lengths.
    #[test]
    fn the_sheet_as_rows_is_the_sheet_made_whole() {
        let texture = |w: u32, h: u32, k: u32| {
            RgbImage::from_fn(w, h, |x, y| {
                Rgb([
                    (x * 7 % 251) as u8,
                    ((y * 5 + k) % 241) as u8,
                    ((x + y + k) % 200) as u8,
                ])
            })
        };
        let cases = [
            ((12, 9), (12, 9)),
            ((60, 20), (40, 30)),
            ((300, 200), (300, 260)),
            ((1350, 1350), (1350, 1350)),
            ((2422, 1946), (2422, 1946)),
        ];
        for ((lw, lh), (rw, rh)) in cases {
            let photo = texture(lw.max(rw) + 20, lh.max(rh) + 10, 0);
            let patch = texture(rw / 2 + 1, rh / 3 + 1, 99);
            let frame = |w: u32, h: u32| Rect {
                x0: 10,
                y0: 5,
                x1: 10 + w,
                y1: 5 + h,
            };
            let left = Layered::view(&photo, frame(lw, lh));
            let mut right = Layered::view(&photo, frame(rw, rh));
            right.push(Piece::whole(&patch, (rw / 4, rh / 3)));
            for (a, b) in [
                ("Before", "After: 3 sessions (simulated)"),
                ("A long label on the left", "B"),
            ] {
                let whole = side_by_side(&left.to_image(), a, &right.to_image(), b);
                let rows = side_by_side_layered(left.clone(), a, right.clone(), b);
                assert_eq!(rows.dimensions(), whole.dimensions());
                assert!(
                    rows.to_image() == whole,
                    "{lw}x{lh} | {rw}x{rh}, {a:?} {b:?}"
                );
            }
        }
    }

    /// The notice drawn on the part of an image its bounds give, pasted
    /// back, is the notice drawn on the whole image; nothing outside the
    /// bounds changes. Sizes from a thumbnail (where the text is cut by
    /// the image's edge) to 12 MP, on texture so every blend shows.
    #[test]
    fn the_notice_on_its_part_is_the_notice_on_the_whole() {
        for &(w, h) in &[(40, 30), (130, 90), (640, 480), (1350, 1350), (4000, 3000)] {
            let img = RgbImage::from_fn(w, h, |x, y| {
                Rgb([
                    (x * 7 % 251) as u8,
                    (y * 5 % 241) as u8,
                    ((x + y) % 200) as u8,
                ])
            });
            let mut whole = img.clone();
            simulated_mark(&mut whole);
            let [x0, y0, x1, y1] = simulated_mark_bounds(w, h);
            assert!(
                x0 < x1 && y0 < y1 && x1 <= w && y1 <= h,
                "{w}x{h}: {x0},{y0} {x1},{y1}"
            );
            let mut part = image::imageops::crop_imm(&img, x0, y0, x1 - x0, y1 - y0).to_image();
            simulated_mark_part(&mut part, (w, h), (x0, y0));
            let mut pasted = img.clone();
            image::imageops::replace(&mut pasted, &part, x0 as i64, y0 as i64);
            assert!(pasted == whole, "{w}x{h}");
            let outside = whole
                .enumerate_pixels()
                .filter(|&(x, y, p)| {
                    (x < x0 || y < y0 || x >= x1 || y >= y1) && p != img.get_pixel(x, y)
                })
                .count();
            assert_eq!(outside, 0, "{w}x{h}");
        }
    }

    #[test]
    fn simulated_mark_is_small_and_in_the_bottom_right() {
        let mut img = RgbImage::from_pixel(1350, 1350, Rgb([128, 128, 128]));
        simulated_mark(&mut img);
        let changed: Vec<(u32, u32)> = img
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0 != [128; 3])
            .map(|(x, y, _)| (x, y))
            .collect();
        let x0 = changed.iter().map(|p| p.0).min().unwrap();
        let y0 = changed.iter().map(|p| p.1).min().unwrap();
        assert!(x0 > 800 && y0 > 1250, "mark starts at {x0}, {y0}");
        assert!(img.pixels().filter(|p| p.0[0] > 220).count() > 300);
    }

    #[test]
    fn legible_size_follows_the_output() {
        assert_eq!(legible_text_px(100, 100), 14.0);
        let a = legible_text_px(1080, 1080);
        let b = legible_text_px(2160, 2160);
        assert!((b / a - 2.0).abs() < 1e-4 && a > 35.0, "{a} {b}");
    }

    #[test]
    fn label_draws_legible_text() {
        let mut img = RgbImage::from_pixel(400, 300, Rgb([128, 128, 128]));
        label(&mut img, "Before");
        let white = img.pixels().filter(|p| p.0[0] > 220).count();
        let dark = img.pixels().filter(|p| p.0[0] < 60).count();
        assert!(white > 50, "text pixels: {white}");
        assert!(dark > 500, "band pixels: {dark}");
        assert_eq!(img.get_pixel(399, 299).0, [128; 3]);
    }

    #[test]
    fn side_by_side_keeps_sizes() {
        let a = RgbImage::new(100, 80);
        let b = RgbImage::new(60, 120);
        let s = side_by_side(&a, "a", &b, "b");
        assert_eq!((s.width(), s.height()), (100 + 2 + 60, 120));
    }

    #[test]
    fn side_by_side_copies_both_and_labels_each() {
        let a = RgbImage::from_pixel(300, 200, Rgb([100, 0, 0]));
        let b = RgbImage::from_pixel(300, 200, Rgb([0, 100, 0]));
        let s = side_by_side(&a, "Before", &b, "After");
        // Away from the labels, each half is its image; the gap is black.
        assert_eq!(s.get_pixel(150, 150).0, [100, 0, 0]);
        assert_eq!(s.get_pixel(301, 150).0, [0; 3]);
        assert_eq!(s.get_pixel(303 + 150, 150).0, [0, 100, 0]);
        // Each half carries its own darkened label band at its top left.
        assert!(s.get_pixel(2, 2).0[0] < 100);
        assert!(s.get_pixel(303 + 2, 2).0[1] < 100);
        assert_eq!(s.get_pixel(299, 2).0, [100, 0, 0]);
    }
}
