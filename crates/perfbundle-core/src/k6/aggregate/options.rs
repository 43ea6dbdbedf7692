//! The aggregation's options: which tags are broken down, and the budgets
//! that bound its memory whatever the input's length.

use std::collections::HashMap;

use super::MAX_BUCKETS;
use crate::k6::builtin::DEFAULT_BREAKDOWN_TAGS;
use crate::k6::model::MetricType;

/// Options of the aggregation.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AggregatorOptions {
    /// Tag keys whose values get a series of their own. Default is
    /// [`DEFAULT_BREAKDOWN_TAGS`]; tag keys named by declared sub-metrics are added.
    pub breakdown_tags: Vec<String>,
    /// Most buckets in a run's grid. Default is [`MAX_BUCKETS`] (2,000).
    pub max_buckets: u64,
    /// Smallest bucket width in ms, one of
    /// [`WIDTH_LADDER_MS`](super::WIDTH_LADDER_MS). Default is 100
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
    /// bytes each, and their vectors' slack); past it, time buckets are
    /// widened, and in one time bucket the histograms' accuracy is halved.
    /// Default is 3,000,000.
    pub max_hist_slots: usize,
    /// Most bytes the time buckets' cells of all series take (estimated;
    /// their histograms' buckets are `max_hist_slots`); past it, time buckets
    /// are widened. Default is 32 MiB: 20,000 series sampled over a long run
    /// take a few wide buckets each rather than gigabytes.
    pub max_cell_bytes: usize,
    /// Memory the written model (summary and time series) may take as a
    /// reader counts it; the histograms get what the series leave of it.
    /// Default is 56 MiB, within what a writer lets a bundle take
    /// (`bundle::WRITTEN_MODEL_MEMORY`, 64 MiB).
    pub max_model_bytes: usize,
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
            max_buckets: MAX_BUCKETS,
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
            max_hist_slots: 3_000_000,
            max_model_bytes: 56 << 20,
            max_cell_bytes: 32 << 20,
            type_hints: HashMap::new(),
            extra_submetrics: Vec::new(),
            extra_percentiles: Vec::new(),
        }
    }
}
