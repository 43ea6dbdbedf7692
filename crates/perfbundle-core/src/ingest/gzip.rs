//! Plain or gzip input, told apart by the gzip magic bytes, and a gzip
//! decoder that checks what `flate2`'s multi-member decoder lets through:
//! every member's trailer (CRC-32 and length) is read and checked, and bytes
//! after the last member that are not another member are refused.

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::{GzDecoder, MultiGzDecoder};

/// `true` when `head` starts with the gzip magic (`1f 8b`).
pub fn is_gzip(head: &[u8]) -> bool {
    head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b
}

/// Wraps `reader` in a [`StrictGzDecoder`] when its first bytes are gzip's.
pub fn maybe_gunzip<'a, R: BufRead + 'a>(mut reader: R) -> io::Result<Box<dyn BufRead + 'a>> {
    let gz = is_gzip(reader.fill_buf()?);
    Ok(if gz { Box::new(BufReader::with_capacity(1 << 20, StrictGzDecoder::new(reader))) } else { Box::new(reader) })
}

/// The first `max` bytes of the decompressed content of `head` (which may be
/// only the start of a file). A gzip stream cut short yields what it could.
pub fn decompressed_prefix(head: &[u8], max: usize) -> Vec<u8> {
    if !is_gzip(head) {
        return head[..head.len().min(max)].to_vec();
    }
    let mut out = Vec::new();
    let mut dec = MultiGzDecoder::new(head).take(max as u64);
    let mut buf = [0u8; 8192];
    loop {
        match dec.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// Counts the compressed bytes a decoder consumed.
#[derive(Debug)]
pub struct Counting<R> {
    inner: R,
    consumed: u64,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

/// A multi-member gzip decoder that fails, with a message saying which, on a
/// stream cut before a member's trailer, a trailer whose CRC-32 or length
/// does not match the content, and trailing bytes that are not a gzip member.
/// It also counts the compressed bytes consumed, so that a reader can bound
/// how far each part of the content inflates.
#[derive(Debug)]
pub struct StrictGzDecoder<R: BufRead> {
    dec: Option<GzDecoder<Counting<R>>>,
    /// The source once the last member has ended.
    done: Option<Counting<R>>,
    members: u64,
}

impl<R: BufRead> StrictGzDecoder<R> {
    pub fn new(reader: R) -> Self {
        StrictGzDecoder { dec: Some(GzDecoder::new(Counting { inner: reader, consumed: 0 })), done: None, members: 1 }
    }

    /// Compressed bytes consumed so far (read ahead by the decoder included).
    pub fn compressed_consumed(&self) -> u64 {
        match (&self.dec, &self.done) {
            (Some(d), _) => d.get_ref().consumed,
            (None, Some(c)) => c.consumed,
            (None, None) => 0,
        }
    }

    /// The source, when the decoder has not failed.
    pub fn into_inner(self) -> Option<R> {
        match (self.dec, self.done) {
            (Some(d), _) => Some(d.into_inner().inner),
            (None, Some(c)) => Some(c.inner),
            (None, None) => None,
        }
    }

    fn explain(&self, e: io::Error) -> io::Error {
        let m = self.members;
        let at = if m > 1 { format!(" (gzip member {m})") } else { String::new() };
        match e.kind() {
            io::ErrorKind::UnexpectedEof => io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the gzip stream ends early{at}: the file is truncated (its end and the CRC-32/length trailer are missing)"),
            ),
            io::ErrorKind::InvalidInput if e.to_string().contains("checksum") => io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the gzip trailer{at} does not match the content (CRC-32 or length): the file is corrupt"),
            ),
            _ => io::Error::new(e.kind(), format!("corrupt gzip stream{at}: {e}")),
        }
    }
}

impl<R: BufRead> Read for StrictGzDecoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(dec) = self.dec.as_mut() else { return Ok(0) };
            let n = match dec.read(buf) {
                Ok(n) => n,
                Err(e) => return Err(self.explain(e)),
            };
            if n > 0 {
                return Ok(n);
            }
            // The member ended and its trailer matched. Another member, the
            // end of the file, or bytes that do not belong.
            let Some(dec) = self.dec.take() else { return Ok(0) };
            let mut inner = dec.into_inner();
            let head = inner.fill_buf()?;
            if head.is_empty() {
                self.done = Some(inner);
                return Ok(0);
            }
            if !is_gzip(head) {
                let offset = inner.consumed;
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("trailing data after the gzip stream (at byte {offset}): the file was appended to or is corrupt"),
                ));
            }
            self.members += 1;
            self.dec = Some(GzDecoder::new(inner));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        StrictGzDecoder::new(bytes).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn reads_one_or_more_members() {
        assert_eq!(decode(&gz(b"hello")).unwrap(), b"hello");
        let mut two = gz(b"hel");
        two.extend(gz(b"lo"));
        assert_eq!(decode(&two).unwrap(), b"hello");
    }

    #[test]
    fn refuses_a_cut_or_flipped_trailer_and_trailing_bytes() {
        let ok = gz(b"hello world");
        for cut in 1..=8 {
            let e = decode(&ok[..ok.len() - cut]).unwrap_err();
            assert!(e.to_string().contains("truncated"), "cut {cut}: {e}");
        }
        for i in 1..=8 {
            let mut bad = ok.clone();
            let at = bad.len() - i;
            bad[at] ^= 0x40;
            let e = decode(&bad).unwrap_err();
            assert!(e.to_string().contains("does not match"), "flip {i}: {e}");
        }
        let mut more = ok.clone();
        more.extend_from_slice(b"garbage");
        let e = decode(&more).unwrap_err();
        assert!(e.to_string().contains("trailing data after the gzip stream"), "{e}");
        let mut zero = ok;
        zero.push(0);
        assert!(decode(&zero).is_err());
    }
}
