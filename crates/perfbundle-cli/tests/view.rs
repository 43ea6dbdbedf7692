//! `perfbundle view` as a process, under load: hundreds of idle connections
//! held open (as in issue 14, which killed the old thread-per-connection
//! server under a 1 GiB address-space limit), names that need
//! percent-encoding, bundles copied in after the start, paths that try to
//! escape, and a large file sent without being read into memory. The viewer
//! is a hand-made folder with one index.html, so the real viewer build is not
//! needed.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const HANDMADE_INDEX: &str = "<!doctype html><title>hand-made test viewer for tests/view.rs</title>\n";

/// A viewer folder made by hand for these tests: one index.html.
fn handmade_viewer(dir: &Path) -> PathBuf {
    let v = dir.join("handmade-viewer");
    std::fs::create_dir_all(&v).unwrap();
    std::fs::write(v.join("index.html"), HANDMADE_INDEX).unwrap();
    v
}

fn archive(name: &str) -> PathBuf {
    repo_root().join("archives").join(name)
}

/// `perfbundle view` on a free port (optionally under `prlimit --as=BYTES`); its port.
fn serve(path: &Path, viewer: &Path, address_space: Option<u64>) -> (Proc, u16) {
    let exe = env!("CARGO_BIN_EXE_perfbundle");
    let mut c = match address_space {
        Some(bytes) => {
            let mut c = Command::new("prlimit");
            c.arg(format!("--as={bytes}")).arg("--").arg(exe);
            c
        }
        None => Command::new(exe),
    };
    let mut child = c
        .args(["view", path.to_str().unwrap(), "--port", "0", "--viewer", viewer.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start perfbundle view");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    (Proc(child), port)
}

/// A response: status, headers (lower-case names), body.
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// GET `path` exactly as written (no client-side normalisation), HTTP/1.0.
fn get(port: u16, path: &str) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the response");
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Resp { status, headers, body: raw[end + 4..].to_vec() }
}

/// A field of /proc/PID/status, in kB or as a count.
fn proc_status(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server is alive");
    s.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

fn listed(port: u16) -> Vec<String> {
    let r = get(port, "/index.json");
    assert_eq!(r.status, 200);
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    j["bundles"].as_array().unwrap().iter().map(|b| b["file"].as_str().unwrap().to_string()).collect()
}

#[test]
fn six_hundred_idle_connections_under_a_1_gib_address_space() {
    let dir = tmpdir("view-idle");
    let viewer = handmade_viewer(&dir);
    let runs = dir.join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    for b in ["orders-api-v1-k6.perfbundle", "orders-api-v1-cpu-prof.perfbundle"] {
        std::fs::copy(archive(b), runs.join(b)).unwrap();
    }
    // As issue 14 ran it: 1 GiB of address space.
    let (server, port) = serve(&runs, &viewer, Some(1 << 30));
    let pid = server.0.id();
    assert_eq!(get(port, "/index.json").status, 200);
    let rss_before = proc_status(pid, "VmRSS");

    let idle: Vec<TcpStream> = (0..600)
        .map(|i| TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("connection {i}: {e}")))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let t = Instant::now();
    let r = get(port, "/bundles/orders-api-v1-k6.perfbundle");
    let answered_in = t.elapsed();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, std::fs::read(runs.join("orders-api-v1-k6.perfbundle")).unwrap());
    assert!(answered_in < Duration::from_secs(2), "answered in {answered_in:?} with 600 idle connections");
    let (rss_with, threads, fds) = (
        proc_status(pid, "VmRSS"),
        proc_status(pid, "Threads"),
        std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count(),
    );
    eprintln!(
        "view with 600 idle connections: answered in {answered_in:?}; RSS {rss_before} kB before, {rss_with} kB with them; {threads} thread(s), {fds} open files"
    );
    assert!(threads <= 2, "idle connections cost no thread: {threads} threads");
    assert!(rss_with < rss_before + 32 * 1024, "RSS {rss_before} → {rss_with} kB");
    assert!(fds >= 600, "the idle connections are held open: {fds} files");

    // Idle connections are closed after the server's idle timeout (10 s); the server goes on.
    std::thread::sleep(Duration::from_secs(11));
    let mut closed = 0;
    for mut s in idle {
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut b = [0u8; 1];
        if matches!(s.read(&mut b), Ok(0)) {
            closed += 1;
        }
    }
    assert_eq!(closed, 600, "idle connections closed by the server");
    assert_eq!(get(port, "/").body, HANDMADE_INDEX.as_bytes());
    let rss_after = proc_status(pid, "VmRSS");
    eprintln!("view after the idle connections were closed: RSS {rss_after} kB");
    assert!(rss_after < rss_before + 32 * 1024);
}

#[test]
fn names_are_percent_decoded_and_escapes_refused() {
    let dir = tmpdir("view-names");
    let viewer = handmade_viewer(&dir);
    let runs = dir.join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    std::fs::copy(archive("orders-api-v1-k6.perfbundle"), runs.join("run 1.perfbundle")).unwrap();
    std::fs::write(dir.join("secret.txt"), "not to be served").unwrap();
    let (_server, port) = serve(&runs, &viewer, None);

    let r = get(port, "/bundles/run%201.perfbundle");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, std::fs::read(runs.join("run 1.perfbundle")).unwrap());
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(listed(port), ["bundles/run 1.perfbundle"]);
    let r = get(port, "/");
    assert_eq!((r.status, r.body.as_slice()), (200, HANDMADE_INDEX.as_bytes()));
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(get(port, "/index.html?bundle=bundles/run%201.perfbundle").status, 200);

    for bad in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/bundles/..%2f..%2fsecret.txt",
        "/bundles/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/bundles/%2e%2e/%2e%2e/secret.txt",
        "/..%5csecret.txt",
        "/%5c..%5csecret.txt",
    ] {
        let r = get(port, bad);
        assert!(r.status == 400 || r.status == 404, "{bad}: {}", r.status);
        assert!(!String::from_utf8_lossy(&r.body).contains("not to be served"), "{bad}");
    }
    assert_eq!(get(port, "/%2e%2e/secret.txt").status, 400);
    assert_eq!(get(port, "/bundles/nope.perfbundle").status, 404);
}

