//! Comparison layouts: pictures with captions on a plain background, each
//! picture scaled uniformly (never stretched) to a common height.
//!
//! A layout is solved in two steps. The text size comes from the output's
//! size ([`legible_text_px`]), capped so that every caption fits under its
//! picture; then the pictures get the largest common height that fits the
//! canvas (or, without a canvas, the smallest picture's own height, so no
//! picture is enlarged). The margins, gaps and caption bands scale with the
//! output, so a 1080 px post and an A4 print look alike.

use image::{imageops::FilterType, Rgb, RgbImage};
use rayon::prelude::*;

use super::portfolio::{Canvas, Watermark};
use super::{darken, draw_text, legible_text_px, text_width, Face, Pen};
use crate::error::{Error, Result};

/// One picture of a sheet with its caption.
#[derive(Debug, Clone)]
pub struct Panel {
    /// The picture.
    pub image: RgbImage,
    /// Its caption, e.g. "Before" or "Session 2".
    pub label: String,
}

impl Panel {
    /// A panel of `image` captioned `label`.
    pub fn new(image: RgbImage, label: impl Into<String>) -> Self {
        Panel {
            image,
            label: label.into(),
        }
    }
}

/// How the panels are arranged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Layout {
    /// The first and the last panel next to each other.
    SideBySide,
    /// One picture: the first panel left of a vertical line at `at` (0-1 of
    /// the width), the last panel right of it. Both must have the same size.
    Split {
        /// Position of the line, 0 (all after) to 1 (all before). Default: 0.5.
        at: f32,
    },
    /// Every panel in one row: a session progression or a timeline.
    Strip,
    /// Every panel in rows of `columns`; `None` picks about square.
    Grid {
        /// Panels per row.
        columns: Option<u32>,
    },
}

impl Layout {
    /// The layout's name as the command line spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Layout::SideBySide => "side-by-side",
            Layout::Split { .. } => "split",
            Layout::Strip => "strip",
            Layout::Grid { .. } => "grid",
        }
    }
}

/// Default sheet background: a near-black grey that lets skin tones read
/// true and keeps white captions legible.
pub const DEFAULT_BACKGROUND: Rgb<u8> = Rgb([22, 22, 22]);

/// The footer notice of a sheet that shows a simulation.
pub const SHEET_NOTICE: &str = "Simulated preview: the after images are rendered, not photographed";

/// How to build a sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetOptions {
    /// The arrangement. Default: [`Layout::Strip`].
    pub layout: Layout,
    /// A fixed output size the sheet is fitted into; `None` keeps the
    /// pictures at their own resolution. Default: `None`.
    pub canvas: Option<Canvas>,
    /// Background colour. Default: [`DEFAULT_BACKGROUND`].
    pub background: Rgb<u8>,
    /// Write the [`SHEET_NOTICE`] in a footer. Turning it off is an explicit
    /// choice for sheets of real photos. Default: true.
    pub simulated_label: bool,
    /// A studio's name or logo over the sheet. Default: none.
    pub watermark: Option<Watermark>,
}

impl Default for SheetOptions {
    fn default() -> Self {
        SheetOptions {
            layout: Layout::Strip,
            canvas: None,
            background: DEFAULT_BACKGROUND,
            simulated_label: true,
            watermark: None,
        }
    }
}

/// Where things go on a solved sheet, px.
#[derive(Debug, Clone, PartialEq)]
struct Geometry {
    width: u32,
    height: u32,
    margin: u32,
    text_px: f32,
    caption_h: u32,
    note_px: f32,
    footer_h: u32,
    /// Each picture's rectangle: x, y, width, height.
    cells: Vec<(u32, u32, u32, u32)>,
}

/// Rows of item indices for `n` items in rows of `columns`.
fn rows_of(columns: usize, n: usize) -> Vec<Vec<usize>> {
    (0..n)
        .collect::<Vec<_>>()
        .chunks(columns.clamp(1, n.max(1)))
        .map(<[usize]>::to_vec)
        .collect()
}

