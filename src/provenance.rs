//! What an output image says about itself: that it is a simulation, and the
//! plan and seed that made it.
//!
//! A preview must never pass for a photograph of a healed treatment. Every
//! rendered after-image therefore carries a visible mark by default
//! ([`crate::simulated_mark`]) and, inside the file, a [`Provenance`]:
//!
//! * **PNG:** `tEXt` `Software`; `iTXt` `Description` (one line beginning
//!   "Simulated preview"); `tEXt` `smp-render.seed`; `iTXt`
//!   `smp-render.plan` (a plan file that renders the image again); `iTXt`
//!   `XML:com.adobe.xmp`, an XMP packet with the IPTC digital source type
//!   `compositeSynthetic` (a photo with synthetic elements), which is what
//!   image sites and editors read to flag synthetic media; `pHYs` when the
//!   image has a print resolution.
//! * **JPEG:** one `COM` segment with the same text, an `APP1` XMP packet,
//!   and the print resolution in the JFIF header.
//!
//! PNG chunks are written by the `png` encoder's own chunk writers (the
//! encoder `image` uses, with its settings: `encode_png_coded`); JPEG segments
//! are spliced into `jpeg-encoder`'s bytes after `SOI` and the JFIF `APP0`,
//! as it writes no comments. One reader ([`read_provenance`]) reads both.
//!
//! The plan records the photo and the mask by file name only, never their
//! folders: a portfolio image must not carry a client's folder names. Put the
//! plan next to the photo and mask to render the image again.

use crate::plan::Format;

/// PNG text keyword of the plan.
const KEY_PLAN: &str = "smp-render.plan";
/// PNG text keyword of the seed.
const KEY_SEED: &str = "smp-render.seed";
/// XMP namespace marker of a JPEG `APP1` segment.
const XMP_APP1: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
/// IPTC digital source type: a photo composited with synthetic elements.
pub const DIGITAL_SOURCE_TYPE: &str =
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic";

/// The name and version of the program, as recorded in `Software`.
pub fn software() -> String {
    format!("smp-render {}", env!("CARGO_PKG_VERSION"))
}

/// What a rendered image is and how to render it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// What the image shows, one line beginning "Simulated preview".
    pub description: String,
    /// The seed of the render, when the image comes from one.
    pub seed: Option<u64>,
    /// A plan file (TOML) that renders the image again with the same
    /// version of smp-render: every plan value, the scale and the region;
    /// the photo and the mask by file name. `None` when unknown (a sheet
    /// of image files that carry no plan of their own).
    pub plan: Option<String>,
}

impl Provenance {
    /// A provenance with `description` (given a "Simulated preview: "
    /// prefix when it lacks one), `seed` and `plan`.
    pub fn new(description: &str, seed: Option<u64>, plan: Option<String>) -> Self {
        let description = if description.starts_with("Simulated preview") {
            description.to_string()
        } else {
            format!("Simulated preview: {description}")
        };
        Provenance {
            description,
            seed,
            plan,
        }
    }

    /// The text written into a JPEG `COM` segment; [`Provenance::from_comment`]
    /// reads it back.
    pub fn to_comment(&self) -> String {
        let mut s = format!(
            "Description: {}\nSoftware: {}\n",
            one_line(&self.description),
            software()
        );
        if let Some(seed) = self.seed {
            s.push_str(&format!("Seed: {seed}\n"));
        }
        if let Some(plan) = &self.plan {
            s.push_str("Plan (TOML):\n");
            s.push_str(plan);
        }
        s
    }

    /// Reads the text of [`Provenance::to_comment`]; `None` if it is not one.
    pub fn from_comment(text: &str) -> Option<Self> {
        let (head, plan) = match text.split_once("Plan (TOML):\n") {
            Some((h, p)) => (h, Some(p.to_string())),
            None => (text, None),
        };
        let mut description = None;
        let mut seed = None;
        for line in head.lines() {
            if let Some(d) = line.strip_prefix("Description: ") {
                description = Some(d.to_string());
            } else if let Some(s) = line.strip_prefix("Seed: ") {
                seed = Some(s.trim().parse().ok()?);
            }
        }
        Some(Provenance {
            description: description?,
            seed,
            plan,
        })
    }

