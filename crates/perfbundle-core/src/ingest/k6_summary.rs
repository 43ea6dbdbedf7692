//! k6's own end-of-test summary: `--summary-export` (FORMATS.md §4) and the
//! `data` of `handleSummary()` (§5). Both become a [`SummaryInput`].

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::error::IngestError;
use crate::k6::{CheckGroup, CheckResult, MetricType, ReportedMetric};

use super::detect::InputKind;

/// k6's summary, whichever of the two files it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryInput {
    pub kind: InputKind,
    pub metrics: BTreeMap<String, ReportedMetric>,
    pub checks: Option<CheckGroup>,
    /// k6's test run duration (`state.testRunDurationMs`, or derived from a counter's count/rate).
    pub duration_ms: Option<f64>,
    /// What the summary held past the bounds a point stream has too ([`MAX_METRICS`]…), left out: in words.
    pub left_out: Vec<String>,
}

/// Most distinct metric names kept from a summary, as from a point stream
/// (`AggregatorOptions::max_metrics`); with their sub-metrics.
pub const MAX_METRICS: usize = 1_000;
/// Most sub-metrics kept per metric (`AggregatorOptions::max_submetrics`).
pub const MAX_SUBMETRICS: usize = 200;
/// Most series (metrics and sub-metrics) kept in all (`AggregatorOptions::max_series`).
pub const MAX_SERIES: usize = 20_000;
/// Most statistics kept per metric (avg, min, med, max, p(N)…, as `summaryTrendStats` names them).
pub const MAX_VALUES: usize = 100;
/// Most thresholds kept per metric.
pub const MAX_THRESHOLDS: usize = 100;
/// Most checks kept over the whole tree (`AggregatorOptions::max_checks`).
pub const MAX_CHECKS: usize = 10_000;

impl SummaryInput {
    /// Every percentile k6's summary shows for a trend (`p(99.9)` → 0.999),
    /// so the bundle carries the same keys.
    pub fn percentiles(&self) -> Vec<f64> {
        let mut out: Vec<f64> = Vec::new();
        for m in self.metrics.values() {
            for k in m.values.keys() {
                if let Some(p) = crate::threshold::percentile_from_key(k) {
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
            }
        }
        out
    }

    /// Metric types, for point streams that do not declare them (CSV).
    pub fn type_hints(&self) -> HashMap<String, (MetricType, String)> {
        self.metrics
            .iter()
            .filter(|(k, _)| !k.contains('{'))
            .filter_map(|(k, m)| {
                let contains = m.contains.clone().unwrap_or_else(|| "default".into());
                m.kind.map(|t| (k.clone(), (t, contains)))
            })
            .collect()
    }
}

/// Parses a summary-export or handleSummary document.
pub fn parse(bytes: &[u8], file: &str, kind: InputKind) -> Result<SummaryInput, IngestError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(IngestError::Empty { file: file.into() });
    }
    // Read within the memory a tool's document may take (every node charged).
    let mut budget = super::document::DOCUMENT_MEMORY;
    let v: Value = crate::bounded::with_budget(&mut budget, || serde_json::from_slice::<crate::bounded::Value>(bytes))
        .map(|v| v.0)
        .map_err(|e| {
            if e.to_string().contains(crate::bounded::SPENT) {
                IngestError::invalid(
                    file,
                    format!(
                        "it holds more than perfbundle reads of one file ({} MiB once parsed)",
                        super::document::DOCUMENT_MEMORY >> 20
                    ),
                )
            } else {
                IngestError::invalid(file, format!("not JSON: {e}"))
            }
        })?;
    let metrics_v = v
        .get("metrics")
        .and_then(Value::as_object)
        .ok_or_else(|| IngestError::invalid(file, "no \"metrics\" object: not a k6 summary"))?;
    let mut metrics = BTreeMap::new();
    // The same bounds as a point stream's: the first 1,000 metric names (with up to 200 sub-metrics each).
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut dropped_metrics, mut dropped_subs) = (std::collections::BTreeSet::new(), 0usize);
    for (name, m) in metrics_v {
        let obj =
            m.as_object().ok_or_else(|| IngestError::invalid(file, format!("metrics.{name} is not an object")))?;
        let base = name.split('{').next().unwrap_or(name);
        let known = names.len();
        let subs = match names.get_mut(base) {
            Some(n) => n,
            None if known < MAX_METRICS => names.entry(base).or_insert(0),
            None => {
                dropped_metrics.insert(base);
                continue;
            }
        };
        if name.contains('{') {
            if *subs >= MAX_SUBMETRICS || metrics.len() >= MAX_SERIES {
                dropped_subs += 1;
                continue;
            }
            *subs += 1;
        }
        let rm = match kind {
            InputKind::K6HandleSummary => handle_metric(obj),
            _ => export_metric(obj),
        };
        metrics.insert(name.clone(), rm);
    }
    let mut left_out = Vec::new();
    if !dropped_metrics.is_empty() {
        left_out.push(format!(
            "{} distinct metric names past the limit of {MAX_METRICS} left out (the first: {})",
            dropped_metrics.len(),
            dropped_metrics.iter().next().copied().unwrap_or_default()
        ));
    }
    if dropped_subs > 0 {
        left_out.push(format!(
            "{dropped_subs} sub-metrics past {MAX_SUBMETRICS} per metric or {MAX_SERIES} series in all left out"
        ));
    }
    let mut checks_left = MAX_CHECKS;
    let checks = v.get("root_group").map(|g| {
        let mut tree = group(g, &mut checks_left);
        tree.limit_depth();
        tree
    });
    if checks_left == 0 {
        left_out.push(format!("checks past the limit of {MAX_CHECKS} left out"));
    }
    let duration_ms = match kind {
        InputKind::K6HandleSummary => v.get("state").and_then(|s| s.get("testRunDurationMs")).and_then(Value::as_f64),
        _ => None,
    }
    .or_else(|| {
        metrics.values().filter(|m| m.kind == Some(MetricType::Counter)).find_map(|m| {
            let (c, r) = (m.values.get("count")?, m.values.get("rate")?);
            (*r > 0.0).then(|| c / r * 1000.0)
        })
    });
    Ok(SummaryInput { kind, metrics, checks, duration_ms, left_out })
}

