//! The interactive comparison page: one self-contained HTML file.
//!
//! The pictures are embedded as base64 `data:` URIs (JPEG), and the page
//! carries its own style and a small inline script, so it opens from an
//! e-mail attachment or a phone's files with no network. The slider is one
//! element with the ARIA `slider` role: it takes the keyboard focus (Tab),
//! moves with the arrow keys (Shift for 10 % steps), Page Up/Down, Home and
//! End, and follows the mouse, a pen or a finger through pointer events on
//! the whole picture (`touch-action: pan-y` keeps vertical scrolling). One
//! button per after-image (session, stage or variant) switches the
//! picture. A URL fragment sets the state, e.g. `page.html#pos=30&show=2`
//! (divider at 30 % from the left, second after-image).

use std::path::Path;

use super::layout::Panel;
use crate::error::{Error, Result};
use crate::plan::Format;
use crate::provenance::Provenance;

/// How to write the comparison page.
#[derive(Debug, Clone, PartialEq)]
pub struct PageOptions {
    /// The page's title and heading. Default: "Scalp micropigmentation preview".
    pub title: String,
    /// Say on the page that the after-images are simulated. Default: true.
    pub simulated_label: bool,
    /// JPEG quality of the embedded pictures, 1-100. Default: 90.
    pub quality: u8,
    /// Where the divider starts, 0 (all after) to 1 (all before). Default: 0.5.
    pub split_at: f32,
    /// Recorded in the page's head (description, seed and plan). Default: none.
    pub provenance: Option<Provenance>,
}

impl Default for PageOptions {
    fn default() -> Self {
        PageOptions {
            title: "Scalp micropigmentation preview".into(),
            simulated_label: true,
            quality: crate::render::DEFAULT_QUALITY,
            split_at: 0.5,
            provenance: None,
        }
    }
}

