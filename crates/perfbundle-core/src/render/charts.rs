//! Which charts a run gets — request rate, VUs, latency percentiles, failure
//! rate, each custom metric, and a Clinic doctor timeline's CPU, memory,
//! event-loop delay, handles and GC pauses — defined once for every view: the Markdown
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
        dashed: false,
    };
    let chart = |id: &str, alt: &str, title: String, contains: &str, lines: Vec<ChartLine>| NamedChart {
        id: id.into(),
        alt: alt.into(),
        chart: Chart { title, contains: contains.into(), lines, domain, elapsed: false, stacked: false },
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
    let has = |m: &str| ts.series.contains_key(m);
    if has("iteration_duration") {
        let k = key("iteration_duration");
        out.push(chart(
            "iteration-duration",
            "Iteration duration",
            "Iteration duration: p50, p95".into(),
            "time",
            vec![line("p50", &k, Line::Percentile(0.5), COLORS[2]), line("p95", &k, Line::Percentile(0.95), COLORS[1])],
        ));
    }
    if has("data_received") || has("data_sent") {
        let lines = [("received/s", "data_received", COLORS[0]), ("sent/s", "data_sent", COLORS[1])]
            .into_iter()
            .filter(|(_, m, _)| has(m))
            .map(|(label, m, c)| line(label, &key(m), Line::PerSecond, c))
            .collect();
        out.push(chart("data", "Data sent and received", "Data received and sent per second".into(), "data", lines));
    }
    // http_req_duration is sending + waiting + receiving: those stack. The
    // connection's setup (blocked, which holds connecting and TLS on a new
    // connection) comes before and is drawn apart, each on its own.
    let means = |parts: &[(&str, &str)], first_color: usize| -> Vec<ChartLine> {
        parts
            .iter()
            .enumerate()
            .filter(|(_, (_, m))| has(m))
            .map(|(i, (label, m))| line(label, &key(m), Line::Mean, COLORS[(first_color + i) % COLORS.len()]))
            .collect()
    };
    let phases = means(
        &[("sending", "http_req_sending"), ("waiting", "http_req_waiting"), ("receiving", "http_req_receiving")],
        0,
    );
    if !phases.is_empty() {
        let mut c = chart(
            "request-phases",
            "Request phases",
            "Request phases: mean sending, waiting and receiving, stacked (http_req_duration)".into(),
            "time",
            phases,
        );
        c.chart.stacked = true;
        out.push(c);
    }
    let setup = means(
        &[("blocked", "http_req_blocked"), ("connecting", "http_req_connecting"), ("tls", "http_req_tls_handshaking")],
        3,
    );
    if !setup.is_empty() {
        out.push(chart(
            "connection-setup",
            "Connection setup",
            "Connection setup: mean blocked, connecting and TLS handshaking (blocked includes the other two)".into(),
            "time",
            setup,
        ));
    }
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
/// "Where was this slow?": the share of `p`'s samples with `function` on
/// the stack over the run's time (`domain`, Unix ms, in 100 buckets), to
/// draw under the k6 charts; `None` when the profile's samples are not on
/// the wall clock.
pub fn function_share_chart(
    p: &crate::profile::Profile,
    function: (&str, &str),
    domain: (f64, f64),
) -> Option<NamedChart> {
    let (name, file) = function;
    let is_f = |fr: usize| p.frames.name[fr] == name && p.frames.file[fr] == file;
    let bucket = ((domain.1 - domain.0) / 100.0).max(1.0);
    let points = p.share_over_time(&is_f, domain, bucket)?;
    let title = format!("CPU share of {name} (samples with it on the stack)");
    Some(NamedChart {
        id: "function-share".into(),
        alt: title.clone(),
        chart: Chart {
            title,
            contains: "percent".into(),
            lines: vec![ChartLine { label: name.to_string(), color: COLORS[3].into(), points, dashed: false }],
            domain,
            elapsed: false,
            stacked: false,
        },
    })
}

pub fn timeline_charts(t: &Timeline, index: usize, domain: (f64, f64)) -> Vec<NamedChart> {
    let pts = |v: &[f64]| -> Vec<(f64, f64)> { t.t_unix_ms.iter().copied().zip(v.iter().copied()).collect() };
    let line = |label: &str, color: &str, v: &[f64]| ChartLine {
        label: label.into(),
        color: color.into(),
        points: pts(v),
        dashed: false,
    };
    let cpu: Vec<f64> = t.cpu_percent.iter().map(|c| c / 100.0).collect();
    let handles: Vec<f64> = t.active_handles.iter().map(|h| *h as f64).collect();
    let chart = |what: &str, title: &str, contains: &str, lines: Vec<ChartLine>| NamedChart {
        id: format!("timeline-{index}-{what}"),
        alt: title.into(),
        chart: Chart { title: title.into(), contains: contains.into(), lines, domain, elapsed: false, stacked: false },
    };
    let mut out = vec![
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
    ];
    if !t.gc.is_empty() {
        out.push(chart(
            "gc",
            "Garbage collection: pause time in each sample interval",
            "time",
            vec![line("gc pause", COLORS[3], &gc_per_sample(t))],
        ));
    }
    out
}

/// The GC pause time (ms) of the events that start in each sample's interval
/// (from that sample to the next; the last sample's runs on to the last event).
fn gc_per_sample(t: &Timeline) -> Vec<f64> {
    let mut out = vec![0.0; t.t_unix_ms.len()];
    for e in &t.gc {
        // The last sample at or before the event's start.
        let i = t.t_unix_ms.partition_point(|s| *s <= e.start_unix_ms);
        if i > 0 {
            out[i - 1] += e.duration_ms;
        }
    }
    out
}

/// One run of an overlay: its model and the time its x axis starts from (Unix ms).
pub struct OverlaySide<'a> {
    pub summary: &'a K6Summary,
    pub timeseries: &'a K6TimeSeries,
    pub start_ms: f64,
}

