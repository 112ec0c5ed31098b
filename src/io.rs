//! Standard input and output for images (binary only): a photo piped in as
//! `-`, and the temporary folders that let one written image go to standard
//! output while every file the library writes still goes through its
//! atomic, checked path.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use smp_render::Error;

/// Most bytes read from standard input for a photo (1 GiB: more than a
/// 200 MP JPEG, the decoder's own pixel limit, takes).
pub const MAX_STDIN_BYTES: u64 = 1 << 30;

/// The temporary file standard input was copied to, for error messages to
/// name it `<stdin>` instead.
pub static STDIN_NAME: OnceLock<PathBuf> = OnceLock::new();

/// A folder of its own under the system's temporary folder, removed with
/// everything in it when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates one (`smp-render-PID-N`).
    pub fn new() -> Result<TempDir, Error> {
        let base = std::env::temp_dir();
        let pid = std::process::id();
        for n in 0..1000u32 {
            let dir = base.join(format!("smp-render-{pid}-{n}"));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&dir, e)),
            }
        }
        Err(Error::io(
            &base,
            std::io::Error::other("no free name for a temporary folder"),
        ))
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A photo read from standard input (`PHOTO` given as `-`), held in a
/// temporary file for as long as this lives: the library reads photos by
/// path, with the same format sniffing and decode limits as any file.
pub struct StdinPhoto {
    dir: TempDir,
}

impl StdinPhoto {
    /// Reads standard input, at most [`MAX_STDIN_BYTES`].
    pub fn read() -> Result<StdinPhoto, Error> {
        let bytes = read_stdin("photo")?;
        let dir = TempDir::new()?;
        // Named `-`: the plan recorded in the images names the photo by
        // file name, and `-` is how it was given.
        let path = dir.path().join("-");
        std::fs::write(&path, &bytes).map_err(|e| Error::io(&path, e))?;
        let _ = STDIN_NAME.set(path);
        Ok(StdinPhoto { dir })
    }

    /// The temporary file holding it.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("-")
    }
}

/// Standard input, at most [`MAX_STDIN_BYTES`], for the argument `field`
/// given as `-`; refused when it is a terminal or empty.
pub fn read_stdin(field: &str) -> Result<Vec<u8>, Error> {
    let name = Path::new("<stdin>");
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(Error::field(
            "command line",
            field,
            "-",
            "`-` reads standard input, which is a terminal: pipe or redirect a file in \
             (smp-render render - < photo.jpg)",
        ));
    }
    let mut bytes = Vec::new();
    stdin
        .lock()
        .take(MAX_STDIN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(name, e))?;
    if bytes.is_empty() {
        return Err(Error::Decode {
            path: name.into(),
            reason: "standard input is empty: nothing was piped in".into(),
        });
    }
    if bytes.len() as u64 > MAX_STDIN_BYTES {
        return Err(Error::Decode {
            path: name.into(),
            reason: format!(
                "more than {} MiB on standard input: larger than any image this decodes",
                MAX_STDIN_BYTES >> 20
            ),
        });
    }
    Ok(bytes)
}
