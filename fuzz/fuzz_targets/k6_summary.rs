#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::ingest::{detect, k6_summary, InputKind};

fuzz_target!(|data: &[u8]| {
    let _ = detect(data, true);
    let _ = k6_summary::parse(data, "fuzz", InputKind::K6SummaryExport);
    let _ = k6_summary::parse(data, "fuzz", InputKind::K6HandleSummary);
});
