//! The comparison, verdict first: the thresholds on both sides (the value
//! each read, ✓/✗), then the figures that changed — regressions worst
//! first, then improvements — with a filter and sortable columns, and the
//! figures with no significant change folded away. The rows `perfbundle
//! diff` prints.

use leptos::prelude::*;
use perfbundle_core::compare::text::{format_change, threshold_mark, threshold_values, verdict_label};
use perfbundle_core::compare::{Diff, Row, Verdict};
use perfbundle_core::k6::text::format_stat;

/// How the changed rows are ordered.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Order {
    /// Regressions, then improvements, each grouped by metric, the metric
    /// with the largest change first (as `perfbundle diff` ranks them).
    Verdict,
    /// By series key, then statistic.
    Metric,
    /// By the size of the relative change, largest first.
    Change,
}

fn row_view(r: &Row<'_>) -> AnyView {
    let m = r.metric;
    let f = |side: &std::collections::BTreeMap<String, f64>| {
        side.get(r.stat).map_or("—".to_string(), |v| format_stat(m.kind, &m.contains, r.stat, *v))
    };
    let raw =
        |side: &std::collections::BTreeMap<String, f64>| side.get(r.stat).map(|v| v.to_string()).unwrap_or_default();
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
}

/// The rows of `diff` whose verdict is or is not `Same` (`same`), in the
/// ranked order, that the filter text matches (series key or statistic).
fn matching<'a>(diff: &'a Diff, all: bool, filter: &str, same: bool) -> Vec<Row<'a>> {
    let needle = filter.to_lowercase();
    diff.ranked_rows(all)
        .into_iter()
        .filter(|r| (r.change.verdict == Verdict::Same) == same)
        .filter(|r| needle.is_empty() || format!("{} {}", r.key, r.stat).to_lowercase().contains(&needle))
        .collect()
}

#[component]
pub fn CompareTable(diff: std::sync::Arc<Diff>, all: bool) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let order = RwSignal::new(Order::Verdict);
    let thresholds: Vec<AnyView> = diff
        .thresholds
        .iter()
        .map(|t| {
            let (vb, vc) = threshold_values(&diff, t);
            let side = |ok: Option<bool>, v: Option<String>| {
                view! { <td class:fail=ok == Some(false) class:pass=ok == Some(true)>{threshold_mark(ok)}" "<span class="observed">{v}</span></td> }
            };
            view! {
                <tr data-testid="compare-threshold" class:failed=t.candidate == Some(false)>
                    <th>{t.metric.clone()}</th><td><code>{t.expr.clone()}</code></td>
                    {side(t.base, vb)}<td class="muted">"→"</td>{side(t.candidate, vc)}
                </tr>
            }
            .into_any()
        })
        .collect();
    let has_thresholds = !thresholds.is_empty();
    let d = diff.clone();
    let changed = move || {
        let needle = filter.get();
        let mut rows = matching(&d, all, &needle, false);
        match order.get() {
            Order::Verdict => {
                // Each metric's rows together, metrics by their worst change (the ranked order's first row).
                let mut first: std::collections::BTreeMap<(&str, Verdict), usize> = std::collections::BTreeMap::new();
                for (i, r) in rows.iter().enumerate() {
                    first.entry((r.key, r.change.verdict)).or_insert(i);
                }
                let keyed: Vec<(Verdict, usize)> =
                    rows.iter().map(|r| (r.change.verdict, first[&(r.key, r.change.verdict)])).collect();
                let mut idx: Vec<usize> = (0..rows.len()).collect();
                idx.sort_by_key(|&i| keyed[i]);
                rows = idx.into_iter().map(|i| rows[i].clone()).collect();
            }
            Order::Metric => rows.sort_by(|a, b| a.key.cmp(b.key).then(a.stat.cmp(b.stat))),
            Order::Change => {
                let size = |r: &Row<'_>| r.change.rel.map_or(f64::INFINITY, f64::abs);
                rows.sort_by(|a, b| size(b).total_cmp(&size(a)));
            }
        }
        if rows.is_empty() {
            return view! { <tr><td colspan="6" class="muted" data-testid="no-changes">"No significant change"{(!needle.is_empty()).then_some(" matching the filter")}"."</td></tr> }.into_any();
        }
        rows.iter().map(row_view).collect_view().into_any()
    };
    let d = diff.clone();
    let same = move || {
        let rows = matching(&d, all, &filter.get(), true);
        let n = rows.len();
        view! {
            <details class="same-rows" data-testid="compare-same">
                <summary>{format!("{n} figures with no significant change (within noise, or not tested)")}</summary>
                <div class="scroll-x"><table class="summary-table compare-table"><tbody>{rows.iter().map(row_view).collect_view()}</tbody></table></div>
            </details>
        }
    };
    let header = move |label: &'static str, o: Order| {
        view! {
            <th class="sortable" class:sorted=move || order.get() == o data-testid=format!("sort-{label}")
                on:click=move |_| order.set(if order.get() == o { Order::Verdict } else { o })>{label}</th>
        }
    };
    view! {
        <Show when=move || has_thresholds>
            <h3>"Thresholds"</h3>
        </Show>
        <div class="scroll-x">
            <table class="summary-table" data-testid="compare-thresholds">
                <tbody>{thresholds}</tbody>
            </table>
        </div>
        <h3>"What changed"</h3>
        <div class="toolbar">
            <input type="search" placeholder="filter metrics" data-testid="compare-filter"
                prop:value=move || filter.get() on:input=move |ev| filter.set(event_target_value(&ev)) />
        </div>
        <div class="scroll-x">
            <table class="summary-table compare-table" data-testid="compare-table">
                <thead><tr>
                    {header("metric", Order::Metric)}<th>"stat"</th><th>"base"</th><th>"candidate"</th>
                    {header("change", Order::Change)}<th>"verdict"</th>
                </tr></thead>
                <tbody>{changed}</tbody>
            </table>
        </div>
        {same}
    }
}
