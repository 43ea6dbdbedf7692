//! The comparison report (`diff --markdown`): gates, the table of changes
//! (worst regressions first), thresholds on each side, overlay charts of both
//! runs on time since their start, and a differential flame graph per pair of
//! profiles. Builds the text and images in memory; the CLI writes them.

use std::fmt::Write as _;

use super::chart::write_svg;
use super::charts::{overlay_charts, stem, OverlaySide};
use super::diff_flamegraph::write_diff_flamegraph;
use super::markdown::{md_escape, Report};
use crate::bundle::Bundle;
use crate::compare::profiles::DiffTree;
use crate::compare::{Change, Diff, ThresholdDiff, Verdict};
use crate::k6::text::format_stat;
use crate::k6::MetricType;
use crate::profile::FrameMatch;

/// A change as `+12.3% (+4.56ms)`; the relative part left out when the base is 0.
pub fn format_change(kind: MetricType, contains: &str, stat: &str, c: &Change) -> String {
    let abs = match (kind, stat) {
        (MetricType::Rate, "rate") => format!("{:.2} pts", c.abs.abs() * 100.0),
        _ => format_stat(kind, contains, stat, c.abs.abs()),
    };
    let sign = if c.abs < 0.0 { "−" } else { "+" };
    match c.rel {
        Some(r) => format!("{:+.2}% ({sign}{abs})", r * 100.0),
        None => format!("{sign}{abs}"),
    }
}

/// The verdict as a reader sees it.
pub fn verdict_label(c: &Change) -> &'static str {
    match (c.verdict, c.tested) {
        (Verdict::Regression, _) => "regression",
        (Verdict::Improvement, _) => "improvement",
        (Verdict::Same, true) => "within noise",
        (Verdict::Same, false) => "not tested",
    }
}

/// The values a threshold reads on each side, formatted: (`p(95)=171.63ms`, `p(95)=88.1ms`).
pub fn threshold_values(d: &Diff, t: &ThresholdDiff) -> (Option<String>, Option<String>) {
    let Some(agg) = crate::threshold::parse(&t.expr).map(|p| p.aggregation) else { return (None, None) };
    let Some(m) = d.metrics.get(&t.metric) else { return (None, None) };
    let side = |vals: &std::collections::BTreeMap<String, f64>| {
        vals.get(&agg).map(|v| format!("{agg}={}", format_stat(m.kind, &m.contains, &agg, *v)))
    };
    (side(&m.base), side(&m.candidate))
}

/// A threshold's verdict on one side: `✓ passed`, `✗ failed`, `—` (absent there).
pub fn threshold_mark(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "✓ passed",
        Some(false) => "✗ failed",
        None => "—",
    }
}