    /// An XMP packet: description, creator tool, and the IPTC digital
    /// source type of a photo with synthetic elements.
    pub fn to_xmp(&self) -> String {
        format!(
            concat!(
                "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n",
                "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n",
                " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n",
                "  <rdf:Description rdf:about=\"\"\n",
                "    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n",
                "    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n",
                "    xmlns:Iptc4xmpExt=\"http://iptc.org/std/Iptc4xmpExt/2008-02-29/\"\n",
                "    xmp:CreatorTool=\"{tool}\"\n",
                "    Iptc4xmpExt:DigitalSourceType=\"{dst}\">\n",
                "   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">{desc}</rdf:li></rdf:Alt></dc:description>\n",
                "  </rdf:Description>\n",
                " </rdf:RDF>\n",
                "</x:xmpmeta>\n",
                "<?xpacket end=\"r\"?>"
            ),
            tool = xml_escape(&software()),
            dst = DIGITAL_SOURCE_TYPE,
            desc = xml_escape(&one_line(&self.description)),
        )
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What is written into an image file besides its pixels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageMeta {
    /// Simulation notice, plan and seed. Default: none.
    pub provenance: Option<Provenance>,
    /// Print resolution, dots per inch (e.g. 300 for an A4 sheet). Default: none.
    pub dpi: Option<u16>,
}

/// Encodes an 8-bit RGB image as PNG with `meta` in it, as `image`'s PNG
/// encoder with fast compression and adaptive filtering does (the same
/// `png` encoder and settings, so the same bytes), through `png`'s own
/// chunk writers: `pHYs` for the print resolution, then `tEXt` `Software`,
/// and with a provenance `iTXt` `Description`, `tEXt` `smp-render.seed`,
/// `iTXt` `smp-render.plan` and `iTXt` `XML:com.adobe.xmp`, in that order.
///
/// The image (a base image with patches over it) is coded in strips on
/// every core ([`crate::strips`], the same bytes as `png`'s encoder), every
/// strip no patch touches taken from `base`, the code of the base image;
/// returns the file and the image's code for later images to take from
/// (`None` where `png`'s own encoder made it: see [`crate::strips::code`]).
/// The file's image data stays in its strips until it is written
/// ([`Encoded::write_to`]).
pub(crate) fn encode_png_coded(
    img: &crate::strips::Layered,
    meta: &ImageMeta,
    base: Option<&crate::strips::Coded>,
) -> Result<(Encoded, Option<crate::strips::Coded>), png::EncodingError> {
    use png::text_metadata::{ITXtChunk, TEXtChunk};
    let (width, height) = img.dimensions();
    let coded = crate::strips::code(img, base);
    let zlib_len = coded.as_ref().and_then(|c| c.zlib_len());
    let mut out = Vec::with_capacity(match zlib_len {
        Some(_) => 4096,
        None => width as usize * height as usize * 3 + 4096,
    });
    let mut enc = png_encoder(&mut out, width, height);
    if let Some(dpi) = meta.dpi {
        let ppm = (dpi as f64 / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
    }
    let mut w = enc.write_header()?;
    // Every image names its maker, so that a later run knows it may
    // replace it ([`written_by_smp_render`]).
    w.write_text_chunk(&TEXtChunk::new("Software", software()))?;
    if let Some(p) = &meta.provenance {
        w.write_text_chunk(&ITXtChunk::new("Description", one_line(&p.description)))?;
        if let Some(seed) = p.seed {
            w.write_text_chunk(&TEXtChunk::new(KEY_SEED, seed.to_string()))?;
        }
        if let Some(plan) = &p.plan {
            w.write_text_chunk(&ITXtChunk::new(KEY_PLAN, plan.clone()))?;
        }
        w.write_text_chunk(&ITXtChunk::new("XML:com.adobe.xmp", p.to_xmp()))?;
    }
    match (&coded, zlib_len) {
        (Some(code), Some(len)) => {
            // The chunks before the image data, the data's code, and the
            // IEND chunk `finish` writes after them.
            w.finish()?;
            let tail = out.split_off(out.len() - IEND.len());
            debug_assert_eq!(tail, IEND);
            let encoded = Encoded::Png {
                head: out,
                code: code.clone(),
                len,
            };
            return Ok((encoded, coded));
        }
        _ => match img.as_whole() {
            Some(whole) => w.write_image_data(whole.as_raw())?,
            None => w.write_image_data(img.to_image().as_raw())?,
        },
    }
    w.finish()?;
    Ok((Encoded::Bytes(out), coded))
}

/// `png`'s encoder at the outputs' setting: 8-bit RGB, fast compression
/// (`fdeflate`), adaptive row filters.
pub(crate) fn png_encoder<W: std::io::Write>(
    out: W,
    width: u32,
    height: u32,
) -> png::Encoder<'static, W> {
    let mut enc = png::Encoder::new(out, width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    enc.set_filter(png::Filter::Adaptive);
    enc
}

/// A PNG file's last chunk, IEND: no data, so always these bytes.
const IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82];

/// An encoded image as it is written: its bytes, or (PNG from the strip
/// coder) the bytes before its image data and the data's code, joined as
/// it is written rather than held whole twice over (as a zlib stream, then
/// in the file's bytes: 10 MB for a 12 MP photo).
#[derive(Debug, Clone)]
pub(crate) enum Encoded {
    /// The file's bytes.
    Bytes(Vec<u8>),
    /// A PNG: `head` (every chunk before the image data), the image data's
    /// `code` (`len` bytes of zlib stream), then IEND.
    Png {
        head: Vec<u8>,
        code: crate::strips::Coded,
        len: usize,
    },
}

impl Encoded {
    /// Writes the file to `w`: the image data in IDAT chunks of at most
    /// 2^31 - 1 bytes, as `png` writes them.
    pub(crate) fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let (head, code, len) = match self {
            Encoded::Bytes(bytes) => return w.write_all(bytes),
            Encoded::Png { head, code, len } => (head, code, *len),
        };
        w.write_all(head)?;
        const MAX_IDAT: usize = (u32::MAX >> 1) as usize;
        let (mut left, mut in_chunk) = (len, 0usize);
        let mut crc = crc32fast::Hasher::new();
        code.write_zlib(&mut |mut bytes: &[u8]| {
            while !bytes.is_empty() {
                if in_chunk == 0 {
                    in_chunk = left.min(MAX_IDAT);
                    w.write_all(&(in_chunk as u32).to_be_bytes())?;
                    w.write_all(b"IDAT")?;
                    crc = crc32fast::Hasher::new();
                    crc.update(b"IDAT");
                }
                let n = bytes.len().min(in_chunk);
                w.write_all(&bytes[..n])?;
                crc.update(&bytes[..n]);
                (in_chunk, left, bytes) = (in_chunk - n, left - n, &bytes[n..]);
                if in_chunk == 0 {
                    w.write_all(&crc.clone().finalize().to_be_bytes())?;
                }
            }
            Ok(())
        })?;
        if left != 0 {
            return Err(std::io::Error::other("the image data came out short"));
        }
        w.write_all(&IEND)
    }

    /// The file's bytes.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        match self {
            Encoded::Bytes(bytes) => bytes,
            png => {
                let mut bytes = Vec::new();
                png.write_to(&mut bytes).expect("a Vec takes every byte");
                bytes
            }
        }
    }
}