/// `n` items in `r` rows as even as possible, the longer rows first
/// (5 in 2 rows: 3 and 2; never 4 and 1).
fn balanced_rows(r: usize, n: usize) -> Vec<Vec<usize>> {
    let r = r.clamp(1, n.max(1));
    let mut rows = Vec::with_capacity(r);
    let mut next = 0;
    for k in 0..r {
        let len = n / r + usize::from(k < n % r);
        rows.push((next..next + len).collect());
        next += len;
    }
    rows
}

/// Columns of a grid without a canvas: one row up to three pictures, then
/// about square.
fn default_columns(n: usize) -> usize {
    match n {
        0..=3 => n.max(1),
        4 => 2,
        _ => (n as f64).sqrt().ceil() as usize,
    }
}

/// Solves the sheet for items of `sizes` with `labels` (captions under
/// each, or, for a split view, two tags on the one picture).
///
/// Without a canvas a strip or side-by-side is one row. On a canvas the
/// pictures of a strip, a side-by-side or a grid without a column count
/// wrap, in order, into as many even rows as gives them the most room: a
/// strip of wide crops on a square post becomes a column instead of a thin
/// band, four pictures on a wide screen two rows of two.
fn solve(
    sizes: &[(u32, u32)],
    labels: &[&str],
    layout: Layout,
    canvas: Option<&Canvas>,
    footer: bool,
) -> Geometry {
    let n = sizes.len();
    let fixed = match layout {
        Layout::Grid { columns: Some(c) } => Some(c as usize),
        Layout::Split { .. } => Some(1),
        _ if canvas.is_some() => None,
        Layout::Grid { columns: None } => Some(default_columns(n)),
        _ => Some(n),
    };
    match fixed {
        Some(c) => solve_rows(sizes, labels, layout, &rows_of(c, n), canvas, footer),
        None => (1..=n.max(1))
            .map(|r| solve_rows(sizes, labels, layout, &balanced_rows(r, n), canvas, footer))
            .max_by_key(|g| g.cells.iter().map(|c| c.2 as u64 * c.3 as u64).sum::<u64>())
            .expect("at least one arrangement"),
    }
}

