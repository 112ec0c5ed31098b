//! PNG image data made in strips of rows on every core, byte for byte what
//! `png`'s encoder makes at the fast setting the outputs use
//! (`Compression::Fast`: adaptive row filters, then `fdeflate`'s one
//! Huffman block), and strips an earlier image already coded taken from it.
//!
//! `fdeflate` codes every byte with one fixed table and every run of zero
//! bytes with a length back one byte, and it starts afresh at each row it is
//! given: the code of a row depends on that row's filtered bytes alone, and
//! the code of an image is its rows' codes one after the other. So strips of
//! rows can be coded apart, side by side, and joined bit for bit; and a strip
//! whose rows (and the row above, which the filters read) are the same in
//! two images has the same code in both. Each session image differs from
//! the photo only around the treated area, so most of its strips are the
//! photo's, coded once for `before.png`.
//!
//! The table is read from the block header `fdeflate` itself writes, and
//! checked: if it is ever not what this module codes with (a new
//! `fdeflate`), [`code`] says so and the caller uses `png`'s own encoder.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use image::RgbImage;

use crate::region::Rect;
use rayon::prelude::*;

/// Filtered bytes a strip holds, about: enough strips for both cores and
/// for reuse to be fine-grained, few enough that joining them is nothing.
const STRIP_BYTES: usize = 192 * 1024;

/// Bytes of the zlib stream [`Coded::write_zlib`] hands on at a time.
const ZLIB_PIECE: usize = 256 * 1024;

/// The adler-32 modulus.
const ADLER_MOD: u64 = 65521;

/// Bits, first bit lowest in the first byte.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Bits {
    /// `len` bits and then zero bits to the byte.
    bytes: Vec<u8>,
    /// Bits held.
    len: u64,
}

/// Writes codes a word at a time into bytes.
struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    /// Bits in `acc`, below 64.
    n: u32,
}

impl BitWriter {
    fn with_capacity(bytes: usize) -> Self {
        BitWriter {
            bytes: Vec::with_capacity(bytes + 8),
            acc: 0,
            n: 0,
        }
    }

    /// Writes the low `n` bits of `bits` (nothing above them set), `n` < 64.
    #[inline(always)]
    fn put(&mut self, bits: u64, n: u32) {
        debug_assert!(n < 64 && bits >> n == 0);
        self.acc |= bits << self.n;
        let total = self.n + n;
        if total >= 64 {
            self.bytes.extend_from_slice(&self.acc.to_le_bytes());
            // `self.n` > 0 here, as `n` < 64: the shift is below 64.
            self.acc = bits >> (64 - self.n);
            self.n = total - 64;
        } else {
            self.n = total;
        }
    }

    /// Writes all of `bits`.
    fn append(&mut self, bits: &Bits) {
        let whole = (bits.len / 64) as usize * 8;
        let words = &bits.bytes[..whole];
        if self.n == 0 {
            // On a word's edge: the words as they are.
            self.bytes.extend_from_slice(words);
        } else {
            // Each word out is the bits held and the low bits of the next
            // word in, whose high bits are then held: `n` stays.
            let n = self.n;
            let start = self.bytes.len();
            self.bytes.resize(start + whole, 0);
            let mut held = self.acc;
            for (o, w) in self.bytes[start..]
                .chunks_exact_mut(8)
                .zip(words.chunks_exact(8))
            {
                let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
                o.copy_from_slice(&(held | w << n).to_le_bytes());
                held = w >> (64 - n);
            }
            self.acc = held;
        }
        let mut left = bits.len % 64;
        for &b in &bits.bytes[whole..] {
            let n = left.min(8) as u32;
            // Bits past the end are zero.
            self.put(b as u64, n);
            left -= n as u64;
        }
    }

    /// The bits written, the last byte padded with zero bits.
    fn finish(mut self) -> Bits {
        let len = self.bytes.len() as u64 * 8 + self.n as u64;
        let tail = self.acc.to_le_bytes();
        self.bytes
            .extend_from_slice(&tail[..(self.n as usize).div_ceil(8)]);
        Bits {
            bytes: self.bytes,
            len,
        }
    }
}

/// Reads bits, first bit lowest in the first byte.
struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn bit(&mut self) -> Option<u32> {
        let b = *self.bytes.get(self.pos / 8)?;
        let v = (b >> (self.pos % 8)) & 1;
        self.pos += 1;
        Some(v as u32)
    }

    /// `n` bits, the first lowest (deflate's order for numbers).
    fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0;
        for i in 0..n {
            v |= self.bit()? << i;
        }
        Some(v)
    }

    /// One symbol of the canonical code of `lens` (Huffman codes are read
    /// first bit highest).
    fn symbol(&mut self, lens: &[u8]) -> Option<usize> {
        let codes = canonical(lens)?;
        let (mut code, mut len) = (0u32, 0u8);
        while len < 16 {
            code = (code << 1) | self.bit()?;
            len += 1;
            if let Some(s) = (0..lens.len()).find(|&s| lens[s] == len && codes[s] == code) {
                return Some(s);
            }
        }
        None
    }
}