/// Where in an encoded image of `format`, whose first bytes are `head`
/// (at least [`META_HEAD`] of them, or all), the metadata goes.
fn meta_offset(format: Format, head: &[u8]) -> usize {
    match format {
        // PNG's metadata goes through its encoder ([`encode_png_coded`]).
        Format::Png => 0,
        // JFIF wants its APP0 right after SOI, so the new segments follow it.
        Format::Jpeg => {
            if head.len() > 6 && head[2..4] == [0xff, 0xe0] {
                (4 + u16::from_be_bytes([head[4], head[5]]) as usize).min(head.len())
            } else {
                2.min(head.len())
            }
        }
    }
}

/// Bytes an encoder's output is held back until the metadata is placed.
const META_HEAD: usize = 64;

/// The bytes that carry `meta` in an image of `format`.
fn meta_bytes(format: Format, meta: &ImageMeta) -> Vec<u8> {
    match format {
        Format::Png => Vec::new(),
        Format::Jpeg => jpeg_segments(meta),
    }
}

/// A writer that passes an encoder's bytes on to a `Vec`, putting the
/// metadata in where it belongs as they stream past (after PNG's IHDR,
/// after JPEG's SOI and JFIF header), so the image is never copied.
/// [`MetaWriter::finish`] must be called after the encoder is done.
pub(crate) struct MetaWriter<'a> {
    out: &'a mut Vec<u8>,
    format: Format,
    pending: Option<Vec<u8>>,
    head: Vec<u8>,
}

impl<'a> MetaWriter<'a> {
    /// A writer into `out` for an image of `format` carrying `meta`.
    pub(crate) fn new(out: &'a mut Vec<u8>, format: Format, meta: &ImageMeta) -> Self {
        let bytes = meta_bytes(format, meta);
        MetaWriter {
            out,
            format,
            pending: (!bytes.is_empty()).then_some(bytes),
            head: Vec::new(),
        }
    }

