//! `perfbundle merge`: one bundle from the bundles of a distributed test's shards.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use perfbundle_core::bundle::ReadLimits;
use perfbundle_core::pack::{merged, ShardContent};

use crate::args::key_value;
use crate::packing;

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

pub fn run(a: MergeArgs) -> Result<ExitCode> {
    crate::fsio::check_output(&a.output, &a.bundles)?;
    let mut shards = Vec::new();
    let pb = crate::fsio::progress_count(a.bundles.len() as u64, "reading the shards");
    let limits = ReadLimits::default();
    let mut held = crate::fsio::Held::new(limits.max_model_memory);
    // A shard given twice (the same file, or a copy) would count its requests twice.
    let mut seen: std::collections::HashMap<Vec<String>, std::path::PathBuf> = std::collections::HashMap::new();
    for p in &a.bundles {
        let b = held.read(p, &limits)?;
        let mut fingerprint: Vec<String> =
            b.manifest.entries.iter().map(|e| format!("{} {}", e.path, e.sha256)).collect();
        fingerprint.push(b.manifest.title.clone());
        fingerprint.push(b.manifest.created_at.clone());
        if let Some(first) = seen.get(&fingerprint) {
            bail!(
                "{} and {}: the same shard (the same title, time and entries, byte for byte): merging it twice would count its requests twice",
                first.display(),
                p.display()
            );
        }
        seen.insert(fingerprint, p.clone());
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if b.k6_summary.is_none() {
            bail!(
                "{}: has no k6 data to merge; give the bundles of one test's shards, each packed from its k6 output",
                p.display()
            );
        }
        shards.push((name, b));
        pb.inc(1);
    }
    pb.set_message("merging");
    let labels: BTreeMap<String, String> = a.labels.iter().map(|l| key_value(l, "--label")).collect::<Result<_>>()?;
    let contents: Vec<ShardContent<'_>> = shards.iter().map(|(name, b)| ShardContent::of_bundle(name, b)).collect();
    let packed = merged(&contents, a.title.clone(), labels, crate::args::now_secs(), a.force)?;
    pb.finish_and_clear();
    // The shards' models are not needed to write the merged one: freed first.
    let n = shards.len();
    drop(contents);
    drop(shards);
    packing::write_merged(packed, n, &a.output)?;
    Ok(ExitCode::SUCCESS)
}
