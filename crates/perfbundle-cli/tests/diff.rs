//! `perfbundle diff` as a process, on bundles packed from the corpus's real
//! v1 and v2 runs (k6 point streams, k6 summaries, `node --cpu-prof` profiles).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use serde_json::Value;

/// Packs a corpus run folder (`v1/cpu-prof`) into `dir`.
fn pack_run(dir: &Path, run: &str) -> PathBuf {
    let out = dir.join(format!("{}.perfbundle", run.replace('/', "-")));
    let src = corpus().join("runs").join(run);
    let label = format!("version={}", &run[..2]);
    run_ok(&["pack", "-o", out.to_str().unwrap(), "--label", &label, src.to_str().unwrap()]);
    out
}

fn run_ok(args: &[&str]) -> Output {
    run(args, true)
}

fn diff(args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["diff", "--json"];
    all.extend_from_slice(args);
    let out = bin().args(&all).output().expect("run perfbundle");
    let code = out.status.code().expect("exit code");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (code, json, stderr(&out))
}

struct Pair {
    _dir: PathBuf,
    v1: PathBuf,
    v2: PathBuf,
}

fn cpu_prof_pair(name: &str) -> Pair {
    let dir = tmpdir(name);
    let v1 = pack_run(&dir, "v1/cpu-prof");
    let v2 = pack_run(&dir, "v2/cpu-prof");
    Pair { _dir: dir, v1, v2 }
}

