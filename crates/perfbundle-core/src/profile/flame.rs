//! Flame graph geometry, independent of how it is drawn: which node goes
//! where for a chosen focus, what a search covers. The viewer paints these
//! rectangles on a canvas.

use super::Profile;

/// Navigation data over a profile's call tree.
#[derive(Debug, Clone)]
pub struct FlameIndex {
    /// Children of each node, ordered by frame label (as flame graphs are).
    pub children: Vec<Vec<u32>>,
    /// Samples (or weight, see [`FlameIndex::by`]) under each node (self + descendants).
    pub totals: Vec<u64>,
    /// Depth of each node (the root is 0).
    pub depth: Vec<u32>,
    pub max_depth: u32,
    /// Siblings are heaviest first: a layout stops at the first too narrow.
    pub heaviest_first: bool,
}

/// A move between frames ([`FlameIndex::step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Parent,
    FirstChild,
    Previous,
    Next,
}

/// One rectangle: a node at a depth, `x` and `w` as fractions of the width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlameRect {
    pub node: u32,
    pub depth: u32,
    pub x: f64,
    pub w: f64,
}

impl FlameIndex {
    /// The index by sample counts.
    pub fn new(p: &Profile) -> Self {
        Self::by(p, false)
    }

    /// The index by weight when `by_weight` and the profile has weights
    /// (perf's periods, wall time: what the source's own tools draw), else
    /// by sample counts — a viewer's samples/weight switch.
    pub fn by(p: &Profile, by_weight: bool) -> Self {
        let mut ix = Self::unordered(p, by_weight);
        ix.sort_by_name(p);
        ix
    }

    /// The index with siblings heaviest first (speedscope's "left heavy"),
    /// by weight when `by_weight` and the profile has weights: no label is
    /// made, so it is the cheaper one to build for a large profile.
    pub fn left_heavy_by(p: &Profile, by_weight: bool) -> Self {
        let mut ix = Self::unordered(p, by_weight);
        ix.sort_heaviest_first();
        ix
    }

    /// Children in node order.
    fn unordered(p: &Profile, by_weight: bool) -> Self {
        let n = p.nodes.parent.len();
        let totals = p.node_totals_by(by_weight);
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut depth = vec![0u32; n];
        for i in 1..n {
            let parent = p.nodes.parent[i] as usize;
            children[parent].push(i as u32);
            depth[i] = depth[parent] + 1;
        }
        let max_depth = depth.iter().copied().max().unwrap_or(0);
        FlameIndex { children, totals, depth, max_depth, heaviest_first: false }
    }

    fn sort_by_name(&mut self, p: &Profile) {
        self.heaviest_first = false;
        let labels: Vec<String> = (0..p.frames.name.len()).map(|f| p.frame_label(f)).collect();
        for c in &mut self.children {
            c.sort_by(|a, b| {
                let fa = p.nodes.frame[*a as usize] as usize;
                let fb = p.nodes.frame[*b as usize] as usize;
                labels[fa].cmp(&labels[fb])
            });
        }
    }

    fn sort_heaviest_first(&mut self) {
        self.heaviest_first = true;
        let totals = &self.totals;
        for c in &mut self.children {
            c.sort_by(|a, b| totals[*b as usize].cmp(&totals[*a as usize]).then(a.cmp(b)));
        }
    }

    /// The same index with siblings by frame label (as flame graphs by name are).
    pub fn by_name(&self, p: &Profile) -> FlameIndex {
        let mut ix = self.clone();
        ix.sort_by_name(p);
        ix
    }

