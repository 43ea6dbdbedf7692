//! `export --markdown`: a report of what the bundle has (and says what it has
//! not), SVGs that are well-formed XML with every bundle string escaped, and
//! no silent overwrite of an existing folder.

mod common;

use std::path::Path;

use common::*;

fn export(bundle: &Path, dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["export", bundle.to_str().unwrap(), "--out-dir", dir.to_str().unwrap(), "--markdown"];
    args.extend_from_slice(extra);
    run(&args, true)
}

/// Every image the report links to exists and parses as XML.
fn check_links(dir: &Path) -> String {
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    let mut n = 0;
    for part in md.split("](").skip(1) {
        let target = &part[..part.find(')').expect("closing paren")];
        if target.ends_with(".svg") {
            let svg = std::fs::read_to_string(dir.join(target)).unwrap_or_else(|_| panic!("{target} missing"));
            // inferno's flame graphs carry a DOCTYPE.
            let opts = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
            roxmltree::Document::parse_with_options(&svg, opts).unwrap_or_else(|e| panic!("{target}: not XML: {e}"));
            n += 1;
        }
    }
    assert!(n > 0, "no image in the report");
    md
}

/// The `name` tag of the first failed request in a k6 point stream.
fn failed_request_name(stream: &Path) -> String {
    read_text(stream)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .find(|v| {
            v["type"] == "Point" && v["metric"] == "http_reqs" && v["data"]["tags"]["expected_response"] == "false"
        })
        .and_then(|v| v["data"]["tags"]["name"].as_str().map(String::from))
        .expect("a failed request")
}

#[test]
fn a_full_report_of_k6_a_timeline_and_a_profile() {
    let dir = tmpdir("md-full");
    let b = dir.join("run.perfbundle");
    let doctor = run_dir("v1", "clinic-doctor");
    let zero_x = tool_folder(&run_dir("v1", "0x"), ".0x");
    let zero_x_name = zero_x.file_name().unwrap().to_string_lossy().into_owned();
    // 0x's own sample count: the ticks in its `--prof-process --preprocess` output.
    let log: serde_json::Value =
        serde_json::from_str(&read_text(&find_in(&zero_x, |n| n.contains("-v8.log.json")))).expect("json");
    let ticks = log["ticks"].as_array().expect("ticks").len();
    run(&["pack", "-o", b.to_str().unwrap(), doctor.to_str().unwrap(), zero_x.to_str().unwrap()], true);
    let out = dir.join("report");
    export(&b, &out, &[]);
    let md = check_links(&out);
    let j = inspect_json(&b);
    let p95 = j["k6"]["metrics"]["http_req_duration"]["values"]["p(95)"].as_f64().expect("p95");
    assert!(md.contains(&format!("p(95)={}", perfbundle_core::k6::text::format_ms(p95))), "{md}");
    // The p(95) threshold k6 said was crossed in that run, and a request name of its stream.
    let (expr, crossed) = p95_threshold(&summary_export("v1", "clinic-doctor"));
    assert!(crossed, "v1 crosses its p(95) threshold");
    assert!(md.contains(&format!("| ✗ | `{expr}` |")), "{md}");
    let name = failed_request_name(&doctor.join("k6.json.gz"));
    assert!(md.contains("### Endpoints (k6's `name` tag)") && md.contains(&name), "{name}: {md}");
    // Each endpoint's requests and failures are the raw stream's.
    for (n, e) in raw_endpoints(&doctor) {
        let row =
            md.lines().find(|l| l.starts_with(&format!("| {} |", perfbundle_core::render::markdown::md_escape(&n))));
        let row = row.unwrap_or_else(|| panic!("{n}: {md}"));
        let cells: Vec<&str> = row.split(" | ").collect();
        assert_eq!(cells[1].replace(',', ""), e.requests.to_string(), "{row}");
        assert!(cells[2].starts_with(&format!("{} (", e.failed)), "{row}");
    }
    // The verdict leads, before the summary.
    assert!(md.find("## Verdict").unwrap() < md.find("## Summary (k6)").unwrap());
    for img in [
        "request-rate.svg",
        "vus.svg",
        "latency.svg",
        "failure-rate.svg",
        "timeline-0-cpu.svg",
        "timeline-0-memory.svg",
    ] {
        assert!(md.contains(&format!("]({img})")), "{img}");
    }
    let svg = format!("flamegraph-0-{}.svg", zero_x_name.replace('.', "-"));
    assert!(md.contains(&svg), "{svg}: {md}");
    assert!(md.contains(&format!("### {zero_x_name} (0x, {ticks} samples)")), "{md}");
    assert!(!md.contains("## Not in this bundle"));
    // An existing folder is not overwritten without --force.
    let e = stderr(&run(&["export", b.to_str().unwrap(), "--out-dir", out.to_str().unwrap(), "--markdown"], false));
    assert!(e.contains("exists and is not empty; use --force"), "{e}");
    export(&b, &out, &["--force"]);
}

