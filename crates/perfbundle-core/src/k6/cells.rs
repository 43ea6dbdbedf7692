//! The statistics of one metric type over one time bucket (or any run of
//! buckets, or a whole run): one cell type per k6 metric type, and the one
//! place that turns a cell into k6's summary keys.
//!
//! Every path that computes figures goes through these cells: the streaming
//! aggregation (`add`, `merge` when time buckets widen), the shards' merge
//! (`from_stored`, `combine` for the same bucket of another shard), the
//! summaries of a time range (`k6::view`) and Prometheus's trend stats. A cell
//! is written into a [`StoredSeries`] by [`Cell::push`], which keeps every
//! stored number finite.
//!
//! Time buckets are aligned to absolute multiples of their width, and the
//! widths come from [`WIDTH_LADDER_MS`] (each divides the next), so widening
//! merges whole buckets: [`next_width`] is the one ladder step.

use std::collections::BTreeMap;

use super::model::{MetricType, PercentileSource, StoredSeries};
use crate::histogram::{k6_percentile, LogHistogram};

/// Bucket widths in ms; each divides the next. Past the end, widths double ([`next_width`]).
pub const WIDTH_LADDER_MS: &[u64] = &[
    100, 200, 1_000, 2_000, 10_000, 20_000, 60_000, 120_000, 600_000, 1_200_000, 3_600_000, 7_200_000, 21_600_000,
    43_200_000, 86_400_000,
];

/// Most buckets in a run's grid: the default of the aggregation's
/// `max_buckets`, and the bound on the grid the shards' merge makes.
pub const MAX_BUCKETS: u64 = 2_000;

/// The bucket width after `width_ms` on the ladder: the next wider width of
/// [`WIDTH_LADDER_MS`], or twice `width_ms` past its end.
pub fn next_width(width_ms: u64) -> u64 {
    WIDTH_LADDER_MS.iter().copied().find(|w| *w > width_ms).unwrap_or(width_ms * 2)
}

/// Trend percentiles every summary carries (k6's keys).
pub const SUMMARY_PERCENTILES: &[(&str, f64)] = &[("med", 0.5), ("p(90)", 0.9), ("p(95)", 0.95), ("p(99)", 0.99)];

/// JSON holds no infinity: a sum that overflowed is stored as the largest finite value.
#[inline]
pub(crate) fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else if v > 0.0 {
        f64::MAX
    } else {
        f64::MIN
    }
}

/// How gauges of the same time from different shards combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Across {
    /// The values add (`vus`: the test's VUs are the sum of each instance's).
    Sum,
    /// The largest value is kept.
    Max,
}

/// The statistics of one metric type over a time bucket.
pub(crate) trait Cell: Default + Clone {
    /// The metric type the cell is for.
    const KIND: MetricType;
    /// Number of samples in it.
    fn samples(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.samples() == 0
    }
    /// Merges `later`, a later bucket of the same series (time coarsening).
    fn merge(&mut self, later: &Self);
    /// Adds `other`, the same bucket of the same series from another shard.
    fn combine(&mut self, other: &Self, gauges: Across);
    /// Bucket `i` of a stored series (histograms read at `accuracy`). Missing
    /// columns read as zeros, an unreadable histogram as an empty one.
    fn from_stored(s: &StoredSeries, i: usize, accuracy: f64) -> Self;
    /// Appends the cell as bucket `t` of `s`, every number finite.
    fn push(&self, s: &mut StoredSeries, t: u32);
    /// Histogram buckets it occupies.
    fn hist_slots(&self) -> usize {
        0
    }
    /// An empty cell whose histogram (if it has one) is of `accuracy`.
    fn empty_at(_accuracy: f64) -> Self {
        Self::default()
    }
    /// The cell with its histogram (if it has one) at `accuracy`.
    fn at_accuracy(self, _accuracy: f64) -> Self {
        self
    }
}

