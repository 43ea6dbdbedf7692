//! What charts and range summaries read from the stored time series: one
//! value per bucket for a chart line, and k6's summary keys for any time
//! range, from the mergeable histograms. Shared by the viewer and the exports.

use std::collections::BTreeMap;

use super::cells::{merged, summary_percentiles, CounterCell, GaugeCell, RateCell, TrendCell};
use super::model::{K6TimeSeries, MetricType, StoredSeries};
use crate::histogram::LogHistogram;

/// One chart point: bucket start (Unix ms) and value.
pub type ChartPoint = (f64, f64);

/// How to turn a series' buckets into one line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Line {
    /// Counter: sum per second.
    PerSecond,
    /// Counter: sum per bucket.
    Sum,
    /// Gauge: the last value in the bucket.
    Last,
    /// Gauge: the largest value in the bucket.
    Max,
    /// Rate: share of non-zero samples (0..1).
    Ratio,
    /// Trend: mean.
    Mean,
    /// Trend: a percentile (0..1) from the bucket's histogram.
    Percentile(f64),
}

impl K6TimeSeries {
    /// Start of the bucket at offset `t` from the grid's first bucket, Unix ms.
    pub fn bucket_start_ms(&self, t: u32) -> f64 {
        (self.first_bucket + i64::from(t)) as f64 * self.bucket_ms as f64
    }

    /// The grid's span, Unix ms: start of the first bucket to end of the last.
    pub fn span_ms(&self) -> (f64, f64) {
        let start = self.first_bucket as f64 * self.bucket_ms as f64;
        (start, start + self.buckets as f64 * self.bucket_ms as f64)
    }

    /// One value per bin of `bin_ms` (a multiple of `bucket_ms`; smaller
    /// means one bin per bucket) over the occupied buckets of `key`: buckets
    /// are merged as they merge anywhere (sums add, histograms merge).
    pub fn line_binned(&self, key: &str, line: Line, bin_ms: u64) -> Vec<ChartPoint> {
        let ratio = (bin_ms / self.bucket_ms).max(1) as i64;
        if ratio == 1 {
            return self.line(key, line);
        }
        let Some(s) = self.series.get(key) else { return Vec::new() };
        let mut out = Vec::new();
        let mut i = 0;
        while i < s.t.len() {
            let bin = (self.first_bucket + i64::from(s.t[i])).div_euclid(ratio);
            let mut j = i;
            while j < s.t.len() && (self.first_bucket + i64::from(s.t[j])).div_euclid(ratio) == bin {
                j += 1;
            }
            let start = (bin * ratio) as f64 * self.bucket_ms as f64;
            let mut sub = StoredSeries { kind: s.kind, ..Default::default() };
            for k in i..j {
                sub.t.push(0);
                sub.n.push(s.n[k]);
                for (dst, src) in
                    [(&mut sub.sum, &s.sum), (&mut sub.min, &s.min), (&mut sub.max, &s.max), (&mut sub.last, &s.last)]
                {
                    if let Some(v) = src.get(k) {
                        dst.push(*v);
                    }
                }
                if let Some(p) = s.passes.get(k) {
                    sub.passes.push(*p);
                }
                if let Some(h) = s.hist.get(k) {
                    sub.hist.push(h.clone());
                }
            }
            let secs = (ratio as f64 * self.bucket_ms as f64) / 1000.0;
            let n: u64 = sub.n.iter().sum();
            let v = match line {
                Line::PerSecond => Some(sub.sum.iter().sum::<f64>() / secs),
                Line::Sum => Some(sub.sum.iter().sum()),
                Line::Last => sub.last.last().copied(),
                Line::Max => sub.max.iter().copied().reduce(f64::max),
                Line::Ratio => Some(sub.passes.iter().sum::<u64>() as f64 / n.max(1) as f64),
                Line::Mean => Some(sub.sum.iter().sum::<f64>() / n.max(1) as f64),
                Line::Percentile(p) => {
                    let mut h = LogHistogram::new(self.relative_accuracy);
                    for x in &sub.hist {
                        if let Ok(b) = LogHistogram::from_stored(x, self.relative_accuracy) {
                            h.merge(&b);
                        }
                    }
                    let lo = sub.min.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = sub.max.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    h.percentile(p, lo, hi)
                }
            };
            if let Some(v) = v {
                out.push((start, v));
            }
            i = j;
        }
        out
    }

    /// A bin width for charts of a `span_ms` domain: a multiple of the
    /// bucket width, at least 1 s, about `points` bins.
    pub fn chart_bin_ms(&self, span_ms: f64, points: u32) -> u64 {
        let want = (span_ms / f64::from(points.max(1))).max(1000.0);
        let k = (want / self.bucket_ms as f64).ceil().max(1.0) as u64;
        k * self.bucket_ms
    }

