//! Batch rendering: many jobs from one TOML jobs file, side by side, with
//! memory bounded.
//!
//! A jobs file lists `[[job]]` tables. Each takes the keys of a plan file
//! ([`PlanFile`]), plus `name` (its output folder's name) and `plan` (a plan
//! file it starts from), over an optional `[defaults]` table of the same
//! keys that every job inherits. Settings are layered, later over earlier:
//! the defaults' `plan` file, the `[defaults]` keys, the job's `plan` file,
//! the job's own keys. Relative paths are relative to the file they are
//! written in. A job without `out` writes to `<out_dir>/<name>`, its name
//! being the photo's file stem unless given.
//!
//! [`Batch`] resolves every job before anything runs. A jobs file that
//! cannot be read, has an unknown key or a value of the wrong type, bad
//! defaults, or two jobs writing the same file is an error for the whole
//! batch; a job whose own plan file is missing or whose values are out of
//! range is kept as a failed job and reported while the others run, as is a
//! job whose photo turns out to be missing or corrupt.
//!
//! [`run_batch`] runs the jobs on the current rayon pool, at most
//! [`BatchOptions::max_in_flight`] at once. Jobs are not handed to rayon as
//! one parallel iterator: that cannot take a limit other than the thread
//! count, and it does not even guarantee that one, since a worker waiting
//! inside one job's `join` runs whatever task is at hand, which may be the
//! start of another job. Instead a fixed number of slots each start the next
//! job only when their own job has finished, so at most that many photos
//! (with their session images) are in memory whatever the batch size (a
//! unit test checks the bound under nested parallel work). Within a job
//! rayon still spreads tiles and encodes over every thread, and a second job
//! in flight fills the cores where one job runs a stage on one thread only
//! (decoding, the sampler's phases).
//!
//! Outputs are written with [`crate::write_atomic`], so a stopped or killed
//! batch leaves finished outputs and no half-written file. A job is skipped
//! when all its outputs exist and are newer than all its inputs (photo, mask,
//! plan files and the jobs file), so re-running a stopped batch finishes only
//! what is missing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::photo::{photo_dimensions, remove_stale_temporaries, write_atomic};
use crate::plan::{Plan, PlanFile};
use crate::render::{run_job, RenderJob, DEFAULT_OUT_DIR};

/// File name of the JSON report, written in the batch's output folder
/// unless another path is given.
pub const REPORT_FILE: &str = "batch-report.json";

/// File name of the lock a running batch holds in its output folder.
pub const LOCK_FILE: &str = ".smp-render-batch.lock";

/// A batch's hold on its output folder, so that no second batch writes
/// there at the same time: a lock file ([`LOCK_FILE`]) in the folder,
/// locked with `flock` (so the operating system releases it when the
/// process ends, however it ends), holding the process id, host and start
/// time for the message a second batch gets. The file is removed when the
/// lock is dropped. A lock file left by a killed batch is not locked and is
/// taken over; [`OutputLock::took_over`] says whose it was. (On systems
/// other than Unix the file is created exclusively instead and a stale one
/// must be removed by hand.)
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
    took_over: Option<String>,
    _file: std::fs::File,
}

impl OutputLock {
    /// Takes the lock of `dir` (created if missing). Held by another
    /// process: waits for it with `wait`, else [`Error::FolderInUse`],
    /// naming the folder and the holder.
    pub fn acquire(dir: &Path, wait: bool) -> Result<OutputLock> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(LOCK_FILE);
        loop {
            if let Some(lock) = Self::try_once(dir, &path, wait)? {
                return Ok(lock);
            }
            // Unix: the file was removed as it was locked, try again at
            // once. Otherwise: `wait`, and the file exists: poll.
            if cfg!(not(unix)) {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        }
    }

    fn holder_of(path: &Path) -> String {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let text = text.trim();
        if text.is_empty() {
            "a batch that is starting".into()
        } else {
            text.replace('\n', ", ")
        }
    }

    fn contents() -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .or_else(|| std::env::var("COMPUTERNAME").ok())
            .unwrap_or_else(|| "unknown host".into());
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        format!(
            "pid {}\nhost {}\nstarted {since} (seconds since 1970)\n",
            std::process::id(),
            host.trim()
        )
    }

    #[cfg(unix)]
    fn try_once(dir: &Path, path: &Path, wait: bool) -> Result<Option<OutputLock>> {
        use std::io::{Read, Seek, Write};
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::io::AsRawFd;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let op = libc::LOCK_EX | if wait { 0 } else { libc::LOCK_NB };
        // SAFETY: flock on a file descriptor this function owns.
        while unsafe { libc::flock(file.as_raw_fd(), op) } != 0 {
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EWOULDBLOCK) => {
                    return Err(Error::FolderInUse {
                        dir: dir.to_path_buf(),
                        holder: Self::holder_of(path),
                    })
                }
                _ => return Err(Error::io(path, e)),
            }
        }
        // The holder removes the file as it lets go: what this process
        // locked may no longer be the file at `path`; then start again.
        let locked = file.metadata().map_err(|e| Error::io(path, e))?;
        match std::fs::metadata(path) {
            Ok(now) if now.ino() == locked.ino() && now.dev() == locked.dev() => {}
            _ => return Ok(None),
        }
        let mut previous = String::new();
        let _ = file.read_to_string(&mut previous);
        let took_over = (!previous.trim().is_empty()).then(|| previous.trim().replace('\n', ", "));
        let io = |e| Error::io(path, e);
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        file.write_all(Self::contents().as_bytes()).map_err(io)?;
        Ok(Some(OutputLock {
            path: path.to_path_buf(),
            took_over,
            _file: file,
        }))
    }

    #[cfg(not(unix))]
    fn try_once(dir: &Path, path: &Path, wait: bool) -> Result<Option<OutputLock>> {
        use std::io::Write;
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(mut file) => {
                file.write_all(Self::contents().as_bytes())
                    .map_err(|e| Error::io(path, e))?;
                Ok(Some(OutputLock {
                    path: path.to_path_buf(),
                    took_over: None,
                    _file: file,
                }))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if wait {
                    Ok(None)
                } else {
                    Err(Error::FolderInUse {
                        dir: dir.to_path_buf(),
                        holder: format!(
                            "{}; if no batch runs there, delete {}",
                            Self::holder_of(path),
                            path.display()
                        ),
                    })
                }
            }
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Whose lock file this lock took over: a batch that ended without
    /// removing it (killed), as its file said.
    pub fn took_over(&self) -> Option<&str> {
        self.took_over.as_deref()
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still locked, so that a waiting batch sees it gone.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// File extensions (any case) taken as photos by [`Batch::from_photos`].
pub const PHOTO_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "tif", "tiff"];

/// The suffix of a region mask beside its photo for [`Batch::from_photos`]:
/// `photo.jpg` takes `photo.region.png`.
pub const MASK_SUFFIX: &str = ".region.png";

/// The top level of a jobs file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsFile {
    out_dir: Option<PathBuf>,
    #[serde(default)]
    defaults: toml::Table,
    #[serde(default)]
    job: Vec<toml::Table>,
}

