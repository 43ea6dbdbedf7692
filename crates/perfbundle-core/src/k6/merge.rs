//! Merging the shards of one distributed k6 test (execution segments,
//! k6-operator): one exact result from the shards' bundles.
//!
//! Per metric type: counters add (counts and sums); rates add passes and
//! samples; trends add counts and sums, keep the extreme min/max, and merge
//! their histograms bucket by bucket (so percentiles are those of the union,
//! within the histograms' accuracy); gauges `vus` and `vus_max` add across
//! shards (the test's VUs are the sum of each instance's), other gauges take
//! the largest shard's value. Every shard's whole-metric series is kept as a
//! `metric{shard:N}` sub-series, so a chart can show each instance.

use std::collections::{BTreeMap, BTreeSet};

use super::aggregate::{SUMMARY_PERCENTILES, WIDTH_LADDER_MS};
use super::model::*;
use crate::histogram::LogHistogram;
use crate::threshold;

/// One shard: its name (for the `shard` tag and messages) and its k6 model.
#[derive(Debug, Clone, Copy)]
pub struct Shard<'a> {
    pub name: &'a str,
    pub summary: &'a K6Summary,
    pub timeseries: Option<&'a K6TimeSeries>,
}

/// The merged k6 model.
#[derive(Debug)]
pub struct Merged {
    pub summary: K6Summary,
    pub timeseries: Option<K6TimeSeries>,
    pub warnings: Vec<String>,
}

fn sums_across(metric: &str) -> bool {
    matches!(metric, "vus" | "vus_max")
}

/// One bucket's figures, whatever the type.
#[derive(Debug, Clone, Default)]
struct Cell {
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
    last: f64,
    passes: u64,
    hist: Option<LogHistogram>,
}

impl Cell {
    fn from_stored(s: &StoredSeries, i: usize, acc: f64) -> Cell {
        Cell {
            n: s.n[i],
            sum: s.sum.get(i).copied().unwrap_or(0.0),
            min: s.min.get(i).copied().unwrap_or(0.0),
            max: s.max.get(i).copied().unwrap_or(0.0),
            last: s.last.get(i).copied().unwrap_or(0.0),
            passes: s.passes.get(i).copied().unwrap_or(0),
            hist: s.hist.get(i).and_then(|h| LogHistogram::from_stored(h, acc).ok()),
        }
    }

    /// Adds a cell of the same time from another shard (`add_gauges`: sum the gauge values).
    fn combine(&mut self, o: &Cell, kind: MetricType, add_gauges: bool) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = o.clone();
            return;
        }
        if kind == MetricType::Gauge && add_gauges {
            self.last += o.last;
            self.min += o.min;
            self.max += o.max;
        } else {
            self.min = self.min.min(o.min);
            self.max = self.max.max(o.max);
            self.last = self.last.max(o.last);
        }
        self.n += o.n;
        self.sum += o.sum;
        self.passes += o.passes;
        match (&mut self.hist, &o.hist) {
            (Some(a), Some(b)) => a.merge(b),
            (None, Some(b)) => self.hist = Some(b.clone()),
            _ => {}
        }
    }

    /// Appends a later cell of the same shard (coarsening in time).
    fn append(&mut self, later: &Cell) {
        let last = later.last;
        self.combine(later, MetricType::Trend, false);
        self.last = last;
    }
}

/// What the summary needs of a merged series' buckets.
#[derive(Debug)]
struct Digest {
    min: f64,
    max: f64,
    hist: LogHistogram,
}

impl Digest {
    fn of(cells: &BTreeMap<i64, Cell>, acc: f64) -> Digest {
        let mut hist = LogHistogram::new(acc);
        for c in cells.values() {
            if let Some(h) = &c.hist {
                hist.merge(h);
            }
        }
        Digest {
            min: cells.values().map(|c| c.min).fold(f64::INFINITY, f64::min),
            max: cells.values().map(|c| c.max).fold(f64::NEG_INFINITY, f64::max),
            hist,
        }
    }
}