/// The canonical Huffman codes of code lengths `lens` (RFC 1951, 3.2.2),
/// most significant bit first; `None` if the lengths over-fill the code.
fn canonical(lens: &[u8]) -> Option<Vec<u32>> {
    let mut count = [0u32; 17];
    for &l in lens {
        if l > 16 {
            return None;
        }
        count[l as usize] += 1;
    }
    count[0] = 0;
    let mut next = [0u32; 17];
    let mut code = 0u32;
    for bits in 1..17 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
        if code + count[bits] > (1 << bits) {
            return None;
        }
    }
    Some(
        lens.iter()
            .map(|&l| {
                if l == 0 {
                    0
                } else {
                    let c = next[l as usize];
                    next[l as usize] += 1;
                    c
                }
            })
            .collect(),
    )
}

/// `code` of `len` bits, reversed: Huffman codes go out first bit highest,
/// into a stream whose bits are written lowest first.
fn reversed(code: u32, len: u8) -> u64 {
    (code.reverse_bits() >> (32 - len as u32)) as u64
}

/// The code `fdeflate` writes with, read from its own output.
struct Table {
    /// The zlib header and the block header, before the first symbol.
    head: Bits,
    /// Byte `b` as a literal: its code, reversed, and above bit 32 the
    /// code's length (one load a byte).
    lit: [u64; 256],
    /// `k` literal zeros (0..=5) as one string of bits and its length.
    zeros: [(u64, u32); 6],
    /// A literal zero and then a length of `l` (5..=257) back one byte:
    /// a run of `l + 1` zeros as one string of bits and its length.
    zero_back: [(u64, u32); 258],
    /// A length of `l` (3..=258) back one byte, as one string of bits: the
    /// length's code, its extra bits and distance code 0 (one 0 bit).
    back: [(u32, u8); 259],
    /// The end of the block: its code, reversed, and its length.
    end: (u16, u8),
}

