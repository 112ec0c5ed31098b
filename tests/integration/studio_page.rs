//! The studio page in a real browser: headless Chromium opens the page of a
//! real `smp-render studio --no-open` on a shipped photo and is driven with
//! real mouse and key events; the pictures the page shows are read back
//! from the page itself (drawn into a canvas at preview size).
//!
//! - a drag of the mid-frontal point changes the after picture around the
//!   hairline and nowhere else;
//! - a shade change changes it inside the treated area only, and the server
//!   redid only the composite;
//! - an export renders exactly what `smp-render render --plan` renders from
//!   the exported plan, byte for byte;
//! - the page works from the keyboard alone;
//! - screenshots at two window sizes (saved in `target/studio-screenshots/`
//!   for people to look at) keep the notice, picture and panel in place.
//!
//! Chromium is driven as `browser.rs` says; without it the tests say so
//! and pass, except under `CI=true`.

use std::path::{Path, PathBuf};

use image::{GrayImage, Luma, RgbImage};
use imageproc::distance_transform::Norm;
use serde_json::{json, Value};

use crate::browser::{chromium_or_skip, decode_base64, Browser};
use crate::studio_server::StudioServer;
use crate::util::{root, stderr};

/// Keyboard modifier bit for Shift (DevTools `Input.dispatchKeyEvent`).
const SHIFT: u32 = 8;

/// The studio served on a photo and its page open in headless Chromium.
struct Studio {
    b: Browser,
    /// Kept for as long as the page runs (stopped on drop).
    _server: StudioServer,
    _profile: tempfile::TempDir,
}

impl Studio {
    /// Starts the studio on `target` (the photo opens at start), opens its
    /// page in a `width` x `height` window and waits for the first render.
    fn open(chrome: &Path, target: &Path, width: u32, height: u32) -> Studio {
        let server = StudioServer::start(target);
        let profile = tempfile::tempdir().unwrap();
        let mut b = Browser::start(chrome, profile.path());
        b.attach();
        b.call("Page.enable", json!({}));
        let mut s = Studio {
            b,
            _server: server,
            _profile: profile,
        };
        s.resize(width, height);
        let url = s._server.url.clone();
        s.b.call("Page.navigate", json!({ "url": url }));
        s.settled(1);
        s
    }

