//! Reading a bundle, treating it as untrusted: every header is checked, every
//! path is checked for escapes, every size against limits and against the
//! manifest, every entry against its SHA-256.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufReader, Read};

use sha2::{Digest, Sha256};

use super::manifest::{parse_version, EntryRecord, Manifest, FORMAT_MAJOR, FORMAT_NAME};
use super::{check_entry_path, kinds, paths, tar};
use crate::error::BundleError;
use crate::ingest::gzip::StrictGzDecoder;
use crate::k6::{K6Summary, K6TimeSeries};
use crate::profile::Profile;
use crate::timeline::Timeline;

/// Size limits applied while reading (decompression-bomb protection).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReadLimits {
    /// Largest `manifest.json`. Default is 16 MiB.
    pub max_manifest_bytes: u64,
    /// Largest entry that is parsed in memory (model entries). Default is
    /// 64 MiB: a model of 1.5 M profile samples takes about 30 MiB.
    pub max_model_entry_bytes: u64,
    /// Memory the model's collections may take once read, all entries
    /// together (`bounded`: nodes, frames, samples, series, columns…).
    /// Default is 128 MiB: with the entry being read, a reader stays within
    /// 256 MB whatever the bundle holds. A writer keeps each bundle within
    /// [`WRITTEN_MODEL_MEMORY`] (half of it).
    pub max_model_memory: u64,
    /// How far a model entry may inflate: its size may not pass this many
    /// times the compressed bytes read for it, plus 1 MiB. Default is 200
    /// (model entries compress 5–10 times; a decompression bomb, ~1000).
    pub max_model_inflation: u64,
    /// Largest total of all entries' sizes. Default is 16 GiB.
    pub max_total_bytes: u64,
    /// Most entries. Default is 100,000.
    pub max_entries: usize,
}

/// The memory a writer lets one bundle's model take, as the reader counts
/// it: half of `max_model_memory`, so that two bundles a writer made (the
/// two sides of a `diff`) are read within one budget.
pub const WRITTEN_MODEL_MEMORY: u64 = 64 << 20;

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_manifest_bytes: 16 << 20,
            max_model_entry_bytes: 64 << 20,
            max_model_memory: 128 << 20,
            max_model_inflation: 200,
            max_total_bytes: 16 << 30,
            max_entries: 100_000,
        }
    }
}

impl ReadLimits {
    pub fn with_max_total_bytes(mut self, n: u64) -> Self {
        self.max_total_bytes = n;
        self
    }
    pub fn with_max_model_memory(mut self, n: u64) -> Self {
        self.max_model_memory = n;
        self
    }

    pub fn with_max_model_entry_bytes(mut self, n: u64) -> Self {
        self.max_model_entry_bytes = n;
        self
    }
}

/// The visitor [`read_entries`] calls for each entry after the manifest.
pub type EntryVisitor<'v> = dyn FnMut(&Manifest, EntryVisit<'_>, &mut dyn Read) -> Result<(), BundleError> + 'v;

/// What the visitor of [`read_entries`] is given for each entry after the manifest.
#[derive(Debug)]
pub struct EntryVisit<'a> {
    pub record: &'a EntryRecord,
}

