//! `perfbundle pack`: inputs → one `.perfbundle`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use perfbundle_core::bundle::{kinds, paths, BundleBuilder, InputRecord, Manifest};
use perfbundle_core::ingest::gzip::StrictGzDecoder;
use perfbundle_core::ingest::k6_json::JsonOptions;
use perfbundle_core::ingest::k6_summary::{self, SummaryInput};
use perfbundle_core::ingest::{k6_csv, k6_json, InputKind};
use perfbundle_core::k6::{assemble, Aggregator, AggregatorOptions, MetricType};
use perfbundle_core::time::{format_rfc3339_ms, format_rfc3339_secs};
use sha2::{Digest, Sha256};

use crate::fsio::{progress, AtomicFile, ChannelReader, Tap};
use crate::inputs::{self, Forced, Input, MAX_DOCUMENT_BYTES};

/// Pack k6 outputs into one .perfbundle.
#[derive(Args, Debug)]
pub struct PackArgs {
    /// Output bundle.
    #[arg(short = 'o', long = "output", value_name = "OUT.perfbundle")]
    pub output: PathBuf,
    /// Title of the run (default: the first input's name).
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
    /// Do not record the git `commit`, `branch` and `dirty` labels of the
    /// work tree `pack` runs in (recorded by default; `--label` overrides each).
    #[arg(long)]
    pub no_git: bool,
    /// Input files or folders.
    #[arg(value_name = "INPUT", required_unless_present = "forced")]
    pub inputs: Vec<PathBuf>,
}

/// `K=V` → (K, V); `what` names the option in the message.
pub fn key_value(s: &str, what: &str) -> Result<(String, String)> {
    let (k, v) = s.split_once('=').ok_or_else(|| anyhow!("{what} {s:?}: expected K=V"))?;
    if k.trim().is_empty() {
        bail!("{what} {s:?}: empty key");
    }
    Ok((k.trim().to_string(), v.to_string()))
}

/// `commit`, `branch` and `dirty` of the git work tree around the current
/// folder; nothing outside one, or without git.
fn git_labels() -> Vec<(String, String)> {
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git").args(args).stderr(std::process::Stdio::null()).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    if git(&["rev-parse", "--is-inside-work-tree"]).as_deref() != Some("true") {
        return Vec::new();
    }
    let mut v = Vec::new();
    if let Some(c) = git(&["rev-parse", "HEAD"]) {
        v.push(("commit".to_string(), c));
    }
    if let Some(b) = git(&["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD") {
        v.push(("branch".to_string(), b));
    }
    if let Some(s) = git(&["status", "--porcelain", "--untracked-files=no"]) {
        v.push(("dirty".to_string(), (!s.is_empty()).to_string()));
    }
    v
}

fn now_secs() -> u64 {
    if let Some(s) = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.parse().ok()) {
        return s;
    }
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn hash_file(path: &std::path::Path) -> Result<String> {
    let mut f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(hex::encode(h.finalize()))
}

/// A bundle built in memory, ready to be written.
struct Built {
    manifest: Manifest,
    created: u64,
    has_k6: bool,
    summary: perfbundle_core::k6::K6Summary,
    timeseries: Option<perfbundle_core::k6::K6TimeSeries>,
    profiles: Vec<perfbundle_core::profile::Profile>,
    timelines: Vec<perfbundle_core::timeline::Timeline>,
    raw_entries: Vec<(String, u64, String, String)>,
    raw_paths: HashMap<String, PathBuf>,
    warnings: Vec<String>,
}

