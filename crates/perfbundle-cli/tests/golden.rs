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

/// `PERFBUNDLE_BLESS=1`: write the expected figures from what `inspect --json`
/// gives now, instead of only comparing; a reviewer then sees any change of
/// figures as a diff of `archives/expected/`. (The k6-agreement tests stay the
/// independent oracle: they compare with k6's own summaries.)
fn bless() -> bool {
    std::env::var_os("PERFBUNDLE_BLESS").is_some_and(|v| v == "1")
}

/// Keys sorted at every level, as the expected files keep them.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&m[k]))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn write_expected(name: &str, what: &str, v: &Value) {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&sorted(v), &mut ser).expect("serialize");
    out.push(b'\n');
    let path = repo_root().join("archives/expected").join(format!("{name}.{what}.json"));
    // Unchanged figures keep their file as it is (numbers may be spelled differently).
    let same =
        std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok()).is_some_and(|old| old == *v);
    if !same {
        std::fs::write(&path, out).expect("write expected");
    }
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
        if bless() {
            write_expected(&name, "metrics", &j["k6"]["metrics"]);
            let profiles = serde_json::json!({"profiles": j["profiles"], "timelines": j["timelines"]});
            write_expected(&name, "profiles", &profiles);
        }
        let expected: Value = serde_json::from_slice(
            &std::fs::read(repo_root().join("archives/expected").join(format!("{name}.metrics.json")))
                .unwrap_or_else(|_| panic!("archives/expected/{name}.metrics.json is missing: a new archive's expected figures are written by `PERFBUNDLE_BLESS=1 cargo test -p perfbundle-cli --test golden`")),
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
        // The human view names the thresholds (every one the bundle holds) and the main metrics.
        let text = String::from_utf8(run(&["inspect", b.to_str().expect("utf-8")], true).stdout).expect("utf-8");
        let thresholds = j["k6"]["thresholds"].as_array().expect("thresholds");
        assert!(!thresholds.is_empty(), "{name}: no thresholds");
        for t in thresholds {
            let expr = t["expr"].as_str().expect("expr");
            assert!(text.contains(expr), "{name}: inspect lacks the threshold {expr}");
        }
        for needle in ["THRESHOLDS", "http_req_duration", "http_reqs", "checks_succeeded"] {
            assert!(text.contains(needle), "{name}: inspect lacks {needle}");
        }
    }
}

/// The k6-only examples were packed with `--keep-raw` (archives/make.sh): each
/// holds the very files it was made from under `raw/`, named in its manifest
/// with their SHA-256. Unpacked, returns (manifest, folder).
fn unpack_raw(name: &str) -> (Value, std::path::PathBuf) {
    let b = repo_root().join(format!("archives/{name}.perfbundle"));
    let dir = tmpdir(&format!("golden-{name}"));
    let dest = dir.join("out");
    run(&["unpack", b.to_str().expect("utf-8"), "-C", dest.to_str().expect("utf-8")], true);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).expect("manifest")).expect("json");
    (manifest, dest)
}

/// The raw copy of the input of `kind`, checked against the manifest's size and SHA-256.
fn raw_input(manifest: &Value, dest: &std::path::Path, kind: &str) -> std::path::PathBuf {
    use sha2::Digest;
    let input = manifest["inputs"].as_array().expect("inputs").iter().find(|i| i["kind"] == kind).expect(kind);
    let path = dest.join(input["raw_entry"].as_str().expect("raw_entry"));
    let bytes = std::fs::read(&path).expect("raw input unpacked");
    assert_eq!(Some(bytes.len() as u64), input["size"].as_u64(), "{kind}: size");
    assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), input["sha256"].as_str().expect("sha256"), "{kind}: sha256");
    path
}

#[test]
fn archived_figures_are_k6s() {
    // The examples were packed from k6-only runs of the orders-api corpus; their
    // figures are k6's own, as written in the summary-export they keep under raw/.
    for v in ["v1", "v2"] {
        let name = format!("orders-api-{v}-k6");
        let j = inspect_json(&repo_root().join(format!("archives/{name}.perfbundle")));
        let (manifest, dest) = unpack_raw(&name);
        let export: Value =
            serde_json::from_slice(&std::fs::read(raw_input(&manifest, &dest, "k6-summary-export")).expect("read"))
                .expect("json");
        let ours = &j["k6"]["metrics"];
        assert_eq!(
            ours["http_reqs"]["values"]["count"],
            export["metrics"]["http_reqs"]["count"].as_f64().map(Value::from).expect("count")
        );
        let p95 = ours["http_req_duration"]["values"]["p(95)"].as_f64().expect("p95");
        let k6_p95 = export["metrics"]["http_req_duration"]["p(95)"].as_f64().expect("k6 p95");
        assert!((p95 - k6_p95).abs() < 1e-9 * k6_p95, "{v}: {p95} vs {k6_p95}");
        for (k6_key, key) in [("passes", "passes"), ("fails", "fails"), ("value", "rate")] {
            assert_eq!(
                ours["checks"]["values"][key].as_f64(),
                export["metrics"]["checks"][k6_key].as_f64(),
                "{v}: checks {key}"
            );
        }
    }
}

#[test]
fn unpack_gives_back_the_raw_inputs() {
    let (manifest, dest) = unpack_raw("orders-api-v1-k6");
    // The raw stream is byte for byte the input the manifest names (size and SHA-256).
    let stream = raw_input(&manifest, &dest, "k6-json");
    let summary = raw_input(&manifest, &dest, "k6-summary-export");
    assert!(
        dest.join("manifest.json").is_file()
            && dest.join("k6/summary.json").is_file()
            && dest.join("k6/timeseries.json").is_file()
    );
    // Packed again, the raw inputs give the archive's own figures.
    let again = dest.join("again.perfbundle");
    run(&["pack", "-o", again.to_str().unwrap(), stream.to_str().unwrap(), summary.to_str().unwrap()], true);
    let archived = inspect_json(&repo_root().join("archives/orders-api-v1-k6.perfbundle"));
    let repacked = inspect_json(&again);
    assert_eq!(repacked["k6"]["metrics"], archived["k6"]["metrics"]);
    assert_eq!(repacked["manifest"]["run"], archived["manifest"]["run"]);
}
