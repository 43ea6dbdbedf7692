//! k6's requests as intervals on the wall clock, from its point stream:
//! each `http_req_duration` point is written when its request ends (its
//! time) and holds how long it took (its value, ms), so every request's
//! time in flight is `[time − value, time]`; its `name` tag says which
//! endpoint it was. What placing a profile by the load (`inflight`) and
//! attributing its samples to requests (`crate::attribution`) read.

use std::io::BufRead;

use serde::Deserialize;

use crate::error::IngestError;
use crate::ingest::lines::next_line;

/// Most requests kept: past this, every other one is dropped (and the
/// stride doubled), so a long run keeps an even sample of its requests.
pub const MAX_REQUESTS: usize = 2_000_000;
/// Most distinct request names; the others are counted as [`OTHER_NAMES`].
pub const MAX_NAMES: usize = 1000;
/// The name of the requests past [`MAX_NAMES`] names.
pub const OTHER_NAMES: &str = "(other names)";
/// The longest name kept (bytes); longer ones are cut at a character boundary.
pub const MAX_NAME_BYTES: usize = 256;

/// k6's requests, sorted by start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Requests {
    /// When each request started (Unix µs).
    pub start_us: Vec<i64>,
    /// When it ended (Unix µs): its point's time.
    pub end_us: Vec<i64>,
    /// Its `name` tag, an index into `names`.
    pub name: Vec<u32>,
    pub names: Vec<String>,
    /// 1 when every request of the stream is here; 2ⁿ when only every 2ⁿ-th one is.
    pub stride: u64,
    /// Requests in the stream.
    pub seen: u64,
}

impl Requests {
    pub fn len(&self) -> usize {
        self.start_us.len()
    }
    pub fn is_empty(&self) -> bool {
        self.start_us.is_empty()
    }
    /// Whether every request of the stream is here (attribution needs them all).
    pub fn complete(&self) -> bool {
        self.stride == 1
    }
    /// From `(start, end, name)` triples (any order).
    pub fn from_intervals(items: impl IntoIterator<Item = (i64, i64, String)>) -> Requests {
        let mut b = Builder::default();
        for (s, e, n) in items {
            b.push(s, e, &n);
        }
        b.finish()
    }
}

#[derive(Default)]
struct Builder {
    items: Vec<(i64, i64, u32)>,
    names: Vec<String>,
    index: std::collections::HashMap<String, u32>,
    stride: u64,
    seen: u64,
}

impl Builder {
    fn name(&mut self, n: &str) -> u32 {
        if let Some(i) = self.index.get(n) {
            return *i;
        }
        let n = if self.names.len() >= MAX_NAMES {
            OTHER_NAMES.to_string()
        } else {
            let mut end = n.len().min(MAX_NAME_BYTES);
            while !n.is_char_boundary(end) {
                end -= 1;
            }
            n[..end].to_string()
        };
        if let Some(i) = self.index.get(&n) {
            return *i;
        }
        let i = self.names.len() as u32;
        self.names.push(n.clone());
        self.index.insert(n, i);
        i
    }
    fn push(&mut self, start: i64, end: i64, name: &str) {
        self.seen += 1;
        if self.stride == 0 {
            self.stride = 1;
        }
        if (self.seen - 1) % self.stride != 0 {
            return;
        }
        let i = self.name(name);
        self.items.push((start.min(end), end, i));
        if self.items.len() >= MAX_REQUESTS {
            let mut k = 0;
            self.items.retain(|_| {
                k += 1;
                k % 2 == 1
            });
            self.stride *= 2;
        }
    }
    fn finish(mut self) -> Requests {
        self.items.sort_unstable();
        let mut r = Requests { names: self.names, stride: self.stride.max(1), seen: self.seen, ..Requests::default() };
        r.start_us = self.items.iter().map(|x| x.0).collect();
        r.end_us = self.items.iter().map(|x| x.1).collect();
        r.name = self.items.iter().map(|x| x.2).collect();
        r
    }
}

/// Reads the requests of a k6 JSON point stream (`--out json`): its
/// `http_req_duration` points. Lines that are not such points are skipped.
pub fn read_requests<R: BufRead>(mut reader: R, file: &str, max_line: usize) -> Result<Requests, IngestError> {
    #[derive(Deserialize)]
    struct Line<'a> {
        #[serde(rename = "type", borrow)]
        kind: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        metric: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        data: Data<'a>,
    }
    #[derive(Deserialize)]
    struct Data<'a> {
        #[serde(borrow)]
        time: std::borrow::Cow<'a, str>,
        value: f64,
        #[serde(default, borrow)]
        tags: Option<Tags<'a>>,
    }
    #[derive(Deserialize)]
    struct Tags<'a> {
        #[serde(default, borrow)]
        name: Option<std::borrow::Cow<'a, str>>,
    }
    let mut b = Builder::default();
    let mut raw = Vec::new();
    let mut no = 0u64;
    while next_line(&mut reader, &mut raw, max_line, file, &mut no)? {
        if memchr::memmem::find(&raw, b"\"http_req_duration\"").is_none() {
            continue;
        }
        let Ok(l) = serde_json::from_slice::<Line<'_>>(&raw) else { continue };
        if l.kind != "Point" || l.metric != "http_req_duration" {
            continue;
        }
        let Some(ns) = crate::time::parse_rfc3339_ns(&l.data.time) else { continue };
        let ms = l.data.value;
        if !(ms.is_finite() && (0.0..1e9).contains(&ms)) {
            continue;
        }
        let end = ns / 1000;
        let start = end - (ms * 1000.0).round() as i64;
        let name = l.data.tags.as_ref().and_then(|t| t.name.as_deref()).unwrap_or("");
        b.push(start, end, name);
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_from_points_and_an_even_sample_past_the_cap() {
        let text = concat!(
            r#"{"type":"Point","metric":"http_req_duration","data":{"time":"2026-11-30T09:48:42.500Z","value":20.5,"tags":{"name":"GET /a"}}}"#,
            "\n",
            r#"{"type":"Point","metric":"http_reqs","data":{"time":"2026-11-30T09:48:42.500Z","value":1,"tags":{"name":"GET /a"}}}"#,
            "\n",
            r#"{"type":"Point","metric":"http_req_duration","data":{"time":"2026-11-30T09:48:42.100Z","value":1,"tags":{"name":"GET /b"}}}"#,
            "\n"
        );
        let r = read_requests(text.as_bytes(), "k6.json", 1 << 20).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r.names[r.name[0] as usize], "GET /b", "sorted by start");
        assert_eq!(r.end_us[1] - r.start_us[1], 20_500);
        assert!(r.complete());
        let many = Requests::from_intervals((0..(MAX_REQUESTS as i64 + 10)).map(|i| (i, i + 1, "x".to_string())));
        assert!(many.len() < MAX_REQUESTS && many.stride == 2 && many.seen == MAX_REQUESTS as u64 + 10);
    }
}