/// Builds `report.md` and its images for the comparison `d` of `base` and `cand`.
pub fn compare_report(base: &Bundle, cand: &Bundle, d: &Diff, all: bool) -> Report {
    let mut out = String::new();
    let mut files = Vec::new();
    let _ = writeln!(out, "# {} → {}\n", md_escape(&d.base.title), md_escape(&d.candidate.title));
    let _ = writeln!(out, "| | base | candidate |\n|---|---|---|");
    let keys: std::collections::BTreeSet<&String> = d.base.labels.keys().chain(d.candidate.labels.keys()).collect();
    let _ = writeln!(
        out,
        "| run start | {} | {} |",
        md_escape(d.base.start.as_deref().unwrap_or("—")),
        md_escape(d.candidate.start.as_deref().unwrap_or("—"))
    );
    for k in keys {
        let get = |l: &std::collections::BTreeMap<String, String>| md_escape(l.get(k).map_or("—", String::as_str));
        let _ = writeln!(out, "| {} | {} | {} |", md_escape(k), get(&d.base.labels), get(&d.candidate.labels));
    }
    out.push('\n');
    if let Some(why) = &d.unrelated {
        let _ = writeln!(out, "> **Warning:** {}\n", md_escape(why));
    }

    if !d.gates.is_empty() {
        let _ = writeln!(out, "## Gates\n");
        for g in &d.gates {
            let mark = if g.passed { "✓ passed" } else { "✗ **failed**" };
            let _ = writeln!(out, "- {mark}: `{}` — {}", g.expr.replace('`', "'"), md_escape(&g.detail));
        }
        out.push('\n');
    }

    let rows = d.ranked_rows(all);
    if !rows.is_empty() {
        let regressions = rows.iter().filter(|r| r.change.verdict == Verdict::Regression).count();
        let improvements = rows.iter().filter(|r| r.change.verdict == Verdict::Improvement).count();
        let _ = writeln!(out, "## k6 metrics\n");
        let _ = writeln!(
            out,
            "{regressions} regressions, {improvements} improvements (95% tests on the stored histograms and counts; see FORMAT.md §12).\n"
        );
        let _ = writeln!(out, "| metric | stat | base | candidate | change | verdict |\n|---|---|---|---|---|---|");
        for r in &rows {
            let m = r.metric;
            let f = |side: &std::collections::BTreeMap<String, f64>| {
                side.get(r.stat).map_or("—".to_string(), |v| format_stat(m.kind, &m.contains, r.stat, *v))
            };
            let verdict = match r.change.verdict {
                Verdict::Regression => "**regression**".to_string(),
                _ => verdict_label(r.change).to_string(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {verdict} |",
                md_escape(r.key),
                md_escape(r.stat),
                md_escape(&f(&m.base)),
                md_escape(&f(&m.candidate)),
                md_escape(&format_change(m.kind, &m.contains, r.stat, r.change)),
            );
        }
        out.push('\n');
    }
    if !d.thresholds.is_empty() {
        let _ = writeln!(out, "## Thresholds\n\n| metric | threshold | base | candidate |\n|---|---|---|---|");
        for t in &d.thresholds {
            let (vb, vc) = threshold_values(d, t);
            let with =
                |mark: &str, v: Option<String>| v.map_or(mark.to_string(), |v| format!("{mark} {}", md_escape(&v)));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                md_escape(&t.metric),
                md_escape(&t.expr),
                with(threshold_mark(t.base), vb),
                with(threshold_mark(t.candidate), vc)
            );
        }
        out.push('\n');
    }
    for (what, list) in [("Only in the base", &d.only_in_base), ("Only in the candidate", &d.only_in_candidate)] {
        if !list.is_empty() {
            let names: Vec<String> = list.iter().map(|k| md_escape(k)).collect();
            let _ = writeln!(out, "**{what}:** {}\n", names.join(", "));
        }
    }

    if let (Some(bs), Some(bt), Some(cs), Some(ct)) =
        (&base.k6_summary, &base.k6_timeseries, &cand.k6_summary, &cand.k6_timeseries)
    {
        let charts = overlay_charts(&OverlaySide::new(bs, bt), &OverlaySide::new(cs, ct));
        if !charts.is_empty() {
            let _ = writeln!(out, "## Charts (time since each run's start; base dashed, candidate solid)\n");
        }
        for c in charts {
            if c.chart.lines.iter().all(|l| l.points.is_empty()) {
                continue;
            }
            let file = format!("compare-{}.svg", c.id);
            let mut v = Vec::new();
            let _ = write_svg(&c.chart, &mut v);
            files.push((file.clone(), v));
            let _ = writeln!(out, "![{}]({file})\n", md_escape(&c.alt));
        }
    }

    if !d.profiles.is_empty() {
        let how = match d.frame_match {
            FrameMatch::NameModule => "by name and module (the file's last path parts, version-like parts left out)",
            FrameMatch::Name => "by name alone",
            FrameMatch::Exact => "by name, file, line and column exactly",
        };
        let _ = writeln!(out, "## Profiles\n\nFunctions are paired {how} (`--match {}`).\n", d.frame_match.as_str());
    }
    for (i, p) in d.profiles.iter().enumerate() {
        let (pb, pc) = (&base.profiles[p.base_index], &cand.profiles[p.candidate_index]);
        let tree = DiffTree::new(pb, pc, d.frame_match);
        let file = format!("diff-flamegraph-{i}-{}.svg", stem(&p.candidate));
        let mut v = Vec::new();
        let title = format!("{} → {}", p.base, p.candidate);
        if write_diff_flamegraph(&tree, &title, &mut v).is_ok() {
            files.push((file.clone(), v));
        }
        let _ = writeln!(
            out,
            "### {} → {} ({} → {} samples)\n",
            md_escape(&p.base),
            md_escape(&p.candidate),
            p.base_samples,
            p.candidate_samples
        );
        let _ = writeln!(out, "![Differential flame graph: red grew, blue shrank]({file})\n");
        let _ = writeln!(
            out,
            "| function | base self | candidate self | base % | candidate % | change |\n|---|---|---|---|---|---|"
        );
        for f in p.top_changes.iter().take(12) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.2}% | {:.2}% | {:+.2} pts |",
                md_escape(&f.label()),
                f.base_self,
                f.candidate_self,
                f.base_share * 100.0,
                f.candidate_share * 100.0,
                (f.candidate_share - f.base_share) * 100.0
            );
        }
        out.push('\n');
    }
    let u = &d.unpaired_profiles;
    if !u.base.is_empty() || !u.candidate.is_empty() {
        let names = |v: &[String]| v.iter().map(|n| md_escape(n)).collect::<Vec<_>>().join(", ");
        let _ = writeln!(
            out,
            "**Profiles with no partner** (pair them with `--pair BASE=CANDIDATE`): base: {}; candidate: {}\n",
            if u.base.is_empty() { "—".into() } else { names(&u.base) },
            if u.candidate.is_empty() { "—".into() } else { names(&u.candidate) }
        );
    }
    Report { markdown: out, files }
}
