//! The built viewer and the runs it shows, shared by `view`, `html`, `site`
//! and `history`: where the viewer's files are, the bundles of a folder, the
//! index of runs, the trend page.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

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
