//! A portfolio sheet through the library API: the shipped photo
//! `frl-london_021_03.jpg` rendered in memory, each picture cropped around
//! the treatment region, laid out as a session progression on a 1080 × 1350
//! portrait post with a studio name as watermark and the "Simulated
//! preview" footer, and written with the plan in its metadata.
//!
//! ```text
//! cargo run --release --example portfolio [-- --out DIR]   # writes DIR/portfolio.png
//! ```
//!
//! `DIR` defaults to `smp-out/examples/portfolio`, its own folder, so that
//! it never overwrites the README demo's outputs in `smp-out/`.

use std::path::Path;

use smp_render::{
    compose, encode_image_meta, load_photo, render_preview, write_atomic, Canvas, Crop, Format,
    ImageMeta, Layout, Panel, Plan, Provenance, Region, Scale, SheetOptions, Watermark,
    DEFAULT_QUALITY, DEFAULT_SCALP_MARGIN,
};

#[path = "shared/out_arg.rs"]
mod out_arg;
use out_arg::out_arg;

fn main() -> smp_render::Result<()> {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let out = out_arg("smp-out/examples/portfolio")
        .0
        .join("portfolio.png");

    let photo_path = assets.join("photos/frl-london_021_03.jpg");
    let photo = load_photo(&photo_path)?;
    let scale = Scale::new(3.27, "examples/portfolio.rs")?;
    let plan = Plan::default();
    let region = Region::load_mask(
        &assets.join("frl-london_021_03.region.png"),
        photo.dimensions(),
        scale.px(plan.feather),
    )?;
    let preview = render_preview(&photo, &region, &plan, scale);

    // Every picture cropped alike: the region's box and a margin.
    let crop = Crop::Scalp {
        margin: DEFAULT_SCALP_MARGIN,
    };
    let name = photo_path.display().to_string();
    let mut panels = vec![Panel::new(
        crop.apply(&photo, Some(region.bounds()), &name)?,
        "Before",
    )];
    for (k, session) in preview.sessions.iter().enumerate() {
        panels.push(Panel::new(
            crop.apply(session, Some(region.bounds()), &name)?,
            format!("Session {}", k + 1),
        ));
    }
    let sheet = compose(
        &panels,
        &SheetOptions {
            layout: Layout::Strip,
            canvas: Some(Canvas::parse("portrait")?),
            watermark: Some(Watermark::text("Studio Example")),
            ..Default::default()
        },
    )?;

    let mut fields = plan.to_plan_file();
    fields.photo = Some("frl-london_021_03.jpg".into());
    fields.region = Some("frl-london_021_03.region.png".into());
    fields.px_per_mm = Some(scale.px_per_mm());
    let meta = ImageMeta {
        provenance: Some(Provenance::new(
            "portfolio sheet: before and 3 sessions of scalp micropigmentation, rendered by smp-render",
            Some(plan.seed),
            toml::to_string(&fields).ok(),
        )),
        dpi: None,
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| smp_render::Error::io(dir, e))?;
    }
    write_atomic(
        &out,
        &encode_image_meta(&sheet, Format::Png, DEFAULT_QUALITY, &out, &meta)?,
    )?;
    println!(
        "wrote {} ({} x {} px)",
        out.display(),
        sheet.width(),
        sheet.height()
    );
    Ok(())
}
