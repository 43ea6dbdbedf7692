#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::profile::cpuprofile;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = cpuprofile::ingest(data, "fuzz", "fuzz") {
        // What pack and the views do with a profile must not panic either.
        p.validate().expect("an ingested profile is valid");
        let _ = p.functions();
        let _ = p.folded(true);
    }
});