    fn resize(&mut self, width: u32, height: u32) {
        self.b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        );
    }

    fn eval(&mut self, js: &str) -> Value {
        self.b.eval(js)
    }

    fn f64(&mut self, js: &str) -> f64 {
        let v = self.eval(js);
        v.as_f64()
            .unwrap_or_else(|| panic!("{js}: not a number: {v}"))
    }

    fn string(&mut self, js: &str) -> String {
        let v = self.eval(js);
        v.as_str()
            .unwrap_or_else(|| panic!("{js}: not a string: {v}"))
            .to_string()
    }

    /// Renders shown so far.
    fn rendered(&mut self) -> u64 {
        self.eval("window.studio ? window.studio.rendered : 0")
            .as_u64()
            .unwrap()
    }

    /// Waits until at least `n` renders have been shown and nothing is
    /// pending or in flight.
    fn settled(&mut self, n: u64) {
        self.b.wait_for(&format!(
            "!!(window.studio && window.studio.rendered >= {n} && document.body.dataset.busy === '0')"
        ));
    }

    /// The picture an image element shows, at its natural (preview) size,
    /// whatever the zoom and the divider.
    fn pixels(&mut self, id: &str) -> RgbImage {
        // The after side is the photo (or overlay) with the rendered crop
        // laid over it: the page composes it.
        let js = if id == "after-img" {
            "studio.afterPicture()".to_string()
        } else {
            format!(
                "(async () => {{ const img = document.getElementById('{id}'); await img.decode(); \
             const c = document.createElement('canvas'); \
             c.width = img.naturalWidth; c.height = img.naturalHeight; \
             c.getContext('2d').drawImage(img, 0, 0); \
             return c.toDataURL('image/png'); }})()"
            )
        };
        let v = self.eval(&js);
        let url = v.as_str().expect("a data URL of the picture");
        let png = decode_base64(url.split_once(',').unwrap().1);
        image::load_from_memory(&png).unwrap().to_rgb8()
    }

    /// An element's box on screen: left, top, right, bottom (CSS px).
    fn rect(&mut self, id: &str) -> [f64; 4] {
        let v = self.eval(&format!(
            "(() => {{ const r = document.getElementById('{id}').getBoundingClientRect(); \
             return [r.left, r.top, r.right, r.bottom]; }})()"
        ));
        let a: Vec<f64> = v
            .as_array()
            .unwrap_or_else(|| panic!("no element #{id}"))
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        [a[0], a[1], a[2], a[3]]
    }

    fn centre(&mut self, id: &str) -> (f64, f64) {
        let r = self.rect(id);
        ((r[0] + r[2]) / 2.0, (r[1] + r[3]) / 2.0)
    }

    fn mouse(&mut self, kind: &str, x: f64, y: f64, buttons: u32) {
        self.b.call(
            "Input.dispatchMouseEvent",
            json!({ "type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1 }),
        );
    }

    /// A left-button drag from `from` to `to` in `steps` moves.
    fn drag(&mut self, from: (f64, f64), to: (f64, f64), steps: u32) {
        self.mouse("mouseMoved", from.0, from.1, 0);
        self.mouse("mousePressed", from.0, from.1, 1);
        for k in 1..=steps {
            let t = k as f64 / steps as f64;
            self.mouse(
                "mouseMoved",
                from.0 + (to.0 - from.0) * t,
                from.1 + (to.1 - from.1) * t,
                1,
            );
        }
        self.mouse("mouseReleased", to.0, to.1, 0);
    }

    /// A key press (down and up) by its DOM key name.
    fn key(&mut self, key: &str, modifiers: u32) {
        let vk = match key {
            "Tab" => 9,
            "Enter" => 13,
            " " => 32,
            "End" => 35,
            "Home" => 36,
            "ArrowLeft" => 37,
            "ArrowUp" => 38,
            "ArrowRight" => 39,
            "ArrowDown" => 40,
            _ => panic!("no key code for {key}"),
        };
        let code = if key == " " { "Space" } else { key };
        self.b.key(key, code, vk, modifiers);
    }

    fn active_id(&mut self) -> String {
        self.string("document.activeElement ? document.activeElement.id : ''")
    }

    /// Presses Tab (Shift+Tab when `back`) until the focus is on `id`.
    fn tab_to(&mut self, id: &str, back: bool) -> u32 {
        for n in 1..=80 {
            self.key("Tab", if back { SHIFT } else { 0 });
            if self.active_id() == id {
                return n;
            }
        }
        panic!("Tab never reached #{id}");
    }

    /// The focused element is `id`, shown with a visible focus ring.
    fn assert_focus_visible(&mut self, id: &str) {
        assert_eq!(self.active_id(), id, "the focus is on #{id}");
        let v = self.eval(
            "(() => { const e = document.activeElement; const s = getComputedStyle(e); \
             return [e.matches(':focus-visible'), s.outlineStyle, parseFloat(s.outlineWidth)]; })()",
        );
        assert_eq!(v[0], json!(true), "#{id} matches :focus-visible: {v}");
        assert!(
            v[1] != json!("none") && v[2].as_f64().unwrap() >= 1.0,
            "#{id} shows a focus outline: {v}"
        );
    }

    fn divider(&mut self) -> f64 {
        self.f64("+document.getElementById('divider').getAttribute('aria-valuenow')")
    }

    /// Photo px -> preview px.
    fn factor(&mut self) -> f64 {
        self.f64("window.studio.photo.preview.factor")
    }

    fn hairline(&mut self) -> Vec<[f64; 2]> {
        let v = self.eval("window.studio.state.hairline");
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
            .collect()
    }

    /// The X-Render answer of the last render shown.
    fn last_info(&mut self) -> Value {
        self.eval("window.studio.lastInfo")
    }
}

/// Pixels that differ at all (255) between two pictures of one size.
fn diff_mask(a: &RgbImage, b: &RgbImage) -> GrayImage {
    assert_eq!(a.dimensions(), b.dimensions());
    GrayImage::from_fn(a.width(), a.height(), |x, y| {
        Luma([if a.get_pixel(x, y) == b.get_pixel(x, y) {
            0
        } else {
            255
        }])
    })
}

/// Pixels of `mask` set, within [x0, x1) x [y0, y1) (clamped to the mask).
fn count_in(mask: &GrayImage, x0: f64, y0: f64, x1: f64, y1: f64) -> (usize, usize) {
    let cl = |v: f64, hi: u32| v.round().clamp(0.0, hi as f64) as u32;
    let (x0, x1) = (cl(x0, mask.width()), cl(x1, mask.width()));
    let (y0, y1) = (cl(y0, mask.height()), cl(y1, mask.height()));
    let mut set = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            set += (mask.get_pixel(x, y).0[0] > 0) as usize;
        }
    }
    (set, ((x1 - x0) * (y1 - y0)) as usize)
}

