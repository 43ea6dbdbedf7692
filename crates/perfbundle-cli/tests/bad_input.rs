//! Hostile and broken input: each gets a clear error naming the file and the
//! place, a non-zero exit, and no output file.

mod common;

use std::io::{Read, Write};
use std::path::Path;

use common::*;

fn gunzip(p: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(p).expect("open")).read_to_end(&mut out).expect("gunzip");
    out
}

fn v1_stream() -> std::path::PathBuf {
    run_dir("v1", "k6-only").join("k6.json.gz")
}

fn assert_no_output(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir).expect("dir").filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert!(left.iter().all(|n| !n.to_string_lossy().contains("perfbundle")), "left behind: {left:?}");
}

#[test]
fn truncated_gzip() {
    let dir = tmpdir("trunc");
    let bytes = std::fs::read(v1_stream()).expect("read");
    let cut = dir.join("cut.json.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let out_dir = tmpdir("trunc-out");
    let out = out_dir.join("x.perfbundle");
    let o = run(&["pack", "-o", out.to_str().unwrap(), cut.to_str().unwrap()], false);
    let e = stderr(&o);
    assert!(e.contains("cut.json.gz") && e.contains("reading line") && e.contains("truncated"), "{e}");
    assert_no_output(&out_dir);
}

#[test]
fn malformed_line_reports_its_number_and_lenient_skips_it() {
    let dir = tmpdir("malformed");
    let text = String::from_utf8(gunzip(&v1_stream())).expect("utf-8");
    let mut lines: Vec<&str> = text.lines().collect();
    let total = lines.len();
    lines.insert(41, "{\"metric\":\"http_reqs\",\"type\":\"Point\",\"data\":{\"time\":");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, lines.join("\n") + "\n").expect("write");
    let out = dir.join("x.perfbundle");
    let o = run(&["pack", "-o", out.to_str().unwrap(), bad.to_str().unwrap()], false);
    let e = stderr(&o);
    assert!(e.contains("bad.json: line 42:"), "{e}");
    assert!(!out.exists());

    run(&["pack", "--lenient", "-o", out.to_str().unwrap(), bad.to_str().unwrap()], true);
    let j = inspect_json(&out);
    let w = j["manifest"]["warnings"].to_string();
    assert!(w.contains("1 malformed lines skipped"), "{w}");
    // The skipped line was the inserted one: every request k6 counted is there.
    assert_eq!(j["k6"]["metrics"]["http_reqs"]["values"]["count"].as_f64(), Some(k6_http_reqs("v1", "k6-only")));
    assert!(total > 1_000, "a real stream: {total} lines");
}

#[test]
fn empty_file_wrong_kind_and_empty_folder() {
    let dir = tmpdir("kinds");
    let empty = dir.join("empty.json");
    std::fs::write(&empty, b"").expect("write");
    let out = dir.join("x.perfbundle");
    let e = stderr(&run(&["pack", "-o", out.to_str().unwrap(), empty.to_str().unwrap()], false));
    assert!(e.contains("empty.json") && e.contains("empty"), "{e}");

    // Blank lines only, forced as a k6 stream.
    let blank = dir.join("blank.json");
    std::fs::write(&blank, b"\n\n").expect("write");
    let e =
        stderr(&run(&["pack", "-o", out.to_str().unwrap(), "--as", &format!("k6-json:{}", blank.display())], false));
    assert!(e.contains("blank.json: the file is empty"), "{e}");

    // A real file of another tool: k6's web dashboard HTML.
    let html = run_dir("v1", "k6-only").join("k6-web-dashboard-report.html");
    let e = stderr(&run(&["pack", "-o", out.to_str().unwrap(), html.to_str().unwrap()], false));
    assert!(
        e.contains("k6-web-dashboard-report.html: not a known kind of input")
            && e.contains("k6-json")
            && e.contains("k6-csv"),
        "{e}"
    );

    // A folder with no known input (the corpus' app sources).
    let apps = corpus().join("apps");
    let e = stderr(&run(&["pack", "-o", out.to_str().unwrap(), apps.to_str().unwrap()], false));
    assert!(e.contains("no known input in this folder") && e.contains("Known kinds"), "{e}");

    // Forcing the wrong kind: the summary parser says what is wrong.
    let e = stderr(&run(
        &["pack", "-o", out.to_str().unwrap(), "--as", &format!("k6-summary-export:{}", v1_stream().display())],
        false,
    ));
    assert!(e.contains("k6.json.gz") && e.contains("not JSON"), "{e}");
    assert!(!out.exists());
}