    /// Where a step from `node` lands, moving as keys move in a flame
    /// graph: to the parent, to the first child (in this index's order), or
    /// to the sibling before or after (children with nothing under them are
    /// passed over); `node` itself at an edge.
    pub fn step(&self, p: &Profile, node: u32, step: Step) -> u32 {
        let n = node as usize;
        if n >= self.totals.len() {
            return 0;
        }
        let live = |c: &&u32| self.totals[**c as usize] > 0;
        match step {
            Step::Parent => p.nodes.parent.get(n).map_or(0, |&x| x.max(0) as u32),
            Step::FirstChild => self.children[n].iter().find(live).copied().unwrap_or(node),
            Step::Previous | Step::Next if n == 0 => node,
            Step::Previous | Step::Next => {
                let parent = p.nodes.parent[n].max(0) as usize;
                let sibs: Vec<u32> = self.children[parent].iter().filter(live).copied().collect();
                let k = sibs.iter().position(|&c| c == node).unwrap_or(0);
                let k = if step == Step::Previous {
                    k.saturating_sub(1)
                } else {
                    (k + 1).min(sibs.len().saturating_sub(1))
                };
                sibs.get(k).copied().unwrap_or(node)
            }
        }
    }

    /// The deepest row among `rects` (what a canvas must be tall enough for).
    pub fn rows(rects: &[FlameRect]) -> u32 {
        rects.iter().map(|r| r.depth).max().map_or(1, |d| d + 1)
    }

    /// The path from the root to `node`, root first.
    pub fn ancestors(&self, p: &Profile, node: u32) -> Vec<u32> {
        let mut v = vec![node];
        let mut n = node as usize;
        while n != 0 {
            n = p.nodes.parent[n] as usize;
            v.push(n as u32);
        }
        v.reverse();
        v
    }

    /// Rectangles with `focus` spanning the whole width (its ancestors drawn
    /// full width below it), leaving out those narrower than `min_frac`.
    pub fn layout(&self, p: &Profile, focus: u32, min_frac: f64, out: &mut Vec<FlameRect>) {
        out.clear();
        let focus = focus.min(self.totals.len().saturating_sub(1) as u32);
        for a in self.ancestors(p, focus) {
            if a != focus {
                out.push(FlameRect { node: a, depth: self.depth[a as usize], x: 0.0, w: 1.0 });
            }
        }
        let total = self.totals[focus as usize].max(1) as f64;
        let mut stack: Vec<(u32, f64)> = vec![(focus, 0.0)];
        while let Some((node, x)) = stack.pop() {
            let w = self.totals[node as usize] as f64 / total;
            if w < min_frac {
                continue;
            }
            out.push(FlameRect { node, depth: self.depth[node as usize], x, w });
            let mut cx = x;
            for &c in &self.children[node as usize] {
                let cw = self.totals[c as usize] as f64 / total;
                if cw < min_frac && self.heaviest_first {
                    break; // the rest are narrower still
                }
                stack.push((c, cx));
                cx += cw;
            }
        }
    }

