#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::profile::pprof;

fuzz_target!(|data: &[u8]| {
    // Detection sees the same bytes first; neither may panic.
    let _ = pprof::looks_like(data);
    if let Ok(p) = pprof::ingest(data, "fuzz", "fuzz") {
        p.validate().expect("an ingested profile is valid");
        let _ = p.functions();
        let _ = p.folded(true);
    }
});
