//! `perfbundle import prometheus`: each `k6_*` metric of a run read from
//! Prometheus's HTTP API as a range vector, fed to the pack pipeline's
//! aggregator as the samples k6 pushed (FORMAT.md §13). What to ask and how
//! the answers become samples is the core's (`ingest::prometheus::plan`);
//! here, the HTTP.

use std::process::ExitCode;

use anyhow::{bail, Result};
use perfbundle_core::ingest::prometheus::{self as prom, plan};
use perfbundle_core::pack::{PointsSource, SourceRecord};
use perfbundle_core::time::format_rfc3339_ms;
use sha2::{Digest, Sha256};

use super::http::{prom_get, HashingReader, Server};
use super::{window, PromArgs};
use crate::packing;

pub fn run(a: PromArgs) -> Result<ExitCode> {
    crate::fsio::check_output(&a.output, &a.inputs)?;
    let server = Server::new(&a.url, a.ca_cert.as_deref())?;
    let url = server.url.clone();
    let (from, to) = window(&a.window)?;
    let testid = a.testid.as_deref();
    let secs = |ns: i64| format!("{:.3}", ns as f64 / 1e9);
    // The input's sha256 is of the bytes read: the name list's body, then each query's, in this order.
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    // Each answer is read as it arrives (hashed and counted as it passes), typed: no JSON tree, no
    // whole body in memory, and a bound on the samples an import holds (core's prometheus::api).
    let body = prom_get(
        &server,
        "/api/v1/label/__name__/values",
        &[("match[]", plan::k6_names_selector(testid)), ("start", secs(from)), ("end", secs(to))],
    )?;
    let names = plan::read_k6_names(HashingReader { inner: body, hasher: &mut hasher, bytes: &mut bytes }, &url)?;
    if names.is_empty() {
        bail!(
            "{url}: no k6_ series in this window{} (was k6 run with -o experimental-prometheus-rw, and its K6_PROMETHEUS_RW_SERVER_URL pointing here?)",
            testid.map(|t| format!(" with testid={t}")).unwrap_or_default()
        );
    }
    let range = format!("{}s", ((to - from) as f64 / 1e9).ceil() as i64);
    let mut fetched: Vec<(String, Vec<prom::RawSeries>)> = Vec::new();
    let mut points_left = prom::MAX_POINTS;
    for name in &names {
        let query = format!("{}[{range}]", plan::selector(name, testid));
        let body = prom_get(&server, "/api/v1/query", &[("query", query), ("time", secs(to))])?;
        let body = HashingReader { inner: body, hasher: &mut hasher, bytes: &mut bytes };
        fetched.push((name.clone(), prom::read_matrix(body, &format!("{url}/api/v1/query {name}"), &mut points_left)?));
    }
    let (written, hints) = plan::written(&fetched);
    let (push_s, min_bucket_ms) = plan::push_interval(&fetched);
    let source_name = format!(
        "{url}{} [{} → {})",
        testid.map(|t| format!(" testid={t}")).unwrap_or_default(),
        format_rfc3339_ms(from),
        format_rfc3339_ms(to)
    );
    let title = a.title.clone().unwrap_or_else(|| format!("{} (imported from Prometheus)", testid.unwrap_or("k6 run")));
    let (mut plan, raw) = super::plan(title, &a.labels, &a.metric_types, &a.inputs)?;
    let agg = plan.points(
        &source_name,
        PointsSource { kind: "prometheus".into(), type_hints: hints, min_bucket_ms: Some(min_bucket_ms) },
    )?;
    let fed = plan::feed_all(agg, &written, &fetched);
    if fed.is_empty() {
        bail!("{source_name}: no k6 sample could be imported");
    }
    for w in fed.warnings(push_s) {
        plan.warn(w);
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
        prom::finish(s, &written, &fed.unweighted, had_summary);
        prom::finish_trend_stats(s, &fed.trend_stats);
    };
    packing::write_and_report(plan.finish(Some(&mut finish)), &raw, &a.output)?;
    Ok(ExitCode::SUCCESS)
}
