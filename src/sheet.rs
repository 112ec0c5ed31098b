//! Sheets out: labelled before/after images.
//!
//! Labels use DejaVu Sans Bold (shipped in `assets/fonts/` with its licence,
//! compiled into the binary so a render never depends on the working
//! folder), drawn with `imageproc` on a darkened band so they stay legible
//! on any photo, and sized to the image so they read at phone size.

use std::sync::OnceLock;

use ab_glyph::{FontRef, PxScale};
use image::{Rgb, RgbImage};

static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

fn font() -> &'static FontRef<'static> {
    static F: OnceLock<FontRef<'static>> = OnceLock::new();
    F.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).expect("shipped font parses"))
}

/// Draws `text` in the top-left corner of `img` on a darkened band, with a
/// text height of about 1/28 of the image height (at least 14 px).
pub fn label(img: &mut RgbImage, text: &str) {
    let h = (img.height() as f32 / 28.0).max(14.0);
    let scale = PxScale::from(h);
    let (tw, th) = imageproc::drawing::text_size(scale, font(), text);
    let pad = (h * 0.4) as u32;
    let x1 = (tw + 3 * pad).min(img.width());
    let y1 = (th.max(h as u32) + 2 * pad).min(img.height());
    for y in 0..y1 {
        for x in 0..x1 {
            let p = img.get_pixel_mut(x, y);
            for c in p.0.iter_mut() {
                *c = (*c as f32 * 0.4) as u8;
            }
        }
    }
    imageproc::drawing::draw_text_mut(
        img,
        Rgb([255, 255, 255]),
        (pad + pad / 2) as i32,
        pad as i32,
        scale,
        font(),
        text,
    );
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
    let mut l = left.clone();
    label(&mut l, left_label);
    let mut r = right.clone();
    label(&mut r, right_label);
    image::imageops::replace(&mut out, &l, 0, 0);
    image::imageops::replace(&mut out, &r, (left.width() + gap) as i64, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