fn count(mask: &GrayImage) -> usize {
    mask.pixels().filter(|p| p.0[0] > 0).count()
}

fn photo_037() -> PathBuf {
    root().join("assets/photos/frl-london_037_03.jpg")
}

/// A drag of the mid-frontal point M with the mouse moves the hairline:
/// the after picture changes in a band around the hairline between M's old
/// and new place, and nowhere else (face, neck, backdrop: identical). A drag
/// back gives the first picture again, pixel for pixel.
#[test]
#[cfg(unix)]
fn dragging_the_mid_frontal_point_changes_the_picture_only_around_the_hairline() {
    let Some(chrome) = chromium_or_skip(
        "dragging_the_mid_frontal_point_changes_the_picture_only_around_the_hairline",
    ) else {
        return;
    };
    let mut s = Studio::open(&chrome, &photo_037(), 1280, 800);

    // The divider to the left end: the after picture shows whole.
    s.eval("document.getElementById('divider').focus()");
    s.key("Home", 0);
    assert_eq!(s.divider(), 0.0);
    let clip = s.string("document.getElementById('after-img').style.clipPath");
    assert!(
        clip.strip_prefix("inset(")
            .and_then(|c| c.strip_suffix(')'))
            .is_some_and(|c| c.split(' ').all(|v| v == "0px")),
        "nothing of the after picture is clipped: {clip}"
    );

    let first = s.pixels("after-img");
    let f = s.factor();
    let ppm = s.f64("window.studio.state.scale.pxPerMm") * f; // preview px per mm
    let transition = s.f64("window.studio.state.transition");
    let zoom = s.f64("window.studio.state.view.s");
    let before = s.hairline();
    let n = s.rendered();

    // Drag M 25 screen px up with the mouse, at its on-screen centre.
    let (mx, my) = s.centre("point-M");
    assert_eq!(
        s.string(&format!(
            "document.elementFromPoint({mx}, {my}).closest('.handle').id"
        )),
        "point-M",
        "the mouse lands on M"
    );
    s.drag((mx, my), (mx, my - 25.0), 5);
    s.settled(n + 1);
    let after = s.hairline();
    let moved = s.pixels("after-img");
    let info = s.last_info();
    assert_eq!(info["redone"], json!("region"), "{info}");

    // M moved up by 25 screen px worth of photo px, straight; L, R stayed.
    let dy = 25.0 / zoom;
    assert!(
        (before[1][1] - after[1][1] - dy).abs() < 0.5 && (before[1][0] - after[1][0]).abs() < 1e-6,
        "M moved from {:?} to {:?}, expected {dy:.1} px up",
        before[1],
        after[1]
    );
    assert_eq!((before[0], before[2]), (after[0], after[2]), "L and R stay");

    // Where, in preview px: the band the hairline swept (from the top of
    // the transition behind M's new place to below the temple points),
    // with a margin for the edge's wander, the dots' blur and JPEG's 16 px
    // blocks.
    let p = |q: [f64; 2]| [q[0] * f, q[1] * f];
    let (l, m0, m1, r) = (p(before[0]), p(before[1]), p(after[1]), p(before[2]));
    let margin = 16.0 + 3.0 * ppm;
    let top = m1[1].min(m0[1]) - transition * ppm - margin;
    let bottom = l[1].max(r[1]).max(m0[1]) + margin;
    let left = l[0] - 25.0 * ppm;
    let right = r[0] + 25.0 * ppm;
    let d = diff_mask(&first, &moved);
    let (w, h) = (d.width() as f64, d.height() as f64);
    let total = count(&d);
    let (band, band_px) = count_in(&d, left, top, right, bottom);
    // Right around M, between its old and new heights.
    let (at_m, at_m_px) = count_in(&d, m0[0] - 10.0 * ppm, m1[1], m0[0] + 10.0 * ppm, m0[1]);
    let (face, face_px) = count_in(&d, 0.0, bottom, w, h);
    let (above, above_px) = count_in(&d, 0.0, 0.0, w, top);
    let (sides_l, sides_l_px) = count_in(&d, 0.0, top, left, bottom);
    let (sides_r, sides_r_px) = count_in(&d, right, top, w, bottom);
    println!(
        "M drag: M y {:.1} -> {:.1} preview px; changed {total} px: band x {left:.0}..{right:.0} y {top:.0}..{bottom:.0}: \
         {band} of {band_px}; at M: {at_m} of {at_m_px}; outside: below (face, neck) {face} of {face_px}, \
         above {above} of {above_px}, sides {} of {}",
        m0[1],
        m1[1],
        sides_l + sides_r,
        sides_l_px + sides_r_px
    );
    assert!(
        band > 2000,
        "the picture changed around the hairline: {band} px"
    );
    assert!(
        at_m as f64 > 0.2 * at_m_px as f64,
        "the picture changed where M moved: {at_m} of {at_m_px} px"
    );
    assert_eq!(total, band, "nothing changed outside the band");
    assert_eq!((face, above, sides_l + sides_r), (0, 0, 0));

    // And back down: the same plan again gives the same picture.
    let n = s.rendered();
    let (mx, my) = s.centre("point-M");
    s.drag((mx, my), (mx, my + 25.0), 5);
    s.settled(n + 1);
    let back = s.hairline();
    assert!(
        (back[1][1] - before[1][1]).abs() < 0.05,
        "M back at {:?}, was {:?}",
        back[1],
        before[1]
    );
    let again = s.pixels("after-img");
    let d = diff_mask(&first, &again);
    assert_eq!(count(&d), 0, "M back in place: the first picture again");
}

