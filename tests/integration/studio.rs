//! The studio's server against good and bad requests: the token, the Host
//! and Origin checks, paths, body and image size limits, broken requests,
//! many renders at once from two tabs, and Ctrl-C. After every bad request
//! the server must still answer a good one.
//!
//! All traffic goes to 127.0.0.1; every loop is bounded.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::studio_server::{exchange, parse_answer, send, Reply, StudioServer};
use crate::util::root;

/// Largest upload, bytes (`MAX_UPLOAD_BYTES` in `src/studio/mod.rs`).
const MAX_UPLOAD_BYTES: usize = 64 << 20;
/// Largest other body, bytes (`MAX_JSON_BYTES`).
const MAX_JSON_BYTES: usize = 16 << 20;
/// The decoder's limits (`src/photo.rs`).
const MAX_SIDE: u32 = 30_000;
const MAX_PIXELS: u64 = 200_000_000;

const PHOTO: &str = "frl-london_037_03.jpg";

fn photos() -> PathBuf {
    root().join("assets/photos")
}

/// The server still answers a good request (after `what`).
fn alive(s: &StudioServer, what: &str) {
    let r = s.call("GET", "/api/info", b"");
    assert_eq!(
        r.status,
        200,
        "after {what}, GET /api/info answers {}: {}",
        r.status,
        r.text()
    );
    assert!(r.json()["photos"].is_array(), "after {what}");
}

/// The message of a JSON error answer `{"error": ...}`.
fn error_of(r: &Reply) -> String {
    assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "an error answer is JSON: {} {}",
        r.status,
        r.text()
    );
    r.json()["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no \"error\" string: {}", r.text()))
        .to_string()
}

/// A small preview plan on a shipped photo (1350 x 1350, about 3.3 px/mm).
fn plan(shade: &str, seed: u64) -> Value {
    json!({
        "hairline": [[523, 320], [671, 278], [818, 320]],
        "px_per_mm": 3.3,
        "shade": shade,
        "sessions": 1,
        "seed": seed,
    })
}

fn render_body(seq: u64, plan: &Value) -> Vec<u8> {
    json!({ "seq": seq, "plan": plan }).to_string().into_bytes()
}

#[test]
fn info_lists_the_folders_photos_and_a_photo_opens() {
    let s = StudioServer::start(&photos());
    assert!(s.url.contains(&s.token));
    let r = s.call("GET", "/api/info", b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let photos = r.json()["photos"].as_array().unwrap().len();
    assert_eq!(photos, 5);
    let id = s.open(PHOTO);
    let r = s.call("GET", &format!("/api/photo/{id}/before"), b"");
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..2], &[0xff, 0xd8], "a JPEG");
}

// 1. The token.

