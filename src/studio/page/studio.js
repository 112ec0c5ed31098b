// smp-render studio: the consultation page.
//
// One screen: a picture area (before/after over a draggable divider, zoom and
// pan, design handles drawn on top) and a control panel. Every change sends a
// render to the local server (API: /tmp/studio-api.md, v1); at most one
// render is in flight, the latest wanted state wins.
//
// Sections of this file:
//   1. utilities and the API client
//   2. state
//   3. view: zoom, pan, divider (photo <-> screen coordinates)
//   4. design geometry: hairline curve, constraints
//   5. drawing: handles (DOM) and lines (SVG)
//   6. brush masks
//   7. plan building and the render loop
//   8. photos: info, open, upload, drop
//   9. pointer input on the picture
//  10. keyboard
//  11. panel controls
//  12. export
//  13. start
'use strict';
(() => {

// ---------------------------------------------------------------- 1. utilities

const $ = (id) => document.getElementById(id);
const TOKEN = new URLSearchParams(location.search).get('t') || '';
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const round = (v, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const SVGNS = 'http://www.w3.org/2000/svg';

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// fetch() with the token; JSON bodies via opts.json; throws ApiError with the
// server's {"error": ...} message on any non-2xx answer.
async function api(path, opts = {}) {
  const headers = { 'X-Studio-Token': TOKEN, ...(opts.headers || {}) };
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  let res;
  try {
    res = await fetch(path, { method: body === undefined ? 'GET' : 'POST', headers, body, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'studio: the server does not answer (' + e.message + ')');
  }
  if (!res.ok) {
    let msg = `studio: HTTP ${res.status}`;
    try { const j = await res.json(); if (j && j.error) msg = j.error; } catch (_) { /* not JSON */ }
    throw new ApiError(res.status, msg);
  }
  return res;
}

// Status line: a message (error or what the server said) and a line of figures.
function setStatus(msg, isError = false) {
  const el = $('status-msg');
  el.textContent = msg;
  el.classList.toggle('error', !!isError);
}
function setInfo(text) { $('status-info').textContent = text; }

// ---------------------------------------------------------------- 2. state

// Everything the page designs; read by the tests through window.studio.state.
// All coordinates are full-resolution photo pixels.
const state = {
  mode: 'hairline',             // hairline | preset | polygon | brush
  hairline: [],                 // [L, M, R, extra...], [x, y]
  style: 'natural', transition: 10, irregularity: 1.5, asymmetry: 1,
  preset: 'norwood-3', frontalMm: 80,
  glabella: null, glabellaMoved: false,  // glabella is sent only once moved
  patch: null, patchMm: 30,
  polygon: [],
  scarTool: 'off',              // off | polygon | brush: what clicks on the picture edit
  scarPolygon: [], scarRetention: 0.55,
  brushOp: 'paint', brushSizeMm: 20, brushSoft: 0.6,
  regionPainted: false, scarPainted: false,
  scale: { source: 'none', pxPerMm: null, estimate: null, points: [], mm: 50 },
  measuring: false,
  sessions: 3, showSession: 3, density: 110, dotSize: 0.5,
  shade: 'matched', customShade: '#5a5e66', dilution: 1, pigment: 'permanent',
  stage: 'healed', years: 5, seed: 1,
  divider: 50,                  // % of the picture area's width, before on the left
  showRegion: false,
  view: { s: 1, tx: 0, ty: 0, fitted: true },   // screen = t + preview px * s
  selected: null,               // {kind: 'hairline'|'polygon'|'scar'|'ruler', i} or null
};

let info = null;       // GET /api/info answer
let photo = null;      // open answer of the photo on screen
const studio = window.studio = { state, rendered: 0, lastInfo: null, photo: null, latencies: [] };
// The after picture as shown (the photo or overlay, the rendered crop over
// it), at preview size, as a PNG data URL: for tests and for looking.
studio.afterPicture = async () => {
  await afterImg.decode();
  const c = document.createElement('canvas');
  c.width = afterImg.naturalWidth; c.height = afterImg.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(afterImg, 0, 0);
  if (!afterPatch.hidden && afterPatch.src) {
    await afterPatch.decode();
    g.drawImage(afterPatch, +afterPatch.dataset.x, +afterPatch.dataset.y);
  }
  return c.toDataURL('image/png');
};

// ---------------------------------------------------------------- 3. view

const picture = $('picture');
const viewport = $('viewport');
const beforeImg = $('before-img');
const afterImg = $('after-img');
// The latest render: only the region's bounds change, so the server sends
// that crop and it is laid over the photo (after-img shows the photo, or
// the region overlay).
const afterPatch = $('after-patch');

const factor = () => (photo ? photo.preview.factor : 1);
const areaSize = () => ({ w: picture.clientWidth, h: picture.clientHeight });

// photo px -> picture-area (screen) px, and back.
function toScreen(p) {
  const k = factor() * state.view.s;
  return [state.view.tx + p[0] * k, state.view.ty + p[1] * k];
}
function toPhoto(sx, sy) {
  const k = factor() * state.view.s;
  return [(sx - state.view.tx) / k, (sy - state.view.ty) / k];
}
// A pointer event's position in picture-area px.
function localPos(e) {
  const r = picture.getBoundingClientRect();
  return [e.clientX - r.left, e.clientY - r.top];
}
function clampToPhoto(p) {
  return [clamp(p[0], 0, photo.width), clamp(p[1], 0, photo.height)];
}

const ZOOM_STEPS = [0.1, 0.125, 0.167, 0.25, 0.333, 0.5, 0.667, 0.75, 1, 1.5, 2, 3, 4, 6, 8];
const MAX_ZOOM = 8;
function fitScale() {
  if (!photo) return 1;
  const { w, h } = areaSize();
  return Math.min((w - 24) / photo.preview.width, (h - 24) / photo.preview.height);
}
const minZoom = () => Math.min(0.1, fitScale());

// Zoom to s keeping the picture point (cx, cy) where it is.
function zoomTo(s, cx, cy) {
  if (!photo) return;
  const { w, h } = areaSize();
  if (cx === undefined) { cx = w / 2; cy = h / 2; }
  const v = state.view;
  s = clamp(s, minZoom(), MAX_ZOOM);
  v.tx = cx - (cx - v.tx) * (s / v.s);
  v.ty = cy - (cy - v.ty) * (s / v.s);
  v.s = s;
  v.fitted = false;
  updateView();
}
function zoomStep(dir) {
  const s = state.view.s;
  const next = dir > 0 ? ZOOM_STEPS.find((z) => z > s * 1.01) : [...ZOOM_STEPS].reverse().find((z) => z < s * 0.99);
  zoomTo(next ?? (dir > 0 ? MAX_ZOOM : minZoom()));
}
function zoomFit() {
  if (!photo) return;
  const { w, h } = areaSize();
  const v = state.view;
  v.s = fitScale();
  v.tx = (w - photo.preview.width * v.s) / 2;
  v.ty = (h - photo.preview.height * v.s) / 2;
  v.fitted = true;
  updateView();
}
function panBy(dx, dy) {
  state.view.tx += dx; state.view.ty += dy; state.view.fitted = false;
  updateView();
}

// Apply the view: the image transform, the handles, the lines, the divider.
function updateView() {
  if (!photo) return;
  const v = state.view;
  const { w, h } = areaSize();
  const iw = photo.preview.width * v.s, ih = photo.preview.height * v.s;
  // keep at least 60 px of the photo on screen
  v.tx = clamp(v.tx, Math.min(60 - iw, (w - iw) / 2), Math.max(w - 60, (w - iw) / 2));
  v.ty = clamp(v.ty, Math.min(60 - ih, (h - ih) / 2), Math.max(h - 60, (h - ih) / 2));
  viewport.style.width = photo.preview.width + 'px';
  viewport.style.height = photo.preview.height + 'px';
  viewport.style.transform = `translate(${v.tx}px, ${v.ty}px) scale(${v.s})`;
  viewport.classList.toggle('crisp', v.s >= 2);
  $('zoom-level').textContent = Math.round(v.s * 100) + ' %';
  positionHandles();
  drawLines();
  updateDivider();
  placeNotice(w, h, iw, ih);
}

// The "Simulated preview" notice sits on the photo's top-left corner, or
// on the corner of the part of the photo that is on screen: always over
// the picture itself, never only over the backdrop around it.
function placeNotice(w, h, iw, ih) {
  const n = $('notice');
  const v = state.view;
  const left = clamp(Math.max(v.tx, 0) + 8, 8, Math.max(8, w - n.offsetWidth - 8));
  const top = clamp(Math.max(v.ty, 0) + 8, 8, Math.max(8, h - n.offsetHeight - 8));
  n.style.left = Math.min(left, Math.max(8, v.tx + iw - n.offsetWidth - 8)) + 'px';
  n.style.top = Math.min(top, Math.max(8, v.ty + ih - n.offsetHeight - 8)) + 'px';
}

// Zoom to 100 % on the design: the hairline's mid-frontal point, the
// glabella's head top, the polygon's centre, or the photo's upper middle.
function zoomToDesign() {
  if (!photo) return;
  const f = photo.preview.factor;
  let p = null;
  if (state.mode === 'hairline' && state.hairline.length >= 2) p = state.hairline[1];
  else if (state.mode === 'polygon' && state.polygon.length) {
    p = [0, 1].map((i) => state.polygon.reduce((a, q) => a + q[i], 0) / state.polygon.length);
  } else if (state.mode === 'preset' && state.glabella) p = [state.glabella[0], state.glabella[1] * 0.55];
  if (!p) p = [photo.width / 2, photo.height / 3];
  const { w, h } = areaSize();
  const v = state.view;
  v.s = 1;
  v.tx = w / 2 - p[0] * f;
  v.ty = h * 0.4 - p[1] * f;
  v.fitted = false;
  updateView();
}

// The before/after divider: a vertical line at state.divider % of the
// picture area; the after image is clipped to the right of it.
function setDivider(pct) {
  state.divider = clamp(pct, 0, 100);
  updateDivider();
}
function updateDivider() {
  const pct = state.divider;
  const d = $('divider');
  d.style.left = pct + '%';
  $('divider-line').style.left = pct + '%';
  for (const t of document.querySelectorAll('.tag')) t.style.left = pct + '%';
  d.setAttribute('aria-valuenow', String(Math.round(pct)));
  d.setAttribute('aria-valuetext', `${Math.round(pct)} % before`);
  if (!photo) return;
  const x = (pct / 100) * areaSize().w;
  const clip = clamp((x - state.view.tx) / state.view.s, 0, photo.preview.width);
  afterImg.style.clipPath = `inset(0 0 0 ${clip}px)`;
  const px = +(afterPatch.dataset.x || 0);
  afterPatch.style.clipPath = `inset(0 0 0 ${Math.max(0, clip - px)}px)`;
}

// Shows the after side: the region overlay (a whole picture), or the
// photo with the latest rendered crop over it.
function showAfter() {
  if (state.showRegion) {
    if (urls.overlay) afterImg.src = urls.overlay;
    afterPatch.hidden = true;
  } else {
    if (beforeImg.src) afterImg.src = beforeImg.src;
    afterPatch.hidden = !urls.render;
  }
}

// ---------------------------------------------------------------- 4. design geometry

// Scale in photo px per mm, or null when unknown.
function ppm() {
  const s = state.scale;
  if (s.source === 'measured' && s.points.length === 2 && s.mm > 0) {
    return Math.hypot(s.points[1][0] - s.points[0][0], s.points[1][1] - s.points[0][1]) / s.mm;
  }
  return s.pxPerMm > 0 ? s.pxPerMm : null;
}
// Scale for drawing only (brush size, guides): a typical 3.3 px/mm if unknown.
const ppmOrGuess = () => ppm() || 3.3;

// The hairline styles' shapes, as the server draws them (src/hairline.rs):
// profile p(u) from the mid point (u = 0) to a temple (u = 1), temple corners
// set back (recession) and the centre point reaching down (peak), in mm; plus
// the style's own transition and irregularity (set on the sliders on a change).
const STYLES = {
  natural: { p: 'arch', t: 10, irr: 1.5 },
  soft: { p: 'arch', t: 10, irr: 1.5 },
  defined: { p: 'arch', t: 1, irr: 0.2 },
  receded: { p: 'arch', t: 8, irr: 1.5, rec: 12 },
  mature: { p: 'arch', t: 8, irr: 1.5, rec: 12 },
  straight: { p: 'straight', t: 4, irr: 0.8 },
  rounded: { p: 'round', t: 8, irr: 1.2 },
  'widows-peak': { p: 'arch', t: 6, irr: 1.0, peak: 7 },
};
function profile(kind, u) {
  u = clamp(u, 0, 1);
  if (kind === 'straight') return u ** 8;
  if (kind === 'round') return 1 - Math.sqrt(Math.max(0, 1 - u * u));
  return u ** 2.2;
}

// Cubic Hermite through knots sorted by x, Catmull-Rom tangents, flat ends.
function hermite(knots, x) {
  const n = knots.length;
  if (x <= knots[0][0]) return knots[0][1];
  if (x >= knots[n - 1][0]) return knots[n - 1][1];
  let i = 0;
  while (i < n - 2 && x >= knots[i + 1][0]) i++;
  const slope = (j) => (j === 0 || j === n - 1 ? 0 : (knots[j + 1][1] - knots[j - 1][1]) / (knots[j + 1][0] - knots[j - 1][0]));
  const [x0, y0] = knots[i], [x1, y1] = knots[i + 1];
  const hx = x1 - x0, t = (x - x0) / hx, t2 = t * t, t3 = t2 * t;
  return (2 * t3 - 3 * t2 + 1) * y0 + (t3 - 2 * t2 + t) * hx * slope(i)
    + (-2 * t3 + 3 * t2) * y1 + (t3 - t2) * hx * slope(i + 1);
}

// The hairline's smooth curve (without the seed's asymmetry and noise) as a
// list of photo points from the left to the right temple.
function hairlineCurve() {
  const pts = state.hairline;
  if (pts.length < 3) return [];
  const [l, m, r] = pts;
  const st = STYLES[state.style] || STYLES.natural;
  const k = ppmOrGuess();
  const base = (x) => {
    const [t, u0] = x < m[0] ? [l, (m[0] - x) / Math.max(1e-3, m[0] - l[0])] : [r, (x - m[0]) / Math.max(1e-3, r[0] - m[0])];
    const u = clamp(u0, 0, 1);
    let y = m[1] + (t[1] - m[1]) * profile(st.p, u);
    y -= (st.rec || 0) * k * Math.exp(-(((u - 0.62) / 0.2) ** 2));
    y += (st.peak || 0) * k * Math.max(0, 1 - u / 0.18) ** 1.6;
    return y;
  };
  const knots = [[l[0], 0], [m[0], 0], [r[0], 0]]
    .concat(pts.slice(3).map((p) => [p[0], p[1] - base(p[0])]))
    .sort((a, b) => a[0] - b[0]);
  const xs = [];
  const n = 96;
  for (let i = 0; i <= n; i++) xs.push(l[0] + ((r[0] - l[0]) * i) / n);
  for (const p of pts) xs.push(p[0]);
  xs.sort((a, b) => a - b);
  return xs.map((x) => [x, base(x) + hermite(knots, x)]);
}

const DEFAULT_HAIRLINE = (w, h) => [[w * 0.33, h * 0.30], [w * 0.5, h * 0.26], [w * 0.67, h * 0.30]];

// Keep the hairline valid for the server: L, M, R left to right at least
// 15 mm apart, further points strictly between the temples and off M's x.
function constrainHairline(i, p) {
  p = clampToPhoto(p);
  const h = state.hairline;
  const gap = (ppm() ? ppm() * 15 : 0) + 1;
  if (i === 0) p[0] = Math.min(p[0], h[1][0] - gap);
  else if (i === 1) p[0] = clamp(p[0], h[0][0] + gap, h[2][0] - gap);
  else if (i === 2) p[0] = Math.max(p[0], h[1][0] + gap);
  else {
    p[0] = clamp(p[0], h[0][0] + 2, h[2][0] - 2);
    if (Math.abs(p[0] - h[1][0]) < 2) p[0] = h[1][0] + (p[0] < h[1][0] ? -2 : 2);
  }
  h[i] = clampToPhoto(p);
  if (i < 3) {   // a main point moved: keep the further points valid
    for (let j = 3; j < h.length; j++) h[j][0] = clamp(h[j][0], h[0][0] + 2, h[2][0] - 2);
  }
}

// Distance from screen point q to segment a-b (screen px), and the segment's t.
function segDist(q, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy || 1;
  const t = clamp(((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / len2, 0, 1);
  return Math.hypot(q[0] - a[0] - t * dx, q[1] - a[1] - t * dy);
}
// Index at which to insert a new point into a closed polygon so it lands on
// the nearest edge (if within tol screen px), else at the end.
function polygonInsertIndex(pts, q, tol = 12) {
  if (pts.length < 3) return pts.length;
  let best = -1, bestD = tol;
  for (let i = 0; i < pts.length; i++) {
    const d = segDist(q, toScreen(pts[i]), toScreen(pts[(i + 1) % pts.length]));
    if (d < bestD) { bestD = d; best = i + 1; }
  }
  return best < 0 ? pts.length : best;
}

// ---------------------------------------------------------------- 5. drawing

const handlesEl = $('handles');
const linesEl = $('lines');

// The handles that exist now: {id, kind, i, label, cls, get()}.
function handleList() {
  const list = [];
  if (!photo) return list;
  const names = ['Left temple point', 'Mid-frontal point', 'Right temple point'];
  if (state.mode === 'hairline') {
    state.hairline.forEach((p, i) => list.push({
      id: i < 3 ? 'point-' + 'LMR'[i] : 'point-' + (i - 2), kind: 'hairline', i,
      text: i < 3 ? 'LMR'[i] : '', cls: i < 3 ? '' : 'extra',
      label: i < 3 ? names[i] : `Hairline point ${i - 2}`,
    }));
  }
  if (state.mode === 'preset') {
    list.push({ id: 'glabella', kind: 'glabella', i: 0, text: '', cls: 'glabella' + (state.glabellaMoved ? '' : ' auto'),
      label: 'Glabella (brow midpoint)' + (state.glabellaMoved ? '' : ', found by the server') });
    if (state.preset === 'alopecia-patch') {
      list.push({ id: 'patch', kind: 'patch', i: 0, text: '', cls: 'patch', label: 'Alopecia patch centre' });
    }
  }
  if (state.mode === 'polygon') {
    state.polygon.forEach((p, i) => list.push({ id: 'poly-' + (i + 1), kind: 'polygon', i, text: '', cls: 'poly', label: `Region polygon point ${i + 1}` }));
  }
  if (state.scarTool === 'polygon') {
    state.scarPolygon.forEach((p, i) => list.push({ id: 'scar-' + (i + 1), kind: 'scar', i, text: '', cls: 'scar', label: `Scar polygon point ${i + 1}` }));
  }
  if (state.measuring || state.scale.source === 'measured') {
    state.scale.points.forEach((p, i) => list.push({ id: 'ruler-' + (i + 1), kind: 'ruler', i, text: '', cls: 'ruler', label: `Ruler end ${i + 1}` }));
  }
  return list;
}
function handlePoint(kind, i) {
  switch (kind) {
    case 'hairline': return state.hairline[i];
    case 'glabella': return state.glabella;
    case 'patch': return state.patch;
    case 'polygon': return state.polygon[i];
    case 'scar': return state.scarPolygon[i];
    case 'ruler': return state.scale.points[i];
  }
  return null;
}
function isSelected(kind, i) {
  return !!state.selected && state.selected.kind === kind && state.selected.i === i;
}

// Rebuild the handle elements (when the set changes), keeping the focus.
function rebuildHandles() {
  const focusedId = document.activeElement && document.activeElement.classList.contains('handle') ? document.activeElement.id : null;
  handlesEl.textContent = '';
  const list = handleList();
  // a selection whose handle is gone (mode or tool changed) is dropped
  if (state.selected && !list.some((h) => h.kind === state.selected.kind && h.i === state.selected.i)) state.selected = null;
  for (const h of list) {
    const el = document.createElement('div');
    el.id = h.id;
    el.className = 'handle ' + h.cls;
    el.tabIndex = 0;
    el.setAttribute('role', 'button');
    el.setAttribute('aria-label', h.label + '. Arrow keys move it' + (h.kind === 'glabella' || h.kind === 'patch' ? '' : ', Delete removes it'));
    el.dataset.kind = h.kind;
    el.dataset.i = String(h.i);
    el.textContent = h.text;
    el.title = h.label;
    handlesEl.appendChild(el);
  }
  positionHandles();
  if (focusedId && $(focusedId)) $(focusedId).focus({ preventScroll: true });
  updateSelectionUi();
}
function positionHandles() {
  for (const el of handlesEl.children) {
    const p = handlePoint(el.dataset.kind, +el.dataset.i);
    if (!p) { el.hidden = true; continue; }
    el.hidden = false;
    const [x, y] = toScreen(p);
    el.style.transform = `translate(${x}px, ${y}px)` + (el.dataset.kind === 'glabella' ? ' rotate(45deg)' : '');
    el.classList.toggle('selected', isSelected(el.dataset.kind, +el.dataset.i));
  }
}

// SVG helpers (screen coordinates).
function svg(tag, attrs, text) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  linesEl.appendChild(el);
  return el;
}
const pathD = (pts, close) => pts.map((p, i) => (i ? 'L' : 'M') + toScreen(p).map((v) => v.toFixed(1)).join(' ')).join(' ') + (close ? ' Z' : '');
function haloPath(pts, cls, close = false, extra = {}) {
  if (pts.length < 2) return;
  const d = pathD(pts, close);
  svg('path', { d, class: 'halo' });
  svg('path', { d, class: cls, ...extra });
}

let brushCursor = null;   // [sx, sy] of the pointer for the brush outline, or null

// Lines over the picture: hairline (and its transition band), preset guides,
// polygons, the ruler and the brush outline.
function drawLines() {
  linesEl.textContent = '';
  if (!photo) return;
  const k = ppmOrGuess();
  if (state.mode === 'hairline') {
    const c = hairlineCurve();
    haloPath(c, 'hl');
    // the transition band: density reaches full this far behind the edge
    haloPath(c.map(([x, y]) => [x, y - state.transition * k]), 'patch');
  }
  if (state.mode === 'preset' && state.glabella) {
    const g = state.glabella;
    // where the mid-frontal point lands (roughly: straight up, flat forehead)
    const top = [g[0], g[1] - state.frontalMm * k];
    haloPath([g, top], 'patch');
    const [sx, sy] = toScreen(top);
    svg('line', { x1: sx - 14, y1: sy, x2: sx + 14, y2: sy, class: 'hl' });
    svg('text', { x: sx + 18, y: sy + 4 }, `${state.frontalMm} mm`);
    if (state.preset === 'alopecia-patch' && state.patch) {
      const [px, py] = toScreen(state.patch);
      const r = (state.patchMm / 2) * k * factor() * state.view.s;
      svg('circle', { cx: px, cy: py, r, class: 'patch' });
    }
  }
  if (state.mode === 'polygon') haloPath(state.polygon, 'poly', state.polygon.length >= 3);
  if (state.scarPolygon.length) haloPath(state.scarPolygon, 'scar', state.scarPolygon.length >= 3);
  const sp = state.scale.points;
  if ((state.measuring || state.scale.source === 'measured') && sp.length === 2) {
    haloPath(sp, 'ruler');
    const [x, y] = toScreen([(sp[0][0] + sp[1][0]) / 2, (sp[0][1] + sp[1][1]) / 2]);
    svg('text', { x: x + 10, y: y - 10 }, `${state.scale.mm} mm`);
  }
  if (brushCursor && brushActive()) {
    const r = brushRadius() * state.view.s;
    svg('circle', { cx: brushCursor[0], cy: brushCursor[1], r, class: 'cursor' });
  }
}

// Selected point: its label and the remove button.
function updateSelectionUi() {
  const sel = state.selected;
  const p = sel && handlePoint(sel.kind, sel.i);
  const removable = !!p && ((sel.kind === 'hairline' && sel.i >= 3) || sel.kind === 'polygon' || sel.kind === 'scar');
  $('remove-point').disabled = !removable;
  const name = !p ? 'No point selected'
    : sel.kind === 'hairline' ? (sel.i < 3 ? 'Point ' + 'LMR'[sel.i] : `Hairline point ${sel.i - 2}`)
      : sel.kind === 'polygon' ? `Polygon point ${sel.i + 1}` : sel.kind === 'scar' ? `Scar point ${sel.i + 1}`
        : sel.kind === 'ruler' ? `Ruler end ${sel.i + 1}` : sel.kind === 'glabella' ? 'Glabella' : 'Patch centre';
  $('selected-point').textContent = p ? `${name} at ${Math.round(p[0])}, ${Math.round(p[1])}` : name;
  positionHandles();
}
function select(kind, i) {
  state.selected = kind ? { kind, i } : null;
  updateSelectionUi();
}

// Move a handle's point to photo position p (constrained), then redraw and render.
function moveHandle(kind, i, p) {
  p = clampToPhoto(p);
  switch (kind) {
    case 'hairline': constrainHairline(i, p); break;
    case 'glabella': state.glabella = p; state.glabellaMoved = true; break;
    case 'patch': state.patch = p; break;
    case 'polygon': state.polygon[i] = p; break;
    case 'scar': state.scarPolygon[i] = p; break;
    case 'ruler': state.scale.points[i] = p; scaleChanged(); break;
  }
  if (kind === 'glabella') {
    const el = $('glabella');
    if (el && el.classList.contains('auto')) rebuildHandles();
    updateGlabellaUi();
  }
  updateSelectionUi();
  drawLines();
  requestRender();
}

// Remove the selected point (further hairline points, polygon points).
function removeSelected() {
  const sel = state.selected;
  if (!sel) return false;
  if (sel.kind === 'hairline' && sel.i < 3) {
    setStatus('The left temple, mid-frontal and right temple points cannot be removed; drag them instead.');
    return true;
  }
  const arr = sel.kind === 'hairline' ? state.hairline : sel.kind === 'polygon' ? state.polygon : sel.kind === 'scar' ? state.scarPolygon : null;
  if (!arr || !arr[sel.i]) return false;
  arr.splice(sel.i, 1);
  const min = sel.kind === 'hairline' ? 3 : 0;
  const nextI = arr.length > min ? Math.max(min, sel.i - 1) : null;
  state.selected = nextI === null ? null : { kind: sel.kind, i: nextI };
  rebuildHandles();
  const h = state.selected && handlesEl.querySelector(`[data-kind="${sel.kind}"][data-i="${nextI}"]`);
  if (h) h.focus({ preventScroll: true }); else picture.focus({ preventScroll: true });
  drawLines();
  requestRender();
  return true;
}

// ---------------------------------------------------------------- 6. brush masks

// Two canvases at preview size hold the painted weights in their alpha
// (tinted for display); they are sent as greyscale PNG (white = full weight).
const brushCanvas = { region: $('brush-region'), scar: $('brush-scar') };
const brushTint = { region: '70,140,255', scar: '255,90,220' };
const brushCache = { region: null, scar: null };   // data URL, null when changed

function resetBrushes() {
  for (const key of ['region', 'scar']) {
    const c = brushCanvas[key];
    c.width = photo ? photo.preview.width : 1;
    c.height = photo ? photo.preview.height : 1;
    brushCache[key] = null;
  }
  state.regionPainted = false;
  state.scarPainted = false;
  updateBrushVisibility();
}
function updateBrushVisibility() {
  brushCanvas.region.hidden = state.mode !== 'brush' || state.showRegion;
  brushCanvas.scar.hidden = !state.scarPainted || state.showRegion;
}
// Which mask a stroke paints now, or null when the brush is not the tool.
function brushTarget() {
  if (state.scarTool === 'brush') return 'scar';
  if (state.scarTool === 'off' && state.mode === 'brush') return 'region';
  return null;
}
const brushActive = () => brushTarget() !== null;
// Brush radius in preview px.
const brushRadius = () => (state.brushSizeMm / 2) * ppmOrGuess() * factor();

// One soft round stamp at preview position (x, y).
function stamp(key, x, y) {
  const ctx = brushCanvas[key].getContext('2d');
  const r = Math.max(0.5, brushRadius());
  const hard = clamp(1 - state.brushSoft, 0, 0.999);
  const g = ctx.createRadialGradient(x, y, 0, x, y, r);
  const tint = brushTint[key];
  // soft stamps build up over a stroke: less per stamp the softer the edge
  const a = state.brushSoft > 0 ? 0.35 + 0.65 * hard : 1;
  g.addColorStop(0, `rgba(${tint},${a})`);
  g.addColorStop(hard, `rgba(${tint},${a})`);
  g.addColorStop(1, `rgba(${tint},0)`);
  ctx.globalCompositeOperation = state.brushOp === 'erase' ? 'destination-out' : 'source-over';
  ctx.fillStyle = g;
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.fill();
  brushCache[key] = null;
  if (key === 'scar') { state.scarPainted = true; updateBrushVisibility(); } else state.regionPainted = true;
}
// Stamps along a segment, every quarter radius.
function strokeSegment(key, a, b) {
  const step = Math.max(1, brushRadius() * 0.25);
  const n = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / step));
  for (let i = 1; i <= n; i++) stamp(key, a[0] + ((b[0] - a[0]) * i) / n, a[1] + ((b[1] - a[1]) * i) / n);
}
function clearBrush(key) {
  const c = brushCanvas[key];
  c.getContext('2d').clearRect(0, 0, c.width, c.height);
  brushCache[key] = null;
  if (key === 'scar') state.scarPainted = false; else state.regionPainted = false;
  updateBrushVisibility();
}
// The mask as a greyscale PNG data URL (cached until the next stroke).
function maskDataUrl(key) {
  if (brushCache[key]) return brushCache[key];
  const src = brushCanvas[key];
  const c = document.createElement('canvas');
  c.width = src.width; c.height = src.height;
  const ctx = c.getContext('2d');
  ctx.drawImage(src, 0, 0);
  ctx.globalCompositeOperation = 'source-in';        // white, keeping the alpha
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, c.width, c.height);
  ctx.globalCompositeOperation = 'destination-over';  // over black
  ctx.fillStyle = '#000'; ctx.fillRect(0, 0, c.width, c.height);
  return (brushCache[key] = c.toDataURL('image/png'));
}

// ---------------------------------------------------------------- 7. plan and render loop

// The plan object (plan-file keys) for the current design.
function buildPlan() {
  const p = {
    sessions: state.sessions,
    density_per_cm2: state.density,
    dot_diameter_mm: state.dotSize,
    pigment: state.pigment,
    stage: state.stage === 'years' ? `years:${state.years}` : state.stage,
    seed: state.seed,
  };
  // "Matched" sends no shade: the server matches the client's hair (or
  // says which default it took and why).
  if (state.shade !== 'matched') {
    p.shade = state.shade === 'custom' ? state.customShade : state.shade;
    p.dilution = state.dilution;
  }
  const sc = state.scale;
  if (sc.source === 'measured' && sc.points.length === 2 && sc.mm > 0) {
    p.scale_points = sc.points.map((q) => q.map((v) => round(v, 1)));
    p.scale_mm = sc.mm;
  } else if (sc.pxPerMm > 0) {
    p.px_per_mm = sc.pxPerMm;
  }
  const look = () => {
    p.hairline_style = state.style;
    p.hairline_transition_mm = state.transition;
    p.hairline_irregularity_mm = state.irregularity;
    p.hairline_asymmetry_mm = state.asymmetry;
  };
  if (state.mode === 'hairline') {
    p.hairline = state.hairline.map((q) => q.map((v) => round(v, 1)));
    look();
  } else if (state.mode === 'preset') {
    p.preset = state.preset;
    if (state.glabellaMoved && state.glabella) p.glabella = state.glabella.map((v) => round(v, 1));
    p.frontal_mm = state.frontalMm;
    if (state.preset === 'alopecia-patch') {
      if (state.patch) p.patch = state.patch.map((v) => round(v, 1));
      p.patch_mm = state.patchMm;
    }
    look();
  } else if (state.mode === 'polygon') {
    p.polygon = state.polygon.map((q) => q.map((v) => round(v, 1)));
  }
  if (state.scarPolygon.length >= 3) p.scar_polygon = state.scarPolygon.map((q) => q.map((v) => round(v, 1)));
  if (state.scarPolygon.length >= 3 || state.scarPainted) p.scar_retention = state.scarRetention;
  return p;
}
// The brush object, or undefined when nothing painted is in use.
function buildBrush() {
  const region = state.mode === 'brush' ? maskDataUrl('region') : null;
  const scar = state.scarPainted ? maskDataUrl('scar') : null;
  return region || scar ? { region, scar } : undefined;
}
// Why no render can be sent now (or null).
function cannotRender() {
  if (!photo) return 'no photo';
  if (state.mode === 'polygon' && state.polygon.length < 3) return 'Polygon: click at least 3 points on the picture to outline the region.';
  return null;
}

// The render loop. At most one request in flight; while it runs, `pending`
// remembers that a newer state is wanted, and the state is read when that
// request is sent (so the latest wins and no stale frames queue up).
let seq = 0;            // last seq sent
let shownSeq = 0;       // seq of the image on screen
let inFlight = false;
let pending = false;
let opening = 0;        // opens/uploads under way
let lastBrushSend = 0;
const urls = { render: null, overlay: null };   // object URLs of the latest answers

function updateBusy() {
  document.body.dataset.busy = inFlight || pending || opening > 0 ? '1' : '0';
}
function requestRender() {
  // When this change was made: the end-to-end latency runs from here to
  // the new picture decoded on screen (studio.latencies, for measuring).
  if (!pending) wantedAt = performance.now();
  pending = true;
  pump();
}
let wantedAt = 0;
async function pump() {
  if (inFlight || !pending) { updateBusy(); return; }
  const why = cannotRender();
  if (why) {
    pending = false;
    if (photo) setStatus(why);
    updateBusy();
    return;
  }
  pending = false;
  inFlight = true;
  updateBusy();
  const mySeq = ++seq;
  const since = wantedAt;
  const kind = state.showRegion ? 'overlay' : 'render';
  const forPhoto = photo;
  const body = { seq: mySeq, plan: buildPlan(), view: { session: Math.min(state.showSession, state.sessions) } };
  const brush = buildBrush();
  if (brush) body.brush = brush;
  try {
    const res = await api(`/api/photo/${encodeURIComponent(forPhoto.id)}/${kind}`, { json: body });
    const blob = await res.blob();
    const header = res.headers.get('X-Render');
    // an answer for another photo, or older than the one shown: drop it
    if (forPhoto === photo && mySeq > shownSeq) {
      showAnswer(kind, mySeq, blob, header);
      // Measured to the new picture decoded and ready to paint.
      (kind === 'render' ? afterPatch : afterImg).decode().then(() => {
        studio.latencies.push({ seq: mySeq, kind, ms: performance.now() - since });
      }, () => {});
    }
  } catch (e) {
    if (e.status !== 409 && forPhoto === photo) setStatus(e.message, true);   // 409: superseded, silent
  } finally {
    inFlight = false;
    pump();
  }
}
function showAnswer(kind, mySeq, blob, header) {
  shownSeq = mySeq;
  if (urls[kind]) URL.revokeObjectURL(urls[kind]);
  urls[kind] = URL.createObjectURL(blob);
  let r = null;
  if (kind === 'render') {
    try { r = header ? JSON.parse(header) : null; } catch (_) { r = null; }
    const [x, y, w, h] = (r && r.crop) || [0, 0, photo.preview.width, photo.preview.height];
    Object.assign(afterPatch.dataset, { x, y });
    Object.assign(afterPatch.style, { left: x + 'px', top: y + 'px', width: w + 'px', height: h + 'px' });
    afterPatch.src = urls.render;
    updateDivider();
  }
  if ((kind === 'overlay') === state.showRegion) showAfter();
  if (kind === 'render') {
    studio.lastInfo = r;
    studio.rendered++;
    if (r) reportRender(r);
  } else {
    setStatus('Region: blue = treated (by weight), red = taken out by clipping or hair, magenta = scars.');
  }
}
// Status line for a render: notes, dots per session, auto shade, timings.
function reportRender(r) {
  const notes = r.notes || [];
  setStatus(notes.length ? notes.join(' · ') : 'Rendered.');
  const parts = [];
  const dots = r.dots_per_session || [];
  if (dots.length) {
    const total = dots.reduce((a, b) => a + b, 0);
    parts.push(`Session ${r.session} of ${dots.length} · dots per session ${dots.map(fmtInt).join(' / ')} (total ${fmtInt(total)})`);
  }
  if (r.shade) {
    const de = typeof r.shade.delta_e === 'number' ? `, ΔE ${round(r.shade.delta_e, 1)} to the hair` : '';
    parts.push(`shade ${r.shade.name}, dilution ${round(r.shade.dilution, 2)}${de}`);
  }
  const t = r.timings_ms || {};
  if (t.total !== undefined) {
    const steps = ['region', 'dots', 'composite', 'encode'].filter((k) => t[k] !== undefined).map((k) => `${k} ${Math.round(t[k])}`);
    parts.push(`${Math.round(t.total)} ms` + (steps.length ? ` (${steps.join(', ')})` : '') + (r.redone ? `, redone from ${r.redone}` : ''));
  }
  setInfo(parts.join('  ·  '));
}

// ---------------------------------------------------------------- 8. photos

let openSeq = 0;   // only the latest open/upload is shown

// Open a photo: `start` is a promise of an ApiError or the fetch Response.
async function openWith(start, what) {
  const mine = ++openSeq;
  opening++;
  updateBusy();
  setStatus(`Opening ${what}…`);
  try {
    const ans = await (await start).json();
    const before = await (await api(`/api/photo/${encodeURIComponent(ans.id)}/before`)).blob();
    if (mine !== openSeq) return;
    await showPhoto(ans, before);
    const t = ans.timings_ms || {};
    setStatus(`Opened ${ans.name} (${ans.width} × ${ans.height})` + (t.decode !== undefined ? ` · decode ${Math.round(t.decode)} ms, analysis ${Math.round(t.analyse || 0)} ms` : ''));
    requestRender();
  } catch (e) {
    if (mine === openSeq) setStatus(e.message, true);
  } finally {
    opening--;
    updateBusy();
  }
}
function openNamed(name) {
  openWith(api('/api/open', { json: { name } }), name);
}
function uploadFile(file) {
  if (!file) return;
  if (file.type && !file.type.startsWith('image/')) { setStatus(`${file.name}: not an image (${file.type})`, true); return; }
  if (info && file.size > info.max_upload_bytes) {
    setStatus(`${file.name}: ${(file.size / 1048576).toFixed(1)} MB is more than the ${(info.max_upload_bytes / 1048576).toFixed(0)} MB allowed`, true);
    return;
  }
  // header values must be ASCII: other names are sent percent-encoded
  const name = /^[\x20-\x7e]*$/.test(file.name) ? file.name : encodeURIComponent(file.name);
  openWith(api('/api/upload', { body: file, headers: { 'Content-Type': 'application/octet-stream', 'X-File-Name': name } }), file.name);
  $('photo-select').value = '';   // an upload is not one of the folder's photos
}

// Put an opened photo on screen and start its design from its suggestions.
async function showPhoto(ans, beforeBlob) {
  photo = ans;
  studio.photo = ans;
  shownSeq = seq;   // answers for the previous photo are stale
  for (const k of ['render', 'overlay']) { if (urls[k]) URL.revokeObjectURL(urls[k]); urls[k] = null; }
  if (beforeImg.src.startsWith('blob:')) URL.revokeObjectURL(beforeImg.src);
  beforeImg.src = URL.createObjectURL(beforeBlob);
  afterImg.src = beforeImg.src;   // the photo; renders are laid over it
  afterPatch.hidden = true;
  try { await beforeImg.decode(); } catch (_) { /* shown anyway */ }
  document.body.classList.remove('no-photo');
  $('photo-name').textContent = `${ans.name} · ${ans.width} × ${ans.height}`;
  const W = ans.width, H = ans.height;
  // design: from the photo's suggestions
  state.hairline = (ans.hairline && ans.hairline.length >= 3 ? ans.hairline : DEFAULT_HAIRLINE(W, H)).map((p) => [p[0], p[1]]);
  state.glabella = ans.glabella ? [ans.glabella[0], ans.glabella[1]] : [W * 0.5, H * 0.42];
  state.glabellaMoved = false;
  state.patch = [W * 0.5, H * 0.22];
  state.polygon = [];
  state.scarPolygon = [];
  state.selected = null;
  // scale: the estimate
  const est = ans.scale && ans.scale.px_per_mm > 0 ? ans.scale.px_per_mm : null;
  Object.assign(state.scale, { estimate: est, pxPerMm: est, source: est ? 'estimate' : 'none', points: [] });
  state.measuring = false;
  $('scale-note').textContent = ans.scale ? ans.scale.note : 'No scale estimate (no head outline found): measure a ruler or type the pixels per mm.';
  updateScaleUi();
  updateGlabellaUi();
  resetBrushes();
  zoomFit();
  rebuildHandles();
}

async function loadInfo() {
  opening++;        // busy until the info (and the initial photo's open) are in
  updateBusy();
  try {
    info = await (await api('/api/info')).json();
  } catch (e) {
    setStatus(e.status === 403 || e.status === 401 ? `${e.message} (open the address the studio printed, with its ?t=… token)` : e.message, true);
    return;
  } finally {
    opening--;
  }
  fillSelects();
  applyDefaults(info.defaults || {});
  if (info.initial) openNamed(info.initial);   // counts as opening at once
  updateBusy();
  if (!info.initial) setStatus(info.photos && info.photos.length ? 'Choose a photo of the folder, open a file or drop one on the picture.' : 'Open a photo file or drop one on the picture.');
}

function option(sel, value, text) {
  const o = document.createElement('option');
  o.value = value; o.textContent = text;
  sel.appendChild(o);
  return o;
}
// Fill the selects that come from /api/info.
function fillSelects() {
  const ps = $('photo-select');
  ps.textContent = '';
  const photos = info.photos || [];
  const ph = option(ps, '', photos.length ? (info.folder ? `Choose a photo (${info.folder})…` : 'Choose a photo…') : 'No folder photos');
  ph.disabled = true;
  for (const n of photos) option(ps, n, n);
  ps.value = info.initial && photos.includes(info.initial) ? info.initial : '';
  ps.disabled = !photos.length;
  const st = $('style'); st.textContent = '';
  for (const s of info.hairline_styles || Object.keys(STYLES)) option(st, s, s);
  st.value = state.style;
  const pr = $('preset'); pr.textContent = '';
  for (const s of info.presets || []) option(pr, s, s);
  if (!(info.presets || []).includes(state.preset) && info.presets && info.presets.length) state.preset = info.presets[0];
  pr.value = state.preset;
  const sh = $('shade'); sh.textContent = '';
  option(sh, 'matched', 'matched to the client (default)');
  for (const s of info.shades || []) option(sh, s.name, s.name);
  option(sh, 'auto', 'auto (match the hair)');
  option(sh, 'custom', 'custom colour');
  const chips = $('shade-chips');
  chips.textContent = '';
  for (const s of info.shades || []) {
    const b = document.createElement('button');
    b.type = 'button'; b.className = 'chip'; b.tabIndex = -1;
    b.style.background = s.hex; b.title = `${s.name}: ${s.about || ''}`;
    b.setAttribute('aria-hidden', 'true');
    b.addEventListener('click', () => { $('shade').value = s.name; state.shade = s.name; updateShadeUi(); requestRender(); });
    chips.appendChild(b);
  }
  const st2 = $('stage');
  st2.textContent = '';
  for (const s of info.stages || ['fresh', 'crusting', 'healed']) option(st2, s, s);
  option(st2, 'years', 'years later');
  const yr = $('years');
  yr.max = String(info.max_years ?? 15);
  const lay = $('sheet-layout'); lay.textContent = '';
  for (const s of info.sheet_layouts || []) option(lay, s, s);
  const sz = $('sheet-size'); sz.textContent = '';
  for (const s of info.sheet_sizes || []) { const o = option(sz, s.name, s.name); o.title = s.about || ''; }
  updateSheetAbout();
}
// Treatment defaults from info.defaults (plan-file keys).
function applyDefaults(d) {
  const num = (v, lo, hi, dflt) => (typeof v === 'number' && isFinite(v) ? clamp(v, lo, hi) : dflt);
  state.sessions = num(d.sessions, 1, 4, 3);
  state.showSession = state.sessions;
  state.density = num(d.density_per_cm2, 40, 200, 110);
  state.dotSize = num(d.dot_diameter_mm, 0.3, 1, 0.5);
  state.dilution = num(d.dilution, 0.1, 1, 1);
  if (typeof d.shade === 'string') {
    if (/^#[0-9a-f]{6}$/i.test(d.shade)) { state.shade = 'custom'; state.customShade = d.shade.toLowerCase(); }
    else if (d.shade === 'auto' || (info.shades || []).some((s) => s.name === d.shade)) state.shade = d.shade;
  }
  if (d.pigment === 'permanent' || d.pigment === 'semi-permanent') state.pigment = d.pigment;
  if (typeof d.stage === 'string') {
    const m = /^years:(\d+)$/.exec(d.stage);
    if (m) { state.stage = 'years'; state.years = +m[1]; } else state.stage = d.stage;
  }
  if (Number.isInteger(d.seed)) state.seed = d.seed;
  syncControls();
}

// ---------------------------------------------------------------- 9. pointer input

// One gesture at a time: drag = {type, ...}; two pointers pinch-zoom and pan.
const pointers = new Map();   // pointerId -> [x, y] (picture px)
let drag = null;
let spaceHeld = false;
let panTool = false;

function startPan(pos) { drag = { type: 'pan', last: pos }; picture.classList.add('panning-active'); }

// Nearest hairline curve point within tol screen px -> true.
function nearHairline(q, tol = 12) {
  const c = hairlineCurve().map(toScreen);
  for (let i = 1; i < c.length; i++) if (segDist(q, c[i - 1], c[i]) < tol) return true;
  return false;
}

// Add a point to a list at photo position p (at index idx) and start dragging it.
function addPointAndDrag(kind, arr, idx, p) {
  arr.splice(idx, 0, clampToPhoto(p));
  select(kind, idx);
  rebuildHandles();
  drag = { type: 'handle', kind, i: idx, off: [0, 0] };
  drawLines();
  requestRender();
}

picture.addEventListener('pointerdown', (e) => {
  if (!photo || e.button === 2) return;
  if (e.target.closest && e.target.closest('#zoombar')) return;   // its own buttons
  const pos = localPos(e);
  pointers.set(e.pointerId, pos);
  picture.setPointerCapture(e.pointerId);
  if (pointers.size === 2) {          // second finger: pinch (ends any other gesture)
    endStroke();
    const [a, b] = [...pointers.values()];
    drag = { type: 'pinch', d0: Math.hypot(b[0] - a[0], b[1] - a[1]) || 1, m0: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2],
      s0: state.view.s, t0: [state.view.tx, state.view.ty] };
    return;
  }
  if (pointers.size > 2) return;
  e.preventDefault();
  const target = e.target;
  const handle = target.closest && target.closest('.handle');
  if (e.button === 1 || spaceHeld || panTool) { startPan(pos); return; }
  if (handle) {
    const kind = handle.dataset.kind, i = +handle.dataset.i;
    handle.focus({ preventScroll: true });
    select(kind, i);
    const hp = toScreen(handlePoint(kind, i));
    drag = { type: 'handle', kind, i, off: [pos[0] - hp[0], pos[1] - hp[1]] };
    return;
  }
  const divX = (state.divider / 100) * areaSize().w;
  if (target.id === 'divider' || (Math.abs(pos[0] - divX) < 8 && !brushActive() && !(state.mode === 'hairline' && nearHairline(pos)))) {
    $('divider').focus({ preventScroll: true });
    drag = { type: 'divider' };
    return;
  }
  picture.focus({ preventScroll: true, focusVisible: false });
  const p = toPhoto(pos[0], pos[1]);
  if (state.measuring) {              // ruler: first click, second click
    const pts = state.scale.points;
    if (pts.length >= 2) pts.length = 0;
    pts.push(clampToPhoto(p));
    if (pts.length === 2) { state.measuring = false; state.scale.source = 'measured'; scaleChanged(); }
    updateScaleUi();
    rebuildHandles();
    drawLines();
    drag = { type: 'handle', kind: 'ruler', i: pts.length - 1, off: [0, 0] };
    return;
  }
  const bt = brushTarget();
  if (bt) {
    const q = [p[0] * factor(), p[1] * factor()];
    stamp(bt, q[0], q[1]);
    drag = { type: 'brush', key: bt, last: q };
    maybeSendStroke();
    return;
  }
  if (state.scarTool === 'polygon') {
    addPointAndDrag('scar', state.scarPolygon, polygonInsertIndex(state.scarPolygon, pos), p);
    return;
  }
  if (state.mode === 'polygon') {
    addPointAndDrag('polygon', state.polygon, polygonInsertIndex(state.polygon, pos), p);
    return;
  }
  if (state.mode === 'hairline' && nearHairline(pos)) {
    const h = state.hairline;
    if (p[0] > h[0][0] + 2 && p[0] < h[2][0] - 2) {
      h.push([0, 0]);
      constrainHairline(h.length - 1, p);
      select('hairline', h.length - 1);
      rebuildHandles();
      drag = { type: 'handle', kind: 'hairline', i: h.length - 1, off: [0, 0] };
      drawLines();
      requestRender();
      return;
    }
  }
  select(null);
  startPan(pos);                      // a drag on the empty picture pans
});

picture.addEventListener('pointermove', (e) => {
  const pos = localPos(e);
  if (pointers.has(e.pointerId)) pointers.set(e.pointerId, pos);
  if (!drag) {                        // hover: brush outline
    if (brushActive() && photo) { brushCursor = pos; drawLines(); }
    return;
  }
  switch (drag.type) {
    case 'pinch': {
      if (pointers.size < 2) return;
      const [a, b] = [...pointers.values()];
      const d = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
      const m = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
      const v = state.view;
      const s = clamp(drag.s0 * (d / drag.d0), minZoom(), MAX_ZOOM);
      // keep the photo point that was under the first midpoint under the fingers
      v.tx = m[0] - (drag.m0[0] - drag.t0[0]) * (s / drag.s0);
      v.ty = m[1] - (drag.m0[1] - drag.t0[1]) * (s / drag.s0);
      v.s = s; v.fitted = false;
      updateView();
      break;
    }
    case 'pan':
      panBy(pos[0] - drag.last[0], pos[1] - drag.last[1]);
      drag.last = pos;
      break;
    case 'divider':
      setDivider((pos[0] / areaSize().w) * 100);
      break;
    case 'handle':
      moveHandle(drag.kind, drag.i, toPhoto(pos[0] - drag.off[0], pos[1] - drag.off[1]));
      break;
    case 'brush': {
      const p = toPhoto(pos[0], pos[1]);
      const q = [p[0] * factor(), p[1] * factor()];
      strokeSegment(drag.key, drag.last, q);
      drag.last = q;
      brushCursor = pos;
      drawLines();
      maybeSendStroke();
      break;
    }
  }
});

// During a stroke, send the mask at most every ~150 ms.
function maybeSendStroke() {
  const now = performance.now();
  if (now - lastBrushSend >= 150) { lastBrushSend = now; requestRender(); }
}
function endStroke() {
  if (drag && drag.type === 'brush') { lastBrushSend = performance.now(); requestRender(); }
  drag = null;
}
function pointerEnd(e) {
  pointers.delete(e.pointerId);
  if (picture.hasPointerCapture(e.pointerId)) picture.releasePointerCapture(e.pointerId);
  if (drag && drag.type === 'pinch') { if (pointers.size < 2) drag = null; return; }
  endStroke();
  picture.classList.remove('panning-active');
}
picture.addEventListener('pointerup', pointerEnd);
picture.addEventListener('pointercancel', pointerEnd);
picture.addEventListener('pointerleave', () => { if (brushCursor && !drag) { brushCursor = null; drawLines(); } });
picture.addEventListener('auxclick', (e) => { if (e.button === 1) e.preventDefault(); });
picture.addEventListener('contextmenu', (e) => { if (drag) e.preventDefault(); });

// Wheel (and trackpad pinch, which comes as ctrl+wheel) zooms around the pointer.
picture.addEventListener('wheel', (e) => {
  if (!photo) return;
  e.preventDefault();
  const pos = localPos(e);
  const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
  zoomTo(state.view.s * Math.exp(-dy * (e.ctrlKey ? 0.01 : 0.0015)), pos[0], pos[1]);
}, { passive: false });

// Drag and drop of a photo file onto the picture.
let dragDepth = 0;
picture.addEventListener('dragenter', (e) => { e.preventDefault(); dragDepth++; $('drop-hint').hidden = false; });
picture.addEventListener('dragover', (e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; });
picture.addEventListener('dragleave', () => { if (--dragDepth <= 0) { dragDepth = 0; $('drop-hint').hidden = true; } });
picture.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  $('drop-hint').hidden = true;
  const f = e.dataTransfer.files && e.dataTransfer.files[0];
  if (f) uploadFile(f);
});
// a file dropped elsewhere must not replace the page
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => e.preventDefault());

