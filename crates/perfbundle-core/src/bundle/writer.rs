//! Writing a bundle: manifest first, then model entries, then raw inputs.

use std::io::{Read, Write};

use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

use super::manifest::{EntryRecord, Manifest};
use super::reader::{is_model_kind, parse_model_entry, ReadLimits};
use super::{check_entry_path, paths, tar};
use crate::error::BundleError;

/// An entry waiting to be written.
#[derive(Debug)]
pub enum PendingEntry {
    /// Content held in memory.
    Bytes(Vec<u8>),
    /// Content the caller streams at write time; its size and SHA-256 were
    /// measured before (the write checks them again).
    External { size: u64, sha256: String },
}

/// Collects a manifest and entries, then writes the archive in one pass.
#[derive(Debug)]
pub struct BundleBuilder {
    manifest: Manifest,
    entries: Vec<(EntryRecord, PendingEntry)>,
    mtime: u64,
    /// What is left of the memory a written model may take ([`super::reader::WRITTEN_MODEL_MEMORY`]).
    memory_left: u64,
}

/// The gzip level bundles are written with (zlib's default).
pub const GZIP_LEVEL: u32 = 6;

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl BundleBuilder {
    /// `mtime` (Unix seconds) is written into every tar header.
    pub fn new(manifest: Manifest, mtime: u64) -> Self {
        BundleBuilder { manifest, entries: Vec::new(), mtime, memory_left: super::reader::WRITTEN_MODEL_MEMORY }
    }

    pub fn manifest_mut(&mut self) -> &mut Manifest {
        &mut self.manifest
    }

    /// Adds an in-memory entry. A model entry is checked as a reader will
    /// check it (schema, nesting, finite numbers, the size limit), so that a
    /// bundle that would not read back is never written.
    pub fn add_bytes(
        &mut self,
        path: &str,
        kind: &str,
        bytes: Vec<u8>,
        original_name: Option<String>,
    ) -> Result<(), BundleError> {
        if is_model_kind(kind) {
            let limit = ReadLimits::default().max_model_entry_bytes;
            if bytes.len() as u64 > limit {
                return Err(BundleError::Write {
                    file: path.into(),
                    reason: format!(
                        "{} bytes is over the {limit}-byte limit readers apply to a model entry",
                        bytes.len()
                    ),
                });
            }
            // Within the reader's memory budget, all model entries together.
            crate::bounded::with_budget(&mut self.memory_left, || parse_model_entry(kind, &bytes)).map_err(
                |reason| BundleError::Write {
                    file: path.into(),
                    reason: format!("would not read back ({reason}); nothing was written"),
                },
            )?;
        }
        let rec = EntryRecord {
            path: path.into(),
            kind: kind.into(),
            size: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
            original_name,
        };
        self.push(rec, PendingEntry::Bytes(bytes))
    }

    /// Adds a JSON entry serialized from `value`.
    pub fn add_json<T: serde::Serialize>(&mut self, path: &str, kind: &str, value: &T) -> Result<(), BundleError> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| BundleError::Write { file: path.into(), reason: format!("serializing: {e}") })?;
        self.add_bytes(path, kind, bytes, None)
    }

    /// Adds an entry whose content the caller will stream at write time.
    pub fn add_external(
        &mut self,
        path: &str,
        kind: &str,
        size: u64,
        sha256: String,
        original_name: Option<String>,
    ) -> Result<(), BundleError> {
        let rec = EntryRecord { path: path.into(), kind: kind.into(), size, sha256: sha256.clone(), original_name };
        self.push(rec, PendingEntry::External { size, sha256 })
    }

    fn push(&mut self, rec: EntryRecord, e: PendingEntry) -> Result<(), BundleError> {
        check_entry_path(&rec.path).map_err(|r| BundleError::Write { file: rec.path.clone(), reason: r })?;
        if rec.path == paths::MANIFEST || self.entries.iter().any(|(r, _)| r.path == rec.path) {
            return Err(BundleError::Write { file: rec.path, reason: "duplicate entry path".into() });
        }
        self.entries.push((rec, e));
        Ok(())
    }

    /// Writes the gzip-compressed archive to `w`. `open_external` gives a
    /// reader for each [`PendingEntry::External`] path. `file` names the
    /// output in errors.
    pub fn write<W: Write>(
        self,
        w: W,
        file: &str,
        open_external: &mut dyn FnMut(&str) -> std::io::Result<Box<dyn Read>>,
    ) -> Result<W, BundleError> {
        let gz = self.write_tar(GzEncoder::new(w, Compression::new(GZIP_LEVEL)), file, open_external)?;
        gz.finish().map_err(|source| BundleError::Io { file: file.into(), context: "finishing gzip".into(), source })
    }

    /// Writes the archive uncompressed to `w`, for a caller that compresses
    /// it its own way (the CLI: on every core, see [`GZIP_LEVEL`]); the
    /// stream must then be gzip-compressed to be a bundle.
    pub fn write_tar<W: Write>(
        mut self,
        mut out: W,
        file: &str,
        open_external: &mut dyn FnMut(&str) -> std::io::Result<Box<dyn Read>>,
    ) -> Result<W, BundleError> {
        self.manifest.entries = self.entries.iter().map(|(r, _)| r.clone()).collect();
        let io =
            |context: String| move |source: std::io::Error| BundleError::Io { file: file.to_string(), context, source };
        let manifest = serde_json::to_vec_pretty(&self.manifest)
            .map_err(|e| BundleError::Write { file: file.into(), reason: format!("serializing the manifest: {e}") })?;
        let max_manifest = ReadLimits::default().max_manifest_bytes;
        if manifest.len() as u64 > max_manifest {
            return Err(BundleError::Write {
                file: file.into(),
                reason: format!(
                    "manifest.json would be {} bytes, over the {max_manifest}-byte limit readers apply",
                    manifest.len()
                ),
            });
        }
        tar::write_entry(&mut out, paths::MANIFEST, manifest.len() as u64, self.mtime, &mut &manifest[..])
            .map_err(io("writing manifest.json".into()))?;
        for (rec, pending) in self.entries {
            match pending {
                PendingEntry::Bytes(b) => {
                    tar::write_entry(&mut out, &rec.path, b.len() as u64, self.mtime, &mut &b[..])
                        .map_err(io(format!("writing {}", rec.path)))?
                }
                PendingEntry::External { size, sha256 } => {
                    let r = open_external(&rec.path).map_err(io(format!("opening the source of {}", rec.path)))?;
                    let mut hr = HashingReader { inner: r, hasher: Sha256::new() };
                    tar::write_entry(&mut out, &rec.path, size, self.mtime, &mut hr)
                        .map_err(io(format!("writing {}", rec.path)))?;
                    let actual = hex::encode(hr.hasher.finalize());
                    if actual != sha256 {
                        return Err(BundleError::Write {
                            file: file.into(),
                            reason: format!(
                                "{}: the input changed while packing (sha256 {actual}, was {sha256})",
                                rec.path
                            ),
                        });
                    }
                }
            }
        }
        tar::write_end(&mut out).map_err(io("finishing the archive".into()))?;
        Ok(out)
    }
}

/// A reader that hashes what passes through it.
pub(crate) struct HashingReader<R> {
    pub(crate) inner: R,
    pub(crate) hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}
