//! k6's end-of-test summary as a table — for the whole run, or for the
//! selected time range (then from the stored buckets and histograms).

use std::collections::BTreeMap;

use leptos::prelude::*;
use perfbundle_core::k6::text::format_value;

use crate::state::RunState;

/// The rows shown: metric, the keys to show, a heading.
const ROWS: &[(&str, &[&str])] = &[
    ("checks", &["rate", "passes", "fails"]),
    ("http_req_duration", &["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)"]),
    ("http_reqs", &["count", "rate"]),
    ("http_req_failed", &["rate", "passes", "fails"]),
    ("iteration_duration", &["avg", "min", "med", "max", "p(90)", "p(95)"]),
    ("iterations", &["count", "rate"]),
    ("data_received", &["count", "rate"]),
    ("data_sent", &["count", "rate"]),
    ("vus", &["value", "min", "max"]),
    ("vus_max", &["value", "min", "max"]),
];

fn shown(metric: &str, key: &str, v: f64, contains: &str) -> String {
    match key {
        "rate" if matches!(metric, "checks" | "http_req_failed") => format!("{:.2}%", v * 100.0),
        "rate" => format!("{}/s", format_value((v * 100.0).round() / 100.0, contains)),
        "passes" | "fails" | "count" if contains == "default" => format!("{v}"),
        _ => format_value(v, contains),
    }
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
            let rows = ROWS
                .iter()
                .filter_map(|(metric, keys)| {
                    let with = format!("{metric}{suffix}");
                    let key = if !suffix.is_empty() && s.series.contains_key(&with) { with } else { metric.to_string() };
                    let series = s.series.get(&key)?;
                    let contains = s.metrics.get(*metric).map(|d| d.contains.clone()).unwrap_or_else(|| "default".into());
                    let range_values: BTreeMap<String, f64>;
                    let values = match (range, ts) {
                        (Some((a, b)), Some(ts)) => {
                            range_values = ts.range_values(&key, a, b);
                            &range_values
                        }
                        _ => &series.values,
                    };
                    let cells = keys
                        .iter()
                        .map(|k| {
                            let v = values.get(*k).copied();
                            let text = v.map(|v| shown(metric, k, v, &contains)).unwrap_or_else(|| "–".into());
                            let exact = v.map(|v| format!("{v}")).unwrap_or_default();
                            view! {
                                <td data-testid=format!("v-{metric}-{k}") data-value=exact>
                                    <span class="k">{k.to_string()}"="</span>{text}
                                </td>
                            }
                        })
                        .collect_view();
                    Some(view! { <tr><th>{key.clone()}</th>{cells}</tr> })
                })
                .collect_view();
            let thresholds = s
                .thresholds
                .iter()
                .map(|t| {
                    let (mark, class) = match t.ok {
                        Some(true) => ("✓", "pass"),
                        Some(false) => ("✗", "fail"),
                        None => ("?", "unknown"),
                    };
                    view! {
                        <li class=class data-testid="threshold">
                            {mark}" "{t.metric.clone()}" "<code>{t.expr.clone()}</code>
                        </li>
                    }
                })
                .collect_view();
            let scope = match range {
                Some(_) => "selected time range (from the stored histograms)",
                None => "whole run",
            };
            Some(view! {
                <div class="summary">
                    <h2>"Summary — " <span data-testid="summary-scope">{scope}</span></h2>
                    <ul class="thresholds">{thresholds}</ul>
                    <table class="summary-table" data-testid="summary-table"><tbody>{rows}</tbody></table>
                </div>
            })
        }}
    }
}
