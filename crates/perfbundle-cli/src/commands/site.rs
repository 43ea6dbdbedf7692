//! `perfbundle site`: a static site of runs — the viewer, the bundles, an
//! `index.json` and a landing page listing them — that works from any sub-path.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::viewer::{bundles_of, find_viewer, site_index, trend_html_by};

/// Build a static site (viewer + bundles + index.json) from a folder of bundles.
#[derive(Args, Debug)]
pub struct SiteArgs {
    /// A folder of .perfbundle files (or one bundle).
    pub dir: PathBuf,
    /// Output folder.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub out: PathBuf,
    /// A built viewer folder to use instead of the one built into perfbundle (see `perfbundle view --help`).
    #[arg(long, value_name = "DIR")]
    pub viewer: Option<PathBuf>,
    /// Replace an existing output folder.
    #[arg(long)]
    pub force: bool,
    /// Order the trend page (trend.html) by this label, compared as versions (default: run start time).
    #[arg(long, value_name = "LABEL")]
    pub by: Option<String>,
}

/// The folder as it is on disk (for a path that may not exist yet: its
/// nearest existing ancestor's real path, the rest appended).
fn real(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(p) };
    let mut tail = Vec::new();
    let mut at = abs.as_path();
    loop {
        if let Ok(r) = std::fs::canonicalize(at) {
            return tail.iter().rev().fold(r, |acc, c| acc.join(c));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                tail.push(name.to_os_string());
                at = parent;
            }
            _ => return abs,
        }
    }
}

pub fn run(a: SiteArgs) -> Result<ExitCode> {
    if a.out.exists() && !a.out.is_dir() {
        bail!("{}: exists and is not a folder (a site is a folder): choose another -o", a.out.display());
    }
    if a.out.exists() && !a.force {
        bail!("{}: exists; use --force to replace it", a.out.display());
    }
    // --force replaces the output folder whole: it must not be, nor hold, the folder of runs.
    let (out, dir) = (real(&a.out), real(&a.dir));
    if dir.starts_with(&out) {
        bail!(
            "{}: the output folder is, or holds, the folder of runs {}: replacing it would delete them; write the site elsewhere",
            a.out.display(),
            a.dir.display()
        );
    }
    let viewer = find_viewer(a.viewer.as_deref())?;
    let bundles = bundles_of(&a.dir)?;
    let mut index = site_index(&bundles, true)?;
    index.by = a.by.clone();
    let parent = a.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = a.out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "site".into());
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let result = (|| -> Result<()> {
        viewer.copy_to(&staging)?;
        std::fs::create_dir_all(staging.join("bundles"))?;
        for b in &bundles {
            std::fs::copy(b, staging.join("bundles").join(b.file_name().unwrap_or_default()))
                .with_context(|| format!("{}: cannot copy", b.display()))?;
        }
        std::fs::write(staging.join("index.json"), serde_json::to_vec_pretty(&index)?)?;
        std::fs::write(staging.join("trend.html"), trend_html_by(&index, a.by.as_deref()))?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    let placed = (|| -> Result<()> {
        if a.out.exists() {
            std::fs::remove_dir_all(&a.out).with_context(|| format!("{}: cannot replace", a.out.display()))?;
        }
        std::fs::rename(&staging, &a.out).with_context(|| format!("{}: cannot move into place", a.out.display()))
    })();
    if let Err(e) = placed {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    crate::emit(&format!(
        "wrote {}: the viewer, {} bundle(s), index.json, trend.html; open index.html (served from any path)\n",
        crate::terminal::path(&a.out),
        bundles.len()
    ));
    Ok(ExitCode::SUCCESS)
}
