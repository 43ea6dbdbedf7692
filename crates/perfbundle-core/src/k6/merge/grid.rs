//! The shards' time series on one grid: re-binned to a common bucket width,
//! bucket by bucket combined (cells of the same time from each shard), and
//! widened while the merged histograms are over their budget.

use std::collections::{BTreeMap, BTreeSet};

use super::{gauges_across, MergeError, Shard};
use crate::k6::cells::{self, next_width, Cell, CounterCell, GaugeCell, RateCell, TrendCell, MAX_BUCKETS};
use crate::k6::model::{parse_series_key, K6TimeSeries, MetricType, SeriesOrigin, StoredSeries};

/// A merged series' buckets merged into one cell: what its summary needs
/// of them (a gauge's min and max over time, a trend's histogram).
#[derive(Debug)]
pub(super) enum Whole {
    Gauge(GaugeCell),
    Trend(TrendCell),
    /// Counters and rates: their summaries add up without their buckets.
    Other,
}

/// A series re-binned to `width_ms`, its histograms at `accuracy`: absolute bucket index → cell.
fn rebin<T: Cell>(ts: &K6TimeSeries, s: &StoredSeries, width_ms: u64, accuracy: f64) -> BTreeMap<i64, T> {
    let mut out: BTreeMap<i64, T> = BTreeMap::new();
    for i in 0..s.t.len() {
        let abs_ms = (ts.first_bucket + i64::from(s.t[i])) * ts.bucket_ms as i64;
        let idx = abs_ms.div_euclid(width_ms as i64);
        let c = T::from_stored(s, i, ts.relative_accuracy).at_accuracy(accuracy);
        match out.get_mut(&idx) {
            Some(e) => e.merge(&c),
            None => {
                out.insert(idx, c);
            }
        }
    }
    out
}

fn store<T: Cell>(cells: &BTreeMap<i64, T>, first: i64) -> StoredSeries {
    cells::store(cells.iter().map(|(i, c)| (*i, c)), first)
}

fn slots<T: Cell>(cells: &BTreeMap<i64, T>) -> usize {
    cells.values().map(Cell::hist_slots).sum()
}

/// A stored series re-binned to `width_ms` on the grid that starts at
/// `first`, and its histograms' occupied slots.
fn rebin_stored<T: Cell>(ts: &K6TimeSeries, s: &StoredSeries, width_ms: u64, first: i64) -> (StoredSeries, usize) {
    let cells = rebin::<T>(ts, s, width_ms, ts.relative_accuracy);
    (store(&cells, first), slots(&cells))
}

/// The time series on the next width of the ladder, and its histograms'
/// occupied slots: series by series, each old one freed as its new one is
/// made (memory holds one copy, not two).
fn coarsen(mut ts: K6TimeSeries) -> (K6TimeSeries, usize) {
    let width = next_width(ts.bucket_ms);
    let lo = (ts.first_bucket * ts.bucket_ms as i64).div_euclid(width as i64);
    let hi = ((ts.first_bucket + ts.buckets as i64 - 1) * ts.bucket_ms as i64).div_euclid(width as i64);
    let mut total = 0;
    let old = std::mem::take(&mut ts.series);
    let mut series = BTreeMap::new();
    for (key, s) in old {
        let Some(kind) = s.kind else { continue };
        let (stored, n) = match kind {
            MetricType::Counter => rebin_stored::<CounterCell>(&ts, &s, width, lo),
            MetricType::Gauge => rebin_stored::<GaugeCell>(&ts, &s, width, lo),
            MetricType::Rate => rebin_stored::<RateCell>(&ts, &s, width, lo),
            MetricType::Trend => rebin_stored::<TrendCell>(&ts, &s, width, lo),
        };
        drop(s);
        total += n;
        series.insert(key, stored);
    }
    let out = K6TimeSeries {
        bucket_ms: width,
        first_bucket: lo,
        buckets: (hi - lo + 1) as u64,
        relative_accuracy: ts.relative_accuracy,
        series,
    };
    (out, total)
}

/// Where the merged series go, the histogram slots they take so far, and
/// their histograms' accuracy (the coarsest shard's).
struct Out<'a> {
    accuracy: f64,
    series: &'a mut BTreeMap<String, StoredSeries>,
    slots: &'a mut usize,
}

