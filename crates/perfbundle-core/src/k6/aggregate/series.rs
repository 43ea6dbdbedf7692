//! One series of the aggregation (a whole metric, a sub-metric or a tag's
//! value): its whole-run cell, its time buckets, and its exact values while
//! the budget lasts; and its summary and stored form at the end.

use std::collections::BTreeMap;

use crate::histogram::LogHistogram;
use crate::k6::cells::{self, Cell, CounterCell, GaugeCell, RateCell, TrendCell};
use crate::k6::model::{MetricType, PercentileSource, SeriesOrigin, SeriesSummary, StoredSeries};
use crate::threshold;

/// Cells over consecutive absolute bucket indices starting at `first`.
#[derive(Debug, Clone, Default)]
pub(super) struct Buckets<T> {
    first: i64,
    cells: Vec<T>,
}

impl<T: Cell> Buckets<T> {
    fn at(&mut self, idx: i64) -> &mut T {
        if self.cells.is_empty() {
            self.first = idx;
        } else if idx < self.first {
            let grow = (self.first - idx) as usize;
            let mut v = vec![T::default(); grow];
            v.append(&mut self.cells);
            self.cells = v;
            self.first = idx;
        }
        let pos = (idx - self.first) as usize;
        if pos >= self.cells.len() {
            self.cells.resize(pos + 1, T::default());
        }
        &mut self.cells[pos]
    }

    /// Merges every `ratio` buckets into one (the next width of the ladder).
    fn coarsen(&mut self, ratio: i64) {
        if self.cells.is_empty() {
            return;
        }
        let new_first = self.first.div_euclid(ratio);
        let last = (self.first + self.cells.len() as i64 - 1).div_euclid(ratio);
        let mut out = vec![T::default(); (last - new_first + 1) as usize];
        for (i, c) in self.cells.iter().enumerate() {
            if !c.is_empty() {
                let k = ((self.first + i as i64).div_euclid(ratio) - new_first) as usize;
                out[k].merge(c);
            }
        }
        self.first = new_first;
        self.cells = out;
    }

    fn occupied(&self) -> impl Iterator<Item = (i64, &T)> {
        self.cells.iter().enumerate().filter(|(_, c)| !c.is_empty()).map(move |(i, c)| (self.first + i as i64, c))
    }
}

#[derive(Debug)]
enum SeriesData {
    Counter { total: CounterCell, buckets: Buckets<CounterCell> },
    Gauge { total: GaugeCell, buckets: Buckets<GaugeCell> },
    Rate { total: RateCell, buckets: Buckets<RateCell> },
    Trend { total: TrendCell, values: Option<Vec<f64>>, cap: usize, buckets: Buckets<TrendCell> },
}

#[derive(Debug)]
pub(super) struct Series {
    pub key: String,
    pub metric: String,
    tags: BTreeMap<String, String>,
    origin: SeriesOrigin,
    pub first_ns: i64,
    pub last_ns: i64,
    data: SeriesData,
}

/// Exact values kept, and how many may be.
#[derive(Debug, Default)]
pub(super) struct ValueBudget {
    pub used: usize,
    pub cap: usize,
}

impl Series {
    pub fn new(
        key: String,
        metric: &str,
        kind: MetricType,
        tags: BTreeMap<String, String>,
        origin: SeriesOrigin,
        cap: usize,
    ) -> Self {
        let data = match kind {
            MetricType::Counter => SeriesData::Counter { total: Default::default(), buckets: Default::default() },
            MetricType::Gauge => SeriesData::Gauge { total: Default::default(), buckets: Default::default() },
            MetricType::Rate => SeriesData::Rate { total: Default::default(), buckets: Default::default() },
            MetricType::Trend => SeriesData::Trend {
                total: Default::default(),
                values: Some(Vec::new()),
                cap,
                buckets: Default::default(),
            },
        };
        Series { key, metric: metric.to_string(), tags, origin, first_ns: i64::MAX, last_ns: i64::MIN, data }
    }

    /// Adds a sample; returns the number of histogram buckets it newly occupied.
    pub fn add(&mut self, idx: i64, ns: i64, v: f64, budget: &mut ValueBudget) -> usize {
        self.first_ns = self.first_ns.min(ns);
        self.last_ns = self.last_ns.max(ns);
        match &mut self.data {
            SeriesData::Counter { total, buckets } => {
                total.add(v);
                buckets.at(idx).add(v);
                0
            }
            SeriesData::Gauge { total, buckets } => {
                total.add(v);
                buckets.at(idx).add(v);
                0
            }
            SeriesData::Rate { total, buckets } => {
                total.add(v);
                buckets.at(idx).add(v);
                0
            }
            SeriesData::Trend { total, values, cap, buckets } => {
                // The whole-run histogram is the merge of the buckets', at the end.
                total.tally(v);
                if let Some(vals) = values {
                    if vals.len() >= *cap || budget.used >= budget.cap {
                        budget.used -= vals.len();
                        *values = None;
                    } else {
                        vals.push(v);
                        budget.used += 1;
                    }
                }
                usize::from(buckets.at(idx).add(v))
            }
        }
    }

