//! Merging the shards of one distributed k6 test (execution segments,
//! k6-operator): one exact result from the shards' bundles.
//!
//! Per metric type: counters add (counts and sums); rates add passes and
//! samples; trends add counts and sums, keep the extreme min/max, and merge
//! their histograms bucket by bucket (so percentiles are those of the union,
//! within the histograms' accuracy); gauges `vus` and `vus_max` add across
//! shards (the test's VUs are the sum of each instance's), other gauges take
//! the largest shard's value. Every shard's whole-metric series is kept as a
//! `metric{shard:N}` sub-series, so a chart can show each instance.
//!
//! `compat` checks that the shards belong together, `grid` merges their time
//! series bucket by bucket (the cells of `k6::cells`), `summary` their
//! per-series summaries.

mod compat;
mod grid;
mod summary;

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

use super::aggregate::{add_check_counts, check_tree, CheckCounts};
use super::cells::Across;
use super::model::*;
use crate::threshold;

/// One shard: its name (for the `shard` tag and messages) and its k6 model.
#[derive(Debug, Clone, Copy)]
pub struct Shard<'a> {
    pub name: &'a str,
    pub summary: &'a K6Summary,
    pub timeseries: Option<&'a K6TimeSeries>,
}

/// The merged k6 model.
#[derive(Debug)]
pub struct Merged {
    pub summary: K6Summary,
    pub timeseries: Option<K6TimeSeries>,
    pub warnings: Vec<String>,
}

/// Why shards could not be merged.
#[derive(Debug, Error)]
pub enum MergeError {
    /// Fewer than two shards were given.
    #[error("merging needs at least two shards")]
    TooFewShards { given: usize },
    /// The shards do not look like one test's (other metrics, types or
    /// thresholds, windows that do not overlap), and `force` was not given.
    #[error("the shards do not belong together: {} (use --force to merge anyway)", problems.join("; "))]
    NotOneRun { problems: Vec<String> },
    /// A shard's bucket width does not divide the widest one's, so their
    /// buckets cannot be brought to one grid.
    #[error(
        "the shards' bucket widths do not divide one another: {shard} has {bucket_ms} ms buckets, the widest are {widest_ms} ms"
    )]
    BucketWidths { shard: String, bucket_ms: u64, widest_ms: u64 },
}

/// How a metric's gauges combine across shards: `vus` and `vus_max` add up,
/// other gauges take the largest shard's value.
fn gauges_across(metric: &str) -> Across {
    if matches!(metric, "vus" | "vus_max") {
        Across::Sum
    } else {
        Across::Max
    }
}

