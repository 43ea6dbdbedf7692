//! The one pipeline from a run's sources to a bundle's content, used by
//! `pack`, `import`, `record` and `merge`: a [`PackPlan`] takes k6's summary,
//! the run's points (from a k6 stream, or samples an importer feeds), the
//! profiles and timelines, and a [`SourceRecord`] for each input; then
//! [`PackPlan::finish`] assembles the model and the manifest into a
//! [`Packed`], and [`Packed::into_builder`] gives the bundle's builder.
//!
//! No I/O here: the caller opens files and sockets, hands over readers, and
//! says what it read (name, size, SHA-256).

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use thiserror::Error;

use crate::bundle::{kinds, paths, BundleBuilder, Environment, InputRecord, Manifest, ShardRecord};
use crate::error::{BundleError, IngestError};
use crate::ingest::k6_json::JsonOptions;
use crate::ingest::k6_summary::{self, SummaryInput};
use crate::ingest::{k6_csv, k6_json, InputKind};
use crate::k6::merge::{merge, MergeError, Shard};
use crate::k6::{assemble, Aggregator, AggregatorOptions, K6Summary, K6TimeSeries, MetricType};
use crate::profile::Profile;
use crate::time::{format_rfc3339_ms, format_rfc3339_secs};
use crate::timeline::Timeline;

/// An error while planning a bundle.
#[derive(Debug, Error)]
pub enum PackError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The shards cannot be merged (why).
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error("{shard}: has no k6 data to merge")]
    NoK6Data { shard: String },
    /// Two sources of the run's points: a bundle holds one run.
    #[error("{second}: the run's points come from {first} already: a bundle holds one run")]
    TwoPointSources { first: String, second: String },
}

/// Options of a bundle that no input says: the caller's (command line).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PackOptions {
    pub title: String,
    /// Unix seconds: the manifest's `created_at` and every tar header's mtime.
    pub created_unix_s: u64,
    pub labels: BTreeMap<String, String>,
    /// Tool versions given by the user (they win over those the inputs name).
    pub tools: BTreeMap<String, String>,
    pub environment: Option<Environment>,
    /// Skip and count malformed lines of a k6 stream instead of failing.
    pub lenient: bool,
    /// The longest line a k6 stream may have (0: the default, 64 MiB).
    pub max_line_bytes: usize,
    /// Types of metrics the inputs do not declare (`--metric-type`): name → (type, `contains`).
    pub metric_types: HashMap<String, (MetricType, String)>,
    /// How many packs share the memory (the shards of `pack --shards`, all
    /// held until merged): the aggregation's budgets are divided by it. 0 or 1: alone.
    pub sharing: usize,
}

impl PackOptions {
    pub fn new(title: impl Into<String>, created_unix_s: u64) -> Self {
        PackOptions { title: title.into(), created_unix_s, ..Default::default() }
    }
}

/// What a source of the run's points knows of itself (an importer's
/// server; a k6 stream knows nothing beyond its own declarations).
#[derive(Debug, Clone, Default)]
pub struct PointsSource {
    /// The input kind named in the manifest (`k6-json`, `influxdb`, …).
    pub kind: String,
    /// Metric types the source knows (name → (type, `contains`)).
    pub type_hints: HashMap<String, (MetricType, String)>,
    /// The smallest bucket width, when the source's resolution is coarser than 100 ms.
    pub min_bucket_ms: Option<u64>,
}

/// What one input was: the manifest's record of it (replaces the unnamed
/// tuples the importers returned).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// File name (or `URL/DB [FROM → TO)` for an import).
    pub name: String,
    pub kind: String,
    /// Bytes read (a file's size as stored; a server's response bodies).
    pub size: u64,
    /// SHA-256 of those bytes, lowercase hex.
    pub sha256: String,
    /// `false` when another input took its role.
    pub used: bool,
    /// The `raw/` entry that holds it, when the raw inputs are kept.
    pub raw_entry: Option<String>,
}

impl From<SourceRecord> for InputRecord {
    fn from(s: SourceRecord) -> Self {
        InputRecord { name: s.name, kind: s.kind, size: s.size, sha256: s.sha256, used: s.used, raw_entry: s.raw_entry }
    }
}

/// An importer's last step on the assembled k6 summary, told whether k6's own summary was given.
pub type AdjustSummary<'a> = &'a mut dyn FnMut(&mut K6Summary, bool);

