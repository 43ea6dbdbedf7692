//! `perfbundle diff BASE CANDIDATE`: every k6 figure on both sides with its
//! change and verdict, thresholds, CI gates, paired profiles; as a table,
//! JSON, or a Markdown report with overlay charts and differential flame
//! graphs. Exit status: 0 when every gate passes, 1 when one fails, 2 on a
//! usage or input error.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use perfbundle_core::bundle::ReadLimits;
use perfbundle_core::compare::{self, Diff, DiffOptions, Verdict};
use perfbundle_core::k6::text::format_stat;
use perfbundle_core::profile::FrameMatch;
use perfbundle_core::render::compare_report::{compare_report, format_change, verdict_label};

use crate::fsio::{read_bundle, write_file, StagedDir};

/// Compare two bundles (a base and a candidate), optionally as a CI gate.
#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The base run's bundle (e.g. main, or v1).
    pub base: PathBuf,
    /// The candidate run's bundle (e.g. the pull request, or v2).
    pub candidate: PathBuf,
    /// Print the comparison as JSON (FORMAT.md §12).
    #[arg(long)]
    pub json: bool,
    /// Fail (exit 1) when METRIC: STAT OP VALUE holds, e.g. 'http_req_duration: p(95) > +10%'.
    /// VALUE is +N%/-N% (change from the base), +N/-N (absolute change) or N (the candidate's value). Repeatable.
    #[arg(long = "fail-if", value_name = "EXPR")]
    pub fail_if: Vec<String>,
    /// Fail when any figure of a metric with a threshold is a regression.
    #[arg(long)]
    pub fail_on_regression: bool,
    /// Pair two profiles by name: BASE_NAME=CANDIDATE_NAME. Repeatable.
    #[arg(long = "pair", value_name = "BASE=CANDIDATE")]
    pub pairs: Vec<String>,
    /// Write report.md with overlay charts and differential flame graphs (and
    /// the pairs' differential folded stacks) into --out-dir.
    #[arg(long, requires = "out_dir")]
    pub markdown: bool,
    /// Folder for --markdown (created; an existing non-empty one needs --force).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Write into an existing, non-empty --out-dir.
    #[arg(long)]
    pub force: bool,
    /// Show every sub-series in the table, not only whole metrics and thresholded ones.
    #[arg(long)]
    pub all: bool,
    /// Functions listed per profile pair.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// How functions of two profiles are paired: name+file (name and the
    /// file's module: its last path parts without version-like parts, so
    /// server-v1.js and server-v2.js pair), name (name alone), or exact
    /// (name, file, line and column as recorded).
    #[arg(long = "match", value_name = "MODE", default_value = "name+file")]
    pub frame_match: FrameMatch,
}

pub fn run(a: DiffArgs) -> Result<ExitCode> {
    match compare_and_report(&a) {
        Ok(d) => Ok(if d.gates_passed() { ExitCode::SUCCESS } else { ExitCode::from(1) }),
        Err(e) => {
            eprintln!("perfbundle: error: {e:#}");
            Ok(ExitCode::from(2))
        }
    }
}

fn compare_and_report(a: &DiffArgs) -> Result<Diff> {
    let pairs = a.pairs.iter().map(|p| crate::args::key_value(p, "--pair")).collect::<Result<Vec<_>>>()?;
    // Gates are parsed before the bundles are read, so a typo fails fast.
    for g in &a.fail_if {
        compare::gate::parse(g)?;
    }
    // The output folder is checked and staged before the work.
    let staged = match (&a.markdown, &a.out_dir) {
        (true, Some(dir)) => Some(StagedDir::prepare(dir, a.force)?),
        (true, None) => bail!("--markdown needs --out-dir"),
        _ => None,
    };
    let base = read_bundle(&a.base, &ReadLimits::default())?;
    let cand = read_bundle(&a.candidate, &ReadLimits::default())?;
    let opts = DiffOptions {
        pairs,
        gates: a.fail_if.clone(),
        fail_on_regression: a.fail_on_regression,
        top: a.top.max(1),
        frame_match: a.frame_match,
    };
    let d = compare::diff(&base, &cand, &opts)?;
    if let Some(staged) = staged {
        let mut report = compare_report(&base, &cand, &d, a.all);
        for (i, p) in d.profiles.iter().enumerate() {
            let lines = compare::profiles::diff_folded(&base.profiles[p.base_index], &cand.profiles[p.candidate_index]);
            let mut text = lines.join("\n");
            text.push('\n');
            report.files.push((format!("diff-{i}.folded"), text.into_bytes()));
        }
        for (name, bytes) in &report.files {
            write_file(&staged.path(name), bytes)?;
        }
        write_file(&staged.path("report.md"), report.markdown.as_bytes())?;
        let report_path = staged.final_path("report.md");
        staged.commit()?;
        eprintln!("wrote {} ({} files beside it)", report_path.display(), report.files.len());
    }
    if a.json {
        let mut s = serde_json::to_string_pretty(&d)?;
        s.push('\n');
        crate::emit(&s);
    } else if !a.markdown {
        crate::emit(&table(&d, a.all, color_wanted()));
    }
    for g in d.gates.iter().filter(|g| !g.passed) {
        eprintln!("perfbundle: gate failed: {} — {}", g.expr, g.detail);
    }
    if let Some(why) = &d.unrelated {
        eprintln!("perfbundle: warning: {why}");
    }
    let u = &d.unpaired_profiles;
    if !u.base.is_empty() || !u.candidate.is_empty() {
        eprintln!(
            "perfbundle: warning: profiles with no partner (pair them with --pair BASE=CANDIDATE): base: [{}], candidate: [{}]",
            u.base.join(", "),
            u.candidate.join(", ")
        );
    }
    Ok(d)
}