/// Cells by absolute bucket index, stored on a grid whose first bucket is `first`.
pub(crate) fn store<'a, T: Cell + 'a>(cells: impl IntoIterator<Item = (i64, &'a T)>, first: i64) -> StoredSeries {
    let mut s = StoredSeries { kind: Some(T::KIND), ..Default::default() };
    for (idx, c) in cells {
        c.push(&mut s, (idx - first) as u32);
    }
    s
}

/// Buckets `idx` of a stored series merged in time into one cell.
pub(crate) fn merged<T: Cell>(s: &StoredSeries, idx: impl IntoIterator<Item = usize>, accuracy: f64) -> T {
    let mut whole = T::empty_at(accuracy);
    for i in idx {
        whole.merge(&T::from_stored(s, i, accuracy));
    }
    whole
}

/// Keeps `[min, max]` around `v`, `n` being the values seen before it.
#[inline]
fn widen(n: u64, min: &mut f64, max: &mut f64, v: f64) {
    if n == 0 || v < *min {
        *min = v;
    }
    if n == 0 || v > *max {
        *max = v;
    }
}

fn col<T: Copy + Default>(c: &[T], i: usize) -> T {
    c.get(i).copied().unwrap_or_default()
}

/// Summary values as k6 gives them: only finite ones (sums of huge values can overflow).
fn finished(mut values: BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    values.retain(|_, v| v.is_finite());
    values
}

/// A counter's samples: how many, and their sum.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CounterCell {
    pub n: u64,
    pub sum: f64,
}

impl CounterCell {
    #[inline]
    pub fn add(&mut self, v: f64) {
        self.n += 1;
        self.sum += v;
    }

    /// `k` samples of value `v`.
    #[inline]
    pub fn add_n(&mut self, v: f64, k: u64) {
        self.n += k;
        self.sum += v * k as f64;
    }

    /// k6's keys: `count` (the sum), and `rate` per second of `duration_ms` when that is known and positive.
    pub fn finish(&self, duration_ms: Option<f64>) -> BTreeMap<String, f64> {
        let mut v = BTreeMap::new();
        v.insert("count".into(), self.sum);
        if let Some(d) = duration_ms.filter(|d| *d > 0.0) {
            v.insert("rate".into(), self.sum / (d / 1000.0));
        }
        finished(v)
    }
}

impl Cell for CounterCell {
    const KIND: MetricType = MetricType::Counter;
    fn samples(&self) -> u64 {
        self.n
    }
    fn merge(&mut self, o: &Self) {
        self.n += o.n;
        self.sum += o.sum;
    }
    fn combine(&mut self, o: &Self, _: Across) {
        self.merge(o);
    }
    fn from_stored(s: &StoredSeries, i: usize, _: f64) -> Self {
        CounterCell { n: s.n[i], sum: col(&s.sum, i) }
    }
    fn push(&self, s: &mut StoredSeries, t: u32) {
        s.t.push(t);
        s.n.push(self.n);
        s.sum.push(finite(self.sum));
    }
}

/// A gauge's samples: how many, the last one, the smallest and the largest.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct GaugeCell {
    pub n: u64,
    pub last: f64,
    pub min: f64,
    pub max: f64,
}

impl GaugeCell {
    #[inline]
    pub fn add(&mut self, v: f64) {
        widen(self.n, &mut self.min, &mut self.max, v);
        self.last = v;
        self.n += 1;
    }

    /// `k` samples of value `v`.
    #[inline]
    pub fn add_n(&mut self, v: f64, k: u64) {
        widen(self.n, &mut self.min, &mut self.max, v);
        self.last = v;
        self.n += k;
    }

    /// k6's keys: `value` (the last), `min`, `max`; none without samples.
    pub fn finish(&self) -> BTreeMap<String, f64> {
        let mut v = BTreeMap::new();
        if self.n > 0 {
            v.insert("value".into(), self.last);
            v.insert("min".into(), self.min);
            v.insert("max".into(), self.max);
        }
        finished(v)
    }
}

impl Cell for GaugeCell {
    const KIND: MetricType = MetricType::Gauge;
    fn samples(&self) -> u64 {
        self.n
    }
    fn merge(&mut self, o: &Self) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = o.clone();
            return;
        }
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.last = o.last;
        self.n += o.n;
    }
    fn combine(&mut self, o: &Self, gauges: Across) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = o.clone();
            return;
        }
        match gauges {
            Across::Sum => {
                self.last += o.last;
                self.min += o.min;
                self.max += o.max;
            }
            Across::Max => {
                self.min = self.min.min(o.min);
                self.max = self.max.max(o.max);
                self.last = self.last.max(o.last);
            }
        }
        self.n += o.n;
    }
    fn from_stored(s: &StoredSeries, i: usize, _: f64) -> Self {
        GaugeCell { n: s.n[i], last: col(&s.last, i), min: col(&s.min, i), max: col(&s.max, i) }
    }
    fn push(&self, s: &mut StoredSeries, t: u32) {
        s.t.push(t);
        s.n.push(self.n);
        s.last.push(finite(self.last));
        s.min.push(finite(self.min));
        s.max.push(finite(self.max));
    }
}

