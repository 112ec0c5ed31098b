//! Makes the 12-megapixel test inputs of the README's whole-process figures
//! from shipped photos, each a JPEG of quality 92 with a region mask:
//!
//! * `photo-12mp.jpg`, `region-12mp.png`: `frl-london_037_03.jpg` and its
//!   shipped region, enlarged to 3464 × 3464 (Lanczos); a small region
//!   (0.9 % of the frame). Its scale is printed.
//! * `photo-wide.jpg`, `region-wide.png`: `frl-london_021_03.jpg` enlarged
//!   to 4000 × 4000 and cropped to its middle 4000 × 3000 rows from row 300,
//!   soft from the enlargement, with an ellipse over the whole top of the
//!   head (7 % of the frame); rendered at 10 px/mm.
//!
//! ```text
//! cargo run --release --example bench_photo [-- --out DIR | DIR]   # default: smp-out/examples/bench_photo
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use image::imageops::FilterType;
use smp_render::{encode_image, load_photo, write_atomic, Format};

/// Side of the enlarged square photo, px (3464² ≈ 12.0 MP).
const SIDE: u32 = 3464;

#[path = "shared/out_arg.rs"]
mod out_arg;
use out_arg::out_arg;

fn main() -> ExitCode {
    let (out, rest) = out_arg("smp-out/examples/bench_photo");
    let out = match &rest[..] {
        [] => out,
        [dir] => PathBuf::from(dir),
        _ => {
            eprintln!("usage: bench_photo [--out DIR | DIR]");
            return ExitCode::from(2);
        }
    };
    match run(&out) {
        Ok(px_per_mm) => {
            println!(
                "wrote {0}/photo-12mp.jpg and {0}/region-12mp.png (scale {px_per_mm:.2} px/mm), \
                 {0}/photo-wide.jpg and {0}/region-wide.png (scale 10 px/mm)",
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_photo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Writes a grey mask as PNG to `path`.
fn write_mask(mask: image::GrayImage, path: &Path) -> smp_render::Result<()> {
    let mut bytes = Vec::new();
    image::DynamicImage::ImageLuma8(mask)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .map_err(|e| smp_render::Error::Encode {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    write_atomic(path, &bytes)
}

/// The large-region case: a 4000 × 3000 crop of an enlarged photo and an
/// ellipse over the top of the head.
fn wide(assets: &Path, out: &Path) -> smp_render::Result<()> {
    let photo = load_photo(&assets.join("photos/frl-london_021_03.jpg"))?;
    let big = image::imageops::resize(&photo, 4000, 4000, FilterType::Lanczos3);
    let crop = image::imageops::crop_imm(&big, 0, 300, 4000, 3000).to_image();
    let jpg = out.join("photo-wide.jpg");
    write_atomic(&jpg, &encode_image(&crop, Format::Jpeg, 92, &jpg)?)?;
    let (cx, cy, a, b) = (2000.0f32, 829.0f32, 682.0f32, 385.0f32);
    let mask = image::GrayImage::from_fn(4000, 3000, |x, y| {
        let (u, v) = ((x as f32 + 0.5 - cx) / a, (y as f32 + 0.5 - cy) / b);
        image::Luma([if u * u + v * v <= 1.0 { 255 } else { 0 }])
    });
    write_mask(mask, &out.join("region-wide.png"))
}

fn run(out: &Path) -> smp_render::Result<f32> {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let photo = load_photo(&assets.join("photos/frl-london_037_03.jpg"))?;
    let mask_path = assets.join("frl-london_037_03.region.png");
    let mask = smp_render::Region::read_mask(&mask_path)?;
    let big = image::imageops::resize(&photo, SIDE, SIDE, FilterType::Lanczos3);
    let big_mask = image::imageops::resize(&mask, SIDE, SIDE, FilterType::Triangle);
    std::fs::create_dir_all(out).map_err(|e| smp_render::Error::io(out, e))?;
    let jpg = out.join("photo-12mp.jpg");
    write_atomic(&jpg, &encode_image(&big, Format::Jpeg, 92, &jpg)?)?;
    write_mask(big_mask, &out.join("region-12mp.png"))?;
    wide(&assets, out)?;
    // The shipped plan's scale, enlarged with the photo.
    Ok(3.27 * SIDE as f32 / photo.width() as f32)
}
