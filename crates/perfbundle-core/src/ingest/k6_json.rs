//! k6 `--out json`: one JSON object per line, `Metric` declarations and
//! `Point` samples (FORMATS.md §2). Streams: one line in memory at a time.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::BufRead;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::error::IngestError;
use crate::ingest::lines::{too_long, DEFAULT_MAX_LINE_BYTES};
use rustc_hash::FxHashMap;

use crate::k6::{Aggregator, MetricDecl, MetricType, Route, SubmetricDecl};
use crate::time::parse_rfc3339_ns;

/// Options of the JSON-stream ingest.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JsonOptions {
    /// Skip and count malformed lines instead of failing. Default is `false`.
    pub lenient: bool,
    /// The longest line accepted (a longer one is an error, even with
    /// `lenient`). Default is [`DEFAULT_MAX_LINE_BYTES`] (64 MiB).
    pub max_line_bytes: usize,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions { lenient: false, max_line_bytes: DEFAULT_MAX_LINE_BYTES }
    }
}

impl JsonOptions {
    pub fn lenient(lenient: bool) -> Self {
        JsonOptions { lenient, ..Default::default() }
    }

    pub fn with_max_line_bytes(mut self, n: usize) -> Self {
        self.max_line_bytes = n.max(1);
        self
    }
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    metric: Cow<'a, str>,
    #[serde(borrow)]
    data: Data<'a>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow, default)]
    time: Option<Cow<'a, str>>,
    #[serde(default)]
    value: Option<f64>,
    #[serde(borrow, default)]
    tags: Option<Tags<'a>>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    contains: Option<Cow<'a, str>>,
    #[serde(default)]
    thresholds: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    submetrics: Option<Vec<RawSubmetric>>,
}

#[derive(Deserialize)]
struct RawSubmetric {
    name: String,
    #[serde(default)]
    suffix: String,
    #[serde(default)]
    tags: Option<BTreeMap<String, serde_json::Value>>,
}

/// Tags as borrowed pairs; non-string values are turned into their JSON text.
pub(crate) struct Tags<'a>(pub(crate) Vec<(Cow<'a, str>, Cow<'a, str>)>);

