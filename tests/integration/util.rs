//! Shared helpers for the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shipped photos (`assets/photos/STEM.jpg`) with their scale, px per
/// mm, and the glabella (brow midpoint) measured by hand on the photo.
pub const SHIPPED: [(&str, f32, [f32; 2]); 5] = [
    ("frl-london_021_03", 3.27, [678.0, 487.0]),
    ("frl-london_037_03", 3.27, [671.0, 498.0]),
    ("frl-london_061_03", 3.37, [676.0, 500.0]),
    ("frl-london_105_03", 3.36, [672.0, 457.0]),
    ("frl-london_172_03", 3.31, [673.0, 505.0]),
];

/// The shipped photo `assets/photos/STEM.jpg`.
pub fn shipped_photo(stem: &str) -> image::RgbImage {
    image::open(root().join(format!("assets/photos/{stem}.jpg")))
        .unwrap()
        .to_rgb8()
}

/// The project's root folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the real binary with `args` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smp-render"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("binary runs")
}

/// Runs `render` with `args` and `--out out` in `dir`, checks it
/// succeeded, and reads the image `out/file` it wrote.
pub fn render_image(dir: &Path, args: &[&str], out: &str, file: &str) -> image::RgbImage {
    let mut all = vec!["render"];
    all.extend_from_slice(args);
    all.extend(["--out", out]);
    let o = run(dir, &all);
    assert!(o.status.success(), "{}", stderr(&o));
    image::open(dir.join(out).join(file)).unwrap().to_rgb8()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// One row of the dots CSV.
#[derive(Debug, Clone, Copy)]
pub struct CsvDot {
    pub session: u8,
    pub x: f32,
    pub y: f32,
    pub elongation: f32,
    pub angle_deg: f32,
    pub weight: f32,
    pub spacing: f32,
}

/// Reads a dots CSV written by `--dots`.
pub fn read_dots(path: &Path) -> Vec<CsvDot> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), smp_render::DOTS_CSV_HEADER);
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 9, "{l}");
            CsvDot {
                session: f[0].parse().unwrap(),
                x: f[1].parse().unwrap(),
                y: f[2].parse().unwrap(),
                elongation: f[4].parse().unwrap(),
                angle_deg: f[5].parse().unwrap(),
                weight: f[7].parse().unwrap(),
                spacing: f[8].parse().unwrap(),
            }
        })
        .collect()
}

/// Nearest-neighbour search over points with a uniform grid.
pub struct PointGrid {
    cell: f32,
    nx: usize,
    ny: usize,
    cells: Vec<Vec<usize>>,
    pts: Vec<[f32; 2]>,
}

impl PointGrid {
    pub fn new(pts: Vec<[f32; 2]>, cell: f32) -> Self {
        let maxx = pts.iter().map(|p| p[0]).fold(0.0, f32::max);
        let maxy = pts.iter().map(|p| p[1]).fold(0.0, f32::max);
        let nx = (maxx / cell) as usize + 1;
        let ny = (maxy / cell) as usize + 1;
        let mut cells = vec![Vec::new(); nx * ny];
        for (i, p) in pts.iter().enumerate() {
            cells[(p[1] / cell) as usize * nx + (p[0] / cell) as usize].push(i);
        }
        PointGrid {
            cell,
            nx,
            ny,
            cells,
            pts,
        }
    }

    /// Distance from point `i` to its nearest other point within `reach` cells.
    pub fn nearest(&self, i: usize, reach: i64) -> (f32, usize) {
        let p = self.pts[i];
        let cx = (p[0] / self.cell) as i64;
        let cy = (p[1] / self.cell) as i64;
        let mut best = (f32::INFINITY, usize::MAX);
        for y in cy - reach..=cy + reach {
            for x in cx - reach..=cx + reach {
                if x < 0 || y < 0 || x >= self.nx as i64 || y >= self.ny as i64 {
                    continue;
                }
                for &j in &self.cells[y as usize * self.nx + x as usize] {
                    if j != i {
                        let d = ((self.pts[j][0] - p[0]).powi(2) + (self.pts[j][1] - p[1]).powi(2))
                            .sqrt();
                        if d < best.0 {
                            best = (d, j);
                        }
                    }
                }
            }
        }
        best
    }
}

