//! The studio's HTTP calls (see `src/studio/API.md`): each request is
//! checked, turned into the pipeline's [`Design`] and answered; the work
//! runs on blocking threads so that the server keeps answering.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use image::{GrayImage, ImageEncoder};
use serde::Deserialize;
use serde_json::{json, Value};

use super::state::{OpenPhoto, Source};
use super::{Shared, MAX_UPLOAD_BYTES};
use crate::error::{Error, Result};
use crate::hairline::HAIRLINE_STYLES;
use crate::photo::{decode_dynamic, write_atomic};
use crate::pipeline::{Design, Sessions};
use crate::plan::{Format, Plan, PlanFile};
use crate::preset::PRESET_NAMES;
use crate::region::Region;
use crate::render::{run_job, RenderJob, SCAR_FEATHER_MM};
use crate::shade::NAMED_SHADES;
use crate::sheet::{run_sheet, Canvas, Layout, SheetJob, SheetSource, PRESETS};
use crate::timeline::MAX_YEARS;
use crate::units::Mm;

/// Where a request's values come from, in error messages.
const SOURCE: &str = "studio";
/// JPEG quality of the previews the page shows (the photo, the rendered
/// crops, the overlay): high enough that the crop's edge does not show
/// where it meets the photo.
pub(crate) const PREVIEW_QUALITY: u8 = 92;

/// A preview as JPEG at [`PREVIEW_QUALITY`], colour at full resolution
/// (4:4:4): dots are a pixel or two across at preview size, and halving
/// the colour's resolution would blur their hue into the skin (and spread
/// each change over 16 px blocks instead of 8).
pub(crate) fn preview_jpeg(img: &image::RgbImage, name: &str) -> Result<Vec<u8>> {
    let err = |reason: String| Error::Encode {
        path: PathBuf::from(name),
        reason,
    };
    let (w, h) = img.dimensions();
    let (w, h) = (
        u16::try_from(w).map_err(|_| err(format!("{w} px is too wide for a JPEG")))?,
        u16::try_from(h).map_err(|_| err(format!("{h} px is too high for a JPEG")))?,
    );
    let mut out = Vec::with_capacity(img.len() / 4);
    let mut enc = jpeg_encoder::Encoder::new(&mut out, PREVIEW_QUALITY);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
    enc.encode(img.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| err(e.to_string()))?;
    Ok(out)
}
/// Folder under the studio's folder that exports go to.
pub(crate) const EXPORT_DIR: &str = "smp-studio";

