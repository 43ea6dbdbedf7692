//! `pack` as a user runs it: folders, every input kind, forced kinds, labels.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn a_run_folder_is_packed_with_roles_chosen_by_content() {
    let dir = tmpdir("folder");
    let out = dir.join("run.perfbundle");
    let run_dir = run_dir("v2", "k6-only");
    let o = run(
        &[
            "pack",
            "-o",
            out.to_str().unwrap(),
            "--label",
            "version=v2",
            "--label",
            "commit=abc123",
            "--tool",
            "k6=v1.1.0",
            "--this-host",
            run_dir.to_str().unwrap(),
        ],
        true,
    );
    let err = stderr(&o);
    assert!(err.contains("k6.csv.gz: not used"), "{err}");
    let j = inspect_json(&out);
    let m = &j["manifest"];
    // Without --title, named by what ran and when (not by the folder's name).
    let start = m["run"]["start"].as_str().expect("the run's start");
    assert_eq!(m["title"], format!("v2 — k6 run of {} {} UTC", &start[..10], &start[11..16]));
    assert_eq!(m["labels"]["version"], "v2");
    assert_eq!(m["labels"]["commit"], "abc123");
    assert_eq!(m["tools"]["k6"], "v1.1.0");
    assert!(m["environment"]["cores"].as_u64().unwrap_or(0) >= 1);
    let kinds: Vec<&str> =
        m["inputs"].as_array().expect("inputs").iter().map(|i| i["kind"].as_str().unwrap_or("")).collect();
    for k in ["k6-json", "k6-csv", "k6-summary-export", "k6-handle-summary"] {
        assert!(kinds.contains(&k), "{kinds:?} lacks {k}");
    }
    // The web dashboard HTML in the folder is not an input.
    assert_eq!(kinds.len(), 4);
    assert_eq!(j["k6"]["points_source"], "k6-json");
    assert_eq!(j["k6"]["summary_source"], "k6-handle-summary");
    // The run starts at the stream's first point (to the millisecond).
    let first = read_text(&run_dir.join("k6.json.gz"))
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json line"))
        .filter(|v| v["type"] == "Point")
        .map(|v| perfbundle_core::time::parse_rfc3339_ns(v["data"]["time"].as_str().expect("time")).expect("RFC 3339"))
        .min()
        .expect("points");
    assert_eq!(m["run"]["start"], perfbundle_core::time::format_rfc3339_ms(first));
    let sha = m["inputs"].as_array().expect("inputs").iter().find(|i| i["kind"] == "k6-json").expect("json input")
        ["sha256"]
        .clone();
    use sha2::Digest;
    let want = hex::encode(sha2::Sha256::digest(std::fs::read(run_dir.join("k6.json.gz")).expect("read")));
    assert_eq!(sha, Value::from(want));
}

#[test]
fn k6_summaries_alone_give_k6s_figures() {
    let dir = tmpdir("summary-only");
    for (file, rate_key) in [("summary-export.json", "value"), ("handle-summary.json", "rate")] {
        let src = run_dir("v1", "k6-only").join(file);
        let out = dir.join(format!("{file}.perfbundle"));
        run(&["pack", "-o", out.to_str().unwrap(), src.to_str().unwrap()], true);
        let j = inspect_json(&out);
        let k6: Value = serde_json::from_slice(&std::fs::read(&src).expect("read")).expect("json");
        let theirs = |name: &str| -> Value {
            let m = &k6["metrics"][name];
            if m.get("values").is_some() {
                m["values"].clone()
            } else {
                m.clone()
            }
        };
        let d = &j["k6"]["metrics"]["http_req_duration"];
        assert_eq!(d["type"], "trend");
        assert_eq!(d["contains"], "time");
        assert_eq!(d["values"]["p(95)"], theirs("http_req_duration")["p(95)"]);
        assert_eq!(j["k6"]["metrics"]["http_req_failed"]["values"]["rate"], theirs("http_req_failed")[rate_key]);
        assert_eq!(j["k6"]["metrics"]["http_reqs"]["values"]["count"].as_f64(), theirs("http_reqs")["count"].as_f64());
        let (expr, crossed) = p95_threshold(&summary_export("v1", "k6-only"));
        assert!(crossed, "v1 crosses its p(95) threshold");
        assert_eq!(d["thresholds"][&expr]["ok"], false, "{expr}");
        assert!(j["k6"]["points_source"].is_null());
    }
}

#[test]
fn forced_kind_and_plain_inputs() {
    let dir = tmpdir("forced");
    // A plain (not gzip) stream under a name that says nothing, forced and detected.
    let mut plain = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(
            std::fs::File::open(run_dir("v1", "cpu-prof").join("k6.json.gz")).expect("open"),
        ),
        &mut plain,
    )
    .expect("gunzip");
    let p = dir.join("points.data");
    std::fs::write(&p, &plain).expect("write");
    for args in [vec![p.to_str().unwrap().to_string()], vec!["--as".to_string(), format!("k6-json:{}", p.display())]] {
        let out = dir.join("x.perfbundle");
        let mut a = vec!["pack".to_string(), "-o".into(), out.to_str().unwrap().into()];
        a.extend(args);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run(&a, true);
        let j = inspect_json(&out);
        assert_eq!(j["k6"]["metrics"]["http_reqs"]["values"]["count"].as_f64(), Some(k6_http_reqs("v1", "cpu-prof")));
        std::fs::remove_file(&out).expect("rm");
    }
    let e = stderr(&run(&["pack", "-o", dir.join("y.perfbundle").to_str().unwrap(), "--as", "nope:x"], false));
    assert!(e.contains("unknown kind") && e.contains("k6-json"), "{e}");
}