/// Checks and parses `manifest.json`'s bytes: format name, then the major
/// version (before the schema, so a newer major gets a version error).
pub fn parse_manifest(bytes: &[u8], file: &str) -> Result<Manifest, BundleError> {
    let bad = |reason: String| BundleError::NotABundle { file: file.into(), reason };
    // The format and version first, the rest skipped (nothing of it held).
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(default)]
        format: Option<String>,
        #[serde(default)]
        format_version: Option<String>,
    }
    let head: Head = serde_json::from_slice(bytes).map_err(|e| {
        if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
            bad(format!("manifest.json's format or format_version is not a string: {e}"))
        } else {
            bad(format!("manifest.json is not JSON: {e}"))
        }
    })?;
    if head.format.as_deref() != Some(FORMAT_NAME) {
        return Err(bad("manifest.json has no \"format\": \"perfbundle\"".into()));
    }
    let ver = head.format_version.as_deref().unwrap_or("");
    match parse_version(ver) {
        Some((FORMAT_MAJOR, _)) => {}
        _ => {
            return Err(BundleError::UnsupportedVersion {
                file: file.into(),
                found: if ver.is_empty() { "(missing)".into() } else { ver.into() },
                supported_major: FORMAT_MAJOR,
            })
        }
    }
    let schema = |reason: String| BundleError::Schema { file: file.into(), path: paths::MANIFEST.into(), reason };
    let m: Manifest = serde_json::from_slice(bytes).map_err(|e| schema(e.to_string()))?;
    // Its times are RFC 3339 (FORMAT.md §3), within what the model keeps.
    let times =
        [("created_at", Some(&m.created_at)), ("run.start", m.run.start.as_ref()), ("run.end", m.run.end.as_ref())];
    for (what, t) in times {
        if let Some(t) = t {
            crate::time::parse_rfc3339(t)
                .map_err(|why| schema(format!("{what} {:?} {why}", crate::format::escape_controls(t))))?;
        }
    }
    Ok(m)
}

fn read_block<R: Read>(r: &mut R, buf: &mut [u8; tar::BLOCK]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        let n = r.read(&mut buf[got..])?;
        if n == 0 {
            if got == 0 {
                return Ok(false);
            }
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "archive ends inside a header"));
        }
        got += n;
    }
    Ok(true)
}

