//! k6's `experimental-prometheus-rw` output as Prometheus kept it (FORMAT.md
//! §13), read back through the HTTP API as raw samples (a range vector per
//! metric: every pushed value, with its time), and turned into samples for the
//! same [`Aggregator`] the JSON stream feeds:
//!
//! - counters (`k6_NAME_total`, cumulative from the test's start): each
//!   push's increase, as one sample at the push's time;
//! - gauges (`k6_NAME`): each pushed value;
//! - rates (`k6_NAME_rate`, a cumulative ratio per label set): where a counter
//!   with the same labels counts the samples (`http_req_failed` by
//!   `http_reqs`), each push's new passes and fails as samples of 1 and 0 —
//!   exact; elsewhere (`checks`, custom rates) the samples cannot be counted:
//!   the ratios are kept as they are, per label set, and the rate over label
//!   sets is their unweighted mean, marked approximate;
//! - trends as native histograms (`k6_NAME_seconds` with
//!   `K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true`): each push's new
//!   observations, one sample per observation at its bucket's geometric
//!   middle (in ms for time trends). Counts are exact; sums, min, max and
//!   percentiles hold to the buckets' width, and are marked so.
//!
//! Prometheus drops empty labels: the root group's `group=""` is restored
//! where there is a `scenario`, as for InfluxDB.
//!
//! Trends exported as summary stats (`k6_NAME_p99`, the default without
//! native histograms) hold no observations: their stats are kept as k6
//! computed them per label set ([`finish_trend_stats`]).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::IngestError;
use crate::k6::builtin::DEFAULT_BREAKDOWN_TAGS;
use crate::k6::{
    series_key, Aggregator, K6Summary, MetricDecl, MetricType, PercentileSource, SeriesOrigin, SeriesSummary,
};

/// One series of a range vector: its labels (without `__name__`) and samples.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSeries {
    pub labels: BTreeMap<String, String>,
    /// (time in Unix seconds, value)
    pub samples: Vec<(f64, f64)>,
    /// (time in Unix seconds, cumulative histogram)
    pub histograms: Vec<(f64, NativeHistogram)>,
}

/// A native histogram as the HTTP API renders it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NativeHistogram {
    pub count: f64,
    pub sum: f64,
    /// (lower bound, upper bound, count)
    pub buckets: Vec<(f64, f64, f64)>,
}

/// How a k6 metric was written, from its Prometheus name.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    Counter {
        metric: String,
    },
    Rate {
        metric: String,
    },
    Gauge {
        metric: String,
    },
    /// A native histogram; `time` when the name ends in `_seconds`.
    Histogram {
        metric: String,
        time: bool,
    },
    /// A trend exported as one summary stat (`_p99`, `_avg`…).
    TrendStat {
        metric: String,
        stat: String,
    },
}

