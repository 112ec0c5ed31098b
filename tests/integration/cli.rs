//! The real binary: the README's demo, determinism, refusals and error messages.

use std::path::Path;

use crate::util::{read_dots, root, run, stderr, PointGrid};

const DEMO_PLAN: &str = "assets/frl-london_037_03.toml";

fn demo(dir: &Path, out: &str, threads: &str) -> std::process::Output {
    let plan = root().join(DEMO_PLAN);
    run(
        dir,
        &[
            "--threads",
            threads,
            "render",
            "--plan",
            plan.to_str().unwrap(),
            "--out",
            out,
            "--dots",
            &format!("{out}/dots.csv"),
        ],
    )
}

#[test]
fn demo_render_writes_every_output_and_keeps_the_outside_exact() {
    let dir = tempfile::tempdir().unwrap();
    let o = demo(dir.path(), "out", "2");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("out");
    for name in [
        "before.png",
        "session-1.png",
        "session-2.png",
        "session-3.png",
        "before-after.png",
        "dots.csv",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 6);
    let before = image::open(out.join("before.png")).unwrap().to_rgb8();
    let photo = image::open(root().join("assets/photos/frl-london_037_03.jpg"))
        .unwrap()
        .to_rgb8();
    assert_eq!(
        before.as_raw(),
        photo.as_raw(),
        "before.png is the decoded photo"
    );
    let mask = image::open(root().join("assets/frl-london_037_03.region.png"))
        .unwrap()
        .to_luma8();
    // The "Simulated preview" notice (its box: the pixels it changes on a
    // flat grey image) is the only change outside the region.
    let mut notice =
        image::RgbImage::from_pixel(before.width(), before.height(), image::Rgb([200; 3]));
    smp_render::simulated_mark(&mut notice);
    let changed: Vec<(u32, u32)> = notice
        .enumerate_pixels()
        .filter(|p| p.2 .0 != [200; 3])
        .map(|p| (p.0, p.1))
        .collect();
    let x0 = changed.iter().map(|p| p.0).min().unwrap();
    let y0 = changed.iter().map(|p| p.1).min().unwrap();
    let x1 = changed.iter().map(|p| p.0).max().unwrap();
    let y1 = changed.iter().map(|p| p.1).max().unwrap();
    let in_notice = |x: u32, y: u32| (x0..=x1).contains(&x) && (y0..=y1).contains(&y);
    let mut last_changed = 0;
    for k in 1..=3 {
        let s = image::open(out.join(format!("session-{k}.png")))
            .unwrap()
            .to_rgb8();
        let mut changed = 0;
        for (x, y, m) in mask.enumerate_pixels() {
            if m.0[0] == 0 && !in_notice(x, y) {
                assert_eq!(
                    s.get_pixel(x, y),
                    before.get_pixel(x, y),
                    "session {k} touched ({x}, {y})"
                );
            } else if s.get_pixel(x, y) != before.get_pixel(x, y) {
                changed += 1;
            }
        }
        assert!(
            changed > last_changed,
            "session {k} adds pigment: {changed} pixels"
        );
        last_changed = changed;
    }
    let ba = image::open(out.join("before-after.png")).unwrap();
    // Framed on the treated area with context (`--frame full`: the whole
    // photo; tests/integration/finish.rs).
    assert!(ba.width() < 2 * before.width() && ba.height() < before.height() / 2);

    // Every dot lies where the mask is set, and sessions come in order.
    let dots = read_dots(&out.join("dots.csv"));
    assert!(dots.len() > 500);
    for d in &dots {
        assert!(d.weight > 0.0);
        assert!(
            mask.get_pixel(d.x as u32, d.y as u32).0[0] > 0,
            "dot outside the mask at {} {}",
            d.x,
            d.y
        );
    }
    assert!(dots.windows(2).all(|w| w[0].session <= w[1].session));
    assert_eq!(dots.last().unwrap().session, 3);
    // No two dots closer than the spacing the sampler enforced when the later one was placed;
    // the second dots of 2-dot clusters (spacing 0) sit beside their first on purpose.
    let pairs = dots.iter().filter(|d| d.spacing == 0.0).count();
    assert!(
        pairs > 0 && pairs < dots.len() / 10,
        "{pairs} of {} dots paired",
        dots.len()
    );
    let dots: Vec<_> = dots.into_iter().filter(|d| d.spacing > 0.0).collect();
    let cell = dots.iter().map(|d| d.spacing).fold(f32::INFINITY, f32::min);
    let reach = (dots.iter().map(|d| d.spacing).fold(0.0, f32::max) / cell).ceil() as i64 + 1;
    let grid = PointGrid::new(dots.iter().map(|d| [d.x, d.y]).collect(), cell);
    for (i, d) in dots.iter().enumerate() {
        let (dist, j) = grid.nearest(i, reach);
        let min = d.spacing.min(dots[j].spacing);
        assert!(
            dist >= min - 0.002,
            "dots {i} and {j}: {dist} px apart, minimum {min}"
        );
    }
}

