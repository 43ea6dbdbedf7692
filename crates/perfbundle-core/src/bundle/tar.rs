//! A minimal ustar reader and writer: regular files only, which is all a
//! bundle holds. Reading checks each header's checksum and refuses links,
//! devices and other special entries.

use std::io::{self, Read, Write};

pub const BLOCK: usize = 512;

/// A parsed header of a regular file entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub path: String,
    pub size: u64,
    pub mtime: u64,
    /// `'0'` file or `'5'` directory.
    pub typeflag: u8,
}

fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let s = format!("{value:0width$o}");
    field[..width].copy_from_slice(s.as_bytes());
    field[width] = 0;
}

/// Builds a header block for a regular file. Paths over 100 bytes are split
/// into ustar's prefix and name at a `/`.
pub fn header(path: &str, size: u64, mtime: u64) -> io::Result<[u8; BLOCK]> {
    let mut h = [0u8; BLOCK];
    let (prefix, name) = if path.len() <= 100 {
        ("", path)
    } else {
        let split = path
            .char_indices()
            .filter(|(i, c)| *c == '/' && *i <= 155 && path.len() - i - 1 <= 100)
            .map(|(i, _)| i)
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("path too long for ustar: {path}")))?;
        (&path[..split], &path[split + 1..])
    };
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    if size < 0o77777777777 {
        octal(&mut h[124..136], size);
    } else {
        // GNU base-256 for sizes of 8 GiB and more.
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    octal(&mut h[136..148], mtime.min(0o77777777777));
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    let sum: u32 = h.iter().enumerate().map(|(i, b)| if (148..156).contains(&i) { 32 } else { u32::from(*b) }).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    Ok(h)
}

fn parse_num(field: &[u8]) -> Result<u64, String> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for b in &field[1..] {
            v = v.checked_mul(256).and_then(|x| x.checked_add(u64::from(*b))).ok_or("size overflow")?;
        }
        return Ok(v);
    }
    let s: String = field.iter().take_while(|b| **b != 0).map(|b| *b as char).collect();
    let s = s.trim();
    if s.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(s, 8).map_err(|_| format!("bad octal number {s:?}"))
}

fn cstr(field: &[u8]) -> Result<String, String> {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    String::from_utf8(field[..end].to_vec()).map_err(|_| "path is not UTF-8".to_string())
}

/// Parses a header block. `Ok(None)` for an all-zero block (end of archive).
pub fn parse_header(h: &[u8; BLOCK]) -> Result<Option<Header>, String> {
    if h.iter().all(|b| *b == 0) {
        return Ok(None);
    }
    let stored = parse_num(&h[148..156])?;
    let sum: u64 = h.iter().enumerate().map(|(i, b)| if (148..156).contains(&i) { 32 } else { u64::from(*b) }).sum();
    if stored != sum {
        return Err(format!(
            "header checksum mismatch (stored {stored}, computed {sum}): not a tar archive or corrupt"
        ));
    }
    if &h[257..262] != b"ustar" {
        return Err("not a ustar header".into());
    }
    let name = cstr(&h[0..100])?;
    let prefix = cstr(&h[345..500])?;
    let path = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
    let typeflag = match h[156] {
        b'0' | 0 => b'0',
        b'5' => b'5',
        b'1' | b'2' => return Err(format!("entry {path:?} is a link; bundles hold regular files only")),
        other => return Err(format!("entry {path:?} has unsupported type {:?}", other as char)),
    };
    Ok(Some(Header { path, size: parse_num(&h[124..136])?, mtime: parse_num(&h[136..148])?, typeflag }))
}

/// Writes `size` bytes from `data` as one entry, then padding.
pub fn write_entry<W: Write, R: Read>(w: &mut W, path: &str, size: u64, mtime: u64, data: &mut R) -> io::Result<()> {
    w.write_all(&header(path, size, mtime)?)?;
    let copied = io::copy(&mut data.take(size), w)?;
    if copied != size {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{path}: expected {size} bytes, the source gave {copied}"),
        ));
    }
    let pad = (BLOCK - (size as usize % BLOCK)) % BLOCK;
    w.write_all(&[0u8; BLOCK][..pad])
}

/// Writes the end-of-archive marker.
pub fn write_end<W: Write>(w: &mut W) -> io::Result<()> {
    w.write_all(&[0u8; BLOCK * 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let h = header("k6/summary.json", 1234, 99).unwrap();
        let p = parse_header(&h).unwrap().unwrap();
        assert_eq!(p, Header { path: "k6/summary.json".into(), size: 1234, mtime: 99, typeflag: b'0' });
        let long = format!("raw/{}/f.json", "d".repeat(120));
        assert_eq!(parse_header(&header(&long, 1, 0).unwrap()).unwrap().unwrap().path, long);
        let big = header("big", 20 << 30, 0).unwrap();
        assert_eq!(parse_header(&big).unwrap().unwrap().size, 20 << 30);
    }

    #[test]
    fn detects_corruption() {
        let mut h = header("a", 1, 0).unwrap();
        h[0] = b'b';
        assert!(parse_header(&h).unwrap_err().contains("checksum"));
        assert_eq!(parse_header(&[0u8; BLOCK]).unwrap(), None);
    }
}
