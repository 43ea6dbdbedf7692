//! The HTTP server of `perfbundle view`: hyper's HTTP/1 on a single-threaded
//! tokio runtime. An idle connection is a few KB of state and a file
//! descriptor, never a thread: hundreds of them neither starve a real request
//! nor exhaust the address space. Connections that send no request head
//! within [`IDLE_TIMEOUT`] are closed; beyond [`MAX_CONNECTIONS`] open at
//! once, new ones are closed at once; an error accepting (out of file
//! descriptors, say) pauses accepting briefly instead of ending the server.
//!
//! Files are streamed from disk in [`CHUNK`]-byte pieces; bundles are looked
//! up in the folder per request, so bundles copied in after the start are
//! served, and `/index.json` is recomputed when the folder's listing changes.
//!
//! Only this machine, by its own names, gets an answer: a request whose
//! `Host` is not `127.0.0.1`, `localhost` or `[::1]` (with our port) is
//! refused, so a web page cannot read the bundles through DNS rebinding; and
//! only files inside the served folders are served: a symbolic link in the
//! folder that leads out of it is not followed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result};
use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use hyper::{Method, Request, Response, StatusCode};
use perfbundle_core::bundle::{IndexEntry, SiteIndex};

use crate::viewer::Viewer;

/// A connection that sends no complete request head for this long is closed
/// (a new connection, or a kept-alive one between requests).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections open at once; more are closed as soon as they are accepted.
pub const MAX_CONNECTIONS: usize = 4096;
/// Bytes read from disk per body frame.
pub const CHUNK: usize = 64 * 1024;

/// Whether a request's `Host` names this machine on our port: `127.0.0.1`,
/// `localhost` or `[::1]`, with `:port` when it carries one.
pub fn allowed_host(host: Option<&str>, port: u16) -> bool {
    let Some(h) = host else { return false };
    let (name, p) = match h.rsplit_once(':') {
        Some((n, p)) if !n.is_empty() && !p.contains(']') => (n, Some(p)),
        _ => (h, None),
    };
    let local = name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost") || name == "[::1]";
    local && p.is_none_or(|p| p.parse::<u16>().ok() == Some(port))
}

/// `path` when it is, following every link, inside `dir` (itself canonical): the file to open.
fn inside(dir: &Path, path: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(path).ok()?;
    real.starts_with(dir).then_some(real)
}

/// What is served: the viewer's files and the bundles.
#[derive(Debug)]
pub struct Site {
    viewer: Viewer,
    /// The built-in viewer's files, decompressed once (empty when serving a folder).
    embedded: HashMap<String, Bytes>,
    bundles: Bundles,
    index: Mutex<IndexCache>,
}

/// One bundle given on the command line, or a folder of them (read per request).
#[derive(Debug, Clone)]
pub enum Bundles {
    File(PathBuf),
    Folder(PathBuf),
}

/// The bundles' names, sizes and times of last change: when these change, the index is recomputed.
type Listing = Vec<(String, u64, Option<SystemTime>)>;

#[derive(Debug, Default)]
struct IndexCache {
    listing: Option<Listing>,
    /// Per bundle (name, size, mtime): its index entry, or None when it did not read.
    entries: HashMap<(String, u64, Option<SystemTime>), Option<IndexEntry>>,
    index_json: Bytes,
    trend_html: Bytes,
}

impl Site {
    pub fn new(viewer: Viewer, bundles: Bundles) -> Site {
        let mut embedded = HashMap::new();
        if let Viewer::Embedded = viewer {
            for name in viewer.files().unwrap_or_default() {
                if let Ok(Some(b)) = viewer.read(&name) {
                    embedded.insert(name, Bytes::from(b));
                }
            }
        }
        // The folders as they are on disk, for the containment of what is served.
        let bundles = match bundles {
            Bundles::Folder(d) => Bundles::Folder(std::fs::canonicalize(&d).unwrap_or(d)),
            other => other,
        };
        let viewer = match viewer {
            Viewer::Dir(d) => Viewer::Dir(std::fs::canonicalize(&d).unwrap_or(d)),
            other => other,
        };
        Site { viewer, embedded, bundles, index: Mutex::new(IndexCache::default()) }
    }

