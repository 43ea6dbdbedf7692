//! `manifest.json`, the first entry of every bundle.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The format name written in every manifest.
pub const FORMAT_NAME: &str = "perfbundle";
/// The major version this code reads and writes.
pub const FORMAT_MAJOR: u32 = 1;
/// The minor version this code writes.
pub const FORMAT_MINOR: u32 = 4;

/// The manifest. Unknown fields are ignored on reading (a newer minor
/// version may add some); see FORMAT.md for each field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `"perfbundle"`.
    pub format: String,
    /// `"MAJOR.MINOR"`.
    pub format_version: String,
    #[serde(deserialize_with = "crate::bounded::string")]
    pub title: String,
    /// RFC 3339 UTC.
    #[serde(deserialize_with = "crate::bounded::string")]
    pub created_at: String,
    /// `perfbundle X.Y.Z`.
    #[serde(deserialize_with = "crate::bounded::string")]
    pub created_by: String,
    #[serde(default, deserialize_with = "crate::bounded::map")]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub run: RunWindow,
    #[serde(default)]
    pub environment: Environment,
    /// Tool name → version, as seen in the inputs or given with `--tool`.
    #[serde(default, deserialize_with = "crate::bounded::map")]
    pub tools: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    pub inputs: Vec<InputRecord>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub entries: Vec<EntryRecord>,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    pub warnings: Vec<String>,
    /// The shards this bundle was merged from (format 1.1), in `shard:N` order.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "crate::bounded::vec")]
    pub merged_from: Vec<ShardRecord>,
    /// How `perfbundle record` made the run (format 1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordInfo>,
    /// How `pack --align` placed each profile on the run's clock (format 1.3).
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "crate::bounded::vec")]
    pub alignment: Vec<ProfileAlignment>,
}

/// How `pack --align` placed one profile on the k6 run's wall clock, or why it did not.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProfileAlignment {
    /// The profile's index in the bundle (`profiles/<n>.json`).
    pub profile: usize,
    /// The profile's name.
    pub what: String,
    /// `aligned`, `unaligned` (the evidence was too weak: said in `method`), or `given` (by the user).
    pub status: String,
    /// In words: which clock hints were used and what the correlation showed.
    pub method: String,
    /// Bound of the error, ms (the correlation peak's half-width, or the precision of a given time); absent when unaligned.
    #[serde(default)]
    pub uncertainty_ms: Option<f64>,
    /// Wall clock (Unix µs) = the profile's own clock (µs) + this.
    #[serde(default)]
    pub offset_us: Option<i64>,
    /// The correlation of the profile's non-idle samples with k6's requests, when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation: Option<crate::align::Correlation>,
    /// How k6's requests in flight fit the profile's samples (format 1.4), when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inflight: Option<crate::align::InFlight>,
}

/// A recorded run: the commands, each process's span, how the profile's
/// clock was put on the k6 run's wall clock.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RecordInfo {
    /// `none`, `cpu-prof`, `clinic-doctor`, `clinic-flame`, `0x`, `perf`.
    pub profiler: String,
    /// What ran: `app` (as given), `profiled` (with the profiler in front), `k6`, post-processing.
    #[serde(default, deserialize_with = "crate::bounded::map")]
    pub commands: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    pub processes: Vec<ProcessSpan>,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    pub alignment: Vec<AlignmentRecord>,
    /// Ctrl-C stopped the run: the bundle holds what was captured.
    #[serde(default)]
    pub interrupted: bool,
    #[serde(default)]
    pub k6_exit_code: Option<i32>,
    /// Thresholds k6 reported as failed, `metric: expr`.
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    pub failed_thresholds: Vec<String>,
}

/// When a process ran, on the wall clock (RFC 3339).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProcessSpan {
    pub name: String,
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub exit_code: Option<i32>,
}

/// How one source's times were placed on the run's wall clock.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AlignmentRecord {
    /// The profile or timeline, by name.
    pub what: String,
    /// In words: which clock pair was used.
    pub method: String,
    /// Bound of the error, ms.
    pub uncertainty_ms: f64,
}

/// One shard of a merged bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// The shard's bundle file name (or input name).
    pub name: String,
    pub title: String,
    #[serde(default, deserialize_with = "crate::bounded::map")]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
}

/// The run's time window (UTC).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunWindow {
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub start_unix_ns: Option<i64>,
    #[serde(default)]
    pub end_unix_ns: Option<i64>,
    /// k6's test run duration when known, else end − start.
    #[serde(default)]
    pub duration_ms: Option<f64>,
}

/// Where the run ran, as far as known.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Environment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    /// How these were learned: `packing-host` (`--this-host`), `inputs`, `flags`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One input file given to `pack`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    /// File name as given (the last path component).
    pub name: String,
    /// Input kind (`k6-json`, …).
    pub kind: String,
    /// Size in bytes as stored on disk (compressed if it was).
    pub size: u64,
    pub sha256: String,
    /// Whether it was used (`false` when another input took its role).
    #[serde(default = "yes")]
    pub used: bool,
    /// The `raw/` entry holding it, with `--keep-raw`.
    #[serde(default)]
    pub raw_entry: Option<String>,
}

fn yes() -> bool {
    true
}

/// One archive entry after the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryRecord {
    pub path: String,
    pub kind: String,
    pub size: u64,
    pub sha256: String,
    #[serde(default)]
    pub original_name: Option<String>,
}

impl Manifest {
    /// A manifest of the current version with no entries yet.
    pub fn new(title: impl Into<String>, created_at: impl Into<String>) -> Self {
        Manifest {
            format: FORMAT_NAME.into(),
            format_version: format!("{FORMAT_MAJOR}.{FORMAT_MINOR}"),
            title: title.into(),
            created_at: created_at.into(),
            created_by: format!("perfbundle {}", crate::CRATE_VERSION),
            labels: BTreeMap::new(),
            run: RunWindow::default(),
            environment: Environment::default(),
            tools: BTreeMap::new(),
            inputs: Vec::new(),
            entries: Vec::new(),
            warnings: Vec::new(),
            merged_from: Vec::new(),
            record: None,
            alignment: Vec::new(),
        }
    }

    pub fn entry(&self, path: &str) -> Option<&EntryRecord> {
        self.entries.iter().find(|e| e.path == path)
    }
}

/// Parses `"MAJOR.MINOR"`.
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    // Digits only, as a version is written (`1.3`): not `+1`, not ` 1`, not 20 digits.
    let num = |x: &str| {
        (!x.is_empty() && x.len() <= 9 && x.bytes().all(|c| c.is_ascii_digit())).then(|| x.parse().ok()).flatten()
    };
    Some((num(a)?, num(b)?))
}
