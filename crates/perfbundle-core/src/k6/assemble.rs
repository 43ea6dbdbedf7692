//! Puts a point stream's aggregation and k6's own summary together into the
//! stored model, and renders the `k6.metrics` view that `inspect --json`
//! prints and the viewer reads.

use serde_json::{json, Map, Value};

use super::aggregate::Aggregator;
use super::model::*;
use crate::ingest::k6_summary::SummaryInput;

/// The k6 part of a bundle.
#[derive(Debug)]
pub struct Assembled {
    pub summary: K6Summary,
    pub timeseries: Option<K6TimeSeries>,
    pub warnings: Vec<String>,
}

/// Builds the model from an aggregator fed with a point stream (of input kind
/// `points_kind`) and/or k6's own summary. Thresholds and checks come from
/// k6's summary when it is given (k6's verdict); otherwise thresholds declared
/// in the stream are evaluated on the computed values.
pub fn assemble(points: Option<(Aggregator, String)>, summary: Option<SummaryInput>) -> Assembled {
    let duration_from_summary = summary.as_ref().and_then(|s| s.duration_ms);
    let mut warnings = Vec::new();
    let mut out = K6Summary {
        summary_source: summary.as_ref().map(|s| s.kind.name().to_string()),
        duration_ms: duration_from_summary,
        duration_source: duration_from_summary
            .map(|_| summary.as_ref().map(|s| s.kind.name()).unwrap_or_default().to_string()),
        reported: summary.as_ref().map(|s| s.metrics.clone()),
        ..K6Summary::empty()
    };
    let mut timeseries = None;
    if let Some((agg, kind)) = points {
        let a = agg.finish(duration_from_summary);
        out.points_source = Some(kind);
        out.start_ns = a.start_ns;
        out.end_ns = a.end_ns;
        if out.duration_ms.is_none() {
            if let (Some(s), Some(e)) = (a.start_ns, a.end_ns) {
                out.duration_ms = Some((i128::from(e) - i128::from(s)) as f64 / 1e6);
                out.duration_source = Some("points".into());
            }
        }
        out.metrics = a.metrics;
        out.series = a.series;
        out.thresholds = a.thresholds;
        out.checks = a.checks;
        out.stats = a.stats;
        warnings.extend(a.warnings);
        timeseries = Some(a.timeseries);
    }
    if let Some(s) = summary {
        warnings.extend(s.left_out.iter().map(|w| format!("k6's summary: {w}")));
        let source = s.kind.name().trim_start_matches("k6-").to_string();
        out.thresholds = s
            .metrics
            .iter()
            .flat_map(|(m, r)| {
                let source = source.clone();
                r.thresholds.iter().map(move |(expr, ok)| Threshold {
                    metric: m.clone(),
                    expr: expr.clone(),
                    ok: Some(*ok),
                    source: source.clone(),
                })
            })
            .collect();
        if s.checks.as_ref().is_some_and(|c| !c.checks.is_empty() || !c.groups.is_empty()) || out.checks.is_none() {
            out.checks = s.checks.clone();
        }
        if out.points_source.is_none() {
            for (key, r) in &s.metrics {
                let (metric, tags) = parse_series_key(key);
                let Some(kind) = r.kind.or_else(|| out.metrics.get(&metric).map(|m| m.kind)) else {
                    continue;
                };
                if tags.is_empty() {
                    out.metrics.insert(
                        metric.clone(),
                        MetricDecl {
                            kind,
                            // summary-export does not say what a metric contains; k6's built-ins are known.
                            contains: r.contains.clone().unwrap_or_else(|| {
                                super::builtin::builtin_metric(&metric)
                                    .map(|(_, c)| c.to_string())
                                    .unwrap_or_else(|| "default".into())
                            }),
                            thresholds: r.thresholds.keys().cloned().collect(),
                            submetrics: Vec::new(),
                            type_source: "summary".into(),
                        },
                    );
                }
                let samples = match kind {
                    MetricType::Rate => r.values.get("passes").unwrap_or(&0.0) + r.values.get("fails").unwrap_or(&0.0),
                    MetricType::Trend => *r.values.get("count").unwrap_or(&0.0),
                    _ => 0.0,
                } as u64;
                out.series.insert(
                    key.clone(),
                    SeriesSummary {
                        metric,
                        origin: if tags.is_empty() { SeriesOrigin::Metric } else { SeriesOrigin::Submetric },
                        tags,
                        samples,
                        first_ns: None,
                        last_ns: None,
                        values: r.values.clone(),
                        percentiles: if kind == MetricType::Trend {
                            PercentileSource::Reported
                        } else {
                            PercentileSource::None
                        },
                        approximate: Vec::new(),
                    },
                );
            }
        } else {
            // One warning for them all, naming the first few.
            let missing: Vec<&String> = s.metrics.keys().filter(|k| !out.series.contains_key(*k)).collect();
            if !missing.is_empty() {
                let shown: Vec<&str> = missing.iter().take(5).map(|k| k.as_str()).collect();
                let more = if missing.len() > 5 { format!(" and {} more", missing.len() - 5) } else { String::new() };
                warnings.push(format!(
                    "k6's summary has {} series the point stream has no sample of: {}{more}",
                    missing.len(),
                    shown.join(", ")
                ));
            }
        }
    }
    Assembled { summary: out, timeseries, warnings }
}

/// `{NAME: {"type", "contains", "values", "thresholds"?}}` for every series,
/// keyed in k6's form — what `inspect --json` prints under `k6.metrics`.
pub fn metrics_view(s: &K6Summary) -> Value {
    let mut out = Map::new();
    for (key, series) in &s.series {
        let decl = s.metrics.get(&series.metric);
        let mut m = Map::new();
        m.insert("type".into(), json!(decl.map(|d| d.kind.as_str())));
        m.insert("contains".into(), json!(decl.map(|d| d.contains.as_str()).unwrap_or("default")));
        m.insert("values".into(), json!(series.values));
        if !series.approximate.is_empty() {
            m.insert("approximate".into(), json!(series.approximate));
        }
        let th: Map<String, Value> =
            s.thresholds.iter().filter(|t| &t.metric == key).map(|t| (t.expr.clone(), json!({ "ok": t.ok }))).collect();
        if !th.is_empty() {
            m.insert("thresholds".into(), Value::Object(th));
        }
        out.insert(key.clone(), Value::Object(m));
    }
    Value::Object(out)
}