/// Streams a bundle: reads and checks the manifest, then calls `visit` with
/// each entry and a reader of exactly its bytes. The visitor may read all,
/// part or none of them; the rest is read and hashed after it returns. Fails
/// on an unsafe path, an entry not in the manifest (or missing from the
/// archive), a size over the limits or unlike the manifest's, and a checksum
/// mismatch.
pub fn read_entries<R: Read>(
    reader: R,
    file: &str,
    limits: &ReadLimits,
    visit: &mut EntryVisitor<'_>,
) -> Result<Manifest, BundleError> {
    let mut br = BufReader::with_capacity(1 << 16, reader);
    let head = io::BufRead::fill_buf(&mut br).map_err(|e| BundleError::Io {
        file: file.into(),
        context: "reading".into(),
        source: e,
    })?;
    if head.is_empty() {
        return Err(BundleError::NotABundle { file: file.into(), reason: "the file is empty".into() });
    }
    if !crate::ingest::gzip::is_gzip(head) {
        return Err(BundleError::NotABundle { file: file.into(), reason: "not gzip-compressed".into() });
    }
    let mut gz = StrictGzDecoder::new(br);
    let io_err = |context: &str| {
        let context = context.to_string();
        move |source: io::Error| stream_error(file, context, source)
    };
    let mut block = [0u8; tar::BLOCK];

    // The manifest comes first.
    if !read_block(&mut gz, &mut block).map_err(io_err("reading the first header"))? {
        return Err(BundleError::NotABundle { file: file.into(), reason: "empty archive".into() });
    }
    let h = tar::parse_header(&block)
        .map_err(|r| BundleError::NotABundle { file: file.into(), reason: r })?
        .ok_or_else(|| BundleError::NotABundle { file: file.into(), reason: "empty archive".into() })?;
    if h.path != paths::MANIFEST {
        return Err(BundleError::NotABundle {
            file: file.into(),
            reason: format!("first entry is {:?}, not manifest.json", h.path),
        });
    }
    if h.size > limits.max_manifest_bytes {
        return Err(BundleError::TooLarge {
            file: file.into(),
            path: h.path,
            size: h.size,
            limit: limits.max_manifest_bytes,
        });
    }
    let mut mbytes = Vec::with_capacity(h.size as usize);
    (&mut gz).take(h.size).read_to_end(&mut mbytes).map_err(io_err("reading manifest.json"))?;
    if mbytes.len() as u64 != h.size {
        return Err(BundleError::NotABundle { file: file.into(), reason: "archive ends inside manifest.json".into() });
    }
    skip_padding(&mut gz, h.size).map_err(io_err("reading manifest.json"))?;
    let manifest = parse_manifest(&mbytes, file)?;

    let total: u64 = manifest.entries.iter().map(|e| e.size).fold(0u64, |a, b| a.saturating_add(b));
    if total > limits.max_total_bytes {
        return Err(BundleError::TooLarge {
            file: file.into(),
            path: "(all entries)".into(),
            size: total,
            limit: limits.max_total_bytes,
        });
    }
    if manifest.entries.len() > limits.max_entries {
        return Err(BundleError::NotABundle {
            file: file.into(),
            reason: format!("{} entries is over the limit of {}", manifest.entries.len(), limits.max_entries),
        });
    }
    // Each listed entry by its path: an archive entry is found in constant time (a linear
    // search made verifying 100,000 entries take half a minute).
    let mut listed: HashMap<&str, &EntryRecord> = HashMap::with_capacity(manifest.entries.len());
    for e in &manifest.entries {
        check_entry_path(&e.path).map_err(|reason| BundleError::UnsafePath {
            file: file.into(),
            path: e.path.clone(),
            reason,
        })?;
        if e.path == paths::MANIFEST || listed.insert(e.path.as_str(), e).is_some() {
            return Err(BundleError::BadEntry {
                file: file.into(),
                path: e.path.clone(),
                reason: if e.path == paths::MANIFEST {
                    "manifest.json lists itself as an entry".into()
                } else {
                    "manifest.json lists this entry twice (each entry is listed once)".into()
                },
            });
        }
    }

    // A path that is a file cannot also be a folder of others (`raw/0` beside
    // `raw/0/x`): no file system holds both, so such a bundle could not unpack.
    for e in &manifest.entries {
        let mut at = 0;
        while let Some(i) = e.path[at..].find('/') {
            at += i + 1;
            if &e.path[..at - 1] == paths::MANIFEST {
                return Err(BundleError::BadEntry {
                    file: file.into(),
                    path: e.path.clone(),
                    reason: "its folder \"manifest.json\" is the manifest (a file): no file system holds both".into(),
                });
            }
            if let Some(other) = listed.get(&e.path[..at - 1]) {
                return Err(BundleError::BadEntry {
                    file: file.into(),
                    path: e.path.clone(),
                    reason: format!("its folder {:?} is also an entry (a file): no file system holds both", other.path),
                });
            }
        }
    }

    let mut seen: HashSet<String> = HashSet::new();
    let mut read_total = 0u64;
    loop {
        if !read_block(&mut gz, &mut block).map_err(io_err("reading a header"))? {
            // A tar ends with a marker of zero blocks; without it, the archive was cut short.
            return Err(BundleError::Integrity {
                file: file.into(),
                reason: "the archive ends without its end marker (two zero blocks): it was cut short".into(),
            });
        }
        let Some(h) =
            tar::parse_header(&block).map_err(|r| BundleError::NotABundle { file: file.into(), reason: r })?
        else {
            break;
        };
        check_entry_path(&h.path).map_err(|reason| BundleError::UnsafePath {
            file: file.into(),
            path: h.path.clone(),
            reason,
        })?;
        if h.typeflag == b'5' {
            continue;
        }
        if h.path == paths::MANIFEST {
            return Err(BundleError::BadEntry {
                file: file.into(),
                path: h.path,
                reason: "a second manifest.json in the archive".into(),
            });
        }
        let Some(&rec) = listed.get(h.path.as_str()) else {
            return Err(BundleError::UnlistedEntry { file: file.into(), path: h.path });
        };
        if !seen.insert(h.path.clone()) {
            return Err(BundleError::BadEntry {
                file: file.into(),
                path: h.path,
                reason: "appears twice in the archive".into(),
            });
        }
        if h.size != rec.size {
            return Err(BundleError::BadEntry {
                file: file.into(),
                path: h.path,
                reason: format!("archive holds {} bytes, manifest says {}", h.size, rec.size),
            });
        }
        read_total = read_total.saturating_add(h.size);
        if read_total > limits.max_total_bytes {
            return Err(BundleError::TooLarge {
                file: file.into(),
                path: h.path,
                size: read_total,
                limit: limits.max_total_bytes,
            });
        }
        let max_inflation = is_model_kind(&rec.kind).then_some(limits.max_model_inflation);
        let start = gz.compressed_consumed();
        let mut er = EntryReader {
            gz: &mut gz,
            left: h.size,
            hasher: Sha256::new(),
            read: 0,
            compressed_start: start,
            max_inflation,
        };
        visit(&manifest, EntryVisit { record: rec }, &mut er)?;
        io::copy(&mut er, &mut io::sink()).map_err(io_err(&format!("reading {}", h.path)))?;
        if er.read != h.size {
            return Err(BundleError::BadEntry {
                file: file.into(),
                path: h.path,
                reason: "archive ends inside this entry".into(),
            });
        }
        let actual = hex::encode(er.hasher.finalize());
        if actual != rec.sha256 {
            return Err(BundleError::ChecksumMismatch {
                file: file.into(),
                path: h.path,
                expected: rec.sha256.clone(),
                actual,
            });
        }
        skip_padding(&mut gz, h.size).map_err(io_err(&format!("reading {}", h.path)))?;
    }
    // The end marker is two zero blocks: the second must follow the first.
    if !read_block(&mut gz, &mut block).map_err(io_err("reading the end marker"))? {
        return Err(BundleError::Integrity {
            file: file.into(),
            reason: "the archive's end marker is one zero block, not two: it was cut short".into(),
        });
    }
    if block.iter().any(|b| *b != 0) {
        return Err(BundleError::Integrity {
            file: file.into(),
            reason: "data after the archive's first end-marker block (an entry after the end?)".into(),
        });
    }
    if let Some(missing) = manifest.entries.iter().find(|e| !seen.contains(&e.path)) {
        return Err(BundleError::MissingEntry { file: file.into(), path: missing.path.clone() });
    }
    read_to_the_end(&mut gz, file)?;
    Ok(manifest)
}

