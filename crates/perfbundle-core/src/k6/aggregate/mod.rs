//! Streams k6 samples into per-series summaries and bucketed time series.
//!
//! Memory is bounded whatever the input length: time buckets are coarsened
//! (widths from [`WIDTH_LADDER_MS`], each a multiple of the one before) so a
//! run never has more than `max_buckets` of them; the number of tag values
//! broken down per metric is capped; exact sample values are kept only up to a
//! budget, past which a series' percentiles come from its histogram.
//!
//! `options` holds the budgets, `series` one series' cells and summary,
//! `checks` the check tree, `finish` the end (summaries, thresholds, warnings);
//! the statistics per metric type are the cells of `k6::cells`.

mod checks;
mod finish;
mod options;
mod series;

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};

use super::builtin::builtin_metric;
use super::model::*;
pub(crate) use checks::{add_check_counts, check_tree, CheckCounts};
pub use options::AggregatorOptions;
use series::{Hist, Series, ValueBudget};

pub use super::cells::{next_width, MAX_BUCKETS, SUMMARY_PERCENTILES, WIDTH_LADDER_MS};

/// What a series takes in a written model besides its histograms (its
/// summary's maps, its columns), as a reader counts it: 20,000 series of
/// the hand-made stream of many series take 40 MiB.
const SERIES_BYTES: usize = 2_048;
/// What a histogram bucket takes in a written model (an index and a count).
const SLOT_BYTES: usize = 16;

/// Histogram buckets a model of `series` series may hold (see
/// `Aggregator::hist_budget`; the shards' merge keeps to it too).
pub(crate) fn hist_budget(opts: &AggregatorOptions, series: usize) -> usize {
    let for_slots = opts.max_model_bytes.saturating_sub(series.saturating_mul(SERIES_BYTES)) / SLOT_BYTES;
    opts.max_hist_slots.min(for_slots).max(1)
}

/// The largest magnitude histograms hold once their memory ran out at the
/// coarsest accuracy: at accuracy 0.31, 10^-9 … 10^15 is 86 buckets a sign,
/// so 20,000 series take at most 3,440,000 buckets (83 MB) however their
/// values spread.
const HIST_TOP: f64 = 1e15;

/// Samples larger than this in magnitude are set aside like non-finite ones:
/// no tool writes them, and sums of them could overflow to infinity, which
/// JSON cannot hold.
pub const MAX_MAGNITUDE: f64 = 1e300;
/// Most thresholds kept for one metric (k6's scripts have a few; the
/// summary export's reader keeps as many).
pub const MAX_THRESHOLDS_PER_METRIC: usize = crate::ingest::k6_summary::MAX_THRESHOLDS;
/// A tag value longer than this (bytes) is not broken down into a series of
/// its own (its samples count in the metric's totals, as past
/// `max_tag_values`): a series holds its value several times over, and a
/// stream of distinct megabyte-long values must not fill the memory.
pub const MAX_TAG_VALUE_BYTES: usize = 4096;

#[derive(Debug)]
struct TagBreakdown {
    key: String,
    /// Tag values come from the input, but each break-down holds at most
    /// `max_tag_values` of them (Fx hashing: fast for short keys).
    values: FxHashMap<String, usize>,
    overflow: u64,
}

impl TagBreakdown {
    fn new(key: &str) -> Self {
        TagBreakdown { key: key.to_string(), values: FxHashMap::default(), overflow: 0 }
    }

