//! The CLI's side of the core's one pipeline (`perfbundle_core::pack`):
//! files into a [`PackPlan`] (the point stream decompressed on a thread of
//! its own, every file hashed), and a [`Packed`] written to disk (temp file,
//! then rename). `pack`, `import`, `record` and `merge` all go through here.

pub mod align;
mod host;
mod profiles;
mod stream;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use perfbundle_core::bundle::{kinds, GZIP_LEVEL};
use perfbundle_core::ingest::InputKind;
use perfbundle_core::k6::MetricType;
use perfbundle_core::pack::{PackOptions, PackPlan, Packed, SourceRecord};
use sha2::{Digest, Sha256};

use crate::args::key_value;
use crate::fsio::AtomicFile;
use crate::inputs::{self, Input, MAX_SUMMARY_BYTES};
use crate::pargz::ParallelGzWriter;

pub use host::this_host;

/// What the command line says of a bundle (shared by pack, import, record).
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub title: String,
    /// `K=V` labels, applied over git's when `git` is set.
    pub labels: Vec<String>,
    /// Record the git `commit`, `branch` and `dirty` labels of the work tree.
    pub git: bool,
    /// `NAME=VERSION`.
    pub tools: Vec<String>,
    /// `NAME=KIND`.
    pub metric_types: Vec<String>,
    pub this_host: bool,
    pub lenient: bool,
    pub max_line_bytes: usize,
}

impl Spec {
    /// The core's options: labels, tools and metric types parsed.
    pub fn options(&self) -> Result<PackOptions> {
        let mut opts = PackOptions::new(self.title.clone(), crate::args::now_secs());
        let mut labels: BTreeMap<String, String> =
            if self.git { git_labels().into_iter().collect() } else { BTreeMap::new() };
        for l in &self.labels {
            let (k, v) = key_value(l, "--label")?;
            labels.insert(k, v);
        }
        opts.labels = labels;
        for t in &self.tools {
            let (k, v) = key_value(t, "--tool")?;
            opts.tools.insert(k, v);
        }
        opts.metric_types = metric_types(&self.metric_types)?;
        opts.environment = self.this_host.then(this_host);
        opts.lenient = self.lenient;
        opts.max_line_bytes = self.max_line_bytes;
        Ok(opts)
    }
}

