//! Finding and classifying `pack`'s inputs: files or folders, kinds detected
//! by content (`--as KIND:PATH` forces one).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use perfbundle_core::ingest::gzip::{decompressed_prefix, maybe_gunzip};
use perfbundle_core::ingest::{detect, InputKind};

/// Largest document input (summary JSON) read into memory, decompressed.
pub const MAX_DOCUMENT_BYTES: u64 = 256 << 20;
const HEAD_BYTES: usize = 256 << 10;

/// One input file and its kind.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub kind: InputKind,
    pub size: u64,
}

impl Input {
    pub fn display(&self) -> String {
        self.path.display().to_string()
    }
    pub fn file_name(&self) -> String {
        self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| self.display())
    }
}

/// Reads a whole (possibly gzip) file, decompressed, up to `limit` bytes.
pub fn read_document(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut r = maybe_gunzip(BufReader::new(f)).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut out = Vec::new();
    (&mut r)
        .take(limit + 1)
        .read_to_end(&mut out)
        .with_context(|| format!("{}: reading (truncated or corrupt gzip?)", path.display()))?;
    if out.len() as u64 > limit {
        bail!("{}: larger than {} MiB decompressed; not a summary file", path.display(), limit >> 20);
    }
    Ok(out)
}

/// Detects the kind of one file, `None` when it is no known kind.
pub fn detect_file(path: &Path) -> Result<Option<InputKind>> {
    let mut f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    (&mut f)
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let text = decompressed_prefix(&head, HEAD_BYTES);
    let whole = size as usize <= HEAD_BYTES && text.len() < HEAD_BYTES;
    if let Some(k) = detect(&text, whole) {
        return Ok(Some(k));
    }
    let looks_json = text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !whole && looks_json {
        if let Ok(doc) = read_document(path, MAX_DOCUMENT_BYTES) {
            return Ok(detect(&doc, true));
        }
    }
    Ok(None)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut items: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list folder", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    items.sort();
    for p in items {
        let meta = std::fs::symlink_metadata(&p).with_context(|| format!("{}: cannot stat", p.display()))?;
        if meta.is_dir() {
            walk(&p, out)?;
        } else if meta.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

/// Resolves the positional inputs and the `--as` ones.
pub fn collect(paths: &[PathBuf], forced: &[(InputKind, PathBuf)]) -> Result<Vec<Input>> {
    let mut out: Vec<Input> = Vec::new();
    for (kind, p) in forced {
        let meta = std::fs::metadata(p).with_context(|| format!("{}: cannot open", p.display()))?;
        if !meta.is_file() {
            bail!("{}: --as needs a file, not a folder", p.display());
        }
        out.push(Input { path: p.clone(), kind: *kind, size: meta.len() });
    }
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("{}: cannot open", p.display()))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(p, &mut files)?;
            let mut found = 0;
            for f in &files {
                if out.iter().any(|i| &i.path == f) {
                    continue;
                }
                if let Some(kind) = detect_file(f)? {
                    let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
                    out.push(Input { path: f.clone(), kind, size });
                    found += 1;
                }
            }
            if found == 0 {
                bail!(
                    "{}: no known input in this folder ({} files looked at). Known kinds: {}",
                    p.display(),
                    files.len(),
                    InputKind::known_list()
                );
            }
        } else {
            if out.iter().any(|i| &i.path == p) {
                continue;
            }
            if meta.len() == 0 {
                bail!("{}: the file is empty", p.display());
            }
            match detect_file(p)? {
                Some(kind) => out.push(Input { path: p.clone(), kind, size: meta.len() }),
                None => bail!(
                    "{}: not a known kind of input. Known kinds: {}. Use --as KIND:PATH to force one.",
                    p.display(),
                    InputKind::known_list()
                ),
            }
        }
    }
    Ok(out)
}
