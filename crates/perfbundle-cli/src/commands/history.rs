//! `perfbundle history DIR`: every kept run in order (by start time, or by a
//! label compared as versions) with its key figures and the change from the
//! run before.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use perfbundle_core::bundle::SiteIndex;
use perfbundle_core::history::{figure, history, History, FIGURES};
use perfbundle_core::render::markdown::md_escape;

use crate::terminal::{aligned_rows, terminal_text};

/// List every run kept in a folder of bundles (or a site's index.json), in order, with its key figures.
#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// A folder of .perfbundle files, a site folder (with index.json), or an index.json.
    pub path: PathBuf,
    /// Order by this label, compared as versions (`--by version`: 1.9.0 before 1.10.0, v1 before v2).
    #[arg(long, value_name = "LABEL")]
    pub by: Option<String>,
    /// Print JSON.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print a Markdown table.
    #[arg(long)]
    pub markdown: bool,
}

/// The runs of a folder of bundles, a site, or an index.json.
pub fn load_index(path: &Path) -> Result<SiteIndex> {
    let index_file = if path.is_file() && path.extension().is_some_and(|e| e == "json") {
        Some(path.to_path_buf())
    } else if path.is_dir() && path.join("index.json").is_file() && !has_bundles(path) {
        Some(path.join("index.json"))
    } else {
        None
    };
    if let Some(f) = index_file {
        // An index of MAX_RUNS runs is a few MB: a larger file is not one perfbundle wrote.
        const MAX_INDEX_BYTES: u64 = 32 << 20;
        let size = std::fs::metadata(&f).with_context(|| format!("{}: cannot read", f.display()))?.len();
        if size > MAX_INDEX_BYTES {
            bail!("{}: {} MiB; a site index is at most {} MiB", f.display(), size >> 20, MAX_INDEX_BYTES >> 20);
        }
        let bytes = std::fs::read(&f).with_context(|| format!("{}: cannot read", f.display()))?;
        let index: SiteIndex = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a perfbundle site index ({{\"bundles\": [...]}})", f.display()))?;
        if index.bundles.len() > perfbundle_core::bundle::MAX_RUNS {
            bail!(
                "{}: {} runs; a list of runs holds at most {}",
                f.display(),
                index.bundles.len(),
                perfbundle_core::bundle::MAX_RUNS
            );
        }
        return Ok(index);
    }
    let bundles = crate::viewer::bundles_of(path)?;
    let index = crate::viewer::site_index(&bundles, false)?;
    if index.bundles.is_empty() {
        bail!("{}: no readable bundle", path.display());
    }
    Ok(index)
}

fn has_bundles(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).any(|e| e.path().extension().is_some_and(|x| x == "perfbundle")))
        .unwrap_or(false)
}

fn fmt_figure(key: &str, v: Option<f64>) -> String {
    match (key, v) {
        (_, None) => "—".into(),
        ("http_req_failed_rate" | "checks_rate", Some(x)) => perfbundle_core::format::pct(x),
        ("http_req_duration_p95_ms", Some(x)) => perfbundle_core::k6::text::format_ms(x),
        (_, Some(x)) => format!("{x:.2}/s"),
    }
}

fn cell(h: &History, i: usize, key: &str) -> String {
    let r = &h.runs[i];
    let v = fmt_figure(key, figure(&r.entry, key));
    match r.change.get(key) {
        Some(c) => format!("{v} ({})", perfbundle_core::format::pct_change(*c)),
        None => v,
    }
}

fn thresholds(r: &perfbundle_core::history::HistoryRun) -> String {
    match r.entry.thresholds_passed {
        None => "—".into(),
        Some(true) => "passed".into(),
        Some(false) => format!("FAILED: {}", r.entry.thresholds_failed.join("; ")),
    }
}

fn text(h: &History) -> String {
    let mut rows: Vec<Vec<String>> = vec![{
        let mut head = vec!["run".to_string(), "start".into()];
        if h.by != "start" {
            head.insert(1, h.by.clone());
        }
        head.extend(FIGURES.iter().map(|f| f.1.to_string()));
        head.push("thresholds".into());
        head
    }];
    for (i, r) in h.runs.iter().enumerate() {
        let mut row = vec![terminal_text(&r.entry.title), terminal_text(r.entry.start.as_deref().unwrap_or("—"))];
        if h.by != "start" {
            row.insert(1, terminal_text(r.key.as_deref().unwrap_or("—")));
        }
        row.extend(FIGURES.iter().map(|f| cell(h, i, f.0)));
        row.push(terminal_text(&thresholds(r)));
        rows.push(row);
    }
    rows[0] = rows[0].iter().map(|c| terminal_text(c)).collect();
    let mut out = String::new();
    for line in aligned_rows(&rows, &[]) {
        let _ = writeln!(out, "{line}");
    }
    out
}

fn markdown(h: &History) -> String {
    let mut out = String::new();
    let by = if h.by == "start" { String::new() } else { format!(" {} |", md_escape(&h.by)) };
    let _ = write!(out, "| run |{by} start |");
    for f in FIGURES {
        let _ = write!(out, " {} |", f.1);
    }
    let _ = writeln!(out, " thresholds |");
    let cols = FIGURES.len() + 3 + usize::from(h.by != "start");
    let _ = writeln!(out, "|{}", "---|".repeat(cols));
    for (i, r) in h.runs.iter().enumerate() {
        let _ = write!(out, "| {} |", md_escape(&r.entry.title));
        if h.by != "start" {
            let _ = write!(out, " {} |", md_escape(r.key.as_deref().unwrap_or("—")));
        }
        let _ = write!(out, " {} |", md_escape(r.entry.start.as_deref().unwrap_or("—")));
        for f in FIGURES {
            let _ = write!(out, " {} |", md_escape(&cell(h, i, f.0)));
        }
        let _ = writeln!(out, " {} |", md_escape(&thresholds(r)));
    }
    out
}

pub fn run(a: HistoryArgs) -> Result<ExitCode> {
    let index = load_index(&a.path)?;
    let h = history(index.bundles, a.by.as_deref());
    if let Some(by) = &a.by {
        let missing = h.runs.iter().filter(|r| r.key.is_none()).count();
        if missing == h.runs.len() {
            bail!("no run has a label {} to order by", terminal_text(&format!("{by:?}")));
        }
        if missing > 0 {
            eprintln!(
                "perfbundle: warning: {missing} run(s) have no label {}; listed last, by start time",
                terminal_text(&format!("{by:?}"))
            );
        }
    }
    let out = if a.json {
        let mut v = Vec::new();
        crate::terminal::json_pretty(&mut v, &h)?;
        v.push(b'\n');
        String::from_utf8(v)?
    } else if a.markdown {
        markdown(&h)
    } else {
        text(&h)
    };
    crate::emit(&out);
    Ok(ExitCode::SUCCESS)
}
