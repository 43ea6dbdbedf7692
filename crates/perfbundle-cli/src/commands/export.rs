//! `perfbundle export`: documents drawn from a bundle — SVG flame graphs,
//! icicle graphs and folded stacks of every profile.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use perfbundle_core::bundle::ReadLimits;
use perfbundle_core::render::flamegraph::{write_flamegraph, FlameOptions};

use crate::fsio::{read_bundle, write_file, write_with, StagedDir};

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
    /// Folded stacks per profile (NAME.folded): each stack's weight where the
    /// source weighs samples (perf's periods, as `inferno-collapse-perf` writes
    /// them; a .cpuprofile's µs), else its samples.
    #[arg(long)]
    pub folded: bool,
    /// With --folded: write sample counts even where the source has weights.
    #[arg(long, conflicts_with = "folded_weights")]
    pub folded_samples: bool,
    /// Flame and icicle graphs and folded stacks by sample counts even where
    /// the source has weights (they go by weight otherwise, as its tools do).
    #[arg(long, conflicts_with = "folded_weights")]
    pub by_samples: bool,
    /// With --folded: weights where the source has them (the default; kept for scripts).
    #[arg(long)]
    pub folded_weights: bool,
    /// Draw the profiles' idle samples (the event loop waiting) in the flame
    /// and icicle graphs and the Markdown report; by default they are left
    /// out and their share is said once. Folded stacks and speedscope files
    /// always hold every sample.
    #[arg(long)]
    pub with_idle: bool,
    /// One speedscope file per profile (NAME.speedscope.json), to open in
    /// speedscope: weights where the source has them, samples in time order
    /// where it has their times.
    #[arg(long)]
    pub speedscope: bool,
}

/// The file names given so far, and the next number to try for each name
/// (thousands of profiles of one name are named in linear time).
#[derive(Default)]
pub struct UsedNames {
    used: std::collections::HashSet<String>,
    next: std::collections::HashMap<String, usize>,
}

impl UsedNames {
    fn contains(&self, s: &str) -> bool {
        self.used.contains(s)
    }
}

/// A file name for a profile: its name restricted to safe characters.
pub fn safe_name(name: &str, used: &mut UsedNames) -> String {
    let mut s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).take(100).collect();
    s = s.trim_start_matches('.').to_string();
    if s.is_empty() {
        s = "profile".into();
    }
    let base = s.clone();
    let mut n = used.next.get(&base).copied().unwrap_or(2);
    while used.contains(&s) {
        s = format!("{base}-{n}");
        n += 1;
    }
    used.next.insert(base, n);
    used.used.insert(s.clone());
    s
}

pub fn run(a: ExportArgs) -> Result<ExitCode> {
    if !(a.markdown || a.flamegraph || a.icicle || a.folded || a.speedscope) {
        bail!("nothing to export: give --markdown, --flamegraph, --icicle, --folded and/or --speedscope");
    }
    // The folder is checked, and a temporary one made beside it, before the
    // work: a failure (a full disk) leaves the destination as it was.
    let staged = StagedDir::prepare(&a.out_dir, a.force)?.protecting(std::slice::from_ref(&a.file));
    let b = read_bundle(&a.file, &ReadLimits::default())?;
    if b.profiles.is_empty() && !a.markdown {
        bail!("{}: holds no profile to draw", a.file.display());
    }
    let mut used = UsedNames::default();
    let mut written = Vec::new();
    if a.markdown {
        let report = perfbundle_core::render::markdown::report(&b, a.with_idle);
        for (name, bytes) in &report.files {
            write_file(&staged.path(name), bytes)?;
            written.push(name.clone());
        }
        write_file(&staged.path("report.md"), report.markdown.as_bytes())?;
        written.push("report.md".to_string());
    }
    for p in b.profiles.iter().filter(|_| a.flamegraph || a.icicle || a.folded || a.speedscope) {
        let stem = safe_name(&p.name, &mut used);
        if a.flamegraph {
            let name = format!("{stem}.svg");
            let mut opts = FlameOptions::default();
            (opts.by_samples, opts.with_idle) = (a.by_samples, a.with_idle);
            write_with(&staged.path(&name), |w| write_flamegraph(p, &opts, w))?;
            written.push(name);
        }
        if a.icicle {
            let name = format!("{stem}.icicle.svg");
            let mut opts = FlameOptions::icicle(true);
            (opts.by_samples, opts.with_idle) = (a.by_samples, a.with_idle);
            write_with(&staged.path(&name), |w| write_flamegraph(p, &opts, w))?;
            written.push(name);
        }
        if a.folded {
            let name = format!("{stem}.folded");
            write_with(&staged.path(&name), |w| p.write_folded(!(a.folded_samples || a.by_samples), w))?;
            written.push(name);
        }
        if a.speedscope {
            let name = format!("{stem}.speedscope.json");
            write_with(&staged.path(&name), |w| perfbundle_core::profile::speedscope::write(&[p], &p.name, w))?;
            written.push(name);
        }
    }
    let list: Vec<String> = written.iter().map(|n| crate::terminal::path(&staged.final_path(n))).collect();
    staged.commit()?;
    crate::emit(&format!("{}\n", list.join("\n")));
    Ok(ExitCode::SUCCESS)
}
