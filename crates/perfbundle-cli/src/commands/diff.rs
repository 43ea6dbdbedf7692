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
use perfbundle_core::compare::endpoints::{EndpointDiff, EndpointVerdict};
use perfbundle_core::compare::text::{
    endpoint_cells, format_change, idle_note, threshold_cell, threshold_values, verdict_label,
};
use perfbundle_core::compare::{self, Diff, DiffOptions, Verdict};
use perfbundle_core::format;
use perfbundle_core::k6::text::format_stat;
use perfbundle_core::profile::FrameMatch;
use perfbundle_core::render::compare_report::compare_report;

use crate::terminal::{aligned, terminal_text};

use crate::fsio::{write_file, StagedDir};

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
    /// Keep the profiles' idle samples (the event loop waiting) in the
    /// comparison; by default they are left out and their share is said once.
    #[arg(long)]
    pub with_idle: bool,
}

pub fn run(a: DiffArgs) -> Result<ExitCode> {
    match compare_and_report(&a) {
        Ok(d) => Ok(if d.gates_passed() { ExitCode::SUCCESS } else { ExitCode::from(1) }),
        Err(e) => {
            eprintln!("perfbundle: error: {}", crate::terminal::terminal_text_lines(&format!("{e:#}")));
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
        (true, Some(dir)) => Some(StagedDir::prepare(dir, a.force)?.protecting(&[a.base.clone(), a.candidate.clone()])),
        (true, None) => bail!("--markdown needs --out-dir"),
        _ => None,
    };
    let limits = ReadLimits::default();
    let mut held = crate::fsio::Held::new(limits.max_model_memory);
    let base = held.read(&a.base, &limits)?;
    let cand = held.read(&a.candidate, &limits)?;
    let opts = DiffOptions {
        pairs,
        gates: a.fail_if.clone(),
        fail_on_regression: a.fail_on_regression,
        top: a.top.max(1),
        frame_match: a.frame_match,
        with_idle: a.with_idle,
    };
    let d = compare::diff(&base, &cand, &opts)?;
    if let Some(staged) = staged {
        let mut report = compare_report(&base, &cand, &d, a.all);
        for (i, p) in d.profiles.iter().enumerate() {
            let (pb, pc) = (&base.profiles[p.base_index], &cand.profiles[p.candidate_index]);
            let lines =
                compare::profiles::diff_folded(&pb.cpu_view(a.with_idle).profile, &pc.cpu_view(a.with_idle).profile);
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
        eprintln!("wrote {} ({} files beside it)", crate::terminal::path(&report_path), report.files.len());
    }
    if a.json {
        crate::emit_with(|w| {
            crate::terminal::json_pretty(&mut *w, &d)?;
            w.write_all(b"\n")
        });
    } else if !a.markdown {
        crate::emit(&table(&d, a.all, color_wanted()));
    }
    for g in d.gates.iter().filter(|g| !g.passed) {
        eprintln!("perfbundle: gate failed: {} — {}", terminal_text(&g.expr), terminal_text(&g.detail));
    }
    if let Some(why) = &d.unrelated {
        eprintln!("perfbundle: warning: {}", terminal_text(why));
    }
    let u = &d.unpaired_profiles;
    if !u.base.is_empty() || !u.candidate.is_empty() {
        eprintln!(
            "perfbundle: warning: profiles with no partner (pair them with --pair BASE=CANDIDATE): base: [{}], candidate: [{}]",
            terminal_text(&u.base.join(", ")),
            terminal_text(&u.candidate.join(", "))
        );
    }
    Ok(d)
}

fn color_wanted() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// The human view, decision first: thresholds on both sides with the values
/// they read, gates, the endpoints that changed, the profiles' largest
/// changes (idle left out unless asked), then the table of every figure's
/// change (worst regressions first).
fn table(d: &Diff, all: bool, color: bool) -> String {
    let paint = |s: &str, code: &str| if color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() };
    let mut out =
        format!("base:      {}\ncandidate: {}\n\n", terminal_text(&d.base.title), terminal_text(&d.candidate.title));
    if !d.thresholds.is_empty() {
        out.push_str("thresholds (base → candidate):\n");
        let rows: Vec<[String; 4]> = d
            .thresholds
            .iter()
            .map(|t| {
                let (vb, vc) = threshold_values(d, t);
                [
                    terminal_text(&t.metric),
                    terminal_text(&t.expr),
                    threshold_cell(t.base, vb),
                    format!("→ {}", threshold_cell(t.candidate, vc)),
                ]
            })
            .collect();
        for (t, l) in d.thresholds.iter().zip(aligned(&rows, &[])) {
            let l = format!("  {l}");
            out.push_str(&if t.candidate == Some(false) { paint(&l, "31") } else { l });
            out.push('\n');
        }
        out.push('\n');
    }
    if !d.gates.is_empty() {
        out.push_str("gates:\n");
        for g in &d.gates {
            let l = format!("  {} {} — {}", if g.passed { "pass" } else { "FAIL" }, terminal_text(&g.expr), g.detail);
            out.push_str(&if g.passed { paint(&l, "32") } else { paint(&l, "31") });
            out.push('\n');
        }
        out.push('\n');
    }
    let changed: Vec<&EndpointDiff> = d.endpoints.iter().filter(|e| e.verdict != EndpointVerdict::Unchanged).collect();
    if !d.endpoints.is_empty() {
        out.push_str(&format!(
            "endpoints that changed ({} of {}, by k6's name tag; 95% tests):\n",
            changed.len(),
            d.endpoints.len()
        ));
        let mut rows: Vec<[String; 6]> =
            vec![["endpoint", "requests", "failed", "p(95)", "median", "verdict"].map(String::from)];
        for e in &changed {
            let [n, f, p95, med, v] = endpoint_cells(e);
            rows.push([terminal_text(&e.name), n, f, p95, med, v]);
        }
        for (i, l) in aligned(&rows, &[]).into_iter().enumerate() {
            let l = format!("  {l}");
            out.push_str(&match changed.get(i.wrapping_sub(1)).map(|e| e.verdict) {
                Some(EndpointVerdict::Regression) if i > 0 => paint(&l, "31"),
                Some(EndpointVerdict::Improvement) if i > 0 => paint(&l, "32"),
                _ => l,
            });
            out.push('\n');
        }
        out.push('\n');
    }
    for p in &d.profiles {
        out.push_str(&format!(
            "profile {} → {} ({} → {} samples), largest changes of self share (functions paired by {}):\n",
            terminal_text(&p.base),
            terminal_text(&p.candidate),
            p.base_samples,
            p.candidate_samples,
            d.frame_match.as_str()
        ));
        if let Some(note) = idle_note(p) {
            out.push_str(&format!("  ({note}; shares are of the other samples; --with-idle keeps it)\n"));
        }
        for f in p.top_changes.iter().take(10) {
            out.push_str(&format!(
                "  {:>10}  {:>7} → {:>7}  {}\n",
                format::points(f.candidate_share - f.base_share),
                format::pct(f.base_share),
                format::pct(f.candidate_share),
                terminal_text(&f.label())
            ));
        }
        out.push('\n');
    }
    let rows = d.ranked_rows(all);
    if !rows.is_empty() {
        let mut cells: Vec<[String; 6]> =
            vec![["metric", "stat", "base", "candidate", "change", "verdict"].map(String::from)];
        for r in &rows {
            let m = r.metric;
            let f = |side: &std::collections::BTreeMap<String, f64>| {
                side.get(r.stat).map_or("—".to_string(), |v| format_stat(m.kind, &m.contains, r.stat, *v))
            };
            cells.push([
                terminal_text(r.key),
                r.stat.to_string(),
                f(&m.base),
                f(&m.candidate),
                format_change(m.kind, &m.contains, r.stat, r.change),
                verdict_label(r.change).to_string(),
            ]);
        }
        out.push_str("every figure, worst regressions first:\n");
        for (i, l) in aligned(&cells, &[2, 3, 4]).into_iter().enumerate() {
            out.push_str(&match i.checked_sub(1).map(|k| rows[k].change.verdict) {
                Some(Verdict::Regression) => paint(&l, "31"),
                Some(Verdict::Improvement) => paint(&l, "32"),
                _ => l,
            });
            out.push('\n');
        }
        if !all {
            out.push_str("(whole metrics and thresholded series; --all for every sub-series, --json for everything)\n");
        }
        out.push('\n');
    }
    for (what, list) in [("only in the base", &d.only_in_base), ("only in the candidate", &d.only_in_candidate)] {
        if !list.is_empty() {
            out.push_str(&format!("{what}: {}\n", terminal_text(&list.join(", "))));
        }
    }
    out
}