fn solve_rows(
    sizes: &[(u32, u32)],
    labels: &[&str],
    layout: Layout,
    rows: &[Vec<usize>],
    canvas: Option<&Canvas>,
    footer: bool,
) -> Geometry {
    let aspect: Vec<f64> = sizes.iter().map(|&(w, h)| w as f64 / h as f64).collect();
    let captions = !matches!(layout, Layout::Split { .. });
    let row_aspect = |r: &[usize]| r.iter().map(|&i| aspect[i]).sum::<f64>();
    let nrows = rows.len() as f64;
    let native_h = sizes.iter().map(|s| s.1).min().unwrap_or(1) as f64;

    // The output size is unknown until the text is sized and the text size
    // depends on the output: a few rounds settle both.
    let (mut w, mut h) = match canvas {
        Some(c) => (c.width as f64, c.height as f64),
        None => (
            rows.iter().map(|r| row_aspect(r)).fold(0.0, f64::max) * native_h,
            native_h * nrows,
        ),
    };
    let mut g = None;
    for _ in 0..6 {
        let short = w.min(h);
        let margin = (0.035 * short).round().max(8.0);
        let gap = (0.4 * margin).round().max(4.0);
        let mut text = legible_text_px(w as u32, h as u32) as f64;
        let note = |t: f64| (t * 0.62).max(11.0);
        let bands = |t: f64| {
            let cap = if captions { (t * 1.7).round() } else { 0.0 };
            let foot = if footer { (note(t) * 2.0).round() } else { 0.0 };
            (cap, foot)
        };
        // The picture height at a text size.
        let pic_h = |t: f64| {
            let (cap, foot) = bands(t);
            match canvas {
                None => native_h,
                Some(_) => {
                    let by_h =
                        (h - 2.0 * margin - foot - nrows * cap - (nrows - 1.0) * gap) / nrows;
                    let by_w = rows
                        .iter()
                        .map(|r| (w - 2.0 * margin - (r.len() as f64 - 1.0) * gap) / row_aspect(r))
                        .fold(f64::INFINITY, f64::min);
                    by_h.min(by_w).max(1.0)
                }
            }
        };
        for _ in 0..4 {
            let ph = pic_h(text);
            // Every caption fits its picture. At the pictures' own size
            // (no canvas) text never dwarfs a picture either; on a canvas
            // it keeps the size that reads on a phone.
            let mut fit = match canvas {
                None => ph * if captions { 0.13 } else { 0.075 },
                Some(_) => f64::INFINITY,
            };
            for (i, label) in labels.iter().enumerate() {
                let at_1 = text_width(label, 100.0, Face::Bold) as f64 / 100.0;
                let room = if captions {
                    0.94 * ph * aspect[i.min(aspect.len() - 1)]
                } else {
                    // Two tags share the picture's width.
                    0.42 * ph * aspect[0]
                };
                if at_1 > 0.0 {
                    fit = fit.min(room / at_1);
                }
            }
            text = text.min(fit).max(10.0);
        }
        let ph = pic_h(text);
        let (cap, foot) = bands(text);
        let widths: Vec<Vec<f64>> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|&i| (ph * aspect[i]).round().max(1.0))
                    .collect()
            })
            .collect();
        let row_w: Vec<f64> = widths
            .iter()
            .map(|r| r.iter().sum::<f64>() + (r.len() as f64 - 1.0) * gap)
            .collect();
        let block_w = row_w.iter().cloned().fold(0.0, f64::max);
        let ph = ph.round().max(1.0);
        let block_h = nrows * (ph + cap) + (nrows - 1.0) * gap;
        if canvas.is_none() {
            w = block_w + 2.0 * margin;
            h = block_h + foot + 2.0 * margin;
        }
        let y_top = margin + ((h - 2.0 * margin - foot - block_h) / 2.0).max(0.0).floor();
        let mut cells = vec![(0, 0, 0, 0); sizes.len()];
        for (ri, r) in rows.iter().enumerate() {
            let mut x = ((w - row_w[ri]) / 2.0).floor();
            let y = y_top + ri as f64 * (ph + cap + gap);
            for (k, &i) in r.iter().enumerate() {
                cells[i] = (x as u32, y as u32, widths[ri][k] as u32, ph as u32);
                x += widths[ri][k] + gap;
            }
        }
        g = Some(Geometry {
            width: w as u32,
            height: h as u32,
            margin: margin as u32,
            text_px: text as f32,
            caption_h: cap as u32,
            note_px: note(text) as f32,
            footer_h: foot as u32,
            cells,
        });
        if canvas.is_some() {
            break;
        }
    }
    g.expect("solved at least once")
}

/// Scales `img` uniformly to `w` × `h` (the caller keeps the aspect ratio);
/// a picture already that size is copied as it is.
fn fit(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    if img.dimensions() == (w, h) {
        img.clone()
    } else {
        image::imageops::resize(img, w, h, FilterType::Lanczos3)
    }
}

fn paste(out: &mut RgbImage, img: &RgbImage, x: u32, y: u32) {
    let ow = out.width() as usize * 3;
    let iw = img.width() as usize * 3;
    let x3 = x as usize * 3;
    let dst = out.as_mut();
    for (row, src) in img.as_raw().chunks_exact(iw).enumerate() {
        let o = (y as usize + row) * ow + x3;
        dst[o..o + iw].copy_from_slice(src);
    }
}

/// Text colour for a background: white on dark, near-black on light.
fn ink(bg: Rgb<u8>) -> Rgb<u8> {
    let l = 0.2126 * bg.0[0] as f32 + 0.7152 * bg.0[1] as f32 + 0.0722 * bg.0[2] as f32;
    if l < 140.0 {
        Rgb([255, 255, 255])
    } else {
        Rgb([20, 20, 20])
    }
}

/// The split view of `before` and `after` (same size) at `w` × `h` px, the
/// line at `at` of the width.
fn split_picture(before: &RgbImage, after: &RgbImage, w: u32, h: u32, at: f32) -> RgbImage {
    let (b, a) = rayon::join(|| fit(before, w, h), || fit(after, w, h));
    let line_x = (at * w as f32).round() as u32;
    let mut out = a;
    let bw = line_x.min(w) as usize * 3;
    let row = w as usize * 3;
    out.as_mut()
        .par_chunks_mut(row)
        .zip(b.as_raw().par_chunks(row))
        .for_each(|(o, s)| o[..bw].copy_from_slice(&s[..bw]));
    // A white line with dark edges, centred on the split.
    let lw = (w as f32 * 0.004).round().max(2.0) as i64;
    for x in line_x as i64 - lw / 2 - 1..line_x as i64 - lw / 2 + lw + 1 {
        if x < 0 || x >= w as i64 {
            continue;
        }
        let edge = x == line_x as i64 - lw / 2 - 1 || x == line_x as i64 - lw / 2 + lw;
        for y in 0..h {
            let p = out.get_pixel_mut(x as u32, y);
            if edge {
                for c in p.0.iter_mut() {
                    *c = (*c as f32 * 0.5) as u8;
                }
            } else {
                p.0 = [255, 255, 255];
            }
        }
    }
    out
}

