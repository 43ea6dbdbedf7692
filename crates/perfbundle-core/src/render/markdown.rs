//! The Markdown report: the run's verdict, its summary in k6's terms, its
//! endpoints (k6's `name` tag), and SVG images (charts, Clinic timelines,
//! flame graphs without idle unless asked) beside it. Builds the text and
//! the images in memory; the CLI writes them.

use std::fmt::Write as _;

use super::chart::{write_svg, Chart};
use super::charts;
use crate::bundle::Bundle;
use crate::format::{group, pct, share};
use crate::k6::endpoints::endpoints;
use crate::k6::headline::Headline;
use crate::k6::text::{format_ms, format_value};
use crate::k6::{K6Summary, K6TimeSeries};

/// A report: `report.md` and the files it links to (relative names).
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub markdown: String,
    pub files: Vec<(String, Vec<u8>)>,
}

/// Escapes text from a bundle for Markdown (inline and table cells): HTML is
/// neutralised and Markdown punctuation is backslash-escaped.
pub fn md_escape(s: &str) -> String {
    let s = crate::format::escape_controls(s);
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                o.push('\\');
                o.push(c);
            }
            c => o.push(c),
        }
    }
    o
}

fn svg(chart: &Chart) -> Vec<u8> {
    let mut v = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_svg(chart, &mut v);
    v
}

fn val(s: &K6Summary, key: &str, k: &str) -> Option<f64> {
    s.series.get(key).and_then(|x| x.values.get(k).copied())
}

