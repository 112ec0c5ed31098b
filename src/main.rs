//! The `smp-render` command: parses arguments, calls the library, maps the
//! outcome to an exit code.
//!
//! Standard output carries only results: the paths of the files written
//! (one a line), an image written to `-`, a JSON summary (`--json`), a
//! listing (`shades`, `provenance`), a report or script. Everything else
//! (notes, progress, warnings, timings) goes to standard error, which
//! `-q/--quiet` silences but for errors.

mod cli;
mod io;
mod progress;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{CommandFactory, Parser};
use cli::{BatchArgs, Cli, Command};
use io::{StdinPhoto, TempDir, STDIN_NAME};
use progress::Progress;
use serde_json::{json, Value};

/// Set by `-q/--quiet`: no notes, progress or warnings on stderr.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Whether `-q/--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// An informational line on stderr, unless `--quiet`.
macro_rules! note {
    ($($t:tt)*) => {
        if !crate::quiet() {
            eprintln!($($t)*);
        }
    };
}

/// A warning on stderr (`smp-render: warning: …`), unless `--quiet`.
macro_rules! warning {
    ($($t:tt)*) => {
        if !crate::quiet() {
            eprintln!("smp-render: warning: {}", format_args!($($t)*));
        }
    };
}
pub(crate) use note;

/// mimalloc keeps freed image buffers for reuse instead of returning them to
/// the kernel, which saves much of the page-fault work of a render.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

extern "C" {
    /// mimalloc's `mi_option_set` (mimalloc.h), linked with the allocator.
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}
/// `mi_option_purge_delay` in mimalloc 3's `mi_option_t` (mimalloc.h).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
/// How long freed memory stays with mimalloc before it goes back to the
/// kernel, ms. mimalloc 3's default, 1000 ms, outlasts a render's stages,
/// so the memory of one stage (the region's buffers) was still held while
/// the next (the whole images being encoded) took fresh pages: at 100 ms
/// the peak of a 12 MP render fell from 222-238 to 180-188 MB, for
/// 0.02-0.05 s more system time (issue #17).
const PURGE_DELAY_MS: std::ffi::c_long = 100;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing to a closed pipe (`… | head`)
    // would panic; the default action ends the process quietly instead.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to its default, before any
    // thread is started, has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // No transparent huge pages for this process: where they are on
    // ("always", or "madvise", which mimalloc asks for), every fresh buffer
    // was faulted in and zeroed 2 MiB at a time, which made one render in
    // three spend 0.4-0.8 s in the kernel and rounded peak memory up
    // (issue #17: sys 0.17-0.20 s a run and 15-25 % less peak memory
    // without). Only this process is affected.
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: setting an option takes plain integers; mimalloc reads it
        // when it next considers purging.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
    let cli = Cli::parse();
    QUIET.store(cli.quiet, Ordering::Relaxed);
    if let Some(n) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n as usize)
            .build_global()
        {
            eprintln!("smp-render: cannot start {n} threads: {e}");
            return ExitCode::from(2);
        }
    }
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            let mut message = e.to_string();
            // A photo read from standard input went through a temporary
            // file: its errors name standard input.
            if let Some(tmp) = STDIN_NAME.get() {
                message = message.replace(&tmp.display().to_string(), "<stdin>");
            }
            eprintln!("smp-render: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Notes what clipping to the head and keeping the client's hair took out
/// of the region; `shown` is appended to each line (e.g. how an overlay
/// shows it).
fn say_taken_out(clipped: &smp_render::Clipped, hair_pixels: usize, shown: &str) {
    if clipped.pixels > 0 {
        note!(
            "region clipped to the head: {:.1} % of it lay on the background ({} px left out{shown})",
            100.0 * clipped.share,
            clipped.pixels
        );
    }
    if hair_pixels > 0 {
        note!("own hair left untouched: {hair_pixels} px (dots placed between the strands{shown})");
    }
}

/// The shade a render uses, as JSON: the plan's, or the one `--shade auto`
/// (or the default) chose with what it was matched to.
fn shade_json(report: &smp_render::JobReport, plan: &smp_render::Plan) -> Value {
    let hex = |c: [u8; 3]| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
    match &report.shade_match {
        Some(m) => json!({
            "name": m.shade.name,
            "dilution": num(m.shade.dilution),
            "auto": m.fallback.is_none(),
            "fallback": m.fallback,
            "delta_e2000": m.fallback.is_none().then_some(num(m.delta_e)),
            "hair": hex(m.hair),
            "hair_pixels": m.hair_pixels,
            "skin": hex(m.skin),
        }),
        None => json!({
            "name": plan.shade.name,
            "dilution": num(plan.shade.dilution),
            "auto": false,
            "fallback": null,
            "delta_e2000": null,
            "hair": null,
            "hair_pixels": null,
            "skin": null,
        }),
    }
}

/// Writes `bytes` (an image, a report) to standard output.
fn write_stdout(bytes: &[u8]) -> Result<(), smp_render::Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| smp_render::Error::io("standard output", e))
}