#[test]
fn requests_without_the_right_token_are_refused() {
    let s = StudioServer::start(&photos());
    let host = s.host.as_str();
    assert_eq!(s.token.len(), 32, "128 bits as hex");

    // No token at all: the page, a call, a state change.
    for (method, path, body) in [
        ("GET", "/", &b""[..]),
        ("GET", "/api/info", b""),
        ("POST", "/api/open", br#"{"name":"frl-london_037_03.jpg"}"#),
    ] {
        let r = s.raw(
            method,
            path,
            &[("Host", host), ("Content-Type", "application/json")],
            body,
        );
        assert_eq!(r.status, 403, "{method} {path} without a token");
        assert!(error_of(&r).contains("no token"), "{}", r.text());
        alive(&s, "a request without a token");
    }

    // Wrong tokens: one character changed (same length), upper case,
    // all zeros (same length), shorter, longer, empty.
    let last = s.token.chars().last().unwrap();
    let flipped = format!("{}{}", &s.token[..31], if last == '0' { '1' } else { '0' });
    let wrong = [
        flipped,
        s.token.to_uppercase(),
        s.token[..31].to_string(),
        s.token[..16].to_string(),
        format!("{}0", s.token),
        format!("{}{}", s.token, s.token),
        String::new(),
        "0".repeat(32),
    ];
    for w in wrong.iter().filter(|w| **w != s.token) {
        let r = s.raw(
            "GET",
            "/api/info",
            &[("Host", host), ("X-Studio-Token", w)],
            b"",
        );
        assert_eq!(r.status, 403, "header token {w:?}");
        assert!(error_of(&r).contains("wrong token"), "{}", r.text());
        let r = s.raw("GET", &format!("/api/info?t={w}"), &[("Host", host)], b"");
        assert_eq!(r.status, 403, "query token {w:?}");
        alive(&s, "a wrong token");
    }
    // A token that is not text (bytes past ASCII) is no token.
    let r = s.raw(
        "GET",
        "/api/info",
        &[("Host", host), ("X-Studio-Token", &"é".repeat(16))],
        b"",
    );
    assert_eq!(r.status, 403, "{}", r.text());
    alive(&s, "a token past ASCII");
    // A wrong token changes nothing: the first photo opened is the first.
    let r = s.raw(
        "POST",
        "/api/open",
        &[
            ("Host", host),
            ("X-Studio-Token", &wrong[0]),
            ("Content-Type", "application/json"),
        ],
        br#"{"name":"frl-london_037_03.jpg"}"#,
    );
    assert_eq!(r.status, 403);

    // The token in the `t` query parameter works, as in the printed address.
    let t = &s.token;
    let r = s.raw("GET", &format!("/?t={t}"), &[("Host", host)], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text().to_ascii_lowercase().contains("<html"));
    let r = s.raw(
        "GET",
        &format!("/api/info?x=1&t={t}"),
        &[("Host", host)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.raw(
        "POST",
        &format!("/api/open?t={t}"),
        &[("Host", host), ("Content-Type", "application/json")],
        br#"{"name":"frl-london_037_03.jpg"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], "1", "no refused request opened a photo");
    let r = s.raw(
        "GET",
        &format!("/api/photo/1/before?t={t}"),
        &[("Host", host)],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..2], &[0xff, 0xd8]);
}

// 2. The Host header (DNS rebinding).

#[test]
fn a_foreign_host_is_refused_even_with_the_token() {
    let s = StudioServer::start(&photos());
    let port = s.port;
    let t = s.token.as_str();
    let foreign = [
        Some(format!("evil.example:{port}")),
        Some("evil.example".to_string()),
        Some("127.0.0.1.nip.io".to_string()),
        Some(format!("127.0.0.1.nip.io:{port}")),
        Some(format!("127.0.0.1:{}", port.wrapping_add(1))),
        Some("127.0.0.1".to_string()),
        Some(format!("127.0.0.1:{port}.evil.example")),
        Some(format!("evil.example@127.0.0.1:{port}")),
        Some(format!("0.0.0.0:{port}")),
        Some(format!("[::1]:{port}")),
        Some(String::new()),
        None,
    ];
    for host in &foreign {
        let mut headers = vec![("X-Studio-Token", t)];
        if let Some(h) = host {
            headers.push(("Host", h.as_str()));
        }
        for (method, path, body) in [
            ("GET", "/api/info".to_string(), &b""[..]),
            ("GET", format!("/api/info?t={t}"), b""),
            ("GET", "/".to_string(), b""),
            (
                "POST",
                "/api/open".to_string(),
                br#"{"name":"frl-london_037_03.jpg"}"#,
            ),
        ] {
            let mut headers = headers.clone();
            headers.push(("Content-Type", "application/json"));
            let r = s.raw(method, &path, &headers, body);
            assert_eq!(
                r.status,
                421,
                "{method} {path} with Host {host:?}: {}",
                r.text()
            );
            assert!(error_of(&r).contains("Host"), "{}", r.text());
            alive(&s, &format!("Host {host:?}"));
        }
    }
    // The address served, by IP and as `localhost` (any case), is accepted.
    for host in [
        s.host.clone(),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
    ] {
        let r = s.raw(
            "GET",
            "/api/info",
            &[("Host", host.as_str()), ("X-Studio-Token", t)],
            b"",
        );
        assert_eq!(r.status, 200, "Host {host}: {}", r.text());
    }
    // Nothing refused opened a photo.
    assert_eq!(s.open(PHOTO), "1");
}

// 3. The Origin header on state changes.

#[test]
fn a_foreign_origin_may_not_change_state() {
    let s = StudioServer::start(&photos());
    let port = s.port;
    let open = format!(r#"{{"name":"{PHOTO}"}}"#);
    let post = |path: &str, origin: &str, body: &[u8]| {
        s.raw(
            "POST",
            path,
            &[
                ("Host", s.host.as_str()),
                ("X-Studio-Token", s.token.as_str()),
                ("Content-Type", "application/json"),
                ("Origin", origin),
            ],
            body,
        )
    };
    let foreign = [
        "http://evil.example".to_string(),
        format!("http://evil.example:{port}"),
        "null".to_string(),
        format!("https://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{}", port.wrapping_add(1)),
        "http://127.0.0.1".to_string(),
        format!("http://127.0.0.1:{port}.evil.example"),
        format!("http://127.0.0.1.nip.io:{port}"),
        format!("http://127.0.0.1:{port}/"),
        String::new(),
    ];
    for origin in &foreign {
        let r = post("/api/open", origin, open.as_bytes());
        assert_eq!(r.status, 403, "open from Origin {origin:?}: {}", r.text());
        assert!(error_of(&r).contains("Origin"), "{}", r.text());
        alive(&s, &format!("Origin {origin:?}"));
    }
    // Same origin, by IP and as localhost: accepted; the refused ones
    // opened nothing (the ids count from 1).
    let r = post(
        "/api/open",
        &format!("http://127.0.0.1:{port}"),
        open.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], "1");
    let r = post(
        "/api/open",
        &format!("http://localhost:{port}"),
        open.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], "2");
    // A render from a foreign origin is refused, from the page's accepted.
    let body = render_body(1, &plan("jet-black", 1));
    let r = post("/api/photo/1/render", "http://evil.example", &body);
    assert_eq!(r.status, 403);
    let r = post(
        "/api/photo/1/render",
        &format!("http://127.0.0.1:{port}"),
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    // No Origin at all (curl, the tests' own client) with the token: accepted.
    let r = s.call(
        "POST",
        "/api/photo/1/render",
        &render_body(2, &plan("jet-black", 1)),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

// 4. Paths.

/// Opens `name` by `POST /api/open`.
fn open_name(s: &StudioServer, name: &str) -> Reply {
    s.call(
        "POST",
        "/api/open",
        json!({ "name": name }).to_string().as_bytes(),
    )
}

#[test]
fn no_request_reads_a_file_outside_the_folder() {
    // tmp/studio/a.jpg is served; tmp/secret.jpg, a readable photo next to
    // the folder, must never open (it would, were a path followed).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("studio");
    std::fs::create_dir(&dir).unwrap();
    let shipped = photos().join(PHOTO);
    std::fs::copy(&shipped, dir.join("a.jpg")).unwrap();
    let secret = tmp.path().join("secret.jpg");
    std::fs::copy(&shipped, &secret).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::copy(&shipped, dir.join("sub/b.jpg")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&secret, dir.join("link.jpg")).unwrap();

    let s = StudioServer::start(&dir);
    let r = s.call("GET", "/api/info", b"");
    assert_eq!(
        r.json()["photos"],
        json!(["a.jpg"]),
        "only the folder's own files are listed (no subfolders, no links out)"
    );
    let secret_abs = secret.display().to_string();
    let names = [
        "../secret.jpg",
        "studio/../../secret.jpg",
        "./../secret.jpg",
        "..\\secret.jpg",
        "..%2Fsecret.jpg",
        &secret_abs,
        "link.jpg",
        "sub/b.jpg",
        "sub",
        "./a.jpg",
        "a.jpg/",
        "a.jpg\u{0}",
        "/etc/passwd",
        "../../etc/passwd",
        "",
        ".",
        "..",
    ];
    for name in names {
        let r = open_name(&s, name);
        assert_eq!(r.status, 404, "open {name:?}: {}", r.text());
        let e = error_of(&r);
        assert!(e.contains("`name`"), "the message names the field: {e}");
        assert!(!r.text().contains("root:"), "{}", r.text());
        alive(&s, &format!("open {name:?}"));
    }
    // Nothing was opened: the first good open is id 1.
    let r = open_name(&s, "a.jpg");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], "1");

    // Plan keys that name files are refused (render, overlay and export),
    // naming the key, before anything is read or written.
    let good = plan("jet-black", 1);
    for (key, value) in [
        ("photo", secret_abs.as_str()),
        ("photo", "../secret.jpg"),
        ("region", secret_abs.as_str()),
        ("out", tmp.path().to_str().unwrap()),
        ("dots", "/tmp/smp-studio-test-dots.csv"),
        ("scar", "../secret.jpg"),
    ] {
        let mut p = good.clone();
        p[key] = json!(value);
        for (n, call) in ["render", "overlay", "export"].iter().enumerate() {
            let body = if *call == "export" {
                json!({ "plan": p })
            } else {
                json!({ "seq": 10 + n, "plan": p })
            };
            let body = body.to_string();
            let r = s.call("POST", &format!("/api/photo/1/{call}"), body.as_bytes());
            assert_eq!(r.status, 422, "{call} with {key}: {}", r.text());
            let e = error_of(&r);
            assert!(e.contains(&format!("`{key}`")), "{call}: {e}");
            alive(&s, &format!("{call} with {key}"));
        }
    }
    assert!(
        !dir.join("smp-studio").exists(),
        "a refused export wrote nothing"
    );
    assert!(!Path::new("/tmp/smp-studio-test-dots.csv").exists());
    let r = s.call("POST", "/api/photo/1/render", &render_body(20, &good));
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn paths_with_dot_dot_are_refused() {
    let s = StudioServer::start(&photos());
    for name in ["../Cargo.toml", "../../etc/passwd", "/etc/passwd"] {
        let r = open_name(&s, name);
        assert_eq!(r.status, 404, "open {name:?}: {}", r.text());
        let text = r.text();
        assert!(
            !text.contains("[package]") && !text.contains("root:"),
            "{text}"
        );
        alive(&s, &format!("open {name:?}"));
    }
    let abs = root().join("Cargo.toml").display().to_string();
    let r = open_name(&s, &abs);
    assert_eq!(r.status, 404, "{}", r.text());
    let id = s.open(PHOTO);
    for path in [
        "/api/photo/..%2F..%2Fetc%2Fpasswd/before".to_string(),
        "/api/photo/../../etc/passwd/before".to_string(),
        "/api/photo/%2e%2e/before".to_string(),
        "/api/photo/%2Fetc%2Fpasswd/before".to_string(),
        format!("/api/photo/{id}/../../../Cargo.toml"),
        format!("/api/photo/{id}%2F..%2F..%2FCargo.toml/before"),
        "/../../../../etc/passwd".to_string(),
        "/%2e%2e/%2e%2e/Cargo.toml".to_string(),
        "/assets/photos/frl-london_037_03.jpg".to_string(),
        "/Cargo.toml".to_string(),
    ] {
        let r = s.call("GET", &path, b"");
        assert!(
            (400..500).contains(&r.status),
            "GET {path}: {} {}",
            r.status,
            r.text()
        );
        let text = r.text();
        assert!(
            !text.contains("[package]") && !text.contains("root:"),
            "{text}"
        );
        assert!(r.body.len() < 1000, "GET {path}: an error, not a file");
        alive(&s, &format!("GET {path}"));
    }
}

// 5. Body size limits.

/// A request's bytes: the head with `headers` (and Content-Length unless
/// `chunked`), then the body (in 1 MiB chunks if `chunked`).
fn request_bytes(
    s: &StudioServer,
    path: &str,
    content_type: &str,
    body: &[u8],
    chunked: bool,
) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nX-Studio-Token: {}\r\nContent-Type: {content_type}\r\n\
         Connection: close\r\n",
        s.host, s.token
    )
    .into_bytes();
    if chunked {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        for c in body.chunks(1 << 20) {
            write!(out, "{:x}\r\n", c.len()).unwrap();
            out.extend_from_slice(c);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        write!(out, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        out.extend_from_slice(body);
    }
    out
}

/// Sends `bytes` and parses the answer; fails if there is none within a
/// minute.
fn answer(s: &StudioServer, bytes: Vec<u8>, what: &str) -> Reply {
    let raw = exchange(s.port, bytes, Duration::from_secs(60));
    parse_answer(&raw).unwrap_or_else(|| panic!("{what}: no answer ({} bytes)", raw.len()))
}

#[test]
fn an_upload_over_the_limit_is_refused() {
    let s = StudioServer::start(&photos());
    let octets = "application/octet-stream";
    // One byte over the limit, and a whole MiB over: 413, whether the
    // length is declared or the body comes in chunks.
    let mut zeros = vec![0u8; MAX_UPLOAD_BYTES + (1 << 20)];
    for (len, chunked) in [
        (MAX_UPLOAD_BYTES + (1 << 20), false),
        (MAX_UPLOAD_BYTES + 1, false),
        (MAX_UPLOAD_BYTES + (1 << 20), true),
    ] {
        let what = format!("an upload of {len} bytes (chunked: {chunked})");
        let clock = Instant::now();
        let r = answer(
            &s,
            request_bytes(&s, "/api/upload", octets, &zeros[..len], chunked),
            &what,
        );
        assert_eq!(r.status, 413, "{what}: {}", r.text());
        assert!(clock.elapsed() < Duration::from_secs(30), "{what}");
        alive(&s, &what);
    }
    // The raw client of the harness, too.
    let r = send(
        s.port,
        "POST",
        "/api/upload",
        &[
            ("Host", s.host.as_str()),
            ("X-Studio-Token", s.token.as_str()),
            ("Content-Type", octets),
        ],
        &zeros,
    );
    assert_eq!(r.status, 413, "{}", r.text());
    alive(&s, "a 65 MiB upload");
    // Exactly at the limit the body is read: 422, it is not an image.
    zeros.truncate(MAX_UPLOAD_BYTES);
    let r = answer(
        &s,
        request_bytes(&s, "/api/upload", octets, &zeros, false),
        "an upload at the limit",
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(error_of(&r).contains("decode"), "{}", r.text());
    drop(zeros);
    alive(&s, "an upload at the limit");
    // An empty upload.
    let r = s.call("POST", "/api/upload", b"");
    assert_eq!(r.status, 400, "{}", r.text());
    error_of(&r);
    // A shipped photo uploads.
    let jpeg = std::fs::read(photos().join(PHOTO)).unwrap();
    let r = s.call("POST", "/api/upload", &jpeg);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["width"], 1350);
}

#[test]
fn a_json_body_over_the_limit_is_refused() {
    let s = StudioServer::start(&photos());
    let id = s.open(PHOTO);
    let json_type = "application/json";
    // A painted mask that is far too big: a body of `len` bytes.
    let body = |len: usize| {
        let head = r#"{"seq":1,"plan":{},"brush":{"region":"data:image/png;base64,"#;
        let tail = r#""}}"#;
        let mut b = head.as_bytes().to_vec();
        b.resize(len - tail.len(), b'A');
        b.extend_from_slice(tail.as_bytes());
        assert_eq!(b.len(), len);
        b
    };
    for call in ["render", "overlay", "export"] {
        let path = format!("/api/photo/{id}/{call}");
        for (len, chunked) in [
            (MAX_JSON_BYTES + 1, false),
            (MAX_JSON_BYTES + (1 << 20), false),
            (MAX_JSON_BYTES + (1 << 20), true),
        ] {
            let what = format!("{call} with a body of {len} bytes (chunked: {chunked})");
            let r = answer(
                &s,
                request_bytes(&s, &path, json_type, &body(len), chunked),
                &what,
            );
            assert_eq!(r.status, 413, "{what}: {}", r.text());
            alive(&s, &what);
        }
    }
    let r = answer(
        &s,
        request_bytes(&s, "/api/open", json_type, &body(MAX_JSON_BYTES + 1), false),
        "open with a big body",
    );
    assert_eq!(r.status, 413, "{}", r.text());
    // At the limit the body is read, and refused for what it says.
    let r = answer(
        &s,
        request_bytes(
            &s,
            &format!("/api/photo/{id}/render"),
            json_type,
            &body(MAX_JSON_BYTES),
            false,
        ),
        "a render body at the limit",
    );
    assert!(
        r.status == 400 || r.status == 422,
        "a body at the limit is read: {} {}",
        r.status,
        r.text()
    );
    error_of(&r);
    alive(&s, "a body at the limit");
}

// 6. Images too large to decode.

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c = !0u32;
    for b in parts.iter().flat_map(|p| p.iter()) {
        c ^= *b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// A PNG of a few hundred bytes whose header declares `w` x `h` 8-bit
/// grey pixels; its IDAT is a valid zlib stream of 256 zero bytes (the
/// first rows, were it ever decoded).
fn bomb_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8 bit, grey, deflate, adaptive, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    // zlib: header, one final stored block of 256 zeros, Adler-32 of them.
    let data = [0u8; 256];
    let mut z = vec![0x78, 0x01, 0x01];
    z.extend_from_slice(&(data.len() as u16).to_le_bytes());
    z.extend_from_slice(&(!(data.len() as u16)).to_le_bytes());
    z.extend_from_slice(&data);
    let (a, b) = data.iter().fold((1u32, 0u32), |(a, b), &x| {
        ((a + x as u32) % 65521, (b + a + x as u32) % 65521)
    });
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A whole, valid all-black 8-bit grey PNG of `w` x `h`, written row by
/// row (the test holds one row and the compressed file, not the pixels).
fn black_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Balanced);
    let mut writer = enc.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let row = vec![0u8; w as usize];
    for _ in 0..h {
        stream.write_all(&row).unwrap();
    }
    stream.finish().unwrap();
    writer.finish().unwrap();
    out
}

/// Uploads `bytes` as `name`.
fn upload(s: &StudioServer, name: &str, bytes: &[u8]) -> Reply {
    s.raw(
        "POST",
        "/api/upload",
        &[
            ("Host", s.host.as_str()),
            ("X-Studio-Token", s.token.as_str()),
            ("Content-Type", "application/octet-stream"),
            ("X-File-Name", name),
        ],
        bytes,
    )
}

#[test]
fn an_image_too_large_to_decode_is_refused_from_its_header() {
    let s = StudioServer::start(&photos());
    // The header of the bombs is all the image crate must read: each
    // answer comes at once and names the size.
    for (w, h) in [
        (100_000, 100_000),
        (MAX_SIDE + 1, 4),
        (4, MAX_SIDE + 1),
        (u32::MAX / 2, u32::MAX / 2),
        (20_000, 20_000),
    ] {
        let png = bomb_png(w, h);
        assert!(png.len() < 400);
        let clock = Instant::now();
        let r = upload(&s, "bomb.png", &png);
        let took = clock.elapsed();
        assert_eq!(r.status, 413, "{w} x {h}: {}", r.text());
        let e = error_of(&r);
        assert!(e.contains(&format!("{w} x {h} px")), "{e}");
        assert!(took < Duration::from_secs(5), "{w} x {h}: {took:?}");
        alive(&s, &format!("a {w} x {h} PNG bomb"));
    }
    // Whole files: all black, compressed to a few hundred KB. Over the
    // pixel count (within the side): by a square and by one row.
    let side_ok = 20_000u32;
    assert!(side_ok <= MAX_SIDE && side_ok as u64 * side_ok as u64 > MAX_PIXELS);
    let rows = (MAX_PIXELS / side_ok as u64) as u32 + 1;
    for (w, h) in [(side_ok, side_ok), (side_ok, rows)] {
        let png = black_png(w, h);
        assert!(png.len() < 1 << 20, "{} bytes", png.len());
        let clock = Instant::now();
        let r = upload(&s, "black.png", &png);
        let took = clock.elapsed();
        assert_eq!(r.status, 413, "{w} x {h}: {}", r.text());
        let e = error_of(&r);
        assert!(e.contains(&format!("{w} x {h} px")), "{e}");
        assert!(e.contains(&MAX_PIXELS.to_string()), "{e}");
        assert!(took < Duration::from_secs(5), "{w} x {h}: {took:?}");
        alive(&s, &format!("a {w} x {h} black PNG"));
    }
    // Over the side by one pixel, and exactly at it: the same thin strip
    // is refused, then decoded and opened.
    let r = upload(&s, "wide.png", &black_png(MAX_SIDE + 1, 8));
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(error_of(&r).contains(&format!("{} x 8 px", MAX_SIDE + 1)));
    let r = upload(&s, "wide.png", &black_png(MAX_SIDE, 8));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["width"], MAX_SIDE);
    let r = upload(&s, "tall.png", &black_png(8, MAX_SIDE));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["height"], MAX_SIDE);
    // A large photo within both limits (24 MP) opens, at preview size.
    let r = upload(&s, "big.png", &black_png(6000, 4000));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(6000), Some(4000))
    );
    let (pw, ph) = (
        v["preview"]["width"].as_u64().unwrap(),
        v["preview"]["height"].as_u64().unwrap(),
    );
    assert!(pw * ph <= 2_000_000, "{pw} x {ph}");
    // Not an image at all; a cut-short PNG.
    let r = upload(&s, "x.png", b"not an image at all");
    assert_eq!(r.status, 422, "{}", r.text());
    error_of(&r);
    let whole = black_png(64, 64);
    let r = upload(&s, "cut.png", &whole[..whole.len() / 2]);
    assert_eq!(r.status, 422, "a cut PNG: {}", r.text());
    error_of(&r);
    alive(&s, "broken images");
}

