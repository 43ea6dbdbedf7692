//! Serializable k6 model: the `k6/summary.json` and `k6/timeseries.json`
//! entries of a bundle (FORMAT.md describes every field).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::histogram::StoredHistogram;

/// A k6 metric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricType {
    Counter,
    Gauge,
    Rate,
    Trend,
}

impl MetricType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "rate" => MetricType::Rate,
            "trend" => MetricType::Trend,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Rate => "rate",
            MetricType::Trend => "trend",
        }
    }
}

/// A sub-metric as k6 declares it: `http_req_duration{expected_response:true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmetricDecl {
    pub name: String,
    pub suffix: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A metric declaration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDecl {
    #[serde(rename = "type")]
    pub kind: MetricType,
    /// `default`, `time` (values in ms) or `data` (bytes).
    #[serde(deserialize_with = "crate::bounded::string")]
    pub contains: String,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    pub thresholds: Vec<String>,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    pub submetrics: Vec<SubmetricDecl>,
    /// Where the type came from: `declared` (a `Metric` line), `builtin`, `hint`, `summary` or `guessed`.
    #[serde(default = "declared")]
    pub type_source: String,
}

fn declared() -> String {
    "declared".into()
}

/// How a series was selected from a metric's samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeriesOrigin {
    /// Every sample of the metric.
    Metric,
    /// A sub-metric k6 declared (samples whose tags include all of `tags`).
    Submetric,
    /// A break-down by one tag's value.
    Tag,
}

/// Where a trend's percentiles come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PercentileSource {
    /// From every sample value, as k6 computes them.
    Exact,
    /// From the mergeable histogram (within its relative accuracy).
    Histogram,
    /// Copied from k6's own summary (no point stream was given).
    Reported,
    /// Not a trend.
    None,
}

/// The end-of-test summary of one series, in k6's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesSummary {
    #[serde(deserialize_with = "crate::bounded::string")]
    pub metric: String,
    #[serde(deserialize_with = "crate::bounded::map", default)]
    pub tags: BTreeMap<String, String>,
    pub origin: SeriesOrigin,
    /// Number of samples.
    pub samples: u64,
    /// Time of the first and last sample (Unix ns), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_ns: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ns: Option<i64>,
    /// k6 summary keys: `count rate` (counter), `rate passes fails` (rate),
    /// `value min max` (gauge), `count avg min med max p(90) p(95) p(99)` (trend).
    #[serde(deserialize_with = "crate::bounded::map")]
    pub values: BTreeMap<String, f64>,
    pub percentiles: PercentileSource,
    /// Keys of `values` whose precision is limited by the source (format
    /// 1.2; e.g. an import from Prometheus: figures from pushes every few
    /// seconds, or from histogram buckets). Empty: every value is as exact as §4 says.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "crate::bounded::vec")]
    pub approximate: Vec<String>,
}

/// A threshold and whether it passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// The metric or sub-metric it is on, in k6's form.
    #[serde(deserialize_with = "crate::bounded::string")]
    pub metric: String,
    #[serde(deserialize_with = "crate::bounded::string")]
    pub expr: String,
    /// `true` passed, `false` crossed, `None` could not be evaluated.
    pub ok: Option<bool>,
    /// `summary-export`, `handle-summary` (k6's own verdict) or `evaluated` (by perfbundle).
    pub source: String,
}

/// One check's passes and fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub path: String,
    pub passes: u64,
    pub fails: u64,
}

impl CheckResult {
    /// The share of passes in whole percent, rounded down as k6 prints it
    /// (3 fails in 1,000 is 99%, not 100%); 0 without samples.
    pub fn pass_percent(&self) -> f64 {
        let total = self.passes + self.fails;
        if total > 0 {
            (self.passes as f64 * 100.0 / total as f64).floor()
        } else {
            0.0
        }
    }
}

/// A k6 group with its checks and sub-groups (the root group has name `""`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CheckGroup {
    pub name: String,
    pub path: String,
    #[serde(deserialize_with = "crate::bounded::vec", default)]
    pub checks: Vec<CheckResult>,
    #[serde(deserialize_with = "crate::bounded::vec", default)]
    pub groups: Vec<CheckGroup>,
}

/// The deepest nesting of groups a bundle keeps (JSON readers stop at 128
/// levels, and each group takes two). Deeper groups' checks are kept in
/// their ancestor at this depth, named by the rest of their group path.
pub const MAX_GROUP_DEPTH: usize = 32;

impl CheckGroup {
    /// Folds groups below [`MAX_GROUP_DEPTH`] into their ancestor at that
    /// depth (checks renamed `sub::group::check`); `true` if any was.
    pub fn limit_depth(&mut self) -> bool {
        self.limit_at(0)
    }