#[test]
fn inspect_by_tag_lists_the_break_down() {
    let b = repo_root().join("archives/orders-api-v1-k6.perfbundle");
    let out = run(&["inspect", "--by", "name", b.to_str().unwrap()], true);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    for route in ["/fast", "/fib?n=30", "/hash", "/alloc", "/flaky", "/search"] {
        assert!(
            text.lines().any(|l| l.contains("{ name:http://127.0.0.1:18080") && l.contains(route)),
            "no {route} row:\n{text}"
        );
    }
}

#[test]
fn one_bundle_holds_the_load_the_profiles_and_the_timeline() {
    let dir = tmpdir("mixed");
    let out = dir.join("run.perfbundle");
    let v1 = corpus().join("runs/v1");
    let cpu = cpuprofile_in(&v1.join("cpu-prof"));
    let zero_x = tool_folder(&v1.join("0x"), ".0x");
    let zero_x_name = zero_x.file_name().unwrap().to_string_lossy().into_owned();
    let doctor = tool_folder(&v1.join("clinic-doctor"), ".clinic-doctor");
    let doctor_name = doctor.file_name().unwrap().to_string_lossy().into_owned();
    run(
        &[
            "pack",
            "-o",
            out.to_str().unwrap(),
            "--keep-raw",
            "--as",
            &format!("profile:v1 under node --cpu-prof={}", cpu.display()),
            v1.join("clinic-doctor").to_str().unwrap(),
            zero_x.to_str().unwrap(),
        ],
        true,
    );
    let j = inspect_json(&out);
    let names: Vec<&str> =
        j["profiles"].as_array().expect("profiles").iter().map(|p| p["name"].as_str().unwrap_or("")).collect();
    assert_eq!(names, ["v1 under node --cpu-prof", zero_x_name.as_str()]);
    assert_eq!(j["timelines"][0]["source"], "clinic-doctor");
    // The k6 run is the one that drove the load under clinic doctor.
    assert_eq!(j["k6"]["metrics"]["http_reqs"]["values"]["count"].as_f64(), Some(k6_http_reqs("v1", "clinic-doctor")));
    let systeminfo = read_json(&find_in(&doctor, |n| n.ends_with("-systeminfo")));
    let doctor_version = systeminfo["toolVersion"].as_str().expect("toolVersion");
    assert_eq!(j["manifest"]["tools"]["@clinic/doctor"], doctor_version);
    // The 0x folder's data file is kept under raw/, with its folder in the input's name.
    let inputs = j["manifest"]["inputs"].as_array().expect("inputs");
    assert!(inputs
        .iter()
        .any(|i| i["kind"] == "0x" && i["name"].as_str().unwrap_or("").starts_with(&format!("{zero_x_name}/"))));
    assert!(inputs.iter().all(|i| i["raw_entry"].is_string()));
    let o = run(&["verify", out.to_str().unwrap()], true);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(text.contains("profiles/0.json") && text.contains("timelines/0.json"), "{text}");
    let human = String::from_utf8(run(&["inspect", out.to_str().unwrap()], true).stdout).expect("utf-8");
    // Sample counts as the tools' own files hold them: the .cpuprofile's samples, and
    // the processstat records clinic's own decoder found (tests/corpus/derived/).
    let cpu_samples = read_json(&cpu)["samples"].as_array().expect("samples").len();
    let doctor_samples =
        read_text(&corpus().join("derived/v1-clinic-doctor-processstat.decoded.ndjson")).lines().count();
    let want = format!("PROFILE v1 under node --cpu-prof (cpuprofile): {cpu_samples} samples");
    assert!(human.contains(&want), "{want}: {human}");
    let want = format!("TIMELINE {doctor_name} (clinic-doctor): {doctor_samples} samples");
    assert!(human.contains(&want), "{want}: {human}");
}

#[test]
fn a_timeline_recorded_during_another_run_is_named_in_a_warning() {
    let dir = tmpdir("timeline-apart");
    let doctor = tool_folder(&corpus().join("runs/v1/clinic-doctor"), ".clinic-doctor");
    // The timeline with the k6 run it was recorded under: no warning.
    let together = dir.join("together.perfbundle");
    let o = run(
        &[
            "pack",
            "-o",
            together.to_str().unwrap(),
            run_dir("v1", "clinic-doctor").join("k6.json.gz").to_str().unwrap(),
            doctor.to_str().unwrap(),
        ],
        true,
    );
    assert!(!stderr(&o).contains("do not overlap"), "{}", stderr(&o));
    // With the k6 run of v2 (recorded minutes later): a warning in the output and in the manifest.
    let apart = dir.join("apart.perfbundle");
    let o = run(
        &[
            "pack",
            "-o",
            apart.to_str().unwrap(),
            run_dir("v2", "clinic-doctor").join("k6.json.gz").to_str().unwrap(),
            doctor.to_str().unwrap(),
        ],
        true,
    );
    let err = stderr(&o);
    assert!(err.contains("do not overlap the k6 run"), "{err}");
    let j = inspect_json(&apart);
    let name = doctor.file_name().unwrap().to_string_lossy().into_owned();
    let warnings: Vec<&str> =
        j["manifest"]["warnings"].as_array().expect("warnings").iter().filter_map(Value::as_str).collect();
    assert!(
        warnings.iter().any(|w| w.starts_with(&format!("timeline {name}")) && w.contains("do not overlap")),
        "{warnings:?}"
    );
    // The Markdown report says so instead of drawing empty charts on the run's time axis.
    let md_dir = dir.join("md");
    run(&["export", apart.to_str().unwrap(), "--out-dir", md_dir.to_str().unwrap(), "--markdown"], true);
    let md = read_text(&md_dir.join("report.md"));
    assert!(md.contains("Not drawn: its samples ("), "{md}");
    assert!(!std::fs::read_dir(&md_dir).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("timeline-")));
}
