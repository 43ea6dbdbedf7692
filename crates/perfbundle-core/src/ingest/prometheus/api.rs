//! Prometheus's HTTP API: a query's range vector (matrix) parsed into raw
//! samples and native histograms.

use std::collections::BTreeMap;

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

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// Parses an instant query's response whose result is a range vector (matrix).
pub fn parse_matrix(body: &[u8], source: &str) -> Result<Vec<RawSeries>, IngestError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| IngestError::invalid(source, format!("not a Prometheus API response: {e}")))?;
    if v["status"] != "success" {
        let msg = v["error"].as_str().unwrap_or("no error message");
        return Err(IngestError::invalid(source, format!("Prometheus says: {msg}")));
    }
    let Some(result) = v["data"]["result"].as_array() else {
        return Err(IngestError::invalid(source, "no data.result in the response"));
    };
    let bad = |m: &str| IngestError::invalid(source, m.to_string());
    let mut out = Vec::new();
    for s in result {
        let labels: BTreeMap<String, String> = s["metric"]
            .as_object()
            .ok_or_else(|| bad("a series without labels"))?
            .iter()
            .filter(|(k, _)| *k != "__name__")
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
            .collect();
        let mut samples = Vec::new();
        for p in s["values"].as_array().into_iter().flatten() {
            let (Some(t), Some(x)) = (num(&p[0]), num(&p[1])) else {
                return Err(bad("a sample is not [time, \"value\"]"));
            };
            samples.push((t, x));
        }
        let mut histograms = Vec::new();
        for p in s["histograms"].as_array().into_iter().flatten() {
            let t = num(&p[0]).ok_or_else(|| bad("a histogram sample without a time"))?;
            let h = &p[1];
            let mut nh = NativeHistogram {
                count: num(&h["count"]).ok_or_else(|| bad("a histogram without count"))?,
                sum: num(&h["sum"]).unwrap_or(0.0),
                buckets: Vec::new(),
            };
            for b in h["buckets"].as_array().into_iter().flatten() {
                let (Some(lo), Some(hi), Some(c)) = (num(&b[1]), num(&b[2]), num(&b[3])) else {
                    return Err(bad("a histogram bucket is not [rule, lower, upper, count]"));
                };
                nh.buckets.push((lo, hi, c));
            }
            histograms.push((t, nh));
        }
        out.push(RawSeries { labels, samples, histograms });
    }
    Ok(out)
}
