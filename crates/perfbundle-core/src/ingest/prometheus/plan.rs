//! What to ask Prometheus for a k6 run, and how the answers become the
//! run's samples: the selectors, the order of the queries, the push
//! interval (which sets the smallest time bucket), every metric fed as what
//! k6 wrote (rates weighed by the counter that counts their samples), and
//! what the import could not do exactly. The CLI does the HTTP.

use std::collections::{BTreeMap, HashMap};

use super::{classify, feed_counter, feed_gauge, feed_histogram, feed_weighted_rate, model_type, RawSeries, Written};
use crate::error::IngestError;
use crate::k6::aggregate::WIDTH_LADDER_MS;
use crate::k6::{Aggregator, MetricType};

/// A PromQL string literal.
pub fn string_literal(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The selector of one metric (of the run `testid` when given).
pub fn selector(name: &str, testid: Option<&str>) -> String {
    match testid {
        Some(t) => format!("{{__name__=\"{name}\",testid={}}}", string_literal(t)),
        None => format!("{{__name__=\"{name}\"}}"),
    }
}

/// The selector of every metric k6 writes (`k6_…`).
pub fn k6_names_selector(testid: Option<&str>) -> String {
    match testid {
        Some(t) => format!("{{__name__=~\"k6_.+\",testid={}}}", string_literal(t)),
        None => "{__name__=~\"k6_.+\"}".to_string(),
    }
}

/// Most k6 metric names an import asks for (k6 writes a few dozen; the
/// stream's bound on distinct metrics is 1,000).
pub const MAX_NAMES: usize = 1_000;

/// The k6 metric names of a `/api/v1/label/__name__/values` answer, in the
/// order to fetch them: counters first (they weigh the rates).
pub fn k6_names(body: &[u8], source: &str) -> Result<Vec<String>, IngestError> {
    read_k6_names(body, source)
}

/// [`k6_names`] read as the answer arrives: other names are skipped, not
/// kept (a server may list millions), and past [`MAX_NAMES`] k6 names the
/// import is refused.
/// The longest metric name taken from Prometheus (k6's are at most 128 characters).
pub const MAX_NAME_BYTES: usize = 256;

pub fn read_k6_names<R: std::io::Read>(reader: R, source: &str) -> Result<Vec<String>, IngestError> {
    use serde::de::{self, SeqAccess, Visitor};
    use serde::{Deserialize, Deserializer};
    struct Names(Vec<String>);
    impl<'de> Deserialize<'de> for Names {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Names;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an array of metric names")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Names, A::Error> {
                    let mut out = Vec::new();
                    while let Some(n) = seq.next_element::<std::borrow::Cow<'_, str>>()? {
                        // k6's metric names are at most 128 characters (with the k6_ prefix and a suffix, a few more).
                        if n.starts_with("k6_") && n.len() <= MAX_NAME_BYTES {
                            if out.len() == MAX_NAMES {
                                return Err(de::Error::custom(format!("more than {MAX_NAMES} k6 metric names")));
                            }
                            out.push(n.into_owned());
                        }
                    }
                    Ok(Names(out))
                }
            }
            d.deserialize_seq(V)
        }
    }
    #[derive(Deserialize)]
    struct Response {
        #[serde(default)]
        data: Option<Names>,
    }
    let reader = crate::ingest::document::LongStrings::new(std::io::BufReader::with_capacity(1 << 16, reader), 1 << 20);
    let r: Response = serde_json::from_reader(reader)
        .map_err(|e| IngestError::invalid(source, format!("not a Prometheus API response: {e}")))?;
    let mut names = r.data.map(|n| n.0).unwrap_or_default();
    names.sort_by_key(|n| !n.ends_with("_total"));
    Ok(names)
}

/// How often k6 pushed (the median gap between samples, seconds; 5 when
/// unknown), and the smallest bucket width of the run's grid: at least two
/// pushes, and a second.
pub fn push_interval(fetched: &[(String, Vec<RawSeries>)]) -> (f64, u64) {
    let mut gaps: Vec<f64> = fetched
        .iter()
        .flat_map(|(_, ss)| ss.iter())
        .flat_map(|s| s.samples.windows(2).map(|w| w[1].0 - w[0].0))
        .filter(|g| *g > 0.0)
        .collect();
    gaps.sort_by(f64::total_cmp);
    let push_s = gaps.get(gaps.len() / 2).copied().unwrap_or(5.0);
    let min_bucket_ms =
        WIDTH_LADDER_MS.iter().copied().find(|w| *w as f64 >= push_s * 2000.0).unwrap_or(10_000).max(1000);
    (push_s, min_bucket_ms)
}

/// Metric types by name: (type, `contains`).
pub type TypeHints = HashMap<String, (MetricType, String)>;

