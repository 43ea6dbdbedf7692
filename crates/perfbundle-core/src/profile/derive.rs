//! Profiles derived from a profile for the viewer's other views, each a
//! real [`Profile`] (so the same flame graph code draws it and the same
//! function table lists it): without some categories (hide idle), inverted
//! (the bottom-up call tree), and the two halves of a sandwich (the callers
//! and the callees of one function). Frame tables are shared as they are.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{Category, NodeTable, Profile, SampleTable};

/// A profile as a CPU view draws and ranks it: by default without its idle
/// samples (the event loop waiting: 85% of a `.cpuprofile` of a lightly
/// loaded server), whose share is said once in words instead ([`CpuView::note`]).
#[derive(Debug, Clone)]
pub struct CpuView<'a> {
    /// The profile drawn: without idle, or the whole one.
    pub profile: Cow<'a, Profile>,
    /// Idle samples of the whole profile.
    pub idle_samples: u64,
    /// Samples of the whole profile.
    pub of: u64,
    /// Whether idle is left out (`false`: drawn, when asked for).
    pub idle_left_out: bool,
}

impl CpuView<'_> {
    /// The one line that says what is not drawn: `idle 85.12% of samples, not drawn`;
    /// `None` when the profile has no idle sample, or idle is drawn.
    pub fn note(&self) -> Option<String> {
        (self.idle_left_out && self.idle_samples > 0).then(|| idle_note(self.idle_samples, self.of))
    }
}

/// `idle 85.12% of samples, not drawn`: `idle` of `of` samples left out.
pub fn idle_note(idle: u64, of: u64) -> String {
    format!("idle {} of samples, not drawn", crate::format::share(idle, of))
}

/// A call tree under construction over an existing frame table.
struct Tree {
    nodes: NodeTable,
    weighted: bool,
    child: HashMap<(u32, i64), u32>,
}

impl Tree {
    fn new(weighted: bool) -> Tree {
        let nodes = NodeTable {
            parent: vec![-1],
            frame: vec![-1],
            self_samples: vec![0],
            self_weight: if weighted { vec![0] } else { Vec::new() },
        };
        Tree { nodes, weighted, child: HashMap::new() }
    }

    /// The child of `parent` for `frame`, made when new.
    fn child(&mut self, parent: u32, frame: i64) -> u32 {
        let n = &mut self.nodes;
        let w = self.weighted;
        *self.child.entry((parent, frame)).or_insert_with(|| {
            n.parent.push(i64::from(parent));
            n.frame.push(frame);
            n.self_samples.push(0);
            if w {
                n.self_weight.push(0);
            }
            (n.parent.len() - 1) as u32
        })
    }

    fn add(&mut self, node: u32, samples: u64, weight: u64) {
        self.nodes.self_samples[node as usize] += samples;
        if self.weighted {
            let w = &mut self.nodes.self_weight[node as usize];
            *w = w.saturating_add(weight);
        }
    }

    /// The profile of this tree, named `name`, over `of`'s frames.
    fn profile(self, of: &Profile, name: String) -> Profile {
        let total = self.nodes.self_samples.iter().sum();
        Profile {
            name,
            source: of.source.clone(),
            total_samples: total,
            weight_unit: if self.weighted { of.weight_unit.clone() } else { None },
            start_unix_us: None,
            start_us: None,
            clock: None,
            clock_ref: None,
            duration_us: None,
            tools: of.tools.clone(),
            frames: of.frames.clone(),
            nodes: self.nodes,
            samples: None,
        }
    }
}

impl Profile {
    /// Samples whose leaf frame is idle.
    pub fn idle_samples(&self) -> u64 {
        (1..self.nodes.parent.len())
            .filter(|&n| {
                let f = self.nodes.frame[n];
                f >= 0 && self.frames.category[f as usize] == Category::Idle
            })
            .map(|n| self.nodes.self_samples[n])
            .sum()
    }

