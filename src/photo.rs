//! Photo in and out: decoding with limits and EXIF orientation, sRGB ↔
//! linear light, and atomic encoding of the outputs.
//!
//! Encoders were picked on measurements (PERFORMANCE-NOTES and our bench):
//! PNG with `image`'s fast compression (about 80 MP/s against under 5 MP/s
//! at default compression) and JPEG with `jpeg-encoder` (SIMD, 4:2:0, about
//! 2.5 times `image`'s JPEG encoder). Outputs are written to a temporary
//! file in the target folder and renamed into place, so a crash never
//! leaves a half-written image behind.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};
use palette::{LinSrgb, Srgb};

use crate::error::{Error, Result};
use crate::plan::Format;
use crate::provenance::{Encoded, ImageMeta, MetaWriter};

/// Largest image side the decoder accepts, px.
pub const MAX_SIDE: u32 = 30_000;
/// Largest pixel count the decoder accepts (a 200 MP frame).
pub const MAX_PIXELS: u64 = 200_000_000;

/// Whether a `w` × `h` image is within [`MAX_SIDE`] and [`MAX_PIXELS`]
/// (the decoder refuses any other).
pub(crate) fn within_size_limits(w: u32, h: u32) -> bool {
    w <= MAX_SIDE && h <= MAX_SIDE && w as u64 * h as u64 <= MAX_PIXELS
}

/// Decodes an image file (JPEG, PNG, WebP, TIFF; 8 or 16 bit; grey, RGB or
/// RGBA) to 8-bit RGB, upright according to its EXIF orientation. Alpha is
/// dropped. Sizes over [`MAX_SIDE`] or [`MAX_PIXELS`] are refused before
/// any pixel memory is allocated.
pub fn load_photo(path: &Path) -> Result<RgbImage> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_photo(&bytes, path)
}

/// [`load_photo`] from bytes in memory; `name` is used in error messages.
pub fn decode_photo(bytes: &[u8], name: &Path) -> Result<RgbImage> {
    Ok(decode_dynamic(bytes, name)?.into_rgb8())
}

/// Decodes to whatever pixel type the file has, upright, within the limits.
pub(crate) fn decode_dynamic(bytes: &[u8], name: &Path) -> Result<DynamicImage> {
    // Whether a JPEG's data holds its whole frame is read beside the
    // decoding (about 16 ms per MB of JPEG on one core).
    let (short, img) = rayon::join(
        || crate::jpegscan::first_scan_short(bytes),
        || decode_pixels(bytes, name),
    );
    // Over the size limits: said first, as nothing was decoded.
    if let (Some(short), false) = (short, matches!(img, Err(Error::TooLarge { .. }))) {
        return Err(Error::Decode {
            path: name.to_path_buf(),
            reason: format!(
                "the JPEG is cut short: its image data ends after {} of the {} MCUs (blocks of \
                 8 to 16 px a side) its frame header declares, {} of {} rows of them; the \
                 decoder would make up the missing part (an interrupted copy or download, or a \
                 damaged file). Copy the photo again",
                short.decoded,
                short.declared,
                short.decoded / short.per_row.max(1),
                short.rows,
            ),
        });
    }
    img
}

fn decode_pixels(bytes: &[u8], name: &Path) -> Result<DynamicImage> {
    let decode_err = |e: image::ImageError| Error::Decode {
        path: name.to_path_buf(),
        reason: e.to_string(),
    };
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::io(name, e))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 8 + (64 << 20));
    reader.limits(limits);
    if jpeg_cut_short(bytes) {
        return Err(Error::Decode {
            path: name.to_path_buf(),
            reason: "the JPEG is cut short: its image data has no end-of-image marker \
                     (an interrupted copy or download); the decoder would fill the missing \
                     part with grey. Copy the photo again"
                .into(),
        });
    }
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => too_large_from_header(bytes, name),
        e => decode_err(e),
    })?;
    let (w, h) = decoder.dimensions();
    if !within_size_limits(w, h) {
        return Err(too_large(name, w, h));
    }
    if w == 0 || h == 0 {
        return Err(Error::Decode {
            path: name.to_path_buf(),
            reason: "image has no pixels".into(),
        });
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => too_large(name, w, h),
        e => decode_err(e),
    })?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// Whether `bytes` are a JPEG whose entropy-coded data is not followed by