/// Deflate's length symbols 257..=285: the smallest length of each and its
/// extra bits (RFC 1951, 3.2.5).
fn length_symbol(len: u32) -> (usize, u32, u32) {
    const BASE: [u32; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
        131, 163, 195, 227, 258,
    ];
    const EXTRA: [u32; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    let i = BASE.partition_point(|&b| b <= len) - 1;
    (257 + i, len - BASE[i], EXTRA[i])
}

impl Table {
    /// Reads the table from what `fdeflate` makes of no data: the zlib
    /// header, one dynamic block header, the end of block and the checksum.
    /// `None` unless it is one final dynamic block coding every literal and
    /// length, with distance 1 as the one bit 0, and then nothing else.
    fn read() -> Option<Table> {
        let empty = fdeflate::compress_to_vec(&[]);
        let mut r = BitReader {
            bytes: &empty,
            pos: 16,
        };
        if r.bits(1)? != 1 || r.bits(2)? != 2 {
            return None;
        }
        let hlit = r.bits(5)? as usize + 257;
        let hdist = r.bits(5)? as usize + 1;
        let hclen = r.bits(4)? as usize + 4;
        const ORDER: [usize; 19] = [
            16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
        ];
        let mut cl = [0u8; 19];
        for &o in &ORDER[..hclen] {
            cl[o] = r.bits(3)? as u8;
        }
        let mut lens: Vec<u8> = Vec::with_capacity(hlit + hdist);
        while lens.len() < hlit + hdist {
            match r.symbol(&cl)? {
                s @ 0..=15 => lens.push(s as u8),
                16 => {
                    let prev = *lens.last()?;
                    let n = 3 + r.bits(2)?;
                    lens.extend(std::iter::repeat_n(prev, n as usize));
                }
                17 => {
                    let n = 3 + r.bits(3)?;
                    lens.extend(std::iter::repeat_n(0, n as usize));
                }
                _ => {
                    let n = 11 + r.bits(7)?;
                    lens.extend(std::iter::repeat_n(0, n as usize));
                }
            }
        }
        if lens.len() != hlit + hdist || hlit < 286 {
            return None;
        }
        let (lit_lens, dist_lens) = lens.split_at(hlit);
        // Every literal and length coded, four literals fitting a word.
        if lit_lens[..286].iter().any(|&l| l == 0 || l > 15) {
            return None;
        }
        let dist_codes = canonical(dist_lens)?;
        if dist_lens[0] != 1 || dist_codes[0] != 0 {
            return None;
        }
        let codes = canonical(lit_lens)?;
        let head_len = r.pos as u64;
        if r.symbol(lit_lens)? != 256 {
            return None;
        }
        // Then padding to the byte and the checksum of nothing, 1.
        let end = r.pos.div_ceil(8);
        if empty.len() != end + 4 || empty[end..] != [0, 0, 0, 1] {
            return None;
        }
        let sym = |s: usize| (reversed(codes[s], lit_lens[s]) as u16, lit_lens[s]);
        let mut lit = [0u64; 256];
        for (b, l) in lit.iter_mut().enumerate() {
            let (c, n) = sym(b);
            *l = c as u64 | (n as u64) << 32;
        }
        let mut back = [(0u32, 0u8); 259];
        for (l, b) in back.iter_mut().enumerate().skip(3) {
            let (s, extra, extra_bits) = length_symbol(l as u32);
            let (c, n) = sym(s);
            *b = (c as u32 | (extra << n), n + extra_bits as u8 + 1);
        }
        // Five zeros and a zero with a length each fit a word.
        let (zero, zn) = (sym(0).0 as u64, sym(0).1 as u32);
        if zn * 5 >= 64 {
            return None;
        }
        let mut zeros = [(0u64, 0u32); 6];
        for k in 1..6 {
            let (b, n) = zeros[k - 1];
            zeros[k] = (b | zero << n, n + zn);
        }
        let mut zero_back = [(0u64, 0u32); 258];
        for (l, z) in zero_back.iter_mut().enumerate().skip(5) {
            let (c, n) = back[l];
            *z = (zero | (c as u64) << zn, zn + n as u32);
        }
        let mut w = BitWriter::with_capacity(64);
        let mut rd = BitReader {
            bytes: &empty,
            pos: 0,
        };
        for _ in 0..head_len {
            w.put(rd.bit()? as u64, 1);
        }
        Some(Table {
            head: w.finish(),
            lit,
            zeros,
            zero_back,
            back,
            end: sym(256),
        })
    }

    /// The table, read once.
    fn get() -> Option<&'static Table> {
        static TABLE: OnceLock<Option<Table>> = OnceLock::new();
        TABLE.get_or_init(Table::read).as_ref()
    }

    #[inline(always)]
    fn literals(&self, w: &mut BitWriter, bytes: &[u8]) {
        for &b in bytes {
            let l = self.lit[b as usize];
            w.put(l & 0xffff, (l >> 32) as u32);
        }
    }

    /// Four literals as one string of bits (at most 60).
    #[inline(always)]
    fn four(&self, w: &mut BitWriter, bytes: &[u8]) {
        let mut bits = 0u64;
        let mut n = 0u32;
        for &b in &bytes[..4] {
            let l = self.lit[b as usize];
            bits |= (l & 0xffff) << n;
            n += (l >> 32) as u32;
        }
        w.put(bits, n);
    }

    /// A run of `run` zero bytes: one literal zero, then lengths back one
    /// byte (258 at a time, then the rest if over 4, else literal zeros).
    #[inline(always)]
    fn run(&self, w: &mut BitWriter, run: u32) {
        // Most runs are short: their zeros, or a zero and one length, are
        // put at once (the same bits).
        if run <= 5 {
            let (b, n) = self.zeros[run as usize];
            w.put(b, n);
            return;
        }
        if run <= 258 {
            let (b, n) = self.zero_back[run as usize - 1];
            w.put(b, n);
            return;
        }
        let (zero, zn) = self.zeros[1];
        w.put(zero, zn);
        let mut left = run - 1;
        let (c258, n258) = self.back[258];
        while left >= 258 {
            w.put(c258 as u64, n258 as u32);
            left -= 258;
        }
        if left > 4 {
            let (c, n) = self.back[left as usize];
            w.put(c as u64, n as u32);
        } else {
            let (b, n) = self.zeros[left as usize];
            w.put(b, n);
        }
    }

    /// Codes one row as `fdeflate` does when given it alone: eight bytes
    /// at a time, zero bytes gathered into runs across them, the last
    /// fewer-than-eight bytes as literals after any run.
    fn row(&self, w: &mut BitWriter, row: &[u8]) {
        let mut run = 0u32;
        let mut chunks = row.chunks_exact(8);
        for chunk in &mut chunks {
            let v = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            if v == 0 {
                run += 8;
                continue;
            }
            if run > 0 {
                let lead = v.trailing_zeros() / 8;
                self.run(w, run + lead);
                run = 0;
                if lead > 0 {
                    let tail = v.leading_zeros() / 8;
                    self.literals(w, &chunk[lead as usize..8 - tail as usize]);
                    run = tail;
                    continue;
                }
            }
            let tail = v.leading_zeros() / 8;
            if tail > 0 {
                self.literals(w, &chunk[..8 - tail as usize]);
                run = tail;
                continue;
            }
            self.four(w, &chunk[..4]);
            self.four(w, &chunk[4..]);
        }
        if run > 0 {
            self.run(w, run);
        }
        self.literals(w, chunks.remainder());
    }
}

/// The PNG Paeth predictor of `a` (left), `b` (above), `c` (above left).
#[inline(always)]
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (a as i16, b as i16, c as i16);
    let pa = (ib - ic).abs();
    let pb = (ia - ic).abs();
    let pc = (ia + ib - 2 * ic).abs();
    let (m, v) = if pb < pa { (pb, b) } else { (pa, a) };
    if pc < m {
        c
    } else {
        v
    }
}

