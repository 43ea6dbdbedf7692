//! Plain or gzip input, told apart by the gzip magic bytes.

use std::io::{BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

/// `true` when `head` starts with the gzip magic (`1f 8b`).
pub fn is_gzip(head: &[u8]) -> bool {
    head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b
}

/// Wraps `reader` in a gzip decoder when its first bytes are gzip's.
pub fn maybe_gunzip<'a, R: BufRead + 'a>(mut reader: R) -> std::io::Result<Box<dyn BufRead + 'a>> {
    let gz = is_gzip(reader.fill_buf()?);
    Ok(if gz { Box::new(BufReader::with_capacity(1 << 20, MultiGzDecoder::new(reader))) } else { Box::new(reader) })
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