/// an end-of-image marker (FF D9): the file was cut short. The decoder the
/// `image` crate uses accepts such files and fills what is missing with
/// grey, which would be rendered as if it were the client's photo. Markers
/// are walked to the first start-of-scan, so an EOI inside an embedded
/// thumbnail (in APP1, before it) does not count; data after the EOI (maker
/// notes, a second image) is allowed. Not a JPEG: `false`.
fn jpeg_cut_short(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let mut pos = 2;
    loop {
        // A marker: 0xFF (any fill bytes), then its code.
        match bytes.get(pos) {
            Some(0xFF) => {}
            // The headers run past the end of the file.
            None => return true,
            // Not a marker where one must be: malformed, which the decoder
            // reports itself.
            Some(_) => return false,
        }
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&code) = bytes.get(pos) else {
            return true;
        };
        pos += 1;
        match code {
            // Start of scan: the entropy-coded data follows.
            0xDA => break,
            // End of image before any scan: the decoder says what is wrong.
            0xD9 => return false,
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => continue,
            _ => {
                let (Some(&hi), Some(&lo)) = (bytes.get(pos), bytes.get(pos + 1)) else {
                    return true;
                };
                pos += u16::from_be_bytes([hi, lo]) as usize;
            }
        }
    }
    // From the end: the marker is normally the last two bytes.
    !bytes[pos.min(bytes.len())..]
        .windows(2)
        .rev()
        .any(|w| w == [0xFF, 0xD9])
}

fn too_large(name: &Path, width: u32, height: u32) -> Error {
    Error::TooLarge {
        path: name.to_path_buf(),
        width,
        height,
        max_side: MAX_SIDE,
        max_pixels: MAX_PIXELS,
    }
}

fn too_large_from_header(bytes: &[u8], name: &Path) -> Error {
    let dims = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()
        .and_then(|mut r| {
            // Only the header is read here, so no limit is needed.
            r.no_limits();
            r.into_dimensions().ok()
        })
        .unwrap_or((0, 0));
    too_large(name, dims.0, dims.1)
}

/// sRGB 8-bit code → linear light, the exact sRGB curve via `palette`.
pub fn srgb_to_linear_table() -> &'static [f32; 256] {
    static T: OnceLock<[f32; 256]> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = [0.0; 256];
        for (i, v) in t.iter_mut().enumerate() {
            *v = Srgb::new(i as u8, 0, 0)
                .into_format::<f32>()
                .into_linear()
                .red;
        }
        t
    })
}

/// Size of the linear → sRGB table: fine enough that the rounding error
/// stays below a quarter of an 8-bit step even in the steep dark end.
pub(crate) const TO_SRGB_STEPS: usize = 16384;

/// The linear → sRGB table ([`linear_to_srgb`]): a loop over many pixels
/// takes it once and codes each value with [`srgb_code`].
pub(crate) fn linear_to_srgb_table() -> &'static [u8; TO_SRGB_STEPS + 1] {
    static T: OnceLock<[u8; TO_SRGB_STEPS + 1]> = OnceLock::new();
    T.get_or_init(|| {
        std::array::from_fn(|i| {
            let l = i as f32 / TO_SRGB_STEPS as f32;
            let s: Srgb<f32> = Srgb::from_linear(LinSrgb::new(l, 0.0, 0.0));
            (s.red * 255.0).round().clamp(0.0, 255.0) as u8
        })
    })
}

/// Linear light in [0, 1] → 8-bit sRGB code.
#[inline]
pub fn linear_to_srgb(l: f32) -> u8 {
    srgb_code(linear_to_srgb_table(), l)
}

/// [`linear_to_srgb`] with its table `t` ([`linear_to_srgb_table`]) in hand.
#[inline(always)]
pub(crate) fn srgb_code(t: &[u8; TO_SRGB_STEPS + 1], l: f32) -> u8 {
    // The clamp keeps the index within the table (NaN to 0); the `min`
    // says so to the compiler, which then checks no bound.
    let i = (l.clamp(0.0, 1.0) * TO_SRGB_STEPS as f32 + 0.5) as usize;
    t[i.min(TO_SRGB_STEPS)]
}

/// Encodes an image in `format` (JPEG at `quality`, 1-100).
pub fn encode_image(img: &RgbImage, format: Format, quality: u8, name: &Path) -> Result<Vec<u8>> {
    encode_image_meta(img, format, quality, name, &ImageMeta::default())
}