#[test]
fn same_seed_same_bytes_on_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    assert!(demo(dir.path(), "a", "1").status.success());
    assert!(demo(dir.path(), "b", "2").status.success());
    for name in [
        "session-1.png",
        "session-3.png",
        "before-after.png",
        "dots.csv",
    ] {
        let a = std::fs::read(dir.path().join("a").join(name)).unwrap();
        let b = std::fs::read(dir.path().join("b").join(name)).unwrap();
        assert!(a == b, "{name} differs between 1 and 2 threads");
    }
    // A different seed gives different dots.
    let plan = root().join(DEMO_PLAN);
    let o = run(
        dir.path(),
        &[
            "render",
            "--plan",
            plan.to_str().unwrap(),
            "--seed",
            "2",
            "--out",
            "c",
            "--dots",
            "c/d.csv",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read(dir.path().join("a/dots.csv")).unwrap()
            != std::fs::read(dir.path().join("c/d.csv")).unwrap()
    );
}

#[test]
fn refuses_to_overwrite_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("before.png");
    std::fs::copy(root().join("assets/frl-london_037_03.region.png"), &photo).unwrap();
    let original = std::fs::read(&photo).unwrap();
    let o = run(
        dir.path(),
        &[
            "render",
            "before.png",
            "--polygon",
            "10,10 100,10 100,100",
            "--px-per-mm",
            "3",
            "--out",
            ".",
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("refusing to write"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&photo).unwrap(), original);
}

#[test]
fn bad_input_names_file_field_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let photo = root().join("assets/photos/frl-london_037_03.jpg");
    let photo = photo.to_str().unwrap();
    // Out of range on the command line.
    let o = run(
        dir.path(),
        &[
            "render",
            photo,
            "--polygon",
            "1,1 50,1 50,50",
            "--px-per-mm",
            "3",
            "--density",
            "900",
        ],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("command line") && e.contains("density_per_cm2") && e.contains("5 to 400"),
        "{e}"
    );
    // Out of range and unknown fields in a plan file.
    std::fs::write(dir.path().join("p.toml"), "sessions = 7\n").unwrap();
    let e = stderr(&run(
        dir.path(),
        &[
            "render",
            photo,
            "--plan",
            "p.toml",
            "--polygon",
            "1,1 50,1 50,50",
            "--px-per-mm",
            "3",
        ],
    ));
    assert!(
        e.contains("p.toml") && e.contains("sessions") && e.contains("1 to 4"),
        "{e}"
    );
    std::fs::write(dir.path().join("q.toml"), "dencity_per_cm2 = 80\n").unwrap();
    let e = stderr(&run(dir.path(), &["render", photo, "--plan", "q.toml"]));
    assert!(e.contains("q.toml") && e.contains("dencity_per_cm2"), "{e}");
    // A mask of the wrong size.
    let mask = root().join("assets/fonts/../frl-london_021_03.region.png");
    image::GrayImage::new(20, 20)
        .save(dir.path().join("small.png"))
        .unwrap();
    let e = stderr(&run(
        dir.path(),
        &["render", photo, "--region", "small.png", "--px-per-mm", "3"],
    ));
    assert!(
        e.contains("small.png") && e.contains("20 x 20") && e.contains("1350 x 1350"),
        "{e}"
    );
    assert!(mask.exists());
    // A corrupt photo and a missing one.
    std::fs::write(
        dir.path().join("broken.jpg"),
        b"\xff\xd8\xff\xe0 not really a jpeg",
    )
    .unwrap();
    let o = run(
        dir.path(),
        &[
            "render",
            "broken.jpg",
            "--polygon",
            "1,1 50,1 50,50",
            "--px-per-mm",
            "3",
        ],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("broken.jpg"),
        "{}",
        stderr(&o)
    );
    let o = run(
        dir.path(),
        &[
            "render",
            "nothere.jpg",
            "--polygon",
            "1,1 50,1 50,50",
            "--px-per-mm",
            "3",
        ],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("nothere.jpg"),
        "{}",
        stderr(&o)
    );
    // Nothing was written for any of them.
    assert!(!dir.path().join("smp-out").exists());
}

