//! The time-order view (a flame chart, as speedscope's "Time Order" and the
//! Firefox Profiler's stack chart): the samples in the order they were taken,
//! each frame a span from the first sample that had it on its stack to the
//! next sample that did not. Only profiles with per-sample times have one.

use super::flame::FlameRect;
use super::Profile;

/// One frame on the stack for a stretch of time (µs since the first sample).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeSpan {
    pub node: u32,
    pub depth: u32,
    pub start_us: i64,
    pub end_us: i64,
}

/// Every span of a profile, by depth then start.
#[derive(Debug, Clone)]
pub struct TimeOrder {
    pub spans: Vec<TimeSpan>,
    /// The end of the last sample (µs since the first).
    pub end_us: i64,
    pub max_depth: u32,
    /// Where each depth's spans begin in `spans`.
    by_depth: Vec<usize>,
}

impl TimeOrder {
    /// The spans of `p`'s samples, `None` when it has no sample times. The
    /// last sample lasts as long as the mean gap between samples.
    pub fn new(p: &Profile) -> Option<TimeOrder> {
        let s = p.samples.as_ref().filter(|s| !s.node.is_empty())?;
        let n = p.nodes.parent.len();
        let mut depth = vec![0u32; n];
        for i in 1..n {
            depth[i] = depth[p.nodes.parent[i] as usize] + 1;
        }
        // Open frames, root first: (node, start).
        let mut open: Vec<(u32, i64)> = Vec::new();
        let mut spans = Vec::new();
        let mut path: Vec<u32> = Vec::new();
        let mut t = 0i64;
        let mut first = true;
        for (&leaf, &dt) in s.node.iter().zip(&s.dt_us) {
            if !first {
                t = t.saturating_add(dt.max(0));
            }
            first = false;
            path.clear();
            let mut m = leaf as usize;
            while m != 0 && m < n {
                path.push(m as u32);
                m = p.nodes.parent[m] as usize;
            }
            path.reverse();
            let same = open.iter().zip(&path).take_while(|((a, _), b)| a == *b).count();
            for (node, start) in open.drain(same..).rev() {
                spans.push(TimeSpan { node, depth: depth[node as usize], start_us: start, end_us: t });
            }
            open.extend(path[same..].iter().map(|&x| (x, t)));
        }
        let samples = s.node.len() as i64;
        let gap = if samples > 1 { t / (samples - 1) } else { 1 };
        let end = t.saturating_add(gap.max(1));
        for (node, start) in open.drain(..).rev() {
            spans.push(TimeSpan { node, depth: depth[node as usize], start_us: start, end_us: end });
        }
        spans.sort_by(|a, b| a.depth.cmp(&b.depth).then(a.start_us.cmp(&b.start_us)));
        let max_depth = spans.iter().map(|x| x.depth).max().unwrap_or(0);
        let mut by_depth = vec![spans.len(); max_depth as usize + 2];
        for (k, x) in spans.iter().enumerate().rev() {
            by_depth[x.depth as usize] = k;
        }
        for d in (0..by_depth.len() - 1).rev() {
            by_depth[d] = by_depth[d].min(by_depth[d + 1]);
        }
        Some(TimeOrder { spans, end_us: end, max_depth, by_depth })
    }

    /// Rectangles of the spans in the window `[from_us, to_us)` (x and w as
    /// fractions of the window; depth 1 is the outermost frame, drawn on the
    /// first row), leaving out those narrower than `min_frac`.
    pub fn layout(&self, from_us: i64, to_us: i64, min_frac: f64, out: &mut Vec<FlameRect>) {
        out.clear();
        let width = (to_us - from_us).max(1) as f64;
        for d in 1..=self.max_depth as usize {
            let (a, b) = (self.by_depth[d], self.by_depth[d + 1]);
            let row = &self.spans[a..b];
            // Spans of a depth do not overlap: skip to the first that ends after `from`.
            let k = row.partition_point(|x| x.end_us <= from_us);
            for x in &row[k..] {
                if x.start_us >= to_us {
                    break;
                }
                let s = x.start_us.max(from_us);
                let e = x.end_us.min(to_us);
                let w = (e - s) as f64 / width;
                if w < min_frac {
                    continue;
                }
                out.push(FlameRect { node: x.node, depth: x.depth - 1, x: (s - from_us) as f64 / width, w });
            }
        }
    }

    /// The span of `node` that covers time `at_us`, or the first one of it.
    pub fn span_of(&self, node: u32, at_us: Option<i64>) -> Option<TimeSpan> {
        let mut it = self.spans.iter().filter(|x| x.node == node);
        match at_us {
            Some(t) => self.spans.iter().find(|x| x.node == node && x.start_us <= t && t < x.end_us).copied(),
            None => it.next().copied(),
        }
    }
}

