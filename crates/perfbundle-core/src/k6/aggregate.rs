//! Streams k6 samples into per-series summaries and bucketed time series.
//!
//! Memory is bounded whatever the input length: time buckets are coarsened
//! (widths from [`WIDTH_LADDER_MS`], each a multiple of the one before) so a
//! run never has more than `max_buckets` of them; the number of tag values
//! broken down per metric is capped; exact sample values are kept only up to a
//! budget, past which a series' percentiles come from its histogram.

use std::collections::{BTreeMap, HashMap};

use super::builtin::{builtin_metric, DEFAULT_BREAKDOWN_TAGS};
use super::model::*;
use crate::histogram::{k6_percentile, LogHistogram, DEFAULT_RELATIVE_ACCURACY};
use crate::threshold;

/// Bucket widths in ms; each divides the next. Past the end, widths double.
pub const WIDTH_LADDER_MS: &[u64] = &[
    100, 200, 1_000, 2_000, 10_000, 20_000, 60_000, 120_000, 600_000, 1_200_000, 3_600_000, 7_200_000, 21_600_000,
    43_200_000, 86_400_000,
];

/// Samples larger than this in magnitude are set aside like non-finite ones:
/// no tool writes them, and sums of them could overflow to infinity, which
/// JSON cannot hold.
pub const MAX_MAGNITUDE: f64 = 1e300;

/// Trend percentiles every summary carries (k6's keys).
pub const SUMMARY_PERCENTILES: &[(&str, f64)] = &[("med", 0.5), ("p(90)", 0.9), ("p(95)", 0.95), ("p(99)", 0.99)];

/// Options of the aggregation.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AggregatorOptions {
    /// Tag keys whose values get a series of their own. Default is
    /// [`DEFAULT_BREAKDOWN_TAGS`]; tag keys named by declared sub-metrics are added.
    pub breakdown_tags: Vec<String>,
    /// Most buckets in a run's grid. Default is 2,000.
    pub max_buckets: u64,
    /// Smallest bucket width in ms, one of [`WIDTH_LADDER_MS`]. Default is 100
    /// (use 1,000 for the CSV output, whose timestamps are whole seconds).
    pub min_bucket_ms: u64,
    /// Most distinct values of one tag broken down per metric. Default is 200.
    pub max_tag_values: usize,
    /// Most distinct metric names; samples of further metrics are counted
    /// and left out, with one warning. Default is 1,000 (k6's built-in
    /// metrics are about 20).
    pub max_metrics: usize,
    /// Most series over all metrics (whole metrics, sub-metrics, tag
    /// break-downs); past it, no new series is made. Default is 20,000.
    pub max_series: usize,
    /// Most tag keys broken down per metric, beyond the default ones (keys
    /// named by declared sub-metrics). Default is 32.
    pub max_extra_breakdown_keys: usize,
    /// Most distinct (group, check) pairs counted. Default is 10,000.
    pub max_checks: usize,
    /// Most sub-metrics per metric (k6 scripts name a few in thresholds).
    /// Default is 200.
    pub max_submetrics: usize,
    /// Exact values kept per whole-metric series. Default is 4,000,000.
    pub max_values_per_metric_series: usize,
    /// Exact values kept per sub-series. Default is 250,000.
    pub max_values_per_sub_series: usize,
    /// Exact values kept for whole-metric series. Default is 4,000,000 (32 MB);
    /// sub-series and k6's request-phase timings share another third of it.
    pub max_values_total: usize,
    /// Most histogram buckets held over all time buckets of all series (12
    /// bytes each); past it, time buckets are widened. Default is 4,000,000.
    pub max_hist_slots: usize,
    /// Types to use for metrics the input does not declare (name → type).
    pub type_hints: HashMap<String, (MetricType, String)>,
    /// Percentiles (0..=1) to compute for every trend besides med, p(90),
    /// p(95), p(99) and those thresholds name (e.g. from a summary's
    /// `summaryTrendStats`).
    pub extra_percentiles: Vec<f64>,
    /// Sub-metrics to track besides those the input declares (k6 keys such as
    /// `http_req_duration{expected_response:true}`).
    pub extra_submetrics: Vec<String>,
}

