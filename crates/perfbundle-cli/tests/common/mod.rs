//! Helpers for tests that run the `perfbundle` binary on real files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The corpus of real tool outputs: the project's own `tests/corpus` (recorded
/// by `scripts/record-corpus.sh`), or another set of the same layout named by
/// `$PERFBUNDLE_CORPUS` (for instance `../shared/corpus`). The tests read every
/// name and figure from the files themselves, so either set works.
pub fn corpus() -> PathBuf {
    let p = std::env::var_os("PERFBUNDLE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus"));
    assert!(p.join("runs").is_dir(), "the real-output corpus is not at {} (set PERFBUNDLE_CORPUS)", p.display());
    p
}

/// The first entry of `dir` (sorted by name) whose file name satisfies `pred`.
pub fn find_in(dir: &Path, pred: impl Fn(&str) -> bool) -> PathBuf {
    let mut hits: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| pred(&p.file_name().unwrap_or_default().to_string_lossy()))
        .collect();
    hits.sort();
    hits.into_iter().next().unwrap_or_else(|| panic!("nothing matching in {}", dir.display()))
}

/// A corpus run folder, e.g. `run_dir("v1", "cpu-prof")`.
pub fn run_dir(version: &str, run: &str) -> PathBuf {
    corpus().join("runs").join(version).join(run)
}

/// A JSON file, parsed.
pub fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A (possibly gzip) text file, decompressed.
pub fn read_text(p: &Path) -> String {
    use std::io::Read;
    let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_string(&mut s).expect("gunzip");
        s
    } else {
        String::from_utf8(bytes).expect("utf-8")
    }
}

/// k6's `--summary-export` of a corpus run.
pub fn summary_export(version: &str, run: &str) -> serde_json::Value {
    read_json(&run_dir(version, run).join("summary-export.json"))
}

/// The `http_reqs` count k6 reported for a corpus run.
pub fn k6_http_reqs(version: &str, run: &str) -> f64 {
    summary_export(version, run)["metrics"]["http_reqs"]["count"].as_f64().expect("http_reqs count")
}

/// The p(95) threshold on `http_req_duration` as the load script declares it
/// (`p(95)<250`), and whether k6 said it was crossed, from a summary-export.
pub fn p95_threshold(export: &serde_json::Value) -> (String, bool) {
    let th = export["metrics"]["http_req_duration"]["thresholds"].as_object().expect("http_req_duration thresholds");
    let (expr, crossed) = th.iter().find(|(k, _)| k.starts_with("p(95)")).expect("a p(95) threshold");
    (expr.clone(), crossed.as_bool().expect("bool"))
}

/// The `.cpuprofile` of a corpus run folder.
pub fn cpuprofile_in(dir: &Path) -> PathBuf {
    find_in(dir, |n| n.ends_with(".cpuprofile"))
}

/// The profiler's own data folder in a corpus run folder (`<pid>.0x`, `<pid>.clinic-doctor`, …).
pub fn tool_folder(dir: &Path, suffix: &str) -> PathBuf {
    find_in(dir, |n| n.ends_with(suffix) && !n.contains(".html"))
}

/// The demo app of one version: `apps/VERSION/` (its package.json's `main`)
/// or `apps/*-VERSION.js`.
pub fn app_script(version: &str) -> PathBuf {
    let dir = corpus().join("apps").join(version);
    if dir.is_dir() {
        let main = read_json(&dir.join("package.json"))["main"].as_str().expect("package.json main").to_string();
        return dir.join(main);
    }
    find_in(&corpus().join("apps"), |n| n.ends_with(&format!("-{version}.js")))
}

