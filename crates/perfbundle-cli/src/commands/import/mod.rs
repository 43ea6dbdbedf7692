//! `perfbundle import`: a run from where k6 results already live — InfluxDB
//! 1.x (k6 `--out influxdb`) or Prometheus (k6 `experimental-prometheus-rw`) —
//! into a bundle, through the core's one pipeline: the samples go to the
//! aggregator that packs k6's JSON stream. Here: arguments, HTTP and the
//! flow; what to ask each server and how to read its answers is the core's
//! (`ingest::influx`, `ingest::prometheus`).

mod http;
mod influxdb;
mod prometheus;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use perfbundle_core::pack::PackPlan;
use perfbundle_core::time::parse_rfc3339_ns;

use crate::packing::{self, RawFiles, Spec};

/// Import a k6 run from a time-series database into a bundle.
#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
}

#[derive(Subcommand, Debug)]
pub enum ImportSource {
    /// From InfluxDB 1.x, as k6's `--out influxdb` wrote it (InfluxQL over HTTP).
    Influxdb(Box<InfluxArgs>),
    /// From Prometheus, as k6's `experimental-prometheus-rw` output wrote it (the HTTP API).
    Prometheus(Box<PromArgs>),
}

/// The run's time window.
#[derive(Args, Debug)]
pub struct WindowArgs {
    /// Start of the run's window: RFC 3339 (2026-11-24T19:50:00Z) or Unix seconds.
    #[arg(long, requires = "to", conflicts_with = "last")]
    pub from: Option<String>,
    /// End of the window (exclusive).
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// The window that ends now: 30m, 2h, 1d…
    #[arg(long, value_name = "DURATION")]
    pub last: Option<String>,
}

/// Where and what to read.
#[derive(Args, Debug)]
pub struct PromArgs {
    /// Prometheus's HTTP or HTTPS address, e.g. http://127.0.0.1:9090.
    #[arg(long)]
    pub url: String,
    /// PEM certificates to trust for an https:// server with a private CA (besides Mozilla's roots, which are not used then).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Only the run with this `testid` label (k6 `--tag testid=…`).
    #[arg(long)]
    pub testid: Option<String>,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Type of a custom metric whose name does not tell it: NAME=counter|gauge|rate|trend. Repeatable.
    #[arg(long = "metric-type", value_name = "NAME=KIND")]
    pub metric_types: Vec<String>,
    /// Output bundle.
    #[arg(short = 'o', long = "output", value_name = "OUT.perfbundle")]
    pub output: PathBuf,
    /// Title of the run.
    #[arg(long)]
    pub title: Option<String>,
    /// A label, K=V. Repeatable.
    #[arg(long = "label", value_name = "K=V")]
    pub labels: Vec<String>,
    /// Extra inputs bundled as `pack` would (k6's summary: its thresholds, checks and test duration are used).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

/// Where and what to read.
#[derive(Args, Debug)]
pub struct InfluxArgs {
    /// InfluxDB's HTTP or HTTPS address, e.g. http://127.0.0.1:8086.
    #[arg(long)]
    pub url: String,
    /// PEM certificates to trust for an https:// server with a private CA (besides Mozilla's roots, which are not used then).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// The database k6 wrote to.
    #[arg(long)]
    pub db: String,
    /// Retention policy (default: the database's default).
    #[arg(long)]
    pub rp: Option<String>,
    /// User name, when InfluxDB has authentication on.
    #[arg(long)]
    pub user: Option<String>,
    /// The environment variable holding the password (never a command-line argument).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Only samples with this tag value, TAG=VALUE (e.g. testid=run-42). Repeatable.
    #[arg(long = "where", value_name = "TAG=VALUE")]
    pub filters: Vec<String>,
    /// Type of a custom metric (InfluxDB holds no types): NAME=counter|gauge|rate|trend. Repeatable.
    #[arg(long = "metric-type", value_name = "NAME=KIND")]
    pub metric_types: Vec<String>,
    /// List the runs in the database (by --run-tag, or by gaps in time) instead of importing.
    #[arg(long)]
    pub list: bool,
    /// The tag that tells runs apart for --list.
    #[arg(long, default_value = "testid", value_name = "KEY")]
    pub run_tag: String,
    /// Length of the time slices read one query at a time (memory stays bounded for runs of any length).
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub slice: String,
    /// Output bundle.
    #[arg(short = 'o', long = "output", value_name = "OUT.perfbundle", required_unless_present = "list")]
    pub output: Option<PathBuf>,
    /// Title of the run.
    #[arg(long)]
    pub title: Option<String>,
    /// A label, K=V. Repeatable.
    #[arg(long = "label", value_name = "K=V")]
    pub labels: Vec<String>,
    /// Extra inputs bundled as `pack` would: k6's --summary-export or handleSummary JSON (its types,
    /// thresholds and checks are used), profiles, Clinic data.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

pub fn run(a: ImportArgs) -> Result<ExitCode> {
    match a.source {
        ImportSource::Influxdb(i) => influxdb::run(*i),
        ImportSource::Prometheus(p) => prometheus::run(*p),
    }
}

/// A duration: `30s`, `5m`, `2h`, `1d`, `1h 30m` (humantime's syntax) → ns.
pub fn parse_duration_ns(s: &str) -> Result<i64> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| anyhow!("{s:?}: expected a duration like 30s, 5m, 2h, 1d ({e})"))?;
    let ns = d.as_nanos();
    if !(1_000_000..1_000_000_000_000_000_000).contains(&ns) {
        bail!("{s:?}: out of range (1 ms to 31 years)");
    }
    Ok(ns as i64)
}

