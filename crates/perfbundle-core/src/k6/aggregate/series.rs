//! One series of the aggregation (a whole metric, a sub-metric or a tag's
//! value): its whole-run cell, its time buckets, and its exact values while
//! the budget lasts; and its summary and stored form at the end.

use std::collections::BTreeMap;

use crate::histogram::LogHistogram;
use crate::k6::cells::{self, Cell, CounterCell, GaugeCell, RateCell, TrendCell};
use crate::k6::model::{MetricType, PercentileSource, SeriesOrigin, SeriesSummary, StoredSeries};
use crate::threshold;

/// The occupied cells of a series, by absolute bucket index, in order: a
/// series sampled now and then holds only the buckets it has samples in.
#[derive(Debug, Clone, Default)]
pub(super) struct Buckets<T> {
    cells: Vec<(i64, T)>,
}

/// What a trend cell takes in memory beyond its own size: its histogram's
/// two vectors, allocated (their buckets are the aggregation's other budget,
/// `max_hist_slots`).
const TREND_CELL_HEAP: usize = 64;

impl<T: Cell> Buckets<T> {
    /// The cell of bucket `idx` (new ones' histograms of `accuracy`), and whether it is new.
    fn at(&mut self, idx: i64, accuracy: f64) -> (&mut T, bool) {
        let n = self.cells.len();
        let (pos, new) = match self.cells.last() {
            None => (0, true),
            Some((last, _)) if *last < idx => (n, true),
            Some((last, _)) if *last == idx => (n - 1, false),
            _ => match self.cells.binary_search_by_key(&idx, |(i, _)| *i) {
                Ok(p) => (p, false),
                Err(p) => (p, true),
            },
        };
        if new {
            self.cells.insert(pos, (idx, T::empty_at(accuracy)));
        }
        (&mut self.cells[pos].1, new)
    }

    /// Merges every `ratio` buckets into one (the next width of the ladder).
    fn coarsen(&mut self, ratio: i64) {
        let mut out: Vec<(i64, T)> = Vec::with_capacity(self.cells.len());
        for (i, c) in self.cells.drain(..) {
            let k = i.div_euclid(ratio);
            match out.last_mut() {
                Some((j, o)) if *j == k => o.merge(&c),
                _ => out.push((k, c)),
            }
        }
        out.shrink_to_fit();
        self.cells = out;
    }

    fn occupied(&self) -> impl Iterator<Item = (i64, &T)> {
        self.cells.iter().filter(|(_, c)| !c.is_empty()).map(|(i, c)| (*i, c))
    }

    /// The bytes one more cell takes.
    fn cell_bytes() -> usize {
        std::mem::size_of::<(i64, T)>() + if T::KIND == MetricType::Trend { TREND_CELL_HEAP } else { 0 }
    }

    /// The bytes the cells take (an estimate, as [`Series::add_n`] counts them).
    fn bytes(&self) -> usize {
        self.cells.len() * Self::cell_bytes()
    }
}

/// How samples go into trend cells' histograms: at `accuracy`, magnitudes
/// held at most `top` (infinite until the histograms' memory runs out at
/// the coarsest accuracy).
#[derive(Debug, Clone, Copy)]
pub(super) struct Hist {
    pub accuracy: f64,
    pub top: f64,
}

/// What one added sample took: histogram buckets newly occupied, and the
/// bytes of a new cell.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Growth {
    pub slots: usize,
    pub bytes: usize,
}

impl Growth {
    fn of<T: Cell>(new_cell: bool, new_slot: bool) -> Growth {
        Growth { slots: usize::from(new_slot), bytes: if new_cell { Buckets::<T>::cell_bytes() } else { 0 } }
    }
}

impl std::ops::AddAssign for Growth {
    fn add_assign(&mut self, o: Growth) {
        self.slots += o.slots;
        self.bytes += o.bytes;
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

    /// Adds a sample; returns what its cell newly took.
    pub fn add(&mut self, idx: i64, ns: i64, v: f64, budget: &mut ValueBudget, h: Hist) -> Growth {
        self.first_ns = self.first_ns.min(ns);
        self.last_ns = self.last_ns.max(ns);
        match &mut self.data {
            SeriesData::Counter { total, buckets } => {
                total.add(v);
                let (c, new) = buckets.at(idx, h.accuracy);
                c.add(v);
                Growth::of::<CounterCell>(new, false)
            }
            SeriesData::Gauge { total, buckets } => {
                total.add(v);
                let (c, new) = buckets.at(idx, h.accuracy);
                c.add(v);
                Growth::of::<GaugeCell>(new, false)
            }
            SeriesData::Rate { total, buckets } => {
                total.add(v);
                let (c, new) = buckets.at(idx, h.accuracy);
                c.add(v);
                Growth::of::<RateCell>(new, false)
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
                let (c, new) = buckets.at(idx, h.accuracy);
                let slot = c.add_n_as(v, v.clamp(-h.top, h.top), 1);
                Growth::of::<TrendCell>(new, slot)
            }
        }
    }

    /// Adds `k` samples of one value (k ≥ 1): what [`Series::add`] does `k`
    /// times, in one step; returns what its cell newly took.
    pub fn add_n(&mut self, idx: i64, ns: i64, v: f64, k: u64, budget: &mut ValueBudget, h: Hist) -> Growth {
        if k == 1 {
            return self.add(idx, ns, v, budget, h);
        }
        self.first_ns = self.first_ns.min(ns);
        self.last_ns = self.last_ns.max(ns);
        match &mut self.data {
            SeriesData::Counter { total, buckets } => {
                total.add_n(v, k);
                let (c, new) = buckets.at(idx, h.accuracy);
                c.add_n(v, k);
                Growth::of::<CounterCell>(new, false)
            }
            SeriesData::Gauge { total, buckets } => {
                total.add_n(v, k);
                let (c, new) = buckets.at(idx, h.accuracy);
                c.add_n(v, k);
                Growth::of::<GaugeCell>(new, false)
            }
            SeriesData::Rate { total, buckets } => {
                total.add_n(v, k);
                let (c, new) = buckets.at(idx, h.accuracy);
                c.add_n(v, k);
                Growth::of::<RateCell>(new, false)
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
                let (c, new) = buckets.at(idx, h.accuracy);
                let slot = c.add_n_as(v, v.clamp(-h.top, h.top), k);
                Growth::of::<TrendCell>(new, slot)
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
            SeriesData::Trend { buckets, .. } => buckets.cells.iter().map(|(_, c)| c.hist_slots()).sum(),
            _ => 0,
        }
    }

    /// Its trend cells' histograms to `accuracy` (the next coarser one).
    pub fn coarsen_histograms(&mut self, accuracy: f64) {
        if let SeriesData::Trend { buckets, .. } = &mut self.data {
            for (_, c) in &mut buckets.cells {
                c.hist.coarsen_to(accuracy);
            }
        }
    }

    /// The bytes its time buckets take (an estimate, as [`Growth`] counts them).
    pub fn cell_bytes(&self) -> usize {
        match &self.data {
            SeriesData::Counter { buckets, .. } => buckets.bytes(),
            SeriesData::Gauge { buckets, .. } => buckets.bytes(),
            SeriesData::Rate { buckets, .. } => buckets.bytes(),
            SeriesData::Trend { buckets, .. } => buckets.bytes(),
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
    pub fn summarize(
        self,
        duration_ms: Option<f64>,
        first: i64,
        extra_pcts: &[f64],
        accuracy: f64,
    ) -> (SeriesSummary, StoredSeries) {
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
                let mut whole = LogHistogram::new(accuracy);
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
