//! Fuzzing the three parsers of untrusted input with proptest: the plan
//! file, the jobs file and the photo loader. Whatever the input, none
//! panics; each either gives a value within its documented ranges or an
//! error that names the file (and, for a bad value, the field).
//!
//! CI runs `FUZZ_CASES` (256) cases of each; `PROPTEST_CASES=20000` runs
//! more (see the README, "Tests").

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::Config;
use smp_render::{decode_photo, Batch, Error, Plan, PlanFile};

/// Cases per property: `PROPTEST_CASES`, else 256.
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Plan-file keys with values near and beyond their ranges.
fn plan_key() -> impl Strategy<Value = (&'static str, String)> {
    let num = prop_oneof![
        (-1000.0f64..1000.0).prop_map(|v| format!("{v}")),
        (-3i64..10).prop_map(|v| v.to_string()),
        (0.0f64..2.0).prop_map(|v| format!("{v:.3}")),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("1e40".to_string()),
        Just("9223372036854775807".to_string()),
        Just("-0.0".to_string()),
    ];
    let point = (num.clone(), num.clone()).prop_map(|(a, b)| format!("[{a}, {b}]"));
    let list = prop::collection::vec(num.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(", ")));
    let points =
        prop::collection::vec(point.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(", ")));
    let word = prop_oneof![
        Just("\"jet-black\"".to_string()),
        Just("\"soft-black\"".to_string()),
        Just("\"auto\"".to_string()),
        Just("\"#123456\"".to_string()),
        Just("\"#12345g\"".to_string()),
        Just("\"natural\"".to_string()),
        Just("\"norwood-3\"".to_string()),
        Just("\"alopecia-patch\"".to_string()),
        Just("\"semi-permanent\"".to_string()),
        Just("\"years:2.5\"".to_string()),
        Just("\"years:-1\"".to_string()),
        Just("\"\"".to_string()),
        "\"[a-z:#0-9 .-]{0,12}\"".prop_map(|s| s),
    ];
    let boolean = prop_oneof![Just("true".to_string()), Just("false".to_string())];
    let any = prop_oneof![
        num.clone(),
        word.clone(),
        boolean.clone(),
        point.clone(),
        list.clone()
    ];
    prop_oneof![
        4 => (prop::sample::select(vec![
            "px_per_mm", "scale_mm", "head_breadth_mm", "sessions", "density_per_cm2",
            "dot_diameter_mm", "dot_diameter_spread", "elongation", "strength_spread",
            "clusters", "halo", "blowout", "matte", "hairline_transition_mm",
            "hairline_irregularity_mm", "hairline_asymmetry_mm", "hairline_isolated",
            "frontal_mm", "patch_mm", "scar_retention", "scar_dilution", "dilution",
            "feather_mm", "seed", "camera_blur_px", "quality", "max_dots", "max_memory_mb",
        ]), num),
        2 => (prop::sample::select(vec!["session_shares", "session_strengths"]), list),
        2 => (prop::sample::select(vec![
            "shade", "scar_shade", "hairline_style", "preset", "pigment", "stage",
            "format", "frame",
        ]), word),
        1 => (prop::sample::select(vec![
            "scale_from_head", "keep_hair", "clip_to_head", "head_shape",
        ]), boolean),
        1 => (prop::sample::select(vec!["hair", "glabella", "patch"]), point),
        1 => (prop::sample::select(vec![
            "polygon", "hairline", "scar_polygon", "scale_points",
        ]), points),
        // Any value under any key, and keys that are not plan keys.
        1 => (prop::sample::select(vec![
            "sessions", "density_per_cm2", "shade", "polygon", "seed", "densty", "",
        ]), any),
    ]
}