    /// Key comparison that rejects on length and first byte before comparing bytes.
    #[inline]
    fn is_key(&self, k: &str) -> bool {
        k.len() == self.key.len() && k.as_bytes().first() == self.key.as_bytes().first() && k == self.key
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
    metric_ids: FxHashMap<String, usize>,
    series: Vec<Series>,
    width_ms: u64,
    min_idx: i64,
    max_idx: i64,
    budget: ValueBudget,
    sub_budget: ValueBudget,
    checks: CheckCounts,
    stats: IngestStats,
    warnings: Vec<String>,
    /// Histogram buckets occupied in all trend cells.
    hist_slots: usize,
    /// The bytes all series' time buckets take (an estimate).
    cell_bytes: usize,
    /// The histograms' accuracy and range (coarser when their buckets do
    /// not fit `max_hist_slots` even in one time bucket).
    hist: Hist,
    /// The last metric looked up (k6 streams runs of one metric).
    last_metric: Option<(String, usize)>,
    /// Names past `max_metrics` seen so far (bounded), and metrics whose type
    /// was guessed (their warnings are summarised past the first few).
    dropped_names: FxHashSet<String>,
    guessed: Vec<String>,
    guessed_more: u64,
    /// Thresholds past [`MAX_THRESHOLDS_PER_METRIC`] of a metric, left out.
    thresholds_dropped: u64,
    /// Bumped when a declaration adds sub-metrics to a metric seen before.
    routes_epoch: u64,
}

/// Where one (metric, tag set)'s samples go: [`Aggregator::route`].
#[derive(Debug, Clone)]
pub struct Route {
    /// `None`: the metric is past the limits, its samples are counted as dropped.
    metric: Option<usize>,
    /// Series besides the metric's own (tag break-downs, sub-metrics).
    targets: Vec<usize>,
    /// Break-downs whose value had no room: their overflow counts the samples.
    overflow: Vec<usize>,
    /// A check's (group, name), for `checks` samples.
    check: Option<(String, String)>,
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
            metric_ids: FxHashMap::default(),
            series: Vec::new(),
            width_ms,
            min_idx: i64::MAX,
            max_idx: i64::MIN,
            budget: ValueBudget { used: 0, cap },
            sub_budget: ValueBudget { used: 0, cap: cap / 3 },
            checks: BTreeMap::new(),
            stats: IngestStats::default(),
            warnings: Vec::new(),
            last_metric: None,
            hist_slots: 0,
            cell_bytes: 0,
            hist: Hist { accuracy: crate::histogram::DEFAULT_RELATIVE_ACCURACY, top: f64::INFINITY },
            dropped_names: Default::default(),
            guessed: Vec::new(),
            guessed_more: 0,
            thresholds_dropped: 0,
            routes_epoch: 0,
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
            self.routes_epoch += 1;
            let m = &mut self.metrics[id];
            if m.decl.kind != decl.kind && m.decl.type_source != "declared" {
                self.warnings.push(format!(
                    "metric {name}: declared as {} after {} samples were taken as {}",
                    decl.kind.as_str(),
                    self.series[m.total].samples(),
                    m.decl.kind.as_str()
                ));
            }
            for t in decl.thresholds {
                if m.decl.thresholds.len() >= MAX_THRESHOLDS_PER_METRIC {
                    self.thresholds_dropped += 1;
                } else if !m.decl.thresholds.contains(&t) {
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
        if decl.thresholds.len() > MAX_THRESHOLDS_PER_METRIC {
            self.thresholds_dropped += (decl.thresholds.len() - MAX_THRESHOLDS_PER_METRIC) as u64;
            decl.thresholds.truncate(MAX_THRESHOLDS_PER_METRIC);
        }
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
        self.add_points(metric, time_ns, value, tags, 1);
    }

    /// Adds `count` samples of one value at one time, with one set of tags
    /// (a histogram bucket's observations, as an importer reads them): the
    /// same as calling [`Aggregator::add_point`] `count` times, in one step.
    pub fn add_points(&mut self, metric: &str, time_ns: i64, value: f64, tags: &[(&str, &str)], count: u64) {
        if count == 0 {
            return;
        }
        if !value.is_finite() || value.abs() > MAX_MAGNITUDE {
            self.stats.non_finite += count;
            return;
        }
        let route = self.route(metric, tags);
        self.add_routed(&route, time_ns, value, count);
    }

    /// Where the samples of `metric` with `tags` go (found the way the first
    /// such sample would: the metric declared or guessed, tag values broken
    /// down while there is room). A stream of many samples of few tag sets
    /// finds each route once and adds through [`Aggregator::add_routed`],
    /// which is exactly [`Aggregator::add_points`] then, as long as
    /// [`Aggregator::routes_epoch`] is unchanged (a declaration that adds
    /// sub-metrics changes it).
    pub fn route(&mut self, metric: &str, tags: &[(&str, &str)]) -> Route {
        let Some(id) = self.metric_id(metric) else {
            return Route { metric: None, targets: Vec::new(), overflow: Vec::new(), check: None };
        };
        let max_tag_values = self.opts.max_tag_values;
        let mut targets = Vec::new();
        let mut overflow = Vec::new();
        let m = &mut self.metrics[id];
        for (bi, b) in m.by_tag.iter_mut().enumerate() {
            let Some((_, v)) = tags.iter().find(|(k, _)| b.is_key(k)) else {
                continue;
            };
            match b.values.get(*v) {
                Some(&sid) => targets.push(sid),
                None if v.len() > MAX_TAG_VALUE_BYTES
                    || b.values.len() >= max_tag_values
                    || self.series.len() >= self.opts.max_series =>
                {
                    overflow.push(bi)
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
        let check = if metric == "checks" {
            let get = |key: &str| tags.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string());
            get("check").map(|check| (get("group").unwrap_or_default(), check))
        } else {
            None
        };
        Route { metric: Some(id), targets, overflow, check }
    }

    /// The type a metric has or would get on its first sample (declared, a
    /// hint, k6's built-in types), without making it; `None` when it would be guessed.
    pub fn known_type(&self, name: &str) -> Option<MetricType> {
        if let Some(&id) = self.metric_ids.get(name) {
            return Some(self.metrics[id].decl.kind);
        }
        self.opts.type_hints.get(name).map(|(k, _)| *k).or_else(|| builtin_metric(name).map(|(k, _)| k))
    }

    /// Changes whenever a route found before may no longer be right.
    pub fn routes_epoch(&self) -> u64 {
        self.routes_epoch
    }

    /// Adds one sample of `metric` through `slot`, the route a caller keeps
    /// for one (metric, tag set): found (with the tags `tags` gives) on first
    /// use, and again when [`Aggregator::routes_epoch`] has moved on. The same
    /// as [`Aggregator::add_point`], without looking the tags up each time.
    #[inline]
    pub fn add_via<'t>(
        &mut self,
        slot: &mut Option<(u64, Route)>,
        metric: &str,
        time_ns: i64,
        value: f64,
        tags: impl FnOnce() -> Vec<(&'t str, &'t str)>,
    ) {
        // Before any route: a non-finite first sample makes no metric.
        if !value.is_finite() || value.abs() > MAX_MAGNITUDE {
            self.stats.non_finite += 1;
            return;
        }
        match slot {
            Some((epoch, route)) if *epoch == self.routes_epoch => self.add_routed(route, time_ns, value, 1),
            _ => {
                let route = self.route(metric, &tags());
                self.add_routed(&route, time_ns, value, 1);
                *slot = Some((self.routes_epoch, route));
            }
        }
    }

    /// Adds `count` samples along a route found by [`Aggregator::route`] at
    /// the current [`Aggregator::routes_epoch`].
    pub fn add_routed(&mut self, route: &Route, time_ns: i64, value: f64, count: u64) {
        if count == 0 {
            return;
        }
        if !value.is_finite() || value.abs() > MAX_MAGNITUDE {
            self.stats.non_finite += count;
            return;
        }
        let Some(id) = route.metric else {
            self.stats.dropped_metric_samples += count;
            return;
        };
        self.stats.points += count;
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
        let h = self.hist;
        let mut grew = self.series[total].add_n(idx, time_ns, value, count, budget, h);
        for &bi in &route.overflow {
            self.metrics[id].by_tag[bi].overflow += count;
        }
        for &sid in &route.targets {
            grew += self.series[sid].add_n(idx, time_ns, value, count, &mut self.sub_budget, h);
        }
        self.hist_slots += grew.slots;
        self.cell_bytes += grew.bytes;
        if self.hist_slots > self.hist_budget() || self.cell_bytes > self.opts.max_cell_bytes {
            self.make_room();
        }
        if let Some(key) = &route.check {
            if self.checks.len() < self.opts.max_checks || self.checks.contains_key(key) {
                let e = self.checks.entry(key.clone()).or_default();
                if value != 0.0 {
                    e.0 += count;
                } else {
                    e.1 += count;
                }
            } else {
                self.stats.series_not_made += count;
            }
        }
    }

    /// Histogram buckets the run may hold: `max_hist_slots`, and no more
    /// than the written model leaves them once its series are counted
    /// (`max_model_bytes`: each series' summary and columns about
    /// [`SERIES_BYTES`], each bucket [`SLOT_BYTES`]), so that few series get
    /// fine time buckets and 20,000 still make a bundle a reader takes.
    fn hist_budget(&self) -> usize {
        hist_budget(&self.opts, self.series.len())
    }

    /// Widens the time buckets until the histograms and the cells take at
    /// most three quarters of their budgets; when one time bucket is not
    /// enough, the histograms go to coarser accuracies, and past the
    /// coarsest, they hold magnitudes within [`HIST_TOP`] (each step said
    /// once in the warnings). Time widths and accuracies only grow, so this
    /// runs a bounded number of times in a whole run.
    fn make_room(&mut self) {
        let over = |a: &Self| a.hist_slots > a.hist_budget() * 3 / 4 || a.cell_bytes > a.opts.max_cell_bytes * 3 / 4;
        while over(self) && self.max_idx > self.min_idx {
            self.coarsen_step();
        }
        while self.hist_slots > self.hist_budget() * 3 / 4 {
            if let Some(a) = crate::histogram::LogHistogram::coarser_accuracy(self.hist.accuracy) {
                self.hist.accuracy = a;
                for s in &mut self.series {
                    s.coarsen_histograms(a);
                }
                self.hist_slots = self.series.iter().map(Series::hist_slots).sum();
                self.warnings.push(format!(
                    "the trends' histograms held more than {} buckets: their accuracy is now {} (percentiles read from them are within that; exact values kept are unaffected)",
                    crate::format::group(self.hist_budget() as u64),
                    crate::format::pct(a)
                ));
            } else {
                if self.hist.top.is_infinite() {
                    self.hist.top = HIST_TOP;
                    self.warnings.push(format!(
                        "the trends' histograms held more than {} buckets at the coarsest accuracy: magnitudes past {HIST_TOP:e} are counted in their largest bucket",
                        crate::format::group(self.hist_budget() as u64)
                    ));
                }
                break;
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
        let next = next_width(self.width_ms);
        let ratio = (next / self.width_ms) as i64;
        for s in &mut self.series {
            s.coarsen(ratio);
        }
        self.hist_slots = self.series.iter().map(Series::hist_slots).sum();
        self.cell_bytes = self.series.iter().map(Series::cell_bytes).sum();
        self.width_ms = next;
        if self.min_idx != i64::MAX {
            self.min_idx = self.min_idx.div_euclid(ratio);
            self.max_idx = self.max_idx.div_euclid(ratio);
        }
        ratio
    }
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
    fn series_sampled_now_and_then_hold_only_their_buckets_within_the_cell_budget() {
        // 2,000 series of 30 samples each spread over 20 minutes: dense
        // buckets would be 2,000 × 12,000 cells; the budget here is 1 MiB.
        let opts = AggregatorOptions { max_cell_bytes: 1 << 20, ..Default::default() };
        let mut a = Aggregator::new(opts);
        for k in 0..30i64 {
            for u in 0..2_000i64 {
                let name = format!("u{u}");
                let t = (k * 40 + u % 40) * 1_000_000_000;
                a.add_point("http_req_duration", t, (u + k) as f64, &tags(&[("name", &name)]));
            }
            assert!(a.cell_bytes <= 1 << 20, "{} bytes of cells", a.cell_bytes);
        }
        let out = a.finish(None);
        assert!(out.timeseries.bucket_ms > 100, "widened: {} ms", out.timeseries.bucket_ms);
        assert!(out.timeseries.buckets > 1, "not one bucket");
        let n: u64 = out.timeseries.series["http_req_duration{name:u7}"].n.iter().sum();
        assert_eq!(n, 30);
        assert_eq!(out.series["http_req_duration"].values["count"], 60_000.0);
    }

    #[test]
    fn histograms_past_their_budget_in_one_bucket_go_coarser_and_stay_bounded() {
        // One time bucket, values spread over 20 decades: no widening helps.
        let opts = AggregatorOptions { max_hist_slots: 2_000, max_values_total: 0, ..Default::default() };
        let mut a = Aggregator::new(opts);
        let mut x: u64 = 7;
        for i in 0..200_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let v = 10f64.powf((x >> 11) as f64 / (1u64 << 53) as f64 * 20.0 - 5.0);
            a.add_point("t", 1_000_000_000 + (i % 50) as i64, v, &[]);
            assert!(a.hist_slots <= 2_000 + 1, "{} slots", a.hist_slots);
        }
        assert!(a.max_idx == a.min_idx);
        let out = a.finish(None);
        let acc = out.timeseries.relative_accuracy;
        assert!(acc > 3.0 * crate::histogram::DEFAULT_RELATIVE_ACCURACY, "coarser: {acc}");
        assert!(out.warnings.iter().any(|w| w.contains("accuracy is now")), "{:?}", out.warnings);
        let s = &out.series["t"];
        assert_eq!(s.values["count"], 200_000.0);
        assert_eq!(s.percentiles, PercentileSource::Histogram);
        out.timeseries.validate().unwrap();
    }

    #[test]
    fn past_the_coarsest_accuracy_magnitudes_are_held_and_said() {
        let opts = AggregatorOptions { max_hist_slots: 40, max_values_total: 0, ..Default::default() };
        let mut a = Aggregator::new(opts);
        let mut largest = f64::MIN;
        for i in -200..280 {
            // powi may round differently when folded at compile time: keep what was added.
            let v = 10f64.powi(i);
            largest = largest.max(v);
            a.add_point("t", 1_000_000_000, v, &[]);
        }
        assert!(a.hist_slots <= 2 * 86, "{} slots", a.hist_slots);
        let out = a.finish(None);
        assert!(out.warnings.iter().any(|w| w.contains("magnitudes past 1e15")), "{:?}", out.warnings);
        assert_eq!(out.series["t"].values["count"], 480.0);
        assert_eq!(out.series["t"].values["max"], largest, "min and max stay exact");
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
    fn adding_n_samples_at_once_equals_adding_them_one_by_one() {
        let feed = |a: &mut Aggregator, n: u64, one_by_one: bool| {
            for (metric, v) in [
                ("http_req_duration", 12.5),
                ("http_reqs", 1.0),
                ("http_req_failed", 1.0),
                ("vus", 3.0),
                ("checks", 0.0),
            ] {
                let tags = [("name", "home"), ("check", "ok"), ("group", "")];
                if one_by_one {
                    for _ in 0..n {
                        a.add_point(metric, 1_000_000_000_000, v, &tags);
                    }
                } else {
                    a.add_points(metric, 1_000_000_000_000, v, &tags, n);
                }
            }
        };
        for n in [1u64, 2, 7, 1000] {
            let (mut one, mut many) =
                (Aggregator::new(AggregatorOptions::default()), Aggregator::new(AggregatorOptions::default()));
            feed(&mut one, n, true);
            feed(&mut many, n, false);
            let (one, many) = (one.finish(None), many.finish(None));
            assert_eq!(one.series, many.series, "n = {n}");
            assert_eq!(one.timeseries, many.timeseries, "n = {n}");
            assert_eq!(one.checks, many.checks, "n = {n}");
            assert_eq!(one.stats, many.stats, "n = {n}");
        }
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