/// Samples from somewhere other than a file (`perfbundle import`): `feed`
/// adds them to the aggregator and returns the source's name, bytes read,
/// their SHA-256 and warnings; `kind` names the source in the manifest.
pub struct ExternalPoints<'a> {
    pub kind: &'static str,
    #[allow(clippy::type_complexity)]
    pub feed: &'a mut dyn FnMut(&mut Aggregator) -> Result<(String, u64, String, Vec<String>)>,
    /// Runs on the assembled summary (told whether k6's own summary was given).
    #[allow(clippy::type_complexity)]
    pub finish: Option<&'a mut dyn FnMut(&mut perfbundle_core::k6::K6Summary, bool)>,
    /// Metric types the source knows.
    pub type_hints: HashMap<String, (MetricType, String)>,
    /// The time series' smallest bucket width, when the source's resolution is coarser than 100 ms.
    pub min_bucket_ms: Option<u64>,
}

pub fn run(a: PackArgs) -> Result<ExitCode> {
    run_with(a, None)
}

/// `pack`, with the samples from `external` instead of a point stream file.
pub fn run_with(a: PackArgs, external: Option<ExternalPoints<'_>>) -> Result<ExitCode> {
    run_full(a, external, None)
}

/// What may be changed in a built bundle before it is written (`record`
/// puts its record in the manifest and profiles on the run's clock).
pub type Adjust<'a> = &'a mut dyn FnMut(
    &mut Manifest,
    &mut [perfbundle_core::profile::Profile],
    &mut [perfbundle_core::timeline::Timeline],
    &perfbundle_core::k6::K6Summary,
) -> Result<()>;

/// `pack`, with samples from `external`, and `adjust` run before writing.
pub fn run_full(a: PackArgs, external: Option<ExternalPoints<'_>>, adjust: Option<Adjust<'_>>) -> Result<ExitCode> {
    let all = inputs::collect(&a.inputs, &forced_inputs(&a.forced)?)?;
    let input_files: Vec<PathBuf> = all.iter().flat_map(|i| i.files.iter().cloned()).collect();
    crate::fsio::check_output(&a.output, &input_files)?;
    if a.shards {
        return pack_shards(&a, &all);
    }
    let mut built = build(&a, &all, true, external)?;
    if let Some(f) = adjust {
        f(&mut built.manifest, &mut built.profiles, &mut built.timelines, &built.summary)?;
    }
    let n_inputs = all.len();
    let out_display = a.output.display().to_string();
    let summary_line = format!(
        "{} inputs, {} k6 series, {} k6 points, {} profiles, {} timelines",
        n_inputs,
        built.summary.series.len(),
        built.summary.stats.points,
        built.profiles.len(),
        built.timelines.len()
    );
    let warnings = built.warnings.clone();
    write_built(built, &a.output)?;
    for w in &warnings {
        eprintln!("perfbundle: warning: {w}");
    }
    let size = std::fs::metadata(&a.output).map(|m| m.len()).unwrap_or(0);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "wrote {out_display} ({size} bytes): {summary_line}");
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

