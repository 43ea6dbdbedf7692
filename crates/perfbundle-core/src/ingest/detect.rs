//! Content-based detection of input kinds (file names are never trusted).

use serde::Deserialize;

/// A kind of input `perfbundle pack` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// k6 `--out json` NDJSON point stream.
    K6Json,
    /// k6 `--out csv`.
    K6Csv,
    /// k6 `--summary-export` JSON.
    K6SummaryExport,
    /// The `data` object of k6's `handleSummary()`, dumped as JSON.
    K6HandleSummary,
    /// A V8 `.cpuprofile` (`node --cpu-prof`, Chrome DevTools).
    CpuProfile,
    /// `perf script` text.
    PerfScript,
    /// Folded stacks (`a;b;c N` per line).
    Folded,
    /// An 0x output folder, or its `…-v8.log.json`.
    ZeroX,
    /// A Clinic.js flame data folder, or its `…-clinic-flame-samples`.
    ClinicFlame,
    /// A Clinic.js doctor data folder.
    ClinicDoctor,
    /// Go's pprof `profile.proto` (gzip or plain).
    Pprof,
    /// A Chrome DevTools Performance trace (Trace Event JSON) with CPU samples.
    ChromeTrace,
    /// speedscope's own JSON format (py-spy, rbspy, speedscope's export).
    Speedscope,
}

impl InputKind {
    pub const ALL: &'static [InputKind] = &[
        InputKind::K6Json,
        InputKind::K6Csv,
        InputKind::K6SummaryExport,
        InputKind::K6HandleSummary,
        InputKind::CpuProfile,
        InputKind::PerfScript,
        InputKind::Folded,
        InputKind::ZeroX,
        InputKind::ClinicFlame,
        InputKind::ClinicDoctor,
        InputKind::Pprof,
        InputKind::ChromeTrace,
        InputKind::Speedscope,
    ];

    /// The name used in manifests and in `--as KIND:PATH`.
    pub fn name(self) -> &'static str {
        match self {
            InputKind::K6Json => "k6-json",
            InputKind::K6Csv => "k6-csv",
            InputKind::K6SummaryExport => "k6-summary-export",
            InputKind::K6HandleSummary => "k6-handle-summary",
            InputKind::CpuProfile => "cpuprofile",
            InputKind::PerfScript => "perf-script",
            InputKind::Folded => "folded",
            InputKind::ZeroX => "0x",
            InputKind::ClinicFlame => "clinic-flame",
            InputKind::ClinicDoctor => "clinic-doctor",
            InputKind::Pprof => "pprof",
            InputKind::ChromeTrace => "chrome-trace",
            InputKind::Speedscope => "speedscope",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == s)
    }

    pub fn describe(self) -> &'static str {
        match self {
            InputKind::K6Json => "k6 --out json point stream (NDJSON, plain or gzip)",
            InputKind::K6Csv => "k6 --out csv (plain or gzip)",
            InputKind::K6SummaryExport => "k6 --summary-export JSON",
            InputKind::K6HandleSummary => "k6 handleSummary() data as JSON",
            InputKind::CpuProfile => "V8 .cpuprofile from node --cpu-prof or Chrome DevTools",
            InputKind::PerfScript => "perf script text",
            InputKind::Folded => "folded stacks, one `a;b;c COUNT` per line",
            InputKind::ZeroX => "0x output folder (or its -v8.log.json)",
            InputKind::ClinicFlame => "Clinic.js flame data folder (or its -clinic-flame-samples)",
            InputKind::ClinicDoctor => "Clinic.js doctor data folder",
            InputKind::Pprof => "Go pprof profile.proto (runtime/pprof, go test -cpuprofile; gzip or plain)",
            InputKind::ChromeTrace => "Chrome DevTools Performance trace (Trace Event JSON) with CPU samples",
            InputKind::Speedscope => "speedscope JSON (py-spy record -f speedscope, speedscope's export)",
        }
    }

    /// Whether it becomes a profile.
    pub fn is_profile(self) -> bool {
        matches!(
            self,
            InputKind::CpuProfile
                | InputKind::PerfScript
                | InputKind::Folded
                | InputKind::ZeroX
                | InputKind::ClinicFlame
                | InputKind::Pprof
                | InputKind::ChromeTrace
                | InputKind::Speedscope
        )
    }

    /// Whether the whole file is parsed as one JSON document (and so must fit in memory).
    pub fn is_document(self) -> bool {
        matches!(self, InputKind::K6SummaryExport | InputKind::K6HandleSummary)
    }

    /// A list of every known kind, for error messages.
    pub fn known_list() -> String {
        Self::ALL.iter().map(|k| format!("{} ({})", k.name(), k.describe())).collect::<Vec<_>>().join("; ")
    }
}

