#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::ingest::influx;
use perfbundle_core::k6::{Aggregator, AggregatorOptions};

fuzz_target!(|data: &[u8]| {
    let mut agg = Aggregator::new(AggregatorOptions::default());
    let _ = influx::ingest_response(data, "fuzz", &mut agg);
    let _ = agg.finish(None);
});