/// Reads every input and builds the bundle's content (no output written).
fn build(a: &PackArgs, all: &[Input], show_progress: bool, external: Option<ExternalPoints<'_>>) -> Result<Built> {
    let mut labels: Vec<(String, String)> = if a.no_git { Vec::new() } else { git_labels() };
    for l in &a.labels {
        let (k, v) = key_value(l, "--label")?;
        labels.retain(|(x, _)| *x != k);
        labels.push((k, v));
    }
    let tools: Vec<(String, String)> = a.tools.iter().map(|l| key_value(l, "--tool")).collect::<Result<_>>()?;
    let mut type_opts = HashMap::new();
    for t in &a.metric_types {
        let (name, kind) = key_value(t, "--metric-type")?;
        let kind = MetricType::parse(&kind)
            .ok_or_else(|| anyhow!("--metric-type {t:?}: kind must be counter, gauge, rate or trend"))?;
        let contains = if kind == MetricType::Trend { "time" } else { "default" };
        type_opts.insert(name, (kind, contains.to_string()));
    }

    let mut warnings = Vec::new();

    // Roles: one point stream (JSON preferred over CSV), one k6 summary (handleSummary preferred).
    let pick = |kind: InputKind| all.iter().filter(move |i| i.kind == kind).collect::<Vec<_>>();
    let jsons = pick(InputKind::K6Json);
    let csvs = pick(InputKind::K6Csv);
    if jsons.len() > 1 || (jsons.is_empty() && csvs.len() > 1) {
        let names: Vec<String> = jsons.iter().chain(csvs.iter()).map(|i| i.display()).collect();
        bail!(
            "several k6 point streams ({}): a bundle holds one run; pack each run on its own, or add --shards when they are the shards of one distributed test",
            names.join(", ")
        );
    }
    let stream: Option<&Input> = jsons.first().or(csvs.first()).copied();
    if let (Some(s), Some(e)) = (stream, &external) {
        bail!("{}: a k6 point stream, and samples from {} too: a bundle holds one run", s.display(), e.kind);
    }
    let summaries: Vec<&Input> =
        pick(InputKind::K6HandleSummary).into_iter().chain(pick(InputKind::K6SummaryExport)).collect();
    let summary_input: Option<&Input> = summaries.first().copied();

    // Every file but the point stream (hashed as it streams) is hashed on a
    // thread of its own while the inputs are read.
    let to_hash: Vec<PathBuf> =
        all.iter().flat_map(|i| i.files.iter().cloned()).filter(|f| stream.is_none_or(|s| s.path != *f)).collect();
    let hasher = std::thread::spawn(move || {
        to_hash.into_iter().map(|f| (f.clone(), hash_file(&f).map_err(|e| format!("{e:#}")))).collect::<HashMap<_, _>>()
    });

    let mut records: Vec<InputRecord> = Vec::new();
    let mut summary: Option<SummaryInput> = None;
    if let Some(s) = summary_input {
        let doc = inputs::read_document(&s.path, MAX_DOCUMENT_BYTES)?;
        summary = Some(k6_summary::parse(&doc, &s.display(), s.kind)?);
    }

    let mut assembled_points = None;
    let mut stream_hash: Option<String> = None;
    if let Some(inp) = stream {
        let mut opts = AggregatorOptions::default();
        if let Some(s) = &summary {
            opts.type_hints = s.type_hints();
            opts.extra_submetrics = s.metrics.keys().filter(|k| k.contains('{')).cloned().collect();
            opts.extra_percentiles = s.percentiles();
        }
        opts.type_hints.extend(type_opts.clone());
        if inp.kind == InputKind::K6Csv {
            opts.min_bucket_ms = 1000;
        }
        let mut agg = Aggregator::new(opts);
        let file = File::open(&inp.path).with_context(|| format!("{}: cannot open", inp.display()))?;
        let pb = if show_progress { progress(inp.size, &inp.file_name()) } else { indicatif::ProgressBar::hidden() };
        let tap = Tap { inner: file, hasher: Sha256::new(), bytes: 0, progress: pb.clone() };
        let display = inp.display();
        // Decompression runs on its own thread; parsing on this one.
        let source = DecompressSource::new(tap).with_context(|| format!("{display}: cannot read"))?;
        let (reader, handle) = ChannelReader::spawn(source);
        let json_opts = JsonOptions::lenient(a.lenient).with_max_line_bytes(a.max_line_bytes);
        let res = match inp.kind {
            InputKind::K6Csv => k6_csv::ingest(reader, &display, &mut agg, &json_opts, &mut |_| {}),
            _ => k6_json::ingest(reader, &display, &mut agg, &json_opts, &mut |_| {}),
        };
        pb.finish_and_clear();
        res?;
        let source = handle.join().map_err(|_| anyhow!("{display}: the reading thread failed"))?;
        let tap = source.into_tap().ok_or_else(|| anyhow!("{display}: the gzip stream is corrupt"))?;
        if tap.bytes != inp.size {
            bail!("{display}: read {} bytes but the file has {}; it changed while packing", tap.bytes, inp.size);
        }
        stream_hash = Some(hex::encode(tap.hasher.finalize()));
        if agg_bad_lines(&agg) > 0 {
            warnings.push(format!("{display}: {} malformed lines skipped (--lenient)", agg_bad_lines(&agg)));
        }
        assembled_points = Some((agg, inp.kind.name().to_string()));
    }

    let mut external_record = None;
    let mut finish = None;
    if let Some(ext) = external {
        finish = ext.finish;
        let mut opts = AggregatorOptions::default();
        // The source's own types first; k6's summary and --metric-type win.
        opts.type_hints = ext.type_hints;
        if let Some(s) = &summary {
            // A summary-export knows types but not units: keep the source's unit for the same type.
            for (name, (kind, contains)) in s.type_hints() {
                match opts.type_hints.get(&name) {
                    Some((k, _)) if *k == kind && contains == "default" => {}
                    _ => {
                        opts.type_hints.insert(name, (kind, contains));
                    }
                }
            }
            opts.extra_submetrics = s.metrics.keys().filter(|k| k.contains('{')).cloned().collect();
            opts.extra_percentiles = s.percentiles();
        }
        opts.type_hints.extend(type_opts.clone());
        if let Some(w) = ext.min_bucket_ms {
            opts.min_bucket_ms = w;
        }
        let mut agg = Aggregator::new(opts);
        let (name, size, sha256, w) = (ext.feed)(&mut agg)?;
        warnings.extend(w);
        external_record = Some(InputRecord { name, kind: ext.kind.into(), size, sha256, used: true, raw_entry: None });
        assembled_points = Some((agg, ext.kind.to_string()));
    }

    let has_k6 = assembled_points.is_some() || summary.is_some();
    let had_summary = summary.is_some();
    let mut asm = assemble(assembled_points, summary);
    if let Some(f) = finish {
        f(&mut asm.summary, had_summary);
    }
    warnings.extend(asm.warnings);

    // Profiles and timelines, in input order.
    let mut profiles = Vec::new();
    let mut timelines = Vec::new();
    for inp in all.iter().filter(|i| i.kind.is_profile() || i.kind == InputKind::ClinicDoctor) {
        if inp.kind == InputKind::ClinicDoctor {
            timelines.push(super::profiles::timeline(inp)?);
        } else {
            let (p, w) = super::profiles::profile(inp, a.max_line_bytes)?;
            warnings.extend(w);
            profiles.push(p);
        }
    }

    let created = now_secs();
    let title = a.title.clone().unwrap_or_else(|| default_title(&a.inputs, all));
    let mut manifest = Manifest::new(title, format_rfc3339_secs(created as i64));
    manifest.labels = labels.into_iter().collect();
    for (k, v) in profiles.iter().flat_map(|p| p.tools.iter()).chain(timelines.iter().flat_map(|t| t.tools.iter())) {
        manifest.tools.entry(k.clone()).or_insert_with(|| v.clone());
    }
    manifest.tools.extend(tools);
    if a.this_host {
        manifest.environment = crate::commands::host::this_host();
    }
    let s = &asm.summary;
    manifest.run.start_unix_ns = s.start_ns;
    manifest.run.end_unix_ns = s.end_ns;
    manifest.run.start = s.start_ns.map(format_rfc3339_ms);
    manifest.run.end = s.end_ns.map(format_rfc3339_ms);
    manifest.run.duration_ms = s.duration_ms;

    // Inputs, their hashes, and raw entries.
    let mut hashes = hasher.join().map_err(|_| anyhow!("the hashing thread failed"))?;
    let mut raw_paths: HashMap<String, PathBuf> = HashMap::new();
    let mut raw_entries = Vec::new();
    for (n, inp) in all.iter().enumerate() {
        let used = !matches!(
            inp.kind,
            InputKind::K6Json | InputKind::K6Csv | InputKind::K6SummaryExport | InputKind::K6HandleSummary
        ) || stream.is_some_and(|s| s.path == inp.path)
            || summary_input.is_some_and(|s| s.path == inp.path);
        if !used {
            warnings.push(format!("{}: not used ({} already given by another input)", inp.display(), role(inp.kind)));
        }
        for f in &inp.files {
            let sha = match (stream, &stream_hash) {
                (Some(st), Some(h)) if st.path == *f => h.clone(),
                _ => hashes
                    .remove(f)
                    .unwrap_or_else(|| Err(format!("{}: not hashed", f.display())))
                    .map_err(|e| anyhow!(e))?,
            };
            let size = std::fs::metadata(f).with_context(|| format!("{}: cannot stat", f.display()))?.len();
            let fname = inputs::file_name(f);
            let raw_entry = a.keep_raw.then(|| format!("raw/{n}/{}", sanitize(&fname)));
            if let Some(p) = &raw_entry {
                raw_paths.insert(p.clone(), f.clone());
                raw_entries.push((p.clone(), size, sha.clone(), fname.clone()));
            }
            let name =
                if inp.files.len() > 1 || *f != inp.path { format!("{}/{fname}", inp.file_name()) } else { fname };
            records.push(InputRecord { name, kind: inp.kind.name().into(), size, sha256: sha, used, raw_entry });
        }
    }
    records.extend(external_record);
    manifest.inputs = records;
    manifest.warnings = warnings.clone();

    Ok(Built {
        manifest,
        created,
        has_k6,
        summary: asm.summary,
        timeseries: asm.timeseries,
        profiles,
        timelines,
        raw_entries,
        raw_paths,
        warnings,
    })
}