new ResizeObserver(() => { if (state.view.fitted) zoomFit(); else updateView(); }).observe(picture);

// ---------------------------------------------------------------- 10. keyboard

// Elements that use Space themselves.
const isTyping = (el) => el && (['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON', 'SUMMARY', 'A', 'LABEL'].includes(el.tagName) || el.isContentEditable);

document.addEventListener('keydown', (e) => {
  // Space held: drag pans (unless a control uses Space itself)
  if (e.code === 'Space' && !isTyping(e.target)) {
    e.preventDefault();
    if (!spaceHeld) { spaceHeld = true; document.body.classList.add('space'); }
  }
});
document.addEventListener('keyup', (e) => {
  if (e.code === 'Space') { spaceHeld = false; document.body.classList.remove('space'); }
});
window.addEventListener('blur', () => { spaceHeld = false; document.body.classList.remove('space'); });

// Control points: arrows move by 1 photo px (Shift: 10); Delete removes.
handlesEl.addEventListener('keydown', (e) => {
  const el = e.target.closest('.handle');
  if (!el) return;
  const kind = el.dataset.kind, i = +el.dataset.i;
  const step = e.shiftKey ? 10 : 1;
  const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
  if (d) {
    e.preventDefault();
    select(kind, i);
    const p = handlePoint(kind, i);
    moveHandle(kind, i, [p[0] + d[0], p[1] + d[1]]);
  } else if (e.key === 'Delete' || e.key === 'Backspace') {
    e.preventDefault();
    select(kind, i);
    removeSelected();
  } else if (e.key === 'Escape') {
    select(null);
    picture.focus({ preventScroll: true });
  }
});
handlesEl.addEventListener('focusin', (e) => {
  const el = e.target.closest('.handle');
  if (el) select(el.dataset.kind, +el.dataset.i);
});