    fn limit_at(&mut self, depth: usize) -> bool {
        if depth + 1 < MAX_GROUP_DEPTH {
            let mut any = false;
            for g in &mut self.groups {
                any |= g.limit_at(depth + 1);
            }
            return any;
        }
        if self.groups.is_empty() {
            return false;
        }
        // Hoist every descendant's checks, iteratively (the input may be deep).
        let mut todo: Vec<(String, CheckGroup)> =
            std::mem::take(&mut self.groups).into_iter().map(|g| (g.name.clone(), g)).collect();
        while let Some((prefix, g)) = todo.pop() {
            for mut c in g.checks {
                c.name = format!("{prefix}::{}", c.name);
                self.checks.push(c);
            }
            todo.extend(g.groups.into_iter().map(|sub| (format!("{prefix}::{}", sub.name), sub)));
        }
        true
    }
}

/// A metric as k6's own summary reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportedMetric {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<MetricType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    #[serde(deserialize_with = "crate::bounded::map")]
    pub values: BTreeMap<String, f64>,
    /// Expression → passed.
    #[serde(default, deserialize_with = "crate::bounded::map")]
    pub thresholds: BTreeMap<String, bool>,
}

/// Counts of what the ingest saw and set aside.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IngestStats {
    pub lines: u64,
    pub points: u64,
    pub metric_lines: u64,
    /// Lines skipped with `--lenient`.
    pub bad_lines: u64,
    /// Samples whose value was not a finite number, or over 1e300 in magnitude (ignored).
    #[serde(default)]
    pub non_finite: u64,
    /// `metric{tag}` → samples not broken down because the tag had too many values.
    #[serde(default, deserialize_with = "crate::bounded::map")]
    pub breakdown_overflow: BTreeMap<String, u64>,
    /// Samples of metrics past the limit on distinct metric names (not kept).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_metric_samples: u64,
    /// Distinct metric names past that limit (counted up to 1,000,000).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_metrics: u64,
    /// Series not made because the limit on series was reached (sub-metrics
    /// declared, or tag values to break down), and checks past the limit on
    /// distinct checks.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub series_not_made: u64,
}

impl std::ops::AddAssign<&IngestStats> for IngestStats {
    /// Adds another input's counts (the shards of one run): every counter,
    /// and the samples not broken down per `metric{tag}`.
    fn add_assign(&mut self, o: &IngestStats) {
        // Destructured, so that a new field cannot be forgotten here.
        let IngestStats {
            lines,
            points,
            metric_lines,
            bad_lines,
            non_finite,
            breakdown_overflow,
            dropped_metric_samples,
            dropped_metrics,
            series_not_made,
        } = o;
        self.lines += lines;
        self.points += points;
        self.metric_lines += metric_lines;
        self.bad_lines += bad_lines;
        self.non_finite += non_finite;
        for (k, n) in breakdown_overflow {
            *self.breakdown_overflow.entry(k.clone()).or_default() += n;
        }
        self.dropped_metric_samples += dropped_metric_samples;
        self.dropped_metrics += dropped_metrics;
        self.series_not_made += series_not_made;
    }
}

impl std::ops::AddAssign for IngestStats {
    fn add_assign(&mut self, o: IngestStats) {
        *self += &o;
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The `k6/summary.json` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct K6Summary {
    /// Input kind of the point stream (`k6-json`, `k6-csv`), if any.
    #[serde(default)]
    pub points_source: Option<String>,
    /// Input kind of k6's own summary (`k6-summary-export`, `k6-handle-summary`), if any.
    #[serde(default)]
    pub summary_source: Option<String>,
    /// Test run duration in ms, and where it came from.
    #[serde(default)]
    pub duration_ms: Option<f64>,
    #[serde(default)]
    pub duration_source: Option<String>,
    #[serde(default)]
    pub start_ns: Option<i64>,
    #[serde(default)]
    pub end_ns: Option<i64>,
    #[serde(deserialize_with = "crate::bounded::map")]
    pub metrics: BTreeMap<String, MetricDecl>,
    #[serde(deserialize_with = "crate::bounded::map")]
    pub series: BTreeMap<String, SeriesSummary>,
    #[serde(deserialize_with = "crate::bounded::vec", default)]
    pub thresholds: Vec<Threshold>,
    #[serde(default)]
    pub checks: Option<CheckGroup>,
    #[serde(deserialize_with = "crate::bounded::opt_map", default)]
    pub reported: Option<BTreeMap<String, ReportedMetric>>,
    #[serde(default)]
    pub stats: IngestStats,
}

impl K6Summary {
    /// A summary with nothing in it.
    pub fn empty() -> Self {
        K6Summary {
            points_source: None,
            summary_source: None,
            duration_ms: None,
            duration_source: None,
            start_ns: None,
            end_ns: None,
            metrics: BTreeMap::new(),
            series: BTreeMap::new(),
            thresholds: Vec::new(),
            checks: None,
            reported: None,
            stats: IngestStats::default(),
        }
    }
}

/// One series' buckets, stored column-wise. `t[i]` is the bucket's offset from
/// the grid's `first_bucket`; every other present column has the same length.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StoredSeries {
    #[serde(rename = "type")]
    pub kind: Option<MetricType>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub t: Vec<u32>,
    /// Samples in the bucket.
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub n: Vec<u64>,
    #[serde(deserialize_with = "crate::bounded::vec", default, skip_serializing_if = "Vec::is_empty")]
    pub sum: Vec<f64>,
    #[serde(deserialize_with = "crate::bounded::vec", default, skip_serializing_if = "Vec::is_empty")]
    pub min: Vec<f64>,
    #[serde(deserialize_with = "crate::bounded::vec", default, skip_serializing_if = "Vec::is_empty")]
    pub max: Vec<f64>,
    #[serde(deserialize_with = "crate::bounded::vec", default, skip_serializing_if = "Vec::is_empty")]
    pub last: Vec<f64>,
    #[serde(deserialize_with = "crate::bounded::vec", default, skip_serializing_if = "Vec::is_empty")]
    pub passes: Vec<u64>,
    #[serde(deserialize_with = "crate::bounded::vec", default, skip_serializing_if = "Vec::is_empty")]
    pub hist: Vec<StoredHistogram>,
}

/// The `k6/timeseries.json` entry: every series on one grid of equal buckets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct K6TimeSeries {
    /// Bucket width in ms.
    pub bucket_ms: u64,
    /// Absolute index of the first bucket: bucket `k` covers
    /// `[k * bucket_ms, (k + 1) * bucket_ms)` ms since the Unix epoch.
    pub first_bucket: i64,
    /// Number of buckets in the grid.
    pub buckets: u64,
    /// Relative accuracy of every histogram.
    pub relative_accuracy: f64,
    #[serde(deserialize_with = "crate::bounded::map")]
    pub series: BTreeMap<String, StoredSeries>,
}

