//! The app under its profiler: started in its own process group with its
//! output captured, watched until it answers, and stopped — SIGINT, then
//! SIGTERM, then SIGKILL — so that `record` always ends.

use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use super::clock::{stamp, Stamp};

/// Whether something answers at `ready`: an HTTP URL (any response) or HOST:PORT.
pub fn answers(ready: &str) -> bool {
    let hostport = match ready.strip_prefix("http://") {
        Some(rest) => rest.split('/').next().unwrap_or(rest).to_string(),
        None => ready.to_string(),
    };
    let Ok(mut addrs) = hostport.to_socket_addrs() else { return false };
    let Some(addr) = addrs.next() else { return false };
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) else { return false };
    if let Some(rest) = ready.strip_prefix("http://") {
        let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if write!(s, "GET {path} HTTP/1.0\r\nHost: {hostport}\r\n\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 5];
        return s.read_exact(&mut buf).is_ok() && &buf == b"HTTP/";
    }
    true
}

/// The app's last output lines (at most `n`, from the log's last 64 KiB,
/// whatever their encoding), introduced; or that it printed nothing.
pub fn last_lines(log: &Path, n: usize) -> String {
    let mut text = Vec::new();
    if let Ok(mut f) = std::fs::File::open(log) {
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let from = len.saturating_sub(64 * 1024);
        if f.seek(SeekFrom::Start(from)).is_ok() {
            let _ = f.read_to_end(&mut text);
        }
        if from > 0 {
            // The first line may be cut.
            let cut = text.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
            text.drain(..cut);
        }
    }
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end()).collect();
    let end = lines.iter().rposition(|l| !l.is_empty()).map_or(0, |i| i + 1);
    let lines = &lines[..end];
    if lines.is_empty() {
        return "it printed nothing (stdout and stderr were captured)".into();
    }
    format!("its last lines:\n{}", lines[lines.len().saturating_sub(n)..].join("\n"))
}

/// A process, by pid and start time (so that a reused pid is not taken for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Proc {
    pid: i32,
    start: u64,
}

/// State, process group and start time of a process, from /proc/PID/stat.
fn stat(pid: i32) -> Option<(char, i32, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name (which may hold spaces and parentheses): state ppid pgrp … (field 22: starttime).
    let rest: Vec<&str> = s.get(s.rfind(')')? + 1..)?.split_whitespace().collect();
    Some((rest.first()?.chars().next()?, rest.get(2)?.parse().ok()?, rest.get(19)?.parse().ok()?))
}

fn running(state: char) -> bool {
    state != 'Z' && state != 'X'
}

/// The live (not zombie) processes of a process group.
fn group_members(pgid: i32) -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let (state, pgrp, start) = stat(pid)?;
            (pgrp == pgid && running(state)).then_some(Proc { pid, start })
        })
        .collect()
}

fn alive(p: Proc) -> bool {
    stat(p.pid).is_some_and(|(state, _, start)| start == p.start && running(state))
}

/// When to send what, from SIGINT on.
#[derive(Debug, Clone, Copy)]
pub struct StopPlan {
    /// SIGINT → SIGTERM: `--stop-timeout`, plus the time a profiler that writes inside the app needs.
    pub term_after: Duration,
    /// SIGTERM → SIGKILL (and SIGKILL → giving up on the process).
    pub kill_after: Duration,
    /// Once the app has exited, how long its profiler may go on writing.
    pub write_allowance: Duration,
}

impl StopPlan {
    /// For a failed start: no profile is wanted, only that nothing stays running.
    pub fn quick() -> StopPlan {
        StopPlan {
            term_after: Duration::from_secs(2),
            kill_after: Duration::from_secs(1),
            write_allowance: Duration::from_secs(2),
        }
    }
}

