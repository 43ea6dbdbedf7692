//! The charts: request rate, VUs, latency percentiles, failure rate,
//! iteration duration, data, request phases, custom metrics, then Clinic
//! doctor timelines on the same absolute time axis — the chart set the core
//! defines (`render::charts`), drawn interactively. The overview draws the
//! key ones ([`KEY_CHARTS`]); the Charts tab all of them.

use leptos::prelude::*;
use perfbundle_core::render::charts::{function_share_chart, k6_charts, timeline_charts, NamedChart};

use super::chart_toolbar::ChartToolbar;
use super::line_chart::LineChart;
use crate::state::{FlameState, RunState};

/// The charts the overview leads with, as the k6 dashboard does.
pub const KEY_CHARTS: &[&str] = &["request-rate", "latency", "failure-rate", "vus"];

fn draw(c: NamedChart, domain: Memo<(f64, f64)>, run: RunState, k6: bool) -> AnyView {
    // A k6 chart names the sub-series it draws.
    let title = match run.series.get_untracked() {
        s if s.is_empty() || !k6 => c.chart.title,
        s => format!("{} — {s}", c.chart.title),
    };
    view! {
        <LineChart title=title contains=c.chart.contains domain=domain testid=format!("chart-{}", c.id)
            lines=c.chart.lines stacked=c.chart.stacked hover=run.hover range=run.range />
    }
    .into_any()
}

/// The time shown: the selected range, else the k6 run's span, else the timelines'.
fn run_domain(run: RunState) -> Memo<(f64, f64)> {
    Memo::new(move |_| {
        if let Some(r) = run.range.get() {
            return r;
        }
        let l = run.bundle.loaded.get();
        let k6 = l.as_ref().and_then(|l| l.bundle.k6_timeseries.as_ref().map(|t| t.span_ms()));
        let tl = l.as_ref().and_then(|l| {
            let ts: Vec<f64> = l.bundle.timelines.iter().flat_map(|t| t.t_unix_ms.iter().copied()).collect();
            (!ts.is_empty()).then(|| {
                (ts.iter().copied().fold(f64::INFINITY, f64::min), ts.iter().copied().fold(f64::NEG_INFINITY, f64::max))
            })
        });
        k6.or(tl).unwrap_or((0.0, 1.0))
    })
}

/// The k6 charts whose ids are in `only` (all of them, and the timelines, when `None`).
#[component]
pub fn ChartSet(#[prop(optional)] only: Option<&'static [&'static str]>) -> impl IntoView {
    let run = expect_context::<RunState>();
    let flame = expect_context::<FlameState>();
    let domain = run_domain(run);
    let charts = move || {
        let l = run.bundle.loaded.get()?;
        let suffix = run.series.get();
        // Re-bin when the range changes.
        let d = domain.get();
        let mut out = Vec::new();
        if let (Some(ts), Some(s)) = (l.bundle.k6_timeseries.as_ref(), l.bundle.k6_summary.as_ref()) {
            out.extend(
                k6_charts(s, ts, &suffix, d)
                    .into_iter()
                    .filter(|c| only.is_none_or(|o| o.contains(&c.id.as_str())))
                    .map(|c| draw(c, domain, run, true)),
            );
        }
        if only.is_some() {
            return Some(out);
        }
        // "Where was this slow?": the function chosen on the profiles tab, on the run's time axis.
        if let Some((name, file)) = flame.slow.get() {
            let i = flame.profile.get().min(l.bundle.profiles.len().saturating_sub(1));
            let chart = l.bundle.profiles.get(i).and_then(|p| function_share_chart(p, (&name, &file), d));
            out.push(match chart {
                Some(c) => draw(c, domain, run, false),
                None => view! {
                    <p class="warning" data-testid="function-share-none">
                        "The profile's samples are not on the run's clock: "{name}"'s share over time cannot be drawn beside the k6 charts."
                    </p>
                }
                .into_any(),
            });
        }
        let k6_window = l.bundle.k6_timeseries.as_ref().map(|t| t.span_ms());
        for (i, t) in l.bundle.timelines.iter().enumerate() {
            if let Some(why) = k6_window.and_then(|w| t.apart_from(w)) {
                out.push(
                    view! {
                        <p class="warning" data-testid="timeline-outside">
                            "Process timeline "{t.name.clone()}" ("{t.source.clone()}"): "{why}", so it is not drawn on the run's time axis."
                        </p>
                    }
                    .into_any(),
                );
                continue;
            }
            out.push(
                view! {
                    <h3 class="timeline-title" data-testid="timeline-title">
                        "Process timeline — "{t.name.clone()}" ("{t.source.clone()}", "{t.gc.len()}" GC events)"
                    </h3>
                }
                .into_any(),
            );
            out.extend(timeline_charts(t, i, d).into_iter().map(|c| draw(c, domain, run, false)));
        }
        Some(out)
    };
    view! { <div class="chart-set">{charts}</div> }
}

#[component]
pub fn ChartsView() -> impl IntoView {
    view! {
        <section class="charts" data-testid="charts">
            <ChartToolbar />
            <ChartSet />
        </section>
    }
}
