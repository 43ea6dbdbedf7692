//! The command line's manners: `--version` with the commit, completions and
//! man pages from the clap definitions, `--quiet` on every command, errors
//! that name the file and what to do, and the viewer built into the binary
//! used when no other is given.

use std::path::Path;
use std::process::Command;

fn perfbundle() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_perfbundle"));
    c.env_remove("PERFBUNDLE_VIEWER");
    c
}

fn archive(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../archives").join(name).display().to_string()
}

fn out(c: &mut Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn version_names_the_commit() {
    let (code, stdout, _) = out(perfbundle().arg("--version"));
    assert_eq!(code, 0);
    let v = stdout.trim();
    let (head, commit) = v.split_once(" (").unwrap_or_else(|| panic!("{v}"));
    assert!(head.starts_with("perfbundle 0."), "{v}");
    let commit = commit.trim_end_matches(')');
    assert!(commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())), "{v}");
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in
        [("bash", "_perfbundle()"), ("zsh", "#compdef perfbundle"), ("fish", "complete -c perfbundle")]
    {
        let (code, stdout, stderr) = out(perfbundle().args(["completions", shell]));
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains(marker), "{shell}");
        for sub in ["pack", "diff", "view", "html", "site", "completions", "man"] {
            assert!(stdout.contains(sub), "{shell}: {sub}");
        }
    }
    let (code, _, stderr) = out(perfbundle().args(["completions", "tcsh"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("possible values"), "{stderr}");
}

#[test]
fn man_pages() {
    let (code, stdout, _) = out(perfbundle().arg("man"));
    assert_eq!(code, 0);
    assert!(stdout.starts_with(".ie") || stdout.contains(".TH perfbundle 1"), "{}", &stdout[..200.min(stdout.len())]);
    let dir = std::env::temp_dir().join(format!("perfbundle-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (code, _, stderr) = out(perfbundle().args(["man", "--out-dir", dir.to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    let diff = std::fs::read_to_string(dir.join("perfbundle-diff.1")).unwrap();
    assert!(diff.contains(".TH perfbundle-diff 1") && diff.contains("fail\\-if"), "{diff}");
    assert!(!dir.join("perfbundle-help.1").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn quiet_is_accepted_everywhere_and_keeps_stderr_clean() {
    let (code, stdout, stderr) =
        out(perfbundle().args(["inspect", "--quiet", &archive("orders-api-v1-k6.perfbundle")]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("http_req_duration"));
    assert_eq!(stderr, "");
    let (code, _, _) = out(perfbundle().args(["-q", "verify", &archive("orders-api-v1-k6.perfbundle")]));
    assert_eq!(code, 0);
}

#[test]
fn a_viewer_folder_that_is_not_one_is_named_with_what_to_do() {
    let dir = std::env::temp_dir().join(format!("perfbundle-not-a-viewer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("r.html");
    let (code, _, stderr) = out(perfbundle().args([
        "html",
        &archive("orders-api-v1-k6.perfbundle"),
        "-o",
        report.to_str().unwrap(),
        "--viewer",
        dir.to_str().unwrap(),
    ]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains(dir.to_str().unwrap())
            && stderr.contains("no index.html")
            && stderr.contains("build-viewer.sh"),
        "{stderr}"
    );
    let (code, _, stderr) = out(perfbundle().env("PERFBUNDLE_VIEWER", &dir).args([
        "html",
        &archive("orders-api-v1-k6.perfbundle"),
        "-o",
        report.to_str().unwrap(),
    ]));
    assert_eq!(code, 2);
    assert!(stderr.contains("PERFBUNDLE_VIEWER"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The binary copied where no viewer folder is near it: `html` and `site` use the built-in one.
#[test]
fn the_built_in_viewer_without_any_folder() {
    let dir = std::env::temp_dir().join(format!("perfbundle-built-in-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    let bin = dir.join("bin/perfbundle");
    std::fs::copy(env!("CARGO_BIN_EXE_perfbundle"), &bin).unwrap();
    let report = dir.join("report.html");
    let o = Command::new(&bin)
        .env_remove("PERFBUNDLE_VIEWER")
        .current_dir(&dir)
        .args(["html", &archive("orders-api-v2-k6.perfbundle"), "-o", report.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("id=\"pb-wasm\"") && html.contains("id=\"pb-glue\"") && html.contains("orders-api v2"));
    let site = dir.join("site");
    let o = Command::new(&bin)
        .env_remove("PERFBUNDLE_VIEWER")
        .args(["site", &archive("orders-api-v2-k6.perfbundle"), "-o", site.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("viewer-dist");
    for e in std::fs::read_dir(&committed).unwrap() {
        let name = e.unwrap().file_name();
        assert_eq!(std::fs::read(site.join(&name)).unwrap(), std::fs::read(committed.join(&name)).unwrap(), "{name:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
