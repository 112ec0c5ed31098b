//! Pipeline benchmarks on a 12 MP (4000 × 3000) frame.
//!
//! * `sampler/12mp_stress`: the progressive blue-noise sampler over a
//!   full-weight 4000 × 3000 region, 3 sessions, ≥ 300,000 dots.
//! * `compositor/12mp_dots_1_3px_sharp` and `_blur_halo`:
//!   `PigmentLayer::draw` of those dots with diameters clamped to 1-3 px into
//!   a fresh full-frame layer: the dots alone (no blur, no halo), and as
//!   rendered (pigment blur 0.85 px and the default scatter halo, which widen
//!   every footprint). The layer (144 MB) is made in the untimed setup of
//!   `iter_batched`, so only the
//!   drawing is timed; `compositor/12mp_new_layer` times the allocation alone.
//! * `compositor/12mp_make_dots`: the same draw with `make_dots`' own
//!   diameters (unclamped), for comparison.
//! * `end_to_end/12mp`: in-memory `render_preview` (sample, shape, composite
//!   3 sessions) on a synthetic skin-toned photo with an elliptical region.
//! * `region/preset_shaved_16mp`: laying out the `shaved` preset (head
//!   fit, hairline, weights, fade to the silhouette) on a shipped front view
//!   enlarged to 4000 × 4000, as a phone or camera photo of the same head.
//! * `region/head_cover_12mp`: the head's share of each pixel of issue
//!   #17's 12 MP region (2600 × 1400 px, its sides on the backdrop), the
//!   part of clipping a region to the head that looks at every pixel.
//! * `studio/*`: the studio's live re-render of a 2 MP preview (the 12 MP
//!   photo the studio would be given, `frl-london_037_03` enlarged, at the
//!   studio's preview size) with a hairline design, through the staged
//!   [`Pipeline`](smp_render::Pipeline), the photo's analysis kept:
//!   `composite_only` (the shade changes: only the composite is redone),
//!   `points` (the density changes: sampling and composite) and `region`
//!   (the mid-frontal point moves: region, sampling and composite).
//! * `io/*`: encoding a 12 MP image as PNG (fast compression) and JPEG q90
//!   with `encode_image`, and decoding that JPEG; throughput in pixels.
//!
//! Every heavy bench uses 10 flat samples so `cargo bench --bench pipeline`
//! stays within a few minutes on 2 cores.

use std::hint::black_box;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use image::RgbImage;
use smp_render::{
    decode_photo, encode_image, head_cover, make_dots, render_preview, sample, sampler_params,
    Analysis, Design, Dot, DotsPerCm2, Format, HairlineDesign, HairlineLook, HairlineStyle, Limits,
    PigmentLayer, Pipeline, Plan, Preset, PresetDesign, Rect, Redone, Region, RegionSource,
    SamplePoint, Scale, Sessions, Shade, DEFAULT_FRONTAL_MM, DEFAULT_PATCH_MM,
};

/// The allocator the `smp-render` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const W: u32 = 4000;
const H: u32 = 3000;
const PIXELS: u64 = W as u64 * H as u64;
/// At 6.3 px/mm and 100 dots/cm² a full 12 MP frame holds ~302,000 dots.
const STRESS_PX_PER_MM: f32 = 6.3;
const STRESS_DENSITY: f32 = 100.0;
const MIN_STRESS_DOTS: usize = 300_000;
/// Pigment blur the compositor benches draw with, px: the renderer's default
/// camera blur combined with the skin scatter at the stress scale.
const BENCH_BLUR: f32 = 0.85;

fn stress_scale() -> Scale {
    Scale::new(STRESS_PX_PER_MM, "bench").expect("valid scale")
}

fn stress_plan() -> Plan {
    // No 2-dot clusters: the sampler bench counts the sites it places.
    let plan = Plan {
        density: DotsPerCm2(STRESS_DENSITY),
        clusters: 0.0,
        ..Default::default()
    };
    plan.validate("bench").expect("valid plan");
    plan
}

