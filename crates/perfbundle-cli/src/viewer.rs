//! The built viewer and the runs it shows, shared by `view`, `html`, `site`
//! and `history`: where the viewer's files are, the bundles of a folder, the
//! index of runs, the trend page.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The viewer's files carried in the binary (build.rs: `viewer-dist/`, gzipped).
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/viewer_assets.rs"));
}

/// The built viewer: a folder (`--viewer`, `$PERFBUNDLE_VIEWER`, beside the
/// binary, the repository's `dist/`) or the copy built into the binary.
#[derive(Debug, Clone)]
pub enum Viewer {
    Dir(PathBuf),
    Embedded,
}

/// A viewer folder holds an `index.html`.
fn is_viewer_dir(d: &Path) -> bool {
    d.join("index.html").is_file()
}

/// Whether a viewer is built into this binary.
pub fn embedded_available() -> bool {
    embedded::FILES.iter().any(|(n, _, _)| *n == "index.html")
}

fn gunzip(gz: &[u8]) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut out).context("the viewer built into perfbundle is damaged")?;
    Ok(out)
}

/// Where the built viewer is: `--viewer DIR`; `$PERFBUNDLE_VIEWER`; `viewer/`
/// or `../share/perfbundle/viewer` beside the binary; the repository's
/// `dist/` when the binary is in its `target/PROFILE/`; else the viewer built
/// into the binary.
pub fn find_viewer(given: Option<&Path>) -> Result<Viewer> {
    if let Some(g) = given {
        if is_viewer_dir(g) {
            return Ok(Viewer::Dir(g.canonicalize().unwrap_or_else(|_| g.to_path_buf())));
        }
        bail!(
            "{}: not a built viewer (no index.html in it); give the folder `bash scripts/build-viewer.sh` writes (dist/), or leave out --viewer to use the one built into perfbundle",
            g.display()
        );
    }
    if let Some(e) = std::env::var_os("PERFBUNDLE_VIEWER").filter(|e| !e.is_empty()) {
        let g = PathBuf::from(e);
        if is_viewer_dir(&g) {
            return Ok(Viewer::Dir(g.canonicalize().unwrap_or(g)));
        }
        bail!(
            "{} (from $PERFBUNDLE_VIEWER): not a built viewer (no index.html in it); fix or unset PERFBUNDLE_VIEWER",
            g.display()
        );
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join("viewer"));
            candidates.push(dir.join("../share/perfbundle/viewer"));
            // target/release/perfbundle or target/debug/perfbundle in a clone: its dist/.
            if dir.parent().and_then(|t| t.file_name()).is_some_and(|n| n == "target") {
                candidates.push(dir.join("../../dist"));
            }
        }
    }
    for c in &candidates {
        if is_viewer_dir(c) {
            return Ok(Viewer::Dir(c.canonicalize().unwrap_or_else(|_| c.clone())));
        }
    }
    if embedded_available() {
        return Ok(Viewer::Embedded);
    }
    bail!(
        "no viewer: none was built into this perfbundle and none is in {}; build it with `bash scripts/build-viewer.sh` and pass --viewer dist",
        candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", ")
    )
}

impl Viewer {
    /// For messages: the folder, or "the viewer built into perfbundle".
    pub fn describe(&self) -> String {
        match self {
            Viewer::Dir(d) => d.display().to_string(),
            Viewer::Embedded => format!("the viewer built into perfbundle {}", crate::VERSION),
        }
    }

