//! k6's `experimental-prometheus-rw` output as Prometheus kept it (FORMAT.md
//! §13), read back through the HTTP API as raw samples (a range vector per
//! metric: every pushed value, with its time), and turned into samples for the
//! same [`Aggregator`](crate::k6::Aggregator) the JSON stream feeds:
//!
//! - counters (`k6_NAME_total`, cumulative from the test's start): each
//!   push's increase, as one sample at the push's time;
//! - gauges (`k6_NAME`): each pushed value;
//! - rates (`k6_NAME_rate`, a cumulative ratio per label set): where a counter
//!   with the same labels counts the samples (`http_req_failed` by
//!   `http_reqs`), each push's new passes and fails as samples of 1 and 0 —
//!   exact; elsewhere (`checks`, custom rates) the samples cannot be counted:
//!   the ratios are kept as they are, per label set, and the rate over label
//!   sets is their unweighted mean, marked approximate;
//! - trends as native histograms (`k6_NAME_seconds` with
//!   `K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true`): each push's new
//!   observations, one sample per observation at its bucket's geometric
//!   middle (in ms for time trends). Counts are exact; sums, min, max and
//!   percentiles hold to the buckets' width, and are marked so.
//!
//! Prometheus drops empty labels: the root group's `group=""` is restored
//! where there is a `scenario`, as for InfluxDB.
//!
//! Trends exported as summary stats (`k6_NAME_p99`, the default without
//! native histograms) hold no observations: their stats are kept as k6
//! computed them per label set ([`finish_trend_stats`]).

mod api;
mod feed;
mod finish;
mod names;
pub mod plan;

pub use api::{parse_matrix, read_matrix, NativeHistogram, RawSeries, MAX_POINTS};
pub use feed::{feed_counter, feed_gauge, feed_histogram, feed_weighted_rate};
pub use finish::{finish, finish_trend_stats};
pub use names::{classify, model_type, Written};