/// The corpus' k6 load script (the one without `handleSummary`).
pub fn load_script() -> PathBuf {
    let dir = corpus().join("k6");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("k6/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "js"))
        .filter(|p| !std::fs::read_to_string(p).unwrap_or_default().contains("handleSummary"))
        .collect();
    v.sort();
    v.into_iter().next().expect("a k6 script")
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_perfbundle"));
    c.env("SOURCE_DATE_EPOCH", "1795000000").env_remove("CI");
    c
}

/// Runs and returns the output; panics with stderr if the exit status is not `ok`.
pub fn run(args: &[&str], ok: bool) -> Output {
    let out = bin().args(args).output().expect("run perfbundle");
    if out.status.success() != ok {
        panic!(
            "perfbundle {args:?}: expected success={ok}, got {:?}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("perfbundle-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("mkdir");
    d
}

/// `inspect --json` of a bundle, parsed.
pub fn inspect_json(bundle: &Path) -> serde_json::Value {
    let out = run(&["inspect", "--json", bundle.to_str().expect("utf-8 path")], true);
    serde_json::from_slice(&out.stdout).expect("inspect --json prints JSON")
}

/// Every run folder of the corpus holding a k6 point stream and k6's summary-export.
pub fn runs_with_stream_and_summary() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for v in std::fs::read_dir(corpus().join("runs")).expect("runs/") {
        let v = v.expect("entry").path();
        for r in std::fs::read_dir(&v).expect("version folder") {
            let r = r.expect("entry").path();
            if r.join("k6.json.gz").is_file() && r.join("summary-export.json").is_file() {
                out.push(r);
            }
        }
    }
    out.sort();
    out
}

/// A child process killed when dropped (test servers, the app under test).
pub struct Proc(pub std::process::Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// The HTTP status of GET `path` on 127.0.0.1:`port`, if anything answers.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::io::{BufRead, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut line = String::new();
    std::io::BufReader::new(s).read_line(&mut line).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A program the test needs on PATH; a failure naming how to install it otherwise.
pub fn need(tool: &str, hint: &str) -> PathBuf {
    let out = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().expect("sh");
    let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!p.is_empty(), "{tool} is needed for this test: {hint} (scripts/setup.sh installs it)");
    PathBuf::from(p)
}

/// The k6-shop fixture's server on a free port.
pub fn start_shop() -> (Proc, u16) {
    use std::io::BufRead;
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k6-shop/server.js");
    let mut child = Command::new("node")
        .arg(fixture)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start node");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("port line");
    let port =
        serde_json::from_str::<serde_json::Value>(&line).expect("port JSON")["port"].as_u64().expect("port") as u16;
    (Proc(child), port)
}

/// The k6-shop fixture's k6 script.
pub fn shop_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k6-shop/shop.js")
}

/// One endpoint (value of the `name` tag) as k6's raw point stream has it.
#[derive(Debug, Default, Clone)]
pub struct RawEndpoint {
    /// `http_reqs` points.
    pub requests: u64,
    /// `http_req_failed` points whose value is 1.
    pub failed: u64,
    /// Every `http_req_duration` value, sorted.
    pub durations: Vec<f64>,
}

impl RawEndpoint {
    /// k6's percentile of the durations (linear interpolation between ranks, as k6 computes it).
    pub fn percentile(&self, p: f64) -> f64 {
        let d = &self.durations;
        let pos = p * (d.len() as f64 - 1.0);
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        d[lo] + (d[hi] - d[lo]) * (pos - lo as f64)
    }
}

/// Each endpoint of a run, counted from its raw `k6.json.gz`: the truth the
/// endpoints tables are checked against.
pub fn raw_endpoints(run: &Path) -> std::collections::BTreeMap<String, RawEndpoint> {
    let text = read_text(&run.join("k6.json.gz"));
    let mut out: std::collections::BTreeMap<String, RawEndpoint> = Default::default();
    for line in text.lines() {
        let v: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(_) => continue,
        };
        if v["type"] != "Point" {
            continue;
        }
        let Some(name) = v["data"]["tags"]["name"].as_str() else { continue };
        let value = v["data"]["value"].as_f64().unwrap_or(f64::NAN);
        let e = out.entry(name.to_string()).or_default();
        match v["metric"].as_str() {
            Some("http_reqs") => e.requests += 1,
            Some("http_req_failed") if value == 1.0 => e.failed += 1,
            Some("http_req_duration") => e.durations.push(value),
            _ => {}
        }
    }
    for e in out.values_mut() {
        e.durations.sort_by(f64::total_cmp);
    }
    out.retain(|_, e| e.requests > 0);
    out
}