/// The treated area as the page shows it with "Show region" ticked: the
/// pixels the overlay tints blue (the region by weight), widened by
/// `grow` px.
fn treated_area(s: &mut Studio, before: &RgbImage, grow: u8) -> GrayImage {
    s.eval("document.getElementById('show-region').click()");
    s.b.wait_for("document.body.dataset.busy === '0'");
    assert_eq!(
        s.string("document.querySelector('.tag-after').textContent"),
        "Region"
    );
    let overlay = s.pixels("after-img");
    s.eval("document.getElementById('show-region').click()");
    s.b.wait_for("document.body.dataset.busy === '0'");
    let region = GrayImage::from_fn(before.width(), before.height(), |x, y| {
        let (o, b) = (overlay.get_pixel(x, y).0, before.get_pixel(x, y).0);
        let tinted = o[2] as i32 - b[2] as i32 > 16 && o[2] > o[0];
        Luma([if tinted { 255 } else { 0 }])
    });
    imageproc::morphology::dilate(&region, Norm::LInf, grow)
}

/// Another named shade changes the after picture inside the treated area
/// only, and only the composite was redone.
#[test]
#[cfg(unix)]
fn another_shade_changes_only_the_treated_area_and_redoes_only_the_composite() {
    let Some(chrome) = chromium_or_skip(
        "another_shade_changes_only_the_treated_area_and_redoes_only_the_composite",
    ) else {
        return;
    };
    let mut s = Studio::open(&chrome, &photo_037(), 1280, 800);
    // A new photo's shade is matched to the client (no shade sent).
    assert_eq!(s.string("window.studio.state.shade"), "matched");
    let before = s.pixels("before-img");
    let jet = s.pixels("after-img");
    let dots = s.last_info()["dots_per_session"].clone();
    // Dots blur a pixel or two; JPEG's blocks are 16 px.
    let treated = treated_area(&mut s, &before, 18);
    let treated_px = count(&treated);
    assert!(
        treated_px > 10_000
            && (treated_px as f64) < 0.1 * (before.width() * before.height()) as f64,
        "a treated area is found: {treated_px} px"
    );

    let n = s.rendered();
    s.eval(
        "(() => { const e = document.getElementById('shade'); e.value = 'ash-grey'; \
         e.dispatchEvent(new Event('change', { bubbles: true })); })()",
    );
    s.settled(n + 1);
    assert_eq!(s.string("window.studio.state.shade"), "ash-grey");
    let info = s.last_info();
    assert_eq!(
        info["redone"],
        json!("composite"),
        "only the composite: {info}"
    );
    assert_eq!(info["dots_per_session"], dots, "the same dots");
    let grey = s.pixels("after-img");
    let d = diff_mask(&jet, &grey);
    let total = count(&d);
    let inside = d
        .pixels()
        .zip(treated.pixels())
        .filter(|(a, b)| a.0[0] > 0 && b.0[0] > 0)
        .count();
    let outside_px = (before.width() * before.height()) as usize - treated_px;
    println!(
        "shade matched -> ash-grey: changed {total} px, {inside} inside the treated area \
         ({treated_px} px), {} outside it ({outside_px} px)",
        total - inside
    );
    assert!(
        inside > 2000,
        "the shade shows in the treated area: {inside} px"
    );
    assert_eq!(total, inside, "nothing changed outside the treated area");
}

