//! Is a change a regression, an improvement, or within noise? One test per
//! kind of figure, each at the 95% level, each assuming the samples of a run
//! are independent draws (as every k6 summary implicitly does):
//!
//! - **Trend percentiles** (`med`, `p(N)`): distribution-free confidence
//!   intervals of each run's quantile from the binomial law of order
//!   statistics — ranks `n·p ± 1.96·√(n·p·(1−p))` — read from the run's
//!   whole-run histogram. The change counts when the two intervals do not
//!   overlap (a conservative test). Values are read from histogram buckets,
//!   so changes under their resolution (about 1%) never count.
//! - **Trend `avg`**: Welch's z-test, each run's variance estimated from its
//!   histogram.
//! - **Rates** (`rate` of a Rate metric): the two-proportion z-test on passes
//!   and samples.
//! - **Counter rates** (`rate`, and `count` with it): the difference of two
//!   Poisson rates, counts over each run's duration — for counters of events
//!   only: counters of bytes or time (`data_sent`) are sums with no such law,
//!   and are not tested.
//!
//! `min`, `max`, a trend's `count`, a rate's `passes`/`fails` and gauges are
//! reported without a test (a single sample, or the load itself): verdict
//! `same`, `tested: false`.
//!
//! Which direction is worse: a threshold on the metric says it (`p(95)<300`
//! and `rate<0.01` mean lower is better; `rate>0.95` means higher is better);
//! otherwise trends are better lower, `http_req_failed` and
//! `dropped_iterations` lower, other metrics whose name says failure
//! (`fail`, `error`, `err_`, `timeout`, `drop`, `retr`) lower, and every other
//! rate or counter (checks, requests, iterations, data) higher.

use serde::{Deserialize, Serialize};

use crate::histogram::LogHistogram;
use crate::k6::MetricType;

/// What a change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Regression,
    Improvement,
    Same,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regression => "regression",
            Verdict::Improvement => "improvement",
            Verdict::Same => "same",
        }
    }
}

const Z95: f64 = 1.959_963_984_540_054;

/// Which way is worse for a metric.
pub fn higher_is_worse(metric: &str, kind: MetricType, threshold_exprs: &[&str]) -> bool {
    for e in threshold_exprs {
        if let Some(t) = crate::threshold::parse(e) {
            match t.op.as_str() {
                "<" | "<=" => return true,
                ">" | ">=" => return false,
                _ => {}
            }
        }
    }
    let n = metric.to_ascii_lowercase();
    let says_failure = ["fail", "error", "err_", "timeout", "drop", "retr"].iter().any(|w| n.contains(w));
    match kind {
        MetricType::Trend => true,
        MetricType::Gauge => true,
        MetricType::Rate | MetricType::Counter => says_failure,
    }
}

/// A side of a comparison, as the tests need it.
pub struct Side<'a> {
    pub values: &'a std::collections::BTreeMap<String, f64>,
    /// The whole-run histogram of a trend, when the bundle has a time series.
    pub hist: Option<&'a LogHistogram>,
    /// The run's duration, s.
    pub duration_s: Option<f64>,
}