    /// One value per occupied bucket of `key`, as `line` says.
    pub fn line(&self, key: &str, line: Line) -> Vec<ChartPoint> {
        let Some(s) = self.series.get(key) else { return Vec::new() };
        let secs = self.bucket_ms as f64 / 1000.0;
        let mut out = Vec::with_capacity(s.t.len());
        for (i, &t) in s.t.iter().enumerate() {
            let v = match line {
                Line::PerSecond => s.sum.get(i).map(|x| x / secs),
                Line::Sum => s.sum.get(i).copied(),
                Line::Last => s.last.get(i).copied(),
                Line::Max => s.max.get(i).copied(),
                Line::Ratio => s.passes.get(i).map(|p| *p as f64 / s.n[i].max(1) as f64),
                Line::Mean => s.sum.get(i).map(|x| x / s.n[i].max(1) as f64),
                Line::Percentile(p) => s.hist.get(i).and_then(|h| {
                    let hist = LogHistogram::from_stored(h, self.relative_accuracy).ok()?;
                    hist.percentile(p, s.min[i], s.max[i])
                }),
            };
            if let Some(v) = v {
                out.push((self.bucket_start_ms(t), v));
            }
        }
        out
    }

    /// The histogram of every value of trend `key` over the whole run.
    pub fn whole_histogram(&self, key: &str) -> Option<LogHistogram> {
        let s = self.series.get(key)?;
        if s.hist.is_empty() {
            return None;
        }
        let mut h = LogHistogram::new(self.relative_accuracy);
        for x in &s.hist {
            h.merge(&LogHistogram::from_stored(x, self.relative_accuracy).ok()?);
        }
        Some(h)
    }

    /// k6's summary keys of `key` over the buckets that start in
    /// `[from_ms, to_ms)`: `count`/`rate` (counter, per second of the range),
    /// `rate`/`passes`/`fails`, `value`/`min`/`max` (gauge), and
    /// `count`/`avg`/`min`/`med`/`max`/`p(90)`/`p(95)`/`p(99)` (trend with
    /// samples in the range, the percentiles from the merged histograms).
    pub fn range_values(&self, key: &str, from_ms: f64, to_ms: f64) -> BTreeMap<String, f64> {
        let Some(s) = self.series.get(key) else { return BTreeMap::new() };
        let idx = (0..s.t.len()).filter(|&i| {
            let t = self.bucket_start_ms(s.t[i]);
            t >= from_ms && t < to_ms
        });
        let acc = self.relative_accuracy;
        match s.kind {
            Some(MetricType::Counter) => {
                let range_ms = (to_ms - from_ms).max(self.bucket_ms as f64);
                merged::<CounterCell>(s, idx, acc).finish(Some(range_ms))
            }
            Some(MetricType::Rate) => merged::<RateCell>(s, idx, acc).finish(),
            Some(MetricType::Gauge) => merged::<GaugeCell>(s, idx, acc).finish(),
            Some(MetricType::Trend) => {
                let whole = merged::<TrendCell>(s, idx, acc);
                if whole.n == 0 {
                    return BTreeMap::new();
                }
                whole.finish(summary_percentiles(), None).0
            }
            None => BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k6::{Aggregator, AggregatorOptions};

    #[test]
    fn lines_and_ranges_agree_with_the_whole_run() {
        let mut a = Aggregator::new(AggregatorOptions::default());
        for i in 0..100i64 {
            let t = 1_000_000_000_000 + i * 50_000_000; // 20 per second for 5 s
            a.add_point("http_reqs", t, 1.0, &[]);
            a.add_point("http_req_duration", t, (i % 10) as f64 + 1.0, &[]);
            a.add_point("http_req_failed", t, if i % 4 == 0 { 1.0 } else { 0.0 }, &[]);
            a.add_point("vus", t, (i / 20) as f64, &[]);
        }
        let out = a.finish(None);
        let ts = &out.timeseries;
        let rate = ts.line("http_reqs", Line::PerSecond);
        assert!(rate.iter().all(|(_, v)| (*v - 20.0).abs() < 1e-9), "{rate:?}");
        let (from, to) = ts.span_ms();
        let all = ts.range_values("http_req_duration", from, to);
        let whole = &out.series["http_req_duration"].values;
        assert_eq!(all["count"], 100.0);
        assert!((all["avg"] - whole["avg"]).abs() < 1e-9);
        assert_eq!(all["max"], whole["max"]);
        assert!((all["med"] - whole["med"]).abs() <= 0.01 * whole["med"]);
        let f = ts.range_values("http_req_failed", from, to);
        assert_eq!((f["passes"], f["fails"]), (25.0, 75.0));
        // The first second only.
        let first = ts.range_values("http_reqs", from, from + 1000.0);
        assert_eq!(first["count"], 20.0);
        assert_eq!(ts.range_values("vus", from, from + 1000.0)["max"], 0.0);
        assert_eq!(ts.line("vus", Line::Last).last().map(|p| p.1), Some(4.0));
        // Binned by the second: 20 requests each, and the same p50 merged as over the whole run.
        let bin = ts.chart_bin_ms(5000.0, 100);
        assert_eq!(bin, 1000);
        let per_s = ts.line_binned("http_reqs", Line::PerSecond, bin);
        assert_eq!(per_s.len(), 5);
        assert!(per_s.iter().all(|(_, v)| (*v - 20.0).abs() < 1e-9));
        let sum: f64 = ts.line_binned("http_reqs", Line::Sum, 5000).iter().map(|p| p.1).sum();
        assert_eq!(sum, 100.0);
    }
}
