//! The real binary's `batch`: bad jobs among good ones, skipping up-to-date
//! jobs, `--force`, `--dry-run`, jobs-file errors, Ctrl-C.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use serde_json::Value;

use crate::util::{root, run, stderr};

/// A small photo (a 400 × 300 crop of a shipped one) in `dir`.
fn small_photo(dir: &Path, name: &str, x0: u32) -> PathBuf {
    let photo = image::open(root().join("assets/photos/frl-london_037_03.jpg"))
        .unwrap()
        .to_rgb8();
    let crop = image::imageops::crop_imm(&photo, x0, 200, 400, 300).to_image();
    let path = dir.join(name);
    crop.save(&path).unwrap();
    path
}

/// A job of a small photo with a polygon region.
fn job(name: &str, photo: &str, extra: &str) -> String {
    format!(
        "[[job]]\nname = \"{name}\"\nphoto = \"{photo}\"\n\
         polygon = [[40, 40], [360, 40], [360, 260], [40, 260]]\npx_per_mm = 4\n{extra}\n"
    )
}

fn report(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn statuses(r: &Value) -> Vec<String> {
    r["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["status"].as_str().unwrap().to_string())
        .collect()
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

const OUTPUTS: [&str; 5] = [
    "before.png",
    "session-1.png",
    "session-2.png",
    "session-3.png",
    "before-after.png",
];

/// Every file in `dir` is one of the five outputs, and each decodes.
fn assert_complete(dir: &Path) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = OUTPUTS.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(names, want, "files in {}", dir.display());
    for n in OUTPUTS {
        image::open(dir.join(n)).unwrap_or_else(|e| panic!("{}/{n}: {e}", dir.display()));
    }
}

/// Three good jobs, a corrupt photo, a bad plan field and a missing photo.
fn mixed_batch(dir: &Path) {
    small_photo(dir, "a.png", 400);
    small_photo(dir, "b.png", 500);
    std::fs::write(dir.join("corrupt.jpg"), b"\xff\xd8\xff\xe0 not a jpeg").unwrap();
    let jobs = [
        "out_dir = \"out\"\n[defaults]\nsessions = 3\ncamera_blur_px = 1.0\n".to_string(),
        job("a1", "a.png", "seed = 1"),
        job("corrupt", "corrupt.jpg", ""),
        job("a2", "a.png", "seed = 2"),
        job("badplan", "b.png", "density_per_cm2 = 900"),
        job("b1", "b.png", ""),
        job("missing", "nothere.png", ""),
    ]
    .concat();
    std::fs::write(dir.join("jobs.toml"), jobs).unwrap();
}

#[test]
fn bad_jobs_fail_alone_and_the_rest_complete() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    mixed_batch(d);
    let o = run(d, &["--threads", "2", "batch", "jobs.toml"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    for good in ["a1", "a2", "b1"] {
        assert_complete(&d.join("out").join(good));
    }
    for bad in ["corrupt", "badplan", "missing"] {
        assert!(!d.join("out").join(bad).exists(), "{bad} has outputs");
    }
    let r = report(&d.join("out/batch-report.json"));
    assert_eq!(
        statuses(&r),
        ["rendered", "failed", "rendered", "failed", "rendered", "failed"]
    );
    let jobs = r["jobs"].as_array().unwrap();
    let error = |i: usize| jobs[i]["error"].as_str().unwrap().to_string();
    assert!(error(1).contains("corrupt.jpg") && error(1).contains("decode"));
    let bad = error(3);
    assert!(
        bad.contains("jobs.toml") && bad.contains("badplan") && bad.contains("density_per_cm2"),
        "{bad}"
    );
    assert!(error(5).contains("nothere.png"));
    // The good jobs' entries.
    let a2 = &jobs[2];
    assert_eq!(a2["seed"], 2);
    assert_eq!(a2["outputs"].as_array().unwrap().len(), 5);
    let dots: Vec<u64> = a2["dots_per_session"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(dots.len() == 3 && dots.iter().all(|&n| n > 10), "{dots:?}");
    assert!(a2["seconds"].as_f64().unwrap() > 0.0 && a2["error"].is_null());
    assert_eq!(
        r["summary"],
        serde_json::json!({"rendered": 3, "skipped": 0, "would_render": 0, "failed": 3, "cancelled": 0})
    );
    // Failures are on stderr, with their files.
    assert!(
        e.contains("corrupt.jpg") && e.contains("density_per_cm2") && e.contains("nothere.png")
    );
}

#[test]
fn rerun_skips_finished_jobs_and_force_renders_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    small_photo(d, "a.png", 400);
    small_photo(d, "b.png", 500);
    let jobs = [
        job("a", "a.png", ""),
        job("b", "b.png", ""),
        job("c", "a.png", "seed = 3"),
    ]
    .concat();
    std::fs::write(d.join("jobs.toml"), jobs).unwrap();
    let batch = |extra: &[&str]| {
        let mut args = vec!["batch", "jobs.toml", "--out", "o", "--report", "r.json"];
        args.extend_from_slice(extra);
        let o = run(d, &args);
        assert!(o.status.success(), "{}", stderr(&o));
        report(&d.join("r.json"))
    };
    assert_eq!(statuses(&batch(&[])), ["rendered"; 3]);
    let sheet = |j: &str| d.join("o").join(j).join("before-after.png");
    let first = mtime(&sheet("a"));

    // Nothing changed: nothing is rendered.
    assert_eq!(statuses(&batch(&[])), ["skipped"; 3]);
    assert_eq!(mtime(&sheet("a")), first);

    // A lost output (a killed run) and a newer input: only those jobs run.
    std::fs::remove_file(d.join("o/b/session-2.png")).unwrap();
    std::fs::write(d.join("o/c/.session-1.png.4242.tmp"), b"partial").unwrap();
    let photo = image::open(d.join("a.png")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    photo.save(d.join("a.png")).unwrap();
    let r = batch(&[]);
    assert_eq!(statuses(&r), ["rendered"; 3]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(statuses(&batch(&[])), ["skipped"; 3]);
    for j in ["a", "b", "c"] {
        assert_complete(&d.join("o").join(j));
    }

    // The jobs file is an input of every job.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let text = std::fs::read(d.join("jobs.toml")).unwrap();
    std::fs::write(d.join("jobs.toml"), text).unwrap();
    assert_eq!(statuses(&batch(&[])), ["rendered"; 3]);

    // --force renders everything again.
    let before = mtime(&sheet("b"));
    assert_eq!(statuses(&batch(&["--force"])), ["rendered"; 3]);
    assert!(mtime(&sheet("b")) > before);
}

#[test]
fn dry_run_counts_the_dots_of_a_render_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    small_photo(d, "a.png", 400);
    let jobs = [
        job("a", "a.png", "sessions = 2"),
        job("b", "a.png", "seed = 7"),
    ]
    .concat();
    std::fs::write(d.join("jobs.toml"), jobs).unwrap();
    let o = run(d, &["batch", "--dry-run", "jobs.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let entries: Vec<_> = std::fs::read_dir(d).unwrap().collect();
    assert_eq!(entries.len(), 2, "the dry run wrote files");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();

    let o = run(d, &["batch", "jobs.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(&d.join("smp-out/batch-report.json"));
    for (i, line) in out.lines().take(2).enumerate() {
        let dots = &r["jobs"][i]["dots_per_session"];
        let counts: Vec<String> = dots
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert!(
            line.contains("would render") && line.contains(&counts.join(" + ")),
            "dry run said {line:?}, the render made {dots}"
        );
    }
    assert_eq!(
        r["jobs"][0]["dots_per_session"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn bad_jobs_file_names_file_and_field_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    small_photo(d, "a.png", 400);
    let good = job("a", "a.png", "");
    for (text, needles) in [
        (
            format!("{good}dencity_per_cm2 = 80\n"),
            &["jobs.toml", "job 1", "dencity_per_cm2"][..],
        ),
        (
            format!("{good}seed = \"x\"\n"),
            &["jobs.toml", "job 1", "seed"],
        ),
        (
            format!("[defaults]\nfeather_mm = 99\n{good}"),
            &["jobs.toml", "defaults", "feather_mm", "0 to 60"],
        ),
        (format!("outdir = \"x\"\n{good}"), &["jobs.toml", "outdir"]),
        (
            format!("{good}{good}"),
            &["jobs.toml", "job 1 (`a`)", "job 2 (`a`)"],
        ),
        ("[[job]\n".to_string(), &["jobs.toml", "line 1"]),
    ] {
        std::fs::write(d.join("jobs.toml"), &text).unwrap();
        let o = run(d, &["batch", "jobs.toml"]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{text}: {e}");
        for n in needles {
            assert!(e.contains(n), "{text}: {e} lacks {n}");
        }
        assert!(!d.join("smp-out").exists(), "{text}: wrote outputs");
    }
    let o = run(d, &["batch", "nothere.toml"]);
    assert!(!o.status.success() && stderr(&o).contains("nothere.toml"));
}

#[test]
fn batch_output_is_the_render_output_and_a_folder_of_photos_works() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let photos = d.join("photos");
    std::fs::create_dir(&photos).unwrap();
    small_photo(&photos, "p.png", 400);
    small_photo(&photos, "q.png", 500);
    // q has a mask beside it; p takes the plan's polygon.
    let mut mask = image::GrayImage::new(400, 300);
    for y in 100..200 {
        for x in 100..300 {
            mask.put_pixel(x, y, image::Luma([255]));
        }
    }
    mask.save(photos.join("q.region.png")).unwrap();
    std::fs::write(
        d.join("plan.toml"),
        "polygon = [[40, 40], [360, 40], [360, 260]]\npx_per_mm = 4\nseed = 3\n",
    )
    .unwrap();
    let o = run(
        d,
        &[
            "batch",
            "--plan",
            "plan.toml",
            "photos",
            "--out",
            "b",
            "-j",
            "1",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_complete(&d.join("b/p"));
    assert_complete(&d.join("b/q"));
    for (name, region) in [("p", None), ("q", Some("photos/q.region.png"))] {
        let photo = format!("photos/{name}.png");
        let out = format!("r-{name}");
        let mut args = vec!["render", "--plan", "plan.toml", &photo, "--out", &out];
        if let Some(mask) = region {
            args.extend(["--region", mask]);
        }
        let o = run(d, &args);
        assert!(o.status.success(), "{}", stderr(&o));
        for n in OUTPUTS {
            assert!(
                std::fs::read(d.join("b").join(name).join(n)).unwrap()
                    == std::fs::read(d.join(&out).join(n)).unwrap(),
                "{name}/{n}: batch and render differ"
            );
        }
    }
}

#[test]
fn ctrl_c_cancels_jobs_not_started_and_a_rerun_finishes_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let jobs: String = (1..=8)
        .map(|i| {
            format!(
                "[[job]]\nname = \"j{i}\"\nplan = \"{}\"\nseed = {i}\n",
                root().join("assets/frl-london_037_03.toml").display()
            )
        })
        .collect();
    std::fs::write(d.join("jobs.toml"), jobs).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_smp-render"))
        .args(["--threads", "1", "batch", "jobs.toml"])
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("rendered"), "{first}");
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    let r = report(&d.join("smp-out/batch-report.json"));
    let s = statuses(&r);
    let rendered = s.iter().filter(|s| *s == "rendered").count();
    let cancelled = s.iter().filter(|s| *s == "cancelled").count();
    assert!(
        rendered >= 1 && cancelled >= 1 && rendered + cancelled == 8,
        "{s:?}"
    );
    assert_eq!(r["interrupted"], true);
    // Finished jobs are complete; cancelled ones left nothing behind.
    for (i, st) in s.iter().enumerate() {
        let out = d.join(format!("smp-out/j{}", i + 1));
        if st == "rendered" {
            assert_complete(&out);
        } else {
            assert!(!out.exists(), "cancelled job {} wrote files", i + 1);
        }
    }
    let o = run(d, &["batch", "jobs.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = statuses(&report(&d.join("smp-out/batch-report.json")));
    for (before, now) in s.iter().zip(&again) {
        let want = if before == "rendered" {
            "skipped"
        } else {
            "rendered"
        };
        assert_eq!(now, want, "{s:?} then {again:?}");
    }
}

/// Eight jobs of small photos in `d`, writing to `d/out`.
fn eight_jobs(d: &Path) {
    small_photo(d, "a.png", 400);
    let jobs: String = (1..=8)
        .map(|i| job(&format!("j{i}"), "a.png", &format!("seed = {i}")))
        .collect();
    std::fs::write(d.join("jobs.toml"), format!("out_dir = \"out\"\n{jobs}")).unwrap();
}

#[test]
fn two_batches_in_one_process_on_one_folder_lose_nothing() {
    // The library has no lock of its own: two batches of one process on
    // one folder write the same outputs side by side. Each temporary file
    // has its own name and neither removes the other's.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    eight_jobs(d);
    let batch = smp_render::Batch::load(&d.join("jobs.toml"), None).unwrap();
    let options = smp_render::BatchOptions {
        force: true,
        max_in_flight: Some(2),
        ..Default::default()
    };
    for round in 0..3 {
        let reports: Vec<smp_render::BatchReport> = std::thread::scope(|s| {
            let a = s.spawn(|| smp_render::run_batch(&batch, &options, &|_| {}));
            let b = s.spawn(|| smp_render::run_batch(&batch, &options, &|_| {}));
            vec![a.join().unwrap(), b.join().unwrap()]
        });
        for r in &reports {
            let errors: Vec<_> = r.jobs.iter().filter_map(|j| j.error.clone()).collect();
            assert_eq!(r.summary.rendered, 8, "round {round}: {errors:?}");
        }
    }
    for i in 1..=8 {
        assert_complete(&d.join(format!("out/j{i}")));
    }
}

#[test]
fn a_second_batch_on_a_folder_in_use_is_refused_or_waits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    eight_jobs(d);
    let lock = smp_render::OutputLock::acquire(&d.join("out"), false).unwrap();
    let o = run(d, &["batch", "jobs.toml"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("out: the output folder is in use by another batch")
            && e.contains(&format!("pid {}", std::process::id()))
            && e.contains("--wait"),
        "{e}"
    );
    assert!(!d.join("out/j1").exists(), "a refused batch wrote");
    // With --wait it starts once the lock is let go.
    let waiting = Command::new(env!("CARGO_BIN_EXE_smp-render"))
        .args(["batch", "jobs.toml", "--wait"])
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(!d.join("out/j1").exists(), "a waiting batch wrote");
    drop(lock);
    let status = waiting.wait_with_output().unwrap().status;
    assert!(status.success());
    assert_complete(&d.join("out/j1"));
    assert!(!d.join("out").join(smp_render::LOCK_FILE).exists());
}

#[test]
fn two_concurrent_batch_runs_on_one_folder_both_complete_with_wait() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    eight_jobs(d);
    let spawn = |report: &str| {
        Command::new(env!("CARGO_BIN_EXE_smp-render"))
            .args(["--threads", "1", "batch", "jobs.toml", "--force", "--wait"])
            .args(["--report", report])
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("a.json"), spawn("b.json"));
    for (child, name) in [(a, "a.json"), (b, "b.json")] {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let r = report(&d.join(name));
        assert_eq!(r["summary"]["rendered"], 8, "{name}");
        assert_eq!(r["summary"]["failed"], 0, "{name}");
    }
    for i in 1..=8 {
        assert_complete(&d.join(format!("out/j{i}")));
    }
}

#[test]
fn a_stale_lock_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    eight_jobs(d);
    // The lock file of a batch that was killed: nobody holds it.
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    std::fs::create_dir(d.join("out")).unwrap();
    let lock = d.join("out").join(smp_render::LOCK_FILE);
    std::fs::write(&lock, format!("pid {pid}\nhost x\nstarted 1\n")).unwrap();
    let o = run(d, &["batch", "jobs.toml"]);
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    assert!(
        e.contains("took over the lock") && e.contains(&format!("pid {pid}")),
        "{e}"
    );
    assert!(!lock.exists());
    assert_complete(&d.join("out/j8"));
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn a_jobs_file_writes_only_inside_its_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path();
    let d = top.join("studio/batch");
    std::fs::create_dir_all(&d).unwrap();
    small_photo(&d, "a.png", 400);
    std::fs::write(top.join("notes.csv"), "my notes\n").unwrap();
    let abs = top.join("abs");
    // A link inside the output folder that leads out of it.
    std::fs::create_dir_all(d.join("out")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(top, d.join("out/link")).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (format!("out = \"{}\"", abs.display()), "`out`"),
        ("out = \"../../x\"".into(), "`out`"),
        ("dots = \"../../../notes.csv\"".into(), "`dots`"),
        ("dots = \"link/notes.csv\"".into(), "`dots`"),
        ("out = \"link/y\"".into(), "`out`"),
    ];
    let before = files_under(top);
    for (key, field) in &cases {
        let text = format!("out_dir = \"out\"\n{}", job("a", "a.png", key));
        std::fs::write(d.join("jobs.toml"), text).unwrap();
        let o = run(&d, &["batch", "jobs.toml"]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{key}: {e}");
        assert!(
            e.contains("jobs.toml: job 1 (`a`)")
                && e.contains(field)
                && e.contains("only inside the batch's output folder")
                && e.contains("--allow-outside"),
            "{key}: {e}"
        );
        let mut now = files_under(top);
        now.retain(|f| !f.ends_with("batch-report.json") && !f.ends_with("jobs.toml"));
        let mut was = before.clone();
        was.retain(|f| !f.ends_with("jobs.toml"));
        assert_eq!(now, was, "{key} wrote a file");
        assert_eq!(std::fs::read(top.join("notes.csv")).unwrap(), b"my notes\n");
    }
    // The jobs file's own out_dir stays in the jobs file's folder.
    for out_dir in ["../../x", "/tmp/smp-render-outside"] {
        let text = format!("out_dir = \"{out_dir}\"\n{}", job("a", "a.png", ""));
        std::fs::write(d.join("jobs.toml"), text).unwrap();
        let o = run(&d, &["batch", "jobs.toml"]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{out_dir}: {e}");
        assert!(
            e.contains("jobs.toml: field `out_dir`")
                && e.contains("inside the jobs file's folder")
                && e.contains("--out"),
            "{e}"
        );
        assert!(!top.join("x").exists() && !Path::new(out_dir).exists());
    }
    // Relative outputs are relative to the output folder, and allowed.
    let text = format!(
        "out_dir = \"out\"\n{}",
        job("a", "a.png", "out = \"mine\"\ndots = \"mine/dots.csv\"")
    );
    std::fs::write(d.join("jobs.toml"), text).unwrap();
    let o = run(&d, &["batch", "jobs.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("out/mine/session-3.png").is_file() && d.join("out/mine/dots.csv").is_file());
    // --allow-outside lets the jobs file write where it says.
    let text = format!(
        "out_dir = \"../elsewhere\"\n{}",
        job("a", "a.png", &format!("out = \"{}\"", abs.display()))
    );
    std::fs::write(d.join("jobs.toml"), text).unwrap();
    let o = run(&d, &["batch", "jobs.toml", "--allow-outside"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(abs.join("session-1.png").is_file());
    assert!(top.join("studio/elsewhere/batch-report.json").is_file());
}

#[test]
fn a_file_smp_render_did_not_write_is_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    small_photo(d, "a.png", 400);
    std::fs::create_dir_all(d.join("out/a")).unwrap();
    std::fs::write(d.join("out/clients.csv"), "name,phone\n").unwrap();
    let jobs = format!(
        "out_dir = \"out\"\n{}{}",
        job("a", "a.png", ""),
        job("b", "a.png", "dots = \"clients.csv\"")
    );
    std::fs::write(d.join("jobs.toml"), jobs).unwrap();
    // A photo of the studio's own where job a's `before` goes.
    small_photo(&d.join("out/a"), "before.png", 300);
    let theirs = std::fs::read(d.join("out/a/before.png")).unwrap();
    let o = run(d, &["batch", "jobs.toml"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("out/a/before.png: the file exists and was not written by smp-render")
            && e.contains("out/clients.csv: the file exists and was not written by smp-render")
            && e.contains("dots CSV's header")
            && e.contains("--force"),
        "{e}"
    );
    assert_eq!(std::fs::read(d.join("out/a/before.png")).unwrap(), theirs);
    assert_eq!(
        std::fs::read_to_string(d.join("out/clients.csv")).unwrap(),
        "name,phone\n"
    );
    assert!(!d.join("out/a/session-1.png").exists());
    // Its own outputs it replaces: a re-run with another seed renders again.
    std::fs::remove_file(d.join("out/a/before.png")).unwrap();
    std::fs::remove_file(d.join("out/clients.csv")).unwrap();
    let o = run(d, &["batch", "jobs.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let jobs = format!(
        "out_dir = \"out\"\n{}{}",
        job("a", "a.png", "seed = 9"),
        job("b", "a.png", "dots = \"clients.csv\"\nseed = 9")
    );
    std::fs::write(d.join("jobs.toml"), jobs).unwrap();
    let o = run(d, &["batch", "jobs.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        statuses(&report(&d.join("out/batch-report.json"))),
        ["rendered", "rendered"]
    );
    // --force replaces a file that is not smp-render's.
    std::fs::write(d.join("out/clients.csv"), "name,phone\n").unwrap();
    let o = run(d, &["batch", "jobs.toml", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(d.join("out/clients.csv"))
        .unwrap()
        .starts_with(smp_render::DOTS_CSV_HEADER));
}

#[test]
fn shards_on_their_own_roots_merge_into_the_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    small_photo(d, "a.png", 400);
    let jobs: String = (1..=7)
        .map(|i| job(&format!("client-{i}"), "a.png", &format!("seed = {i}")))
        .chain([job("broken", "missing.png", "")])
        .collect();
    std::fs::write(d.join("jobs.toml"), jobs).unwrap();
    let mut reports = Vec::new();
    let mut seen = Vec::new();
    for k in 1..=3 {
        let out = format!("shard-{k}");
        let o = run(
            d,
            &[
                "batch",
                "jobs.toml",
                "--shard",
                &format!("{k}/3"),
                "--out",
                &out,
            ],
        );
        let r = report(&d.join(&out).join("batch-report.json"));
        assert_eq!(r["shard"], serde_json::json!({"index": k, "count": 3}));
        for j in r["jobs"].as_array().unwrap() {
            let name = j["name"].as_str().unwrap().to_string();
            if name != "broken" {
                assert_complete(&d.join(&out).join(&name));
            }
            seen.push(name);
        }
        let broken = r["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["name"] == "broken");
        assert_eq!(o.status.code(), Some(broken as i32), "{}", stderr(&o));
        reports.push(format!("{out}/batch-report.json"));
    }
    seen.sort();
    let mut want: Vec<String> = (1..=7).map(|i| format!("client-{i}")).collect();
    want.push("broken".into());
    want.sort();
    assert_eq!(seen, want, "every job in exactly one shard");
    let mut args = vec!["merge-reports", "--out", "merged.json"];
    // In any order.
    args.extend(reports.iter().rev().map(String::as_str));
    let o = run(d, &args);
    let e = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the failed job is not hidden: {e}"
    );
    assert!(
        e.contains("8 jobs: 7 rendered, 0 up to date, 1 failed") && e.contains("missing.png"),
        "{e}"
    );
    let m = report(&d.join("merged.json"));
    let indexes: Vec<u64> = m["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, (1..=8).collect::<Vec<u64>>());
    assert_eq!(m["summary"]["rendered"], 7);
    assert_eq!(m["summary"]["failed"], 1);
    // A shard missing, or given twice: refused by name.
    let o = run(d, &["merge-reports", &reports[0], &reports[2]]);
    assert!(
        stderr(&o).contains("shard 2/3 is missing"),
        "{}",
        stderr(&o)
    );
    let o = run(d, &["merge-reports", &reports[0], &reports[1], &reports[1]]);
    assert!(stderr(&o).contains("same shard"), "{}", stderr(&o));
}

/// A greyscale mask of `small_photo`'s size (400 × 300): white inside the
/// rectangle `x0..x1 × y0..y1`, black elsewhere.
fn rect_mask(path: &Path, x0: u32, y0: u32, x1: u32, y1: u32) {
    image::GrayImage::from_fn(400, 300, |x, y| {
        image::Luma([if (x0..x1).contains(&x) && (y0..y1).contains(&y) {
            255
        } else {
            0
        }])
    })
    .save(path)
    .unwrap();
}

/// What is edited, how, and the statuses the jobs must then have.
type Edit<'a> = (&'a str, &'a dyn Fn(), [&'a str; 4]);

#[test]
fn a_job_whose_mask_changed_renders_again_and_the_others_do_not() {
    // Every file a job reads is an input: its region mask, its scar mask,
    // and a plan file with the mask that file names. Editing one renders
    // the jobs that read it, and only those, with the new mask.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    small_photo(d, "a.png", 400);
    rect_mask(&d.join("m.png"), 40, 40, 200, 260);
    rect_mask(&d.join("s.png"), 150, 100, 250, 200);
    rect_mask(&d.join("pm.png"), 100, 40, 360, 200);
    std::fs::write(d.join("p.toml"), "region = \"pm.png\"\nseed = 5\n").unwrap();
    let jobs = [
        "[defaults]\ncamera_blur_px = 1.0\nsessions = 2\n".to_string(),
        "[[job]]\nname = \"masked\"\nphoto = \"a.png\"\nregion = \"m.png\"\npx_per_mm = 4\n"
            .to_string(),
        job("scarred", "a.png", "scar = \"s.png\""),
        job("plain", "a.png", "seed = 2"),
        "[[job]]\nname = \"planned\"\nplan = \"p.toml\"\nphoto = \"a.png\"\npx_per_mm = 4\n"
            .to_string(),
    ]
    .concat();
    std::fs::write(d.join("jobs.toml"), jobs).unwrap();
    let batch = || {
        let o = run(
            d,
            &["batch", "jobs.toml", "--out", "o", "--report", "r.json"],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        statuses(&report(&d.join("r.json")))
    };
    let after = |j: &str| {
        image::open(d.join("o").join(j).join("session-2.png"))
            .unwrap()
            .to_rgb8()
    };
    assert_eq!(batch(), ["rendered"; 4]);
    assert_eq!(batch(), ["skipped"; 4]);

    // Each edit, and the jobs it must render again (in the file's order:
    // masked, scarred, plain, planned).
    let edits: [Edit; 4] = [
        (
            "the region mask",
            &|| rect_mask(&d.join("m.png"), 200, 40, 360, 260),
            ["rendered", "skipped", "skipped", "skipped"],
        ),
        (
            "the scar mask",
            &|| rect_mask(&d.join("s.png"), 60, 60, 160, 160),
            ["skipped", "rendered", "skipped", "skipped"],
        ),
        (
            "the mask a plan file names",
            &|| rect_mask(&d.join("pm.png"), 40, 100, 300, 260),
            ["skipped", "skipped", "skipped", "rendered"],
        ),
        (
            "the plan file",
            &|| std::fs::write(d.join("p.toml"), "region = \"pm.png\"\nseed = 6\n").unwrap(),
            ["skipped", "skipped", "skipped", "rendered"],
        ),
    ];
    for (what, edit, want) in edits {
        let images: Vec<_> = ["masked", "scarred", "plain", "planned"]
            .iter()
            .map(|j| after(j))
            .collect();
        // Past the file system's timestamp granularity.
        std::thread::sleep(std::time::Duration::from_millis(20));
        edit();
        assert_eq!(batch(), want, "after editing {what}");
        for (i, j) in ["masked", "scarred", "plain", "planned"].iter().enumerate() {
            let same = after(j) == images[i];
            assert_eq!(
                same,
                want[i] == "skipped",
                "after editing {what}: job {j} {}",
                if same { "kept its image" } else { "changed" }
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(batch(), ["skipped"; 4], "after editing {what}, again");
    }
}