/// RFC 3339, or Unix seconds → ns.
fn parse_time(s: &str, what: &str) -> Result<i64> {
    if let Some(ns) = parse_rfc3339_ns(s) {
        return Ok(ns);
    }
    if let Ok(secs) = s.trim().parse::<f64>() {
        if secs.is_finite() && secs.abs() < 1e11 {
            return Ok((secs * 1e9) as i64);
        }
    }
    bail!("{what} {s:?}: expected an RFC 3339 time (2026-11-24T19:50:00Z) or Unix seconds")
}

fn now_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

/// The window `[from, to)` in ns, from --from/--to or --last.
fn window(w: &WindowArgs) -> Result<(i64, i64)> {
    match (&w.from, &w.to, &w.last) {
        (Some(f), Some(t), None) => {
            let (from, to) = (parse_time(f, "--from")?, parse_time(t, "--to")?);
            if to <= from {
                bail!("--to {t:?} is not after --from {f:?}");
            }
            Ok((from, to))
        }
        (None, None, Some(l)) => {
            let now = now_ns();
            Ok((now - parse_duration_ns(l)?, now + 1))
        }
        _ => bail!("give the run's window: --from T --to T, or --last DURATION (or --list to find runs)"),
    }
}

/// An import's plan: its options from the command line, no git labels (the
/// run was not made here), the extra inputs (k6's summary first) read in.
fn plan(title: String, labels: &[String], metric_types: &[String], inputs: &[PathBuf]) -> Result<(PackPlan, RawFiles)> {
    let spec = Spec {
        title,
        labels: labels.to_vec(),
        metric_types: metric_types.to_vec(),
        max_line_bytes: perfbundle_core::ingest::lines::DEFAULT_MAX_LINE_BYTES,
        ..Spec::default()
    };
    let mut plan = PackPlan::new(spec.options()?);
    let all = crate::inputs::collect(inputs, &[])?;
    let raw = packing::add_files(&mut plan, &all, false, spec.max_line_bytes, false)?;
    Ok((plan, raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times() {
        assert_eq!(parse_duration_ns("30s").unwrap(), 30_000_000_000);
        assert_eq!(parse_duration_ns("5m").unwrap(), 300_000_000_000);
        assert_eq!(parse_duration_ns("1h 30m").unwrap(), 5_400_000_000_000);
        assert_eq!(parse_duration_ns("1d").unwrap(), 86_400_000_000_000);
        assert!(parse_duration_ns("5x").is_err());
        assert_eq!(parse_time("1700000000", "t").unwrap(), 1_700_000_000_000_000_000);
        assert_eq!(parse_time("2023-11-14T22:13:20Z", "t").unwrap(), 1_700_000_000_000_000_000);
        assert!(parse_time("yesterday", "--from").unwrap_err().to_string().contains("--from"));
    }
}
