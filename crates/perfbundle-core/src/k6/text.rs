//! The human end-of-test summary, laid out like k6's own.

use std::fmt::Write;

use super::model::*;
use super::sections::sections;
use crate::format::pct;

/// Formats a value of a metric that `contains` `time` (ms), `data` (bytes) or `default`.
pub fn format_value(v: f64, contains: &str) -> String {
    match contains {
        "time" => format_ms(v),
        "data" => format_bytes(v),
        _ => format_number(v),
    }
}

/// A statistic's value in its unit: ms for times, bytes for data, a
/// percentage for a Rate's `rate`, `/s` for a counter's `rate` (the compare
/// view, the trend, `diff`, a threshold's value).
pub fn format_stat(kind: MetricType, contains: &str, stat: &str, v: f64) -> String {
    match (kind, stat) {
        (MetricType::Rate, "rate") => pct(v),
        (MetricType::Rate, _) | (MetricType::Trend, "count") => format_value(v, "default"),
        (MetricType::Counter, "rate") => format!("{}/s", format_value(v, contains)),
        _ => format_value(v, contains),
    }
}

/// `v` truncated (not rounded) to `prec` decimals, without trailing zeros:
/// k6's `toFixedNoTrailingZerosTrunc` (the same double arithmetic).
fn trunc_no_trailing_zeros(v: f64, prec: usize) -> String {
    let mult = 10f64.powi(prec as i32);
    let s = format!("{:.*}", prec, (mult * v).trunc() / mult);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// k6's duration style (its summary's `humanizeGenericDuration`): truncated
/// to two decimals without trailing zeros — `107.14µs`, `77.3ms`, `1.4s`,
/// `1m3s`, `2h0m5s`.
pub fn format_ms(ms: f64) -> String {
    if ms < 0.0 {
        return format!("-{}", format_ms(-ms));
    }
    if ms == 0.0 || !ms.is_finite() {
        return if ms == 0.0 { "0s".into() } else { format!("{ms}ms") };
    }
    if ms < 0.001 {
        return format!("{}ns", (ms * 1e6).trunc());
    }
    if ms < 1.0 {
        return format!("{}µs", trunc_no_trailing_zeros(ms * 1000.0, 2));
    }
    if ms < 1000.0 {
        return format!("{}ms", trunc_no_trailing_zeros(ms, 2));
    }
    let mut out = format!("{}s", trunc_no_trailing_zeros((ms % 60_000.0) / 1000.0, if ms > 60_000.0 { 0 } else { 2 }));
    let minutes = (ms / 60_000.0).trunc();
    if minutes < 1.0 {
        return out;
    }
    out = format!("{}m{out}", minutes % 60.0);
    let hours = (minutes / 60.0).trunc();
    if hours < 1.0 {
        return out;
    }
    format!("{hours}h{out}")
}

/// Bytes in SI units as k6 prints them: `196 kB`, `1.2 MB`.
pub fn format_bytes(b: f64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = b;
    let mut i = 0;
    while v.abs() >= 1000.0 && i < units.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 || v.abs() >= 10.0 {
        format!("{v:.0} {}", units[i])
    } else {
        format!("{v:.1} {}", units[i])
    }
}

/// A plain number: integers as such, others with up to 6 significant decimals.
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One `name....: values` line for a series.
pub fn series_line(label: &str, s: &SeriesSummary, contains: &str, kind: MetricType) -> String {
    let v = |k: &str| s.values.get(k).copied();
    let body = match kind {
        MetricType::Trend => {
            let mut parts = Vec::new();
            for k in ["avg", "min", "med", "max"] {
                if let Some(x) = v(k) {
                    parts.push(format!("{k}={}", format_value(x, contains)));
                }
            }
            let mut pcts: Vec<(f64, &String, f64)> = s
                .values
                .iter()
                .filter_map(|(k, x)| crate::threshold::percentile_from_key(k).map(|p| (p, k, *x)))
                .collect();
            pcts.sort_by(|a, b| a.0.total_cmp(&b.0));
            for (_, k, x) in pcts {
                parts.push(format!("{k}={}", format_value(x, contains)));
            }
            parts.join(" ")
        }
        MetricType::Counter => {
            let c = v("count").unwrap_or(0.0);
            match v("rate") {
                Some(r) => format!("{:<8} {}/s", format_value(c, contains), format_value(r, contains)),
                None => format_value(c, contains),
            }
        }
        MetricType::Rate => match (v("passes"), v("fails")) {
            (Some(p), Some(f)) => format!("{:<7} {} out of {}", pct(v("rate").unwrap_or(0.0)), p, p + f),
            _ => format!("{:<7} (samples not counted by the source)", pct(v("rate").unwrap_or(0.0))),
        },
        MetricType::Gauge => format!(
            "{:<8} min={} max={}",
            format_value(v("value").unwrap_or(0.0), contains),
            format_value(v("min").unwrap_or(0.0), contains),
            format_value(v("max").unwrap_or(0.0), contains)
        ),
    };
    let dots = 38usize.saturating_sub(label.chars().count() + 1).max(3);
    if s.approximate.is_empty() {
        format!("{label}{}: {body}", ".".repeat(dots))
    } else {
        format!("{label}{}: {body}  (≈ {})", ".".repeat(dots), s.approximate.join(" "))
    }
}

fn write_checks(out: &mut String, g: &CheckGroup, indent: usize) {
    let pad = " ".repeat(indent);
    if !g.name.is_empty() {
        let _ = writeln!(out, "{pad}█ {}", g.name);
    }
    for c in &g.checks {
        if c.fails == 0 {
            let _ = writeln!(out, "{pad}  ✓ {}", c.name);
        } else {
            let share = c.pass_percent();
            let _ = writeln!(out, "{pad}  ✗ {}\n{pad}    ↳ {share:.0}% — ✓ {} / ✗ {}", c.name, c.passes, c.fails);
        }
    }
    for sub in &g.groups {
        write_checks(out, sub, indent + 2);
    }
}

/// The value a threshold reads, formatted in its metric's unit: `("p(95)", "290.68ms")`.
pub fn threshold_value(s: &K6Summary, t: &Threshold) -> Option<(String, String)> {
    let p = crate::threshold::parse(&t.expr)?;
    let series = s.series.get(&t.metric)?;
    let v = *series.values.get(&p.aggregation)?;
    let decl = s.metrics.get(&series.metric);
    let contains = decl.map(|d| d.contains.as_str()).unwrap_or("default");
    let shown = match decl.map(|d| d.kind) {
        Some(kind) => format_stat(kind, contains, &p.aggregation, v),
        None => format_value(v, contains),
    };
    Some((p.aggregation, shown))
}

/// The k6-style summary of a bundle's k6 data. `by_tag` also lists each
/// series broken down by that tag (e.g. `name`).
pub fn render(s: &K6Summary, by_tag: Option<&str>) -> String {
    let mut out = String::new();
    if !s.thresholds.is_empty() {
        out.push_str("  █ THRESHOLDS\n\n");
        let mut last = "";
        for t in &s.thresholds {
            if t.metric != last {
                let _ = writeln!(out, "    {}", t.metric);
                last = &t.metric;
            }
            let mark = match t.ok {
                Some(true) => "✓",
                Some(false) => "✗",
                None => "?",
            };
            let shown = threshold_value(s, t).map(|(agg, v)| format!(" {agg}={v}")).unwrap_or_default();
            let _ = writeln!(out, "    {mark} '{}'{shown}", t.expr);
        }
        out.push('\n');
    }
    out.push_str("  █ TOTAL RESULTS\n\n");
    if let Some(c) = s.series.get("checks") {
        let p = c.values.get("passes").copied().unwrap_or(0.0);
        let f = c.values.get("fails").copied().unwrap_or(0.0);
        let t = p + f;
        let rate = s
            .duration_ms
            .filter(|d| *d > 0.0)
            .map(|d| format!(" {}/s", format_number((t / (d / 1000.0) * 1e6).round() / 1e6)));
        let _ = writeln!(out, "    checks_total.......................: {t:<8}{}", rate.unwrap_or_default());
        if t > 0.0 {
            let _ = writeln!(out, "    checks_succeeded...................: {:<7} {p} out of {t}", pct(p / t));
            let _ = writeln!(out, "    checks_failed......................: {:<7} {f} out of {t}", pct(f / t));
        }
        out.push('\n');
    }
    if let Some(g) = &s.checks {
        write_checks(&mut out, g, 4);
        out.push('\n');
    }
    for section in sections(s, by_tag) {
        let _ = writeln!(out, "    {}", section.name);
        for r in section.rows {
            let label = if r.sub { format!("  {}", r.label) } else { r.label };
            let _ = writeln!(out, "    {}", series_line(&label, r.series, &r.decl.contains, r.decl.kind));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_k6() {
        // As k6 v1.1 printed them for the corpus's runs (tests/corpus/runs/*/k6-console.txt).
        assert_eq!(format_ms(0.636638), "636.63µs");
        assert_eq!(format_ms(220.8033385), "220.8ms");
        assert_eq!(format_ms(1404.328082), "1.4s");
        assert_eq!(format_ms(1227.1705681100016), "1.22s");
        assert_eq!(format_ms(171.6310383), "171.63ms");
        assert_eq!(format_ms(0.107149), "107.14µs");
        assert_eq!(format_ms(0.0004), "400ns");
        assert_eq!(format_ms(63_000.0), "1m3s");
        assert_eq!(format_ms(7_205_000.0), "2h0m5s");
        assert_eq!(format_ms(100.0), "100ms");
        assert_eq!(format_ms(0.0), "0s");
        assert_eq!(format_bytes(196_011.0), "196 kB");
        assert_eq!(format_bytes(6211.0), "6.2 kB");
        assert_eq!(format_number(5.0), "5");
        assert_eq!(format_number(33.651707), "33.651707");
        assert_eq!(pct(19.0 / 24.0), "79.16%");
        assert_eq!(pct(0.5), "50.00%");
    }
}
