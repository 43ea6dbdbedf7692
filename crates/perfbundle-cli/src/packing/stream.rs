//! The point stream of a pack: read and hashed on a thread of its own
//! (decompressing when it is gzip), parsed on this one.

use std::fs::File;
use std::io::BufReader;

use anyhow::{anyhow, bail, Context, Result};
use perfbundle_core::ingest::gzip::{is_gzip, StrictGzDecoder};
use perfbundle_core::pack::PackPlan;
use sha2::{Digest, Sha256};

use crate::fsio::{progress, ChannelReader, Tap};
use crate::inputs::Input;

/// The tapped file, decompressed when it is gzip.
enum DecompressSource {
    Plain(BufReader<Tap<File>>),
    Gzip(Box<StrictGzDecoder<BufReader<Tap<File>>>>),
}

impl DecompressSource {
    fn new(tap: Tap<File>) -> std::io::Result<Self> {
        let mut br = BufReader::with_capacity(1 << 20, tap);
        let gz = is_gzip(std::io::BufRead::fill_buf(&mut br)?);
        Ok(if gz { DecompressSource::Gzip(Box::new(StrictGzDecoder::new(br))) } else { DecompressSource::Plain(br) })
    }

    /// The tapped file; `None` when decompression failed (the error was reported).
    fn into_tap(self) -> Option<Tap<File>> {
        match self {
            DecompressSource::Plain(b) => Some(b.into_inner()),
            DecompressSource::Gzip(g) => g.into_inner().map(BufReader::into_inner),
        }
    }
}

impl std::io::Read for DecompressSource {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            DecompressSource::Plain(b) => b.read(buf),
            DecompressSource::Gzip(g) => g.read(buf),
        }
    }
}

/// Reads the k6 point stream `inp` into the plan; returns the file's SHA-256.
pub fn read(plan: &mut PackPlan, inp: &Input, show_progress: bool) -> Result<String> {
    let file = File::open(&inp.path).with_context(|| format!("{}: cannot open", inp.display()))?;
    let pb = if show_progress { progress(inp.size, &inp.file_name()) } else { indicatif::ProgressBar::hidden() };
    let tap = Tap { inner: file, hasher: Sha256::new(), bytes: 0, progress: pb.clone() };
    let display = inp.display();
    let source = DecompressSource::new(tap).with_context(|| format!("{display}: cannot read"))?;
    let (reader, handle) = ChannelReader::spawn(source);
    let res = plan.k6_stream(reader, &display, inp.kind);
    pb.finish_and_clear();
    res?;
    let source = handle.join().map_err(|_| anyhow!("{display}: the reading thread failed"))?;
    let tap = source.into_tap().ok_or_else(|| anyhow!("{display}: the gzip stream is corrupt"))?;
    if tap.bytes != inp.size {
        bail!("{display}: read {} bytes but the file has {}; it changed while packing", tap.bytes, inp.size);
    }
    Ok(hex::encode(tap.hasher.finalize()))
}
