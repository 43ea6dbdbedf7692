//! Raw samples turned into the samples the JSON stream would hold, for the
//! [`Aggregator`]: counters' increases, gauges' values, rates' new passes
//! and fails, native histograms' new observations.

use std::collections::BTreeMap;

use super::{ns, RawSeries};
use crate::k6::Aggregator;

/// A series' labels as sample tags. Prometheus drops empty labels, so the
/// root group's `group=""` is put back where there is a `scenario` (as for InfluxDB).
fn tags(labels: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    let mut t: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if labels.contains_key("scenario") && !labels.contains_key("group") {
        t.push(("group", ""));
    }
    t
}

/// Feeds a counter's series: each push's increase.
pub fn feed_counter(agg: &mut Aggregator, metric: &str, series: &[RawSeries]) -> u64 {
    let mut n = 0u64;
    for s in series {
        let t = tags(&s.labels);
        let mut prev = 0.0;
        for &(time, v) in &s.samples {
            let d = v - prev;
            prev = v;
            if d > 0.0 {
                agg.add_point(metric, ns(time), d, &t);
                n += 1;
            }
        }
    }
    n
}

/// Feeds a gauge's series: each pushed value.
pub fn feed_gauge(agg: &mut Aggregator, metric: &str, series: &[RawSeries]) -> u64 {
    let mut n = 0u64;
    for s in series {
        let t = tags(&s.labels);
        for &(time, v) in &s.samples {
            agg.add_point(metric, ns(time), v, &t);
            n += 1;
        }
    }
    n
}

/// Feeds a rate whose samples a counter with the same labels counts: each
/// push's new passes (1) and fails (0). Returns the label sets it could not
/// weigh (no counter series with their labels).
pub fn feed_weighted_rate(
    agg: &mut Aggregator,
    metric: &str,
    series: &[RawSeries],
    weights: &[RawSeries],
) -> Vec<RawSeries> {
    let mut left = Vec::new();
    for s in series {
        let Some(w) = weights.iter().find(|w| w.labels == s.labels) else {
            left.push(s.clone());
            continue;
        };
        let t = tags(&s.labels);
        let (mut prev_n, mut prev_p) = (0u64, 0u64);
        for &(time, ratio) in &s.samples {
            // The counter's cumulative count at this push (its last sample at or before it).
            let Some(n) = w.samples.iter().rev().find(|(wt, _)| *wt <= time + 1e-3).map(|x| x.1.round() as u64) else {
                continue;
            };
            let passes = (ratio * n as f64).round() as u64;
            if n < prev_n || passes < prev_p {
                continue;
            }
            let (dn, dp) = (n - prev_n, passes - prev_p);
            for i in 0..dn {
                agg.add_point(metric, ns(time), if i < dp { 1.0 } else { 0.0 }, &t);
            }
            prev_n = n;
            prev_p = passes;
        }
    }
    left
}

/// The most new observations one bucket adds in one push.
const MAX_NEW_OBSERVATIONS: u64 = 1 << 32;

/// Feeds a native-histogram trend: each push's new observations at their
/// buckets' geometric middles (× 1000 for `_seconds`: the model's ms).
pub fn feed_histogram(agg: &mut Aggregator, metric: &str, time: bool, series: &[RawSeries]) -> u64 {
    let scale = if time { 1000.0 } else { 1.0 };
    let mut n = 0u64;
    for s in series {
        let t = tags(&s.labels);
        let mut prev: BTreeMap<(u64, u64), f64> = BTreeMap::new();
        for (time_s, h) in &s.histograms {
            let mut now: BTreeMap<(u64, u64), f64> = BTreeMap::new();
            for &(lo, hi, c) in &h.buckets {
                *now.entry((lo.to_bits(), hi.to_bits())).or_default() += c;
            }
            for (&(lo, hi), &c) in &now {
                let d = (c - prev.get(&(lo, hi)).copied().unwrap_or(0.0)).round();
                if d <= 0.0 {
                    continue;
                }
                let (lo, hi) = (f64::from_bits(lo), f64::from_bits(hi));
                let mid = if lo > 0.0 && hi > 0.0 {
                    (lo * hi).sqrt()
                } else if lo < 0.0 && hi < 0.0 {
                    -(lo * hi).sqrt()
                } else {
                    0.0
                };
                // Every new observation of the bucket, at its middle, in one step
                // (a count is a float from the server: however large, no loop;
                // bounded, since no k6 run makes 2^32 requests in one push).
                let k = (d as u64).min(MAX_NEW_OBSERVATIONS);
                agg.add_points(metric, ns(*time_s), mid * scale, &t, k);
                n = n.saturating_add(k);
            }
            prev = now;
        }
    }
    n
}