#[derive(Deserialize)]
struct LineHead<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    metric: std::borrow::Cow<'a, str>,
}

/// Detects the kind of an input from its (decompressed) first bytes.
/// `complete` says whether `head` is the whole content (a JSON document can
/// only be classified when it is).
pub fn detect(head: &[u8], complete: bool) -> Option<InputKind> {
    // A protocol buffer starts with a field key, not text (0x0A is also '\n').
    let binary = head.iter().take(64).any(|b| *b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'));
    if binary && crate::profile::pprof::looks_like(head) {
        return Some(InputKind::Pprof);
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let text = &text[start..];
    if text.starts_with(b"metric_name,timestamp,metric_value") {
        return Some(InputKind::K6Csv);
    }
    if text[0] == b'[' {
        // Clinic.js flame samples: an array of arrays of frame records.
        let rest: Vec<u8> = text[1..].iter().copied().filter(|b| !b.is_ascii_whitespace()).take(16).collect();
        if rest.starts_with(b"[{\"") || rest.starts_with(b"[]") {
            return Some(InputKind::ClinicFlame);
        }
        // A Chrome trace saved as a bare array of events.
        return crate::profile::chrome_trace::looks_like(text).then_some(InputKind::ChromeTrace);
    }
    if text[0] != b'{' {
        return detect_text_profile(text, complete);
    }
    let key: Vec<u8> = text[1..].iter().copied().filter(|b| !b.is_ascii_whitespace()).take(10).collect();
    if key.starts_with(b"\"nodes\"") || key.starts_with(b"\"head\"") {
        return Some(InputKind::CpuProfile);
    }
    if key.starts_with(b"\"code\"") {
        return Some(InputKind::ZeroX);
    }
    let first_line = text.split(|b| *b == b'\n').next().unwrap_or(text);
    let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
    if let Ok(l) = serde_json::from_slice::<LineHead<'_>>(first_line) {
        if (l.kind == "Metric" || l.kind == "Point") && !l.metric.is_empty() {
            return Some(InputKind::K6Json);
        }
    }
    if crate::profile::speedscope::looks_like(text) {
        return Some(InputKind::Speedscope);
    }
    if crate::profile::chrome_trace::looks_like(text) {
        return Some(InputKind::ChromeTrace);
    }
    if !complete {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(text).ok()?;
    let metrics = v.get("metrics")?.as_object()?;
    let handle_like =
        metrics.values().any(|m| m.get("values").is_some_and(|x| x.is_object()) && m.get("type").is_some());
    if handle_like {
        Some(InputKind::K6HandleSummary)
    } else if v.get("root_group").is_some() || metrics.values().all(|m| m.is_object()) {
        Some(InputKind::K6SummaryExport)
    } else {
        None
    }
}

/// What a whole JSON document is, read as a stream (nothing of it held):
/// a k6 summary (`metrics` an object of objects; handleSummary's when a
/// metric has `type` and a `values` object, else the summary export), or
/// `None`. For a document too large for [`detect`]'s head.
pub fn detect_document<R: std::io::Read>(reader: R) -> Option<InputKind> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
    use std::fmt;

    #[derive(Default)]
    struct Shape {
        metrics: bool,
        handle_like: bool,
        all_objects: bool,
        root_group: bool,
    }
    struct Top;
    impl<'de> Visitor<'de> for Top {
        type Value = Shape;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Shape, A::Error> {
            let mut s = Shape { all_objects: true, ..Default::default() };
            while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                match k.as_ref() {
                    "metrics" => {
                        let (objects, handle) = m.next_value_seed(Metrics)?;
                        s.metrics = true;
                        s.all_objects = objects;
                        s.handle_like = handle;
                    }
                    "root_group" => {
                        m.next_value::<IgnoredAny>()?;
                        s.root_group = true;
                    }
                    _ => {
                        m.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(s)
        }
    }
    /// The `metrics` object: (every value an object, some metric handleSummary-like).
    struct Metrics;
    impl<'de> serde::de::DeserializeSeed<'de> for Metrics {
        type Value = (bool, bool);
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(bool, bool), D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for Metrics {
        type Value = (bool, bool);
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of metrics")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(bool, bool), A::Error> {
            let (mut objects, mut handle) = (true, false);
            while m.next_key::<IgnoredAny>()?.is_some() {
                let one = m.next_value::<Metric>()?;
                objects &= one.object;
                handle |= one.object && one.kind && one.values_object;
            }
            Ok((objects, handle))
        }
    }
    #[derive(Default)]
    struct Metric {
        object: bool,
        kind: bool,
        values_object: bool,
    }
    impl<'de> serde::Deserialize<'de> for Metric {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Metric, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Metric;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a metric")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Metric, A::Error> {
                    let mut out = Metric { object: true, ..Default::default() };
                    while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                        match k.as_ref() {
                            "type" => {
                                m.next_value::<IgnoredAny>()?;
                                out.kind = true;
                            }
                            "values" => out.values_object = m.next_value::<IsObject>()?.0,
                            _ => {
                                m.next_value::<IgnoredAny>()?;
                            }
                        }
                    }
                    Ok(out)
                }
                fn visit_bool<E>(self, _: bool) -> Result<Metric, E> {
                    Ok(Metric::default())
                }
                fn visit_i64<E>(self, _: i64) -> Result<Metric, E> {
                    Ok(Metric::default())
                }
                fn visit_u64<E>(self, _: u64) -> Result<Metric, E> {
                    Ok(Metric::default())
                }
                fn visit_f64<E>(self, _: f64) -> Result<Metric, E> {
                    Ok(Metric::default())
                }
                fn visit_str<E>(self, _: &str) -> Result<Metric, E> {
                    Ok(Metric::default())
                }
                fn visit_unit<E>(self) -> Result<Metric, E> {
                    Ok(Metric::default())
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Metric, A::Error> {
                    while s.next_element::<IgnoredAny>()?.is_some() {}
                    Ok(Metric::default())
                }
            }
            d.deserialize_any(V)
        }
    }
    struct IsObject(bool);
    impl<'de> serde::Deserialize<'de> for IsObject {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<IsObject, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = IsObject;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a value")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<IsObject, A::Error> {
                    while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                    Ok(IsObject(true))
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<IsObject, A::Error> {
                    while s.next_element::<IgnoredAny>()?.is_some() {}
                    Ok(IsObject(false))
                }
                fn visit_bool<E>(self, _: bool) -> Result<IsObject, E> {
                    Ok(IsObject(false))
                }
                fn visit_i64<E>(self, _: i64) -> Result<IsObject, E> {
                    Ok(IsObject(false))
                }
                fn visit_u64<E>(self, _: u64) -> Result<IsObject, E> {
                    Ok(IsObject(false))
                }
                fn visit_f64<E>(self, _: f64) -> Result<IsObject, E> {
                    Ok(IsObject(false))
                }
                fn visit_str<E>(self, _: &str) -> Result<IsObject, E> {
                    Ok(IsObject(false))
                }
                fn visit_unit<E>(self) -> Result<IsObject, E> {
                    Ok(IsObject(false))
                }
            }
            d.deserialize_any(V)
        }
    }
    let reader = super::document::LongStrings::new(
        std::io::BufReader::with_capacity(1 << 16, reader),
        super::document::MAX_STRING_BYTES,
    );
    let mut de = serde_json::Deserializer::from_reader(reader);
    let s = de.deserialize_map(Top).ok()?;
    if !s.metrics {
        None
    } else if s.handle_like {
        Some(InputKind::K6HandleSummary)
    } else if s.root_group || s.all_objects {
        Some(InputKind::K6SummaryExport)
    } else {
        None
    }
}