/// A bundle being planned: feed it, then [`PackPlan::finish`].
#[derive(Debug)]
pub struct PackPlan {
    opts: PackOptions,
    summary: Option<SummaryInput>,
    points: Option<(Aggregator, String, String)>,
    profiles: Vec<Profile>,
    timelines: Vec<Timeline>,
    inputs: Vec<InputRecord>,
    warnings: Vec<String>,
}

/// The receiving half of a k6 JSON stream read on two threads:
/// [`PackPlan::k6_json_tokens`].
#[derive(Debug)]
pub struct JsonTokens<'a> {
    plan: &'a mut PackPlan,
    apply: k6_json::Applier,
    file: String,
}

impl JsonTokens<'_> {
    /// Applies the next batch, in the stream's order.
    pub fn apply(&mut self, batch: &k6_json::Batch) -> Result<(), PackError> {
        let agg = &mut self.plan.points.as_mut().expect("set by k6_json_tokens").0;
        Ok(self.apply.apply(batch, agg)?)
    }

    /// Ends the stream: `lines` is the tokenizer's count.
    pub fn finish(self, lines: u64) -> Result<(), PackError> {
        let agg = &mut self.plan.points.as_mut().expect("set by k6_json_tokens").0;
        self.apply.finish(agg, lines)?;
        self.plan.note_bad_lines(&self.file);
        Ok(())
    }
}

/// Most warnings a manifest keeps; past them, one more says how many were left out.
pub const MAX_WARNINGS: usize = 100;

/// `warnings`, at most [`MAX_WARNINGS`] of them: however hostile the input,
/// the manifest stays small.
pub fn bounded_warnings(mut warnings: Vec<String>) -> Vec<String> {
    if warnings.len() > MAX_WARNINGS {
        let more = warnings.len() - (MAX_WARNINGS - 1);
        warnings.truncate(MAX_WARNINGS - 1);
        warnings.push(format!("and {more} more warnings"));
    }
    warnings
}

