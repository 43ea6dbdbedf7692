//! The charts: request rate, VUs, latency percentiles, failure rate, custom
//! metrics, then Clinic doctor timelines on the same absolute time axis.

use leptos::prelude::*;
use perfbundle_core::k6::builtin::builtin_metric;
use perfbundle_core::k6::view::Line;
use perfbundle_core::k6::{MetricType, SeriesOrigin};

use super::line_chart::{ChartLine, LineChart};
use crate::state::use_state;

const COLORS: [&str; 6] = ["#2f6fdf", "#e0662e", "#2a9d55", "#b03ab0", "#8a6d1e", "#c0392b"];

#[component]
pub fn ChartsView() -> impl IntoView {
    let state = use_state();
    let domain = Memo::new(move |_| {
        if let Some(r) = state.range.get() {
            return r;
        }
        let l = state.loaded.get();
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
        let l = state.loaded.get()?;
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
                    view! { <option value=o.clone() selected=move || state.series.get() == sel>{o.clone()}</option> }
                })
                .collect_view(),
        )
    };
    let charts = move || {
        let l = state.loaded.get()?;
        let suffix = state.series.get();
        // Re-bin when the range changes.
        let _ = domain.get();
        let mut out = Vec::new();
        if let (Some(ts), Some(s)) = (l.bundle.k6_timeseries.as_ref(), l.bundle.k6_summary.as_ref()) {
            let key = |m: &str| {
                let k = format!("{m}{suffix}");
                if ts.series.contains_key(&k) {
                    k
                } else {
                    m.to_string()
                }
            };
            let one = |label: &str, k: String, line: Line, color: &'static str| ChartLine {
                label: label.into(),
                color,
                points: ts.line(&k, line),
            };
            out.push(view! {
                <LineChart title="Request rate (http_reqs/s)".into() contains="default".into() domain=domain testid="chart-rate".into()
                    lines=vec![one("req/s", key("http_reqs"), Line::PerSecond, COLORS[0])] />
            }.into_any());
            out.push(view! {
                <LineChart title="Virtual users".into() contains="default".into() domain=domain testid="chart-vus".into()
                    lines=vec![one("vus", "vus".into(), Line::Last, COLORS[2])] />
            }.into_any());
            let d = key("http_req_duration");
            out.push(view! {
                <LineChart title="Latency: http_req_duration percentiles".into() contains="time".into() domain=domain testid="chart-latency".into()
                    lines=vec![
                        one("p50", d.clone(), Line::Percentile(0.5), COLORS[2]),
                        one("p90", d.clone(), Line::Percentile(0.9), COLORS[0]),
                        one("p95", d.clone(), Line::Percentile(0.95), COLORS[1]),
                        one("p99", d, Line::Percentile(0.99), COLORS[5]),
                    ] />
            }.into_any());
            out.push(view! {
                <LineChart title="Failure rate (http_req_failed)".into() contains="percent".into() domain=domain testid="chart-failed".into()
                    lines=vec![one("failed", key("http_req_failed"), Line::Ratio, COLORS[5])] />
            }.into_any());
            for (name, decl) in s.metrics.iter().filter(|(n, _)| builtin_metric(n).is_none()) {
                let (line, contains) = match decl.kind {
                    MetricType::Counter => (Line::PerSecond, decl.contains.clone()),
                    MetricType::Gauge => (Line::Last, decl.contains.clone()),
                    MetricType::Rate => (Line::Ratio, "percent".to_string()),
                    MetricType::Trend => (Line::Percentile(0.95), decl.contains.clone()),
                };
                let mut lines =
                    vec![one(if decl.kind == MetricType::Trend { "p95" } else { name }, key(name), line, COLORS[3])];
                if decl.kind == MetricType::Trend {
                    lines.insert(0, one("p50", key(name), Line::Percentile(0.5), COLORS[2]));
                }
                out.push(
                    view! {
                        <LineChart title=format!("{name} ({})", decl.kind.as_str()) contains=contains domain=domain
                            testid=format!("chart-custom-{name}") lines=lines />
                    }
                    .into_any(),
                );
            }
        }
        for (i, t) in l.bundle.timelines.iter().enumerate() {
            let pts = |v: &[f64]| -> Vec<(f64, f64)> { t.t_unix_ms.iter().copied().zip(v.iter().copied()).collect() };
            let cpu: Vec<f64> = t.cpu_percent.iter().map(|c| c / 100.0).collect();
            let handles: Vec<f64> = t.active_handles.iter().map(|h| *h as f64).collect();
            out.push(view! {
                <h3 class="timeline-title" data-testid="timeline-title">"Process timeline — "{t.name.clone()}" ("{t.source.clone()}", "{t.gc.len()}" GC events)"</h3>
                <LineChart title="CPU".into() contains="percent".into() domain=domain testid=format!("chart-cpu-{i}")
                    lines=vec![ChartLine { label: "cpu".into(), color: COLORS[1], points: pts(&cpu) }] />
                <LineChart title="Memory".into() contains="data".into() domain=domain testid=format!("chart-memory-{i}")
                    lines=vec![
                        ChartLine { label: "rss".into(), color: COLORS[0], points: pts(&t.rss_bytes) },
                        ChartLine { label: "heap total".into(), color: COLORS[2], points: pts(&t.heap_total_bytes) },
                        ChartLine { label: "heap used".into(), color: COLORS[3], points: pts(&t.heap_used_bytes) },
                    ] />
                <LineChart title="Event-loop delay".into() contains="time".into() domain=domain testid=format!("chart-delay-{i}")
                    lines=vec![ChartLine { label: "delay".into(), color: COLORS[5], points: pts(&t.event_loop_delay_ms) }] />
                <LineChart title="Active handles".into() contains="default".into() domain=domain testid=format!("chart-handles-{i}")
                    lines=vec![ChartLine { label: "handles".into(), color: COLORS[4], points: pts(&handles) }] />
            }.into_any());
        }
        Some(out)
    };
    view! {
        <section class="charts" data-testid="charts">
            <div class="toolbar">
                <label>"Sub-series "
                    <select data-testid="series-select" on:change=move |ev| state.series.set(event_target_value(&ev))>
                        <option value="" selected=move || state.series.get().is_empty()>"all samples"</option>
                        {options}
                    </select>
                </label>
                <span class="range" data-testid="range">
                    {move || match state.range.get() {
                        Some((a, b)) => format!("range: {:.1} s selected", (b - a) / 1000.0),
                        None => "drag across a chart to zoom".into(),
                    }}
                </span>
                <button data-testid="reset-range" on:click=move |_| state.range.set(None) disabled=move || state.range.get().is_none()>
                    "Reset zoom"
                </button>
            </div>
            <super::summary_table::SummaryTable />
            {charts}
        </section>
    }
}