/// Classifies every `k6_…` name (the names come from Prometheus's label
/// values of `__name__`; `histograms` lists those that hold native histograms).
pub fn classify(names: &[String], histograms: &[String]) -> Vec<(String, Written)> {
    let stat_suffix = |n: &str| -> Option<(String, String)> {
        for s in ["_avg", "_min", "_max", "_med", "_count", "_sum"] {
            if let Some(m) = n.strip_suffix(s) {
                return Some((m.to_string(), s[1..].to_string()));
            }
        }
        let (m, p) = n.rsplit_once("_p")?;
        (!p.is_empty() && p.chars().all(|c| c.is_ascii_digit())).then(|| (m.to_string(), format!("p{p}")))
    };
    let mut out = Vec::new();
    for n in names {
        let Some(base) = n.strip_prefix("k6_") else { continue };
        let w = if histograms.contains(n) {
            match base.strip_suffix("_seconds") {
                Some(m) => Written::Histogram { metric: m.into(), time: true },
                None => Written::Histogram { metric: base.into(), time: false },
            }
        } else if let Some(m) = base.strip_suffix("_total") {
            Written::Counter { metric: m.into() }
        } else if let Some(m) = base.strip_suffix("_rate") {
            Written::Rate { metric: m.into() }
        } else if let Some((m, stat)) = stat_suffix(base).filter(|(m, _)| {
            // A stat of a trend: another stat of the same trend is there too, or it is `_p<N>`.
            names.iter().filter(|x| x.starts_with(&format!("k6_{m}_"))).count() > 1
        }) {
            Written::TrendStat { metric: m, stat }
        } else {
            Written::Gauge { metric: base.into() }
        };
        out.push((n.clone(), w));
    }
    out
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// Parses an instant query's response whose result is a range vector (matrix).
pub fn parse_matrix(body: &[u8], source: &str) -> Result<Vec<RawSeries>, IngestError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| IngestError::invalid(source, format!("not a Prometheus API response: {e}")))?;
    if v["status"] != "success" {
        let msg = v["error"].as_str().unwrap_or("no error message");
        return Err(IngestError::invalid(source, format!("Prometheus says: {msg}")));
    }
    let Some(result) = v["data"]["result"].as_array() else {
        return Err(IngestError::invalid(source, "no data.result in the response"));
    };
    let bad = |m: &str| IngestError::invalid(source, m.to_string());
    let mut out = Vec::new();
    for s in result {
        let labels: BTreeMap<String, String> = s["metric"]
            .as_object()
            .ok_or_else(|| bad("a series without labels"))?
            .iter()
            .filter(|(k, _)| *k != "__name__")
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
            .collect();
        let mut samples = Vec::new();
        for p in s["values"].as_array().into_iter().flatten() {
            let (Some(t), Some(x)) = (num(&p[0]), num(&p[1])) else {
                return Err(bad("a sample is not [time, \"value\"]"));
            };
            samples.push((t, x));
        }
        let mut histograms = Vec::new();
        for p in s["histograms"].as_array().into_iter().flatten() {
            let t = num(&p[0]).ok_or_else(|| bad("a histogram sample without a time"))?;
            let h = &p[1];
            let mut nh = NativeHistogram {
                count: num(&h["count"]).ok_or_else(|| bad("a histogram without count"))?,
                sum: num(&h["sum"]).unwrap_or(0.0),
                buckets: Vec::new(),
            };
            for b in h["buckets"].as_array().into_iter().flatten() {
                let (Some(lo), Some(hi), Some(c)) = (num(&b[1]), num(&b[2]), num(&b[3])) else {
                    return Err(bad("a histogram bucket is not [rule, lower, upper, count]"));
                };
                nh.buckets.push((lo, hi, c));
            }
            histograms.push((t, nh));
        }
        out.push(RawSeries { labels, samples, histograms });
    }
    Ok(out)
}

fn ns(t: f64) -> i64 {
    (t * 1e9).round() as i64
}

/// A series' labels as sample tags. Prometheus drops empty labels, so the
/// root group's `group=""` is put back where there is a `scenario` (as for InfluxDB).
fn tags(labels: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    let mut t: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if labels.contains_key("scenario") && !labels.contains_key("group") {
        t.push(("group", ""));
    }
    t
}

/// Feeds a counter's series: each push's increase.
pub fn feed_counter(agg: &mut Aggregator, metric: &str, series: &[RawSeries]) -> u64 {
    let mut n = 0;
    for s in series {
        let t = tags(&s.labels);
        let mut prev = 0.0;
        for &(time, v) in &s.samples {
            let d = v - prev;
            prev = v;
            if d > 0.0 {
                agg.add_point(metric, ns(time), d, &t);
                n += 1;
            }
        }
    }
    n
}

/// Feeds a gauge's series: each pushed value.
pub fn feed_gauge(agg: &mut Aggregator, metric: &str, series: &[RawSeries]) -> u64 {
    let mut n = 0;
    for s in series {
        let t = tags(&s.labels);
        for &(time, v) in &s.samples {
            agg.add_point(metric, ns(time), v, &t);
            n += 1;
        }
    }
    n
}

