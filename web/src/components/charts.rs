//! The charts: request rate, VUs, latency percentiles, failure rate, custom
//! metrics, then Clinic doctor timelines on the same absolute time axis —
//! the chart set the core defines (`render::charts`), drawn interactively.

use leptos::prelude::*;
use perfbundle_core::k6::SeriesOrigin;
use perfbundle_core::render::charts::{k6_charts, timeline_charts, NamedChart};

use super::line_chart::LineChart;
use crate::state::RunState;

fn draw(c: NamedChart, domain: Memo<(f64, f64)>, run: RunState) -> AnyView {
    view! {
        <LineChart title=c.chart.title contains=c.chart.contains domain=domain testid=format!("chart-{}", c.id)
            lines=c.chart.lines hover=run.hover range=run.range />
    }
    .into_any()
}

#[component]
pub fn ChartsView() -> impl IntoView {
    let run = expect_context::<RunState>();
    let domain = Memo::new(move |_| {
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
    });
    let options = move || {
        let l = run.bundle.loaded.get()?;
        let s = l.bundle.k6_summary.as_ref()?;
        let opts: Vec<String> = s
            .series
            .iter()
            .filter(|(_, v)| v.metric == "http_req_duration" && v.origin != SeriesOrigin::Metric)
            .map(|(k, _)| k["http_req_duration".len()..].to_string())
            .collect();
        Some(
            opts.into_iter()
                .map(|o| {
                    let sel = o.clone();
                    view! { <option value=o.clone() selected=move || run.series.get() == sel>{o.clone()}</option> }
                })
                .collect_view(),
        )
    };
    let charts = move || {
        let l = run.bundle.loaded.get()?;
        let suffix = run.series.get();
        // Re-bin when the range changes.
        let d = domain.get();
        let mut out = Vec::new();
        if let (Some(ts), Some(s)) = (l.bundle.k6_timeseries.as_ref(), l.bundle.k6_summary.as_ref()) {
            out.extend(k6_charts(s, ts, &suffix, d).into_iter().map(|c| draw(c, domain, run)));
        }
        for (i, t) in l.bundle.timelines.iter().enumerate() {
            out.push(
                view! {
                    <h3 class="timeline-title" data-testid="timeline-title">
                        "Process timeline — "{t.name.clone()}" ("{t.source.clone()}", "{t.gc.len()}" GC events)"
                    </h3>
                }
                .into_any(),
            );
            out.extend(timeline_charts(t, i, d).into_iter().map(|c| draw(c, domain, run)));
        }
        Some(out)
    };
    view! {
        <section class="charts" data-testid="charts">
            <div class="toolbar">
                <label>"Sub-series "
                    <select data-testid="series-select" on:change=move |ev| run.series.set(event_target_value(&ev))>
                        <option value="" selected=move || run.series.get().is_empty()>"all samples"</option>
                        {options}
                    </select>
                </label>
                <span class="range" data-testid="range">
                    {move || match run.range.get() {
                        Some((a, b)) => format!("range: {:.1} s selected", (b - a) / 1000.0),
                        None => "drag across a chart to zoom".into(),
                    }}
                </span>
                <button data-testid="reset-range" on:click=move |_| run.range.set(None) disabled=move || run.range.get().is_none()>
                    "Reset zoom"
                </button>
            </div>
            <super::summary_table::SummaryTable />
            {charts}
        </section>
    }
}
