//! How close can any `--region auto` get to the hand-drawn scalp regions
//! (`tests/fixtures/scalp/`, #4 item 3)?
//!
//! A detector's region is the head above the brow line without the
//! forehead. The head's outline it can only take from the backdrop flood
//! (`background_pixels`); the brow line from `find_brow`. This measures the
//! intersection-over-union with the drawing of a detector that has both of
//! those and the *hand-drawn* hairline itself (the ceiling), of the same with
//! the outline pulled in by a constant k px (the drawing follows the hair's
//! dense edge, the flood the tips of a buzz cut), and with the hand's own
//! hairline moved d px toward the hair or the forehead everywhere (how much
//! room a real detector's hairline has). Where the photo was drawn a second
//! time by the same rule (`tests/fixtures/scalp/second/`), the last column is
//! how well the two hand drawings agree.
//!
//! Run: `cargo run --release --example scalp_ceiling`

use std::path::Path;

use image::GrayImage;
use imageproc::distance_transform::Norm;
use imageproc::morphology::{dilate, erode};
use imageproc::region_labelling::{connected_components, Connectivity};
use smp_render::{background_pixels, find_brow, load_photo, HeadShape, PlanFile, Region, Scale};

/// The drawn photos (their scale is their shipped plan's, `assets/STEM.toml`).
const DRAWN: [&str; 4] = [
    "frl-london_037_03",
    "frl-london_061_03",
    "frl-london_105_03",
    "frl-london_172_03",
];

fn mask(w: u32, h: u32, f: impl Fn(u32, u32) -> bool) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| image::Luma([if f(x, y) { 255 } else { 0 }]))
}

fn iou(a: &GrayImage, b: &GrayImage) -> f64 {
    let (mut i, mut u) = (0u64, 0u64);
    for (p, q) in a.pixels().zip(b.pixels()) {
        let (p, q) = (p.0[0] > 0, q.0[0] > 0);
        i += (p && q) as u64;
        u += (p || q) as u64;
    }
    i as f64 / u.max(1) as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "stem: ceiling | outline in by k px: k=2 3 4 6 | hand hairline moved d px \
         (+ into the hair): d=-4 -2 +2 +4 | second drawing vs first"
    );
    for stem in DRAWN {
        let plan = PlanFile::load(Path::new(&format!("assets/{stem}.toml")))?;
        let ppm = plan
            .px_per_mm
            .ok_or(format!("{stem}: its plan has no px_per_mm"))?;
        let photo = load_photo(Path::new(&format!("assets/photos/{stem}.jpg")))?;
        let (w, h) = photo.dimensions();
        let drawing = |dir: &str| -> Result<Option<GrayImage>, Box<dyn std::error::Error>> {
            let path = format!("tests/fixtures/scalp/{dir}{stem}.scalp.txt");
            let Ok(text) = std::fs::read_to_string(&path) else {
                return Ok(None);
            };
            let drawn = Region::from_polygon(&Region::parse_polygon(&text)?, (w, h), 0.0)?;
            Ok(Some(mask(w, h, |x, y| {
                drawn.weight_at(x as f32 + 0.5, y as f32 + 0.5) > 0.5
            })))
        };
        let hand = drawing("")?.ok_or(format!("{stem}: no drawing"))?;
        let again = match drawing("second/")? {
            Some(second) => format!("{:.3}", iou(&second, &hand)),
            None => "-".into(),
        };
        let all = Region::from_weights(w, h, vec![1.0; (w * h) as usize], 0.0, "the photo")?;
        let off = background_pixels(&photo, &all);
        let head = mask(w, h, |x, y| !off[(y * w + x) as usize]);
        let scale = Scale::new(ppm, "the table")?;
        let (shape, _) = HeadShape::fit_near(&photo, [w as f32 / 2.0, h as f32 * 0.4], scale)
            .expect("a head outline");
        let brow = find_brow(&photo, &shape).expect("a brow line");
        // The hand's forehead: what of the head above the brow line is not
        // drawn, connected to a point 20 mm above the brow midpoint.
        let rest = mask(w, h, |x, y| {
            (y as f32) < brow[1] && head.get_pixel(x, y).0[0] > 0 && hand.get_pixel(x, y).0[0] == 0
        });
        let labels = connected_components(&rest, Connectivity::Four, image::Luma([0u8]));
        let seed = labels
            .get_pixel(brow[0] as u32, (brow[1] - 20.0 * ppm) as u32)
            .0[0];
        assert!(seed > 0, "{stem}: the seed is not on the forehead");
        let forehead = mask(w, h, |x, y| labels.get_pixel(x, y).0[0] == seed);
        let detect = |head: &GrayImage, forehead: &GrayImage| {
            mask(w, h, |x, y| {
                (y as f32) < brow[1]
                    && head.get_pixel(x, y).0[0] > 0
                    && forehead.get_pixel(x, y).0[0] == 0
            })
        };
        let ceiling = iou(&detect(&head, &forehead), &hand);
        let pulled: Vec<String> = [2u8, 3, 4, 6]
            .iter()
            .map(|&k| {
                format!(
                    "{:.3}",
                    iou(&detect(&erode(&head, Norm::L2, k), &forehead), &hand)
                )
            })
            .collect();
        let moved: Vec<String> = [-4i32, -2, 2, 4]
            .iter()
            .map(|&d| {
                let f = if d > 0 {
                    dilate(&forehead, Norm::L2, d as u8)
                } else {
                    erode(&forehead, Norm::L2, (-d) as u8)
                };
                format!("{:.3}", iou(&detect(&head, &f), &hand))
            })
            .collect();
        println!(
            "{stem}: {ceiling:.3} | {} | {} | {again}",
            pulled.join(" "),
            moved.join(" ")
        );
    }
    Ok(())
}