/// Series `key` of every shard (those that hold it as a `T`) combined on
/// the grid of `width_ms` from bucket `lo`; each shard's whole-metric series
/// is kept as `metric{shard:N}` too. Returns the merged buckets as one cell.
fn merge_series<T: Cell>(shards: &[Shard<'_>], key: &str, width_ms: u64, lo: i64, out: Out<'_>) -> T {
    let mut merged: BTreeMap<i64, T> = BTreeMap::new();
    for (si, shard) in shards.iter().enumerate() {
        let Some(ts) = shard.timeseries else { continue };
        let Some(s) = ts.series.get(key).filter(|s| s.kind == Some(T::KIND)) else { continue };
        let summary = shard.summary.series.get(key);
        let metric = summary.map(|x| x.metric.clone()).unwrap_or_else(|| parse_series_key(key).0);
        let gauges = gauges_across(&metric);
        let cells = rebin::<T>(ts, s, width_ms, out.accuracy);
        *out.slots += slots(&cells);
        for (idx, c) in &cells {
            merged.entry(*idx).or_insert_with(|| T::empty_at(out.accuracy)).combine(c, gauges);
        }
        if summary.is_some_and(|x| x.origin == SeriesOrigin::Metric) {
            out.series.insert(format!("{metric}{{shard:{si}}}"), store(&cells, lo));
        }
    }
    *out.slots += slots(&merged);
    out.series.insert(key.to_string(), store(&merged, lo));
    let mut whole = T::empty_at(out.accuracy);
    for c in merged.values() {
        whole.merge(c);
    }
    whole
}

/// Every shard's time series (`tss`, one per shard, in order) on one grid:
/// the widest shard's bucket width, widened until the grid has at most
/// [`MAX_BUCKETS`] buckets and the histograms take at most three quarters
/// of `max_hist_slots`. Returns it, and per merged series its buckets as one cell.
pub(super) fn merge_timeseries(
    shards: &[Shard<'_>],
    tss: &[&K6TimeSeries],
    max_hist_slots: usize,
) -> Result<(K6TimeSeries, BTreeMap<String, Whole>), MergeError> {
    let mut width = tss.iter().map(|t| t.bucket_ms).max().unwrap_or(1000);
    if let Some((shard, t)) = shards.iter().zip(tss).find(|(_, t)| width % t.bucket_ms != 0) {
        return Err(MergeError::BucketWidths {
            shard: shard.name.to_string(),
            bucket_ms: t.bucket_ms,
            widest_ms: width,
        });
    }
    let (lo, hi) = loop {
        let (lo, hi) = tss.iter().fold((i64::MAX, i64::MIN), |(lo, hi), t| {
            let (a, b) = t.span_ms();
            (lo.min((a as i64).div_euclid(width as i64)), hi.max(((b as i64) - 1).div_euclid(width as i64)))
        });
        if hi - lo < MAX_BUCKETS as i64 {
            break (lo, hi.max(lo));
        }
        width = next_width(width);
    };
    // Shards of other accuracies (a stream whose histograms ran out of
    // room) merge at the coarsest of them.
    let acc = tss.iter().map(|t| t.relative_accuracy).fold(tss[0].relative_accuracy, f64::max);
    // One series at a time, so memory holds one series' buckets, not all of them.
    let keys: BTreeSet<&String> = tss.iter().flat_map(|t| t.series.keys()).collect();
    let mut series = BTreeMap::new();
    let mut wholes = BTreeMap::new();
    let mut slots = 0usize;
    for key in keys {
        // The type is the first shard's that has the series (shards merged
        // with --force may disagree; the others' buckets are left out).
        let kind = shards.iter().filter_map(|s| s.timeseries?.series.get(key)?.kind).next();
        let Some(kind) = kind else { continue };
        let out = Out { accuracy: acc, series: &mut series, slots: &mut slots };
        let whole = match kind {
            MetricType::Counter => {
                merge_series::<CounterCell>(shards, key, width, lo, out);
                Whole::Other
            }
            MetricType::Gauge => Whole::Gauge(merge_series(shards, key, width, lo, out)),
            MetricType::Rate => {
                merge_series::<RateCell>(shards, key, width, lo, out);
                Whole::Other
            }
            MetricType::Trend => Whole::Trend(merge_series(shards, key, width, lo, out)),
        };
        wholes.insert(key.clone(), whole);
    }
    let mut ts = K6TimeSeries {
        bucket_ms: width,
        first_bucket: lo,
        buckets: (hi - lo + 1) as u64,
        relative_accuracy: acc,
        series,
    };
    // The merged histograms keep to the budget one stream's aggregation
    // has: wider buckets until they take at most three quarters of it.
    let budget = max_hist_slots.saturating_mul(3) / 4;
    while slots > budget && ts.buckets > 1 {
        (ts, slots) = coarsen(ts);
    }
    Ok((ts, wholes))
}