/// What a file that is not a bundle is, in words that say what to do with
/// it: `this is k6's --summary-export JSON, not a .perfbundle: pack it
/// (perfbundle pack FILE …) into one`. Reads at most the first 256 KiB
/// (gunzipped when it is gzip); `None` when it is no kind `pack` knows.
pub fn not_a_bundle(bytes: &[u8]) -> Option<String> {
    const HEAD: u64 = 256 * 1024;
    let mut head = Vec::new();
    let complete = if bytes.starts_with(&[0x1f, 0x8b]) {
        use std::io::Read;
        let mut z = flate2::read::MultiGzDecoder::new(bytes).take(HEAD + 1);
        let _ = z.read_to_end(&mut head);
        let complete = head.len() as u64 <= HEAD;
        head.truncate(HEAD as usize);
        complete
    } else {
        head.extend_from_slice(&bytes[..bytes.len().min(HEAD as usize)]);
        bytes.len() as u64 <= HEAD
    };
    let kind = detect(&head, complete)?;
    let what = match kind {
        InputKind::K6SummaryExport => "k6's end-of-test summary (--summary-export JSON)".to_string(),
        InputKind::K6HandleSummary => "k6's handleSummary() data".to_string(),
        InputKind::K6Json => "k6's point stream (--out json)".to_string(),
        InputKind::K6Csv => "k6's CSV output (--out csv)".to_string(),
        k => format!("a profile: {}", k.describe()),
    };
    Some(format!(
        "this is {what}, not a .perfbundle: pack it into one with `perfbundle pack -o run.perfbundle FILE…` (with the run's other files), then open that"
    ))
}

