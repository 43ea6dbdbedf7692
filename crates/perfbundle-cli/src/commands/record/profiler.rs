//! The profilers: the command each puts in front of the app, how long each
//! may take to write, where it writes, and how its clock is aligned.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use perfbundle_core::bundle::AlignmentRecord;

use super::clock::{iso, Stamp};

/// The profilers, and what each needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    None,
    CpuProf,
    ClinicDoctor,
    ClinicFlame,
    ZeroX,
    Perf,
}

impl Kind {
    pub fn parse(s: &str) -> Result<Kind> {
        Ok(match s {
            "none" => Kind::None,
            "cpu-prof" => Kind::CpuProf,
            "clinic-doctor" => Kind::ClinicDoctor,
            "clinic-flame" => Kind::ClinicFlame,
            "0x" => Kind::ZeroX,
            "perf" => Kind::Perf,
            _ => bail!("--profile {s:?}: one of none, cpu-prof, clinic-doctor, clinic-flame, 0x, perf"),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::None => "none",
            Kind::CpuProf => "cpu-prof",
            Kind::ClinicDoctor => "clinic-doctor",
            Kind::ClinicFlame => "clinic-flame",
            Kind::ZeroX => "0x",
            Kind::Perf => "perf",
        }
    }

    /// The program the profiler needs, and how to install it.
    pub fn tool(self) -> Option<(&'static str, &'static str)> {
        match self {
            Kind::ClinicDoctor | Kind::ClinicFlame => {
                Some(("clinic", "npm install -g clinic (the npm package `clinic`)"))
            }
            Kind::ZeroX => Some(("0x", "npm install -g 0x (the npm package `0x`)")),
            Kind::Perf => Some(("perf", "apt-get install linux-perf (Debian; `linux-tools` on Ubuntu)")),
            Kind::None | Kind::CpuProf => None,
        }
    }

    /// Whether the profiler is a process of its own that runs the app as its
    /// child (and writes after the app has exited); otherwise the started
    /// process is the app itself.
    pub fn wraps_app(self) -> bool {
        matches!(self, Kind::ClinicDoctor | Kind::ClinicFlame | Kind::ZeroX | Kind::Perf)
    }

    /// Time added to `--stop-timeout` before SIGTERM, for a profiler that
    /// writes inside the app's own process as it exits: node writes the
    /// `.cpuprofile` of `--cpu-prof` after SIGINT, before the process ends,
    /// and SIGTERM (node's default action) would end it without one.
    pub fn in_app_allowance(self) -> Duration {
        match self {
            Kind::CpuProf => Duration::from_secs(10),
            _ => Duration::ZERO,
        }
    }

    /// How long a profiler that runs the app may go on writing once the app
    /// has exited (it turns its raw data into its output then: 0x and
    /// Clinic.js process the V8 log, which takes seconds to minutes on long
    /// runs; perf finishes perf.data). Not counted in `--stop-timeout`.
    pub fn write_allowance(self) -> Duration {
        match self {
            Kind::ClinicDoctor | Kind::ClinicFlame | Kind::ZeroX => Duration::from_secs(300),
            Kind::Perf => Duration::from_secs(120),
            Kind::None | Kind::CpuProf => Duration::ZERO,
        }
    }
}

/// A program on PATH.
pub fn which(prog: &str) -> Option<PathBuf> {
    which::which(prog).ok()
}

/// The app's command with the profiler in front. Everything the profiler
/// writes goes to `work`, not to the app's working directory.
pub fn profiled_command(kind: Kind, app: &[String], work: &Path) -> Result<Vec<String>> {
    let node_first = || -> Result<&[String]> {
        match app.first().map(|s| Path::new(s).file_name().and_then(|n| n.to_str()).unwrap_or("")) {
            Some("node") | Some("nodejs") => Ok(&app[1..]),
            _ => bail!(
                "--profile {}: the app's command must start with `node` (the profiler is put in front of it)",
                kind.name()
            ),
        }
    };
    let w = |p: &str| work.join(p).display().to_string();
    Ok(match kind {
        Kind::None => app.to_vec(),
        Kind::CpuProf => {
            let rest = node_first()?;
            let mut v = vec![app[0].clone(), "--cpu-prof".into(), format!("--cpu-prof-dir={}", w("cpu-prof"))];
            v.extend(rest.iter().cloned());
            v
        }
        Kind::ClinicDoctor | Kind::ClinicFlame => {
            node_first()?;
            let sub = if kind == Kind::ClinicDoctor { "doctor" } else { "flame" };
            let mut v =
                vec!["clinic".into(), sub.into(), "--open=false".into(), "--dest".into(), w("clinic"), "--".into()];
            v.extend(app.iter().cloned());
            v
        }
        Kind::ZeroX => {
            node_first()?;
            // --working-dir: where V8's isolate log is written (the app keeps its own working directory).
            let mut v = vec![
                "0x".into(),
                "--working-dir".into(),
                work.display().to_string(),
                "--output-dir".into(),
                w("0x/{pid}.0x"),
                "--".into(),
            ];
            v.extend(app.iter().cloned());
            v
        }
        Kind::Perf => {
            let rest = node_first()?;
            // The hardware cycles event where the machine has counters; cpu-clock (a software
            // timer) where it has none, as in most VMs and containers.
            let event = if hardware_counters() { "cycles" } else { "cpu-clock" };
            let mut v = vec![
                "perf".into(),
                "record".into(),
                "-g".into(),
                "-e".into(),
                event.into(),
                "-F".into(),
                "999".into(),
                "-o".into(),
                w("perf.data"),
                "--".into(),
                app[0].clone(),
                // JavaScript frames readable in perf: the JIT's symbol map (/tmp/perf-PID.map).
                "--perf-basic-prof".into(),
                "--interpreted-frames-native-stack".into(),
            ];
            v.extend(rest.iter().cloned());
            v
        }
    })
}

/// Whether perf can count hardware cycles here.
fn hardware_counters() -> bool {
    Command::new("perf")
        .args(["stat", "-x,", "-e", "cycles", "--", "true"])
        .stdout(Stdio::null())
        .output()
        .map(|o| o.status.success() && !String::from_utf8_lossy(&o.stderr).contains("<not supported>"))
        .unwrap_or(false)
}

/// What the profiler wrote (empty when it wrote nothing).
pub fn profiler_outputs(kind: Kind, work: &Path) -> Result<Vec<PathBuf>> {
    let list = |dir: &Path, pred: &dyn Fn(&Path) -> bool| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| pred(p)).collect())
            .unwrap_or_default()
    };
    Ok(match kind {
        Kind::None => Vec::new(),
        Kind::CpuProf => list(&work.join("cpu-prof"), &|p| p.extension().is_some_and(|e| e == "cpuprofile")),
        Kind::ClinicDoctor => {
            list(&work.join("clinic"), &|p| p.is_dir() && p.to_string_lossy().ends_with(".clinic-doctor"))
        }
        Kind::ClinicFlame => {
            list(&work.join("clinic"), &|p| p.is_dir() && p.to_string_lossy().ends_with(".clinic-flame"))
        }
        Kind::ZeroX => list(&work.join("0x"), &|p| p.is_dir()),
        Kind::Perf => {
            let data = work.join("perf.data");
            if !data.is_file() {
                return Ok(Vec::new());
            }
            let script = work.join("perf.script");
            let out = std::fs::File::create(&script)?;
            let st = Command::new("perf")
                .args(["script", "-i"])
                .arg(&data)
                .stdout(out)
                .stderr(Stdio::null())
                .status()
                .context("perf script")?;
            if !st.success() {
                bail!("perf script -i {} failed ({st})", data.display());
            }
            vec![script]
        }
    })
}