/// An `f32` as the `f64` with the same shortest decimal form, so that JSON
/// says 3.27 and not 3.2699999809265137.
fn num(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::NAN)
}

/// Prints a JSON value on one line of standard output.
fn print_json(v: &Value) {
    println!("{v}");
}

/// Whether `path` is `-`: standard input or output.
fn is_dash(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Refuses `--out -` for a subcommand that writes several files.
fn refuse_stdout(out: Option<&Path>, what: &str) -> Result<(), smp_render::Error> {
    if out.is_some_and(is_dash) {
        return Err(smp_render::Error::field(
            "command line",
            "out",
            "-",
            format!(
                "{what} writes several files, and standard output takes one image: give a \
                 folder (`sheet -o -` writes one sheet, `design --overlay -` one overlay)"
            ),
        ));
    }
    Ok(())
}

/// The photo argument `-` read from standard input into a temporary file,
/// and `args` pointing at it (errors about it name `<stdin>`).
fn with_stdin_photo(
    args: &cli::RenderArgs,
) -> Result<(Option<StdinPhoto>, std::borrow::Cow<'_, cli::RenderArgs>), smp_render::Error> {
    match &args.photo {
        Some(p) if is_dash(p) => {
            let photo = StdinPhoto::read()?;
            let args = cli::RenderArgs {
                photo: Some(photo.path().to_path_buf()),
                ..args.clone()
            };
            Ok((Some(photo), std::borrow::Cow::Owned(args)))
        }
        _ => Ok((None, std::borrow::Cow::Borrowed(args))),
    }
}

/// The photo's name as messages show it.
fn photo_name(job: &smp_render::RenderJob, stdin: &Option<StdinPhoto>) -> String {
    match stdin {
        Some(_) => "<stdin>".into(),
        None => job.photo.display().to_string(),
    }
}

fn run(command: Command) -> Result<ExitCode, smp_render::Error> {
    match command {
        Command::Batch(args) => return batch(&args),
        Command::MergeReports(args) => {
            let reports = args
                .reports
                .iter()
                .map(|p| smp_render::BatchReport::load(p))
                .collect::<Result<Vec<_>, _>>()?;
            let merged = smp_render::BatchReport::merge(&reports, &args.reports)?;
            match args.out.as_deref().filter(|p| !is_dash(p)) {
                Some(path) => {
                    merged.write(path)?;
                    println!("{}", path.display());
                }
                None => write_stdout(&merged.to_json()?)?,
            }
            note!("{}", progress::summary(&merged));
            for job in merged.jobs.iter().filter(|j| j.error.is_some()) {
                eprintln!(
                    "smp-render: error: job {} `{}`: {}",
                    job.index,
                    job.name,
                    job.error.as_deref().unwrap_or("")
                );
            }
            return Ok(if merged.summary.failed > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            });
        }
        Command::Render(cmd) => render(&cmd)?,
        Command::Design(args) => design(&args)?,
        Command::Timeline(args) => {
            refuse_stdout(args.render.out.as_deref(), "timeline")?;
            let (stdin, render) = with_stdin_photo(&args.render)?;
            let render = render.into_owned();
            let (job, stages) = cli::TimelineArgs { render, ..*args }.job()?;
            if let Some(note) = &job.scale_note {
                note!("{note}");
            }
            let spinner = progress::Spinner::start(format!(
                "rendering {} at {} stages",
                photo_name(&job, &stdin),
                stages.len()
            ));
            let report = smp_render::run_timeline(&job, &stages);
            spinner.finish();
            let report = report?;
            note!("dots: {}; pigment blur: {:.2} px", report.dots, report.blur);
            for o in &report.outputs {
                println!("{}", o.display());
            }
        }
        Command::Sheet(args) => {
            let (stdin, render) = with_stdin_photo(&args.render)?;
            let render = render.into_owned();
            let args = cli::SheetArgs { render, ..*args };
            let mut job = args.job()?;
            let to_stdout = is_dash(&job.out_dir);
            let tmp = if to_stdout {
                if job.canvases.len() > 1 {
                    return Err(smp_render::Error::field(
                        "command line",
                        "out",
                        "-",
                        "standard output takes one sheet, and --size asks for one per size: \
                         give one --size, or a folder",
                    ));
                }
                let tmp = TempDir::new()?;
                job.out_dir = tmp.path().to_path_buf();
                Some(tmp)
            } else {
                None
            };
            let report = smp_render::run_sheet(&job)?;
            drop(stdin);
            let sheets = &report.outputs[..report.sizes.len().min(report.outputs.len())];
            for (o, (w, h)) in sheets.iter().zip(&report.sizes) {
                if tmp.is_some() {
                    note!("sheet: {w} x {h} px to standard output");
                    write_stdout(&std::fs::read(o).map_err(|e| smp_render::Error::io(o, e))?)?;
                } else {
                    note!("{}: {w} x {h} px", o.display());
                    println!("{}", o.display());
                }
            }
            for o in report.outputs.iter().skip(report.sizes.len()) {
                if tmp.is_some() {
                    note!("wrote {}", o.display());
                } else {
                    println!("{}", o.display());
                }
            }
        }
        Command::Provenance { images, json } => {
            let mut missing = Vec::new();
            let mut found = Vec::new();
            for path in images {
                // `-`: the image on standard input, named <stdin>.
                let (path, bytes) = if is_dash(&path) {
                    (PathBuf::from("<stdin>"), io::read_stdin("images")?)
                } else {
                    let bytes =
                        std::fs::read(&path).map_err(|e| smp_render::Error::io(&path, e))?;
                    (path, bytes)
                };
                let p = smp_render::read_provenance(&bytes);
                if json {
                    found.push(json!({
                        "path": path.display().to_string(),
                        "description": p.as_ref().map(|p| &p.description),
                        "seed": p.as_ref().and_then(|p| p.seed),
                        "plan": p.as_ref().and_then(|p| p.plan.as_ref()),
                    }));
                } else if let Some(p) = &p {
                    // Printed as a plan file: everything but the plan is a comment.
                    println!("# {}", path.display());
                    println!("# {}", p.description);
                    if let Some(seed) = p.seed {
                        println!("# seed {seed}");
                    }
                    match &p.plan {
                        Some(plan) => print!("{plan}"),
                        None => println!("# (no plan recorded)"),
                    }
                }
                if p.is_none() {
                    missing.push(path);
                }
            }
            if json {
                print_json(&json!({ "images": found }));
            }
            if !missing.is_empty() {
                let names: Vec<String> = missing.iter().map(|p| p.display().to_string()).collect();
                return Err(smp_render::Error::field(
                    names.join(", "),
                    "provenance",
                    "(none)",
                    "no smp-render provenance in the file",
                ));
            }
        }
        Command::Studio(args) => smp_render::run_studio(args.options(crate::quiet()))?,
        Command::Shades => {
            for n in smp_render::NAMED_SHADES {
                let rgb = smp_render::Shade::parse(n.name, 1.0, "shades")?.swatch();
                println!(
                    "{:<12} #{:02x}{:02x}{:02x}  {}",
                    n.name, rgb[0], rgb[1], rgb[2], n.about
                );
            }
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "smp-render", &mut out);
            write_stdout(&out)?;
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| smp_render::Error::io("standard output", e))?;
            write_stdout(&out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `render`: the paths written on stdout (or the JSON summary), the rest
/// on stderr.
fn render(cmd: &cli::RenderCmd) -> Result<(), smp_render::Error> {
    refuse_stdout(cmd.render.out.as_deref(), "render")?;
    let (stdin, args) = with_stdin_photo(&cmd.render)?;
    let job = args.job()?;
    if let Some(note) = &job.scale_note {
        note!("{note}");
    }
    if args.dry_run {
        let e = smp_render::estimate_job(&job)?;
        if cmd.json {
            print_json(&json!({
                "photo": photo_name(&job, &stdin),
                "dry_run": true,
                "estimate": {
                    "dots": e.dots,
                    "bytes": e.bytes,
                    "area_cm2": e.area_cm2,
                },
                "limits": {
                    "max_dots": job.limits.max_dots,
                    "max_bytes": job.limits.max_bytes,
                },
                "scale_note": job.scale_note,
            }));
        } else {
            println!(
                "estimate: {} (limits: {} dots, {} MB); nothing written",
                e.describe(),
                job.limits.max_dots,
                job.limits.max_bytes >> 20
            );
        }
        return Ok(());
    }
    let name = photo_name(&job, &stdin);
    let spinner = progress::Spinner::start(format!(
        "rendering {name} ({} session{})",
        job.plan.sessions,
        if job.plan.sessions == 1 { "" } else { "s" }
    ));
    let report = smp_render::run_job(&job);
    spinner.finish();
    let report = report?;
    drop(stdin);
    if let Some(note) = &report.region_note {
        note!("{note}");
    }
    let t = &report.timings;
    let total: usize = report.dots_per_session.iter().sum();
    note!(
        "dots per session: {:?} (total {total})",
        report.dots_per_session
    );
    let mut warnings = Vec::new();
    if total == 0 {
        warnings.push(format!(
            "{name}: no dot was placed (the treated area is too small for one dot at this \
             scale and density, or lies on the background): the session images are the photo \
             unchanged"
        ));
    }
    for w in &warnings {
        warning!("{w}");
    }
    note!(
        "pigment blur: {:.2} px (camera and skin scatter)",
        report.blur
    );
    let head = match (&report.head, job.plan.head_shape) {
        (Some(h), _) => Some(h.describe(job.scale)),
        (None, true) => {
            Some("no head outline found against a backdrop; the scalp is taken as flat".to_string())
        }
        (None, false) => None,
    };
    if let Some(h) = &head {
        note!("head shape: {h}");
    }
    say_taken_out(&report.clipped, report.hair_pixels, "");
    if let Some(m) = report.shade_match.as_ref().filter(|m| m.fallback.is_some()) {
        note!(
            "shade: {} at dilution {:.2}, the default: {}; give --shade (or --hair X,Y) to choose",
            m.shade.name,
            m.shade.dilution,
            m.fallback.as_deref().unwrap_or_default()
        );
    } else if let Some(m) = &report.shade_match {
        note!(
            "shade auto: {} at dilution {:.2} (session 1 at {:.2}); ΔE2000 {:.1} to the hair #{:02x}{:02x}{:02x} ({} px) on skin #{:02x}{:02x}{:02x}",
            m.shade.name,
            m.shade.dilution,
            (m.shade.dilution - 0.1).max(0.2),
            m.delta_e,
            m.hair[0], m.hair[1], m.hair[2],
            m.hair_pixels,
            m.skin[0], m.skin[1], m.skin[2]
        );
    }
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    note!(
        "time: decode {:.0} ms, region {:.0} ms, dots {:.0} ms, composite {:.0} ms, write {:.0} ms",
        ms(t.decode),
        ms(t.region),
        ms(t.dots),
        ms(t.composite),
        ms(t.write)
    );
    if cmd.json {
        print_json(&json!({
            "photo": name,
            "px_per_mm": num(job.scale.px_per_mm()),
            "sessions": job.plan.sessions,
            "density_per_cm2": num(job.plan.density.0),
            "dots_per_session": report.dots_per_session,
            "dots_total": total,
            "pigment_blur_px": num(report.blur),
            "head_shape": head,
            "clipped": {
                "share": report.clipped.share,
                "pixels": report.clipped.pixels,
            },
            "hair_pixels": report.hair_pixels,
            "shade": shade_json(&report, &job.plan),
            "outputs": report.outputs.iter().map(|o| o.display().to_string()).collect::<Vec<_>>(),
            "scale_note": job.scale_note,
            "region_note": report.region_note,
            "warnings": warnings,
            "timings_ms": {
                "decode": ms(t.decode),
                "region": ms(t.region),
                "dots": ms(t.dots),
                "composite": ms(t.composite),
                "write": ms(t.write),
            },
        }));
    } else {
        for o in &report.outputs {
            println!("{}", o.display());
        }
    }
    Ok(())
}

/// `design`: the overlay (and plan) written, or the overlay on stdout.
fn design(args: &cli::DesignArgs) -> Result<(), smp_render::Error> {
    let (stdin, render) = with_stdin_photo(&args.render)?;
    if stdin.is_some() && args.save_plan.is_some() {
        return Err(smp_render::Error::field(
            "command line",
            "save_plan",
            "with the photo on standard input",
            "a saved plan names its photo by path, and a photo on standard input has none: \
             give the photo as a file",
        ));
    }
    let render = render.into_owned();
    let args = cli::DesignArgs {
        render,
        ..args.clone()
    };
    let (job, out) = args.job()?;
    let name = photo_name(&job, &stdin);
    if let Some(note) = &job.scale_note {
        note!("{note}");
    }
    let to_stdout = is_dash(&out) || (args.overlay.is_none() && is_dash(&job.out_dir));
    if to_stdout && args.json {
        return Err(smp_render::Error::field(
            "command line",
            "overlay",
            "-",
            "--json and an overlay on standard output both want standard output: give the \
             overlay a file",
        ));
    }
    let tmp = to_stdout.then(TempDir::new).transpose()?;
    let out = match &tmp {
        Some(t) => t.path().join("design.png"),
        None => out,
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| smp_render::Error::io(dir, e))?;
    }
    let r = smp_render::run_design(&job, &out, args.save_plan.as_deref())?;
    drop(stdin);
    if let Some(note) = &r.region_note {
        note!("{note}");
    }
    let flat_dots = r.area_cm2 * job.plan.density.0 as f64;
    note!(
        "region: {:.1} cm² at full weight ({flat_dots:.0} dots at {:.0} dots/cm² on a flat scalp)",
        r.area_cm2,
        job.plan.density.0
    );
    if let Some(h) = &r.hairline {
        note!(
            "hairline: {} style, transition {:.1} mm, edge irregularity {:.1}/{:.1} mm, isolated dots {:.0} % of the density, right side {:+.1} mm (asymmetry)",
            h.design.look.style.name(),
            h.params.transition_mm,
            h.params.macro_mm,
            h.params.micro_mm,
            100.0 * h.params.isolated,
            h.asymmetry_mm
        );
    }
    say_taken_out(&r.clipped, r.hair_pixels, ", shown red");
    if let Some(p) = &r.plan {
        note!(
            "render the plan with: smp-render render --plan {}",
            p.display()
        );
    }
    if tmp.is_some() {
        write_stdout(&std::fs::read(&r.output).map_err(|e| smp_render::Error::io(&r.output, e))?)?;
    } else if args.json {
        print_json(&json!({
            "photo": name,
            "overlay": r.output.display().to_string(),
            "plan": r.plan.as_ref().map(|p| p.display().to_string()),
            "px_per_mm": num(job.scale.px_per_mm()),
            "region_cm2": r.area_cm2,
            "density_per_cm2": num(job.plan.density.0),
            "flat_dots": flat_dots.round(),
            "hairline": r.hairline.as_ref().map(|h| json!({
                "style": h.design.look.style.name(),
                "transition_mm": num(h.params.transition_mm),
                "irregularity_mm": num(h.params.macro_mm),
                "fine_irregularity_mm": num(h.params.micro_mm),
                "isolated": num(h.params.isolated),
                "asymmetry_mm": num(h.asymmetry_mm),
            })),
            "clipped": {
                "share": r.clipped.share,
                "pixels": r.clipped.pixels,
            },
            "hair_pixels": r.hair_pixels,
            "shade": {
                "name": job.plan.shade.name,
                "dilution": num(job.plan.shade.dilution),
            },
            "sessions": job.plan.sessions,
            "scale_note": job.scale_note,
            "region_note": r.region_note,
        }));
    } else {
        println!("{}", r.output.display());
        if let Some(p) = &r.plan {
            println!("{}", p.display());
        }
    }
    Ok(())
}

/// Exit code of a batch stopped by Ctrl-C (128 + SIGINT).
const INTERRUPTED: u8 = 130;

fn batch(args: &BatchArgs) -> Result<ExitCode, smp_render::Error> {
    refuse_stdout(args.out.as_deref(), "batch")?;
    let batch = args.batch()?;
    // One batch at a time per output folder; a dry run writes nothing.
    let lock = if args.dry_run {
        None
    } else {
        let lock = smp_render::OutputLock::acquire(batch.out_dir(), args.wait)?;
        if let Some(previous) = lock.took_over() {
            note!(
                "smp-render: {}: took over the lock of a batch that is no longer running ({previous})",
                batch.out_dir().display()
            );
        }
        Some(lock)
    };
    let progress = Progress::new(batch.jobs().len());
    let options = args.options(stop_on_ctrl_c());
    let report = smp_render::run_batch(&batch, &options, &|e| progress.event(e));
    progress.finish();
    let written = match (args.dry_run, &args.report) {
        (true, _) => None,
        (false, Some(path)) => Some(path.clone()),
        (false, None) => Some(batch.default_report_path()),
    };
    if let Some(path) = &written {
        report.write(path)?;
    }
    drop(lock);
    progress::print_results(&report, written.as_deref());
    Ok(if report.interrupted {
        ExitCode::from(INTERRUPTED)
    } else if report.summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A flag the first Ctrl-C (or SIGTERM) sets, so that no new job starts
/// and running ones finish (their outputs are written atomically); a second
/// one quits at once.
fn stop_on_ctrl_c() -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let handler = move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(INTERRUPTED.into());
        }
        note!(
            "smp-render: stopping: no new job starts, running ones finish \
             (Ctrl-C again to quit now)"
        );
    };
    if let Err(e) = ctrlc::set_handler(handler) {
        warning!("Ctrl-C will not stop cleanly: {e}");
    }
    cancel
}
