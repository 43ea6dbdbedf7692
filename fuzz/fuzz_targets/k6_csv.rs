#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::ingest::k6_csv::ingest;
use perfbundle_core::ingest::k6_json::JsonOptions;
use perfbundle_core::k6::{Aggregator, AggregatorOptions};

fuzz_target!(|data: &[u8]| {
    let mut agg = Aggregator::new(AggregatorOptions::default());
    let _ = ingest(data, "fuzz", &mut agg, &JsonOptions::default());
    let _ = agg.finish(None);
});