fn color_wanted() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// The human view: gates, the table of changes (worst regressions first), thresholds, profiles.
fn table(d: &Diff, all: bool, color: bool) -> String {
    let paint = |s: &str, code: &str| if color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() };
    let mut out = format!("base:      {}\ncandidate: {}\n\n", d.base.title, d.candidate.title);
    let rows = d.ranked_rows(all);
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let m = r.metric;
            let f = |side: &std::collections::BTreeMap<String, f64>| {
                side.get(r.stat).map_or("—".to_string(), |v| format_stat(m.kind, &m.contains, r.stat, *v))
            };
            [
                r.key.to_string(),
                r.stat.to_string(),
                f(&m.base),
                f(&m.candidate),
                format_change(m.kind, &m.contains, r.stat, r.change),
                verdict_label(r.change).to_string(),
            ]
        })
        .collect();
    let head = ["metric", "stat", "base", "candidate", "change", "verdict"];
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for c in &cells {
        for (i, x) in c.iter().enumerate() {
            widths[i] = widths[i].max(x.chars().count());
        }
    }
    let line = |c: &[String]| {
        let mut s = String::new();
        for (i, x) in c.iter().enumerate() {
            let pad = widths[i] - x.chars().count();
            if (2..=4).contains(&i) {
                s.push_str(&" ".repeat(pad));
                s.push_str(x);
            } else {
                s.push_str(x);
                if i + 1 < c.len() {
                    s.push_str(&" ".repeat(pad));
                }
            }
            if i + 1 < c.len() {
                s.push_str("  ");
            }
        }
        s
    };
    if !cells.is_empty() {
        out.push_str(&line(&head.map(String::from)));
        out.push('\n');
        for (r, c) in rows.iter().zip(&cells) {
            let l = line(c);
            out.push_str(&match r.change.verdict {
                Verdict::Regression => paint(&l, "31"),
                Verdict::Improvement => paint(&l, "32"),
                Verdict::Same => l,
            });
            out.push('\n');
        }
        if !all {
            out.push_str("(whole metrics and thresholded series; --all for every sub-series, --json for everything)\n");
        }
        out.push('\n');
    }
    if !d.thresholds.is_empty() {
        out.push_str("thresholds (base → candidate):\n");
        let ok = |v: Option<bool>| match v {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "—",
        };
        for t in &d.thresholds {
            let l = format!("  {}: {}  {} → {}", t.metric, t.expr, ok(t.base), ok(t.candidate));
            out.push_str(&if t.candidate == Some(false) { paint(&l, "31") } else { l });
            out.push('\n');
        }
        out.push('\n');
    }
    for (what, list) in [("only in the base", &d.only_in_base), ("only in the candidate", &d.only_in_candidate)] {
        if !list.is_empty() {
            out.push_str(&format!("{what}: {}\n", list.join(", ")));
        }
    }
    for p in &d.profiles {
        out.push_str(&format!(
            "\nprofile {} → {} ({} → {} samples), largest changes of self share (functions paired by {}):\n",
            p.base,
            p.candidate,
            p.base_samples,
            p.candidate_samples,
            d.frame_match.as_str()
        ));
        for f in p.top_changes.iter().take(10) {
            let delta = (f.candidate_share - f.base_share) * 100.0;
            let l = format!(
                "  {:+7.2} pts  {:6.2}% → {:6.2}%  {}",
                delta,
                f.base_share * 100.0,
                f.candidate_share * 100.0,
                f.label()
            );
            out.push_str(&l);
            out.push('\n');
        }
    }
    if !d.gates.is_empty() {
        out.push_str("\ngates:\n");
        for g in &d.gates {
            let l = format!("  {} {} — {}", if g.passed { "pass" } else { "FAIL" }, g.expr, g.detail);
            out.push_str(&if g.passed { paint(&l, "32") } else { paint(&l, "31") });
            out.push('\n');
        }
    }
    out
}
