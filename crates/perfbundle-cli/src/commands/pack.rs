//! `perfbundle pack`: inputs → one `.perfbundle`, through the core's one
//! pipeline (`perfbundle_core::pack`; the files are read by `crate::packing`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Result};
use clap::Args;
use perfbundle_core::ingest::InputKind;
use perfbundle_core::pack::{merged, PackPlan, Packed, ShardContent};

use crate::args::key_value;
use crate::inputs::{self, Forced, Input};
use crate::packing::{self, Spec};

/// Pack k6 outputs into one .perfbundle.
#[derive(Args, Debug)]
pub struct PackArgs {
    /// Output bundle.
    #[arg(short = 'o', long = "output", value_name = "OUT.perfbundle")]
    pub output: PathBuf,
    /// Title of the run (default: the app and version labels, and what ran when: `k6 run of 2026-11-30 09:48 UTC`).
    #[arg(long)]
    pub title: Option<String>,
    /// A free label, K=V (version, commit, branch, environment…). Repeatable.
    #[arg(long = "label", value_name = "K=V")]
    pub labels: Vec<String>,
    /// Keep the original input files under raw/ in the bundle.
    #[arg(long)]
    pub keep_raw: bool,
    /// Skip and count malformed lines instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// The longest line a line-oriented input (k6 JSON or CSV, folded stacks,
    /// perf script) may have; a longer one is an error.
    #[arg(long, value_name = "BYTES", default_value_t = perfbundle_core::ingest::lines::DEFAULT_MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
    /// Force an input's kind: KIND:PATH (kinds: k6-json, k6-csv, k6-summary-export, k6-handle-summary).
    #[arg(long = "as", value_name = "KIND:PATH")]
    pub forced: Vec<String>,
    /// Type of a metric the input does not declare (CSV custom metrics): NAME=counter|gauge|rate|trend.
    #[arg(long = "metric-type", value_name = "NAME=KIND")]
    pub metric_types: Vec<String>,
    /// A tool version to record, NAME=VERSION (e.g. k6=1.1.0). Repeatable.
    #[arg(long = "tool", value_name = "NAME=VERSION")]
    pub tools: Vec<String>,
    /// Record this machine (host, OS, CPU, cores, memory) as the run's environment.
    #[arg(long)]
    pub this_host: bool,
    /// Several k6 point streams are the shards of one distributed test:
    /// pack each, then merge them (as `perfbundle merge`). A summary file is
    /// paired with the stream whose file name begins its own (`shard0.json.gz`
    /// with `shard0-summary.json`).
    #[arg(long)]
    pub shards: bool,
    /// Put profiles on the k6 run's clock: `auto` (every clock hint a
    /// profile has, then the correlation of its non-idle samples with k6's
    /// requests; a profile the evidence does not place stays unaligned),
    /// `NAME=OFFSET` (its first sample OFFSET after k6's first sample:
    /// +1.5s, -200ms) or `NAME=at:RFC3339`. Repeatable; how each profile was
    /// placed is in the manifest (`alignment`, FORMAT.md §9).
    #[arg(long = "align", value_name = "auto|NAME=OFFSET|NAME=at:TIME")]
    pub align: Vec<String>,
    /// With --align auto: do not take this host's clocks as a hint (the
    /// profiles were recorded on another machine, or before its last boot).
    #[arg(long, requires = "align")]
    pub no_host_clock: bool,
    /// Do not record the git `commit`, `branch` and `dirty` labels of the
    /// work tree `pack` runs in (recorded by default; `--label` overrides each).
    #[arg(long)]
    pub no_git: bool,
    /// Input files or folders.
    #[arg(value_name = "INPUT", required_unless_present = "forced")]
    pub inputs: Vec<PathBuf>,
}

impl PackArgs {
    /// What the command line says of the bundle.
    fn spec(&self) -> Spec {
        Spec {
            // Without --title, the packed model names the bundle (`Packed::default_title`).
            title: self.title.clone().unwrap_or_default(),
            labels: self.labels.clone(),
            git: !self.no_git,
            tools: self.tools.clone(),
            metric_types: self.metric_types.clone(),
            this_host: self.this_host,
            lenient: self.lenient,
            max_line_bytes: self.max_line_bytes,
        }
    }
}

pub fn run(a: PackArgs) -> Result<ExitCode> {
    let all = inputs::collect(&a.inputs, &forced_inputs(&a.forced)?)?;
    let input_files: Vec<PathBuf> = all.iter().flat_map(|i| i.files.iter().cloned()).collect();
    crate::fsio::check_output(&a.output, &input_files)?;
    let align: Vec<packing::align::AlignSpec> =
        a.align.iter().map(|s| packing::align::parse(s)).collect::<Result<_>>()?;
    if a.shards {
        if !align.is_empty() {
            anyhow::bail!("--align with --shards: align when packing each shard, then merge");
        }
        return pack_shards(&a, &all);
    }
    let mut plan = PackPlan::new(a.spec().options()?);
    let raw = packing::add_files(&mut plan, &all, a.keep_raw, a.max_line_bytes, true)?;
    let mut packed = plan.finish(None);
    if a.title.is_none() {
        packed.manifest.title = packed.default_title();
    }
    let warnings = packing::align::apply(&mut packed, &align, &all, a.max_line_bytes, !a.no_host_clock)?;
    packed.manifest.warnings.extend(warnings);
    packing::write_and_report(packed, &raw, &a.output)?;
    Ok(ExitCode::SUCCESS)
}

