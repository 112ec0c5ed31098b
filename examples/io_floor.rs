//! The I/O floor of `smp-render render`: what the same run costs with no
//! rendering at all. It decodes the photo and writes the same outputs
//! (`before.png`, one image per session, the labelled before/after sheet)
//! in parallel and atomically, with the same allocator; the session images
//! are the photo itself. Each file is encoded whole on one core by `png`'s
//! own encoder at the renderer's setting (fast, adaptive filters): the same
//! bytes the renderer's strip encoder makes, at `png`'s cost per core, a
//! little below the strips' (which pay for being split; the renderer gains
//! from it where a core would idle, and by reusing the photo's strips). A full render is
//! measured against this (see the README's performance section).
//!
//! ```text
//! cargo run --release --example io_floor -- PHOTO --out DIR [SESSIONS]
//! cargo run --release --example io_floor -- PHOTO [OUT_DIR [SESSIONS]]
//! ```
//!
//! `DIR` defaults to `smp-out/examples/io_floor`.

use std::path::PathBuf;
use std::process::ExitCode;

use rayon::prelude::*;
use smp_render::{load_photo, side_by_side, write_atomic};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "shared/out_arg.rs"]
mod out_arg;
use out_arg::out_arg;

fn main() -> ExitCode {
    let given = std::env::args().any(|a| a == "--out" || a == "-o" || a.starts_with("--out="));
    let (out_dir, mut args) = out_arg("smp-out/examples/io_floor");
    // Without --out, the folder may follow the photo (a lone number after
    // it is the sessions).
    let lone_number = args.len() == 2 && args[1].parse::<usize>().is_ok();
    let out_dir = if !given && args.len() > 1 && !lone_number {
        PathBuf::from(args.remove(1))
    } else {
        out_dir
    };
    let Some(photo_path) = args.first() else {
        eprintln!("usage: io_floor PHOTO [--out DIR | OUT_DIR] [SESSIONS]");
        return ExitCode::from(2);
    };
    let n: usize = match args.get(1).map(|s| s.parse()) {
        None => 3,
        Some(Ok(n)) if (1..=4).contains(&n) => n,
        Some(_) => {
            eprintln!("io_floor: SESSIONS must be 1-4");
            return ExitCode::from(2);
        }
    };
    match run(PathBuf::from(photo_path), out_dir, n) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("io_floor: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(photo_path: PathBuf, out_dir: PathBuf, n: usize) -> smp_render::Result<()> {
    let photo = load_photo(&photo_path)?;
    std::fs::create_dir_all(&out_dir).map_err(|e| smp_render::Error::io(&out_dir, e))?;
    let label = format!(
        "After: {n} session{} (simulated)",
        if n == 1 { "" } else { "s" }
    );
    // The sheet first, as the renderer does: it is the largest image.
    let mut jobs: Vec<(PathBuf, bool)> = vec![(out_dir.join("before-after.png"), true)];
    jobs.push((out_dir.join("before.png"), false));
    for k in 1..=n {
        jobs.push((out_dir.join(format!("session-{k}.png")), false));
    }
    jobs.par_iter()
        .with_max_len(1)
        .map(|(path, sheet)| {
            let bytes = if *sheet {
                encode(&side_by_side(&photo, "Before", &photo, &label), path)?
            } else {
                encode(&photo, path)?
            };
            write_atomic(path, &bytes)
        })
        .collect::<smp_render::Result<Vec<()>>>()?;
    Ok(())
}

/// `img` as PNG by `png`'s own encoder, fast compression, adaptive filters.
fn encode(img: &image::RgbImage, path: &std::path::Path) -> smp_render::Result<Vec<u8>> {
    let err = |e: png::EncodingError| smp_render::Error::Encode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut out = Vec::with_capacity(img.len() / 2);
    let mut enc = png::Encoder::new(&mut out, img.width(), img.height());
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    enc.set_filter(png::Filter::Adaptive);
    let mut w = enc.write_header().map_err(err)?;
    w.write_image_data(img.as_raw()).map_err(err)?;
    w.finish().map_err(err)?;
    Ok(out)
}