/// PNG filter `f` (1 Sub, 2 Up, 3 Average, 4 Paeth) of row `cur` below
/// `prev`, 3 bytes a pixel, into `out`.
#[inline(always)]
fn filter(f: u8, prev: &[u8], cur: &[u8], out: &mut [u8]) {
    const BPP: usize = 3;
    let n = cur.len();
    let head = BPP.min(n);
    // Each byte less its prediction from `left` (the byte a pixel back),
    // `up` and `corner` (up's left), all of the unfiltered rows.
    let (out_head, out_rest) = out.split_at_mut(head);
    let (cur_head, rest) = cur.split_at(head);
    let left = &cur[..n - head];
    let (prev_head, up) = prev.split_at(head);
    let corner = &prev[..n - head];
    match f {
        1 => {
            out_head.copy_from_slice(cur_head);
            for ((o, &c), &a) in out_rest.iter_mut().zip(rest).zip(left) {
                *o = c.wrapping_sub(a);
            }
        }
        2 => {
            for ((o, &c), &b) in out.iter_mut().zip(cur).zip(prev) {
                *o = c.wrapping_sub(b);
            }
        }
        3 => {
            for ((o, &c), &b) in out_head.iter_mut().zip(cur_head).zip(prev_head) {
                *o = c.wrapping_sub(b / 2);
            }
            for (((o, &c), &a), &b) in out_rest.iter_mut().zip(rest).zip(left).zip(up) {
                *o = c.wrapping_sub((a & b) + ((a ^ b) >> 1));
            }
        }
        _ => {
            for ((o, &c), &b) in out_head.iter_mut().zip(cur_head).zip(prev_head) {
                *o = c.wrapping_sub(b);
            }
            for ((((o, &c), &a), &b), &d) in
                out_rest.iter_mut().zip(rest).zip(left).zip(up).zip(corner)
            {
                *o = c.wrapping_sub(paeth(a, b, d));
            }
        }
    }
}

/// `png`'s measure of a filtered row: the sum of its bytes' sizes as signed.
#[inline(always)]
fn cost(row: &[u8]) -> u64 {
    // 32 bytes of at most 128 each fit 16 bits: the sums run side by side.
    let mut chunks = row.chunks_exact(32);
    let mut sum = 0u64;
    for chunk in &mut chunks {
        let mut acc = 0u16;
        for &b in chunk {
            acc += (b as i8).unsigned_abs() as u16;
        }
        sum += acc as u64;
    }
    sum + chunks
        .remainder()
        .iter()
        .map(|&b| (b as i8).unsigned_abs() as u64)
        .sum::<u64>()
}

/// Filters `cur` as `png` does when adaptive: Up, Sub, Average and Paeth
/// tried in that order, the least [`cost`] kept (a later one on a tie),
/// the first of cost 0 at once. `best` gets the filter's number and then
/// the filtered row; `trial` is scratch of the same length.
fn adaptive<'a>(
    prev: &[u8],
    cur: &[u8],
    best: &'a mut Vec<u8>,
    trial: &'a mut Vec<u8>,
) -> &'a [u8] {
    adaptive_here(prev, cur, best, trial)
}

/// [`adaptive`] for whatever the caller was compiled for.
#[inline(always)]
fn adaptive_here<'a>(
    prev: &[u8],
    cur: &[u8],
    mut best: &'a mut Vec<u8>,
    mut trial: &'a mut Vec<u8>,
) -> &'a [u8] {
    let mut least = u64::MAX;
    for f in [2u8, 1, 3, 4] {
        trial[0] = f;
        filter(f, prev, cur, &mut trial[1..]);
        let c = cost(&trial[1..]);
        if c <= least {
            least = c;
            std::mem::swap(&mut best, &mut trial);
            if c == 0 {
                break;
            }
        }
    }
    best
}

/// The code of one strip of rows.
#[derive(Debug, PartialEq, Eq)]
struct Strip {
    bits: Bits,
    /// Adler-32 of the strip's filtered bytes (filter numbers included).
    adler: u32,
    /// Those bytes' count.
    len: u64,
}

/// The adler-32 of `x` then `y`, from theirs and `y`'s length.
fn adler_join(x: u32, y: u32, y_len: u64) -> u32 {
    let m = ADLER_MOD;
    let (ax, bx) = ((x & 0xffff) as u64, (x >> 16) as u64);
    let (ay, by) = ((y & 0xffff) as u64, (y >> 16) as u64);
    let n = y_len % m;
    let a = (ax + ay + m - 1) % m;
    let b = (bx + n * ax + by + m - n) % m;
    ((b << 16) | a) as u32
}

/// An image's rows, filtered and coded in strips of `rows` rows.
#[derive(Debug, Clone)]
pub(crate) struct Coded {
    width: u32,
    height: u32,
    rows: usize,
    strips: Vec<Arc<Strip>>,
}

impl Coded {
    /// Strips of this image the same as (shared with) `other`'s.
    #[cfg(test)]
    fn shared_with(&self, other: &Coded) -> usize {
        self.strips
            .iter()
            .zip(&other.strips)
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count()
    }

    /// The length in bytes of the zlib stream of the image data, as `png`
    /// makes it at its fast setting; `None` where `png` stores the rows
    /// uncompressed instead (when coding would make them larger).
    pub(crate) fn zlib_len(&self) -> Option<usize> {
        let table = Table::get().expect("a Coded is only made with the table");
        let bits = table.head.len
            + self.strips.iter().map(|s| s.bits.len).sum::<u64>()
            + table.end.1 as u64;
        // The bits to the byte, then the adler-32.
        let len = bits.div_ceil(8) as usize + 4;
        let raw: u64 = self.strips.iter().map(|s| s.len).sum();
        let stored = fdeflate::StoredOnlyCompressor::<()>::compressed_size(raw as usize);
        (len <= stored).then_some(len)
    }

