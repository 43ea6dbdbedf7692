//! Comparing two bundles (a base and a candidate): every k6 figure on both
//! sides with its change and a verdict ([`verdict`]), thresholds on each
//! side, CI gates ([`gate`]), and paired profiles ([`profiles`]). The CLI's
//! `diff` (table, JSON, Markdown) and the viewer's compare view all read
//! this one structure. FORMAT.md §12 documents its JSON.

pub mod endpoints;
pub mod gate;
pub mod profiles;
pub mod relation;
pub mod text;
pub mod verdict;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::bundle::Bundle;
use crate::k6::text::format_stat;
use crate::k6::{K6Summary, K6TimeSeries, MetricType, SeriesOrigin};
use crate::profile::FrameMatch;
pub use verdict::Verdict;

/// Why two bundles cannot be compared as asked.
#[derive(Debug, Error, PartialEq)]
pub enum CompareError {
    #[error("nothing to compare: the two bundles have no k6 metric and no profile in common (base: {base}; candidate: {candidate})")]
    NothingInCommon { base: String, candidate: String },
    #[error("{0}")]
    BadGate(#[from] gate::GateParseError),
    #[error("--fail-if {expr:?}: no metric {metric:?} in either bundle; nearest: {}", nearest.join(", "))]
    UnknownMetric { expr: String, metric: String, nearest: Vec<String> },
    #[error("--fail-if {expr:?}: {metric} has no statistic {stat:?}; it has: {}", known.join(", "))]
    UnknownStat { expr: String, metric: String, stat: String, known: Vec<String> },
    #[error("{0}")]
    Pair(#[from] profiles::PairError),
}

/// Which run a side is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRef {
    pub title: String,
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub start: Option<String>,
}

/// A figure's change from base to candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Candidate − base, in the metric's unit.
    pub abs: f64,
    /// `abs / |base|` as a fraction (0.1 = +10%); `null` when the base is 0.
    pub rel: Option<f64>,
    pub verdict: Verdict,
    /// Whether a statistical test decided the verdict (`false`: reported only).
    pub tested: bool,
}

/// One metric or sub-series on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDiff {
    #[serde(rename = "type")]
    pub kind: MetricType,
    pub contains: String,
    pub origin: SeriesOrigin,
    pub base: BTreeMap<String, f64>,
    pub candidate: BTreeMap<String, f64>,
    pub change: BTreeMap<String, Change>,
}

/// A threshold on each side: `true` passed, `false` failed, `null` absent or not evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdDiff {
    pub metric: String,
    pub expr: String,
    pub base: Option<bool>,
    pub candidate: Option<bool>,
}

/// A CI gate's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    pub expr: String,
    pub passed: bool,
    pub detail: String,
}

/// A function's self samples and shares on each side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopChange {
    pub function: String,
    /// The candidate's file (the base's for a function gone in the candidate).
    pub file: String,
    /// The base's file, when the function's file moved (paired by [`Diff::frame_match`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_file: Option<String>,
    pub base_self: u64,
    pub candidate_self: u64,
    pub base_share: f64,
    pub candidate_share: f64,
}

impl TopChange {
    /// The function and its file, as a report lists it: `f (file)`, or
    /// `f (base file → candidate file)` when the file moved.
    pub fn label(&self) -> String {
        match (&self.base_file, self.file.is_empty()) {
            (Some(b), _) => format!("{} ({b} → {})", self.function, self.file),
            (None, true) => self.function.clone(),
            (None, false) => format!("{} ({})", self.function, self.file),
        }
    }
}

/// A pair of profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileDiff {
    pub base: String,
    pub candidate: String,
    /// Samples of each whole profile.
    pub base_samples: u64,
    pub candidate_samples: u64,
    /// Idle samples of each (the event loop waiting).
    #[serde(default)]
    pub base_idle: u64,
    #[serde(default)]
    pub candidate_idle: u64,
    /// Whether idle samples are left out of `top_changes` and its shares
    /// (the default; `diff --with-idle` keeps them): shares are then of each
    /// profile's other samples.
    #[serde(default)]
    pub idle_left_out: bool,
    pub top_changes: Vec<TopChange>,
    /// Index of each profile in its bundle.
    pub base_index: usize,
    pub candidate_index: usize,
}

