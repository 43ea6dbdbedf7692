//! CI gates: `METRIC: STAT OP VALUE`, e.g. `http_req_duration{name:GET /a}: p(95) > +10%`.
//!
//! The expression says when to fail. VALUE is `+N%`/`-N%` (relative change
//! from the base), `+N`/`-N` (absolute change, in the metric's unit: ms for
//! times) or a plain number (the candidate's own value, as a k6 threshold
//! reads it).

use std::fmt;

/// What a gate compares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GateValue {
    /// Relative change, as a fraction (`+10%` → 0.1).
    Relative(f64),
    /// Absolute change, in the metric's unit.
    Absolute(f64),
    /// The candidate's own value.
    Value(f64),
}

/// A parsed `--fail-if` expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub expr: String,
    pub metric: String,
    pub stat: String,
    /// `>` or `<`.
    pub greater: bool,
    pub value: GateValue,
}

/// Why an expression does not parse: the expression, the byte offset where
/// it goes wrong, and what was expected there.
#[derive(Debug, Clone, PartialEq)]
pub struct GateParseError {
    pub expr: String,
    pub at: usize,
    pub what: String,
}

impl fmt::Display for GateParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let col = self.expr[..self.at.min(self.expr.len())].chars().count();
        write!(
            f,
            "--fail-if {:?}: {} at character {}\n    {}\n    {}^\n  expected METRIC: STAT OP VALUE, e.g. 'http_req_duration{{name:GET /a}}: p(95) > +10%', 'http_req_failed: rate > 0.01', 'http_reqs: rate < -5%'",
            self.expr,
            self.what,
            col + 1,
            self.expr,
            " ".repeat(col)
        )
    }
}

impl std::error::Error for GateParseError {}

/// Parses a gate. The metric is everything before the last `:` that is not
/// inside braces, so tag values may hold colons and spaces.
pub fn parse(expr: &str) -> Result<Gate, GateParseError> {
    let err = |at: usize, what: &str| GateParseError { expr: expr.to_string(), at, what: what.to_string() };
    // The separating colon: the first one at brace depth 0.
    let mut depth = 0i32;
    let mut sep = None;
    for (i, c) in expr.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ':' if depth == 0 => {
                sep = Some(i);
                break;
            }
            _ => {}
        }
        if depth < 0 {
            return Err(err(i, "a '}' with no '{' before it"));
        }
    }
    if depth > 0 {
        return Err(err(expr.len(), "an unclosed '{' in the metric"));
    }
    let Some(sep) = sep else { return Err(err(expr.len(), "no ':' after the metric name")) };
    let metric = expr[..sep].trim();
    if metric.is_empty() {
        return Err(err(0, "no metric name"));
    }
    let rest = &expr[sep + 1..];
    let Some(op_at) = rest.find(['<', '>']) else {
        return Err(err(expr.len(), "no operator ('>' or '<') after the statistic"));
    };
    let stat = rest[..op_at].trim();
    if stat.is_empty() {
        return Err(err(sep + 1 + op_at, "no statistic (avg, med, p(95), rate, count…) before the operator"));
    }
    let stat_ok = matches!(stat, "avg" | "min" | "max" | "med" | "count" | "rate" | "value" | "passes" | "fails")
        || crate::threshold::percentile_from_key(stat).is_some();
    if !stat_ok {
        let at = sep + 1 + rest.find(stat).unwrap_or(0);
        return Err(err(
            at,
            &format!(
                "{stat:?} is not a k6 summary statistic (avg, min, med, max, p(N), count, rate, value, passes, fails)"
            ),
        ));
    }
    let greater = rest.as_bytes()[op_at] == b'>';
    let mut v = rest[op_at + 1..].trim_start();
    if v.starts_with('=') {
        return Err(err(sep + 1 + op_at + 1, "only '>' and '<' (a gate fails strictly past its bound)"));
    }
    let v_at = expr.len() - v.len();
    v = v.trim_end();
    if v.is_empty() {
        return Err(err(v_at, "no value after the operator"));
    }
    let signed = v.starts_with('+') || v.starts_with('-');
    let (num, pct) = match v.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (v, false),
    };
    let n: f64 = num
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| err(v_at, &format!("{v:?} is not a number, +N%, -N%, +N or -N")))?;
    let value = match (signed, pct) {
        (true, true) => GateValue::Relative(n / 100.0),
        (true, false) => GateValue::Absolute(n),
        (false, true) => return Err(err(v_at, "a percentage needs a sign: +N% or -N% (change from the base)")),
        (false, false) => GateValue::Value(n),
    };
    Ok(Gate { expr: expr.to_string(), metric: metric.to_string(), stat: stat.to_string(), greater, value })
}