/// How the app was stopped.
#[derive(Debug, Clone, Default)]
pub struct Stopped {
    /// The signals sent to the app, each with its time after the first.
    pub app_signals: Vec<(Signal, Duration)>,
    /// The last signal before the app's processes were gone; None when it
    /// had exited by itself before the stop.
    pub exited_by: Option<Signal>,
    /// From SIGINT until the app's processes were gone.
    pub app_exit_after: Duration,
    /// Under a profiler that runs the app: how long it went on writing after the app exited…
    pub profiler_wrote_for: Option<Duration>,
    /// …and the signals it took to end it, each with its time after the app exited.
    pub profiler_signals: Vec<(Signal, Duration)>,
    /// The started process's exit code (None when a signal ended it).
    pub exit_code: Option<i32>,
    /// A further signal to `record` moved the stop on before its time.
    pub hurried: bool,
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

impl Stopped {
    /// In one line, for the manifest's `record.commands.stop`: the signals
    /// in order with their times after the first, what the app exited by and
    /// after how long; then how long the profiler wrote.
    pub fn describe(&self, profiler: &str) -> String {
        let signals = |v: &[(Signal, Duration)]| {
            v.iter()
                .enumerate()
                .map(
                    |(i, (s, t))| {
                        if i == 0 {
                            s.as_str().to_string()
                        } else {
                            format!("{} at {}", s.as_str(), secs(*t))
                        }
                    },
                )
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = match self.exited_by {
            None => format!(
                "none: the app had exited by itself ({}) before the stop",
                self.exit_code.map_or("killed by a signal".to_string(), |c| format!("exit {c}"))
            ),
            Some(by) => {
                format!("{}: exited by {} after {}", signals(&self.app_signals), by.as_str(), secs(self.app_exit_after))
            }
        };
        if let Some(w) = self.profiler_wrote_for {
            match self.profiler_signals.first() {
                None => out.push_str(&format!("; {profiler} finished writing {} later", secs(w))),
                Some((_, first)) => out.push_str(&format!(
                    "; {profiler} was still writing {} after the app exited: {}",
                    secs(*first),
                    signals(&self.profiler_signals)
                )),
            }
        }
        out
    }

    /// What the manifest's warnings should say about the stop.
    pub fn warnings(&self, plan: &StopPlan, profiler: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        let incomplete = profiler.map(|p| format!("; {p}'s output may be incomplete")).unwrap_or_default();
        let by = self.exited_by.map_or("-", |s| s.as_str());
        if self.hurried {
            out.push(format!("a further signal to record hurried the stop: the app exited by {by}{incomplete}"));
        } else if self.app_signals.len() > 1 {
            out.push(format!(
                "the app did not exit within {} s of SIGINT: {by} ended it{incomplete}",
                plan.term_after.as_secs_f64()
            ));
        } else if self.exited_by.is_none() {
            out.push("the app exited by itself during the run, before record stopped it".into());
        }
        if let (Some(p), Some((last, _)), false) = (profiler, self.profiler_signals.last(), self.hurried) {
            out.push(format!(
                "{p} did not finish writing within {} s after the app exited: stopped with {}",
                plan.write_allowance.as_secs_f64(),
                last.as_str()
            ));
        }
        out
    }
}

/// A started app (under its profiler), in its own process group.
pub struct App {
    child: Child,
    pub log: PathBuf,
    pub start: Stamp,
    /// The started process is the profiler, which runs the app as its child.
    wrapped: bool,
}

impl App {
    /// Starts `cmd` in its own process group, stdout and stderr to `log`.
    pub fn start(cmd: &[String], wrapped: bool, log: PathBuf) -> Result<App> {
        use std::os::unix::process::CommandExt;
        let logf = std::fs::File::create(&log).with_context(|| format!("{}: cannot create", log.display()))?;
        let start = stamp();
        let child = Command::new(&cmd[0])
            .args(&cmd[1..])
            .env("NO_INSIGHT", "1")
            .stdin(Stdio::null())
            .stdout(logf.try_clone()?)
            .stderr(logf)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", cmd[0]))?;
        Ok(App { child, log, start, wrapped })
    }

