//! One preview through the library API: the shipped photo
//! `frl-london_037_03.jpg` with its region and scale, three sessions at the
//! default plan, rendered in memory. The last session is written with the
//! "Simulated preview" notice and, in the file, the plan that renders it
//! again.
//!
//! ```text
//! cargo run --release --example preview [-- --out DIR]   # writes DIR/preview.png
//! ```
//!
//! `DIR` defaults to `smp-out/examples/preview`, its own folder, so that it
//! never overwrites the README demo's outputs in `smp-out/`.

use std::path::Path;

use smp_render::{
    encode_image_meta, load_photo, render_preview, simulated_mark, write_atomic, Format, ImageMeta,
    Plan, Provenance, Region, Scale, DEFAULT_QUALITY,
};

#[path = "shared/out_arg.rs"]
mod out_arg;
use out_arg::out_arg;

fn main() -> smp_render::Result<()> {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let out = out_arg("smp-out/examples/preview").0.join("preview.png");

    let photo = load_photo(&assets.join("photos/frl-london_037_03.jpg"))?;
    let scale = Scale::new(3.27, "examples/preview.rs")?;
    let plan = Plan {
        sessions: 3,
        ..Default::default()
    };
    let region = Region::load_mask(
        &assets.join("frl-london_037_03.region.png"),
        photo.dimensions(),
        scale.px(plan.feather),
    )?;
    let preview = render_preview(&photo, &region, &plan, scale);

    let mut after = preview.sessions.last().expect("three sessions").clone();
    simulated_mark(&mut after);
    // The plan that made it, as a plan file beside the photo and mask.
    let mut fields = plan.to_plan_file();
    fields.photo = Some("frl-london_037_03.jpg".into());
    fields.region = Some("frl-london_037_03.region.png".into());
    fields.px_per_mm = Some(scale.px_per_mm());
    let meta = ImageMeta {
        provenance: Some(Provenance::new(
            "scalp micropigmentation, session 3 of 3, rendered by smp-render, not photographed",
            Some(plan.seed),
            toml::to_string(&fields).ok(),
        )),
        dpi: None,
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| smp_render::Error::io(dir, e))?;
    }
    let bytes = encode_image_meta(&after, Format::Png, DEFAULT_QUALITY, &out, &meta)?;
    write_atomic(&out, &bytes)?;
    println!(
        "dots per session: {:?}, pigment blur {:.2} px; wrote {}",
        preview.dots_per_session(),
        preview.blur,
        out.display()
    );
    Ok(())
}