/// One layer of settings: a plan file or a table of a jobs file, its paths
/// already resolved.
#[derive(Debug, Clone)]
struct Layer {
    fields: PlanFile,
    /// Names the layer in error messages.
    source: String,
    /// The plan file the layer was read from, an input of the job.
    file: Option<PathBuf>,
}

impl Layer {
    fn plan_file(path: &Path) -> Result<Layer> {
        Ok(Layer {
            fields: PlanFile::load(path)?,
            source: path.display().to_string(),
            file: Some(path.to_path_buf()),
        })
    }
}

/// A table of a jobs file split into its batch keys and its plan keys.
struct Entry {
    name: Option<String>,
    plan: Option<PathBuf>,
    fields: PlanFile,
}

fn take_string(
    table: &mut toml::Table,
    key: &str,
    syntax: &dyn Fn(String) -> Error,
) -> Result<Option<String>> {
    match table.remove(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(syntax(format!(
            "field `{key}` must be a string, not {}",
            v.type_str()
        ))),
    }
}

/// Splits a table; `what` names it ("defaults", "job 3") in errors about
/// `file`. Relative inputs (photo, masks, plan) are resolved against `dir`,
/// the jobs file's folder; relative outputs (`out`, `dots`) against `root`,
/// the batch's output folder.
fn entry(
    mut table: toml::Table,
    file: &Path,
    what: &str,
    dir: &Path,
    root: &Path,
) -> Result<Entry> {
    let syntax = |reason: String| Error::PlanSyntax {
        path: file.to_path_buf(),
        reason: format!("{what}: {reason}"),
    };
    let name = take_string(&mut table, "name", &syntax)?;
    let plan = take_string(&mut table, "plan", &syntax)?.map(|p| dir.join(p));
    let mut fields: PlanFile =
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| {
                let mut reason = e.to_string().trim_end().to_string();
                if reason.contains("unknown field") {
                    reason.push_str(", or `name`, `plan`");
                }
                syntax(reason)
            })?;
    let auto = fields.region.as_deref() == Some(Path::new(crate::render::AUTO_REGION));
    for p in [
        fields.photo.as_mut(),
        fields.region.as_mut().filter(|_| !auto),
        fields.scar.as_mut(),
    ]
    .into_iter()
    .flatten()
    {
        if p.is_relative() {
            *p = dir.join(&*p);
        }
    }
    for p in [&mut fields.out, &mut fields.dots].into_iter().flatten() {
        if p.is_relative() {
            *p = root.join(&*p);
        }
    }
    Ok(Entry { name, plan, fields })
}

/// Merges layers, later over earlier, into fields and a checked plan. A
/// layer that gives a region (mask or polygon) replaces the earlier one,
/// whichever kind either is.
fn merge<'a>(layers: impl IntoIterator<Item = &'a Layer>) -> Result<(PlanFile, Plan)> {
    let mut fields = PlanFile::default();
    let mut plan = Plan::for_client();
    for l in layers {
        plan = l.fields.apply_to(plan, &l.source)?;
        let mut merged = fields.overridden_by(l.fields.clone());
        if l.fields.region.is_some() || l.fields.polygon.is_some() {
            merged.region = l.fields.region.clone();
            merged.polygon = l.fields.polygon.clone();
        }
        fields = merged;
    }
    Ok((fields, plan))
}

/// What every job of a batch shares: the defaults and where outputs go.
struct Resolver {
    base: Vec<Layer>,
    out_dir: PathBuf,
    /// The jobs file, an input of every job.
    jobs_file: Option<PathBuf>,
    /// Names the batch in error messages.
    source: String,
    /// Whether jobs may write outside `out_dir`.
    allow_outside: bool,
}

impl Resolver {
    /// The job `index` (from 1) named `name` from its own layers.
    fn job(&self, own: Result<Vec<Layer>>, index: usize, name: &str) -> Result<RenderJob> {
        let own = own?;
        let layers = || self.base.iter().chain(own.iter());
        let (mut fields, plan) = merge(layers())?;
        if fields.out.is_none() {
            fields.out = Some(self.out_dir.join(name));
        }
        let label = format!("{}: job {index} (`{name}`)", self.source);
        if !self.allow_outside {
            for (field, path) in [("out", &fields.out), ("dots", &fields.dots)] {
                if let Some(p) = path.as_ref().filter(|p| !is_inside(p, &self.out_dir)) {
                    return Err(Error::field(
                        &label,
                        field,
                        p.display(),
                        format!(
                            "a jobs file writes only inside the batch's output folder {} \
                             (a relative path, without `..` or links leading out of it); \
                             run with --allow-outside to let it write anywhere",
                            self.out_dir.display()
                        ),
                    ));
                }
            }
        }
        let mut job = RenderJob::from_fields(&fields, plan, &label)?;
        job.other_inputs.extend(
            self.jobs_file
                .iter()
                .cloned()
                .chain(layers().filter_map(|l| l.file.clone())),
        );
        Ok(job)
    }
}

fn check_name(name: &str, source: &str, index: usize) -> Result<()> {
    let bad = name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']);
    if bad {
        return Err(Error::field(
            format!("{source}: job {index}"),
            "name",
            format!("{name:?}"),
            "must be a folder name: not empty, no `/` or `\\`, not `.` or `..`",
        ));
    }
    Ok(())
}

