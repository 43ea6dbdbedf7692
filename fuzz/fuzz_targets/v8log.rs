#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::profile::v8log;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = v8log::ingest(data, "fuzz", "fuzz") {
        p.validate().expect("an ingested profile is valid");
        let _ = p.functions();
    }
});