/// The whole frame at full weight, no feather.
fn full_region() -> &'static Region {
    static R: OnceLock<Region> = OnceLock::new();
    R.get_or_init(|| {
        Region::from_weights(W, H, vec![1.0; PIXELS as usize], 0.0, "bench").expect("region")
    })
}

/// The sampler's output for the stress plan, computed once.
fn stress_points() -> &'static [SamplePoint] {
    static P: OnceLock<Vec<SamplePoint>> = OnceLock::new();
    P.get_or_init(|| {
        let region = full_region();
        let params = sampler_params(&stress_plan(), stress_scale());
        let planned =
            (params.densities.last().expect("3 sessions") * region.total_weight()).round() as usize;
        assert!(planned >= MIN_STRESS_DOTS, "plan gives only {planned} dots");
        let points = sample(region, &params);
        assert!(
            points.len() >= MIN_STRESS_DOTS,
            "sampler gave only {} dots (planned {planned})",
            points.len()
        );
        println!(
            "stress fixture: {W}x{H} full weight, {STRESS_DENSITY} dots/cm2 at \
             {STRESS_PX_PER_MM} px/mm: {} dots planned, {} sampled",
            planned,
            points.len()
        );
        points
    })
}

fn diameter_stats(dots: &[Dot]) -> (f32, f32, f32) {
    let min = dots
        .iter()
        .map(|d| d.diameter)
        .fold(f32::INFINITY, f32::min);
    let max = dots.iter().map(|d| d.diameter).fold(0.0, f32::max);
    let mean = dots.iter().map(|d| d.diameter as f64).sum::<f64>() / dots.len() as f64;
    (min, mean as f32, max)
}

/// `make_dots` at the stress scale (mean diameter 0.5 mm × 6.3 ≈ 3.2 px).
fn stress_dots() -> &'static [Dot] {
    static D: OnceLock<Vec<Dot>> = OnceLock::new();
    D.get_or_init(|| {
        let dots = make_dots(stress_points(), &stress_plan(), stress_scale());
        let (min, mean, max) = diameter_stats(&dots);
        let small = dots.iter().filter(|d| d.diameter < 2.0).count();
        println!(
            "make_dots diameters, px: min {min:.2} mean {mean:.2} max {max:.2}; \
             {:.1}% under 2 px (area-exact squares), {:.1}% outside 1-3 px",
            100.0 * small as f64 / dots.len() as f64,
            100.0
                * dots
                    .iter()
                    .filter(|d| !(1.0..=3.0).contains(&d.diameter))
                    .count() as f64
                / dots.len() as f64
        );
        dots
    })
}

/// The stress dots with diameters clamped to 1-3 px.
fn stress_dots_1_3px() -> &'static [Dot] {
    static D: OnceLock<Vec<Dot>> = OnceLock::new();
    D.get_or_init(|| {
        let dots: Vec<Dot> = stress_dots()
            .iter()
            .map(|d| Dot {
                diameter: d.diameter.clamp(1.0, 3.0),
                ..*d
            })
            .collect();
        let (min, mean, max) = diameter_stats(&dots);
        println!("clamped diameters, px: min {min:.2} mean {mean:.2} max {max:.2}");
        dots
    })
}

/// Deterministic hash noise in [-1, 1).
fn noise(x: u32, y: u32) -> f32 {
    let mut z = (u64::from(y) << 32 | u64::from(x)).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0
}

