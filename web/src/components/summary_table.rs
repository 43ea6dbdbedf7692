//! k6's end-of-test summary, laid out as k6 lays it out (the core's
//! `k6::sections`): thresholds with the values they read, the checks, then
//! every metric by section — for the whole run, or for the selected time
//! range (then from the stored buckets and histograms).
//!
//! Every figure is a cell `data-testid="v-SERIES-KEY"` whose `data-value`
//! is the exact number (keys as k6 names them: `avg`, `p(95)`, `count`,
//! `rate`, `passes`, …).

use std::collections::BTreeMap;

use leptos::prelude::*;
use perfbundle_core::format::{count as format_count, pct};
use perfbundle_core::k6::sections::{keys_in_order, sections, SummaryRow};
use perfbundle_core::k6::text::{format_value, threshold_value};
use perfbundle_core::k6::{K6Summary, K6TimeSeries, MetricType, SeriesSummary};

use super::checks_tree::ChecksTree;
use crate::state::RunState;

/// A figure as k6 prints it.
fn shown(kind: MetricType, key: &str, v: f64, contains: &str) -> String {
    match (kind, key) {
        (MetricType::Rate, "rate") => pct(v),
        (_, "rate") => format!("{}/s", format_value((v * 100.0).round() / 100.0, contains)),
        (MetricType::Trend, "count") => format_count(v),
        (_, "passes" | "fails" | "count") if contains == "default" => format_count(v),
        _ => format_value(v, contains),
    }
}

/// One figure's cell: its text, and its exact value for tests and tools.
fn cell(testid: String, text: String, v: f64) -> impl IntoView {
    view! { <span class="fig" data-testid=testid data-value=format!("{v}")>{text}</span> }
}

/// The figures of one row: every key, a rate as `2.89% — 28 out of 967`.
fn figures(id: &str, kind: MetricType, contains: &str, values: &BTreeMap<String, f64>) -> AnyView {
    let tid = |k: &str| format!("v-{id}-{k}");
    if kind == MetricType::Rate {
        if let (Some(r), Some(p), Some(f)) = (values.get("rate"), values.get("passes"), values.get("fails")) {
            return view! {
                <td class="figs">
                    {cell(tid("rate"), pct(*r), *r)}" — "{cell(tid("passes"), format_count(*p), *p)}
                    " out of "<span data-testid=tid("total")>{format_count(p + f)}</span>
                    <span hidden=true data-testid=tid("fails") data-value=format!("{f}")></span>
                </td>
            }
            .into_any();
        }
    }
    let keys: Vec<String> = keys_in_order(kind, values).into_iter().map(str::to_string).collect();
    let parts = keys
        .into_iter()
        .map(|k| {
            let v = values[&k];
            let text = shown(kind, &k, v, contains);
            let label = match (kind, k.as_str()) {
                (MetricType::Counter, "count") | (MetricType::Gauge, "value") => String::new(),
                (MetricType::Counter, "rate") => String::new(),
                _ => format!("{k}="),
            };
            view! { <span class="kv"><span class="k">{label}</span>{cell(tid(&k), text, v)}</span> }
        })
        .collect_view();
    view! { <td class="figs">{parts}</td> }.into_any()
}

/// A row: the figures of `series` (keyed `key`) for the whole run, or for
/// the range (from the stored buckets).
fn row(
    r: &SummaryRow<'_>,
    series: &SeriesSummary,
    range: Option<(f64, f64)>,
    ts: Option<&K6TimeSeries>,
    key: &str,
    label: &str,
) -> AnyView {
    let range_values;
    let values = match (range, ts) {
        (Some((a, b)), Some(ts)) => {
            range_values = ts.range_values(key, a, b);
            &range_values
        }
        _ => &series.values,
    };
    let id = if r.sub { r.key } else { r.metric };
    let approx = (!series.approximate.is_empty()).then(|| {
        view! { <td class="muted" title="figures whose precision the source limits">"≈ "{series.approximate.join(" ")}</td> }
    });
    view! {
        <tr class:sub=r.sub data-testid="summary-row" data-series=key.to_string()>
            <th>{label.to_string()}</th>
            {figures(id, r.decl.kind, &r.decl.contains, values)}
            {approx}
        </tr>
    }
    .into_any()
}

