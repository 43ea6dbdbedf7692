#![no_main]
//! k6 threshold expressions and `diff --fail-if` gates, both typed by users
//! (and thresholds read from untrusted k6 outputs and bundles).
use libfuzzer_sys::fuzz_target;
use perfbundle_core::{compare, threshold};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = threshold::parse(s);
    let _ = threshold::percentile_of(s);
    let _ = threshold::percentile_from_key(s);
    let values = [("avg".to_string(), 1.0), ("p(95)".to_string(), 2.0), ("rate".to_string(), 0.5)].into_iter().collect();
    let _ = threshold::evaluate(s, &values);
    let _ = compare::gate::parse(s);
});
