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
}

impl InputKind {
    pub const ALL: &'static [InputKind] =
        &[InputKind::K6Json, InputKind::K6Csv, InputKind::K6SummaryExport, InputKind::K6HandleSummary];

    /// The name used in manifests and in `--as KIND:PATH`.
    pub fn name(self) -> &'static str {
        match self {
            InputKind::K6Json => "k6-json",
            InputKind::K6Csv => "k6-csv",
            InputKind::K6SummaryExport => "k6-summary-export",
            InputKind::K6HandleSummary => "k6-handle-summary",
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
        }
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
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let text = &text[start..];
    if text.starts_with(b"metric_name,timestamp,metric_value") {
        return Some(InputKind::K6Csv);
    }
    if text[0] != b'{' {
        return None;
    }
    let first_line = text.split(|b| *b == b'\n').next().unwrap_or(text);
    let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
    if let Ok(l) = serde_json::from_slice::<LineHead<'_>>(first_line) {
        if (l.kind == "Metric" || l.kind == "Point") && !l.metric.is_empty() {
            return Some(InputKind::K6Json);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