/// The direction a significant change took: `Some(true)` up, `Some(false)`
/// down, `None` not significant or not testable. The second value says whether
/// the figure has a test at all.
pub fn significant(kind: MetricType, key: &str, base: &Side<'_>, cand: &Side<'_>) -> (Option<bool>, bool) {
    let get = |s: &Side<'_>, k: &str| s.values.get(k).copied();
    match (kind, key) {
        (MetricType::Trend, "avg") => {
            let (Some(mb), Some(mc), Some(nb), Some(nc)) =
                (get(base, "avg"), get(cand, "avg"), get(base, "count"), get(cand, "count"))
            else {
                return (None, false);
            };
            let (Some(hb), Some(hc)) = (base.hist, cand.hist) else { return (None, false) };
            if nb < 2.0 || nc < 2.0 {
                return (None, true);
            }
            let se = (variance(hb, mb) / nb + variance(hc, mc) / nc).sqrt();
            (z_direction(mc - mb, se), true)
        }
        (MetricType::Trend, k) if k == "med" || k.starts_with("p(") => {
            let p = if k == "med" { 0.5 } else { crate::threshold::percentile_from_key(k).unwrap_or(0.5) };
            let (Some(hb), Some(hc)) = (base.hist, cand.hist) else { return (None, false) };
            let (Some(b), Some(c)) = (quantile_interval(hb, p), quantile_interval(hc, p)) else { return (None, true) };
            if c.0 > b.1 {
                (Some(true), true)
            } else if c.1 < b.0 {
                (Some(false), true)
            } else {
                (None, true)
            }
        }
        (MetricType::Rate, "rate") => {
            let n = |s: &Side<'_>| get(s, "passes").zip(get(s, "fails")).map(|(p, f)| (p, p + f));
            let (Some((pb, nb)), Some((pc, nc))) = (n(base), n(cand)) else { return (None, false) };
            if nb == 0.0 || nc == 0.0 {
                return (None, true);
            }
            let pool = (pb + pc) / (nb + nc);
            let se = (pool * (1.0 - pool) * (1.0 / nb + 1.0 / nc)).sqrt();
            (z_direction(pc / nc - pb / nb, se), true)
        }
        (MetricType::Counter, "rate" | "count") => {
            let (Some(cb), Some(cc), Some(tb), Some(tc)) =
                (get(base, "count"), get(cand, "count"), base.duration_s, cand.duration_s)
            else {
                return (None, false);
            };
            if tb <= 0.0 || tc <= 0.0 {
                return (None, true);
            }
            let se = (cb / (tb * tb) + cc / (tc * tc)).sqrt();
            (z_direction(cc / tc - cb / tb, se), true)
        }
        _ => (None, false),
    }
}

/// The verdict of a change, given its direction and which way is worse.
pub fn classify(direction: Option<bool>, higher_worse: bool) -> Verdict {
    match direction {
        None => Verdict::Same,
        Some(up) if up == higher_worse => Verdict::Regression,
        Some(_) => Verdict::Improvement,
    }
}

