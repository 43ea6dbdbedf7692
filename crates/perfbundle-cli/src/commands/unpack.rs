//! `perfbundle unpack`: a bundle's entries into a folder, refusing any path
//! that would escape it.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use perfbundle_core::bundle::{read_entries, ReadLimits};
use perfbundle_core::BundleError;

/// Extract a bundle's entries (manifest.json, model, raw/) into a folder.
#[derive(Args, Debug)]
pub struct UnpackArgs {
    /// The bundle.
    pub file: PathBuf,
    /// Destination folder (created; must be empty if it exists).
    #[arg(short = 'C', long = "directory", value_name = "DIR")]
    pub dir: PathBuf,
    /// Refuse bundles whose entries add up to more than this many bytes.
    #[arg(long, default_value_t = 16 << 30)]
    pub max_size: u64,
}

fn safe_join(root: &Path, entry: &str) -> Option<PathBuf> {
    let rel = Path::new(entry);
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(root.join(rel))
}

pub fn run(a: UnpackArgs) -> Result<ExitCode> {
    // A link (to a folder, or dangling) would be replaced, not written into: refused first.
    if std::fs::symlink_metadata(&a.dir).is_ok_and(|m| m.file_type().is_symlink()) {
        bail!("{}: is a symbolic link; give a new or empty folder", a.dir.display());
    }
    if a.dir.exists() && std::fs::read_dir(&a.dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        bail!("{}: exists and is not an empty folder", a.dir.display());
    }
    let parent = a.dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("{}: cannot create", parent.display()))?;
    let name = a.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "unpack".into());
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    std::fs::create_dir_all(&staging).with_context(|| format!("{}: cannot create", staging.display()))?;
    let result = unpack_into(&a, &staging);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    let placed = (|| -> Result<()> {
        if a.dir.exists() {
            std::fs::remove_dir(&a.dir).with_context(|| format!("{}: cannot replace", a.dir.display()))?;
        }
        std::fs::rename(&staging, &a.dir).with_context(|| format!("{}: cannot move into place", a.dir.display()))
    })();
    if let Err(e) = placed {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    crate::emit(&format!("unpacked {} into {}\n", crate::terminal::path(&a.file), crate::terminal::path(&a.dir)));
    Ok(ExitCode::SUCCESS)
}

fn unpack_into(a: &UnpackArgs, staging: &Path) -> Result<()> {
    let f = File::open(&a.file).with_context(|| format!("{}: cannot open", a.file.display()))?;
    let display = a.file.display().to_string();
    let limits = ReadLimits::default().with_max_total_bytes(a.max_size);
    let manifest = read_entries(BufReader::with_capacity(1 << 20, f), &display, &limits, &mut |_, e, r| {
        let path = &e.record.path;
        let dest = safe_join(staging, path).ok_or_else(|| BundleError::UnsafePath {
            file: display.clone(),
            path: path.clone(),
            reason: "not a plain relative path".into(),
        })?;
        let io = |context: String| {
            let file = display.clone();
            move |source| BundleError::Io { file, context, source }
        };
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        }
        let mut w = BufWriter::new(File::create(&dest).map_err(io(format!("creating {}", dest.display())))?);
        std::io::copy(r, &mut w).map_err(io(format!("writing {}", dest.display())))?;
        w.flush().map_err(io(format!("writing {}", dest.display())))?;
        Ok(())
    })?;
    let m = serde_json::to_vec_pretty(&manifest)?;
    std::fs::write(staging.join("manifest.json"), m).context("writing manifest.json")?;
    Ok(())
}