#[test]
fn help_documents_every_option_with_units_and_defaults() {
    let o = run(Path::new("."), &["render", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "--px-per-mm",
        "--plan",
        "--region",
        "--polygon",
        "--sessions",
        "--density",
        "dots/cm²",
        "--dot-diameter-mm",
        "--shade",
        "--seed",
        "--out",
        "--dots",
        "--format",
        "--quality",
        "--feather-mm",
        "[default: 110]",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
}

#[test]
fn jpeg_output_follows_the_format_option() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join(DEMO_PLAN);
    let o = run(
        dir.path(),
        &[
            "render",
            "--plan",
            plan.to_str().unwrap(),
            "--format",
            "jpeg",
            "--quality",
            "85",
            "--out",
            "j",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(dir.path().join("j/session-3.jpg")).unwrap();
    assert_eq!(&bytes[..2], b"\xff\xd8");
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 1350);
}

#[test]
fn scale_from_two_points_equals_the_same_px_per_mm() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join(DEMO_PLAN);
    let plan = plan.to_str().unwrap();
    // The demo's 3.27 px/mm as 327 px between two points 100 mm apart.
    let a = run(dir.path(), &["render", "--plan", plan, "--out", "a"]);
    let b = run(
        dir.path(),
        &[
            "render",
            "--plan",
            plan,
            "--out",
            "b",
            "--scale-points",
            "100,100 427,100",
            "--scale-mm",
            "100",
        ],
    );
    assert!(a.status.success() && b.status.success(), "{}", stderr(&b));
    let read = |d: &str| std::fs::read(dir.path().join(d).join("session-3.png")).unwrap();
    assert_eq!(read("a"), read("b"));
    // Half the distance, twice the mm per px: a different render.
    let c = run(
        dir.path(),
        &[
            "render",
            "--plan",
            plan,
            "--out",
            "c",
            "--scale-points",
            "100,100 427,100",
            "--scale-mm",
            "50",
        ],
    );
    assert!(c.status.success());
    assert_ne!(read("a"), read("c"));
    let bad = run(
        dir.path(),
        &[
            "render",
            "--plan",
            plan,
            "--scale-points",
            "100,100",
            "--scale-mm",
            "10",
        ],
    );
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("scale_points"), "{}", stderr(&bad));
}