impl Default for AggregatorOptions {
    fn default() -> Self {
        AggregatorOptions {
            breakdown_tags: DEFAULT_BREAKDOWN_TAGS.iter().map(|s| s.to_string()).collect(),
            max_buckets: 2_000,
            min_bucket_ms: 100,
            max_tag_values: 200,
            max_metrics: 1_000,
            max_series: 20_000,
            max_extra_breakdown_keys: 32,
            max_checks: 10_000,
            max_submetrics: 200,
            max_values_per_metric_series: 4_000_000,
            max_values_per_sub_series: 250_000,
            max_values_total: 4_000_000,
            max_hist_slots: 4_000_000,
            type_hints: HashMap::new(),
            extra_submetrics: Vec::new(),
            extra_percentiles: Vec::new(),
        }
    }
}

trait Cell: Default + Clone {
    fn is_empty(&self) -> bool;
    /// Merges `later` (a bucket after this one in time) into this one.
    fn merge(&mut self, later: &Self);
}

#[derive(Debug, Clone, Default)]
struct CounterCell {
    n: u64,
    sum: f64,
}
impl Cell for CounterCell {
    fn is_empty(&self) -> bool {
        self.n == 0
    }
    fn merge(&mut self, o: &Self) {
        self.n += o.n;
        self.sum += o.sum;
    }
}

/// Widens `[min, max]` to take `v`, `n` being the values seen before it.
#[inline]
fn widen(n: u64, min: &mut f64, max: &mut f64, v: f64) {
    if n == 0 || v < *min {
        *min = v;
    }
    if n == 0 || v > *max {
        *max = v;
    }
}