// The divider: a slider, 0-100.
$('divider').addEventListener('keydown', (e) => {
  const big = e.shiftKey ? 10 : 1;
  const v = state.divider;
  const next = { ArrowLeft: v - big, ArrowDown: v - big, ArrowRight: v + big, ArrowUp: v + big,
    PageDown: v - 10, PageUp: v + 10, Home: 0, End: 100 }[e.key];
  if (next === undefined) return;
  e.preventDefault();
  e.stopPropagation();
  setDivider(Math.round(next));
});

// The picture itself: zoom keys, arrow pan, Delete removes the selected point.
picture.addEventListener('keydown', (e) => {
  if (e.target !== picture) return;
  const pan = { ArrowLeft: [40, 0], ArrowRight: [-40, 0], ArrowUp: [0, 40], ArrowDown: [0, -40] }[e.key];
  if (pan) { e.preventDefault(); panBy(pan[0], pan[1]); return; }
  if (e.key === '+' || e.key === '=') zoomStep(1);
  else if (e.key === '-') zoomStep(-1);
  else if (e.key === '0') zoomFit();
  else if (e.key === 'z' || e.key === 'Z') zoomToDesign();
  else if (e.key === '1') zoomTo(1);
  else if (e.key === 'Delete' || e.key === 'Backspace') { if (removeSelected()) e.preventDefault(); }
  else if (e.key === 'Escape') select(null);
});

