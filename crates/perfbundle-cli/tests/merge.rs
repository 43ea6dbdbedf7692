//! Merging the shards of one distributed test: real shards (the corpus' catalog
//! load split by execution segments into 2 and 4 concurrent k6 processes,
//! tests/fixtures/shards/make.sh) against the union of their raw points.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn shard_dir(n: usize) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/shards/n{n}"))
}

/// Every value of every metric in the shards' raw point streams.
fn union_values(n: usize) -> HashMap<String, Vec<f64>> {
    let mut out: HashMap<String, Vec<f64>> = HashMap::new();
    for i in 0..n {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(
            std::fs::File::open(shard_dir(n).join(format!("shard{i}.json.gz"))).expect("open"),
        )
        .read_to_string(&mut text)
        .expect("gunzip");
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).expect("json line");
            if v["type"] == "Point" {
                out.entry(v["metric"].as_str().unwrap_or_default().to_string())
                    .or_default()
                    .push(v["data"]["value"].as_f64().expect("value"));
            }
        }
    }
    out
}

fn k6_percentile(sorted: &[f64], p: f64) -> f64 {
    let i = p * (sorted.len() as f64 - 1.0);
    let (j, k) = (sorted[i.floor() as usize], sorted[i.ceil() as usize]);
    j + (k - j) * (i - i.floor())
}

fn pack_shards(n: usize, out: &Path) {
    let mut args = vec!["pack".to_string(), "--shards".into(), "-o".into(), out.display().to_string()];
    for i in 0..n {
        args.push(shard_dir(n).join(format!("shard{i}.json.gz")).display().to_string());
        args.push(shard_dir(n).join(format!("shard{i}-summary.json")).display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args, true);
}

#[test]
fn merged_shards_equal_the_union_of_their_points() {
    for n in [2, 4] {
        let dir = tmpdir(&format!("merge-{n}"));
        let out = dir.join("merged.perfbundle");
        pack_shards(n, &out);
        let j = inspect_json(&out);
        let m = &j["k6"]["metrics"];
        let raw = union_values(n);
        for counter in ["http_reqs", "iterations", "data_received", "data_sent"] {
            let want: f64 = raw[counter].iter().sum();
            assert_eq!(m[counter]["values"]["count"].as_f64(), Some(want), "n{n}: {counter}");
        }
        for rate in ["http_req_failed", "checks"] {
            let passes = raw[rate].iter().filter(|v| **v != 0.0).count() as f64;
            assert_eq!(m[rate]["values"]["passes"].as_f64(), Some(passes), "n{n}: {rate} passes");
            assert_eq!(
                m[rate]["values"]["fails"].as_f64(),
                Some(raw[rate].len() as f64 - passes),
                "n{n}: {rate} fails"
            );
        }
        for trend in ["http_req_duration", "iteration_duration", "http_req_waiting"] {
            let mut v = raw[trend].clone();
            v.sort_by(f64::total_cmp);
            let got = &m[trend]["values"];
            assert_eq!(got["count"].as_f64(), Some(v.len() as f64), "n{n}: {trend} count");
            assert_eq!(got["min"].as_f64(), Some(v[0]), "n{n}: {trend} min");
            assert_eq!(got["max"].as_f64(), Some(v[v.len() - 1]), "n{n}: {trend} max");
            let avg = v.iter().sum::<f64>() / v.len() as f64;
            assert!((got["avg"].as_f64().expect("avg") - avg).abs() <= 1e-9 * avg, "n{n}: {trend} avg");
            for (k, p) in [("med", 0.5), ("p(90)", 0.9), ("p(95)", 0.95), ("p(99)", 0.99)] {
                let want = k6_percentile(&v, p);
                let g = got[k].as_f64().expect("percentile");
                assert!((g - want).abs() <= 0.01 * want.abs(), "n{n}: {trend} {k}: {g} vs {want} (union)");
            }
        }
        // The test's thresholds, re-evaluated on the merged figures.
        let (expr, _) = p95_threshold(&read_json(&shard_dir(n).join("shard0-summary.json")));
        let limit: f64 = expr.strip_prefix("p(95)<").and_then(|l| l.parse().ok()).expect("p(95)<LIMIT");
        let th = &m["http_req_duration"]["thresholds"][&expr]["ok"];
        let p95 = m["http_req_duration"]["values"]["p(95)"].as_f64().expect("p95");
        assert_eq!(th.as_bool(), Some(p95 < limit), "n{n}: {expr}");
        // Each shard stays visible as a sub-series, with its own figures.
        for i in 0..n {
            let own: Value = serde_json::from_slice(
                &std::fs::read(shard_dir(n).join(format!("shard{i}-summary.json"))).expect("read"),
            )
            .expect("json");
            assert_eq!(
                m[format!("http_reqs{{shard:{i}}}")]["values"]["count"].as_f64(),
                own["metrics"]["http_reqs"]["count"].as_f64(),
                "n{n} shard {i}"
            );
        }
        assert_eq!(j["manifest"]["merged_from"].as_array().map(Vec::len), Some(n));
        let text = String::from_utf8(run(&["inspect", out.to_str().unwrap()], true).stdout).expect("utf-8");
        assert!(text.contains(&format!("merged from {n} shards")), "{text}");
    }
}

#[test]
fn merge_of_bundles_equals_pack_shards_and_refuses_strangers() {
    let dir = tmpdir("merge-cmd");
    let mut parts = Vec::new();
    for i in 0..2 {
        let b = dir.join(format!("s{i}.perfbundle"));
        run(
            &[
                "pack",
                "-o",
                b.to_str().unwrap(),
                shard_dir(2).join(format!("shard{i}.json.gz")).to_str().unwrap(),
                shard_dir(2).join(format!("shard{i}-summary.json")).to_str().unwrap(),
            ],
            true,
        );
        parts.push(b);
    }
    let merged = dir.join("m.perfbundle");
    run(&["merge", "-o", merged.to_str().unwrap(), parts[0].to_str().unwrap(), parts[1].to_str().unwrap()], true);
    let packed = dir.join("p.perfbundle");
    pack_shards(2, &packed);
    assert_eq!(inspect_json(&merged)["k6"]["metrics"], inspect_json(&packed)["k6"]["metrics"]);

    // v1 and v2 ran minutes apart: not one test.
    let v1 = repo_root().join("archives/orders-api-v1-k6.perfbundle");
    let v2 = repo_root().join("archives/orders-api-v2-k6.perfbundle");
    let out = dir.join("x.perfbundle");
    let e = stderr(&run(&["merge", "-o", out.to_str().unwrap(), v1.to_str().unwrap(), v2.to_str().unwrap()], false));
    assert!(e.contains("do not belong together") && e.contains("--force"), "{e}");
    assert!(!out.exists());
    let o = run(&["merge", "--force", "-o", out.to_str().unwrap(), v1.to_str().unwrap(), v2.to_str().unwrap()], true);
    assert!(stderr(&o).contains("merged anyway"));
}
