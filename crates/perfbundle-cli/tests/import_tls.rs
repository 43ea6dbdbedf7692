//! `perfbundle import` over HTTPS, against a real InfluxDB 1.x serving TLS
//! with a certificate of a private CA made here by `openssl` (the test's
//! own, named so): trusted with `--ca-cert`, refused without.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn openssl(args: &[&str], dir: &Path) {
    let out =
        Command::new(need("openssl", "apt-get install openssl")).args(args).current_dir(dir).output().expect("openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA, and a certificate it signs for 127.0.0.1.
fn make_certs(dir: &Path) {
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=handmade test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
        dir,
    );
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        dir,
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "server.pem",
        ],
        dir,
    );
}

#[test]
fn influxdb_over_https_with_a_private_ca() {
    let dir = tmpdir("influx-tls");
    make_certs(&dir);
    let (port, rpc) = (free_port(), free_port());
    let d = dir.display();
    let conf = format!(
        "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc}\"\n[meta]\n  dir = \"{d}/meta\"\n[data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n[http]\n  bind-address = \"127.0.0.1:{port}\"\n  log-enabled = false\n  https-enabled = true\n  https-certificate = \"{d}/server.pem\"\n  https-private-key = \"{d}/server.key\"\n[monitor]\n  store-enabled = false\n"
    );
    std::fs::write(dir.join("influxdb.conf"), conf).unwrap();
    let _influx = Proc(
        Command::new(need("influxd", "apt-get install influxdb"))
            .args(["run", "-config"])
            .arg(dir.join("influxdb.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start influxd"),
    );
    let url = format!("https://127.0.0.1:{port}");
    let ca = dir.join("ca.pem");
    let ca = ca.to_str().unwrap();
    // Ready when a TLS connection answers (the CLI itself asks, trusting the CA).
    let t0 = Instant::now();
    loop {
        let o = bin()
            .args(["import", "influxdb", "--url", &url, "--ca-cert", ca, "--db", "k6", "--list"])
            .output()
            .unwrap();
        let e = stderr(&o);
        // An empty server answers; what it says is that there is no database yet.
        if e.contains("database") || o.status.success() {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "influxd over TLS did not answer: {e}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Hand-made points, written over TLS with `openssl s_client` (the CLI only reads).
    let t =
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 600) * 1_000_000_000;
    let mut lines = String::new();
    for i in 0..25u64 {
        lines.push_str(&format!("http_reqs,scenario=default,status=200 value=1 {}\n", t + i * 100_000_000));
    }
    let post = |path: &str, body: &str| {
        let req = format!("POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n{body}", body.len());
        let mut child = Command::new("openssl")
            .args(["s_client", "-quiet", "-connect", &format!("127.0.0.1:{port}"), "-CAfile", ca])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.as_mut().unwrap().write_all(req.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let r = post("/query", "q=CREATE%20DATABASE%20k6");
    assert!(r.starts_with("HTTP/1.0 200") && !r.contains("\"error\""), "{r}");
    let r = post("/write?db=k6", &lines);
    assert!(r.starts_with("HTTP/1.0 204"), "{r}");

    let out = dir.join("tls.perfbundle");
    let from = perfbundle_core::time::format_rfc3339_ms((t - 1_000_000_000) as i64);
    let to = perfbundle_core::time::format_rfc3339_ms((t + 60_000_000_000) as i64);
    let o = bin()
        .args(["import", "influxdb", "--url", &url, "--ca-cert", ca, "--db", "k6", "--from", &from, "--to", &to])
        .args(["-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(inspect_json(&out)["k6"]["metrics"]["http_reqs"]["values"]["count"], 25.0);
    // Without the CA: refused, and said why.
    let o = bin().args(["import", "influxdb", "--url", &url, "--db", "k6", "--list"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains(&url) && (e.contains("UnknownIssuer") || e.contains("certificate")), "{e}");
    // A file that holds no certificate.
    let e = stderr(&run(
        &["import", "influxdb", "--url", &url, "--ca-cert", "/etc/hostname", "--db", "k6", "--list"],
        false,
    ));
    assert!(e.contains("--ca-cert /etc/hostname"), "{e}");
}
