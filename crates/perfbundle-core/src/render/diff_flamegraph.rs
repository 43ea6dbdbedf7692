//! Differential flame graphs as standalone SVG: one graph of the union of
//! both runs' call trees ([`DiffTree`]), each frame as wide as the mean of
//! its share in the two runs — so a stack that exists only in the base still
//! shows — coloured as inferno's `diff-folded` graphs are (red: a larger
//! share in the candidate, blue: smaller, saturation by the size of the
//! change), with a legend and a tooltip (`<title>`) holding both runs'
//! samples and shares. Every name is escaped.

use std::io::{self, Write};

use super::chart::escape;
use crate::compare::profiles::DiffTree;
use crate::profile::flame::{FlameIndex, FlameRect};

const W: f64 = 1200.0;
const ROW: f64 = 17.0;
const TOP: f64 = 66.0;
const PAD: f64 = 10.0;

/// Writes the differential flame graph of `tree` with `title`.
pub fn write_diff_flamegraph<Wr: Write>(tree: &DiffTree, title: &str, mut w: Wr) -> io::Result<()> {
    let p = &tree.profile;
    let index = FlameIndex::new(p);
    let mut rects: Vec<FlameRect> = Vec::new();
    // Frames under a third of a pixel are left out, as inferno does with its minimum width.
    index.layout(p, 0, 0.33 / (W - 2.0 * PAD), &mut rects);
    let depth = rects.iter().map(|r| r.depth).max().unwrap_or(0);
    let h = TOP + f64::from(depth + 1) * ROW + 30.0;
    let max = tree.max_change();
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" viewBox="0 0 {W} {h}" font-family="Verdana, sans-serif" font-size="11">"#
    )?;
    writeln!(w, "<title>{}</title>", escape(title))?;
    writeln!(w, r##"<rect width="{W}" height="{h}" fill="#ffffff"/>"##)?;
    writeln!(
        w,
        r##"<text x="{}" y="22" text-anchor="middle" font-size="16" fill="#1d1f23">{}</text>"##,
        W / 2.0,
        escape(title)
    )?;
    // Legend.
    let legend = [
        ((255u8, 0u8, 0u8), "larger share in the candidate"),
        ((0, 0, 255), "smaller share (or gone) in the candidate"),
        ((250, 250, 250), "no change"),
    ];
    let mut x = PAD;
    for ((r, g, b), text) in legend {
        writeln!(
            w,
            r##"<rect x="{x}" y="34" width="12" height="12" fill="rgb({r},{g},{b})" stroke="#999" stroke-width="0.5"/>"##
        )?;
        writeln!(w, r##"<text x="{}" y="44" fill="#333">{text}</text>"##, x + 16.0)?;
        x += 30.0 + 6.6 * text.len() as f64;
    }
    writeln!(
        w,
        r##"<text x="{x}" y="44" fill="#666">width: mean share of both runs ({} and {} samples); largest change {:.2} points</text>"##,
        tree.base_samples,
        tree.candidate_samples,
        max * 100.0
    )?;
    let span = W - 2.0 * PAD;
    for r in &rects {
        let node = r.node as usize;
        let rx = PAD + r.x * span;
        let rw = r.w * span;
        let ry = TOP + f64::from(depth - r.depth) * ROW;
        let (cr, cg, cb) = if node == 0 { (230, 230, 230) } else { tree.color(node, max) };
        let label = if node == 0 { "all".to_string() } else { p.frame_label(p.nodes.frame[node] as usize) };
        let tip = if node == 0 {
            format!("all\nbase: {} samples\ncandidate: {} samples", tree.base_samples, tree.candidate_samples)
        } else {
            tree.tooltip(node)
        };
        writeln!(w, "<g><title>{}</title>", escape(&tip))?;
        writeln!(
            w,
            r##"<rect x="{rx:.2}" y="{ry:.1}" width="{rw:.2}" height="{}" fill="rgb({cr},{cg},{cb})" stroke="#ffffff" stroke-width="0.5"/>"##,
            ROW - 1.0
        )?;
        let chars = ((rw - 6.0) / 6.6).floor();
        if chars >= 3.0 {
            let n = chars as usize;
            let text: String = if label.chars().count() > n {
                label.chars().take(n.saturating_sub(2)).chain("..".chars()).collect()
            } else {
                label
            };
            let (tr, tg, tb) = super::contrast::label_color((cr, cg, cb));
            writeln!(
                w,
                r##"<text x="{:.2}" y="{:.1}" fill="rgb({tr},{tg},{tb})">{}</text>"##,
                rx + 3.0,
                ry + 12.0,
                escape(&text)
            )?;
        }
        writeln!(w, "</g>")?;
    }
    writeln!(w, "</svg>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::folded;

    #[test]
    fn draws_both_sides_escaped() {
        // Hand-made stacks; a function that vanished keeps its frame.
        let a = folded::ingest("main;<script>gone 40\nmain;work 60\n".as_bytes(), "a", "a").unwrap();
        let b = folded::ingest("main;work 30\nmain;new 10\n".as_bytes(), "b", "b").unwrap();
        let t = DiffTree::new(&a, &b, crate::profile::FrameMatch::default());
        let mut out = Vec::new();
        write_diff_flamegraph(&t, "a → b & <c>", &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(!s.contains("<script"));
        assert!(s.contains("&lt;script&gt;gone"));
        assert!(s.contains("a → b &amp; &lt;c&gt;"));
        assert!(s.contains("base: 40 samples (40.00%)\ncandidate: 0 samples (0.00%)"));
        assert!(s.contains("fill=\"rgb(0,0,255)\""), "the largest shrink is full blue");
        assert_eq!(s.matches("<g>").count(), s.matches("</g>").count());
    }
}
