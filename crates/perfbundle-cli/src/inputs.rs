//! Finding and classifying `pack`'s inputs: files or folders, kinds detected
//! by content (`--as KIND:PATH` forces one; `--as profile:NAME=PATH` names a profile).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use perfbundle_core::ingest::gzip::{decompressed_prefix, maybe_gunzip};
use perfbundle_core::ingest::{detect, InputKind};

/// Largest document input (summary JSON) read into memory, decompressed.
pub const MAX_DOCUMENT_BYTES: u64 = 256 << 20;
/// The largest k6 summary read (decompressed): 1,000 metrics with 20 sub-metrics each take 10 MB.
pub const MAX_SUMMARY_BYTES: u64 = 64 << 20;
const HEAD_BYTES: usize = 256 << 10;

/// One input: a file, or a profiler's data folder and the files that hold its data.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub kind: InputKind,
    /// The files read (the input itself for a file; the data files of a folder).
    pub files: Vec<PathBuf>,
    /// Size of the main data file.
    pub size: u64,
    /// A profile's name given with `--as profile:NAME=PATH`.
    pub name: Option<String>,
}

impl Input {
    fn file(path: PathBuf, kind: InputKind, size: u64) -> Self {
        Input { files: vec![path.clone()], path, kind, size, name: None }
    }
    pub fn display(&self) -> String {
        self.path.display().to_string()
    }
    pub fn file_name(&self) -> String {
        file_name(&self.path)
    }
}

pub fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string())
}

/// Opens a (possibly gzip) file for reading.
pub fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    let f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    maybe_gunzip(BufReader::with_capacity(1 << 16, f)).with_context(|| format!("{}: cannot read", path.display()))
}

/// Reads a whole (possibly gzip) file, decompressed, up to `limit` bytes.
pub fn read_document(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let mut r = open(path)?;
    let mut out = Vec::new();
    (&mut r)
        .take(limit + 1)
        .read_to_end(&mut out)
        .with_context(|| format!("{}: reading (truncated or corrupt gzip?)", path.display()))?;
    if out.len() as u64 > limit {
        bail!("{}: larger than {} MiB decompressed; too large for a document input", path.display(), limit >> 20);
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
    // Folded stacks named so (as `export --folded` writes them): one-frame stacks, or a first line past the head.
    let lower = file_name(path).to_ascii_lowercase();
    let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
    if (stem.ends_with(".folded") || stem.ends_with(".collapsed"))
        && perfbundle_core::ingest::detect::looks_folded(&text, whole)
    {
        return Ok(Some(InputKind::Folded));
    }
    let looks_json = text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !whole && looks_json {
        // Read as a stream, its shape only: nothing of a large document is held.
        if let Ok(r) = open(path) {
            return Ok(perfbundle_core::ingest::detect::detect_document(r.take(MAX_DOCUMENT_BYTES)));
        }
    }
    Ok(None)
}

fn files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list folder", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    Ok(v)
}

/// A profiler's data folder: its kind and data files (main file first).
/// Fails on a folder that is recognisably a profiler's but lacks its data.
pub fn detect_folder(dir: &Path) -> Result<Option<(InputKind, Vec<PathBuf>)>> {
    let files = files_in(dir)?;
    let find = |suffixes: &[&str]| files.iter().find(|f| suffixes.iter().any(|s| file_name(f).ends_with(s))).cloned();
    if let Some(ps) = find(&["clinic-doctor-processstat"]) {
        let mut v = vec![ps];
        v.extend(find(&["clinic-doctor-traceevent"]));
        v.extend(find(&["clinic-doctor-systeminfo"]));
        return Ok(Some((InputKind::ClinicDoctor, v)));
    }
    if let Some(s) = find(&["clinic-flame-samples", "clinic-flame-samples.gz"]) {
        let mut v = vec![s];
        v.extend(find(&["clinic-flame-systeminfo"]));
        return Ok(Some((InputKind::ClinicFlame, v)));
    }
    if let Some(l) = find(&["-v8.log.json", "-v8.log.json.gz"]) {
        return Ok(Some((InputKind::ZeroX, vec![l])));
    }
    if let Some(s) = files.iter().find(|f| {
        let n = file_name(f);
        n.starts_with("stacks.") && (n.ends_with(".out") || n.ends_with(".out.gz"))
    }) {
        return Ok(Some((InputKind::ZeroX, vec![s.clone()])));
    }
    let name = file_name(dir);
    let zero_x_meta = dir.join("meta.json").is_file()
        && std::fs::read_to_string(dir.join("meta.json")).is_ok_and(|m| m.contains("\"kernelTracing\""));
    if name.ends_with(".0x") || zero_x_meta {
        bail!(
            "{}: an 0x output folder, but its data file is missing (expected isolate-…-v8.log.json, as 0x writes by default, or stacks.<pid>.out with --kernel-tracing)",
            dir.display()
        );
    }
    if let Some((_, tool)) = name.rsplit_once(".clinic-") {
        match tool {
            "doctor" => bail!("{}: a Clinic.js doctor folder without its <pid>.clinic-doctor-processstat file", dir.display()),
            "flame" => bail!("{}: a Clinic.js flame folder without its <pid>.clinic-flame-samples file", dir.display()),
            other => bail!(
                "{}: a Clinic.js {other} folder; perfbundle reads Clinic.js doctor and flame data (expected a .clinic-doctor or .clinic-flame folder)",
                dir.display()
            ),
        }
    }
    Ok(None)
}