impl Gate {
    /// Whether the gate fails, given the base and candidate values of its
    /// statistic, and a human detail with each value in its unit (`unit`
    /// formats a value of the statistic: `34.18ms`). `None` when it cannot
    /// be decided (a relative change from a base of 0).
    pub fn fails(&self, base: Option<f64>, cand: f64, unit: &dyn Fn(f64) -> String) -> (Option<bool>, String) {
        let op = if self.greater { ">" } else { "<" };
        let past = |x: f64, bound: f64| if self.greater { x > bound } else { x < bound };
        let signed = |d: f64| if d < 0.0 { format!("-{}", unit(-d)) } else { format!("+{}", unit(d)) };
        match self.value {
            GateValue::Value(b) => {
                (Some(past(cand, b)), format!("candidate {} = {} (fails if {op} {})", self.stat, unit(cand), unit(b)))
            }
            GateValue::Absolute(b) => match base {
                Some(base) => {
                    let d = cand - base;
                    (
                        Some(past(d, b)),
                        format!(
                            "{} changed by {} ({} → {}); fails if {op} {}",
                            self.stat,
                            signed(d),
                            unit(base),
                            unit(cand),
                            signed(b)
                        ),
                    )
                }
                None => (None, format!("{} is not in the base", self.stat)),
            },
            GateValue::Relative(b) => match base {
                Some(base) if base != 0.0 => {
                    let r = (cand - base) / base.abs();
                    (
                        Some(past(r, b)),
                        format!(
                            "{} changed by {} ({} → {}); fails if {op} {}",
                            self.stat,
                            crate::format::pct_change(r),
                            unit(base),
                            unit(cand),
                            crate::format::pct_change(b)
                        ),
                    )
                }
                Some(_) => (None, format!("{} is 0 in the base: no relative change", self.stat)),
                None => (None, format!("{} is not in the base", self.stat)),
            },
        }
    }
}

/// The names in `known` closest to `name` (edit distance), for "did you mean".
pub fn nearest<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = known.map(|k| (distance(name, k), k.as_str())).collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, k)| k).collect()
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_kinds_of_value_and_tags_with_colons() {
        let g = parse("http_req_duration{name:GET /inventory/:sku}: p(95) > +10%").unwrap();
        assert_eq!(g.metric, "http_req_duration{name:GET /inventory/:sku}");
        assert_eq!((g.stat.as_str(), g.greater, g.value), ("p(95)", true, GateValue::Relative(0.1)));
        assert_eq!(parse("http_reqs: rate < -5%").unwrap().value, GateValue::Relative(-0.05));
        assert_eq!(parse("http_req_duration: avg > +20").unwrap().value, GateValue::Absolute(20.0));
        assert_eq!(parse("http_req_failed:rate>0.01").unwrap().value, GateValue::Value(0.01));
    }

    #[test]
    fn says_where_an_expression_goes_wrong() {
        for (bad, at, what) in [
            ("http_req_duration p(95) > 10", 28, "no ':'"),
            ("http_req_duration: p(95) 10", 27, "no operator"),
            ("http_req_duration: p95 > 10", 19, "not a k6 summary statistic"),
            ("http_req_duration: p(95) > ten", 27, "not a number"),
            ("http_req_duration: p(95) > 10%", 27, "needs a sign"),
            ("http_req_duration{name:a: p(95) > 1", 35, "unclosed"),
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.at, at, "{bad}: {e}");
            assert!(e.to_string().contains(what), "{bad}: {e}");
            assert!(e.to_string().contains("e.g."), "{e}");
        }
    }

    #[test]
    fn decides_on_each_kind() {
        let n = &crate::k6::text::format_number;
        let g = parse("m: p(95) > +10%").unwrap();
        assert_eq!(g.fails(Some(100.0), 111.0, n).0, Some(true));
        assert_eq!(g.fails(Some(100.0), 109.0, n).0, Some(false));
        assert_eq!(g.fails(Some(0.0), 1.0, n).0, None);
        let g = parse("m: rate < -5%").unwrap();
        assert_eq!(g.fails(Some(100.0), 90.0, n).0, Some(true));
        let g = parse("m: avg > +20").unwrap();
        assert_eq!(g.fails(Some(100.0), 121.0, n).0, Some(true));
        let g = parse("m: rate > 0.01").unwrap();
        assert_eq!(g.fails(None, 0.02, n).0, Some(true));
        // Each value in its unit: ms for a time.
        let ms = &crate::k6::text::format_ms;
        let g = parse("http_req_duration: p(95) > +10%").unwrap();
        assert_eq!(
            g.fails(Some(34.18212), 3.687466, ms).1,
            "p(95) changed by -89.21% (34.18ms → 3.68ms); fails if > +10.00%"
        );
        let g = parse("http_req_duration: avg > +20").unwrap();
        assert_eq!(g.fails(Some(10.0), 35.5, ms).1, "avg changed by +25.5ms (10ms → 35.5ms); fails if > +20ms");
        assert_eq!(
            nearest("http_req_duraton", ["http_reqs".to_string(), "http_req_duration".to_string()].iter())[0],
            "http_req_duration"
        );
    }
}