/// A 12 MP skin-toned photo: a smooth light-to-shade gradient plus ±6 codes
/// of pixel noise.
fn synthetic_photo() -> &'static RgbImage {
    static P: OnceLock<RgbImage> = OnceLock::new();
    P.get_or_init(|| {
        RgbImage::from_fn(W, H, |x, y| {
            let (u, v) = (x as f32 / W as f32, y as f32 / H as f32);
            let light = 0.75 + 0.25 * (1.0 - ((u - 0.5).powi(2) + (v - 0.35).powi(2)) * 2.0);
            let n = 6.0 * noise(x, y);
            let px = |base: f32| (base * light + n).clamp(0.0, 255.0) as u8;
            image::Rgb([px(228.0), px(180.0), px(150.0)])
        })
    })
}

/// An ellipse over much of the frame (centre (2000, 1300), semi-axes
/// 1700 × 1100 px), feathered over the plan's 6 mm.
fn ellipse_region() -> &'static Region {
    static R: OnceLock<Region> = OnceLock::new();
    R.get_or_init(|| {
        let (cx, cy, a, b) = (2000.0f32, 1300.0f32, 1700.0f32, 1100.0f32);
        let mut weights = vec![0.0f32; PIXELS as usize];
        for (i, w) in weights.iter_mut().enumerate() {
            let x = (i % W as usize) as f32 + 0.5;
            let y = (i / W as usize) as f32 + 0.5;
            if ((x - cx) / a).powi(2) + ((y - cy) / b).powi(2) <= 1.0 {
                *w = 1.0;
            }
        }
        let feather = stress_scale().px(stress_plan().feather);
        Region::from_weights(W, H, weights, feather, "bench ellipse").expect("region")
    })
}

fn heavy<'a>(
    c: &'a mut Criterion,
    name: &str,
    measure: Duration,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(measure);
    g
}

fn sampler(c: &mut Criterion) {
    let region = full_region();
    let params = sampler_params(&stress_plan(), stress_scale());
    let n = stress_points().len();
    let mut g = heavy(c, "sampler", Duration::from_secs(10));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("12mp_stress", |b| {
        b.iter(|| black_box(sample(black_box(region), black_box(&params))))
    });
    g.finish();
}