    /// Gives `out` the zlib stream of the image data ([`Coded::zlib_len`]
    /// bytes) a piece of about [`ZLIB_PIECE`] bytes at a time, joined from
    /// the strips as it goes: the stream is never held whole.
    pub(crate) fn write_zlib(
        &self,
        out: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let table = Table::get().expect("a Coded is only made with the table");
        let mut all = BitWriter::with_capacity(ZLIB_PIECE + STRIP_BYTES);
        all.append(&table.head);
        let mut adler = 1u32;
        for s in &self.strips {
            all.append(&s.bits);
            adler = adler_join(adler, s.adler, s.len);
            if all.bytes.len() >= ZLIB_PIECE {
                // Whole bytes only: the bits not yet a byte stay in `all`.
                out(&all.bytes)?;
                all.bytes.clear();
            }
        }
        all.put(table.end.0 as u64, table.end.1 as u32);
        let mut last = all.finish().bytes;
        last.extend_from_slice(&adler.to_be_bytes());
        out(&last)
    }

    /// The zlib stream whole ([`Coded::write_zlib`]), or `None` as
    /// [`Coded::zlib_len`].
    #[cfg(test)]
    fn zlib(&self) -> Option<Vec<u8>> {
        let len = self.zlib_len()?;
        let mut all = Vec::with_capacity(len);
        self.write_zlib(&mut |b| {
            all.extend_from_slice(b);
            Ok(())
        })
        .expect("a Vec takes every byte");
        assert_eq!(all.len(), len, "zlib_len is the stream's length");
        Some(all)
    }
}

/// An image as rows: pieces of images drawn in order over black, each at
/// its top-left corner and wholly inside. A session image is the photo
/// with the treated area's crop (and the notice) over it, a before/after
/// sheet two framed views of the photo side by side, the after-half's crop
/// and the labels over them: their rows are made one at a time as they
/// are coded, never the whole image.
#[derive(Debug, Clone)]
pub(crate) struct Layered<'a> {
    width: u32,
    height: u32,
    pieces: Vec<Piece<'a>>,
}

/// A rectangle of an image placed in a [`Layered`] image.
#[derive(Debug, Clone)]
pub(crate) struct Piece<'a> {
    /// Where its top-left corner goes.
    pub(crate) at: (u32, u32),
    /// The image it is cut from…
    pub(crate) from: Cow<'a, RgbImage>,
    /// … and the rectangle of it cut.
    pub(crate) rect: Rect,
}

impl<'a> Piece<'a> {
    /// All of `img`, its top-left corner at `at`.
    pub(crate) fn whole(img: &'a RgbImage, at: (u32, u32)) -> Self {
        Piece::whole_of(Cow::Borrowed(img), at)
    }

    /// Rectangle `rect` of `img`, its top-left corner at `at`.
    pub(crate) fn cut(img: &'a RgbImage, rect: Rect, at: (u32, u32)) -> Self {
        Piece {
            at,
            from: Cow::Borrowed(img),
            rect,
        }
    }

    /// All of `img` (kept by the piece), its top-left corner at `at`.
    pub(crate) fn owned(img: RgbImage, at: (u32, u32)) -> Self {
        Piece::whole_of(Cow::Owned(img), at)
    }

    fn whole_of(from: Cow<'a, RgbImage>, at: (u32, u32)) -> Self {
        let rect = Rect {
            x0: 0,
            y0: 0,
            x1: from.width(),
            y1: from.height(),
        };
        Piece { at, from, rect }
    }

    /// Rows of the image it covers.
    fn rows(&self) -> std::ops::Range<usize> {
        self.at.1 as usize..(self.at.1 + self.rect.height()) as usize
    }

    /// Its pixels in row `y` of the image (which it covers).
    fn row(&self, y: usize) -> &[u8] {
        let n = self.from.width() as usize * 3;
        let sy = self.rect.y0 as usize + y - self.at.1 as usize;
        &self.from.as_raw()[sy * n + self.rect.x0 as usize * 3..][..self.rect.width() as usize * 3]
    }
}

impl<'a> Layered<'a> {
    /// A `width` × `height` image of `pieces` over black. Panics if a piece
    /// is not wholly inside its image and the image.
    pub(crate) fn new(width: u32, height: u32, pieces: Vec<Piece<'a>>) -> Self {
        let mut img = Layered {
            width,
            height,
            pieces: Vec::with_capacity(pieces.len()),
        };
        for p in pieces {
            img.push(p);
        }
        img
    }

    /// Draws `p` over the image. Panics if it is not wholly inside its
    /// image and the image.
    pub(crate) fn push(&mut self, p: Piece<'a>) {
        let r = p.rect;
        assert!(
            r.x0 <= r.x1 && r.y0 <= r.y1 && r.x1 <= p.from.width() && r.y1 <= p.from.height(),
            "a piece's rectangle {r:?} lies inside its image"
        );
        assert!(
            p.at.0 + r.width() <= self.width && p.at.1 + r.height() <= self.height,
            "a piece at {:?} lies inside the {} x {} image",
            p.at,
            self.width,
            self.height
        );
        self.pieces.push(p);
    }