/// `path` as the operating system will resolve it when writing: absolute,
/// every existing component's symbolic links followed, `.` and `..` taken
/// in order (a `..` after a link leaves the link's target, as the system
/// does). Components that do not exist yet are taken as written.
pub fn real_path(path: &Path) -> PathBuf {
    use std::path::Component;
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    };
    let mut cur = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => cur.push(c),
            Component::CurDir => {}
            Component::ParentDir => {
                cur.pop();
            }
            Component::Normal(n) => {
                cur.push(n);
                if let Ok(real) = cur.canonicalize() {
                    cur = real;
                }
            }
        }
    }
    cur
}

/// Whether `path` lies inside the folder `root` (or is it), once both are
/// resolved as the operating system will ([`real_path`]).
pub fn is_inside(path: &Path, root: &Path) -> bool {
    real_path(path).starts_with(real_path(root))
}

fn stem(path: &Path) -> Option<String> {
    path.file_stem().map(|s| s.to_string_lossy().into_owned())
}

/// One job of a batch.
#[derive(Debug)]
pub struct BatchJob {
    /// The job's name: its `name`, else its photo's file stem; it names the
    /// job's output folder unless the job gives `out`.
    pub name: String,
    /// The checked job, or why it cannot run (reported as a failed job).
    pub job: Result<RenderJob>,
}

/// Jobs to render together, checked so that no two write the same file and
/// none reads another's output.
#[derive(Debug)]
pub struct Batch {
    jobs: Vec<BatchJob>,
    /// Each job's position in the file (from 1): its index in the report.
    indexes: Vec<usize>,
    out_dir: PathBuf,
    source: Option<PathBuf>,
    shard: Option<Shard>,
}

/// A share of a batch's jobs, for running one batch on several machines:
/// shard `k` of `n` (from 1) takes the jobs whose name hashes (64-bit
/// FNV-1a of its UTF-8 bytes) to `k - 1` modulo `n`. A job's shard depends on
/// its name alone, never on its place in the file or on the other jobs, so
/// reordering the jobs file or adding jobs moves no job to another shard,
/// and every job is in exactly one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, 1 to `count`.
    pub index: u32,
    /// How many shards the batch is split into.
    pub count: u32,
}

impl Shard {
    /// Shard `index` of `count`; `source` names where the value came from.
    pub fn new(index: u32, count: u32, source: &str) -> Result<Shard> {
        if count == 0 || index == 0 || index > count {
            return Err(Error::field(
                source,
                "shard",
                format!("{index}/{count}"),
                "K/N with N at least 1 and K from 1 to N (e.g. 2/4: the second of four shards)",
            ));
        }
        Ok(Shard { index, count })
    }

    /// Parses "K/N".
    pub fn parse(text: &str, source: &str) -> Result<Shard> {
        let bad = || {
            Error::field(
                source,
                "shard",
                text,
                "K/N with N at least 1 and K from 1 to N (e.g. 2/4: the second of four shards)",
            )
        };
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let k = k.trim().parse().map_err(|_| bad())?;
        let n = n.trim().parse().map_err(|_| bad())?;
        Shard::new(k, n, source)
    }

