//! After an import is assembled: the figures Prometheus limits marked
//! approximate, the rates no counter weighs, and trends exported as summary
//! stats (no observations, only k6's own figures per label set).

use std::collections::BTreeMap;

use super::{model_type, ns, RawSeries, Written};
use crate::histogram::LogHistogram;
use crate::k6::builtin::DEFAULT_BREAKDOWN_TAGS;
use crate::k6::cells::{Across, Cell, TrendCell};
use crate::k6::{series_key, K6Summary, MetricDecl, MetricType, PercentileSource, SeriesOrigin, SeriesSummary};

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
                let sets: Vec<&BTreeMap<String, f64>> = members.iter().map(|&i| &vals[i]).collect();
                values = combined_stats(&sets);
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

/// Several label sets' stats combined: each one's as a trend cell (count,
/// sum — or avg × count —, min, max), the cells combined as the same bucket
/// of several shards is. Only the keys every label set's stats give are
/// kept, and no percentile (percentiles do not combine).
fn combined_stats(sets: &[&BTreeMap<String, f64>]) -> BTreeMap<String, f64> {
    let all = |k: &str| sets.iter().map(|v| v.get(k).copied()).collect::<Option<Vec<f64>>>();
    let counts = all("count");
    let sums = match &counts {
        Some(c) => all("sum").or_else(|| Some(all("avg")?.iter().zip(c).map(|(a, c)| a * c).collect())),
        None => None,
    };
    let (mins, maxs) = (all("min"), all("max"));
    let mut whole = TrendCell::default();
    for i in 0..sets.len() {
        let one = TrendCell {
            // Counts are whole numbers (time trends' are made whole again);
            // without them, each label set counts as one sample: only min and max are kept.
            n: counts.as_ref().map_or(1, |c| c[i] as u64),
            sum: sums.as_ref().map_or(0.0, |s| s[i]),
            min: mins.as_ref().map_or(0.0, |m| m[i]),
            max: maxs.as_ref().map_or(0.0, |m| m[i]),
            hist: LogHistogram::default(),
        };
        whole.combine(&one, Across::Max);
    }
    let (mut values, _) = whole.finish(std::iter::empty(), None);
    values.retain(|k, _| match k.as_str() {
        "count" => counts.is_some(),
        "avg" => sums.is_some(),
        "min" => mins.is_some(),
        "max" => maxs.is_some(),
        _ => false,
    });
    values
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
