#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::profile::folded;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = folded::ingest_capped(data, "fuzz", "fuzz", 1 << 16) {
        p.validate().expect("an ingested profile is valid");
        let _ = p.functions();
        let mut out = Vec::new();
        p.write_folded(false, &mut out).expect("write to memory");
    }
});