// 7. Broken JSON.

#[test]
fn broken_json_is_refused_with_a_json_error() {
    let s = StudioServer::start(&photos());
    let id = s.open(PHOTO);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_plan = format!(r#"{{"plan":{{"hairline":{deep}}}}}"#);
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("malformed", br#"{"seq": 1, "plan": {"#.to_vec()),
        ("not JSON", b"seq=1&plan=x".to_vec()),
        (
            "not UTF-8",
            b"{\"seq\": 1, \"plan\": {\"shade\": \"\xff\xfe\"}}".to_vec(),
        ),
        ("empty", b"".to_vec()),
        ("an array", b"[1, 2, 3]".to_vec()),
        ("a wrong type", br#"{"seq":"x"}"#.to_vec()),
        ("a negative seq", br#"{"seq":-1}"#.to_vec()),
        ("a fraction seq", br#"{"seq":1.5}"#.to_vec()),
        ("a huge number", br#"{"seq":1e400}"#.to_vec()),
        (
            "a plan of the wrong type",
            br#"{"seq":1,"plan":[]}"#.to_vec(),
        ),
        (
            "a point of the wrong type",
            br#"{"plan":{"hairline":[["a","b"]]}}"#.to_vec(),
        ),
        ("an unknown plan key", br#"{"plan":{"bogus":1}}"#.to_vec()),
        ("an unknown key", br#"{"bogus":1}"#.to_vec()),
        (
            "an unknown brush key",
            br#"{"brush":{"bogus":"x"}}"#.to_vec(),
        ),
        ("a nesting 100,000 deep", deep_plan.into_bytes()),
        ("trailing bytes", br#"{"seq":1} {"seq":2}"#.to_vec()),
    ];
    for call in ["render", "overlay", "export"] {
        for (what, body) in &bodies {
            let path = format!("/api/photo/{id}/{call}");
            let r = s.raw(
                "POST",
                &path,
                &[
                    ("Host", s.host.as_str()),
                    ("X-Studio-Token", s.token.as_str()),
                    ("Content-Type", "application/json"),
                ],
                body,
            );
            assert!(
                r.status == 400 || r.status == 422,
                "{call} with {what}: {} {}",
                r.status,
                r.text()
            );
            let e = error_of(&r);
            assert!(!e.is_empty());
            if what.contains("unknown") {
                assert!(e.contains("bogus"), "{call} with {what}: {e}");
            }
            alive(&s, &format!("{call} with {what}"));
        }
    }
    for body in [
        &br#"{"name": 1}"#[..],
        br#"{}"#,
        br#"{"name":"a.jpg","x":1}"#,
        b"{",
    ] {
        let r = s.call("POST", "/api/open", body);
        assert!(
            r.status == 400 || r.status == 422,
            "open {}: {} {}",
            String::from_utf8_lossy(body),
            r.status,
            r.text()
        );
        error_of(&r);
    }
    // Values out of range, far outside the photo, or too many: 422 naming
    // the field.
    let base = plan("jet-black", 1);
    let many: Vec<[f32; 2]> = (0..10_001)
        .map(|i| [500.0 + (i % 300) as f32, 300.0])
        .collect();
    for (key, value) in [
        ("density_per_cm2", json!(900)),
        ("sessions", json!(9)),
        ("shade", json!("no-such-shade")),
        ("stage", json!("years:99")),
        ("px_per_mm", json!(-1)),
        ("hairline", json!([[1e30, 0], [671, 278], [818, 320]])),
        ("hairline", json!(many)),
        ("glabella", json!([-1e9, 5])),
    ] {
        let mut p = base.clone();
        p[key] = value;
        let r = s.call(
            "POST",
            &format!("/api/photo/{id}/render"),
            &render_body(1, &p),
        );
        assert_eq!(r.status, 422, "{key}: {}", r.text());
        let e = error_of(&r);
        assert!(e.contains(key), "{key}: {e}");
        alive(&s, &format!("a render with a bad {key}"));
    }
    // The wrong content type, an unknown photo.
    let r = s.raw(
        "POST",
        &format!("/api/photo/{id}/render"),
        &[
            ("Host", s.host.as_str()),
            ("X-Studio-Token", s.token.as_str()),
            ("Content-Type", "text/plain"),
        ],
        &render_body(1, &base),
    );
    assert_eq!(r.status, 415, "{}", r.text());
    error_of(&r);
    for bad in ["999", "0", "-1", "abc", "1e3", "18446744073709551616"] {
        let r = s.call(
            "POST",
            &format!("/api/photo/{bad}/render"),
            &render_body(1, &base),
        );
        assert_eq!(r.status, 404, "photo {bad}: {}", r.text());
        error_of(&r);
    }
    // And the photo still renders.
    let r = s.call(
        "POST",
        &format!("/api/photo/{id}/render"),
        &render_body(2, &base),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
}

// 8. Two tabs, many renders at once.

/// One render's answer under load.
#[derive(Debug)]
struct Answer {
    tab: usize,
    seq: u64,
    status: u16,
    error: Option<String>,
}

#[test]
fn two_tabs_rendering_at_once_never_see_each_others_images() {
    const REQUESTS: usize = 200;
    const THREADS: usize = 8;
    let limit = Duration::from_secs(120);
    let clock = Instant::now();
    let s = StudioServer::start(&photos());
    // Two tabs on the same photo: two ids.
    let tabs = [s.open(PHOTO), s.open(PHOTO)];
    assert_ne!(tabs[0], tabs[1]);
    let shades = ["jet-black", "ash-grey"];
    let last_seq = (REQUESTS / 2) as u64;
    // Request i goes to tab i % 2 with that tab's seq i / 2 + 1; its plan
    // changes the seed (and so the dots) until the last, which is the
    // tab's final plan (seed 7).
    let plan_of = |tab: usize, seq: u64| {
        let seed = if seq == last_seq { 7 } else { 100 + seq % 5 };
        let mut p = plan(shades[tab], seed);
        if seq.is_multiple_of(3) {
            p["density_per_cm2"] = json!(60 + seq % 7 * 10);
        }
        p
    };
    let next = AtomicUsize::new(0);
    let answers: Mutex<Vec<Answer>> = Mutex::new(Vec::new());
    let last_bytes: [Mutex<Vec<u8>>; 2] = [Mutex::new(Vec::new()), Mutex::new(Vec::new())];
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= REQUESTS || clock.elapsed() > limit {
                    return;
                }
                let (tab, seq) = (i % 2, (i / 2 + 1) as u64);
                let r = s.call(
                    "POST",
                    &format!("/api/photo/{}/render", tabs[tab]),
                    &render_body(seq, &plan_of(tab, seq)),
                );
                if r.status == 200 {
                    assert_eq!(r.header("content-type"), Some("image/jpeg"));
                    assert_eq!(&r.body[..2], &[0xff, 0xd8]);
                    let info: Value = serde_json::from_str(r.header("x-render").unwrap()).unwrap();
                    assert_eq!(info["seq"], seq, "the answer is to this request");
                    if seq == last_seq {
                        *last_bytes[tab].lock().unwrap() = r.body.clone();
                    }
                } else if r.status == 409 {
                    assert_eq!(error_of(&r), "superseded");
                }
                answers.lock().unwrap().push(Answer {
                    tab,
                    seq,
                    status: r.status,
                    error: (r.status != 200).then(|| r.text()),
                });
            });
        }
    });
    let took = clock.elapsed();
    let answers = answers.into_inner().unwrap();
    assert_eq!(
        answers.len(),
        REQUESTS,
        "all answered within {limit:?} ({took:?})"
    );
    let bad: Vec<String> = answers
        .iter()
        .filter(|a| a.status != 200 && a.status != 409)
        .map(|a| {
            let e = a.error.as_deref().unwrap_or("");
            format!("tab {} seq {}: {} {e}", a.tab, a.seq, a.status)
        })
        .collect();
    assert!(bad.is_empty(), "answers other than 200 and 409: {bad:?}");
    let ok = answers.iter().filter(|a| a.status == 200).count();
    for tab in 0..2 {
        let last = answers
            .iter()
            .find(|a| a.tab == tab && a.seq == last_seq)
            .unwrap();
        assert_eq!(last.status, 200, "the last render of tab {tab}: {last:?}");
    }
    println!(
        "{REQUESTS} renders from {THREADS} threads: {ok} rendered, {} superseded, in {took:?}",
        REQUESTS - ok
    );

    // The final image of each tab is exactly what a fresh photo renders for
    // that tab's plan, and the two tabs differ.
    let fresh: Vec<Vec<u8>> = (0..2)
        .map(|tab| {
            let id = s.open(PHOTO);
            let r = s.call(
                "POST",
                &format!("/api/photo/{id}/render"),
                &render_body(1, &plan_of(tab, last_seq)),
            );
            assert_eq!(r.status, 200, "{}", r.text());
            r.body
        })
        .collect();
    assert_ne!(fresh[0], fresh[1], "jet-black and ash-grey differ");
    for tab in 0..2 {
        assert!(
            *last_bytes[tab].lock().unwrap() == fresh[tab],
            "tab {tab}'s last render under load is a fresh render's bytes"
        );
        let r = s.call(
            "POST",
            &format!("/api/photo/{}/render", tabs[tab]),
            &render_body(last_seq + 1, &plan_of(tab, last_seq)),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(
            r.body == fresh[tab],
            "tab {tab}'s final render is a fresh render's bytes"
        );
    }
    // An older seq than the tab has seen is superseded at once.
    let r = s.call(
        "POST",
        &format!("/api/photo/{}/render", tabs[0]),
        &render_body(1, &plan_of(0, last_seq)),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(clock.elapsed() < limit, "{:?}", clock.elapsed());
}

// 9. Garbage on the socket.

#[test]
fn garbage_on_the_socket_gets_an_error_or_a_closed_connection() {
    let s = StudioServer::start(&photos());
    let host = format!("Host: {}\r\nX-Studio-Token: {}\r\n", s.host, s.token);
    let many_headers: String = (0..500).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    let requests: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"\x00\x01\x02garbage\xff\xfe\r\n\r\n".to_vec()),
        ("random bytes", (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()),
        ("no version", b"GET /api/info\r\n\r\n".to_vec()),
        ("a bad version", format!("GET /api/info HTTP/9.9\r\n{host}\r\n").into_bytes()),
        ("a bad method", format!("G\x01T /api/info HTTP/1.1\r\n{host}\r\n").into_bytes()),
        ("a space in the path", format!("GET /api/ info HTTP/1.1\r\n{host}\r\n").into_bytes()),
        ("a header without a colon", format!("GET /api/info HTTP/1.1\r\n{host}Broken\r\n\r\n").into_bytes()),
        ("a bad Content-Length", format!("POST /api/open HTTP/1.1\r\n{host}Content-Length: -5\r\n\r\n").into_bytes()),
        ("two Content-Lengths", format!("POST /api/open HTTP/1.1\r\n{host}Content-Length: 5\r\nContent-Length: 7\r\n\r\n{{}}").into_bytes()),
        ("a bad chunk size", format!("POST /api/open HTTP/1.1\r\n{host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n").into_bytes()),
        ("a 100 KB path", format!("GET /{} HTTP/1.1\r\n{host}\r\n", "a".repeat(100_000)).into_bytes()),
        ("a 1 MB header", format!("GET /api/info HTTP/1.1\r\n{host}X-Big: {}\r\n\r\n", "b".repeat(1 << 20)).into_bytes()),
        ("500 headers", format!("GET /api/info HTTP/1.1\r\n{host}{many_headers}\r\n").into_bytes()),
        ("a head that never ends", format!("GET /api/info HTTP/1.1\r\n{host}{}", "X-A: b\r\n".repeat(200_000)).into_bytes()),
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec()),
        ("TLS", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec()),
    ];
    for (what, bytes) in requests {
        let clock = Instant::now();
        let raw = exchange(s.port, bytes, Duration::from_secs(20));
        if let Some(r) = parse_answer(&raw) {
            assert!(
                (400..500).contains(&r.status),
                "{what}: {} {}",
                r.status,
                r.text()
            );
        }
        // Else the server closed the connection without an answer.
        assert!(
            clock.elapsed() < Duration::from_secs(20),
            "{what}: the server hung on to it"
        );
        alive(&s, what);
    }
    // Unknown paths and methods, with the token: JSON errors.
    for (method, path, want) in [
        ("GET", "/nope", 404),
        ("GET", "/api/nope", 404),
        ("GET", "/api/photo/1/nope", 404),
        ("POST", "/api/info", 405),
        ("GET", "/api/open", 405),
        ("DELETE", "/api/photo/1/render", 405),
        ("BREW", "/", 405),
    ] {
        let r = s.call(method, path, b"");
        assert_eq!(r.status, want, "{method} {path}: {}", r.text());
        alive(&s, &format!("{method} {path}"));
    }
    let r = s.call("GET", "/nope", b"");
    error_of(&r);
    // Without the token an unknown path is refused like any other.
    let r = s.raw("GET", "/nope", &[("Host", s.host.as_str())], b"");
    assert_eq!(r.status, 403);

    // Connections that send half a request and wait do not stop others.
    let mut idle = Vec::new();
    for i in 0..32 {
        let mut c = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        if i % 2 == 0 {
            c.write_all(b"GET /api/info HTTP/1.1\r\nHost: ").unwrap();
        } else {
            c.write_all(
                format!(
                    "POST /api/open HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
                )
                .as_bytes(),
            )
            .unwrap();
        }
        idle.push(c);
    }
    let clock = Instant::now();
    alive(&s, "32 half requests");
    assert_eq!(s.open(PHOTO), "1");
    assert!(clock.elapsed() < Duration::from_secs(10));
    drop(idle);
    alive(&s, "32 dropped connections");
}

// 10. Ctrl-C.

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_server_cleanly() {
    let mut s = StudioServer::start(&photos());
    let id = s.open(PHOTO);
    let r = s.call(
        "POST",
        &format!("/api/photo/{id}/render"),
        &render_body(1, &plan("jet-black", 1)),
    );
    assert_eq!(r.status, 200);
    let clock = Instant::now();
    let status = s.interrupt(Duration::from_secs(10));
    let took = clock.elapsed();
    let status = status.unwrap_or_else(|| panic!("still running {took:?} after SIGINT"));
    assert!(status.success(), "exit status {status:?}");
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(stopped(&s), "{:?}", s.stderr.lock().unwrap());
}

/// Whether the server noted on stderr that it stopped (waiting a little
/// for the thread that reads its output).
fn stopped(s: &StudioServer) -> bool {
    for _ in 0..100 {
        let out = s.stderr.lock().unwrap();
        if out.iter().any(|l| l == "smp-render studio: stopped") {
            return true;
        }
        drop(out);
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Ctrl-C while a page keeps a connection open (idle between requests, or
/// halfway through one) still stops the server within seconds.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_server_with_connections_open() {
    let mut s = StudioServer::start(&photos());
    // A keep-alive connection after a whole request, as a browser keeps it.
    let mut kept = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    write!(
        kept,
        "GET /api/info HTTP/1.1\r\nHost: {}\r\nX-Studio-Token: {}\r\n\r\n",
        s.host, s.token
    )
    .unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = std::io::Read::read(&mut kept, &mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    // A connection with nothing sent, and one with half a request.
    let empty = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let mut half = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    half.write_all(b"GET /api/info HTTP/1.1\r\nHost: ").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let clock = Instant::now();
    let status = s.interrupt(Duration::from_secs(15));
    let took = clock.elapsed();
    let status = status.unwrap_or_else(|| panic!("still running {took:?} after SIGINT"));
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(took < Duration::from_secs(8), "{took:?}");
    assert!(stopped(&s), "{:?}", s.stderr.lock().unwrap());
    drop((kept, empty, half));
}

/// The address is the studio's one result (stdout); what it serves and
/// that it stopped are notes (stderr), and `-q` silences them.
#[cfg(unix)]
#[test]
fn the_address_goes_to_stdout_and_notes_to_stderr_unless_quiet() {
    for quiet in [false, true] {
        let global: &[&str] = if quiet { &["-q"] } else { &[] };
        let mut s = StudioServer::start_with(global, &photos());
        assert_eq!(s.call("GET", "/api/info", b"").status, 200);
        let status = s.interrupt(Duration::from_secs(10)).expect("stops");
        assert_eq!(status.code(), Some(0));
        // The readers see end of file once the process is gone.
        std::thread::sleep(Duration::from_millis(300));
        let out = s.stdout.lock().unwrap().clone();
        let err = s.stderr.lock().unwrap().clone();
        assert_eq!(out.len(), 1, "stdout holds only the address: {out:?}");
        assert!(out[0].contains("/?t="), "{out:?}");
        if quiet {
            assert!(err.is_empty(), "-q: stderr {err:?}");
        } else {
            assert!(
                err.iter()
                    .any(|l| l.starts_with("smp-render studio: serving ")),
                "{err:?}"
            );
            assert!(
                err.iter().any(|l| l == "smp-render studio: stopped"),
                "{err:?}"
            );
        }
    }
}
