//! The core reads every released bundle in `archives/` from bytes, as the
//! viewer will, and its model holds together.

use perfbundle_core::bundle::{Bundle, ReadLimits};
use perfbundle_core::histogram::LogHistogram;

#[test]
fn reads_every_archive_from_bytes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../archives");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("archives/") {
        let p = e.expect("entry").path();
        if p.extension().is_none_or(|x| x != "perfbundle") {
            continue;
        }
        n += 1;
        let bytes = std::fs::read(&p).expect("read");
        let b = Bundle::from_bytes(&bytes, &p.display().to_string(), &ReadLimits::default()).expect("readable");
        assert!(b.manifest.format_version.starts_with("1."));
        let s = b.k6_summary.expect("k6 summary");
        let ts = b.k6_timeseries.expect("k6 time series");
        assert!(ts.buckets > 0 && ts.buckets <= 2000);
        // Every trend series' buckets add up to its sample count, and their
        // merged histogram gives the whole run's median within its accuracy.
        for (key, series) in &ts.series {
            let total: u64 = series.n.iter().sum();
            assert_eq!(total, s.series[key].samples, "{key}");
            if !series.hist.is_empty() {
                let mut whole = LogHistogram::new(ts.relative_accuracy);
                for h in &series.hist {
                    whole.merge(&LogHistogram::from_stored(h, ts.relative_accuracy).expect("histogram"));
                }
                assert_eq!(whole.count(), total, "{key}");
                let v = &s.series[key].values;
                let med = whole.percentile(0.5, v["min"], v["max"]).expect("median");
                let tol = 2.0 * ts.relative_accuracy * v["med"].abs() + 1e-9;
                assert!((med - v["med"]).abs() <= tol, "{key}: {med} vs {}", v["med"]);
            }
        }
    }
    assert!(n >= 2);
}