/// A series re-binned to `width_ms`: absolute bucket index → cell.
fn rebin(ts: &K6TimeSeries, s: &StoredSeries, width_ms: u64) -> BTreeMap<i64, Cell> {
    let mut out: BTreeMap<i64, Cell> = BTreeMap::new();
    for i in 0..s.t.len() {
        let abs_ms = (ts.first_bucket + i64::from(s.t[i])) * ts.bucket_ms as i64;
        let idx = abs_ms.div_euclid(width_ms as i64);
        let c = Cell::from_stored(s, i, ts.relative_accuracy);
        match out.get_mut(&idx) {
            Some(e) => e.append(&c),
            None => {
                out.insert(idx, c);
            }
        }
    }
    out
}

/// The time series on the next width of the ladder, and its histograms' occupied slots.
fn coarsen(ts: &K6TimeSeries) -> (K6TimeSeries, usize) {
    let width = WIDTH_LADDER_MS.iter().copied().find(|w| *w > ts.bucket_ms).unwrap_or(ts.bucket_ms * 2);
    let lo = (ts.first_bucket * ts.bucket_ms as i64).div_euclid(width as i64);
    let hi = ((ts.first_bucket + ts.buckets as i64 - 1) * ts.bucket_ms as i64).div_euclid(width as i64);
    let mut slots = 0;
    let series = ts
        .series
        .iter()
        .filter_map(|(key, s)| {
            let cells = rebin(ts, s, width);
            slots += cells.values().map(|c| c.hist.as_ref().map_or(0, LogHistogram::occupied)).sum::<usize>();
            Some((key.clone(), store(s.kind?, &cells, lo)))
        })
        .collect();
    let out = K6TimeSeries {
        bucket_ms: width,
        first_bucket: lo,
        buckets: (hi - lo + 1) as u64,
        relative_accuracy: ts.relative_accuracy,
        series,
    };
    (out, slots)
}

fn store(kind: MetricType, cells: &BTreeMap<i64, Cell>, first: i64) -> StoredSeries {
    let mut s = StoredSeries { kind: Some(kind), ..Default::default() };
    // JSON holds no infinity: a sum that overflowed is kept at the largest finite value.
    let fin = |v: f64| {
        if v.is_finite() {
            v
        } else if v > 0.0 {
            f64::MAX
        } else {
            f64::MIN
        }
    };
    for (idx, c) in cells {
        let c = &Cell { sum: fin(c.sum), min: fin(c.min), max: fin(c.max), last: fin(c.last), ..c.clone() };
        s.t.push((idx - first) as u32);
        s.n.push(c.n);
        match kind {
            MetricType::Counter => s.sum.push(c.sum),
            MetricType::Gauge => {
                s.last.push(c.last);
                s.min.push(c.min);
                s.max.push(c.max);
            }
            MetricType::Rate => s.passes.push(c.passes),
            MetricType::Trend => {
                s.sum.push(c.sum);
                s.min.push(c.min);
                s.max.push(c.max);
                s.hist.push(c.hist.as_ref().map(|h| h.to_stored()).unwrap_or_default());
            }
        }
    }
    s
}

