//! One line of a site's `index.json`: what a list of runs shows of a bundle.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Bundle;

/// A bundle in a list of runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// Path of the bundle relative to the index.
    pub file: String,
    pub title: String,
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub duration_ms: Option<f64>,
    #[serde(default)]
    pub http_reqs: Option<f64>,
    #[serde(default)]
    pub http_req_rate: Option<f64>,
    #[serde(default)]
    pub http_req_duration_p95_ms: Option<f64>,
    #[serde(default)]
    pub http_req_failed_rate: Option<f64>,
    /// The `checks` rate (share of checks that passed).
    #[serde(default)]
    pub checks_rate: Option<f64>,
    /// `None` when the run has no thresholds.
    #[serde(default)]
    pub thresholds_passed: Option<bool>,
    /// The thresholds that failed, as `metric: expr`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds_failed: Vec<String>,
    #[serde(default)]
    pub profiles: Vec<String>,
    /// The profilers of the run (each profile's and process timeline's
    /// source, sorted, once each: `cpuprofile`, `clinic-doctor`…): the runs
    /// list pairs a run with the run before of the same test under the same
    /// profilers, and a trend joins only those (a profiler changes the latencies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profilers: Vec<String>,
    #[serde(default)]
    pub timelines: Vec<String>,
    /// The test's shape (`compare::relation::test_shape`): runs of one test
    /// are compared in the runs list, runs of different tests are not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shape: Vec<String>,
    /// Every figure of k6's summary: series (metrics and the sub-metrics
    /// thresholds name) → k6 summary key → value, for the trend of any figure.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub figures: BTreeMap<String, IndexFigures>,
}

/// A series' figures in a site's index, with what they measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexFigures {
    #[serde(rename = "type")]
    pub kind: crate::k6::MetricType,
    /// `time` (ms), `data` (bytes) or `default`.
    pub contains: String,
    /// k6 summary key → value.
    pub values: BTreeMap<String, f64>,
}

/// Most runs a list of runs holds (`site`, `history`, `view` of a folder):
/// each is a few kB, bounded by [`IndexEntry::of`].
pub const MAX_RUNS: usize = 5_000;

use crate::format::shorten as short;

/// At most `n` of `items`, each [`short`]ened.
fn few<'a>(items: impl IntoIterator<Item = &'a String>, n: usize, max: usize) -> Vec<String> {
    items.into_iter().take(n).map(|x| short(x, max)).collect()
}

impl IndexEntry {
    /// The entry of bundle `b` (at `file`): what a runs list and a trend
    /// need, each text and list bounded (a title of megabytes, a thousand
    /// labels or metrics make an entry of a few kB, as an ordinary one).
    pub fn of(b: &Bundle, file: &str) -> Self {
        const TEXT: usize = 300;
        const ITEMS: usize = 32;
        const FIGURES: usize = 128;
        let m = &b.manifest;
        let v = |key: &str, k: &str| {
            b.k6_summary.as_ref().and_then(|s| s.series.get(key)).and_then(|x| x.values.get(k).copied())
        };
        let thresholds = b.k6_summary.as_ref().map(|s| &s.thresholds).filter(|t| !t.is_empty());
        IndexEntry {
            file: file.to_string(),
            title: short(&m.title, TEXT),
            labels: m.labels.iter().take(ITEMS).map(|(k, v)| (short(k, TEXT), short(v, TEXT))).collect(),
            start: m.run.start.clone(),
            duration_ms: m.run.duration_ms,
            http_reqs: v("http_reqs", "count"),
            http_req_rate: v("http_reqs", "rate"),
            http_req_duration_p95_ms: v("http_req_duration", "p(95)"),
            http_req_failed_rate: v("http_req_failed", "rate"),
            checks_rate: v("checks", "rate"),
            thresholds_passed: thresholds.map(|t| t.iter().all(|x| x.ok == Some(true))),
            thresholds_failed: thresholds
                .map(|t| {
                    t.iter()
                        .filter(|x| x.ok == Some(false))
                        .take(ITEMS)
                        .map(|x| short(&format!("{}: {}", x.metric, x.expr), TEXT))
                        .collect()
                })
                .unwrap_or_default(),
            profiles: few(b.profiles.iter().map(|p| &p.name), ITEMS, TEXT),
            profilers: {
                let mut v: Vec<String> = b.profiles.iter().map(|p| short(&p.source, TEXT)).collect();
                v.extend(b.timelines.iter().map(|t| short(&t.source, TEXT)));
                v.sort();
                v.dedup();
                v.truncate(ITEMS);
                v
            },
            timelines: few(b.timelines.iter().map(|t| &t.name), ITEMS, TEXT),
            shape: few(&crate::compare::relation::test_shape(b.k6_summary.as_ref()), 4 * ITEMS, TEXT),
            figures: b
                .k6_summary
                .iter()
                .flat_map(|s| {
                    s.series
                        .iter()
                        .filter(|(k, x)| x.origin != crate::k6::SeriesOrigin::Tag && k.len() <= TEXT)
                        .filter_map(|(k, x)| {
                            let decl = s.metrics.get(&x.metric)?;
                            let values = x.values.iter().take(ITEMS).map(|(k, v)| (k.clone(), *v)).collect();
                            let f = IndexFigures { kind: decl.kind, contains: short(&decl.contains, TEXT), values };
                            Some((k.clone(), f))
                        })
                        .take(FIGURES)
                })
                .collect(),
        }
    }
}

/// `index.json`: `{"bundles": [IndexEntry…]}`, newest run first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SiteIndex {
    pub bundles: Vec<IndexEntry>,
    /// The label the site's trend is ordered by (`site --by LABEL`), compared
    /// as versions; absent: by run start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl SiteIndex {
    pub fn new(mut entries: Vec<IndexEntry>) -> Self {
        entries.sort_by(|a, b| b.start.cmp(&a.start).then(a.file.cmp(&b.file)));
        SiteIndex { bundles: entries, by: None }
    }
}
