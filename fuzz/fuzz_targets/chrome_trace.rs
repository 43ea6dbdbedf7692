#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::profile::chrome_trace;

fuzz_target!(|data: &[u8]| {
    let _ = chrome_trace::looks_like(data);
    if let Ok((profiles, _)) = chrome_trace::ingest(data, "fuzz", "fuzz") {
        for p in profiles {
            p.validate().expect("an ingested profile is valid");
            let _ = p.functions();
            let _ = p.folded(true);
            let _ = p.in_range(i64::MIN / 2, i64::MAX / 2);
        }
    }
});