    /// The viewer's files, as `/`-separated paths relative to its root, sorted.
    pub fn files(&self) -> Result<Vec<String>> {
        fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) -> Result<()> {
            for e in std::fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))? {
                let e = e?;
                let name = e.file_name().to_string_lossy().into_owned();
                let r = if rel.is_empty() { name } else { format!("{rel}/{name}") };
                if e.path().is_dir() {
                    walk(&e.path(), &r, out)?;
                } else {
                    out.push(r);
                }
            }
            Ok(())
        }
        let mut v = Vec::new();
        match self {
            Viewer::Dir(d) => walk(d, "", &mut v)?,
            Viewer::Embedded => v.extend(embedded::FILES.iter().map(|(n, _, _)| n.to_string())),
        }
        v.sort();
        Ok(v)
    }

    /// A file of the viewer by its relative path; None when there is none.
    pub fn read(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Viewer::Dir(d) => {
                let p = d.join(rel);
                if !p.is_file() {
                    return Ok(None);
                }
                Ok(Some(std::fs::read(&p).with_context(|| format!("{}: cannot read", p.display()))?))
            }
            Viewer::Embedded => match embedded::FILES.iter().find(|(n, _, _)| *n == rel) {
                Some((_, gz, _)) => Ok(Some(gunzip(gz)?)),
                None => Ok(None),
            },
        }
    }

    /// The one file whose name `pick` accepts (`what` names it in errors).
    pub fn one(&self, what: &str, pick: impl Fn(&str) -> bool) -> Result<(String, Vec<u8>)> {
        let mut v: Vec<String> = self.files()?.into_iter().filter(|n| !n.contains('/') && pick(n)).collect();
        let rebuild = match self {
            Viewer::Dir(_) => "rebuild it into a clean folder with `bash scripts/build-viewer.sh`",
            Viewer::Embedded => "this perfbundle was built without a complete viewer; pass --viewer DIR",
        };
        match v.len() {
            1 => {
                let name = v.remove(0);
                let bytes = self.read(&name)?.with_context(|| format!("{}: {name} vanished", self.describe()))?;
                Ok((name, bytes))
            }
            0 => bail!("{}: no {what} in the viewer; {rebuild}", self.describe()),
            _ => bail!("{}: several {what} files ({}); {rebuild}", self.describe(), v.join(", ")),
        }
    }

    /// Writes the viewer's files into `dest` (a folder, created).
    pub fn copy_to(&self, dest: &Path) -> Result<()> {
        std::fs::create_dir_all(dest).with_context(|| format!("{}: cannot create", dest.display()))?;
        for rel in self.files()? {
            let to = dest.join(&rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("{}: cannot create", parent.display()))?;
            }
            match self {
                Viewer::Dir(d) => {
                    std::fs::copy(d.join(&rel), &to)
                        .with_context(|| format!("{}: cannot copy", d.join(&rel).display()))?;
                }
                Viewer::Embedded => {
                    let bytes = self.read(&rel)?.unwrap_or_default();
                    std::fs::write(&to, bytes).with_context(|| format!("{}: cannot write", to.display()))?;
                }
            }
        }
        Ok(())
    }
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
    if v.len() > perfbundle_core::bundle::MAX_RUNS {
        bail!(
            "{}: {} bundles; a list of runs holds at most {}: give a folder of fewer (the latest, say)",
            path.display(),
            v.len(),
            perfbundle_core::bundle::MAX_RUNS
        );
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
                eprintln!(
                    "perfbundle: warning: {}; left out of the list of runs",
                    crate::terminal::terminal_text(&format!("{e:#}"))
                );
                continue;
            }
            Err(e) => return Err(e),
        };
        let name = b.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        entries.push(perfbundle_core::bundle::IndexEntry::of(&bundle, &format!("bundles/{name}")));
    }
    Ok(perfbundle_core::bundle::SiteIndex::new(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_viewer_is_the_committed_one() {
        assert!(embedded_available(), "build.rs embeds viewer-dist/");
        let v = Viewer::Embedded;
        let index = String::from_utf8(v.read("index.html").unwrap().unwrap()).unwrap();
        assert!(index.contains("<title>perfbundle viewer</title>"));
        let (_, wasm) = v.one("wasm", |n| n.ends_with("_bg.wasm")).unwrap();
        assert_eq!(&wasm[..4], b"\0asm");
        assert!(v.read("perfbundle-viewer.js").unwrap().is_some());
        assert!(v.read("no-such-file").unwrap().is_none());
        // Written out, the files are byte for byte those of viewer-dist/.
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("viewer-dist");
        let out = std::env::temp_dir().join(format!("perfbundle-viewer-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        v.copy_to(&out).unwrap();
        let files = v.files().unwrap();
        assert_eq!(files, Viewer::Dir(src.clone()).files().unwrap());
        for f in &files {
            assert_eq!(std::fs::read(out.join(f)).unwrap(), std::fs::read(src.join(f)).unwrap(), "{f}");
        }
        let _ = std::fs::remove_dir_all(&out);
    }

    #[test]
    fn a_given_folder_must_be_a_built_viewer() {
        let dir = std::env::temp_dir().join(format!("perfbundle-viewer-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = find_viewer(Some(&dir)).unwrap_err().to_string();
        assert!(e.contains("not a built viewer") && e.contains("--viewer"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