/// Messages that name the right thing (issue 16, item 9 and 5): each bad
/// input is refused naming the field that is wrong and what is allowed.
#[test]
fn messages_name_the_field_that_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let photo = root().join("assets/photos/frl-london_037_03.jpg");
    let photo = photo.to_str().unwrap();
    let base = ["render", photo, "--px-per-mm", "3.3", "--out", "o"];
    let square = "600,240 760,236 770,290 610,300";
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &["--polygon", square, "--sessions", "1000"],
            &["--sessions", "1..=4"],
        ),
        (
            &["--polygon", square, "--density", "-5"],
            &["density_per_cm2", "-5", "5 to 400"],
        ),
        (
            &[
                "--polygon",
                square,
                "--scar-polygon",
                "600,240 NaN,236 770,290",
            ],
            &["scar_polygon", "NaN"],
        ),
        (
            &["--polygon", "0,0 1000000000000,0 0,5"],
            &["polygon", "1000000000000", "10 times"],
        ),
        (
            &["--polygon", square, "--threads", "10000"],
            &["--threads", "1..=256"],
        ),
        (
            &["--polygon", square, "--scar-polygon", "1e12,0 0,1e12 5,5"],
            &["scar_polygon"],
        ),
    ];
    for (extra, want) in cases {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        let o = run(dir.path(), &args);
        let err = stderr(&o);
        assert!(!o.status.success(), "{extra:?} was accepted");
        for w in want {
            assert!(err.contains(w), "{extra:?}: {w:?} not in {err}");
        }
        assert!(!dir.path().join("o").exists(), "{extra:?} wrote outputs");
    }
    // Identical scale points: the points are named, not px_per_mm.
    let o = run(
        dir.path(),
        &[
            "render",
            photo,
            "--polygon",
            square,
            "--scale-points",
            "10,10 10,10",
            "--scale-mm",
            "10",
            "--out",
            "o",
        ],
    );
    let err = stderr(&o);
    assert!(
        !o.status.success() && err.contains("scale_points") && !err.contains("px_per_mm"),
        "{err}"
    );
    // A plan file's sessions out of range: the range, not "expected u8".
    let plan = dir.path().join("p.toml");
    std::fs::write(
        &plan,
        format!("photo = {photo:?}\npolygon = [[600, 240], [760, 236], [770, 290]]\npx_per_mm = 3.3\nsessions = 1000\n"),
    )
    .unwrap();
    let o = run(
        dir.path(),
        &["render", "--plan", plan.to_str().unwrap(), "--out", "o"],
    );
    let err = stderr(&o);
    assert!(
        !o.status.success() && err.contains("sessions") && err.contains("1 to 4"),
        "{err}"
    );
}

/// A photo too small for any dot renders, and says that no dot was placed.
#[test]
fn a_render_with_no_dot_says_so() {
    let dir = tempfile::tempdir().unwrap();
    crate::util::save(
        &crate::util::solid(3, 3, [200, 160, 140]),
        &dir.path().join("t.png"),
    );
    let o = run(
        dir.path(),
        &[
            "render",
            "t.png",
            "--px-per-mm",
            "3",
            "--polygon",
            "0,0 3,0 3,3",
            "--out",
            "o",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("no dot was placed"), "{}", stderr(&o));
}

/// A plan within every range that would place ~179 million dots is refused
/// before any dot is placed, with the estimate; `--dry-run` prints it.
#[test]
fn a_render_past_its_dot_budget_is_refused_with_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let photo = root().join("assets/photos/frl-london_037_03.jpg");
    let mut args = vec![
        "render",
        photo.to_str().unwrap(),
        "--px-per-mm",
        "0.2",
        "--density",
        "400",
        "--sessions",
        "4",
        "--polygon",
        "0,0 1350,0 1350,1350 0,1350",
        "--clip-to-head",
        "false",
        "--out",
        "o",
    ];
    let o = run(dir.path(), &args);
    let err = stderr(&o);
    assert!(!o.status.success(), "accepted");
    assert!(
        err.contains("max_dots") && err.contains("dots over") && err.contains("--max-dots"),
        "{err}"
    );
    assert!(!dir.path().join("o").exists());
    args.push("--dry-run");
    let o = run(dir.path(), &args);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains("estimate: about 17"),
        "{out}"
    );
    assert!(!dir.path().join("o").exists(), "a dry run writes nothing");
}