    fn pgid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// The started process's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the started process has exited.
    pub fn exited(&mut self) -> Result<Option<std::process::ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    /// Stops the app: SIGINT to its process group (as Ctrl-C in a terminal
    /// would: profilers write their output on it), SIGTERM to the app's
    /// processes if they are still there after `plan.term_after`, SIGKILL
    /// after `plan.kill_after` more. A profiler that runs the app then has
    /// `plan.write_allowance` to finish writing (SIGTERM, then SIGKILL
    /// after it). A new signal to `record` (`interrupts()` grows) moves to the
    /// next step at once.
    pub fn stop(&mut self, plan: &StopPlan, what: &str, interrupts: &dyn Fn() -> usize) -> Result<Stopped> {
        let mut out = Stopped::default();
        let pgid = self.pgid();
        if let Some(st) = self.child.try_wait()? {
            out.exit_code = st.code();
            self.sweep();
            return Ok(out);
        }
        // The app's processes: the whole group, less the profiler that runs the app.
        let me = self.child.id() as i32;
        let app: Vec<Proc> =
            group_members(pgid.as_raw()).into_iter().filter(|p| !(self.wrapped && p.pid == me)).collect();
        let mut seen = interrupts();
        let t0 = Instant::now();
        if !app.is_empty() {
            let pb = crate::fsio::spinner("waiting for the app to exit (SIGINT sent)");
            let _ = killpg(pgid, Signal::SIGINT);
            out.app_signals.push((Signal::SIGINT, Duration::ZERO));
            let mut next = plan.term_after;
            loop {
                let _ = self.child.try_wait()?;
                let left: Vec<Proc> = app.iter().copied().filter(|p| alive(*p)).collect();
                if left.is_empty() {
                    out.exited_by = out.app_signals.last().map(|s| s.0);
                    out.app_exit_after = t0.elapsed();
                    break;
                }
                let now = t0.elapsed();
                if now >= next || interrupts() > seen {
                    out.hurried |= interrupts() > seen;
                    seen = interrupts();
                    let sig = match out.app_signals.len() {
                        1 => Signal::SIGTERM,
                        2 => Signal::SIGKILL,
                        _ => {
                            // Still there after SIGKILL (stuck in the kernel): give up waiting.
                            out.exited_by = Some(Signal::SIGKILL);
                            out.app_exit_after = now;
                            break;
                        }
                    };
                    pb.suspend(|| {
                        eprintln!(
                            "perfbundle: the app is still running {} after SIGINT: sending {}",
                            secs(now),
                            sig.as_str()
                        )
                    });
                    if self.wrapped {
                        // The app's processes only: the profiler goes on, to write what it has.
                        for p in left.iter().filter(|p| alive(**p)) {
                            let _ = kill(Pid::from_raw(p.pid), sig);
                        }
                    } else {
                        let _ = killpg(pgid, sig);
                    }
                    out.app_signals.push((sig, now));
                    next = now + plan.kill_after;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            pb.finish_and_clear();
        }
        // The profiler writes.
        if self.child.try_wait()?.is_none() {
            eprintln!(
                "perfbundle: the app has exited; waiting for {what} to finish writing (up to {} s)",
                plan.write_allowance.as_secs()
            );
            let pb = crate::fsio::spinner(&format!("waiting for {what} to finish writing"));
            let w0 = Instant::now();
            let mut next = plan.write_allowance;
            loop {
                if self.child.try_wait()?.is_some() {
                    break;
                }
                let now = w0.elapsed();
                if now >= next || interrupts() > seen {
                    out.hurried |= interrupts() > seen;
                    seen = interrupts();
                    let sig = if out.profiler_signals.is_empty() { Signal::SIGTERM } else { Signal::SIGKILL };
                    pb.suspend(|| {
                        eprintln!(
                            "perfbundle: {what} is still writing {} after the app exited: sending {}",
                            secs(now),
                            sig.as_str()
                        )
                    });
                    let _ = killpg(pgid, sig);
                    out.profiler_signals.push((sig, now));
                    if sig == Signal::SIGKILL {
                        let _ = self.child.wait();
                        break;
                    }
                    next = now + plan.kill_after;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            pb.finish_and_clear();
            out.profiler_wrote_for = Some(w0.elapsed());
        }
        out.exit_code = self.child.wait()?.code();
        self.sweep();
        Ok(out)
    }

    /// Nothing of the app's process group left running.
    fn sweep(&self) {
        if !group_members(self.pgid().as_raw()).is_empty() {
            let _ = killpg(self.pgid(), Signal::SIGKILL);
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        // Nothing left running, whatever happened.
        if let Ok(None) = self.child.try_wait() {
            let _ = killpg(self.pgid(), Signal::SIGKILL);
            let _ = self.child.wait();
        }
        self.sweep();
    }
}

/// Programs known to answer `--version` with their version and nothing
/// else; the name each is recorded under. An app's own script or binary is
/// never run with `--version`: it could start a second server, or worse.
const ANSWER_VERSION: &[(&str, &str)] = &[
    ("node", "node"),
    ("nodejs", "node"),
    ("deno", "deno"),
    ("bun", "bun"),
    ("python", "python"),
    ("python3", "python"),
    ("pypy3", "pypy"),
    ("ruby", "ruby"),
    ("php", "php"),
    ("java", "java"),
    ("dotnet", "dotnet"),
];

/// The runtime an app's command starts with, when it is one known to answer
/// `--version` harmlessly (`python3.12` counts as `python3`).
pub fn runtime_name(program: &str) -> Option<&'static str> {
    let base = Path::new(program).file_name()?.to_str()?;
    let base = match base.strip_prefix("python3.") {
        Some(minor) if !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()) => "python3",
        _ => base,
    };
    ANSWER_VERSION.iter().find(|(b, _)| *b == base).map(|(_, name)| *name)
}

/// The version of the runtime the app's command starts with: `(name, version)`.
pub fn runtime_version(program: &str) -> Option<(&'static str, String)> {
    let name = runtime_name(program)?;
    Some((name, version_of(program, "--version")?))
}

/// The first line a known program prints for `arg` (stdout, else stderr), within 5 s.
pub fn version_of(cmd: &str, arg: &str) -> Option<String> {
    let mut child =
        Command::new(cmd).arg(arg).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().ok()?;
    let t0 = Instant::now();
    while child.try_wait().ok()?.is_none() {
        if t0.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().ok()?;
    let first = |b: &[u8]| String::from_utf8_lossy(b).lines().map(str::trim).find(|l| !l.is_empty()).map(String::from);
    first(&out.stdout).or_else(|| first(&out.stderr))
}

/// The `version` in the `package.json` beside the app's script.
pub fn app_version(app: &[String]) -> Option<String> {
    let script = app
        .iter()
        .skip(1)
        .find(|a| !a.starts_with('-') && (a.ends_with(".js") || a.ends_with(".mjs") || a.ends_with(".cjs")))?;
    let dir = Path::new(script).parent()?;
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let text = std::fs::read_to_string(dir.join("package.json")).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?["version"].as_str().map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_comes_from_the_package_json_beside_the_script() {
        let dir = std::env::temp_dir().join(format!("perfbundle-appver-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("package.json"), r#"{"name":"shop","version":"2.4.1"}"#).unwrap();
        let app: Vec<String> =
            vec!["node".into(), "--enable-source-maps".into(), dir.join("server.js").display().to_string()];
        assert_eq!(app_version(&app).as_deref(), Some("2.4.1"));
        assert_eq!(app_version(&["node".to_string(), "/nowhere/x.js".to_string()]), None);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn only_known_runtimes_are_asked_their_version() {
        assert_eq!(runtime_name("node"), Some("node"));
        assert_eq!(runtime_name("/usr/bin/nodejs"), Some("node"));
        assert_eq!(runtime_name("python3.12"), Some("python"));
        for other in ["./start.sh", "/srv/app/server", "python3.x", "env", "npm", "npx", "sh", "bash"] {
            assert_eq!(runtime_name(other), None, "{other}");
        }
    }

    #[test]
    fn last_lines_are_read_whatever_their_encoding() {
        let dir = std::env::temp_dir().join(format!("perfbundle-lastlines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("app.log");
        std::fs::write(&log, b"").unwrap();
        assert_eq!(last_lines(&log, 5), "it printed nothing (stdout and stderr were captured)");
        assert!(last_lines(&dir.join("none.log"), 5).starts_with("it printed nothing"));
        std::fs::write(&log, b"one\n\xff\xfe binary\nthree: refused\n\n").unwrap();
        assert_eq!(last_lines(&log, 2), "its last lines:\n\u{fffd}\u{fffd} binary\nthree: refused");
        let long: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&log, long).unwrap();
        assert_eq!(last_lines(&log, 2), "its last lines:\nline 19998\nline 19999");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_stop_is_described_in_one_line() {
        let s = Stopped {
            app_signals: vec![
                (Signal::SIGINT, Duration::ZERO),
                (Signal::SIGTERM, Duration::from_secs(10)),
                (Signal::SIGKILL, Duration::from_millis(12_500)),
            ],
            exited_by: Some(Signal::SIGKILL),
            app_exit_after: Duration::from_millis(12_510),
            profiler_wrote_for: Some(Duration::from_millis(3_200)),
            ..Default::default()
        };
        assert_eq!(
            s.describe("0x"),
            "SIGINT, SIGTERM at 10.00 s, SIGKILL at 12.50 s: exited by SIGKILL after 12.51 s; 0x finished writing 3.20 s later"
        );
        let plan = StopPlan {
            term_after: Duration::from_secs(10),
            kill_after: Duration::from_millis(2_500),
            write_allowance: Duration::from_secs(300),
        };
        assert_eq!(
            s.warnings(&plan, Some("0x")),
            ["the app did not exit within 10 s of SIGINT: SIGKILL ended it; 0x's output may be incomplete"]
        );
        let hurried = Stopped { hurried: true, profiler_signals: vec![(Signal::SIGTERM, Duration::from_secs(2))], ..s };
        assert_eq!(
            hurried.warnings(&plan, Some("0x")),
            ["a further signal to record hurried the stop: the app exited by SIGKILL; 0x's output may be incomplete"]
        );
        let early = Stopped { exit_code: Some(3), ..Default::default() };
        assert_eq!(early.describe("none"), "none: the app had exited by itself (exit 3) before the stop");
    }
}
