//! Invariants of the sampler and the compositor: prefixes, region, spacing,
//! density, determinism.

use image::{Rgb, RgbImage};
use proptest::prelude::*;
use smp_render::{
    full_weight_radius, place_points, radius_at, render_preview, sample, Plan, Region, SamplePoint,
    SamplerParams, Scale,
};

use crate::util::PointGrid;

/// Checks, per session k, that no two dots of sessions ≤ k are closer than
/// the smaller of their local spacing radii for session k's density.
fn check_spacing(points: &[SamplePoint], densities: &[f64]) {
    for (k, &d) in densities.iter().enumerate() {
        let r1 = full_weight_radius(d);
        let prefix: Vec<&SamplePoint> = points
            .iter()
            .filter(|p| p.session as usize <= k + 1)
            .collect();
        let grid = PointGrid::new(prefix.iter().map(|p| [p.x, p.y]).collect(), r1);
        let reach = (radius_at(r1, 0.0) / r1).ceil() as i64 + 1;
        for (i, p) in prefix.iter().enumerate() {
            let (dist, j) = grid.nearest(i, reach);
            if j == usize::MAX {
                continue;
            }
            let q = prefix[j];
            let min = radius_at(r1, p.weight).min(radius_at(r1, q.weight));
            assert!(
                dist >= min * 0.9999,
                "session {}: dots at ({}, {}) and ({}, {}) are {dist} px apart, minimum {min}",
                k + 1,
                p.x,
                p.y,
                q.x,
                q.y
            );
        }
    }
}

fn square_region(size: u32, margin: f32, feather_px: f32) -> Region {
    let (a, b) = (margin, size as f32 - margin);
    Region::from_polygon(&[[a, a], [b, a], [b, b], [a, b]], (size, size), feather_px).unwrap()
}

#[test]
fn later_sessions_never_move_earlier_dots() {
    let region = square_region(900, 50.0, 40.0);
    let full = SamplerParams {
        densities: vec![0.002, 0.0045, 0.006],
        seed: 5,
    };
    let all = sample(&region, &full);
    for k in 1..3 {
        let part = sample(
            &region,
            &SamplerParams {
                densities: full.densities[..k].to_vec(),
                seed: 5,
            },
        );
        assert_eq!(part[..], all[..part.len()], "first {k} sessions differ");
        assert!(all[part.len()..].iter().all(|p| p.session as usize > k));
    }
}

#[test]
fn spacing_holds_in_every_session_with_a_feather() {
    let region = square_region(1200, 100.0, 150.0);
    let p = SamplerParams {
        densities: vec![0.002, 0.0045, 0.006],
        seed: 11,
    };
    let pts = sample(&region, &p);
    assert!(pts.len() > 4000, "{} dots", pts.len());
    check_spacing(&pts, &p.densities);
}

#[test]
fn density_per_session_matches_the_plan_within_5_percent() {
    // 10 px/mm, a 140 mm square with a 6 mm feather; count in the 120 mm
    // square inside it, where the weight is uniformly 1.
    let scale = Scale::new(10.0, "t").unwrap();
    let plan = Plan::default();
    let region = square_region(1600, 100.0, scale.px(plan.feather));
    // Dots, 2-dot clusters included: what the plan's density promises.
    let points = place_points(&region, &plan, scale, None);
    let (lo, hi) = (200.0, 1400.0);
    let area_cm2 = ((hi - lo) / 10.0 / 10.0) * ((hi - lo) / 10.0 / 10.0);
    for (k, share) in plan.shares().iter().enumerate() {
        let n = points
            .iter()
            .filter(|p| {
                p.session as usize <= k + 1 && p.x >= lo && p.x < hi && p.y >= lo && p.y < hi
            })
            .count();
        let measured = n as f32 / area_cm2;
        let planned = plan.density.0 * share;
        eprintln!(
            "session {}: {measured:.2} dots/cm² against {planned:.2} planned",
            k + 1
        );
        assert!(
            (measured / planned - 1.0).abs() < 0.05,
            "session {}: {measured} dots/cm² vs {planned}",
            k + 1
        );
    }
}

#[test]
fn density_follows_partial_weight() {
    // Left half weight 1, right half weight 0.35: the right half gets about 0.35 of the dots.
    let (w, h) = (1000u32, 600u32);
    let weights: Vec<f32> = (0..w * h)
        .map(|i| if i % w < w / 2 { 1.0 } else { 0.35 })
        .collect();
    let region = Region::from_weights(w, h, weights, 0.0, "halves").unwrap();
    let pts = sample(
        &region,
        &SamplerParams {
            densities: vec![0.004, 0.01],
            seed: 2,
        },
    );
    let left = pts.iter().filter(|p| p.x < 480.0).count() as f64;
    let right = pts.iter().filter(|p| p.x >= 520.0).count() as f64;
    let ratio = right / left;
    assert!((ratio - 0.35).abs() < 0.35 * 0.08, "ratio {ratio}");
}

#[test]
fn render_is_the_same_on_one_and_two_threads() {
    let (w, h) = (600u32, 400u32);
    let photo = RgbImage::from_fn(w, h, |x, y| {
        Rgb([(150 + x % 50) as u8, (120 + y % 40) as u8, 100])
    });
    let region = Region::from_polygon(
        &[[50.0, 40.0], [560.0, 60.0], [500.0, 380.0], [80.0, 350.0]],
        (w, h),
        30.0,
    )
    .unwrap();
    let plan = Plan::default();
    let scale = Scale::new(4.0, "t").unwrap();
    let run = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(|| render_preview(&photo, &region, &plan, scale))
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a.dots, b.dots);
    for (x, y) in a.sessions.iter().zip(&b.sessions) {
        assert_eq!(x.as_raw(), y.as_raw());
    }
    // Pixels of weight zero are bit-identical to the input.
    let last = a.sessions.last().unwrap();
    let mut untouched = 0;
    for i in 0..w * region.height() {
        let (x, y) = (i % w, i / w);
        if region.weight_at(x as f32 + 0.5, y as f32 + 0.5) == 0.0 {
            assert_eq!(last.get_pixel(x, y), photo.get_pixel(x, y));
            untouched += 1;
        }
    }
    assert!(untouched > 10_000);
    // And inside, the dots changed pixels.
    assert!(last.as_raw() != photo.as_raw());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_polygon_gets_dots_only_inside_with_spacing(
        pts in proptest::collection::vec((0.0f32..400.0, 0.0f32..300.0), 3..7),
        d1 in 0.002f64..0.01,
        grow in 1.2f64..2.5,
        feather in 0.0f32..40.0,
        seed in any::<u64>(),
    ) {
        let poly: Vec<[f32; 2]> = pts.iter().map(|&(x, y)| [x, y]).collect();
        if let Ok(region) = Region::from_polygon(&poly, (400, 300), feather) {
            let densities = vec![d1, d1 * grow];
            let points = sample(&region, &SamplerParams { densities: densities.clone(), seed });
            for p in &points {
                prop_assert!(region.weight_at(p.x, p.y) > 0.0, "dot outside at {} {}", p.x, p.y);
            }
            prop_assert!(points.windows(2).all(|w| w[0].session <= w[1].session));
            check_spacing(&points, &densities);
        }
    }
}
