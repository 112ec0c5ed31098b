//! The consultation studio: `smp-render studio [PHOTO | DIR]` serves a live
//! page on the consultant's own machine where a treatment is designed and
//! previewed with the client.
//!
//! - **Local.** It listens on loopback only unless told otherwise
//!   ([`StudioOptions::listen`], with a printed warning). The page, its
//!   styles and its script are built into the binary: nothing is fetched
//!   from anywhere, and the client's photos never leave the machine.
//! - **Locked to its owner.** Every request carries the per-run token
//!   (the printed address holds it); requests without it, with a `Host`
//!   header other than the address served (DNS rebinding), or with a
//!   foreign `Origin` on a state-changing request are refused.
//! - **Bounded.** Uploads obey the photo decoder's limits and
//!   [`MAX_UPLOAD_BYTES`]; other bodies [`MAX_JSON_BYTES`]; at most
//!   [`MAX_OPEN_PHOTOS`] photos are kept open (the oldest is closed). No
//!   request names a path: photos are opened by their name in the folder
//!   list, and exports go to a new folder under `smp-studio/` in the folder
//!   the studio was started on.
//! - **Live.** Each opened photo has its own [`crate::Pipeline`] at preview
//!   size (at most [`PREVIEW_PIXELS`]): the photo's analysis is done once,
//!   a drag redoes the region and the points, a shade, stage or session
//!   change only the composite. A newer render of the same photo makes an
//!   older one still running stop at its next stage (the latest wins).
//! - **Exact.** An export writes the plan file and renders it at full
//!   resolution exactly as `smp-render render --plan` does.
//!
//! The page speaks the HTTP API documented in `src/studio/API.md`.

mod api;
mod state;

use std::future::IntoFuture;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::error::{Error, Result};
pub use state::{MAX_OPEN_PHOTOS, PREVIEW_PIXELS};

/// How long Ctrl-C waits for open connections before the studio stops.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Largest photo upload, bytes.
pub const MAX_UPLOAD_BYTES: usize = 64 << 20;
/// Largest body of any other request, bytes (painted masks travel in it).
pub const MAX_JSON_BYTES: usize = 16 << 20;

/// How to run the studio.
#[derive(Debug, Clone)]
pub struct StudioOptions {
    /// A photo to open at once, or a folder whose photos are listed; `None`:
    /// the current folder. Exports go under its folder.
    pub target: Option<PathBuf>,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// Address to listen on. Default: 127.0.0.1 (loopback only).
    pub listen: IpAddr,
    /// Open the page in the default browser.
    pub open: bool,
    /// No notes on stderr (`-q`): only the address on stdout, errors, and
    /// the warning when not on loopback.
    pub quiet: bool,
}

impl Default for StudioOptions {
    fn default() -> Self {
        StudioOptions {
            target: None,
            port: 0,
            listen: IpAddr::V4(Ipv4Addr::LOCALHOST),
            open: true,
            quiet: false,
        }
    }
}

/// What every request handler shares.
pub(crate) struct Shared {
    pub(crate) token: String,
    /// `Host` header values accepted (the address served, by IP and as
    /// `localhost`).
    pub(crate) hosts: Vec<String>,
    pub(crate) studio: state::Studio,
    pub(crate) page: String,
}

/// A fresh random token: 128 bits from the operating system, as hex.
fn new_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::io(
            "the system's random source",
            std::io::Error::other(e.to_string()),
        )
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The page with its styles and script inlined.
fn page() -> String {
    include_str!("page/index.html")
        .replace("/*{{CSS}}*/", include_str!("page/studio.css"))
        .replace("/*{{JS}}*/", include_str!("page/studio.js"))
}

