//! Batch progress on stderr (binary only): an `indicatif` bar when stderr is
//! a terminal, one plain line per finished job otherwise (logs, CI, pipes).

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use smp_render::{BatchEvent, BatchReport, JobResult, JobStatus};

/// Shows a batch's progress.
pub struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: AtomicUsize,
}

impl Progress {
    /// Progress over `total` jobs.
    pub fn new(total: usize) -> Self {
        let bar = (std::io::stderr().is_terminal() && !crate::quiet()).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30.cyan/blue} {pos}/{len} jobs  {elapsed} (eta {eta})  {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        Progress {
            bar,
            total,
            done: AtomicUsize::new(0),
        }
    }

    /// Takes one event of the batch (from any thread).
    pub fn event(&self, event: BatchEvent<'_>) {
        let BatchEvent::Finished(r) = event else {
            return;
        };
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let width = self.total.to_string().len();
        let line = format!("[{n:>width$}/{}] {}", self.total, describe(r));
        match &self.bar {
            Some(bar) => {
                if r.status == JobStatus::Failed {
                    bar.println(line);
                }
                bar.set_message(format!("{} {}", status_word(r.status), r.name));
                bar.inc(1);
            }
            None => crate::note!("{line}"),
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn status_word(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Rendered => "rendered",
        JobStatus::Skipped => "up to date",
        JobStatus::WouldRender => "would render",
        JobStatus::Failed => "FAILED",
        JobStatus::Cancelled => "cancelled",
    }
}

fn dots(r: &JobResult) -> String {
    r.dots_per_session.as_ref().map_or(String::new(), |d| {
        let parts: Vec<String> = d.iter().map(usize::to_string).collect();
        format!(
            "dots per session {} (total {})",
            parts.join(" + "),
            d.iter().sum::<usize>()
        )
    })
}

/// One line about a finished job.
pub fn describe(r: &JobResult) -> String {
    let head = format!("job {} `{}`: {}", r.index, r.name, status_word(r.status));
    match r.status {
        JobStatus::Failed => format!("{head}: {}", r.error.as_deref().unwrap_or("")),
        JobStatus::Cancelled => head,
        _ => {
            let dots = dots(r);
            let sep = if dots.is_empty() { "" } else { ", " };
            format!("{head} in {:.2} s{sep}{dots}", r.seconds)
        }
    }
}

/// The one-line summary of a batch.
pub fn summary(report: &BatchReport) -> String {
    let s = &report.summary;
    let mut parts = Vec::new();
    if report.dry_run {
        parts.push(format!("{} would render", s.would_render));
    } else {
        parts.push(format!("{} rendered", s.rendered));
    }
    parts.push(format!("{} up to date", s.skipped));
    parts.push(format!("{} failed", s.failed));
    if s.cancelled > 0 {
        parts.push(format!("{} cancelled", s.cancelled));
    }
    format!(
        "{} jobs{}{}: {} in {:.1} s ({} in flight at most, {} threads)",
        report.jobs.len(),
        report
            .shard
            .map_or_else(String::new, |s| format!(" of shard {s}")),
        if report.dry_run { " (dry run)" } else { "" },
        parts.join(", "),
        report.seconds,
        report.max_in_flight,
        report.threads
    )
}

/// Prints the outcome of a batch: each job's dots in a dry run and where the
/// report went (stdout: the results), a summary and every failure (stderr).
pub fn print_results(report: &BatchReport, report_path: Option<&Path>) {
    if report.dry_run {
        for job in &report.jobs {
            println!("{}", describe(job));
        }
    }
    if let Some(path) = report_path {
        println!("{}", path.display());
    }
    crate::note!("{}", summary(report));
    for job in &report.jobs {
        if let Some(e) = &job.error {
            // Errors from a job's own settings already name it.
            let named = e.contains(&format!("job {} (`", job.index));
            let label = format!("job {} `{}`: ", job.index, job.name);
            eprintln!("smp-render: error: {}{e}", if named { "" } else { &label });
        }
    }
}

/// A spinner on stderr for one long piece of work (a render of a huge
/// photo): it appears only when stderr is a terminal and the work is still
/// running after [`SPINNER_DELAY`], and says what is being done and for how
/// long. Dropped (or [`Spinner::finish`]ed), it clears itself.
pub struct Spinner {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How long work runs before its spinner appears.
pub const SPINNER_DELAY: std::time::Duration = std::time::Duration::from_secs(2);

impl Spinner {
    /// Starts timing `message` (e.g. "rendering photo.jpg").
    pub fn start(message: String) -> Spinner {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = (std::io::stderr().is_terminal() && !crate::quiet()).then(|| {
            let done = done.clone();
            std::thread::spawn(move || {
                let step = std::time::Duration::from_millis(50);
                let mut waited = std::time::Duration::ZERO;
                while waited < SPINNER_DELAY {
                    if done.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(step);
                    waited += step;
                }
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg}  {elapsed}")
                        .expect("valid template"),
                );
                bar.set_message(message);
                while !done.load(Ordering::Relaxed) {
                    bar.tick();
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                bar.finish_and_clear();
            })
        });
        Spinner { done, thread }
    }

    /// Stops and clears the spinner.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop();
    }
}