/// A tag on a darkened band with its top-left (`right` false) or top-right
/// corner at (`x`, `y`).
fn tag(img: &mut RgbImage, x: i32, y: i32, px: f32, text: &str, right: bool) {
    let tw = text_width(text, px, Face::Bold) as i32;
    let pad = (px * 0.4).round() as i32;
    let x0 = if right { x - tw - 2 * pad } else { x };
    darken(
        img,
        x0,
        y,
        x0 + tw + 2 * pad,
        y + px.ceil() as i32 + 2 * pad,
        0.4,
    );
    draw_text(
        img,
        x0 + pad,
        y + pad,
        text,
        Pen {
            px,
            colour: Rgb([255, 255, 255]),
            opacity: 1.0,
            face: Face::Bold,
        },
    );
}

/// Lays `panels` out as `opts` asks and draws captions, the simulation
/// notice and the watermark. Every picture keeps its aspect ratio.
pub fn compose(panels: &[Panel], opts: &SheetOptions) -> Result<RgbImage> {
    let layout_err = |why: String| Error::field("sheet", "layout", opts.layout.name(), why);
    if panels.is_empty() {
        return Err(layout_err("a sheet needs at least one image".into()));
    }
    let used: Vec<&Panel> = match opts.layout {
        Layout::SideBySide | Layout::Split { .. } => {
            if panels.len() < 2 {
                return Err(layout_err(format!(
                    "needs two images, a before and an after; got {}",
                    panels.len()
                )));
            }
            vec![&panels[0], &panels[panels.len() - 1]]
        }
        Layout::Strip | Layout::Grid { .. } => panels.iter().collect(),
    };
    if let Some(w) = &opts.watermark {
        w.validate()?;
    }
    let labels: Vec<&str> = used.iter().map(|p| p.label.as_str()).collect();
    let (sizes, split_at) = match opts.layout {
        Layout::Split { at } => {
            if !(0.0..=1.0).contains(&at) {
                return Err(Error::field(
                    "sheet",
                    "split_at",
                    at,
                    "must be 0 (all after) to 1 (all before)",
                ));
            }
            let (b, a) = (&used[0].image, &used[1].image);
            if b.dimensions() != a.dimensions() {
                return Err(layout_err(format!(
                    "a split view needs a before and an after of the same size; they are {} x {} and {} x {} px",
                    b.width(),
                    b.height(),
                    a.width(),
                    a.height()
                )));
            }
            (vec![b.dimensions()], Some(at))
        }
        _ => (used.iter().map(|p| p.image.dimensions()).collect(), None),
    };
    let g = solve(
        &sizes,
        &labels,
        opts.layout,
        opts.canvas.as_ref(),
        opts.simulated_label,
    );
    // Never a sheet smp-render could not read back (nor most viewers).
    let (max_side, max_pixels) = (crate::photo::MAX_SIDE, crate::photo::MAX_PIXELS);
    let pixels = g.width as u64 * g.height as u64;
    if g.width > max_side || g.height > max_side || pixels > max_pixels {
        return Err(Error::field(
            "sheet",
            "image",
            format!("{} images", used.len()),
            format!(
                "the sheet ({} layout) would be {} x {} px ({:.0} MP); a sheet may be at most \
                 {max_side} px a side and {:.0} MP, the sizes smp-render reads: use fewer \
                 images, a grid (--layout grid), or a portfolio size",
                opts.layout.name(),
                g.width,
                g.height,
                pixels as f64 / 1e6,
                max_pixels as f64 / 1e6
            ),
        ));
    }
    let mut out = RgbImage::from_pixel(g.width, g.height, opts.background);
    let fg = ink(opts.background);
    if let Some(at) = split_at {
        let (x, y, w, h) = g.cells[0];
        let pic = split_picture(&used[0].image, &used[1].image, w, h, at);
        paste(&mut out, &pic, x, y);
        let inset = (g.text_px * 0.6).round() as i32;
        tag(
            &mut out,
            x as i32 + inset,
            y as i32 + inset,
            g.text_px,
            labels[0],
            false,
        );
        tag(
            &mut out,
            (x + w) as i32 - inset,
            y as i32 + inset,
            g.text_px,
            labels[1],
            true,
        );
    } else {
        let pictures: Vec<RgbImage> = used
            .par_iter()
            .zip(g.cells.par_iter())
            .with_max_len(1)
            .map(|(p, &(_, _, w, h))| fit(&p.image, w, h))
            .collect();
        for ((pic, &(x, y, w, h)), label) in pictures.iter().zip(&g.cells).zip(&labels) {
            paste(&mut out, pic, x, y);
            let tw = text_width(label, g.text_px, Face::Bold);
            let tx = x as i32 + (w as i32 - tw as i32) / 2;
            let ty = (y + h) as f32 + (g.caption_h as f32 - g.text_px) / 2.0;
            draw_text(
                &mut out,
                tx,
                ty.round() as i32,
                label,
                Pen {
                    px: g.text_px,
                    colour: fg,
                    opacity: 1.0,
                    face: Face::Bold,
                },
            );
        }
    }
    if opts.simulated_label {
        let to_right = opts
            .watermark
            .as_ref()
            .is_some_and(|w| w.position.is_bottom_left());
        // The notice lines up with the pictures and leaves room for a
        // watermark on the same edge.
        let left = g.cells.iter().map(|c| c.0).min().unwrap_or(g.margin) as i32;
        let right = g.cells.iter().map(|c| c.0 + c.2).max().unwrap_or(g.width) as i32;
        let mut room = (right - left) as f32;
        if let Some(w) = opts.watermark.as_ref().filter(|w| w.position.is_bottom()) {
            room -= (w.footprint(g.width, g.height, g.margin).0 + g.margin) as f32;
        }
        let at_100 = text_width(SHEET_NOTICE, 100.0, Face::Regular) as f32 / 100.0;
        let note_px = g.note_px.min(room.max(40.0) / at_100).max(8.0);
        let nw = text_width(SHEET_NOTICE, note_px, Face::Regular) as i32;
        let x = if to_right { right - nw } else { left };
        let y = g.height as f32 - g.margin as f32 - g.footer_h as f32
            + (g.footer_h as f32 - note_px) / 2.0;
        let grey = Rgb([
            (fg.0[0] as u16 * 3 / 4 + opts.background.0[0] as u16 / 4) as u8,
            (fg.0[1] as u16 * 3 / 4 + opts.background.0[1] as u16 / 4) as u8,
            (fg.0[2] as u16 * 3 / 4 + opts.background.0[2] as u16 / 4) as u8,
        ]);
        draw_text(
            &mut out,
            x,
            y.round() as i32,
            SHEET_NOTICE,
            Pen {
                px: note_px,
                colour: grey,
                opacity: 1.0,
                face: Face::Regular,
            },
        );
    }
    if let Some(w) = &opts.watermark {
        w.apply(&mut out, g.margin);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(w: u32, h: u32, v: u8) -> Panel {
        Panel::new(RgbImage::from_pixel(w, h, Rgb([v, v, v])), format!("p{v}"))
    }

    #[test]
    fn a_sheet_larger_than_smp_render_reads_is_refused_with_its_size() {
        // 16 pictures of 2000 x 120 px in a strip: over 30,000 px wide.
        let panels: Vec<Panel> = (0..16).map(|i| solid(2000, 120, i as u8)).collect();
        let opts = SheetOptions {
            layout: Layout::Strip,
            ..Default::default()
        };
        let e = compose(&panels, &opts).unwrap_err().to_string();
        assert!(
            e.contains("`image` = 16 images")
                && e.contains(" x ")
                && e.contains("at most 30000 px a side and 200 MP"),
            "{e}"
        );
        let wide: u32 = e
            .split("would be ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|w| w.parse().ok())
            .unwrap();
        assert!(wide > 32_000, "{e}");
        // Fourteen fit.
        let img = compose(&panels[..14], &opts).unwrap();
        assert!(img.width() <= 30_000, "{}", img.width());
    }

    #[test]
    fn grid_rows() {
        assert_eq!(rows_of(default_columns(3), 3).len(), 1);
        assert_eq!(rows_of(default_columns(4), 4).len(), 2);
        assert_eq!(rows_of(default_columns(5), 5).len(), 2);
        assert_eq!(rows_of(1, 3).len(), 3);
    }

    #[test]
    fn balanced_rows_are_even() {
        assert_eq!(balanced_rows(2, 5), vec![vec![0, 1, 2], vec![3, 4]]);
        assert_eq!(balanced_rows(2, 4), vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(balanced_rows(3, 3), vec![vec![0], vec![1], vec![2]]);
        assert_eq!(balanced_rows(9, 2).len(), 2);
    }

    #[test]
    fn wide_strip_on_a_square_canvas_wraps_into_a_column() {
        let sizes = [(600, 200); 3];
        let square = Canvas::parse("square").unwrap();
        let g = solve(&sizes, &["a", "b", "c"], Layout::Strip, Some(&square), true);
        let xs: Vec<u32> = g.cells.iter().map(|c| c.0).collect();
        assert!(xs.iter().all(|&x| x == xs[0]), "one column: {:?}", g.cells);
        assert!(g.cells.windows(2).all(|w| w[0].1 < w[1].1), "in order");
        let landscape = Canvas::parse("landscape").unwrap();
        let sizes = [(300, 400); 3];
        let g = solve(
            &sizes,
            &["a", "b", "c"],
            Layout::Strip,
            Some(&landscape),
            true,
        );
        assert!(g.cells.iter().all(|c| c.1 == g.cells[0].1), "one row");
    }

    #[test]
    fn native_strip_keeps_the_pictures_and_their_pixels() {
        let panels = [
            solid(300, 200, 50),
            solid(150, 200, 100),
            solid(600, 400, 150),
        ];
        let opts = SheetOptions::default();
        let out = compose(&panels, &opts).unwrap();
        let g = solve(
            &[(300, 200), (150, 200), (600, 400)],
            &["p50", "p100", "p150"],
            Layout::Strip,
            None,
            true,
        );
        assert_eq!((out.width(), out.height()), (g.width, g.height));
        // Every picture is 200 px high, the large one halved, none enlarged.
        let w: Vec<u32> = g.cells.iter().map(|c| c.2).collect();
        assert_eq!(w, [300, 150, 300]);
        assert!(g.cells.iter().all(|c| c.3 == 200));
        let (x, y, _, _) = g.cells[1];
        assert_eq!(out.get_pixel(x + 75, y + 100).0, [100; 3]);
    }

    #[test]
    fn canvas_is_filled_exactly_and_pictures_keep_their_aspect() {
        let panels = [solid(400, 300, 50), solid(400, 300, 100)];
        for preset in ["square", "portrait", "landscape", "a4"] {
            let canvas = Canvas::parse(preset).unwrap();
            let opts = SheetOptions {
                layout: Layout::SideBySide,
                canvas: Some(canvas.clone()),
                ..Default::default()
            };
            let out = compose(&panels, &opts).unwrap();
            assert_eq!(out.dimensions(), (canvas.width, canvas.height));
            let g = solve(
                &[(400, 300), (400, 300)],
                &["p50", "p100"],
                Layout::SideBySide,
                Some(&canvas),
                true,
            );
            for &(x, y, w, h) in &g.cells {
                assert!((w as f64 / h as f64 - 4.0 / 3.0).abs() < 1.5 / h as f64);
                assert!(x + w <= canvas.width && y + h <= canvas.height);
            }
        }
    }

    #[test]
    fn split_needs_same_sizes() {
        let opts = SheetOptions {
            layout: Layout::Split { at: 0.5 },
            ..Default::default()
        };
        let e = compose(&[solid(10, 10, 0), solid(12, 10, 0)], &opts)
            .unwrap_err()
            .to_string();
        assert!(e.contains("same size") && e.contains("12 x 10"), "{e}");
    }
}