/// [`encode_image`] with `meta` written into the file: the simulation
/// notice, plan and seed, and the print resolution (see [`crate::Provenance`]).
pub fn encode_image_meta(
    img: &RgbImage,
    format: Format,
    quality: u8,
    name: &Path,
    meta: &ImageMeta,
) -> Result<Vec<u8>> {
    let img = crate::strips::Layered::plain(img);
    encode_image_coded(&img, format, quality, name, meta, None).map(|(file, _)| file.into_bytes())
}

/// [`encode_image_meta`] of a base image with patches over it, made a row
/// at a time as it is coded; for PNG every strip of rows no patch touches
/// is taken from `base` (the code of the base image), and the image's own
/// code is given back for later images to take from; the same bytes as
/// the whole image encoded (see [`crate::strips`]).
pub(crate) fn encode_image_coded(
    img: &crate::strips::Layered,
    format: Format,
    quality: u8,
    name: &Path,
    meta: &ImageMeta,
    base: Option<&crate::strips::Coded>,
) -> Result<(Encoded, Option<crate::strips::Coded>)> {
    let err = |reason: String| Error::Encode {
        path: name.to_path_buf(),
        reason,
    };
    match format {
        Format::Png => {
            crate::provenance::encode_png_coded(img, meta, base).map_err(|e| err(e.to_string()))
        }
        Format::Jpeg => {
            // The JPEG encoder takes a whole image.
            let whole;
            let img = match img.as_whole() {
                Some(img) => img,
                None => {
                    whole = img.to_image();
                    &whole
                }
            };
            let (w, h) = img.dimensions();
            let mut buf = Vec::with_capacity(w as usize * h as usize * 3 / 2 + 4096);
            let mut out = MetaWriter::new(&mut buf, format, meta);
            let (w, h) = (img.width(), img.height());
            if w > u16::MAX as u32 || h > u16::MAX as u32 {
                return Err(err(format!(
                    "JPEG is limited to 65535 px a side, image is {w} x {h}"
                )));
            }
            let mut enc = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
            enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
            if let Some(dpi) = meta.dpi {
                enc.set_density(jpeg_encoder::PixelDensity::dpi(dpi));
            }
            enc.encode(
                img.as_raw(),
                w as u16,
                h as u16,
                jpeg_encoder::ColorType::Rgb,
            )
            .map_err(|e| err(e.to_string()))?;
            out.finish();
            Ok((Encoded::Bytes(buf), None))
        }
    }
}

/// The width and height of an image file as decoded (after its EXIF
/// orientation), read from its header without decoding any pixel.
pub fn photo_dimensions(path: &Path) -> Result<(u32, u32)> {
    let decode_err = |e: image::ImageError| Error::Decode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut decoder = ImageReader::open(path)
        .map_err(|e| Error::io(path, e))?
        .with_guessed_format()
        .map_err(|e| Error::io(path, e))?
        .into_decoder()
        .map_err(decode_err)?;
    let (w, h) = decoder.dimensions();
    use image::metadata::Orientation::*;
    Ok(match decoder.orientation().unwrap_or(NoTransforms) {
        Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH => (h, w),
        _ => (w, h),
    })
}

/// The folder and file name of `path`, for its temporary siblings.
fn dir_and_name(path: &Path) -> (&Path, String) {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, name)
}

/// Whether process `pid` is running on this machine. Unknown (not Unix):
/// `true`, so that nothing is taken for stale.
pub fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        if pid <= 0 {
            return false;
        }
        // SAFETY: signal 0 only checks that the process exists and may be
        // signalled; nothing is sent.
        let r = unsafe { libc::kill(pid, 0) };
        // EPERM: it exists, under another user.
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// The process id in the name of a temporary [`write_atomic`] makes for
/// `name`: `.NAME.PID-N-RANDOM.tmp` (and `.NAME.PID.tmp`, the form earlier
/// versions wrote); `None` when `file` is not one.
fn temporary_pid(file: &str, name: &str) -> Option<u32> {
    let rest = file
        .strip_prefix('.')?
        .strip_prefix(temporary_stem(name))?
        .strip_prefix('.')?
        .strip_suffix(".tmp")?;
    let pid = match rest.split_once('-') {
        Some((pid, tail)) => {
            let ok = tail.split('-').count() == 2
                && tail.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
            ok.then_some(pid)?
        }
        None => rest,
    };
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Removes the temporary files [`write_atomic`] left beside `path` when its
/// process was killed mid-write, and only those: a temporary is stale when
/// the process its name records is not running on this machine (never this
/// process's own, which may be writing it on another thread). A temporary of
/// a live writer, such as a second batch on the same folder, is left alone.
/// On systems other than Unix nothing is removed.
pub fn remove_stale_temporaries(path: &Path) -> Result<()> {
    let (dir, name) = dir_and_name(path);
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let file = entry.file_name();
        let stale = temporary_pid(&file.to_string_lossy(), &name)
            .is_some_and(|pid| pid != me && !process_alive(pid));
        if stale {
            let p = entry.path();
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(p, e)),
            }
        }
    }
    Ok(())
}