/// The page's export writes a plan and session images; the CLI rendering
/// that plan writes the same session images, byte for byte.
#[test]
#[cfg(unix)]
fn export_matches_the_cli_render_of_the_exported_plan() {
    let Some(chrome) = chromium_or_skip("export_matches_the_cli_render_of_the_exported_plan")
    else {
        return;
    };
    // A copy of the photo: the export goes under its folder.
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("frl-london_037_03.jpg");
    std::fs::copy(photo_037(), &photo).unwrap();
    let mut s = Studio::open(&chrome, &photo, 1280, 800);

    // Write the session images and the plan file only.
    s.eval(
        "(() => { document.getElementById('export-section').open = true; \
         for (const [w, on] of [['images', true], ['sheet', false], ['page', false], ['csv', false], ['plan', true]]) \
         document.getElementById('export-' + w).checked = on; \
         document.getElementById('export').scrollIntoView({ block: 'center' }); })()",
    );
    let (x, y) = s.centre("export");
    assert_eq!(
        s.string(&format!("document.elementFromPoint({x}, {y}).id")),
        "export",
        "the Export button is on screen"
    );
    for kind in ["mousePressed", "mouseReleased"] {
        s.mouse(kind, x, y, if kind == "mousePressed" { 1 } else { 0 });
    }
    s.b.wait_for(
        "!!document.querySelector('#export-result ul') || \
         (!document.getElementById('export').disabled && !/Exporting/.test(document.getElementById('export-result').textContent))",
    );
    let answer = s.eval(
        "(() => { const r = document.getElementById('export-result'); const f = r.querySelector('.folder'); \
         return { folder: f ? f.textContent : null, files: Array.from(r.querySelectorAll('li')).map(l => l.textContent), text: r.textContent }; })()",
    );
    let folder = answer["folder"]
        .as_str()
        .unwrap_or_else(|| panic!("the export failed: {answer}"));
    assert!(folder.starts_with("smp-studio/"), "{answer}");
    let files: Vec<&str> = answer["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let sessions = s.f64("window.studio.state.sessions") as usize;
    let exported: Vec<&str> = files
        .iter()
        .copied()
        .filter(|f| {
            Path::new(f)
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("session-"))
        })
        .collect();
    assert_eq!(exported.len(), sessions, "one image per session: {files:?}");
    let plan = dir.path().join(folder).join("plan.toml");
    assert!(
        files.iter().any(|f| dir.path().join(f) == plan) && plan.is_file(),
        "the plan file is written and listed: {files:?}"
    );

    // The CLI on the exported plan.
    let out = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_smp-render"))
        .arg("render")
        .arg("--plan")
        .arg(&plan)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mut written: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("session-"))
        .collect();
    written.sort();
    assert_eq!(written.len(), sessions, "the CLI wrote {written:?}");
    for name in &written {
        let cli = std::fs::read(out.path().join(name)).unwrap();
        let studio = std::fs::read(dir.path().join(folder).join(name))
            .unwrap_or_else(|e| panic!("the studio wrote no {name}: {e}"));
        println!(
            "export {folder}/{name}: {} bytes, the CLI's {} bytes",
            studio.len(),
            cli.len()
        );
        assert!(
            cli == studio,
            "{name}: the CLI's render of the exported plan differs from the studio's export"
        );
    }
}

