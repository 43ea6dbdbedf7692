//! k6's end-of-test summary laid out as k6 lays it out: metrics grouped in
//! sections (HTTP, EXECUTION, NETWORK, …, CUSTOM), each metric's keys in
//! k6's order, the sub-metrics that thresholds name under their metric, and
//! k6's number styles (`2.89%` truncated, counts as `1,598`). One layout for
//! `inspect`'s text and the viewer's tables.

use std::collections::BTreeMap;

use super::model::*;

/// One row of the summary: a series of one metric.
#[derive(Debug, Clone)]
pub struct SummaryRow<'a> {
    /// The series key: `http_req_duration`, `http_req_duration{expected_response:true}`.
    pub key: &'a str,
    /// The metric's name for a whole-metric row; `{ expected_response:true }` for a sub-series.
    pub label: String,
    pub metric: &'a str,
    pub decl: &'a MetricDecl,
    pub series: &'a SeriesSummary,
    /// `true` for a sub-metric or a by-tag series shown under its metric.
    pub sub: bool,
}

/// A section of the summary and its rows, in k6's order.
#[derive(Debug, Clone)]
pub struct SummarySection<'a> {
    /// `HTTP`, `EXECUTION`, `NETWORK`, `WEBSOCKETS`, `GRPC`, `BROWSER`, `CUSTOM`.
    pub name: &'static str,
    pub rows: Vec<SummaryRow<'a>>,
}

/// The section k6 puts a metric in.
pub fn section_of(metric: &str) -> &'static str {
    if metric.starts_with("http_") {
        "HTTP"
    } else if matches!(
        metric,
        "iteration_duration" | "iterations" | "vus" | "vus_max" | "dropped_iterations" | "group_duration"
    ) {
        "EXECUTION"
    } else if matches!(metric, "data_received" | "data_sent") {
        "NETWORK"
    } else if metric.starts_with("ws_") {
        "WEBSOCKETS"
    } else if metric.starts_with("grpc_") {
        "GRPC"
    } else if metric.starts_with("browser_") {
        "BROWSER"
    } else if metric == "checks" {
        "CHECKS"
    } else {
        "CUSTOM"
    }
}

const ORDER: [&str; 7] = ["HTTP", "EXECUTION", "NETWORK", "WEBSOCKETS", "GRPC", "BROWSER", "CUSTOM"];

/// Every metric of `s` but `checks` (which k6 prints as totals and a tree),
/// grouped in sections. Under each metric: its declared sub-metrics (those
/// thresholds name), and with `by_tag` its series broken down by that tag.
pub fn sections<'a>(s: &'a K6Summary, by_tag: Option<&str>) -> Vec<SummarySection<'a>> {
    let mut out: Vec<SummarySection<'a>> = Vec::new();
    for (name, decl) in &s.metrics {
        if name == "checks" {
            continue;
        }
        let Some((key, series)) = s.series.get_key_value(name) else {
            continue;
        };
        let mut rows = vec![SummaryRow { key, label: name.clone(), metric: name, decl, series, sub: false }];
        for (key, sub) in s.series.range(format!("{name}{{")..format!("{name}|")) {
            let shown = match sub.origin {
                SeriesOrigin::Submetric => true,
                SeriesOrigin::Tag => by_tag.is_some_and(|t| sub.tags.contains_key(t)),
                SeriesOrigin::Metric => false,
            };
            let inner =
                key.strip_prefix(name.as_str()).and_then(|r| r.strip_prefix('{')).and_then(|r| r.strip_suffix('}'));
            if let (true, true, Some(inner)) = (shown, sub.metric == *name, inner) {
                let label = format!("{{ {inner} }}");
                rows.push(SummaryRow { key, label, metric: name, decl, series: sub, sub: true });
            }
        }
        let section = section_of(name);
        match out.iter_mut().find(|s| s.name == section) {
            Some(s) => s.rows.extend(rows),
            None => out.push(SummarySection { name: section, rows }),
        }
    }
    out.sort_by_key(|s| ORDER.iter().position(|o| *o == s.name));
    out
}

/// The keys of a series' values in the order k6 prints them: `avg min med
/// max` then percentiles ascending (trend), `count rate` (counter), `rate
/// passes fails` (rate), `value min max` (gauge); any other key last.
pub fn keys_in_order(kind: MetricType, values: &BTreeMap<String, f64>) -> Vec<&str> {
    let fixed: &[&str] = match kind {
        MetricType::Trend => &["avg", "min", "med", "max"],
        MetricType::Counter => &["count", "rate"],
        MetricType::Rate => &["rate", "passes", "fails"],
        MetricType::Gauge => &["value", "min", "max"],
    };
    let mut out: Vec<&str> = fixed.iter().copied().filter(|k| values.contains_key(*k)).collect();
    let mut pcts: Vec<(f64, &str)> = values
        .keys()
        .filter_map(|k| crate::threshold::percentile_from_key(k).map(|p| (p, k.as_str())))
        .filter(|(_, k)| !fixed.contains(k))
        .collect();
    pcts.sort_by(|a, b| a.0.total_cmp(&b.0));
    out.extend(pcts.into_iter().map(|(_, k)| k));
    out.extend(values.keys().map(String::as_str).filter(|k| !out.contains(k)).collect::<Vec<_>>());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_k6s_order() {
        let v: BTreeMap<String, f64> =
            ["p(99)", "max", "avg", "p(90)", "min", "med", "p(99.9)", "count"].map(|k| (k.to_string(), 1.0)).into();
        assert_eq!(
            keys_in_order(MetricType::Trend, &v),
            ["avg", "min", "med", "max", "p(90)", "p(99)", "p(99.9)", "count"]
        );
    }
}
