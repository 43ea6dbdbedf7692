#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::profile::perf;

fuzz_target!(|data: &[u8]| {
    if let Ok((p, _)) = perf::ingest_capped(data, "fuzz", "fuzz", 1 << 16) {
        p.validate().expect("an ingested profile is valid");
        let _ = p.functions();
        let _ = p.folded(true);
    }
});
