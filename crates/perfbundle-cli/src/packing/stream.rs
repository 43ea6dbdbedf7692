//! The point stream of a pack: read and hashed on a thread of its own
//! (decompressing when it is gzip), parsed on this one. A k6 JSON stream's
//! lines are also tokenized on the reading thread (`k6_json::Tokenizer`),
//! so this one only aggregates.

use std::fs::File;
use std::io::BufReader;

use anyhow::{anyhow, bail, Context, Result};
use std::sync::mpsc::sync_channel;

use perfbundle_core::error::IngestError;
use perfbundle_core::ingest::gzip::{is_gzip, StrictGzDecoder};
use perfbundle_core::ingest::k6_json::{Batch, Tokenizer};
use perfbundle_core::ingest::InputKind;
use perfbundle_core::pack::PackPlan;
use sha2::{Digest, Sha256};

use crate::fsio::{progress, read_full, ChannelReader, Tap, CHUNK};
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
    let source = if inp.kind == InputKind::K6Json {
        let res = read_json(plan, source, &display);
        pb.finish_and_clear();
        res?
    } else {
        let (reader, handle) = ChannelReader::spawn(source);
        let res = plan.k6_stream(reader, &display, inp.kind);
        pb.finish_and_clear();
        res?;
        handle.join().map_err(|_| anyhow!("{display}: the reading thread failed"))?
    };
    let tap = source.into_tap().ok_or_else(|| anyhow!("{display}: the gzip stream is corrupt"))?;
    if tap.bytes != inp.size {
        bail!("{display}: read {} bytes but the file has {}; it changed while packing", tap.bytes, inp.size);
    }
    Ok(hex::encode(tap.hasher.finalize()))
}

/// Batches of tokens in flight between the two threads (each about 1 MiB of
/// the decompressed stream): memory stays bounded, both cores stay busy.
const BATCHES_IN_FLIGHT: usize = 4;

/// A k6 JSON stream on two threads: this one aggregates what the other
/// reads, decompresses and tokenizes. Returns the source when it was read to
/// its end.
fn read_json(plan: &mut PackPlan, source: DecompressSource, display: &str) -> Result<DecompressSource> {
    let opts = plan.json_options();
    let (tx, rx) = sync_channel::<Result<Batch, IngestError>>(BATCHES_IN_FLIGHT);
    let (spare_tx, spare_rx) = sync_channel::<Batch>(BATCHES_IN_FLIGHT + 2);
    let file = display.to_string();
    let reader = std::thread::spawn(move || {
        let mut source = source;
        let mut tok = Tokenizer::new(&file, &opts);
        let mut buf = vec![0u8; CHUNK];
        loop {
            let mut batch = spare_rx.try_recv().unwrap_or_default();
            batch.clear();
            // Bytes read before an error are tokenized first, so the error
            // names the line it stopped in.
            let (n, read) = read_full(&mut source, &mut buf);
            let res = tok.feed(&buf[..n], &mut batch).and_then(|()| match read {
                Err(e) => Err(tok.read_error(e)),
                Ok(()) if n == 0 => tok.finish(&mut batch).map(|()| true),
                Ok(()) => Ok(false),
            });
            let last = !matches!(res, Ok(false));
            if tx.send(res.map(|_| batch)).is_err() || last {
                break;
            }
        }
        (source, tok.lines())
    });
    let mut sink = plan.k6_json_tokens(display)?;
    let mut res = Ok(());
    for msg in &rx {
        match msg.map_err(Into::into).and_then(|b| sink.apply(&b).map(|()| b)) {
            Ok(b) => {
                let _ = spare_tx.try_send(b);
            }
            Err(e) => {
                res = Err(e);
                break;
            }
        }
    }
    // An error here ends the reading thread at its next send.
    drop(rx);
    let (source, lines) = reader.join().map_err(|_| anyhow!("{display}: the reading thread failed"))?;
    res?;
    sink.finish(lines)?;
    Ok(source)
}