/// A read error while streaming the archive: damage to the container (a cut
/// or corrupt stream, a bomb) is an [`BundleError::Integrity`] error whose
/// message says what; anything else is I/O.
fn stream_error(file: &str, context: String, source: io::Error) -> BundleError {
    match source.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput => {
            BundleError::Integrity { file: file.into(), reason: format!("{context}: {source}") }
        }
        _ => BundleError::Io { file: file.into(), context, source },
    }
}

/// After the end-of-archive marker: what is left of the tar stream must be
/// zeros (the marker's second block, record padding), and the gzip stream
/// must end with matching trailers and nothing after them.
fn read_to_the_end<R: io::BufRead>(gz: &mut StrictGzDecoder<R>, file: &str) -> Result<(), BundleError> {
    const MAX_PADDING: u64 = 1 << 20;
    let integrity = |reason: String| BundleError::Integrity { file: file.into(), reason };
    let mut buf = [0u8; 8192];
    let mut padding = 0u64;
    loop {
        let n = gz.read(&mut buf).map_err(|e| integrity(e.to_string()))?;
        if n == 0 {
            return Ok(());
        }
        if buf[..n].iter().any(|b| *b != 0) {
            return Err(integrity(format!(
                "data after the archive's end marker (at byte {} of the tar stream's padding)",
                padding + buf[..n].iter().position(|b| *b != 0).unwrap_or(0) as u64
            )));
        }
        padding += n as u64;
        if padding > MAX_PADDING {
            return Err(integrity(format!("more than {MAX_PADDING} bytes of padding after the archive's end marker")));
        }
    }
}