/// The ruler over a window `[from_us, to_us)` of the time order drawn
/// `width_px` wide: round steps (1, 2 or 5 × 10ⁿ µs) at least `min_gap_px`
/// apart, each `(x in px, label)` with the label in ms or s
/// ([`crate::format::amount`]).
pub fn ruler(from_us: i64, to_us: i64, width_px: f64, min_gap_px: f64) -> Vec<(f64, String)> {
    let span = (to_us - from_us).max(1) as f64;
    let most = (width_px / min_gap_px.max(1.0)).floor().max(1.0);
    let step = (0..16)
        .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)))
        .find(|step| span / step <= most)
        .unwrap_or(span / most);
    let mut out = Vec::new();
    let mut t = (from_us as f64 / step).ceil() * step;
    while t <= to_us as f64 && out.len() <= most as usize + 1 {
        let x = (t - from_us as f64) / span * width_px;
        out.push((x, crate::format::amount(t.max(0.0) as u64, "us")));
        t += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ruler_steps_round_and_far_enough_apart() {
        let r = ruler(0, 13_900_000, 1000.0, 80.0);
        assert!(r.len() >= 5 && r.len() <= 13, "{r:?}");
        assert_eq!(r[0], (0.0, "0.00 ms".to_string()));
        assert_eq!(r[1].1, "2.00 s");
        assert!(r.windows(2).all(|w| w[1].0 - w[0].0 >= 80.0 - 1e-9));
        let z = ruler(1_500, 1_800, 600.0, 80.0);
        assert!(z.iter().all(|(x, _)| (0.0..=600.0).contains(x)), "{z:?}");
        assert!(z.len() >= 2);
    }
    use crate::profile::cpuprofile;

    #[test]
    fn spans_follow_the_samples() {
        // Hand-made .cpuprofile: main;a, main;a, main;b, (idle), main;a — 1 ms apart.
        let p = cpuprofile::ingest(
            br#"{"nodes":[{"id":1,"callFrame":{"functionName":"(root)","url":"","lineNumber":-1,"columnNumber":-1},"children":[2,5]},
                {"id":2,"callFrame":{"functionName":"main","url":"/m.js","lineNumber":0,"columnNumber":0},"children":[3,4]},
                {"id":3,"callFrame":{"functionName":"a","url":"/m.js","lineNumber":1,"columnNumber":0}},
                {"id":4,"callFrame":{"functionName":"b","url":"/m.js","lineNumber":2,"columnNumber":0}},
                {"id":5,"callFrame":{"functionName":"(idle)","url":"","lineNumber":-1,"columnNumber":-1}}],
              "startTime":0,"endTime":5000,"samples":[3,3,4,5,3],"timeDeltas":[0,1000,1000,1000,1000]}"#
                .as_slice(),
            "t",
            "t",
        )
        .unwrap();
        let t = TimeOrder::new(&p).unwrap();
        let name = |n: u32| p.frames.name[p.nodes.frame[n as usize] as usize].as_str();
        let got: Vec<(&str, u32, i64, i64)> =
            t.spans.iter().map(|x| (name(x.node), x.depth, x.start_us, x.end_us)).collect();
        // (root) is a frame of the profile at depth 1 when the ingester keeps it; find main's spans.
        let main: Vec<_> = got.iter().filter(|x| x.0 == "main").collect();
        assert_eq!(main.iter().map(|x| (x.2, x.3)).collect::<Vec<_>>(), [(0, 3000), (4000, 5000)]);
        let a: Vec<_> = got.iter().filter(|x| x.0 == "a").map(|x| (x.2, x.3)).collect();
        assert_eq!(a, [(0, 2000), (4000, 5000)]);
        assert_eq!(t.end_us, 5000, "the last sample lasts the mean gap");
        // The window 2–4 ms: b whole, main's first span cut to 2–3 ms.
        let mut r = Vec::new();
        t.layout(2000, 4000, 0.0, &mut r);
        let b = r.iter().find(|x| name(x.node) == "b").unwrap();
        assert_eq!((b.x, b.w), (0.0, 0.5));
        let m = r.iter().find(|x| name(x.node) == "main").unwrap();
        assert_eq!((m.x, m.w), (0.0, 0.5));
        assert!(r.iter().all(|x| name(x.node) != "a"), "a is outside the window");
        assert_eq!(t.span_of(m.node, Some(4500)).map(|x| x.start_us), Some(4000));
        // A profile without sample times has no time order.
        let f = crate::profile::folded::ingest("a;b 1\n".as_bytes(), "f", "f").unwrap();
        assert!(TimeOrder::new(&f).is_none());
    }
}