    /// Whether the job named `name` belongs to this shard.
    pub fn takes(&self, name: &str) -> bool {
        shard_hash(name) % self.count as u64 == (self.index - 1) as u64
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// 64-bit FNV-1a: fixed by its definition, the same on every platform and
/// in every version.
fn shard_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Batch {
    /// A batch of jobs built in memory. `out_dir` is where the report goes
    /// by default; `source` is the file the jobs came from, if any (named in
    /// errors).
    pub fn new(jobs: Vec<BatchJob>, out_dir: PathBuf, source: Option<PathBuf>) -> Result<Batch> {
        let source_name = source
            .as_ref()
            .map_or_else(|| "batch".to_string(), |p| p.display().to_string());
        let normal = |p: &Path| p.components().collect::<PathBuf>();
        let label = |i: usize| format!("job {} (`{}`)", i + 1, jobs[i].name);
        let mut writers: HashMap<PathBuf, usize> = HashMap::new();
        for (i, j) in jobs.iter().enumerate() {
            let Ok(job) = &j.job else { continue };
            for out in job.output_paths() {
                if let Some(k) = writers.insert(normal(&out), i) {
                    return Err(Error::field(
                        &source_name,
                        "out",
                        out.display(),
                        format!(
                            "written by both {} and {}; give each job its own `name` or `out`",
                            label(k),
                            label(i)
                        ),
                    ));
                }
            }
        }
        for (i, j) in jobs.iter().enumerate() {
            let Ok(job) = &j.job else { continue };
            for input in job.inputs() {
                if let Some(&k) = writers.get(&normal(&input)) {
                    return Err(Error::field(
                        &source_name,
                        "photo",
                        input.display(),
                        format!(
                            "{} reads what {} writes; jobs of a batch run side by side, \
                             so render them in two batches",
                            label(i),
                            label(k)
                        ),
                    ));
                }
            }
        }
        Ok(Batch {
            indexes: (1..=jobs.len()).collect(),
            jobs,
            out_dir,
            source,
            shard: None,
        })
    }

    /// Reads a jobs file. `out_dir`, if given, replaces the file's `out_dir`
    /// (the folder of jobs without `out`; default [`DEFAULT_OUT_DIR`]).
    pub fn load(path: &Path, out_dir: Option<PathBuf>) -> Result<Batch> {
        Batch::load_with(
            path,
            &LoadOptions {
                out_dir,
                ..Default::default()
            },
        )
    }

    /// [`Batch::load`] with [`LoadOptions`].
    pub fn load_with(path: &Path, options: &LoadOptions) -> Result<Batch> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Batch::parse_with(&text, path, options)
    }

    /// A batch from the text of a jobs file; `path` names it in errors and
    /// its folder is where relative paths start. The file itself is not
    /// read and need not exist; if it does, it is an input of every job
    /// (a job older than it is rendered again). See [`Batch::load`].
    pub fn parse(text: &str, path: &Path, out_dir: Option<PathBuf>) -> Result<Batch> {
        Batch::parse_with(
            text,
            path,
            &LoadOptions {
                out_dir,
                ..Default::default()
            },
        )
    }

    /// [`Batch::parse`] with [`LoadOptions`].
    pub fn parse_with(text: &str, path: &Path, options: &LoadOptions) -> Result<Batch> {
        let out_dir = options.out_dir.clone();
        let syntax = |reason: String| Error::PlanSyntax {
            path: path.to_path_buf(),
            reason,
        };
        let file: JobsFile =
            toml::from_str(text).map_err(|e| syntax(e.to_string().trim_end().to_string()))?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let source = path.display().to_string();
        if file.job.is_empty() {
            return Err(Error::field(
                &source,
                "job",
                "(missing)",
                "at least one [[job]] table is required",
            ));
        }
        let out_dir = match (out_dir, file.out_dir) {
            (Some(d), _) => d,
            (None, Some(d)) => {
                let resolved = dir.join(&d);
                let folder = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                };
                if !options.allow_outside && (d.is_absolute() || !is_inside(&resolved, folder)) {
                    return Err(Error::field(
                        &source,
                        "out_dir",
                        d.display(),
                        format!(
                            "a jobs file's out_dir must lie inside the jobs file's folder {} \
                             (a relative path, without `..` or links leading out of it); \
                             give the folder with --out instead, or run with --allow-outside",
                            real_path(folder).display()
                        ),
                    ));
                }
                resolved
            }
            (None, None) => DEFAULT_OUT_DIR.into(),
        };
        let defaults = entry(file.defaults, path, "defaults", dir, &out_dir)?;
        if defaults.name.is_some() {
            return Err(Error::field(
                format!("{source}: defaults"),
                "name",
                defaults.name.unwrap_or_default(),
                "a name belongs to one job, not to the defaults",
            ));
        }
        let mut base = Vec::new();
        if let Some(p) = &defaults.plan {
            base.push(Layer::plan_file(p)?);
        }
        base.push(Layer {
            fields: defaults.fields,
            source: format!("{source}: defaults"),
            file: None,
        });
        // Bad defaults would fail every job: an error for the whole batch.
        let (base_fields, _) = merge(&base)?;
        let resolver = Resolver {
            base,
            out_dir: out_dir.clone(),
            jobs_file: path.is_file().then(|| path.to_path_buf()),
            source: source.clone(),
            allow_outside: options.allow_outside,
        };
        let mut jobs = Vec::with_capacity(file.job.len());
        for (i, table) in file.job.into_iter().enumerate() {
            let index = i + 1;
            let e = entry(table, path, &format!("job {index}"), dir, &out_dir)?;
            let own_plan = e.plan.as_deref().map(Layer::plan_file).transpose();
            let name = e
                .name
                .or_else(|| e.fields.photo.as_deref().and_then(stem))
                .or_else(|| {
                    own_plan
                        .as_ref()
                        .ok()
                        .and_then(Option::as_ref)
                        .and_then(|l| l.fields.photo.as_deref().and_then(stem))
                })
                .or_else(|| base_fields.photo.as_deref().and_then(stem))
                .unwrap_or_else(|| format!("job-{index}"));
            check_name(&name, &source, index)?;
            let own = own_plan.map(|plan| {
                plan.into_iter()
                    .chain([Layer {
                        fields: e.fields,
                        source: format!("{source}: job {index} (`{name}`)"),
                        file: None,
                    }])
                    .collect()
            });
            let job = resolver.job(own, index, &name);
            jobs.push(BatchJob { name, job });
        }
        Batch::new(jobs, out_dir, Some(path.to_path_buf()))
    }

    /// A batch rendering every photo in `dir` (files ending in one of
    /// [`PHOTO_EXTENSIONS`], in name order) with the plan file `plan`, each
    /// to `<out_dir>/<photo stem>`. A photo's region is the mask beside it,
    /// `<stem>.region.png` ([`MASK_SUFFIX`]), if there is one, else the
    /// plan's region or polygon.
    pub fn from_photos(plan: &Path, dir: &Path, out_dir: Option<PathBuf>) -> Result<Batch> {
        Batch::from_photos_with(
            plan,
            dir,
            &LoadOptions {
                out_dir,
                ..Default::default()
            },
        )
    }

    /// [`Batch::from_photos`] with [`LoadOptions`].
    pub fn from_photos_with(plan: &Path, dir: &Path, options: &LoadOptions) -> Result<Batch> {
        let out_dir = options.out_dir.clone();
        let mut photos: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                let ext = p.extension().unwrap_or_default().to_string_lossy();
                p.is_file()
                    && !name.starts_with('.')
                    && !name.ends_with(MASK_SUFFIX)
                    && PHOTO_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
            })
            .collect();
        photos.sort();
        if photos.is_empty() {
            return Err(Error::field(
                dir.display().to_string(),
                "photos",
                "(none)",
                "the folder holds no JPEG, PNG, WebP or TIFF photo",
            ));
        }
        let source = plan.display().to_string();
        let resolver = Resolver {
            base: vec![Layer::plan_file(plan)?],
            out_dir: out_dir.clone().unwrap_or_else(|| DEFAULT_OUT_DIR.into()),
            jobs_file: None,
            source: source.clone(),
            allow_outside: options.allow_outside,
        };
        let jobs = photos
            .into_iter()
            .enumerate()
            .map(|(i, photo)| {
                let name = stem(&photo).unwrap_or_default();
                let mask = dir.join(format!("{name}{MASK_SUFFIX}"));
                let fields = PlanFile {
                    region: mask.is_file().then_some(mask),
                    photo: Some(photo.clone()),
                    ..Default::default()
                };
                let own = Ok(vec![Layer {
                    fields,
                    source: photo.display().to_string(),
                    file: None,
                }]);
                let job = resolver.job(own, i + 1, &name);
                BatchJob { name, job }
            })
            .collect();
        Batch::new(jobs, resolver.out_dir, Some(plan.to_path_buf()))
    }

    /// The jobs, in file order.
    pub fn jobs(&self) -> &[BatchJob] {
        &self.jobs
    }

    /// The batch with only the jobs of `shard` (see [`Shard`]); each keeps
    /// its place in the file as its index in the report.
    pub fn into_shard(self, shard: Shard) -> Batch {
        let (jobs, indexes) = self
            .jobs
            .into_iter()
            .zip(self.indexes)
            .filter(|(j, _)| shard.takes(&j.name))
            .unzip();
        Batch {
            jobs,
            indexes,
            shard: Some(shard),
            ..self
        }
    }

    /// The shard this batch is, if it is one.
    pub fn shard(&self) -> Option<Shard> {
        self.shard
    }

    /// The folder of jobs without their own `out`.
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// Where the report goes unless told otherwise: [`REPORT_FILE`] in
    /// [`Batch::out_dir`].
    pub fn default_report_path(&self) -> PathBuf {
        self.out_dir.join(REPORT_FILE)
    }
}

