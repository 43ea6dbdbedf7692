//! Endpoints on both sides of a comparison, each with a tested verdict:
//! did this endpoint get slower, or fail more often?
//!
//! - **Latency**: the Mann–Whitney U test of the two runs' whole
//!   `http_req_duration{name:…}` distributions (read from their histograms;
//!   values in one bucket count as ties), two-sided at the 95% level. A shift
//!   it finds counts only when the median or p(95) also moved at least
//!   [`MIN_EFFECT`] (5%) the same way, so a large run does not flag a shift
//!   nobody would notice. Without histograms (a bundle of k6's summary
//!   alone) latency is not tested.
//! - **Failures**: the two-proportion z-test on failed requests over
//!   requests, at the 95% level.
//!
//! An endpoint is a `regression` when either got worse, an `improvement`
//! when one got better and neither worse, `unchanged` otherwise; `new` and
//! `gone` when only one side has it. Regressions come first, the largest
//! change first.

use serde::{Deserialize, Serialize};

use super::verdict;
use crate::bundle::Bundle;
use crate::histogram::LogHistogram;
use crate::k6::endpoints::{self, Endpoint};

/// The smallest relative move of the median or p(95) that a significant shift must also show.
pub const MIN_EFFECT: f64 = 0.05;

/// What happened to an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointVerdict {
    Regression,
    Improvement,
    New,
    Gone,
    Unchanged,
}

impl EndpointVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointVerdict::Regression => "regression",
            EndpointVerdict::Improvement => "improvement",
            EndpointVerdict::New => "new",
            EndpointVerdict::Gone => "gone",
            EndpointVerdict::Unchanged => "unchanged",
        }
    }
}

/// One endpoint's figures as the JSON of `diff` carries them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointSide {
    pub requests: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub med_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
}

impl From<&Endpoint> for EndpointSide {
    fn from(e: &Endpoint) -> Self {
        EndpointSide { requests: e.requests, failed: e.failed, med_ms: e.med_ms, p95_ms: e.p95_ms, p99_ms: e.p99_ms }
    }
}

/// An endpoint on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointDiff {
    /// The `name` tag's value.
    pub name: String,
    pub base: Option<EndpointSide>,
    pub candidate: Option<EndpointSide>,
    pub verdict: EndpointVerdict,
    /// The latency test: the two-sided p-value of Mann–Whitney's U (`null`: not tested).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p: Option<f64>,
    /// The failure test: the two-sided p-value of the two-proportion z-test (`null`: not tested).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures_p: Option<f64>,
    /// Why, in words: `p(95) 49.8 ms → 87.9 ms, median 41 ms → 57 ms (Mann–Whitney p = 0.0004)`.
    pub why: String,
}

impl EndpointDiff {
    /// The relative change of p(95) (or the median), for ordering.
    fn size(&self) -> f64 {
        let rel = |f: fn(&EndpointSide) -> Option<f64>| {
            let (b, c) = (f(self.base.as_ref()?)?, f(self.candidate.as_ref()?)?);
            (b > 0.0).then(|| ((c - b) / b).abs())
        };
        rel(|s| s.p95_ms).or_else(|| rel(|s| s.med_ms)).unwrap_or(0.0)
    }
}

/// The Mann–Whitney U test of `b` against `c` from their histograms (values
/// in one bucket are ties): `(z, two-sided p)`, `z > 0` when `c`'s values
/// are larger. `None` when either is empty.
pub fn mann_whitney(b: &LogHistogram, c: &LogHistogram) -> Option<(f64, f64)> {
    let (n1, n2) = (b.count() as f64, c.count() as f64);
    if n1 == 0.0 || n2 == 0.0 {
        return None;
    }
    let (vb, vc) = (b.values(), c.values());
    let (mut i, mut j) = (0, 0);
    // U of the candidate: for each candidate value, the base values below it, plus half the ties.
    let (mut u, mut below, mut ties) = (0.0f64, 0.0f64, 0.0f64);
    while i < vb.len() || j < vc.len() {
        let x = match (vb.get(i), vc.get(j)) {
            (Some(a), Some(z)) => a.0.min(z.0),
            (Some(a), None) => a.0,
            (None, Some(z)) => z.0,
            (None, None) => break,
        };
        let nb = if vb.get(i).is_some_and(|a| a.0 == x) {
            i += 1;
            vb[i - 1].1 as f64
        } else {
            0.0
        };
        let nc = if vc.get(j).is_some_and(|z| z.0 == x) {
            j += 1;
            vc[j - 1].1 as f64
        } else {
            0.0
        };
        u += nc * (below + nb / 2.0);
        below += nb;
        let t = nb + nc;
        ties += t * t * t - t;
    }
    let n = n1 + n2;
    let var = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)).max(1.0));
    if var <= 0.0 {
        return Some((0.0, 1.0));
    }
    let z = (u - n1 * n2 / 2.0) / var.sqrt();
    Some((z, verdict::two_sided_p(z)))
}