    /// The profile as CPU views draw it: without idle unless `with_idle`
    /// (borrowed as it is when it has no idle sample).
    pub fn cpu_view(&self, with_idle: bool) -> CpuView<'_> {
        let idle = self.idle_samples();
        let profile = if with_idle || idle == 0 {
            Cow::Borrowed(self)
        } else {
            Cow::Owned(self.without_categories(&[Category::Idle]))
        };
        CpuView { profile, idle_samples: idle, of: self.total_samples, idle_left_out: !with_idle }
    }

    fn weight_of(&self, node: usize) -> u64 {
        self.nodes.self_weight.get(node).copied().unwrap_or(0)
    }

    /// The profile without the samples whose leaf frame is of a `hidden`
    /// category (hide idle: shares are then of the rest). The tree, the
    /// frames and the times of the samples kept are unchanged.
    pub fn without_categories(&self, hidden: &[Category]) -> Profile {
        let hide = |node: usize| {
            let f = self.nodes.frame[node];
            f >= 0 && hidden.contains(&self.frames.category[f as usize])
        };
        let mut p = self.clone();
        for i in 1..p.nodes.parent.len() {
            if hide(i) {
                p.nodes.self_samples[i] = 0;
                if let Some(w) = p.nodes.self_weight.get_mut(i) {
                    *w = 0;
                }
            }
        }
        p.total_samples = p.nodes.self_samples.iter().sum();
        if let Some(s) = &self.samples {
            let mut kept = SampleTable::default();
            let mut carry = 0i64;
            for (k, (&node, &dt)) in s.node.iter().zip(&s.dt_us).enumerate() {
                carry = carry.saturating_add(dt);
                if hide(node as usize) {
                    continue;
                }
                kept.node.push(node);
                kept.dt_us.push(carry);
                carry = 0;
                if let Some(w) = s.weight.get(k) {
                    kept.weight.push(*w);
                }
            }
            p.samples = Some(kept);
        }
        p
    }

    /// The inverted (bottom-up) call tree: under the root, each function
    /// where samples ended, then the functions that called it, up to the
    /// outermost; a node's total is the samples of its path.
    pub fn inverted(&self) -> Profile {
        let weighted = self.has_weights();
        let mut t = Tree::new(weighted);
        for i in 1..self.nodes.parent.len() {
            let (s, w) = (self.nodes.self_samples[i], self.weight_of(i));
            if s == 0 && w == 0 {
                continue;
            }
            let mut at = 0u32;
            let mut n = i;
            while n != 0 {
                at = t.child(at, self.nodes.frame[n]);
                n = self.nodes.parent[n] as usize;
            }
            t.add(at, s, w);
        }
        t.profile(self, format!("{} (inverted)", self.name))
    }

    /// The callees of a function (`is_function` tells its frames): its
    /// calls merged into one tree under it, each sample under it counted
    /// once (at its outermost call, under recursion).
    pub fn callees_of(&self, is_function: &dyn Fn(usize) -> bool) -> Profile {
        let weighted = self.has_weights();
        let mut t = Tree::new(weighted);
        let n = self.nodes.parent.len();
        let mut map: Vec<Option<u32>> = vec![None; n];
        for i in 1..n {
            let f = self.nodes.frame[i];
            let parent = map[self.nodes.parent[i] as usize];
            map[i] = match parent {
                Some(p) => Some(t.child(p, f)),
                None if is_function(f as usize) => Some(t.child(0, f)),
                None => None,
            };
            if let Some(m) = map[i] {
                t.add(m, self.nodes.self_samples[i], self.weight_of(i));
            }
        }
        t.profile(self, format!("callees in {}", self.name))
    }

    /// The callers of a function: under the root the function, then who
    /// called it, up to the outermost frame (each sample counted once, from
    /// the function's outermost call).
    pub fn callers_of(&self, is_function: &dyn Fn(usize) -> bool) -> Profile {
        let weighted = self.has_weights();
        let mut t = Tree::new(weighted);
        let n = self.nodes.parent.len();
        // The outermost call of the function on each node's path.
        let mut outer: Vec<u32> = vec![0; n];
        let mut made: HashMap<u32, u32> = HashMap::new();
        for i in 1..n {
            let p = outer[self.nodes.parent[i] as usize];
            outer[i] = if p != 0 {
                p
            } else if is_function(self.nodes.frame[i] as usize) {
                i as u32
            } else {
                0
            };
            let (s, w) = (self.nodes.self_samples[i], self.weight_of(i));
            if outer[i] == 0 || (s == 0 && w == 0) {
                continue;
            }
            let a = outer[i];
            let at = match made.get(&a) {
                Some(&x) => x,
                None => {
                    let mut at = 0u32;
                    let mut m = a as usize;
                    while m != 0 {
                        at = t.child(at, self.nodes.frame[m]);
                        m = self.nodes.parent[m] as usize;
                    }
                    made.insert(a, at);
                    at
                }
            };
            t.add(at, s, w);
        }
        t.profile(self, format!("callers in {}", self.name))
    }
}

#[cfg(test)]
mod tests {
    use crate::profile::{folded, Category, Profile};

    fn prof(text: &str) -> Profile {
        // Hand-made folded stacks.
        folded::ingest(text.as_bytes(), "t", "t").unwrap()
    }

    fn stacks(p: &Profile) -> Vec<String> {
        p.folded(false)
    }

