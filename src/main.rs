//! The `smp-render` command: parses arguments, calls the library, maps the
//! outcome to an exit code.

mod cli;
mod progress;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Parser;
use cli::{BatchArgs, Cli, Command};
use progress::Progress;

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
            eprintln!("smp-render: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints what clipping to the head and keeping the client's hair took out
/// of the region; `shown` is appended to each line (e.g. how an overlay
/// shows it).
fn say_taken_out(clipped: &smp_render::Clipped, hair_pixels: usize, shown: &str) {
    if clipped.pixels > 0 {
        println!(
            "region clipped to the head: {:.1} % of it lay on the background ({} px left out{shown})",
            100.0 * clipped.share,
            clipped.pixels
        );
    }
    if hair_pixels > 0 {
        println!(
            "own hair left untouched: {hair_pixels} px (dots placed between the strands{shown})"
        );
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
            match &args.out {
                Some(path) => merged.write(path)?,
                None => {
                    use std::io::Write;
                    let json = merged.to_json()?;
                    std::io::stdout()
                        .write_all(&json)
                        .map_err(|e| smp_render::Error::io("standard output", e))?;
                }
            }
            eprintln!("{}", progress::summary(&merged));
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
        Command::Render(args) => {
            let job = args.job()?;
            if let Some(note) = &job.scale_note {
                println!("{note}");
            }
            if args.dry_run {
                let e = smp_render::estimate_job(&job)?;
                println!(
                    "estimate: {} (limits: {} dots, {} MB); nothing written",
                    e.describe(),
                    job.limits.max_dots,
                    job.limits.max_bytes >> 20
                );
                return Ok(ExitCode::SUCCESS);
            }
            let spinner = progress::Spinner::start(format!(
                "rendering {} ({} session{})",
                job.photo.display(),
                job.plan.sessions,
                if job.plan.sessions == 1 { "" } else { "s" }
            ));
            let report = smp_render::run_job(&job);
            spinner.finish();
            let report = report?;
            if let Some(note) = &report.region_note {
                println!("{note}");
            }
            let t = &report.timings;
            println!(
                "dots per session: {:?} (total {})",
                report.dots_per_session,
                report.dots_per_session.iter().sum::<usize>()
            );
            if report.dots_per_session.iter().sum::<usize>() == 0 {
                eprintln!(
                    "smp-render: warning: {}: no dot was placed (the treated area is too small \
                     for one dot at this scale and density, or lies on the background): the \
                     session images are the photo unchanged",
                    job.photo.display()
                );
            }
            println!(
                "pigment blur: {:.2} px (camera and skin scatter)",
                report.blur
            );
            match (&report.head, job.plan.head_shape) {
                (Some(h), _) => println!("head shape: {}", h.describe(job.scale)),
                (None, true) => println!(
                    "head shape: no head outline found against a backdrop; the scalp is taken as flat"
                ),
                (None, false) => {}
            }
            say_taken_out(&report.clipped, report.hair_pixels, "");
            if let Some(m) = report.shade_match.as_ref().filter(|m| m.fallback.is_some()) {
                println!(
                    "shade: {} at dilution {:.2}, the default: {}; give --shade (or --hair X,Y) to choose",
                    m.shade.name,
                    m.shade.dilution,
                    m.fallback.as_deref().unwrap_or_default()
                );
            } else if let Some(m) = &report.shade_match {
                println!(
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
            for o in &report.outputs {
                println!("wrote {}", o.display());
            }
            println!(
                "time: decode {:.0} ms, region {:.0} ms, dots {:.0} ms, composite {:.0} ms, write {:.0} ms",
                t.decode.as_secs_f64() * 1e3,
                t.region.as_secs_f64() * 1e3,
                t.dots.as_secs_f64() * 1e3,
                t.composite.as_secs_f64() * 1e3,
                t.write.as_secs_f64() * 1e3
            );
        }
        Command::Design(args) => {
            let (job, out) = args.job()?;
            if let Some(note) = &job.scale_note {
                println!("{note}");
            }
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| smp_render::Error::io(dir, e))?;
            }
            let r = smp_render::run_design(&job, &out, args.save_plan.as_deref())?;
            if let Some(note) = &r.region_note {
                println!("{note}");
            }
            println!(
                "region: {:.1} cm² at full weight ({:.0} dots at {:.0} dots/cm² on a flat scalp)",
                r.area_cm2,
                r.area_cm2 * job.plan.density.0 as f64,
                job.plan.density.0
            );
            if let Some(h) = &r.hairline {
                println!(
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
            println!("wrote {}", r.output.display());
            if let Some(p) = &r.plan {
                println!(
                    "wrote {} (render it with: smp-render render --plan {})",
                    p.display(),
                    p.display()
                );
            }
        }
        Command::Timeline(args) => {
            let (job, stages) = args.job()?;
            let spinner = progress::Spinner::start(format!(
                "rendering {} at {} stages",
                job.photo.display(),
                stages.len()
            ));
            let report = smp_render::run_timeline(&job, &stages);
            spinner.finish();
            let report = report?;
            println!("dots: {}; pigment blur: {:.2} px", report.dots, report.blur);
            for o in &report.outputs {
                println!("wrote {}", o.display());
            }
        }
        Command::Sheet(args) => {
            let job = args.job()?;
            let report = smp_render::run_sheet(&job)?;
            for (o, (w, h)) in report.outputs.iter().zip(&report.sizes) {
                println!("wrote {} ({w} x {h} px)", o.display());
            }
            for o in report.outputs.iter().skip(report.sizes.len()) {
                println!("wrote {}", o.display());
            }
        }
        Command::Provenance { images } => {
            let mut missing = Vec::new();
            for path in images {
                let bytes = std::fs::read(&path).map_err(|e| smp_render::Error::io(&path, e))?;
                match smp_render::read_provenance(&bytes) {
                    Some(p) => {
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
                    None => missing.push(path),
                }
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
        Command::Studio(args) => smp_render::run_studio(args.options())?,
        Command::Shades => {
            for n in smp_render::NAMED_SHADES {
                let rgb = smp_render::Shade::parse(n.name, 1.0, "shades")?.swatch();
                println!(
                    "{:<12} #{:02x}{:02x}{:02x}  {}",
                    n.name, rgb[0], rgb[1], rgb[2], n.about
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Exit code of a batch stopped by Ctrl-C (128 + SIGINT).
const INTERRUPTED: u8 = 130;

fn batch(args: &BatchArgs) -> Result<ExitCode, smp_render::Error> {
    let batch = args.batch()?;
    // One batch at a time per output folder; a dry run writes nothing.
    let lock = if args.dry_run {
        None
    } else {
        let lock = smp_render::OutputLock::acquire(batch.out_dir(), args.wait)?;
        if let Some(previous) = lock.took_over() {
            eprintln!(
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
        eprintln!(
            "smp-render: stopping: no new job starts, running ones finish \
             (Ctrl-C again to quit now)"
        );
    };
    if let Err(e) = ctrlc::set_handler(handler) {
        eprintln!("smp-render: warning: Ctrl-C will not stop cleanly: {e}");
    }
    cancel
}