/// The two-proportion z-test of failures over requests: `(z, two-sided p)`, `z > 0` when the candidate fails more often.
fn failures_test(b: &EndpointSide, c: &EndpointSide) -> Option<(f64, f64)> {
    let (fb, fc) = (b.failed? as f64, c.failed? as f64);
    let (nb, nc) = (b.requests as f64, c.requests as f64);
    if nb == 0.0 || nc == 0.0 {
        return None;
    }
    let pool = (fb + fc) / (nb + nc);
    let se = (pool * (1.0 - pool) * (1.0 / nb + 1.0 / nc)).sqrt();
    if se == 0.0 {
        return Some((0.0, 1.0));
    }
    let z = (fc / nc - fb / nb) / se;
    Some((z, verdict::two_sided_p(z)))
}

fn ms(v: Option<f64>) -> String {
    v.map(crate::k6::text::format_ms).unwrap_or_else(|| "—".into())
}

/// Each endpoint of either run, with its verdict, regressions first.
pub fn endpoint_diffs(base: &Bundle, cand: &Bundle) -> Vec<EndpointDiff> {
    let (Some(bs), Some(cs)) = (base.k6_summary.as_ref(), cand.k6_summary.as_ref()) else { return Vec::new() };
    let mut names = endpoints::names(bs);
    names.extend(endpoints::names(cs));
    names.sort();
    names.dedup();
    let key = |n: &str| endpoints::series_key("http_req_duration", n);
    let hist = |b: &Bundle, n: &str| b.k6_timeseries.as_ref().and_then(|t| t.whole_histogram(&key(n)));
    let mut out: Vec<EndpointDiff> = names
        .into_iter()
        .map(|name| {
            let side = |s, b: &Bundle| {
                let e = endpoints::endpoint(s, &name);
                let has = e.requests > 0 || b.k6_summary.as_ref().is_some_and(|s| s.series.contains_key(&key(&name)));
                has.then(|| EndpointSide::from(&e))
            };
            let (b, c) = (side(bs, base), side(cs, cand));
            let (b, c) = match (b, c) {
                (Some(b), Some(c)) => (b, c),
                (b, c) => {
                    let verdict = if b.is_none() { EndpointVerdict::New } else { EndpointVerdict::Gone };
                    let s = b.as_ref().or(c.as_ref());
                    let why = match s {
                        Some(s) => format!(
                            "{} in the {} only ({} requests, p(95) {})",
                            if verdict == EndpointVerdict::New { "new" } else { "gone" },
                            if verdict == EndpointVerdict::New { "candidate" } else { "base" },
                            crate::format::group(s.requests),
                            ms(s.p95_ms)
                        ),
                        None => String::new(),
                    };
                    return EndpointDiff {
                        name,
                        base: b,
                        candidate: c,
                        verdict,
                        latency_p: None,
                        failures_p: None,
                        why,
                    };
                }
            };
            // Latency: a significant shift that the median or p(95) shows too.
            let shift = match (hist(base, &name), hist(cand, &name)) {
                (Some(hb), Some(hc)) => mann_whitney(&hb, &hc),
                _ => None,
            };
            let moved = |up: bool| {
                [(b.med_ms, c.med_ms), (b.p95_ms, c.p95_ms)].iter().any(|(x, y)| match (x, y) {
                    (Some(x), Some(y)) if *x > 0.0 => {
                        let r = (y - x) / x;
                        if up {
                            r >= MIN_EFFECT
                        } else {
                            r <= -MIN_EFFECT
                        }
                    }
                    _ => false,
                })
            };
            let latency = shift.and_then(|(z, p)| (p < 0.05 && moved(z > 0.0)).then_some(z > 0.0));
            let failures = failures_test(&b, &c);
            let failed_more = failures.and_then(|(z, p)| (p < 0.05).then_some(z > 0.0));
            let verdict = if latency == Some(true) || failed_more == Some(true) {
                EndpointVerdict::Regression
            } else if latency == Some(false) || failed_more == Some(false) {
                EndpointVerdict::Improvement
            } else {
                EndpointVerdict::Unchanged
            };
            let mut why =
                format!("p(95) {} → {}, median {} → {}", ms(b.p95_ms), ms(c.p95_ms), ms(b.med_ms), ms(c.med_ms));
            match shift {
                Some((_, p)) => why.push_str(&format!(" (Mann–Whitney p = {})", verdict::format_p(p))),
                None => why.push_str(" (latency not tested: no histograms)"),
            }
            if let (Some(fb), Some(fc)) = (b.failed, c.failed) {
                why.push_str(&format!(
                    "; failed {} → {}",
                    crate::format::share(fb, b.requests),
                    crate::format::share(fc, c.requests)
                ));
                if let Some((_, p)) = failures {
                    why.push_str(&format!(" (p = {})", verdict::format_p(p)));
                }
            }
            EndpointDiff {
                name,
                base: Some(b),
                candidate: Some(c),
                verdict,
                latency_p: shift.map(|s| s.1),
                failures_p: failures.map(|f| f.1),
                why,
            }
        })
        .collect();
    out.sort_by(|a, b| a.verdict.cmp(&b.verdict).then_with(|| b.size().total_cmp(&a.size())).then(a.name.cmp(&b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(vals: impl Iterator<Item = f64>) -> LogHistogram {
        let mut h = LogHistogram::new(0.005);
        for v in vals {
            h.add(v);
        }
        h
    }

    #[test]
    fn mann_whitney_finds_a_shift_of_38_requests_and_not_a_reshuffle() {
        // Hand-made: 38 values around 41 ms against 38 around 57 ms (the size of the regressed endpoint).
        let a = hist((0..38).map(|i| 35.0 + (i * 7 % 13) as f64));
        let b = hist((0..38).map(|i| 50.0 + (i * 5 % 15) as f64));
        let a2 = hist((0..38).map(|i| 35.0 + ((i * 7 + 3) % 13) as f64));
        let (z, p) = mann_whitney(&a, &b).unwrap();
        assert!(z > 0.0 && p < 0.001, "z {z} p {p}");
        let (z, p) = mann_whitney(&b, &a).unwrap();
        assert!(z < 0.0 && p < 0.001);
        let (_, p) = mann_whitney(&a, &a2).unwrap();
        assert!(p > 0.5, "p {p}");
        // All ties: no evidence.
        let c = hist((0..10).map(|_| 5.0));
        assert_eq!(mann_whitney(&c, &c).unwrap().1, 1.0);
        assert!(mann_whitney(&c, &LogHistogram::new(0.005)).is_none());
    }

    #[test]
    fn mann_whitney_u_equals_the_pairwise_count() {
        // U counts, over every (base, candidate) pair, 1 when the candidate is larger and ½ on a tie.
        let bv = [1.0, 2.0, 2.0, 5.0, 9.0];
        let cv = [2.0, 3.0, 8.0, 9.0];
        let mut u = 0.0;
        for x in bv {
            for y in cv {
                u += if y > x {
                    1.0
                } else if y == x {
                    0.5
                } else {
                    0.0
                };
            }
        }
        let (z, _) = mann_whitney(&hist(bv.into_iter()), &hist(cv.into_iter())).unwrap();
        let (n1, n2, n) = (5.0f64, 4.0f64, 9.0f64);
        // ties: 2 (×3), 9 (×2)
        let ties = (27.0 - 3.0) + (8.0 - 2.0);
        let sd = (n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)))).sqrt();
        assert!((z - (u - n1 * n2 / 2.0) / sd).abs() < 1e-12);
    }
}
