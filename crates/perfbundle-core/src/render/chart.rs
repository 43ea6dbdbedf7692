//! Time-series charts as standalone SVG: title, axes with ticks and units,
//! legend, lines — a picture without any script, valid XML that GitHub's
//! Markdown view renders. The viewer draws its interactive charts with the
//! same geometry ([`time_geometry`]: scales, ticks, labels) and value formats.

use std::io::{self, Write};

pub use super::plot::{clock_label, elapsed_label, format_in, nice_max, time_label};
use super::plot::{Margins, PlotGeometry, XTicks};
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
    /// Stacked areas: each line drawn on top of the ones before it (parts of
    /// a whole, as the request phases of `http_req_duration`); the legend and
    /// the hover still read each line's own values.
    pub stacked: bool,
}

/// The lines as drawn: stacked, each line's points raised by the lines before
/// it at the same time (their top edges), else as they are.
pub fn drawn_lines(lines: &[ChartLine], stacked: bool) -> Vec<ChartLine> {
    if !stacked {
        return lines.to_vec();
    }
    let key = |t: f64| (t * 1000.0).round() as i64;
    let mut below: std::collections::BTreeMap<i64, f64> = std::collections::BTreeMap::new();
    lines
        .iter()
        .map(|l| {
            let points: Vec<ChartPoint> =
                l.points.iter().map(|p| (p.0, below.get(&key(p.0)).copied().unwrap_or(0.0) + p.1)).collect();
            for p in &points {
                below.insert(key(p.0), p.1);
            }
            ChartLine { points, ..l.clone() }
        })
        .collect()
}

/// The area of a stacked line (as [`drawn_lines`] gives it, with its own
/// values `own`): along its top edge, then back along the edge below it.
pub fn stacked_area(g: &PlotGeometry, top: &[ChartPoint], own: &[ChartPoint], domain: (f64, f64)) -> String {
    let inside = |p: &&ChartPoint| p.0 >= domain.0 && p.0 <= domain.1;
    let upper: Vec<ChartPoint> = top.iter().filter(inside).copied().collect();
    let lower: Vec<ChartPoint> =
        top.iter().zip(own).filter(|(t, _)| inside(t)).map(|(t, o)| (t.0, t.1 - o.1)).rev().collect();
    if upper.is_empty() {
        return String::new();
    }
    let back = g.path(lower).replacen('M', "L", 1);
    format!("{} {back} Z", g.path(upper))
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
            // XML 1.0 allows no other control character, not even as a reference: shown as text (`\x1b`).
            c if (c.is_control() && c != '\n' && c != '\t') || c == '\u{fffe}' || c == '\u{ffff}' => {
                o.push_str(&crate::format::escape_controls(&c.to_string()))
            }
            c => o.push(c),
        }
    }
    o
}

const W: f64 = 900.0;
const H: f64 = 240.0;
const MARGINS: Margins = Margins { left: 78.0, right: 16.0, top: 46.0, bottom: 34.0 };

/// The largest value of `lines` inside the x `domain` (0 without any).
pub fn max_in(lines: &[ChartLine], domain: (f64, f64)) -> f64 {
    let (a, b) = domain;
    lines.iter().flat_map(|l| l.points.iter()).filter(|p| p.0 >= a && p.0 <= b).map(|p| p.1).fold(0.0, f64::max)
}

/// The geometry of a time chart of `lines` over `domain`: y from 0 to a nice
/// maximum of what is shown, six time ticks.
pub fn time_geometry(
    width: f64,
    height: f64,
    margins: Margins,
    lines: &[ChartLine],
    domain: (f64, f64),
) -> PlotGeometry {
    // One time label per 80 px at most (an `HH:MM:SS` label is about 50 px wide), so narrow charts do not overlap them.
    let max = ((width - margins.left - margins.right) / 80.0).floor().clamp(2.0, 7.0) as u32;
    PlotGeometry::new(width, height, margins, domain, max_in(lines, domain), XTicks::Time { max })
}