fn summary_section(out: &mut String, s: &K6Summary) {
    let h = Headline::of(s);
    let _ = writeln!(out, "## Verdict\n");
    for (k, v) in h.figures() {
        let _ = writeln!(out, "- **{}**: {}", md_escape(k), md_escape(&v));
    }
    out.push('\n');
    let _ = writeln!(out, "## Summary (k6)\n");
    if !s.thresholds.is_empty() {
        let _ = writeln!(out, "| | threshold | on | value |\n|---|---|---|---|");
        for t in &s.thresholds {
            let mark = match t.ok {
                Some(true) => "✓",
                Some(false) => "✗",
                None => "?",
            };
            let shown = crate::k6::text::threshold_value(s, t).map(|(_, v)| v).unwrap_or_default();
            let _ = writeln!(
                out,
                "| {mark} | `{}` | {} | {} |",
                t.expr.replace('`', "'"),
                md_escape(&t.metric),
                md_escape(&shown)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "| metric | values |\n|---|---|");
    let time = |k: &str, key: &str| val(s, key, k).map(|v| format!("{k}={}", format_ms(v)));
    let row = |out: &mut String, name: &str, cells: Vec<Option<String>>| {
        let cells: Vec<String> = cells.into_iter().flatten().collect();
        if !cells.is_empty() {
            let _ = writeln!(out, "| {name} | {} |", md_escape(&cells.join("  ")));
        }
    };
    if let (Some(p), Some(f)) = (val(s, "checks", "passes"), val(s, "checks", "fails")) {
        row(out, "checks", vec![Some(format!("{} succeeded ({:.0} of {:.0})", pct(p / (p + f).max(1.0)), p, p + f))]);
    }
    row(
        out,
        "http_req_duration",
        ["avg", "min", "med", "p(90)", "p(95)", "p(99)", "max"].iter().map(|k| time(k, "http_req_duration")).collect(),
    );
    if let Some(c) = val(s, "http_reqs", "count") {
        row(out, "http_reqs", vec![Some(format!("{c}")), val(s, "http_reqs", "rate").map(|r| format!("{r:.2}/s"))]);
    }
    if let Some(r) = val(s, "http_req_failed", "rate") {
        row(
            out,
            "http_req_failed",
            vec![Some(pct(r)), val(s, "http_req_failed", "passes").map(|p| format!("{p:.0} failed"))],
        );
    }
    if let Some(c) = val(s, "iterations", "count") {
        row(out, "iterations", vec![Some(format!("{c}")), val(s, "iterations", "rate").map(|r| format!("{r:.2}/s"))]);
    }
    for m in ["data_received", "data_sent"] {
        if let Some(c) = val(s, m, "count") {
            row(
                out,
                m,
                vec![
                    Some(format_value(c, "data")),
                    val(s, m, "rate").map(|r| format!("{}/s", format_value(r, "data"))),
                ],
            );
        }
    }
    for m in ["vus", "vus_max"] {
        if let Some(v) = val(s, m, "value") {
            row(
                out,
                m,
                vec![
                    Some(format!("{v}")),
                    val(s, m, "min").map(|x| format!("min={x}")),
                    val(s, m, "max").map(|x| format!("max={x}")),
                ],
            );
        }
    }
    out.push('\n');

    let eps = endpoints(s);
    if !eps.is_empty() {
        let _ = writeln!(
            out,
            "### Endpoints (k6's `name` tag)\n\n| endpoint | requests | failed | median | p(95) | p(99) | max |\n|---|---|---|---|---|---|---|"
        );
        let ms = |v: Option<f64>| v.map(format_ms).unwrap_or_default();
        for e in &eps {
            let failed = e.failed.map(|f| format!("{} ({})", group(f), share(f, e.requests))).unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                md_escape(&e.name),
                group(e.requests),
                failed,
                ms(e.med_ms),
                ms(e.p95_ms),
                ms(e.p99_ms),
                ms(e.max_ms),
            );
        }
        out.push('\n');
    }
}

fn k6_charts(out: &mut String, files: &mut Vec<(String, Vec<u8>)>, s: &K6Summary, ts: &K6TimeSeries) {
    let _ = writeln!(out, "## Charts\n");
    for c in charts::k6_charts(s, ts, "", ts.span_ms()) {
        if c.chart.lines.iter().all(|l| l.points.is_empty()) {
            continue;
        }
        let file = format!("{}.svg", c.id);
        files.push((file.clone(), svg(&c.chart)));
        let _ = writeln!(out, "![{}]({file})\n", md_escape(&c.alt));
    }
}

/// Builds the Markdown report of a bundle; its profiles without their idle
/// samples unless `with_idle` (their share said once).
pub fn report(b: &Bundle, with_idle: bool) -> Report {
    let mut out = String::new();
    let mut files = Vec::new();
    let m = &b.manifest;
    let _ = writeln!(out, "# {}\n", md_escape(&m.title));
    if !m.labels.is_empty() {
        let l: Vec<String> = m.labels.iter().map(|(k, v)| format!("{}={}", md_escape(k), md_escape(v))).collect();
        let _ = writeln!(out, "**Labels:** {}  ", l.join(" · "));
    }
    if let (Some(s), Some(e)) = (&m.run.start, &m.run.end) {
        let d = m.run.duration_ms.map(|d| format!(" ({})", format_ms(d))).unwrap_or_default();
        let _ = writeln!(out, "**Run:** {} → {}{}  ", md_escape(s), md_escape(e), md_escape(&d));
    }
    if !m.tools.is_empty() {
        let t: Vec<String> = m.tools.iter().map(|(k, v)| format!("{} {}", md_escape(k), md_escape(v))).collect();
        let _ = writeln!(out, "**Tools:** {}  ", t.join(" · "));
    }
    let _ = writeln!(out, "**Bundle:** format {}, {}\n", md_escape(&m.format_version), md_escape(&m.created_by));

    let mut absent = Vec::new();
    match &b.k6_summary {
        Some(s) => {
            summary_section(&mut out, s);
            match &b.k6_timeseries {
                Some(ts) => k6_charts(&mut out, &mut files, s, ts),
                None => absent.push("k6 time series (the bundle has k6's summary but no point stream): no charts"),
            }
        }
        None => absent.push("k6 data: no summary and no charts"),
    }
    for (i, t) in b.timelines.iter().enumerate() {
        let _ = writeln!(
            out,
            "## Process timeline — {} ({}, {} GC events)\n",
            md_escape(&t.name),
            md_escape(&t.source),
            t.gc.len()
        );
        let domain = match &b.k6_timeseries {
            Some(ts) => ts.span_ms(),
            None => (t.t_unix_ms.first().copied().unwrap_or(0.0), t.t_unix_ms.last().copied().unwrap_or(1.0)),
        };
        if let Some(why) = b.k6_timeseries.as_ref().and_then(|ts| t.apart_from(ts.span_ms())) {
            let _ = writeln!(out, "Not drawn: {}.\n", md_escape(&why));
            continue;
        }
        for c in charts::timeline_charts(t, i, domain) {
            let file = format!("{}.svg", c.id);
            files.push((file.clone(), svg(&c.chart)));
            let _ = writeln!(out, "![{}]({file})\n", md_escape(&c.alt));
        }
    }
    if b.timelines.is_empty() {
        absent.push("process timelines (no Clinic.js doctor data)");
    }
    if !b.profiles.is_empty() {
        let _ = writeln!(out, "## Profiles\n");
    }
    #[cfg_attr(not(feature = "inferno"), allow(unused_variables))]
    for (i, whole) in b.profiles.iter().enumerate() {
        let view = whole.cpu_view(with_idle);
        let p: &crate::profile::Profile = &view.profile;
        let _ =
            writeln!(out, "### {} ({}, {} samples)\n", md_escape(&p.name), md_escape(&p.source), whole.total_samples);
        if let Some(note) = view.note() {
            let _ = writeln!(out, "_{note}; shares below are of the other samples (`--with-idle` draws it)._\n");
        }
        // The flame graph SVG is inferno's (built without it, the report has the table only).
        #[cfg(feature = "inferno")]
        {
            use super::flamegraph::{write_flamegraph, FlameOptions};
            let file = format!("flamegraph-{i}-{}.svg", charts::stem(&p.name));
            let mut v = Vec::new();
            let opts = FlameOptions { with_idle, ..FlameOptions::default() };
            if write_flamegraph(whole, &opts, &mut v).is_ok() {
                files.push((file.clone(), v));
                let _ = writeln!(out, "![Flame graph of {}]({file})\n", md_escape(&p.name));
            }
        }
        let _ = writeln!(out, "| self | self % | total % | category | function |\n|---|---|---|---|---|");
        for f in p.functions().into_iter().filter(|f| f.total_samples > 0).take(10) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                f.self_samples,
                share(f.self_samples, p.total_samples),
                share(f.total_samples, p.total_samples),
                f.category.as_str(),
                md_escape(&f.function)
            );
        }
        out.push('\n');
    }
    if b.profiles.is_empty() {
        absent.push("profiles (no CPU profile in the bundle)");
    }
    if !absent.is_empty() {
        let _ = writeln!(out, "## Not in this bundle\n");
        for a in absent {
            let _ = writeln!(out, "- {a}");
        }
        out.push('\n');
    }
    let _ = writeln!(out, "_Made by {} from `{}`._", md_escape(&m.created_by), md_escape(&m.title));
    Report { markdown: out, files }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markdown_and_html() {
        assert_eq!(md_escape("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert(1)&gt;");
        assert_eq!(md_escape("a|b"), "a\\|b");
        assert_eq!(md_escape("[x](javascript:y)"), "\\[x\\](javascript:y)");
    }
}