    /// The pieces, in the order they are drawn.
    pub(crate) fn into_pieces(self) -> Vec<Piece<'a>> {
        self.pieces
    }

    /// Rectangle `rect` of `img` as an image.
    pub(crate) fn view(img: &'a RgbImage, rect: Rect) -> Self {
        Layered::new(
            rect.width(),
            rect.height(),
            vec![Piece::cut(img, rect, (0, 0))],
        )
    }

    /// `img` alone.
    pub(crate) fn plain(img: &'a RgbImage) -> Self {
        Layered::over(img, Vec::new())
    }

    /// `base` with `patches` over it in order.
    pub(crate) fn over(base: &'a RgbImage, patches: Vec<Piece<'a>>) -> Self {
        let (w, h) = base.dimensions();
        let mut pieces = vec![Piece::whole(base, (0, 0))];
        pieces.extend(patches);
        Layered::new(w, h, pieces)
    }

    /// Width and height.
    pub(crate) fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The image under everything, when it is one image whole (the base
    /// of [`Layered::over`]): its rows are the image's where no other
    /// piece lies.
    fn base(&self) -> Option<&RgbImage> {
        let p = self.pieces.first()?;
        (p.at == (0, 0)
            && p.rect.x0 == 0
            && p.rect.y0 == 0
            && p.from.dimensions() == (self.width, self.height)
            && (p.rect.x1, p.rect.y1) == (self.width, self.height))
            .then_some(&*p.from)
    }

    /// The image whole, when it is one image alone.
    pub(crate) fn as_whole(&self) -> Option<&RgbImage> {
        self.base().filter(|_| self.pieces.len() == 1)
    }

    /// Whether a piece over the base (every piece, when there is no base)
    /// covers any of rows `y0..y1`.
    fn touches(&self, y0: usize, y1: usize) -> bool {
        let skip = usize::from(self.base().is_some());
        self.pieces[skip..].iter().any(|p| {
            let r = p.rows();
            r.start < y1 && y0 < r.end
        })
    }

    /// Row `y`: the base's own, or made in `scratch` when a piece covers it.
    fn row<'s>(&'s self, y: usize, scratch: &'s mut Vec<u8>) -> &'s [u8] {
        match self.row_of_base(y) {
            Some(row) => row,
            None => {
                self.make_row(y, scratch);
                scratch
            }
        }
    }

    /// Row `y` of the base, when no piece covers it.
    fn row_of_base(&self, y: usize) -> Option<&[u8]> {
        let n = self.width as usize * 3;
        let base = self.base()?;
        (!self.touches(y, y + 1)).then(|| &base.as_raw()[y * n..(y + 1) * n])
    }

    /// Row `y` made in `scratch` from the pieces over black.
    fn make_row(&self, y: usize, scratch: &mut Vec<u8>) {
        let n = self.width as usize * 3;
        scratch.clear();
        scratch.resize(n, 0);
        for p in self.pieces.iter().filter(|p| p.rows().contains(&y)) {
            let from = p.row(y);
            scratch[p.at.0 as usize * 3..][..from.len()].copy_from_slice(from);
        }
    }

    /// The pixels of rectangle `r` (inside the image) as an image.
    pub(crate) fn part(&self, r: Rect) -> RgbImage {
        assert!(r.x0 <= r.x1 && r.y0 <= r.y1 && r.x1 <= self.width && r.y1 <= self.height);
        let n = r.width() as usize * 3;
        let mut raw = vec![0u8; n * r.height() as usize];
        raw.par_chunks_mut(n.max(1))
            .enumerate()
            .for_each_init(Vec::new, |scratch, (k, out)| {
                let row = self.row(r.y0 as usize + k, scratch);
                out.copy_from_slice(&row[r.x0 as usize * 3..][..n]);
            });
        RgbImage::from_raw(r.width(), r.height(), raw).expect("a row per row")
    }

    /// The whole image (for what needs one: JPEG, stored PNG data).
    pub(crate) fn to_image(&self) -> RgbImage {
        self.part(Rect {
            x0: 0,
            y0: 0,
            x1: self.width,
            y1: self.height,
        })
    }
}

/// Filters and codes `img`'s rows in strips on every core, taking from
/// `base` (the code of `img`'s base image, its first piece when that is an
/// image whole the image's size) every strip no other piece touches,
/// nor the row above it, which the filters read. `None` if `fdeflate`'s
/// table is not the one this module codes with (see the module's notes).
pub(crate) fn code(img: &Layered, base: Option<&Coded>) -> Option<Coded> {
    let table = Table::get()?;
    let (width, height) = img.dimensions();
    let row_len = width as usize * 3;
    let rows = (STRIP_BYTES / (row_len + 1)).max(1);
    let base = base
        .filter(|c| img.base().is_some() && (c.width, c.height, c.rows) == (width, height, rows));
    let n = (height as usize).div_ceil(rows);
    let strips = (0..n)
        .into_par_iter()
        .with_max_len(1)
        .map(|i| {
            let (y0, y1) = (i * rows, ((i + 1) * rows).min(height as usize));
            match base {
                Some(c) if !img.touches(y0.saturating_sub(1), y1) => c.strips[i].clone(),
                _ => Arc::new(code_strip(table, img, y0, y1)),
            }
        })
        .collect();
    Some(Coded {
        width,
        height,
        rows,
        strips,
    })
}

