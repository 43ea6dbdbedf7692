//! `perfbundle merge`: one bundle from the bundles of a distributed test's shards.

use std::collections::BTreeMap;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use perfbundle_core::bundle::{kinds, paths, Bundle, BundleBuilder, Manifest, ReadLimits, ShardRecord};
use perfbundle_core::k6::merge::{merge, Shard};
use perfbundle_core::time::{format_rfc3339_ms, format_rfc3339_secs};

use crate::fsio::{read_bundle, AtomicFile};

/// Merge the bundles of a distributed k6 test's shards (execution segments, k6-operator) into one.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Output bundle.
    #[arg(short = 'o', long = "output", value_name = "OUT.perfbundle")]
    pub output: PathBuf,
    /// Title (default: the first shard's, marked merged).
    #[arg(long)]
    pub title: Option<String>,
    /// A label, K=V. Repeatable. Labels all shards share are kept.
    #[arg(long = "label", value_name = "K=V")]
    pub labels: Vec<String>,
    /// Merge even shards that do not look like one test (other metrics or thresholds, disjoint windows).
    #[arg(long)]
    pub force: bool,
    /// The shards' bundles.
    #[arg(required = true, num_args = 2..)]
    pub bundles: Vec<PathBuf>,
}

/// Merges loaded shards and writes the bundle.
pub fn write_merged(
    shards: &[(String, Bundle)],
    output: &std::path::Path,
    title: Option<String>,
    labels: &[String],
    force: bool,
) -> Result<String> {
    let parts: Vec<Shard<'_>> = shards
        .iter()
        .map(|(name, b)| {
            let summary = b.k6_summary.as_ref().ok_or_else(|| anyhow!("{name}: has no k6 data to merge"))?;
            Ok(Shard { name, summary, timeseries: b.k6_timeseries.as_ref() })
        })
        .collect::<Result<_>>()?;
    let merged = merge(&parts, force).map_err(|e| anyhow!(e))?;
    let first = &shards[0].1.manifest;
    let created = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    });
    let mut m = Manifest::new(
        title.unwrap_or_else(|| format!("{} (merged from {} shards)", first.title, shards.len())),
        format_rfc3339_secs(created as i64),
    );
    // Labels every shard has with the same value, then --label.
    let mut common: BTreeMap<String, String> = first.labels.clone();
    common.retain(|k, v| shards.iter().all(|(_, b)| b.manifest.labels.get(k) == Some(v)));
    m.labels = common;
    for l in labels {
        let (k, v) = l.split_once('=').ok_or_else(|| anyhow!("--label {l:?}: expected K=V"))?;
        m.labels.insert(k.to_string(), v.to_string());
    }
    for (_, b) in shards {
        for (k, v) in &b.manifest.tools {
            m.tools.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let s = &merged.summary;
    m.run.start_unix_ns = s.start_ns;
    m.run.end_unix_ns = s.end_ns;
    m.run.start = s.start_ns.map(format_rfc3339_ms);
    m.run.end = s.end_ns.map(format_rfc3339_ms);
    m.run.duration_ms = s.duration_ms;
    m.merged_from = shards
        .iter()
        .map(|(name, b)| ShardRecord {
            name: name.clone(),
            title: b.manifest.title.clone(),
            labels: b.manifest.labels.clone(),
            host: b.manifest.environment.host.clone(),
            start: b.manifest.run.start.clone(),
            end: b.manifest.run.end.clone(),
        })
        .collect();
    // The inputs each shard was built from (their raw entries stay in the shards' bundles).
    m.inputs = shards
        .iter()
        .flat_map(|(_, b)| b.manifest.inputs.iter().cloned())
        .map(|mut r| {
            r.raw_entry = None;
            r
        })
        .collect();
    m.warnings = merged.warnings.clone();
    let mut builder = BundleBuilder::new(m, created);
    builder.add_json(paths::K6_SUMMARY, kinds::K6_SUMMARY, &merged.summary)?;
    if let Some(ts) = &merged.timeseries {
        builder.add_json(paths::K6_TIMESERIES, kinds::K6_TIMESERIES, ts)?;
    }
    // Profiles and timelines of each shard come along, named by shard.
    let (mut np, mut nt) = (0, 0);
    for (i, (_, b)) in shards.iter().enumerate() {
        for p in &b.profiles {
            let mut p = p.clone();
            p.name = format!("shard {i}: {}", p.name);
            builder.add_json(&paths::profile(np), kinds::PROFILE, &p)?;
            np += 1;
        }
        for t in &b.timelines {
            let mut t = t.clone();
            t.name = format!("shard {i}: {}", t.name);
            builder.add_json(&paths::timeline(nt), kinds::TIMELINE, &t)?;
            nt += 1;
        }
    }
    let display = output.display().to_string();
    let (atomic, file) = AtomicFile::create(output)?;
    let w = builder
        .write(BufWriter::new(file), &display, &mut |p| Err(std::io::Error::other(format!("no source for {p}"))))?;
    w.into_inner().map_err(|e| anyhow!("{display}: writing: {}", e.error()))?.sync_all()?;
    atomic.commit()?;
    for w in &merged.warnings {
        eprintln!("perfbundle: warning: {w}");
    }
    Ok(format!("wrote {display}: merged {} shards ({} k6 series)\n", shards.len(), merged.summary.series.len()))
}

pub fn run(a: MergeArgs) -> Result<ExitCode> {
    crate::fsio::check_output(&a.output, &a.bundles)?;
    let mut shards = Vec::new();
    for p in &a.bundles {
        let b = read_bundle(p, &ReadLimits::default())?;
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if b.k6_summary.is_none() {
            bail!("{}: has no k6 data to merge", p.display());
        }
        shards.push((name, b));
    }
    let msg = write_merged(&shards, &a.output, a.title.clone(), &a.labels, a.force)?;
    crate::emit(&msg);
    Ok(ExitCode::SUCCESS)
}
