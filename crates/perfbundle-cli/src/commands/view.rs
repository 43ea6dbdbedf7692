//! `perfbundle view`: serves the built viewer and bundles on 127.0.0.1.

mod server;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

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
    let bundles = if a.path.is_file() {
        server::Bundles::File(a.path.clone())
    } else if a.path.is_dir() {
        server::Bundles::Folder(a.path.clone())
    } else {
        bail!("{}: no such file or folder", a.path.display());
    };
    let site = Arc::new(server::Site::new(viewer.clone(), bundles.clone()));
    // Read every bundle now: a bundle that does not read is reported before the URLs.
    site.index();
    let names: Vec<String> = site.listing().into_iter().map(|(name, _, _)| name).collect();
    let listener =
        TcpListener::bind(("127.0.0.1", a.port)).with_context(|| format!("cannot listen on 127.0.0.1:{}", a.port))?;
    let port = listener.local_addr()?.port();
    let mut out = String::new();
    for n in &names {
        out.push_str(&format!("http://127.0.0.1:{port}/?bundle={}\n", query_value(&format!("bundles/{n}"))));
    }
    if names.len() > 1 {
        out.push_str(&format!("http://127.0.0.1:{port}/  (lists the {} bundles)\n", names.len()));
    }
    if names.is_empty() {
        out.push_str(&format!("http://127.0.0.1:{port}/  (no bundle yet: those copied into the folder are listed)\n"));
    }
    crate::emit(&out);
    match &bundles {
        server::Bundles::Folder(d) => eprintln!(
            "serving {} and the bundles of {} ({} now; ones added later too); Ctrl-C stops",
            viewer.display(),
            d.display(),
            names.len()
        ),
        server::Bundles::File(f) => eprintln!("serving {} and {}; Ctrl-C stops", viewer.display(), f.display()),
    }
    server::serve(listener, site)?;
    Ok(ExitCode::SUCCESS)
}

/// A value for a URL's query string: `/` kept, the rest of what is not a
/// letter, digit or `-._~` percent-encoded (a space is `%20`).
fn query_value(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    const KEEP: &percent_encoding::AsciiSet =
        &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    utf8_percent_encode(s, KEEP).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn printed_urls_encode_names() {
        assert_eq!(super::query_value("bundles/run 1 & 2.perfbundle"), "bundles/run%201%20%26%202.perfbundle");
        assert_eq!(super::query_value("bundles/v1.0_a-b~.perfbundle"), "bundles/v1.0_a-b~.perfbundle");
    }
}