    #[test]
    fn each_frame_knows_its_function_in_the_ranking() {
        let p = prof("main;a;work 3\nmain;b;work 2\nmain;a 1\n");
        let (list, of_frame) = p.functions_by_frame();
        assert_eq!(list, p.functions());
        assert_eq!(of_frame.len(), p.frames.name.len());
        for (fr, k) in of_frame.iter().enumerate() {
            assert_eq!(list[*k as usize].function, p.frames.name[fr]);
        }
        assert_eq!(list[of_frame[p.frames.name.iter().position(|n| n == "work").unwrap()] as usize].self_samples, 5);
    }

    #[test]
    fn the_cpu_view_leaves_idle_out_and_says_so() {
        // Hand-made: 85 idle samples of 100, as a lightly loaded server's .cpuprofile has them.
        let p = prof("(root);(idle) 85\n(root);main;work 15\n");
        assert_eq!(p.idle_samples(), 85);
        let v = p.cpu_view(false);
        assert_eq!(v.profile.total_samples, 15);
        assert_eq!(v.note().as_deref(), Some("idle 85.00% of samples, not drawn"));
        assert!(v.profile.folded(false).iter().all(|l| !l.contains("(idle)")));
        let all = p.cpu_view(true);
        assert_eq!((all.profile.total_samples, all.note()), (100, None));
        let busy = prof("main;work 3\n");
        let none = busy.cpu_view(false);
        assert!(matches!(none.profile, std::borrow::Cow::Borrowed(_)) && none.note().is_none());
    }

    #[test]
    fn inverted_lists_leaves_first() {
        let p = prof("main;a;work 3\nmain;b;work 2\nmain;a 1\n");
        let inv = p.inverted();
        inv.validate().unwrap();
        assert_eq!(inv.total_samples, 6);
        assert_eq!(stacks(&inv), ["a;main 1", "work;a;main 3", "work;b;main 2"]);
    }

    #[test]
    fn a_sandwich_of_callers_and_callees() {
        // work is called from a and b; under recursion (work;work) each sample counts once.
        let p = prof("main;a;work;x 3\nmain;b;work 2\nmain;a 1\nmain;a;work;work;y 4\n");
        let is_work = |f: usize| p.frames.name[f] == "work";
        let callees = p.callees_of(&is_work);
        callees.validate().unwrap();
        assert_eq!(stacks(&callees), ["work 2", "work;work;y 4", "work;x 3"]);
        let callers = p.callers_of(&is_work);
        callers.validate().unwrap();
        assert_eq!(stacks(&callers), ["work;a;main 7", "work;b;main 2"]);
        // Both halves total the function's own total.
        let total = p.functions().into_iter().find(|f| f.function == "work").unwrap().total_samples;
        assert_eq!((callees.total_samples, callers.total_samples), (total, total));
    }

    #[test]
    fn hiding_a_category_drops_its_samples_and_keeps_times() {
        let mut p = crate::profile::cpuprofile::ingest(
            // Hand-made .cpuprofile: main, then (idle) twice, then main; 1 ms apart.
            br#"{"nodes":[{"id":1,"callFrame":{"functionName":"(root)","url":"","lineNumber":-1,"columnNumber":-1},"children":[2,3]},
                {"id":2,"callFrame":{"functionName":"main","url":"/a.js","lineNumber":0,"columnNumber":0}},
                {"id":3,"callFrame":{"functionName":"(idle)","url":"","lineNumber":-1,"columnNumber":-1}}],
              "startTime":0,"endTime":4000,"samples":[2,3,3,2],"timeDeltas":[0,1000,1000,1000]}"#
                .as_slice(),
            "t",
            "t",
        )
        .unwrap();
        p.start_unix_us = Some(0);
        let busy = p.without_categories(&[Category::Idle]);
        busy.validate().unwrap();
        assert_eq!(busy.total_samples, 2);
        let s = busy.samples.as_ref().unwrap();
        assert_eq!(s.dt_us, [0, 3000], "the second main sample stays at 3 ms");
        assert_eq!(busy.functions().iter().find(|f| f.function == "main").unwrap().self_samples, 2);
        // Where was main slow: its share of samples per 2 ms bucket (main at 0 and 3 ms, idle at 1 and 2 ms).
        let is_main = |f: usize| p.frames.name[f] == "main";
        assert_eq!(p.share_over_time(&is_main, (0.0, 4.0), 2.0), Some(vec![(0.0, 0.5), (2.0, 0.5)]));
        assert_eq!(p.share_over_time(&is_main, (0.0, 1.0), 1.0), Some(vec![(0.0, 1.0)]));
        let chart = crate::render::charts::function_share_chart(&p, ("main", "/a.js"), (0.0, 4.0)).unwrap();
        assert_eq!(chart.chart.contains, "percent");
        assert!(!chart.chart.lines[0].points.is_empty());
        let folded = crate::profile::folded::ingest("a;b 1\n".as_bytes(), "f", "f").unwrap();
        assert!(folded.share_over_time(&is_main, (0.0, 4.0), 1.0).is_none(), "no sample times");
    }
}
