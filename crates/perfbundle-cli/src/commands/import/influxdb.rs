//! `perfbundle import influxdb`: a run read from InfluxDB 1.x in time slices
//! (one query each, chunked), its rows fed to the pack pipeline's
//! aggregator; or, with `--list`, the runs the database holds.

use std::collections::BTreeMap;
use std::io::BufReader;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use perfbundle_core::ingest::influx::{self, Selection};
use perfbundle_core::k6::MetricType;
use perfbundle_core::pack::{PointsSource, SourceRecord};
use perfbundle_core::time::format_rfc3339_ms;
use sha2::{Digest, Sha256};

use super::http::{HashingReader, Influx};
use super::{parse_duration_ns, window, InfluxArgs};
use crate::args::key_value;
use crate::fsio::ChannelReader;
use crate::packing;

pub fn run(a: InfluxArgs) -> Result<ExitCode> {
    let client = Influx::new(&a)?;
    let filters: Vec<(String, String)> = a.filters.iter().map(|f| key_value(f, "--where")).collect::<Result<_>>()?;
    let sel = client.selection(&filters);
    if a.list {
        return list_runs(&client, &a, &sel);
    }
    let output = a.output.clone().ok_or_else(|| anyhow!("-o OUT.perfbundle is needed"))?;
    crate::fsio::check_output(&output, &a.inputs)?;
    let (from, to) = window(&a.window)?;
    let slice = parse_duration_ns(&a.slice)?;
    // An empty or missing database is named before any slice is read.
    let measurements = client.measurements()?;
    let source_name = format!(
        "{}/{}{} [{} → {})",
        client.url,
        client.db,
        client.rp.as_ref().map(|r| format!(".{r}")).unwrap_or_default(),
        format_rfc3339_ms(from),
        format_rfc3339_ms(to)
    );
    let title = a.title.clone().unwrap_or_else(|| format!("{} (imported from InfluxDB)", a.db));
    let (mut plan, raw) = super::plan(title, &a.labels, &a.metric_types, &a.inputs)?;
    let agg = plan.points(&source_name, PointsSource { kind: "influxdb".into(), ..Default::default() })?;
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut points = 0u64;
    let mut skipped = 0u64;
    let mut foreign = std::collections::BTreeSet::new();
    let n_slices = ((to - from) as f64 / slice as f64).ceil().max(1.0) as u64;
    let pb = crate::fsio::progress(n_slices, "InfluxDB time slices");
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} slices, eta {eta}") {
        pb.set_style(style.progress_chars("=> "));
    }
    // Gauges are read in time order (their value is their last sample);
    // everything else grouped by tag set, which is leaner to send.
    let gauges: Vec<String> =
        measurements.iter().filter(|m| agg.known_type(m) == Some(MetricType::Gauge)).cloned().collect();
    for (t, end) in influx::slices(from, to, slice) {
        let what = format!("{}/query [{} → {})", client.url, format_rfc3339_ms(t), format_rfc3339_ms(end));
        for q in sel.select_slices(t, end, &measurements, &gauges) {
            // The response is read on a thread of its own while this one
            // parses it, so InfluxDB never waits for the parse to take more.
            let (body, reading) = ChannelReader::spawn(client.query(&q)?);
            let tap = HashingReader { inner: body, hasher: &mut hasher, bytes: &mut bytes };
            let st = influx::ingest_response(BufReader::with_capacity(1 << 20, tap), &what, agg);
            reading.join().map_err(|_| anyhow!("{what}: the reading thread failed"))?;
            let st = st?;
            points += st.points;
            skipped += st.skipped;
            foreign.extend(st.foreign);
        }
        pb.inc(1);
        pb.set_message(format!("{points} samples"));
    }
    pb.finish_and_clear();
    if points == 0 {
        bail!(
            "{source_name}: no k6 sample in this window{} (perfbundle import influxdb --list shows the runs)",
            if filters.is_empty() { "" } else { " with these --where filters" }
        );
    }
    plan.warn(
        "imported from InfluxDB: as complete as what k6 managed to write (k6 drops a batch it cannot write and still exits 0)",
    );
    if skipped > 0 {
        plan.warn(format!("{skipped} rows without a numeric value were skipped"));
    }
    if !foreign.is_empty() {
        let names: Vec<String> = foreign.into_iter().collect();
        plan.warn(format!("measurements without a `value` field (not k6's) left out: {}", names.join(", ")));
    }
    plan.input(SourceRecord {
        name: source_name,
        kind: "influxdb".into(),
        size: bytes,
        sha256: hex::encode(hasher.finalize()),
        used: true,
        raw_entry: None,
    });
    packing::write_and_report(plan.finish(None), &raw, &output)?;
    Ok(ExitCode::SUCCESS)
}

/// One run found in the database.
#[derive(Debug, serde::Serialize)]
struct FoundRun {
    run: Option<String>,
    start: String,
    end: String,
    points: u64,
    tags: BTreeMap<String, Vec<String>>,
}