/// Runs the studio until Ctrl-C (or SIGTERM): prints its address (with the
/// token) on stdout, opens the page unless told not to, serves.
pub fn run_studio(opts: StudioOptions) -> Result<()> {
    let studio = state::Studio::new(opts.target.as_deref())?;
    let token = new_token()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(8)
        .enable_all()
        .build()
        .map_err(|e| Error::io("the studio's runtime", e))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(opts.listen, opts.port))
            .await
            .map_err(|e| Error::io(format!("{}:{}", opts.listen, opts.port), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("the studio's socket", e))?;
        if !opts.listen.is_loopback() {
            eprintln!(
                "smp-render studio: WARNING: listening on {addr}, not on loopback: anyone who \
                 can reach this address and has the token can see the photos"
            );
        }
        let host = match addr.ip() {
            IpAddr::V6(ip) => format!("[{ip}]:{}", addr.port()),
            IpAddr::V4(ip) => format!("{ip}:{}", addr.port()),
        };
        let mut hosts = vec![host.clone(), format!("localhost:{}", addr.port())];
        if addr.ip().is_unspecified() {
            hosts.push(format!("127.0.0.1:{}", addr.port()));
        }
        let url = format!("http://{host}/?t={token}");
        let shared = Arc::new(Shared {
            token,
            hosts,
            studio,
            page: page(),
        });
        // The address is the command's result (stdout, flushed at once so a
        // script can read it); everything else is a note (stderr).
        println!("smp-render studio: {url}");
        let quiet = opts.quiet;
        if !quiet {
            eprintln!(
                "smp-render studio: serving {}; Ctrl-C stops it",
                shared.studio.describe()
            );
        }
        if opts.open {
            if let Err(e) = webbrowser::open(&url) {
                eprintln!(
                    "smp-render studio: could not open a browser ({e}); open the address above"
                );
            }
        }
        let app = router(shared);
        // On Ctrl-C the server stops taking connections and lets the
        // requests under way finish; a connection stuck halfway through a
        // request is not waited for longer than SHUTDOWN_GRACE.
        let signalled = Arc::new(tokio::sync::Notify::new());
        let notify = signalled.clone();
        let server = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown().await;
                notify.notify_one();
            })
            .into_future();
        tokio::select! {
            done = server => done.map_err(|e| Error::io("the studio's server", e))?,
            _ = async {
                signalled.notified().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => if !quiet {
                eprintln!(
                    "smp-render studio: connections still open after {} s; closing them",
                    SHUTDOWN_GRACE.as_secs()
                )
            },
        }
        if !quiet {
            eprintln!("smp-render studio: stopped");
        }
        Ok(())
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/api/info", get(api::info))
        .route("/api/open", post(api::open))
        .route(
            "/api/upload",
            post(api::upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/api/photo/{id}/before", get(api::before))
        .route("/api/photo/{id}/render", post(api::render))
        .route("/api/photo/{id}/overlay", post(api::overlay))
        .route("/api/photo/{id}/export", post(api::export))
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES));
    Router::new()
        .route("/", get(index))
        .merge(api)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

async fn index(State(s): State<Arc<Shared>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; \
                 img-src 'self' blob: data:; connect-src 'self'; form-action 'none'; \
                 frame-ancestors 'none'; base-uri 'none'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        s.page.clone(),
    )
        .into_response()
}

async fn not_found() -> Response {
    api::fail(StatusCode::NOT_FOUND, "no such page or call")
}

/// Compares two strings in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The token a request carries: its `X-Studio-Token` header, or its `t`
/// query parameter (the address printed holds it).
fn token_of(req: &Request) -> Option<String> {
    if let Some(v) = req.headers().get("x-studio-token") {
        return v.to_str().ok().map(str::to_string);
    }
    req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "t")
            .map(|(_, v)| v.to_string())
    })
}

/// Refuses a request with a foreign `Host`, without the token, or
/// changing state from a foreign `Origin`.
async fn guard(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let headers: &HeaderMap = req.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !s.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return api::fail(
            StatusCode::MISDIRECTED_REQUEST,
            &format!(
                "Host {host:?} is not this studio's address (allowed: {})",
                s.hosts.join(", ")
            ),
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            let ok = s
                .hosts
                .iter()
                .any(|h| origin.eq_ignore_ascii_case(&format!("http://{h}")));
            if !ok {
                return api::fail(
                    StatusCode::FORBIDDEN,
                    &format!("Origin {origin:?} may not change this studio's state"),
                );
            }
        }
    }
    match token_of(&req) {
        Some(t) if same_secret(&t, &s.token) => next.run(req).await,
        Some(_) => api::fail(StatusCode::FORBIDDEN, "wrong token"),
        None => api::fail(
            StatusCode::FORBIDDEN,
            "no token: open the address the studio printed (it holds ?t=TOKEN)",
        ),
    }
}
