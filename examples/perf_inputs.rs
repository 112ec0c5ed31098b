//! Makes the inputs of the README's growth table and of issue #17's
//! figures (`benches/perf_table.sh` runs them): `frl-london_037_03.jpg`
//! enlarged to 4000 × 4000 (Lanczos) and cut to its 4000 × 3000 rows from
//! row 300, then scaled to each requested size in megapixels (4:3), as a
//! JPEG of quality 92, `photo-<MP>mp.jpg`. For each it prints one line,
//! `<MP> <path> <px/mm> <polygon>`: the polygon is 2600 × 1400 px at
//! 12 MP (a hexagon over the top of the head, its sides on the plain
//! backdrop), scaled with the photo, and the scale is 15 px/mm at 12 MP,
//! scaled with it, so every size shows the same head with the same dots.
//!
//! ```text
//! cargo run --release --example perf_inputs -- OUT_DIR [MP ...]   # default: 12
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use image::imageops::FilterType;
use smp_render::{encode_image, load_photo, write_atomic, Format};

/// The 12 MP frame the polygon and the scale are given for, px.
const BASE: (u32, u32) = (4000, 3000);
/// The scale at 12 MP, px/mm (the issue's).
const BASE_PX_PER_MM: f32 = 15.0;
/// The treatment polygon at 12 MP: 2600 × 1400 px over the top of the
/// head, its left and right thirds on the backdrop.
const POLYGON: [(f32, f32); 6] = [
    (700.0, 900.0),
    (1300.0, 200.0),
    (2700.0, 200.0),
    (3300.0, 900.0),
    (2700.0, 1600.0),
    (1300.0, 1600.0),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first().map(PathBuf::from) else {
        eprintln!("usage: perf_inputs OUT_DIR [MP ...]");
        return ExitCode::from(2);
    };
    let mut sizes: Vec<f32> = Vec::new();
    for a in &args[1..] {
        match a.parse::<f32>() {
            Ok(mp) if (0.1..=200.0).contains(&mp) => sizes.push(mp),
            _ => {
                eprintln!("perf_inputs: MP must be a number of megapixels, 0.1 to 200");
                return ExitCode::from(2);
            }
        }
    }
    if sizes.is_empty() {
        sizes.push(12.0);
    }
    match run(&out, &sizes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("perf_inputs: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(out: &Path, sizes: &[f32]) -> smp_render::Result<()> {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let photo = load_photo(&assets.join("photos/frl-london_037_03.jpg"))?;
    let big = image::imageops::resize(&photo, BASE.0, BASE.0, FilterType::Lanczos3);
    let base = image::imageops::crop_imm(&big, 0, 300, BASE.0, BASE.1).to_image();
    drop(big);
    std::fs::create_dir_all(out).map_err(|e| smp_render::Error::io(out, e))?;
    for &mp in sizes {
        let f = (mp * 1e6 / (BASE.0 * BASE.1) as f32).sqrt();
        let (w, h) = (
            (BASE.0 as f32 * f).round() as u32,
            (BASE.1 as f32 * f).round() as u32,
        );
        let img = if (w, h) == BASE {
            base.clone()
        } else {
            image::imageops::resize(&base, w, h, FilterType::Lanczos3)
        };
        let name = if mp.fract() == 0.0 {
            format!("photo-{mp:.0}mp.jpg")
        } else {
            format!("photo-{mp}mp.jpg")
        };
        let path = out.join(name);
        write_atomic(&path, &encode_image(&img, Format::Jpeg, 92, &path)?)?;
        let polygon: Vec<String> = POLYGON
            .iter()
            .map(|&(x, y)| format!("{:.0},{:.0}", x * f, y * f))
            .collect();
        println!(
            "{mp} {} {:.3} {}",
            path.display(),
            BASE_PX_PER_MM * f,
            polygon.join(" ")
        );
    }
    Ok(())
}
