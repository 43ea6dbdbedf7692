//! Profiles agree with their tools: sample totals equal what each source
//! holds, a perf script folds to exactly inferno-collapse-perf's lines, and
//! the hottest self-time functions are the ones the tool's own data names.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::*;
use serde_json::Value;

/// Packs one input and returns `profiles[0]` of `inspect --json`.
fn pack_profile(input: &Path, tag: &str) -> Value {
    let dir = tmpdir(&format!("prof-{tag}"));
    let out = dir.join("p.perfbundle");
    run(&["pack", "-o", out.to_str().unwrap(), input.to_str().unwrap()], true);
    let j = inspect_json(&out);
    assert_eq!(j["profiles"].as_array().map(Vec::len), Some(1), "{tag}: one profile");
    j["profiles"][0].clone()
}

fn top_self(p: &Value) -> Vec<(String, u64)> {
    p["top_self"]
        .as_array()
        .expect("top_self")
        .iter()
        .map(|f| (f["function"].as_str().unwrap_or_default().to_string(), f["self_samples"].as_u64().unwrap_or(0)))
        .collect()
}

/// Sums a tool's self counts by name and returns them, largest first.
fn ranked(m: HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

#[test]
fn cpuprofile_totals_and_hottest_functions() {
    for v in ["v1", "v2"] {
        let f = cpuprofile_in(&run_dir(v, "cpu-prof"));
        let raw: Value = serde_json::from_slice(&std::fs::read(&f).expect("read")).expect("json");
        let samples = raw["samples"].as_array().expect("samples");
        let p = pack_profile(&f, &format!("cpu-{v}"));
        assert_eq!(p["source"], "cpuprofile");
        assert_eq!(p["total_samples"].as_u64(), Some(samples.len() as u64), "{v}: total samples");
        // V8's own count per function: each sample's leaf node's call frame.
        let mut by_id: HashMap<u64, String> = HashMap::new();
        for n in raw["nodes"].as_array().expect("nodes") {
            let cf = &n["callFrame"];
            by_id.insert(n["id"].as_u64().expect("id"), cf["functionName"].as_str().unwrap_or_default().to_string());
        }
        let mut counts: HashMap<String, u64> = HashMap::new();
        for s in samples {
            *counts.entry(by_id[&s.as_u64().expect("id")].clone()).or_default() += 1;
        }
        let theirs = ranked(counts);
        let ours = top_self(&p);
        for i in 0..3 {
            assert_eq!(ours[i], theirs[i], "{v}: hottest function #{i}");
        }
    }
}

/// The JSON value at the start of `text` (what follows it is ignored). A flame
/// graph's tree nests two levels per frame, so deep recursion in the app goes
/// past serde_json's default depth limit.
fn deep_json_prefix(text: &str) -> Value {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    serde::Deserialize::deserialize(&mut de).expect("tree")
}

/// 0x's own flame graph data: the `merged` tree in flamegraph.html, self counts (`top`) by name.
fn zero_x_tops(html: &Path) -> Vec<(String, u64)> {
    let h = read_text(html);
    let i = h.find("visualizer(").expect("visualizer(") + "visualizer(".len();
    let v = deep_json_prefix(&h[i..]);
    let mut m = HashMap::new();
    fn walk(n: &Value, m: &mut HashMap<String, u64>) {
        let name = n["name"].as_str().unwrap_or_default();
        // "pattern [CODE:RegExp]" → "RegExp: pattern"; "fn file:l:c" stays; "[CPP]" etc. dropped.
        let name = match name.strip_suffix(" [CODE:RegExp]") {
            Some(p) => format!("RegExp: {p}"),
            None => name.rsplit_once(" [").map(|(a, _)| a).unwrap_or(name).to_string(),
        };
        *m.entry(name).or_default() += n["top"].as_u64().unwrap_or(0);
        for c in n["children"].as_array().into_iter().flatten() {
            walk(c, m);
        }
    }
    walk(&v["merged"], &mut m);
    ranked(m)
}

fn label(f: &Value) -> String {
    let name = f["function"].as_str().unwrap_or_default();
    let file = f["file"].as_str().unwrap_or_default();
    name.to_string() + if file.is_empty() { "" } else { " " } + file
}

#[test]
fn zero_x_totals_and_hottest_functions() {
    for v in ["v1", "v2"] {
        let dir = tool_folder(&run_dir(v, "0x"), ".0x");
        let log: Value =
            serde_json::from_str(&read_text(&find_in(&dir, |n| n.ends_with("-v8.log.json.gz")))).expect("json");
        let p = pack_profile(&dir, &format!("0x-{v}"));
        assert_eq!(p["source"], "0x");
        assert_eq!(
            p["total_samples"].as_u64(),
            Some(log["ticks"].as_array().expect("ticks").len() as u64),
            "{v}: ticks"
        );
        // 0x's own report (gzipped by the corpus script, or as 0x wrote it).
        let theirs = zero_x_tops(&find_in(&dir, |n| n.starts_with("flamegraph.html")));
        let ours: Vec<(String, u64)> = p["top_self"]
            .as_array()
            .expect("top")
            .iter()
            .filter(|f| !["(program)", "(idle)", "(garbage collector)"].contains(&f["function"].as_str().unwrap_or("")))
            .map(|f| (label(f), f["self_samples"].as_u64().unwrap_or(0)))
            .collect();
        for i in 0..3 {
            let (name, n) = &ours[i];
            let hit = theirs
                .iter()
                .find(|(t, _)| t.starts_with(name.as_str()))
                .unwrap_or_else(|| panic!("{v}: 0x has no {name}"));
            assert_eq!(hit.1, *n, "{v}: self samples of {name}");
            assert_eq!(theirs[i].1, *n, "{v}: rank {i} differs from 0x's");
        }
    }
}

#[test]
fn clinic_flame_totals_and_hottest_functions() {
    for v in ["v1", "v2"] {
        let dir = tool_folder(&run_dir(v, "clinic-flame"), ".clinic-flame");
        let samples: Value =
            serde_json::from_str(&read_text(&find_in(&dir, |n| n.ends_with("-samples.gz")))).expect("json");
        let p = pack_profile(&dir, &format!("flame-{v}"));
        assert_eq!(p["total_samples"].as_u64(), Some(samples.as_array().expect("array").len() as u64), "{v}");
        // Clinic's own tree in its HTML: onStackTop.base (before its view's filters) by function name.
        let html = read_text(&find_in(dir.parent().expect("run"), |n| n.contains(".clinic-flame.html")));
        let i = html.find("\"merged\":{\"id\":0").expect("merged tree") + "\"merged\":".len();
        let tree = deep_json_prefix(&html[i..]);
        let mut m = HashMap::new();
        fn walk(n: &Value, m: &mut HashMap<String, u64>) {
            let name = n["functionName"].as_str().or(n["name"].as_str()).unwrap_or_default().to_string();
            *m.entry(name).or_default() += n["onStackTop"]["base"].as_u64().unwrap_or(0);
            for c in n["children"].as_array().into_iter().flatten() {
                walk(c, m);
            }
        }
        walk(&tree, &mut m);
        let theirs = ranked(m);
        let ours = top_self(&p);
        for (name, n) in ours.iter().take(3) {
            let plain = name.strip_prefix("RegExp: ").unwrap_or(name);
            // Clinic writes a regular expression as /pattern/.
            let slashed = format!("/{plain}/");
            let hit = theirs
                .iter()
                .find(|(t, _)| *t == slashed || t == plain || t.starts_with(plain))
                .unwrap_or_else(|| panic!("{v}: clinic has no {name}: {:?}", &theirs[..5]));
            assert_eq!(hit.1, *n, "{v}: self samples of {name}");
        }
    }
}

/// Sample headers in perf script text: lines that are not indented, blank or comments.
fn perf_headers(text: &str) -> u64 {
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with([' ', '\t', '#'])).count() as u64
}

