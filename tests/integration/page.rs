//! The comparison page in a real browser: headless Chromium loads it, a URL
//! fragment sets the slider, real key presses (Tab, arrows), a mouse drag
//! and a touch move it, the session buttons switch the picture, and the
//! screenshots change accordingly.
//!
//! Chromium is driven as `browser.rs` says; without it the tests say so
//! and pass, except under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use image::RgbImage;
use serde_json::json;

use crate::browser::{base_args, chromium_or_skip, Browser};
use crate::util::{run, save, solid, stderr};

const BEFORE: [u8; 3] = [30, 60, 220];
const SESSION_1: [u8; 3] = [30, 200, 60];
const SESSION_2: [u8; 3] = [220, 30, 30];

/// Writes three 400 x 300 images and the page comparing them, by the CLI.
fn make_page(dir: &Path) -> PathBuf {
    save(&solid(400, 300, BEFORE), &dir.join("before.png"));
    save(&solid(400, 300, SESSION_1), &dir.join("s1.png"));
    save(&solid(400, 300, SESSION_2), &dir.join("s2.png"));
    let o = run(
        dir,
        &[
            "sheet",
            "--layout",
            "split",
            "--image",
            "Before=before.png",
            "--image",
            "Session 1=s1.png",
            "--image",
            "Session 2=s2.png",
            "--html",
            "page.html",
            "--out",
            "o",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    dir.join("page.html").canonicalize().unwrap()
}

/// Share of the compare box showing the before, and which after shows:
/// counted along the screenshot row that crosses most of the pictures.
fn shares(img: &RgbImage) -> (f64, [u8; 3]) {
    let kind = |p: [u8; 3]| -> Option<usize> {
        [BEFORE, SESSION_1, SESSION_2]
            .iter()
            .position(|c| (0..3).all(|i| p[i].abs_diff(c[i]) <= 40))
    };
    let mut best = (0, [0usize; 3]);
    for y in 0..img.height() {
        let mut n = [0usize; 3];
        for x in 0..img.width() {
            if let Some(k) = kind(img.get_pixel(x, y).0) {
                n[k] += 1;
            }
        }
        let total: usize = n.iter().sum();
        if total > best.0 {
            best = (total, n);
        }
    }
    let (total, n) = best;
    assert!(total > 300, "the pictures are on screen: {n:?}");
    let after = if n[1] >= n[2] { SESSION_1 } else { SESSION_2 };
    // The divider (3 px) and its knob hide a little of each side.
    (n[0] as f64 / total as f64, after)
}

#[test]
fn fragment_sets_the_slider_in_a_screenshot() {
    let Some(chrome) = chromium_or_skip("fragment_sets_the_slider_in_a_screenshot") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = make_page(dir.path());
    let mut seen = Vec::new();
    for (fragment, want) in [("pos=20", 0.2), ("pos=75&show=1", 0.75)] {
        let shot = dir.path().join(format!("{}.png", want));
        let mut args = base_args(&dir.path().join("profile"));
        args.push(format!("--screenshot={}", shot.display()));
        args.push(format!("file://{}#{fragment}", page.display()));
        let o = Command::new(&chrome)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .expect("chromium runs");
        assert!(
            shot.is_file(),
            "no screenshot; chromium said: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let img = image::open(&shot).unwrap().to_rgb8();
        let (before, after) = shares(&img);
        assert!(
            (before - want).abs() < 0.04,
            "#{fragment}: before covers {before:.3} of the box, expected {want}"
        );
        seen.push((img, after));
    }
    assert_eq!(seen[0].1, SESSION_2, "the last session shows first");
    assert_eq!(seen[1].1, SESSION_1, "show=1 picks session 1");
    assert!(seen[0].0 != seen[1].0);
}

#[test]
#[cfg(unix)]
fn keyboard_mouse_touch_and_buttons_move_the_page() {
    let Some(chrome) = chromium_or_skip("keyboard_mouse_touch_and_buttons_move_the_page") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = make_page(dir.path());
    let mut b = Browser::start(&chrome, &dir.path().join("profile"));
    b.attach();
    b.call("Page.enable", json!({}));
    b.call(
        "Page.navigate",
        json!({ "url": format!("file://{}", page.display()) }),
    );
    b.wait_for(
        "document.readyState === 'complete' && \
         Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)",
    );
    assert_eq!(b.slider_value(), 50.0);
    let (start, after) = shares(&b.screenshot());
    assert!(
        (start - 0.5).abs() < 0.04,
        "starts at the middle: {start:.3}"
    );
    assert_eq!(after, SESSION_2);

    // Tab reaches the slider first; arrow keys move it, Shift by 10.
    b.key("Tab", "Tab", 9, 0);
    assert_eq!(
        b.eval("document.activeElement.getAttribute('role')"),
        json!("slider"),
        "Tab focuses the slider"
    );
    for _ in 0..5 {
        b.key("ArrowRight", "ArrowRight", 39, 0);
    }
    assert_eq!(b.slider_value(), 55.0);
    b.key("ArrowLeft", "ArrowLeft", 37, 8); // Shift
    b.key("ArrowLeft", "ArrowLeft", 37, 8);
    b.key("ArrowLeft", "ArrowLeft", 37, 8);
    assert_eq!(b.slider_value(), 25.0);
    let (moved, _) = shares(&b.screenshot());
    assert!((moved - 0.25).abs() < 0.04, "after the keys: {moved:.3}");
    b.key("End", "End", 35, 0);
    assert_eq!(b.slider_value(), 100.0);
    b.key("Home", "Home", 36, 0);
    assert_eq!(b.slider_value(), 0.0);

    // A mouse drag from 10 % to 70 % of the width.
    let (left, top, width, height) = b.box_rect();
    let y = top + height * 0.6;
    let at = |share: f64| left + width * share;
    b.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mousePressed", "x": at(0.1), "y": y, "button": "left", "buttons": 1, "clickCount": 1 }),
    );
    assert!((b.slider_value() - 10.0).abs() <= 0.6);
    b.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mouseMoved", "x": at(0.7), "y": y, "button": "left", "buttons": 1 }),
    );
    b.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mouseReleased", "x": at(0.7), "y": y, "button": "left", "buttons": 0, "clickCount": 1 }),
    );
    assert!(
        (b.slider_value() - 70.0).abs() <= 0.6,
        "{}",
        b.slider_value()
    );
    let (dragged, _) = shares(&b.screenshot());
    assert!((dragged - 0.7).abs() < 0.04, "after the drag: {dragged:.3}");

    // A finger sliding sideways from 60 % to 40 %.
    b.call(
        "Emulation.setTouchEmulationEnabled",
        json!({ "enabled": true, "maxTouchPoints": 1 }),
    );
    for (kind, share) in [("touchStart", 0.6), ("touchMove", 0.5), ("touchMove", 0.4)] {
        b.call(
            "Input.dispatchTouchEvent",
            json!({ "type": kind, "touchPoints": [{ "x": at(share), "y": y }] }),
        );
    }
    b.call(
        "Input.dispatchTouchEvent",
        json!({ "type": "touchEnd", "touchPoints": [] }),
    );
    assert!(
        (b.slider_value() - 40.0).abs() <= 0.6,
        "after the touch: {}",
        b.slider_value()
    );

    // The "Session 1" button shows session 1.
    let r = b.eval(
        "(() => { const r = document.querySelector('button[data-index=\"0\"]').getBoundingClientRect(); \
         return [r.left + r.width / 2, r.top + r.height / 2]; })()",
    );
    let (bx, by) = (r[0].as_f64().unwrap(), r[1].as_f64().unwrap());
    for kind in ["mousePressed", "mouseReleased"] {
        b.call(
            "Input.dispatchMouseEvent",
            json!({ "type": kind, "x": bx, "y": by, "button": "left", "buttons": 1, "clickCount": 1 }),
        );
    }
    assert_eq!(
        b.eval("document.querySelector('button[data-index=\"0\"]').getAttribute('aria-pressed')"),
        json!("true")
    );
    let (share, after) = shares(&b.screenshot());
    assert_eq!(after, SESSION_1, "the button switched the picture");
    assert!((share - 0.4).abs() < 0.04, "{share:.3}");
}
