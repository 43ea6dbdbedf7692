//! Prometheus's HTTP API: a query's range vector (matrix) parsed into raw
//! samples and native histograms, typed as it is read (no JSON tree), within
//! a budget of [`MAX_POINTS`] samples per import.

use std::collections::BTreeMap;

use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::IngestError;

/// One series of a range vector: its labels (without `__name__`) and samples.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawSeries {
    pub labels: BTreeMap<String, String>,
    /// (time in Unix seconds, value)
    pub samples: Vec<(f64, f64)>,
    /// (time in Unix seconds, cumulative histogram)
    pub histograms: Vec<(f64, NativeHistogram)>,
}

/// A native histogram as the HTTP API renders it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NativeHistogram {
    pub count: f64,
    pub sum: f64,
    /// (lower bound, upper bound, count)
    pub buckets: Vec<(f64, f64, f64)>,
}

/// Most samples (values and histogram samples) one import holds in all: a
/// run of k6's 5-second pushes over hours is well under it. Past it the
/// import is refused (a shorter window does), not read into memory.
pub const MAX_POINTS: usize = 4_000_000;

fn budget_mib() -> u64 {
    crate::ingest::document::DOCUMENT_MEMORY >> 20
}

/// Most label names of one series kept, and most series of one response.
const MAX_LABELS: usize = 64;
const MAX_SERIES: usize = 100_000;

/// A number as the API writes it: a string (`"0.5"`, `"NaN"`) or a JSON number.
struct Num(f64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number, or a number in a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Num, E> {
                s.parse().map(Num).map_err(|_| E::custom(format!("{s:?} is not a number")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

/// A label's value: kept when it is a string, skipped otherwise.
struct Label(Option<String>);

impl crate::bounded::Heap for Label {}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Charged as it is read (a label's value may be anything a server sends).
        match crate::bounded::Value::deserialize(d)?.0 {
            Value::String(s) => Ok(Label(Some(s))),
            _ => Ok(Label(None)),
        }
    }
}

#[derive(Deserialize)]
struct Response {
    status: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default, deserialize_with = "bounded_series")]
    result: Option<Vec<SeriesJson>>,
}

#[derive(Deserialize)]
struct SeriesJson {
    #[serde(deserialize_with = "crate::bounded::map")]
    metric: BTreeMap<String, Label>,
    #[serde(default, deserialize_with = "counted_values")]
    values: Vec<(f64, f64)>,
    #[serde(default, deserialize_with = "counted_histograms")]
    histograms: Vec<(f64, HistogramJson)>,
}

#[derive(Deserialize)]
struct HistogramJson {
    count: Num,
    #[serde(default)]
    sum: Option<Num>,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    buckets: Vec<Bucket>,
}

/// A native histogram's bucket: (boundary rule, lower, upper, count).
#[derive(Deserialize)]
struct Bucket(IgnoredAny, Num, Num, Num);

impl crate::bounded::Heap for Bucket {}

thread_local! {
    /// Points left of [`MAX_POINTS`] for the response being read.
    static POINTS_LEFT: std::cell::Cell<usize> = const { std::cell::Cell::new(MAX_POINTS) };
}

/// Takes one point of the budget; an error past it.
fn take_point<E: de::Error>() -> Result<(), E> {
    POINTS_LEFT.with(|left| match left.get() {
        0 => Err(E::custom(format!(
            "more than {MAX_POINTS} samples in this window: import a shorter window (--from/--to, --last)"
        ))),
        n => {
            left.set(n - 1);
            Ok(())
        }
    })
}

fn bounded_series<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<SeriesJson>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Vec<SeriesJson>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of series")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(s) = seq.next_element()? {
                if out.len() == MAX_SERIES {
                    return Err(de::Error::custom(format!("more than {MAX_SERIES} series in one answer")));
                }
                out.push(s);
            }
            Ok(Some(out))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

fn counted_values<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(f64, f64)>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(f64, f64)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of [time, \"value\"] samples")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((t, x)) = seq.next_element::<(Num, Num)>()? {
                take_point()?;
                out.push((t.0, x.0));
            }
            Ok(out)
        }
    }
    d.deserialize_seq(V)
}

fn counted_histograms<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(f64, HistogramJson)>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(f64, HistogramJson)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of [time, histogram] samples")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((t, h)) = seq.next_element::<(Num, HistogramJson)>()? {
                take_point()?;
                for _ in &h.buckets {
                    take_point()?;
                }
                out.push((t.0, h));
            }
            Ok(out)
        }
    }
    d.deserialize_seq(V)
}

/// Parses an instant query's response whose result is a range vector (matrix).
pub fn parse_matrix(body: &[u8], source: &str) -> Result<Vec<RawSeries>, IngestError> {
    let mut left = MAX_POINTS;
    read_matrix(body, source, &mut left)
}

/// Reads a range-vector response as it arrives, typed (no JSON tree is
/// built): at most `points_left` samples in all (an import's budget over
/// its queries, [`MAX_POINTS`] to begin with), less what this one held.
pub fn read_matrix<R: std::io::Read>(
    reader: R,
    source: &str,
    points_left: &mut usize,
) -> Result<Vec<RawSeries>, IngestError> {
    POINTS_LEFT.with(|l| l.set(*points_left));
    // Labels, series and buckets charged to a document's memory; no string past 1 MiB (k6's are short).
    let reader = crate::ingest::document::LongStrings::new(std::io::BufReader::with_capacity(1 << 16, reader), 1 << 20);
    let mut budget = crate::ingest::document::DOCUMENT_MEMORY;
    let parsed = crate::bounded::with_budget(&mut budget, || serde_json::from_reader::<_, Response>(reader));
    *points_left = POINTS_LEFT.with(|l| l.get());
    let r = parsed.map_err(|e| {
        let what = if e.to_string().contains(crate::bounded::SPENT) {
            format!("it holds more than perfbundle reads of one answer ({} MiB once parsed): {e}", budget_mib())
        } else {
            format!("not a Prometheus API response: {e}")
        };
        IngestError::invalid(source, what)
    })?;
    if r.status != "success" {
        let msg = r.error.as_deref().unwrap_or("no error message");
        return Err(IngestError::invalid(source, format!("Prometheus says: {msg}")));
    }
    let Some(result) = r.data.and_then(|d| d.result) else {
        return Err(IngestError::invalid(source, "no data.result in the response"));
    };
    Ok(result
        .into_iter()
        .map(|s| RawSeries {
            labels: s
                .metric
                .into_iter()
                .filter(|(k, _)| k != "__name__")
                .filter_map(|(k, v)| v.0.map(|v| (k, v)))
                .take(MAX_LABELS)
                .collect(),
            samples: s.values,
            histograms: s
                .histograms
                .into_iter()
                .map(|(t, h)| {
                    let buckets = h.buckets.into_iter().map(|Bucket(_, lo, hi, c)| (lo.0, hi.0, c.0)).collect();
                    (t, NativeHistogram { count: h.count.0, sum: h.sum.map_or(0.0, |s| s.0), buckets })
                })
                .collect(),
        })
        .collect())
}
