//! Whether a JPEG's entropy-coded data holds every block its frame header
//! declares.
//!
//! The decoder the `image` crate uses (zune-jpeg) reads past the end of a
//! scan as if zero bits followed, so a file whose scan was cut short (an
//! interrupted copy that still ends with an end-of-image marker, or a frame
//! header declaring more rows than were encoded) decodes without an error,
//! the missing rows made up. Its strict mode does not catch it either. This
//! module walks the Huffman codes of the first scan without computing a
//! coefficient or a pixel (each code's length and its extra bits only) and
//! counts the MCUs the data holds, restart interval by restart interval.
//!
//! Checked: baseline and extended sequential Huffman JPEGs (SOF0, SOF1),
//! interleaved or single-component first scan. Progressive, lossless and
//! arithmetic-coded files are not checked here (`None`); the end-marker check
//! still applies to them.

/// A scan that ends early: how many MCUs its data holds of how many the frame declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanShort {
    /// MCUs the entropy-coded data holds.
    pub decoded: u64,
    /// MCUs the frame header declares.
    pub declared: u64,
    /// MCU rows declared, to say how much is missing.
    pub rows: u64,
    /// MCUs per row.
    pub per_row: u64,
}

#[derive(Clone)]
struct Huffman {
    /// For code length `l` (1-16): the largest code of that length, or -1.
    maxcode: [i32; 18],
    /// For code length `l`: index of its first symbol minus its first code.
    valptr: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], values: &[u8]) -> Option<Huffman> {
        let mut maxcode = [-1i32; 18];
        let mut valptr = [0i32; 17];
        let mut code = 0i32;
        let mut k = 0i32;
        for l in 1..=16 {
            let n = counts[l - 1] as i32;
            if n > 0 {
                valptr[l] = k - code;
                code += n;
                k += n;
                maxcode[l] = code - 1;
            }
            code <<= 1;
        }
        // Guards the DECODE loop's end.
        maxcode[17] = i32::MAX;
        (k as usize <= values.len()).then(|| Huffman {
            maxcode,
            valptr,
            values: values.to_vec(),
        })
    }
}

/// Bits of one restart interval's entropy-coded data (stuffed zero bytes
/// removed).
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    n: u32,
}

impl Bits<'_> {
    #[inline]
    fn fill(&mut self) {
        while self.n <= 56 && self.pos < self.data.len() {
            self.acc |= (self.data[self.pos] as u64) << (56 - self.n);
            self.pos += 1;
            self.n += 8;
        }
    }

    #[inline]
    fn bit(&mut self) -> Option<u32> {
        if self.n == 0 {
            self.fill();
            if self.n == 0 {
                return None;
            }
        }
        let b = (self.acc >> 63) as u32;
        self.acc <<= 1;
        self.n -= 1;
        Some(b)
    }

    #[inline]
    fn skip(&mut self, k: u32) -> Option<()> {
        if self.n < k {
            self.fill();
            if self.n < k {
                return None;
            }
        }
        if k > 0 {
            self.acc <<= k;
            self.n -= k;
        }
        Some(())
    }

    #[inline]
    fn decode(&mut self, h: &Huffman) -> Option<u8> {
        let mut code = self.bit()? as i32;
        let mut l = 1;
        while code > h.maxcode[l] {
            l += 1;
            if l > 16 {
                return None;
            }
            code = (code << 1) | self.bit()? as i32;
        }
        h.values.get((h.valptr[l] + code) as usize).copied()
    }
}

struct Component {
    id: u8,
    h: u32,
    v: u32,
}

fn be16(b: &[u8], i: usize) -> Option<usize> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]) as usize)
}