#[test]
fn reports_of_partial_bundles_say_what_is_absent() {
    let dir = tmpdir("md-partial");
    let cases: [(&str, Vec<String>, &[&str]); 3] = [
        (
            "profile-only",
            vec![tool_folder(&run_dir("v2", "0x"), ".0x").display().to_string()],
            &["k6 data: no summary and no charts", "process timelines"],
        ),
        (
            "doctor-only",
            vec![tool_folder(&run_dir("v1", "clinic-doctor"), ".clinic-doctor").display().to_string()],
            &["k6 data", "profiles"],
        ),
        (
            "k6-only",
            vec![run_dir("v1", "k6-only").join("k6.json.gz").display().to_string()],
            &["profiles", "process timelines"],
        ),
    ];
    for (name, inputs, absent) in cases {
        let b = dir.join(format!("{name}.perfbundle"));
        let mut args = vec!["pack".to_string(), "-o".into(), b.display().to_string()];
        args.extend(inputs);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args, true);
        let out = dir.join(name);
        export(&b, &out, &[]);
        let md = check_links(&out);
        assert!(md.contains("## Not in this bundle"), "{name}");
        for a in absent {
            assert!(md.contains(a), "{name}: should say {a} is absent\n{md}");
        }
    }
}

#[test]
fn strings_from_the_bundle_are_escaped_in_markdown_and_svg() {
    let dir = tmpdir("md-xss");
    let f = dir.join("evil.folded");
    std::fs::write(&f, "main;<img src=x onerror=alert(1)> 4\nmain;[link](javascript:alert(2)) 1\n").expect("write");
    let b = dir.join("x.perfbundle");
    run(
        &[
            "pack",
            "-o",
            b.to_str().unwrap(),
            "--title",
            "<script>alert(3)</script>",
            "--label",
            "k=<b>|x|</b>",
            f.to_str().unwrap(),
        ],
        true,
    );
    let out = dir.join("r");
    export(&b, &out, &[]);
    let md = check_links(&out);
    assert!(!md.contains("<script>") && !md.contains("<img") && !md.contains("<b>"), "{md}");
    assert!(md.contains("&lt;script&gt;alert(3)&lt;/script&gt;"));
    assert!(md.contains("\\[link\\]"));
    assert!(md.contains("&lt;b&gt;\\|x\\|&lt;/b&gt;"));
}

/// Samples of a corpus run's raw `.cpuprofile` whose leaf is `(idle)`, and all its samples.
fn raw_idle(run: &Path) -> (u64, u64) {
    let j = read_json(&cpuprofile_in(run));
    let idle: std::collections::HashSet<u64> = j["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["callFrame"]["functionName"] == "(idle)")
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    let samples = j["samples"].as_array().unwrap();
    (samples.iter().filter(|s| idle.contains(&s.as_u64().unwrap())).count() as u64, samples.len() as u64)
}

#[test]
fn flame_graphs_and_reports_leave_idle_out_and_say_so() {
    // v2 under node --cpu-prof: mostly idle.
    let dir = tmpdir("idle");
    let run_v2 = run_dir("v2", "cpu-prof");
    let b = dir.join("v2.perfbundle");
    run(&["pack", "-o", b.to_str().unwrap(), run_v2.to_str().unwrap()], true);
    let (idle, all) = raw_idle(&run_v2);
    assert!(idle * 2 > all, "{idle} of {all}");
    let note =
        format!("idle {:.2}% of samples, not drawn", (idle as f64 / all as f64 * 10_000.0 + 1e-9).floor() / 100.0);
    let svgs = |extra: &[&str]| {
        let out = dir.join(format!("svg{}", extra.len()));
        let mut args = vec!["export", b.to_str().unwrap(), "--out-dir", out.to_str().unwrap(), "--flamegraph"];
        args.extend_from_slice(extra);
        run(&args, true);
        let f = find_in(&out, |n| n.ends_with(".svg"));
        std::fs::read_to_string(f).unwrap()
    };
    let cpu = svgs(&[]);
    assert!(cpu.contains(&note), "the subtitle says what is left out");
    assert!(!cpu.contains("<title>(idle)"), "no idle frame drawn");
    assert!(svgs(&["--with-idle"]).contains("<title>(idle)"));
    // The Markdown report's table does not lead with idle, and says it once.
    let md_dir = dir.join("md");
    export(&b, &md_dir, &[]);
    let md = check_links(&md_dir);
    assert_eq!(md.matches(&note).count(), 1, "{md}");
    let table = md.split("| self | self % |").nth(1).expect("a function table");
    assert!(!table.lines().take(12).any(|l| l.contains("(idle)")), "{table}");
    // inspect: the verdict on its first lines, then the profile without idle.
    let out = run(&["inspect", b.to_str().unwrap()], true);
    let text = String::from_utf8(out.stdout).unwrap();
    let verdict = text.lines().take(4).find(|l| l.trim_start().starts_with("verdict:")).expect("a verdict line");
    let export = summary_export("v2", "cpu-prof");
    let failed = &export["metrics"]["http_req_failed"];
    let fails = failed["passes"].as_u64().unwrap();
    assert!(
        verdict.contains(&format!(
            "http_req_failed {:.2}%",
            (failed["value"].as_f64().unwrap() * 10_000.0 + 1e-9).floor() / 100.0
        )),
        "{verdict}"
    );
    assert!(verdict.contains(&format!("— {fails} out of")), "{verdict}");
    assert!(text.contains(&note), "{text}");
    let table = text.split("category    function").nth(1).unwrap();
    assert!(!table.lines().take(10).any(|l| l.contains("(idle)")), "{table}");
}