    /// The bundles there are now: name, size, mtime (sorted by name).
    pub fn listing(&self) -> Listing {
        let meta = |p: &Path| std::fs::metadata(p).ok().filter(|m| m.is_file());
        let mut out: Listing = Vec::new();
        match &self.bundles {
            Bundles::File(p) => {
                if let (Some(m), Some(name)) = (meta(p), p.file_name()) {
                    out.push((name.to_string_lossy().into_owned(), m.len(), m.modified().ok()));
                }
            }
            Bundles::Folder(d) => {
                for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if !name.ends_with(".perfbundle") {
                        continue;
                    }
                    if let Some(m) = inside(d, &e.path()).and_then(|p| meta(&p)) {
                        out.push((name, m.len(), m.modified().ok()));
                    }
                }
            }
        }
        // A list of runs holds at most MAX_RUNS: the latest ones.
        if out.len() > perfbundle_core::bundle::MAX_RUNS {
            out.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
            out.truncate(perfbundle_core::bundle::MAX_RUNS);
        }
        out.sort();
        out
    }

    /// The file of the bundle called `name`, if it is one of ours.
    fn bundle_file(&self, name: &str) -> Option<PathBuf> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return None;
        }
        let p = match &self.bundles {
            Bundles::File(p) => p.file_name().is_some_and(|n| n.to_string_lossy() == name).then(|| p.clone())?,
            // A link in the folder is followed only while it stays inside it.
            Bundles::Folder(d) => name.ends_with(".perfbundle").then(|| inside(d, &d.join(name))).flatten()?,
        };
        p.is_file().then_some(p)
    }

    /// `index.json` and `trend.html` for the bundles there are now; bundles
    /// are read only when new or changed.
    pub fn index(&self) -> (Bytes, Bytes) {
        let listing = self.listing();
        let mut cache = self.index.lock().unwrap_or_else(|e| e.into_inner());
        if cache.listing.as_ref() != Some(&listing) {
            let mut entries = Vec::new();
            let mut kept = HashMap::new();
            for key in &listing {
                let entry = match cache.entries.remove(key) {
                    Some(e) => e,
                    None => self.read_entry(&key.0),
                };
                if let Some(e) = &entry {
                    entries.push(e.clone());
                }
                kept.insert(key.clone(), entry);
            }
            let site = SiteIndex::new(entries);
            cache.index_json = Bytes::from(serde_json::to_vec(&site).unwrap_or_else(|_| b"{\"bundles\":[]}".to_vec()));
            cache.trend_html = Bytes::from(crate::viewer::trend_html(&site).into_bytes());
            cache.entries = kept;
            cache.listing = Some(listing);
        }
        (cache.index_json.clone(), cache.trend_html.clone())
    }

    fn read_entry(&self, name: &str) -> Option<IndexEntry> {
        let path = self.bundle_file(name)?;
        match crate::fsio::read_bundle(&path, &perfbundle_core::bundle::ReadLimits::default()) {
            Ok(b) => Some(IndexEntry::of(&b, &format!("bundles/{name}"))),
            Err(e) => {
                eprintln!(
                    "perfbundle: warning: {}; left out of the list of runs",
                    crate::terminal::terminal_text(&format!("{e:#}"))
                );
                None
            }
        }
    }

    /// The response to one request.
    pub fn respond(&self, method: &Method, raw_path: &str) -> Response<Body> {
        if method != Method::GET && method != Method::HEAD {
            return text(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD only");
        }
        let Some(path) = decode_path(raw_path) else {
            return text(StatusCode::BAD_REQUEST, "bad path");
        };
        match path.as_str() {
            "/index.json" => return bytes(StatusCode::OK, "application/json", self.index().0),
            "/trend.html" => return bytes(StatusCode::OK, "text/html; charset=utf-8", self.index().1),
            _ => {}
        }
        if let Some(name) = path.strip_prefix("/bundles/") {
            return match self.bundle_file(name) {
                Some(p) => file(&p, "application/octet-stream")
                    .unwrap_or_else(|| text(StatusCode::NOT_FOUND, "no such bundle")),
                None => text(StatusCode::NOT_FOUND, "no such bundle"),
            };
        }
        let rel = if path == "/" { "index.html" } else { path.trim_start_matches('/') };
        let found = match &self.viewer {
            Viewer::Dir(d) => inside(d, &d.join(rel)).and_then(|p| file(&p, content_type(rel))),
            Viewer::Embedded => self.embedded.get(rel).map(|b| bytes(StatusCode::OK, content_type(rel), b.clone())),
        };
        found.unwrap_or_else(|| text(StatusCode::NOT_FOUND, "not found"))
    }
}

/// The request path percent-decoded; None when it is not UTF-8 or would
/// escape: a `..` or `.` segment, a backslash or a NUL, after decoding.
pub fn decode_path(raw: &str) -> Option<String> {
    let path = percent_encoding::percent_decode_str(raw).decode_utf8().ok()?.into_owned();
    if !path.starts_with('/') || path.contains(['\\', '\0']) || path.split('/').any(|seg| seg == ".." || seg == ".") {
        return None;
    }
    Some(path)
}

pub fn content_type(p: &str) -> &'static str {
    match p.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// A response body: bytes in memory, or a file read from disk as it is sent.