fn check_compatible(shards: &[Shard<'_>]) -> Vec<String> {
    let mut problems = Vec::new();
    let first = &shards[0];
    let decl = |s: &K6Summary| -> BTreeMap<String, (MetricType, Vec<String>)> {
        s.metrics.iter().map(|(k, d)| (k.clone(), (d.kind, d.thresholds.clone()))).collect()
    };
    let d0 = decl(first.summary);
    for s in &shards[1..] {
        let d = decl(s.summary);
        for (k, (t, th)) in &d0 {
            match d.get(k) {
                None => problems.push(format!("{} has no metric {k}, which {} has", s.name, first.name)),
                Some((t2, _)) if t2 != t => problems.push(format!(
                    "metric {k} is a {} in {} but a {} in {}",
                    t.as_str(),
                    first.name,
                    t2.as_str(),
                    s.name
                )),
                Some((_, th2)) if th2 != th => problems
                    .push(format!("metric {k} has thresholds {th:?} in {} but {th2:?} in {}", first.name, s.name)),
                _ => {}
            }
        }
        for k in d.keys().filter(|k| !d0.contains_key(*k)) {
            problems.push(format!("{} has a metric {k} that {} has not", s.name, first.name));
        }
    }
    // Windows must overlap: the shards of one test run at the same time.
    let windows: Vec<(i64, i64, &str)> =
        shards.iter().filter_map(|s| Some((s.summary.start_ns?, s.summary.end_ns?, s.name))).collect();
    for a in &windows {
        for b in &windows {
            if a.1 < b.0 {
                problems.push(format!("{} ended before {} began: not shards of one run", a.2, b.2));
            }
        }
    }
    problems
}

/// Merges shards. Incompatible shards (other metrics or thresholds, windows
/// that do not overlap) are an error, unless `force`, when they are warnings.
pub fn merge(shards: &[Shard<'_>], force: bool) -> Result<Merged, String> {
    merge_within(shards, force, super::AggregatorOptions::default().max_hist_slots)
}

/// [`merge`], with the merged time series' histograms kept to `max_hist_slots`
/// occupied slots (three quarters of it, as one stream's aggregation does) by
/// widening the time buckets.
pub fn merge_within(shards: &[Shard<'_>], force: bool, max_hist_slots: usize) -> Result<Merged, String> {
    if shards.len() < 2 {
        return Err("merging needs at least two shards".into());
    }
    let mut warnings = Vec::new();
    let problems = check_compatible(shards);
    if !problems.is_empty() {
        if !force {
            return Err(format!(
                "the shards do not belong together: {} (use --force to merge anyway)",
                problems.join("; ")
            ));
        }
        warnings.extend(problems.into_iter().map(|p| format!("merged anyway: {p}")));
    }

    // Time series on a common grid.
    let tss: Vec<&K6TimeSeries> = shards.iter().filter_map(|s| s.timeseries).collect();
    let mut timeseries = None;
    // Per merged series, what the summary needs of its buckets.
    let mut digests: BTreeMap<String, Digest> = BTreeMap::new();
    if tss.len() == shards.len() {
        let mut width = tss.iter().map(|t| t.bucket_ms).max().unwrap_or(1000);
        if tss.iter().any(|t| width % t.bucket_ms != 0) {
            return Err("the shards' bucket widths do not divide one another".into());
        }
        let (lo, hi) = loop {
            let (lo, hi) = tss.iter().fold((i64::MAX, i64::MIN), |(lo, hi), t| {
                let (a, b) = t.span_ms();
                (lo.min((a as i64).div_euclid(width as i64)), hi.max(((b as i64) - 1).div_euclid(width as i64)))
            });
            if hi - lo < 2000 {
                break (lo, hi.max(lo));
            }
            width = WIDTH_LADDER_MS.iter().copied().find(|w| *w > width).unwrap_or(width * 2);
        };
        let acc = tss[0].relative_accuracy;
        // One series at a time, so memory holds one series' buckets, not all of them.
        let keys: BTreeSet<&String> = tss.iter().flat_map(|t| t.series.keys()).collect();
        let mut out_series = BTreeMap::new();
        let mut slots = 0usize;
        for key in keys {
            let mut merged: BTreeMap<i64, Cell> = BTreeMap::new();
            let mut kind = None;
            for (si, shard) in shards.iter().enumerate() {
                let Some(ts) = shard.timeseries else { continue };
                let Some(s) = ts.series.get(key) else { continue };
                let Some(k) = s.kind else { continue };
                kind = Some(k);
                let metric =
                    shard.summary.series.get(key).map(|x| x.metric.clone()).unwrap_or_else(|| parse_series_key(key).0);
                let cells = rebin(ts, s, width);
                for (idx, c) in &cells {
                    slots += c.hist.as_ref().map_or(0, LogHistogram::occupied);
                    merged.entry(*idx).or_default().combine(c, k, sums_across(&metric));
                }
                if shard.summary.series.get(key).is_some_and(|x| x.origin == SeriesOrigin::Metric) {
                    out_series.insert(format!("{metric}{{shard:{si}}}"), store(k, &cells, lo));
                }
            }
            let Some(kind) = kind else { continue };
            slots += merged.values().map(|c| c.hist.as_ref().map_or(0, LogHistogram::occupied)).sum::<usize>();
            digests.insert(key.clone(), Digest::of(&merged, acc));
            out_series.insert(key.clone(), store(kind, &merged, lo));
        }
        let mut ts = K6TimeSeries {
            bucket_ms: width,
            first_bucket: lo,
            buckets: (hi - lo + 1) as u64,
            relative_accuracy: acc,
            series: out_series,
        };
        // The merged histograms keep to the budget one stream's aggregation
        // has: wider buckets until they take at most three quarters of it.
        let budget = max_hist_slots.saturating_mul(3) / 4;
        while slots > budget && ts.buckets > 1 {
            (ts, slots) = coarsen(&ts);
        }
        timeseries = Some(ts);
    } else if !tss.is_empty() {
        warnings.push("some shards have no time series: the merged bundle has none".into());
    }

    // Summaries.
    let start_ns = shards.iter().filter_map(|s| s.summary.start_ns).min();
    let end_ns = shards.iter().filter_map(|s| s.summary.end_ns).max();
    let duration_ms = shards
        .iter()
        .filter_map(|s| s.summary.duration_ms)
        .fold(None, |a: Option<f64>, d| Some(a.map_or(d, |x| x.max(d))));
    // The test lasted at least the union of the shards' windows (shards start
    // and stop at slightly different times).
    let union_ms = start_ns.zip(end_ns).map(|(s, e)| (i128::from(e) - i128::from(s)) as f64 / 1e6);
    let duration_ms = match (duration_ms, union_ms) {
        (Some(d), Some(u)) => Some(d.max(u)),
        (d, u) => d.or(u),
    };
    let keys: BTreeSet<&String> = shards.iter().flat_map(|s| s.summary.series.keys()).collect();
    let mut series = BTreeMap::new();
    for key in keys {
        let parts: Vec<&SeriesSummary> = shards.iter().filter_map(|s| s.summary.series.get(key)).collect();
        let Some(first) = parts.first() else { continue };
        let kind = shards.iter().find_map(|s| s.summary.metrics.get(&first.metric)).map(|d| d.kind);
        let Some(kind) = kind else { continue };
        let sum = |k: &str| parts.iter().filter_map(|p| p.values.get(k)).sum::<f64>();
        let mut values = BTreeMap::new();
        let samples: u64 = parts.iter().map(|p| p.samples).sum();
        let digest = digests.get(key);
        match kind {
            MetricType::Counter => {
                values.insert("count".into(), sum("count"));
                if let Some(d) = duration_ms.filter(|d| *d > 0.0) {
                    values.insert("rate".into(), sum("count") / (d / 1000.0));
                }
            }
            MetricType::Rate => {
                let (p, f) = (sum("passes"), sum("fails"));
                values.insert("passes".into(), p);
                values.insert("fails".into(), f);
                if p + f > 0.0 {
                    values.insert("rate".into(), p / (p + f));
                }
            }
            MetricType::Gauge => {
                let vals: Vec<f64> = parts.iter().filter_map(|p| p.values.get("value").copied()).collect();
                let v = if sums_across(&first.metric) {
                    vals.iter().sum()
                } else {
                    vals.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                };
                values.insert("value".into(), v);
                match digest {
                    Some(d) if d.min.is_finite() => {
                        values.insert("min".into(), d.min);
                        values.insert("max".into(), d.max);
                    }
                    _ => {
                        values.insert(
                            "min".into(),
                            parts.iter().filter_map(|p| p.values.get("min").copied()).fold(f64::INFINITY, f64::min),
                        );
                        values.insert(
                            "max".into(),
                            parts.iter().filter_map(|p| p.values.get("max").copied()).fold(f64::NEG_INFINITY, f64::max),
                        );
                    }
                }
            }
            MetricType::Trend => {
                let n = sum("count");
                let total: f64 = parts
                    .iter()
                    .map(|p| {
                        p.values.get("avg").copied().unwrap_or(0.0) * p.values.get("count").copied().unwrap_or(0.0)
                    })
                    .sum();
                let min = parts.iter().filter_map(|p| p.values.get("min").copied()).fold(f64::INFINITY, f64::min);
                let max = parts.iter().filter_map(|p| p.values.get("max").copied()).fold(f64::NEG_INFINITY, f64::max);
                values.insert("count".into(), n);
                if n > 0.0 {
                    values.insert("avg".into(), total / n);
                    values.insert("min".into(), min);
                    values.insert("max".into(), max);
                }
                if let Some(h) = digest.map(|d| &d.hist) {
                    let mut pcts: BTreeMap<String, f64> =
                        SUMMARY_PERCENTILES.iter().map(|(k, p)| (k.to_string(), *p)).collect();
                    for p in &parts {
                        for k in p.values.keys() {
                            if let Some(x) = threshold::percentile_from_key(k) {
                                pcts.insert(k.clone(), x);
                            }
                        }
                    }
                    for (k, p) in pcts {
                        if let Some(x) = h.percentile(p, min, max) {
                            values.insert(k, x);
                        }
                    }
                }
            }
        }
        values.retain(|_, v| v.is_finite());
        series.insert(
            key.clone(),
            SeriesSummary {
                metric: first.metric.clone(),
                tags: first.tags.clone(),
                origin: first.origin,
                samples,
                first_ns: parts.iter().filter_map(|p| p.first_ns).min(),
                last_ns: parts.iter().filter_map(|p| p.last_ns).max(),
                values,
                percentiles: if kind == MetricType::Trend {
                    PercentileSource::Histogram
                } else {
                    PercentileSource::None
                },
                approximate: {
                    let mut a: Vec<String> = parts.iter().flat_map(|p| p.approximate.iter().cloned()).collect();
                    a.sort();
                    a.dedup();
                    a
                },
            },
        );
    }
    // Each shard's own whole-metric figures, as `metric{shard:N}`.
    for (si, shard) in shards.iter().enumerate() {
        for (key, s) in shard.summary.series.iter().filter(|(_, s)| s.origin == SeriesOrigin::Metric) {
            let mut copy = s.clone();
            copy.tags.insert("shard".into(), si.to_string());
            copy.origin = SeriesOrigin::Tag;
            series.insert(format!("{key}{{shard:{si}}}"), copy);
        }
    }

    // Thresholds: every expression any shard carries, evaluated on the merged figures.
    let mut exprs: BTreeSet<(String, String)> = BTreeSet::new();
    for s in shards {
        for t in &s.summary.thresholds {
            exprs.insert((t.metric.clone(), t.expr.clone()));
        }
        for (m, d) in &s.summary.metrics {
            for e in &d.thresholds {
                exprs.insert((m.clone(), e.clone()));
            }
        }
    }
    let thresholds = exprs
        .into_iter()
        .map(|(metric, expr)| {
            let ok = series.get(&metric).and_then(|s: &SeriesSummary| threshold::evaluate(&expr, &s.values));
            Threshold { metric, expr, ok, source: "evaluated".into() }
        })
        .collect();

    // Checks: the same (group, check) add up; the tree is built as for one stream.
    let mut checks: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    fn walk(g: &CheckGroup, out: &mut BTreeMap<(String, String), (u64, u64)>) {
        for c in &g.checks {
            let e = out.entry((g.path.clone(), c.name.clone())).or_default();
            e.0 += c.passes;
            e.1 += c.fails;
        }
        for sub in &g.groups {
            walk(sub, out);
        }
    }
    for s in shards {
        if let Some(g) = &s.summary.checks {
            walk(g, &mut checks);
        }
    }
    let checks = (!checks.is_empty()).then(|| super::aggregate::check_tree(&checks));

    let mut metrics = shards[0].summary.metrics.clone();
    for s in &shards[1..] {
        for (k, d) in &s.summary.metrics {
            metrics.entry(k.clone()).or_insert_with(|| d.clone());
        }
    }
    let mut stats = IngestStats::default();
    for s in shards {
        stats.lines += s.summary.stats.lines;
        stats.points += s.summary.stats.points;
        stats.metric_lines += s.summary.stats.metric_lines;
        stats.bad_lines += s.summary.stats.bad_lines;
        stats.non_finite += s.summary.stats.non_finite;
    }
    Ok(Merged {
        summary: K6Summary {
            points_source: shards[0].summary.points_source.clone(),
            summary_source: None,
            duration_ms,
            duration_source: Some("longest shard".into()),
            start_ns,
            end_ns,
            metrics,
            series,
            thresholds,
            checks,
            reported: None,
            stats,
        },
        timeseries,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k6::{assemble, Aggregator, AggregatorOptions};
    use proptest::prelude::*;

    /// A hand-made point stream (not a tool's output): requests with a
    /// duration and a status tag at `times_ms`.
    fn model(points: &[(i64, f64)]) -> (K6Summary, K6TimeSeries) {
        let mut a = Aggregator::new(AggregatorOptions::default());
        for &(t_ms, v) in points {
            let t = 1_700_000_000_000_000_000 + t_ms * 1_000_000;
            let status = if v > 50.0 { "500" } else { "200" };
            a.add_point("http_reqs", t, 1.0, &[("status", status)]);
            a.add_point("http_req_duration", t, v, &[("status", status)]);
            a.add_point("http_req_failed", t, if v > 50.0 { 1.0 } else { 0.0 }, &[("status", status)]);
        }
        let asm = assemble(Some((a, "k6-json".into())), None);
        (asm.summary, asm.timeseries.expect("a time series"))
    }

    fn merged(parts: &[(K6Summary, K6TimeSeries)], budget: usize, force: bool) -> Merged {
        let names: Vec<String> = (0..parts.len()).map(|i| format!("shard{i}")).collect();
        let shards: Vec<Shard<'_>> =
            parts.iter().zip(&names).map(|((s, t), name)| Shard { name, summary: s, timeseries: Some(t) }).collect();
        merge_within(&shards, force, budget).expect("mergeable")
    }

    fn n_total(ts: &K6TimeSeries, key: &str) -> u64 {
        ts.series[key].n.iter().sum()
    }

    #[test]
    fn merged_histograms_keep_to_the_budget_by_widening_buckets() {
        // 20 s of requests, 10 per 100 ms bucket, values spread over many histogram slots.
        let pts: Vec<(i64, f64)> = (0..2000).map(|i| (i * 10, 1.0 + (i % 97) as f64 * 0.37)).collect();
        let (a, b): (Vec<_>, Vec<_>) = pts.iter().partition(|(t, _)| (t / 10) % 2 == 0);
        let parts = [model(&a), model(&b)];
        assert_eq!(parts[0].1.bucket_ms, 100);
        let roomy = merged(&parts, usize::MAX, false);
        assert_eq!(roomy.timeseries.as_ref().unwrap().bucket_ms, 100);
        let tight = merged(&parts, 2_000, false);
        let ts = tight.timeseries.as_ref().unwrap();
        assert!(ts.bucket_ms > 100, "bucket width {}", ts.bucket_ms);
        let slots: usize = ts
            .series
            .values()
            .flat_map(|s| s.hist.iter())
            .map(|h| LogHistogram::from_stored(h, ts.relative_accuracy).unwrap().occupied())
            .sum();
        assert!(slots <= 1_500 || ts.buckets == 1, "{slots} slots in {} buckets", ts.buckets);
        ts.validate().unwrap();
        // Nothing is lost by widening: every series still holds every sample,
        // and the summary is the same as with room to spare.
        for key in ["http_req_duration", "http_req_duration{status:200}", "http_reqs{shard:1}"] {
            assert_eq!(n_total(ts, key), n_total(roomy.timeseries.as_ref().unwrap(), key), "{key}");
        }
        assert_eq!(tight.summary.series, roomy.summary.series);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Merging the shards of a stream gives the stream's own figures:
        /// counts, sums, min and max exactly, percentiles within 1%.
        #[test]
        fn merging_shards_equals_aggregating_their_union(
            pts in prop::collection::vec((0i64..30_000, 0.01f64..100.0), 2..400),
            cut in prop::collection::vec(0usize..3, 400),
        ) {
            let mut shards: Vec<Vec<(i64, f64)>> = vec![Vec::new(); 3];
            for (i, p) in pts.iter().enumerate() {
                shards[cut[i]].push(*p);
            }
            shards.retain(|s| !s.is_empty());
            prop_assume!(shards.len() >= 2);
            let parts: Vec<_> = shards.iter().map(|s| model(s)).collect();
            // Random cuts can leave one shard's samples all before another's: forced.
            let m = merged(&parts, usize::MAX, true);
            let (whole, _) = model(&pts);
            for (key, w) in &whole.series {
                let got = &m.summary.series.get(key).unwrap_or_else(|| panic!("{key} missing")).values;
                for (stat, want) in &w.values {
                    let g = got[stat];
                    let exact = !(stat.starts_with("p(") || stat == "med" || stat == "rate");
                    let tol = if exact { 1e-9 * want.abs().max(1.0) } else { 0.01 * want.abs() + 1e-12 };
                    prop_assert!((g - want).abs() <= tol, "{key} {stat}: merged {g}, whole {want}");
                }
            }
        }
    }
}
