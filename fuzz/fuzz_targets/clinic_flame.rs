#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::profile::clinic_flame;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = clinic_flame::ingest(data, "fuzz", "fuzz") {
        p.validate().expect("an ingested profile is valid");
        let _ = p.functions();
    }
});
