//! k6 `--out json`: one JSON object per line, `Metric` declarations and
//! `Point` samples (FORMATS.md §2). Streams: one line in memory at a time.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::BufRead;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::error::IngestError;
use crate::ingest::lines::{read_line_capped, DEFAULT_MAX_LINE_BYTES};
use crate::k6::{Aggregator, MetricDecl, MetricType, SubmetricDecl};
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

/// Ingests a whole `--out json` stream into `agg`.
pub fn ingest<R: BufRead>(
    mut reader: R,
    file: &str,
    agg: &mut Aggregator,
    opts: &JsonOptions,
) -> Result<(), IngestError> {
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    let mut content_lines = 0u64;
    let mut scratch = TagScratch::default();
    let read_err = |line_no: u64, e| IngestError::read(file, format!("reading line {}", line_no + 1), e);
    loop {
        // Lines wholly inside the reader's buffer are parsed in place; a line
        // that straddles two buffers is copied out first.
        let avail = reader.fill_buf().map_err(|e| read_err(line_no, e))?;
        if avail.is_empty() {
            break;
        }
        let (n, outcome) = match avail.iter().position(|b| *b == b'\n') {
            Some(pos) => {
                line_no += 1;
                (pos + 1, handle_line(&avail[..pos], line_no, agg, &mut content_lines, &mut scratch))
            }
            None => {
                buf.clear();
                read_line_capped(&mut reader, &mut buf, opts.max_line_bytes).map_err(|e| read_err(line_no, e))?;
                line_no += 1;
                if let Err(message) = handle_line(&buf, line_no, agg, &mut content_lines, &mut scratch) {
                    if !opts.lenient {
                        return Err(IngestError::BadLine { file: file.to_string(), line: line_no, message });
                    }
                    agg.stats_mut().bad_lines += 1;
                }
                continue;
            }
        };
        reader.consume(n);
        if let Err(message) = outcome {
            if !opts.lenient {
                return Err(IngestError::BadLine { file: file.to_string(), line: line_no, message });
            }
            agg.stats_mut().bad_lines += 1;
        }
    }
    agg.stats_mut().lines += line_no;
    if content_lines == 0 {
        return Err(IngestError::Empty { file: file.to_string() });
    }
    Ok(())
}

fn handle_line(
    line: &[u8],
    line_no: u64,
    agg: &mut Aggregator,
    content_lines: &mut u64,
    scratch: &mut TagScratch,
) -> Result<(), String> {
    let mut line = line;
    while let Some((last, rest)) = line.split_last() {
        if matches!(last, b'\n' | b'\r') {
            line = rest;
        } else {
            break;
        }
    }
    if line_no == 1 {
        line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    }
    if line.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(());
    }
    *content_lines += 1;
    let mut tags = scratch.take();
    if let Some((metric, time, value)) = fast_point(line, &mut tags) {
        let ns = parse_rfc3339_ns(time).ok_or_else(|| format!("data.time {time:?} is not an RFC 3339 time"))?;
        agg.add_point(metric, ns, value, &tags);
        scratch.put(tags);
        return Ok(());
    }
    scratch.put(tags);
    ingest_line(line, agg)
}

/// A tag list whose allocation is reused from line to line.
#[derive(Default)]
struct TagScratch(Vec<(&'static str, &'static str)>);

impl TagScratch {
    fn take<'a>(&mut self) -> Vec<(&'a str, &'a str)> {
        let v = std::mem::take(&mut self.0);
        // Empty, so nothing is mapped; collecting reuses the allocation.
        v.into_iter().map(|_| ("", "")).collect()
    }

    fn put(&mut self, mut v: Vec<(&str, &str)>) {
        v.clear();
        self.0 = v.into_iter().map(|_| ("", "")).collect();
    }
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

    /// A string without escapes or control characters.
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
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
        std::str::from_utf8(&self.b[start..end]).ok()
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

/// The fast path for a `Point` line exactly as k6 writes it:
/// `{"metric":M,"type":"Point","data":{"time":T,"value":V,"tags":{…}}}` with
/// no whitespace and no escapes. Anything else returns `None` (and the line
/// goes through the full JSON parser), so this never changes what is read.
fn fast_point<'a>(line: &'a [u8], tags: &mut Vec<(&'a str, &'a str)>) -> Option<(&'a str, &'a str, f64)> {
    let mut c = Cursor { b: line, i: 0 };
    c.lit(b"{\"metric\":")?;
    let metric = c.string()?;
    c.lit(b",\"type\":\"Point\",\"data\":{\"time\":")?;
    let time = c.string()?;
    c.lit(b",\"value\":")?;
    let value = c.number()?;
    c.lit(b",\"tags\":{")?;
    if c.lit(b"}").is_none() {
        loop {
            let k = c.string()?;
            c.lit(b":")?;
            let v = c.string()?;
            tags.push((k, v));
            if c.lit(b",").is_none() {
                c.lit(b"}")?;
                break;
            }
        }
    }
    c.lit(b"}}")?;
    (c.i == line.len()).then_some((metric, time, value))
}

fn ingest_line(line: &[u8], agg: &mut Aggregator) -> Result<(), String> {
    let l: Line<'_> = serde_json::from_slice(line).map_err(|e| format!("not a k6 JSON line: {e}"))?;
    match l.kind.as_ref() {
        "Point" => {
            let time = l.data.time.ok_or("Point without data.time")?;
            let ns = parse_rfc3339_ns(&time).ok_or_else(|| format!("data.time {time:?} is not an RFC 3339 time"))?;
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
            let mut tags = Vec::new();
            let (m, t, v) = fast_point(l.as_bytes(), &mut tags).expect("fast path");
            let full: Line<'_> = serde_json::from_str(l).unwrap();
            assert_eq!(m, full.metric);
            assert_eq!(t, full.data.time.unwrap());
            assert_eq!(v, full.data.value.unwrap());
            let ft: Vec<(String, String)> =
                full.data.tags.unwrap().0.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
            let got: Vec<(String, String)> = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            assert_eq!(got, ft);
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
            assert!(fast_point(l.as_bytes(), &mut Vec::new()).is_none(), "{l}");
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

    #[test]
    fn empty_input_is_an_error() {
        let mut agg = Aggregator::new(AggregatorOptions::default());
        let err = ingest(&b"\n\n"[..], "e.json", &mut agg, &JsonOptions::default()).unwrap_err();
        assert!(matches!(err, IngestError::Empty { .. }));
    }
}