impl<'a> OverlaySide<'a> {
    /// A run's side, its axis starting at its first sample (or its grid's start).
    pub fn new(summary: &'a K6Summary, timeseries: &'a K6TimeSeries) -> Self {
        let start_ms = summary.start_ns.map(|n| n as f64 / 1e6).unwrap_or_else(|| timeseries.span_ms().0);
        OverlaySide { summary, timeseries, start_ms }
    }

    fn end_ms(&self) -> f64 {
        self.summary.end_ns.map(|n| n as f64 / 1e6).unwrap_or_else(|| self.timeseries.span_ms().1)
    }
}

/// The k6 charts both runs have, each run's lines on one axis of time since
/// its own start: the base dashed, the candidate solid, in the same colour.
/// The latency chart keeps p50 and p95 (four lines at most).
pub fn overlay_charts(base: &OverlaySide<'_>, cand: &OverlaySide<'_>) -> Vec<NamedChart> {
    let span = |s: &OverlaySide<'_>| (s.start_ms, s.end_ms().max(s.start_ms + 1.0));
    let bc = k6_charts(base.summary, base.timeseries, "", span(base));
    let cc = k6_charts(cand.summary, cand.timeseries, "", span(cand));
    let length = (base.end_ms() - base.start_ms).max(cand.end_ms() - cand.start_ms).max(1000.0);
    let mut out = Vec::new();
    for c in cc {
        let Some(b) = bc.iter().find(|b| b.id == c.id) else { continue };
        let keep = |l: &ChartLine| c.id != "latency" || l.label == "p50" || l.label == "p95";
        let shift = |l: &ChartLine, side: &OverlaySide<'_>, who: &str, dashed: bool| ChartLine {
            label: format!("{who} {}", l.label),
            color: l.color.clone(),
            points: l.points.iter().map(|(t, v)| (t - side.start_ms, *v)).collect(),
            dashed,
        };
        let mut lines: Vec<ChartLine> =
            b.chart.lines.iter().filter(|l| keep(l)).map(|l| shift(l, base, "base", true)).collect();
        lines.extend(c.chart.lines.iter().filter(|l| keep(l)).map(|l| shift(l, cand, "candidate", false)));
        out.push(NamedChart {
            id: c.id.clone(),
            alt: format!("{} (base dashed, candidate solid)", c.alt),
            chart: Chart {
                title: c.chart.title.clone(),
                contains: c.chart.contains.clone(),
                lines,
                domain: (0.0, length),
                elapsed: true,
                // Two runs overlaid: each line on its own, never stacked on the other run's.
                stacked: false,
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::GcEvent;

    #[test]
    fn gc_pauses_fall_in_the_interval_they_start_in_and_add_up() {
        let gc = |at: f64, ms: f64| GcEvent {
            start_unix_ms: at,
            duration_ms: ms,
            kind: "MinorGC".into(),
            heap_before_bytes: None,
            heap_after_bytes: None,
        };
        let t = Timeline {
            t_unix_ms: vec![1000.0, 2000.0, 3000.0],
            gc: vec![gc(500.0, 9.0), gc(1000.0, 1.5), gc(1999.0, 2.0), gc(2500.0, 4.0), gc(9000.0, 3.0)],
            ..Default::default()
        };
        // Before the first sample: not drawn; from the last sample on: in the last interval.
        assert_eq!(gc_per_sample(&t), [3.5, 4.0, 3.0]);
        let charts = timeline_charts(&t, 0, (1000.0, 3000.0));
        assert!(charts.iter().any(|c| c.id == "timeline-0-gc"));
        assert!(!timeline_charts(&Timeline::default(), 0, (0.0, 1.0)).iter().any(|c| c.id.ends_with("-gc")));
    }
}