fn skip_padding<R: Read>(r: &mut R, size: u64) -> io::Result<()> {
    let pad = (tar::BLOCK as u64 - size % tar::BLOCK as u64) % tar::BLOCK as u64;
    let n = io::copy(&mut r.take(pad), &mut io::sink())?;
    if n != pad {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "archive ends inside padding"));
    }
    Ok(())
}

/// Exactly one entry's bytes, hashed as they pass; a model entry that
/// inflates past its bound fails here, before it fills memory.
struct EntryReader<'g, R: io::BufRead> {
    gz: &'g mut StrictGzDecoder<R>,
    left: u64,
    hasher: Sha256,
    read: u64,
    compressed_start: u64,
    max_inflation: Option<u64>,
}

impl<R: io::BufRead> Read for EntryReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.gz.read(&mut buf[..want])?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        self.left -= n as u64;
        if let Some(ratio) = self.max_inflation {
            let compressed = self.gz.compressed_consumed().saturating_sub(self.compressed_start);
            if self.read > compressed.saturating_mul(ratio).saturating_add(1 << 20) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "inflates more than {ratio} times its compressed size ({} bytes from {compressed}): a decompression bomb?",
                        self.read
                    ),
                ));
            }
        }
        Ok(n)
    }
}

/// One model entry, parsed and validated.
pub(crate) enum ModelEntry {
    K6Summary(Box<K6Summary>),
    K6TimeSeries(Box<K6TimeSeries>),
    Profile(Box<Profile>),
    Timeline(Box<Timeline>),
}

/// Parses and validates a model entry's bytes as the reader does; `None`
/// kind-wise means it is not a model kind. The writer calls this too, so
/// that nothing is written that a reader would refuse.
pub(crate) fn parse_model_entry(kind: &str, bytes: &[u8]) -> Result<ModelEntry, String> {
    parse_with(kind, serde_json::Deserializer::from_slice(bytes)).map_err(|f| match f {
        EntryFault::Io(e) => e.to_string(),
        EntryFault::Schema(s) => s,
    })
}

/// The longest string a model entry may hold (names, tags, titles are short).
const MAX_MODEL_STRING_BYTES: usize = 4 << 20;

/// Why an entry streamed into the model did not parse: its bytes did not
/// arrive (a cut or corrupt stream, a bomb), or they are not the schema.
pub(crate) enum EntryFault {
    Io(io::Error),
    Schema(String),
}

/// [`parse_model_entry`] of an entry read as it streams: its text is never
/// held whole, only what the model keeps (within the reader's budget).
pub(crate) fn read_model_entry<R: Read>(kind: &str, r: R) -> Result<ModelEntry, EntryFault> {
    let guarded =
        crate::ingest::document::LongStrings::new(io::BufReader::with_capacity(1 << 16, r), MAX_MODEL_STRING_BYTES);
    parse_with(kind, serde_json::Deserializer::from_reader(guarded))
}

fn parse_with<'de, R: serde_json::de::Read<'de>>(
    kind: &str,
    mut de: serde_json::Deserializer<R>,
) -> Result<ModelEntry, EntryFault> {
    use serde::Deserialize;
    let s = |e: serde_json::Error| {
        if e.is_io() {
            EntryFault::Io(io::Error::from(e))
        } else {
            EntryFault::Schema(e.to_string())
        }
    };
    let out = match kind {
        kinds::K6_SUMMARY => ModelEntry::K6Summary(Box::new(K6Summary::deserialize(&mut de).map_err(s)?)),
        kinds::K6_TIMESERIES => {
            let ts = K6TimeSeries::deserialize(&mut de).map_err(s)?;
            ts.validate().map_err(EntryFault::Schema)?;
            ModelEntry::K6TimeSeries(Box::new(ts))
        }
        kinds::PROFILE => {
            let p = Profile::deserialize(&mut de).map_err(s)?;
            p.validate().map_err(EntryFault::Schema)?;
            ModelEntry::Profile(Box::new(p))
        }
        kinds::TIMELINE => {
            let t = Timeline::deserialize(&mut de).map_err(s)?;
            t.validate().map_err(EntryFault::Schema)?;
            ModelEntry::Timeline(Box::new(t))
        }
        other => return Err(EntryFault::Schema(format!("{other:?} is not a model kind"))),
    };
    de.end().map_err(s)?;
    Ok(out)
}