/// How to read a batch.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The batch's output folder, replacing a jobs file's `out_dir`
    /// (default [`DEFAULT_OUT_DIR`]). Default: `None`.
    pub out_dir: Option<PathBuf>,
    /// Let the jobs file write outside the output folder: an `out_dir`
    /// outside the jobs file's folder, and `out` or `dots` outside the
    /// output folder. Default: false, such a job fails naming the field.
    pub allow_outside: bool,
}

/// How to run a batch.
#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    /// Most jobs in flight at once; each holds its photo and every session
    /// image in memory. Default: `None`, the current rayon pool's thread
    /// count.
    pub max_in_flight: Option<usize>,
    /// Render jobs whose outputs are already up to date, and replace
    /// output files smp-render did not write. Default: false (a job whose
    /// output path holds a file without smp-render's metadata, or a dots
    /// CSV without its header, fails naming the file).
    pub force: bool,
    /// Only count each job's dots per session (decoding the mask but not the
    /// photo, and drawing nothing); write and delete nothing. Default: false.
    pub dry_run: bool,
    /// When set (by a Ctrl-C handler, say), jobs not yet started are
    /// cancelled; running jobs finish. Default: `None`.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// What became of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobStatus {
    /// Rendered and every output written.
    Rendered,
    /// Its outputs were up to date (or, in a dry run, would be).
    Skipped,
    /// A dry run counted its dots; a real run would render it.
    WouldRender,
    /// It could not be rendered; see [`JobResult::error`].
    Failed,
    /// The batch was stopped before the job started.
    Cancelled,
}

/// One job's line of the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobResult {
    /// Position in the batch, from 1.
    pub index: usize,
    /// The job's name.
    pub name: String,
    /// What became of it.
    pub status: JobStatus,
    /// The photo, when the job could be resolved.
    pub photo: Option<PathBuf>,
    /// Its output folder, when the job could be resolved.
    pub out_dir: Option<PathBuf>,
    /// Files written (rendered), found up to date (skipped), or that would
    /// be written (dry run).
    pub outputs: Vec<PathBuf>,
    /// Dots added by each session, when rendered or counted.
    pub dots_per_session: Option<Vec<usize>>,
    /// The plan's random seed, when the job could be resolved.
    pub seed: Option<u64>,
    /// Blur applied to the pigment layer, px, when rendered.
    pub blur_px: Option<f32>,
    /// Wall time spent on the job, seconds.
    pub seconds: f64,
    /// Why it failed, naming the file.
    pub error: Option<String>,
}

/// How many jobs ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Jobs rendered.
    pub rendered: usize,
    /// Jobs skipped as up to date.
    pub skipped: usize,
    /// Jobs a dry run would render.
    pub would_render: usize,
    /// Jobs failed.
    pub failed: usize,
    /// Jobs cancelled before they started.
    pub cancelled: usize,
}

/// What a batch did, job by job, in batch order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchReport {
    /// The jobs file (or plan file) the batch came from.
    pub source: Option<PathBuf>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Whether up-to-date jobs were rendered again.
    pub force: bool,
    /// Threads of the rayon pool the batch ran on.
    pub threads: usize,
    /// Most jobs in flight at once.
    pub max_in_flight: usize,
    /// Whether the batch was stopped before every job started.
    pub interrupted: bool,
    /// Wall time of the whole batch, seconds.
    pub seconds: f64,
    /// Counts by status.
    pub summary: Summary,
    /// The shard of the batch this run took, if it took one.
    #[serde(default)]
    pub shard: Option<Shard>,
    /// Every job, in batch order.
    pub jobs: Vec<JobResult>,
}

impl Summary {
    /// The counts of `jobs`.
    pub fn of(jobs: &[JobResult]) -> Summary {
        let mut summary = Summary::default();
        for j in jobs {
            *match j.status {
                JobStatus::Rendered => &mut summary.rendered,
                JobStatus::Skipped => &mut summary.skipped,
                JobStatus::WouldRender => &mut summary.would_render,
                JobStatus::Failed => &mut summary.failed,
                JobStatus::Cancelled => &mut summary.cancelled,
            } += 1;
        }
        summary
    }
}

