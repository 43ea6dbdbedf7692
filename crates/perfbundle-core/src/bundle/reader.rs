//! Reading a bundle, treating it as untrusted: every header is checked, every
//! path is checked for escapes, every size against limits and against the
//! manifest, every entry against its SHA-256.

use std::collections::HashSet;
use std::io::{self, BufReader, Read};

use flate2::bufread::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::manifest::{parse_version, EntryRecord, Manifest, FORMAT_MAJOR, FORMAT_NAME};
use super::{check_entry_path, kinds, paths, tar};
use crate::error::BundleError;
use crate::k6::{K6Summary, K6TimeSeries};
use crate::profile::Profile;
use crate::timeline::Timeline;

/// Size limits applied while reading (decompression-bomb protection).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReadLimits {
    /// Largest `manifest.json`. Default is 16 MiB.
    pub max_manifest_bytes: u64,
    /// Largest entry that is parsed in memory (model entries). Default is 512 MiB.
    pub max_model_entry_bytes: u64,
    /// Largest total of all entries' sizes. Default is 16 GiB.
    pub max_total_bytes: u64,
    /// Most entries. Default is 100,000.
    pub max_entries: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_manifest_bytes: 16 << 20,
            max_model_entry_bytes: 512 << 20,
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
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("manifest.json is not JSON: {e}")))?;
    if v.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
        return Err(bad("manifest.json has no \"format\": \"perfbundle\"".into()));
    }
    let ver = v.get("format_version").and_then(|f| f.as_str()).unwrap_or("");
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
    serde_json::from_value(v).map_err(|e| BundleError::Schema {
        file: file.into(),
        path: paths::MANIFEST.into(),
        reason: e.to_string(),
    })
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
    let mut gz = MultiGzDecoder::new(br);
    let io_err = |context: &str| {
        let context = context.to_string();
        move |source: io::Error| BundleError::Io {
            file: file.to_string(),
            context: format!("{context} (truncated or corrupt archive?)"),
            source,
        }
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
    for e in &manifest.entries {
        check_entry_path(&e.path).map_err(|reason| BundleError::UnsafePath {
            file: file.into(),
            path: e.path.clone(),
            reason,
        })?;
    }

    let mut seen: HashSet<String> = HashSet::new();
    let mut read_total = 0u64;
    loop {
        if !read_block(&mut gz, &mut block).map_err(io_err("reading a header"))? {
            break;
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
        let Some(rec) = manifest.entries.iter().find(|e| e.path == h.path) else {
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
        let mut er = EntryReader { inner: (&mut gz).take(h.size), hasher: Sha256::new(), read: 0 };
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
    if let Some(missing) = manifest.entries.iter().find(|e| !seen.contains(&e.path)) {
        return Err(BundleError::MissingEntry { file: file.into(), path: missing.path.clone() });
    }
    Ok(manifest)
}

fn skip_padding<R: Read>(r: &mut R, size: u64) -> io::Result<()> {
    let pad = (tar::BLOCK as u64 - size % tar::BLOCK as u64) % tar::BLOCK as u64;
    let n = io::copy(&mut r.take(pad), &mut io::sink())?;
    if n != pad {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "archive ends inside padding"));
    }
    Ok(())
}

struct EntryReader<R> {
    inner: R,
    hasher: Sha256,
    read: u64,
}

impl<R: Read> Read for EntryReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
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
        let mut k6_summary = None;
        let mut k6_timeseries = None;
        let mut profiles = Vec::new();
        let mut timelines = Vec::new();
        let max_model = limits.max_model_entry_bytes;
        let manifest = read_entries(reader, file, limits, &mut |_, e, r| {
            let kind = e.record.kind.as_str();
            if ![kinds::K6_SUMMARY, kinds::K6_TIMESERIES, kinds::PROFILE, kinds::TIMELINE].contains(&kind) {
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
            let mut bytes = Vec::with_capacity(e.record.size as usize);
            r.read_to_end(&mut bytes).map_err(|source| BundleError::Io {
                file: file.into(),
                context: format!("reading {} (truncated or corrupt archive?)", e.record.path),
                source,
            })?;
            let schema =
                |reason: String| BundleError::Schema { file: file.into(), path: e.record.path.clone(), reason };
            match kind {
                kinds::K6_SUMMARY => {
                    k6_summary =
                        Some(serde_json::from_slice::<K6Summary>(&bytes).map_err(|er| schema(er.to_string()))?);
                }
                kinds::K6_TIMESERIES => {
                    let ts: K6TimeSeries = serde_json::from_slice(&bytes).map_err(|er| schema(er.to_string()))?;
                    ts.validate().map_err(schema)?;
                    k6_timeseries = Some(ts);
                }
                kinds::PROFILE => {
                    let p: Profile = serde_json::from_slice(&bytes).map_err(|er| schema(er.to_string()))?;
                    p.validate().map_err(schema)?;
                    profiles.push(p);
                }
                _ => {
                    let t: Timeline = serde_json::from_slice(&bytes).map_err(|er| schema(er.to_string()))?;
                    t.validate().map_err(schema)?;
                    timelines.push(t);
                }
            }
            Ok(())
        })?;
        Ok(Bundle { manifest, k6_summary, k6_timeseries, profiles, timelines })
    }

    /// Reads a bundle held in memory (the viewer's path).
    pub fn from_bytes(bytes: &[u8], file: &str, limits: &ReadLimits) -> Result<Bundle, BundleError> {
        Self::read(bytes, file, limits)
    }
}