#[derive(Debug)]
pub enum Body {
    Bytes(Option<Bytes>),
    File { file: std::fs::File, remaining: u64 },
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            Body::Bytes(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::File { file, remaining } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                // A local file: a read of one chunk does not block for long.
                let mut buf = vec![0u8; CHUNK.min(*remaining as usize)];
                let n = match file.read(&mut buf) {
                    Ok(0) => {
                        return Poll::Ready(Some(Err(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "the file became shorter while it was sent",
                        ))))
                    }
                    Ok(n) => n,
                    Err(e) => return Poll::Ready(Some(Err(e))),
                };
                buf.truncate(n);
                *remaining -= n as u64;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Bytes(b) => b.is_none(),
            Body::File { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Bytes(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::File { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}

fn response(status: StatusCode, ctype: &str, len: u64, body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_str(ctype).unwrap_or(HeaderValue::from_static("text/plain")));
    h.insert(CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

fn bytes(status: StatusCode, ctype: &str, b: Bytes) -> Response<Body> {
    response(status, ctype, b.len() as u64, Body::Bytes(Some(b)))
}

fn text(status: StatusCode, msg: &'static str) -> Response<Body> {
    bytes(status, "text/plain; charset=utf-8", Bytes::from_static(msg.as_bytes()))
}

/// A regular file, streamed; None when there is none.
fn file(path: &Path, ctype: &str) -> Option<Response<Body>> {
    let f = std::fs::File::open(path).ok()?;
    let m = f.metadata().ok().filter(|m| m.is_file())?;
    Some(response(StatusCode::OK, ctype, m.len(), Body::File { file: f, remaining: m.len() }))
}

/// Raises the soft limit of open files to the hard one: each connection holds one.
fn raise_open_files_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
        }
    }
}

/// Serves `site` on `listener` until the process ends.
pub fn serve(listener: std::net::TcpListener, site: Arc<Site>) -> Result<()> {
    raise_open_files_limit();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .context("cannot start the server's runtime")?;
    rt.block_on(async move {
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let open = Arc::new(AtomicUsize::new(0));
        let mut last_error: Option<Instant> = None;
        loop {
            let stream = match listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of file descriptors or memory, or a connection reset before it was
                    // accepted: say so (at most every 10 s), wait a little, go on.
                    if last_error.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                        eprintln!("perfbundle view: cannot accept a connection ({e}); going on");
                        last_error = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if open.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
                drop(stream);
                continue;
            }
            let _ = stream.set_nodelay(true);
            open.fetch_add(1, Ordering::Relaxed);
            let (site, open) = (site.clone(), open.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let host = req.headers().get(hyper::header::HOST).and_then(|h| h.to_str().ok());
                    let r = if allowed_host(host, port) {
                        site.respond(req.method(), req.uri().path())
                    } else {
                        text(
                            StatusCode::FORBIDDEN,
                            "perfbundle view answers requests to 127.0.0.1, localhost or [::1] only",
                        )
                    };
                    async move { Ok::<_, Infallible>(r) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(IDLE_TIMEOUT)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
                open.fetch_sub(1, Ordering::Relaxed);
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_decoded_then_checked() {
        assert_eq!(decode_path("/bundles/run%201.perfbundle").as_deref(), Some("/bundles/run 1.perfbundle"));
        assert_eq!(decode_path("/").as_deref(), Some("/"));
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E/x",
            "/bundles/..%2f..%2fsecret",
            "/a/%2e/b",
            "/a%5cb",
            "/a\\b",
            "/a%00b",
            "/%ff",
            "relative",
        ] {
            assert_eq!(decode_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_this_machines_names_are_answered() {
        for ok in ["127.0.0.1:8799", "localhost:8799", "LOCALHOST:8799", "[::1]:8799", "127.0.0.1"] {
            assert!(allowed_host(Some(ok), 8799), "{ok}");
        }
        for bad in ["attacker.example:8799", "127.0.0.1:8800", "localhost.attacker.example:8799", "[::1]:1", "", "::1"]
        {
            assert!(!allowed_host(Some(bad), 8799), "{bad}");
        }
        assert!(!allowed_host(None, 8799));
    }

    #[test]
    fn bundles_are_looked_up_in_the_folder_per_request() {
        let dir = std::env::temp_dir().join(format!("perfbundle-view-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let site = Site::new(Viewer::Dir(dir.clone()), Bundles::Folder(dir.clone()));
        assert!(site.bundle_file("a b.perfbundle").is_none());
        std::fs::write(dir.join("a b.perfbundle"), b"x").unwrap();
        std::fs::write(dir.join("notes.txt"), b"x").unwrap();
        assert_eq!(site.bundle_file("a b.perfbundle"), Some(dir.join("a b.perfbundle")));
        assert!(site.bundle_file("notes.txt").is_none(), "only bundles");
        assert!(site.bundle_file("../a b.perfbundle").is_none());
        assert_eq!(site.listing().len(), 1);
        let _ = std::fs::remove_dir_all(dir);
    }
}
