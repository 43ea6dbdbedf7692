//! InfluxDB 1.x query responses (InfluxQL over HTTP with `epoch=ns` and
//! `chunked=true`: one JSON document per line), as k6's `--out influxdb`
//! wrote them (FORMAT.md §13): one measurement per metric, a float field
//! `value` per raw sample, tags as strings, `url` a string field. Each row
//! becomes the same sample the JSON stream ingest sees, fed to the same
//! [`Aggregator`].
//!
//! Two differences from the JSON stream are undone here: InfluxDB does not
//! store empty tag values, so the root group's `group=""` is missing — every
//! sample a VU emitted has a `scenario` tag, and in the JSON stream a
//! `group` tag beside it, so a missing `group` is put back as `""` where
//! there is a `scenario`; and `url`, a field, is a tag again.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::BufRead;

use rustc_hash::FxHashMap;

use serde::Deserialize;

use crate::error::IngestError;
use crate::ingest::lines::read_line_capped;
use crate::k6::{Aggregator, Route};

#[derive(Deserialize)]
struct Response<'a> {
    #[serde(default, borrow)]
    results: Vec<StatementResult<'a>>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct StatementResult<'a> {
    #[serde(default, borrow)]
    series: Vec<Series<'a>>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Series<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    #[serde(borrow)]
    columns: Vec<Cow<'a, str>>,
    #[serde(default, borrow)]
    values: Rows<'a>,
}

/// A series' rows, their cells in one array (no allocation per row).
#[derive(Default)]
struct Rows<'a> {
    cells: Vec<Cell<'a>>,
    /// Where each row ends in `cells`.
    ends: Vec<usize>,
}

impl<'a> Rows<'a> {
    fn iter(&self) -> impl Iterator<Item = &[Cell<'a>]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let row = &self.cells[start..end];
            start = end;
            row
        })
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Rows<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RowSeed<'r, 'a>(&'r mut Vec<Cell<'a>>);
        impl<'de: 'a, 'a> serde::de::DeserializeSeed<'de> for RowSeed<'_, 'a> {
            type Value = ();
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_seq(self)
            }
        }
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for RowSeed<'_, 'a> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a row (an array of values)")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
                while let Some(c) = a.next_element::<Cell<'de>>()? {
                    // Each cell charged: a chunk of millions of cells is refused, not held.
                    crate::bounded::take(std::mem::size_of::<Cell<'_>>() as u64).map_err(serde::de::Error::custom)?;
                    self.0.push(c);
                }
                Ok(())
            }
        }
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Rows<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of rows")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Rows::default())
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut rows = Rows::default();
                while a.next_element_seed(RowSeed(&mut rows.cells))?.is_some() {
                    rows.ends.push(rows.cells.len());
                }
                Ok(rows)
            }
        }
        d.deserialize_any(V)
    }
}

/// One value of a row, borrowed from the response where it can be: a row
/// is read without allocating a string per cell.
#[derive(Debug, Clone, PartialEq)]
enum Cell<'a> {
    Null,
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    /// Booleans, and numbers past i64 (no k6 column holds one).
    Other(String),
}

impl Cell<'_> {
    fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Float(f) => Some(*f),
            _ => None,
        }
    }

    fn is_number(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Float(_))
    }
}