fn compositor(c: &mut Criterion) {
    let shade = stress_plan().shade;
    let rect = Rect {
        x0: 0,
        y0: 0,
        x1: W,
        y1: H,
    };
    let clamped = stress_dots_1_3px();
    let raw = stress_dots();
    let mut g = heavy(c, "compositor", Duration::from_secs(4));
    g.throughput(Throughput::Elements(clamped.len() as u64));
    // Sharp: the dots alone. As rendered: with the pigment blur and the
    // default scatter halo, which widen every footprint.
    let bare: Vec<Dot> = clamped
        .iter()
        .map(|d| Dot {
            halo_mass: 0.0,
            ..*d
        })
        .collect();
    for (name, dots, blur) in [
        ("12mp_dots_1_3px_sharp", &bare[..], 0.0),
        ("12mp_dots_1_3px_blur_halo", clamped, BENCH_BLUR),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || PigmentLayer::new(rect),
                |mut layer| {
                    layer.draw(black_box(dots), &shade, blur);
                    layer
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.throughput(Throughput::Elements(raw.len() as u64));
    g.bench_function("12mp_make_dots", |b| {
        b.iter_batched(
            || PigmentLayer::new(rect),
            |mut layer| {
                layer.draw(black_box(raw), &shade, BENCH_BLUR);
                layer
            },
            BatchSize::PerIteration,
        )
    });
    g.throughput(Throughput::Elements(PIXELS));
    g.bench_function("12mp_new_layer", |b| {
        b.iter(|| black_box(PigmentLayer::new(black_box(rect))))
    });
    g.finish();
}

fn end_to_end(c: &mut Criterion) {
    let photo = synthetic_photo();
    let region = ellipse_region();
    let plan = stress_plan();
    let scale = stress_scale();
    let first = render_preview(photo, region, &plan, scale);
    println!(
        "end_to_end fixture: ellipse region {:.0} px² weighted, dots per session {:?} (total {})",
        region.total_weight(),
        first.dots_per_session(),
        first.dots.len()
    );
    let mut g = heavy(c, "end_to_end", Duration::from_secs(22));
    g.throughput(Throughput::Elements(first.dots.len() as u64));
    drop(first);
    g.bench_function("12mp", |b| {
        b.iter(|| black_box(render_preview(black_box(photo), region, &plan, scale)))
    });
    g.finish();
}

fn region(c: &mut Criterion) {
    // frl-london_172_03 (1350 px, 3.31 px/mm, glabella 673,505 by hand)
    // enlarged to 4000 px.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/photos/frl-london_172_03.jpg"
    );
    let small = image::open(path).expect("shipped photo").to_rgb8();
    let k = 4000.0 / 1350.0;
    let photo = image::imageops::resize(&small, 4000, 4000, image::imageops::FilterType::Triangle);
    let scale = Scale::new(3.31 * k, "bench").expect("scale");
    let design = PresetDesign {
        preset: Preset::parse("shaved", "bench").expect("preset"),
        glabella: Some([673.0 * k, 505.0 * k]),
        frontal_mm: DEFAULT_FRONTAL_MM,
        look: HairlineLook::of(HairlineStyle::Natural),
        patch: None,
        patch_mm: DEFAULT_PATCH_MM,
    };
    let mut g = heavy(c, "region", Duration::from_secs(8));
    g.throughput(Throughput::Elements(4000 * 4000));
    g.bench_function("preset_shaved_16mp", |b| {
        b.iter(|| {
            black_box(
                design
                    .build(black_box(&photo), scale, 1, "bench")
                    .expect("layout"),
            )
        })
    });
    g.finish();
    head_cover_12mp(c);
}

/// `region/head_cover_12mp`: the head's share of every pixel of issue
/// #17's region (`examples/perf_inputs`: `frl-london_037_03` enlarged to
/// 4000 × 4000, its 4000 × 3000 rows from row 300, a 2600 × 1400 px
/// hexagon over the top of the head, its sides on the backdrop, feathered
/// 6 mm at 15 px/mm), the backdrop's flood found once beforehand.
fn head_cover_12mp(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/photos/frl-london_037_03.jpg"
    );
    let small = image::open(path).expect("shipped photo").to_rgb8();
    let big = image::imageops::resize(&small, 4000, 4000, image::imageops::FilterType::Triangle);
    let photo = image::imageops::crop_imm(&big, 0, 300, 4000, 3000).to_image();
    let polygon = [
        [700.0, 900.0],
        [1300.0, 200.0],
        [2700.0, 200.0],
        [3300.0, 900.0],
        [2700.0, 1600.0],
        [1300.0, 1600.0],
    ];
    let region = Region::from_polygon(&polygon, (4000, 3000), 90.0).expect("polygon");
    let scene = Analysis::new(photo);
    scene.warm();
    let mut g = heavy(c, "region", Duration::from_secs(8));
    g.throughput(Throughput::Elements(region.bounded_weights().len() as u64));
    g.bench_function("head_cover_12mp", |b| {
        b.iter(|| black_box(head_cover(black_box(&scene), &region)))
    });
    g.finish();
}

