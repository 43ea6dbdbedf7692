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

/// Peak RSS of the largest child this test process has waited for, in bytes.
fn children_peak_rss() -> u64 {
    let u = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    u.max_rss() as u64 * 1024
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

/// The issue's memory probes, one after the other in this one test so that
/// the children's peak RSS is theirs: each gives a clear error or a correct
/// bundle, and none takes more than 256 MB.
#[test]
fn hostile_inputs_stay_within_256_mb() {
    let d = tmpdir("memory");
    let limit = 256 * MB;
    let t0 = std::time::Instant::now();
    let step = |what: &str| {
        eprintln!("{what}: {:.1} s, children's peak {} MB", t0.elapsed().as_secs_f64(), children_peak_rss() / MB)
    };
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
    fails_with(&["pack", "-o", b, "--as", &format!("k6-json:{l}")], "longer than 67108864 bytes");
    fails_with(&["pack", "-o", b, "--as", &format!("profile:long={l}")], "not a known kind");
    let folded = d.join("handmade-no-newline.folded");
    std::fs::rename(&long, &folded).unwrap();
    fails_with(
        &["pack", "-o", b, "--max-line-bytes", "1000000", "--as", &format!("folded:{}", folded.display())],
        "longer than 1000000 bytes",
    );
    std::fs::remove_file(&folded).unwrap();
    step("no-newline line");
    assert!(children_peak_rss() <= limit, "no-newline line: {} MB", children_peak_rss() / MB);

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
    let out = run(&["pack", "-o", b, many.to_str().unwrap()], true);
    let e = stderr(&out);
    assert!(e.contains("99000 distinct metric names past the limit of 1000"), "{e}");
    assert!(e.lines().count() < 40, "one summarising warning, not one per name: {} lines", e.lines().count());
    run(&["verify", b], true);
    step("many metrics");
    assert!(children_peak_rss() <= limit, "many metrics: {} MB", children_peak_rss() / MB);

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
    let out = run(&["pack", "-o", b, keys.to_str().unwrap()], true);
    assert!(stderr(&out).contains("past the limits"), "{}", stderr(&out));
    run(&["verify", b], true);
    assert_eq!(inspect_json(&bundle)["k6"]["metrics"]["t"]["values"]["count"], 400_000.0);
    step("sub-metric keys");
    assert!(children_peak_rss() <= limit, "sub-metric keys: {} MB", children_peak_rss() / MB);

    // 4. export of one 20,000-frame stack.
    let deep = d.join("handmade-deep.folded");
    let stack: Vec<String> = (0..20_000).map(|i| format!("frame_number_{i}")).collect();
    std::fs::write(&deep, format!("{} 5\n", stack.join(";"))).unwrap();
    // (Its one line is longer than the head read for detection: the kind is given.)
    run(&["pack", "-o", b, "--as", &format!("folded:{}", deep.display())], true);
    let exp = d.join("deep-export");
    run(&["export", b, "--out-dir", exp.to_str().unwrap(), "--folded"], true);
    let text = std::fs::read_to_string(exp.join("handmade-deep.folded")).unwrap();
    assert_eq!(text, format!("{} 5\n", stack.join(";")));
    step("deep export");
    assert!(children_peak_rss() <= limit, "deep export: {} MB", children_peak_rss() / MB);

    // 5. A bundle whose small model entry inflates to 500 MB, and one of 200 MB
    // (under the size limit for a model entry: the inflation bound stops it).
    // Written as gzip members of 1 MiB of spaces each, compressed once.
    for (mib, needle) in [(500u64, "over the limit"), (200, "decompression bomb")] {
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
        fails_with(&["verify", bomb.to_str().unwrap()], needle);
        fails_with(&["inspect", bomb.to_str().unwrap()], needle);
    }
    step("bomb");
    assert!(children_peak_rss() <= limit, "bomb: {} MB", children_peak_rss() / MB);
}