impl K6TimeSeries {
    /// Checks the invariants a reader relies on.
    pub fn validate(&self) -> Result<(), String> {
        if self.bucket_ms == 0 {
            return Err("bucket_ms is 0".into());
        }
        // The writer's bound (FORMAT.md §5): a grid of more buckets is not one it writes.
        if self.buckets > super::cells::MAX_BUCKETS {
            return Err(format!("{} buckets is over the limit of {}", self.buckets, super::cells::MAX_BUCKETS));
        }
        if !(self.relative_accuracy > 0.0 && self.relative_accuracy < 1.0) {
            return Err("relative_accuracy must be in (0, 1)".into());
        }
        for (key, s) in &self.series {
            let n = s.t.len();
            if s.n.len() != n {
                return Err(format!("series {key:?}: column n has {} items, t has {n}", s.n.len()));
            }
            for (col, len) in [
                ("sum", s.sum.len()),
                ("min", s.min.len()),
                ("max", s.max.len()),
                ("last", s.last.len()),
                ("passes", s.passes.len()),
                ("hist", s.hist.len()),
            ] {
                if len != 0 && len != n {
                    return Err(format!("series {key:?}: column {col} has {len} items, t has {n}"));
                }
            }
            if s.t.windows(2).any(|w| w[0] >= w[1]) {
                return Err(format!("series {key:?}: bucket offsets are not increasing"));
            }
            if s.t.last().is_some_and(|&t| u64::from(t) >= self.buckets) {
                return Err(format!("series {key:?}: bucket offset beyond the grid"));
            }
        }
        Ok(())
    }
}

/// The k6 series key in k6's form: `metric` or `metric{k:v,k2:v2}`.
///
/// ```
/// use std::collections::BTreeMap;
/// use perfbundle_core::k6::{parse_series_key, series_key};
/// let tags = BTreeMap::from([("status".to_string(), "200".to_string())]);
/// assert_eq!(series_key("http_reqs", &tags), "http_reqs{status:200}");
/// assert_eq!(parse_series_key("http_reqs{status:200}"), ("http_reqs".to_string(), tags));
/// ```
pub fn series_key(metric: &str, tags: &BTreeMap<String, String>) -> String {
    if tags.is_empty() {
        return metric.to_string();
    }
    let inner: Vec<String> = tags.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    format!("{metric}{{{}}}", inner.join(","))
}

/// Splits `metric{k:v,…}` into the metric name and its tags (k6's sub-metric syntax).
pub fn parse_series_key(key: &str) -> (String, BTreeMap<String, String>) {
    let mut tags = BTreeMap::new();
    match (key.find('{'), key.ends_with('}')) {
        (Some(open), true) => {
            let inner = &key[open + 1..key.len() - 1];
            for part in inner.split(',') {
                if let Some((k, v)) = part.split_once(':') {
                    tags.insert(k.trim().to_string(), v.trim().to_string());
                }
            }
            (key[..open].to_string(), tags)
        }
        _ => (key.to_string(), tags),
    }
}

impl crate::bounded::Heap for Threshold {
    fn heap(&self) -> u64 {
        (self.metric.len() + self.expr.len() + self.source.len()) as u64
    }
}

impl crate::bounded::Heap for CheckResult {
    fn heap(&self) -> u64 {
        (self.name.len() + self.path.len()) as u64
    }
}

impl crate::bounded::Heap for CheckGroup {
    fn heap(&self) -> u64 {
        (self.name.len() + self.path.len()) as u64
    }
}
