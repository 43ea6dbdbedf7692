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

#[test]
fn a_full_report_of_k6_a_timeline_and_a_profile() {
    let dir = tmpdir("md-full");
    let b = dir.join("run.perfbundle");
    let v1 = corpus().join("runs/v1");
    run(
        &[
            "pack",
            "-o",
            b.to_str().unwrap(),
            v1.join("clinic-doctor").to_str().unwrap(),
            v1.join("0x/10295.0x").to_str().unwrap(),
        ],
        true,
    );
    let out = dir.join("report");
    export(&b, &out, &[]);
    let md = check_links(&out);
    let j = inspect_json(&b);
    let p95 = j["k6"]["metrics"]["http_req_duration"]["values"]["p(95)"].as_f64().expect("p95");
    assert!(md.contains(&format!("p(95)={}", perfbundle_core::k6::text::format_ms(p95))), "{md}");
    assert!(md.contains("| ✗ | `p(95)<250` |"));
    assert!(md.contains("### Requests by `name`") && md.contains("http://127.0.0.1:18080/flaky"));
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
    assert!(md.contains("flamegraph-0-10295-0x.svg") && md.contains("### 10295.0x (0x, 24973 samples)"));
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
            vec![corpus().join("runs/v2/0x/15200.0x").display().to_string()],
            &["k6 data: no summary and no charts", "process timelines"],
        ),
        (
            "doctor-only",
            vec![corpus().join("runs/v1/clinic-doctor/10618.clinic-doctor").display().to_string()],
            &["k6 data", "profiles"],
        ),
        (
            "k6-only",
            vec![corpus().join("runs/v1/k6-only/k6.json.gz").display().to_string()],
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