/// Puts a profile's samples on the run's wall clock, and says how.
pub fn align_profile(
    p: &mut perfbundle_core::profile::Profile,
    kind: Kind,
    span: Option<(Stamp, Stamp)>,
) -> AlignmentRecord {
    let Some((start, end)) = span else {
        return AlignmentRecord { what: p.name.clone(), method: "no app was started".into(), uncertainty_ms: 0.0 };
    };
    match (kind, p.start_us) {
        // V8's cpuprofile times are CLOCK_MONOTONIC µs: one pair converts them.
        (Kind::CpuProf, Some(mono_us)) => {
            let offset_ns = start.wall_ns - start.mono_ns;
            p.start_unix_us = Some(mono_us + offset_ns / 1000);
            AlignmentRecord {
                what: p.name.clone(),
                method: "CLOCK_MONOTONIC timestamps of the .cpuprofile, converted with a wall-clock/monotonic pair perfbundle read when it started the app".into(),
                uncertainty_ms: start.spread_ns as f64 / 1e6,
            }
        }
        // 0x's V8 log counts µs from the isolate's start, shortly after the process's.
        (Kind::ZeroX, Some(since_start_us)) => {
            p.start_unix_us = Some(start.wall_ns / 1000 + since_start_us);
            AlignmentRecord {
                what: p.name.clone(),
                method: "V8 log times (µs since the isolate started) added to the time perfbundle started the app; the isolate starts after the process, so samples may be placed early by up to the app's start-up time".into(),
                uncertainty_ms: 250.0,
            }
        }
        _ => AlignmentRecord {
            what: p.name.clone(),
            method: format!(
                "no per-sample times in this profile: its samples lie within the app's run, {} → {}",
                iso(start.wall_ns),
                iso(end.wall_ns)
            ),
            uncertainty_ms: (end.wall_ns - start.wall_ns) as f64 / 1e6,
        },
    }
}

