//! The released example bundles in `archives/` are read by every later
//! version: a change that breaks reading them, or changes their figures,
//! fails here. Never edit a released bundle; add new ones.

mod common;

use common::*;
use serde_json::Value;

fn bundles() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(repo_root().join("archives"))
        .expect("archives/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "perfbundle"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_archive_verifies_and_keeps_its_figures() {
    let all = bundles();
    assert!(all.len() >= 2, "archives/ should hold the v1 and v2 examples");
    for b in all {
        let name = b.file_stem().expect("name").to_string_lossy().into_owned();
        let o = run(&["verify", b.to_str().expect("utf-8")], true);
        assert!(String::from_utf8_lossy(&o.stdout).contains(": OK"), "{name}");
        let j = inspect_json(&b);
        let expected: Value = serde_json::from_slice(
            &std::fs::read(repo_root().join("archives/expected").join(format!("{name}.metrics.json")))
                .expect("expected file"),
        )
        .expect("json");
        let got = j["k6"]["metrics"].as_object().expect("k6.metrics");
        let want = expected.as_object().expect("expected object");
        assert_eq!(got.len(), want.len(), "{name}: number of series changed");
        for (key, w) in want {
            assert_eq!(got.get(key), Some(w), "{name}: {key} changed");
        }
        let expected_profiles: Value = serde_json::from_slice(
            &std::fs::read(repo_root().join("archives/expected").join(format!("{name}.profiles.json")))
                .expect("expected profiles file"),
        )
        .expect("json");
        assert_eq!(j["profiles"], expected_profiles["profiles"], "{name}: profiles changed");
        assert_eq!(j["timelines"], expected_profiles["timelines"], "{name}: timelines changed");
        // The human view names the thresholds and the main metrics.
        let text = String::from_utf8(run(&["inspect", b.to_str().expect("utf-8")], true).stdout).expect("utf-8");
        for needle in ["THRESHOLDS", "p(95)<250", "http_req_duration", "http_reqs", "checks_succeeded"] {
            assert!(text.contains(needle), "{name}: inspect lacks {needle}");
        }
    }
}

#[test]
fn archived_figures_are_k6s() {
    // The examples were packed from the corpus' k6-only runs; their figures are k6's own.
    for v in ["v1", "v2"] {
        let b = repo_root().join(format!("archives/orders-api-{v}-k6.perfbundle"));
        let j = inspect_json(&b);
        let export: Value = serde_json::from_slice(
            &std::fs::read(corpus().join(format!("runs/{v}/k6-only/summary-export.json"))).expect("read"),
        )
        .expect("json");
        let ours = &j["k6"]["metrics"];
        assert_eq!(
            ours["http_reqs"]["values"]["count"],
            export["metrics"]["http_reqs"]["count"].as_f64().map(Value::from).expect("count")
        );
        let p95 = ours["http_req_duration"]["values"]["p(95)"].as_f64().expect("p95");
        let k6_p95 = export["metrics"]["http_req_duration"]["p(95)"].as_f64().expect("k6 p95");
        assert!((p95 - k6_p95).abs() < 1e-9 * k6_p95, "{v}: {p95} vs {k6_p95}");
    }
}

#[test]
fn unpack_gives_back_the_raw_inputs() {
    let b = repo_root().join("archives/orders-api-v1-k6.perfbundle");
    let dir = tmpdir("golden-unpack");
    let dest = dir.join("out");
    run(&["unpack", b.to_str().expect("utf-8"), "-C", dest.to_str().expect("utf-8")], true);
    let raw = std::fs::read(dest.join("raw/0/k6.json.gz")).expect("raw stream unpacked");
    let orig = std::fs::read(corpus().join("runs/v1/k6-only/k6.json.gz")).expect("corpus stream");
    assert_eq!(raw, orig);
    assert!(
        dest.join("manifest.json").is_file()
            && dest.join("k6/summary.json").is_file()
            && dest.join("k6/timeseries.json").is_file()
    );
}
