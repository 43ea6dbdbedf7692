#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::ingest::prometheus;
use perfbundle_core::k6::{Aggregator, AggregatorOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(series) = prometheus::parse_matrix(data, "fuzz") else { return };
    let mut agg = Aggregator::new(AggregatorOptions::default());
    prometheus::feed_counter(&mut agg, "http_reqs", &series);
    prometheus::feed_gauge(&mut agg, "vus", &series);
    prometheus::feed_histogram(&mut agg, "http_req_duration", true, &series);
    let _ = agg.finish(None);
});
