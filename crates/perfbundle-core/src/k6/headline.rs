//! The verdict of a run in four figures, each as k6 prints it: how many of
//! its thresholds failed, the share of failed requests
//! (`http_req_failed`), p(95) of `http_req_duration`, and the share of
//! checks that succeeded. What the viewer's verdict block, `inspect`'s first
//! lines and the Markdown report lead with.

use super::model::K6Summary;
use crate::format;

/// A rate as k6 counts it: `matched` of `total` samples (failed requests, succeeded checks).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateFigure {
    /// 0..1, as k6 reports it.
    pub rate: f64,
    pub matched: u64,
    pub total: u64,
}

impl RateFigure {
    /// `2.89% — 28 out of 967`, k6's way.
    pub fn text(&self) -> String {
        format!("{} — {} out of {}", format::pct(self.rate), format::group(self.matched), format::group(self.total))
    }
}

/// The run's verdict figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Headline {
    /// Thresholds that failed, and all thresholds (those k6 evaluated or we did).
    pub thresholds_failed: usize,
    pub thresholds_total: usize,
    /// `http_req_failed`: failed requests over requests.
    pub http_req_failed: Option<RateFigure>,
    /// p(95) of `http_req_duration`, ms.
    pub http_req_duration_p95: Option<f64>,
    /// `checks`: succeeded checks over checks.
    pub checks: Option<RateFigure>,
}

fn rate(s: &K6Summary, metric: &str) -> Option<RateFigure> {
    let v = &s.series.get(metric)?.values;
    let (p, f) = (*v.get("passes")?, *v.get("fails")?);
    let total = p + f;
    Some(RateFigure {
        rate: v.get("rate").copied().unwrap_or(if total > 0.0 { p / total } else { 0.0 }),
        matched: p.max(0.0) as u64,
        total: total.max(0.0) as u64,
    })
}

impl Headline {
    pub fn of(s: &K6Summary) -> Headline {
        Headline {
            thresholds_failed: s.thresholds.iter().filter(|t| t.ok == Some(false)).count(),
            thresholds_total: s.thresholds.len(),
            http_req_failed: rate(s, "http_req_failed"),
            http_req_duration_p95: s.series.get("http_req_duration").and_then(|x| x.values.get("p(95)").copied()),
            checks: rate(s, "checks"),
        }
    }

    /// Whether every threshold passed (`None`: the run has none).
    pub fn passed(&self) -> Option<bool> {
        (self.thresholds_total > 0).then_some(self.thresholds_failed == 0)
    }

    /// `✗ 1 of 2 thresholds failed`, `✓ 2 thresholds passed`, `no thresholds`.
    pub fn thresholds_text(&self) -> String {
        match self.passed() {
            None => "no thresholds".into(),
            Some(true) if self.thresholds_total == 1 => "✓ the threshold passed".into(),
            Some(true) => format!("✓ all {} thresholds passed", self.thresholds_total),
            Some(false) => format!("✗ {} of {} thresholds failed", self.thresholds_failed, self.thresholds_total),
        }
    }

    /// The figures as `(label, text)` pairs, in the verdict block's order.
    pub fn figures(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("thresholds", self.thresholds_text())];
        if let Some(f) = &self.http_req_failed {
            out.push(("http_req_failed", f.text()));
        }
        if let Some(p) = self.http_req_duration_p95 {
            out.push(("http_req_duration p(95)", super::text::format_ms(p)));
        }
        if let Some(c) = &self.checks {
            out.push(("checks_succeeded", c.text()));
        }
        out
    }

    /// One line for a terminal: `✗ 1 of 2 thresholds failed · http_req_failed 2.89% — 28 out of 967 · …`.
    pub fn line(&self) -> String {
        self.figures()
            .into_iter()
            .enumerate()
            .map(|(i, (k, v))| if i == 0 { v } else { format!("{k} {v}") })
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k6::{assemble, Aggregator, AggregatorOptions};

    #[test]
    fn four_figures_as_k6_prints_them() {
        // Hand-made: 967 requests, 28 failed.
        let mut a = Aggregator::new(AggregatorOptions::default());
        for i in 0..967i64 {
            let t = 1_000_000_000_000 + i * 1_000_000;
            a.add_point("http_req_failed", t, if i < 28 { 1.0 } else { 0.0 }, &[]);
            a.add_point("http_req_duration", t, 10.0, &[]);
        }
        let h = Headline::of(&assemble(Some((a, "k6-json".into())), None).summary);
        assert_eq!(h.http_req_failed.unwrap().text(), "2.89% — 28 out of 967");
        assert_eq!(h.http_req_duration_p95, Some(10.0));
        assert_eq!(h.checks, None);
        assert_eq!(h.thresholds_text(), "no thresholds");
        assert_eq!(h.line(), "no thresholds · http_req_failed 2.89% — 28 out of 967 · http_req_duration p(95) 10ms");
    }
}
