//! Renders the shipped photos as one batch through the library: the jobs
//! file `examples/jobs.toml`, parsed from memory, run at most two jobs at a
//! time, each job reported as it ends, the JSON report written beside the
//! outputs.
//!
//! ```text
//! cargo run --release --example batch [-- --out DIR]   # default: smp-out/examples/batch
//! ```

use std::path::Path;
use std::process::ExitCode;

use smp_render::{run_batch, Batch, BatchEvent, BatchOptions};

#[path = "shared/out_arg.rs"]
mod out_arg;
use out_arg::out_arg;

fn main() -> ExitCode {
    let (out, _) = out_arg("smp-out/examples/batch");
    // The path names the jobs in errors and is where relative paths start.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/jobs.toml");
    let batch = match Batch::parse(include_str!("jobs.toml"), &path, Some(out)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("batch: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = BatchOptions {
        max_in_flight: Some(2),
        ..Default::default()
    };
    let report = run_batch(&batch, &options, &|event| {
        if let BatchEvent::Finished(job) = event {
            match (&job.error, &job.dots_per_session) {
                (Some(e), _) => println!("{:<40} failed: {e}", job.name),
                (None, Some(dots)) => println!(
                    "{:<40} rendered in {:.2} s, dots per session {dots:?}",
                    job.name, job.seconds
                ),
                (None, None) => println!("{:<40} up to date", job.name),
            }
        }
    });
    let report_path = batch.default_report_path();
    if let Err(e) = report.write(&report_path) {
        eprintln!("batch: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "{} jobs in {:.1} s; report: {}",
        report.jobs.len(),
        report.seconds,
        report_path.display()
    );
    if report.summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