/// A file or folder that a profiler (or node under one) leaves in the
/// working directory: V8's `--prof` logs, profiles, Clinic.js's and 0x's
/// data folders, perf.data, node's trace logs.
pub fn is_profiler_leftover(name: &str) -> bool {
    (name.starts_with("isolate-") && name.ends_with(".log"))
        || name.ends_with("-v8.log")
        || name == "v8.log"
        || name.ends_with(".cpuprofile")
        || name.ends_with(".heapprofile")
        || name == ".clinic"
        || name.ends_with(".clinic-doctor")
        || name.ends_with(".clinic-flame")
        || name.ends_with(".clinic-bubbleprof")
        || name.ends_with(".clinic-heapprofiler")
        || name.ends_with(".0x")
        || name == "perf.data"
        || name == "perf.data.old"
        || (name.starts_with("node_trace.") && name.ends_with(".log"))
}

/// The names in a folder now.
pub fn names_in(dir: &Path) -> HashSet<OsString> {
    std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok().map(|e| e.file_name())).collect()).unwrap_or_default()
}

/// Moves what a profiler left in `dir` during the run (new since `before`,
/// and looking like a profiler's, not one of `keep`) into `to`; returns
/// the names moved.
pub fn move_leftovers(dir: &Path, before: &HashSet<OsString>, keep: &[PathBuf], to: &Path) -> Vec<String> {
    let keep: Vec<PathBuf> = keep.iter().filter_map(|k| k.canonicalize().ok()).collect();
    let mut moved = Vec::new();
    for name in names_in(dir) {
        let text = name.to_string_lossy();
        if before.contains(&name) || !is_profiler_leftover(&text) {
            continue;
        }
        let from = dir.join(&name);
        if from.canonicalize().is_ok_and(|c| keep.contains(&c)) {
            continue;
        }
        if std::fs::create_dir_all(to).is_ok() && std::fs::rename(&from, to.join(&name)).is_ok() {
            moved.push(text.into_owned());
        }
    }
    moved.sort();
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profilers_go_in_front_of_node() {
        let app: Vec<String> = ["node", "app.js", "--port", "1"].iter().map(|s| s.to_string()).collect();
        let w = Path::new("/w");
        assert_eq!(
            profiled_command(Kind::CpuProf, &app, w).unwrap()[..3],
            ["node", "--cpu-prof", "--cpu-prof-dir=/w/cpu-prof"]
        );
        assert_eq!(
            profiled_command(Kind::ClinicDoctor, &app, w).unwrap()[..6],
            ["clinic", "doctor", "--open=false", "--dest", "/w/clinic", "--"]
        );
        assert_eq!(
            profiled_command(Kind::ZeroX, &app, w).unwrap()[..6],
            ["0x", "--working-dir", "/w", "--output-dir", "/w/0x/{pid}.0x", "--"]
        );
        assert!(profiled_command(Kind::Perf, &app, w).unwrap().contains(&"--perf-basic-prof".to_string()));
        let not_node: Vec<String> = vec!["python3".into(), "app.py".into()];
        assert!(profiled_command(Kind::ZeroX, &not_node, w)
            .unwrap_err()
            .to_string()
            .contains("must start with `node`"));
        assert_eq!(profiled_command(Kind::None, &not_node, w).unwrap(), not_node);
    }

    #[test]
    fn only_new_profiler_leftovers_are_moved() {
        let dir = std::env::temp_dir().join(format!("perfbundle-leftovers-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cwd = dir.join("cwd");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::write(cwd.join("isolate-0x1-1-v8.log"), "old").unwrap();
        let before = names_in(&cwd);
        for n in ["isolate-0x55d0-4242-4242-v8.log", "app.db", "mine.cpuprofile", "run.perfbundle"] {
            std::fs::write(cwd.join(n), "x").unwrap();
        }
        std::fs::create_dir_all(cwd.join(".clinic")).unwrap();
        let moved = move_leftovers(&cwd, &before, &[cwd.join("mine.cpuprofile")], &dir.join("left"));
        assert_eq!(moved, [".clinic", "isolate-0x55d0-4242-4242-v8.log"]);
        let mut now: Vec<String> = names_in(&cwd).into_iter().map(|n| n.to_string_lossy().into_owned()).collect();
        now.sort();
        assert_eq!(now, ["app.db", "isolate-0x1-1-v8.log", "mine.cpuprofile", "run.perfbundle"]);
        assert!(dir.join("left/.clinic").is_dir());
        let _ = std::fs::remove_dir_all(dir);
    }
}