/// Standard base64 (RFC 4648, with padding).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        s.push(A[(n >> 18) as usize & 63] as char);
        s.push(A[(n >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
        // No placeholder of the page template can come in through a label.
        .replace('{', "&#123;")
}

fn data_uri(panel: &Panel, quality: u8) -> Result<String> {
    let jpeg =
        crate::photo::encode_image(&panel.image, Format::Jpeg, quality, Path::new(&panel.label))?;
    Ok(format!("data:image/jpeg;base64,{}", base64(&jpeg)))
}

/// The page comparing `before` with each of `afters` (all of one size);
/// the last after-image is shown first.
pub fn comparison_page(before: &Panel, afters: &[Panel], opts: &PageOptions) -> Result<String> {
    let err = |why: String| Error::field("page", "html", "", why);
    if afters.is_empty() {
        return Err(err(
            "the page needs a before and at least one after image".into()
        ));
    }
    let (w, h) = before.image.dimensions();
    if let Some(a) = afters.iter().find(|a| a.image.dimensions() != (w, h)) {
        return Err(err(format!(
            "every image of the page must have the before's size ({w} x {h} px); {:?} is {} x {} px",
            a.label,
            a.image.width(),
            a.image.height()
        )));
    }
    if !(0.0..=1.0).contains(&opts.split_at) {
        return Err(Error::field(
            "page",
            "split_at",
            opts.split_at,
            "must be 0 to 1",
        ));
    }
    let mut uris = Vec::with_capacity(afters.len() + 1);
    let all: Vec<&Panel> = std::iter::once(before).chain(afters).collect();
    let encoded: Vec<Result<String>> = {
        use rayon::prelude::*;
        all.par_iter().map(|p| data_uri(p, opts.quality)).collect()
    };
    for e in encoded {
        uris.push(e?);
    }
    let last = afters.len() - 1;
    let sim = |label: &str| {
        if opts.simulated_label {
            format!("{label} · simulated")
        } else {
            label.to_string()
        }
    };
    let pos = (opts.split_at * 1000.0).round() / 10.0;
    let mut imgs = String::new();
    for (i, (a, uri)) in afters.iter().zip(&uris[1..]).enumerate() {
        imgs.push_str(&format!(
            "<img class=\"after\" data-label=\"{label}\" alt=\"{alt}\" src=\"{uri}\"{hidden}>\n",
            label = esc(&sim(&a.label)),
            alt = esc(&format!(
                "After: {}{}",
                a.label,
                if opts.simulated_label {
                    " (simulated preview)"
                } else {
                    ""
                }
            )),
            hidden = if i == last { "" } else { " hidden" },
        ));
    }
    let mut buttons = String::new();
    for (i, a) in afters.iter().enumerate() {
        buttons.push_str(&format!(
            "<button type=\"button\" data-index=\"{i}\" aria-pressed=\"{}\">{}</button>\n",
            i == last,
            esc(&a.label)
        ));
    }
    let mut head_meta = format!(
        "<meta name=\"generator\" content=\"{}\">\n",
        esc(&crate::provenance::software())
    );
    if let Some(p) = &opts.provenance {
        head_meta.push_str(&format!(
            "<meta name=\"description\" content=\"{}\">\n",
            esc(&p.description)
        ));
        if let Some(seed) = p.seed {
            head_meta.push_str(&format!(
                "<meta name=\"smp-render:seed\" content=\"{seed}\">\n"
            ));
        }
        if let Some(plan) = &p.plan {
            head_meta.push_str(&format!(
                "<meta name=\"smp-render:plan\" content=\"{}\">\n",
                esc(plan)
            ));
        }
    }
    let note = if opts.simulated_label {
        "<strong>Simulated preview:</strong> the after images are rendered by a computer from the \
         photo, not photographed. "
    } else {
        ""
    };
    Ok(PAGE
        .replace("{TITLE}", &esc(&opts.title))
        .replace("{HEAD_META}", &head_meta)
        .replace("{W}", &w.to_string())
        .replace("{H}", &h.to_string())
        .replace("{POS}", &format!("{pos}"))
        .replace("{BEFORE_LABEL}", &esc(&before.label))
        .replace("{AFTER_LABEL}", &esc(&sim(&afters[last].label)))
        .replace("{NOTE}", note)
        .replace("{BUTTONS}", &buttons)
        // The pictures go in last so no placeholder is searched for in them.
        .replace("{BEFORE_SRC}", &uris[0])
        .replace("{AFTER_IMGS}", &imgs))
}

const PAGE: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{HEAD_META}<title>{TITLE}</title>
<style>
:root { color-scheme: dark; }
* { box-sizing: border-box; }
body { margin: 0; background: #161616; color: #f2f2f2;
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { width: min(100vw - 24px, (100vh - 190px) * {W} / {H}); min-width: 240px; margin: 0 auto; padding: 12px 0 24px; }
h1 { font-size: 1.2rem; margin: 0 0 10px; font-weight: 700; }
.compare { position: relative; width: 100%; aspect-ratio: {W} / {H}; overflow: hidden;
  border-radius: 6px; background: #000; cursor: ew-resize; touch-action: pan-y;
  user-select: none; -webkit-user-select: none; --pos: {POS}%; }
.compare img { position: absolute; inset: 0; width: 100%; height: 100%; display: block;
  pointer-events: none; -webkit-user-drag: none; }
.compare img[hidden] { display: none; }
#before { clip-path: inset(0 calc(100% - var(--pos)) 0 0); }
.divider { position: absolute; top: 0; bottom: 0; left: var(--pos); width: 0; }
.divider::before { content: ""; position: absolute; top: 0; bottom: 0; left: -1.5px; width: 3px;
  background: #fff; box-shadow: 0 0 0 1px rgba(0,0,0,.45); }
.knob { position: absolute; top: 50%; left: -22px; width: 44px; height: 44px; margin-top: -22px;
  border-radius: 50%; background: #fff; box-shadow: 0 1px 5px rgba(0,0,0,.55);
  display: flex; align-items: center; justify-content: center; outline: none; }
.knob:focus-visible { box-shadow: 0 0 0 3px #161616, 0 0 0 6px #7cc4ff; }
.knob svg { width: 28px; height: 28px; }
.tag { position: absolute; top: 10px; padding: 3px 9px; border-radius: 4px; pointer-events: none;
  background: rgba(0,0,0,.62); font-weight: 700; font-size: .95rem; }
.tag.before { left: 10px; } .tag.after { right: 10px; }
.choices { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0 6px; }
.choices button { font: inherit; min-height: 44px; padding: 8px 16px; border-radius: 22px;
  border: 1px solid #6a6a6a; background: #262626; color: inherit; cursor: pointer; }
.choices button[aria-pressed="true"] { background: #f2f2f2; color: #111; border-color: #f2f2f2; }
.choices button:focus-visible { outline: 3px solid #7cc4ff; outline-offset: 2px; }
.note { color: #c4c4c4; font-size: .9rem; margin: 6px 0 0; }
</style>
</head>
<body>
<main>
<h1>{TITLE}</h1>
<div class="compare" id="compare">
{AFTER_IMGS}<img id="before" alt="{BEFORE_LABEL}" src="{BEFORE_SRC}">
<span class="tag before">{BEFORE_LABEL}</span><span class="tag after" id="after-tag">{AFTER_LABEL}</span>
<div class="divider"><div class="knob" id="slider" role="slider" tabindex="0"
 aria-label="Divider between before and after" aria-orientation="horizontal"
 aria-valuemin="0" aria-valuemax="100" aria-valuenow="{POS}"
 aria-valuetext="{POS}% before"><svg viewBox="0 0 28 28" aria-hidden="true"><path d="M11 8 5 14l6 6M17 8l6 6-6 6" fill="none" stroke="#222" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/></svg></div></div>
</div>
<div class="choices" role="group" aria-label="After">
{BUTTONS}</div>
<p class="note">{NOTE}Drag across the picture, or focus the divider (Tab) and use the arrow keys.</p>
</main>
<script>
(function () {
  "use strict";
  var box = document.getElementById("compare");
  var slider = document.getElementById("slider");
  var tag = document.getElementById("after-tag");
  var afters = Array.prototype.slice.call(box.querySelectorAll("img.after"));
  var buttons = Array.prototype.slice.call(document.querySelectorAll(".choices button"));
  var pos = parseFloat(slider.getAttribute("aria-valuenow"));
  function set(p) {
    if (!isFinite(p)) return;
    pos = Math.max(0, Math.min(100, Math.round(p * 10) / 10));
    box.style.setProperty("--pos", pos + "%");
    slider.setAttribute("aria-valuenow", String(pos));
    slider.setAttribute("aria-valuetext", pos + "% before");
  }
  function show(i) {
    if (!(i >= 0 && i < afters.length)) return;
    afters.forEach(function (img, k) { img.hidden = k !== i; });
    buttons.forEach(function (b, k) { b.setAttribute("aria-pressed", String(k === i)); });
    tag.textContent = afters[i].getAttribute("data-label");
  }
  slider.addEventListener("keydown", function (e) {
    var step = e.shiftKey ? 10 : 1, p = null;
    switch (e.key) {
      case "ArrowLeft": case "ArrowDown": p = pos - step; break;
      case "ArrowRight": case "ArrowUp": p = pos + step; break;
      case "PageDown": p = pos - 10; break;
      case "PageUp": p = pos + 10; break;
      case "Home": p = 0; break;
      case "End": p = 100; break;
    }
    if (p !== null) { e.preventDefault(); set(p); }
  });
  function at(x) {
    var r = box.getBoundingClientRect();
    return (x - r.left) / r.width * 100;
  }
  var dragging = false;
  if (window.PointerEvent) {
    box.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      dragging = true;
      try { box.setPointerCapture(e.pointerId); } catch (_) {}
      set(at(e.clientX));
      slider.focus({ preventScroll: true });
      e.preventDefault();
    });
    box.addEventListener("pointermove", function (e) { if (dragging) set(at(e.clientX)); });
    ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (t) {
      box.addEventListener(t, function () { dragging = false; });
    });
  } else {
    box.addEventListener("mousedown", function (e) { dragging = true; set(at(e.clientX)); e.preventDefault(); });
    window.addEventListener("mousemove", function (e) { if (dragging) set(at(e.clientX)); });
    window.addEventListener("mouseup", function () { dragging = false; });
    box.addEventListener("touchstart", function (e) { set(at(e.touches[0].clientX)); }, { passive: true });
    box.addEventListener("touchmove", function (e) { set(at(e.touches[0].clientX)); }, { passive: true });
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () { show(parseInt(b.getAttribute("data-index"), 10)); });
  });
  function fromHash() {
    var h = location.hash;
    var p = /(?:^|[#&])pos=([0-9.]+)/.exec(h);
    if (p) set(parseFloat(p[1]));
    var s = /(?:^|[#&])show=([0-9]+)/.exec(h);
    if (s) show(parseInt(s[1], 10) - 1);
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
</script>
</body>
</html>
"##;

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn page_is_self_contained_and_accessible() {
        let p = |l: &str, v: u8| Panel::new(RgbImage::from_pixel(64, 48, Rgb([v, v, v])), l);
        let page = comparison_page(
            &p("Before", 10),
            &[p("Session 1", 100), p("Session <2>", 200)],
            &PageOptions::default(),
        )
        .unwrap();
        assert!(
            !page.contains("http://") && !page.contains("https://") && !page.contains("src=\"/")
        );
        assert_eq!(page.matches("data:image/jpeg;base64,").count(), 3);
        assert!(page.contains("role=\"slider\"") && page.contains("tabindex=\"0\""));
        assert!(page.contains("aria-valuenow=\"50\""));
        assert!(page.contains("Session &lt;2&gt;") && !page.contains("Session <2>"));
        assert!(page.contains("Simulated preview"));
        let with_plan = comparison_page(
            &p("{TITLE}", 10),
            &[p("After", 100)],
            &PageOptions {
                provenance: Some(Provenance::new("x", Some(3), Some("seed = \"3\"\n".into()))),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(with_plan.contains("name=\"smp-render:plan\" content=\"seed = &quot;3&quot;\n\""));
        assert!(
            with_plan.contains("&#123;TITLE}"),
            "labels cannot inject placeholders"
        );
        for token in [
            "{TITLE}",
            "{W}",
            "{POS}",
            "{NOTE}",
            "{BUTTONS}",
            "{AFTER_IMGS}",
        ] {
            assert!(!page.contains(token), "{token} left in the page");
        }
    }
}