    fn place(&mut self) {
        if let Some(bytes) = self.pending.take() {
            let at = meta_offset(self.format, &self.head);
            self.out.extend_from_slice(&self.head[..at]);
            self.out.extend_from_slice(&bytes);
            self.out.extend_from_slice(&self.head[at..]);
            self.head = Vec::new();
        }
    }

    /// Places the metadata if the image was too short to have passed it.
    pub(crate) fn finish(mut self) {
        self.place();
    }
}

impl std::io::Write for MetaWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.pending.is_some() {
            self.head.extend_from_slice(buf);
            if self.head.len() >= META_HEAD {
                self.place();
            }
        } else {
            self.out.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The CRC-32 of PNG chunks.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// The JPEG segments that carry `meta`'s provenance: XMP and comments.
fn jpeg_segments(meta: &ImageMeta) -> Vec<u8> {
    let mut segs = Vec::new();
    let Some(p) = &meta.provenance else {
        // Only the maker's name ([`written_by_smp_render`]).
        jpeg_segment(
            &mut segs,
            0xfe,
            format!("Software: {}\n", software()).as_bytes(),
        );
        return segs;
    };
    let mut xmp = XMP_APP1.to_vec();
    xmp.extend_from_slice(p.to_xmp().as_bytes());
    jpeg_segment(&mut segs, 0xe1, &xmp);
    // A segment holds at most 65,533 bytes; a longer comment (a polygon of
    // thousands of points) goes on over further COM segments.
    for part in p.to_comment().as_bytes().chunks(65_533) {
        jpeg_segment(&mut segs, 0xfe, part);
    }
    segs
}

fn jpeg_segment(out: &mut Vec<u8>, marker: u8, data: &[u8]) {
    out.extend_from_slice(&[0xff, marker]);
    out.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// Every text entry of a PNG (`tEXt` and uncompressed `iTXt` chunks, as
/// keyword and text) or JPEG (`COM` segments joined, under the keyword
/// `Comment`; XMP packets under `XML:com.adobe.xmp`), in file order.
pub fn read_image_text(bytes: &[u8]) -> Vec<(String, String)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png_text_entries(bytes)
    } else if bytes.starts_with(&[0xff, 0xd8]) {
        jpeg_text_entries(bytes)
    } else {
        Vec::new()
    }
}

fn png_text_entries(bytes: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = 8;
    while i + 12 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
        let kind = &bytes[i + 4..i + 8];
        let Some(data) = bytes.get(i + 8..i + 8 + len) else {
            break;
        };
        let crc_ok = || {
            bytes
                .get(i + 8 + len..i + 12 + len)
                .is_some_and(|c| c == crc32(&bytes[i + 4..i + 8 + len]).to_be_bytes())
        };
        match kind {
            b"tEXt" if crc_ok() => {
                if let Some(z) = data.iter().position(|&b| b == 0) {
                    let latin1 = |b: &[u8]| b.iter().map(|&c| c as char).collect::<String>();
                    out.push((latin1(&data[..z]), latin1(&data[z + 1..])));
                }
            }
            b"iTXt" if crc_ok() => {
                if let Some(e) = parse_itxt(data) {
                    out.push(e);
                }
            }
            b"IDAT" | b"IEND" => break,
            _ => {}
        }
        i += 12 + len;
    }
    out
}

fn parse_itxt(data: &[u8]) -> Option<(String, String)> {
    let z = data.iter().position(|&b| b == 0)?;
    let key = String::from_utf8(data[..z].to_vec()).ok()?;
    let rest = data.get(z + 1..)?;
    let (compressed, rest) = (*rest.first()?, rest.get(2..)?);
    if compressed != 0 {
        return None;
    }
    let lang_end = rest.iter().position(|&b| b == 0)?;
    let rest = &rest[lang_end + 1..];
    let tk_end = rest.iter().position(|&b| b == 0)?;
    let text = String::from_utf8(rest[tk_end + 1..].to_vec()).ok()?;
    Some((key, text))
}

