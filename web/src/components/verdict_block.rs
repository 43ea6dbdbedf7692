//! The verdict block that leads a run (and a comparison): how many
//! thresholds failed, the share of failed requests, p(95) of
//! `http_req_duration` and the checks' share, each as k6 prints it — the
//! core's [`Headline`]. On a comparison, each figure on both sides.
//!
//! Test ids: `verdict` holding `verdict-thresholds` (`data-failed`,
//! `data-total`), `verdict-http_req_failed` and `verdict-checks` (`data-value`:
//! the rate, 0..1) and `verdict-http_req_duration-p(95)` (`data-value`: ms);
//! on a comparison `data-base-*` carry the base's.

use leptos::prelude::*;
use perfbundle_core::format::pct;
use perfbundle_core::k6::headline::{Headline, RateFigure};
use perfbundle_core::k6::text::format_ms;
use std::sync::Arc;

use crate::state::Loaded;

/// One figure of the block: its label, what it reads, its exact value, and
/// whether it is bad news.
fn card(
    testid: &'static str,
    label: &'static str,
    big: String,
    small: Option<String>,
    value: Option<f64>,
    base_value: Option<f64>,
    bad: bool,
) -> AnyView {
    view! {
        <div class="verdict-card" class:bad=bad data-testid=testid
            data-value=value.map(|v| v.to_string()) data-base-value=base_value.map(|v| v.to_string())>
            <span class="verdict-label">{label}</span>
            <span class="verdict-big">{big}</span>
            {small.map(|s| view! { <span class="verdict-small">{s}</span> })}
        </div>
    }
    .into_any()
}

/// `a → b` on a comparison, `b` alone on a run.
fn sides(base: Option<String>, cand: String) -> String {
    match base {
        Some(b) => format!("{b} → {cand}"),
        None => cand,
    }
}

fn rate_small(r: &RateFigure) -> String {
    format!("{} out of {}", perfbundle_core::format::group(r.matched), perfbundle_core::format::group(r.total))
}

/// The verdict of `run`'s k6 summary, against `base`'s when given (a comparison).
#[component]
pub fn VerdictBlock(run: Arc<Loaded>, #[prop(optional)] base: Option<Arc<Loaded>>) -> impl IntoView {
    let Some(summary) = run.bundle.k6_summary.as_ref() else { return ().into_any() };
    let h = Headline::of(summary);
    let b = base.as_ref().and_then(|b| b.bundle.k6_summary.as_ref()).map(Headline::of);
    let compare = b.is_some();
    // Bad news: on a run, a failed threshold on the metric; on a comparison, worse than the base.
    let failing = |metric: &str| summary.thresholds.iter().any(|t| t.ok == Some(false) && t.metric.starts_with(metric));
    // The thresholds that failed, each with the value it read.
    let failed: Vec<String> = summary
        .thresholds
        .iter()
        .filter(|t| t.ok == Some(false))
        .map(|t| {
            let v = perfbundle_core::k6::text::threshold_value(summary, t).map(|(a, v)| format!(" {a}={v}"));
            format!("✗ {} {}{}", t.metric, t.expr, v.unwrap_or_default())
        })
        .collect();
    let thresholds = {
        let text = match &b {
            Some(b) if b.thresholds_total > 0 || h.thresholds_total > 0 => {
                format!("{} failed → {} failed", b.thresholds_failed, h.thresholds_failed)
            }
            _ => h.thresholds_text(),
        };
        let total = h.thresholds_total;
        view! {
            <div class="verdict-card thresholds" class:bad={h.thresholds_failed > 0} class:good={h.passed() == Some(true)}
                data-testid="verdict-thresholds" data-failed=h.thresholds_failed.to_string() data-total=total.to_string()
                data-base-failed=b.as_ref().map(|b| b.thresholds_failed.to_string())>
                <span class="verdict-label">{if compare { "thresholds (base → candidate)" } else { "thresholds" }}</span>
                <span class="verdict-big">{text}</span>
                {(!failed.is_empty()).then(|| view! {
                    <ul class="verdict-failed">{failed.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                })}
                {(total > 0 && h.thresholds_failed == 0).then(|| view! { <span class="verdict-small">{format!("{total} of {total} passed")}</span> })}
            </div>
        }
        .into_any()
    };
    let failed_req = h.http_req_failed.map(|r| {
        let base = b.as_ref().and_then(|b| b.http_req_failed);
        card(
            "verdict-http_req_failed",
            "http_req_failed",
            sides(base.map(|x| pct(x.rate)), pct(r.rate)),
            Some(sides(base.map(|x| rate_small(&x)), rate_small(&r))),
            Some(r.rate),
            base.map(|x| x.rate),
            base.map_or(failing("http_req_failed"), |x| r.rate > x.rate),
        )
    });
    let p95 = h.http_req_duration_p95.map(|v| {
        let base = b.as_ref().and_then(|b| b.http_req_duration_p95);
        card(
            "verdict-http_req_duration-p(95)",
            "http_req_duration p(95)",
            sides(base.map(format_ms), format_ms(v)),
            None,
            Some(v),
            base,
            base.map_or(failing("http_req_duration"), |x| v > x * 1.05),
        )
    });
    let checks = h.checks.map(|r| {
        let base = b.as_ref().and_then(|b| b.checks);
        card(
            "verdict-checks",
            "checks_succeeded",
            sides(base.map(|x| pct(x.rate)), pct(r.rate)),
            Some(sides(base.map(|x| rate_small(&x)), rate_small(&r))),
            Some(r.rate),
            base.map(|x| x.rate),
            base.map_or(failing("checks"), |x| r.rate < x.rate),
        )
    });
    view! {
        <div class="verdict-block" data-testid="verdict" role="group" aria-label="verdict">
            {thresholds}{failed_req}{p95}{checks}
        </div>
    }
    .into_any()
}
