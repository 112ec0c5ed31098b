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
    let re = dir.path().join("re");
    std::fs::create_dir(&re).unwrap();
    std::fs::copy(root().join("assets/photos").join(PHOTO), re.join(PHOTO)).unwrap();
    std::fs::copy(root().join("assets").join(MASK), re.join(MASK)).unwrap();
    // `smp-render provenance` prints it as a plan file.
    let o = run(dir.path(), &["provenance", "a/session-2.png"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed = String::from_utf8(o.stdout).unwrap();
    assert!(printed.contains("# Simulated preview"), "{printed}");
    std::fs::write(re.join("plan.toml"), &printed).unwrap();
    let o = run(
        dir.path(),
        &["render", "--plan", "re/plan.toml", "--out", "b"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for name in ["session-1.png", "session-2.png", "before-after.png"] {
        let a = std::fs::read(dir.path().join("a").join(name)).unwrap();
        let b = std::fs::read(dir.path().join("b").join(name)).unwrap();
        assert!(
            a == b,
            "{name} differs when rendered again from its metadata"
        );
    }

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
