//! The studio server as the tests start it (the real binary, `--no-open`,
//! a free port) and a plain HTTP/1.1 client over a loopback socket, so that
//! a test can send exactly the bytes it means (bad Host headers, broken
//! JSON, huge bodies).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `smp-render studio`, stopped (SIGINT, then killed) on drop.
pub struct StudioServer {
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    pub port: u16,
    pub token: String,
    /// The address printed, with the token.
    pub url: String,
    /// Every line the server printed on stdout so far.
    pub stdout: Arc<Mutex<Vec<String>>>,
    /// Every line the server printed on stderr so far.
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl StudioServer {
    /// Starts the studio on `target` (a photo or a folder) and waits for
    /// its address.
    pub fn start(target: &Path) -> StudioServer {
        StudioServer::start_with(&[], target)
    }

    /// The same, with `global` options before `studio` (e.g. `-q`).
    pub fn start_with(global: &[&str], target: &Path) -> StudioServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_smp-render"))
            .args(global)
            .args(["studio", "--no-open"])
            .arg(target)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the studio starts");
        // Keep reading stderr (and echo it, as an inherited stderr would).
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let err_lines = stderr.clone();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            let mut next = String::new();
            while err.read_line(&mut next).is_ok_and(|n| n > 0) {
                eprint!("{next}");
                err_lines.lock().unwrap().push(next.trim_end().to_string());
                next.clear();
            }
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("smp-render studio: ")
            .unwrap_or_else(|| panic!("no address printed: {line:?}"))
            .to_string();
        // Keep reading stdout so that the server never blocks on it.
        let stdout = Arc::new(Mutex::new(vec![line.trim_end().to_string()]));
        let lines = stdout.clone();
        std::thread::spawn(move || {
            let mut next = String::new();
            while out.read_line(&mut next).is_ok_and(|n| n > 0) {
                lines.lock().unwrap().push(next.trim_end().to_string());
                next.clear();
            }
        });
        let rest = url.strip_prefix("http://").unwrap();
        let (host, query) = rest.split_once("/?t=").unwrap();
        let port = host.rsplit(':').next().unwrap().parse().unwrap();
        StudioServer {
            child,
            host: host.to_string(),
            port,
            token: query.to_string(),
            url,
            stdout,
            stderr,
        }
    }

    /// Sends SIGINT (Ctrl-C) and waits up to `within` for the server to
    /// exit: its exit status, or `None` if it is still running then.
    #[cfg(unix)]
    pub fn interrupt(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        // SAFETY: signalling our own child by its pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if start.elapsed() > within {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A request with the right token and Host.
    pub fn call(&self, method: &str, path: &str, body: &[u8]) -> Reply {
        let ct = if body.first() == Some(&b'{') {
            "application/json"
        } else {
            "application/octet-stream"
        };
        self.raw(
            method,
            path,
            &[
                ("Host", self.host.as_str()),
                ("X-Studio-Token", self.token.as_str()),
                ("Content-Type", ct),
            ],
            body,
        )
    }

    /// A request with exactly these headers (and Content-Length).
    pub fn raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        send(self.port, method, path, headers, body)
    }

    /// Opens a shipped photo of the folder by name; its id.
    pub fn open(&self, name: &str) -> String {
        let r = self.call(
            "POST",
            "/api/open",
            format!(r#"{{"name":"{name}"}}"#).as_bytes(),
        );
        assert_eq!(r.status, 200, "open {name}: {}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
    }
}

impl Drop for StudioServer {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        #[cfg(unix)]
        // SAFETY: signalling our own child by its pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Sends one request to 127.0.0.1:`port` and reads the whole answer
/// (the connection is closed after it).
pub fn send(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    // A server may answer (e.g. 413) before reading a large body; stop
    // writing then.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse(&raw)
}

fn parse(raw: &[u8]) -> Reply {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

/// Writes `bytes` to 127.0.0.1:`port` as they are (from another thread, so
/// that an answer sent before the server read them all is not missed) and
/// reads until the server closes the connection or `timeout` passes: what
/// the server sent.
pub fn exchange(port: u16, bytes: Vec<u8>, timeout: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    s.set_write_timeout(Some(timeout)).unwrap();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        // The server may stop reading and close; stop writing then.
        let _ = w.write_all(&bytes);
    });
    let start = Instant::now();
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    while start.elapsed() < timeout {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    let _ = s.shutdown(std::net::Shutdown::Both);
    let _ = writer.join();
    raw
}

/// The answer in `raw` bytes (see [`exchange`]), if there is one.
pub fn parse_answer(raw: &[u8]) -> Option<Reply> {
    raw.windows(4).any(|w| w == b"\r\n\r\n").then(|| parse(raw))
}