impl BatchReport {
    /// Reads a report [`BatchReport::write`] wrote.
    pub fn load(path: &Path) -> Result<BatchReport> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::PlanSyntax {
            path: path.to_path_buf(),
            reason: format!("not a batch report of smp-render: {e}"),
        })
    }

    /// One report of the shards of one batch (`reports`, read from
    /// `paths`, named in errors): every shard 1 to N exactly once, no job
    /// twice, the jobs in file order, the summary counted again. Wall time
    /// is the longest shard's, threads and jobs in flight are summed.
    pub fn merge(reports: &[BatchReport], paths: &[PathBuf]) -> Result<BatchReport> {
        let name = |i: usize| {
            paths
                .get(i)
                .map_or_else(|| format!("report {}", i + 1), |p| p.display().to_string())
        };
        let Some(first) = reports.first() else {
            return Err(Error::field(
                "command line",
                "reports",
                "(none)",
                "give the report of every shard",
            ));
        };
        let mut count = None;
        let mut seen: HashMap<u32, usize> = HashMap::new();
        for (i, r) in reports.iter().enumerate() {
            let Some(s) = r.shard else {
                return Err(Error::field(
                    name(i),
                    "shard",
                    "(none)",
                    "this report is of a whole batch, not of a shard (batch --shard K/N)",
                ));
            };
            if *count.get_or_insert(s.count) != s.count {
                return Err(Error::field(
                    name(i),
                    "shard",
                    s,
                    format!(
                        "the other reports are of {} shards",
                        count.unwrap_or_default()
                    ),
                ));
            }
            if let Some(k) = seen.insert(s.index, i) {
                return Err(Error::field(
                    name(i),
                    "shard",
                    s,
                    format!("{} is the report of the same shard", name(k)),
                ));
            }
        }
        let n = count.unwrap_or(1);
        let missing: Vec<String> = (1..=n)
            .filter(|k| !seen.contains_key(k))
            .map(|k| format!("{k}/{n}"))
            .collect();
        if !missing.is_empty() {
            return Err(Error::field(
                "command line",
                "reports",
                format!("{} reports", reports.len()),
                format!(
                    "the report of shard {} is missing: give the report of every shard",
                    missing.join(", ")
                ),
            ));
        }
        let mut jobs: Vec<JobResult> = reports.iter().flat_map(|r| r.jobs.clone()).collect();
        jobs.sort_by_key(|j| j.index);
        if let Some(w) = jobs.windows(2).find(|w| w[0].index == w[1].index) {
            return Err(Error::field(
                "command line",
                "reports",
                format!("job {} (`{}`)", w[1].index, w[1].name),
                "is in two shards' reports: were they made from the same jobs file?",
            ));
        }
        Ok(BatchReport {
            source: first.source.clone(),
            dry_run: reports.iter().any(|r| r.dry_run),
            force: reports.iter().all(|r| r.force),
            threads: reports.iter().map(|r| r.threads).sum(),
            max_in_flight: reports.iter().map(|r| r.max_in_flight).sum(),
            interrupted: reports.iter().any(|r| r.interrupted),
            seconds: reports.iter().map(|r| r.seconds).fold(0.0, f64::max),
            summary: Summary::of(&jobs),
            shard: None,
            jobs,
        })
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut v = serde_json::to_vec_pretty(self).map_err(|e| Error::Encode {
            path: REPORT_FILE.into(),
            reason: e.to_string(),
        })?;
        v.push(b'\n');
        Ok(v)
    }

    /// Writes the report as JSON to `path` atomically, creating its folder.
    pub fn write(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let json = self.to_json().map_err(|e| match e {
            Error::Encode { reason, .. } => Error::Encode {
                path: path.to_path_buf(),
                reason,
            },
            e => e,
        })?;
        write_atomic(path, &json)
    }
}

/// Something a running batch tells its caller, from any thread.
#[derive(Debug, Clone, Copy)]
pub enum BatchEvent<'a> {
    /// A job started (rendering, checking its outputs, or counting dots).
    Started {
        /// Position in the batch, from 1.
        index: usize,
        /// The job's name.
        name: &'a str,
    },
    /// A job ended, however it ended (every job ends exactly once).
    Finished(&'a JobResult),
}

/// Whether every output of `job` exists and is newer than every input.
pub fn is_up_to_date(job: &RenderJob) -> bool {
    let mtime = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let newest_input = job
        .inputs()
        .iter()
        .map(mtime)
        .collect::<Option<Vec<_>>>()
        .and_then(|v| v.into_iter().max());
    let oldest_output = job
        .output_paths()
        .iter()
        .map(mtime)
        .collect::<Option<Vec<_>>>()
        .and_then(|v| v.into_iter().min());
    matches!((newest_input, oldest_output), (Some(i), Some(o)) if o > i)
}

/// Whether a batch may write over `path`: it does not exist, or smp-render
/// wrote it: an image with smp-render's metadata
/// ([`crate::written_by_smp_render`]), or, for the dots CSV (`csv`), a
/// file whose first line is [`crate::DOTS_CSV_HEADER`].
pub fn may_overwrite(path: &Path, csv: bool) -> bool {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else {
        // Missing (or unreadable, and then the write says why).
        return std::fs::symlink_metadata(path).is_err();
    };
    // The metadata comes first in the file.
    let mut head = Vec::new();
    if file.take(1 << 20).read_to_end(&mut head).is_err() {
        return false;
    }
    if csv {
        let header = crate::render::DOTS_CSV_HEADER.as_bytes();
        head.starts_with(header) && matches!(head.get(header.len()), Some(b'\n') | None)
    } else {
        crate::provenance::written_by_smp_render(&head)
    }
}

/// The dots each session of `job` would add: the sampling of a render,
/// without drawing anything, and without decoding the photo unless the plan
/// clips the region to the head or keeps the client's hair (both look at
/// the pixels).
pub fn count_dots(job: &RenderJob) -> Result<Vec<usize>> {
    let feather = job.scale.px(job.plan.feather);
    let (region, head) = if job.plan.clip_to_head
        || job.plan.keep_hair
        || job.plan.head_shape
        || job.region.needs_photo()
    {
        // Clipping to the head, keeping the hair and the head's shape look
        // at the pixels.
        let photo = crate::photo::load_photo(&job.photo)?;
        let region = job
            .region
            .build(&photo, job.scale, &job.plan, &job.source())?
            .region;
        let head = crate::render::fit_head(&photo, &region, &job.plan, job.scale);
        (
            crate::render::prepare_region(&job.plan, &photo, region)?.0,
            head,
        )
    } else {
        (
            job.region.load(photo_dimensions(&job.photo)?, feather)?,
            None,
        )
    };
    let mut counts = vec![0; job.plan.sessions as usize];
    for p in crate::render::place_points(&region, &job.plan, job.scale, head.as_ref()) {
        counts[p.session as usize - 1] += 1;
    }
    Ok(counts)
}

/// Runs `f(0..n)` on the current rayon pool, never more than `slots` calls
/// at once. Each slot runs one call and then hands its place to the next
/// index, so at most `slots` tasks exist even when a waiting worker steals
/// one into another call's stack.
fn for_each_bounded<F: Fn(usize) + Sync>(n: usize, slots: usize, f: F) {
    fn slot<'s, F: Fn(usize) + Sync>(
        s: &rayon::Scope<'s>,
        next: &'s AtomicUsize,
        n: usize,
        f: &'s F,
    ) {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i < n {
            f(i);
            s.spawn(move |s| slot(s, next, n, f));
        }
    }
    let next = AtomicUsize::new(0);
    let (next, f) = (&next, &f);
    rayon::scope(|s| {
        for _ in 0..slots.clamp(1, n.max(1)) {
            s.spawn(move |s| slot(s, next, n, f));
        }
    });
}

