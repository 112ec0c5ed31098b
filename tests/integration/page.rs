//! The comparison page in a real browser: headless Chromium loads it, a URL
//! fragment sets the slider, real key presses (Tab, arrows), a mouse drag
//! and a touch move it, the session buttons switch the picture, and the
//! screenshots change accordingly.
//!
//! Chromium is driven over the DevTools protocol on a pipe
//! (`--remote-debugging-pipe`: JSON messages ending in NUL on file
//! descriptors 3 and 4), so no port is opened. Without Chromium the tests
//! say so on the terminal and pass; CI installs it (`.ci/run`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use image::RgbImage;
use serde_json::{json, Value};

use crate::util::{notice, run, save, solid, stderr};

const BEFORE: [u8; 3] = [30, 60, 220];
const SESSION_1: [u8; 3] = [30, 200, 60];
const SESSION_2: [u8; 3] = [220, 30, 30];

/// The Chromium binary: `$CHROMIUM`, or the first of the usual names on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    let c = chromium();
    if c.is_none() {
        notice(&format!(
            "SKIPPED page::{test}: Chromium not found (set CHROMIUM or install it: apt-get install chromium)"
        ));
    }
    c
}

/// Flags for a quiet, self-contained headless Chromium.
fn base_args(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--hide-scrollbars",
        "--mute-audio",
        "--window-size=800,700",
        "--force-device-scale-factor=1",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

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

/// A headless Chromium driven over the DevTools pipe.
struct Browser {
    child: Child,
    to: std::fs::File,
    from: mpsc::Receiver<Value>,
    next_id: u64,
    session: Option<String>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    #[cfg(unix)]
    fn start(chrome: &Path, profile: &Path) -> Browser {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        let (to_r, to_w) = pipe();
        let (from_r, from_w) = pipe();
        let (in_fd, out_fd) = (to_r.as_raw_fd(), from_w.as_raw_fd());
        let mut cmd = Command::new(chrome);
        cmd.args(base_args(profile))
            .arg("--remote-debugging-pipe")
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: between fork and exec only async-signal-safe calls
        // (fcntl, dup2) move the pipe ends to the descriptors 3 and 4
        // Chromium reads and writes. They are first copied above 10 so that
        // neither is overwritten by the other's dup2.
        unsafe {
            cmd.pre_exec(move || {
                let a = libc::fcntl(in_fd, libc::F_DUPFD, 10);
                let b = libc::fcntl(out_fd, libc::F_DUPFD, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("chromium starts");
        drop(to_r);
        drop(from_w);
        let (tx, rx) = mpsc::channel();
        let mut from = std::fs::File::from(from_r);
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1 << 16];
            while let Ok(n) = from.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|&b| b == 0) {
                    let msg: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice(&msg[..msg.len() - 1]) {
                        if tx.send(v).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let to = std::fs::File::from(to_w);
        Browser {
            child,
            to,
            from: rx,
            next_id: 1,
            session: None,
        }
    }

    /// Sends a command and waits for its answer.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .from
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no answer to {method} within 30 s"));
            if v["id"] == json!(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method} failed: {e}");
                }
                return v["result"].clone();
            }
        }
    }

    /// Attaches to the first page.
    fn attach(&mut self) {
        let targets = self.call("Target.getTargets", json!({}));
        let page = targets["targetInfos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .expect("a page target")["targetId"]
            .clone();
        let r = self.call(
            "Target.attachToTarget",
            json!({ "targetId": page, "flatten": true }),
        );
        self.session = Some(r["sessionId"].as_str().unwrap().to_string());
    }

    fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
        );
        r["result"]["value"].clone()
    }

    fn wait_for(&mut self, js: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.eval(js) != json!(true) {
            assert!(Instant::now() < deadline, "timed out waiting for {js}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn key(&mut self, key: &str, code: &str, vk: u32, modifiers: u32) {
        for kind in ["rawKeyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({
                    "type": kind, "key": key, "code": code, "modifiers": modifiers,
                    "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk,
                }),
            );
        }
    }

    fn screenshot(&mut self) -> RgbImage {
        // A frame is drawn after the last input before the capture.
        self.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))");
        let r = self.call("Page.captureScreenshot", json!({ "format": "png" }));
        let png = decode_base64(r["data"].as_str().unwrap());
        image::load_from_memory(&png).unwrap().to_rgb8()
    }

    fn slider_value(&mut self) -> f64 {
        self.eval("parseFloat(document.getElementById('slider').getAttribute('aria-valuenow'))")
            .as_f64()
            .unwrap()
    }

    /// The compare box on screen: left, top, width, height in CSS px.
    fn box_rect(&mut self) -> (f64, f64, f64, f64) {
        let v = self.eval(
            "(() => { const r = document.getElementById('compare').getBoundingClientRect(); \
             return [r.left, r.top, r.width, r.height]; })()",
        );
        let a: Vec<f64> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        (a[0], a[1], a[2], a[3])
    }
}

/// A pipe whose ends are closed in child processes unless moved (see
/// `Browser::start`).
#[cfg(unix)]
fn pipe() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe() writes; each is
    // owned by exactly one OwnedFd afterwards.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0, "pipe");
        for fd in fds {
            assert_eq!(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC), 0);
        }
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let clean: Vec<u8> = s
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
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