/// A rate's samples: how many, and how many were non-zero.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RateCell {
    pub n: u64,
    pub passes: u64,
}

impl RateCell {
    #[inline]
    pub fn add(&mut self, v: f64) {
        self.n += 1;
        self.passes += u64::from(v != 0.0);
    }

    /// `k` samples of value `v`.
    #[inline]
    pub fn add_n(&mut self, v: f64, k: u64) {
        self.n += k;
        if v != 0.0 {
            self.passes += k;
        }
    }

    /// k6's keys: `rate` (with samples), `passes`, `fails`.
    pub fn finish(&self) -> BTreeMap<String, f64> {
        let mut v = BTreeMap::new();
        if self.n > 0 {
            v.insert("rate".into(), self.passes as f64 / self.n as f64);
        }
        v.insert("passes".into(), self.passes as f64);
        v.insert("fails".into(), (self.n - self.passes) as f64);
        finished(v)
    }
}

impl Cell for RateCell {
    const KIND: MetricType = MetricType::Rate;
    fn samples(&self) -> u64 {
        self.n
    }
    fn merge(&mut self, o: &Self) {
        self.n += o.n;
        self.passes += o.passes;
    }
    fn combine(&mut self, o: &Self, _: Across) {
        self.merge(o);
    }
    fn from_stored(s: &StoredSeries, i: usize, _: f64) -> Self {
        RateCell { n: s.n[i], passes: col(&s.passes, i) }
    }
    fn push(&self, s: &mut StoredSeries, t: u32) {
        s.t.push(t);
        s.n.push(self.n);
        s.passes.push(self.passes);
    }
}

/// A trend's samples: how many, their sum, the smallest, the largest, and
/// their histogram.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TrendCell {
    pub n: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub hist: LogHistogram,
}

impl TrendCell {
    /// Counts a value in `n`, `sum`, `min` and `max`, not in the histogram
    /// (a whole run's cell, whose histogram is the merge of its buckets').
    #[inline]
    pub fn tally(&mut self, v: f64) {
        widen(self.n, &mut self.min, &mut self.max, v);
        self.n += 1;
        self.sum += v;
    }

    /// `k` samples of value `v`, counted in the histogram as `hv` (`v`
    /// held within the histogram's range when its memory ran out);
    /// `true` when the histogram occupied a new bucket.
    #[inline]
    pub fn add_n_as(&mut self, v: f64, hv: f64, k: u64) -> bool {
        self.tally_n(v, k);
        self.hist.add_n(hv, k)
    }

    /// [`TrendCell::tally`] of `k` samples of value `v`.
    #[inline]
    pub fn tally_n(&mut self, v: f64, k: u64) {
        widen(self.n, &mut self.min, &mut self.max, v);
        self.n += k;
        self.sum += v * k as f64;
    }

    /// k6's keys: `count`, and with samples `avg`, `min`, `max` and the
    /// percentiles `pcts` (key, 0..=1): from `exact` (every value, sorted)
    /// when it holds them all, else from the histogram, within `[min, max]`.
    /// Also says where the percentiles came from.
    pub fn finish(
        &self,
        pcts: impl IntoIterator<Item = (String, f64)>,
        exact: Option<&[f64]>,
    ) -> (BTreeMap<String, f64>, PercentileSource) {
        let mut v = BTreeMap::new();
        v.insert("count".into(), self.n as f64);
        if self.n == 0 {
            return (finished(v), PercentileSource::None);
        }
        v.insert("avg".into(), self.sum / self.n as f64);
        v.insert("min".into(), self.min);
        v.insert("max".into(), self.max);
        let source = match exact {
            Some(sorted) if sorted.len() as u64 == self.n => {
                for (k, p) in pcts {
                    v.insert(k, k6_percentile(sorted, p));
                }
                PercentileSource::Exact
            }
            _ => {
                for (k, p) in pcts {
                    if let Some(x) = self.hist.percentile(p, self.min, self.max) {
                        v.insert(k, x);
                    }
                }
                PercentileSource::Histogram
            }
        };
        (finished(v), source)
    }
}