/// Feeds a rate whose samples a counter with the same labels counts: each
/// push's new passes (1) and fails (0). Returns the label sets it could not
/// weigh (no counter series with their labels).
pub fn feed_weighted_rate(
    agg: &mut Aggregator,
    metric: &str,
    series: &[RawSeries],
    weights: &[RawSeries],
) -> Vec<RawSeries> {
    let mut left = Vec::new();
    for s in series {
        let Some(w) = weights.iter().find(|w| w.labels == s.labels) else {
            left.push(s.clone());
            continue;
        };
        let t = tags(&s.labels);
        let (mut prev_n, mut prev_p) = (0u64, 0u64);
        for &(time, ratio) in &s.samples {
            // The counter's cumulative count at this push (its last sample at or before it).
            let Some(n) = w.samples.iter().rev().find(|(wt, _)| *wt <= time + 1e-3).map(|x| x.1.round() as u64) else {
                continue;
            };
            let passes = (ratio * n as f64).round() as u64;
            if n < prev_n || passes < prev_p {
                continue;
            }
            let (dn, dp) = (n - prev_n, passes - prev_p);
            for i in 0..dn {
                agg.add_point(metric, ns(time), if i < dp { 1.0 } else { 0.0 }, &t);
            }
            prev_n = n;
            prev_p = passes;
        }
    }
    left
}

/// Feeds a native-histogram trend: each push's new observations at their
/// buckets' geometric middles (× 1000 for `_seconds`: the model's ms).
pub fn feed_histogram(agg: &mut Aggregator, metric: &str, time: bool, series: &[RawSeries]) -> u64 {
    let scale = if time { 1000.0 } else { 1.0 };
    let mut n = 0;
    for s in series {
        let t = tags(&s.labels);
        let mut prev: BTreeMap<(u64, u64), f64> = BTreeMap::new();
        for (time_s, h) in &s.histograms {
            let mut now: BTreeMap<(u64, u64), f64> = BTreeMap::new();
            for &(lo, hi, c) in &h.buckets {
                *now.entry((lo.to_bits(), hi.to_bits())).or_default() += c;
            }
            for (&(lo, hi), &c) in &now {
                let d = (c - prev.get(&(lo, hi)).copied().unwrap_or(0.0)).round();
                if d <= 0.0 {
                    continue;
                }
                let (lo, hi) = (f64::from_bits(lo), f64::from_bits(hi));
                let mid = if lo > 0.0 && hi > 0.0 {
                    (lo * hi).sqrt()
                } else if lo < 0.0 && hi < 0.0 {
                    -(lo * hi).sqrt()
                } else {
                    0.0
                };
                for _ in 0..d as u64 {
                    agg.add_point(metric, ns(*time_s), mid * scale, &t);
                    n += 1;
                }
            }
            prev = now;
        }
    }
    n
}

/// The type a written metric has in the model.
pub fn model_type(w: &Written) -> Option<(String, MetricType, &'static str)> {
    match w {
        Written::Counter { metric } => Some((metric.clone(), MetricType::Counter, "default")),
        Written::Rate { metric } => Some((metric.clone(), MetricType::Rate, "default")),
        Written::Gauge { metric } => Some((metric.clone(), MetricType::Gauge, "default")),
        Written::Histogram { metric, time } => {
            Some((metric.clone(), MetricType::Trend, if *time { "time" } else { "default" }))
        }
        Written::TrendStat { .. } => None,
    }
}