/// Point counts per measurement and time bin (or per run tag value).
fn list_runs(c: &Influx, a: &InfluxArgs, sel: &Selection) -> Result<ExitCode> {
    let from = sel.from_all();
    let cond = sel.where_tags();
    // Runs by tag: the first and last sample of each tag value, and the points.
    let tag = influx::ident(&a.run_tag);
    let first = c.query_json(&format!("SELECT first(\"value\") FROM {from}{cond} GROUP BY {tag}"))?;
    let last = c.query_json(&format!("SELECT last(\"value\") FROM {from}{cond} GROUP BY {tag}"))?;
    let count = c.query_json(&format!("SELECT count(\"value\") FROM {from}{cond} GROUP BY {tag}"))?;
    // key (tag value or None) → (first ns, last ns, points)
    let mut runs: BTreeMap<Option<String>, (i64, i64, u64)> = BTreeMap::new();
    let each = |vs: &[serde_json::Value], f: &mut dyn FnMut(Option<String>, &serde_json::Value)| {
        for v in vs {
            for s in v["results"][0]["series"].as_array().into_iter().flatten() {
                let key = s["tags"][&a.run_tag].as_str().filter(|x| !x.is_empty()).map(String::from);
                for row in s["values"].as_array().into_iter().flatten() {
                    f(key.clone(), row);
                }
            }
        }
    };
    each(&first, &mut |k, row| {
        if let Some(t) = row[0].as_i64() {
            let e = runs.entry(k).or_insert((i64::MAX, i64::MIN, 0));
            e.0 = e.0.min(t);
        }
    });
    each(&last, &mut |k, row| {
        if let Some(t) = row[0].as_i64() {
            let e = runs.entry(k).or_insert((i64::MAX, i64::MIN, 0));
            e.1 = e.1.max(t);
        }
    });
    each(&count, &mut |k, row| {
        if let Some(n) = row[1].as_u64() {
            runs.entry(k).or_insert((i64::MAX, i64::MIN, 0)).2 += n;
        }
    });
    if runs.is_empty() {
        bail!(
            "{}: database {:?} holds no k6 sample{}",
            c.url,
            c.db,
            if cond.is_empty() { "" } else { " matching --where" }
        );
    }
    let mut found: Vec<FoundRun> = Vec::new();
    let has_tag = runs.keys().any(Option::is_some);
    for (key, (start, end, points)) in &runs {
        if has_tag && key.is_none() {
            continue;
        }
        if key.is_none() {
            // No run tag: split the database's span by gaps in time.
            for (s, e, n) in split_by_gaps(c, sel, *start, *end)? {
                found.push(FoundRun {
                    run: None,
                    start: format_rfc3339_ms(s),
                    end: format_rfc3339_ms(e),
                    points: n,
                    tags: BTreeMap::new(),
                });
            }
            continue;
        }
        let mut run = sel.clone();
        run.filters.push((a.run_tag.clone(), key.clone().unwrap_or_default()));
        found.push(FoundRun {
            run: key.clone(),
            start: format_rfc3339_ms(*start),
            end: format_rfc3339_ms(*end),
            points: *points,
            tags: tag_values(c, &run)?,
        });
    }
    found.sort_by(|x, y| x.start.cmp(&y.start));
    let mut out = String::new();
    for r in &found {
        let name = r.run.as_ref().map(|k| format!("{}={k}", a.run_tag)).unwrap_or_else(|| "(no run tag)".into());
        out.push_str(&format!("{name}\n  {} → {}  {} points\n", r.start, r.end, r.points));
        for (k, v) in &r.tags {
            out.push_str(&format!("  {k}: {}\n", v.join(", ")));
        }
        let sel = match &r.run {
            Some(k) => format!("--where {}={k}", a.run_tag),
            None => format!("--from {} --to {}", r.start, r.end),
        };
        out.push_str(&format!(
            "  import: perfbundle import influxdb --url {} --db {} {sel} -o run.perfbundle\n",
            c.url, c.db
        ));
    }
    crate::emit(&out);
    Ok(ExitCode::SUCCESS)
}

/// Periods with samples, split where no sample was written for a minute or more.
fn split_by_gaps(c: &Influx, sel: &Selection, start: i64, end: i64) -> Result<Vec<(i64, i64, u64)>> {
    let mut bins: BTreeMap<i64, u64> = BTreeMap::new();
    for v in c.query_json(&sel.count_bins(start, end + 1))? {
        for s in v["results"][0]["series"].as_array().into_iter().flatten() {
            for row in s["values"].as_array().into_iter().flatten() {
                if let (Some(t), Some(n)) = (row[0].as_i64(), row[1].as_u64()) {
                    *bins.entry(t).or_default() += n;
                }
            }
        }
    }
    Ok(influx::split_by_gaps(&bins, start, end))
}

/// The values of every tag of a run (small sets only: request names, scenarios, statuses…).
/// (SHOW TAG VALUES takes no time bounds in InfluxDB 1.x: the run tag narrows it.)
fn tag_values(c: &Influx, sel: &Selection) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let q = format!("SHOW TAG VALUES FROM {} WITH KEY =~ /.*/{}", sel.from_all(), sel.where_tags());
    for v in c.query_json(&q)? {
        for s in v["results"][0]["series"].as_array().into_iter().flatten() {
            for row in s["values"].as_array().into_iter().flatten() {
                if let (Some(k), Some(val)) = (row[0].as_str(), row[1].as_str()) {
                    let e = out.entry(k.to_string()).or_default();
                    if !e.iter().any(|x| x == val) {
                        e.push(val.to_string());
                    }
                }
            }
        }
    }
    for v in out.values_mut() {
        v.sort();
        if v.len() > 12 {
            let n = v.len();
            v.truncate(12);
            v.push(format!("… ({n} values)"));
        }
    }
    Ok(out)
}
