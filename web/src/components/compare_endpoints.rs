//! Each endpoint (k6's `name` tag) on both sides of a comparison with its
//! tested verdict, regressions first — the core's
//! [`perfbundle_core::compare::endpoints`], as `perfbundle diff` lists them.
//!
//! Test ids: rows `endpoint` with `data-name`, `data-count`, `data-failed`,
//! `data-p95` (the candidate's, ms), `data-base-p95` and `data-verdict`
//! (`regression`, `improvement`, `new`, `gone`, `unchanged`).

use std::sync::Arc;

use leptos::prelude::*;
use perfbundle_core::compare::endpoints::EndpointVerdict;
use perfbundle_core::compare::text::endpoint_cells;
use perfbundle_core::compare::Diff;

#[component]
pub fn CompareEndpoints(diff: Arc<Diff>) -> impl IntoView {
    if diff.endpoints.is_empty() {
        return ().into_any();
    }
    let count = |v: EndpointVerdict| diff.endpoints.iter().filter(|e| e.verdict == v).count();
    let (reg, imp) = (count(EndpointVerdict::Regression), count(EndpointVerdict::Improvement));
    let rows = diff
        .endpoints
        .iter()
        .map(|e| {
            let [requests, failed, p95, med, verdict] = endpoint_cells(e);
            let c = e.candidate.as_ref();
            let class = format!("verdict {}", e.verdict.as_str());
            view! {
                <tr class=class data-testid="endpoint" data-name=e.name.clone()
                    data-count=c.map(|c| c.requests.to_string()) data-failed=c.and_then(|c| c.failed).map(|f| f.to_string())
                    data-p95=c.and_then(|c| c.p95_ms).map(|v| v.to_string())
                    data-base-p95=e.base.as_ref().and_then(|b| b.p95_ms).map(|v| v.to_string())
                    data-verdict=e.verdict.as_str() title=e.why.clone()>
                    <th class="name">{e.name.clone()}</th>
                    <td class="num" data-label="p(95)">{p95}</td>
                    <td class="num" data-label="median">{med}</td>
                    <td class="num" data-label="requests">{requests}</td>
                    <td class="num" data-label="failed">{failed}</td>
                    <td class="v">{verdict}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h3 data-testid="compare-endpoints-title">{format!(
            "Endpoints — {reg} regression{}, {imp} improvement{} of {}",
            if reg == 1 { "" } else { "s" },
            if imp == 1 { "" } else { "s" },
            diff.endpoints.len()
        )}</h3>
        <p class="muted small">"Each tested at 95%: Mann–Whitney on the latency histograms (a shift the median or p(95) shows by 5% or more), two-proportion on failures. Hover a row for the figures."</p>
        <table class="summary-table compare-table endpoints-table" data-testid="compare-endpoints">
            <thead><tr><th>"endpoint"</th><th>"p(95)"</th><th>"median"</th><th>"requests"</th><th>"failed"</th><th>"verdict"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