/// The two-sided p-value of a standard normal statistic `z`.
pub fn two_sided_p(z: f64) -> f64 {
    if !z.is_finite() {
        return if z.is_nan() { 1.0 } else { 0.0 };
    }
    erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// The complementary error function (Numerical Recipes' `erfcc`: fractional
/// error under 1.2e-7 everywhere).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// A p-value as a report prints it: two significant digits, `< 0.0001` below that.
pub fn format_p(p: f64) -> String {
    if p < 1e-4 {
        "< 0.0001".into()
    } else if p >= 0.01 {
        format!("{p:.2}")
    } else {
        format!("{p:.1e}").replace("e-", "e−")
    }
}

fn z_direction(diff: f64, se: f64) -> Option<bool> {
    if !diff.is_finite() || diff == 0.0 {
        return None;
    }
    if se <= 0.0 || !se.is_finite() {
        // No spread at all: any difference is real.
        return Some(diff > 0.0);
    }
    (diff.abs() / se > Z95).then_some(diff > 0.0)
}

/// Variance of the histogram's values around `mean`.
fn variance(h: &LogHistogram, mean: f64) -> f64 {
    let n = h.count();
    if n < 2 {
        return 0.0;
    }
    let ss: f64 = h.values().iter().map(|(v, c)| (v - mean) * (v - mean) * *c as f64).sum();
    ss / (n - 1) as f64
}

/// The 95% confidence interval of the `p` quantile: the values at the order
/// statistics `n·p ± z·√(n·p·(1−p))`.
fn quantile_interval(h: &LogHistogram, p: f64) -> Option<(f64, f64)> {
    let n = h.count();
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    let half = Z95 * (nf * p * (1.0 - p)).sqrt();
    let lo = (nf * p - half).floor().max(0.0) as u64;
    let hi = ((nf * p + half).ceil() as u64).min(n - 1);
    Some((h.value_at_rank(lo.min(n - 1))?, h.value_at_rank(hi)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn hist(vals: impl Iterator<Item = f64>) -> LogHistogram {
        let mut h = LogHistogram::new(0.005);
        for v in vals {
            h.add(v);
        }
        h
    }

    #[test]
    fn a_shifted_distribution_is_significant_and_the_same_one_is_not() {
        // Two hand-made samples of the same uniform spread, one shifted by 20%.
        let a = hist((0..5000).map(|i| 10.0 + (i % 100) as f64 * 0.1));
        let a2 = hist((0..5000).map(|i| 10.0 + ((i + 37) % 100) as f64 * 0.1));
        let b = hist((0..5000).map(|i| 12.0 + (i % 100) as f64 * 0.12));
        let v = BTreeMap::new();
        let side = |h| Side { values: &v, hist: Some(h), duration_s: None };
        assert_eq!(significant(MetricType::Trend, "p(95)", &side(&a), &side(&b)), (Some(true), true));
        assert_eq!(significant(MetricType::Trend, "p(95)", &side(&b), &side(&a)), (Some(false), true));
        assert_eq!(significant(MetricType::Trend, "p(95)", &side(&a), &side(&a2)), (None, true));
        assert_eq!(significant(MetricType::Trend, "max", &side(&a), &side(&b)), (None, false));
    }

    #[test]
    fn rates_use_their_counts() {
        let base: BTreeMap<String, f64> = [("passes".into(), 10.0), ("fails".into(), 990.0)].into();
        let worse: BTreeMap<String, f64> = [("passes".into(), 40.0), ("fails".into(), 960.0)].into();
        let close: BTreeMap<String, f64> = [("passes".into(), 12.0), ("fails".into(), 988.0)].into();
        let s = |v| Side { values: v, hist: None, duration_s: None };
        assert_eq!(significant(MetricType::Rate, "rate", &s(&base), &s(&worse)), (Some(true), true));
        assert_eq!(significant(MetricType::Rate, "rate", &s(&base), &s(&close)), (None, true));
        assert!(higher_is_worse("http_req_failed", MetricType::Rate, &[]));
        assert!(!higher_is_worse("checks", MetricType::Rate, &[]));
        assert!(higher_is_worse("my_rate", MetricType::Rate, &["rate<0.1"]));
        assert!(!higher_is_worse("ok_share", MetricType::Rate, &["rate>0.9"]));
        assert_eq!(classify(Some(true), true), Verdict::Regression);
        assert_eq!(classify(Some(true), false), Verdict::Improvement);
        assert_eq!(classify(None, true), Verdict::Same);
    }

    #[test]
    fn normal_p_values() {
        assert!((two_sided_p(1.959_963_984_540_054) - 0.05).abs() < 1e-6);
        assert!((two_sided_p(-2.575_829_303_549) - 0.01).abs() < 1e-6);
        assert!((two_sided_p(0.0) - 1.0).abs() < 1e-6);
        assert_eq!(format_p(0.0312), "0.03");
        assert_eq!(format_p(0.00042), "4.2e−4");
        assert_eq!(format_p(1e-9), "< 0.0001");
    }

    #[test]
    fn counter_rates_compare_as_poisson_rates() {
        let a: BTreeMap<String, f64> = [("count".into(), 10_000.0)].into();
        let b: BTreeMap<String, f64> = [("count".into(), 10_100.0)].into();
        let c: BTreeMap<String, f64> = [("count".into(), 12_000.0)].into();
        let s = |v| Side { values: v, hist: None, duration_s: Some(30.0) };
        assert_eq!(significant(MetricType::Counter, "rate", &s(&a), &s(&b)), (None, true));
        assert_eq!(significant(MetricType::Counter, "rate", &s(&a), &s(&c)), (Some(true), true));
    }
}
