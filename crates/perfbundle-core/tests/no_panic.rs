//! Every parser of untrusted bytes returns an error, never panics, on
//! arbitrary and on damaged input (the CI-run complement of `fuzz/`).

use perfbundle_core::bundle::{Bundle, ReadLimits};
use perfbundle_core::ingest::k6_json::{self, JsonOptions};
use perfbundle_core::ingest::{detect, k6_csv, k6_summary, InputKind};
use perfbundle_core::k6::{Aggregator, AggregatorOptions};
use proptest::prelude::*;

const K6_LINES: &str = r#"{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time","thresholds":["p(95)<250"],"submetrics":[{"name":"http_req_duration{expected_response:true}","suffix":"expected_response:true","tags":{"expected_response":"true"}}]},"metric":"http_req_duration"}
{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-24T19:50:03.602411393Z","value":0.555546,"tags":{"error_code":"1500","expected_response":"false","group":"","method":"GET","name":"http://127.0.0.1:18080/flaky","proto":"HTTP/1.1","scenario":"default","status":"500","url":"http://127.0.0.1:18080/flaky"}}}
{"metric":"checks","type":"Point","data":{"time":"2026-11-24T19:50:03.534327249Z","value":1,"tags":{"check":"status is 200","group":"","scenario":"default"}}}
{"metric":"vus","type":"Point","data":{"time":"2026-11-24T19:50:04.515826062Z","value":1,"tags":{}}}
"#;

fn feed_all(bytes: &[u8]) {
    for lenient in [false, true] {
        let mut a = Aggregator::new(AggregatorOptions::default());
        let _ = k6_json::ingest(bytes, "f", &mut a, &JsonOptions::lenient(lenient));
        let _ = a.finish(None);
        let mut a = Aggregator::new(AggregatorOptions::default());
        let _ = k6_csv::ingest(bytes, "f", &mut a, &JsonOptions::lenient(lenient));
        let _ = a.finish(Some(1.0));
    }
    let _ = k6_summary::parse(bytes, "f", InputKind::K6SummaryExport);
    let _ = k6_summary::parse(bytes, "f", InputKind::K6HandleSummary);
    let _ = detect(bytes, true);
    let _ = detect(bytes, false);
    let _ = Bundle::from_bytes(bytes, "f", &ReadLimits::default());
    if let Ok(s) = std::str::from_utf8(bytes) {
        let _ = perfbundle_core::time::parse_rfc3339_ns(s);
        let _ = perfbundle_core::threshold::parse(s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        feed_all(&bytes);
    }

    #[test]
    fn damaged_k6_lines(pos in 0usize..K6_LINES.len(), byte in any::<u8>(), cut in 0usize..K6_LINES.len()) {
        let mut b = K6_LINES.as_bytes().to_vec();
        b[pos] = byte;
        feed_all(&b);
        feed_all(&K6_LINES.as_bytes()[..cut]);
    }

    #[test]
    fn extreme_values_and_times(v in any::<f64>(), secs in any::<i64>(), name in "[a-z{}:,]{0,12}") {
        let mut opts = AggregatorOptions::default();
        opts.max_buckets = 10;
        let mut a = Aggregator::new(opts);
        a.add_point(&name, secs, v, &[("name", "x")]);
        a.add_point(&name, secs.wrapping_neg(), -v, &[("name", "y")]);
        a.add_point("http_req_duration", secs / 2, v, &[]);
        let out = a.finish(None);
        prop_assert!(out.timeseries.buckets <= 10 || out.timeseries.bucket_ms > 86_400_000);
        prop_assert!(out.timeseries.validate().is_ok());
        // Whatever went in, the model serializes and reads back.
        let json = serde_json::to_vec(&out.timeseries).unwrap();
        let back: perfbundle_core::k6::K6TimeSeries = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(back.series.len(), out.timeseries.series.len());
        for s in out.series.values() {
            let v = serde_json::to_vec(s).unwrap();
            let back: perfbundle_core::k6::SeriesSummary = serde_json::from_slice(&v).unwrap();
            prop_assert_eq!(&back.values, &s.values);
        }
    }
}
