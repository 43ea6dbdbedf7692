//! A run's endpoints: every value of the `name` tag of its HTTP requests (k6
//! names each request by its URL unless the script names it, and groups URLs
//! with ids into one name with `tags: { name: … }`), with the figures a k6
//! user reads for one: requests, failed requests, the median, p(95) and
//! p(99) of `http_req_duration`. Read from the summary's `{name:…}`
//! sub-series, which the pack pipeline keeps for every name (`http_reqs`
//! counts, `http_req_failed` passes are the failed requests, the trend's
//! percentiles computed as k6 computes them). The overview's endpoints
//! table, `inspect`, the Markdown report and the comparison all read this.

use std::collections::BTreeSet;

use super::model::{K6Summary, SeriesOrigin};

/// The tag whose values are the endpoints.
pub const TAG: &str = "name";

/// One endpoint's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// The `name` tag's value.
    pub name: String,
    /// `http_reqs{name:…}` count.
    pub requests: u64,
    /// `http_req_failed{name:…}` passes: requests k6 counted as failed.
    pub failed: Option<u64>,
    /// `http_req_duration{name:…}` figures, ms.
    pub med_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub avg_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

impl Endpoint {
    /// Failed requests over requests (0..1).
    pub fn failed_rate(&self) -> Option<f64> {
        let f = self.failed?;
        (self.requests > 0).then(|| f as f64 / self.requests as f64)
    }
}

/// The series key of `metric` for one endpoint: `http_req_duration{name:GET /a}`.
pub fn series_key(metric: &str, name: &str) -> String {
    format!("{metric}{{{TAG}:{name}}}")
}

/// The names of the run's endpoints: each value of `name` on `http_reqs`
/// (or, for a summary without it, on `http_req_duration`), in name order.
pub fn names(s: &K6Summary) -> Vec<String> {
    let mut out = BTreeSet::new();
    for metric in ["http_reqs", "http_req_duration"] {
        for x in s.series.range(format!("{metric}{{")..format!("{metric}|")).map(|(_, x)| x) {
            if x.metric == metric && x.origin != SeriesOrigin::Metric && x.tags.len() == 1 {
                if let Some(n) = x.tags.get(TAG) {
                    out.insert(n.clone());
                }
            }
        }
        if !out.is_empty() {
            break;
        }
    }
    out.into_iter().collect()
}

/// One endpoint's figures from the summary.
pub fn endpoint(s: &K6Summary, name: &str) -> Endpoint {
    let get =
        |metric: &str, key: &str| s.series.get(&series_key(metric, name)).and_then(|x| x.values.get(key).copied());
    let requests = get("http_reqs", "count").or_else(|| get("http_req_duration", "count")).unwrap_or(0.0);
    Endpoint {
        name: name.to_string(),
        requests: requests.max(0.0) as u64,
        failed: get("http_req_failed", "passes").map(|v| v.max(0.0) as u64),
        med_ms: get("http_req_duration", "med"),
        p95_ms: get("http_req_duration", "p(95)"),
        p99_ms: get("http_req_duration", "p(99)"),
        avg_ms: get("http_req_duration", "avg"),
        max_ms: get("http_req_duration", "max"),
    }
}

/// Every endpoint of the run, most requests first (ties by name).
pub fn endpoints(s: &K6Summary) -> Vec<Endpoint> {
    let mut out: Vec<Endpoint> = names(s).iter().map(|n| endpoint(s, n)).collect();
    out.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.name.cmp(&b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k6::{assemble, Aggregator, AggregatorOptions};

    #[test]
    fn each_name_with_its_requests_failures_and_percentiles() {
        // Hand-made points: two endpoints, one failing once.
        let mut a = Aggregator::new(AggregatorOptions::default());
        for i in 0..40i64 {
            let t = 1_000_000_000_000 + i * 10_000_000;
            let (name, ms) =
                if i % 4 == 0 { ("GET /slow", 100.0 + i as f64) } else { ("GET /fast", 1.0 + (i % 3) as f64) };
            let tags = [("name", name)];
            a.add_point("http_reqs", t, 1.0, &tags);
            a.add_point("http_req_duration", t, ms, &tags);
            a.add_point("http_req_failed", t, if i == 8 { 1.0 } else { 0.0 }, &tags);
        }
        let s = assemble(Some((a, "k6-json".into())), None).summary;
        let e = endpoints(&s);
        assert_eq!(e.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["GET /fast", "GET /slow"]);
        assert_eq!((e[0].requests, e[0].failed), (30, Some(0)));
        assert_eq!((e[1].requests, e[1].failed), (10, Some(1)));
        assert_eq!(e[1].failed_rate(), Some(0.1));
        assert_eq!(e[1].max_ms, Some(136.0));
        assert!(e[1].p95_ms.unwrap() > 130.0 && e[1].p95_ms.unwrap() <= 136.0);
    }
}
