//! Time-series charts as standalone SVG: title, axes with ticks and units,
//! legend, lines — a picture without any script, valid XML that GitHub's
//! Markdown view renders. The viewer draws its interactive charts with the
//! same scales ([`nice_max`], [`clock_label`]) and value formats.

use std::io::{self, Write};

use crate::k6::text::format_value;
use crate::k6::view::ChartPoint;

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartLine {
    pub label: String,
    /// CSS colour (`#2f6fdf`).
    pub color: String,
    pub points: Vec<ChartPoint>,
    /// Drawn dashed (the base run in an overlay).
    pub dashed: bool,
}

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    /// Unit of the values: `time` (ms), `data` (bytes), `percent` (a 0..1 ratio), `default`.
    pub contains: String,
    pub lines: Vec<ChartLine>,
    /// The x domain, Unix ms (or ms since the run's start when `elapsed`).
    pub domain: (f64, f64),
    /// The x axis is time since each run's start (overlays of two runs), not the clock.
    pub elapsed: bool,
}

/// Escapes text for XML (and HTML).
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// The smallest of 1, 2, 2.5, 5 × 10^k at or above `v` (1 for nothing to show).
pub fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * p {
            return m * p;
        }
    }
    10.0 * p
}

/// `HH:MM:SS` (UTC) of a Unix ms time.
pub fn clock_label(ms: f64) -> String {
    let s = crate::time::format_rfc3339_ms((ms * 1e6) as i64);
    s[11..19].to_string()
}

/// `M:SS` (or `H:MM:SS`) of a time since the start, ms.
pub fn elapsed_label(ms: f64) -> String {
    let s = (ms / 1000.0).round().max(0.0) as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// A value in the chart's unit.
pub fn format_in(v: f64, contains: &str) -> String {
    if contains == "percent" {
        format!("{:.2}%", v * 100.0)
    } else {
        format_value(v, contains)
    }
}

const W: f64 = 900.0;
const H: f64 = 240.0;
const L: f64 = 78.0;
const R: f64 = 16.0;
const T: f64 = 46.0;
const B: f64 = 34.0;

/// Writes `chart` as an SVG document.
pub fn write_svg<Wr: Write>(chart: &Chart, mut w: Wr) -> io::Result<()> {
    let (a, b) = chart.domain;
    let span = (b - a).max(1.0);
    let visible = |p: &&ChartPoint| p.0 >= a && p.0 <= b;
    let ymax =
        nice_max(chart.lines.iter().flat_map(|l| l.points.iter().filter(visible)).map(|p| p.1).fold(0.0, f64::max));
    let x = |t: f64| L + (t - a) / span * (W - L - R);
    let y = |v: f64| T + (1.0 - v / ymax) * (H - T - B);
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">"#
    )?;
    writeln!(w, r#"<title>{}</title>"#, escape(&chart.title))?;
    writeln!(w, r##"<rect width="{W}" height="{H}" fill="#ffffff"/>"##)?;
    writeln!(
        w,
        r##"<text x="{L}" y="20" font-size="15" font-weight="600" fill="#1d1f23">{}</text>"##,
        escape(&chart.title)
    )?;
    // Legend.
    let mut lx = L;
    for l in &chart.lines {
        if l.dashed {
            writeln!(
                w,
                r#"<line x1="{lx}" x2="{}" y1="34" y2="34" stroke="{}" stroke-width="2" stroke-dasharray="4 2"/>"#,
                lx + 10.0,
                escape(&l.color)
            )?;
        } else {
            writeln!(w, r#"<rect x="{lx}" y="29" width="10" height="10" fill="{}"/>"#, escape(&l.color))?;
        }
        writeln!(w, r##"<text x="{}" y="38" fill="#445">{}</text>"##, lx + 14.0, escape(&l.label))?;
        lx += 24.0 + 7.0 * l.label.chars().count() as f64;
    }
    // Y ticks with units.
    for i in 0..=4 {
        let v = ymax * f64::from(i) / 4.0;
        let yy = y(v);
        writeln!(w, r##"<line x1="{L}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#eceef2"/>"##, W - R)?;
        writeln!(
            w,
            r##"<text x="{}" y="{:.1}" text-anchor="end" fill="#667" font-size="11">{}</text>"##,
            L - 6.0,
            yy + 4.0,
            escape(&format_in(v, &chart.contains))
        )?;
    }
    // X ticks (UTC clock).
    for i in 0..=5 {
        let t = a + span * f64::from(i) / 5.0;
        let anchor = match i {
            0 => "start",
            5 => "end",
            _ => "middle",
        };
        writeln!(
            w,
            r##"<text x="{:.1}" y="{}" text-anchor="{anchor}" fill="#667" font-size="11">{}</text>"##,
            x(t),
            H - 12.0,
            if chart.elapsed { elapsed_label(t) } else { clock_label(t) }
        )?;
    }
    let axis = if chart.elapsed { "since start" } else { "UTC" };
    writeln!(w, r##"<text x="{}" y="{}" text-anchor="end" fill="#99a" font-size="10">{axis}</text>"##, W - R, H - 1.0)?;
    writeln!(w, r##"<line x1="{L}" x2="{L}" y1="{T}" y2="{}" stroke="#99a"/>"##, H - B)?;
    writeln!(w, r##"<line x1="{L}" x2="{}" y1="{}" y2="{}" stroke="#99a"/>"##, W - R, H - B, H - B)?;
    for l in &chart.lines {
        let mut d = String::new();
        for p in l.points.iter().filter(visible) {
            d.push_str(if d.is_empty() { "M" } else { " L" });
            d.push_str(&format!("{:.1},{:.1}", x(p.0), y(p.1)));
        }
        if !d.is_empty() {
            let dash = if l.dashed { r#" stroke-dasharray="5 3""# } else { "" };
            writeln!(w, r#"<path d="{d}" fill="none" stroke="{}" stroke-width="1.6"{dash}/>"#, escape(&l.color))?;
        }
    }
    if chart.lines.iter().all(|l| l.points.is_empty()) {
        writeln!(w, r##"<text x="{}" y="{}" text-anchor="middle" fill="#99a">no data</text>"##, W / 2.0, H / 2.0)?;
    }
    writeln!(w, "</svg>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_escaped_valid_svg() {
        let chart = Chart {
            title: "<script>alert(1)</script> & co".into(),
            contains: "time".into(),
            lines: vec![ChartLine {
                label: "p95 \"x\"".into(),
                color: "#2f6fdf".into(),
                points: vec![(0.0, 10.0), (1000.0, 20.0)],
                dashed: false,
            }],
            domain: (0.0, 1000.0),
            elapsed: false,
        };
        let mut out = Vec::new();
        write_svg(&chart, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("<?xml"));
        assert!(!s.contains("<script"));
        assert!(s.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
        assert!(s.contains("p95 &quot;x&quot;"));
        assert!(s.contains("15.00ms"), "y ticks carry units");
        assert!(s.contains("<path d=\"M78.0,"));
        // Balanced elements: a rough well-formedness check.
        assert_eq!(s.matches("<svg").count(), s.matches("</svg>").count());
        assert_eq!(nice_max(3.2), 5.0);
        assert_eq!(clock_label(1_795_549_803_000.0), "19:50:03");
    }
}
