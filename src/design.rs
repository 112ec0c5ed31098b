//! Showing a design before rendering it: an overlay of the region, the
//! hairline, its control points, the scars and a millimetre scale bar on
//! the photo, and the design saved as a plan file to render or reuse.

use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_circle_mut, draw_hollow_circle_mut, draw_line_segment_mut};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::hairline::Hairline;
use crate::head::Clipped;
use crate::photo::{encode_image_meta, load_photo, write_atomic};
use crate::plan::Format;
use crate::provenance::{ImageMeta, Provenance};
use crate::region::Region;
use crate::render::{prepare_region, same_file, RenderJob};
use crate::sheet::{darken, draw_text, legible_text_px, text_width, Face, Pen};
use crate::units::{Mm, Scale};

/// Tint of the region to be pigmented, at full weight.
pub const REGION_TINT: [u8; 3] = [0, 190, 255];
/// Tint of what clipping to the head or keeping the hair takes out.
pub const CLIPPED_TINT: [u8; 3] = [255, 60, 40];
/// Colour of the hairline curve and its control points.
pub const HAIRLINE_COLOUR: [u8; 3] = [255, 220, 0];
/// Colour of the scar regions.
pub const SCAR_COLOUR: [u8; 3] = [255, 0, 200];

/// What a design overlay showed.
#[derive(Debug, Clone)]
pub struct DesignReport {
    /// The overlay image written.
    pub output: PathBuf,
    /// The plan file written, if asked for.
    pub plan: Option<PathBuf>,
    /// The region's area at full weight (sum of weights), cm².
    pub area_cm2: f64,
    /// What clipping the region to the head took out.
    pub clipped: Clipped,
    /// Pixels of the client's own hair left out of the region.
    pub hair_pixels: usize,
    /// The hairline laid out, for a hairline design.
    pub hairline: Option<Hairline>,
    /// What the region's design found for itself, to tell the user.
    pub region_note: Option<String>,
}

/// Draws the design over `photo`: the `region` to be pigmented as a tint by
/// its weight, what of the region as `drawn` was taken out (by clipping or
/// hair) in red, the hairline (its curve, the end of its transition dashed,
/// its control points numbered), the `landmarks` it was placed from (a
/// cross and a name), the `scar` outlined and a scale bar.
pub fn overlay(
    photo: &RgbImage,
    drawn: &Region,
    region: &Region,
    hairline: Option<&Hairline>,
    landmarks: &[(String, [f32; 2])],
    scar: Option<&Region>,
    scale: Scale,
) -> RgbImage {
    let mut img = photo.clone();
    let (w, _) = img.dimensions();
    let b = drawn.bounds();
    img.par_chunks_mut(3 * w as usize)
        .enumerate()
        .for_each(|(y, row)| {
            if (y as u32) < b.y0 || y as u32 >= b.y1 {
                return;
            }
            let yc = y as f32 + 0.5;
            for x in b.x0..b.x1 {
                let xc = x as f32 + 0.5;
                let (wd, wr) = (drawn.weight_at(xc, yc), region.weight_at(xc, yc));
                let p = &mut row[3 * x as usize..3 * x as usize + 3];
                let (tint, a) = if wr > 0.0 {
                    (REGION_TINT, 0.15 + 0.4 * wr)
                } else if wd > 0.0 {
                    (CLIPPED_TINT, 0.35 * wd.max(0.5))
                } else {
                    continue;
                };
                for c in 0..3 {
                    p[c] = (p[c] as f32 * (1.0 - a) + tint[c] as f32 * a).round() as u8;
                }
            }
        });
    if let Some(s) = scar {
        outline_region(&mut img, s, Rgb(SCAR_COLOUR));
    }
    let line = (w as f32 / 700.0).max(1.0);
    if let Some(h) = hairline {
        let ppm = scale.px_per_mm();
        let curve = h.polyline();
        for seg in curve.windows(2) {
            thick_line(&mut img, seg[0], seg[1], line, Rgb(HAIRLINE_COLOUR));
        }
        // Where the transition ends: dashed, the taper's depth behind.
        let back = h.params.transition_mm * ppm;
        for (i, seg) in curve.windows(2).enumerate() {
            if i % 4 < 2 {
                let a = [seg[0][0], seg[0][1] - back];
                let c = [seg[1][0], seg[1][1] - back];
                thick_line(&mut img, a, c, line * 0.6, Rgb(HAIRLINE_COLOUR));
            }
        }
        let r = (4.0 * line).round() as i32;
        let px = legible_text_px(w, img.height()) * 0.8;
        for (i, p) in h.design.points.iter().enumerate() {
            let c = (p[0].round() as i32, p[1].round() as i32);
            draw_filled_circle_mut(&mut img, c, r, Rgb([0, 0, 0]));
            draw_hollow_circle_mut(&mut img, c, r, Rgb(HAIRLINE_COLOUR));
            let name = match i {
                0 => "L".to_string(),
                1 => "M".to_string(),
                2 => "R".to_string(),
                k => (k - 2).to_string(),
            };
            draw_text(
                &mut img,
                c.0 + r + 2,
                c.1 + r,
                &name,
                Pen {
                    px,
                    colour: Rgb(HAIRLINE_COLOUR),
                    opacity: 1.0,
                    face: Face::Bold,
                },
            );
        }
    }
    // Landmarks the design was placed from: a cross and the name.
    let px = legible_text_px(w, img.height()) * 0.8;
    let arm = 6.0 * line;
    for (name, p) in landmarks {
        thick_line(
            &mut img,
            [p[0] - arm, p[1]],
            [p[0] + arm, p[1]],
            line,
            Rgb(HAIRLINE_COLOUR),
        );
        thick_line(
            &mut img,
            [p[0], p[1] - arm],
            [p[0], p[1] + arm],
            line,
            Rgb(HAIRLINE_COLOUR),
        );
        draw_text(
            &mut img,
            (p[0] + arm + 2.0) as i32,
            (p[1] - px / 2.0) as i32,
            name,
            Pen {
                px,
                colour: Rgb(HAIRLINE_COLOUR),
                opacity: 1.0,
                face: Face::Bold,
            },
        );
    }
    scale_bar(&mut img, scale);
    img
}

