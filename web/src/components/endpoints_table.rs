//! A run's endpoints (k6's `name` tag): requests, failed requests, median,
//! p(95) and p(99) of `http_req_duration` — the core's
//! [`perfbundle_core::k6::endpoints`] — sortable by any column; a row (click
//! or Enter) opens the charts of that endpoint's sub-series.
//!
//! Test ids: rows `endpoint` with `data-name`, `data-count`, `data-failed`
//! and `data-p95` (ms).

use leptos::prelude::*;
use perfbundle_core::format::{group, share};
use perfbundle_core::k6::endpoints::{endpoints, Endpoint, TAG};
use perfbundle_core::k6::text::format_ms;

use crate::state::{RunState, Tab};

/// The columns a table can be sorted by.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SortBy {
    Name,
    Requests,
    Failed,
    Median,
    P95,
    P99,
}

fn key(e: &Endpoint, by: SortBy) -> f64 {
    match by {
        SortBy::Name => 0.0,
        SortBy::Requests => e.requests as f64,
        SortBy::Failed => e.failed_rate().unwrap_or(0.0),
        SortBy::Median => e.med_ms.unwrap_or(0.0),
        SortBy::P95 => e.p95_ms.unwrap_or(0.0),
        SortBy::P99 => e.p99_ms.unwrap_or(0.0),
    }
}

fn ms(v: Option<f64>) -> String {
    v.map(format_ms).unwrap_or_else(|| "—".into())
}

#[component]
pub fn EndpointsTable() -> impl IntoView {
    let run = expect_context::<RunState>();
    let sort = RwSignal::new(SortBy::Requests);
    let rows = move || {
        let l = run.bundle.loaded.get()?;
        let s = l.bundle.k6_summary.as_ref()?;
        let mut list = endpoints(s);
        if list.is_empty() {
            return None;
        }
        let by = sort.get();
        if by == SortBy::Name {
            list.sort_by(|a, b| a.name.cmp(&b.name));
        } else {
            list.sort_by(|a, b| key(b, by).total_cmp(&key(a, by)).then_with(|| a.name.cmp(&b.name)));
        }
        let chosen = run.series.get();
        Some(
            list.into_iter()
                .map(|e| {
                    let series = format!("{{{TAG}:{}}}", e.name);
                    let active = chosen == series;
                    let open = move || {
                        run.series.set(series.clone());
                        run.tab.set(Tab::Charts);
                    };
                    let open2 = open.clone();
                    let failed = e.failed.map(|f| format!("{} ({})", group(f), share(f, e.requests)));
                    view! {
                        <tr data-testid="endpoint" data-name=e.name.clone() data-count=e.requests.to_string()
                            data-failed=e.failed.map(|f| f.to_string()) data-p95=e.p95_ms.map(|v| v.to_string())
                            class:active=active class:has-failures={e.failed.unwrap_or(0) > 0} tabindex="0"
                            title="open this endpoint's charts"
                            on:click=move |_| open()
                            on:keydown=move |ev| if ev.key() == "Enter" { open2() }>
                            <th class="name">{e.name.clone()}</th>
                            <td class="num" data-label="requests">{group(e.requests)}</td>
                            <td class="num" data-label="failed">{failed.unwrap_or_else(|| "—".into())}</td>
                            <td class="num" data-label="median">{ms(e.med_ms)}</td>
                            <td class="num" data-label="p(95)">{ms(e.p95_ms)}</td>
                            <td class="num" data-label="p(99)">{ms(e.p99_ms)}</td>
                        </tr>
                    }
                })
                .collect_view(),
        )
    };
    let head = move |label: &'static str, by: SortBy| {
        view! {
            <th class="sortable" class:sorted=move || sort.get() == by aria-sort=move || if sort.get() == by { "descending" } else { "none" }>
                <button class="th-sort" data-testid=format!("endpoints-sort-{label}") on:click=move |_| sort.set(by)>{label}</button>
            </th>
        }
    };
    view! {
        <Show when=move || run.bundle.loaded.with(|l| l.as_ref().and_then(|l| l.bundle.k6_summary.as_ref()).is_some_and(|s| !perfbundle_core::k6::endpoints::names(s).is_empty()))>
            <h2 class="endpoints-title">"Endpoints "<span class="muted">"— k6's name tag; a row opens its charts"</span></h2>
            <table class="endpoints-table" data-testid="endpoints">
                <thead><tr>
                    {head("endpoint", SortBy::Name)}{head("requests", SortBy::Requests)}{head("failed", SortBy::Failed)}
                    {head("median", SortBy::Median)}{head("p(95)", SortBy::P95)}{head("p(99)", SortBy::P99)}
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </Show>
    }
}