impl PackPlan {
    pub fn new(opts: PackOptions) -> Self {
        PackPlan {
            opts,
            summary: None,
            points: None,
            profiles: Vec::new(),
            timelines: Vec::new(),
            inputs: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// k6's own end-of-test summary (`--summary-export` or `handleSummary`
    /// JSON). Give it before the points: its metric types, sub-metrics and
    /// percentiles shape the aggregation.
    pub fn summary(&mut self, doc: &[u8], file: &str, kind: InputKind) -> Result<(), PackError> {
        self.summary = Some(k6_summary::parse(doc, file, kind)?);
        Ok(())
    }

    /// Whether k6's summary was given.
    pub fn has_summary(&self) -> bool {
        self.summary.is_some()
    }

    /// The aggregator for the run's points from `source` (named `what` in
    /// errors). Metric types come, in this order of precedence, from
    /// `--metric-type`, k6's summary, then the source itself — except that a
    /// summary, which knows types but not units, keeps the source's unit for
    /// the same type.
    pub fn points(&mut self, what: &str, source: PointsSource) -> Result<&mut Aggregator, PackError> {
        if let Some((_, _, first)) = &self.points {
            return Err(PackError::TwoPointSources { first: first.clone(), second: what.to_string() });
        }
        let mut opts = AggregatorOptions { type_hints: source.type_hints, ..Default::default() };
        if self.opts.sharing > 1 {
            let n = self.opts.sharing;
            opts.max_values_total /= n;
            opts.max_hist_slots /= n;
            opts.max_cell_bytes /= n;
            opts.max_model_bytes /= n;
        }
        if let Some(s) = &self.summary {
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
        opts.type_hints.extend(self.opts.metric_types.iter().map(|(k, v)| (k.clone(), v.clone())));
        if let Some(w) = source.min_bucket_ms {
            opts.min_bucket_ms = w;
        }
        self.points = Some((Aggregator::new(opts), source.kind, what.to_string()));
        Ok(&mut self.points.as_mut().expect("just set").0)
    }

    /// Reads a k6 point stream (`--out json` or `--out csv`, decompressed).
    pub fn k6_stream<R: BufRead>(&mut self, reader: R, file: &str, kind: InputKind) -> Result<(), PackError> {
        let csv = kind == InputKind::K6Csv;
        let json_opts = self.json_options();
        let source = PointsSource {
            kind: kind.name().to_string(),
            // CSV timestamps are whole seconds.
            min_bucket_ms: csv.then_some(1000),
            ..Default::default()
        };
        let agg = self.points(file, source)?;
        if csv {
            k6_csv::ingest(reader, file, agg, &json_opts)?;
        } else {
            k6_json::ingest(reader, file, agg, &json_opts)?;
        }
        self.note_bad_lines(file);
        Ok(())
    }

    /// The options a k6 stream is read with (`--lenient`, `--max-line-bytes`).
    pub fn json_options(&self) -> JsonOptions {
        let mut json_opts = JsonOptions::lenient(self.opts.lenient);
        if self.opts.max_line_bytes > 0 {
            json_opts = json_opts.with_max_line_bytes(self.opts.max_line_bytes);
        }
        json_opts
    }

    /// Reads a k6 `--out json` stream whose lines are tokenized elsewhere
    /// (a [`k6_json::Tokenizer`] on another thread, with
    /// [`PackPlan::json_options`]): the same result as [`PackPlan::k6_stream`].
    pub fn k6_json_tokens(&mut self, file: &str) -> Result<JsonTokens<'_>, PackError> {
        let apply = k6_json::Applier::new(file, &self.json_options());
        self.points(file, PointsSource { kind: InputKind::K6Json.name().to_string(), ..Default::default() })?;
        Ok(JsonTokens { plan: self, apply, file: file.to_string() })
    }

    fn note_bad_lines(&mut self, file: &str) {
        let bad = self.points.as_ref().map_or(0, |p| p.0.bad_lines());
        if bad > 0 {
            self.warnings.push(format!("{file}: {bad} malformed lines skipped (--lenient)"));
        }
    }

    pub fn profile(&mut self, p: Profile) {
        // What the builder's bounds folded (deep stacks, too many frames or paths) is said.
        self.warnings.extend(crate::profile::bounds_hit(&p));
        self.profiles.push(p);
    }

    pub fn timeline(&mut self, t: Timeline) {
        self.timelines.push(t);
    }

    /// Records an input in the manifest.
    pub fn input(&mut self, record: SourceRecord) {
        self.inputs.push(record.into());
    }

    pub fn warn(&mut self, w: impl Into<String>) {
        self.warnings.push(w.into());
    }

    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Assembles the model and the manifest. `adjust_summary` (an
    /// importer's last step) sees the assembled k6 summary and whether k6's
    /// own summary was given.
    pub fn finish(self, adjust_summary: Option<AdjustSummary<'_>>) -> Packed {
        let PackPlan { opts, summary, points, profiles, timelines, inputs, mut warnings } = self;
        let has_k6 = points.is_some() || summary.is_some();
        let had_summary = summary.is_some();
        let mut asm = assemble(points.map(|(agg, kind, _)| (agg, kind)), summary);
        if let Some(f) = adjust_summary {
            f(&mut asm.summary, had_summary);
        }
        warnings.extend(asm.warnings);
        let mut manifest = Manifest::new(opts.title, format_rfc3339_secs(opts.created_unix_s as i64));
        manifest.labels = opts.labels;
        for (k, v) in profiles.iter().flat_map(|p| p.tools.iter()).chain(timelines.iter().flat_map(|t| t.tools.iter()))
        {
            manifest.tools.entry(k.clone()).or_insert_with(|| v.clone());
        }
        manifest.tools.extend(opts.tools);
        if let Some(env) = opts.environment {
            manifest.environment = env;
        }
        let s = &asm.summary;
        manifest.run.start_unix_ns = s.start_ns;
        manifest.run.end_unix_ns = s.end_ns;
        manifest.run.start = s.start_ns.map(format_rfc3339_ms);
        manifest.run.end = s.end_ns.map(format_rfc3339_ms);
        manifest.run.duration_ms = s.duration_ms;
        if let (Some(a), Some(b)) = (s.start_ns, s.end_ns) {
            for t in &timelines {
                if let Some(why) = t.apart_from((a as f64 / 1e6, b as f64 / 1e6)) {
                    warnings.push(format!("timeline {}: {why}: was it recorded during another run?", t.name));
                }
            }
        }
        manifest.inputs = inputs;
        manifest.warnings = bounded_warnings(warnings);
        Packed {
            manifest,
            created_unix_s: opts.created_unix_s,
            k6_summary: has_k6.then_some(asm.summary),
            k6_timeseries: asm.timeseries,
            profiles,
            timelines,
        }
    }
}

/// A bundle's content, planned: the manifest (entries not yet listed) and
/// the model. The caller may still change it (`record` puts its record in
/// the manifest and the profiles on the run's clock) before writing.
#[derive(Debug, Clone)]
pub struct Packed {
    pub manifest: Manifest,
    pub created_unix_s: u64,
    pub k6_summary: Option<K6Summary>,
    pub k6_timeseries: Option<K6TimeSeries>,
    pub profiles: Vec<Profile>,
    pub timelines: Vec<Timeline>,
}

impl Packed {
    /// About what its k6 model takes in memory, as a reader would count it:
    /// each series' summary and columns, each time bucket, each histogram
    /// bucket (for holding several within a budget, as `pack --shards` does).
    pub fn k6_model_bytes(&self) -> u64 {
        let series = self.k6_summary.as_ref().map_or(0, |s| s.series.len()) as u64;
        let (cells, slots) = self.k6_timeseries.as_ref().map_or((0, 0), |t| {
            t.series.values().fold((0u64, 0u64), |(c, h), s| {
                (c + s.t.len() as u64, h + s.hist.iter().map(|x| (x.pos.len() + x.neg.len()) as u64 / 2).sum::<u64>())
            })
        });
        series * 2_048 + cells * 48 + slots * 16
    }

    /// A title for a bundle packed without one, from what it holds rather
    /// than from a folder's name: the app and version labels when given,
    /// what ran and when — `catalog-api v2 — k6 run of 2026-11-30 09:48 UTC`,
    /// `profile app.cpuprofile`.
    pub fn default_title(&self) -> String {
        let m = &self.manifest;
        let app = ["app", "service", "name"].iter().find_map(|k| m.labels.get(*k));
        let who: Vec<&str> = app.into_iter().chain(m.labels.get("version")).map(String::as_str).collect();
        let when = m.run.start.as_deref().and_then(|s| s.get(..10).zip(s.get(11..16)));
        let what = match (when, self.k6_summary.is_some(), self.profiles.first(), self.timelines.first()) {
            (Some((day, time)), true, _, _) => format!("k6 run of {day} {time} UTC"),
            (_, true, _, _) => "k6 run".to_string(),
            (_, false, Some(p), _) => format!("profile {}", p.name),
            (_, false, None, Some(t)) => format!("{} timeline {}", t.source, t.name),
            _ => "perfbundle".to_string(),
        };
        if who.is_empty() {
            what
        } else {
            format!("{} — {what}", who.join(" "))
        }
    }

    /// The bundle's builder with every model entry added, each checked as a
    /// reader will check it. Raw entries are the caller's to add
    /// ([`BundleBuilder::add_external`]), since their bytes are in files.
    pub fn into_builder(self) -> Result<BundleBuilder, BundleError> {
        let mut b = BundleBuilder::new(self.manifest, self.created_unix_s);
        if let Some(s) = &self.k6_summary {
            b.add_json(paths::K6_SUMMARY, kinds::K6_SUMMARY, s)?;
            if let Some(ts) = &self.k6_timeseries {
                b.add_json(paths::K6_TIMESERIES, kinds::K6_TIMESERIES, ts)?;
            }
        }
        for (i, p) in self.profiles.iter().enumerate() {
            b.add_json(&paths::profile(i), kinds::PROFILE, p)?;
        }
        for (i, t) in self.timelines.iter().enumerate() {
            b.add_json(&paths::timeline(i), kinds::TIMELINE, t)?;
        }
        Ok(b)
    }

    /// This content as a shard of a distributed test, to [`merged`].
    pub fn as_shard<'a>(&'a self, name: &'a str) -> ShardContent<'a> {
        ShardContent {
            name,
            manifest: &self.manifest,
            k6_summary: self.k6_summary.as_ref(),
            k6_timeseries: self.k6_timeseries.as_ref(),
            profiles: &self.profiles,
            timelines: &self.timelines,
        }
    }

    /// A one-line account of what the bundle holds.
    pub fn describe(&self) -> String {
        let s = self.k6_summary.as_ref();
        format!(
            "{} input files, {} k6 series, {} k6 points, {} profiles, {} timelines",
            self.manifest.inputs.len(),
            s.map_or(0, |s| s.series.len()),
            s.map_or(0, |s| s.stats.points),
            self.profiles.len(),
            self.timelines.len()
        )
    }
}

impl<'a> ShardContent<'a> {
    /// A bundle read back, as a shard.
    pub fn of_bundle(name: &'a str, b: &'a crate::bundle::Bundle) -> Self {
        ShardContent {
            name,
            manifest: &b.manifest,
            k6_summary: b.k6_summary.as_ref(),
            k6_timeseries: b.k6_timeseries.as_ref(),
            profiles: &b.profiles,
            timelines: &b.timelines,
        }
    }
}

/// One shard of a distributed test, as a bundle's content.
#[derive(Debug, Clone, Copy)]
pub struct ShardContent<'a> {
    /// Its name (a file name), for messages and `merged_from`.
    pub name: &'a str,
    pub manifest: &'a Manifest,
    pub k6_summary: Option<&'a K6Summary>,
    pub k6_timeseries: Option<&'a K6TimeSeries>,
    pub profiles: &'a [Profile],
    pub timelines: &'a [Timeline],
}

/// The shards of one distributed test merged into one bundle's content
/// (`merge` of bundles, `pack --shards` of streams). The title defaults to
/// the first shard's, marked merged; labels every shard has with the same
/// value are kept, then `labels` override; each shard's profiles and
/// timelines come along, named by shard. Incompatible shards are an error
/// unless `force`.
pub fn merged(
    shards: &[ShardContent<'_>],
    title: Option<String>,
    labels: BTreeMap<String, String>,
    created_unix_s: u64,
    force: bool,
) -> Result<Packed, PackError> {
    let parts: Vec<Shard<'_>> = shards
        .iter()
        .map(|s| {
            let summary = s.k6_summary.ok_or_else(|| PackError::NoK6Data { shard: s.name.to_string() })?;
            Ok(Shard { name: s.name, summary, timeseries: s.k6_timeseries })
        })
        .collect::<Result<_, PackError>>()?;
    let m = merge(&parts, force).map_err(PackError::Merge)?;
    let first = shards[0].manifest;
    let mut manifest = Manifest::new(
        title.unwrap_or_else(|| format!("{} (merged from {} shards)", first.title, shards.len())),
        format_rfc3339_secs(created_unix_s as i64),
    );
    let mut common: BTreeMap<String, String> = first.labels.clone();
    common.retain(|k, v| shards.iter().all(|s| s.manifest.labels.get(k) == Some(v)));
    manifest.labels = common;
    manifest.labels.extend(labels);
    for s in shards {
        for (k, v) in &s.manifest.tools {
            manifest.tools.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let sum = &m.summary;
    manifest.run.start_unix_ns = sum.start_ns;
    manifest.run.end_unix_ns = sum.end_ns;
    manifest.run.start = sum.start_ns.map(format_rfc3339_ms);
    manifest.run.end = sum.end_ns.map(format_rfc3339_ms);
    manifest.run.duration_ms = sum.duration_ms;
    manifest.merged_from = shards
        .iter()
        .map(|s| ShardRecord {
            // What a list of runs shows of a title and labels (a merge of shards with
            // megabyte titles makes no manifest of hundreds of MB).
            name: crate::format::shorten(s.name, 300),
            title: crate::format::shorten(&s.manifest.title, 300),
            labels: s
                .manifest
                .labels
                .iter()
                .take(32)
                .map(|(k, v)| (crate::format::shorten(k, 300), crate::format::shorten(v, 300)))
                .collect(),
            host: s.manifest.environment.host.clone(),
            start: s.manifest.run.start.clone(),
            end: s.manifest.run.end.clone(),
        })
        .collect();
    // The inputs each shard was built from (their raw entries stay in the shards' bundles).
    manifest.inputs = shards
        .iter()
        .flat_map(|s| s.manifest.inputs.iter().cloned())
        .map(|mut r| {
            r.raw_entry = None;
            r
        })
        .collect();
    manifest.warnings = bounded_warnings(m.warnings);
    let mut profiles = Vec::new();
    let mut timelines = Vec::new();
    for (i, s) in shards.iter().enumerate() {
        for p in s.profiles {
            let mut p = p.clone();
            p.name = format!("shard {i}: {}", p.name);
            profiles.push(p);
        }
        for t in s.timelines {
            let mut t = t.clone();
            t.name = format!("shard {i}: {}", t.name);
            timelines.push(t);
        }
    }
    Ok(Packed {
        manifest,
        created_unix_s,
        k6_summary: Some(m.summary),
        k6_timeseries: m.timeseries,
        profiles,
        timelines,
    })
}