/// Writes a built bundle to `output` (temp file, then rename).
fn write_built(built: Built, output: &std::path::Path) -> Result<()> {
    let Built { manifest, created, has_k6, summary, timeseries, profiles, timelines, raw_entries, raw_paths, .. } =
        built;
    let mut b = BundleBuilder::new(manifest, created);
    if has_k6 {
        b.add_json(paths::K6_SUMMARY, kinds::K6_SUMMARY, &summary)?;
        if let Some(ts) = &timeseries {
            b.add_json(paths::K6_TIMESERIES, kinds::K6_TIMESERIES, ts)?;
        }
    }
    for (i, p) in profiles.iter().enumerate() {
        b.add_json(&paths::profile(i), kinds::PROFILE, p)?;
    }
    for (i, t) in timelines.iter().enumerate() {
        b.add_json(&paths::timeline(i), kinds::TIMELINE, t)?;
    }
    for (p, size, sha, name) in raw_entries {
        b.add_external(&p, kinds::RAW, size, sha, Some(name))?;
    }

    let out_display = output.display().to_string();
    let (atomic, file) = AtomicFile::create(output)?;
    let w = b.write(BufWriter::with_capacity(1 << 20, file), &out_display, &mut |p| {
        let path = raw_paths.get(p).ok_or_else(|| std::io::Error::other(format!("no source for {p}")))?;
        Ok(Box::new(BufReader::new(File::open(path)?)))
    })?;
    let f = w.into_inner().map_err(|e| anyhow!("{out_display}: writing: {}", e.error()))?;
    f.sync_all().with_context(|| format!("{out_display}: writing"))?;
    drop(f);
    atomic.commit()
}

