#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::profile::speedscope;

fuzz_target!(|data: &[u8]| {
    let _ = speedscope::looks_like(data);
    if let Ok(profiles) = speedscope::ingest(data, "fuzz", "fuzz") {
        for p in &profiles {
            p.validate().expect("an ingested profile is valid");
            let _ = p.folded(true);
        }
        // And back out: what export --speedscope writes.
        let refs: Vec<_> = profiles.iter().collect();
        let mut out = Vec::new();
        speedscope::write(&refs, "fuzz", &mut out).expect("writing to memory");
    }
});