// ---------------------------------------------------------------- 11. panel controls

const MODE_HELP = {
  hairline: 'Drag L, M, R (temples and mid-frontal point). Click the line to add a point; select one and press Delete to remove it.',
  preset: 'The diamond is the brow midpoint the server found; drag it if it is wrong.',
  polygon: 'Click around the area to treat; drag points to move them; Delete removes the selected one.',
  brush: 'Paint the area to treat; Erase takes it away. A soft edge gives partial density.',
};

// Show each control group only where it applies.
function updateModeUi() {
  document.body.dataset.mode = state.mode;
  const on = new Set([state.mode]);
  if (state.scarTool === 'brush') on.add('scarbrush');
  for (const g of document.querySelectorAll('[data-for]')) {
    g.hidden = !g.dataset.for.split(' ').some((m) => on.has(m));
  }
  for (const g of document.querySelectorAll('[data-for-preset]')) g.hidden = g.dataset.forPreset !== state.preset;
  $('mode-help').textContent = MODE_HELP[state.mode];
  picture.classList.toggle('tool-add', state.mode === 'polygon' || state.scarTool === 'polygon' || brushActive() || state.measuring);
  updateBrushVisibility();
}

function updateScaleUi() {
  const s = state.scale;
  const v = ppm();
  const inp = $('px-per-mm');
  if (document.activeElement !== inp) inp.value = v ? String(round(v, 2)) : '';
  $('measure').setAttribute('aria-pressed', String(state.measuring));
  $('measure').textContent = state.measuring ? (s.points.length ? 'Click the 2nd end' : 'Click the 1st end') : 'Measure';
  $('scale-source').textContent = state.measuring ? 'Click both ends of a ruler in the photo.'
    : { estimate: 'Using the estimate.', typed: 'Using the typed scale.', measured: 'Using the measured ruler.', none: 'No scale.' }[s.source];
  $('scale-reset').disabled = !s.estimate || s.source === 'estimate';
  updateModeUi();
}
// The scale changed (measure, typing): redraw guides and render.
function scaleChanged() {
  updateScaleUi();
  drawLines();
  requestRender();
}

