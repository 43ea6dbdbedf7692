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

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Deserialize;

use crate::error::IngestError;
use crate::k6::Aggregator;

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    results: Vec<StatementResult>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct StatementResult {
    #[serde(default)]
    series: Vec<Series>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Series {
    name: String,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    columns: Vec<String>,
    #[serde(default)]
    values: Vec<Vec<serde_json::Value>>,
}

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
    let mut line = String::new();
    let mut n = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|e| IngestError::read(source, format!("reading response chunk {}", n + 1), e))?;
        if read == 0 {
            break;
        }
        n += 1;
        if line.trim().is_empty() {
            continue;
        }
        let r: Response = serde_json::from_str(&line).map_err(|e| IngestError::BadLine {
            file: source.into(),
            line: n,
            message: format!("not an InfluxDB query response: {e}"),
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

fn feed_series(s: &Series, agg: &mut Aggregator, stats: &mut ResponseStats) -> Result<(), String> {
    let col = |name: &str| s.columns.iter().position(|c| c == name);
    let t = col("time").ok_or("no time column")?;
    // k6 writes `value` on every row: a measurement without one anywhere is
    // another tool's (a query over several measurements lists every field).
    let Some(v) = col("value").filter(|&v| s.values.iter().any(|r| r.get(v).is_some_and(|x| x.is_number()))) else {
        if !s.values.is_empty() {
            stats.foreign.insert(s.name.clone());
        }
        return Ok(());
    };
    let fixed: Vec<(String, String)> = s.tags.iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut tags: Vec<(&str, &str)> = Vec::with_capacity(s.columns.len() + fixed.len());
    for row in &s.values {
        if row.len() != s.columns.len() {
            return Err(format!("a row of {} values for {} columns", row.len(), s.columns.len()));
        }
        let time = row[t].as_i64().ok_or_else(|| format!("time {} is not integer nanoseconds (epoch=ns)", row[t]))?;
        let Some(value) = row[v].as_f64() else {
            stats.skipped += 1;
            continue;
        };
        tags.clear();
        tags.extend(fixed.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        for (i, c) in s.columns.iter().enumerate() {
            if i == t || i == v {
                continue;
            }
            if let Some(x) = row[i].as_str() {
                if !x.is_empty() {
                    tags.push((c.as_str(), x));
                }
            }
        }
        if tags.iter().any(|(k, _)| *k == "scenario") && !tags.iter().any(|(k, _)| *k == "group") {
            tags.push(("group", ""));
        }
        agg.add_point(&s.name, time, value, &tags);
        stats.points += 1;
    }
    Ok(())
}

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