fn io(c: &mut Criterion) {
    let photo = synthetic_photo();
    let name = Path::new("bench");
    let jpeg = encode_image(photo, Format::Jpeg, 90, name).expect("jpeg");
    let png = encode_image(photo, Format::Png, 90, name).expect("png");
    println!(
        "io fixture: 12 MP synthetic photo: PNG {:.1} MB, JPEG q90 {:.1} MB",
        png.len() as f64 / 1e6,
        jpeg.len() as f64 / 1e6
    );
    let mut g = heavy(c, "io", Duration::from_secs(4));
    g.throughput(Throughput::Elements(PIXELS));
    g.bench_function("encode_png_12mp", |b| {
        b.iter(|| black_box(encode_image(black_box(photo), Format::Png, 90, name)))
    });
    // The same encoder (strips, see `src/strips.rs`) on one core, and
    // `png`'s own at the same setting (the same bytes) on one core.
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a pool of one thread");
    g.bench_function("encode_png_12mp_one_core", |b| {
        b.iter(|| one.install(|| black_box(encode_image(black_box(photo), Format::Png, 90, name))))
    });
    g.bench_function("encode_png_12mp_png_crate", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(photo.len() / 2);
            let mut enc = png::Encoder::new(&mut out, photo.width(), photo.height());
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            enc.set_compression(png::Compression::Fast);
            enc.set_filter(png::Filter::Adaptive);
            let mut w = enc.write_header().expect("header");
            w.write_image_data(black_box(photo).as_raw()).expect("data");
            w.finish().expect("end");
            black_box(out)
        })
    });
    g.bench_function("encode_jpeg_q90_12mp", |b| {
        b.iter(|| black_box(encode_image(black_box(photo), Format::Jpeg, 90, name)))
    });
    g.bench_function("decode_jpeg_12mp", |b| {
        b.iter(|| black_box(decode_photo(black_box(&jpeg), name)))
    });
    g.finish();
}

fn studio(c: &mut Criterion) {
    // frl-london_037_03 (1350 px, 3.27 px/mm) at the studio's preview size
    // of a 12 MP photo of the same head: 1414 px (2.0 MP).
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/photos/frl-london_037_03.jpg"
    );
    let small = image::open(path).expect("shipped photo").to_rgb8();
    let side = 1414;
    let k = side as f32 / 1350.0;
    let photo = image::imageops::resize(&small, side, side, image::imageops::FilterType::Triangle);
    let pipeline = Pipeline::new(photo);
    let hairline = |dy: f32| {
        [[523.0, 320.0], [671.0, 278.0 + dy], [818.0, 320.0]]
            .map(|p: [f32; 2]| [p[0] * k, p[1] * k])
            .to_vec()
    };
    let design = |dy: f32, density: f32, shade: &str| Design {
        region: RegionSource::Hairline {
            design: HairlineDesign {
                points: hairline(dy),
                look: HairlineLook::of(HairlineStyle::Natural),
            },
            within: None,
        },
        mask: None,
        scar: None,
        scale: Scale::new(3.27 * k, "bench").expect("scale"),
        plan: Plan {
            density: DotsPerCm2(density),
            shade: Shade::parse(shade, 1.0, "bench").expect("shade"),
            ..Plan::default()
        },
        source: "bench".into(),
        limits: Limits::default(),
    };
    let only = Sessions::Only(3);
    let shades = [
        design(0.0, 110.0, "jet-black"),
        design(0.0, 110.0, "ash-grey"),
    ];
    let densities = [
        design(0.0, 110.0, "jet-black"),
        design(0.0, 120.0, "jet-black"),
    ];
    let moves = [
        design(0.0, 110.0, "jet-black"),
        design(-6.0, 110.0, "jet-black"),
    ];
    pipeline.render(&shades[0], only).expect("render");
    let mut g = heavy(c, "studio", Duration::from_secs(4));
    let mut i = 0;
    g.bench_function("composite_only", |b| {
        b.iter(|| {
            i += 1;
            let r = pipeline.render(&shades[i % 2], only).expect("render");
            assert_eq!(r.redone, Redone::Composite);
            black_box(r)
        })
    });
    g.bench_function("points", |b| {
        b.iter(|| {
            i += 1;
            let r = pipeline.render(&densities[i % 2], only).expect("render");
            black_box(r)
        })
    });
    g.bench_function("region", |b| {
        b.iter(|| {
            i += 1;
            let r = pipeline.render(&moves[i % 2], only).expect("render");
            black_box(r)
        })
    });
    g.finish();
}

criterion_group!(benches, sampler, compositor, end_to_end, region, studio, io);
criterion_main!(benches);