/// Merges shards. Incompatible shards (other metrics or thresholds, windows
/// that do not overlap) are an error, unless `force`, when they are warnings.
pub fn merge(shards: &[Shard<'_>], force: bool) -> Result<Merged, MergeError> {
    // The merged model's series: every shard's, and each shard's whole metrics again.
    let keys: BTreeSet<&String> = shards.iter().flat_map(|s| s.summary.series.keys()).collect();
    let copies: usize =
        shards.iter().map(|s| s.summary.series.values().filter(|x| x.origin == SeriesOrigin::Metric).count()).sum();
    let budget = super::aggregate::hist_budget(&super::AggregatorOptions::default(), keys.len() + copies);
    merge_within(shards, force, budget)
}

/// [`merge`], with the merged time series' histograms kept to `max_hist_slots`
/// occupied slots (three quarters of it, as one stream's aggregation does) by
/// widening the time buckets.
pub fn merge_within(shards: &[Shard<'_>], force: bool, max_hist_slots: usize) -> Result<Merged, MergeError> {
    if shards.len() < 2 {
        return Err(MergeError::TooFewShards { given: shards.len() });
    }
    let mut warnings = Vec::new();
    let problems = compat::check_compatible(shards);
    if !problems.is_empty() {
        if !force {
            return Err(MergeError::NotOneRun { problems });
        }
        warnings.extend(problems.into_iter().map(|p| format!("merged anyway: {p}")));
    }

    // Time series on a common grid, and per merged series its buckets as one cell.
    let tss: Vec<&K6TimeSeries> = shards.iter().filter_map(|s| s.timeseries).collect();
    let mut timeseries = None;
    let mut wholes = BTreeMap::new();
    if tss.len() == shards.len() {
        let (ts, w) = grid::merge_timeseries(shards, &tss, max_hist_slots)?;
        timeseries = Some(ts);
        wholes = w;
    } else if !tss.is_empty() {
        warnings.push("some shards have no time series: the merged bundle has none".into());
    }

    // Summaries.
    let start_ns = shards.iter().filter_map(|s| s.summary.start_ns).min();
    let end_ns = shards.iter().filter_map(|s| s.summary.end_ns).max();
    let duration_ms = shards
        .iter()
        .filter_map(|s| s.summary.duration_ms)
        .fold(None, |a: Option<f64>, d| Some(a.map_or(d, |x| x.max(d))));
    // The test lasted at least the union of the shards' windows (shards start
    // and stop at slightly different times).
    let union_ms = start_ns.zip(end_ns).map(|(s, e)| (i128::from(e) - i128::from(s)) as f64 / 1e6);
    let duration_ms = match (duration_ms, union_ms) {
        (Some(d), Some(u)) => Some(d.max(u)),
        (d, u) => d.or(u),
    };
    let keys: BTreeSet<&String> = shards.iter().flat_map(|s| s.summary.series.keys()).collect();
    let mut series = BTreeMap::new();
    for key in keys {
        let parts: Vec<&SeriesSummary> = shards.iter().filter_map(|s| s.summary.series.get(key)).collect();
        let Some(first) = parts.first() else { continue };
        let kind = shards.iter().find_map(|s| s.summary.metrics.get(&first.metric)).map(|d| d.kind);
        let Some(kind) = kind else { continue };
        let merged = summary::merge_summaries(&parts, kind, wholes.remove(key), duration_ms);
        series.insert(key.clone(), merged);
    }
    // Each shard's own whole-metric figures, as `metric{shard:N}`.
    for (si, shard) in shards.iter().enumerate() {
        for (key, s) in shard.summary.series.iter().filter(|(_, s)| s.origin == SeriesOrigin::Metric) {
            let mut copy = s.clone();
            copy.tags.insert("shard".into(), si.to_string());
            copy.origin = SeriesOrigin::Tag;
            series.insert(format!("{key}{{shard:{si}}}"), copy);
        }
    }

    // Thresholds: every expression any shard carries, evaluated on the merged figures.
    let mut exprs: BTreeSet<(String, String)> = BTreeSet::new();
    for s in shards {
        for t in &s.summary.thresholds {
            exprs.insert((t.metric.clone(), t.expr.clone()));
        }
        for (m, d) in &s.summary.metrics {
            for e in &d.thresholds {
                exprs.insert((m.clone(), e.clone()));
            }
        }
    }
    let thresholds = exprs
        .into_iter()
        .map(|(metric, expr)| {
            let ok = series.get(&metric).and_then(|s: &SeriesSummary| threshold::evaluate(&expr, &s.values));
            Threshold { metric, expr, ok, source: "evaluated".into() }
        })
        .collect();

    // Checks: the same (group, check) add up; the tree is built as for one stream.
    let mut checks = CheckCounts::new();
    for g in shards.iter().filter_map(|s| s.summary.checks.as_ref()) {
        add_check_counts(g, &mut checks);
    }
    let checks = (!checks.is_empty()).then(|| check_tree(&checks));

    let mut metrics = shards[0].summary.metrics.clone();
    for s in &shards[1..] {
        for (k, d) in &s.summary.metrics {
            metrics.entry(k.clone()).or_insert_with(|| d.clone());
        }
    }
    let mut stats = IngestStats::default();
    for s in shards {
        stats += &s.summary.stats;
    }
    Ok(Merged {
        summary: K6Summary {
            points_source: shards[0].summary.points_source.clone(),
            summary_source: None,
            duration_ms,
            duration_source: Some("longest shard".into()),
            start_ns,
            end_ns,
            metrics,
            series,
            thresholds,
            checks,
            reported: None,
            stats,
        },
        timeseries,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::LogHistogram;
    use crate::k6::{assemble, Aggregator, AggregatorOptions};
    use proptest::prelude::*;

    /// A hand-made point stream (not a tool's output): requests with a
    /// duration and a status tag at `times_ms`.
    fn model(points: &[(i64, f64)]) -> (K6Summary, K6TimeSeries) {
        let mut a = Aggregator::new(AggregatorOptions::default());
        for &(t_ms, v) in points {
            let t = 1_700_000_000_000_000_000 + t_ms * 1_000_000;
            let status = if v > 50.0 { "500" } else { "200" };
            a.add_point("http_reqs", t, 1.0, &[("status", status)]);
            a.add_point("http_req_duration", t, v, &[("status", status)]);
            a.add_point("http_req_failed", t, if v > 50.0 { 1.0 } else { 0.0 }, &[("status", status)]);
        }
        let asm = assemble(Some((a, "k6-json".into())), None);
        (asm.summary, asm.timeseries.expect("a time series"))
    }

    fn merged(parts: &[(K6Summary, K6TimeSeries)], budget: usize, force: bool) -> Merged {
        let names: Vec<String> = (0..parts.len()).map(|i| format!("shard{i}")).collect();
        let shards: Vec<Shard<'_>> =
            parts.iter().zip(&names).map(|((s, t), name)| Shard { name, summary: s, timeseries: Some(t) }).collect();
        merge_within(&shards, force, budget).expect("mergeable")
    }

    fn n_total(ts: &K6TimeSeries, key: &str) -> u64 {
        ts.series[key].n.iter().sum()
    }

    #[test]
    fn merged_histograms_keep_to_the_budget_by_widening_buckets() {
        // 20 s of requests, 10 per 100 ms bucket, values spread over many histogram slots.
        let pts: Vec<(i64, f64)> = (0..2000).map(|i| (i * 10, 1.0 + (i % 97) as f64 * 0.37)).collect();
        let (a, b): (Vec<_>, Vec<_>) = pts.iter().partition(|(t, _)| (t / 10) % 2 == 0);
        let parts = [model(&a), model(&b)];
        assert_eq!(parts[0].1.bucket_ms, 100);
        let roomy = merged(&parts, usize::MAX, false);
        assert_eq!(roomy.timeseries.as_ref().unwrap().bucket_ms, 100);
        let tight = merged(&parts, 2_000, false);
        let ts = tight.timeseries.as_ref().unwrap();
        assert!(ts.bucket_ms > 100, "bucket width {}", ts.bucket_ms);
        let slots: usize = ts
            .series
            .values()
            .flat_map(|s| s.hist.iter())
            .map(|h| LogHistogram::from_stored(h, ts.relative_accuracy).unwrap().occupied())
            .sum();
        assert!(slots <= 1_500 || ts.buckets == 1, "{slots} slots in {} buckets", ts.buckets);
        ts.validate().unwrap();
        // Nothing is lost by widening: every series still holds every sample,
        // and the summary is the same as with room to spare.
        for key in ["http_req_duration", "http_req_duration{status:200}", "http_reqs{shard:1}"] {
            assert_eq!(n_total(ts, key), n_total(roomy.timeseries.as_ref().unwrap(), key), "{key}");
        }
        assert_eq!(tight.summary.series, roomy.summary.series);
    }

    #[test]
    fn shards_of_other_accuracies_merge_at_the_coarsest() {
        let pts: Vec<(i64, f64)> = (0..2000).map(|i| (i * 10, 1.0 + (i % 97) as f64 * 0.37)).collect();
        let (a, b): (Vec<_>, Vec<_>) = pts.iter().partition(|(t, _)| (t / 10) % 2 == 0);
        let mut parts = [model(&a), model(&b)];
        // The second shard's histograms at the next coarser accuracy, as a
        // stream whose histograms ran out of room writes them.
        let coarse = LogHistogram::coarser_accuracy(parts[1].1.relative_accuracy).unwrap();
        for s in parts[1].1.series.values_mut() {
            for h in &mut s.hist {
                let mut x = LogHistogram::from_stored(h, parts[1].1.relative_accuracy).unwrap();
                x.coarsen_to(coarse);
                *h = x.to_stored();
            }
        }
        parts[1].1.relative_accuracy = coarse;
        let m = merged(&parts, usize::MAX, false);
        let ts = m.timeseries.as_ref().unwrap();
        assert_eq!(ts.relative_accuracy, coarse);
        ts.validate().unwrap();
        assert_eq!(n_total(ts, "http_req_duration"), 2000);
        // Every merged histogram reads back all its samples at that accuracy,
        // and the median is within it of the exact one.
        let s = &m.summary.series["http_req_duration"];
        let mut all: Vec<f64> = pts.iter().map(|p| p.1).collect();
        all.sort_by(f64::total_cmp);
        let exact = crate::histogram::k6_percentile(&all, 0.5);
        assert!((s.values["med"] - exact).abs() / exact <= coarse * 1.01, "{} vs {exact}", s.values["med"]);
    }

    #[test]
    fn merged_stats_add_every_counter() {
        let mut parts = [model(&[(0, 1.0), (100, 2.0)]), model(&[(50, 3.0)])];
        for (i, (s, _)) in parts.iter_mut().enumerate() {
            s.stats.breakdown_overflow.insert("http_reqs{name}".into(), 10 + i as u64);
            s.stats.breakdown_overflow.insert(format!("only{i}{{url}}"), 1);
            s.stats.dropped_metric_samples = 3;
            s.stats.dropped_metrics = 1;
            s.stats.series_not_made = 2;
            s.stats.non_finite = 4;
        }
        let (points, lines) = (parts[0].0.stats.points, parts[0].0.stats.lines + parts[1].0.stats.lines);
        let m = merged(&parts, usize::MAX, false);
        let st = &m.summary.stats;
        assert_eq!(st.breakdown_overflow["http_reqs{name}"], 21);
        assert_eq!((st.breakdown_overflow["only0{url}"], st.breakdown_overflow["only1{url}"]), (1, 1));
        assert_eq!((st.dropped_metric_samples, st.dropped_metrics, st.series_not_made, st.non_finite), (6, 2, 4, 8));
        assert_eq!((st.points, st.lines), (points + parts[1].0.stats.points, lines));
    }

    #[test]
    fn errors_say_what_keeps_shards_apart() {
        let parts = [model(&[(0, 1.0), (100, 2.0)]), model(&[(50, 3.0)]), model(&[(500, 1.0)])];
        let late = Shard { name: "late", summary: &parts[2].0, timeseries: Some(&parts[2].1) };
        let a = Shard { name: "a", summary: &parts[0].0, timeseries: Some(&parts[0].1) };
        let e = merge(&[a], false).unwrap_err();
        assert!(matches!(e, MergeError::TooFewShards { given: 1 }), "{e}");
        let mut odd = parts[1].1.clone();
        odd.bucket_ms = 150;
        let b = Shard { name: "b", summary: &parts[1].0, timeseries: Some(&odd) };
        let e = merge(&[a, b], false).unwrap_err();
        assert!(
            matches!(&e, MergeError::BucketWidths { shard, bucket_ms: 100, widest_ms: 150 } if shard == "a"),
            "{e}"
        );
        assert!(e.to_string().starts_with("the shards' bucket widths do not divide one another"), "{e}");
        let e = merge(&[a, late], false).unwrap_err();
        assert!(
            matches!(&e, MergeError::NotOneRun { problems } if problems == &["a ended before late began: not shards of one run"]),
            "{e}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Merging the shards of a stream gives the stream's own figures:
        /// counts, sums, min and max exactly, percentiles within 1%.
        #[test]
        fn merging_shards_equals_aggregating_their_union(
            pts in prop::collection::vec((0i64..30_000, 0.01f64..100.0), 2..400),
            cut in prop::collection::vec(0usize..3, 400),
        ) {
            let mut shards: Vec<Vec<(i64, f64)>> = vec![Vec::new(); 3];
            for (i, p) in pts.iter().enumerate() {
                shards[cut[i]].push(*p);
            }
            shards.retain(|s| !s.is_empty());
            prop_assume!(shards.len() >= 2);
            let parts: Vec<_> = shards.iter().map(|s| model(s)).collect();
            // Random cuts can leave one shard's samples all before another's: forced.
            let m = merged(&parts, usize::MAX, true);
            let (whole, _) = model(&pts);
            for (key, w) in &whole.series {
                let got = &m.summary.series.get(key).unwrap_or_else(|| panic!("{key} missing")).values;
                for (stat, want) in &w.values {
                    let g = got[stat];
                    let exact = !(stat.starts_with("p(") || stat == "med" || stat == "rate");
                    let tol = if exact { 1e-9 * want.abs().max(1.0) } else { 0.01 * want.abs() + 1e-12 };
                    prop_assert!((g - want).abs() <= tol, "{key} {stat}: merged {g}, whole {want}");
                }
            }
        }
    }
}