/// Runs every job of `batch`, at most [`BatchOptions::max_in_flight`] at a
/// time on the current rayon pool, carrying on past failed jobs, and tells
/// `on_event` as jobs start and end. Outputs are written as each job ends;
/// the report is returned, not written (see [`BatchReport::write`]).
pub fn run_batch(
    batch: &Batch,
    options: &BatchOptions,
    on_event: &(dyn Fn(BatchEvent<'_>) + Sync),
) -> BatchReport {
    let clock = Instant::now();
    let threads = rayon::current_num_threads();
    let slots = options.max_in_flight.unwrap_or(threads).max(1);
    let cancel = options.cancel.clone().unwrap_or_default();
    let results: Mutex<Vec<Option<JobResult>>> = Mutex::new(vec![None; batch.jobs.len()]);
    for_each_bounded(batch.jobs.len(), slots, |i| {
        let r = run_one(&batch.jobs[i], batch.indexes[i], options, &cancel, on_event);
        on_event(BatchEvent::Finished(&r));
        results.lock().unwrap()[i] = Some(r);
    });
    let jobs: Vec<JobResult> = results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every job ends"))
        .collect();
    let summary = Summary::of(&jobs);
    BatchReport {
        source: batch.source.clone(),
        dry_run: options.dry_run,
        force: options.force,
        threads,
        max_in_flight: slots.min(batch.jobs.len()),
        interrupted: summary.cancelled > 0,
        seconds: clock.elapsed().as_secs_f64(),
        summary,
        shard: batch.shard,
        jobs,
    }
}

fn run_one(
    bj: &BatchJob,
    index: usize,
    options: &BatchOptions,
    cancel: &AtomicBool,
    on_event: &(dyn Fn(BatchEvent<'_>) + Sync),
) -> JobResult {
    let mut r = JobResult {
        index,
        name: bj.name.clone(),
        status: JobStatus::Failed,
        photo: None,
        out_dir: None,
        outputs: Vec::new(),
        dots_per_session: None,
        seed: None,
        blur_px: None,
        seconds: 0.0,
        error: None,
    };
    let job = match &bj.job {
        Ok(job) => job,
        Err(e) => {
            r.error = Some(e.to_string().trim_end().to_string());
            return r;
        }
    };
    r.photo = Some(job.photo.clone());
    r.out_dir = Some(job.out_dir.clone());
    r.seed = Some(job.plan.seed);
    if cancel.load(Ordering::Relaxed) {
        r.status = JobStatus::Cancelled;
        return r;
    }
    on_event(BatchEvent::Started {
        index,
        name: &bj.name,
    });
    let clock = Instant::now();
    if !options.force {
        let outputs = job.output_paths();
        if let Some(foreign) = outputs.iter().enumerate().find_map(|(i, p)| {
            let is_csv = job.dots_csv.as_ref() == Some(p);
            // Earlier builds wrote `before` without metadata: it is
            // taken as ours when its session images beside it are.
            let ours = may_overwrite(p, is_csv)
                || (i == 0
                    && p.is_file()
                    && outputs[1].is_file()
                    && may_overwrite(&outputs[1], false));
            (!ours).then(|| p.clone())
        }) {
            r.seconds = clock.elapsed().as_secs_f64();
            r.error = Some(format!(
                "{}: the file exists and was not written by smp-render ({}); refusing to \
                 overwrite it: move it away, give the job another `out` or `dots`, or run \
                 with --force",
                foreign.display(),
                if job.dots_csv.as_ref() == Some(&foreign) {
                    "its first line is not the dots CSV's header"
                } else {
                    "it carries no smp-render metadata"
                }
            ));
            return r;
        }
    }
    let up_to_date = !options.force && is_up_to_date(job);
    let outcome = if options.dry_run {
        count_dots(job).map(|counts| {
            r.dots_per_session = Some(counts);
            r.outputs = job.output_paths();
            if up_to_date {
                JobStatus::Skipped
            } else {
                JobStatus::WouldRender
            }
        })
    } else {
        // Temporaries of a killed run; best effort, a write reports its own errors.
        for out in job.output_paths() {
            let _ = remove_stale_temporaries(&out);
        }
        if up_to_date {
            r.outputs = job.output_paths();
            Ok(JobStatus::Skipped)
        } else {
            run_job(job).map(|report| {
                r.outputs = report.outputs;
                r.dots_per_session = Some(report.dots_per_session);
                r.blur_px = Some(report.blur);
                JobStatus::Rendered
            })
        }
    };
    r.seconds = clock.elapsed().as_secs_f64();
    match outcome {
        Ok(status) => r.status = status,
        Err(e) => r.error = Some(e.to_string().trim_end().to_string()),
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    fn assets() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
    }

    #[test]
    fn never_more_jobs_in_flight_than_slots() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        for slots in [1, 2, 3] {
            let now = AtomicUsize::new(0);
            let most = AtomicUsize::new(0);
            let done = AtomicUsize::new(0);
            pool.install(|| {
                for_each_bounded(40, slots, |_| {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    // Nested parallel work, so waiting workers steal.
                    let s: u64 = (0..20_000u64).into_par_iter().map(|x| x % 7).sum();
                    assert!(s > 0);
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    now.fetch_sub(1, Ordering::SeqCst);
                    done.fetch_add(1, Ordering::SeqCst);
                });
            });
            assert_eq!(done.load(Ordering::SeqCst), 40);
            let most = most.load(Ordering::SeqCst);
            assert!(most <= slots, "{most} in flight with {slots} slots");
        }
    }

    #[test]
    fn every_job_is_in_exactly_one_shard_whatever_the_order() {
        let names: Vec<String> = (0..2000)
            .map(|i| format!("client-{i:04}"))
            .chain(["a", "b", "ünïcode", ""].map(String::from))
            .collect();
        for n in 1..=9u32 {
            let shards: Vec<Shard> = (1..=n).map(|k| Shard::new(k, n, "t").unwrap()).collect();
            let mut sizes = vec![0usize; n as usize];
            for name in &names {
                let owners: Vec<u32> = shards
                    .iter()
                    .filter(|s| s.takes(name))
                    .map(|s| s.index)
                    .collect();
                assert_eq!(owners.len(), 1, "{name} in {owners:?} of {n}");
                sizes[owners[0] as usize - 1] += 1;
            }
            // A fair share each, within a few standard deviations.
            let fair = names.len() as f64 / n as f64;
            for (k, &size) in sizes.iter().enumerate() {
                assert!(
                    (size as f64 - fair).abs() < 5.0 * fair.sqrt() + 1.0,
                    "shard {}/{n}: {size} of {}",
                    k + 1,
                    names.len()
                );
            }
        }
        // Fixed by the hash's definition: the same in every version.
        assert_eq!(shard_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(shard_hash("a"), 0xaf63_dc4c_8601_ec8c);
        // A batch's shard depends on the names only: reordering the jobs
        // file moves no job, and indexes stay those of the file.
        let job = |name: &str| {
            format!("[[job]]\nname = \"{name}\"\nphoto = \"a.jpg\"\npolygon = [[1, 1], [9, 1], [9, 9]]\npx_per_mm = 3\n")
        };
        let names = ["anna", "ben", "cleo", "dan", "eve", "finn", "gus"];
        let forward: String = names.iter().map(|n| job(n)).collect();
        let backward: String = names.iter().rev().map(|n| job(n)).collect();
        let p = Path::new("/x/jobs.toml");
        let shard_of = |text: &str, k: u32| -> Vec<(usize, String)> {
            let b = Batch::parse(text, p, None)
                .unwrap()
                .into_shard(Shard::new(k, 3, "t").unwrap());
            let mut v: Vec<(usize, String)> = b
                .indexes
                .iter()
                .zip(b.jobs())
                .map(|(&i, j)| (i, j.name.clone()))
                .collect();
            v.sort_by(|a, b| a.1.cmp(&b.1));
            v
        };
        let mut all = Vec::new();
        for k in 1..=3 {
            let f = shard_of(&forward, k);
            let b = shard_of(&backward, k);
            let names_f: Vec<&String> = f.iter().map(|(_, n)| n).collect();
            let names_b: Vec<&String> = b.iter().map(|(_, n)| n).collect();
            assert_eq!(names_f, names_b, "shard {k}");
            for (i, n) in &f {
                assert_eq!(names[i - 1], n.as_str());
            }
            all.extend(f.into_iter().map(|(_, n)| n));
        }
        all.sort();
        assert_eq!(all, names);
        for bad in ["0/3", "4/3", "1/0", "x", "1/", "2"] {
            let e = Shard::parse(bad, "command line").unwrap_err().to_string();
            assert!(e.contains("`shard`") && e.contains("K/N"), "{e}");
        }
    }

    #[test]
    fn layers_merge_in_order_and_name_defaults_to_the_stem() {
        let jobs_path = assets().join("jobs.toml");
        let text = r#"
            out_dir = "o"
            [defaults]
            seed = 5
            sessions = 2
            [[job]]
            plan = "frl-london_021_03.toml"
            [[job]]
            plan = "frl-london_037_03.toml"
            name = "b"
            seed = 9
            polygon = [[10, 10], [100, 10], [100, 100]]
        "#;
        let b = Batch::parse(text, &jobs_path, None).unwrap();
        let [a, c] = b.jobs() else { panic!() };
        let (ja, jc) = (a.job.as_ref().unwrap(), c.job.as_ref().unwrap());
        assert_eq!(a.name, "frl-london_021_03");
        // The job's plan file (seed 1, 3 sessions) is over the defaults.
        assert_eq!((ja.plan.seed, ja.plan.sessions), (1, 3));
        assert_eq!(ja.out_dir, assets().join("o/frl-london_021_03"));
        // The jobs file is not on disk, so it is no input.
        assert!(!ja.other_inputs.contains(&jobs_path));
        assert!(ja
            .other_inputs
            .contains(&assets().join("frl-london_021_03.toml")));
        assert_eq!((jc.plan.seed, c.name.as_str()), (9, "b"));
        assert!(matches!(jc.region, crate::RegionSource::Polygon(_)));
        assert_eq!(jc.photo, assets().join("photos/frl-london_037_03.jpg"));
    }

    #[test]
    fn bad_job_fails_alone_bad_file_fails_whole() {
        let p = Path::new("/x/jobs.toml");
        let text = r#"
            [[job]]
            photo = "a.jpg"
            polygon = [[1, 1], [9, 1], [9, 9]]
            px_per_mm = 3
            [[job]]
            photo = "b.jpg"
            polygon = [[1, 1], [9, 1], [9, 9]]
            px_per_mm = 3
            density_per_cm2 = 900
            [[job]]
            name = "c"
            plan = "missing.toml"
        "#;
        let b = Batch::parse(text, p, None).unwrap();
        assert!(b.jobs()[0].job.is_ok());
        let e = b.jobs()[1].job.as_ref().unwrap_err().to_string();
        assert!(
            e.contains("jobs.toml: job 2 (`b`)") && e.contains("density_per_cm2"),
            "{e}"
        );
        let e = b.jobs()[2].job.as_ref().unwrap_err().to_string();
        assert!(e.contains("missing.toml"), "{e}");

        for (text, needles) in [
            (
                "[[job]]\ndencity_per_cm2 = 3\n",
                &["job 1", "dencity_per_cm2"][..],
            ),
            ("[[job]]\nname = 3\n", &["job 1", "name", "string"]),
            ("[[jobs]]\nseed = 3\n", &["jobs"]),
            (
                "[defaults]\nsessions = 9\n[[job]]\n",
                &["defaults", "sessions", "1 to 4"],
            ),
            ("out_dir = \"o\"\n", &["job", "at least one"]),
            ("[[job]]\nname = \"../up\"\n", &["job 1", "name"]),
        ] {
            let e = Batch::parse(text, p, None).unwrap_err().to_string();
            assert!(e.contains("jobs.toml"), "{e}");
            for n in needles {
                assert!(e.contains(n), "{e} lacks {n}");
            }
        }
        // Two jobs with one output folder.
        let twice = "[[job]]\nphoto = \"a.jpg\"\npolygon = [[1, 1], [9, 1], [9, 9]]\n\
                     px_per_mm = 3\n";
        let e = Batch::parse(&twice.repeat(2), p, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("job 1 (`a`)") && e.contains("job 2 (`a`)") && e.contains("`name`"),
            "{e}"
        );
    }
}