/// Unix seconds → Unix ns.
fn ns(t: f64) -> i64 {
    (t * 1e9).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use crate::k6::{assemble, Aggregator, AggregatorOptions, K6Summary};

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_tell_the_kinds_apart() {
        let n = names(&[
            "k6_http_reqs_total",
            "k6_http_req_failed_rate",
            "k6_vus",
            "k6_http_req_duration_seconds",
            "k6_order_latency_p99",
            "k6_order_latency_avg",
            "k6_cart_max",
        ]);
        let c = classify(&n, &names(&["k6_http_req_duration_seconds"]));
        let get = |k: &str| c.iter().find(|(n, _)| n == k).unwrap().1.clone();
        assert_eq!(get("k6_http_reqs_total"), Written::Counter { metric: "http_reqs".into() });
        assert_eq!(get("k6_http_req_failed_rate"), Written::Rate { metric: "http_req_failed".into() });
        assert_eq!(get("k6_vus"), Written::Gauge { metric: "vus".into() });
        assert_eq!(
            get("k6_http_req_duration_seconds"),
            Written::Histogram { metric: "http_req_duration".into(), time: true }
        );
        assert_eq!(
            get("k6_order_latency_p99"),
            Written::TrendStat { metric: "order_latency".into(), stat: "p99".into() }
        );
        // A lone name ending like a stat is a gauge.
        assert_eq!(get("k6_cart_max"), Written::Gauge { metric: "cart_max".into() });
    }

    #[test]
    fn pushes_become_samples() {
        // Hand-made responses in the API's shape (the real server is in the CLI's tests).
        let reqs = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"k6_http_reqs_total","status":"200"},"values":[[100,"3"],[105,"10"]]}]}}"#;
        let failed = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"k6_http_req_failed_rate","status":"200"},"values":[[100,"0.3333333333333333"],[105,"0.2"]]},{"metric":{"status":"500"},"values":[[105,"1"]]}]}}"#;
        let dur = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"status":"200"},"histograms":[[100,{"count":"3","sum":"0.03","buckets":[[0,"0.0078125","0.008519591661447326","3"]]}],[105,{"count":"10","sum":"0.2","buckets":[[0,"0.0078125","0.008519591661447326","3"],[0,"0.03125","0.03407836664578932","7"]]}]]}]}}"#;
        let mut agg = Aggregator::new(AggregatorOptions::default());
        let r = parse_matrix(reqs, "q").unwrap();
        assert_eq!(feed_counter(&mut agg, "http_reqs", &r), 2);
        let left = feed_weighted_rate(&mut agg, "http_req_failed", &parse_matrix(failed, "q").unwrap(), &r);
        assert_eq!(left.len(), 1, "no counter for status 500");
        assert_eq!(feed_histogram(&mut agg, "http_req_duration", true, &parse_matrix(dur, "q").unwrap()), 10);
        let s = assemble(Some((agg, "prometheus".into())), None).summary;
        assert_eq!(s.series["http_reqs"].values["count"], 10.0);
        assert_eq!(
            (s.series["http_req_failed"].values["passes"], s.series["http_req_failed"].values["fails"]),
            (2.0, 8.0)
        );
        assert_eq!(s.series["http_req_duration"].values["count"], 10.0);
        let max = s.series["http_req_duration"].values["max"];
        assert!((31.25..34.08).contains(&max), "{max}");
        let e = parse_matrix(br#"{"status":"error","error":"parse error"}"#, "http://p/api").unwrap_err().to_string();
        assert!(e.contains("http://p/api") && e.contains("parse error"), "{e}");
    }

    /// Found by the fuzz target `prometheus_response`: a bucket counting 661
    /// million observations took minutes (one sample added per observation).
    /// Now a bucket's observations are added in one step, and counted exactly.
    #[test]
    fn a_histogram_bucket_of_a_billion_observations_is_one_step() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"status":"200"},"histograms":[[100,{"count":"1000000000","sum":"7.5e6","buckets":[[0,"0.0078125","0.008519591661447326","1000000000"]]}]]}]}}"#;
        let mut agg = crate::k6::Aggregator::new(crate::k6::AggregatorOptions::default());
        let t0 = std::time::Instant::now();
        let n = feed_histogram(&mut agg, "http_req_duration", true, &parse_matrix(body, "q").unwrap());
        assert_eq!(n, 1_000_000_000);
        assert!(t0.elapsed() < std::time::Duration::from_secs(2), "{:?}", t0.elapsed());
        let s = crate::k6::assemble(Some((agg, "prometheus".into())), None).summary;
        let v = &s.series["http_req_duration"].values;
        assert_eq!(v["count"], 1e9);
        let mid = (0.0078125f64 * 0.008519591661447326).sqrt() * 1000.0;
        assert!((v["avg"] - mid).abs() < 1e-9 * mid, "{v:?}");
        assert!((v["p(95)"] - mid).abs() <= 0.01 * mid, "{v:?}");
    }

    /// Found by the fuzz target `prometheus_response`: bucket counts near
    /// 2^64 (a count of "1e19" is a float) overflowed the sum of
    /// observations fed. A bucket's new observations are bounded at 2^32 per
    /// push (no k6 run makes more in one push interval), the sums saturate.
    #[test]
    fn bucket_counts_past_u64_neither_overflow_nor_panic() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"status":"600"},"histograms":[[100,{"count":"3","sum":"0.03","buckets":[[0,"0.0078125","0.69E5166145","0.69E51661447326"],[0,"0.83320","0.0340783666458957916691661491661447326","3"],[0,"0.02529","0.03407836664578932","1e19"],[0,"0.5","0.6","1e30"]]}]]}]}}"#;
        let mut agg = crate::k6::Aggregator::new(crate::k6::AggregatorOptions::default());
        let n = feed_histogram(&mut agg, "http_req_duration", true, &parse_matrix(body, "q").unwrap());
        assert!(n >= 2 << 32, "{n}");
        let s = crate::k6::assemble(Some((agg, "prometheus".into())), None).summary;
        assert!(s.series["http_req_duration"].values["count"] >= (2u64 << 32) as f64);
    }

    #[test]
    fn trend_stats_combine_exactly_over_label_sets() {
        let series = |stat: &str, a: f64, b: f64| {
            let one = |status: &str, v: f64| RawSeries {
                labels: [("status".to_string(), status.to_string())].into(),
                samples: vec![(100.0, v)],
                histograms: Vec::new(),
            };
            (stat.to_string(), vec![one("200", a), one("500", b)])
        };
        let stats: BTreeMap<String, BTreeMap<String, Vec<RawSeries>>> = [
            (
                "order_latency".to_string(),
                [series("count", 3.0, 1.0), series("avg", 2.0, 6.0), series("min", 1.0, 6.0), series("p99", 3.0, 6.0)]
                    .into(),
            ),
            ("cart_size".to_string(), [series("min", 4.0, 2.0), series("max", 5.0, 9.0)].into()),
        ]
        .into();
        let mut s = K6Summary::empty();
        finish_trend_stats(&mut s, &stats);
        // No max given: none; percentiles do not combine.
        let v = &s.series["order_latency"].values;
        assert_eq!(v, &BTreeMap::from([("count".into(), 4.0), ("avg".into(), 3.0), ("min".into(), 1.0)]));
        assert_eq!(s.series["order_latency{status:500}"].values["p(99)"], 6.0);
        // No count: min and max only.
        let v = &s.series["cart_size"].values;
        assert_eq!(v, &BTreeMap::from([("min".into(), 2.0), ("max".into(), 9.0)]));
    }
}