function updateGlabellaUi() {
  $('glabella-state').textContent = state.glabellaMoved ? 'Brow midpoint set by hand.' : 'Brow midpoint: found by the server.';
  $('reset-glabella').disabled = !state.glabellaMoved;
}

function updateShadeUi() {
  const sw = $('shade-swatch');
  const named = info && (info.shades || []).find((s) => s.name === state.shade);
  const matched = state.shade === 'auto' || state.shade === 'matched';
  sw.classList.toggle('auto', matched);
  sw.style.background = matched ? '' : state.shade === 'custom' ? state.customShade : named ? named.hex : '';
  $('shade-about').textContent = matched ? 'The shade and dilution are chosen to match the client\'s hair (lighter on light skin); without hair to match, a stated default.'
    : state.shade === 'custom' ? `Custom colour ${state.customShade}.` : named ? named.about || '' : '';
  $('dilution').disabled = state.shade === 'matched';   // the match chooses it
}
function updateSessionsUi() {
  const ss = $('show-session');
  ss.max = String(state.sessions);
  state.showSession = clamp(state.showSession, 1, state.sessions);
  ss.value = String(state.showSession);
  ss.disabled = state.sessions === 1;
  $('show-session-out').textContent = `${state.showSession} of ${state.sessions}`;
}
function updateSheetAbout() {
  const sz = $('sheet-size');
  const s = info && (info.sheet_sizes || []).find((x) => x.name === sz.value);
  sz.title = s ? s.about || '' : '';
}

