#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::bundle::{Bundle, ReadLimits};

fuzz_target!(|data: &[u8]| {
    let _ = Bundle::from_bytes(data, "fuzz", &ReadLimits::default().with_max_total_bytes(64 << 20));
});