/// A line `width` px wide from `a` to `b`.
fn thick_line(img: &mut RgbImage, a: [f32; 2], b: [f32; 2], width: f32, colour: Rgb<u8>) {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len = dx.hypot(dy).max(1e-6);
    let (nx, ny) = (-dy / len, dx / len);
    let n = width.round().max(1.0) as i32;
    for k in 0..n {
        let o = k as f32 - (n - 1) as f32 / 2.0;
        draw_line_segment_mut(
            img,
            (a[0] + nx * o, a[1] + ny * o),
            (b[0] + nx * o, b[1] + ny * o),
            colour,
        );
    }
}

/// Marks the pixels on the edge of `region` (weight ≥ 0.5 beside < 0.5).
fn outline_region(img: &mut RgbImage, region: &Region, colour: Rgb<u8>) {
    let b = region.bounds();
    let inside = |x: i64, y: i64| region.weight_at(x as f32 + 0.5, y as f32 + 0.5) >= 0.5;
    for y in b.y0 as i64..b.y1 as i64 {
        for x in b.x0 as i64..b.x1 as i64 {
            if inside(x, y)
                && !(inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1))
            {
                img.put_pixel(x as u32, y as u32, colour);
            }
        }
    }
}

/// A bar of a round number of mm (5, 10, 20 or 50) at least a tenth of the
/// image wide, bottom left, labelled, on a darkened band.
fn scale_bar(img: &mut RgbImage, scale: Scale) {
    let (w, h) = img.dimensions();
    let mm = [5.0, 10.0, 20.0, 50.0, 100.0]
        .into_iter()
        .find(|&mm| scale.px(Mm(mm)) >= w as f32 / 10.0)
        .unwrap_or(100.0);
    let len = scale.px(Mm(mm)).round() as i32;
    let px = legible_text_px(w, h) * 0.8;
    let label = format!("{mm:.0} mm");
    let pad = (px * 0.5) as i32;
    let thick = (px * 0.3).max(3.0) as i32;
    let x0 = pad * 2;
    let y1 = h as i32 - pad * 2;
    let box_w = len.max(text_width(&label, px, Face::Bold) as i32) + 2 * pad;
    let box_h = px.ceil() as i32 + thick + 3 * pad;
    darken(img, x0, y1 - box_h, x0 + box_w, y1, 0.35);
    for t in 0..thick {
        let y = (y1 - pad - t) as f32;
        draw_line_segment_mut(
            img,
            ((x0 + pad) as f32, y),
            ((x0 + pad + len) as f32, y),
            Rgb([255, 255, 255]),
        );
    }
    draw_text(
        img,
        x0 + pad,
        y1 - box_h + pad,
        &label,
        Pen {
            px,
            colour: Rgb([255, 255, 255]),
            opacity: 1.0,
            face: Face::Bold,
        },
    );
}

/// Writes the design overlay of `job` to `out` (PNG or JPEG by its
/// extension), and its plan file to `save_plan` if given. Neither may be
/// one of the job's inputs; both are written atomically.
pub fn run_design(job: &RenderJob, out: &Path, save_plan: Option<&Path>) -> Result<DesignReport> {
    for o in std::iter::once(out).chain(save_plan) {
        if job.inputs().iter().any(|i| same_file(o, i)) {
            return Err(Error::WouldOverwriteInput {
                path: o.to_path_buf(),
            });
        }
    }
    let format = out
        .extension()
        .and_then(|e| e.to_str())
        .and_then(Format::from_name)
        .ok_or_else(|| {
            Error::field(
                "command line",
                "overlay",
                out.display(),
                "the overlay is written as .png, .jpg or .jpeg",
            )
        })?;
    let photo = load_photo(&job.photo)?;
    let built = job
        .region
        .build(&photo, job.scale, &job.plan, &job.source())?;
    let (region, clipped, hair) = prepare_region(&job.plan, &photo, built.region.clone())?;
    let scar = job.scar_region(photo.dimensions())?;
    let img = overlay(
        &photo,
        &built.region,
        &region,
        built.hairline.as_ref(),
        &built.landmarks,
        scar.as_ref(),
        job.scale,
    );
    let plan_toml = job.plan_toml();
    let meta = ImageMeta {
        provenance: Some(Provenance::new(
            "treatment design overlay by smp-render: region, hairline and scale drawn over the photo",
            Some(job.plan.seed),
            Some(plan_toml.clone()),
        )),
        dpi: None,
    };
    write_atomic(
        out,
        &encode_image_meta(&img, format, job.quality, out, &meta)?,
    )?;
    if let Some(p) = save_plan {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
        let pf = job.plan_file(Some(dir.unwrap_or(Path::new("."))));
        let text = format!(
            "# Treatment design saved by `smp-render design`; paths are relative to this file.\n{}",
            toml::to_string(&pf).unwrap_or_default()
        );
        write_atomic(p, text.as_bytes())?;
    }
    Ok(DesignReport {
        output: out.to_path_buf(),
        plan: save_plan.map(Path::to_path_buf),
        area_cm2: region.total_weight() * job.scale.mm2_per_px() / 100.0,
        clipped,
        hair_pixels: hair,
        hairline: built.hairline,
        region_note: built.note,
    })
}
