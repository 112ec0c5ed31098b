//! Metadata: every rendered image says it is a simulation and carries the
//! plan and seed that made it, readable by other tools and enough to render
//! the same bytes again.

use std::path::Path;

use smp_render::{read_image_text, read_provenance, PlanFile, DIGITAL_SOURCE_TYPE};

use crate::util::{root, run, stderr};

const PHOTO: &str = "frl-london_037_03.jpg";
const MASK: &str = "frl-london_037_03.region.png";

fn render(dir: &Path, out: &str, extra: &[&str]) {
    let plan = root().join("assets/frl-london_037_03.toml");
    let mut args = vec![
        "render",
        "--plan",
        plan.to_str().unwrap(),
        "--sessions",
        "2",
        "--seed",
        "7",
        "--density",
        "70",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    let o = run(dir, &args);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The text chunks of a PNG as another decoder (the `png` crate) reads them.
fn png_text(bytes: &[u8]) -> Vec<(String, String)> {
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    dec.set_ignore_text_chunk(false);
    let reader = dec.read_info().unwrap();
    let info = reader.info();
    let mut v: Vec<(String, String)> = info
        .uncompressed_latin1_text
        .iter()
        .map(|t| (t.keyword.clone(), t.text.clone()))
        .collect();
    for t in &info.utf8_text {
        v.push((t.keyword.clone(), t.get_text().unwrap()));
    }
    v
}

/// Prints the plan `image` (in `dir`'s folder `a`) records, puts it beside
/// a copy of the photo and the mask, renders it into `b`, and checks that
/// each of `names` comes out the same bytes as in `a`.
fn renders_again(dir: &Path, image: &str, names: &[&str]) {
    let re = dir.join("re");
    std::fs::create_dir(&re).unwrap();
    std::fs::copy(root().join("assets/photos").join(PHOTO), re.join(PHOTO)).unwrap();
    std::fs::copy(root().join("assets").join(MASK), re.join(MASK)).unwrap();
    // `smp-render provenance` prints it as a plan file.
    let o = run(dir, &["provenance", &format!("a/{image}")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = String::from_utf8(o.stdout).unwrap();
    assert!(printed.contains("# Simulated preview"), "{printed}");
    std::fs::write(re.join("plan.toml"), &printed).unwrap();
    let o = run(dir, &["render", "--plan", "re/plan.toml", "--out", "b"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for name in names {
        let a = std::fs::read(dir.join("a").join(name)).unwrap();
        let b = std::fs::read(dir.join("b").join(name))
            .unwrap_or_else(|e| panic!("{name} not rendered again from its metadata: {e}"));
        assert!(
            a == b,
            "{name} differs when rendered again from its metadata"
        );
    }
}

/// A JPEG render with the whole frame in its before/after: the recorded
/// plan carries the format, the frame and the quality, so it renders the
/// same bytes again (it rendered PNGs and a scalp-framed before/after when
/// they were left out).
#[test]
fn a_jpeg_with_a_full_frame_renders_the_same_bytes_again() {
    let dir = tempfile::tempdir().unwrap();
    render(
        dir.path(),
        "a",
        &["--format", "jpg", "--frame", "full", "--quality", "72"],
    );
    renders_again(
        dir.path(),
        "session-2.jpg",
        &["session-1.jpg", "session-2.jpg", "before-after.jpg"],
    );
}

#[test]
fn png_metadata_round_trips_and_renders_the_same_bytes_again() {
    let dir = tempfile::tempdir().unwrap();
    render(dir.path(), "a", &[]);
    let bytes = std::fs::read(dir.path().join("a/session-2.png")).unwrap();
    let p = read_provenance(&bytes).expect("provenance in session-2.png");
    assert!(p.description.starts_with("Simulated preview"), "{p:?}");
    assert!(p.description.contains("session 2 of 2"), "{p:?}");
    assert_eq!(p.seed, Some(7));
    let plan_text = p.plan.clone().unwrap();
    let plan: PlanFile = toml::from_str(&plan_text).unwrap();
    assert_eq!(plan.seed, Some(7));
    assert_eq!(plan.sessions, Some(2));
    assert_eq!(plan.density_per_cm2, Some(70.0));
    assert_eq!(plan.px_per_mm, Some(3.27));
    assert_eq!(
        plan.photo.as_deref(),
        Some(Path::new(PHOTO)),
        "file name only"
    );
    assert_eq!(plan.region.as_deref(), Some(Path::new(MASK)));

    // Another PNG reader sees the same entries, and the XMP names the
    // image a composite with synthetic elements.
    let text = png_text(&bytes);
    let get = |k: &str| {
        text.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("Description").as_deref(), Some(p.description.as_str()));
    assert_eq!(get("smp-render.seed").as_deref(), Some("7"));
    assert_eq!(get("smp-render.plan").as_deref(), Some(plan_text.as_str()));
    assert!(get("Software").unwrap().starts_with("smp-render "));
    assert!(get("XML:com.adobe.xmp")
        .unwrap()
        .contains(DIGITAL_SOURCE_TYPE));
    // The photo as decoded is not a simulation and says nothing.
    let before = std::fs::read(dir.path().join("a/before.png")).unwrap();
    assert_eq!(read_provenance(&before), None);

    // The recorded plan, beside the photo and the mask, renders the same bytes.
    renders_again(
        dir.path(),
        "session-2.png",
        &["session-1.png", "session-2.png", "before-after.png"],
    );

    // A file without provenance is an error that names it.
    let o = run(dir.path(), &["provenance", "a/before.png"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("before.png"), "{}", stderr(&o));
}

#[test]
fn jpeg_metadata_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    render(dir.path(), "j", &["--format", "jpeg", "--quality", "85"]);
    let bytes = std::fs::read(dir.path().join("j/session-1.jpg")).unwrap();
    let p = read_provenance(&bytes).expect("provenance in session-1.jpg");
    assert!(
        p.description.starts_with("Simulated preview") && p.description.contains("session 1 of 2")
    );
    assert_eq!(p.seed, Some(7));
    let plan: PlanFile = toml::from_str(p.plan.as_deref().unwrap()).unwrap();
    assert_eq!((plan.seed, plan.sessions), (Some(7), Some(2)));
    let text = read_image_text(&bytes);
    let comment = &text.iter().find(|(k, _)| k == "Comment").unwrap().1;
    assert!(
        comment.starts_with("Description: Simulated preview"),
        "{comment}"
    );
    let xmp = &text
        .iter()
        .find(|(k, _)| k == "XML:com.adobe.xmp")
        .unwrap()
        .1;
    assert!(xmp.contains(DIGITAL_SOURCE_TYPE));
    // Still a JPEG every decoder reads.
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (1350, 1350));
}

#[test]
fn sheets_record_the_plan_and_pass_on_their_inputs_plan() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join("assets/frl-london_037_03.toml");
    let o = run(
        dir.path(),
        &[
            "sheet",
            "--plan",
            plan.to_str().unwrap(),
            "--seed",
            "5",
            "--layout",
            "grid",
            "--vary",
            "shade=jet-black,ash-grey",
            "--crop",
            "scalp",
            "--size",
            "a4",
            "--out",
            "s",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(dir.path().join("s/sheet-grid-a4.png")).unwrap();
    let p = read_provenance(&bytes).unwrap();
    assert_eq!(p.seed, Some(5));
    assert!(p.description.contains("jet-black, ash-grey"), "{p:?}");
    let plan_text = p.plan.unwrap();
    assert!(plan_text.contains("# Variants"), "{plan_text}");
    let plan: PlanFile = toml::from_str(&plan_text).unwrap();
    assert_eq!(plan.seed, Some(5));
    assert_eq!(smp_render::read_dpi(&bytes), Some(300));

    // A sheet of rendered files carries their plan on.
    render(dir.path(), "r", &[]);
    let o = run(
        dir.path(),
        &[
            "sheet",
            "--layout",
            "side-by-side",
            "--image",
            "Before=r/before.png",
            "--image",
            "After=r/session-2.png",
            "--format",
            "jpeg",
            "--out",
            "t",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(dir.path().join("t/sheet-side-by-side.jpg")).unwrap();
    let p = read_provenance(&bytes).unwrap();
    assert_eq!(p.seed, Some(7));
    assert!(p.plan.unwrap().contains("density_per_cm2 = 70"));
}

/// Every key of a plan file, each set to a value other than its default.
/// A struct literal without `..Default::default()`: a key added to
/// `PlanFile` does not compile here until it is given a value and a place
/// in one of the lists below.
fn every_key() -> PlanFile {
    use std::path::PathBuf;
    PlanFile {
        photo: Some(PathBuf::from("/photos/client.jpg")),
        region: Some(PathBuf::from("/photos/client.region.png")),
        polygon: Some(vec![[10.0, 20.0], [300.0, 25.5], [280.0, 260.0]]),
        px_per_mm: Some(3.7),
        scale_points: Some([[10.0, 10.0], [110.0, 10.0]]),
        scale_mm: Some(25.0),
        scale_from_head: Some(true),
        head_breadth_mm: Some(148.0),
        sessions: Some(2),
        density_per_cm2: Some(77.0),
        session_shares: Some(vec![0.6, 1.0]),
        dot_diameter_mm: Some(0.42),
        dot_diameter_spread: Some(0.31),
        elongation: Some(1.8),
        strength_spread: Some(0.22),
        clusters: Some(0.11),
        halo: Some(2.5),
        blowout: Some(0.3),
        matte: Some(0.4),
        shade: Some("ash-grey".into()),
        hair: Some([100.0, 120.0]),
        keep_hair: Some(false),
        scar: Some(PathBuf::from("/photos/client.scar.png")),
        hairline: Some(vec![[50.0, 150.0], [200.0, 100.0], [350.0, 150.0]]),
        hairline_style: Some("rounded".into()),
        hairline_transition_mm: Some(7.5),
        hairline_irregularity_mm: Some(0.9),
        hairline_asymmetry_mm: Some(1.1),
        hairline_isolated: Some(0.03),
        preset: Some("alopecia-patch".into()),
        glabella: Some([200.0, 300.0]),
        frontal_mm: Some(90.0),
        patch: Some([210.0, 140.0]),
        patch_mm: Some(40.0),
        scar_polygon: Some(vec![[100.0, 100.0], [140.0, 100.0], [120.0, 150.0]]),
        scar_retention: Some(0.4),
        scar_shade: Some("jet-black".into()),
        scar_dilution: Some(0.5),
        clip_to_head: Some(false),
        head_shape: Some(false),
        dilution: Some(0.7),
        session_strengths: Some(vec![0.9, 1.2]),
        feather_mm: Some(4.5),
        seed: Some(4242),
        camera_blur_px: Some(1.3),
        pigment: Some("semi-permanent".into()),
        stage: Some("years:2.5".into()),
        out: Some(PathBuf::from("/out")),
        format: Some(smp_render::Format::Jpeg),
        frame: Some(smp_render::Frame::Full),
        quality: Some(77),
        dots: Some(PathBuf::from("/out/dots.csv")),
        max_dots: Some(123_456),
        max_memory_mb: Some(2048),
    }
}

/// Keys the recorded plan carries as given (files by their name only).
const RECORDED: &[&str] = &[
    "photo",
    "region",
    "polygon",
    "px_per_mm",
    "sessions",
    "density_per_cm2",
    "session_shares",
    "dot_diameter_mm",
    "dot_diameter_spread",
    "elongation",
    "strength_spread",
    "clusters",
    "halo",
    "blowout",
    "matte",
    "shade",
    "hair",
    "keep_hair",
    "scar",
    "hairline",
    "hairline_style",
    "hairline_transition_mm",
    "hairline_irregularity_mm",
    "hairline_asymmetry_mm",
    "hairline_isolated",
    "preset",
    "glabella",
    "frontal_mm",
    "patch",
    "patch_mm",
    "scar_polygon",
    "scar_retention",
    "scar_shade",
    "scar_dilution",
    "clip_to_head",
    "head_shape",
    "dilution",
    "session_strengths",
    "feather_mm",
    "seed",
    "camera_blur_px",
    "pigment",
    "stage",
    "format",
    "frame",
    "quality",
];
/// Ways of giving the scale: recorded as the `px_per_mm` they make.
const RECORDED_AS_SCALE: &[&str] = &[
    "scale_points",
    "scale_mm",
    "scale_from_head",
    "head_breadth_mm",
];
/// Where the files are written and what a render may cost: they do not
/// change a rendered image's bytes, so the image does not carry them.
const NOT_RECORDED: &[&str] = &["out", "dots", "max_dots", "max_memory_mb"];

fn table(pf: &PlanFile) -> toml::Table {
    toml::Table::try_from(pf).unwrap()
}

/// The plan an image of `fields`' job records, read back from the image's
/// provenance (as `smp-render provenance` prints it).
fn recorded(fields: &PlanFile) -> (smp_render::RenderJob, PlanFile) {
    let plan = fields
        .apply_to(smp_render::Plan::for_client(), "fields")
        .unwrap();
    let job = smp_render::RenderJob::from_fields(fields, plan, "fields").unwrap();
    let p = job.provenance("session 1 of 2");
    let text = p.plan.expect("a plan");
    let back: PlanFile = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (job, back)
}

#[test]
fn every_plan_key_round_trips_through_the_recorded_plan() {
    let all = every_key();
    let keys: Vec<String> = table(&all).keys().cloned().collect();
    // Every key has its one place.
    for k in &keys {
        let places = [RECORDED, RECORDED_AS_SCALE, NOT_RECORDED]
            .iter()
            .filter(|l| l.contains(&k.as_str()))
            .count();
        assert_eq!(places, 1, "plan key `{k}` must be in exactly one list");
    }
    for l in [RECORDED, RECORDED_AS_SCALE, NOT_RECORDED] {
        for k in l {
            assert!(keys.iter().any(|x| x == k), "`{k}` is not a plan key");
        }
    }

    // Jobs that between them give every key: the region one way each
    // (mask and a hairline within it, polygon, preset), the scale one way
    // each, the scar one way each.
    let photo = root().join("assets/photos").join(PHOTO);
    let mask = root().join("assets").join(MASK);
    let base = PlanFile {
        region: None,
        polygon: None,
        hairline: None,
        hairline_style: None,
        hairline_transition_mm: None,
        hairline_irregularity_mm: None,
        hairline_asymmetry_mm: None,
        hairline_isolated: None,
        preset: None,
        glabella: None,
        frontal_mm: None,
        patch: None,
        patch_mm: None,
        px_per_mm: None,
        scale_points: None,
        scale_mm: None,
        scale_from_head: None,
        head_breadth_mm: None,
        scar: None,
        scar_polygon: None,
        ..all.clone()
    };
    let jobs = [
        // A mask with a hairline in it, px_per_mm, a scar mask.
        PlanFile {
            region: all.region.clone(),
            hairline: all.hairline.clone(),
            hairline_style: all.hairline_style.clone(),
            hairline_transition_mm: all.hairline_transition_mm,
            hairline_irregularity_mm: all.hairline_irregularity_mm,
            hairline_asymmetry_mm: all.hairline_asymmetry_mm,
            hairline_isolated: all.hairline_isolated,
            px_per_mm: all.px_per_mm,
            scar: all.scar.clone(),
            ..base.clone()
        },
        // A polygon, two points and their distance, a scar polygon.
        PlanFile {
            polygon: all.polygon.clone(),
            scale_points: all.scale_points,
            scale_mm: all.scale_mm,
            scar_polygon: all.scar_polygon.clone(),
            ..base.clone()
        },
        // A preset with every landmark and its hairline's look.
        PlanFile {
            preset: all.preset.clone(),
            glabella: all.glabella,
            frontal_mm: all.frontal_mm,
            patch: all.patch,
            patch_mm: all.patch_mm,
            hairline_style: all.hairline_style.clone(),
            hairline_transition_mm: all.hairline_transition_mm,
            hairline_irregularity_mm: all.hairline_irregularity_mm,
            hairline_asymmetry_mm: all.hairline_asymmetry_mm,
            hairline_isolated: all.hairline_isolated,
            px_per_mm: all.px_per_mm,
            ..base.clone()
        },
        // The scale from the head's outline of a real photo.
        PlanFile {
            photo: Some(photo.clone()),
            region: Some(mask.clone()),
            scale_from_head: all.scale_from_head,
            head_breadth_mm: all.head_breadth_mm,
            ..base.clone()
        },
    ];
    let mut seen: Vec<String> = Vec::new();
    for fields in &jobs {
        let (job, back) = recorded(fields);
        let (given, got) = (table(fields), table(&back));
        for (k, v) in &given {
            seen.push(k.clone());
            if RECORDED.contains(&k.as_str()) {
                let want = match k.as_str() {
                    // Files by their name, never their folders.
                    "photo" | "region" | "scar" => toml::Value::String(
                        Path::new(v.as_str().unwrap())
                            .file_name()
                            .unwrap()
                            .to_string_lossy()
                            .into_owned(),
                    ),
                    _ => v.clone(),
                };
                assert_eq!(got.get(k), Some(&want), "`{k}` recorded as given");
            } else if NOT_RECORDED.contains(&k.as_str()) {
                assert_eq!(got.get(k), None, "`{k}` is not the image's to carry");
            }
        }
        // The scale, however given, is recorded as the scale the job used.
        let ppm = back.px_per_mm.expect("the scale is recorded");
        assert_eq!(ppm, job.scale.px_per_mm());
        if fields.scale_points.is_some() {
            // 100 px over 25 mm, computed here.
            assert!((ppm - 4.0).abs() < 1e-5, "{ppm}");
        }
        // Read back, the recorded plan is the same plan and region, with
        // the files beside the plan file.
        let dir = Path::new("/elsewhere");
        let mut again = back.clone();
        for p in [&mut again.photo, &mut again.region, &mut again.scar]
            .into_iter()
            .flatten()
        {
            *p = dir.join(&*p);
        }
        let plan_again = again
            .apply_to(smp_render::Plan::for_client(), "again")
            .unwrap();
        let expected = smp_render::Plan {
            session_shares: Some(job.plan.shares()),
            session_strengths: Some(job.plan.strengths()),
            ..job.plan.clone()
        };
        assert_eq!(plan_again, expected);
        if fields.scale_from_head.is_none() {
            let job_again =
                smp_render::RenderJob::from_fields(&again, plan_again, "again").unwrap();
            let rebase =
                |r: &smp_render::RegionSource| format!("{r:?}").replace("/photos/", "/elsewhere/");
            assert_eq!(format!("{:?}", job_again.region), rebase(&job.region));
            assert_eq!(
                format!("{:?}", job_again.scar),
                format!("{:?}", job.scar).replace("/photos/", "/elsewhere/")
            );
        }
    }
    for k in &keys {
        assert!(seen.contains(k), "no job gives `{k}`");
    }
}

#[test]
fn metadata_stays_without_the_visible_notice() {
    // `--no-simulated-label` takes the notice off the pixels only: every
    // rendered image still says in the file that it is a simulation, with
    // its plan and seed (README, "Honesty").
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join("assets/frl-london_037_03.toml");
    let plan = plan.to_str().unwrap();
    let check = |path: &Path| {
        let bytes = std::fs::read(path).unwrap();
        let p =
            read_provenance(&bytes).unwrap_or_else(|| panic!("{}: no provenance", path.display()));
        assert!(
            p.description.starts_with("Simulated preview"),
            "{}: {p:?}",
            path.display()
        );
        assert_eq!(p.seed, Some(7), "{}", path.display());
        let recorded: PlanFile = toml::from_str(p.plan.as_deref().unwrap()).unwrap();
        assert_eq!(recorded.seed, Some(7));
        let text = read_image_text(&bytes);
        assert!(
            text.iter()
                .any(|(k, v)| k == "XML:com.adobe.xmp" && v.contains(DIGITAL_SOURCE_TYPE)),
            "{}: no XMP source type",
            path.display()
        );
    };
    for format in ["png", "jpeg"] {
        let out = format!("r-{format}");
        let o = run(
            dir.path(),
            &[
                "render",
                "--plan",
                plan,
                "--sessions",
                "2",
                "--seed",
                "7",
                "--format",
                format,
                "--no-simulated-label",
                "--out",
                &out,
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let ext = if format == "png" { "png" } else { "jpg" };
        for name in ["session-1", "session-2", "before-after"] {
            check(&dir.path().join(&out).join(format!("{name}.{ext}")));
        }
    }
    let o = run(
        dir.path(),
        &[
            "timeline",
            "--plan",
            plan,
            "--seed",
            "7",
            "--stages",
            "fresh,years:5",
            "--no-simulated-label",
            "--out",
            "t",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for name in ["stage-fresh.png", "stage-years-5.png", "timeline.png"] {
        check(&dir.path().join("t").join(name));
    }
    let o = run(
        dir.path(),
        &[
            "sheet",
            "--plan",
            plan,
            "--seed",
            "7",
            "--sessions",
            "2",
            "--no-simulated-label",
            "--out",
            "s",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    check(&dir.path().join("s/sheet-progression.png"));
}