#[test]
fn bundles_copied_in_after_the_start_are_served_and_listed() {
    let dir = tmpdir("view-later");
    let viewer = handmade_viewer(&dir);
    let runs = dir.join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    // An empty folder is served too: runs land in it later.
    let (_server, port) = serve(&runs, &viewer, None);
    assert!(listed(port).is_empty());

    std::fs::copy(archive("orders-api-v1-k6.perfbundle"), runs.join("a.perfbundle")).unwrap();
    assert_eq!(listed(port), ["bundles/a.perfbundle"]);
    std::fs::copy(archive("orders-api-v2-k6.perfbundle"), runs.join("b later.perfbundle")).unwrap();
    let now = listed(port);
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(now.contains(&"bundles/b later.perfbundle".to_string()));
    let r = get(port, "/bundles/b%20later.perfbundle");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, std::fs::read(runs.join("b later.perfbundle")).unwrap());
    let trend = get(port, "/trend.html");
    assert_eq!(trend.status, 200);
    // A bundle removed leaves the list; one that does not read is left out.
    std::fs::remove_file(runs.join("a.perfbundle")).unwrap();
    std::fs::write(runs.join("broken.perfbundle"), b"not a bundle").unwrap();
    assert_eq!(listed(port), ["bundles/b later.perfbundle"]);
    assert_eq!(get(port, "/bundles/a.perfbundle").status, 404);
}

#[test]
fn a_large_file_is_streamed_not_read_into_memory() {
    let dir = tmpdir("view-large");
    let viewer = handmade_viewer(&dir);
    let runs = dir.join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    // 512 MiB of zeros (a sparse file: no disk used), named as a bundle.
    let big = runs.join("big.perfbundle");
    let size: u64 = 512 << 20;
    std::fs::File::create(&big).unwrap().set_len(size).unwrap();
    let (server, port) = serve(&runs, &viewer, Some(1 << 30));
    let pid = server.0.id();
    let peak_before = proc_status(pid, "VmHWM");
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET /bundles/big.perfbundle HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    assert!(total > size, "headers and {size} bytes: {total}");
    let peak_after = proc_status(pid, "VmHWM");
    eprintln!("view sent a 512 MiB file: peak RSS {peak_before} kB before, {peak_after} kB after");
    assert!(peak_after < peak_before + 32 * 1024, "peak RSS {peak_before} → {peak_after} kB");
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

/// GET `path` with the `Host` header given (or none): the status.
fn status_with_host(port: u16, path: &str, host: Option<&str>) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    match host {
        Some(h) => write!(s, "GET {path} HTTP/1.1\r\nHost: {h}\r\nConnection: close\r\n\r\n").unwrap(),
        None => write!(s, "GET {path} HTTP/1.0\r\n\r\n").unwrap(),
    }
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the response");
    String::from_utf8_lossy(&raw).split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn only_this_machine_by_its_own_names_and_only_files_inside_the_folder() {
    let d = tmpdir("view-host");
    let runs = d.join("runs");
    std::fs::create_dir(&runs).unwrap();
    std::fs::copy(archive("orders-api-v1-k6.perfbundle"), runs.join("a.perfbundle")).unwrap();
    // A secret outside the folder, and links to it from inside the folder.
    let secret = d.join("secret.txt");
    std::fs::write(&secret, "not to be served").unwrap();
    std::os::unix::fs::symlink(&secret, runs.join("leak.perfbundle")).unwrap();
    std::os::unix::fs::symlink(runs.join("a.perfbundle"), runs.join("inside.perfbundle")).unwrap();
    let viewer = handmade_viewer(&d);
    std::os::unix::fs::symlink(&secret, viewer.join("leak.html")).unwrap();
    let (_p, port) = serve(&runs, &viewer, None);
    // DNS rebinding: a page of another name reaching this port is refused.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")] {
        assert_eq!(status_with_host(port, "/bundles/a.perfbundle", Some(&host)), 200, "{host}");
    }
    for host in [
        format!("attacker.example:{port}"),
        format!("127.0.0.1:{}", port + 1),
        format!("localhost.attacker.example:{port}"),
    ] {
        assert_eq!(status_with_host(port, "/bundles/a.perfbundle", Some(&host)), 403, "{host}");
        assert_eq!(status_with_host(port, "/index.json", Some(&host)), 403, "{host}");
    }
    assert_eq!(status_with_host(port, "/", None), 403, "no Host: not a browser of this machine");
    // Links: inside the folder followed, out of it not (not served, not listed).
    assert_eq!(get(port, "/bundles/inside.perfbundle").status, 200);
    assert_eq!(get(port, "/bundles/leak.perfbundle").status, 404);
    assert_eq!(get(port, "/leak.html").status, 404);
    let names = listed(port);
    assert!(!names.iter().any(|n| n.contains("leak")), "{names:?}");
}
