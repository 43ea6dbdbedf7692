//! The comparison table: every figure on both sides, its change and its
//! verdict, worst regressions first — the rows `perfbundle diff` prints.

use leptos::prelude::*;
use perfbundle_core::compare::{Diff, Verdict};
use perfbundle_core::render::compare_report::{format_change, format_stat, verdict_label};

#[component]
pub fn CompareTable(diff: std::sync::Arc<Diff>, all: bool) -> impl IntoView {
    let rows: Vec<AnyView> = diff
        .ranked_rows(all)
        .into_iter()
        .map(|r| {
            let m = r.metric;
            let f = |side: &std::collections::BTreeMap<String, f64>| {
                side.get(r.stat).map_or("—".to_string(), |v| format_stat(m.kind, &m.contains, r.stat, *v))
            };
            let raw = |side: &std::collections::BTreeMap<String, f64>| {
                side.get(r.stat).map(|v| v.to_string()).unwrap_or_default()
            };
            let class = match r.change.verdict {
                Verdict::Regression => "verdict regression",
                Verdict::Improvement => "verdict improvement",
                Verdict::Same => "verdict same",
            };
            view! {
                <tr class=class data-testid="compare-row" data-key=r.key.to_string() data-stat=r.stat.to_string()
                    data-verdict=r.change.verdict.as_str()>
                    <th>{r.key.to_string()}</th>
                    <td class="k">{r.stat.to_string()}</td>
                    <td data-testid="base-value" data-value=raw(&m.base)>{f(&m.base)}</td>
                    <td data-testid="candidate-value" data-value=raw(&m.candidate)>{f(&m.candidate)}</td>
                    <td data-testid="change">{format_change(m.kind, &m.contains, r.stat, r.change)}</td>
                    <td class="v">{verdict_label(r.change)}</td>
                </tr>
            }
            .into_any()
        })
        .collect();
    let thresholds: Vec<AnyView> = diff
        .thresholds
        .iter()
        .map(|t| {
            let ok = |v: Option<bool>| match v {
                Some(true) => "✓ passed",
                Some(false) => "✗ failed",
                None => "—",
            };
            view! {
                <tr data-testid="compare-threshold" class:failed=t.candidate == Some(false)>
                    <th>{t.metric.clone()}</th><td>{t.expr.clone()}</td><td>{ok(t.base)}</td><td>{ok(t.candidate)}</td>
                </tr>
            }
            .into_any()
        })
        .collect();
    let has_thresholds = !thresholds.is_empty();
    view! {
        <table class="summary-table compare-table" data-testid="compare-table">
            <thead><tr><th>"metric"</th><th>"stat"</th><th>"base"</th><th>"candidate"</th><th>"change"</th><th>"verdict"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <Show when=move || has_thresholds>
            <h3>"Thresholds"</h3>
        </Show>
        <table class="summary-table" data-testid="compare-thresholds">
            <tbody>{thresholds}</tbody>
        </table>
    }
}