/// Profiles that found no partner.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Unpaired {
    pub base: Vec<String>,
    pub candidate: Vec<String>,
}

/// The comparison of two bundles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    pub base: RunRef,
    pub candidate: RunRef,
    pub metrics: BTreeMap<String, MetricDiff>,
    pub only_in_base: Vec<String>,
    pub only_in_candidate: Vec<String>,
    pub thresholds: Vec<ThresholdDiff>,
    pub gates: Vec<GateResult>,
    pub profiles: Vec<ProfileDiff>,
    pub unpaired_profiles: Unpaired,
    /// Every endpoint (value of the `name` tag) of either run with its tested
    /// verdict, regressions first ([`endpoints`]).
    #[serde(default)]
    pub endpoints: Vec<endpoints::EndpointDiff>,
    /// Why the two runs look like different tests ([`relation`]); absent when they look like one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unrelated: Option<String>,
    /// How the profiles' functions were paired (`--match`).
    #[serde(default, rename = "match")]
    pub frame_match: FrameMatch,
}

/// What to compare beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// `--pair BASE_NAME=CANDIDATE_NAME`.
    pub pairs: Vec<(String, String)>,
    /// `--fail-if` expressions.
    pub gates: Vec<String>,
    /// `--fail-on-regression`.
    pub fail_on_regression: bool,
    /// Functions listed per profile pair.
    pub top: usize,
    /// How functions are paired across the two profiles of a pair (`--match`).
    pub frame_match: FrameMatch,
    /// Keep idle samples in the profiles' comparison (`--with-idle`); left out by default.
    pub with_idle: bool,
}

fn run_ref(b: &Bundle) -> RunRef {
    RunRef { title: b.manifest.title.clone(), labels: b.manifest.labels.clone(), start: b.manifest.run.start.clone() }
}