// Range sliders with their <output>: id -> [state key, format].
const RANGES = {
  transition: ['transition', (v) => v],
  irregularity: ['irregularity', (v) => v.toFixed(1)],
  asymmetry: ['asymmetry', (v) => v.toFixed(1)],
  'frontal-mm': ['frontalMm', (v) => v],
  'patch-mm': ['patchMm', (v) => v],
  density: ['density', (v) => v],
  'dot-size': ['dotSize', (v) => v.toFixed(2)],
  dilution: ['dilution', (v) => v.toFixed(2)],
  years: ['years', (v) => v],
  'brush-size': ['brushSizeMm', (v) => v],
  'brush-soft': ['brushSoft', (v) => v.toFixed(2)],
  'scar-retention': ['scarRetention', (v) => v.toFixed(2)],
};
function showRangeValue(id) {
  const [key, fmt] = RANGES[id];
  $(id + '-out').textContent = fmt(state[key]);
}
for (const [id, [key]] of Object.entries(RANGES)) {
  $(id).addEventListener('input', () => {
    state[key] = +$(id).value;
    showRangeValue(id);
    if (id === 'years' && state.stage !== 'years') { state.stage = 'years'; $('stage').value = 'years'; }
    if (id === 'brush-size' || id === 'brush-soft') return;        // no render for the tool's own settings
    if (id === 'scar-retention' && !(state.scarPolygon.length >= 3 || state.scarPainted)) return;
    drawLines();
    requestRender();
  });
}