/// An error answer: `{"error": message}`.
pub(crate) fn fail(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// The answer for a library error: the user's input is wrong (422), or the
/// machine failed (500).
fn failed(e: Error) -> Response {
    let status = match e {
        Error::Io { .. } | Error::Encode { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    fail(status, &e.to_string())
}

/// The answer for a body that is not the JSON expected, with axum's
/// status: 400 (not JSON), 422 (wrong keys or types), 413 (over
/// [`super::MAX_JSON_BYTES`]), 415 (not sent as JSON).
fn bad_json(r: JsonRejection) -> Response {
    fail(r.status(), &r.body_text())
}

/// JSON with every character past ASCII escaped, to travel in a header.
fn ascii_json(v: &Value) -> String {
    let mut out = String::new();
    for c in v.to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for u in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e4).round() / 10.0
}

/// Runs blocking work off the server's threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::io("the studio's worker", std::io::Error::other(e.to_string())))
}

/// `GET /api/info`: the folder, its photos, and the choices the page offers.
pub(crate) async fn info(State(s): State<Arc<Shared>>) -> Response {
    let st = &s.studio;
    let hex = |c: [u8; 3]| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
    // The plan a client starts from names no shade: it is matched to them.
    let defaults = serde_json::to_value(Plan::for_client().to_plan_file()).unwrap_or(Value::Null);
    Json(json!({
        "folder": st.root.file_name().map(|n| n.to_string_lossy().into_owned()),
        "photos": st.photos(),
        "initial": st.initial,
        "shades": NAMED_SHADES.iter().map(|n| json!({"name": n.name, "hex": hex(crate::shade::Shade::parse(n.name, 1.0, "shades").map_or(n.pigment, |s| s.swatch())), "about": n.about})).collect::<Vec<_>>(),
        "hairline_styles": HAIRLINE_STYLES.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        "presets": PRESET_NAMES,
        "stages": ["fresh", "crusting", "healed"],
        "max_years": MAX_YEARS,
        "sheet_layouts": ["side-by-side", "split", "strip", "grid"],
        "sheet_sizes": PRESETS.iter().map(|(n, _, _, _, about)| json!({"name": n, "about": about})).collect::<Vec<_>>(),
        "max_upload_bytes": MAX_UPLOAD_BYTES,
        "defaults": defaults,
    }))
    .into_response()
}

/// The answer to an open or an upload.
fn opened(p: &OpenPhoto) -> Response {
    let f = &p.found;
    Json(json!({
        "id": p.id.to_string(),
        "name": p.name,
        "width": p.size.0,
        "height": p.size.1,
        "preview": {
            "width": p.pipeline.photo().width(),
            "height": p.pipeline.photo().height(),
            "factor": p.factor,
        },
        "scale": f.scale.as_ref().map(|(ppm, note)| json!({"px_per_mm": ppm, "note": note})),
        "glabella": f.glabella,
        "hairline": f.hairline,
        "timings_ms": {"decode": ms(p.timings.0), "analyse": ms(p.timings.1)},
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenRequest {
    name: String,
}

/// `POST /api/open {"name"}`: opens a photo of the folder.
pub(crate) async fn open(
    State(s): State<Arc<Shared>>,
    body: std::result::Result<Json<OpenRequest>, JsonRejection>,
) -> Response {
    let Json(req) = match body {
        Ok(b) => b,
        Err(r) => return bad_json(r),
    };
    let path = match s.studio.photo_path(&req.name) {
        Ok(p) => p,
        Err(e) => return fail(StatusCode::NOT_FOUND, &e.to_string()),
    };
    let shared = s.clone();
    let done = blocking(move || -> Result<Arc<OpenPhoto>> {
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        shared.studio.open(&req.name, &bytes, Source::Folder(path))
    })
    .await;
    match done.and_then(|r| r) {
        Ok(p) => opened(&p),
        Err(e) => failed(e),
    }
}

/// `%XX` escapes decoded (the page sends a file name that way when it is
/// not plain ASCII); a malformed escape is kept as it is.
fn percent_decoded(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An uploaded file's name, made safe: its last component, of letters,
/// digits, `.`, `-` and `_` only.
fn safe_name(raw: &str) -> String {
    let raw = percent_decoded(raw);
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let clean = clean.trim_start_matches('.').to_string();
    if clean.is_empty() {
        "photo".into()
    } else {
        clean
    }
}

/// `POST /api/upload` (the file's bytes, `X-File-Name`): opens a photo
/// sent from the page. Nothing is written to disk.
pub(crate) async fn upload(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let name = safe_name(
        headers
            .get("x-file-name")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("photo"),
    );
    if body.is_empty() {
        return fail(
            StatusCode::BAD_REQUEST,
            "the upload is empty: send the photo's bytes",
        );
    }
    let shared = s.clone();
    let done = blocking(move || {
        let bytes = Arc::new(body.to_vec());
        shared
            .studio
            .open(&name, &bytes, Source::Upload(bytes.clone()))
    })
    .await;
    match done.and_then(|r| r) {
        Ok(p) => opened(&p),
        Err(e) => failed(e),
    }
}

fn photo_of(s: &Shared, id: &str) -> std::result::Result<Arc<OpenPhoto>, Box<Response>> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| s.studio.get(id))
        .ok_or_else(|| {
            Box::new(fail(
                StatusCode::NOT_FOUND,
                &format!(
                    "no open photo {id:?} (closed, or the studio was restarted): open it again"
                ),
            ))
        })
}

/// A call on an open photo: its parsed body and the photo, or the answer
/// refusing it (malformed body, no such photo).
fn call_for<T>(
    s: &Shared,
    id: &str,
    body: std::result::Result<Json<T>, JsonRejection>,
) -> std::result::Result<(T, Arc<OpenPhoto>), Box<Response>> {
    let Json(req) = body.map_err(|r| Box::new(bad_json(r)))?;
    Ok((req, photo_of(s, id)?))
}

/// `GET /api/photo/{id}/before`: the photo at preview size.
pub(crate) async fn before(State(s): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    match photo_of(&s, &id) {
        Ok(p) => (
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            p.before_jpeg.clone(),
        )
            .into_response(),
        Err(r) => *r,
    }
}

/// Painted masks, as PNG data URLs at preview size.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Brush {
    region: Option<String>,
    scar: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct View {
    session: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenderRequest {
    #[serde(default)]
    seq: u64,
    #[serde(default)]
    plan: PlanFile,
    #[serde(default)]
    brush: Brush,
    #[serde(default)]
    view: View,
}

/// Refuses what a request may not set: files (the studio names them), and
/// coordinates far outside the photo.
fn check_fields(pf: &PlanFile, size: (u32, u32)) -> Result<()> {
    let named = [
        ("photo", pf.photo.is_some()),
        ("region", pf.region.is_some()),
        ("scar", pf.scar.is_some()),
        ("out", pf.out.is_some()),
        ("dots", pf.dots.is_some()),
        ("format", pf.format.is_some()),
        ("quality", pf.quality.is_some()),
        ("scale_from_head", pf.scale_from_head.is_some()),
    ];
    if let Some((k, _)) = named.iter().find(|(_, set)| *set) {
        return Err(Error::field(
            SOURCE,
            *k,
            "(set by the page)",
            "the studio chooses files itself and gives the head-outline scale at opening: \
             send px_per_mm or scale_points; paint a region or scar with the brush",
        ));
    }
    let limit = 10.0 * size.0.max(size.1) as f32;
    let ok = |p: &[f32; 2]| p.iter().all(|v| v.is_finite() && v.abs() <= limit);
    let lists: [(&str, Option<&Vec<[f32; 2]>>); 3] = [
        ("polygon", pf.polygon.as_ref()),
        ("hairline", pf.hairline.as_ref()),
        ("scar_polygon", pf.scar_polygon.as_ref()),
    ];
    let points = [
        ("glabella", pf.glabella),
        ("patch", pf.patch),
        ("hair", pf.hair),
    ];
    for (k, list) in lists {
        if let Some(p) = list.and_then(|l| l.iter().find(|p| !ok(p))) {
            return Err(Error::field(
                SOURCE,
                k,
                format!("{},{}", p[0], p[1]),
                format!("coordinates must be finite, within ±{limit} px (10 times the photo)"),
            ));
        }
        if list.is_some_and(|l| l.len() > 10_000) {
            return Err(Error::field(
                SOURCE,
                k,
                "over 10,000 points",
                "give at most 10,000 points",
            ));
        }
    }
    for (k, p) in points {
        if let Some(p) = p.filter(|p| !ok(p)) {
            return Err(Error::field(
                SOURCE,
                k,
                format!("{},{}", p[0], p[1]),
                format!("coordinates must be finite, within ±{limit} px (10 times the photo)"),
            ));
        }
    }
    if let Some(pts) = pf.scale_points.filter(|s| !s.iter().all(ok)) {
        return Err(Error::field(
            SOURCE,
            "scale_points",
            format!("{:?}", pts),
            format!("coordinates must be finite, within ±{limit} px"),
        ));
    }
    Ok(())
}

/// The fields with every photo-pixel value scaled by `f` (photo px to
/// preview px).
fn scaled(pf: &PlanFile, f: f32) -> PlanFile {
    let pt = |p: [f32; 2]| [p[0] * f, p[1] * f];
    let list = |l: &Vec<[f32; 2]>| l.iter().map(|&p| pt(p)).collect::<Vec<_>>();
    PlanFile {
        polygon: pf.polygon.as_ref().map(list),
        hairline: pf.hairline.as_ref().map(list),
        scar_polygon: pf.scar_polygon.as_ref().map(list),
        glabella: pf.glabella.map(pt),
        patch: pf.patch.map(pt),
        hair: pf.hair.map(pt),
        scale_points: pf.scale_points.map(|[a, b]| [pt(a), pt(b)]),
        px_per_mm: pf.px_per_mm.map(|v| v * f),
        camera_blur_px: pf.camera_blur_px.map(|v| v * f),
        ..pf.clone()
    }
}

/// Name of a painted region mask (and its file in an export).
const PAINTED_REGION: &str = "painted-region.png";
/// Name of a painted scar mask (and its file in an export).
const PAINTED_SCAR: &str = "painted-scar.png";

/// Decodes a painted mask (a PNG data URL at preview size), reusing the
/// same painting's mask when it was decoded lately.
fn painted(photo: &OpenPhoto, data: &str, what: &str) -> Result<Arc<GrayImage>> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut h);
    let key = h.finish();
    if let Some((_, m)) = photo
        .painted
        .lock()
        .expect("painted masks")
        .iter()
        .find(|(k, _)| *k == key)
    {
        return Ok(m.clone());
    }
    let bad = |why: &str| Error::field(SOURCE, what, "(painted mask)", why.to_string());
    let b64 = data
        .strip_prefix("data:image/png;base64,")
        .ok_or_else(|| bad("must be a PNG data URL (data:image/png;base64,...)"))?;
    let bytes = base64_decode(b64).ok_or_else(|| bad("is not valid base64"))?;
    let mask = decode_dynamic(&bytes, Path::new(what))?.to_luma8();
    let want = photo.pipeline.photo().dimensions();
    if mask.dimensions() != want {
        return Err(bad(&format!(
            "must be painted at the preview's size, {} x {} px (got {} x {})",
            want.0,
            want.1,
            mask.width(),
            mask.height()
        )));
    }
    let mask = Arc::new(mask);
    let mut memo = photo.painted.lock().expect("painted masks");
    if memo.len() >= 4 {
        memo.pop_front();
    }
    memo.push_back((key, mask.clone()));
    Ok(mask)
}

/// Standard base64 (with or without padding); `None` if malformed.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let clean: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    if clean.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    Some(out)
}

/// The design of a request at preview size: its fields scaled to the
/// preview, the painted masks decoded; with the plan.
fn preview_design(photo: &OpenPhoto, pf: &PlanFile, brush: &Brush) -> Result<Design> {
    check_fields(pf, photo.size)?;
    let mut fields = scaled(pf, photo.factor);
    fields.photo = Some(PathBuf::from(&photo.name));
    let region_mask = brush
        .region
        .as_deref()
        .map(|d| painted(photo, d, "brush.region"))
        .transpose()?;
    let scar_mask = brush
        .scar
        .as_deref()
        .map(|d| painted(photo, d, "brush.scar"))
        .transpose()?;
    if region_mask.is_some() {
        if fields.polygon.is_some() || fields.hairline.is_some() || fields.preset.is_some() {
            return Err(Error::field(
                SOURCE,
                "brush.region",
                "(painted mask)",
                "a painted region goes alone: clear the polygon, hairline or preset",
            ));
        }
        fields.region = Some(PathBuf::from(PAINTED_REGION));
    }
    if scar_mask.is_some() && fields.scar_polygon.is_some() {
        return Err(Error::field(
            SOURCE,
            "brush.scar",
            "(painted mask)",
            "give a scar polygon or a painted scar, not both",
        ));
    }
    let plan = fields.apply_to(Plan::for_client(), SOURCE)?;
    let job = RenderJob::from_fields(&fields, plan, SOURCE)?;
    let size = photo.pipeline.photo().dimensions();
    let scar = match &scar_mask {
        Some(m) => Some(Region::from_mask(
            m,
            size,
            job.scale.px(Mm(SCAR_FEATHER_MM)),
            Path::new(PAINTED_SCAR),
        )?),
        None => job.scar_region(size)?,
    };
    Ok(Design {
        region: job.region,
        mask: region_mask,
        scar,
        scale: job.scale,
        plan: job.plan,
        source: SOURCE.to_string(),
        limits: job.limits,
    })
}

/// `POST /api/photo/{id}/render`: the preview of one session.
pub(crate) async fn render(
    State(s): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: std::result::Result<Json<RenderRequest>, JsonRejection>,
) -> Response {
    let (req, photo) = match call_for(&s, &id, body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let seq = req.seq;
    photo.latest.fetch_max(seq, Ordering::SeqCst);
    let done = blocking(move || -> Result<Option<(Vec<u8>, Value)>> {
        let clock = Instant::now();
        let design = preview_design(&photo, &req.plan, &req.brush)?;
        let session = req.view.session.unwrap_or(design.plan.sessions);
        let stop = || photo.latest.load(Ordering::SeqCst) > seq;
        let Some(r) = photo
            .pipeline
            .render_unless(&design, Sessions::Only(session), &stop)?
        else {
            return Ok(None);
        };
        let encode_clock = Instant::now();
        let img = r.images.last().expect("one image");
        // Only the region's bounds differ from the photo (the composite
        // never touches a pixel outside them): that crop is sent, and the
        // page lays it over the photo it already has.
        let (stage, _) = photo.pipeline.region(&design)?;
        let b = stage.region.bounds();
        let crop = image::imageops::crop_imm(img, b.x0, b.y0, b.width().max(1), b.height().max(1))
            .to_image();
        let jpeg = preview_jpeg(&crop, "preview.jpg")?;
        let encode = encode_clock.elapsed();
        let mut notes = Vec::new();
        if let Some(n) = &stage.built.note {
            notes.extend(n.lines().map(str::to_string));
        }
        if stage.clipped.pixels > 0 {
            notes.push(format!(
                "region clipped to the head: {:.1} % of it lay on the background",
                100.0 * stage.clipped.share
            ));
        }
        if stage.hair_pixels > 0 {
            notes.push(format!(
                "own hair left untouched: {} preview px (dots placed between the strands)",
                stage.hair_pixels
            ));
        }
        let n = design.plan.sessions;
        let per: Vec<usize> = (1..=n)
            .map(|k| r.dots.iter().filter(|d| d.session == k).count())
            .collect();
        let info = json!({
            "seq": seq,
            "session": session.clamp(1, n),
            "sessions": n,
            "dots_per_session": per,
            "shade": r.shade_match.as_ref().map(|m| json!({
                "name": m.shade.name, "dilution": m.shade.dilution, "delta_e": m.delta_e,
            })),
            "notes": notes,
            "redone": r.redone.name(),
            "crop": [b.x0, b.y0, b.width().max(1), b.height().max(1)],
            "blur_px": r.blur,
            "timings_ms": {
                "region": ms(r.region_time),
                "dots": ms(r.dots_time),
                "composite": ms(r.composite_time),
                "encode": ms(encode),
                "total": ms(clock.elapsed()),
            },
        });
        Ok(Some((jpeg, info)))
    })
    .await;
    match done.and_then(|r| r) {
        Ok(Some((jpeg, info))) => {
            let mut res = (
                [
                    (header::CONTENT_TYPE, "image/jpeg"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                jpeg,
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&ascii_json(&info)) {
                res.headers_mut().insert("x-render", v);
            }
            res
        }
        Ok(None) => fail(StatusCode::CONFLICT, "superseded"),
        Err(e) => failed(e),
    }
}

/// `POST /api/photo/{id}/overlay`: the design drawn over the preview, as
/// the `design` command draws it.
pub(crate) async fn overlay(
    State(s): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: std::result::Result<Json<RenderRequest>, JsonRejection>,
) -> Response {
    let (req, photo) = match call_for(&s, &id, body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let done = blocking(move || -> Result<Vec<u8>> {
        let design = preview_design(&photo, &req.plan, &req.brush)?;
        let (stage, _) = photo.pipeline.region(&design)?;
        let img = crate::design::overlay(
            photo.pipeline.photo(),
            &stage.built.region,
            &stage.region,
            stage.built.hairline.as_ref(),
            &stage.built.landmarks,
            design.scar.as_ref(),
            design.scale,
        );
        preview_jpeg(&img, "overlay.jpg")
    })
    .await;
    match done.and_then(|r| r) {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => failed(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SheetRequest {
    layout: Option<String>,
    size: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportRequest {
    #[serde(default)]
    plan: PlanFile,
    #[serde(default)]
    brush: Brush,
    #[serde(default)]
    what: Vec<String>,
    #[serde(default)]
    sheet: SheetRequest,
    format: Option<String>,
}

/// What an export may write.
const EXPORTS: &[&str] = &["images", "sheet", "page", "csv", "plan"];

/// A new folder under the studio's export folder, claimed by creating it.
fn claim_folder(root: &Path, stem: &str) -> Result<PathBuf> {
    let base = root.join(EXPORT_DIR);
    std::fs::create_dir_all(&base).map_err(|e| Error::io(&base, e))?;
    for n in 1..100_000 {
        let dir = base.join(format!("{stem}-{n}"));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&dir, e)),
        }
    }
    Err(Error::io(
        &base,
        std::io::Error::other("no free export folder name left"),
    ))
}

/// A painted mask scaled up to the photo's size, written as PNG.
fn write_mask(mask: &GrayImage, size: (u32, u32), path: &Path) -> Result<()> {
    let full = image::imageops::resize(mask, size.0, size.1, image::imageops::FilterType::Triangle);
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(
            full.as_raw(),
            full.width(),
            full.height(),
            image::ExtendedColorType::L8,
        )
        .map_err(|e| Error::Encode {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    write_atomic(path, &bytes)
}

/// `POST /api/photo/{id}/export`: the full-resolution render, sheet, page,
/// dots and plan in a new folder under `smp-studio/`.
pub(crate) async fn export(
    State(s): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: std::result::Result<Json<ExportRequest>, JsonRejection>,
) -> Response {
    let (req, photo) = match call_for(&s, &id, body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let shared = s.clone();
    let done = blocking(move || export_now(&shared, &photo, req)).await;
    match done.and_then(|r| r) {
        Ok(v) => Json(v).into_response(),
        Err(e) => failed(e),
    }
}

fn export_now(s: &Shared, photo: &OpenPhoto, req: ExportRequest) -> Result<Value> {
    let clock = Instant::now();
    if let Some(w) = req.what.iter().find(|w| !EXPORTS.contains(&w.as_str())) {
        return Err(Error::field(
            SOURCE,
            "what",
            w,
            format!("must be among {}", EXPORTS.join(", ")),
        ));
    }
    let wants = |w: &str| req.what.is_empty() || req.what.iter().any(|x| x == w);
    let format = match req.format.as_deref() {
        None => Format::Png,
        Some(f) => Format::from_name(f)
            .ok_or_else(|| Error::field(SOURCE, "format", f, "must be png or jpeg"))?,
    };
    let layout = match req.sheet.layout.as_deref().unwrap_or("side-by-side") {
        "side-by-side" => Layout::SideBySide,
        "split" => Layout::Split { at: 0.5 },
        "strip" => Layout::Strip,
        "grid" => Layout::Grid { columns: None },
        other => {
            return Err(Error::field(
                SOURCE,
                "sheet.layout",
                other,
                "must be side-by-side, split, strip or grid",
            ))
        }
    };
    let canvas = req.sheet.size.as_deref().map(Canvas::parse).transpose()?;
    // Everything the page sent is checked (at preview size) before any
    // folder is made.
    let preview = preview_design(photo, &req.plan, &req.brush)?;
    drop(preview);
    let stem = safe_name(
        Path::new(&photo.name)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("photo"),
    );
    let dir = claim_folder(&s.studio.root, &stem)?;
    let photo_path = match &photo.source {
        Source::Folder(p) => p.clone(),
        Source::Upload(bytes) => {
            let p = dir.join(&photo.name);
            write_atomic(&p, bytes)?;
            p
        }
    };
    let mut fields = req.plan.clone();
    fields.photo = Some(photo_path);
    for (data, name, what, slot) in [
        (&req.brush.region, PAINTED_REGION, "brush.region", 0),
        (&req.brush.scar, PAINTED_SCAR, "brush.scar", 1),
    ] {
        if let Some(d) = data {
            let mask = painted(photo, d, what)?;
            let path = dir.join(name);
            write_mask(&mask, photo.size, &path)?;
            if slot == 0 {
                fields.region = Some(path);
            } else {
                fields.scar = Some(path);
            }
        }
    }
    // The plan file first, then the render from it, as `render --plan`
    // reads it.
    let plan = fields.apply_to(Plan::for_client(), SOURCE)?;
    let job = RenderJob::from_fields(&fields, plan, SOURCE)?;
    let plan_path = dir.join("plan.toml");
    let mut pf = job.plan_file(Some(&dir));
    if format == Format::Jpeg {
        pf.format = Some(Format::Jpeg);
    }
    let text = format!(
        "# Treatment designed in smp-render studio; paths are relative to this file.\n\
         # Render it again with: smp-render render --plan plan.toml\n{}",
        toml::to_string(&pf).unwrap_or_default()
    );
    write_atomic(&plan_path, text.as_bytes())?;
    let loaded = PlanFile::load(&plan_path)?;
    let source = plan_path.display().to_string();
    let plan = loaded.apply_to(Plan::for_client(), &source)?;
    let mut job = RenderJob::from_fields(&loaded, plan, &source)?;
    job.out_dir = dir.clone();
    job.other_inputs = vec![plan_path.clone()];
    if wants("csv") {
        job.dots_csv = Some(dir.join("dots.csv"));
    }
    let report = run_job(&job)?;
    let mut files: Vec<PathBuf> = vec![plan_path.clone()];
    files.extend(report.outputs.iter().cloned());
    if wants("sheet") || wants("page") {
        let ext = format.extension();
        let mut images = vec![("Before".to_string(), dir.join(format!("before.{ext}")))];
        for k in 1..=job.plan.sessions {
            images.push((
                format!("Session {k} (simulated)"),
                dir.join(format!("session-{k}.{ext}")),
            ));
        }
        let mut sheet = SheetJob::new(
            SheetSource::Images {
                images,
                region: None,
            },
            layout,
            "sheet",
        );
        sheet.canvases = canvas.into_iter().collect();
        sheet.out_dir = dir.clone();
        sheet.format = format;
        if wants("page") {
            sheet.html = Some(dir.join("compare.html"));
        }
        let r = run_sheet(&sheet)?;
        files.extend(r.outputs);
    }
    let rel = |p: &PathBuf| {
        p.strip_prefix(&s.studio.root)
            .unwrap_or(p)
            .display()
            .to_string()
    };
    Ok(json!({
        "folder": rel(&dir),
        "files": files.iter().map(rel).collect::<Vec<_>>(),
        "dots": report.dots_per_session.iter().sum::<usize>(),
        "timings_ms": {"total": ms(clock.elapsed())},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploaded_names_keep_their_last_plain_component() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\\\photos\\\\client 1.jpg"), "client_1.jpg");
        assert_eq!(safe_name("..%2F..%2Fx.jpg"), "x.jpg");
        assert_eq!(safe_name("Jos%C3%A9.jpg"), "Jos_.jpg");
        assert_eq!(safe_name("..."), "photo");
        assert_eq!(safe_name("%zz.png"), "_zz.png");
    }

    #[test]
    fn preview_fields_scale_every_pixel_value_and_nothing_else() {
        let pf = PlanFile {
            hairline: Some(vec![[100.0, 50.0], [200.0, 40.0], [300.0, 50.0]]),
            glabella: Some([200.0, 400.0]),
            scale_points: Some([[0.0, 0.0], [100.0, 0.0]]),
            scale_mm: Some(10.0),
            px_per_mm: Some(8.0),
            density_per_cm2: Some(90.0),
            frontal_mm: Some(80.0),
            ..PlanFile::default()
        };
        let s = scaled(&pf, 0.5);
        assert_eq!(s.hairline.unwrap()[1], [100.0, 20.0]);
        assert_eq!(s.glabella, Some([100.0, 200.0]));
        assert_eq!(s.scale_points, Some([[0.0, 0.0], [50.0, 0.0]]));
        assert_eq!(s.px_per_mm, Some(4.0));
        assert_eq!(s.scale_mm, Some(10.0), "millimetres stay millimetres");
        assert_eq!(s.density_per_cm2, Some(90.0));
        assert_eq!(s.frontal_mm, Some(80.0));
    }

    #[test]
    fn requests_may_not_name_files_or_far_away_points() {
        let size = (1000, 800);
        for pf in [
            PlanFile {
                photo: Some("/etc/passwd".into()),
                ..PlanFile::default()
            },
            PlanFile {
                out: Some("../x".into()),
                ..PlanFile::default()
            },
            PlanFile {
                dots: Some("x.csv".into()),
                ..PlanFile::default()
            },
        ] {
            assert!(check_fields(&pf, size).is_err(), "{pf:?}");
        }
        let far = PlanFile {
            polygon: Some(vec![[0.0, 0.0], [1e12, 0.0], [0.0, 5.0]]),
            ..PlanFile::default()
        };
        let e = check_fields(&far, size).unwrap_err().to_string();
        assert!(e.contains("polygon") && e.contains("10 times"), "{e}");
        let nan = PlanFile {
            glabella: Some([f32::NAN, 3.0]),
            ..PlanFile::default()
        };
        assert!(check_fields(&nan, size)
            .unwrap_err()
            .to_string()
            .contains("glabella"));
        let fine = PlanFile {
            polygon: Some(vec![[0.0, 0.0], [999.0, 0.0], [0.0, 799.0]]),
            ..PlanFile::default()
        };
        assert!(check_fields(&fine, size).is_ok());
    }

    #[test]
    fn base64_round_trips_and_refuses_garbage() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert!(base64_decode("a$==").is_none());
        assert!(base64_decode("a").is_none());
    }
}