fn numbers(obj: &serde_json::Map<String, Value>) -> BTreeMap<String, f64> {
    obj.iter().filter_map(|(k, v)| v.as_f64().map(|x| (k.clone(), x))).take(MAX_VALUES).collect()
}

fn handle_metric(obj: &serde_json::Map<String, Value>) -> ReportedMetric {
    let kind = obj.get("type").and_then(Value::as_str).and_then(MetricType::parse);
    let values = obj.get("values").and_then(Value::as_object).map(numbers).unwrap_or_default();
    let thresholds = obj
        .get("thresholds")
        .and_then(Value::as_object)
        .map(|t| {
            t.iter()
                .filter_map(|(expr, r)| r.get("ok").and_then(Value::as_bool).map(|ok| (expr.clone(), ok)))
                .take(MAX_THRESHOLDS)
                .collect()
        })
        .unwrap_or_default();
    ReportedMetric { kind, contains: obj.get("contains").and_then(Value::as_str).map(String::from), values, thresholds }
}

fn export_metric(obj: &serde_json::Map<String, Value>) -> ReportedMetric {
    let mut values = numbers(obj);
    let has = |k: &str| values.contains_key(k);
    // A trend's stats are before its `count`: `summaryTrendStats` may list `count` too.
    let kind = if has("passes") || has("fails") {
        Some(MetricType::Rate)
    } else if has("avg") || has("med") || values.keys().any(|k| k.starts_with("p(")) {
        Some(MetricType::Trend)
    } else if has("count") {
        Some(MetricType::Counter)
    } else if has("value") {
        Some(MetricType::Gauge)
    } else {
        None
    };
    if kind == Some(MetricType::Rate) {
        // summary-export calls a rate's ratio `value`; handleSummary and inspect call it `rate`.
        if let Some(v) = values.remove("value") {
            values.insert("rate".into(), v);
        }
    }
    // In summary-export a threshold's `true` means it was crossed.
    let thresholds = obj
        .get("thresholds")
        .and_then(Value::as_object)
        .map(|t| {
            t.iter()
                .filter_map(|(e, b)| b.as_bool().map(|crossed| (e.clone(), !crossed)))
                .take(MAX_THRESHOLDS)
                .collect()
        })
        .unwrap_or_default();
    ReportedMetric { kind, contains: None, values, thresholds }
}

/// A group of checks and its sub-groups, keeping at most `left` checks in all.
fn group(g: &Value, left: &mut usize) -> CheckGroup {
    let s = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let items = |k: &str| -> Vec<Value> {
        match g.get(k) {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::Object(o)) => o.values().cloned().collect(),
            _ => Vec::new(),
        }
    };
    let all = items("checks");
    let keep = all.len().min(*left);
    *left -= keep;
    let checks = all[..keep]
        .iter()
        .map(|c| CheckResult {
            name: c.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
            path: c.get("path").and_then(Value::as_str).unwrap_or_default().to_string(),
            passes: c.get("passes").and_then(Value::as_u64).unwrap_or(0),
            fails: c.get("fails").and_then(Value::as_u64).unwrap_or(0),
        })
        .collect();
    let groups = items("groups").iter().map(|x| group(x, left)).collect();
    CheckGroup { name: s("name"), path: s("path"), checks, groups }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_thresholds_read_backwards() {
        let doc = br#"{"root_group":{"name":"","path":"","checks":{"a":{"name":"a","path":"::a","passes":2,"fails":1}},"groups":{}},
          "metrics":{"http_req_duration":{"avg":1,"p(95)":300,"thresholds":{"p(95)<250":true}},
                     "http_req_failed":{"passes":1,"fails":9,"value":0.1},
                     "http_reqs":{"count":100,"rate":10},
                     "group_duration":{"avg":2,"count":222,"max":3,"min":1,"med":2,"p(90)":3}}}"#;
        let s = parse(doc, "s.json", InputKind::K6SummaryExport).unwrap();
        // A trend whose summaryTrendStats include `count` is still a trend.
        assert_eq!(s.metrics["group_duration"].kind, Some(MetricType::Trend));
        assert!(!s.metrics["http_req_duration"].thresholds["p(95)<250"]);
        assert_eq!(s.metrics["http_req_failed"].values["rate"], 0.1);
        assert_eq!(s.metrics["http_reqs"].kind, Some(MetricType::Counter));
        assert_eq!(s.duration_ms, Some(10_000.0));
        assert_eq!(s.checks.unwrap().checks[0].fails, 1);
    }

    #[test]
    fn handle_summary_thresholds_are_ok_flags() {
        let doc = br#"{"state":{"testRunDurationMs":31000},"root_group":{"name":"","path":"","checks":[],"groups":[]},
          "metrics":{"http_req_duration":{"type":"trend","contains":"time","values":{"avg":1},"thresholds":{"p(95)<250":{"ok":false}}}}}"#;
        let s = parse(doc, "h.json", InputKind::K6HandleSummary).unwrap();
        assert!(!s.metrics["http_req_duration"].thresholds["p(95)<250"]);
        assert_eq!(s.duration_ms, Some(31_000.0));
        assert!(parse(b"[]", "h.json", InputKind::K6HandleSummary).is_err());
    }
}