/// What k6 wrote of each fetched metric, and the metric types that tells.
pub fn written(fetched: &[(String, Vec<RawSeries>)]) -> (Vec<(String, Written)>, TypeHints) {
    let names: Vec<String> = fetched.iter().map(|(n, _)| n.clone()).collect();
    let histograms: Vec<String> =
        fetched.iter().filter(|(_, s)| s.iter().any(|x| !x.histograms.is_empty())).map(|(n, _)| n.clone()).collect();
    let written = classify(&names, &histograms);
    let mut hints = HashMap::new();
    for (_, w) in &written {
        if let Some((m, k, c)) = model_type(w) {
            hints.insert(m, (k, c.to_string()));
        }
    }
    (written, hints)
}

/// What feeding left for the summary's last step ([`super::finish`],
/// [`super::finish_trend_stats`]).
#[derive(Debug, Default)]
pub struct Fed {
    /// Samples added.
    pub points: u64,
    /// Rates whose samples no counter counts: their ratios per label set.
    pub unweighted: BTreeMap<String, Vec<RawSeries>>,
    /// Trends exported as summary stats: metric → stat → series.
    pub trend_stats: BTreeMap<String, BTreeMap<String, Vec<RawSeries>>>,
}

impl Fed {
    /// Whether anything of the run was imported.
    pub fn is_empty(&self) -> bool {
        self.points == 0 && self.unweighted.is_empty() && self.trend_stats.is_empty()
    }

    /// What the bundle should say of how exact the import is.
    pub fn warnings(&self, push_s: f64) -> Vec<String> {
        let mut out = vec![format!(
            "imported from Prometheus: values pushed every {push_s:.0} s; counts and sums of counters and of native histograms are exact, the figures marked approximate are not"
        )];
        if !self.trend_stats.is_empty() {
            let names: Vec<String> = self.trend_stats.keys().cloned().collect();
            out.push(format!(
                "trends exported as summary stats (no observations): {}; percentiles only per label set, no time series (K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true keeps the observations)",
                names.join(", ")
            ));
        }
        for m in self.unweighted.keys() {
            out.push(format!(
                "{m}: no counter counts its samples; its rate over label sets is the unweighted mean of theirs (approximate)"
            ));
        }
        out
    }
}

/// Feeds every fetched metric into `agg` as what k6 wrote: counters' and
/// histograms' increases, gauges' values, rates weighed by the counter that
/// counts their samples (`http_req_failed` by `http_reqs`: exact).
pub fn feed_all(agg: &mut Aggregator, written: &[(String, Written)], fetched: &[(String, Vec<RawSeries>)]) -> Fed {
    let series_of = |n: &str| fetched.iter().find(|(f, _)| f == n).map(|(_, s)| s);
    let counters: BTreeMap<&str, &Vec<RawSeries>> = written
        .iter()
        .filter_map(|(n, w)| match w {
            Written::Counter { metric } => series_of(n).map(|s| (metric.as_str(), s)),
            _ => None,
        })
        .collect();
    let mut fed = Fed::default();
    for (n, w) in written {
        let Some(series) = series_of(n) else { continue };
        match w {
            Written::Counter { metric } => fed.points += feed_counter(agg, metric, series),
            Written::Gauge { metric } => fed.points += feed_gauge(agg, metric, series),
            Written::Histogram { metric, time } => fed.points += feed_histogram(agg, metric, *time, series),
            Written::Rate { metric } => {
                let weight = match metric.as_str() {
                    "http_req_failed" => counters.get("http_reqs"),
                    _ => None,
                };
                let left = match weight {
                    Some(w) => feed_weighted_rate(agg, metric, series, w),
                    None => series.clone(),
                };
                if !left.is_empty() {
                    fed.unweighted.insert(metric.clone(), left);
                }
            }
            Written::TrendStat { metric, stat } => {
                fed.trend_stats.entry(metric.clone()).or_default().insert(stat.clone(), series.clone());
            }
        }
    }
    fed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_quote_the_run_id() {
        assert_eq!(selector("k6_vus", None), "{__name__=\"k6_vus\"}");
        assert_eq!(selector("k6_vus", Some("a\"b")), "{__name__=\"k6_vus\",testid=\"a\\\"b\"}");
        assert_eq!(k6_names_selector(Some("x")), "{__name__=~\"k6_.+\",testid=\"x\"}");
    }

    #[test]
    fn names_counters_first_and_the_push_interval() {
        let body = br#"{"status":"success","data":["k6_vus","k6_http_reqs_total","up","k6_http_req_failed_rate"]}"#;
        assert_eq!(k6_names(body, "q").unwrap(), ["k6_http_reqs_total", "k6_vus", "k6_http_req_failed_rate"]);
        assert!(k6_names(b"<html>", "q").unwrap_err().to_string().contains("not a Prometheus API response"));
        let s = RawSeries { samples: vec![(100.0, 1.0), (105.0, 2.0), (110.0, 3.0)], ..Default::default() };
        assert_eq!(push_interval(&[("k6_vus".into(), vec![s])]), (5.0, 10_000));
        assert_eq!(push_interval(&[]), (5.0, 10_000));
    }
}