#[derive(Debug, Clone, Default)]
struct GaugeCell {
    n: u64,
    last: f64,
    min: f64,
    max: f64,
}
impl GaugeCell {
    fn add(&mut self, v: f64) {
        widen(self.n, &mut self.min, &mut self.max, v);
        self.last = v;
        self.n += 1;
    }
}
impl Cell for GaugeCell {
    fn is_empty(&self) -> bool {
        self.n == 0
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
}

#[derive(Debug, Clone, Default)]
struct RateCell {
    n: u64,
    passes: u64,
}
impl Cell for RateCell {
    fn is_empty(&self) -> bool {
        self.n == 0
    }
    fn merge(&mut self, o: &Self) {
        self.n += o.n;
        self.passes += o.passes;
    }
}

#[derive(Debug, Clone, Default)]
struct TrendCell {
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
    hist: LogHistogram,
}
impl TrendCell {
    /// Adds a value; `true` when its histogram occupied a new bucket.
    fn add(&mut self, v: f64) -> bool {
        widen(self.n, &mut self.min, &mut self.max, v);
        self.sum += v;
        self.n += 1;
        self.hist.add(v)
    }
}
impl Cell for TrendCell {
    fn is_empty(&self) -> bool {
        self.n == 0
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
}

/// Cells over consecutive absolute bucket indices starting at `first`.
#[derive(Debug, Clone, Default)]
struct Buckets<T> {
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
struct Series {
    key: String,
    metric: String,
    tags: BTreeMap<String, String>,
    origin: SeriesOrigin,
    first_ns: i64,
    last_ns: i64,
    data: SeriesData,
}

#[derive(Debug, Default)]
struct ValueBudget {
    used: usize,
    cap: usize,
}

impl Series {
    fn new(
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
    fn add(&mut self, idx: i64, ns: i64, v: f64, budget: &mut ValueBudget) -> usize {
        self.first_ns = self.first_ns.min(ns);
        self.last_ns = self.last_ns.max(ns);
        match &mut self.data {
            SeriesData::Counter { total, buckets } => {
                total.n += 1;
                total.sum += v;
                let c = buckets.at(idx);
                c.n += 1;
                c.sum += v;
                0
            }
            SeriesData::Gauge { total, buckets } => {
                total.add(v);
                buckets.at(idx).add(v);
                0
            }
            SeriesData::Rate { total, buckets } => {
                let pass = u64::from(v != 0.0);
                total.n += 1;
                total.passes += pass;
                let c = buckets.at(idx);
                c.n += 1;
                c.passes += pass;
                0
            }
            SeriesData::Trend { total, values, cap, buckets } => {
                // The whole-run histogram is rebuilt from the buckets at the end.
                widen(total.n, &mut total.min, &mut total.max, v);
                total.n += 1;
                total.sum += v;
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

    /// Histogram buckets occupied over all time buckets.
    fn hist_slots(&self) -> usize {
        match &self.data {
            SeriesData::Trend { buckets, .. } => buckets.cells.iter().map(|c| c.hist.occupied()).sum(),
            _ => 0,
        }
    }

    fn coarsen(&mut self, ratio: i64) {
        match &mut self.data {
            SeriesData::Counter { buckets, .. } => buckets.coarsen(ratio),
            SeriesData::Gauge { buckets, .. } => buckets.coarsen(ratio),
            SeriesData::Rate { buckets, .. } => buckets.coarsen(ratio),
            SeriesData::Trend { buckets, .. } => buckets.coarsen(ratio),
        }
    }
}

#[derive(Debug)]
struct TagBreakdown {
    key: String,
    values: HashMap<String, usize, FxBuild>,
    overflow: u64,
}

impl TagBreakdown {
    fn new(key: &str) -> Self {
        TagBreakdown { key: key.to_string(), values: HashMap::default(), overflow: 0 }
    }

    /// Key comparison that rejects on length and first byte before comparing bytes.
    #[inline]
    fn is_key(&self, k: &str) -> bool {
        k.len() == self.key.len() && k.as_bytes().first() == self.key.as_bytes().first() && k == self.key
    }
}

/// The Fx hash (as in rustc): fast for short keys. Tag values come from the
/// input, but each breakdown holds at most `max_tag_values` of them.
#[derive(Debug, Default, Clone, Copy)]
struct FxBuild;

#[derive(Debug, Default)]
struct FxHasher(u64);

impl std::hash::BuildHasher for FxBuild {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(0)
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(K);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// k6's request-phase timings: their percentiles matter less than
/// `http_req_duration`'s, so they do not compete for the main budget of exact values.
fn is_secondary(metric: &str) -> bool {
    matches!(
        metric,
        "http_req_blocked"
            | "http_req_connecting"
            | "http_req_tls_handshaking"
            | "http_req_sending"
            | "http_req_waiting"
            | "http_req_receiving"
    )
}

#[derive(Debug)]
struct MetricState {
    /// Whether its whole-metric series draws on the main budget of exact values.
    primary: bool,
    name: String,
    decl: MetricDecl,
    total: usize,
    by_tag: Vec<TagBreakdown>,
    submetrics: Vec<(Vec<(String, String)>, usize)>,
}

/// Aggregates k6 samples. Feed it with [`Aggregator::declare`] and
/// [`Aggregator::add_point`], then call [`Aggregator::finish`].
#[derive(Debug)]
pub struct Aggregator {
    opts: AggregatorOptions,
    metrics: Vec<MetricState>,
    metric_ids: HashMap<String, usize, FxBuild>,
    series: Vec<Series>,
    width_ms: u64,
    min_idx: i64,
    max_idx: i64,
    budget: ValueBudget,
    sub_budget: ValueBudget,
    checks: BTreeMap<(String, String), (u64, u64)>,
    stats: IngestStats,
    warnings: Vec<String>,
    /// Histogram buckets occupied in all trend cells.
    hist_slots: usize,
    /// Reused list of the series one sample goes to.
    scratch: Vec<usize>,
    /// The last metric looked up (k6 streams runs of one metric).
    last_metric: Option<(String, usize)>,
    /// Names past `max_metrics` seen so far (bounded), and metrics whose type
    /// was guessed (their warnings are summarised past the first few).
    dropped_names: std::collections::HashSet<String, FxBuild>,
    guessed: Vec<String>,
    guessed_more: u64,
}

/// What [`Aggregator::finish`] returns.
#[derive(Debug)]
pub struct Aggregated {
    pub metrics: BTreeMap<String, MetricDecl>,
    pub series: BTreeMap<String, SeriesSummary>,
    pub timeseries: K6TimeSeries,
    pub thresholds: Vec<Threshold>,
    pub checks: Option<CheckGroup>,
    pub start_ns: Option<i64>,
    pub end_ns: Option<i64>,
    pub stats: IngestStats,
    pub warnings: Vec<String>,
}

impl Aggregator {
    pub fn new(mut opts: AggregatorOptions) -> Self {
        if !WIDTH_LADDER_MS.contains(&opts.min_bucket_ms) {
            opts.min_bucket_ms = 100;
        }
        opts.max_buckets = opts.max_buckets.max(2);
        let width_ms = opts.min_bucket_ms;
        let cap = opts.max_values_total;
        Aggregator {
            opts,
            metrics: Vec::new(),
            metric_ids: HashMap::default(),
            series: Vec::new(),
            width_ms,
            min_idx: i64::MAX,
            max_idx: i64::MIN,
            budget: ValueBudget { used: 0, cap },
            sub_budget: ValueBudget { used: 0, cap: cap / 3 },
            checks: BTreeMap::new(),
            stats: IngestStats::default(),
            warnings: Vec::new(),
            scratch: Vec::new(),
            last_metric: None,
            hist_slots: 0,
            dropped_names: Default::default(),
            guessed: Vec::new(),
            guessed_more: 0,
        }
    }

    /// Lines skipped so far as malformed (`--lenient`).
    pub fn bad_lines(&self) -> u64 {
        self.stats.bad_lines
    }

    /// Counters the line-reading ingesters update.
    pub fn stats_mut(&mut self) -> &mut IngestStats {
        &mut self.stats
    }

    /// Declares a metric (a k6 `Metric` line). A second declaration of the
    /// same name adds its sub-metrics and thresholds.
    pub fn declare(&mut self, name: &str, decl: MetricDecl) {
        if let Some(&id) = self.metric_ids.get(name) {
            let m = &mut self.metrics[id];
            if m.decl.kind != decl.kind && m.decl.type_source != "declared" {
                self.warnings.push(format!(
                    "metric {name}: declared as {} after {} samples were taken as {}",
                    decl.kind.as_str(),
                    self.series[m.total].data_len(),
                    m.decl.kind.as_str()
                ));
            }
            for t in decl.thresholds {
                if !m.decl.thresholds.contains(&t) {
                    m.decl.thresholds.push(t);
                }
            }
            for s in decl.submetrics {
                self.add_submetric(id, s);
            }
            return;
        }
        if self.metrics.len() >= self.opts.max_metrics || self.series.len() >= self.opts.max_series {
            self.note_dropped(name);
            return;
        }
        let id = self.metrics.len();
        let total = self.new_series(name.to_string(), name, decl.kind, BTreeMap::new(), SeriesOrigin::Metric);
        let mut by_tag: Vec<TagBreakdown> = self.opts.breakdown_tags.iter().map(|k| TagBreakdown::new(k)).collect();
        let defaults = by_tag.len();
        for s in &decl.submetrics {
            for k in s.tags.keys() {
                if !by_tag.iter().any(|b| &b.key == k) {
                    if by_tag.len() - defaults >= self.opts.max_extra_breakdown_keys {
                        self.stats.series_not_made += 1;
                        continue;
                    }
                    by_tag.push(TagBreakdown::new(k));
                }
            }
        }
        let subs = decl.submetrics.clone();
        let mut decl = decl;
        decl.submetrics.clear();
        self.metrics.push(MetricState {
            primary: !is_secondary(name),
            name: name.to_string(),
            decl,
            total,
            by_tag,
            submetrics: Vec::new(),
        });
        self.metric_ids.insert(name.to_string(), id);
        for s in subs {
            self.add_submetric(id, s);
        }
        let extra: Vec<String> =
            self.opts.extra_submetrics.iter().filter(|k| parse_series_key(k).0 == name).cloned().collect();
        for key in extra {
            let (_, tags) = parse_series_key(&key);
            if !tags.is_empty() {
                let suffix = key[name.len() + 1..key.len() - 1].to_string();
                self.add_submetric(id, SubmetricDecl { name: key, suffix, tags });
            }
        }
    }

    /// A metric past the limit: its name counted (up to a bound), its samples left out.
    fn note_dropped(&mut self, name: &str) {
        if self.dropped_names.len() < 1_000_000 && !self.dropped_names.contains(name) {
            self.dropped_names.insert(name.to_string());
            self.stats.dropped_metrics += 1;
        }
    }

    fn add_submetric(&mut self, id: usize, s: SubmetricDecl) {
        if self.metrics[id].decl.submetrics.iter().any(|x| x.name == s.name) {
            return;
        }
        if self.series.len() >= self.opts.max_series || self.metrics[id].submetrics.len() >= self.opts.max_submetrics {
            self.stats.series_not_made += 1;
            return;
        }
        let kind = self.metrics[id].decl.kind;
        let metric = self.metrics[id].name.clone();
        let sid = self.new_series(s.name.clone(), &metric, kind, s.tags.clone(), SeriesOrigin::Submetric);
        let m = &mut self.metrics[id];
        m.submetrics.push((s.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(), sid));
        m.decl.submetrics.push(s);
    }

    fn new_series(
        &mut self,
        key: String,
        metric: &str,
        kind: MetricType,
        tags: BTreeMap<String, String>,
        origin: SeriesOrigin,
    ) -> usize {
        let cap = if origin == SeriesOrigin::Metric && !is_secondary(metric) {
            self.opts.max_values_per_metric_series
        } else {
            self.opts.max_values_per_sub_series
        };
        self.series.push(Series::new(key, metric, kind, tags, origin, cap));
        self.series.len() - 1
    }

    fn metric_id(&mut self, name: &str) -> Option<usize> {
        if let Some((n, id)) = &self.last_metric {
            if n == name {
                return Some(*id);
            }
        }
        if let Some(&id) = self.metric_ids.get(name) {
            match &mut self.last_metric {
                Some((n, i)) => {
                    n.clear();
                    n.push_str(name);
                    *i = id;
                }
                None => self.last_metric = Some((name.to_string(), id)),
            }
            return Some(id);
        }
        if self.metrics.len() >= self.opts.max_metrics || self.series.len() >= self.opts.max_series {
            self.note_dropped(name);
            return None;
        }
        let (kind, contains, source) = if let Some((k, c)) = self.opts.type_hints.get(name) {
            (*k, c.clone(), "hint")
        } else if let Some((k, c)) = builtin_metric(name) {
            (k, c.to_string(), "builtin")
        } else {
            if self.guessed.len() < 20 {
                self.guessed.push(name.to_string());
            } else {
                self.guessed_more += 1;
            }
            (MetricType::Trend, "default".to_string(), "guessed")
        };
        self.declare(
            name,
            MetricDecl { kind, contains, thresholds: Vec::new(), submetrics: Vec::new(), type_source: source.into() },
        );
        self.metric_ids.get(name).copied()
    }

    fn bucket_ns(&self) -> i64 {
        self.width_ms as i64 * 1_000_000
    }

    /// Adds one sample. Non-finite values (which no k6 output holds) are
    /// counted in `stats.non_finite` and otherwise ignored.
    pub fn add_point(&mut self, metric: &str, time_ns: i64, value: f64, tags: &[(&str, &str)]) {
        if !value.is_finite() || value.abs() > MAX_MAGNITUDE {
            self.stats.non_finite += 1;
            return;
        }
        let Some(id) = self.metric_id(metric) else {
            self.stats.dropped_metric_samples += 1;
            return;
        };
        self.stats.points += 1;
        let mut idx = time_ns.div_euclid(self.bucket_ns());
        let lo = self.min_idx.min(idx);
        let hi = self.max_idx.max(idx);
        if (hi - lo) as u64 >= self.opts.max_buckets {
            self.coarsen_to_fit(lo, hi);
            idx = time_ns.div_euclid(self.bucket_ns());
        }
        self.min_idx = self.min_idx.min(idx);
        self.max_idx = self.max_idx.max(idx);

        let total = self.metrics[id].total;
        // Whole-metric series share the large budget of exact values, except
        // k6's request-phase timings, which take their chance with sub-series.
        let budget = if self.metrics[id].primary { &mut self.budget } else { &mut self.sub_budget };
        let mut new_slots = self.series[total].add(idx, time_ns, value, budget);

        let max_tag_values = self.opts.max_tag_values;
        let mut targets = std::mem::take(&mut self.scratch);
        targets.clear();
        let m = &mut self.metrics[id];
        for b in &mut m.by_tag {
            let Some((_, v)) = tags.iter().find(|(k, _)| b.is_key(k)) else {
                continue;
            };
            match b.values.get(*v) {
                Some(&sid) => targets.push(sid),
                None if b.values.len() >= max_tag_values || self.series.len() >= self.opts.max_series => {
                    b.overflow += 1
                }
                None => {
                    let mut t = BTreeMap::new();
                    t.insert(b.key.clone(), v.to_string());
                    let key = series_key(&m.name, &t);
                    let kind = m.decl.kind;
                    let cap = self.opts.max_values_per_sub_series;
                    // Same key as a declared sub-metric: share its series.
                    let sid = match m.submetrics.iter().find(|(_, s)| self.series[*s].key == key) {
                        Some((_, s)) => *s,
                        None => {
                            self.series.push(Series::new(key, &m.name, kind, t, SeriesOrigin::Tag, cap));
                            self.series.len() - 1
                        }
                    };
                    b.values.insert(v.to_string(), sid);
                    targets.push(sid);
                }
            }
        }
        for (want, sid) in &m.submetrics {
            let all = want.iter().all(|(k, v)| tags.iter().any(|(tk, tv)| tk == k && tv == v));
            if all && !targets.contains(sid) {
                targets.push(*sid);
            }
        }
        for &sid in &targets {
            new_slots += self.series[sid].add(idx, time_ns, value, &mut self.sub_budget);
        }
        self.scratch = targets;
        self.hist_slots += new_slots;
        if self.hist_slots > self.opts.max_hist_slots {
            // Widen the time buckets until the histograms take at most three
            // quarters of their budget (or the run is one bucket).
            self.coarsen_step();
            while self.hist_slots > self.opts.max_hist_slots * 3 / 4 && self.max_idx > self.min_idx {
                self.coarsen_step();
            }
        }
        if metric == "checks" {
            let get = |key: &str| tags.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string());
            if let Some(check) = get("check") {
                let group = get("group").unwrap_or_default();
                let key = (group, check);
                if self.checks.len() < self.opts.max_checks || self.checks.contains_key(&key) {
                    let e = self.checks.entry(key).or_default();
                    if value != 0.0 {
                        e.0 += 1;
                    } else {
                        e.1 += 1;
                    }
                } else {
                    self.stats.series_not_made += 1;
                }
            }
        }
    }

    fn coarsen_to_fit(&mut self, lo: i64, hi: i64) {
        let (mut lo, mut hi) = (lo, hi);
        while (hi - lo) as u64 >= self.opts.max_buckets {
            let ratio = self.coarsen_step();
            lo = lo.div_euclid(ratio);
            hi = hi.div_euclid(ratio);
        }
    }

    /// Widens the time buckets to the next width of the ladder; returns the ratio.
    fn coarsen_step(&mut self) -> i64 {
        let next = WIDTH_LADDER_MS.iter().copied().find(|w| *w > self.width_ms).unwrap_or(self.width_ms * 2);
        let ratio = (next / self.width_ms) as i64;
        for s in &mut self.series {
            s.coarsen(ratio);
        }
        self.hist_slots = self.series.iter().map(Series::hist_slots).sum();
        self.width_ms = next;
        if self.min_idx != i64::MAX {
            self.min_idx = self.min_idx.div_euclid(ratio);
            self.max_idx = self.max_idx.div_euclid(ratio);
        }
        ratio
    }

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
        let overflowing = stats.breakdown_overflow.len();
        for (k, n) in stats.breakdown_overflow.iter().take(20) {
            warnings.push(format!("{k}: too many distinct values; {n} samples were not broken down by this tag"));
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
        for s in self.series {
            let mut extra = wanted.get(s.metric.as_str()).cloned().unwrap_or_default();
            extra.extend(self.opts.extra_percentiles.iter().copied());
            let (summary, stored) = summarize(&s, duration_ms, first_bucket, &extra);
            if summary.samples == 0 {
                continue;
            }
            ts_out.insert(s.key.clone(), stored);
            series_out.insert(s.key, summary);
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
                relative_accuracy: DEFAULT_RELATIVE_ACCURACY,
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

impl Series {
    fn data_len(&self) -> u64 {
        match &self.data {
            SeriesData::Counter { total, .. } => total.n,
            SeriesData::Gauge { total, .. } => total.n,
            SeriesData::Rate { total, .. } => total.n,
            SeriesData::Trend { total, .. } => total.n,
        }
    }
}

fn offset(idx: i64, first: i64) -> u32 {
    (idx - first) as u32
}

fn summarize(s: &Series, duration_ms: Option<f64>, first: i64, extra_pcts: &[f64]) -> (SeriesSummary, StoredSeries) {
    let mut values = BTreeMap::new();
    let mut stored = StoredSeries::default();
    let mut percentiles = PercentileSource::None;
    let samples = s.data_len();
    match &s.data {
        SeriesData::Counter { total, buckets } => {
            stored.kind = Some(MetricType::Counter);
            values.insert("count".into(), total.sum);
            if let Some(d) = duration_ms.filter(|d| *d > 0.0) {
                values.insert("rate".into(), total.sum / (d / 1000.0));
            }
            for (i, c) in buckets.occupied() {
                stored.t.push(offset(i, first));
                stored.n.push(c.n);
                stored.sum.push(c.sum);
            }
        }
        SeriesData::Gauge { total, buckets } => {
            stored.kind = Some(MetricType::Gauge);
            if total.n > 0 {
                values.insert("value".into(), total.last);
                values.insert("min".into(), total.min);
                values.insert("max".into(), total.max);
            }
            for (i, c) in buckets.occupied() {
                stored.t.push(offset(i, first));
                stored.n.push(c.n);
                stored.last.push(c.last);
                stored.min.push(c.min);
                stored.max.push(c.max);
            }
        }
        SeriesData::Rate { total, buckets } => {
            stored.kind = Some(MetricType::Rate);
            if total.n > 0 {
                values.insert("rate".into(), total.passes as f64 / total.n as f64);
            }
            values.insert("passes".into(), total.passes as f64);
            values.insert("fails".into(), (total.n - total.passes) as f64);
            for (i, c) in buckets.occupied() {
                stored.t.push(offset(i, first));
                stored.n.push(c.n);
                stored.passes.push(c.passes);
            }
        }
        SeriesData::Trend { total, values: kept, buckets, .. } => {
            stored.kind = Some(MetricType::Trend);
            let mut whole = LogHistogram::default();
            for (i, c) in buckets.occupied() {
                stored.t.push(offset(i, first));
                stored.n.push(c.n);
                stored.sum.push(c.sum);
                stored.min.push(c.min);
                stored.max.push(c.max);
                stored.hist.push(c.hist.to_stored());
                whole.merge(&c.hist);
            }
            if total.n > 0 {
                values.insert("count".into(), total.n as f64);
                values.insert("avg".into(), total.sum / total.n as f64);
                values.insert("min".into(), total.min);
                values.insert("max".into(), total.max);
                let pcts = SUMMARY_PERCENTILES
                    .iter()
                    .map(|(k, p)| (k.to_string(), *p))
                    .chain(extra_pcts.iter().map(|p| (threshold::percentile_key(*p), *p)));
                match kept {
                    Some(v) if v.len() as u64 == total.n => {
                        let mut sorted = v.clone();
                        sorted.sort_by(f64::total_cmp);
                        for (k, p) in pcts {
                            values.insert(k, k6_percentile(&sorted, p));
                        }
                        percentiles = PercentileSource::Exact;
                    }
                    _ => {
                        for (k, p) in pcts {
                            if let Some(x) = whole.percentile(p, total.min, total.max) {
                                values.insert(k, x);
                            }
                        }
                        percentiles = PercentileSource::Histogram;
                    }
                }
            }
        }
    }
    // Sums of huge values can still overflow: keep every stored number finite.
    values.retain(|_, v| v.is_finite());
    for col in [&mut stored.sum, &mut stored.min, &mut stored.max, &mut stored.last] {
        for v in col.iter_mut() {
            if !v.is_finite() {
                *v = if *v > 0.0 { f64::MAX } else { f64::MIN };
            }
        }
    }
    let summary = SeriesSummary {
        metric: s.metric.clone(),
        tags: s.tags.clone(),
        origin: s.origin,
        samples,
        first_ns: (s.first_ns != i64::MAX).then_some(s.first_ns),
        last_ns: (s.last_ns != i64::MIN).then_some(s.last_ns),
        values,
        percentiles,
        approximate: Vec::new(),
    };
    (summary, stored)
}

/// Builds the group tree from `(group path, check) → (passes, fails)`.
/// Group paths are k6's: `""` for the root, `::a::b` for nested groups.
pub(crate) fn check_tree(checks: &BTreeMap<(String, String), (u64, u64)>) -> CheckGroup {
    let mut root = CheckGroup::default();
    for ((group, check), (passes, fails)) in checks {
        let mut node = &mut root;
        let mut path = String::new();
        for part in group.split("::").filter(|p| !p.is_empty()) {
            path = format!("{path}::{part}");
            let pos = match node.groups.iter().position(|g| g.name == part) {
                Some(p) => p,
                None => {
                    node.groups.push(CheckGroup { name: part.to_string(), path: path.clone(), ..Default::default() });
                    node.groups.len() - 1
                }
            };
            node = &mut node.groups[pos];
        }
        node.checks.push(CheckResult {
            name: check.clone(),
            path: format!("{group}::{check}"),
            passes: *passes,
            fails: *fails,
        });
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags<'a>(kv: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        kv.to_vec()
    }

    #[test]
    fn coarsens_to_at_most_max_buckets() {
        let mut a = Aggregator::new(AggregatorOptions { max_buckets: 50, ..Default::default() });
        // 10 minutes of one sample a second.
        for s in 0..600i64 {
            a.add_point("http_reqs", s * 1_000_000_000, 1.0, &tags(&[("name", "x")]));
        }
        let out = a.finish(None);
        assert!(out.timeseries.buckets <= 50, "{} buckets", out.timeseries.buckets);
        assert_eq!(out.timeseries.bucket_ms, 20_000);
        let total: u64 = out.timeseries.series["http_reqs"].n.iter().sum();
        assert_eq!(total, 600);
        assert_eq!(out.series["http_reqs"].values["count"], 600.0);
        assert_eq!(out.series["http_reqs{name:x}"].values["count"], 600.0);
    }

    #[test]
    fn trend_summary_matches_k6_interpolation() {
        let mut a = Aggregator::new(AggregatorOptions::default());
        for (i, v) in [5.0, 1.0, 3.0, 2.0, 4.0].iter().enumerate() {
            a.add_point("http_req_duration", i as i64 * 1_000_000, *v, &tags(&[("status", "200")]));
        }
        let out = a.finish(None);
        let v = &out.series["http_req_duration"].values;
        assert_eq!(v["avg"], 3.0);
        assert_eq!(v["med"], 3.0);
        assert!((v["p(90)"] - 4.6).abs() < 1e-12);
        assert_eq!(out.series["http_req_duration"].percentiles, PercentileSource::Exact);
    }

    #[test]
    fn falls_back_to_histogram_past_the_value_budget() {
        let mut a = Aggregator::new(AggregatorOptions { max_values_total: 10, ..Default::default() });
        for i in 0..1000 {
            a.add_point("http_req_duration", i * 1_000_000, (i + 1) as f64, &[]);
        }
        let out = a.finish(None);
        let s = &out.series["http_req_duration"];
        assert_eq!(s.percentiles, PercentileSource::Histogram);
        assert!((s.values["p(95)"] - 950.05).abs() / 950.05 < 0.006);
        assert_eq!(s.values["max"], 1000.0);
    }

    #[test]
    fn caps_tag_cardinality() {
        let mut a = Aggregator::new(AggregatorOptions { max_tag_values: 3, ..Default::default() });
        for i in 0..10 {
            let n = format!("n{i}");
            a.add_point("http_reqs", 0, 1.0, &tags(&[("name", &n)]));
        }
        let out = a.finish(None);
        assert_eq!(out.series.keys().filter(|k| k.starts_with("http_reqs{name:")).count(), 3);
        assert_eq!(out.stats.breakdown_overflow["http_reqs{name}"], 7);
        assert_eq!(out.series["http_reqs"].values["count"], 10.0);
    }

    #[test]
    fn builds_nested_check_groups() {
        let mut a = Aggregator::new(AggregatorOptions::default());
        a.add_point("checks", 0, 1.0, &tags(&[("check", "ok"), ("group", "")]));
        a.add_point("checks", 0, 0.0, &tags(&[("check", "ok"), ("group", "::login::form")]));
        let out = a.finish(None);
        let root = out.checks.unwrap();
        assert_eq!(root.checks[0].passes, 1);
        assert_eq!(root.groups[0].name, "login");
        assert_eq!(root.groups[0].groups[0].checks[0].fails, 1);
        assert_eq!(root.groups[0].groups[0].checks[0].path, "::login::form::ok");
    }
}
