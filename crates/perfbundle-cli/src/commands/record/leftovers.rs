//! What a `record` leaves behind when it cannot clean up, found again:
//! the work folder of a `record` that was killed (SIGKILL leaves no chance
//! to remove it) and the app it had started, still running; and a process
//! that still listens on the app's port after the app stopped (a child the
//! app started, which outlived it).

use std::path::{Path, PathBuf};

/// The prefix of a work folder's name; the `record`'s PID follows it.
pub const WORK_PREFIX: &str = ".perfbundle-record-";
/// The file in a work folder that holds the PID of the app it started.
pub const APP_PID: &str = "app.pid";

/// Whether a process runs (and is not a zombie).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next()))
        .is_some_and(|state| state != 'Z' && state != 'X')
}

/// A process's command line, as text.
fn cmdline(pid: i32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let parts: Vec<String> =
        raw.split(|b| *b == 0).filter(|p| !p.is_empty()).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Work folders in `dir` of `record`s that no longer run: removed; what was
/// found said in words (a killed `record`'s app still running is named, not killed).
pub fn sweep(dir: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(WORK_PREFIX).and_then(|p| p.parse::<i32>().ok()) else { continue };
        if pid == std::process::id() as i32 || alive(pid) {
            continue;
        }
        let path = e.path();
        if let Some(app) = std::fs::read_to_string(path.join(APP_PID)).ok().and_then(|s| s.trim().parse::<i32>().ok()) {
            if alive(app) {
                notes.push(format!(
                    "the app an earlier record (PID {pid}, killed) started is still running: PID {app} ({}); stop it with `kill {app}`",
                    cmdline(app).unwrap_or_default()
                ));
            }
        }
        let size = folder_size(&path);
        if std::fs::remove_dir_all(&path).is_ok() {
            notes.push(format!(
                "removed {}: the work folder of an earlier record (PID {pid}) that was killed ({})",
                path.display(),
                perfbundle_core::format::amount(size, "bytes")
            ));
        }
    }
    notes
}

fn folder_size(p: &Path) -> u64 {
    let mut total = 0;
    let mut todo: Vec<PathBuf> = vec![p.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => todo.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// The processes listening on TCP `port` (IPv4 or IPv6), by the sockets in
/// /proc/net/tcp{,6} and each process's open files: `(pid, command line)`.
pub fn listeners(port: u16) -> Vec<(i32, String)> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in std::fs::read_to_string(table).unwrap_or_default().lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address, state (0A: LISTEN), …, inode (field 9).
            let (Some(local), Some(state), Some(inode)) = (f.get(1), f.get(3), f.get(9)) else { continue };
            let p = local.rsplit_once(':').and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if *state == "0A" && p == Some(port) {
                inodes.push(format!("socket:[{inode}]"));
            }
        }
    }
    if inodes.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        let fds = std::fs::read_dir(e.path().join("fd")).into_iter().flatten().flatten();
        if fds
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|t| inodes.iter().any(|i| t.as_os_str() == i.as_str()))
        {
            out.push((pid, cmdline(pid).unwrap_or_default()));
        }
    }
    out
}

/// The port of `--ready` (`http://host:port/…` or `host:port`).
pub fn ready_port(ready: &str) -> Option<u16> {
    let hostport = ready.strip_prefix("http://").map(|r| r.split('/').next().unwrap_or(r)).unwrap_or(ready);
    hostport.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_records_folder_is_swept_and_a_live_ones_kept() {
        let d = std::env::temp_dir().join(format!("perfbundle-leftovers-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        // A PID that cannot run (past pid_max), and this process's own.
        let dead = d.join(format!("{WORK_PREFIX}{}", i32::MAX));
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join("k6.json"), "x").unwrap();
        std::fs::write(dead.join(APP_PID), format!("{}", std::process::id())).unwrap();
        let mine = d.join(format!("{WORK_PREFIX}{}", std::process::id()));
        std::fs::create_dir(&mine).unwrap();
        let notes = sweep(&d);
        assert!(!dead.exists() && mine.exists());
        assert!(
            notes.iter().any(|n| n.contains("is still running") && n.contains(&format!("PID {}", std::process::id()))),
            "{notes:?}"
        );
        assert!(notes.iter().any(|n| n.starts_with("removed ")), "{notes:?}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn the_listeners_of_a_port_are_found() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let found = listeners(port);
        assert!(found.iter().any(|(pid, _)| *pid == std::process::id() as i32), "{found:?}");
        assert_eq!(ready_port(&format!("http://127.0.0.1:{port}/health")), Some(port));
        assert_eq!(ready_port("localhost:8080"), Some(8080));
    }
}
