#![no_main]
use libfuzzer_sys::fuzz_target;
use perfbundle_core::align;
use perfbundle_core::profile::cpuprofile;

// k6 stream bytes for the request times, a .cpuprofile after a NUL byte:
// pack --align reads both from files it was given.
fuzz_target!(|data: &[u8]| {
    let (stream, profile) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let Ok((requests, _)) = align::k6_request_times(stream, "fuzz", false, 1 << 16) else { return };
    let _ = align::k6_request_times(stream, "fuzz", true, 1 << 16);
    if let Ok(mut p) = cpuprofile::ingest(profile, "fuzz", "fuzz") {
        let run = requests.first().zip(requests.last()).map(|(a, b)| (*a, *b));
        if let align::Outcome::Aligned { offset_us, .. } = align::auto(&p, &requests, run, &[]) {
            align::apply(&mut p, offset_us);
        }
    }
});