    /// Adds `k` samples of one value (k ≥ 1): what [`Series::add`] does `k`
    /// times, in one step; returns the histogram buckets newly occupied.
    pub fn add_n(&mut self, idx: i64, ns: i64, v: f64, k: u64, budget: &mut ValueBudget) -> usize {
        if k == 1 {
            return self.add(idx, ns, v, budget);
        }
        self.first_ns = self.first_ns.min(ns);
        self.last_ns = self.last_ns.max(ns);
        match &mut self.data {
            SeriesData::Counter { total, buckets } => {
                total.add_n(v, k);
                buckets.at(idx).add_n(v, k);
                0
            }
            SeriesData::Gauge { total, buckets } => {
                total.add_n(v, k);
                buckets.at(idx).add_n(v, k);
                0
            }
            SeriesData::Rate { total, buckets } => {
                total.add_n(v, k);
                buckets.at(idx).add_n(v, k);
                0
            }
            SeriesData::Trend { total, values, cap, buckets } => {
                total.tally_n(v, k);
                if let Some(vals) = values {
                    let k = usize::try_from(k).unwrap_or(usize::MAX);
                    if vals.len().saturating_add(k) > *cap || budget.used.saturating_add(k) > budget.cap {
                        budget.used -= vals.len();
                        *values = None;
                    } else {
                        vals.extend(std::iter::repeat_n(v, k));
                        budget.used += k;
                    }
                }
                usize::from(buckets.at(idx).add_n(v, k))
            }
        }
    }

    /// Samples added.
    pub fn samples(&self) -> u64 {
        match &self.data {
            SeriesData::Counter { total, .. } => total.n,
            SeriesData::Gauge { total, .. } => total.n,
            SeriesData::Rate { total, .. } => total.n,
            SeriesData::Trend { total, .. } => total.n,
        }
    }

    /// Histogram buckets occupied over all time buckets.
    pub fn hist_slots(&self) -> usize {
        match &self.data {
            SeriesData::Trend { buckets, .. } => buckets.cells.iter().map(Cell::hist_slots).sum(),
            _ => 0,
        }
    }

    /// Merges every `ratio` time buckets into one.
    pub fn coarsen(&mut self, ratio: i64) {
        match &mut self.data {
            SeriesData::Counter { buckets, .. } => buckets.coarsen(ratio),
            SeriesData::Gauge { buckets, .. } => buckets.coarsen(ratio),
            SeriesData::Rate { buckets, .. } => buckets.coarsen(ratio),
            SeriesData::Trend { buckets, .. } => buckets.coarsen(ratio),
        }
    }

    /// The series' summary (counters' `rate` over `duration_ms`; trends'
    /// percentiles besides the usual ones: `extra_pcts`) and its buckets on
    /// the grid that starts at bucket `first`.
    pub fn summarize(self, duration_ms: Option<f64>, first: i64, extra_pcts: &[f64]) -> (SeriesSummary, StoredSeries) {
        let samples = self.samples();
        let mut percentiles = PercentileSource::None;
        let (values, stored) = match self.data {
            SeriesData::Counter { total, buckets } => {
                (total.finish(duration_ms), cells::store(buckets.occupied(), first))
            }
            SeriesData::Gauge { total, buckets } => (total.finish(), cells::store(buckets.occupied(), first)),
            SeriesData::Rate { total, buckets } => (total.finish(), cells::store(buckets.occupied(), first)),
            SeriesData::Trend { mut total, values: kept, buckets, .. } => {
                let stored = cells::store(buckets.occupied(), first);
                let mut whole = LogHistogram::default();
                for (_, c) in buckets.occupied() {
                    whole.merge(&c.hist);
                }
                total.hist = whole;
                let pcts =
                    cells::summary_percentiles().chain(extra_pcts.iter().map(|p| (threshold::percentile_key(*p), *p)));
                // Unstable is the same order here: values equal under
                // total_cmp are the same bits.
                let sorted = kept.filter(|v| v.len() as u64 == total.n).map(|mut v| {
                    v.sort_unstable_by(f64::total_cmp);
                    v
                });
                let (values, source) = total.finish(pcts, sorted.as_deref());
                percentiles = source;
                (values, stored)
            }
        };
        let summary = SeriesSummary {
            metric: self.metric,
            tags: self.tags,
            origin: self.origin,
            samples,
            first_ns: (self.first_ns != i64::MAX).then_some(self.first_ns),
            last_ns: (self.last_ns != i64::MIN).then_some(self.last_ns),
            values,
            percentiles,
            approximate: Vec::new(),
        };
        (summary, stored)
    }
}
