//! `perfbundle export`: documents drawn from a bundle — SVG flame graphs,
//! icicle graphs and folded stacks of every profile.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use perfbundle_core::bundle::ReadLimits;
use perfbundle_core::render::flamegraph::{write_flamegraph, FlameOptions};

use crate::fsio::{read_bundle, AtomicFile};

/// Write files drawn from a bundle into a folder: a Markdown report with SVG
/// charts and flame graphs, or flame/icicle graphs and folded stacks alone.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The bundle.
    pub file: PathBuf,
    /// Destination folder (created if missing; an existing non-empty one needs --force).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// report.md with the summary, per-name rows, and SVG charts, timelines and flame graphs beside it.
    #[arg(long)]
    pub markdown: bool,
    /// Write into an existing, non-empty folder (files of the same names are replaced).
    #[arg(long)]
    pub force: bool,
    /// One SVG flame graph per profile (NAME.svg).
    #[arg(long)]
    pub flamegraph: bool,
    /// One SVG icicle graph per profile (NAME.icicle.svg).
    #[arg(long)]
    pub icicle: bool,
    /// Folded stacks per profile (NAME.folded), sample counts; `--folded-weights` for weights.
    #[arg(long)]
    pub folded: bool,
    /// With --folded: write each stack's weight (e.g. perf's period) instead of its samples.
    #[arg(long)]
    pub folded_weights: bool,
}

/// A file name for a profile: its name restricted to safe characters.
pub fn safe_name(name: &str, used: &mut Vec<String>) -> String {
    let mut s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).take(100).collect();
    s = s.trim_start_matches('.').to_string();
    if s.is_empty() {
        s = "profile".into();
    }
    let base = s.clone();
    let mut n = 2;
    while used.contains(&s) {
        s = format!("{base}-{n}");
        n += 1;
    }
    used.push(s.clone());
    s
}

pub fn write_atomic(path: &Path, f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let (atomic, file) = AtomicFile::create(path)?;
    let mut w = std::io::BufWriter::new(file);
    f(&mut w).with_context(|| format!("{}: writing", path.display()))?;
    w.flush().with_context(|| format!("{}: writing", path.display()))?;
    drop(w);
    atomic.commit()
}

pub fn run(a: ExportArgs) -> Result<ExitCode> {
    if !(a.markdown || a.flamegraph || a.icicle || a.folded) {
        bail!("nothing to export: give --markdown, --flamegraph, --icicle and/or --folded");
    }
    let b = read_bundle(&a.file, &ReadLimits::default())?;
    if b.profiles.is_empty() && !a.markdown {
        bail!("{}: holds no profile to draw", a.file.display());
    }
    let non_empty = std::fs::read_dir(&a.out_dir).map(|mut d| d.next().is_some()).unwrap_or(false);
    if non_empty && !a.force {
        bail!("{}: exists and is not empty; use --force to write into it", a.out_dir.display());
    }
    std::fs::create_dir_all(&a.out_dir).with_context(|| format!("{}: cannot create", a.out_dir.display()))?;
    let mut used = Vec::new();
    let mut written = Vec::new();
    if a.markdown {
        let report = perfbundle_core::render::markdown::report(&b);
        for (name, bytes) in &report.files {
            let path = a.out_dir.join(name);
            write_atomic(&path, |w| w.write_all(bytes))?;
            written.push(path);
        }
        let path = a.out_dir.join("report.md");
        write_atomic(&path, |w| w.write_all(report.markdown.as_bytes()))?;
        written.push(path);
    }
    for p in b.profiles.iter().filter(|_| a.flamegraph || a.icicle || a.folded) {
        let stem = safe_name(&p.name, &mut used);
        if a.flamegraph {
            let path = a.out_dir.join(format!("{stem}.svg"));
            write_atomic(&path, |w| write_flamegraph(p, &FlameOptions::default(), w))?;
            written.push(path);
        }
        if a.icicle {
            let path = a.out_dir.join(format!("{stem}.icicle.svg"));
            write_atomic(&path, |w| write_flamegraph(p, &FlameOptions::icicle(true), w))?;
            written.push(path);
        }
        if a.folded {
            let path = a.out_dir.join(format!("{stem}.folded"));
            write_atomic(&path, |w| p.write_folded(a.folded_weights, w))?;
            written.push(path);
        }
    }
    let list: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    crate::emit(&format!("{}\n", list.join("\n")));
    Ok(ExitCode::SUCCESS)
}