/// After assembling an import: marks the figures Prometheus limits, and adds
/// the rates whose samples no counter counts (`unweighted`: metric → its
/// series), as their ratios per label set and unweighted means over them.
/// `counted_duration`: the test's duration came from k6's summary, so
/// counter rates are exact.
pub fn finish(
    summary: &mut K6Summary,
    written: &[(String, Written)],
    unweighted: &BTreeMap<String, Vec<RawSeries>>,
    counted_duration: bool,
) {
    let kind_of: BTreeMap<String, &Written> =
        written.iter().filter_map(|(_, w)| model_type(w).map(|(m, _, _)| (m, w))).collect();
    for s in summary.series.values_mut() {
        let Some(w) = kind_of.get(&s.metric) else { continue };
        s.approximate = match w {
            Written::Histogram { .. } => s.values.keys().filter(|k| *k != "count").cloned().collect(),
            Written::Gauge { .. } => s.values.keys().cloned().collect(),
            Written::Counter { .. } if !counted_duration => vec!["rate".into()],
            _ => Vec::new(),
        };
    }
    for (metric, series) in unweighted {
        summary.metrics.entry(metric.clone()).or_insert_with(|| MetricDecl {
            kind: MetricType::Rate,
            contains: "default".into(),
            thresholds: Vec::new(),
            submetrics: Vec::new(),
            type_source: "builtin".into(),
        });
        let last: Vec<(&BTreeMap<String, String>, f64, f64, f64)> = series
            .iter()
            .filter_map(|s| {
                let (first, last) = (s.samples.first()?, s.samples.last()?);
                Some((&s.labels, last.1, first.0, last.0))
            })
            .collect();
        let labels: Vec<&BTreeMap<String, String>> = last.iter().map(|x| x.0).collect();
        for (key, (tags, origin, members)) in groups_of(metric, &labels) {
            if summary.series.contains_key(&key) {
                continue; // k6's own summary had it: exact.
            }
            let mean = members.iter().map(|&i| last[i].1).sum::<f64>() / members.len() as f64;
            let first_ns = members.iter().map(|&i| ns(last[i].2)).min();
            let last_ns = members.iter().map(|&i| ns(last[i].3)).max();
            // k6's own summary, when given, has the whole metric exactly.
            let reported = (origin == SeriesOrigin::Metric)
                .then(|| summary.reported.as_ref().and_then(|r| r.get(metric)))
                .flatten()
                .filter(|r| r.values.contains_key("rate"));
            // And its checks tree counts each check by name and by group.
            let from_tree =
                (metric == "checks").then(|| summary.checks.as_ref().and_then(|g| check_counts(g, &tags))).flatten();
            let (values, approximate) = match (reported, from_tree) {
                (Some(r), _) => (r.values.clone(), Vec::new()),
                (None, Some((p, f))) => (
                    [
                        ("rate".to_string(), if p + f > 0 { p as f64 / (p + f) as f64 } else { 0.0 }),
                        ("passes".to_string(), p as f64),
                        ("fails".to_string(), f as f64),
                    ]
                    .into(),
                    Vec::new(),
                ),
                (None, None) => (
                    [("rate".to_string(), mean)].into(),
                    if members.len() > 1 { vec!["rate".to_string()] } else { Vec::new() },
                ),
            };
            summary.series.insert(
                key,
                SeriesSummary {
                    metric: metric.clone(),
                    tags,
                    origin,
                    samples: 0,
                    first_ns,
                    last_ns,
                    values,
                    percentiles: PercentileSource::None,
                    approximate,
                },
            );
        }
    }
}

/// A series key (the whole metric, and one per value of each break-down tag)
/// → its tags, its origin, and which of the label sets it covers.
type Group = (BTreeMap<String, String>, SeriesOrigin, Vec<usize>);

fn groups_of(metric: &str, label_sets: &[&BTreeMap<String, String>]) -> BTreeMap<String, Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (i, labels) in label_sets.iter().enumerate() {
        groups
            .entry(metric.to_string())
            .or_insert_with(|| (BTreeMap::new(), SeriesOrigin::Metric, Vec::new()))
            .2
            .push(i);
        for tag in DEFAULT_BREAKDOWN_TAGS {
            let v = match labels.get(*tag) {
                Some(v) => v.clone(),
                None if *tag == "group" && labels.contains_key("scenario") => String::new(),
                None => continue,
            };
            let tags: BTreeMap<String, String> = [(tag.to_string(), v)].into();
            groups.entry(series_key(metric, &tags)).or_insert_with(|| (tags, SeriesOrigin::Tag, Vec::new())).2.push(i);
        }
    }
    groups
}