impl std::fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Null => f.write_str("null"),
            Cell::Int(i) => write!(f, "{i}"),
            Cell::Float(x) => write!(f, "{x}"),
            Cell::Str(s) => write!(f, "{s:?}"),
            Cell::Other(s) => f.write_str(s),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Cell<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Cell<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a value of a row")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Cell::Null)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Cell::Null)
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Cell::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(i64::try_from(v).map(Cell::Int).unwrap_or(Cell::Float(v as f64)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Cell::Float(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Cell::Other(v.to_string()))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cell::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cell::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cell::Str(Cow::Owned(v)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Cell::Other("[…]".into()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(Cell::Other("{…}".into()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The longest response chunk (a line of `chunk_size` rows, 10,000 rows of
/// a few hundred bytes: a few MB).
const MAX_CHUNK_BYTES: usize = 32 << 20;
/// What one chunk's rows may take once read.
const MAX_CHUNK_MEMORY: u64 = 64 << 20;

/// What one response held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseStats {
    /// Rows turned into samples.
    pub points: u64,
    /// Rows without a numeric `value` (skipped).
    pub skipped: u64,
    /// Measurements without a `value` field: not written by k6, left out.
    pub foreign: std::collections::BTreeSet<String>,
}

/// Feeds one query response into `agg`. `source` names it in errors (the
/// query's URL and time slice).
pub fn ingest_response<R: BufRead>(
    mut reader: R,
    source: &str,
    agg: &mut Aggregator,
) -> Result<ResponseStats, IngestError> {
    let mut stats = ResponseStats::default();
    let mut line: Vec<u8> = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        // A chunk is at most `chunk_size` rows; a server that sends a line
        // longer than the cap is not answering as InfluxDB does.
        let read = read_line_capped(&mut reader, &mut line, MAX_CHUNK_BYTES)
            .map_err(|e| IngestError::read(source, format!("reading response chunk {}", n + 1), e))?;
        if read == 0 {
            break;
        }
        n += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut budget = MAX_CHUNK_MEMORY;
        let r: Response = crate::bounded::with_budget(&mut budget, || serde_json::from_slice(&line)).map_err(|e| {
            IngestError::BadLine {
                file: source.into(),
                line: n,
                message: format!("not an InfluxDB query response: {e}"),
            }
        })?;
        if let Some(e) = r.error {
            return Err(IngestError::invalid(source, format!("InfluxDB says: {e}")));
        }
        for res in r.results {
            if let Some(e) = res.error {
                return Err(IngestError::invalid(source, format!("InfluxDB says: {e}")));
            }
            for s in res.series {
                feed_series(&s, agg, &mut stats).map_err(|m| IngestError::BadLine {
                    file: source.into(),
                    line: n,
                    message: format!("measurement {:?}: {m}", s.name),
                })?;
            }
        }
    }
    Ok(stats)
}

/// An InfluxQL identifier, double-quoted.
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// An InfluxQL string literal, single-quoted.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Where a run's samples are: a database, a retention policy, tag filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub db: String,
    /// The retention policy; the database's default when `None`.
    pub rp: Option<String>,
    /// Tag = value conditions (`--where`).
    pub filters: Vec<(String, String)>,
}

impl Selection {
    /// Every measurement of the database (policy): the `FROM` of the queries.
    pub fn from_all(&self) -> String {
        match &self.rp {
            Some(rp) => format!("{}.{}./.*/", ident(&self.db), ident(rp)),
            None => "/.*/".to_string(),
        }
    }

    /// The tag conditions, ` AND`-joined (empty without filters).
    fn tag_conditions(&self) -> Vec<String> {
        self.filters.iter().map(|(k, v)| format!("{} = {}", ident(k), literal(v))).collect()
    }

    /// `WHERE` with the tag conditions, or nothing.
    pub fn where_tags(&self) -> String {
        let c = self.tag_conditions();
        if c.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", c.join(" AND "))
        }
    }

    /// The condition on a time window `[from, to)` (ns) and the tags.
    pub fn where_window(&self, from: i64, to: i64) -> String {
        let mut w = format!("time >= {from} AND time < {to}");
        for c in self.tag_conditions() {
            w.push_str(" AND ");
            w.push_str(&c);
        }
        w
    }

    /// The measurements `names`, quoted (with the database and policy when a policy is given).
    pub fn from_list(&self, names: &[String]) -> String {
        let one = |n: &String| match &self.rp {
            Some(rp) => format!("{}.{}.{}", ident(&self.db), ident(rp), ident(n)),
            None => ident(n),
        };
        names.iter().map(one).collect::<Vec<_>>().join(",")
    }

    /// The queries of every sample in `[from, to)` of the database's
    /// `measurements`: those in `in_time_order` read as they were written
    /// (rows in time order: a gauge's value is its last sample), every other
    /// one grouped by tag set (`GROUP BY *`: each tag set once per series
    /// instead of once per row, about half the bytes for InfluxDB to write
    /// and for the import to read; the rows of one measurement then come tag
    /// set by tag set, which no count, sum, rate or trend depends on).
    pub fn select_slices(&self, from: i64, to: i64, measurements: &[String], in_time_order: &[String]) -> Vec<String> {
        let w = self.where_window(from, to);
        let (ordered, grouped): (Vec<String>, Vec<String>) =
            measurements.iter().cloned().partition(|m| in_time_order.contains(m));
        let mut out = Vec::new();
        if !ordered.is_empty() {
            out.push(format!("SELECT * FROM {} WHERE {w}", self.from_list(&ordered)));
        }
        if !grouped.is_empty() {
            let from = if ordered.is_empty() { self.from_all() } else { self.from_list(&grouped) };
            out.push(format!("SELECT * FROM {from} WHERE {w} GROUP BY *"));
        }
        out
    }

    /// Point counts per 10 s bin over `[from, to)`, to split runs by gaps ([`split_by_gaps`]).
    pub fn count_bins(&self, from: i64, to: i64) -> String {
        format!(
            "SELECT count(\"value\") FROM {} WHERE {} GROUP BY time({}s) fill(none)",
            self.from_all(),
            self.where_window(from, to),
            GAP_BIN_NS / 1_000_000_000
        )
    }
}

/// The bins [`Selection::count_bins`] counts in, and the silence that ends a run.
pub const GAP_BIN_NS: i64 = 10_000_000_000;
pub const RUN_GAP_NS: i64 = 60_000_000_000;

/// Time slices of at most `slice` ns covering `[from, to)`, read one query at a time.
pub fn slices(from: i64, to: i64, slice: i64) -> impl Iterator<Item = (i64, i64)> {
    let slice = slice.max(1);
    let mut t = from;
    std::iter::from_fn(move || {
        if t >= to {
            return None;
        }
        let end = t.saturating_add(slice).min(to);
        let out = (t, end);
        t = end;
        Some(out)
    })
}

/// Runs told apart by silence: point counts per bin (bin start → count)
/// become `(start, end, points)` periods, a new one wherever no sample was
/// written for [`RUN_GAP_NS`] or more; clipped to `[start, end]`.
pub fn split_by_gaps(bins: &BTreeMap<i64, u64>, start: i64, end: i64) -> Vec<(i64, i64, u64)> {
    let mut out: Vec<(i64, i64, u64)> = Vec::new();
    for (&t, &n) in bins {
        match out.last_mut() {
            Some(last) if t - last.1 <= RUN_GAP_NS => {
                last.1 = t + GAP_BIN_NS;
                last.2 += n;
            }
            _ => out.push((t, t + GAP_BIN_NS, n)),
        }
    }
    if let Some(first) = out.first_mut() {
        first.0 = first.0.max(start);
    }
    if let Some(last) = out.last_mut() {
        last.1 = last.1.min(end + 1);
    }
    out
}

fn feed_series(s: &Series<'_>, agg: &mut Aggregator, stats: &mut ResponseStats) -> Result<(), String> {
    let col = |name: &str| s.columns.iter().position(|c| c == name);
    let t = col("time").ok_or("no time column")?;
    // k6 writes `value` on every row: a measurement without one anywhere is
    // another tool's (a query over several measurements lists every field).
    let Some(v) = col("value").filter(|&v| s.values.iter().any(|r: &[Cell<'_>]| r.get(v).is_some_and(Cell::is_number)))
    else {
        if !s.values.is_empty() {
            stats.foreign.insert(s.name.to_string());
        }
        return Ok(());
    };
    // A series of `GROUP BY *` names its tag set once (a tag the rows do not
    // have reads as ""; InfluxDB stores no empty tag, so "" is absent).
    let fixed: Vec<(String, String)> =
        s.tags.iter().flatten().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.clone(), v.clone())).collect();
    // Rows of one series share few tag sets: each set's route is found once
    // (keyed by the row's string cells, 0-separated; 1 marks a non-string).
    let mut routes: FxHashMap<Vec<u8>, Option<(u64, Route)>> = FxHashMap::default();
    let mut key: Vec<u8> = Vec::new();
    for row in s.values.iter() {
        if row.len() != s.columns.len() {
            return Err(format!("a row of {} values for {} columns", row.len(), s.columns.len()));
        }
        let time = match row[t] {
            Cell::Int(ns) => ns,
            ref other => return Err(format!("time {other} is not integer nanoseconds (epoch=ns)")),
        };
        let Some(value) = row[v].as_f64() else {
            stats.skipped += 1;
            continue;
        };
        key.clear();
        for (i, c) in row.iter().enumerate() {
            if i == t || i == v {
                continue;
            }
            match c {
                Cell::Str(x) => key.extend_from_slice(x.as_bytes()),
                _ => key.push(1),
            }
            key.push(0);
        }
        stats.points += 1;
        let tags = || {
            let mut tags: Vec<(&str, &str)> = fixed.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            for (i, c) in s.columns.iter().enumerate() {
                if i == t || i == v {
                    continue;
                }
                if let Cell::Str(x) = &row[i] {
                    if !x.is_empty() {
                        tags.push((c.as_ref(), x.as_ref()));
                    }
                }
            }
            if tags.iter().any(|(k, _)| *k == "scenario") && !tags.iter().any(|(k, _)| *k == "group") {
                tags.push(("group", ""));
            }
            tags
        };
        if let Some(slot) = routes.get_mut(key.as_slice()) {
            agg.add_via(slot, &s.name, time, value, tags);
            continue;
        }
        let mut slot = None;
        agg.add_via(&mut slot, &s.name, time, value, tags);
        if slot.is_some() && routes.len() < MAX_ROUTES {
            routes.insert(key.clone(), slot);
        }
    }
    Ok(())
}

/// Tag sets of one series whose routes are kept (past it, routes are found per row).
const MAX_ROUTES: usize = 10_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k6::{assemble, AggregatorOptions};

    #[test]
    fn rows_become_samples_with_the_root_group_restored() {
        // Hand-made response in InfluxDB's shape (the real server is in the CLI's tests).
        let body = concat!(
            r#"{"results":[{"statement_id":0,"series":[{"name":"http_req_duration","columns":["time","expected_response","group","method","name","scenario","status","url","value"],"values":[[1700000000000000000,"true",null,"GET","home","default","200","http://x/",12.5],[1700000000100000000,"true","::buy","GET","pay","default","200","http://x/pay",30]],"partial":true}],"partial":true}]}"#,
            "\n",
            r#"{"results":[{"statement_id":0,"series":[{"name":"vus","columns":["time","value"],"values":[[1700000000000000000,3],[1700000000500000000,null]]}]}]}"#,
            "\n"
        );
        let mut agg = Aggregator::new(AggregatorOptions::default());
        let st = ingest_response(body.as_bytes(), "q", &mut agg).unwrap();
        assert_eq!((st.points, st.skipped), (3, 1));
        let s = assemble(Some((agg, "influxdb".into())), None).summary;
        assert_eq!(s.series["http_req_duration"].values["count"], 2.0);
        assert_eq!(s.series["http_req_duration{group:}"].values["count"], 1.0);
        assert_eq!(s.series["http_req_duration{group:::buy}"].values["max"], 30.0);
        assert_eq!(s.series["vus"].values["value"], 3.0);
    }

    #[test]
    fn queries_quote_what_the_user_gives() {
        assert_eq!(literal("it's"), "'it\\'s'");
        assert_eq!(ident("a\"b"), "\"a\\\"b\"");
        let sel =
            Selection { db: "k6".into(), rp: Some("week".into()), filters: vec![("testid".into(), "a'b".into())] };
        assert_eq!(
            sel.select_slices(1, 2, &["http_reqs".into()], &[]),
            vec!["SELECT * FROM \"k6\".\"week\"./.*/ WHERE time >= 1 AND time < 2 AND \"testid\" = 'a\\'b' GROUP BY *"]
        );
        assert_eq!(sel.where_tags(), " WHERE \"testid\" = 'a\\'b'");
        assert_eq!(Selection::default().where_tags(), "");
        assert_eq!(slices(0, 25, 10).collect::<Vec<_>>(), vec![(0, 10), (10, 20), (20, 25)]);
    }

    #[test]
    fn gauges_are_read_in_time_order_the_rest_grouped_by_tag_set() {
        let sel = Selection { db: "k6".into(), ..Default::default() };
        let all: Vec<String> = ["http_reqs", "vus", "my_gauge", "http_req_duration"].map(String::from).to_vec();
        let gauges: Vec<String> = ["vus", "my_gauge"].map(String::from).to_vec();
        assert_eq!(
            sel.select_slices(1, 2, &all, &gauges),
            vec![
                "SELECT * FROM \"vus\",\"my_gauge\" WHERE time >= 1 AND time < 2".to_string(),
                "SELECT * FROM \"http_reqs\",\"http_req_duration\" WHERE time >= 1 AND time < 2 GROUP BY *".to_string(),
            ]
        );
        assert_eq!(
            sel.select_slices(1, 2, &all, &[]),
            vec!["SELECT * FROM /.*/ WHERE time >= 1 AND time < 2 GROUP BY *"]
        );
        let rp = Selection { db: "k6".into(), rp: Some("w".into()), ..Default::default() };
        assert_eq!(rp.from_list(&gauges), "\"k6\".\"w\".\"vus\",\"k6\".\"w\".\"my_gauge\"");
    }

    #[test]
    fn a_grouped_series_gives_its_tags_and_leaves_out_empty_ones() {
        // Hand-made, in the shape of InfluxDB 1.x's answer to `GROUP BY *`.
        let body = concat!(
            r#"{"results":[{"statement_id":0,"series":[{"name":"http_reqs","tags":{"group":"","method":"GET","scenario":"default","status":"200"},"columns":["time","url","value"],"values":[[1700000000000000000,"http://x/",1],[1700000000100000000,"http://x/a",1]]}]}]}"#,
            "\n"
        );
        let mut agg = Aggregator::new(AggregatorOptions::default());
        assert_eq!(ingest_response(body.as_bytes(), "q", &mut agg).unwrap().points, 2);
        let s = assemble(Some((agg, "influxdb".into())), None).summary;
        assert_eq!(s.series["http_reqs{group:}"].values["count"], 2.0);
        assert_eq!(s.series["http_reqs{status:200}"].values["count"], 2.0);
        assert_eq!(s.series["http_reqs{method:GET}"].values["count"], 2.0);
    }

    #[test]
    fn runs_are_split_where_nothing_was_written_for_a_minute() {
        let s = 1_000 * GAP_BIN_NS;
        let bins: BTreeMap<i64, u64> =
            [(s, 5), (s + GAP_BIN_NS, 7), (s + 3 * GAP_BIN_NS, 1), (s + 20 * GAP_BIN_NS, 4)].into_iter().collect();
        let runs = split_by_gaps(&bins, s + 3, s + 20 * GAP_BIN_NS + 5);
        assert_eq!(runs, vec![(s + 3, s + 4 * GAP_BIN_NS, 13), (s + 20 * GAP_BIN_NS, s + 20 * GAP_BIN_NS + 6, 4)]);
    }

    #[test]
    fn errors_name_the_source_and_the_chunk() {
        let mut agg = Aggregator::new(AggregatorOptions::default());
        let e = ingest_response(
            r#"{"results":[{"statement_id":0,"error":"database not found: k6"}]}"#.as_bytes(),
            "http://db/query [0s, 10s)",
            &mut agg,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("http://db/query [0s, 10s)") && e.contains("database not found: k6"), "{e}");
        let e = ingest_response("{\"results\":[]}\n<html>".as_bytes(), "q", &mut agg).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("not an InfluxDB query response"), "{e}");
    }
}
