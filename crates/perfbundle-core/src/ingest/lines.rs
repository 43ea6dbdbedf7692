//! Reading lines with a bound: a line-oriented input whose "line" never ends
//! (a 600 MB file with no newline, say) must fail with a clear error, not
//! fill memory.

use std::io::{self, BufRead};

use crate::error::IngestError;

/// The longest line the line-oriented ingesters accept by default: 64 MiB
/// (k6's longest lines are a few KB; a perf stack line, a few hundred bytes).
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 << 20;

/// The error a too-long line gives, as an `io::Error` of kind `InvalidData`.
pub fn too_long(max: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("a line longer than {max} bytes (no newline in sight): not this format, or raise --max-line-bytes"),
    )
}

/// Reads the next line of `file` into `raw` (cleared first) and counts it in
/// `no`; `false` at the end of the input. A read error, or a line past `max`
/// bytes, names the file and the line.
pub fn next_line<R: BufRead + ?Sized>(
    r: &mut R,
    raw: &mut Vec<u8>,
    max: usize,
    file: &str,
    no: &mut u64,
) -> Result<bool, IngestError> {
    raw.clear();
    let n =
        read_line_capped(r, raw, max).map_err(|e| IngestError::read(file, format!("reading line {}", *no + 1), e))?;
    if n == 0 {
        return Ok(false);
    }
    *no += 1;
    Ok(true)
}

/// Appends the next line (up to and including its `\n`, or to the end of
/// the input) to `buf`; returns the bytes read, 0 at the end. Fails when the
/// line passes `max` bytes, having read at most `max` + one buffer of it.
pub fn read_line_capped<R: BufRead + ?Sized>(r: &mut R, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    let mut read = 0usize;
    loop {
        let (done, used) = {
            let avail = match r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok(read);
            }
            match memchr::memchr(b'\n', avail) {
                Some(i) => {
                    buf.extend_from_slice(&avail[..=i]);
                    (true, i + 1)
                }
                None => {
                    buf.extend_from_slice(avail);
                    (false, avail.len())
                }
            }
        };
        r.consume(used);
        read += used;
        if read > max {
            return Err(too_long(max));
        }
        if done {
            return Ok(read);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_and_stops_a_line_that_never_ends() {
        let mut r = io::BufReader::with_capacity(4, &b"ab\ncdef\ng"[..]);
        let mut buf = Vec::new();
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), 3);
        assert_eq!(buf, b"ab\n");
        buf.clear();
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), 5);
        buf.clear();
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), 1);
        buf.clear();
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), 0);
        let long = vec![b'x'; 1000];
        let mut r = io::BufReader::with_capacity(16, &long[..]);
        let e = read_line_capped(&mut r, &mut buf, 100).unwrap_err();
        assert!(e.to_string().contains("longer than 100 bytes"), "{e}");
        assert!(buf.len() <= 116);
    }
}
