//! The backdrop found independently of the renderer (a flood over
//! full-resolution pixels from the border), so that tests and the
//! `edge_figures` example measure what the renderer's own flood left on the
//! backdrop. Included by `examples/edge_figures.rs` through `#[path]`.

use std::collections::VecDeque;

/// Pure backdrop pixels of a front-view photo (row-major), found here
/// independently of the renderer: a flood over full-resolution pixels from
/// the border, each within 20 levels of the border's median colour and of
/// its tint, less a one-pixel rim (the pixels the head's edge shares with
/// the backdrop are not counted).
pub fn pure_backdrop(photo: &image::RgbImage) -> Vec<bool> {
    let (w, h) = photo.dimensions();
    let mut border: Vec<[u8; 3]> = Vec::new();
    for x in 0..w {
        border.push(photo.get_pixel(x, 0).0);
    }
    for y in 0..h {
        border.push(photo.get_pixel(0, y).0);
        border.push(photo.get_pixel(w - 1, y).0);
    }
    let bg: [f32; 3] = std::array::from_fn(|c| {
        let mut v: Vec<u8> = border.iter().map(|p| p[c]).collect();
        v.sort();
        v[v.len() / 2] as f32
    });
    let like = |p: [u8; 3]| {
        let d: Vec<f32> = (0..3).map(|c| p[c] as f32 - bg[c]).collect();
        (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt() <= 20.0
            && (d[0] - d[1]).abs() <= 6.0
            && (d[2] - d[1]).abs() <= 6.0
    };
    let idx = |x: u32, y: u32| (y * w + x) as usize;
    let mut flood = vec![false; (w * h) as usize];
    let mut q = VecDeque::new();
    for x in 0..w {
        q.push_back((x, 0));
        q.push_back((x, h - 1));
    }
    for y in 0..h {
        q.push_back((0, y));
        q.push_back((w - 1, y));
    }
    q.retain(|&(x, y)| like(photo.get_pixel(x, y).0));
    for &(x, y) in &q {
        flood[idx(x, y)] = true;
    }
    while let Some((x, y)) = q.pop_front() {
        for (dx, dy) in [(-1i32, 0i32), (1, 0), (0, -1), (0, 1)] {
            let (nx, ny) = (x as i32 + dx, y as i32 + dy);
            if nx < 0 || ny < 0 || nx >= w as i32 || ny >= h as i32 {
                continue;
            }
            let (nx, ny) = (nx as u32, ny as u32);
            if !flood[idx(nx, ny)] && like(photo.get_pixel(nx, ny).0) {
                flood[idx(nx, ny)] = true;
                q.push_back((nx, ny));
            }
        }
    }
    (0..w * h)
        .map(|i| {
            let (x, y) = ((i % w) as i32, (i / w) as i32);
            (-1..=1).all(|dy| {
                (-1..=1).all(|dx| {
                    let (nx, ny) = (x + dx, y + dy);
                    nx < 0
                        || ny < 0
                        || nx >= w as i32
                        || ny >= h as i32
                        || flood[idx(nx as u32, ny as u32)]
                })
            })
        })
        .collect()
}
