//! `perfbundle import prometheus`: each `k6_*` metric of a run read from
//! Prometheus's HTTP API as a range vector, fed to the pack pipeline's
//! aggregator as the samples k6 pushed (FORMAT.md §13).

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use perfbundle_core::pack::{PointsSource, SourceRecord};
use perfbundle_core::time::format_rfc3339_ms;
use sha2::{Digest, Sha256};

use super::http::{prom_get, Server};
use super::{window, PromArgs};
use crate::packing;

pub fn run(a: PromArgs) -> Result<ExitCode> {
    crate::fsio::check_output(&a.output, &a.inputs)?;
    use perfbundle_core::ingest::prometheus::{self as prom, Written};
    let server = Server::new(&a.url, a.ca_cert.as_deref())?;
    let url = server.url.clone();
    let (from, to) = window(&a.window)?;
    let sel = |name: &str| match &a.testid {
        Some(t) => format!("{{__name__=\"{name}\",testid={}}}", prom_string(t)),
        None => format!("{{__name__=\"{name}\"}}"),
    };
    let secs = |ns: i64| format!("{:.3}", ns as f64 / 1e9);
    // The k6 metric names in the window.
    let body = prom_get(
        &server,
        "/api/v1/label/__name__/values",
        &[("match[]", sel_regex(&a.testid)), ("start", secs(from)), ("end", secs(to))],
    )?;
    let v: serde_json::Value =
        serde_json::from_slice(&body).with_context(|| format!("{url}: not a Prometheus API response"))?;
    let names: Vec<String> = v["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(String::from))
        .filter(|n| n.starts_with("k6_"))
        .collect();
    if names.is_empty() {
        bail!(
            "{url}: no k6_ series in this window{} (was k6 run with -o experimental-prometheus-rw, and its K6_PROMETHEUS_RW_SERVER_URL pointing here?)",
            a.testid.as_ref().map(|t| format!(" with testid={t}")).unwrap_or_default()
        );
    }
    let range = format!("{}s", ((to - from) as f64 / 1e9).ceil() as i64);
    let fetch = |name: &str| -> Result<(Vec<prom::RawSeries>, Vec<u8>)> {
        let body =
            prom_get(&server, "/api/v1/query", &[("query", format!("{}[{range}]", sel(name))), ("time", secs(to))])?;
        let what = format!("{url}/api/v1/query {name}");
        Ok((prom::parse_matrix(&body, &what)?, body))
    };
    // Fetch each metric once, in an order where counters come before the rates they weigh.
    let mut fetched: Vec<(String, Vec<prom::RawSeries>)> = Vec::new();
    // The input's sha256 is of the bytes read: the name list's body, then each query's, in this order.
    let mut hasher = Sha256::new();
    hasher.update(&body);
    let mut bytes = body.len() as u64;
    let mut order = names.clone();
    order.sort_by_key(|n| !n.ends_with("_total"));
    for n in &order {
        let (series, response) = fetch(n)?;
        hasher.update(&response);
        bytes += response.len() as u64;
        fetched.push((n.clone(), series));
    }
    let histograms: Vec<String> =
        fetched.iter().filter(|(_, s)| s.iter().any(|x| !x.histograms.is_empty())).map(|(n, _)| n.clone()).collect();
    let written = prom::classify(&names, &histograms);
    let mut hints = std::collections::HashMap::new();
    for (_, w) in &written {
        if let Some((m, k, c)) = prom::model_type(w) {
            hints.insert(m, (k, c.to_string()));
        }
    }
    // Pushes come every few seconds: buckets of at least twice that.
    let mut gaps: Vec<f64> = fetched
        .iter()
        .flat_map(|(_, ss)| ss.iter())
        .flat_map(|s| s.samples.windows(2).map(|w| w[1].0 - w[0].0).collect::<Vec<_>>())
        .filter(|g| *g > 0.0)
        .collect();
    gaps.sort_by(f64::total_cmp);
    let push_s = gaps.get(gaps.len() / 2).copied().unwrap_or(5.0);
    let min_bucket_ms = perfbundle_core::k6::aggregate::WIDTH_LADDER_MS
        .iter()
        .copied()
        .find(|w| *w as f64 >= push_s * 2000.0)
        .unwrap_or(10_000)
        .max(1000);
    let mut unweighted: BTreeMap<String, Vec<prom::RawSeries>> = BTreeMap::new();
    let mut trend_stats: BTreeMap<String, BTreeMap<String, Vec<prom::RawSeries>>> = BTreeMap::new();
    let source_name = format!(
        "{url}{} [{} → {})",
        a.testid.as_ref().map(|t| format!(" testid={t}")).unwrap_or_default(),
        format_rfc3339_ms(from),
        format_rfc3339_ms(to)
    );
    let title = a.title.clone().unwrap_or_else(|| {
        format!("{} (imported from Prometheus)", a.testid.clone().unwrap_or_else(|| "k6 run".into()))
    });
    let (mut plan, raw) = super::plan(title, &a.labels, &a.metric_types, &a.inputs)?;
    let agg = plan.points(
        &source_name,
        PointsSource { kind: "prometheus".into(), type_hints: hints, min_bucket_ms: Some(min_bucket_ms) },
    )?;
    let counters: BTreeMap<&str, &Vec<prom::RawSeries>> = written
        .iter()
        .filter_map(|(n, w)| match w {
            Written::Counter { metric } => fetched.iter().find(|(f, _)| f == n).map(|(_, s)| (metric.as_str(), s)),
            _ => None,
        })
        .collect();
    let mut points = 0u64;
    for (n, w) in &written {
        let Some((_, series)) = fetched.iter().find(|(f, _)| f == n) else { continue };
        match w {
            Written::Counter { metric } => points += prom::feed_counter(agg, metric, series),
            Written::Gauge { metric } => points += prom::feed_gauge(agg, metric, series),
            Written::Histogram { metric, time } => points += prom::feed_histogram(agg, metric, *time, series),
            Written::Rate { metric } => {
                // A rate's samples are counted by the counter k6 emits with it.
                let weight = match metric.as_str() {
                    "http_req_failed" => counters.get("http_reqs"),
                    _ => None,
                };
                let left = match weight {
                    Some(w) => prom::feed_weighted_rate(agg, metric, series, w),
                    None => series.clone(),
                };
                if !left.is_empty() {
                    unweighted.insert(metric.clone(), left);
                }
            }
            Written::TrendStat { metric, stat } => {
                trend_stats.entry(metric.clone()).or_default().insert(stat.clone(), series.clone());
            }
        }
    }
    if points == 0 && unweighted.is_empty() && trend_stats.is_empty() {
        bail!("{source_name}: no k6 sample could be imported");
    }
    plan.warn(format!(
        "imported from Prometheus: values pushed every {push_s:.0} s; counts and sums of counters and of native histograms are exact, the figures marked approximate are not"
    ));
    if !trend_stats.is_empty() {
        let names: Vec<String> = trend_stats.keys().cloned().collect();
        plan.warn(format!(
            "trends exported as summary stats (no observations): {}; percentiles only per label set, no time series (K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=true keeps the observations)",
            names.join(", ")
        ));
    }
    for m in unweighted.keys() {
        plan.warn(format!(
            "{m}: no counter counts its samples; its rate over label sets is the unweighted mean of theirs (approximate)"
        ));
    }
    plan.input(SourceRecord {
        name: source_name,
        kind: "prometheus".into(),
        size: bytes,
        sha256: hex::encode(hasher.finalize()),
        used: true,
        raw_entry: None,
    });
    let mut finish = |s: &mut perfbundle_core::k6::K6Summary, had_summary: bool| {
        prom::finish(s, &written, &unweighted, had_summary);
        prom::finish_trend_stats(s, &trend_stats);
    };
    packing::write_and_report(plan.finish(Some(&mut finish)), &raw, &a.output)?;
    Ok(ExitCode::SUCCESS)
}

/// A PromQL string literal.
fn prom_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn sel_regex(testid: &Option<String>) -> String {
    match testid {
        Some(t) => format!("{{__name__=~\"k6_.+\",testid={}}}", prom_string(t)),
        None => "{__name__=~\"k6_.+\"}".to_string(),
    }
}
