//! The numbers agree with k6: for every corpus run that has both a point
//! stream and k6's own end-of-test summary, pack the stream and compare what
//! `inspect --json` prints with what k6 wrote.

mod common;

use common::*;
use serde_json::Value;

fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-12)
}

/// Compares one metric's values with k6's. `rate_ok`: whether k6's summary was packed too, so
/// counters' `rate` (it needs k6's test duration) and extra percentiles can be compared.
fn compare(run: &str, name: &str, ours: &Value, k6: &serde_json::Map<String, Value>, rate_ok: bool) -> usize {
    let mut checked = 0;
    let vals = ours["values"].as_object().unwrap_or_else(|| panic!("{run}: {name}: no values"));
    for (key, want) in k6 {
        let Some(want) = want.as_f64() else { continue };
        let (key, want) = match key.as_str() {
            // summary-export names a rate's ratio `value`.
            "value" if vals.contains_key("passes") => ("rate", want),
            k => (k, want),
        };
        if key == "rate" && ours["type"] == "counter" && !rate_ok {
            continue;
        }
        // Which extra percentiles k6 printed (summaryTrendStats) only its summary says.
        if !rate_ok && key.starts_with("p(") && !["p(90)", "p(95)", "p(99)"].contains(&key) {
            continue;
        }
        let got =
            vals.get(key).and_then(Value::as_f64).unwrap_or_else(|| panic!("{run}: {name}: no {key} (have {vals:?})"));
        let tol = match key {
            "count" | "passes" | "fails" => 0.0,
            k if k.starts_with("p(") => 0.01,
            _ => 1e-9,
        };
        assert!(close(got, want, tol), "{run}: {name} {key}: perfbundle {got}, k6 {want}");
        // Small runs keep every value, so percentiles are k6's to the rounding.
        if key.starts_with("p(") {
            assert!(close(got, want, 1e-9), "{run}: {name} {key}: perfbundle {got}, k6 {want} (exact expected)");
        }
        checked += 1;
    }
    checked
}

#[test]
fn every_run_agrees_with_k6_summary_export() {
    let runs = all_runs();
    assert!(runs.len() >= 11, "expected the corpus' runs, found {}", runs.len());
    let dir = tmpdir("agree");
    for run in runs {
        let label = run.strip_prefix(corpus()).unwrap_or(&run).display().to_string();
        let label = label.rsplit("/tests/").next().unwrap_or(&label).to_string();
        let export: Value =
            serde_json::from_slice(&std::fs::read(run.join("summary-export.json")).expect("read")).expect("json");
        let k6_metrics = export["metrics"].as_object().expect("metrics");

        for with_summary in [false, true] {
            let out = dir.join(format!("{}-{with_summary}.perfbundle", label.replace('/', "_")));
            let stream = run.join("k6.json.gz");
            let summary = run.join("summary-export.json");
            let mut args = vec!["pack", "-o", out.to_str().unwrap(), stream.to_str().unwrap()];
            if with_summary {
                args.push(summary.to_str().unwrap());
            }
            run_ok(&args);
            let j = inspect_json(&out);
            let ours = j["k6"]["metrics"].as_object().expect("k6.metrics");
            let mut checked = 0;
            for (name, m) in k6_metrics {
                let theirs = m.as_object().expect("metric object");
                let mine = ours.get(name).unwrap_or_else(|| panic!("{label}: {name} missing from inspect --json"));
                checked += compare(&label, name, mine, theirs, with_summary);
                if let Some(th) = theirs.get("thresholds").and_then(Value::as_object) {
                    for (expr, crossed) in th {
                        let ok = &mine["thresholds"][expr]["ok"];
                        if !with_summary && name.contains('{') {
                            // k6's point stream does not carry sub-metric thresholds.
                            assert!(ok.is_null(), "{label}: {name} '{expr}' cannot be known");
                            continue;
                        }
                        assert_eq!(ok.as_bool(), Some(!crossed.as_bool().expect("bool")), "{label}: {name} '{expr}'");
                    }
                }
            }
            assert!(checked > 40, "{label}: only {checked} values compared");

            // Checks, group by group: the stream's own counts equal k6's.
            let mut theirs = Vec::new();
            flatten_checks(&export["root_group"], &mut theirs);
            let mut mine = Vec::new();
            flatten_checks(&j["k6"]["checks"], &mut mine);
            theirs.sort();
            mine.sort();
            assert!(!theirs.is_empty(), "{label}: k6 reports no checks");
            assert_eq!(mine, theirs, "{label}: checks");
        }
    }
}