/// Compares `base` and `candidate`.
pub fn diff(base: &Bundle, cand: &Bundle, opts: &DiffOptions) -> Result<Diff, CompareError> {
    let empty = K6Summary::empty();
    let bs = base.k6_summary.as_ref().unwrap_or(&empty);
    let cs = cand.k6_summary.as_ref().unwrap_or(&empty);
    let mut metrics = BTreeMap::new();
    for (key, b) in &bs.series {
        let Some(c) = cs.series.get(key) else { continue };
        let decl = bs.metrics.get(&b.metric).or_else(|| cs.metrics.get(&c.metric));
        let Some(kind) = decl.map(|d| d.kind) else { continue };
        let contains = decl.map(|d| d.contains.clone()).unwrap_or_else(|| "default".into());
        let exprs: Vec<&str> = bs
            .thresholds
            .iter()
            .chain(&cs.thresholds)
            .filter(|t| t.metric == *key || t.metric == b.metric)
            .map(|t| t.expr.as_str())
            .collect();
        let higher_worse = verdict::higher_is_worse(&b.metric, kind, &exprs);
        let hb = whole_hist(base.k6_timeseries.as_ref(), key, kind);
        let hc = whole_hist(cand.k6_timeseries.as_ref(), key, kind);
        let side =
            |s: &'_ K6Summary, v, h| verdict::Side { values: v, hist: h, duration_s: s.duration_ms.map(|d| d / 1e3) };
        let sb = side(bs, &b.values, hb.as_ref());
        let sc = side(cs, &c.values, hc.as_ref());
        let mut change = BTreeMap::new();
        for (stat, vb) in &b.values {
            let Some(vc) = c.values.get(stat) else { continue };
            let (dir, tested) = if kind == MetricType::Counter && contains != "default" {
                (None, false)
            } else {
                verdict::significant(kind, stat, &sb, &sc)
            };
            let abs = vc - vb;
            change.insert(
                stat.clone(),
                Change {
                    abs,
                    rel: (*vb != 0.0).then(|| abs / vb.abs()),
                    verdict: verdict::classify(dir, higher_worse),
                    tested,
                },
            );
        }
        metrics.insert(
            key.clone(),
            MetricDiff {
                kind,
                contains,
                origin: b.origin,
                base: b.values.clone(),
                candidate: c.values.clone(),
                change,
            },
        );
    }
    let only_in_base: Vec<String> = bs.series.keys().filter(|k| !cs.series.contains_key(*k)).cloned().collect();
    let only_in_candidate: Vec<String> = cs.series.keys().filter(|k| !bs.series.contains_key(*k)).cloned().collect();

    let mut thresholds: Vec<ThresholdDiff> = Vec::new();
    for t in &bs.thresholds {
        thresholds.push(ThresholdDiff { metric: t.metric.clone(), expr: t.expr.clone(), base: t.ok, candidate: None });
    }
    for t in &cs.thresholds {
        match thresholds.iter_mut().find(|x| x.metric == t.metric && x.expr == t.expr) {
            Some(x) => x.candidate = t.ok,
            None => thresholds.push(ThresholdDiff {
                metric: t.metric.clone(),
                expr: t.expr.clone(),
                base: None,
                candidate: t.ok,
            }),
        }
    }

    let (pairs, ub, uc) = profiles::pair_profiles(&base.profiles, &cand.profiles, &opts.pairs)?;
    let top = if opts.top == 0 { 20 } else { opts.top };
    let profile_diffs: Vec<ProfileDiff> = pairs
        .iter()
        .map(|p| {
            let (pb, pc) = (&base.profiles[p.base], &cand.profiles[p.candidate]);
            let (vb, vc) = (pb.cpu_view(opts.with_idle), pc.cpu_view(opts.with_idle));
            ProfileDiff {
                base: pb.name.clone(),
                candidate: pc.name.clone(),
                base_samples: pb.total_samples,
                candidate_samples: pc.total_samples,
                base_idle: vb.idle_samples,
                candidate_idle: vc.idle_samples,
                idle_left_out: !opts.with_idle,
                top_changes: profiles::function_changes(&vb.profile, &vc.profile, opts.frame_match)
                    .into_iter()
                    .take(top)
                    .map(|f| TopChange {
                        function: f.function,
                        file: f.file,
                        base_file: f.base_file,
                        base_self: f.base_self,
                        candidate_self: f.candidate_self,
                        base_share: f.base_share,
                        candidate_share: f.candidate_share,
                    })
                    .collect(),
                base_index: p.base,
                candidate_index: p.candidate,
            }
        })
        .collect();

    if metrics.is_empty() && profile_diffs.is_empty() {
        let list = |s: &K6Summary, b: &Bundle| {
            let mut v: Vec<String> =
                s.series.values().filter(|x| x.origin == SeriesOrigin::Metric).map(|x| x.metric.clone()).collect();
            v.extend(b.profiles.iter().map(|p| format!("profile {}", p.name)));
            if v.is_empty() {
                "nothing".to_string()
            } else {
                v.join(", ")
            }
        };
        return Err(CompareError::NothingInCommon { base: list(bs, base), candidate: list(cs, cand) });
    }

    let mut d = Diff {
        base: run_ref(base),
        candidate: run_ref(cand),
        metrics,
        only_in_base,
        only_in_candidate,
        thresholds,
        gates: Vec::new(),
        profiles: profile_diffs,
        unpaired_profiles: Unpaired { base: ub, candidate: uc },
        endpoints: endpoints::endpoint_diffs(base, cand),
        unrelated: relation::unrelated_reason(
            &relation::test_shape(base.k6_summary.as_ref()),
            &relation::test_shape(cand.k6_summary.as_ref()),
        ),
        frame_match: opts.frame_match,
    };
    for g in &opts.gates {
        let r = evaluate_gate(&d, bs, cs, g)?;
        d.gates.push(r);
    }
    if opts.fail_on_regression {
        let gated: Vec<&str> = d.thresholds.iter().map(|t| t.metric.as_str()).collect();
        let mut regressions = Vec::new();
        for (key, m) in &d.metrics {
            if !gated.contains(&key.as_str()) {
                continue;
            }
            for (stat, c) in &m.change {
                if c.verdict == Verdict::Regression {
                    regressions.push(format!("{key}: {stat} {}", fmt_rel(c)));
                }
            }
        }
        d.gates.push(GateResult {
            expr: "--fail-on-regression".into(),
            passed: regressions.is_empty(),
            detail: if regressions.is_empty() {
                format!("no regression on the {} metrics with thresholds", gated.len())
            } else {
                format!("regressions: {}", regressions.join("; "))
            },
        });
    }
    Ok(d)
}

