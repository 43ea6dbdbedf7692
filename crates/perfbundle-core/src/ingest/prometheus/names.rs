//! What a Prometheus name says of the k6 metric behind it: its type, and
//! for trends how they were written (native histograms or summary stats).

use crate::k6::MetricType;

/// How a k6 metric was written, from its Prometheus name.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    Counter {
        metric: String,
    },
    Rate {
        metric: String,
    },
    Gauge {
        metric: String,
    },
    /// A native histogram; `time` when the name ends in `_seconds`.
    Histogram {
        metric: String,
        time: bool,
    },
    /// A trend exported as one summary stat (`_p99`, `_avg`…).
    TrendStat {
        metric: String,
        stat: String,
    },
}

/// Classifies every `k6_…` name (the names come from Prometheus's label
/// values of `__name__`; `histograms` lists those that hold native histograms).
pub fn classify(names: &[String], histograms: &[String]) -> Vec<(String, Written)> {
    let stat_suffix = |n: &str| -> Option<(String, String)> {
        for s in ["_avg", "_min", "_max", "_med", "_count", "_sum"] {
            if let Some(m) = n.strip_suffix(s) {
                return Some((m.to_string(), s[1..].to_string()));
            }
        }
        let (m, p) = n.rsplit_once("_p")?;
        (!p.is_empty() && p.chars().all(|c| c.is_ascii_digit())).then(|| (m.to_string(), format!("p{p}")))
    };
    let mut out = Vec::new();
    for n in names {
        let Some(base) = n.strip_prefix("k6_") else { continue };
        let w = if histograms.contains(n) {
            match base.strip_suffix("_seconds") {
                Some(m) => Written::Histogram { metric: m.into(), time: true },
                None => Written::Histogram { metric: base.into(), time: false },
            }
        } else if let Some(m) = base.strip_suffix("_total") {
            Written::Counter { metric: m.into() }
        } else if let Some(m) = base.strip_suffix("_rate") {
            Written::Rate { metric: m.into() }
        } else if let Some((m, stat)) = stat_suffix(base).filter(|(m, _)| {
            // A stat of a trend: another stat of the same trend is there too, or it is `_p<N>`.
            names.iter().filter(|x| x.starts_with(&format!("k6_{m}_"))).count() > 1
        }) {
            Written::TrendStat { metric: m, stat }
        } else {
            Written::Gauge { metric: base.into() }
        };
        out.push((n.clone(), w));
    }
    out
}

/// The type a written metric has in the model.
pub fn model_type(w: &Written) -> Option<(String, MetricType, &'static str)> {
    match w {
        Written::Counter { metric } => Some((metric.clone(), MetricType::Counter, "default")),
        Written::Rate { metric } => Some((metric.clone(), MetricType::Rate, "default")),
        Written::Gauge { metric } => Some((metric.clone(), MetricType::Gauge, "default")),
        Written::Histogram { metric, time } => {
            Some((metric.clone(), MetricType::Trend, if *time { "time" } else { "default" }))
        }
        Written::TrendStat { .. } => None,
    }
}