/// Trends exported as summary stats (`k6_NAME_p99`, `_avg`, `_count`…,
/// without native histograms): each label set's last (cumulative) stats, in
/// ms for time trends (k6 writes seconds, and divides a time trend's `_count`
/// by 1000 too: counts are made whole again). Over several label sets, `count`,
/// `min`, `max` and (with `_sum` or `_avg` and `_count`) `avg` combine exactly;
/// percentiles do not, and are given only for a series of one label set.
/// `stats`: metric → stat (`p99`, `avg`…) → its series.
pub fn finish_trend_stats(summary: &mut K6Summary, stats: &BTreeMap<String, BTreeMap<String, Vec<RawSeries>>>) {
    for (metric, by_stat) in stats {
        // Label sets, and each one's stats.
        let mut sets: Vec<BTreeMap<String, String>> = Vec::new();
        let mut vals: Vec<BTreeMap<String, f64>> = Vec::new();
        let mut span: Vec<(f64, f64)> = Vec::new();
        for (stat, series) in by_stat {
            for s in series {
                let (Some(first), Some(last)) = (s.samples.first(), s.samples.last()) else { continue };
                let i = match sets.iter().position(|l| *l == s.labels) {
                    Some(i) => i,
                    None => {
                        sets.push(s.labels.clone());
                        vals.push(BTreeMap::new());
                        span.push((first.0, last.0));
                        sets.len() - 1
                    }
                };
                vals[i].insert(stat.clone(), last.1);
                span[i] = (span[i].0.min(first.0), span[i].1.max(last.0));
            }
        }
        // Time trends: a fractional count was divided by 1000; else the declared unit.
        let declared = summary
            .metrics
            .get(metric)
            .map(|d| d.contains.clone())
            .or_else(|| crate::k6::builtin::builtin_metric(metric).map(|(_, c)| c.to_string()));
        let divided = vals.iter().any(|v| v.get("count").is_some_and(|c| c.fract() != 0.0));
        let time = divided || declared.as_deref() == Some("time");
        let scale = if time { 1000.0 } else { 1.0 };
        for v in &mut vals {
            for (k, x) in v.iter_mut() {
                if k == "count" {
                    if time {
                        *x = (*x * 1000.0).round();
                    }
                } else {
                    *x *= scale;
                }
            }
        }
        summary.metrics.entry(metric.clone()).or_insert_with(|| MetricDecl {
            kind: MetricType::Trend,
            contains: if time { "time".into() } else { declared.unwrap_or_else(|| "default".into()) },
            thresholds: Vec::new(),
            submetrics: Vec::new(),
            type_source: "builtin".into(),
        });
        let labels: Vec<&BTreeMap<String, String>> = sets.iter().collect();
        for (key, (tags, origin, members)) in groups_of(metric, &labels) {
            if summary.series.contains_key(&key) {
                continue;
            }
            let mut values: BTreeMap<String, f64> = BTreeMap::new();
            if members.len() == 1 {
                for (k, x) in &vals[members[0]] {
                    let key = match k.as_str() {
                        "avg" | "min" | "max" | "med" | "count" => k.clone(),
                        "sum" => continue,
                        p => match p.strip_prefix('p').and_then(|n| n.parse::<f64>().ok()) {
                            Some(n) => crate::threshold::percentile_key(n / 100.0),
                            None => continue,
                        },
                    };
                    values.insert(key, *x);
                }
            } else {
                let all = |k: &str| members.iter().map(|&i| vals[i].get(k).copied()).collect::<Option<Vec<f64>>>();
                if let Some(c) = all("count") {
                    let n: f64 = c.iter().sum();
                    values.insert("count".into(), n);
                    if let Some(sums) = all("sum") {
                        if n > 0.0 {
                            values.insert("avg".into(), sums.iter().sum::<f64>() / n);
                        }
                    } else if let Some(avgs) = all("avg") {
                        if n > 0.0 {
                            values.insert("avg".into(), avgs.iter().zip(&c).map(|(a, c)| a * c).sum::<f64>() / n);
                        }
                    }
                }
                if let Some(m) = all("min") {
                    values.insert("min".into(), m.into_iter().fold(f64::INFINITY, f64::min));
                }
                if let Some(m) = all("max") {
                    values.insert("max".into(), m.into_iter().fold(f64::NEG_INFINITY, f64::max));
                }
            }
            if values.is_empty() {
                continue;
            }
            let first_ns = members.iter().map(|&i| ns(span[i].0)).min();
            let last_ns = members.iter().map(|&i| ns(span[i].1)).max();
            summary.series.insert(
                key,
                SeriesSummary {
                    metric: metric.clone(),
                    tags,
                    origin,
                    samples: values.get("count").copied().unwrap_or(0.0) as u64,
                    first_ns,
                    last_ns,
                    values,
                    percentiles: PercentileSource::Reported,
                    approximate: Vec::new(),
                },
            );
        }
    }
}