/// (check path, passes, fails) of every check in a group tree; `checks` and
/// `groups` may be objects (summary-export) or arrays (handleSummary, ours).
fn flatten_checks(g: &Value, out: &mut Vec<(String, u64, u64)>) {
    let items = |v: &Value| -> Vec<Value> {
        match v {
            Value::Array(a) => a.clone(),
            Value::Object(o) => o.values().cloned().collect(),
            _ => Vec::new(),
        }
    };
    for c in items(&g["checks"]) {
        out.push((
            c["path"].as_str().unwrap_or_default().to_string(),
            c["passes"].as_u64().unwrap_or(0),
            c["fails"].as_u64().unwrap_or(0),
        ));
    }
    for sub in items(&g["groups"]) {
        flatten_checks(&sub, out);
    }
}

/// The corpus runs, plus the real k6 captures under tests/fixtures (groups,
/// scenarios, custom metrics and tags, failing thresholds).
fn all_runs() -> Vec<std::path::PathBuf> {
    let mut runs = runs_with_stream_and_summary();
    runs.push(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k6-shop"));
    runs
}

fn run_ok(args: &[&str]) {
    run(args, true);
}

#[test]
fn handle_summary_and_csv_agree_too() {
    for v in ["v1", "v2"] {
        let run = corpus().join("runs").join(v).join("k6-only");
        let hs: Value =
            serde_json::from_slice(&std::fs::read(run.join("handle-summary.json")).expect("read")).expect("json");
        let dir = tmpdir(&format!("hs-{v}"));

        // JSON stream + handleSummary: every value k6 computed, with its own test duration.
        let out = dir.join("a.perfbundle");
        run_ok(&[
            "pack",
            "-o",
            out.to_str().unwrap(),
            run.join("k6.json.gz").to_str().unwrap(),
            run.join("handle-summary.json").to_str().unwrap(),
        ]);
        let j = inspect_json(&out);
        for (name, m) in hs["metrics"].as_object().expect("metrics") {
            let theirs = m["values"].as_object().expect("values");
            let mine = &j["k6"]["metrics"][name];
            assert_eq!(mine["type"], m["type"], "{v}: {name} type");
            compare(v, name, mine, theirs, true);
        }
        assert_eq!(j["manifest"]["run"]["duration_ms"], hs["state"]["testRunDurationMs"]);

        // CSV alone: the same counts; values are printed with 6 decimals, so means agree to that.
        // k6's CSV has no metric types: pack names each custom metric it had to guess, and
        // --metric-type gives it the type k6 reports (handleSummary data), as the warning says.
        let csv = run.join("k6.csv.gz");
        let out = dir.join("csv-untyped.perfbundle");
        let warned = stderr(&common::run(&["pack", "-o", out.to_str().unwrap(), csv.to_str().unwrap()], true));
        let mut hints = Vec::new();
        for line in warned.lines().filter(|l| l.contains(": no type declared in the input")) {
            let name = line.split("metric ").nth(1).and_then(|r| r.split(':').next()).expect("metric name");
            let kind = hs["metrics"][name]["type"].as_str().unwrap_or_else(|| panic!("{v}: {name} is not k6's"));
            assert!(line.contains(&format!("--metric-type {name}=KIND")), "{line}");
            hints.push(format!("{name}={kind}"));
        }
        let out = dir.join("csv.perfbundle");
        let mut args = vec!["pack", "-o", out.to_str().unwrap(), csv.to_str().unwrap()];
        for h in &hints {
            args.extend(["--metric-type", h.as_str()]);
        }
        let typed = stderr(&common::run(&args, true));
        assert!(!typed.contains("no type declared"), "{v}: {typed}");
        let j = inspect_json(&out);
        for (name, m) in hs["metrics"].as_object().expect("metrics") {
            let mine =
                j["k6"]["metrics"][name]["values"].as_object().unwrap_or_else(|| panic!("{v}: csv lacks {name}"));
            assert_eq!(j["k6"]["metrics"][name]["type"], m["type"], "{v}: csv {name} type");
            for key in ["count", "passes", "fails"] {
                if let Some(want) = m["values"][key].as_f64() {
                    assert_eq!(mine[key].as_f64(), Some(want), "{v}: csv {name} {key}");
                }
            }
            for key in ["avg", "min", "max", "med"] {
                if let (Some(want), Some(got)) = (m["values"][key].as_f64(), mine.get(key).and_then(Value::as_f64)) {
                    assert!((got - want).abs() <= 1e-6 + 1e-6 * want.abs(), "{v}: csv {name} {key}: {got} vs {want}");
                }
            }
        }
    }
}
