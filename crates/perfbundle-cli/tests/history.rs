//! `perfbundle history` and `pack`'s git labels, as processes on bundles
//! packed from the corpus's real runs.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

fn pack(dir: &Path, run: &str, version: &str) {
    let out = dir.join(format!("{}.perfbundle", run.replace('/', "-")));
    let src = corpus().join("runs").join(run);
    run_args(&[
        "pack",
        "--no-git",
        "-o",
        out.to_str().unwrap(),
        "--label",
        &format!("version={version}"),
        src.to_str().unwrap(),
    ]);
}

fn run_args(args: &[&str]) -> std::process::Output {
    run(args, true)
}

fn history(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["history", dir.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    serde_json::from_slice(&run_args(&args).stdout).expect("JSON")
}

#[test]
fn runs_are_ordered_by_time_or_by_version_with_changes_from_the_run_before() {
    let dir = tmpdir("history");
    // Run start times: v1/k6-only < v1/cpu-prof < v2/k6-only; versions the other way.
    pack(&dir, "v1/k6-only", "1.10.0");
    pack(&dir, "v1/cpu-prof", "1.9.0-rc1");
    pack(&dir, "v2/k6-only", "1.9.0");
    let files = |h: &Value| -> Vec<String> {
        h["runs"].as_array().unwrap().iter().map(|r| r["file"].as_str().unwrap().to_string()).collect()
    };
    let by_time = history(&dir, &[]);
    assert_eq!(by_time["by"], "start");
    assert_eq!(
        files(&by_time),
        ["bundles/v1-k6-only.perfbundle", "bundles/v1-cpu-prof.perfbundle", "bundles/v2-k6-only.perfbundle"]
    );
    let by_version = history(&dir, &["--by", "version"]);
    assert_eq!(
        files(&by_version),
        ["bundles/v1-cpu-prof.perfbundle", "bundles/v2-k6-only.perfbundle", "bundles/v1-k6-only.perfbundle"]
    );
    // Each figure is that run's inspect value, each change is from the run before.
    let runs = by_version["runs"].as_array().unwrap();
    let mut prev: Option<f64> = None;
    for r in runs {
        let name = r["file"].as_str().unwrap().trim_start_matches("bundles/");
        let j = inspect_json(&dir.join(name));
        let p95 = j["k6"]["metrics"]["http_req_duration"]["values"]["p(95)"].as_f64().unwrap();
        assert_eq!(r["http_req_duration_p95_ms"].as_f64().unwrap(), p95);
        assert_eq!(r["checks_rate"], j["k6"]["metrics"]["checks"]["values"]["rate"]);
        match prev {
            None => assert!(r["change"].as_object().unwrap().is_empty()),
            Some(p) => {
                let c = r["change"]["http_req_duration_p95_ms"].as_f64().unwrap();
                assert!((c - (p95 - p) / p).abs() < 1e-12);
            }
        }
        prev = Some(p95);
    }
    assert_eq!(runs[0]["thresholds_passed"], false);
    let (expr, crossed) = p95_threshold(&summary_export("v1", "cpu-prof"));
    assert!(crossed, "v1 crosses its p(95) threshold");
    assert_eq!(runs[0]["thresholds_failed"][0], format!("http_req_duration: {expr}"));
    // The table and the Markdown read the same.
    let text = String::from_utf8(run_args(&["history", dir.to_str().unwrap(), "--by", "version"]).stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].contains("1.9.0-rc1") && lines[3].contains("1.10.0"), "{text}");
    let md = String::from_utf8(run_args(&["history", dir.to_str().unwrap(), "--markdown"]).stdout).unwrap();
    assert!(md.starts_with("| run | start | request rate |"), "{md}");
    // An unknown label is an error, not a silent order.
    let out = bin().args(["history", dir.to_str().unwrap(), "--by", "nope"]).output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no run has a label \"nope\""));
}

#[test]
fn pack_records_the_git_work_tree_it_runs_in() {
    let dir = tmpdir("git");
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(&repo)
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    git(&["init", "-q"]);
    std::fs::write(repo.join("app.js"), "// app\n").unwrap();
    git(&["add", "app.js"]);
    git(&["commit", "-q", "-m", "first"]);
    git(&["checkout", "-q", "-b", "feature/fast"]);
    let head = git(&["rev-parse", "HEAD"]);
    let src = run_dir("v1", "k6-only");
    let labels = |extra: &[&str]| {
        let out = repo.join("run.perfbundle");
        let o = bin()
            .current_dir(&repo)
            .args(["pack", "-o", out.to_str().unwrap()])
            .args(extra)
            .arg(src.to_str().unwrap())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let j = inspect_json(&out);
        std::fs::remove_file(out).unwrap();
        j["manifest"]["labels"].clone()
    };
    let l = labels(&[]);
    assert_eq!(
        (l["commit"].as_str(), l["branch"].as_str(), l["dirty"].as_str()),
        (Some(head.as_str()), Some("feature/fast"), Some("false"))
    );
    std::fs::write(repo.join("app.js"), "// changed\n").unwrap();
    let l = labels(&["--label", "commit=abc123"]);
    assert_eq!((l["commit"].as_str(), l["dirty"].as_str()), (Some("abc123"), Some("true")));
    let l = labels(&["--no-git"]);
    assert!(l.get("commit").is_none());
    // Outside a work tree: no git labels.
    let outside = std::env::temp_dir().join(format!("perfbundle-nogit-{}", std::process::id()));
    std::fs::create_dir_all(&outside).unwrap();
    let out = outside.join("run.perfbundle");
    let o = bin()
        .current_dir(&outside)
        .env("GIT_CEILING_DIRECTORIES", std::env::temp_dir())
        .args(["pack", "-o", out.to_str().unwrap(), src.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(inspect_json(&out)["manifest"]["labels"].get("commit").is_none());
    let _ = std::fs::remove_dir_all(outside);
}