/// `diff --markdown --with-idle` of the pair into `md/` beside its bundles: the folder.
fn markdown_report(p: &Pair) -> PathBuf {
    let md = p._dir.join("md");
    let out = bin()
        .args([
            "diff",
            p.v1.to_str().unwrap(),
            p.v2.to_str().unwrap(),
            "--markdown",
            "--with-idle",
            "--out-dir",
            md.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    md
}

#[test]
fn every_value_is_that_sides_inspect_value_and_the_shape_is_documented() {
    let p = cpu_prof_pair("values");
    let (code, d, err) = diff(&[p.v1.to_str().unwrap(), p.v2.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(d["base"]["labels"]["version"], "v1");
    assert_eq!(d["candidate"]["labels"]["version"], "v2");
    let b = inspect_json(&p.v1);
    let c = inspect_json(&p.v2);
    let metrics = d["metrics"].as_object().unwrap();
    let bm = b["k6"]["metrics"].as_object().unwrap();
    let cm = c["k6"]["metrics"].as_object().unwrap();
    let common: Vec<&String> = bm.keys().filter(|k| cm.contains_key(*k)).collect();
    assert_eq!(metrics.len(), common.len(), "every series present on both sides");
    assert!(metrics.contains_key("http_req_duration{expected_response:true}"), "sub-series keyed as inspect keys them");
    let mut checked = 0;
    for (key, m) in metrics {
        assert_eq!(m["base"], bm[key]["values"], "{key} base");
        assert_eq!(m["candidate"], cm[key]["values"], "{key} candidate");
        assert_eq!(m["type"], bm[key]["type"], "{key} type");
        for (stat, ch) in m["change"].as_object().unwrap() {
            let (vb, vc) = (m["base"][stat].as_f64().unwrap(), m["candidate"][stat].as_f64().unwrap());
            assert!((ch["abs"].as_f64().unwrap() - (vc - vb)).abs() < 1e-9, "{key} {stat} abs");
            if vb != 0.0 {
                assert!((ch["rel"].as_f64().unwrap() - (vc - vb) / vb.abs()).abs() < 1e-9, "{key} {stat} rel");
            } else {
                assert!(ch["rel"].is_null());
            }
            assert!(["regression", "improvement", "same"].contains(&ch["verdict"].as_str().unwrap()));
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked} figures compared");
    // v2 is the faster server: its latency percentiles are improvements, and
    // its failed threshold in v1 passes in v2.
    for stat in ["med", "p(90)", "p(95)", "avg"] {
        assert_eq!(d["metrics"]["http_req_duration"]["change"][stat]["verdict"], "improvement", "{stat}");
    }
    let (expr, _) = p95_threshold(&summary_export("v1", "cpu-prof"));
    let th = d["thresholds"].as_array().unwrap();
    let t = th.iter().find(|t| t["metric"] == "http_req_duration" && t["expr"] == expr.as_str()).expect("threshold");
    assert_eq!((t["base"].as_bool(), t["candidate"].as_bool()), (Some(false), Some(true)));
    // The other way round, the same figures are regressions.
    let (_, r, _) = diff(&[p.v2.to_str().unwrap(), p.v1.to_str().unwrap()]);
    assert_eq!(r["metrics"]["http_req_duration"]["change"]["p(95)"]["verdict"], "regression");
    // Comparing a run with itself finds nothing.
    let (_, same, _) = diff(&[p.v1.to_str().unwrap(), p.v1.to_str().unwrap()]);
    for (key, m) in same["metrics"].as_object().unwrap() {
        for (stat, ch) in m["change"].as_object().unwrap() {
            assert_eq!(ch["verdict"], "same", "{key} {stat}");
        }
    }
}

#[test]
fn gates_decide_the_exit_status() {
    let p = cpu_prof_pair("gates");
    let (b, c) = (p.v1.to_str().unwrap(), p.v2.to_str().unwrap());
    let cases: &[(&[&str], i32)] = &[
        (&["--fail-if", "http_req_duration: p(95) > +10%"], 0),
        (&["--fail-if", "http_req_duration: p(95) < -10%"], 1),
        (&["--fail-if", "http_req_duration{expected_response:true}: avg > +5"], 0),
        (&["--fail-if", "http_req_duration{expected_response:true}: avg < -5"], 1),
        (&["--fail-if", "http_req_failed: rate > 0.5"], 0),
        (&["--fail-if", "http_req_failed: rate > 0.001"], 1),
        (&["--fail-if", "http_reqs: rate < -5%", "--fail-if", "checks: rate < 0.9"], 0),
        (&["--fail-on-regression"], 0),
    ];
    for (args, want) in cases {
        let mut all = vec![b, c];
        all.extend_from_slice(args);
        let (code, d, err) = diff(&all);
        assert_eq!(code, *want, "{args:?}: {err}");
        let gates = d["gates"].as_array().unwrap();
        assert_eq!(gates.iter().all(|g| g["passed"] == true), *want == 0, "{args:?}");
    }
    // Base and candidate swapped: v1 is slower, a regression on a thresholded metric.
    let (code, d, err) = diff(&[c, b, "--fail-on-regression"]);
    assert_eq!(code, 1, "{err}");
    assert!(d["gates"][0]["detail"].as_str().unwrap().contains("http_req_duration: p(95)"), "{}", d["gates"]);
    assert!(err.contains("gate failed"), "{err}");
}

/// Samples of a raw `.cpuprofile` of a corpus run whose leaf is `(idle)`, counted from its `samples` array.
fn raw_idle_samples(run: &str) -> u64 {
    let dir = corpus().join("runs").join(run);
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "cpuprofile"))
        .expect("a .cpuprofile");
    let j: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let idle: std::collections::HashSet<u64> = j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["callFrame"]["functionName"] == "(idle)")
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    j["samples"].as_array().unwrap().iter().filter(|s| idle.contains(&s.as_u64().unwrap())).count() as u64
}

#[test]
fn profile_pairs_leave_idle_out_and_say_how_much() {
    let p = cpu_prof_pair("idle");
    let (code, d, err) = diff(&[p.v1.to_str().unwrap(), p.v2.to_str().unwrap(), "--top", "1000"]);
    assert_eq!(code, 0, "{err}");
    let pair = &d["profiles"][0];
    let (ib, ic) = (raw_idle_samples("v1/cpu-prof"), raw_idle_samples("v2/cpu-prof"));
    assert!(ic * 2 > pair["candidate_samples"].as_u64().unwrap(), "v2 is mostly idle: {ic}");
    assert_eq!((pair["base_idle"].as_u64(), pair["candidate_idle"].as_u64()), (Some(ib), Some(ic)));
    assert_eq!(pair["idle_left_out"], true);
    let changes = pair["top_changes"].as_array().unwrap();
    assert!(changes.iter().all(|f| f["function"] != "(idle)"), "idle is not ranked");
    // The other samples are all there, and the shares are of them.
    let sum = |k: &str| changes.iter().map(|f| f[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("base_self") + ib, pair["base_samples"].as_u64().unwrap());
    assert_eq!(sum("candidate_self") + ic, pair["candidate_samples"].as_u64().unwrap());
    let shares = changes.iter().map(|f| f["candidate_share"].as_f64().unwrap()).sum::<f64>();
    assert!((shares - 1.0).abs() < 1e-9, "{shares}");
    // The text says it once, before the table; the table does not lead with idle.
    let out = bin().args(["diff", p.v1.to_str().unwrap(), p.v2.to_str().unwrap()]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let head = text.split("largest changes of self share").nth(1).expect("a profile table");
    let note = format!(
        "idle {} → {} of samples, not drawn",
        perfbundle_share(ib, pair["base_samples"].as_u64().unwrap()),
        perfbundle_share(ic, pair["candidate_samples"].as_u64().unwrap())
    );
    assert!(head.lines().nth(1).unwrap().contains(&note), "{head}");
    assert!(!head.lines().take(12).any(|l| l.contains("(idle)")), "{head}");
}

/// A share as perfbundle writes it: k6's truncation to two decimals.
fn perfbundle_share(part: u64, whole: u64) -> String {
    format!("{:.2}%", (part as f64 / whole as f64 * 10_000.0 + 1e-9).floor() / 100.0)
}

#[test]
fn profile_pairs_agree_with_the_profiles_and_with_inferno_diff_folded() {
    let p = cpu_prof_pair("profiles");
    let (code, d, err) = diff(&[p.v1.to_str().unwrap(), p.v2.to_str().unwrap(), "--top", "1000", "--with-idle"]);
    assert_eq!(code, 0, "{err}");
    let pairs = d["profiles"].as_array().unwrap();
    assert_eq!(pairs.len(), 1, "the two .cpuprofile files pair by kind");
    let pair = &pairs[0];
    assert_eq!(pair["idle_left_out"], false);
    let (b, c) = (inspect_json(&p.v1), inspect_json(&p.v2));
    assert_eq!(pair["base_samples"], b["profiles"][0]["total_samples"]);
    assert_eq!(pair["candidate_samples"], c["profiles"][0]["total_samples"]);
    let changes = pair["top_changes"].as_array().unwrap();
    // Self samples add up to each profile's samples, shares to 1.
    let sum = |k: &str| changes.iter().map(|f| f[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("base_self"), pair["base_samples"].as_u64().unwrap());
    assert_eq!(sum("candidate_self"), pair["candidate_samples"].as_u64().unwrap());
    // Sorted by the absolute change of share.
    let deltas: Vec<f64> = changes
        .iter()
        .map(|f| (f["candidate_share"].as_f64().unwrap() - f["base_share"].as_f64().unwrap()).abs())
        .collect();
    assert!(deltas.windows(2).all(|w| w[0] >= w[1]));
    // The regex that v2 removed is the largest drop, and it is gone in v2.
    let regex = changes.iter().find(|f| f["function"].as_str().unwrap().starts_with("RegExp")).expect("regex");
    assert_eq!(regex["candidate_self"], 0);
    assert!(regex["base_share"].as_f64().unwrap() > 0.3);
    // Each function's self samples equal that profile's own function table.
    for (side, j) in [("base_self", &b), ("candidate_self", &c)] {
        let table = j["profiles"][0]["top_self"].as_array().expect("inspect --json lists top functions");
        assert!(table.len() >= 5);
        for f in table {
            // A function whose file moved (apps/v1/catalog.js → apps/v2/) is
            // listed under the candidate's file, with the base's beside it.
            let ours = changes
                .iter()
                .find(|x| x["function"] == f["function"] && (x["file"] == f["file"] || x["base_file"] == f["file"]))
                .unwrap_or_else(|| panic!("{f} in the pair"));
            assert_eq!(ours[side], f["self_samples"], "{side} of {f}");
        }
    }

    // Differential folded stacks equal inferno's diff-folded over the two folded exports.
    let dir = p._dir.join("export");
    for (bundle, sub) in [(&p.v1, "a"), (&p.v2, "b")] {
        run_ok(&["export", bundle.to_str().unwrap(), "--folded", "--out-dir", dir.join(sub).to_str().unwrap()]);
    }
    let folded = |sub: &str| {
        let d = dir.join(sub);
        let f = std::fs::read_dir(&d).unwrap().next().unwrap().unwrap().path();
        std::fs::read(f).unwrap()
    };
    let mut want = Vec::new();
    inferno::differential::from_readers(Default::default(), &folded("a")[..], &folded("b")[..], &mut want).unwrap();
    let md = markdown_report(&p);
    let ours = std::fs::read_to_string(md.join("diff-0.folded")).unwrap();
    let mut a: Vec<&str> = ours.lines().collect();
    let want = String::from_utf8(want).unwrap();
    let mut b: Vec<&str> = want.lines().collect();
    a.sort_unstable();
    b.sort_unstable();
    assert!(a.len() > 100, "{} stacks", a.len());
    assert_eq!(a, b);
}

/// Self samples of each named function of a raw `.cpuprofile` whose script
/// URL ends with `suffix`, counted from its `samples` array.
fn raw_self_samples(run: &str, suffix: &str) -> std::collections::BTreeMap<String, (u64, String)> {
    let dir = corpus().join("runs").join(run);
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "cpuprofile"))
        .expect("a .cpuprofile");
    let j: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let frames: std::collections::HashMap<u64, &Value> =
        j["nodes"].as_array().unwrap().iter().map(|n| (n["id"].as_u64().unwrap(), &n["callFrame"])).collect();
    let mut out = std::collections::BTreeMap::new();
    for id in j["samples"].as_array().unwrap() {
        let cf = frames[&id.as_u64().unwrap()];
        let (name, url) = (cf["functionName"].as_str().unwrap(), cf["url"].as_str().unwrap());
        if !name.is_empty() && url.ends_with(suffix) {
            out.entry(name.to_string()).or_insert((0, url.to_string())).0 += 1;
        }
    }
    out
}

#[test]
fn functions_whose_file_moved_pair_by_name_and_module() {
    // v1's app is apps/v1/catalog.js, v2's apps/v2/catalog.js: every app
    // function's file differs between the runs.
    let p = cpu_prof_pair("moved");
    let (v1, v2) = (raw_self_samples("v1/cpu-prof", "catalog.js"), raw_self_samples("v2/cpu-prof", "catalog.js"));
    let both: Vec<&String> = v1.keys().filter(|k| v2.contains_key(*k)).collect();
    let gone: Vec<&String> = v1.keys().filter(|k| !v2.contains_key(*k)).collect();
    assert!(both.len() >= 2 && gone.len() >= 2, "{both:?} {gone:?}");
    assert_ne!(v1[both[0]].1, v2[both[0]].1, "the file differs between the runs");
    let list = |mode: &str| {
        let (code, d, err) =
            diff(&[p.v1.to_str().unwrap(), p.v2.to_str().unwrap(), "--top", "100000", "--match", mode]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(d["match"], mode);
        d["profiles"][0]["top_changes"].as_array().unwrap().clone()
    };
    let named = |list: &[Value], name: &str| list.iter().filter(|f| f["function"] == name).cloned().collect::<Vec<_>>();
    // Default (name+file): one entry per function, both runs' samples on it.
    let default = list("name+file");
    for f in &both {
        let e = named(&default, f);
        assert_eq!(e.len(), 1, "{f} listed once: {e:?}");
        assert_eq!(e[0]["base_self"], v1[*f].0, "{f}");
        assert_eq!(e[0]["candidate_self"], v2[*f].0, "{f}");
        assert_eq!(e[0]["file"], v2[*f].1.as_str());
        assert_eq!(e[0]["base_file"], v1[*f].1.as_str());
    }
    // A function v2 removed still shows as gone.
    for f in &gone {
        let e = named(&default, f);
        assert_eq!(e.len(), 1, "{f}");
        assert_eq!((e[0]["base_self"].as_u64(), e[0]["candidate_self"].as_u64()), (Some(v1[*f].0), Some(0)), "{f}");
        assert!(e[0].get("base_file").is_none(), "{f} did not move: {e:?}");
    }
    // Exact: the file is part of the identity, each shared function twice.
    let exact = list("exact");
    for f in &both {
        let e = named(&exact, f);
        assert_eq!(e.len(), 2, "{f}: {e:?}");
        assert!(e.iter().any(|x| x["base_self"] == v1[*f].0 && x["candidate_self"] == 0));
        assert!(e.iter().any(|x| x["candidate_self"] == v2[*f].0 && x["base_self"] == 0));
    }
    // The text table and the Markdown report name both files.
    let out = bin().args(["diff", p.v1.to_str().unwrap(), p.v2.to_str().unwrap(), "--top", "100"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("functions paired by name+file"), "{text}");
    let report = std::fs::read_to_string(markdown_report(&p).join("report.md")).unwrap();
    assert!(report.contains("`--match name+file`"), "{report}");
    // A bad mode is refused before any work.
    let out = bin().args(["diff", "--match", "file", p.v1.to_str().unwrap(), p.v2.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("name+file"), "{}", stderr(&out));
}

#[test]
fn the_markdown_report_links_relative_files_and_escapes() {
    let p = cpu_prof_pair("markdown");
    let md = markdown_report(&p);
    let report = std::fs::read_to_string(md.join("report.md")).unwrap();
    assert!(report.contains("| http\\_req\\_duration | p(95) |"), "{report}");
    let (expr, _) = p95_threshold(&summary_export("v1", "cpu-prof"));
    // Each side's verdict with the value it read, as k6 printed it in its end-of-test text.
    let observed = |version: &str| {
        let text = read_text(&run_dir(version, "cpu-prof").join("k6-console.txt"));
        let line = text.lines().find(|l| l.contains(&format!("'{expr}'"))).expect("the threshold in k6's text");
        line.rsplit(' ').next().expect("its value").to_string()
    };
    let row = format!(
        "| http\\_req\\_duration | {} | ✗ failed {} | ✓ passed {} |",
        expr.replace('<', "&lt;"),
        observed("v1"),
        observed("v2")
    );
    assert!(report.contains(&row), "{row}: {report}");
    let mut images = 0;
    for line in report.lines().filter(|l| l.starts_with("![")) {
        let target = line.rsplit_once("](").unwrap().1.trim_end_matches(')');
        assert!(!target.contains('/') && !target.contains(':'), "relative: {target}");
        let svg = std::fs::read_to_string(md.join(target)).unwrap();
        roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{target}: {e}"));
        images += 1;
    }
    assert!(images >= 4, "overlay charts and a differential flame graph: {images}");
    let fg = std::fs::read_dir(&md)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("diff-flamegraph"))
        .unwrap();
    let svg = std::fs::read_to_string(fg).unwrap();
    assert!(svg.contains("larger share in the candidate"), "legend");
    assert!(svg.contains("candidate: 0 samples (0.00%)"), "a function gone in v2 is drawn");
    let latency = std::fs::read_to_string(md.join("compare-latency.svg")).unwrap();
    assert!(latency.contains("base p95") && latency.contains("candidate p95") && latency.contains("since start"));
    assert!(latency.contains("stroke-dasharray"), "the base is dashed");
}

#[test]
fn bad_input_gets_a_clear_message_and_status_2() {
    let p = cpu_prof_pair("bad");
    let dir = &p._dir;
    let (b, c) = (p.v1.to_str().unwrap(), p.v2.to_str().unwrap());
    let status = |args: &[&str]| {
        let out = bin().arg("diff").args(args).output().unwrap();
        (out.status.code().unwrap(), stderr(&out))
    };
    // A malformed gate: where it fails and an example.
    let (code, err) = status(&[b, c, "--fail-if", "http_req_duration: p95 > 10"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("\"p95\" is not a k6 summary statistic") && err.contains("at character 20"), "{err}");
    assert!(err.contains("e.g. 'http_req_duration{name:GET /a}: p(95) > +10%'"), "{err}");
    // An unknown metric: the nearest names.
    let (code, err) = status(&[b, c, "--fail-if", "http_req_duraton: p(95) > +10%"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no metric \"http_req_duraton\"") && err.contains("nearest: http_req_duration"), "{err}");
    // An unknown statistic of a known metric.
    let (code, err) = status(&[b, c, "--fail-if", "http_reqs: p(95) > +10%"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("http_reqs has no statistic \"p(95)\"; it has: count, rate"), "{err}");
    // Nothing in common: a k6-only bundle and a profile-only bundle.
    let prof_only = dir.join("profile-only.perfbundle");
    let cpuprofile = cpuprofile_in(&run_dir("v2", "cpu-prof"));
    run_ok(&["pack", "-o", prof_only.to_str().unwrap(), cpuprofile.to_str().unwrap()]);
    let k6_only = pack_run(dir, "v1/k6-only");
    let (code, err) = status(&[k6_only.to_str().unwrap(), prof_only.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("nothing to compare") && err.contains("http_req_duration") && err.contains("profile CPU."),
        "{err}"
    );
    // A profile with no partner is said, and the rest still compares.
    let (code, err) = status(&[k6_only.to_str().unwrap(), c]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("profiles with no partner") && err.contains("candidate: [CPU."), "{err}");
    // --pair naming a profile that is not there.
    let (code, err) = status(&[b, c, "--pair", "nope=CPU"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the base has no profile \"nope\""), "{err}");
    // A missing bundle.
    let (code, err) = status(&[b, "/nonexistent.perfbundle"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent.perfbundle"), "{err}");
}

#[test]
fn runs_of_two_different_tests_are_flagged_and_v1_against_v2_is_not() {
    let p = cpu_prof_pair("unrelated");
    let (code, same, err) = diff(&[p.v1.to_str().unwrap(), p.v2.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(same.get("unrelated").is_none(), "v1 and v2 of one script: {same:#}");
    assert!(!err.contains("different tests"), "{err}");
    // The orders-api example (another app, another script) against catalog-api v1.
    let other = repo_root().join("archives/orders-api-v1-k6.perfbundle");
    let (code, d, err) = diff(&[other.to_str().unwrap(), p.v1.to_str().unwrap()]);
    assert_eq!(code, 0, "a warning, not a failure: {err}");
    let why = d["unrelated"].as_str().expect("unrelated is set");
    assert!(why.contains("different tests"), "{why}");
    // It names what differs, read from the candidate's own checks: the first in order.
    fn paths(g: &Value, out: &mut Vec<String>) {
        for c in g["checks"].as_array().into_iter().flatten() {
            out.push(format!("check:{}", c["path"].as_str().unwrap()));
        }
        for sub in g["groups"].as_array().into_iter().flatten() {
            paths(sub, out);
        }
    }
    let mut checks = Vec::new();
    paths(&inspect_json(&p.v1)["k6"]["checks"], &mut checks);
    checks.sort();
    let first = checks.first().expect("the v1 run has checks");
    assert!(why.contains(&format!("only in the candidate: {first}")), "{why} names {first}");
    assert!(err.contains("perfbundle: warning: these runs look like different tests"), "{err}");
}

#[test]
fn the_text_leads_with_the_decision() {
    // v2 → v3 of the demo app: v3 made one route slower again.
    let dir = tmpdir("decision");
    let (v2, v3) = (pack_run(&dir, "v2/cpu-prof"), pack_run(&dir, "v3/cpu-prof"));
    let out = bin().args(["diff", v2.to_str().unwrap(), v3.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let first: Vec<&str> = text.lines().take(30).collect();
    // Every threshold of either run (k6's summary-export), each with both sides' values, in the first 30 lines.
    for v in ["v2", "v3"] {
        let export = summary_export(v, "cpu-prof");
        for (metric, m) in export["metrics"].as_object().unwrap() {
            for expr in m.get("thresholds").and_then(|t| t.as_object()).into_iter().flat_map(|t| t.keys()) {
                let line = first.iter().find(|l| l.contains(metric.as_str()) && l.contains(expr.as_str()));
                let line =
                    line.unwrap_or_else(|| panic!("{metric} {expr} in the first 30 lines:\n{}", first.join("\n")));
                assert!(line.matches('=').count() >= 2, "both sides' values: {line}");
            }
        }
    }
    // Then the endpoints that changed, the regression first: the endpoint whose
    // median grew most in the raw streams (v3's slower route).
    let (b, c) = (raw_endpoints(&run_dir("v2", "cpu-prof")), raw_endpoints(&run_dir("v3", "cpu-prof")));
    let worst = b
        .keys()
        .filter(|n| c.contains_key(*n))
        .max_by(|x, y| {
            let r = |n: &String| c[n].percentile(0.5) / b[n].percentile(0.5);
            r(x).total_cmp(&r(y))
        })
        .unwrap();
    assert!(c[worst].percentile(0.5) > 2.0 * b[worst].percentile(0.5), "{worst}");
    let start = text.find("endpoints that changed").expect("an endpoints section");
    let rows: Vec<&str> = text[start..].lines().skip(2).take_while(|l| !l.trim().is_empty()).collect();
    assert!(rows[0].contains(worst.as_str()) && rows[0].trim_end().ends_with("regression"), "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r.trim_end().ends_with("regression")).count(), 1, "{rows:?}");
    assert!(text.find("thresholds").unwrap() < start && start < text.find("every figure").unwrap());
    // The JSON lists the same, with each side's figures from the streams.
    let (_, d, _) = diff(&[v2.to_str().unwrap(), v3.to_str().unwrap()]);
    let e = &d["endpoints"][0];
    assert_eq!((e["name"].as_str(), e["verdict"].as_str()), (Some(worst.as_str()), Some("regression")));
    assert_eq!(e["base"]["requests"], b[worst].requests);
    assert_eq!(e["candidate"]["requests"], c[worst].requests);
    assert_eq!(e["candidate"]["failed"], c[worst].failed);
    let p95 = e["candidate"]["p95_ms"].as_f64().unwrap();
    let want = c[worst].percentile(0.95);
    assert!((p95 - want).abs() <= 0.01 * want, "p(95) {p95} vs the stream's {want}");
}

#[test]
fn gate_messages_give_values_in_their_units() {
    let p = cpu_prof_pair("units");
    let out = bin()
        .args(["diff", p.v1.to_str().unwrap(), p.v2.to_str().unwrap(), "--fail-if", "http_req_duration: p(95) < -10%"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let ms = |v: &Value| {
        let x = v.as_f64().unwrap();
        // k6's style: two decimals, truncated, trailing zeros dropped.
        let s = format!("{:.2}", (x * 100.0).trunc() / 100.0);
        format!("{}ms", s.trim_end_matches('0').trim_end_matches('.'))
    };
    let (b, c) = (summary_export("v1", "cpu-prof"), summary_export("v2", "cpu-prof"));
    let want = format!(
        "({} → {})",
        ms(&b["metrics"]["http_req_duration"]["p(95)"]),
        ms(&c["metrics"]["http_req_duration"]["p(95)"])
    );
    assert!(err.contains(&want), "{want} in: {err}");
}