impl Cell for TrendCell {
    const KIND: MetricType = MetricType::Trend;
    fn samples(&self) -> u64 {
        self.n
    }
    fn merge(&mut self, o: &Self) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = o.clone();
            return;
        }
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.sum += o.sum;
        self.n += o.n;
        self.hist.merge(&o.hist);
    }
    fn combine(&mut self, o: &Self, _: Across) {
        self.merge(o);
    }
    fn from_stored(s: &StoredSeries, i: usize, accuracy: f64) -> Self {
        TrendCell {
            n: s.n[i],
            sum: col(&s.sum, i),
            min: col(&s.min, i),
            max: col(&s.max, i),
            hist: s
                .hist
                .get(i)
                .and_then(|h| LogHistogram::from_stored(h, accuracy).ok())
                .unwrap_or_else(|| LogHistogram::new(accuracy)),
        }
    }
    fn push(&self, s: &mut StoredSeries, t: u32) {
        s.t.push(t);
        s.n.push(self.n);
        s.sum.push(finite(self.sum));
        s.min.push(finite(self.min));
        s.max.push(finite(self.max));
        s.hist.push(self.hist.to_stored());
    }
    fn hist_slots(&self) -> usize {
        self.hist.occupied()
    }
    fn empty_at(accuracy: f64) -> Self {
        TrendCell { hist: LogHistogram::new(accuracy), ..Default::default() }
    }
    fn at_accuracy(mut self, accuracy: f64) -> Self {
        self.hist = self.hist.at_accuracy(accuracy);
        self
    }
}

/// The summary percentiles as (key, 0..=1).
pub(crate) fn summary_percentiles() -> impl Iterator<Item = (String, f64)> {
    SUMMARY_PERCENTILES.iter().map(|(k, p)| (k.to_string(), *p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_divides_and_doubles_past_its_end() {
        for w in WIDTH_LADDER_MS {
            assert_eq!(next_width(*w) % w, 0, "{w}");
        }
        assert_eq!(next_width(100), 200);
        assert_eq!(next_width(86_400_000), 172_800_000);
    }

    #[test]
    fn cells_round_trip_through_a_stored_series() {
        let mut t = TrendCell::default();
        for v in [3.0, 1.0, 2.0] {
            t.add_n_as(v, v, 1);
        }
        let s = store([(7, &t)], 5);
        assert_eq!(s.t, vec![2]);
        let back = TrendCell::from_stored(&s, 0, t.hist.relative_accuracy());
        assert_eq!(back, t);
        let (v, src) = back.finish(summary_percentiles(), Some(&[1.0, 2.0, 3.0]));
        assert_eq!((v["count"], v["avg"], v["min"], v["max"], v["med"]), (3.0, 2.0, 1.0, 3.0, 2.0));
        assert_eq!(src, PercentileSource::Exact);
        let mut g = GaugeCell::default();
        g.add(f64::MAX);
        g.combine(&g.clone(), Across::Sum);
        let s = store([(0, &g)], 0);
        assert_eq!(s.max, vec![f64::MAX], "overflow is stored finite");
        assert!(g.finish().is_empty(), "and left out of the summary");
    }

    #[test]
    fn gauges_across_shards_sum_or_keep_the_largest() {
        let cell = |v: f64| {
            let mut g = GaugeCell::default();
            g.add(v);
            g
        };
        let mut sum = cell(2.0);
        sum.combine(&cell(3.0), Across::Sum);
        assert_eq!(sum.finish()["value"], 5.0);
        let mut max = cell(2.0);
        max.combine(&cell(3.0), Across::Max);
        max.combine(&GaugeCell::default(), Across::Max);
        assert_eq!((max.finish()["value"], max.n), (3.0, 2));
        let mut later = cell(9.0);
        later.merge(&cell(1.0));
        assert_eq!((later.last, later.min, later.max), (1.0, 1.0, 9.0));
    }
}