/// From page load, Tab / Shift+Tab and the arrow keys alone reach the
/// divider and move it, then reach the density slider and change it; a
/// render follows with the new density. The focus shows each time.
#[test]
#[cfg(unix)]
fn keyboard_alone_moves_the_divider_and_changes_the_density() {
    let Some(chrome) = chromium_or_skip("keyboard_alone_moves_the_divider_and_changes_the_density")
    else {
        return;
    };
    let mut s = Studio::open(&chrome, &photo_037(), 1280, 800);
    assert_eq!(s.divider(), 50.0);

    let tabs = s.tab_to("divider", false);
    println!("Tab x {tabs} reaches the divider");
    s.assert_focus_visible("divider");
    for (key, mods, want) in [
        ("ArrowRight", 0, 51.0),
        ("ArrowRight", 0, 52.0),
        ("ArrowUp", 0, 53.0),
        ("ArrowLeft", 0, 52.0),
        ("ArrowDown", 0, 51.0),
        ("ArrowRight", SHIFT, 61.0),
        ("ArrowLeft", SHIFT, 51.0),
        ("ArrowLeft", SHIFT, 41.0),
        ("Home", 0, 0.0),
        ("ArrowLeft", 0, 0.0),
        ("End", 0, 100.0),
        ("ArrowRight", SHIFT, 100.0),
        ("ArrowLeft", SHIFT, 90.0),
    ] {
        s.key(key, mods);
        assert_eq!(s.divider(), want, "after {key} (modifiers {mods})");
        assert_eq!(s.f64("window.studio.state.divider"), want);
    }
    // The after picture is clipped at the divider.
    let (pl, pr) = {
        let r = s.rect("picture");
        (r[0], r[2])
    };
    let line = s.rect("divider-line");
    assert!(
        ((line[0] + line[2]) / 2.0 - (pl + 0.9 * (pr - pl))).abs() < 2.0,
        "the divider line is at 90 %: {line:?} in {pl}..{pr}"
    );
    s.assert_focus_visible("divider");

    // On to the density slider; past it and back with Shift+Tab.
    let tabs = s.tab_to("density", false);
    println!("Tab x {tabs} more reaches the density");
    s.key("Tab", 0);
    assert_ne!(s.active_id(), "density");
    s.tab_to("density", true);
    s.assert_focus_visible("density");
    assert_eq!(s.f64("window.studio.state.density"), 110.0);
    let n = s.rendered();
    let dots_before: u64 = s.last_info()["dots_per_session"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap())
        .sum();
    s.key("ArrowRight", 0);
    s.key("ArrowRight", 0);
    s.key("ArrowUp", 0);
    s.settled(n + 1);
    assert_eq!(
        s.f64("window.studio.state.density"),
        125.0,
        "three steps of 5"
    );
    assert_eq!(
        s.string("document.getElementById('density-out').textContent"),
        "125"
    );
    assert!(s.rendered() > n, "a new render");
    let dots_after: u64 = s.last_info()["dots_per_session"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap())
        .sum();
    println!("density 110 -> 125: dots {dots_before} -> {dots_after}");
    assert!(
        dots_after as f64 > dots_before as f64 * 1.05,
        "more dots rendered at the higher density: {dots_before} -> {dots_after}"
    );
    s.assert_focus_visible("density");

    // Sessions: a select, changed with an arrow key.
    s.tab_to("sessions", true);
    s.assert_focus_visible("sessions");
    let n = s.rendered();
    s.key("ArrowUp", 0);
    s.settled(n + 1);
    assert_eq!(s.f64("window.studio.state.sessions"), 2.0);
    let info = s.last_info();
    assert_eq!(
        info["dots_per_session"].as_array().map(|a| a.len()),
        Some(2),
        "the render has two sessions: {info}"
    );
}

/// Boxes: whether `a` and `b` overlap.
fn overlap(a: [f64; 4], b: [f64; 4]) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

fn inside(a: [f64; 4], b: [f64; 4]) -> bool {
    a[0] >= b[0] - 0.5 && a[1] >= b[1] - 0.5 && a[2] <= b[2] + 0.5 && a[3] <= b[3] + 0.5
}

