//! The end of the aggregation: every series' summary and stored buckets,
//! thresholds evaluated, the check tree, and the warnings.

use std::collections::{BTreeMap, HashMap};

use super::{check_tree, Aggregated, Aggregator};
use crate::k6::model::*;
use crate::threshold;

impl Aggregator {
    /// Ends the aggregation. `duration_ms` is the test run duration used for
    /// counters' `rate` (k6's own when a summary gave it; the span of the
    /// samples otherwise).
    pub fn finish(self, duration_ms: Option<f64>) -> Aggregated {
        let start_ns = self.series.iter().filter(|s| s.first_ns != i64::MAX).map(|s| s.first_ns).min();
        let end_ns = self.series.iter().filter(|s| s.last_ns != i64::MIN).map(|s| s.last_ns).max();
        let duration_ms = duration_ms.or_else(|| match (start_ns, end_ns) {
            (Some(a), Some(b)) if b > a => Some((i128::from(b) - i128::from(a)) as f64 / 1e6),
            _ => None,
        });
        let first_bucket = if self.min_idx == i64::MAX { 0 } else { self.min_idx };
        let buckets = if self.min_idx == i64::MAX { 0 } else { (self.max_idx - self.min_idx + 1) as u64 };

        let mut stats = self.stats;
        for m in &self.metrics {
            for b in &m.by_tag {
                if b.overflow > 0 {
                    stats.breakdown_overflow.insert(format!("{}{{{}}}", m.name, b.key), b.overflow);
                }
            }
        }
        let mut warnings = self.warnings;
        for name in &self.guessed {
            warnings.push(format!(
                "metric {name}: no type declared in the input; taken as a trend (use --metric-type {name}=KIND)"
            ));
        }
        if self.guessed_more > 0 {
            warnings.push(format!("{} more metrics with no type declared were taken as trends", self.guessed_more));
        }
        if self.thresholds_dropped > 0 {
            warnings.push(format!(
                "{} thresholds past {} on one metric were left out",
                self.thresholds_dropped,
                super::MAX_THRESHOLDS_PER_METRIC
            ));
        }
        let overflowing = stats.breakdown_overflow.len();
        for (k, n) in stats.breakdown_overflow.iter().take(20) {
            warnings.push(format!(
                "{k}: too many distinct values (or values over {} bytes); {n} samples were not broken down by this tag",
                super::MAX_TAG_VALUE_BYTES
            ));
        }
        if overflowing > 20 {
            warnings.push(format!("{} more tag break-downs had too many distinct values", overflowing - 20));
        }
        if stats.dropped_metrics > 0 {
            warnings.push(format!(
                "{} distinct metric names past the limit of {} ({} samples) were left out: is this a k6 output?",
                stats.dropped_metrics, self.opts.max_metrics, stats.dropped_metric_samples
            ));
        }
        if stats.series_not_made > 0 {
            warnings.push(format!(
                "{} series, sub-metrics, tag keys or checks past the limits ({} series, {} sub-metrics and {} extra break-down keys per metric, {} checks) were not made",
                stats.series_not_made,
                self.opts.max_series,
                self.opts.max_submetrics,
                self.opts.max_extra_breakdown_keys,
                self.opts.max_checks
            ));
        }

        // Percentiles named by thresholds are computed too.
        let mut wanted: HashMap<&str, Vec<f64>> = HashMap::new();
        for m in &self.metrics {
            for t in &m.decl.thresholds {
                if let Some(p) = threshold::percentile_of(t) {
                    wanted.entry(m.name.as_str()).or_default().push(p);
                }
            }
        }

        let mut series_out = BTreeMap::new();
        let mut ts_out = BTreeMap::new();
        for mut s in self.series {
            if s.samples() == 0 {
                continue;
            }
            let mut extra = wanted.get(s.metric.as_str()).cloned().unwrap_or_default();
            extra.extend(self.opts.extra_percentiles.iter().copied());
            let key = std::mem::take(&mut s.key);
            let (summary, stored) = s.summarize(duration_ms, first_bucket, &extra, self.hist.accuracy);
            ts_out.insert(key.clone(), stored);
            series_out.insert(key, summary);
        }

        let mut metrics = BTreeMap::new();
        let mut thresholds = Vec::new();
        for m in self.metrics {
            for expr in &m.decl.thresholds {
                let ok = series_out.get(&m.name).and_then(|s: &SeriesSummary| threshold::evaluate(expr, &s.values));
                thresholds.push(Threshold {
                    metric: m.name.clone(),
                    expr: expr.clone(),
                    ok,
                    source: "evaluated".into(),
                });
            }
            metrics.insert(m.name, m.decl);
        }

        let checks = if self.checks.is_empty() {
            None
        } else {
            let mut tree = check_tree(&self.checks);
            if tree.limit_depth() {
                warnings.push(format!(
                    "check groups nested more than {} deep: the deeper groups' checks are kept in their ancestor at that depth",
                    crate::k6::MAX_GROUP_DEPTH
                ));
            }
            Some(tree)
        };
        Aggregated {
            metrics,
            series: series_out,
            timeseries: K6TimeSeries {
                bucket_ms: self.width_ms,
                first_bucket,
                buckets,
                relative_accuracy: self.hist.accuracy,
                series: ts_out,
            },
            thresholds,
            checks,
            start_ns,
            end_ns,
            stats,
            warnings,
        }
    }
}
