//! Measures the studio's latency as the page sees it, over loopback: the
//! server's own time (the `X-Render` timings) and the round trip of each
//! request (sending the change, rendering, encoding, receiving the
//! preview), p50 and p95 over `N` changes of each kind:
//!
//! - a composite-only change: the shade, the stage, the session shown;
//! - a change that redoes the region or the points: the mid-frontal point
//!   dragged, the density;
//! - opening the photo (decode, preview, analysis).
//!
//! ```text
//! cargo run --release --example bench_photo -- /tmp/lat     # the 12 MP photo
//! cargo build --release
//! cargo run --release --example studio_latency -- /tmp/lat/photo-12mp.jpg 8.39 [N]
//! ```
//!
//! The hairline is the shipped one of `frl-london_037_03` scaled to the
//! photo's size (the 12 MP photo is it enlarged). Traffic goes to
//! 127.0.0.1 only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// The hairline of `frl-london_037_03` (1350 px wide), photo px.
const HAIRLINE: [[f32; 2]; 3] = [[523.0, 320.0], [671.0, 278.0], [818.0, 320.0]];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: studio_latency PHOTO PX_PER_MM [N]");
        return ExitCode::from(2);
    }
    let photo = PathBuf::from(&args[1]);
    let ppm: f32 = args[2].parse().expect("PX_PER_MM");
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(30);
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("smp-render"))
        .unwrap();
    let mut child = Command::new(bin)
        .args(["studio", "--no-open"])
        .arg(&photo)
        .stdout(Stdio::piped())
        .spawn()
        .expect("studio starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .trim_start_matches("smp-render studio: ")
        .to_string();
    let rest = url.trim_start_matches("http://");
    let (host, token) = rest.split_once("/?t=").unwrap();
    let port: u16 = host.rsplit(':').next().unwrap().parse().unwrap();
    let name = photo.file_name().unwrap().to_string_lossy().into_owned();
    let call = |path: &str, body: &str| -> (f64, u16, String, usize) {
        let clock = Instant::now();
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nX-Studio-Token: {token}\r\n\
             Content-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let ms = clock.elapsed().as_secs_f64() * 1e3;
        let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&raw[..end]).into_owned();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let info = head
            .lines()
            .find_map(|l| l.strip_prefix("x-render: "))
            .unwrap_or("")
            .to_string();
        (ms, status, info, raw.len() - end - 4)
    };
    // Opening.
    let mut open_ms = Vec::new();
    let mut id = String::new();
    let factor: f32;
    for _ in 0..10.min(n) {
        let (ms, status, _, _) = call("/api/open", &format!(r#"{{"name":"{name}"}}"#));
        assert_eq!(status, 200);
        open_ms.push(ms);
    }
    {
        // The id and preview size of the last open.
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let body = format!(r#"{{"name":"{name}"}}"#);
        write!(
            s,
            "POST /api/open HTTP/1.1\r\nHost: {host}\r\nX-Studio-Token: {token}\r\n\
             Content-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let json = &raw[raw.find("\r\n\r\n").unwrap() + 4..];
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        id = v["id"].as_str().unwrap_or(&id).to_string();
        factor = v["preview"]["factor"].as_f64().unwrap() as f32;
        println!(
            "photo {} x {}, preview {} x {} ({:.2} MP)",
            v["width"],
            v["height"],
            v["preview"]["width"],
            v["preview"]["height"],
            v["preview"]["width"].as_f64().unwrap() * v["preview"]["height"].as_f64().unwrap()
                / 1e6
        );
    }
    let size = 1350.0 * (ppm / 3.27);
    let k = size / 1350.0;
    let hairline = |dy: f32| -> String {
        let p: Vec<String> = HAIRLINE
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let y = p[1] * k + if i == 1 { dy } else { 0.0 };
                format!("[{:.1},{:.1}]", p[0] * k, y)
            })
            .collect();
        format!("[{}]", p.join(","))
    };
    let body = |seq: usize, dy: f32, density: f32, shade: &str, stage: &str, session: u8| {
        format!(
            r#"{{"seq":{seq},"plan":{{"px_per_mm":{ppm},"hairline":{},"sessions":3,"density_per_cm2":{density},"shade":"{shade}","stage":"{stage}","seed":1}},"view":{{"session":{session}}}}}"#,
            hairline(dy)
        )
    };
    let path = format!("/api/photo/{id}/render");
    let shades = ["jet-black", "black-brown", "soft-black", "ash-grey"];
    let stages = ["healed", "fresh", "crusting", "years:5", "years:10"];
    let mut seq = 0;
    // Warm: the first render builds the region and the points.
    seq += 1;
    let (first, status, info, _) = call(&path, &body(seq, 0.0, 110.0, "jet-black", "healed", 3));
    assert_eq!(status, 200, "{info}");
    println!("first render (region, points, composite): {first:.0} ms; {info}");
    let mut rows: Vec<(&str, Vec<f64>, Vec<f64>, String)> = Vec::new();
    let kinds: [(&str, &dyn Fn(usize) -> String); 5] = [
        ("shade change", &|i| {
            body(0, 0.0, 110.0, shades[i % 4], "healed", 3)
        }),
        ("stage change", &|i| {
            body(0, 0.0, 110.0, "jet-black", stages[i % 5], 3)
        }),
        ("session change", &|i| {
            body(0, 0.0, 110.0, "jet-black", "healed", (i % 3) as u8 + 1)
        }),
        ("density change", &|i| {
            body(0, 0.0, 100.0 + (i % 20) as f32, "jet-black", "healed", 3)
        }),
        ("hairline drag (M)", &|i| {
            body(
                0,
                -3.0 * ((i % 15) as f32 + 1.0) / factor,
                110.0,
                "jet-black",
                "healed",
                3,
            )
        }),
    ];
    for (name, make) in kinds {
        let (mut client, mut server) = (Vec::new(), Vec::new());
        let mut redone = std::collections::BTreeMap::new();
        for i in 0..n {
            seq += 1;
            let b = make(i + 1).replacen("\"seq\":0", &format!("\"seq\":{seq}"), 1);
            let (ms, status, info, _) = call(&path, &b);
            assert_eq!(status, 200, "{name}: {info}");
            let v: serde_json::Value = serde_json::from_str(&info).unwrap();
            server.push(v["timings_ms"]["total"].as_f64().unwrap());
            *redone
                .entry(v["redone"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
            client.push(ms);
        }
        rows.push((name, client, server, format!("{redone:?}")));
    }
    let pct = |v: &mut Vec<f64>, p: f64| -> f64 {
        v.sort_by(f64::total_cmp);
        v[((v.len() as f64 - 1.0) * p).round() as usize]
    };
    println!("\n| change | n | server p50 | server p95 | round trip p50 | round trip p95 | stages redone |");
    println!("|---|---|---|---|---|---|---|");
    for (name, mut c, mut s, redone) in rows {
        println!(
            "| {name} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {redone} |",
            c.len(),
            pct(&mut s, 0.5),
            pct(&mut s, 0.95),
            pct(&mut c, 0.5),
            pct(&mut c, 0.95)
        );
    }
    let mut o = open_ms.clone();
    println!(
        "| open the photo | {} | | | {:.0} ms | {:.0} ms | decode, preview, analysis |",
        o.len(),
        pct(&mut o, 0.5),
        pct(&mut o, 0.95)
    );
    #[cfg(unix)]
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let _ = child.wait();
    ExitCode::SUCCESS
}
