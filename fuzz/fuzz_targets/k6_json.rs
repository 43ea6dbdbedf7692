#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::ingest::k6_json::{ingest, JsonOptions};
use perfbundle_core::k6::{Aggregator, AggregatorOptions};

fuzz_target!(|data: &[u8]| {
    for lenient in [false, true] {
        let mut agg = Aggregator::new(AggregatorOptions::default());
        let _ = ingest(data, "fuzz", &mut agg, &JsonOptions::lenient(lenient));
        let _ = agg.finish(None);
    }
});
