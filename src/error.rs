//! The library's one error type.
//!
//! Every variant carries what a user needs to fix the problem: which file,
//! which field, and what is allowed. Catch-all error handling lives only in
//! `main.rs`.

use std::path::PathBuf;

/// Everything that can go wrong in smp-render.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// An image file could not be decoded (corrupt, unsupported, or over the size limits).
    #[error("{path}: cannot decode image: {reason}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// An image could not be encoded.
    #[error("{path}: cannot encode image: {reason}")]
    Encode {
        /// The output file.
        path: PathBuf,
        /// What the encoder said.
        reason: String,
    },
    /// An image is larger than the decoder's limits allow.
    #[error("{path}: image is {width} x {height} px; at most {max_side} px a side and {max_pixels} pixels are allowed")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// Largest side allowed.
        max_side: u32,
        /// Largest pixel count allowed.
        max_pixels: u64,
    },
    /// A parameter is outside its allowed range or otherwise invalid.
    #[error("{source_name}: field `{field}` = {value}: {allowed}")]
    InvalidField {
        /// Where the value came from: a plan file's path or "command line".
        source_name: String,
        /// The field's name as written in the plan file.
        field: String,
        /// The offending value.
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// A plan file is not valid TOML or has an unknown field.
    #[error("{path}: {reason}")]
    PlanSyntax {
        /// The plan file.
        path: PathBuf,
        /// What the parser said, with the field's name and position.
        reason: String,
    },
    /// A region mask does not have the photo's size.
    #[error("{path}: region mask is {mask_width} x {mask_height} px but the photo is {photo_width} x {photo_height} px; the mask must have the photo's size (after EXIF orientation)")]
    MaskSize {
        /// The mask file.
        path: PathBuf,
        /// Mask width.
        mask_width: u32,
        /// Mask height.
        mask_height: u32,
        /// Photo width.
        photo_width: u32,
        /// Photo height.
        photo_height: u32,
    },
    /// The treatment region has no pixel with a weight above zero.
    #[error(
        "{what}: the treatment region is empty (no pixel with weight above zero inside the photo)"
    )]
    EmptyRegion {
        /// The mask file or "polygon".
        what: String,
    },
    /// Another batch holds the output folder's lock.
    #[error("{dir}: the output folder is in use by another batch ({holder}); wait for it to end (or run with --wait), or give this batch another --out")]
    FolderInUse {
        /// The output folder.
        dir: PathBuf,
        /// Who holds it, as its lock file says (process id, host, start time).
        holder: String,
    },
    /// An output would overwrite one of the inputs.
    #[error("{path}: refusing to write an output over an input file")]
    WouldOverwriteInput {
        /// The output path that equals an input.
        path: PathBuf,
    },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for an [`Error::InvalidField`].
    pub fn field(
        source_name: impl Into<String>,
        field: impl Into<String>,
        value: impl ToString,
        allowed: impl Into<String>,
    ) -> Self {
        Error::InvalidField {
            source_name: source_name.into(),
            field: field.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    /// Shorthand for an [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