#[test]
fn tampered_bundle_fails_verify_and_inspect() {
    let dir = tmpdir("tamper");
    let good = dir.join("good.perfbundle");
    run(&["pack", "-o", good.to_str().unwrap(), v1_stream().to_str().unwrap()], true);
    let o = run(&["verify", good.to_str().unwrap()], true);
    assert!(String::from_utf8_lossy(&o.stdout).contains("OK"));

    // Change one digit inside k6/summary.json, keep the archive well-formed.
    let tar = gunzip(&good);
    let pos = tar.windows(8).position(|w| w == b"\"count\":").expect("a count in the summary") + 8;
    let mut bad_tar = tar.clone();
    bad_tar[pos] = if bad_tar[pos] == b'1' { b'2' } else { b'1' };
    let bad = dir.join("bad.perfbundle");
    let mut gz =
        flate2::write::GzEncoder::new(std::fs::File::create(&bad).expect("create"), flate2::Compression::fast());
    gz.write_all(&bad_tar).expect("write");
    gz.finish().expect("finish");
    for cmd in ["verify", "inspect"] {
        let e = stderr(&run(&[cmd, bad.to_str().unwrap()], false));
        assert!(
            e.contains("bad.perfbundle") && e.contains("k6/summary.json") && e.contains("checksum mismatch"),
            "{cmd}: {e}"
        );
    }

    // Truncated bundle.
    let bytes = std::fs::read(&good).expect("read");
    let cut = dir.join("cut.perfbundle");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).expect("write");
    let e = stderr(&run(&["verify", cut.to_str().unwrap()], false));
    assert!(e.contains("cut.perfbundle") && e.contains("truncated"), "{e}");

    // Not a bundle at all.
    let e = stderr(&run(&["inspect", v1_stream().to_str().unwrap()], false));
    assert!(e.contains("not a perfbundle"), "{e}");
}

