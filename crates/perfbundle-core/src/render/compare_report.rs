//! The comparison report (`diff --markdown`), decision first: thresholds on
//! each side with the values they read, the gates, the endpoints that
//! changed (regressions first), overlay charts of both runs on time since
//! their start, a differential flame graph per pair of profiles (idle left
//! out unless asked), then every figure's change. Builds the text and images
//! in memory; the CLI writes them.

use std::fmt::Write as _;

use super::chart::write_svg;
use super::charts::{overlay_charts, stem, OverlaySide};
use super::diff_flamegraph::write_diff_flamegraph;
use super::markdown::{md_escape, Report};
use crate::bundle::Bundle;
use crate::compare::endpoints::EndpointVerdict;
use crate::compare::profiles::DiffTree;
use crate::compare::text::{endpoint_cells, format_change, idle_note, threshold_cell, threshold_values, verdict_label};
use crate::compare::{Diff, Verdict};
use crate::format;
use crate::k6::text::format_stat;
use crate::profile::FrameMatch;

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

    if !d.thresholds.is_empty() {
        let _ = writeln!(out, "## Thresholds\n\n| metric | threshold | base | candidate |\n|---|---|---|---|");
        for t in &d.thresholds {
            let (vb, vc) = threshold_values(d, t);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                md_escape(&t.metric),
                md_escape(&t.expr),
                md_escape(&threshold_cell(t.base, vb)),
                md_escape(&threshold_cell(t.candidate, vc))
            );
        }
        out.push('\n');
    }
    if !d.gates.is_empty() {
        let _ = writeln!(out, "## Gates\n");
        for g in &d.gates {
            let mark = if g.passed { "✓ passed" } else { "✗ **failed**" };
            let _ = writeln!(out, "- {mark}: `{}` — {}", g.expr.replace('`', "'"), md_escape(&g.detail));
        }
        out.push('\n');
    }

    let changed: Vec<_> = d.endpoints.iter().filter(|e| e.verdict != EndpointVerdict::Unchanged).collect();
    if !d.endpoints.is_empty() {
        let _ = writeln!(
            out,
            "## Endpoints\n\n{} of {} endpoints (k6's `name` tag) changed; each tested at 95% (Mann–Whitney on the latency histograms, two-proportion on failures; FORMAT.md §12).\n",
            changed.len(),
            d.endpoints.len()
        );
    }
    if !changed.is_empty() {
        let _ = writeln!(out, "| endpoint | requests | failed | p(95) | median | verdict |\n|---|---|---|---|---|---|");
        for e in &changed {
            let [n, f, p95, med, v] = endpoint_cells(e);
            let v = if e.verdict == EndpointVerdict::Regression { format!("**{v}**") } else { v };
            let _ = writeln!(out, "| {} | {n} | {f} | {p95} | {med} | {v} |", md_escape(&e.name));
        }
        out.push('\n');
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
        let (vb, vc) = (pb.cpu_view(!p.idle_left_out), pc.cpu_view(!p.idle_left_out));
        let tree = DiffTree::new(&vb.profile, &vc.profile, d.frame_match);
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
        if let Some(note) = idle_note(p) {
            let _ =
                writeln!(out, "_{}; shares are of the other samples (`--with-idle` draws it)._\n", md_escape(&note));
        }
        let _ = writeln!(out, "![Differential flame graph: red grew, blue shrank]({file})\n");
        let _ = writeln!(
            out,
            "| function | base self | candidate self | base % | candidate % | change |\n|---|---|---|---|---|---|"
        );
        for f in p.top_changes.iter().take(12) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                md_escape(&f.label()),
                f.base_self,
                f.candidate_self,
                format::pct(f.base_share),
                format::pct(f.candidate_share),
                format::points(f.candidate_share - f.base_share)
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
    let rows = d.ranked_rows(all);
    if !rows.is_empty() {
        let regressions = rows.iter().filter(|r| r.change.verdict == Verdict::Regression).count();
        let improvements = rows.iter().filter(|r| r.change.verdict == Verdict::Improvement).count();
        let _ = writeln!(out, "## Every k6 figure\n");
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
    for (what, list) in [("Only in the base", &d.only_in_base), ("Only in the candidate", &d.only_in_candidate)] {
        if !list.is_empty() {
            let names: Vec<String> = list.iter().map(|k| md_escape(k)).collect();
            let _ = writeln!(out, "**{what}:** {}\n", names.join(", "));
        }
    }

    Report { markdown: out, files }
}
