//! Which charts a run gets — request rate, VUs, latency percentiles, failure
//! rate, each custom metric, and a Clinic doctor timeline's CPU, memory,
//! event-loop delay and handles — defined once for every view: the Markdown
//! report draws them with [`super::chart::write_svg`], the viewer with its
//! interactive chart component.

use super::chart::{Chart, ChartLine};
use crate::k6::builtin::builtin_metric;
use crate::k6::view::Line;
use crate::k6::{K6Summary, K6TimeSeries, MetricType};
use crate::timeline::Timeline;

/// Line colours, in the order the charts use them.
pub const COLORS: [&str; 6] = ["#2f6fdf", "#e0662e", "#2a9d55", "#b03ab0", "#8a6d1e", "#c0392b"];

/// A chart with an id that is safe in file names and test ids.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedChart {
    /// `request-rate`, `vus`, `latency`, `failure-rate`, `custom-NAME`, `timeline-N-cpu`…
    pub id: String,
    /// A short description (image alt text).
    pub alt: String,
    pub chart: Chart,
}

/// A file-name-safe stem of a name.
pub fn stem(s: &str) -> String {
    let t: String = s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).take(60).collect();
    let t = t.trim_matches('-').to_string();
    if t.is_empty() {
        "x".into()
    } else {
        t
    }
}

/// The k6 charts over `domain` (Unix ms). `suffix` picks a sub-series
/// (`{name:…}`, empty for all samples) for the metrics that have it.
pub fn k6_charts(s: &K6Summary, ts: &K6TimeSeries, suffix: &str, domain: (f64, f64)) -> Vec<NamedChart> {
    let bin = ts.chart_bin_ms(domain.1 - domain.0, 150);
    let key = |m: &str| {
        let k = format!("{m}{suffix}");
        if ts.series.contains_key(&k) {
            k
        } else {
            m.to_string()
        }
    };
    let line = |label: &str, key: &str, l: Line, color: &str| ChartLine {
        label: label.into(),
        color: color.into(),
        points: ts.line_binned(key, l, bin),
    };
    let chart = |id: &str, alt: &str, title: String, contains: &str, lines: Vec<ChartLine>| NamedChart {
        id: id.into(),
        alt: alt.into(),
        chart: Chart { title, contains: contains.into(), lines, domain },
    };
    let d = key("http_req_duration");
    let mut out = vec![
        chart(
            "request-rate",
            "Request rate",
            "Request rate (http_reqs per second)".into(),
            "default",
            vec![line("req/s", &key("http_reqs"), Line::PerSecond, COLORS[0])],
        ),
        chart(
            "vus",
            "Virtual users",
            "Virtual users".into(),
            "default",
            vec![line("vus", "vus", Line::Last, COLORS[2])],
        ),
        chart(
            "latency",
            "Latency percentiles",
            "Latency: http_req_duration percentiles".into(),
            "time",
            vec![
                line("p50", &d, Line::Percentile(0.5), COLORS[2]),
                line("p90", &d, Line::Percentile(0.9), COLORS[0]),
                line("p95", &d, Line::Percentile(0.95), COLORS[1]),
                line("p99", &d, Line::Percentile(0.99), COLORS[5]),
            ],
        ),
        chart(
            "failure-rate",
            "Failure rate",
            "Failure rate (http_req_failed)".into(),
            "percent",
            vec![line("failed", &key("http_req_failed"), Line::Ratio, COLORS[5])],
        ),
    ];
    for (name, decl) in s.metrics.iter().filter(|(n, _)| builtin_metric(n).is_none()) {
        let k = key(name);
        let (lines, contains) = match decl.kind {
            MetricType::Counter => (vec![line(name, &k, Line::PerSecond, COLORS[3])], decl.contains.as_str()),
            MetricType::Gauge => (vec![line(name, &k, Line::Last, COLORS[3])], decl.contains.as_str()),
            MetricType::Rate => (vec![line(name, &k, Line::Ratio, COLORS[3])], "percent"),
            MetricType::Trend => (
                vec![
                    line("p50", &k, Line::Percentile(0.5), COLORS[2]),
                    line("p95", &k, Line::Percentile(0.95), COLORS[3]),
                ],
                decl.contains.as_str(),
            ),
        };
        out.push(chart(
            &format!("custom-{}", stem(name)),
            "Custom metric",
            format!("{name} ({})", decl.kind.as_str()),
            contains,
            lines,
        ));
    }
    out
}

/// The charts of the `index`-th process timeline over `domain` (Unix ms).
pub fn timeline_charts(t: &Timeline, index: usize, domain: (f64, f64)) -> Vec<NamedChart> {
    let pts = |v: &[f64]| -> Vec<(f64, f64)> { t.t_unix_ms.iter().copied().zip(v.iter().copied()).collect() };
    let line =
        |label: &str, color: &str, v: &[f64]| ChartLine { label: label.into(), color: color.into(), points: pts(v) };
    let cpu: Vec<f64> = t.cpu_percent.iter().map(|c| c / 100.0).collect();
    let handles: Vec<f64> = t.active_handles.iter().map(|h| *h as f64).collect();
    let chart = |what: &str, title: &str, contains: &str, lines: Vec<ChartLine>| NamedChart {
        id: format!("timeline-{index}-{what}"),
        alt: title.into(),
        chart: Chart { title: title.into(), contains: contains.into(), lines, domain },
    };
    vec![
        chart("cpu", "CPU", "percent", vec![line("cpu", COLORS[1], &cpu)]),
        chart(
            "memory",
            "Memory",
            "data",
            vec![
                line("rss", COLORS[0], &t.rss_bytes),
                line("heap total", COLORS[2], &t.heap_total_bytes),
                line("heap used", COLORS[3], &t.heap_used_bytes),
            ],
        ),
        chart("delay", "Event-loop delay", "time", vec![line("delay", COLORS[5], &t.event_loop_delay_ms)]),
        chart("handles", "Active handles", "default", vec![line("handles", COLORS[4], &handles)]),
    ]
}