/// perf script or folded stacks, from their first lines.
fn detect_text_profile(text: &[u8], complete: bool) -> Option<InputKind> {
    let s = String::from_utf8_lossy(text);
    // perf script is told by inferno's own check (the viewer, built without
    // inferno, never detects inputs).
    #[cfg(feature = "inferno")]
    {
        use inferno::collapse::Collapse;
        if inferno::collapse::perf::Folder::default().is_applicable(&s) == Some(true)
            || crate::profile::perf::looks_like(&s)
        {
            return Some(InputKind::PerfScript);
        }
    }
    // Folded: every whole line is `frames COUNT`, and some stack has two frames.
    let mut lines: Vec<&str> = s.lines().collect();
    if !complete && !s.ends_with('\n') {
        lines.pop();
    }
    let lines: Vec<&str> = lines.into_iter().filter(|l| !l.trim().is_empty()).collect();
    let all = !lines.is_empty()
        && lines.iter().all(|l| !l.starts_with([' ', '\t']) && crate::profile::folded::split_line(l).is_some());
    (all && lines.iter().any(|l| l.contains(';'))).then_some(InputKind::Folded)
}

/// Whether text a file's name says is folded stacks (`.folded`,
/// `.collapsed`) is: every whole line `frames COUNT` — one-frame stacks too,
/// which [`detect`] does not take on content alone — or, when the first
/// line is longer than `head` (a deep stack), text without control characters.
pub fn looks_folded(head: &[u8], complete: bool) -> bool {
    let s = String::from_utf8_lossy(head);
    let mut lines: Vec<&str> = s.lines().collect();
    if !complete && !s.ends_with('\n') {
        lines.pop();
    }
    let lines: Vec<&str> = lines.into_iter().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return !complete && !s.is_empty() && !s.chars().any(|c| c.is_control() && c != '\t');
    }
    // A frame may start with a space (a function named " padded"); a tab
    // starts a line of a perf script's stack, never a folded line.
    lines.iter().all(|l| !l.starts_with('\t') && crate::profile::folded::split_line(l).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_stacks_named_so_are_taken_one_frame_deep_or_longer_than_the_head() {
        assert_eq!(detect(b"work 3\nidle 1\n", true), None, "on content alone, too like any text");
        assert!(looks_folded(b"work 3\nidle 1\n", true));
        let deep = format!("a;{}", "f;".repeat(200_000));
        assert!(looks_folded(&deep.as_bytes()[..256 << 10], false));
        assert!(!looks_folded(b"hello world\nnot folded\n", true));
        // export --folded of a one-frame stack whose name starts with a space (hand-made).
        assert!(looks_folded(b" padded 9\nmain;work 3\n", true));
        assert!(!looks_folded(b"\t18c22c1 rsa_load+0x1 (/usr/bin/node) 1\n", true));
    }

    #[test]
    fn says_what_a_file_that_is_not_a_bundle_is() {
        // The corpus's own files, as a user would drop them on the viewer.
        let summary = include_bytes!("../../../../tests/corpus/runs/v1/k6-only/summary-export.json");
        let hint = not_a_bundle(summary).unwrap();
        assert!(hint.starts_with("this is k6's end-of-test summary (--summary-export JSON)"), "{hint}");
        assert!(hint.contains("perfbundle pack"));
        let stream = include_bytes!("../../../../tests/corpus/runs/v1/k6-only/k6.json.gz");
        assert!(not_a_bundle(stream).unwrap().contains("point stream"));
        assert_eq!(not_a_bundle(b"\x00\x01random"), None);
    }

    #[test]
    fn tells_kinds_apart() {
        let json = br#"{"type":"Metric","data":{"name":"vus","type":"gauge","contains":"default","thresholds":[],"submetrics":null},"metric":"vus"}
"#;
        assert_eq!(detect(json, false), Some(InputKind::K6Json));
        assert_eq!(detect(b"metric_name,timestamp,metric_value,check\n", false), Some(InputKind::K6Csv));
        assert_eq!(detect(br#"{"root_group":{},"metrics":{"x":{"count":1}}}"#, true), Some(InputKind::K6SummaryExport));
        assert_eq!(
            detect(br#"{"metrics":{"x":{"type":"counter","contains":"default","values":{"count":1}}}}"#, true),
            Some(InputKind::K6HandleSummary)
        );
        assert_eq!(detect(b"<html>", true), None);
        assert_eq!(detect(b"", true), None);
        assert_eq!(detect(br#"{"a":1}"#, true), None);
        assert_eq!(detect(br#"{"nodes":[{"id":1,"callFrame":{}}]"#, false), Some(InputKind::CpuProfile));
        assert_eq!(detect(b"{\n  \"code\": [\n", false), Some(InputKind::ZeroX));
        assert_eq!(detect(b"[[{\"name\":\"x\",\"type\":\"JS\"}],[]]", true), Some(InputKind::ClinicFlame));
        assert_eq!(detect(b"main;work 3\nmain 1\n", true), Some(InputKind::Folded));
        assert_eq!(detect(b"hello 3\n", true), None);
        assert_eq!(detect(br#"{"traceEvents":[{"ph":"P","name":"Profile"}]}"#, true), Some(InputKind::ChromeTrace));
        assert_eq!(detect(br#"[{"pid":1,"ts":2,"ph":"X"}]"#, true), Some(InputKind::ChromeTrace));
        assert_eq!(
            detect(br#"{"exporter":"py-spy@0.4.3","$schema":"https://www.speedscope.app/file-format-schema.json","profiles":[]}"#, true),
            Some(InputKind::Speedscope)
        );
        assert_eq!(
            detect(br#"{"head":{"functionName":"(root)","children":[]},"startTime":1}"#, true),
            Some(InputKind::CpuProfile)
        );
        assert_eq!(detect(b"\n\x04\x08\x01\x10\x02\n\x04\x08\x03\x10\x04\x12\x00", true), Some(InputKind::Pprof));
        let perf = b"node 11418  6108.381101:   10101010 cpu-clock:ppp: \n\t    7fa98400a644 JS:*fib /a.js:12:25+0x4 (/tmp/perf-11418.map)\n\n";
        assert_eq!(detect(perf, true), Some(InputKind::PerfScript));
    }
}