fn agg_bad_lines(agg: &Aggregator) -> u64 {
    agg.bad_lines()
}

fn role(kind: InputKind) -> &'static str {
    match kind {
        InputKind::K6Json | InputKind::K6Csv => "the k6 point stream",
        InputKind::K6SummaryExport | InputKind::K6HandleSummary => "k6's summary",
        _ => "its role",
    }
}

fn sanitize(name: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    let s = s.trim_start_matches('.').to_string();
    let s = if s.is_empty() { "input".to_string() } else { s };
    s.chars().take(90).collect()
}

/// The default title: a folder input's name, or the folder a file input sits in.
fn default_title(paths: &[PathBuf], all: &[Input]) -> String {
    let first = paths.first().or(all.first().map(|i| &i.path));
    first
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .and_then(|p| if p.is_dir() { Some(p) } else { p.parent().map(PathBuf::from) })
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "perfbundle".into())
}

/// The tapped file, decompressed when it is gzip.
enum DecompressSource {
    Plain(BufReader<Tap<File>>),
    Gzip(Box<StrictGzDecoder<BufReader<Tap<File>>>>),
}

impl DecompressSource {
    fn new(tap: Tap<File>) -> std::io::Result<Self> {
        let mut br = BufReader::with_capacity(1 << 20, tap);
        let gz = perfbundle_core::ingest::gzip::is_gzip(std::io::BufRead::fill_buf(&mut br)?);
        Ok(if gz { DecompressSource::Gzip(Box::new(StrictGzDecoder::new(br))) } else { DecompressSource::Plain(br) })
    }

