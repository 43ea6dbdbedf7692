//! One series' summary merged from its shards' summaries: counts and sums
//! add, extremes are kept, and what the summaries cannot give — a gauge's
//! min and max over the test's time, a trend's percentiles — comes from the
//! merged buckets when the shards had time series.

use std::collections::BTreeMap;

use super::gauges_across;
use super::grid::Whole;
use crate::histogram::LogHistogram;
use crate::k6::cells::{summary_percentiles, Cell, CounterCell, GaugeCell, RateCell, TrendCell};
use crate::k6::model::{MetricType, PercentileSource, SeriesSummary};
use crate::threshold;

/// The merged summary of a series of type `kind` from its shards' summaries
/// (`parts`, at least one) and its merged buckets (`whole`, when there is a
/// merged time series); counters' `rate` over `duration_ms`.
pub(super) fn merge_summaries(
    parts: &[&SeriesSummary],
    kind: MetricType,
    whole: Option<Whole>,
    duration_ms: Option<f64>,
) -> SeriesSummary {
    let first = parts[0];
    let sum = |k: &str| parts.iter().filter_map(|p| p.values.get(k)).sum::<f64>();
    let lowest = |k: &str| parts.iter().filter_map(|p| p.values.get(k).copied()).fold(f64::INFINITY, f64::min);
    let highest = |k: &str| parts.iter().filter_map(|p| p.values.get(k).copied()).fold(f64::NEG_INFINITY, f64::max);
    let samples: u64 = parts.iter().map(|p| p.samples).sum();
    let values = match kind {
        MetricType::Counter => CounterCell { n: samples, sum: sum("count") }.finish(duration_ms),
        MetricType::Rate => {
            let (passes, fails) = (sum("passes") as u64, sum("fails") as u64);
            RateCell { n: passes + fails, passes }.finish()
        }
        MetricType::Gauge => {
            // The value: the shards' last values, combined as their buckets are.
            let mut g = GaugeCell::default();
            for v in parts.iter().filter_map(|p| p.values.get("value")) {
                let mut one = GaugeCell::default();
                one.add(*v);
                g.combine(&one, gauges_across(&first.metric));
            }
            // Min and max over time: from the merged buckets, else the shards' extremes.
            match whole {
                Some(Whole::Gauge(w)) if !w.is_empty() => (g.min, g.max) = (w.min, w.max),
                _ => (g.min, g.max) = (lowest("min"), highest("max")),
            }
            g.finish()
        }
        MetricType::Trend => {
            let total: f64 = parts
                .iter()
                .map(|p| p.values.get("avg").copied().unwrap_or(0.0) * p.values.get("count").copied().unwrap_or(0.0))
                .sum();
            let mut t = TrendCell {
                n: sum("count") as u64,
                sum: total,
                min: lowest("min"),
                max: highest("max"),
                hist: LogHistogram::default(),
            };
            // Percentiles from the merged histograms: the usual ones and any a shard has.
            let mut pcts: BTreeMap<String, f64> = BTreeMap::new();
            if let Some(Whole::Trend(w)) = whole {
                t.hist = w.hist;
                pcts.extend(summary_percentiles());
                for p in parts {
                    for k in p.values.keys() {
                        if let Some(x) = threshold::percentile_from_key(k) {
                            pcts.insert(k.clone(), x);
                        }
                    }
                }
            }
            t.finish(pcts, None).0
        }
    };
    SeriesSummary {
        metric: first.metric.clone(),
        tags: first.tags.clone(),
        origin: first.origin,
        samples,
        first_ns: parts.iter().filter_map(|p| p.first_ns).min(),
        last_ns: parts.iter().filter_map(|p| p.last_ns).max(),
        values,
        percentiles: if kind == MetricType::Trend { PercentileSource::Histogram } else { PercentileSource::None },
        approximate: {
            let mut a: Vec<String> = parts.iter().flat_map(|p| p.approximate.iter().cloned()).collect();
            a.sort();
            a.dedup();
            a
        },
    }
}