struct TagValue<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for TagValue<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TagValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a tag value (string, number, boolean or null)")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(TagValue(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(TagValue(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(TagValue(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(TagValue(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(TagValue(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(TagValue(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(TagValue(Cow::Owned(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(TagValue(Cow::Borrowed("")))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(TagValue(Cow::Borrowed("")))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Tags<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tags<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of tags")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(m.size_hint().unwrap_or(12));
                while let Some((k, v)) = m.next_entry::<TagValue<'de>, TagValue<'de>>()? {
                    out.push((k.0, v.0));
                }
                Ok(Tags(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Tags(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Ingests a whole `--out json` stream into `agg`: the stream's lines
/// tokenized ([`Tokenizer`]) then applied ([`Applier`]) chunk by chunk, on
/// this thread. A caller with a second core runs the two halves on two
/// threads, with the same result.
pub fn ingest<R: BufRead>(
    mut reader: R,
    file: &str,
    agg: &mut Aggregator,
    opts: &JsonOptions,
) -> Result<(), IngestError> {
    let mut tok = Tokenizer::new(file, opts);
    let mut apply = Applier::new(file, opts);
    let mut batch = Batch::default();
    loop {
        let avail = reader.fill_buf().map_err(|e| tok.read_error(e))?;
        if avail.is_empty() {
            break;
        }
        let n = avail.len();
        tok.feed(avail, &mut batch)?;
        reader.consume(n);
        apply.apply(&batch, agg)?;
        batch.clear();
    }
    tok.finish(&mut batch)?;
    apply.apply(&batch, agg)?;
    apply.finish(agg, tok.lines())
}

/// Keys a tokenizer numbers before it starts again ([`Event::Reset`]), and
/// the bytes they may hold: the key tables on both sides stay bounded
/// whatever the stream (a tag holding a request id makes every key new).
const MAX_KEYS: usize = 1 << 16;
const MAX_KEY_BYTES: usize = 16 << 20;

/// One piece of a tokenized stream, in input order.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// A `Point` line in k6's exact layout: its key's number, time and value.
    Point { key: u32, ns: i64, value: f64 },
    /// The next key number's bytes, `[start, end)` of the batch's bytes: the
    /// metric name, a 0 byte, the inside of the tags object (`"k":"v",…`).
    Key { start: u32, end: u32 },
    /// Any other line (`Metric` declarations, other layouts, malformed
    /// lines): line number and bytes, parsed in full when applied.
    Line { no: u64, start: u32, end: u32 },
    /// Keys are numbered from 0 again.
    Reset,
}

/// Tokens of a run of lines: what [`Tokenizer::feed`] makes and
/// [`Applier::apply`] reads. Reused: [`Batch::clear`] keeps the allocations.
#[derive(Debug, Default)]
pub struct Batch {
    events: Vec<Event>,
    bytes: Vec<u8>,
}

impl Batch {
    pub fn clear(&mut self) {
        self.events.clear();
        self.bytes.clear();
    }

    fn push_bytes(&mut self, parts: &[&[u8]]) -> (u32, u32) {
        let start = self.bytes.len();
        for p in parts {
            self.bytes.extend_from_slice(p);
        }
        // A batch holds at most a few chunks of input: far below 4 GiB.
        (start as u32, self.bytes.len() as u32)
    }
}

/// The first half of the ingest: splits a stream into lines, reads each
/// `Point` line of k6's exact layout into (key, time, value), numbering each
/// distinct (metric, tags) once, and passes every other line on whole.
/// Needs no [`Aggregator`], so it can run on a thread of its own.
#[derive(Debug)]
pub struct Tokenizer {
    file: String,
    max_line: usize,
    line_no: u64,
    /// The start of a line that the last chunk did not finish.
    carry: Vec<u8>,
    keys: FxHashMap<Vec<u8>, u32>,
    key_bytes: usize,
    key_buf: Vec<u8>,
}

impl Tokenizer {
    pub fn new(file: &str, opts: &JsonOptions) -> Self {
        Tokenizer {
            file: file.to_string(),
            max_line: opts.max_line_bytes,
            line_no: 0,
            carry: Vec::new(),
            keys: FxHashMap::default(),
            key_bytes: 0,
            key_buf: Vec::new(),
        }
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.line_no
    }

    /// An error reading the stream, at the line it is on.
    pub fn read_error(&self, e: std::io::Error) -> IngestError {
        IngestError::read(&self.file, format!("reading line {}", self.line_no + 1), e)
    }

    fn too_long(&self) -> IngestError {
        IngestError::read(&self.file, format!("reading line {}", self.line_no + 1), too_long(self.max_line))
    }

    /// Tokenizes the lines `chunk` ends (the first one begun in an earlier
    /// chunk) into `out`; keeps an unfinished last line for the next call.
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Batch) -> Result<(), IngestError> {
        if !self.carry.is_empty() {
            match memchr::memchr(b'\n', chunk) {
                None => {
                    self.carry.extend_from_slice(chunk);
                    if self.carry.len() > self.max_line {
                        return Err(self.too_long());
                    }
                    return Ok(());
                }
                Some(i) => {
                    self.carry.extend_from_slice(&chunk[..=i]);
                    if self.carry.len() > self.max_line {
                        return Err(self.too_long());
                    }
                    let line = std::mem::take(&mut self.carry);
                    self.line(&line, out);
                    self.carry = line;
                    self.carry.clear();
                    chunk = &chunk[i + 1..];
                }
            }
        }
        let mut at = 0;
        for end in memchr::memchr_iter(b'\n', chunk) {
            if end + 1 - at > self.max_line {
                return Err(self.too_long());
            }
            self.line(&chunk[at..=end], out);
            at = end + 1;
        }
        let rest = &chunk[at..];
        if rest.len() > self.max_line {
            return Err(self.too_long());
        }
        self.carry.extend_from_slice(rest);
        Ok(())
    }

    /// The last line, when the stream does not end with a newline.
    pub fn finish(&mut self, out: &mut Batch) -> Result<(), IngestError> {
        if !self.carry.is_empty() {
            let line = std::mem::take(&mut self.carry);
            self.line(&line, out);
        }
        Ok(())
    }

    fn line(&mut self, raw: &[u8], out: &mut Batch) {
        self.line_no += 1;
        let mut line = raw;
        while let Some((last, rest)) = line.split_last() {
            if matches!(last, b'\n' | b'\r') {
                line = rest;
            } else {
                break;
            }
        }
        if self.line_no == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            return;
        }
        if let Some(p) = fast_point(line) {
            if let Some(ns) = std::str::from_utf8(p.time).ok().and_then(parse_rfc3339_ns) {
                if let Some(key) = self.key(p.metric, p.tags, out) {
                    out.events.push(Event::Point { key, ns, value: p.value });
                    return;
                }
            }
        }
        let (start, end) = out.push_bytes(&[line]);
        out.events.push(Event::Line { no: self.line_no, start, end });
    }

    /// The number of a (metric, tags) key, new ones announced in `out`;
    /// `None` when the key's bytes are not UTF-8 (the full parser says so).
    fn key(&mut self, metric: &[u8], tags: &[u8], out: &mut Batch) -> Option<u32> {
        self.key_buf.clear();
        self.key_buf.extend_from_slice(metric);
        self.key_buf.push(0);
        self.key_buf.extend_from_slice(tags);
        if let Some(&k) = self.keys.get(self.key_buf.as_slice()) {
            return Some(k);
        }
        std::str::from_utf8(&self.key_buf).ok()?;
        if self.keys.len() >= MAX_KEYS || self.key_bytes + self.key_buf.len() > MAX_KEY_BYTES {
            self.keys.clear();
            self.key_bytes = 0;
            out.events.push(Event::Reset);
        }
        let k = self.keys.len() as u32;
        self.key_bytes += self.key_buf.len();
        self.keys.insert(self.key_buf.clone(), k);
        let (start, end) = out.push_bytes(&[&self.key_buf]);
        out.events.push(Event::Key { start, end });
        Some(k)
    }
}