    /// Nodes whose frame `matches`, and the samples under them (each sample
    /// counted once, however many matching frames its stack holds).
    pub fn search(&self, p: &Profile, matches: &dyn Fn(usize) -> bool) -> (Vec<bool>, u64) {
        let n = p.nodes.parent.len();
        let mut hit = vec![false; n];
        let mut covered = 0u64;
        let mut under_hit = vec![false; n];
        for i in 1..n {
            let parent = p.nodes.parent[i] as usize;
            hit[i] = matches(p.nodes.frame[i] as usize);
            under_hit[i] = under_hit[parent] || hit[parent];
            if hit[i] && !under_hit[i] {
                covered += self.totals[i];
            }
        }
        (hit, covered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::folded;

    #[test]
    fn lays_out_and_searches() {
        let p = folded::ingest("a;b 3\na;c 1\nd 4\na;b;a 2\n".as_bytes(), "t", "t").unwrap();
        let ix = FlameIndex::new(&p);
        let mut r = Vec::new();
        ix.layout(&p, 0, 0.0, &mut r);
        assert_eq!(r[0], FlameRect { node: 0, depth: 0, x: 0.0, w: 1.0 });
        let name = |rect: &FlameRect| match p.nodes.frame[rect.node as usize] {
            f if f < 0 => "all".to_string(),
            f => p.frames.name[f as usize].clone(),
        };
        let a = *r.iter().find(|x| x.depth == 1 && name(x) == "a").unwrap();
        assert!((a.w - 0.6).abs() < 1e-12 && a.x == 0.0);
        let d = r.iter().find(|x| name(x) == "d").unwrap();
        assert!((d.x - 0.6).abs() < 1e-12);
        // Zoom into a: a spans the width, the root stays below it.
        ix.layout(&p, a.node, 0.0, &mut r);
        assert!(r.iter().any(|x| x.node == 0 && x.w == 1.0));
        assert!(r.iter().any(|x| x.node == a.node && x.w == 1.0));
        assert!(!r.iter().any(|x| name(x) == "d"));
        // "a" appears twice on one stack: its samples count once.
        let (hit, covered) = ix.search(&p, &|f| p.frames.name[f] == "a");
        assert_eq!(hit.iter().filter(|h| **h).count(), 2);
        assert_eq!(covered, 6);
        // Narrow rectangles are left out.
        ix.layout(&p, 0, 0.15, &mut r);
        assert!(!r.iter().any(|x| name(x) == "c"));
    }

    #[test]
    fn left_heavy_puts_the_widest_sibling_first() {
        // Hand-made stacks: alphabetically a comes first, by weight d.
        let p = folded::ingest("a;b 3\na;c 1\nd 5\n".as_bytes(), "t", "t").unwrap();
        let ix = FlameIndex::left_heavy_by(&p, false);
        assert_eq!(ix.by_name(&p).children, FlameIndex::new(&p).children);
        let name = |n: u32| p.frames.name[p.nodes.frame[n as usize] as usize].clone();
        assert_eq!(ix.children[0].iter().map(|&n| name(n)).collect::<Vec<_>>(), ["d", "a"]);
        let mut r = Vec::new();
        ix.layout(&p, 0, 0.0, &mut r);
        let d = r.iter().find(|x| x.node != 0 && name(x.node) == "d").unwrap();
        assert_eq!(d.x, 0.0);
        assert_eq!(FlameIndex::rows(&r), 3);
        // Narrow frames left out: the rows drawn shrink with them.
        ix.layout(&p, 0, 0.2, &mut r);
        assert_eq!(FlameIndex::rows(&r), 3);
        ix.layout(&p, 0, 0.4, &mut r);
        assert_eq!(FlameIndex::rows(&r), 2);
        // Keys: down to the heaviest child, across to its sibling, up to the parent.
        let first = ix.step(&p, 0, Step::FirstChild);
        assert_eq!(name(first), "d");
        let a = ix.step(&p, first, Step::Next);
        assert_eq!(name(a), "a");
        assert_eq!(ix.step(&p, a, Step::Next), a, "the last sibling stays");
        assert_eq!(ix.step(&p, a, Step::Previous), first);
        assert_eq!(name(ix.step(&p, a, Step::FirstChild)), "b");
        assert_eq!(ix.step(&p, ix.step(&p, a, Step::FirstChild), Step::Parent), a);
        assert_eq!(ix.step(&p, 0, Step::Parent), 0);
        assert_eq!(ix.step(&p, first, Step::FirstChild), first, "a leaf has no child");
    }

    #[test]
    fn by_weight_where_the_profile_has_weights() {
        // Hand-made perf script: work once with period 900, main twice with period 100.
        let text = "x 1 1.000001: 900 cycles:\n\t a work (/x)\n\t b main (/x)\n\nx 1 1.000002: 100 cycles:\n\t b main (/x)\n\nx 1 1.000003: 100 cycles:\n\t b main (/x)\n";
        let p = crate::profile::perf::ingest(text.as_bytes(), "t", "t").unwrap();
        let by_samples = FlameIndex::new(&p);
        let by_weight = FlameIndex::by(&p, true);
        let work = (1..p.nodes.parent.len()).find(|&i| p.frames.name[p.nodes.frame[i] as usize] == "work").unwrap();
        assert_eq!((by_samples.totals[work], by_samples.totals[0]), (1, 3));
        assert_eq!((by_weight.totals[work], by_weight.totals[0]), (900, 1100));
        // A profile without weights draws by samples either way.
        let f = folded::ingest("a;b 3\n".as_bytes(), "f", "f").unwrap();
        assert_eq!(FlameIndex::by(&f, true).totals, FlameIndex::new(&f).totals);
    }
}