/// Screenshots at 1280 x 800 and 1024 x 768 of two shipped photos, saved in
/// `target/studio-screenshots/`: the "Simulated preview" notice shows inside
/// the picture area, the panel does not cover the picture, the photo and
/// the page's controls are all on screen.
#[test]
#[cfg(unix)]
fn screenshots_keep_the_notice_picture_and_panel_in_place() {
    let Some(chrome) = chromium_or_skip("screenshots_keep_the_notice_picture_and_panel_in_place")
    else {
        return;
    };
    let shots = root().join("target/studio-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for stem in ["frl-london_037_03", "frl-london_172_03"] {
        let photo = root().join(format!("assets/photos/{stem}.jpg"));
        let mut s = Studio::open(&chrome, &photo, 1280, 800);
        for (w, h) in [(1280u32, 800u32), (1024, 768)] {
            s.resize(w, h);
            s.b.wait_for(&format!(
                "innerWidth === {w} && innerHeight === {h} && document.body.dataset.busy === '0'"
            ));
            // A frame after the resize (the view refits on it).
            s.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))");
            let r =
                s.b.call("Page.captureScreenshot", json!({ "format": "png" }));
            let png = decode_base64(r["data"].as_str().unwrap());
            let path = shots.join(format!("{stem}-{w}x{h}.png"));
            std::fs::write(&path, &png).unwrap();
            let img = image::load_from_memory(&png).unwrap().to_rgb8();
            assert_eq!(img.dimensions(), (w, h), "{}", path.display());
            let screen = [0.0, 0.0, w as f64, h as f64];
            let what = format!("{stem} at {w}x{h}");

            // The notice: shown, on top, inside the picture area, drawn.
            let picture = s.rect("picture");
            let notice = s.rect("notice");
            let style = s.eval(
                "(() => { const s = getComputedStyle(document.getElementById('notice')); \
                 return [s.display, s.visibility, +s.opacity, document.getElementById('notice').textContent]; })()",
            );
            assert_eq!(
                style,
                json!(["block", "visible", 1, "Simulated preview"]),
                "{what}"
            );
            assert!(
                notice[2] - notice[0] > 40.0 && inside(notice, picture),
                "{what}: the notice {notice:?} is inside the picture area {picture:?}"
            );
            let shown = s.rect("before-img");
            assert!(
                inside(notice, shown),
                "{what}: the notice {notice:?} lies on the photo {shown:?}, not beside it"
            );
            let (mut bright, mut dark) = (0, 0);
            for y in notice[1].ceil() as u32..notice[3].floor() as u32 {
                for x in notice[0].ceil() as u32..notice[2].floor() as u32 {
                    let p = img.get_pixel(x, y).0;
                    bright += (p.iter().all(|&c| c > 200)) as usize;
                    dark += (p.iter().all(|&c| c < 90)) as usize;
                }
            }
            assert!(
                bright > 60 && dark > 300,
                "{what}: the notice's white text on its dark box is in the screenshot ({bright} light, {dark} dark px)"
            );
            for other in ["zoombar", "divider"] {
                let o = s.rect(other);
                assert!(
                    !overlap(notice, o),
                    "{what}: #{other} {o:?} covers the notice {notice:?}"
                );
            }
            for tag in s
                .eval("Array.from(document.querySelectorAll('.tag')).map(t => { const r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })")
                .as_array()
                .unwrap()
                .clone()
            {
                let t: Vec<f64> = tag.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
                assert!(!overlap(notice, [t[0], t[1], t[2], t[3]]), "{what}: a Before/After tag {t:?} covers the notice");
            }

            // The panel beside the picture, not over it; both on screen.
            let panel = s.rect("panel");
            assert!(
                !overlap(panel, picture) && panel[0] >= picture[2] - 0.5,
                "{what}: the panel {panel:?} overlaps the picture {picture:?}"
            );
            assert!(
                inside(panel, screen) && inside(picture, screen),
                "{what}: {panel:?} {picture:?}"
            );
            // The photo fitted whole inside the picture area.
            let photo_box = s.rect("viewport");
            assert!(
                inside(photo_box, picture)
                    && photo_box[2] - photo_box[0]
                        > 0.5 * (picture[2] - picture[0]).min(picture[3] - picture[1]),
                "{what}: the photo {photo_box:?} fits in the picture area {picture:?}"
            );
            // Every control of the top bar, the picture area and the status
            // line is on screen; the panel's controls fit its width.
            let off = s.eval(
                "(() => { const out = []; const W = innerWidth, H = innerHeight; \
                 for (const e of document.querySelectorAll('#topbar > *, #zoombar > *, #notice, #divider, #status, .handle, .tag')) { \
                   const r = e.getBoundingClientRect(); if (!r.width && !r.height) continue; \
                   if (r.left < -0.5 || r.top < -0.5 || r.right > W + 0.5 || r.bottom > H + 0.5) out.push(e.id || e.className); } \
                 const p = document.getElementById('panel').getBoundingClientRect(); \
                 for (const e of document.querySelectorAll('#panel input, #panel select, #panel button, #panel summary, #panel label')) { \
                   const r = e.getBoundingClientRect(); if (!r.width && !r.height) continue; \
                   if (r.left < p.left - 0.5 || r.right > p.right + 0.5) out.push('panel: ' + (e.id || e.textContent.trim())); } \
                 return out; })()",
            );
            assert_eq!(off, json!([]), "{what}: off screen or cut off");
            println!(
                "{}: notice {notice:?}, picture {picture:?}, photo {photo_box:?}, panel {panel:?}",
                path.display()
            );
        }
    }
}