/// `--metric-type NAME=KIND` → name → (type, `contains`).
pub fn metric_types(given: &[String]) -> Result<HashMap<String, (MetricType, String)>> {
    let mut out = HashMap::new();
    for t in given {
        let (name, kind) = key_value(t, "--metric-type")?;
        let kind = MetricType::parse(&kind)
            .ok_or_else(|| anyhow!("--metric-type {t:?}: kind must be counter, gauge, rate or trend"))?;
        let contains = if kind == MetricType::Trend { "time" } else { "default" };
        out.insert(name, (kind, contains.to_string()));
    }
    Ok(out)
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

/// The files a bundle's `raw/` entries are copied from at write time.
#[derive(Debug, Default)]
pub struct RawFiles {
    /// (entry path, size, SHA-256, original name).
    entries: Vec<(String, u64, String, String)>,
    sources: HashMap<String, PathBuf>,
}

fn hash_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(hex::encode(h.finalize()))
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

/// Reads every input file into `plan`: k6's summary first (handleSummary
/// preferred), then the one point stream (JSON preferred over CSV), the
/// profiles and timelines in input order; every file hashed (the stream as
/// it streams, the others on a thread of their own) and recorded. With
/// `keep_raw`, returns the files to copy into the bundle.
pub fn add_files(
    plan: &mut PackPlan,
    all: &[Input],
    keep_raw: bool,
    max_line: usize,
    show_progress: bool,
) -> Result<RawFiles> {
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

    if let Some(s) = summary_input {
        let doc = inputs::read_document(&s.path, MAX_SUMMARY_BYTES)?;
        plan.summary(&doc, &s.display(), s.kind)?;
        drop(doc);
    }
    let stream_hash = match stream {
        Some(inp) => Some(stream::read(plan, inp, show_progress)?),
        None => None,
    };
    for inp in all.iter().filter(|i| i.kind.is_profile() || i.kind == InputKind::ClinicDoctor) {
        if inp.kind == InputKind::ClinicDoctor {
            plan.timeline(profiles::timeline(inp)?);
        } else {
            let (ps, w) = profiles::profiles(inp, max_line)?;
            for w in w {
                plan.warn(w);
            }
            for p in ps {
                plan.profile(p);
            }
        }
    }

    let mut hashes = hasher.join().map_err(|_| anyhow!("the hashing thread failed"))?;
    let mut raw = RawFiles::default();
    for (n, inp) in all.iter().enumerate() {
        let used = !matches!(
            inp.kind,
            InputKind::K6Json | InputKind::K6Csv | InputKind::K6SummaryExport | InputKind::K6HandleSummary
        ) || stream.is_some_and(|s| s.path == inp.path)
            || summary_input.is_some_and(|s| s.path == inp.path);
        if !used {
            plan.warn(format!("{}: not used ({} already given by another input)", inp.display(), role(inp.kind)));
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
            let raw_entry = keep_raw.then(|| format!("raw/{n}/{}", sanitize(&fname)));
            if let Some(p) = &raw_entry {
                raw.sources.insert(p.clone(), f.clone());
                raw.entries.push((p.clone(), size, sha.clone(), fname.clone()));
            }
            let name =
                if inp.files.len() > 1 || *f != inp.path { format!("{}/{fname}", inp.file_name()) } else { fname };
            plan.input(SourceRecord { name, kind: inp.kind.name().into(), size, sha256: sha, used, raw_entry });
        }
    }
    Ok(raw)
}

/// Writes a planned bundle to `output` (temp file, synced, renamed), its
/// raw entries copied from their files; returns the bundle's size.
pub fn write(packed: Packed, raw: &RawFiles, output: &Path) -> Result<u64> {
    let mut b = packed.into_builder()?;
    for (p, size, sha, name) in &raw.entries {
        b.add_external(p, kinds::RAW, *size, sha.clone(), Some(name.clone()))?;
    }
    let out_display = output.display().to_string();
    let (atomic, file) = AtomicFile::create(output)?;
    // The tar gzip-compressed on every core (pargz): the inputs are read by
    // now, so the write would otherwise be the last step, on one core.
    let gz = ParallelGzWriter::new(BufWriter::with_capacity(1 << 20, file), GZIP_LEVEL)
        .with_context(|| format!("{out_display}: writing"))?;
    let gz = b.write_tar(gz, &out_display, &mut |p| {
        let path = raw.sources.get(p).ok_or_else(|| std::io::Error::other(format!("no source for {p}")))?;
        Ok(Box::new(BufReader::new(File::open(path)?)))
    })?;
    let w = gz.finish().with_context(|| format!("{out_display}: writing"))?;
    let f = w.into_inner().map_err(|e| anyhow!("{out_display}: writing: {}", e.error()))?;
    f.sync_all().with_context(|| format!("{out_display}: writing"))?;
    drop(f);
    atomic.commit()?;
    Ok(std::fs::metadata(output).map(|m| m.len()).unwrap_or(0))
}

/// Writes, then says so on stderr: the warnings, and what was written.
pub fn write_and_report(mut packed: Packed, raw: &RawFiles, output: &Path) -> Result<()> {
    // The warnings added after the plan (alignment, record) are bounded too.
    packed.manifest.warnings = perfbundle_core::pack::bounded_warnings(std::mem::take(&mut packed.manifest.warnings));
    let warnings = packed.manifest.warnings.clone();
    let line = packed.describe();
    let size = write(packed, raw, output)?;
    let mut err = std::io::stderr().lock();
    for w in &warnings {
        let _ = writeln!(err, "perfbundle: warning: {}", crate::terminal::terminal_text(w));
    }
    let _ = writeln!(err, "wrote {} ({size} bytes): {line}", crate::terminal::path(output));
    Ok(())
}

/// Writes a merged bundle (`merge`, `pack --shards`), its warnings on stderr
/// and what was written on stdout.
pub fn write_merged(packed: Packed, shards: usize, output: &Path) -> Result<()> {
    let series = packed.k6_summary.as_ref().map_or(0, |s| s.series.len());
    for w in &packed.manifest.warnings {
        eprintln!("perfbundle: warning: {}", crate::terminal::terminal_text(w));
    }
    write(packed, &RawFiles::default(), output)?;
    crate::emit(&format!("wrote {}: merged {shards} shards ({series} k6 series)\n", crate::terminal::path(output)));
    Ok(())
}