/// Filters and codes rows `y0..y1` of `img`.
fn code_strip(table: &Table, img: &Layered, y0: usize, y1: usize) -> Strip {
    let row_len = img.width as usize * 3;
    let zeros = vec![0u8; row_len];
    let mut best = vec![0u8; row_len + 1];
    let mut trial = vec![0u8; row_len + 1];
    let (mut above, mut here) = (Vec::new(), Vec::new());
    let mut w = BitWriter::with_capacity((y1 - y0) * row_len / 4);
    let mut adler = simd_adler32::Adler32::new();
    // The row above: the base's own, or made in `above` (the row made for
    // one row serves as the one above the next, not made twice).
    let mut prev_of_base = match y0 {
        0 => Some(&zeros[..]),
        _ => {
            let r = img.row_of_base(y0 - 1);
            if r.is_none() {
                img.make_row(y0 - 1, &mut above);
            }
            r
        }
    };
    for y in y0..y1 {
        let cur_of_base = img.row_of_base(y);
        if cur_of_base.is_none() {
            img.make_row(y, &mut here);
        }
        let cur = cur_of_base.unwrap_or(&here);
        let prev = prev_of_base.unwrap_or(&above);
        let row = adaptive(prev, cur, &mut best, &mut trial);
        adler.write(row);
        table.row(&mut w, row);
        prev_of_base = cur_of_base;
        if cur_of_base.is_none() {
            std::mem::swap(&mut above, &mut here);
        }
    }
    let mut bits = w.finish();
    bits.bytes.shrink_to_fit();
    Strip {
        bits,
        adler: adler.finish(),
        len: ((y1 - y0) * (row_len + 1)) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// `png`'s own image data for `img` at the outputs' setting.
    fn png_idat(img: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        let enc = crate::provenance::png_encoder(&mut out, img.width(), img.height());
        let mut w = enc.write_header().unwrap();
        w.write_image_data(img.as_raw()).unwrap();
        w.finish().unwrap();
        // The IDAT chunks' data, joined.
        let mut data = Vec::new();
        let mut at = 8;
        while at < out.len() {
            let len = u32::from_be_bytes(out[at..at + 4].try_into().unwrap()) as usize;
            if &out[at + 4..at + 8] == b"IDAT" {
                data.extend_from_slice(&out[at + 8..at + 8 + len]);
            }
            at += 12 + len;
        }
        data
    }

    /// Images of many widths and contents: noise, flat, runs of zeros of
    /// every length across the 8-byte steps, smooth gradients, stripes.
    fn images() -> Vec<RgbImage> {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        let mut out = Vec::new();
        for &(w, h) in &[
            (1, 1),
            (1, 9),
            (2, 3),
            (3, 5),
            (5, 2),
            (7, 11),
            (16, 4),
            (33, 17),
        ] {
            out.push(RgbImage::from_fn(w, h, |_, _| {
                image::Rgb([rng.random(), rng.random(), rng.random()])
            }));
        }
        for &(w, h) in &[(300, 700), (1000, 80), (4000, 60)] {
            // Smooth with noise: a photo's statistics.
            out.push(RgbImage::from_fn(w, h, |x, y| {
                let n: i32 = rng.random_range(-3..=3);
                let v = |k: u32| ((x * k + y * 2) / 7 % 256) as i32;
                image::Rgb([
                    (v(1) + n).clamp(0, 255) as u8,
                    (v(2) + n).clamp(0, 255) as u8,
                    v(3) as u8,
                ])
            }));
            // Flat areas (long runs, over 258) broken by dots of every
            // spacing (runs of 1-20 zero bytes).
            let mut img = RgbImage::from_pixel(w, h, image::Rgb([90, 60, 50]));
            for _ in 0..(w * h / 9) {
                let (x, y) = (rng.random_range(0..w), rng.random_range(0..h));
                img.put_pixel(x, y, image::Rgb([rng.random(), 0, rng.random()]));
            }
            out.push(img);
            out.push(RgbImage::from_pixel(w, h, image::Rgb([0, 0, 0])));
            out.push(RgbImage::from_fn(w, h, |x, _| {
                image::Rgb([(x % 5 * 40) as u8, 0, (x % 3) as u8])
            }));
        }
        out
    }

    #[test]
    fn the_code_is_pngs_byte_for_byte() {
        let mut coded_here = 0;
        for img in images() {
            let coded =
                code(&Layered::plain(&img), None).expect("fdeflate's table is the one coded with");
            let png = png_idat(&img);
            match coded.zlib() {
                Some(ours) => {
                    let at = ours.iter().zip(&png).position(|(a, b)| a != b);
                    assert!(
                        ours == png,
                        "{} x {}: {} bytes against png's {}, first differing at {at:?}",
                        img.width(),
                        img.height(),
                        ours.len(),
                        png.len()
                    );
                    coded_here += 1;
                }
                // Noise codes larger than it is: `png` stores it.
                None => {
                    let raw = (img.width() as usize * 3 + 1) * img.height() as usize;
                    let stored = fdeflate::StoredOnlyCompressor::<()>::compressed_size(raw);
                    assert_eq!(png.len(), stored, "{} x {}", img.width(), img.height());
                }
            }
        }
        assert!(coded_here >= 12, "{coded_here}");
    }

    #[test]
    fn strips_no_patch_touches_come_from_the_base() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
        let base = RgbImage::from_fn(4000, 300, |x, y| {
            let n: u8 = rng.random_range(0..4);
            image::Rgb([(x / 16) as u8 + n, (y / 2) as u8, n])
        });
        let (w, h) = base.dimensions();
        let coded = code(&Layered::plain(&base), None).unwrap();
        assert!(coded.strips.len() > 10, "{} strips", coded.strips.len());
        // A band in the middle, a patch at the foot over it in part, and
        // one at the very top-left.
        let band = RgbImage::from_fn(w / 4, h / 6, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let foot = RgbImage::from_fn(90, 12, |x, y| image::Rgb([9, x as u8, y as u8]));
        let corner = RgbImage::from_pixel(3, 1, image::Rgb([250, 1, 2]));
        let patches = [
            (w / 4, h / 3, &band),
            (w - 90, h - 12, &foot),
            (0, 0, &corner),
        ];
        let img = Layered::over(
            &base,
            patches
                .iter()
                .map(|&(x, y, p)| Piece::whole(p, (x, y)))
                .collect(),
        );
        let whole = img.to_image();
        assert_eq!(whole.get_pixel(w / 4 + 5, h / 3 + 2), band.get_pixel(5, 2));
        assert_eq!(whole.get_pixel(w - 1, h - 1), foot.get_pixel(89, 11));
        assert_eq!(whole.get_pixel(2, 0), corner.get_pixel(2, 0));
        assert_eq!(whole.get_pixel(3, 0), base.get_pixel(3, 0));
        let reused = code(&img, Some(&coded)).unwrap();
        let fresh = code(&img, None).unwrap();
        assert!(reused.zlib() == fresh.zlib());
        assert!(reused.zlib().unwrap() == png_idat(&whole));
        // Shared: every strip whose rows and the row above lie outside
        // every patch's rows.
        let rows = coded.rows;
        let touched = |i: usize| {
            let (y0, y1) = (
                (i * rows).saturating_sub(1) as u32,
                ((i + 1) * rows).min(h as usize) as u32,
            );
            patches
                .iter()
                .any(|&(_, py, p)| py < y1 && y0 < py + p.height())
        };
        let expect = (0..coded.strips.len()).filter(|&i| !touched(i)).count();
        assert!(expect > 5 && expect < coded.strips.len() - 3, "{expect}");
        assert_eq!(reused.shared_with(&coded), expect);
        assert_eq!(fresh.shared_with(&coded), 0);
        // Another size's code is never taken from.
        let small = RgbImage::new(w, h - 1);
        let other = code(&Layered::plain(&small), Some(&coded)).unwrap();
        assert_eq!(other.shared_with(&coded), 0);
        assert!(other.zlib().unwrap() == png_idat(&small));
    }

    #[test]
    fn adler_of_joined_data_is_joined_from_the_parts() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        for &(nx, ny) in &[(0, 5), (5, 0), (1, 1), (1000, 70_000), (65_521, 65_522)] {
            let x: Vec<u8> = (0..nx).map(|_| rng.random()).collect();
            let y: Vec<u8> = (0..ny).map(|_| rng.random()).collect();
            let whole = simd_adler32::adler32(&[x.clone(), y.clone()].concat().as_slice());
            let joined = adler_join(
                simd_adler32::adler32(&x.as_slice()),
                simd_adler32::adler32(&y.as_slice()),
                ny as u64,
            );
            assert_eq!(joined, whole, "{nx} + {ny}");
        }
    }

    #[test]
    fn bits_join_at_any_offset_and_pad_with_zeros() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
        for _ in 0..200 {
            let mut parts = Vec::new();
            let mut all_bits = Vec::new();
            for _ in 0..rng.random_range(1..5) {
                let mut w = BitWriter::with_capacity(16);
                for _ in 0..rng.random_range(0..40) {
                    let n = rng.random_range(1..64u32);
                    let v: u64 = rng.random::<u64>() >> (64 - n);
                    w.put(v, n);
                    all_bits.extend((0..n).map(|i| (v >> i) & 1));
                }
                parts.push(w.finish());
            }
            let mut joined = BitWriter::with_capacity(0);
            for p in &parts {
                joined.append(p);
            }
            let joined = joined.finish();
            assert_eq!(joined.len, all_bits.len() as u64);
            let back: Vec<u64> = (0..joined.len)
                .map(|i| (joined.bytes[(i / 8) as usize] as u64 >> (i % 8)) & 1)
                .collect();
            assert_eq!(back, all_bits);
            assert_eq!(joined.bytes.len() as u64, joined.len.div_ceil(8));
            if !joined.len.is_multiple_of(8) {
                let last = *joined.bytes.last().unwrap();
                assert_eq!(last >> (joined.len % 8), 0, "bits past the end are zero");
            }
        }
    }

    #[test]
    fn the_paeth_predictor_is_the_specs() {
        // PNG spec, 9.4: the nearest of a, b, c to a + b - c, ties in that order.
        for a in (0..=255u8).step_by(5) {
            for b in (0..=255u8).step_by(7) {
                for c in (0..=255u8).step_by(3) {
                    let p = a as i32 + b as i32 - c as i32;
                    let (pa, pb, pc) = (
                        (p - a as i32).abs(),
                        (p - b as i32).abs(),
                        (p - c as i32).abs(),
                    );
                    let want = if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    };
                    assert_eq!(paeth(a, b, c), want, "{a} {b} {c}");
                }
            }
        }
    }
}