/// The first scan of `bytes` (a JPEG) is short of its frame: `Some` with the
/// figures. `None` when it is complete, or when the file is not one this
/// check reads (see the module's notes) or is malformed (the decoder says
/// what is wrong).
pub(crate) fn first_scan_short(bytes: &[u8]) -> Option<ScanShort> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut dc: [Option<Huffman>; 4] = Default::default();
    let mut ac: [Option<Huffman>; 4] = Default::default();
    let mut frame: Option<(u32, u32, Vec<Component>)> = None;
    let mut restart = 0u64;
    let mut pos = 2;
    // Headers up to the first start of scan.
    let (scan, data_start) = loop {
        if *bytes.get(pos)? != 0xFF {
            return None;
        }
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let code = *bytes.get(pos)?;
        pos += 1;
        if code == 0x01 || (0xD0..=0xD7).contains(&code) {
            continue;
        }
        if code == 0xD9 {
            return None;
        }
        let len = be16(bytes, pos)?;
        let seg = bytes.get(pos + 2..pos + len)?;
        match code {
            0xC0 | 0xC1 => {
                let h = be16(seg, 1)? as u32;
                let w = be16(seg, 3)? as u32;
                let n = *seg.get(5)? as usize;
                let mut comps = Vec::with_capacity(n);
                for c in 0..n {
                    let s = seg.get(6 + 3 * c..9 + 3 * c)?;
                    let (h, v) = ((s[1] >> 4) as u32, (s[1] & 15) as u32);
                    if h == 0 || v == 0 {
                        return None;
                    }
                    comps.push(Component { id: s[0], h, v });
                }
                frame = Some((w, h, comps));
            }
            // Progressive, lossless, arithmetic, hierarchical: not read here.
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xC4 => {
                let mut i = 0;
                while i < seg.len() {
                    let tc = seg[i] >> 4;
                    let th = (seg[i] & 15) as usize;
                    let counts: [u8; 16] = seg.get(i + 1..i + 17)?.try_into().ok()?;
                    let n: usize = counts.iter().map(|&c| c as usize).sum();
                    let values = seg.get(i + 17..i + 17 + n)?;
                    let table = Huffman::new(&counts, values)?;
                    match (tc, th) {
                        (0, 0..=3) => dc[th] = Some(table),
                        (1, 0..=3) => ac[th] = Some(table),
                        _ => return None,
                    }
                    i += 17 + n;
                }
            }
            0xDD => restart = be16(seg, 0)? as u64,
            0xDA => break (seg, pos + len),
            _ => {}
        }
        pos += len;
    };
    let (w, h, comps) = frame?;
    if w == 0 || h == 0 {
        // Height from a DNL marker: nothing declared to check against.
        return None;
    }
    let hmax = comps.iter().map(|c| c.h).max()?;
    let vmax = comps.iter().map(|c| c.v).max()?;
    // The scan's components with their tables and blocks per MCU.
    let ns = *scan.first()? as usize;
    let mut units: Vec<(usize, &Huffman, &Huffman)> = Vec::new();
    let mut single = None;
    for k in 0..ns {
        let id = *scan.get(1 + 2 * k)?;
        let t = *scan.get(2 + 2 * k)?;
        let c = comps.iter().find(|c| c.id == id)?;
        let dct = dc.get((t >> 4) as usize)?.as_ref()?;
        let act = ac.get((t & 15) as usize)?.as_ref()?;
        let blocks = if ns == 1 { 1 } else { (c.h * c.v) as usize };
        for _ in 0..blocks {
            units.push((k, dct, act));
        }
        single = Some(c);
    }
    let div = |a: u32, b: u32| a.div_ceil(b) as u64;
    let (per_row, rows) = if ns == 1 {
        // A single component is not interleaved: one block per MCU.
        let c = single?;
        (
            div(div(w * c.h, hmax) as u32, 8),
            div(div(h * c.v, vmax) as u32, 8),
        )
    } else {
        (div(w, 8 * hmax), div(h, 8 * vmax))
    };
    let declared = per_row * rows;
    // The entropy-coded data, split at restart markers, up to the marker
    // that ends it.
    let mut segments: Vec<Vec<u8>> = vec![Vec::new()];
    let mut i = data_start;
    while i < bytes.len() {
        let b = bytes[i];
        if b != 0xFF {
            segments.last_mut()?.push(b);
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(0x00) => {
                segments.last_mut()?.push(0xFF);
                i += 2;
            }
            Some(0xFF) => i += 1,
            Some(0xD0..=0xD7) => {
                segments.push(Vec::new());
                i += 2;
            }
            _ => break,
        }
    }
    let interval = if restart > 0 { restart } else { declared };
    let mut decoded = 0u64;
    for seg in &segments {
        let want = interval.min(declared - decoded.min(declared));
        if want == 0 {
            break;
        }
        let mut bits = Bits {
            data: seg,
            pos: 0,
            acc: 0,
            n: 0,
        };
        let mut done = 0;
        'mcus: while done < want {
            for &(_, dct, act) in &units {
                let Some(()) = (|| {
                    let s = bits.decode(dct)?;
                    bits.skip(s as u32 & 31)?;
                    let mut k = 1;
                    while k < 64 {
                        let rs = bits.decode(act)?;
                        let (r, s) = (rs >> 4, rs & 15);
                        if s == 0 {
                            if r != 15 {
                                break;
                            }
                            k += 16;
                        } else {
                            k += r as u32 + 1;
                            bits.skip(s as u32)?;
                        }
                    }
                    Some(())
                })() else {
                    break 'mcus;
                };
            }
            done += 1;
        }
        decoded += done;
    }
    (decoded < declared).then_some(ScanShort {
        decoded,
        declared,
        rows,
        per_row,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Vec<Vec<u8>> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/photos");
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .collect();
        v.sort();
        v.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    /// JPEGs from both encoders in use, with every sampling, a restart
    /// interval, grey, and odd sizes.
    fn encoded() -> Vec<(String, Vec<u8>)> {
        let photo = image::load_from_memory(&shipped()[1]).unwrap().to_rgb8();
        let crop = image::imageops::crop_imm(&photo, 300, 250, 641, 459).to_image();
        let (w, h) = (crop.width() as u16, crop.height() as u16);
        let mut out = Vec::new();
        use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
        for (label, sampling, restart, grey) in [
            ("4:4:4", SamplingFactor::R_4_4_4, None, false),
            ("4:2:0", SamplingFactor::R_4_2_0, None, false),
            ("4:2:2", SamplingFactor::R_4_2_2, None, false),
            ("4:2:0 restart 7", SamplingFactor::R_4_2_0, Some(7), false),
            ("grey", SamplingFactor::R_4_4_4, None, true),
            ("grey restart 1", SamplingFactor::R_4_4_4, Some(1), true),
        ] {
            let mut buf = Vec::new();
            let mut enc = Encoder::new(&mut buf, 90);
            enc.set_sampling_factor(sampling);
            if let Some(r) = restart {
                enc.set_restart_interval(r);
            }
            if grey {
                let g = image::DynamicImage::ImageRgb8(crop.clone()).to_luma8();
                enc.encode(g.as_raw(), w, h, ColorType::Luma).unwrap();
            } else {
                enc.encode(crop.as_raw(), w, h, ColorType::Rgb).unwrap();
            }
            out.push((label.to_string(), buf));
        }
        let mut buf = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, 80)
            .encode_image(&crop)
            .unwrap();
        out.push(("image's encoder".into(), buf));
        out
    }

    /// Where the top-level marker `code` of `jpeg` is (not one inside an
    /// embedded thumbnail).
    fn marker(jpeg: &[u8], code: u8) -> usize {
        let mut i = 2;
        loop {
            assert_eq!(jpeg[i], 0xFF);
            if jpeg[i + 1] == code {
                return i;
            }
            i += 2 + u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        }
    }

    /// The entropy-coded data of `jpeg` cut to `share` of its length, the
    /// end marker kept.
    fn truncated(jpeg: &[u8], share: f64) -> Vec<u8> {
        let sos = marker(jpeg, 0xDA);
        let data = sos + 2 + u16::from_be_bytes([jpeg[sos + 2], jpeg[sos + 3]]) as usize;
        let end = jpeg.len() - 2;
        let cut = data + ((end - data) as f64 * share) as usize;
        let mut v = jpeg[..cut].to_vec();
        v.extend_from_slice(&[0xFF, 0xD9]);
        v
    }

    /// `jpeg` with its frame header declaring `factor` times the height.
    fn taller(jpeg: &[u8], factor: f64) -> Vec<u8> {
        let sof = marker(jpeg, 0xC0);
        let at = sof + 5;
        let h = u16::from_be_bytes([jpeg[at], jpeg[at + 1]]);
        let mut v = jpeg.to_vec();
        v[at..at + 2].copy_from_slice(&((h as f64 * factor) as u16).to_be_bytes());
        v
    }

    #[test]
    fn whole_jpegs_are_complete() {
        for (i, j) in shipped().iter().enumerate() {
            assert_eq!(first_scan_short(j), None, "shipped photo {i}");
        }
        for (label, j) in encoded() {
            assert_eq!(first_scan_short(&j), None, "{label}");
        }
    }

    #[test]
    fn cut_or_stretched_jpegs_are_short_by_what_is_missing() {
        let mut all: Vec<(String, Vec<u8>)> = encoded();
        all.extend(
            shipped()
                .into_iter()
                .enumerate()
                .map(|(i, j)| (format!("shipped {i}"), j)),
        );
        for (label, j) in &all {
            for share in [0.05, 0.3, 0.6, 0.9, 0.98] {
                let s = first_scan_short(&truncated(j, share))
                    .unwrap_or_else(|| panic!("{label} cut to {share}"));
                assert!(s.decoded < s.declared, "{label} {share}: {s:?}");
                // About the share that was kept (the data is not spread
                // evenly over the frame).
                let kept = s.decoded as f64 / s.declared as f64;
                assert!(
                    kept < share + 0.3 && kept > share - 0.5,
                    "{label} {share}: {s:?}"
                );
            }
            for factor in [1.05, 1.5, 3.0] {
                let s = first_scan_short(&taller(j, factor))
                    .unwrap_or_else(|| panic!("{label} x{factor}"));
                let kept = s.decoded as f64 / s.declared as f64;
                assert!(
                    (kept - 1.0 / factor).abs() < 0.05,
                    "{label} x{factor}: {s:?}"
                );
            }
        }
    }

    #[test]
    fn a_short_jpeg_is_refused_by_name_and_progressive_ones_are_not_read() {
        let whole = &shipped()[1];
        for bad in [truncated(whole, 0.5), taller(whole, 1.5)] {
            // The decoder alone returns a whole frame, made up.
            assert!(image::load_from_memory(&bad).is_ok());
            let Err(e) = crate::photo::decode_photo(&bad, std::path::Path::new("client.jpg"))
            else {
                panic!("a short JPEG was decoded");
            };
            let e = e.to_string();
            assert!(
                e.contains("client.jpg") && e.contains("cut short") && e.contains("MCUs"),
                "{e}"
            );
        }
        let mut prog = Vec::new();
        let img = image::load_from_memory(whole).unwrap().to_rgb8();
        let mut enc = jpeg_encoder::Encoder::new(&mut prog, 90);
        enc.set_progressive(true);
        enc.encode(img.as_raw(), 1350, 1350, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        assert_eq!(first_scan_short(&prog), None);
        assert_eq!(first_scan_short(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(first_scan_short(&whole[..300]), None);
    }
}
