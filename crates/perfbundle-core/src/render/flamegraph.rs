//! Flame graphs and icicle graphs of a [`Profile`], drawn by the `inferno`
//! crate (searchable and zoomable as inferno's own SVGs are), coloured by
//! frame category. inferno escapes every name, so a frame named
//! `<script>…</script>` is text in the SVG, not markup.

use std::collections::HashMap;
use std::io::Write;

use inferno::flamegraph::color::{parse_hex_color, PaletteMap};
use inferno::flamegraph::{self as ifg, Direction, TextTruncateDirection};

use crate::profile::{Category, Profile};

/// Options of [`write_flamegraph`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct FlameOptions {
    /// Draw an icicle graph (roots at the top). Default is `false`.
    pub icicle: bool,
    /// Title; default is the profile's name and source.
    pub title: Option<String>,
    /// Draw sample counts even where the profile has weights. Default is `false`.
    pub by_samples: bool,
    /// Draw the idle samples too. Default is `false`: they are left out, and
    /// the subtitle says their share (`idle 85.12% of samples, not drawn`).
    pub with_idle: bool,
}

impl FlameOptions {
    pub fn icicle(icicle: bool) -> Self {
        FlameOptions { icicle, ..Default::default() }
    }
}

/// What a profile's weights count, as a flame graph labels them.
pub fn weight_label(p: &Profile) -> &str {
    match p.weight_unit.as_deref() {
        Some("us") => "µs",
        Some("ns") => "ns",
        Some("period") => "events (period)",
        Some(other) => other,
        None => "samples",
    }
}

/// Writes an SVG flame graph: by weight where the profile has weights (perf's
/// periods, as `inferno-flamegraph` of `inferno-collapse-perf`'s output
/// draws it; a .cpuprofile's wall time), else by sample counts.
pub fn write_flamegraph<W: Write>(whole: &Profile, opts: &FlameOptions, w: W) -> std::io::Result<()> {
    let view = whole.cpu_view(opts.with_idle);
    let p: &Profile = &view.profile;
    let by_weight = p.has_weights() && !opts.by_samples;
    let lines = p.folded(by_weight);
    let mut palette = PaletteMap::default();
    let mut seen: HashMap<String, Category> = HashMap::new();
    for fr in 0..p.frames.name.len() {
        seen.entry(p.frame_label(fr)).or_insert(p.frames.category[fr]);
    }
    for (label, cat) in &seen {
        let (r, g, b) = cat.color();
        if let Some(c) = parse_hex_color(&format!("#{r:02x}{g:02x}{b:02x}")) {
            palette.insert(label, c);
        }
    }
    let mut o = ifg::Options::default();
    // The bundle's text, as its frames are: control characters shown escaped (XML has no room for them).
    let title =
        opts.title.clone().unwrap_or_else(|| format!("{} ({}, {} samples)", p.name, p.source, whole.total_samples));
    o.title = crate::format::escape_controls(&title).into_owned();
    o.subtitle = Some(
        crate::format::escape_controls(&match view.note() {
            Some(note) => format!("{note}; colours: app, dependency, node core, v8, native, gc, kernel"),
            None => "colours: app, dependency, node core, v8, native, gc, idle, kernel".into(),
        })
        .into_owned(),
    );
    o.count_name = if by_weight { weight_label(p).to_string() } else { "samples".into() };
    // Function names come first in labels: cut the file path, not the name.
    o.text_truncate_direction = TextTruncateDirection::Right;
    o.palette_map = Some(&mut palette);
    if opts.icicle {
        o.direction = Direction::Inverted;
    }
    if lines.is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("profile {} has no samples", p.name)));
    }
    ifg::from_lines(&mut o, lines.iter().map(String::as_str), w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::folded;

    #[test]
    fn escapes_names_and_colours_by_category() {
        let text = "main;<script>alert(1)</script> 3\nmain;epoll_wait_[k] 1\n";
        let p = folded::ingest(text.as_bytes(), "x.folded", "x & <y>").unwrap();
        let mut svg = Vec::new();
        write_flamegraph(&p, &FlameOptions::default(), &mut svg).unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert!(!svg.contains("<script>alert(1)"), "unescaped name in the SVG");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!svg.contains("x & <y>"));
        let (r, g, b) = Category::Kernel.color();
        assert!(svg.contains(&format!("rgb({r},{g},{b})")), "kernel colour missing");
        let mut ice = Vec::new();
        write_flamegraph(&p, &FlameOptions::icicle(true), &mut ice).unwrap();
        assert_ne!(svg.as_bytes(), &ice[..]);
    }

    #[test]
    fn idle_is_left_out_and_said() {
        // Hand-made: 85 of 100 samples idle.
        let p = folded::ingest("(root);(idle) 85\n(root);main;work 15\n".as_bytes(), "x.folded", "x").unwrap();
        let svg = |with_idle| {
            let mut v = Vec::new();
            write_flamegraph(&p, &FlameOptions { with_idle, ..Default::default() }, &mut v).unwrap();
            String::from_utf8(v).unwrap()
        };
        let cpu = svg(false);
        assert!(!cpu.contains("(idle)") && cpu.contains("idle 85.00% of samples, not drawn"), "{cpu}");
        assert!(svg(true).contains("(idle)"));
    }
}