/// Runs the real binary with `args` in `dir`, `input` on its standard input.
fn run_with_stdin(dir: &Path, args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_smp-render"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Written from another thread, so that a child that stops reading early
    // cannot block the test.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    o
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

/// The demo's session images: what `render` writes, in order.
const DEMO_OUTPUTS: [&str; 5] = [
    "before.png",
    "session-1.png",
    "session-2.png",
    "session-3.png",
    "before-after.png",
];

/// stdout holds the results (the paths written, one a line, nothing else);
/// the notes go to stderr, and `-q` silences them.
#[test]
fn stdout_holds_the_paths_written_and_stderr_the_notes() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join(DEMO_PLAN);
    let plan = plan.to_str().unwrap();
    let o = run(dir.path(), &["render", "--plan", plan, "-o", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let expected: Vec<String> = DEMO_OUTPUTS.iter().map(|f| format!("out/{f}")).collect();
    assert_eq!(stdout(&o).lines().collect::<Vec<_>>(), expected);
    for p in &expected {
        assert!(dir.path().join(p).is_file(), "{p} not written");
    }
    let err = stderr(&o);
    for note in [
        "dots per session: [",
        "pigment blur: ",
        "head shape: ",
        "time: decode ",
    ] {
        assert!(err.contains(note), "stderr lacks {note:?}: {err}");
    }
    assert!(!err.contains("out/before.png"), "{err}");

    // -q (before or after the subcommand): the same results, a silent stderr.
    for args in [
        ["-q", "render", "--plan", plan, "-o", "q1"],
        ["render", "--quiet", "--plan", plan, "-o", "q2"],
    ] {
        let o = run(dir.path(), &args);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o).lines().count(), 5, "{args:?}: {}", stdout(&o));
        assert_eq!(stderr(&o), "", "{args:?}");
    }
    // An error still shows under -q.
    let o = run(
        dir.path(),
        &["-q", "render", "missing.jpg", "--px-per-mm", "3"],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).starts_with("smp-render: error: "),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "");

    // design: the overlay and the plan file; timeline: its images.
    let o = run(
        dir.path(),
        &[
            "design",
            "--plan",
            plan,
            "--overlay",
            "d/o.png",
            "--save-plan",
            "d/p.toml",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "d/o.png\nd/p.toml\n");
    assert!(stderr(&o).contains("region: "), "{}", stderr(&o));
    let o = run(
        dir.path(),
        &[
            "timeline",
            "--plan",
            plan,
            "-o",
            "t",
            "--stages",
            "fresh,healed",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "t/before.png\nt/stage-fresh.png\nt/stage-healed.png\nt/timeline.png\n"
    );
    // batch: the report's path; each job and the summary on stderr.
    std::fs::write(
        dir.path().join("jobs.toml"),
        format!("[[job]]\nname = \"a\"\nplan = {plan:?}\nsessions = 1\n"),
    )
    .unwrap();
    let o = run(dir.path(), &["batch", "jobs.toml", "-o", "b"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "b/batch-report.json\n");
    let err = stderr(&o);
    assert!(
        err.contains("job 1 `a`: rendered") && err.contains("1 jobs: 1 rendered"),
        "{err}"
    );
    assert!(dir.path().join("b/a/session-1.png").is_file());
    let o = run(
        dir.path(),
        &["-q", "batch", "jobs.toml", "-o", "b", "--force"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        (stdout(&o).as_str(), stderr(&o).as_str()),
        ("b/batch-report.json\n", "")
    );
}

/// `--json`: one JSON object on stdout, nothing else, with the summary's
/// fields, for render (and its dry run), design and provenance.
#[test]
fn json_summaries_parse_and_hold_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join(DEMO_PLAN);
    let plan = plan.to_str().unwrap();
    let o = run(
        dir.path(),
        &["render", "--plan", plan, "-o", "out", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is one JSON");
    let dots: Vec<u64> = v["dots_per_session"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap())
        .collect();
    assert_eq!(dots.len(), 3, "{v}");
    assert!(dots.iter().all(|&d| d > 100), "{v}");
    assert_eq!(v["dots_total"].as_u64(), Some(dots.iter().sum()));
    assert_eq!(v["sessions"], 3);
    assert_eq!(v["px_per_mm"], 3.27);
    assert_eq!(v["shade"]["name"], "soft-black");
    assert_eq!(v["shade"]["auto"], false);
    assert!(v["pigment_blur_px"].as_f64().unwrap() >= 0.8, "{v}");
    assert!(v["head_shape"]
        .as_str()
        .unwrap()
        .starts_with("ellipsoid head"));
    assert!(v["clipped"]["share"].as_f64().is_some());
    assert!(v["hair_pixels"].as_u64().unwrap() > 0);
    assert_eq!(v["warnings"].as_array().unwrap().len(), 0);
    for k in ["decode", "region", "dots", "composite", "write"] {
        assert!(v["timings_ms"][k].as_f64().unwrap() >= 0.0, "{k}: {v}");
    }
    let outputs: Vec<&str> = v["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    let expected: Vec<String> = DEMO_OUTPUTS.iter().map(|f| format!("out/{f}")).collect();
    assert_eq!(outputs, expected);
    // The text summary said the same on stderr.
    let total = dots.iter().sum::<u64>();
    assert!(
        stderr(&o).contains(&format!("(total {total})")),
        "{}",
        stderr(&o)
    );

    let o = run(
        dir.path(),
        &["render", "--plan", plan, "--dry-run", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["dry_run"], true);
    let estimated = e["estimate"]["dots"].as_u64().unwrap() as f64;
    assert!(
        (estimated / total as f64 - 1.0).abs() < 0.5,
        "estimate {estimated} for {total} dots"
    );
    assert!(e["estimate"]["area_cm2"].as_f64().unwrap() > 1.0);

    let o = run(
        dir.path(),
        &["design", "--plan", plan, "--overlay", "d.png", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["overlay"], "d.png");
    assert!(d["plan"].is_null());
    let area = d["region_cm2"].as_f64().unwrap();
    assert!(area > 5.0 && area < 20.0, "{d}");
    assert_eq!(d["flat_dots"].as_f64().unwrap(), (area * 110.0).round());
    assert!(dir.path().join("d.png").is_file());

    let o = run(
        dir.path(),
        &[
            "provenance",
            "--json",
            "out/session-2.png",
            "out/before.png",
        ],
    );
    // before.png is the photo: it records nothing, so the exit says so.
    assert!(!o.status.success());
    assert!(stderr(&o).contains("out/before.png"), "{}", stderr(&o));
    let p: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let images = p["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(images[0]["path"], "out/session-2.png");
    assert_eq!(images[0]["seed"], 1);
    assert!(images[0]["description"]
        .as_str()
        .unwrap()
        .contains("session 2 of 3"));
    assert!(images[0]["plan"]
        .as_str()
        .unwrap()
        .contains("px_per_mm = 3.27"));
    assert!(images[1]["plan"].is_null() && images[1]["description"].is_null());
    // `-`: the image on stdin, named <stdin>.
    let png = std::fs::read(dir.path().join("out/session-2.png")).unwrap();
    let o = run_with_stdin(dir.path(), &["provenance", "-"], &png);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("# <stdin>\n# Simulated preview"), "{text}");
    assert_eq!(
        text.split_once("# seed 1\n").unwrap().1,
        images[0]["plan"].as_str().unwrap()
    );
}

/// `-` as the photo reads it from stdin: the same pixels as from the file;
/// bad input on stdin is named `<stdin>`.
#[test]
fn a_photo_on_stdin_renders_as_from_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let photo = root().join("assets/photos/frl-london_037_03.jpg");
    let mask = root().join("assets/frl-london_037_03.region.png");
    let args = |p: &str, out: &str| {
        vec![
            "render".to_string(),
            p.to_string(),
            "--region".into(),
            mask.to_str().unwrap().into(),
            "--px-per-mm".into(),
            "3.27".into(),
            "--sessions".into(),
            "1".into(),
            "-o".into(),
            out.into(),
        ]
    };
    let a = args(photo.to_str().unwrap(), "file");
    let o = run(
        dir.path(),
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&photo).unwrap();
    let a = args("-", "stdin");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let o = run_with_stdin(dir.path(), &a, &bytes);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 3, "{}", stdout(&o));
    for f in ["before.png", "session-1.png"] {
        let from_file = image::open(dir.path().join("file").join(f)).unwrap();
        let from_stdin = image::open(dir.path().join("stdin").join(f)).unwrap();
        assert!(from_file.as_bytes() == from_stdin.as_bytes(), "{f} differs");
    }
    // The plan the images record names the photo as it was given, `-`,
    // not the temporary file it passed through.
    let o = run(
        dir.path(),
        &[
            "provenance",
            dir.path().join("stdin/session-1.png").to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("photo = \"-\""), "{}", stdout(&o));
    // Not a photo, a cut-short one, nothing: named <stdin>, no temporary path.
    for (input, says) in [
        (&b"not a photo"[..], "could not be determined"),
        (&bytes[..bytes.len() / 2], "cut short"),
        (&b""[..], "empty"),
    ] {
        let o = run_with_stdin(dir.path(), &a, input);
        let err = stderr(&o);
        assert!(!o.status.success(), "{says}: accepted");
        assert!(
            err.starts_with("smp-render: error: <stdin>: ") && err.contains(says),
            "{err}"
        );
        assert!(!err.contains("smp-render-"), "names its temporary: {err}");
    }
    // A saved plan could not name the photo: refused.
    let mut d = vec![
        "design",
        "-",
        "--px-per-mm",
        "3.27",
        "--polygon",
        "1,1 9,1 9,9",
    ];
    d.extend(["--save-plan", "p.toml"]);
    let o = run_with_stdin(dir.path(), &d, &bytes);
    assert!(
        !o.status.success() && stderr(&o).contains("save_plan"),
        "{}",
        stderr(&o)
    );
}

/// `-` as the output writes the one image (a sheet, a design overlay) to
/// stdout as PNG; where several files would be written, it is refused.
#[test]
fn one_image_goes_to_stdout_and_several_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join(DEMO_PLAN);
    let plan = plan.to_str().unwrap();
    let o = run(
        dir.path(),
        &["sheet", "--plan", plan, "--layout", "split", "-o", "-"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let sheet = image::load_from_memory_with_format(&o.stdout, image::ImageFormat::Png)
        .expect("stdout is a PNG");
    let o = run(
        dir.path(),
        &["sheet", "--plan", plan, "--layout", "split", "-o", "f"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "f/sheet-split.png\n");
    let file = image::open(dir.path().join("f/sheet-split.png")).unwrap();
    assert!(sheet.as_bytes() == file.as_bytes(), "the sheets differ");

    let o = run(dir.path(), &["design", "--plan", plan, "--overlay", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let overlay = image::load_from_memory_with_format(&o.stdout, image::ImageFormat::Png)
        .expect("stdout is a PNG");
    assert_eq!((overlay.width(), overlay.height()), (1350, 1350));

    for args in [
        vec!["render", "--plan", plan, "-o", "-"],
        vec!["timeline", "--plan", plan, "--out", "-"],
        vec![
            "sheet",
            "--plan",
            plan,
            "-o",
            "-",
            "--size",
            "square,portrait",
        ],
        vec!["design", "--plan", plan, "--overlay", "-", "--json"],
    ] {
        let o = run(dir.path(), &args);
        assert!(!o.status.success(), "{args:?} accepted");
        assert!(o.stdout.is_empty(), "{args:?}");
        assert!(stderr(&o).contains("standard output"), "{}", stderr(&o));
    }
    // Nothing but the folder `f` was written; no folder named "-".
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["f"]);
}

/// Shell completions and the manual page, on stdout.
#[test]
fn completions_and_man_page_are_printed() {
    let o = run(Path::new("."), &["completions", "bash"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bash = stdout(&o);
    assert!(
        bash.contains("complete -F") && bash.contains("smp-render"),
        "{bash}"
    );
    for word in [
        "render",
        "design",
        "provenance",
        "completions",
        "--quiet",
        "--json",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let o = run(Path::new("."), &["completions", shell]);
        assert!(
            o.status.success() && stdout(&o).contains("render"),
            "{shell}"
        );
    }
    let o = run(Path::new("."), &["completions", "tcsh"]);
    assert!(!o.status.success());
    let o = run(Path::new("."), &["man"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let man = stdout(&o);
    assert!(man.starts_with(".ie") || man.contains("\n.TH "), "{man}");
    assert!(man.contains(".TH smp-render 1"), "{man}");
    for word in ["render", "provenance", "quiet", "threads"] {
        assert!(man.contains(word), "the man page lacks {word}");
    }
}
