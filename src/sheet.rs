//! Sheets out: labelled before/after images.
//!
//! Labels use DejaVu Sans Bold (shipped in `assets/fonts/` with its licence,
//! compiled into the binary so a render never depends on the working
//! folder), drawn with `imageproc` on a darkened band so they stay legible
//! on any photo, and sized to the image so they read at phone size.

use std::sync::OnceLock;

use ab_glyph::{FontRef, PxScale};
use image::{Rgb, RgbImage};
use rayon::prelude::*;

static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

fn font() -> &'static FontRef<'static> {
    static F: OnceLock<FontRef<'static>> = OnceLock::new();
    F.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).expect("shipped font parses"))
}

/// Draws `text` in the top-left corner of `img` on a darkened band, with a
/// text height of about 1/28 of the image height (at least 14 px).
pub fn label(img: &mut RgbImage, text: &str) {
    let (w, h) = img.dimensions();
    label_at(img, 0, w, h, text);
}

/// [`label`] for the sub-image of `width` × `height` px whose left edge is
/// at column `x0` of `img`.
fn label_at(img: &mut RgbImage, x0: u32, width: u32, height: u32, text: &str) {
    let h = (height as f32 / 28.0).max(14.0);
    let scale = PxScale::from(h);
    let (tw, th) = imageproc::drawing::text_size(scale, font(), text);
    let pad = (h * 0.4) as u32;
    let x1 = (tw + 3 * pad).min(width);
    let y1 = (th.max(h as u32) + 2 * pad).min(height);
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
