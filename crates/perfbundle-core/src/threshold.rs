//! k6 threshold expressions (`p(95)<250`, `rate<0.01`, `count>=100`, …):
//! parsing, and evaluation against a series' summary values.

use std::collections::BTreeMap;

/// A parsed threshold: aggregation, operator, bound.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdExpr {
    /// The summary key it reads (`p(95)`, `avg`, `rate`, `count`, `value`…).
    pub aggregation: String,
    pub op: String,
    pub bound: f64,
}

/// Parses `AGG OP NUMBER` as k6 does (whitespace allowed around the parts).
///
/// ```
/// let t = perfbundle_core::threshold::parse("p(95) < 250").unwrap();
/// assert_eq!((t.aggregation.as_str(), t.op.as_str(), t.bound), ("p(95)", "<", 250.0));
/// ```
pub fn parse(expr: &str) -> Option<ThresholdExpr> {
    let s = expr.trim();
    let ops = ["<=", ">=", "===", "==", "!=", "<", ">"];
    let (pos, op) =
        ops.iter().filter_map(|op| s.find(op).map(|p| (p, *op))).min_by_key(|(p, op)| (*p, usize::MAX - op.len()))?;
    let agg = s[..pos].trim();
    let bound: f64 = s[pos + op.len()..].trim().parse().ok()?;
    let aggregation = match agg {
        "avg" | "min" | "max" | "med" | "count" | "rate" | "value" => agg.to_string(),
        _ => percentile_key(percentile_from_key(agg)?),
    };
    Some(ThresholdExpr { aggregation, op: op.to_string(), bound })
}

/// `p(95)` → 0.95.
pub fn percentile_from_key(key: &str) -> Option<f64> {
    let inner = key.strip_prefix("p(")?.strip_suffix(')')?.trim();
    let p: f64 = inner.parse().ok()?;
    (0.0..=100.0).contains(&p).then_some(p / 100.0)
}

/// 0.95 → `p(95)`, 0.999 → `p(99.9)`.
pub fn percentile_key(p: f64) -> String {
    let pct = (p * 100.0 * 1e6).round() / 1e6;
    format!("p({pct})")
}

/// The percentile a threshold reads, if it reads one.
pub fn percentile_of(expr: &str) -> Option<f64> {
    parse(expr).and_then(|t| percentile_from_key(&t.aggregation))
}

/// `Some(true)` when the threshold holds for these values, `None` when it
/// cannot be evaluated (unparsable, or the value is missing).
pub fn evaluate(expr: &str, values: &BTreeMap<String, f64>) -> Option<bool> {
    let t = parse(expr)?;
    let v = *values.get(&t.aggregation)?;
    Some(match t.op.as_str() {
        "<" => v < t.bound,
        "<=" => v <= t.bound,
        ">" => v > t.bound,
        ">=" => v >= t.bound,
        "==" | "===" => v == t.bound,
        "!=" => v != t.bound,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k6_expressions() {
        let t = parse("p(95)<250").unwrap();
        assert_eq!((t.aggregation.as_str(), t.op.as_str(), t.bound), ("p(95)", "<", 250.0));
        let t = parse(" rate <= 0.01 ").unwrap();
        assert_eq!((t.aggregation.as_str(), t.op.as_str()), ("rate", "<="));
        assert_eq!(parse("p(99.9)>=1").unwrap().aggregation, "p(99.9)");
        assert!(parse("p(95)").is_none());
        assert!(parse("bogus<1").is_none());
    }

    #[test]
    fn evaluates() {
        let mut v = BTreeMap::new();
        v.insert("p(95)".to_string(), 290.0);
        assert_eq!(evaluate("p(95)<250", &v), Some(false));
        assert_eq!(evaluate("p(95)<300", &v), Some(true));
        assert_eq!(evaluate("avg<300", &v), None);
    }
}