fn forced_inputs(given: &[String]) -> Result<Vec<Forced>> {
    let mut forced = Vec::new();
    for f in given {
        let (k, p) = f.split_once(':').ok_or_else(|| anyhow!("--as {f:?}: expected KIND:PATH or profile:NAME=PATH"))?;
        if k == "profile" {
            let (name, path) = p.split_once('=').ok_or_else(|| anyhow!("--as {f:?}: expected profile:NAME=PATH"))?;
            forced.push(Forced { kind: None, name: Some(name.to_string()), path: PathBuf::from(path) });
            continue;
        }
        let kind = InputKind::from_name(k)
            .ok_or_else(|| anyhow!("--as {f:?}: unknown kind {k:?}. Known kinds: {}", InputKind::known_list()))?;
        forced.push(Forced { kind: Some(kind), name: None, path: PathBuf::from(p) });
    }
    Ok(forced)
}

/// `pack --shards`: each point stream (with its summary) planned in memory
/// on its own, the streams spread over the machine's cores, then merged.
fn pack_shards(a: &PackArgs, all: &[Input]) -> Result<ExitCode> {
    let streams: Vec<&Input> = all.iter().filter(|i| matches!(i.kind, InputKind::K6Json | InputKind::K6Csv)).collect();
    if streams.len() < 2 {
        anyhow::bail!("--shards needs the point streams of two shards or more (found {})", streams.len());
    }
    let stem = |i: &Input| i.file_name().split('.').next().unwrap_or_default().to_string();
    let shard_inputs: Vec<Vec<Input>> = streams
        .iter()
        .map(|st| {
            let s = stem(st);
            let mut v = vec![(*st).clone()];
            v.extend(
                all.iter()
                    .filter(|i| matches!(i.kind, InputKind::K6SummaryExport | InputKind::K6HandleSummary))
                    .filter(|i| i.file_name().starts_with(&s))
                    .cloned(),
            );
            v
        })
        .collect();
    let shard_spec = |n: usize, st: &Input| Spec {
        title: st.file_name(),
        labels: vec![format!("shard={n}")],
        git: !a.no_git,
        ..a.spec()
    };
    // Each shard's parse is one thread (its file is read on another), so a
    // worker per core, taking the next shard when done.
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, streams.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let held = std::sync::atomic::AtomicU64::new(0);
    let budget = perfbundle_core::bundle::ReadLimits::default().max_model_memory;
    let results: Vec<std::sync::Mutex<Option<Result<Packed>>>> =
        (0..streams.len()).map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= streams.len() {
                    break;
                }
                let r = (|| -> Result<Packed> {
                    // The shards' models are all held until merged: each packs within its share of the memory.
                    let mut opts = shard_spec(n, streams[n]).options()?;
                    opts.sharing = streams.len();
                    let mut plan = PackPlan::new(opts);
                    packing::add_files(&mut plan, &shard_inputs[n], false, a.max_line_bytes, false)?;
                    let packed = plan.finish(None);
                    // All shards' models are held until merged: within one budget, or refused.
                    let now = held.fetch_add(packed.k6_model_bytes(), std::sync::atomic::Ordering::Relaxed)
                        + packed.k6_model_bytes();
                    if now > budget {
                        anyhow::bail!(
                            "{}: with the shards packed before it, more than perfbundle holds in memory at once to merge ({} MiB of model): pack fewer shards together, or each on its own",
                            streams[n].file_name(),
                            budget >> 20
                        );
                    }
                    Ok(packed)
                })();
                let failed = r.is_err();
                *results[n].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                if failed {
                    next.store(streams.len(), std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    let mut shards: Vec<(String, Packed)> = Vec::new();
    for (n, r) in results.into_iter().enumerate() {
        let Some(r) = r.into_inner().unwrap_or_else(|e| e.into_inner()) else { continue };
        let packed = r?;
        for w in &packed.manifest.warnings {
            eprintln!(
                "perfbundle: warning: {}: {}",
                crate::terminal::terminal_text(&streams[n].file_name()),
                crate::terminal::terminal_text(w)
            );
        }
        shards.push((streams[n].file_name(), packed));
    }
    let title = a.title.clone();
    let labels: BTreeMap<String, String> = a.labels.iter().map(|l| key_value(l, "--label")).collect::<Result<_>>()?;
    let contents: Vec<ShardContent<'_>> = shards.iter().map(|(name, p)| p.as_shard(name)).collect();
    let mut packed = merged(&contents, title, labels, crate::args::now_secs(), false)?;
    if a.title.is_none() {
        packed.manifest.title = format!("{} (merged from {} shards)", packed.default_title(), shards.len());
    }
    packing::write_merged(packed, shards.len(), &a.output)?;
    Ok(ExitCode::SUCCESS)
}