// Put the state into every control (after defaults, on start).
function syncControls() {
  for (const [id, [key]] of Object.entries(RANGES)) { $(id).value = String(state[key]); showRangeValue(id); }
  $('mode').value = state.mode;
  $('style').value = state.style;
  $('preset').value = state.preset;
  $('sessions').value = String(state.sessions);
  $('shade').value = state.shade;
  $('custom-shade').value = state.customShade;
  $('pigment').value = state.pigment;
  $('stage').value = state.stage;
  $('seed').value = String(state.seed);
  $('scar-tool').value = state.scarTool;
  updateSessionsUi();
  updateShadeUi();
  updateModeUi();
  updateScaleUi();
  updateGlabellaUi();
  updateStageUi();
}
function updateStageUi() { $('years').closest('.field').classList.toggle('dim', state.stage !== 'years'); }

// Selects and other inputs.
$('photo-select').addEventListener('change', (e) => { if (e.target.value) openNamed(e.target.value); });
$('file-input').addEventListener('change', (e) => { uploadFile(e.target.files[0]); e.target.value = ''; });
$('mode').addEventListener('change', (e) => {
  state.mode = e.target.value;
  state.selected = null;
  updateModeUi();
  rebuildHandles();
  drawLines();
  requestRender();
});
$('style').addEventListener('change', (e) => {
  state.style = e.target.value;
  const st = STYLES[state.style];
  if (st) {           // the style's own transition and irregularity
    state.transition = st.t; state.irregularity = st.irr;
    for (const id of ['transition', 'irregularity']) { $(id).value = String(state[RANGES[id][0]]); showRangeValue(id); }
  }
  drawLines();
  requestRender();
});
$('preset').addEventListener('change', (e) => {
  state.preset = e.target.value;
  updateModeUi();
  rebuildHandles();
  drawLines();
  requestRender();
});
$('reset-glabella').addEventListener('click', () => {
  state.glabellaMoved = false;
  if (photo) state.glabella = photo.glabella ? [...photo.glabella] : [photo.width * 0.5, photo.height * 0.42];
  updateGlabellaUi();
  rebuildHandles();
  drawLines();
  requestRender();
});
$('add-point').addEventListener('click', () => {
  if (!photo || state.hairline.length < 3) return;
  // in the middle of the widest gap between points along the line
  const xs = state.hairline.map((p) => p[0]).sort((a, b) => a - b);
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] - xs[i - 1] > xs[best + 1] - xs[best]) best = i - 1;
  const x = (xs[best] + xs[best + 1]) / 2;
  const c = hairlineCurve();
  const y = c.reduce((a, p) => (Math.abs(p[0] - x) < Math.abs(a[0] - x) ? p : a), c[0])[1];
  state.hairline.push([0, 0]);
  const i = state.hairline.length - 1;
  constrainHairline(i, [x, y]);
  select('hairline', i);
  rebuildHandles();
  $('point-' + (i - 2)).focus({ preventScroll: true });
  drawLines();
  requestRender();
});
$('reset-hairline').addEventListener('click', () => {
  if (!photo) return;
  state.hairline = (photo.hairline && photo.hairline.length >= 3 ? photo.hairline : DEFAULT_HAIRLINE(photo.width, photo.height)).map((p) => [p[0], p[1]]);
  select(null);
  rebuildHandles();
  drawLines();
  requestRender();
});
$('remove-point').addEventListener('click', () => removeSelected());
$('clear-polygon').addEventListener('click', () => {
  state.polygon = [];
  select(null);
  rebuildHandles();
  drawLines();
  requestRender();
});
for (const id of ['brush-paint', 'brush-erase']) {
  $(id).addEventListener('change', (e) => { if (e.target.checked) state.brushOp = e.target.value; });
}
$('clear-brush').addEventListener('click', () => {
  clearBrush(brushTarget() || 'region');
  requestRender();
});
$('scar-tool').addEventListener('change', (e) => {
  state.scarTool = e.target.value;
  updateModeUi();
  rebuildHandles();
  drawLines();
});
$('clear-scar').addEventListener('click', () => {
  state.scarPolygon = [];
  clearBrush('scar');
  if (state.selected && state.selected.kind === 'scar') select(null);
  rebuildHandles();
  drawLines();
  requestRender();
});

