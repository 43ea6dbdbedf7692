//! How a comparison reads, in words and units: a change, a verdict, the
//! values a threshold read on each side, an endpoint's figures, what a
//! profile pair leaves out. `diff`'s table, the Markdown report and the
//! viewer's compare view all say it through here.

use std::collections::BTreeMap;

use super::endpoints::{EndpointDiff, EndpointSide};
use super::{Change, Diff, ProfileDiff, ThresholdDiff, Verdict};
use crate::format;
use crate::k6::text::{format_ms, format_stat};
use crate::k6::MetricType;

/// A change as `+12.30% (+4.56ms)`; the relative part left out when the base is 0.
pub fn format_change(kind: MetricType, contains: &str, stat: &str, c: &Change) -> String {
    let abs = match (kind, stat) {
        (MetricType::Rate, "rate") => format!("{:.2} pts", c.abs.abs() * 100.0),
        _ => format_stat(kind, contains, stat, c.abs.abs()),
    };
    let sign = if c.abs < 0.0 { "−" } else { "+" };
    match c.rel {
        Some(r) => format!("{} ({sign}{abs})", format::pct_change(r)),
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
    let side = |vals: &BTreeMap<String, f64>| {
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

/// A threshold's side as one cell: `✗ failed p(95)=171.63ms`.
pub fn threshold_cell(ok: Option<bool>, value: Option<String>) -> String {
    match value {
        Some(v) => format!("{} {v}", threshold_mark(ok)),
        None => threshold_mark(ok).to_string(),
    }
}

/// An endpoint's figure on one side, or `—`.
fn side_figure(s: Option<&EndpointSide>, f: impl Fn(&EndpointSide) -> Option<String>) -> String {
    s.and_then(f).unwrap_or_else(|| "—".into())
}

/// An endpoint's cells, as the endpoints tables show them:
/// `[requests, failed, p(95), median, verdict]`, each `base → candidate`.
pub fn endpoint_cells(e: &EndpointDiff) -> [String; 5] {
    let (b, c) = (e.base.as_ref(), e.candidate.as_ref());
    let both = |f: &dyn Fn(&EndpointSide) -> Option<String>| format!("{} → {}", side_figure(b, f), side_figure(c, f));
    [
        both(&|s| Some(format::group(s.requests))),
        both(&|s| s.failed.map(|f| format!("{} ({})", format::group(f), format::share(f, s.requests)))),
        both(&|s| s.p95_ms.map(format_ms)),
        both(&|s| s.med_ms.map(format_ms)),
        e.verdict.as_str().to_string(),
    ]
}

/// What a profile pair's comparison leaves out: `idle 85.12% → 90.34% of samples, not drawn`.
pub fn idle_note(p: &ProfileDiff) -> Option<String> {
    (p.idle_left_out && (p.base_idle > 0 || p.candidate_idle > 0)).then(|| {
        format!(
            "idle {} → {} of samples, not drawn",
            format::share(p.base_idle, p.base_samples),
            format::share(p.candidate_idle, p.candidate_samples)
        )
    })
}
