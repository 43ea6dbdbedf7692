//! Helpers for tests that run the `perfbundle` binary on real files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared corpus of real tool outputs: `$PERFBUNDLE_CORPUS`, or
/// `../shared/corpus` beside the repository. Missing, the tests fail: they
/// are the proof that the numbers agree with k6.
pub fn corpus() -> PathBuf {
    let p = std::env::var_os("PERFBUNDLE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(p.join("runs").is_dir(), "the real-output corpus is not at {} (set PERFBUNDLE_CORPUS)", p.display());
    p
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
