//! A gzip writer that compresses on every core, as pigz does: the input is
//! cut into fixed blocks, each block deflated on a thread of its own with
//! the previous block's last 32 KiB as its dictionary (so matches still
//! reach across the cut) and ended with a sync flush (so it ends on a byte
//! boundary); the blocks' outputs, in order, are one deflate stream in one
//! gzip member. Any gzip reader reads it. The bytes depend on the input,
//! the block size and the level only — not on the number of threads — so a
//! bundle is as reproducible as before.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::thread::JoinHandle;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Input bytes per block: big enough that the cut costs nothing measurable
/// (a few bytes each), small enough that a 2 MiB stream already uses two
/// cores.
const BLOCK: usize = 1 << 20;
/// Deflate's window: the dictionary each block starts with.
const WINDOW: usize = 32 << 10;
/// Blocks in flight at most (each holds its input and output): the memory
/// stays a few MiB on any machine.
const MAX_THREADS: usize = 8;

pub struct ParallelGzWriter<W: Write> {
    inner: W,
    level: u32,
    threads: usize,
    block: Vec<u8>,
    /// The last [`WINDOW`] bytes of the block before `block`.
    window: Vec<u8>,
    crc: Crc,
    in_flight: VecDeque<JoinHandle<io::Result<Vec<u8>>>>,
}

impl<W: Write> ParallelGzWriter<W> {
    /// Writes the gzip header at once (flate2's: no name, no time, OS
    /// "unknown", as [`flate2::write::GzEncoder`] writes it).
    pub fn new(mut inner: W, level: u32) -> io::Result<Self> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS);
        inner.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
        Ok(ParallelGzWriter {
            inner,
            level,
            threads,
            block: Vec::with_capacity(BLOCK),
            window: Vec::new(),
            crc: Crc::new(),
            in_flight: VecDeque::new(),
        })
    }

    /// Hands the current block to a thread; waits for the oldest one first
    /// when every core already has one.
    fn dispatch(&mut self, last: bool) -> io::Result<()> {
        while self.in_flight.len() >= self.threads {
            self.write_oldest()?;
        }
        let block = std::mem::replace(&mut self.block, Vec::with_capacity(if last { 0 } else { BLOCK }));
        let dictionary = std::mem::replace(&mut self.window, block[block.len().saturating_sub(WINDOW)..].to_vec());
        let level = self.level;
        let thread = std::thread::Builder::new().name("pargz".into());
        self.in_flight.push_back(thread.spawn(move || deflate_block(&block, &dictionary, level, last))?);
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        if let Some(h) = self.in_flight.pop_front() {
            let out = h.join().map_err(|_| io::Error::other("a compressing thread failed"))??;
            self.inner.write_all(&out)?;
        }
        Ok(())
    }

    /// Compresses what is left, ends the stream (CRC-32 and length) and
    /// gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.dispatch(true)?;
        while !self.in_flight.is_empty() {
            self.write_oldest()?;
        }
        self.inner.write_all(&self.crc.sum().to_le_bytes())?;
        self.inner.write_all(&self.crc.amount().to_le_bytes())?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for ParallelGzWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(BLOCK - self.block.len());
        self.block.extend_from_slice(&buf[..n]);
        self.crc.update(&buf[..n]);
        if self.block.len() == BLOCK {
            self.dispatch(false)?;
        }
        Ok(n)
    }

    /// Flushes the blocks already compressed; the one being filled stays
    /// (blocks are cut at fixed sizes only, so that the bytes do not depend
    /// on when the caller flushes).
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// One block as raw deflate, primed with `dictionary`, ended by a sync
/// flush — or, for the last block, by the end of the stream.
fn deflate_block(block: &[u8], dictionary: &[u8], level: u32, last: bool) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(Compression::new(level), false);
    if !dictionary.is_empty() {
        c.set_dictionary(dictionary).map_err(io::Error::other)?;
    }
    let flush = if last { FlushCompress::Finish } else { FlushCompress::Sync };
    let mut out = Vec::with_capacity(block.len() / 4 + 1024);
    let mut input = block;
    loop {
        if out.capacity() - out.len() < 4096 {
            out.reserve(out.capacity().max(64 << 10));
        }
        let before = c.total_in();
        let status = c.compress_vec(input, &mut out, flush).map_err(io::Error::other)?;
        input = &input[(c.total_in() - before) as usize..];
        let done = match status {
            Status::StreamEnd => true,
            // A sync flush is complete once deflate returns with output
            // space to spare and no input left.
            Status::Ok | Status::BufError => !last && input.is_empty() && out.len() < out.capacity(),
        };
        if done {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::{ParallelGzWriter, BLOCK};

    fn compress(data: &[u8], pieces: usize) -> Vec<u8> {
        let mut w = ParallelGzWriter::new(Vec::new(), 6).expect("header");
        for chunk in data.chunks(data.len().div_ceil(pieces).max(1)) {
            w.write_all(chunk).expect("write");
        }
        w.finish().expect("finish")
    }

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(gz).read_to_end(&mut out).expect("a valid gzip stream");
        out
    }

    /// Bytes that compress somewhat, as a tar of JSON does: repeats at
    /// every distance, some of them across the 1 MiB cuts.
    fn sample(len: usize) -> Vec<u8> {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut v = Vec::with_capacity(len);
        while v.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let s = format!("{{\"t\":{},\"v\":{}}},", x % 1000, (x >> 20) % 97);
            v.extend_from_slice(s.as_bytes());
        }
        v.truncate(len);
        v
    }

    #[test]
    fn reads_back_at_every_size_around_the_cuts() {
        for len in [0, 1, 100, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 12_345] {
            let data = sample(len);
            assert_eq!(gunzip(&compress(&data, 7)), data, "{len} bytes");
        }
    }

    #[test]
    fn the_bytes_do_not_depend_on_how_the_input_was_written() {
        let data = sample(2 * BLOCK + 777);
        assert_eq!(compress(&data, 1), compress(&data, 1000));
    }

    #[test]
    fn matches_reach_across_the_cuts() {
        // The same 16 KiB on each side of a cut: with the dictionary the
        // copy after the cut costs a few bytes, without it kilobytes.
        let piece = sample(16 << 10);
        let mut alone = sample(BLOCK - piece.len());
        alone.extend_from_slice(&piece);
        let mut data = alone.clone();
        data.extend_from_slice(&piece);
        let extra = compress(&data, 1).len() - compress(&alone, 1).len();
        assert!(extra < 512, "the copy after the cut cost {extra} bytes: it was not matched");
        assert_eq!(gunzip(&compress(&data, 3)), data);
    }
}
