//! The trend page of a site of runs (`trend.html`): each key figure across
//! the runs of a [`History`] as an SVG chart (one point per run, in order),
//! and a table linking each run to its view and to the compare view with the
//! run before it. Static HTML without script; every string escaped.

use std::fmt::Write as _;

use super::chart::escape;
use super::plot::{format_in, Margins, PlotGeometry, XTicks};
use crate::history::{figure, History, FIGURES};

const W: f64 = 900.0;
const H: f64 = 200.0;
const MARGINS: Margins = Margins { left: 78.0, right: 20.0, top: 30.0, bottom: 40.0 };

/// A figure's unit as the chart formats it.
fn unit(key: &str) -> &'static str {
    match key {
        "http_req_duration_p95_ms" => "time",
        "http_req_failed_rate" | "checks_rate" => "percent",
        _ => "default",
    }
}

/// One chart: the figure `key` of every run, in order.
pub fn trend_svg(h: &History, key: &str, title: &str) -> String {
    let mut s = String::new();
    let n = h.runs.len();
    let values: Vec<Option<f64>> = h.runs.iter().map(|r| figure(&r.entry, key)).collect();
    // One point per run at x = its index (a lone run in the middle); at most
    // about ten labels on the axis.
    let x_range = if n <= 1 { (-0.5, 0.5) } else { (0.0, (n - 1) as f64) };
    let max = values.iter().flatten().copied().fold(0.0, f64::max);
    let g = PlotGeometry::new(W, H, MARGINS, x_range, max, XTicks::Whole { every: n.div_ceil(10).max(1) });
    let (left, right) = (g.left(), g.right());
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{}" font-family="sans-serif" font-size="11">"#,
        escape(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="{left}" y="18" font-size="14" font-weight="600" fill="#1d1f23">{}</text>"##,
        escape(title)
    );
    for tick in g.y_ticks() {
        let (tx, ty) = g.y_label_at(&tick);
        let _ = writeln!(
            s,
            r##"<line x1="{left}" x2="{right}" y1="{y:.1}" y2="{y:.1}" stroke="#eceef2"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="#667">{}</text>"##,
            escape(&format_in(tick.value, unit(key))),
            y = tick.px
        );
    }
    let d = g.path(values.iter().enumerate().filter_map(|(i, v)| Some((i as f64, (*v)?))));
    if !d.is_empty() {
        let _ = writeln!(s, r##"<path d="{d}" fill="none" stroke="#2f6fdf" stroke-width="1.8"/>"##);
    }
    let ticks = g.x_ticks();
    for (i, (r, v)) in h.runs.iter().zip(&values).enumerate() {
        let name =
            r.key.clone().unwrap_or_else(|| r.entry.start.clone().unwrap_or_default().chars().take(16).collect());
        let x = g.x_px(i as f64);
        if let Some(v) = v {
            let _ = writeln!(
                s,
                r##"<circle cx="{x:.1}" cy="{:.1}" r="3.5" fill="#2f6fdf"><title>{}: {}</title></circle>"##,
                g.y_px(*v),
                escape(&r.entry.title),
                escape(&format_in(*v, unit(key)))
            );
        }
        let Some(tick) = ticks.iter().find(|t| t.value == i as f64) else { continue };
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{}" text-anchor="{}" fill="#667">{}</text>"##,
            tick.px,
            H - 22.0,
            tick.anchor.as_str(),
            escape(&name)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The whole page. `viewer` is the viewer's page relative to the trend page
/// (`index.html`); run files are relative to it too.
pub fn trend_page(h: &History, viewer: &str) -> String {
    let mut s = String::new();
    s.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    s.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
    );
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Runs over time — perfbundle</title>\n");
    s.push_str("<style>body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5rem;color:#1d1f23}table{border-collapse:collapse}th,td{text-align:left;padding:.25rem .8rem .25rem 0;white-space:nowrap}td.n{text-align:right}.fail{color:#b3261e}svg{max-width:100%;height:auto;display:block;margin:.5rem 0 1rem}</style>\n");
    s.push_str("</head><body>\n");
    let by = if h.by == "start" { "run start time".to_string() } else { format!("{} (as versions)", h.by) };
    let _ = writeln!(
        s,
        "<h1>Runs over time</h1>\n<p>{} runs, ordered by {}. <a href=\"{}\">All runs</a> · <a href=\"{}?view=trend\">the interactive trend</a> (any figure, one line per test)</p>",
        h.runs.len(),
        escape(&by),
        escape(viewer),
        escape(viewer)
    );
    for (key, label, _) in FIGURES {
        if h.runs.iter().any(|r| figure(&r.entry, key).is_some()) {
            s.push_str(&trend_svg(h, key, label));
        }
    }
    s.push_str("<table data-testid=\"trend-table\"><thead><tr><th>run</th>");
    if h.by != "start" {
        let _ = write!(s, "<th>{}</th>", escape(&h.by));
    }
    s.push_str("<th>start</th>");
    for (_, label, _) in FIGURES {
        let _ = write!(s, "<th>{}</th>", escape(label));
    }
    s.push_str("<th>thresholds</th><th></th></tr></thead><tbody>\n");
    for (i, r) in h.runs.iter().enumerate() {
        let view = format!("{viewer}?bundle={}", url_escape(&r.entry.file));
        let _ = write!(s, "<tr><td><a href=\"{}\">{}</a></td>", escape(&view), escape(&r.entry.title));
        if h.by != "start" {
            let _ = write!(s, "<td>{}</td>", escape(r.key.as_deref().unwrap_or("—")));
        }
        let _ = write!(s, "<td>{}</td>", escape(r.entry.start.as_deref().unwrap_or("—")));
        for (key, _, _) in FIGURES {
            let v = figure(&r.entry, key)
                .map(|v| if *key == "http_req_rate" { format!("{v:.2}/s") } else { format_in(v, unit(key)) })
                .unwrap_or_else(|| "—".into());
            let c = r.change.get(*key).map(|c| format!(" ({:+.1}%)", c * 100.0)).unwrap_or_default();
            let _ = write!(s, "<td class=\"n\">{}{}</td>", escape(&v), escape(&c));
        }
        let th = match r.entry.thresholds_passed {
            None => "—".to_string(),
            Some(true) => "passed".into(),
            Some(false) => {
                format!("<span class=\"fail\">failed: {}</span>", escape(&r.entry.thresholds_failed.join("; ")))
            }
        };
        let _ = write!(s, "<td>{th}</td>");
        match i.checked_sub(1).map(|p| &h.runs[p]) {
            Some(prev) => {
                let cmp =
                    format!("{viewer}?bundle={}&base={}", url_escape(&r.entry.file), url_escape(&prev.entry.file));
                let _ = writeln!(
                    s,
                    "<td><a href=\"{}\" data-testid=\"trend-compare\">compare with the run before</a></td></tr>",
                    escape(&cmp)
                );
            }
            None => s.push_str("<td></td></tr>\n"),
        }
    }
    s.push_str("</tbody></table>\n</body></html>\n");
    s
}

/// Percent-encodes what a query value cannot hold as is.
fn url_escape(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::IndexEntry;
    use crate::history::history;

    fn entry(file: &str, start: &str, p95: f64) -> IndexEntry {
        IndexEntry {
            file: file.into(),
            title: format!("<b>{file}</b>"),
            labels: Default::default(),
            start: Some(start.into()),
            duration_ms: None,
            http_reqs: None,
            http_req_rate: Some(10.0),
            http_req_duration_p95_ms: Some(p95),
            http_req_failed_rate: None,
            checks_rate: None,
            thresholds_passed: Some(false),
            thresholds_failed: vec!["http_req_duration: p(95)<250".into()],
            profiles: Vec::new(),
            profilers: Vec::new(),
            timelines: Vec::new(),
            shape: Vec::new(),
            figures: Default::default(),
        }
    }

    #[test]
    fn links_each_run_to_its_view_and_the_compare_view_escaped() {
        let h = history(
            vec![
                entry("bundles/b 2.perfbundle", "2026-01-02", 90.0),
                entry("bundles/a.perfbundle", "2026-01-01", 300.0),
            ],
            None,
        );
        let page = trend_page(&h, "index.html");
        assert!(page.contains("href=\"index.html?bundle=bundles/a.perfbundle\""));
        assert!(page.contains("href=\"index.html?bundle=bundles/b%202.perfbundle&amp;base=bundles/a.perfbundle\""));
        assert!(!page.contains("<b>"));
        assert!(page.contains("&lt;b&gt;bundles/a.perfbundle&lt;/b&gt;"));
        assert!(page.contains("p(95)&lt;250"));
        assert!(page.contains("(-70.0%)"));
        assert_eq!(page.matches("<svg").count(), 2, "charts of the figures the runs have");
        assert_eq!(page.matches("data-testid=\"trend-compare\"").count(), 1);
    }
}