/// A key as the applier holds it: names, and its route once found.
#[derive(Debug)]
struct KeyEntry {
    metric: String,
    tags: Vec<(String, String)>,
    route: Option<(u64, Route)>,
}

/// The second half of the ingest: feeds a [`Tokenizer`]'s batches, in
/// order, to an [`Aggregator`] — each key's route found once.
#[derive(Debug)]
pub struct Applier {
    file: String,
    lenient: bool,
    keys: Vec<KeyEntry>,
    content_lines: u64,
}

impl Applier {
    pub fn new(file: &str, opts: &JsonOptions) -> Self {
        Applier { file: file.to_string(), lenient: opts.lenient, keys: Vec::new(), content_lines: 0 }
    }

    pub fn apply(&mut self, batch: &Batch, agg: &mut Aggregator) -> Result<(), IngestError> {
        for ev in &batch.events {
            match *ev {
                Event::Point { key, ns, value } => {
                    self.content_lines += 1;
                    let Some(e) = self.keys.get_mut(key as usize) else {
                        return Err(IngestError::invalid(
                            &self.file,
                            format!("internal: key {key} was never announced"),
                        ));
                    };
                    agg.add_via(&mut e.route, &e.metric, ns, value, || {
                        e.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
                    });
                }
                Event::Key { start, end } => {
                    let bytes = &batch.bytes[start as usize..end as usize];
                    self.keys.push(key_entry(bytes));
                }
                Event::Line { no, start, end } => {
                    self.content_lines += 1;
                    let line = &batch.bytes[start as usize..end as usize];
                    if let Err(message) = ingest_line(line, agg) {
                        if !self.lenient {
                            return Err(IngestError::BadLine { file: self.file.clone(), line: no, message });
                        }
                        agg.stats_mut().bad_lines += 1;
                    }
                }
                Event::Reset => self.keys.clear(),
            }
        }
        Ok(())
    }

    /// Ends the stream of `lines` lines (the tokenizer's count).
    pub fn finish(&self, agg: &mut Aggregator, lines: u64) -> Result<(), IngestError> {
        agg.stats_mut().lines += lines;
        if self.content_lines == 0 {
            return Err(IngestError::Empty { file: self.file.clone() });
        }
        Ok(())
    }
}