// Scale: type, measure, back to the estimate.
$('px-per-mm').addEventListener('input', (e) => {
  const v = parseFloat(e.target.value);
  if (!(v > 0)) return;
  Object.assign(state.scale, { pxPerMm: v, source: 'typed' });
  scaleChanged();
  rebuildHandles();
});
$('px-per-mm').addEventListener('change', () => updateScaleUi());
$('scale-mm').addEventListener('input', (e) => {
  const v = parseFloat(e.target.value);
  if (!(v > 0)) return;
  state.scale.mm = v;
  if (state.scale.points.length === 2) { state.scale.source = 'measured'; scaleChanged(); }
});
$('measure').addEventListener('click', () => {
  if (!photo) return;
  state.measuring = !state.measuring;
  if (state.measuring) state.scale.points = [];
  else if (state.scale.source === 'measured' && state.scale.points.length < 2) state.scale.source = state.scale.estimate ? 'estimate' : 'none';
  updateScaleUi();
  rebuildHandles();
  drawLines();
  if (state.measuring) setStatus('Measure: click one end of a ruler (or a known length) in the photo, then the other; give the distance in mm.');
});
$('scale-reset').addEventListener('click', () => {
  Object.assign(state.scale, { pxPerMm: state.scale.estimate, source: state.scale.estimate ? 'estimate' : 'none', points: [] });
  state.measuring = false;
  $('px-per-mm').value = '';
  updateScaleUi();
  rebuildHandles();
  drawLines();
  requestRender();
});

// Treatment.
$('sessions').addEventListener('change', (e) => {
  const wasLast = state.showSession === state.sessions;
  state.sessions = +e.target.value;
  if (wasLast || state.showSession > state.sessions) state.showSession = state.sessions;   // follow the last
  updateSessionsUi();
  requestRender();
});
$('show-session').addEventListener('input', (e) => {
  state.showSession = +e.target.value;   // only view.session changes
  updateSessionsUi();
  requestRender();
});
$('shade').addEventListener('change', (e) => { state.shade = e.target.value; updateShadeUi(); requestRender(); });
$('custom-shade').addEventListener('input', (e) => {
  state.customShade = e.target.value;
  state.shade = 'custom';
  $('shade').value = 'custom';
  updateShadeUi();
  requestRender();
});
$('pigment').addEventListener('change', (e) => { state.pigment = e.target.value; requestRender(); });
$('stage').addEventListener('change', (e) => { state.stage = e.target.value; updateStageUi(); requestRender(); });
$('seed').addEventListener('input', (e) => {
  const v = parseInt(e.target.value, 10);
  if (Number.isInteger(v) && v >= 0) { state.seed = v; requestRender(); }
});
$('another').addEventListener('click', () => {
  state.seed = 1 + Math.floor(Math.random() * 2147483646);
  $('seed').value = String(state.seed);
  requestRender();
});

// View.
$('zoom-in').addEventListener('click', () => zoomStep(1));
$('zoom-out').addEventListener('click', () => zoomStep(-1));
$('zoom-100').addEventListener('click', () => zoomTo(1));
$('zoom-fit').addEventListener('click', () => zoomFit());
$('zoom-design').addEventListener('click', () => zoomToDesign());
$('pan-tool').addEventListener('click', (e) => {
  panTool = !panTool;
  e.currentTarget.setAttribute('aria-pressed', String(panTool));
  picture.classList.toggle('panning', panTool);
});
$('show-region').addEventListener('change', (e) => {
  state.showRegion = e.target.checked;
  document.querySelector('.tag-after').textContent = state.showRegion ? 'Region' : 'After';
  showAfter();
  updateBrushVisibility();
  requestRender();
});
$('panel-toggle').addEventListener('click', (e) => {
  const hidden = document.body.classList.toggle('panel-hidden');
  e.currentTarget.setAttribute('aria-expanded', String(!hidden));
});

// ---------------------------------------------------------------- 12. export

$('sheet-size').addEventListener('change', updateSheetAbout);
$('export').addEventListener('click', async () => {
  const out = $('export-result');
  if (!photo) { out.textContent = 'Open a photo first.'; return; }
  const what = ['images', 'sheet', 'page', 'csv', 'plan'].filter((w) => $('export-' + w).checked);
  if (!what.length) { out.textContent = 'Tick at least one thing to write.'; return; }
  const why = cannotRender();
  if (why) { out.textContent = why; return; }
  const body = {
    plan: buildPlan(), what,
    sheet: { layout: $('sheet-layout').value, size: $('sheet-size').value },
    format: $('export-format').value,
  };
  const brush = buildBrush();
  if (brush) body.brush = brush;
  const btn = $('export');
  btn.disabled = true;
  out.textContent = 'Exporting at full resolution…';
  try {
    const ans = await (await api(`/api/photo/${encodeURIComponent(photo.id)}/export`, { json: body })).json();
    out.textContent = '';
    const head = document.createElement('div');
    head.innerHTML = 'Written to <span class="folder"></span>' + (ans.timings_ms && ans.timings_ms.total ? ` in ${(ans.timings_ms.total / 1000).toFixed(1)} s` : '') + ':';
    head.querySelector('.folder').textContent = ans.folder;
    const ul = document.createElement('ul');
    for (const f of ans.files || []) { const li = document.createElement('li'); li.textContent = f; ul.appendChild(li); }
    out.append(head, ul);
    setStatus(`Exported ${(ans.files || []).length} files to ${ans.folder}.`);
  } catch (e) {
    out.textContent = e.message;
    setStatus(e.message, true);
  } finally {
    btn.disabled = false;
  }
});

// ---------------------------------------------------------------- 13. start

document.body.classList.add('no-photo');
if (matchMedia('(max-width: 900px)').matches) document.body.classList.add('panel-hidden');
syncControls();
setDivider(50);
updateBusy();
if (!TOKEN) setStatus('No token in the address: open the address the studio printed (…/?t=…).', true);
loadInfo();
})();