/// A plan file's text: some keys, or a valid one with bytes changed.
fn plan_text() -> impl Strategy<Value = String> {
    let keys = prop::collection::vec(plan_key(), 0..10).prop_map(|kv| {
        kv.iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect::<String>()
    });
    let shipped =
        std::fs::read_to_string(crate::util::root().join("assets/frl-london_037_03.toml")).unwrap();
    prop_oneof![
        3 => keys,
        1 => mutated(shipped.into_bytes()).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// `bytes` with a few bytes changed, inserted or removed, or cut short.
fn mutated(bytes: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let n = bytes.len();
    let edit = prop_oneof![
        (0..n, any::<u8>()).prop_map(|(i, b)| (0u8, i, b)),
        (0..n, any::<u8>()).prop_map(|(i, b)| (1u8, i, b)),
        (0..n).prop_map(|i| (2u8, i, 0)),
        (0..n, 1u8..=8).prop_map(|(i, bit)| (3u8, i, 1 << (bit - 1))),
    ];
    (
        prop::collection::vec(edit, 1..6),
        prop::option::weighted(0.3, 0..n),
    )
        .prop_map(move |(edits, cut)| {
            let mut b = bytes.clone();
            for (kind, i, v) in edits {
                let i = i.min(b.len().saturating_sub(1));
                match kind {
                    0 if !b.is_empty() => b[i] = v,
                    1 => b.insert(i, v),
                    2 if !b.is_empty() => {
                        b.remove(i);
                    }
                    3 if !b.is_empty() => b[i] ^= v,
                    _ => {}
                }
            }
            if let Some(c) = cut {
                b.truncate(c);
            }
            b
        })
}

/// The documented range of every plan value (README's option table).
fn check_ranges(p: &Plan) {
    let within = |v: f32, lo: f32, hi: f32, what: &str| {
        assert!(
            v.is_finite() && (lo..=hi).contains(&v),
            "{what} = {v}: not {lo} to {hi}"
        );
    };
    assert!((1..=4).contains(&p.sessions), "sessions {}", p.sessions);
    within(p.density.0, 5.0, 400.0, "density_per_cm2");
    within(p.dot_diameter.0, 0.05, 2.0, "dot_diameter_mm");
    within(p.dot_diameter_spread, 0.0, 0.8, "dot_diameter_spread");
    within(p.elongation, 1.0, 3.0, "elongation");
    within(p.strength_spread, 0.0, 0.6, "strength_spread");
    within(p.clusters, 0.0, 0.5, "clusters");
    within(p.halo, 0.0, 8.0, "halo");
    within(p.blowout, 0.0, 1.0, "blowout");
    within(p.matte, 0.0, 1.0, "matte");
    within(p.feather.0, 0.0, 60.0, "feather_mm");
    within(p.scar_retention, 0.0, 1.0, "scar_retention");
    within(p.shade.dilution, 0.05, 1.0, "dilution");
    if let Some(b) = p.camera_blur_px {
        within(b, 0.0, 6.0, "camera_blur_px");
    }
    if let Some(s) = &p.scar_shade {
        within(s.dilution, 0.05, 1.0, "scar_dilution");
    }
    let shares = p.shares();
    assert_eq!(shares.len(), p.sessions as usize);
    assert!(shares.windows(2).all(|w| w[0] < w[1]), "{shares:?}");
    assert!(
        shares[0] > 0.0 && *shares.last().unwrap() == 1.0,
        "{shares:?}"
    );
    let strengths = p.strengths();
    assert_eq!(strengths.len(), p.sessions as usize);
    for s in strengths {
        within(s, 0.1, 1.5, "session_strengths");
    }
    if let smp_render::Stage::Years(y) = p.stage {
        within(y, 0.0, 30.0, "stage");
    }
}

/// A bad value's error names the file and a field the text gives (or the
/// one a given field checks against).
fn check_error(e: &Error, text: &str, file: &str, also: &[&str]) {
    let msg = e.to_string();
    assert!(msg.contains(file), "the error does not name {file}: {msg}");
    if let Error::InvalidField { field, value, .. } = e {
        let named = value == "(missing)"
            || also.contains(&field.as_str())
            || text.contains(field.as_str())
            || (field == "shade" && text.contains("dilution"))
            || (field == "scar_shade" && text.contains("scar_dilution"));
        assert!(named, "field `{field}` is not in the text: {msg}\n{text}");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn plan_files_parse_within_range_or_name_file_and_field(text in plan_text()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fuzz.toml");
        std::fs::write(&path, &text).unwrap();
        match PlanFile::load(&path) {
            Ok(pf) => {
                let plan = pf.apply_to(Plan::for_client(), "fuzz.toml").expect("load checked it");
                check_ranges(&plan);
                // The job from it: within range too, or an error naming the file.
                match smp_render::RenderJob::from_fields(&pf, plan, "fuzz.toml") {
                    Ok(job) => {
                        let s = job.scale.px_per_mm();
                        prop_assert!(s.is_finite() && (0.2..=200.0).contains(&s), "scale {}", s);
                        prop_assert!((1..=100).contains(&job.quality));
                    }
                    Err(e) => check_error(&e, &text, "fuzz.toml", &[]),
                }
            }
            Err(e) => check_error(&e, &text, "fuzz.toml", &[]),
        }
    }

    #[test]
    fn jobs_files_parse_or_name_file_job_and_field(
        defaults in prop::collection::vec(plan_key(), 0..4),
        jobs in prop::collection::vec(
            (prop::collection::vec(plan_key(), 0..6), prop::option::of("[a-z]{1,6}")),
            0..4,
        ),
        cut in prop::option::weighted(0.2, 0usize..400),
    ) {
        let mut text = String::from("[defaults]\n");
        for (k, v) in &defaults {
            text.push_str(&format!("{k} = {v}\n"));
        }
        for (keys, name) in &jobs {
            text.push_str("[[job]]\nphoto = \"p.jpg\"\npx_per_mm = 3\npolygon = [[1, 1], [50, 1], [50, 50]]\n");
            if let Some(n) = name {
                text.push_str(&format!("name = \"{n}\"\n"));
            }
            for (k, v) in keys {
                text.push_str(&format!("{k} = {v}\n"));
            }
        }
        if let Some(c) = cut {
            let c = c.min(text.len());
            text.truncate((0..=c).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.toml");
        match Batch::parse(&text, &path, Some(dir.path().join("out"))) {
            Ok(batch) => {
                prop_assert!(!batch.jobs().is_empty());
                for (i, j) in batch.jobs().iter().enumerate() {
                    match &j.job {
                        Ok(job) => check_ranges(&job.plan),
                        Err(e) => {
                            let msg = e.to_string();
                            prop_assert!(
                                msg.contains("jobs.toml") && msg.contains(&format!("job {}", i + 1)),
                                "job {}: {}", i + 1, msg
                            );
                            check_error(e, &text, "jobs.toml", &[]);
                        }
                    }
                }
            }
            // Two jobs writing one file (`out`), or one reading what
            // another writes (`photo`), name the field to change.
            Err(e) => check_error(&e, &text, "jobs.toml", &["out", "photo"]),
        }
    }

    #[test]
    fn photos_decode_or_name_the_file(
        (format, bytes) in prop_oneof![
            Just(0usize), Just(1usize), Just(2usize)
        ].prop_flat_map(|f| (Just(f), mutated(fixture(f))))
    ) {
        let name = ["fixture.jpg", "fixture.png", "fixture-other.jpg"][format];
        match decode_photo(&bytes, Path::new(name)) {
            Ok(img) => {
                prop_assert!(img.width() >= 1 && img.height() >= 1);
                prop_assert!(img.width() <= 30_000 && img.height() <= 30_000);
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains(name), "{}", msg);
            }
        }
    }
}

/// A small photo: a 48 × 40 crop of a shipped one as baseline JPEG (0),
/// PNG (1) or the shipped photo's own encoding cut to a small frame (2:
/// a JPEG from another encoder).
fn fixture(kind: usize) -> Vec<u8> {
    let photo = crate::util::shipped_photo("frl-london_037_03");
    let crop = image::imageops::crop_imm(&photo, 600, 300, 48, 40).to_image();
    match kind {
        0 => smp_render::encode_image(&crop, smp_render::Format::Jpeg, 85, Path::new("f.jpg"))
            .unwrap(),
        1 => smp_render::encode_image(&crop, smp_render::Format::Png, 90, Path::new("f.png"))
            .unwrap(),
        _ => {
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
                .encode_image(&crop)
                .unwrap();
            out
        }
    }
}