/// Finds the inputs in `dir` (recursively), leaving out files in `claimed`
/// (those given before it): one look-up per file, however many there are.
fn walk(
    dir: &Path,
    out: &mut Vec<Input>,
    looked: &mut usize,
    claimed: &std::collections::HashSet<PathBuf>,
) -> Result<()> {
    if let Some((kind, files)) = detect_folder(dir)? {
        let size = std::fs::metadata(&files[0]).map(|m| m.len()).unwrap_or(0);
        out.push(Input { path: dir.to_path_buf(), kind, files, size, name: None });
        return Ok(());
    }
    let mut items: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list folder", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    items.sort();
    for p in items {
        let meta = std::fs::symlink_metadata(&p).with_context(|| format!("{}: cannot stat", p.display()))?;
        if meta.is_dir() {
            walk(&p, out, looked, claimed)?;
        } else if meta.is_file() {
            *looked += 1;
            if claimed.contains(&p) {
                continue;
            }
            if let Some(kind) = detect_file(&p)? {
                out.push(Input::file(p, kind, meta.len()));
            }
        }
    }
    Ok(())
}

/// An input given with `--as`: a kind, or a profile name (kind detected).
#[derive(Debug, Clone)]
pub struct Forced {
    pub kind: Option<InputKind>,
    pub name: Option<String>,
    pub path: PathBuf,
}

fn detect_any(p: &Path) -> Result<Option<Input>> {
    let meta = std::fs::metadata(p).with_context(|| format!("{}: cannot open", p.display()))?;
    if meta.is_dir() {
        return Ok(detect_folder(p)?.map(|(kind, files)| {
            let size = std::fs::metadata(&files[0]).map(|m| m.len()).unwrap_or(0);
            Input { path: p.to_path_buf(), kind, files, size, name: None }
        }));
    }
    Ok(detect_file(p)?.map(|k| Input::file(p.to_path_buf(), k, meta.len())))
}

/// Inputs are read more than once (their kind detected from the first bytes,
/// hashed, parsed, kept raw): a pipe, socket or device cannot be.
fn regular_or_folder(p: &Path, meta: &std::fs::Metadata) -> Result<()> {
    if meta.is_file() || meta.is_dir() {
        return Ok(());
    }
    bail!(
        "{}: not a regular file (a pipe, socket or device): perfbundle reads each input more than once; save it to a file first (e.g. `k6 run --out json=run.json …`, or `cat > run.json`)",
        p.display()
    )
}

/// Resolves the positional inputs and the `--as` ones.
pub fn collect(paths: &[PathBuf], forced: &[Forced]) -> Result<Vec<Input>> {
    let mut out: Vec<Input> = Vec::new();
    for f in forced {
        let meta = std::fs::metadata(&f.path).with_context(|| format!("{}: cannot open", f.path.display()))?;
        regular_or_folder(&f.path, &meta)?;
        let mut input = match f.kind {
            Some(kind) if meta.is_file() => Input::file(f.path.clone(), kind, meta.len()),
            Some(kind) => match detect_folder(&f.path)? {
                Some((k, files)) if k == kind => Input { path: f.path.clone(), kind, size: 0, files, name: None },
                _ => bail!("{}: not a {} folder", f.path.display(), kind.name()),
            },
            None => match detect_any(&f.path)? {
                Some(i) if i.kind.is_profile() => i,
                Some(i) => bail!("{}: a {} input, not a profile", f.path.display(), i.kind.name()),
                None => {
                    bail!("{}: not a known kind of profile. Known kinds: {}", f.path.display(), InputKind::known_list())
                }
            },
        };
        input.name = f.name.clone();
        out.push(input);
    }
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("{}: cannot open", p.display()))?;
        regular_or_folder(p, &meta)?;
        if meta.is_dir() {
            let before = out.len();
            let mut looked = 0;
            let claimed = out.iter().flat_map(|i| i.files.iter().cloned()).collect();
            walk(p, &mut out, &mut looked, &claimed)?;
            if out.len() == before {
                bail!(
                    "{}: no known input in this folder ({looked} files looked at). Known kinds: {}",
                    p.display(),
                    InputKind::known_list()
                );
            }
        } else {
            if out.iter().any(|i| i.files.contains(p)) {
                continue;
            }
            if meta.len() == 0 {
                bail!("{}: the file is empty", p.display());
            }
            match detect_file(p)? {
                Some(kind) => out.push(Input::file(p.clone(), kind, meta.len())),
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