fn fmt_rel(c: &Change) -> String {
    match c.rel {
        Some(r) => crate::format::pct_change(r),
        None => format!("{:+}", c.abs),
    }
}

fn whole_hist(ts: Option<&K6TimeSeries>, key: &str, kind: MetricType) -> Option<crate::histogram::LogHistogram> {
    (kind == MetricType::Trend).then(|| ts.and_then(|t| t.whole_histogram(key))).flatten()
}

fn evaluate_gate(d: &Diff, bs: &K6Summary, cs: &K6Summary, expr: &str) -> Result<GateResult, CompareError> {
    let g = gate::parse(expr)?;
    let (base, cand) = match d.metrics.get(&g.metric) {
        Some(m) => (Some(&m.base), Some(&m.candidate)),
        None => (bs.series.get(&g.metric).map(|s| &s.values), cs.series.get(&g.metric).map(|s| &s.values)),
    };
    if base.is_none() && cand.is_none() {
        let keys = bs.series.keys().chain(cs.series.keys());
        return Err(CompareError::UnknownMetric {
            expr: expr.into(),
            metric: g.metric.clone(),
            nearest: gate::nearest(&g.metric, keys).into_iter().map(String::from).collect(),
        });
    }
    let Some(cand_value) = cand.and_then(|c| c.get(&g.stat)) else {
        let known: Vec<String> = cand.or(base).map(|v| v.keys().cloned().collect()).unwrap_or_default();
        if cand.is_some() || !known.contains(&g.stat) {
            return Err(CompareError::UnknownStat { expr: expr.into(), metric: g.metric, stat: g.stat, known });
        }
        return Ok(GateResult {
            expr: expr.into(),
            passed: false,
            detail: format!("{} is not in the candidate", g.metric),
        });
    };
    // Values in the metric's unit (ms for times, a percentage for a rate).
    let series = cs.series.get(&g.metric).or_else(|| bs.series.get(&g.metric));
    let decl = series.and_then(|x| cs.metrics.get(&x.metric).or_else(|| bs.metrics.get(&x.metric)));
    let unit = |v: f64| match decl {
        Some(d) => format_stat(d.kind, &d.contains, &g.stat, v),
        None => crate::k6::text::format_number(v),
    };
    let (fails, detail) = g.fails(base.and_then(|b| b.get(&g.stat)).copied(), *cand_value, &unit);
    Ok(match fails {
        Some(f) => GateResult { expr: expr.into(), passed: !f, detail },
        None => GateResult { expr: expr.into(), passed: false, detail: format!("cannot be decided: {detail}") },
    })
}

/// A row of the comparison table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row<'a> {
    pub key: &'a str,
    pub stat: &'a str,
    pub metric: &'a MetricDiff,
    pub change: &'a Change,
}

impl Diff {
    /// The rows a reader sees first: regressions (largest relative change
    /// first), then improvements, then the rest in metric order. Without
    /// `all`, only whole metrics and series with thresholds.
    pub fn ranked_rows(&self, all: bool) -> Vec<Row<'_>> {
        let gated: Vec<&str> = self.thresholds.iter().map(|t| t.metric.as_str()).collect();
        let mut rows: Vec<Row<'_>> = self
            .metrics
            .iter()
            .filter(|(k, m)| all || m.origin == SeriesOrigin::Metric || gated.contains(&k.as_str()))
            .flat_map(|(k, m)| {
                m.change.iter().map(move |(s, c)| Row { key: k.as_str(), stat: s.as_str(), metric: m, change: c })
            })
            .collect();
        let size = |r: &Row<'_>| r.change.rel.map_or(f64::INFINITY, f64::abs);
        rows.sort_by(|a, b| {
            a.change.verdict.cmp(&b.change.verdict).then_with(|| {
                if a.change.verdict == Verdict::Same {
                    std::cmp::Ordering::Equal
                } else {
                    size(b).total_cmp(&size(a))
                }
            })
        });
        rows
    }

    /// Whether every gate passed.
    pub fn gates_passed(&self) -> bool {
        self.gates.iter().all(|g| g.passed)
    }
}