/// Writes `chart` as an SVG document.
pub fn write_svg<Wr: Write>(chart: &Chart, mut w: Wr) -> io::Result<()> {
    let (a, b) = chart.domain;
    let visible = |p: &&ChartPoint| p.0 >= a && p.0 <= b;
    let drawn = drawn_lines(&chart.lines, chart.stacked);
    let g = time_geometry(W, H, MARGINS, &drawn, chart.domain);
    let (left, right, top, bottom) = (g.left(), g.right(), g.top(), g.bottom());
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">"#
    )?;
    writeln!(w, r#"<title>{}</title>"#, escape(&chart.title))?;
    writeln!(w, r##"<rect width="{W}" height="{H}" fill="#ffffff"/>"##)?;
    writeln!(
        w,
        r##"<text x="{left}" y="20" font-size="15" font-weight="600" fill="#1d1f23">{}</text>"##,
        escape(&chart.title)
    )?;
    // Legend.
    let mut lx = left;
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
    for tick in g.y_ticks() {
        let (tx, ty) = g.y_label_at(&tick);
        let yy = tick.px;
        writeln!(w, r##"<line x1="{left}" x2="{right}" y1="{yy:.1}" y2="{yy:.1}" stroke="#eceef2"/>"##)?;
        writeln!(
            w,
            r##"<text x="{tx}" y="{ty:.1}" text-anchor="end" fill="#667" font-size="11">{}</text>"##,
            escape(&format_in(tick.value, &chart.contains))
        )?;
    }
    // X ticks (UTC clock, or time since the start).
    for tick in g.x_ticks() {
        writeln!(
            w,
            r##"<text x="{:.1}" y="{}" text-anchor="{}" fill="#667" font-size="11">{}</text>"##,
            tick.px,
            H - 12.0,
            tick.anchor.as_str(),
            time_label(tick.value, chart.elapsed)
        )?;
    }
    let axis = if chart.elapsed { "since start" } else { "UTC" };
    writeln!(w, r##"<text x="{right}" y="{}" text-anchor="end" fill="#99a" font-size="10">{axis}</text>"##, H - 1.0)?;
    writeln!(w, r##"<line x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" stroke="#99a"/>"##)?;
    writeln!(w, r##"<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#99a"/>"##)?;
    if chart.stacked {
        for (top, own) in drawn.iter().zip(&chart.lines) {
            let d = stacked_area(&g, &top.points, &own.points, chart.domain);
            if !d.is_empty() {
                writeln!(w, r#"<path d="{d}" fill="{}" fill-opacity="0.35" stroke="none"/>"#, escape(&top.color))?;
            }
        }
    }
    for line in &drawn {
        let d = g.path(line.points.iter().filter(visible).copied());
        if !d.is_empty() {
            let dash = if line.dashed { r#" stroke-dasharray="5 3""# } else { "" };
            writeln!(w, r#"<path d="{d}" fill="none" stroke="{}" stroke-width="1.6"{dash}/>"#, escape(&line.color))?;
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
    fn stacked_lines_sit_on_the_ones_before_and_areas_close() {
        let line = |label: &str, points: Vec<ChartPoint>| ChartLine {
            label: label.into(),
            color: "#000".into(),
            points,
            dashed: false,
        };
        let lines = vec![
            line("waiting", vec![(0.0, 10.0), (1000.0, 20.0)]),
            line("receiving", vec![(0.0, 1.0), (1000.0, 2.0), (2000.0, 3.0)]),
        ];
        let drawn = drawn_lines(&lines, true);
        assert_eq!(drawn[0].points, lines[0].points);
        assert_eq!(drawn[1].points, [(0.0, 11.0), (1000.0, 22.0), (2000.0, 3.0)]);
        assert_eq!(drawn_lines(&lines, false), lines);
        let g = time_geometry(900.0, 240.0, MARGINS, &drawn, (0.0, 2000.0));
        let area = stacked_area(&g, &drawn[1].points, &lines[1].points, (0.0, 2000.0));
        assert!(area.starts_with('M') && area.ends_with(" Z") && area.matches('M').count() == 1, "{area}");
        let mut svg = Vec::new();
        let chart = Chart {
            title: "t".into(),
            contains: "time".into(),
            lines,
            domain: (0.0, 2000.0),
            elapsed: false,
            stacked: true,
        };
        write_svg(&chart, &mut svg).unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert_eq!(svg.matches("fill-opacity").count(), 2, "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"));
    }

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
            stacked: false,
        };
        let mut out = Vec::new();
        write_svg(&chart, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("<?xml"));
        assert!(!s.contains("<script"));
        assert!(s.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
        assert!(s.contains("p95 &quot;x&quot;"));
        assert!(s.contains(">15ms<"), "y ticks carry units");
        assert!(s.contains("<path d=\"M78.0,"));
        // Balanced elements: a rough well-formedness check.
        assert_eq!(s.matches("<svg").count(), s.matches("</svg>").count());
        assert_eq!(nice_max(3.2), 5.0);
        assert_eq!(clock_label(1_795_549_803_000.0), "19:50:03");
    }
}