fn jpeg_text_entries(bytes: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut comment = Vec::new();
    let mut i = 2;
    while i + 4 <= bytes.len() && bytes[i] == 0xff {
        let marker = bytes[i + 1];
        if marker == 0xff {
            i += 1; // fill byte
            continue;
        }
        if marker == 0xda || marker == 0xd9 {
            break; // start of scan / end of image: no more metadata
        }
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        let Some(data) = bytes.get(i + 4..i + 2 + len) else {
            break;
        };
        match marker {
            0xfe => comment.extend_from_slice(data),
            0xe1 if data.starts_with(XMP_APP1) => out.push((
                "XML:com.adobe.xmp".to_string(),
                String::from_utf8_lossy(&data[XMP_APP1.len()..]).into_owned(),
            )),
            _ => {}
        }
        i += 2 + len;
    }
    if !comment.is_empty() {
        out.push((
            "Comment".to_string(),
            String::from_utf8_lossy(&comment).into_owned(),
        ));
    }
    out
}

/// The [`Provenance`] written into a PNG or JPEG file by smp-render, if it
/// has one.
pub fn read_provenance(bytes: &[u8]) -> Option<Provenance> {
    let entries = read_image_text(bytes);
    if let Some((_, c)) = entries.iter().find(|(k, _)| k == "Comment") {
        return Provenance::from_comment(c);
    }
    let get = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let description = get("Description").filter(|d| d.starts_with("Simulated preview"))?;
    Some(Provenance {
        description,
        seed: get(KEY_SEED).and_then(|s| s.parse().ok()),
        plan: get(KEY_PLAN),
    })
}

/// Whether an image was written by smp-render (any version): its PNG
/// `Software` text, its JPEG comment or its XMP creator tool names
/// smp-render. Every image smp-render writes says so, the photo as decoded
/// (`before`) included; it is how a batch knows it may replace a file.
/// `bytes` may be the first part of the file only (the metadata comes
/// before the pixels).
pub fn written_by_smp_render(bytes: &[u8]) -> bool {
    read_image_text(bytes)
        .iter()
        .any(|(k, v)| match k.as_str() {
            "Software" => v.starts_with("smp-render"),
            "Comment" => v.lines().any(|l| l.starts_with("Software: smp-render")),
            "XML:com.adobe.xmp" => v.contains("xmp:CreatorTool=\"smp-render"),
            _ => false,
        })
}