/// A name no other writer uses for a temporary of `name`: this process's
/// id, a counter of this process's temporaries, and a random number (for a
/// writer with the same process id on another machine sharing the folder).
fn temporary_name(name: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let random = getrandom::u32().unwrap_or_else(|_| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    });
    format!(
        ".{}.{}-{n}-{random:08x}.tmp",
        temporary_stem(name),
        std::process::id()
    )
}

/// Longest output name kept whole in its temporary's name, bytes: the
/// dots, the process id, the counter, the random number and `.tmp` take
/// at most 47 more, and file systems allow 255.
const TEMPORARY_STEM: usize = 255 - 48;

/// The part of `name` a temporary's name begins with: `name` itself, or
/// its first [`TEMPORARY_STEM`] bytes (at a character boundary) when it is
/// so long that the temporary's name would pass the file system's 255.
fn temporary_stem(name: &str) -> &str {
    if name.len() <= TEMPORARY_STEM {
        return name;
    }
    let mut end = TEMPORARY_STEM;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder
/// (`.NAME.PID-N-RANDOM.tmp`, created new, so never shared with another
/// writer and never named like an output), flushed, then renamed over
/// `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, &mut |f| f.write_all(bytes))
}

/// [`write_atomic`] of what `write` writes, through a buffer: a file made
/// as it is written ([`Encoded::write_to`]) is never held whole.
pub(crate) fn write_atomic_with(
    path: &Path,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let (dir, name) = dir_and_name(path);
    let create = || loop {
        let tmp: PathBuf = dir.join(temporary_name(&name));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            r => return r.map(|f| (f, tmp)),
        }
    };
    let (mut f, tmp) = create().map_err(|e| Error::io(path, e))?;
    let result = (|| {
        let mut buffered = std::io::BufWriter::with_capacity(WRITE_BUFFER, &mut f);
        write(&mut buffered)?;
        buffered.flush()?;
        drop(buffered);
        f.sync_data()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// The buffer [`write_atomic_with`] writes through, bytes.
const WRITE_BUFFER: usize = 256 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::crc32;

    #[test]
    fn srgb_round_trip_is_exact() {
        let t = srgb_to_linear_table();
        for i in 0..=255u8 {
            assert_eq!(linear_to_srgb(t[i as usize]), i, "code {i}");
        }
    }

    /// Light outside [0, 1] (and NaN) codes to the ends of the range, and
    /// the table follows the sRGB curve to within three quarters of a code
    /// (half a code of rounding, and the table's step below a quarter).
    #[test]
    fn srgb_code_clamps_and_follows_the_curve() {
        let t = linear_to_srgb_table();
        for (l, want) in [
            (f32::NAN, 0),
            (-1.0, 0),
            (f32::NEG_INFINITY, 0),
            (0.0, 0),
            (1.0, 255),
            (2.0, 255),
            (f32::INFINITY, 255),
        ] {
            assert_eq!(srgb_code(t, l), want, "light {l}");
        }
        for i in 0..=1000 {
            let l = i as f32 / 1000.0;
            let s: Srgb<f32> = Srgb::from_linear(LinSrgb::new(l, 0.0, 0.0));
            let exact = s.red * 255.0;
            let got = srgb_code(t, l) as f32;
            assert!(
                (got - exact).abs() <= 0.5 + 0.25,
                "light {l}: {got} against {exact}"
            );
        }
    }

    #[test]
    fn a_jpeg_cut_short_is_refused_by_name() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/photos/frl-london_037_03.jpg"
        );
        let whole = std::fs::read(path).unwrap();
        assert!(!jpeg_cut_short(&whole));
        assert!(decode_photo(&whole, Path::new("whole.jpg")).is_ok());
        // Data after the end-of-image marker is allowed.
        let mut trailing = whole.clone();
        trailing.extend_from_slice(b"maker notes");
        assert!(decode_photo(&trailing, Path::new("trailing.jpg")).is_ok());
        // Cut anywhere in the image data, or in its headers: refused, naming
        // the file and what happened. (Without the check the decoder
        // returns a full-size image, grey where the data is missing.)
        for cut in [whole.len() / 2, whole.len() - 2, 40] {
            assert!(jpeg_cut_short(&whole[..cut]), "cut at {cut}");
            let e = decode_photo(&whole[..cut], Path::new("half.jpg"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("half.jpg") && e.contains("cut short"), "{e}");
        }
        // Not a JPEG: left to its own decoder.
        assert!(!jpeg_cut_short(b"\x89PNG\r\n\x1a\n"));
    }

    #[test]
    fn huge_header_is_refused_without_allocating() {
        // A PNG header claiming 100,000 x 100,000 px.
        let mut png = Vec::new();
        png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(b"IHDR");
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        for chunk in [&b"IDAT"[..], &b"IEND"[..]] {
            png.extend_from_slice(&0u32.to_be_bytes());
            png.extend_from_slice(chunk);
            png.extend_from_slice(&crc32(chunk).to_be_bytes());
        }
        let e = decode_photo(&png, Path::new("bomb.png"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bomb.png") && e.contains("100000"), "{e}");
    }

    #[test]
    fn atomic_write_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        write_atomic(&p, b"hello").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A process id that is not running: a child that has ended.
    #[cfg(unix)]
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!process_alive(pid));
        pid
    }

    #[test]
    #[cfg(unix)]
    fn only_temporaries_of_ended_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.png");
        let dead = dead_pid();
        // A live process other than this one.
        let mut live = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let me = std::process::id();
        let live_pid = live.id();
        let files = [
            format!(".a.png.{dead}.tmp"),
            format!(".a.png.{dead}-3-0badf00d.tmp"),
            format!(".a.png.{live_pid}-0-12345678.tmp"),
            format!(".a.png.{live_pid}.tmp"),
            format!(".a.png.{me}-7-abcdef01.tmp"),
            ".a.png.x.tmp".into(),
            format!(".b.png.{dead}.tmp"),
            "a.png".into(),
        ];
        for f in &files {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        remove_stale_temporaries(&p).unwrap();
        live.kill().unwrap();
        live.wait().unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut want = files[2..].to_vec();
        want.sort();
        assert_eq!(left, want);
        remove_stale_temporaries(&dir.path().join("missing/a.png")).unwrap();
    }

    #[test]
    fn temporaries_have_names_no_other_writer_uses() {
        let names: std::collections::HashSet<String> =
            (0..1000).map(|_| temporary_name("a.png")).collect();
        assert_eq!(names.len(), 1000);
        let one = names.iter().next().unwrap();
        assert_eq!(temporary_pid(one, "a.png"), Some(std::process::id()));
        // Threads writing one path at once all succeed.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        std::thread::scope(|s| {
            for i in 0..8u8 {
                let p = &p;
                s.spawn(move || {
                    for _ in 0..20 {
                        write_atomic(p, &[i; 1000]).unwrap();
                    }
                });
            }
        });
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn dimensions_come_from_the_header() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/photos/frl-london_037_03.jpg");
        assert_eq!(photo_dimensions(&p).unwrap(), (1350, 1350));
    }

    #[test]
    fn an_output_name_of_255_bytes_is_written_through_a_temporary_that_fits() {
        let dir = tempfile::tempdir().unwrap();
        for len in [200usize, 246, 251, 255] {
            let name = format!("{}.png", "a".repeat(len - 4));
            let path = dir.path().join(&name);
            write_atomic(&path, b"x").unwrap_or_else(|e| panic!("{len}: {e}"));
            assert_eq!(std::fs::read(&path).unwrap(), b"x");
        }
        // Only the outputs are left: no temporary stayed behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
        let long = "b".repeat(251);
        let tmp = temporary_name(&long);
        assert!(tmp.len() <= 255, "{}", tmp.len());
        assert_eq!(temporary_pid(&tmp, &long), Some(std::process::id()));
    }
}
