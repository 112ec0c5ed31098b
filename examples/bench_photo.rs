//! Makes the 12-megapixel test input of the README's whole-process figures
//! from a shipped photo: `frl-london_037_03.jpg` and its region mask,
//! enlarged to 3464 × 3464 (Lanczos), the photo as a JPEG of quality 92.
//! Prints the scale to pass to `smp-render render`.
//!
//! ```text
//! cargo run --release --example bench_photo -- OUT_DIR
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use image::imageops::FilterType;
use smp_render::{encode_image, load_photo, write_atomic, Format};

/// Side of the enlarged square photo, px (3464² ≈ 12.0 MP).
const SIDE: u32 = 3464;

fn main() -> ExitCode {
    let Some(out) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: bench_photo OUT_DIR");
        return ExitCode::from(2);
    };
    match run(&out) {
        Ok(px_per_mm) => {
            println!(
                "wrote {0}/photo-12mp.jpg and {0}/region-12mp.png; scale {px_per_mm:.2} px/mm",
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
    let png = out.join("region-12mp.png");
    let mut bytes = Vec::new();
    image::DynamicImage::ImageLuma8(big_mask)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .map_err(|e| smp_render::Error::Encode {
            path: png.clone(),
            reason: e.to_string(),
        })?;
    write_atomic(&png, &bytes)?;
    // The shipped plan's scale, enlarged with the photo.
    Ok(3.27 * SIDE as f32 / photo.width() as f32)
}