fn sha(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

fn craft(path: &Path, manifest: serde_json::Value, entries: &[(&str, &[u8])]) {
    use perfbundle_core::bundle::tar;
    let m = serde_json::to_vec(&manifest).expect("json");
    let mut gz =
        flate2::write::GzEncoder::new(std::fs::File::create(path).expect("create"), flate2::Compression::fast());
    tar::write_entry(&mut gz, "manifest.json", m.len() as u64, 0, &mut &m[..]).expect("write");
    for (p, b) in entries {
        tar::write_entry(&mut gz, p, b.len() as u64, 0, &mut &b[..]).expect("write");
    }
    tar::write_end(&mut gz).expect("end");
    gz.finish().expect("finish");
}

#[test]
fn unpack_refuses_escaping_paths_and_writes_nothing() {
    let dir = tmpdir("escape");
    for (i, evil) in ["../escaped.txt", "/tmp/perfbundle-escaped.txt", "a/../../escaped.txt"].iter().enumerate() {
        let b = dir.join(format!("evil{i}.perfbundle"));
        craft(
            &b,
            serde_json::json!({"format": "perfbundle", "format_version": "1.0", "title": "evil", "created_at": "2026-12-08T00:00:00Z", "created_by": "x",
                "entries": [{"path": evil, "kind": "raw", "size": 4, "sha256": sha(b"evil")}]}),
            &[(evil, b"evil")],
        );
        let dest = dir.join(format!("out{i}"));
        let e = stderr(&run(&["unpack", b.to_str().unwrap(), "-C", dest.to_str().unwrap()], false));
        assert!(e.contains("unsafe path") && e.contains(evil), "{e}");
        assert!(!dest.exists(), "destination created");
        assert!(!dir.join("escaped.txt").exists());
    }
    assert!(!Path::new("/tmp/perfbundle-escaped.txt").exists());
}

#[test]
fn unpack_and_inspect_refuse_oversized_and_future_bundles() {
    let dir = tmpdir("limits");
    // Declares 100 GiB: refused from the manifest, before any decompression.
    let b = dir.join("huge.perfbundle");
    craft(
        &b,
        serde_json::json!({"format": "perfbundle", "format_version": "1.0", "title": "huge", "created_at": "2026-12-08T00:00:00Z", "created_by": "x",
            "entries": [{"path": "raw/0/big", "kind": "raw", "size": 100u64 << 30, "sha256": "00"}]}),
        &[],
    );
    let e = stderr(&run(&["unpack", b.to_str().unwrap(), "-C", dir.join("o").to_str().unwrap()], false));
    assert!(e.contains("over the limit"), "{e}");

    // A real bomb: 64 MiB of zeros in a few KB, against --max-size 1 MiB.
    let zeros = vec![0u8; 64 << 20];
    let b = dir.join("bomb.perfbundle");
    craft(
        &b,
        serde_json::json!({"format": "perfbundle", "format_version": "1.0", "title": "bomb", "created_at": "2026-12-08T00:00:00Z", "created_by": "x",
            "entries": [{"path": "raw/0/zeros", "kind": "raw", "size": zeros.len(), "sha256": sha(&zeros)}]}),
        &[("raw/0/zeros", &zeros)],
    );
    assert!(std::fs::metadata(&b).expect("stat").len() < 1 << 20);
    let e = stderr(&run(
        &["unpack", "--max-size", "1048576", b.to_str().unwrap(), "-C", dir.join("o").to_str().unwrap()],
        false,
    ));
    assert!(e.contains("over the limit"), "{e}");
    assert!(!dir.join("o").exists());

    // A newer major version.
    let b = dir.join("future.perfbundle");
    craft(
        &b,
        serde_json::json!({"format": "perfbundle", "format_version": "2.0", "title": "t", "created_at": "2026-12-08T00:00:00Z", "created_by": "x", "entries": []}),
        &[],
    );
    let e = stderr(&run(&["inspect", b.to_str().unwrap()], false));
    assert!(e.contains("format version 2.0 is not supported"), "{e}");
}

#[test]
fn several_streams_are_refused_with_the_reason() {
    let dir = tmpdir("two");
    let out = dir.join("x.perfbundle");
    let a = run_dir("v1", "k6-only").join("k6.json.gz");
    let b = run_dir("v2", "k6-only").join("k6.json.gz");
    let e = stderr(&run(&["pack", "-o", out.to_str().unwrap(), a.to_str().unwrap(), b.to_str().unwrap()], false));
    assert!(e.contains("several k6 point streams"), "{e}");
}

#[test]
fn broken_profiles_name_the_file_and_what_was_expected() {
    let dir = tmpdir("bad-profiles");
    let out = dir.join("x.perfbundle");
    let o = out.to_str().unwrap();

    // A .cpuprofile cut in half.
    let cp = cpuprofile_in(&run_dir("v1", "cpu-prof"));
    let bytes = std::fs::read(&cp).expect("read");
    let cut = dir.join("cut.cpuprofile");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let e = stderr(&run(&["pack", "-o", o, cut.to_str().unwrap()], false));
    assert!(e.contains("cut.cpuprofile: not a complete .cpuprofile") && e.contains("EOF"), "{e}");

    // A perf script with a line that is none of perf's.
    let text = gunzip(&run_dir("v1", "perf").join("perf.script.txt.gz"));
    let text = String::from_utf8(text).expect("utf-8");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(20, "this line is not from perf");
    let bad = dir.join("bad.perf.txt");
    std::fs::write(&bad, lines.join("\n") + "\n").expect("write");
    let e = stderr(&run(&["pack", "-o", o, "--as", &format!("perf-script:{}", bad.display())], false));
    assert!(
        e.contains("bad.perf.txt: line 21: not a `perf script` line") && e.contains("expected a sample header"),
        "{e}"
    );

    // An 0x folder whose data file is gone.
    // (Every file of a real one but its V8 logs.)
    let src = tool_folder(&run_dir("v1", "0x"), ".0x");
    let name = src.file_name().unwrap().to_string_lossy().into_owned();
    let zx = dir.join(&name);
    std::fs::create_dir_all(&zx).expect("mkdir");
    let mut copied = 0;
    for f in std::fs::read_dir(&src).expect("dir").map(|e| e.expect("entry").path()) {
        if !f.file_name().unwrap().to_string_lossy().contains("-v8.log") {
            std::fs::copy(&f, zx.join(f.file_name().unwrap())).expect("copy");
            copied += 1;
        }
    }
    assert!(copied >= 2, "0x's meta.json and flame graph");
    let e = stderr(&run(&["pack", "-o", o, zx.to_str().unwrap()], false));
    assert!(
        e.contains(&format!("{name}: an 0x output folder, but its data file is missing")) && e.contains("v8.log.json"),
        "{e}"
    );

    // A Clinic.js folder of another tool (bubbleprof; the file inside is hand-made).
    let bp = dir.join("777.clinic-bubbleprof");
    std::fs::create_dir_all(&bp).expect("mkdir");
    std::fs::write(bp.join("777.clinic-bubbleprof-systeminfo"), b"{}").expect("write");
    let e = stderr(&run(&["pack", "-o", o, bp.to_str().unwrap()], false));
    assert!(e.contains("a Clinic.js bubbleprof folder") && e.contains("doctor and flame"), "{e}");

    // A Clinic doctor folder whose processstat is cut mid-frame.
    let src = tool_folder(&run_dir("v1", "clinic-doctor"), ".clinic-doctor");
    let ps_path = find_in(&src, |n| n.ends_with("-processstat"));
    let ps_name = ps_path.file_name().unwrap().to_string_lossy().into_owned();
    let cd = dir.join(src.file_name().unwrap());
    std::fs::create_dir_all(&cd).expect("mkdir");
    let ps = std::fs::read(&ps_path).expect("read");
    std::fs::write(cd.join(&ps_name), &ps[..ps.len() - 7]).expect("write");
    let e = stderr(&run(&["pack", "-o", o, cd.to_str().unwrap()], false));
    assert!(e.contains(&ps_name) && e.contains("truncated"), "{e}");
    assert!(!out.exists());
}

#[test]
fn names_in_flame_graphs_are_text() {
    let dir = tmpdir("escape-svg");
    // Hand-made folded stacks with hostile names.
    let f = dir.join("evil.folded");
    std::fs::write(&f, "main;<script>alert(1)</script> 5\nmain;a&b\"c'd 2\n").expect("write");
    let b = dir.join("evil.perfbundle");
    run(&["pack", "-o", b.to_str().unwrap(), f.to_str().unwrap()], true);
    run(
        &["export", b.to_str().unwrap(), "--out-dir", dir.join("out").to_str().unwrap(), "--flamegraph", "--icicle"],
        true,
    );
    for name in ["evil.svg", "evil.icicle.svg"] {
        let svg = std::fs::read_to_string(dir.join("out").join(name)).expect("svg");
        assert!(!svg.contains("<script>alert(1)"), "{name}: raw markup from a name");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{name}: name missing");
        assert!(svg.starts_with("<?xml"), "{name}");
    }
}