fn inferno_fold(text: &str) -> Vec<String> {
    use inferno::collapse::Collapse;
    let mut o = inferno::collapse::perf::Options::default();
    o.nthreads = 1;
    let mut out = Vec::new();
    inferno::collapse::perf::Folder::from(o).collapse(text.as_bytes(), &mut out).expect("inferno");
    String::from_utf8(out).expect("utf-8").lines().map(String::from).collect()
}

#[test]
fn perf_folds_exactly_as_inferno_and_counts_every_sample() {
    let cases = [
        run_dir("v1", "perf").join("perf.script.txt.gz"),
        run_dir("v2", "perf").join("perf.script.txt.gz"),
        find_in(&tool_folder(&run_dir("v1", "0x-kernel-tracing"), ".0x"), |n| n.starts_with("stacks.")),
    ];
    for (k, script) in cases.iter().enumerate() {
        let text = read_text(script);
        let dir = tmpdir(&format!("perf-{k}"));
        let out = dir.join("p.perfbundle");
        let input = if k == 2 { script.parent().expect("folder").to_path_buf() } else { script.clone() };
        run(&["pack", "-o", out.to_str().unwrap(), input.to_str().unwrap()], true);
        let p = &inspect_json(&out)["profiles"][0];
        assert_eq!(p["total_samples"].as_u64(), Some(perf_headers(&text)), "{}: samples", script.display());
        let exp = dir.join("export");
        run(
            &["export", out.to_str().unwrap(), "--out-dir", exp.to_str().unwrap(), "--folded", "--folded-weights"],
            true,
        );
        let folded = std::fs::read_dir(&exp)
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|e| e == "folded"))
            .expect("folded file");
        let ours: Vec<String> = std::fs::read_to_string(folded).expect("read").lines().map(String::from).collect();
        let theirs = inferno_fold(&text);
        assert_eq!(ours.len(), theirs.len(), "{}: folded line count", script.display());
        assert_eq!(ours, theirs, "{}: folded lines", script.display());
        // Hottest leaf by inferno's own counts (period-weighted) is ours too.
        let mut leaves: HashMap<String, u64> = HashMap::new();
        for l in &theirs {
            let (stack, n) = l.rsplit_once(' ').expect("count");
            *leaves.entry(stack.rsplit(';').next().unwrap_or_default().to_string()).or_default() +=
                n.parse::<u64>().expect("n");
        }
        let theirs_top = ranked(leaves);
        let ours_top = top_self(p);
        assert_eq!(ours_top[0].0, theirs_top[0].0, "{}: hottest", script.display());
    }
}