/// Mean linear luminance (Rec. 709 weights) of an sRGB image.
pub fn mean_linear_luminance(img: &image::RgbImage) -> f64 {
    let lin = |c: u8| {
        let v = c as f64 / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let sum: f64 = img
        .pixels()
        .map(|p| 0.2126 * lin(p.0[0]) + 0.7152 * lin(p.0[1]) + 0.0722 * lin(p.0[2]))
        .sum();
    sum / (img.width() as f64 * img.height() as f64)
}

/// Writes a line to the terminal even while the test harness captures
/// output (the harness captures `print!`, not direct writes), for skips.
pub fn notice(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// A solid colour image.
pub fn solid(w: u32, h: u32, rgb: [u8; 3]) -> image::RgbImage {
    image::RgbImage::from_pixel(w, h, image::Rgb(rgb))
}

/// Saves `img` as PNG at `path`.
pub fn save(img: &image::RgbImage, path: &Path) {
    img.save(path).unwrap();
}

/// Bounding box (x0, y0, x1, y1 exclusive) of the pixels for which `f` holds.
pub fn bbox(img: &image::RgbImage, f: impl Fn([u8; 3]) -> bool) -> Option<(u32, u32, u32, u32)> {
    let mut b: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in img.enumerate_pixels() {
        if f(p.0) {
            b = Some(match b {
                None => (x, y, x + 1, y + 1),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1)),
            });
        }
    }
    b
}

/// Whether a pixel is close to a colour (each channel within `tol`).
pub fn near(p: [u8; 3], c: [u8; 3], tol: u8) -> bool {
    (0..3).all(|i| p[i].abs_diff(c[i]) <= tol)
}

/// A shipped photo (`assets/NAME.toml`): the photo, its region (the mask,
/// feathered as the plan says), its plan and scale.
pub fn shipped(
    name: &str,
) -> (
    image::RgbImage,
    smp_render::Region,
    smp_render::Plan,
    smp_render::Scale,
) {
    use smp_render::{load_photo, Plan, PlanFile, Region, Scale};
    let file = PlanFile::load(&root().join(format!("assets/{name}.toml"))).unwrap();
    let plan = file.apply_to(Plan::default(), name).unwrap();
    let scale = Scale::new(file.px_per_mm.unwrap(), name).unwrap();
    let photo = load_photo(file.photo.as_ref().unwrap()).unwrap();
    let region = Region::load_mask(
        file.region.as_ref().unwrap(),
        photo.dimensions(),
        scale.px(plan.feather),
    )
    .unwrap();
    (photo, region, plan, scale)
}

/// Islands (8-connected) of pixels `after` left exactly as in `before`
/// that touch a pixel where `inside` holds: how many of 1, 2 and 3 px.
pub fn untouched_islands(
    before: &image::RgbImage,
    after: &image::RgbImage,
    inside: &dyn Fn(u32, u32) -> bool,
) -> [usize; 3] {
    let (w, h) = before.dimensions();
    let same = |x: u32, y: u32| before.get_pixel(x, y) == after.get_pixel(x, y);
    let mut seen = vec![false; (w * h) as usize];
    let mut islands = [0usize; 3];
    for y in 0..h {
        for x in 0..w {
            if !inside(x, y) || !same(x, y) || seen[(y * w + x) as usize] {
                continue;
            }
            let mut stack = vec![(x, y)];
            seen[(y * w + x) as usize] = true;
            let mut n = 0;
            while let Some((cx, cy)) = stack.pop() {
                n += 1;
                for dy in -1i32..=1 {
                    for dx in -1i32..=1 {
                        let (nx, ny) = (cx as i32 + dx, cy as i32 + dy);
                        if nx < 0 || ny < 0 || nx >= w as i32 || ny >= h as i32 {
                            continue;
                        }
                        let (nx, ny) = (nx as u32, ny as u32);
                        let j = (ny * w + nx) as usize;
                        if !seen[j] && same(nx, ny) {
                            seen[j] = true;
                            stack.push((nx, ny));
                        }
                    }
                }
            }
            if n <= 3 {
                islands[n - 1] += 1;
            }
        }
    }
    islands
}