/// The thresholds, by metric, each with the value it reads: `✗ p(95)<100  p(95)=171.63ms`.
fn thresholds(s: &K6Summary) -> AnyView {
    if s.thresholds.is_empty() {
        return ().into_any();
    }
    let items = s
        .thresholds
        .iter()
        .map(|t| {
            let (mark, class) = match t.ok {
                Some(true) => ("✓", "pass"),
                Some(false) => ("✗", "fail"),
                None => ("?", "unknown"),
            };
            let observed = threshold_value(s, t).map(|(agg, v)| {
                view! { <span class="observed" data-testid="threshold-value">{format!("{agg}={v}")}</span> }
            });
            view! {
                <li class=class data-testid="threshold" data-metric=t.metric.clone() data-expr=t.expr.clone()>
                    <span class="mark">{mark}</span>" "<span class="metric">{t.metric.clone()}</span>" "
                    <code>{t.expr.clone()}</code>" "{observed}
                </li>
            }
        })
        .collect_view();
    view! {
        <h3>"Thresholds"</h3>
        <ul class="thresholds" data-testid="thresholds">{items}</ul>
    }
    .into_any()
}

/// `checks_succeeded 97.49% — 1,091 out of 1,119` and `checks_failed`.
fn check_totals(s: &K6Summary, values: &BTreeMap<String, f64>, range: Option<(f64, f64)>) -> Option<AnyView> {
    let (p, f) = (*values.get("passes")?, *values.get("fails")?);
    let t = p + f;
    let rate = values.get("rate").copied().unwrap_or(if t > 0.0 { p / t } else { 0.0 });
    // Per second of the run, or of the selected range.
    let span_ms = range.map(|(a, b)| b - a).or(s.duration_ms);
    let per_s = span_ms.filter(|d| *d > 0.0).map(|d| format!("{}/s", format_value(t / (d / 1000.0), "default")));
    Some(
        view! {
            <table class="summary-table" data-testid="check-totals"><tbody>
                <tr><th>"checks_total"</th><td class="figs"><span data-testid="checks-total">{format_count(t)}</span>" "{per_s}</td></tr>
                <tr><th>"checks_succeeded"</th><td class="figs">
                    {cell("v-checks-rate".into(), pct(rate), rate)}" — "{cell("v-checks-passes".into(), format_count(p), p)}" out of "{format_count(t)}
                </td></tr>
                <tr><th>"checks_failed"</th><td class="figs">
                    {pct(if t > 0.0 { f / t } else { 0.0 })}" — "{cell("v-checks-fails".into(), format_count(f), f)}" out of "{format_count(t)}
                </td></tr>
            </tbody></table>
        }
        .into_any(),
    )
}

#[component]
pub fn SummaryTable() -> impl IntoView {
    let run = expect_context::<RunState>();
    view! {
        {move || {
            let l = run.bundle.loaded.get()?;
            let s = l.bundle.k6_summary.as_ref()?;
            let ts = l.bundle.k6_timeseries.as_ref();
            let range = run.range.get();
            let suffix = run.series.get();
            let checks = s.series.get("checks").and_then(|c| {
                let values = match (range, ts) {
                    (Some((a, b)), Some(ts)) => ts.range_values("checks", a, b),
                    _ => c.values.clone(),
                };
                check_totals(s, &values, range)
            });
            let secs = sections(s, None)
                .into_iter()
                .map(|sec| {
                    let rows = sec
                        .rows
                        .iter()
                        .map(|r| {
                            // The chosen sub-series replaces its metric's whole-run row.
                            let with = format!("{}{suffix}", r.metric);
                            match s.series.get(&with).filter(|_| !r.sub && !suffix.is_empty()) {
                                Some(chosen) => row(r, chosen, range, ts, &with, &with),
                                None => row(r, r.series, range, ts, r.key, &r.label),
                            }
                        })
                        .collect_view();
                    view! {
                        <h3>{sec.name}</h3>
                        <div class="scroll-x">
                            <table class="summary-table" data-testid=format!("summary-{}", sec.name)><tbody>{rows}</tbody></table>
                        </div>
                    }
                })
                .collect_view();
            let scope = match range {
                Some(_) => "selected time range (from the stored histograms)",
                None => "whole run",
            };
            Some(view! {
                <div class="summary" data-testid="summary-table">
                    <h2>"Summary — " <span data-testid="summary-scope">{scope}</span></h2>
                    {thresholds(s)}
                    {(checks.is_some() || s.checks.is_some()).then(|| view! { <h3>"Checks"</h3> })}
                    <div class="scroll-x">{checks}</div>
                    {s.checks.clone().map(|g| view! { <ChecksTree root=g /> })}
                    {secs}
                </div>
            })
        }}
    }
}