/// A key's names from its bytes: the metric, a 0 byte, the tags as the fast
/// path checked them (strings without escapes, `:` and `,` between).
fn key_entry(bytes: &[u8]) -> KeyEntry {
    let text = String::from_utf8_lossy(bytes);
    let (metric, tags_text) = text.split_once('\0').unwrap_or((&text, ""));
    let mut tags = Vec::new();
    let mut rest = tags_text;
    // `"k":"v"` pairs, comma-separated; no string holds a quote.
    while let Some(r) = rest.strip_prefix('"') {
        let Some((k, r)) = r.split_once("\":\"") else { break };
        let Some((v, r)) = r.split_once('"') else { break };
        tags.push((k.to_string(), v.to_string()));
        rest = r.strip_prefix(',').unwrap_or(r);
    }
    KeyEntry { metric: metric.to_string(), tags, route: None }
}

/// A byte cursor for [`fast_point`].
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    fn lit(&mut self, l: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + l.len())? == l {
            self.i += l.len();
            Some(())
        } else {
            None
        }
    }

    /// A string without escapes or control characters: its bytes.
    #[inline]
    fn string(&mut self) -> Option<&'a [u8]> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i + 1;
        let len = self.b.get(start..)?.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        let end = start + len;
        if self.b[end] != b'"' {
            return None;
        }
        self.i = end + 1;
        Some(&self.b[start..end])
    }

    #[inline]
    fn number(&mut self) -> Option<f64> {
        let start = self.i;
        while self.i < self.b.len() && matches!(self.b[self.i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
            self.i += 1;
        }
        let text = &self.b[start..self.i];
        match (text.first(), text.last()) {
            (Some(b'-' | b'0'..=b'9'), Some(b'0'..=b'9')) => std::str::from_utf8(text).ok()?.parse().ok(),
            _ => None,
        }
    }
}

/// A `Point` line's parts, as bytes of the line.
struct FastPoint<'a> {
    metric: &'a [u8],
    time: &'a [u8],
    value: f64,
    /// The inside of the tags object: `"k":"v","k2":"v2"` (may be empty).
    tags: &'a [u8],
}

/// The fast path for a `Point` line exactly as k6 writes it:
/// `{"metric":M,"type":"Point","data":{"time":T,"value":V,"tags":{…}}}` with
/// no whitespace, no escapes and string tag values. Anything else returns
/// `None` (and the line goes through the full JSON parser), so this never
/// changes what is read.
fn fast_point(line: &[u8]) -> Option<FastPoint<'_>> {
    let mut c = Cursor { b: line, i: 0 };
    c.lit(b"{\"metric\":")?;
    let metric = c.string()?;
    c.lit(b",\"type\":\"Point\",\"data\":{\"time\":")?;
    let time = c.string()?;
    c.lit(b",\"value\":")?;
    let value = c.number()?;
    c.lit(b",\"tags\":{")?;
    let tags_start = c.i;
    let mut tags_end = c.i;
    if c.lit(b"}").is_none() {
        loop {
            c.string()?;
            c.lit(b":")?;
            c.string()?;
            if c.lit(b",").is_none() {
                tags_end = c.i;
                c.lit(b"}")?;
                break;
            }
        }
    }
    c.lit(b"}}")?;
    (c.i == line.len()).then_some(FastPoint { metric, time, value, tags: &line[tags_start..tags_end] })
}