/// Kinds whose entries are parsed in memory (and so bounded in size and inflation).
pub(crate) fn is_model_kind(kind: &str) -> bool {
    [kinds::K6_SUMMARY, kinds::K6_TIMESERIES, kinds::PROFILE, kinds::TIMELINE].contains(&kind)
}

/// A bundle's manifest and model, loaded and checked.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub manifest: Manifest,
    pub k6_summary: Option<K6Summary>,
    pub k6_timeseries: Option<K6TimeSeries>,
    /// Profiles, in manifest order.
    pub profiles: Vec<Profile>,
    /// Process timelines, in manifest order.
    pub timelines: Vec<Timeline>,
}

impl Bundle {
    /// Reads a whole bundle from `reader`: every check of [`read_entries`],
    /// plus each model entry parsed against its schema. Raw entries are
    /// hashed but not kept. Entries of kinds this version does not know are
    /// checked and skipped.
    pub fn read<R: Read>(reader: R, file: &str, limits: &ReadLimits) -> Result<Bundle, BundleError> {
        Ok(Bundle::read_measured(reader, file, limits)?.0)
    }

    /// [`Bundle::read`], also returning the memory its model takes as the
    /// reader counts it against `max_model_memory` (for a caller that holds
    /// several bundles within one budget).
    pub fn read_measured<R: Read>(reader: R, file: &str, limits: &ReadLimits) -> Result<(Bundle, u64), BundleError> {
        let mut k6_summary = None;
        let mut k6_timeseries = None;
        let mut profiles = Vec::new();
        let mut timelines = Vec::new();
        let max_model = limits.max_model_entry_bytes;
        let mut memory = limits.max_model_memory;
        let mut unparsed: Option<(String, String)> = None;
        let manifest = crate::bounded::with_budget(&mut memory, || {
            read_entries(reader, file, limits, &mut |_, e, r| {
                let kind = e.record.kind.as_str();
                if !is_model_kind(kind) {
                    return Ok(());
                }
                if e.record.size > max_model {
                    return Err(BundleError::TooLarge {
                        file: file.into(),
                        path: e.record.path.clone(),
                        size: e.record.size,
                        limit: max_model,
                    });
                }
                // Parsed as it streams (its text never held whole). A parse error
                // waits for the entry's checksum: damage is said as damage.
                match read_model_entry(kind, &mut *r) {
                    Ok(ModelEntry::K6Summary(v)) => k6_summary = Some(*v),
                    Ok(ModelEntry::K6TimeSeries(v)) => k6_timeseries = Some(*v),
                    Ok(ModelEntry::Profile(v)) => profiles.push(*v),
                    Ok(ModelEntry::Timeline(v)) => timelines.push(*v),
                    Err(EntryFault::Io(source)) => {
                        return Err(stream_error(file, format!("reading {}", e.record.path), source));
                    }
                    Err(EntryFault::Schema(reason)) => {
                        unparsed.get_or_insert((e.record.path.clone(), reason));
                    }
                }
                Ok(())
            })
        })?;
        // Every entry's checksum held: a parse error is the schema's.
        if let Some((path, reason)) = unparsed {
            return Err(BundleError::Schema { file: file.into(), path, reason });
        }
        let held = limits.max_model_memory - memory;
        Ok((Bundle { manifest, k6_summary, k6_timeseries, profiles, timelines }, held))
    }

    /// Reads a bundle held in memory (the viewer's path).
    pub fn from_bytes(bytes: &[u8], file: &str, limits: &ReadLimits) -> Result<Bundle, BundleError> {
        Self::read(bytes, file, limits)
    }
}
