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