/// The print resolution (dots per inch) a PNG's `pHYs` chunk or a JPEG's
/// JFIF header records, if any.
pub fn read_dpi(bytes: &[u8]) -> Option<u16> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        let mut i = 8;
        while i + 12 <= bytes.len() {
            let len = u32::from_be_bytes(bytes[i..i + 4].try_into().ok()?) as usize;
            match &bytes[i + 4..i + 8] {
                b"pHYs" if len == 9 && bytes.get(i + 16) == Some(&1) => {
                    let ppm = u32::from_be_bytes(bytes[i + 8..i + 12].try_into().ok()?);
                    return Some((ppm as f64 * 0.0254).round() as u16);
                }
                b"IDAT" => return None,
                _ => i += 12 + len,
            }
        }
        None
    } else if bytes.len() > 18 && bytes[2..4] == [0xff, 0xe0] && &bytes[6..11] == b"JFIF\0" {
        // JFIF: version (2), units (1: dots per inch), x density (2), y density (2).
        (bytes[13] == 1).then(|| u16::from_be_bytes([bytes[14], bytes[15]]))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::RgbImage;
    use std::path::Path;

    fn provenance() -> Provenance {
        Provenance::new(
            "session 2 of 3 — jet-black",
            Some(42),
            Some("photo = \"a.jpg\"\nseed = 42\n".into()),
        )
    }

    #[test]
    fn png_round_trip_and_still_decodes() {
        let img = RgbImage::from_pixel(40, 30, image::Rgb([10, 20, 30]));
        let meta = ImageMeta {
            provenance: Some(provenance()),
            dpi: Some(300),
        };
        let bytes =
            crate::photo::encode_image_meta(&img, Format::Png, 90, Path::new("a.png"), &meta)
                .unwrap();
        assert_eq!(read_provenance(&bytes), meta.provenance);
        assert_eq!(read_dpi(&bytes), Some(300));
        let back = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(back.as_raw(), img.as_raw());
    }

    /// The file `png`'s own encoder makes of `img` with `meta`'s chunks.
    fn pngs_own(img: &RgbImage, meta: &ImageMeta) -> Vec<u8> {
        use png::text_metadata::{ITXtChunk, TEXtChunk};
        let mut out = Vec::new();
        let mut enc = png_encoder(&mut out, img.width(), img.height());
        let ppm = (meta.dpi.unwrap() as f64 / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let mut w = enc.write_header().unwrap();
        let p = meta.provenance.as_ref().unwrap();
        w.write_text_chunk(&TEXtChunk::new("Software", software()))
            .unwrap();
        w.write_text_chunk(&ITXtChunk::new("Description", one_line(&p.description)))
            .unwrap();
        w.write_text_chunk(&TEXtChunk::new(KEY_SEED, p.seed.unwrap().to_string()))
            .unwrap();
        w.write_text_chunk(&ITXtChunk::new(KEY_PLAN, p.plan.clone().unwrap()))
            .unwrap();
        w.write_text_chunk(&ITXtChunk::new("XML:com.adobe.xmp", p.to_xmp()))
            .unwrap();
        w.write_image_data(img.as_raw()).unwrap();
        w.finish().unwrap();
        out
    }

    #[test]
    fn a_png_written_from_its_strips_is_pngs_own_file() {
        let meta = ImageMeta {
            provenance: Some(provenance()),
            dpi: Some(300),
        };
        // Coded (flat, gradient, a photo) and stored (noise) image data.
        let photo = image::open(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/photos/frl-london_037_03.jpg"
        ))
        .unwrap()
        .to_rgb8();
        let mut state = 7u32;
        let images = [
            RgbImage::from_pixel(40, 30, image::Rgb([10, 20, 30])),
            RgbImage::from_fn(700, 500, |x, y| {
                image::Rgb([x as u8, y as u8, (x ^ y) as u8])
            }),
            photo,
            RgbImage::from_fn(300, 200, |_, _| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                image::Rgb((state >> 8).to_le_bytes()[..3].try_into().unwrap())
            }),
        ];
        let mut from_strips = 0;
        for img in &images {
            let layered = crate::strips::Layered::plain(img);
            let (file, _) = encode_png_coded(&layered, &meta, None).unwrap();
            from_strips += usize::from(matches!(file, Encoded::Png { .. }));
            let mut written = Vec::new();
            file.write_to(&mut written).unwrap();
            assert!(written == pngs_own(img, &meta), "{:?}", img.dimensions());
            assert!(file.into_bytes() == written);
        }
        assert_eq!(from_strips, 3, "only the noise is stored");
    }

    #[test]
    fn jpeg_round_trip_and_still_decodes() {
        let img = RgbImage::from_pixel(40, 30, image::Rgb([10, 20, 30]));
        let meta = ImageMeta {
            provenance: Some(provenance()),
            dpi: Some(300),
        };
        let bytes =
            crate::photo::encode_image_meta(&img, Format::Jpeg, 90, Path::new("a.jpg"), &meta)
                .unwrap();
        assert_eq!(read_provenance(&bytes), meta.provenance);
        assert_eq!(read_dpi(&bytes), Some(300));
        let xmp = read_image_text(&bytes);
        assert!(xmp.iter().any(|(k, v)| k == "XML:com.adobe.xmp"
            && v.contains("compositeSynthetic")
            && v.contains("session 2 of 3")));
        assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 40);
    }

    #[test]
    fn nothing_is_read_from_a_plain_file() {
        let img = RgbImage::new(8, 8);
        for f in [Format::Png, Format::Jpeg] {
            let bytes = crate::photo::encode_image(&img, f, 90, Path::new("x")).unwrap();
            assert_eq!(read_provenance(&bytes), None);
        }
    }

    #[test]
    fn every_image_names_its_maker() {
        let img = RgbImage::new(8, 8);
        for f in [Format::Png, Format::Jpeg] {
            let plain = crate::photo::encode_image(&img, f, 90, Path::new("x")).unwrap();
            assert!(written_by_smp_render(&plain), "{f:?}");
            let meta = ImageMeta {
                provenance: Some(provenance()),
                dpi: None,
            };
            let full = crate::photo::encode_image_meta(&img, f, 90, Path::new("x"), &meta).unwrap();
            assert!(written_by_smp_render(&full), "{f:?}");
            // Another program's image.
            let mut other = Vec::new();
            image::DynamicImage::ImageRgb8(img.clone())
                .write_to(
                    &mut std::io::Cursor::new(&mut other),
                    match f {
                        Format::Png => image::ImageFormat::Png,
                        Format::Jpeg => image::ImageFormat::Jpeg,
                    },
                )
                .unwrap();
            assert!(!written_by_smp_render(&other), "{f:?}");
        }
        assert!(!written_by_smp_render(b"name,phone\n"));
    }

    #[test]
    fn description_always_says_simulated() {
        assert!(Provenance::new("x", None, None)
            .description
            .starts_with("Simulated preview: x"));
    }
}
