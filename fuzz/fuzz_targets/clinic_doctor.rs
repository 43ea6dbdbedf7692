#![no_main]
//! The three files of a Clinic.js doctor folder: the binary processstat
//! stream (protobuf), the trace events and the systeminfo (JSON). The input
//! is split at the first two 0xff bytes into the three.
use libfuzzer_sys::fuzz_target;
use perfbundle_core::timeline;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0xff);
    let ps = parts.next().unwrap_or_default();
    let te = parts.next();
    let si = parts.next();
    if let Ok(t) = timeline::clinic_doctor("fuzz", ps, "fuzz", te, si) {
        t.validate().expect("an ingested timeline is valid");
        t.check_finite().expect("an ingested timeline is finite");
    }
});