fn ingest_line(line: &[u8], agg: &mut Aggregator) -> Result<(), String> {
    let l: Line<'_> = serde_json::from_slice(line).map_err(|e| format!("not a k6 JSON line: {e}"))?;
    match l.kind.as_ref() {
        "Point" => {
            let time = l.data.time.ok_or("Point without data.time")?;
            let ns = crate::time::parse_rfc3339(&time).map_err(|why| format!("data.time {time:?} {why}"))?;
            let value = l.data.value.ok_or("Point without a numeric data.value")?;
            if !value.is_finite() {
                return Err(format!("data.value {value} is not a finite number"));
            }
            let tags = l.data.tags.map(|t| t.0).unwrap_or_default();
            let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
            agg.add_point(&l.metric, ns, value, &tags);
            Ok(())
        }
        "Metric" => {
            let kind_s = l.data.kind.ok_or("Metric without data.type")?;
            let kind = MetricType::parse(&kind_s).ok_or_else(|| format!("unknown metric type {kind_s:?}"))?;
            let submetrics = l
                .data
                .submetrics
                .unwrap_or_default()
                .into_iter()
                .map(|s| SubmetricDecl {
                    name: s.name,
                    suffix: s.suffix,
                    tags: s
                        .tags
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| {
                            let v = match v {
                                serde_json::Value::String(s) => s,
                                other => other.to_string(),
                            };
                            (k, v)
                        })
                        .collect(),
                })
                .collect();
            agg.stats_mut().metric_lines += 1;
            agg.declare(
                &l.metric,
                MetricDecl {
                    kind,
                    contains: l.data.contains.map(|c| c.into_owned()).unwrap_or_else(|| "default".into()),
                    // Strings as k6 writes them; an object form's `threshold` field otherwise.
                    thresholds: l
                        .data
                        .thresholds
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|t| match t {
                            serde_json::Value::String(s) => Some(s),
                            serde_json::Value::Object(o) => {
                                o.get("threshold").and_then(|x| x.as_str()).map(String::from)
                            }
                            _ => None,
                        })
                        .collect(),
                    submetrics,
                    type_source: "declared".into(),
                },
            );
            Ok(())
        }
        other => Err(format!("unknown line type {other:?} (expected \"Metric\" or \"Point\")")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k6::AggregatorOptions;

    const SAMPLE: &str = r#"{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time","thresholds":["p(95)<15"],"submetrics":[{"name":"http_req_duration{expected_response:true}","suffix":"expected_response:true","tags":{"expected_response":"true"}}]},"metric":"http_req_duration"}
{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-24T19:50:03.602411393Z","value":10,"tags":{"expected_response":"false","name":"a","status":"500"}}}
{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-24T19:50:04.602411393Z","value":20,"tags":{"expected_response":"true","name":"a","status":"200"}}}
"#;

    #[test]
    fn reads_declarations_and_points() {
        let mut agg = Aggregator::new(AggregatorOptions::default());
        ingest(SAMPLE.as_bytes(), "t.json", &mut agg, &JsonOptions::default()).unwrap();
        let out = agg.finish(None);
        assert_eq!(out.series["http_req_duration"].values["avg"], 15.0);
        assert_eq!(out.series["http_req_duration{expected_response:true}"].values["avg"], 20.0);
        assert_eq!(out.series["http_req_duration{status:500}"].values["max"], 10.0);
        assert_eq!(out.thresholds[0].ok, Some(false));
    }

    #[test]
    fn reports_the_line_of_a_bad_line() {
        let text =
            format!("{SAMPLE}{{\"metric\":\"x\",\"type\":\"Point\",\"data\":{{\"time\":\"nope\",\"value\":1}}}}\n");
        let mut agg = Aggregator::new(AggregatorOptions::default());
        let err = ingest(text.as_bytes(), "t.json", &mut agg, &JsonOptions::default()).unwrap_err();
        assert!(err.to_string().starts_with("t.json: line 4: data.time"), "{err}");

        let mut agg = Aggregator::new(AggregatorOptions::default());
        let text = format!("{SAMPLE}{{oops\n");
        ingest(text.as_bytes(), "t.json", &mut agg, &JsonOptions::lenient(true)).unwrap();
        assert_eq!(agg.finish(None).stats.bad_lines, 1);
    }

    #[test]
    fn fast_path_reads_what_the_full_parser_reads() {
        let lines = [
            r#"{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-24T19:50:03.6Z","value":1,"tags":{"a":"x","b":"y"}}}"#,
            r#"{"metric":"vus","type":"Point","data":{"time":"2026-11-24T19:50:03.6Z","value":-1.5e-3,"tags":{}}}"#,
        ];
        for l in lines {
            let p = fast_point(l.as_bytes()).expect("fast path");
            let full: Line<'_> = serde_json::from_str(l).unwrap();
            assert_eq!(p.metric, full.metric.as_bytes());
            assert_eq!(p.time, full.data.time.unwrap().as_bytes());
            assert_eq!(p.value, full.data.value.unwrap());
            let mut key = p.metric.to_vec();
            key.push(0);
            key.extend_from_slice(p.tags);
            let e = key_entry(&key);
            assert_eq!(e.metric, full.metric);
            let ft: Vec<(String, String)> =
                full.data.tags.unwrap().0.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
            assert_eq!(e.tags, ft);
        }
        // Departures from k6's exact layout go to the full parser.
        for l in [
            r#"{"metric":"a\u0041","type":"Point","data":{"time":"t","value":1,"tags":{}}}"#,
            r#"{"type":"Point","metric":"a","data":{"time":"t","value":1,"tags":{}}}"#,
            r#"{"metric":"a","type":"Point","data":{"time":"t","value":1,"tags":null}}"#,
            r#"{"metric":"a","type":"Point","data":{"time":"t","value":.5,"tags":{}}}"#,
            r#"{"metric":"a","type":"Point","data":{"time":"t","value":1,"tags":{}}} x"#,
            r#"{"metric":"a","type":"Point","data":{"time":"t","value":1,"tags":{"k":"v",}}}"#,
        ] {
            assert!(fast_point(l.as_bytes()).is_none(), "{l}");
        }
    }

    #[test]
    fn escaped_tags_are_read_through_the_full_parser() {
        let text = r#"{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-24T19:50:03Z","value":1,"tags":{"name":"a\"b"}}}
"#;
        let mut agg = Aggregator::new(AggregatorOptions::default());
        ingest(text.as_bytes(), "t.json", &mut agg, &JsonOptions::default()).unwrap();
        assert_eq!(agg.finish(None).series["http_reqs{name:a\"b}"].samples, 1);
    }

    /// The corpus's k6 stream (a real k6 1.1 run of the demo app).
    fn corpus_stream() -> Vec<u8> {
        let gz: &[u8] = include_bytes!("../../../../tests/corpus/runs/v1/k6-only/k6.json.gz");
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut out).unwrap();
        out
    }

    fn aggregated(f: impl FnOnce(&mut Aggregator)) -> String {
        let mut agg = Aggregator::new(AggregatorOptions::default());
        f(&mut agg);
        format!("{:?}", agg.finish(None))
    }

    #[test]
    fn routed_points_aggregate_as_each_line_parsed_in_full() {
        let text = corpus_stream();
        // Every line through serde and `add_point` (no fast path, no routes).
        let reference = aggregated(|agg| {
            let mut n = 0;
            for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                ingest_line(line, agg).unwrap();
                n += 1;
            }
            agg.stats_mut().lines += n;
        });
        for cap in [7, 300, 1 << 16, 1 << 24] {
            let got = aggregated(|agg| {
                ingest(std::io::BufReader::with_capacity(cap, &text[..]), "k6.json", agg, &JsonOptions::default())
                    .unwrap()
            });
            assert_eq!(got, reference, "chunks of {cap} bytes");
        }
    }

    #[test]
    fn key_tables_start_again_when_full() {
        // Hand-made: a tag that differs on every line (a request id), more
        // lines than a key table holds.
        let mut text = String::new();
        for i in 0..(MAX_KEYS + 10) {
            text.push_str(&format!(
                "{{\"metric\":\"http_reqs\",\"type\":\"Point\",\"data\":{{\"time\":\"2026-11-24T19:50:03Z\",\"value\":1,\"tags\":{{\"id\":\"{i}\",\"status\":\"{}\"}}}}}}\n",
                200 + i % 3
            ));
        }
        let mut tok = Tokenizer::new("ids.json", &JsonOptions::default());
        let mut batch = Batch::default();
        tok.feed(text.as_bytes(), &mut batch).unwrap();
        assert!(batch.events.iter().any(|e| matches!(e, Event::Reset)));
        assert!(tok.keys.len() <= MAX_KEYS);
        let mut agg = Aggregator::new(AggregatorOptions::default());
        let mut apply = Applier::new("ids.json", &JsonOptions::default());
        apply.apply(&batch, &mut agg).unwrap();
        assert!(apply.keys.len() <= MAX_KEYS);
        apply.finish(&mut agg, tok.lines()).unwrap();
        let out = agg.finish(None);
        assert_eq!(out.series["http_reqs"].samples, (MAX_KEYS + 10) as u64);
        let status_201 = (0..MAX_KEYS + 10).filter(|i| i % 3 == 1).count();
        assert_eq!(out.series["http_reqs{status:201}"].samples, status_201 as u64);
    }

    #[test]
    fn empty_input_is_an_error() {
        let mut agg = Aggregator::new(AggregatorOptions::default());
        let err = ingest(&b"\n\n"[..], "e.json", &mut agg, &JsonOptions::default()).unwrap_err();
        assert!(matches!(err, IngestError::Empty { .. }));
    }
}