/// Percentile `p` (0-1) of `v`.
fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// End-to-end latency in Chromium on a 12 MP photo (037 enlarged to
/// 3464 x 3464, previewed at 2 MP): from a change in the page to the new
/// picture decoded and ready to paint (the page's own `studio.latencies`),
/// 30 changes of each kind, and opening the photo (from choosing it to its
/// first preview on screen). A measurement, not a check:
///
/// ```text
/// cargo test --release --test integration studio_page::latency -- --ignored --nocapture
/// ```
#[test]
#[cfg(unix)]
#[ignore = "a measurement; run with --ignored --nocapture"]
fn latency_end_to_end_on_a_12_mp_photo() {
    let Some(chrome) = chromium_or_skip("latency_end_to_end_on_a_12_mp_photo") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("photo-12mp.jpg");
    let small = image::open(photo_037()).unwrap().to_rgb8();
    let big = image::imageops::resize(&small, 3464, 3464, image::imageops::FilterType::Lanczos3);
    let jpeg = smp_render::encode_image(&big, smp_render::Format::Jpeg, 92, &photo).unwrap();
    std::fs::write(&photo, jpeg).unwrap();
    let mut s = Studio::open(&chrome, &photo, 1280, 800);
    s.eval("document.getElementById('zoom-design').click()");
    let n = 30;
    // One change: run `js`, wait for its picture, return its latency.
    let one = |s: &mut Studio, js: &str| -> f64 {
        let before = s.f64("studio.latencies.length");
        s.eval(js);
        s.b.wait_for(&format!(
            "studio.latencies.length > {before} && document.body.dataset.busy === '0'"
        ));
        s.f64("studio.latencies[studio.latencies.length - 1].ms")
    };
    let mut rows = Vec::new();
    let shades = ["black-brown", "soft-black", "ash-grey", "jet-black"];
    let set = |id: &str, value: &str, event: &str| {
        format!(
            "(() => {{ const e = document.getElementById('{id}'); e.value = '{value}'; \
             e.dispatchEvent(new Event('{event}', {{ bubbles: true }})); }})()"
        )
    };
    let mut v = Vec::new();
    for i in 0..n {
        v.push(one(&mut s, &set("shade", shades[i % 4], "change")));
    }
    rows.push(("shade change", v));
    let mut v = Vec::new();
    for i in 0..n {
        let stage = ["fresh", "crusting", "healed"][i % 3];
        v.push(one(&mut s, &set("stage", stage, "change")));
    }
    rows.push(("stage change", v));
    let mut v = Vec::new();
    for i in 0..n {
        v.push(one(
            &mut s,
            &set("show-session", &(1 + i % 3).to_string(), "input"),
        ));
    }
    rows.push(("session shown", v));
    let mut v = Vec::new();
    for i in 0..n {
        v.push(one(
            &mut s,
            &set("density", &(100 + 5 * (i % 8)).to_string(), "input"),
        ));
    }
    rows.push(("density", v));
    let mut v = Vec::new();
    for i in 0..n {
        let (x, y) = s.centre("point-M");
        let dy = if i % 2 == 0 { -6.0 } else { 6.0 };
        let before = s.f64("studio.latencies.length");
        s.drag((x, y), (x, y + dy), 1);
        s.b.wait_for(&format!(
            "studio.latencies.length > {before} && document.body.dataset.busy === '0'"
        ));
        v.push(s.f64("studio.latencies[studio.latencies.length - 1].ms"));
    }
    rows.push(("hairline point dragged", v));
    let mut v = Vec::new();
    for _ in 0..10 {
        v.push(s.f64(
            "(async () => { const sel = document.getElementById('photo-select'); \
             const r0 = studio.rendered; const t0 = performance.now(); \
             sel.value = 'photo-12mp.jpg'; sel.dispatchEvent(new Event('change')); \
             while (!(studio.rendered > r0 && document.body.dataset.busy === '0')) \
               await new Promise(r => setTimeout(r, 2)); \
             await document.getElementById('after-img').decode(); \
             return performance.now() - t0; })()",
        ));
    }
    rows.push(("opening the photo (to its first preview)", v));
    println!("\n| change (Chromium, end to end) | n | p50 | p95 |\n|---|---|---|---|");
    for (name, v) in &rows {
        println!(
            "| {name} | {} | {:.1} ms | {:.1} ms |",
            v.len(),
            percentile(v, 0.5),
            percentile(v, 0.95)
        );
    }
    assert!(rows.iter().all(|(_, v)| !v.is_empty()));
}

/// The README's picture of the studio: 037 at 1280 x 800, zoomed to the
/// design (its hairline as found), the divider in the middle. Written to
/// `target/studio-screenshots/readme.png`:
///
/// ```text
/// cargo test --release --test integration studio_page::readme -- --ignored
/// ```
#[test]
#[cfg(unix)]
#[ignore = "makes the README's screenshot; run with --ignored"]
fn readme_screenshot() {
    let Some(chrome) = chromium_or_skip("readme_screenshot") else {
        return;
    };
    let mut s = Studio::open(&chrome, &photo_037(), 1280, 800);
    s.eval("document.getElementById('zoom-design').click()");
    s.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))");
    let r =
        s.b.call("Page.captureScreenshot", json!({ "format": "png" }));
    let png = decode_base64(r["data"].as_str().unwrap());
    let shots = root().join("target/studio-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::write(shots.join("readme.png"), &png).unwrap();
    assert!(png.len() > 10_000);
}