#[test]
fn clinic_doctor_timeline_matches_clinics_decoder() {
    for v in ["v1", "v2"] {
        let run_dir = run_dir(v, "clinic-doctor");
        let dir = tool_folder(&run_dir, ".clinic-doctor");
        let out = tmpdir(&format!("doctor-{v}")).join("d.perfbundle");
        run(&["pack", "-o", out.to_str().unwrap(), run_dir.to_str().unwrap()], true);
        let tdir = tmpdir(&format!("doctor-unpack-{v}"));
        let dest = tdir.join("u");
        run(&["unpack", out.to_str().unwrap(), "-C", dest.to_str().unwrap()], true);
        let tl: Value =
            serde_json::from_slice(&std::fs::read(dest.join("timelines/0.json")).expect("timeline")).expect("json");
        let decoded =
            std::fs::read_to_string(corpus().join(format!("derived/{v}-clinic-doctor-processstat.decoded.ndjson")))
                .expect("derived");
        let rows: Vec<Value> = decoded.lines().map(|l| serde_json::from_str(l).expect("row")).collect();
        assert_eq!(tl["t_unix_ms"].as_array().map(Vec::len), Some(rows.len()), "{v}: samples");
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(tl["t_unix_ms"][i].as_f64(), r["timestamp"].as_f64(), "{v}: timestamp {i}");
            assert_eq!(tl["rss_bytes"][i].as_f64(), r["memory"]["rss"].as_f64(), "{v}: rss {i}");
            assert_eq!(tl["heap_used_bytes"][i].as_f64(), r["memory"]["heapUsed"].as_f64(), "{v}: heapUsed {i}");
            assert_eq!(tl["event_loop_delay_ms"][i].as_f64(), r["delay"].as_f64(), "{v}: delay {i}");
            assert_eq!(tl["active_handles"][i], r["handles"], "{v}: handles {i}");
            let cpu = tl["cpu_percent"][i].as_f64().expect("cpu");
            assert!((cpu - r["cpu"].as_f64().expect("cpu") * 100.0).abs() < 1e-9, "{v}: cpu {i}");
        }
        // GC events are on the same wall clock as the samples.
        let gc = tl["gc"].as_array().expect("gc");
        assert!(!gc.is_empty(), "{v}: GC events");
        let (t0, t1) =
            (rows[0]["timestamp"].as_f64().expect("t"), rows[rows.len() - 1]["timestamp"].as_f64().expect("t"));
        for g in gc {
            let s = g["start_unix_ms"].as_f64().expect("start");
            assert!(s > t0 - 5_000.0 && s < t1 + 5_000.0, "{v}: GC at {s} outside {t0}..{t1}");
        }
        let _ = dir;
    }
}