    /// The tapped file; `None` when decompression failed (the error was reported).
    fn into_tap(self) -> Option<Tap<File>> {
        match self {
            DecompressSource::Plain(b) => Some(b.into_inner()),
            DecompressSource::Gzip(g) => g.into_inner().map(BufReader::into_inner),
        }
    }
}

impl std::io::Read for DecompressSource {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            DecompressSource::Plain(b) => b.read(buf),
            DecompressSource::Gzip(g) => g.read(buf),
        }
    }
}

/// `pack --shards`: each point stream (with its summary) built in memory on
/// its own, the streams spread over the machine's cores, then merged.
fn pack_shards(a: &PackArgs, all: &[Input]) -> Result<ExitCode> {
    let streams: Vec<&Input> = all.iter().filter(|i| matches!(i.kind, InputKind::K6Json | InputKind::K6Csv)).collect();
    if streams.len() < 2 {
        bail!("--shards needs the point streams of two shards or more (found {})", streams.len());
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
    let shard_args = |n: usize, st: &Input| PackArgs {
        output: a.output.clone(),
        title: Some(st.file_name()),
        labels: vec![format!("shard={n}")],
        keep_raw: false,
        lenient: a.lenient,
        max_line_bytes: a.max_line_bytes,
        forced: Vec::new(),
        metric_types: a.metric_types.clone(),
        tools: a.tools.clone(),
        this_host: a.this_host,
        shards: false,
        no_git: a.no_git,
        inputs: vec![st.path.clone()],
    };
    // Each shard's parse is one thread (its file is read on another), so a
    // worker per core, taking the next shard when done.
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, streams.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<Built>>>> =
        (0..streams.len()).map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= streams.len() {
                    break;
                }
                let r = build(&shard_args(n, streams[n]), &shard_inputs[n], false, None);
                let failed = r.is_err();
                *results[n].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                if failed {
                    next.store(streams.len(), std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    let mut shards = Vec::new();
    for (n, r) in results.into_iter().enumerate() {
        let Some(r) = r.into_inner().unwrap_or_else(|e| e.into_inner()) else { continue };
        let built = r?;
        for w in &built.warnings {
            eprintln!("perfbundle: warning: {}: {w}", streams[n].file_name());
        }
        let bundle = perfbundle_core::bundle::Bundle {
            manifest: built.manifest,
            k6_summary: built.has_k6.then_some(built.summary),
            k6_timeseries: built.timeseries,
            profiles: built.profiles,
            timelines: built.timelines,
        };
        shards.push((streams[n].file_name(), bundle));
    }
    let title = a
        .title
        .clone()
        .or_else(|| Some(format!("{} (merged from {} shards)", default_title(&a.inputs, all), streams.len())));
    let msg = super::merge::write_merged(&shards, &a.output, title, &a.labels, false)?;
    crate::emit(&msg);
    Ok(ExitCode::SUCCESS)
}
