//! `perfbundle view`: serves the built viewer and bundles on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;

/// Serve the viewer and a bundle (or a folder of bundles) on 127.0.0.1.
#[derive(Args, Debug)]
pub struct ViewArgs {
    /// A .perfbundle, or a folder of them.
    pub path: PathBuf,
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// The built viewer (default: found beside the binary or in the repository's dist/).
    #[arg(long, value_name = "DIR")]
    pub viewer: Option<PathBuf>,
}

/// Where the built viewer is: `--viewer`, `$PERFBUNDLE_VIEWER`, `viewer/` beside
/// the binary, or the repository's `dist/` (the binary in `target/*/`).
pub fn find_viewer(given: Option<&Path>) -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(g) = given {
        candidates.push(g.to_path_buf());
    } else {
        if let Some(e) = std::env::var_os("PERFBUNDLE_VIEWER") {
            candidates.push(PathBuf::from(e));
        }
        if let Ok(exe) = std::env::current_exe() {
            if let Some(dir) = exe.parent() {
                candidates.push(dir.join("viewer"));
                candidates.push(dir.join("../../dist"));
                candidates.push(dir.join("../share/perfbundle/viewer"));
            }
        }
        candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist"));
    }
    for c in &candidates {
        if c.join("index.html").is_file() {
            return Ok(c.canonicalize().unwrap_or_else(|_| c.clone()));
        }
    }
    bail!(
        "the viewer is not built (looked in {}); build it with `bash scripts/build-viewer.sh` or pass --viewer DIR",
        candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", ")
    )
}

/// The bundle, or the `.perfbundle` files of a folder (sorted).
pub fn bundles_of(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("{}: cannot list", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "perfbundle"))
        .collect();
    v.sort();
    if v.is_empty() {
        bail!("{}: no .perfbundle file in this folder", path.display());
    }
    Ok(v)
}

fn content_type(p: &str) -> &'static str {
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

fn respond(s: &mut TcpStream, status: &str, ctype: &str, body: &[u8]) -> std::io::Result<()> {
    write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    s.write_all(body)
}

fn handle(mut s: TcpStream, viewer: &Path, bundles: &[PathBuf], index: &[u8], trend: &[u8]) -> std::io::Result<()> {
    let mut r = BufReader::new(s.try_clone()?);
    let mut line = String::new();
    r.by_ref().take(8192).read_line(&mut line)?;
    // Drain the headers.
    let mut h = String::new();
    while r.by_ref().take(8192).read_line(&mut h)? > 2 {
        h.clear();
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/");
    if path.split('/').any(|seg| seg == ".." || seg.contains('\\')) {
        return respond(&mut s, "400 Bad Request", "text/plain", b"bad path");
    }
    if path == "/index.json" {
        return respond(&mut s, "200 OK", "application/json", index);
    }
    if path == "/trend.html" {
        return respond(&mut s, "200 OK", "text/html; charset=utf-8", trend);
    }
    if let Some(name) = path.strip_prefix("/bundles/") {
        return match bundles.iter().find(|b| b.file_name().is_some_and(|n| n.to_string_lossy() == name)) {
            Some(b) => respond(&mut s, "200 OK", "application/octet-stream", &std::fs::read(b)?),
            None => respond(&mut s, "404 Not Found", "text/plain", b"no such bundle"),
        };
    }
    let rel = if path == "/" { "index.html" } else { path.trim_start_matches('/') };
    let file = viewer.join(rel);
    match std::fs::read(&file) {
        Ok(body) if file.starts_with(viewer) => respond(&mut s, "200 OK", content_type(rel), &body),
        _ => respond(&mut s, "404 Not Found", "text/plain", b"not found"),
    }
}

/// The trend page of a site's runs, ordered by start time.
pub fn trend_html(site: &perfbundle_core::bundle::SiteIndex) -> String {
    trend_html_by(site, None)
}

/// The trend page ordered by start time, or by a label compared as versions.
pub fn trend_html_by(site: &perfbundle_core::bundle::SiteIndex, by: Option<&str>) -> String {
    let h = perfbundle_core::history::history(site.bundles.clone(), by);
    perfbundle_core::render::trend::trend_page(&h, "index.html")
}

/// The index of runs for a list of bundles, each read and checked. With
/// `strict`, a bundle that does not read is an error; otherwise it is left
/// out of the index with a warning (the viewer shows what is wrong with it).
pub fn site_index(bundles: &[PathBuf], strict: bool) -> Result<perfbundle_core::bundle::SiteIndex> {
    let mut entries = Vec::new();
    for b in bundles {
        let bundle = match crate::fsio::read_bundle(b, &perfbundle_core::bundle::ReadLimits::default()) {
            Ok(x) => x,
            Err(e) if !strict => {
                eprintln!("perfbundle: warning: {e:#}; left out of the list of runs");
                continue;
            }
            Err(e) => return Err(e),
        };
        let name = b.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        entries.push(perfbundle_core::bundle::IndexEntry::of(&bundle, &format!("bundles/{name}")));
    }
    Ok(perfbundle_core::bundle::SiteIndex::new(entries))
}

pub fn run(a: ViewArgs) -> Result<ExitCode> {
    let viewer = find_viewer(a.viewer.as_deref())?;
    let bundles = bundles_of(&a.path)?;
    let names: Vec<String> =
        bundles.iter().map(|b| b.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()).collect();
    let site = site_index(&bundles, false)?;
    let trend = trend_html(&site).into_bytes();
    let index = serde_json::to_vec(&site)?;
    let listener =
        TcpListener::bind(("127.0.0.1", a.port)).with_context(|| format!("cannot listen on 127.0.0.1:{}", a.port))?;
    let port = listener.local_addr()?.port();
    let mut out = String::new();
    for n in &names {
        out.push_str(&format!("http://127.0.0.1:{port}/?bundle=bundles/{n}\n"));
    }
    if names.len() > 1 {
        out.push_str(&format!("http://127.0.0.1:{port}/  (lists the {} bundles)\n", names.len()));
    }
    crate::emit(&out);
    eprintln!("serving {} and {} bundle(s); Ctrl-C stops", viewer.display(), names.len());
    for conn in listener.incoming() {
        let Ok(s) = conn else { continue };
        let (viewer, bundles, index, trend) = (viewer.clone(), bundles.clone(), index.clone(), trend.clone());
        std::thread::spawn(move || {
            let _ = handle(s, &viewer, &bundles, &index, &trend);
        });
    }
    Ok(ExitCode::SUCCESS)
}
