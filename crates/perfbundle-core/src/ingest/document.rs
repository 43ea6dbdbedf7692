//! Reading a tool's whole JSON document (a `.cpuprofile`, a speedscope file,
//! a Chrome trace, 0x's V8 log, a k6 summary) within bounded memory: the
//! text streams from the reader; every array, map and string of the typed
//! result is charged to [`DOCUMENT_MEMORY`] (`crate::bounded`) as it is read;
//! and no single string may pass [`MAX_STRING_BYTES`] (serde_json holds a
//! string whole before anything sees it). A small gzip file that inflates
//! to millions of nodes is refused at the budget, not read into gigabytes.

use std::io::{self, Read};

use serde::de::DeserializeOwned;

/// Memory a document's parsed form may take (its arrays, maps and strings).
pub const DOCUMENT_MEMORY: u64 = 96 << 20;
/// The longest string a document may hold.
pub const MAX_STRING_BYTES: usize = 16 << 20;

/// A reader of JSON text that fails on a string longer than `max` bytes.
pub struct LongStrings<R> {
    inner: R,
    max: usize,
    in_string: bool,
    escaped: bool,
    len: usize,
}

impl<R: Read> LongStrings<R> {
    pub fn new(inner: R, max: usize) -> Self {
        LongStrings { inner, max, in_string: false, escaped: false, len: 0 }
    }
}

impl<R: Read> Read for LongStrings<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    continue;
                }
                self.len += 1;
                if self.len > self.max {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("a string longer than {} MiB", self.max >> 20),
                    ));
                }
            } else if b == b'"' {
                self.in_string = true;
                self.len = 0;
            }
        }
        Ok(n)
    }
}

/// Reads a whole JSON document of type `T` from `reader` within
/// [`DOCUMENT_MEMORY`] and [`MAX_STRING_BYTES`]; the error says which bound
/// was passed, or what serde_json found.
pub fn read<T: DeserializeOwned, R: Read>(reader: R) -> Result<T, String> {
    let mut budget = DOCUMENT_MEMORY;
    let guarded = LongStrings::new(io::BufReader::with_capacity(1 << 16, reader), MAX_STRING_BYTES);
    crate::bounded::with_budget(&mut budget, || serde_json::from_reader::<_, T>(guarded)).map_err(|e| {
        let s = e.to_string();
        if s.contains("larger than a reader holds in memory") {
            format!("it holds more than perfbundle reads of one file ({} MiB once parsed): {s}", DOCUMENT_MEMORY >> 20)
        } else {
            s
        }
    })
}

/// Parses a JSON value of `bytes` within [`DOCUMENT_MEMORY`] (a document
/// read whole: Clinic.js's trace events and system info).
pub fn value(bytes: &[u8]) -> Result<serde_json::Value, String> {
    let mut budget = DOCUMENT_MEMORY;
    crate::bounded::with_budget(&mut budget, || serde_json::from_slice::<crate::bounded::Value>(bytes))
        .map(|v| v.0)
        .map_err(|e| {
            let s = e.to_string();
            if s.contains(crate::bounded::SPENT) {
                format!("it holds more than perfbundle reads of one file ({} MiB once parsed)", DOCUMENT_MEMORY >> 20)
            } else {
                s
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_string_is_refused_as_it_streams() {
        let doc = format!("{{\"a\":\"{}\"}}", "x".repeat(100));
        let mut r = LongStrings::new(doc.as_bytes(), 50);
        let mut out = Vec::new();
        let e = r.read_to_end(&mut out).unwrap_err();
        assert!(e.to_string().contains("longer than"), "{e}");
        // Escapes and quoted quotes are counted inside the string.
        let doc = r#"{"a":"x\"y","b":"zz"}"#;
        let mut r = LongStrings::new(doc.as_bytes(), 4);
        assert!(r.read_to_end(&mut Vec::new()).is_ok());
    }

    #[test]
    fn a_document_past_the_budget_is_refused() {
        #[derive(serde::Deserialize)]
        struct D {
            #[serde(deserialize_with = "crate::bounded::vec")]
            xs: Vec<u64>,
        }
        let small = "{\"xs\":[1,2,3]}";
        assert_eq!(read::<D, _>(small.as_bytes()).unwrap().xs, vec![1, 2, 3]);
        let n = (DOCUMENT_MEMORY / 8 + 10) as usize;
        let big = format!("{{\"xs\":[{}1]}}", "1,".repeat(n));
        let e = read::<D, _>(big.as_bytes()).err().unwrap();
        assert!(e.contains("holds more than perfbundle reads of one file"), "{e}");
    }
}