/// Passes and fails of the checks a `checks{check:…}` or `checks{group:…}`
/// series covers, from k6's checks tree.
fn check_counts(root: &crate::k6::CheckGroup, tags: &BTreeMap<String, String>) -> Option<(u64, u64)> {
    let (key, want) = tags.iter().next()?;
    if tags.len() != 1 || !(key == "check" || key == "group") {
        return None;
    }
    fn walk(g: &crate::k6::CheckGroup, key: &str, want: &str, acc: &mut (u64, u64), hit: &mut bool) {
        for c in &g.checks {
            let matches = if key == "check" { c.name == want } else { g.path == want };
            if matches {
                acc.0 += c.passes;
                acc.1 += c.fails;
                *hit = true;
            }
        }
        for sub in &g.groups {
            walk(sub, key, want, acc, hit);
        }
    }
    let (mut acc, mut hit) = ((0, 0), false);
    walk(root, key, want, &mut acc, &mut hit);
    hit.then_some(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k6::{assemble, AggregatorOptions};

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_tell_the_kinds_apart() {
        let n = names(&[
            "k6_http_reqs_total",
            "k6_http_req_failed_rate",
            "k6_vus",
            "k6_http_req_duration_seconds",
            "k6_order_latency_p99",
            "k6_order_latency_avg",
            "k6_cart_max",
        ]);
        let c = classify(&n, &names(&["k6_http_req_duration_seconds"]));
        let get = |k: &str| c.iter().find(|(n, _)| n == k).unwrap().1.clone();
        assert_eq!(get("k6_http_reqs_total"), Written::Counter { metric: "http_reqs".into() });
        assert_eq!(get("k6_http_req_failed_rate"), Written::Rate { metric: "http_req_failed".into() });
        assert_eq!(get("k6_vus"), Written::Gauge { metric: "vus".into() });
        assert_eq!(
            get("k6_http_req_duration_seconds"),
            Written::Histogram { metric: "http_req_duration".into(), time: true }
        );
        assert_eq!(
            get("k6_order_latency_p99"),
            Written::TrendStat { metric: "order_latency".into(), stat: "p99".into() }
        );
        // A lone name ending like a stat is a gauge.
        assert_eq!(get("k6_cart_max"), Written::Gauge { metric: "cart_max".into() });
    }

    #[test]
    fn pushes_become_samples() {
        // Hand-made responses in the API's shape (the real server is in the CLI's tests).
        let reqs = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"k6_http_reqs_total","status":"200"},"values":[[100,"3"],[105,"10"]]}]}}"#;
        let failed = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"k6_http_req_failed_rate","status":"200"},"values":[[100,"0.3333333333333333"],[105,"0.2"]]},{"metric":{"status":"500"},"values":[[105,"1"]]}]}}"#;
        let dur = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"status":"200"},"histograms":[[100,{"count":"3","sum":"0.03","buckets":[[0,"0.0078125","0.008519591661447326","3"]]}],[105,{"count":"10","sum":"0.2","buckets":[[0,"0.0078125","0.008519591661447326","3"],[0,"0.03125","0.03407836664578932","7"]]}]]}]}}"#;
        let mut agg = Aggregator::new(AggregatorOptions::default());
        let r = parse_matrix(reqs, "q").unwrap();
        assert_eq!(feed_counter(&mut agg, "http_reqs", &r), 2);
        let left = feed_weighted_rate(&mut agg, "http_req_failed", &parse_matrix(failed, "q").unwrap(), &r);
        assert_eq!(left.len(), 1, "no counter for status 500");
        assert_eq!(feed_histogram(&mut agg, "http_req_duration", true, &parse_matrix(dur, "q").unwrap()), 10);
        let s = assemble(Some((agg, "prometheus".into())), None).summary;
        assert_eq!(s.series["http_reqs"].values["count"], 10.0);
        assert_eq!(
            (s.series["http_req_failed"].values["passes"], s.series["http_req_failed"].values["fails"]),
            (2.0, 8.0)
        );
        assert_eq!(s.series["http_req_duration"].values["count"], 10.0);
        let max = s.series["http_req_duration"].values["max"];
        assert!((31.25..34.08).contains(&max), "{max}");
        let e = parse_matrix(br#"{"status":"error","error":"parse error"}"#, "http://p/api").unwrap_err().to_string();
        assert!(e.contains("http://p/api") && e.contains("parse error"), "{e}");
    }
}
