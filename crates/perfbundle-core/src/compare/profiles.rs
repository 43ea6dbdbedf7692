//! Comparing two profiles: pairing them across bundles, the functions whose
//! share of the samples moved most, the differential folded stacks
//! (`inferno-diff-folded`'s output), and the union call tree that the
//! differential flame graphs draw.
//!
//! Functions are paired as a [`FrameMatch`] says: by default by name and the
//! file's module identity, not line and not the version-like parts of its
//! path, so an edit that moves a function down its file, or a release that
//! renames `server-v1.js` to `server-v2.js`, still pairs it with itself.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::profile::{Category, FrameMatch, FrameTable, NodeTable, Profile};

/// A pair of profiles to compare, by index into each side's profiles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    pub base: usize,
    pub candidate: usize,
}

/// Pairs, then the unpaired names of the base and of the candidate.
pub type Pairing = (Vec<Pair>, Vec<String>, Vec<String>);

/// Which bundle of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Base,
    Candidate,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Base => "base",
            Side::Candidate => "candidate",
        })
    }
}

/// Why profiles could not be paired.
#[derive(Debug, Error, PartialEq)]
pub enum PairError {
    /// An explicit pair (`--pair BASE=CANDIDATE`) names a profile that one side does not have.
    #[error("--pair {base}={candidate}: the {side} has no profile {name:?} (it has: {})", available.join(", "))]
    NoSuchProfile { base: String, candidate: String, side: Side, name: String, available: Vec<String> },
}

/// Pairs profiles: first the explicit `(base name, candidate name)` pairs,
/// then equal names, then by source kind where each side has exactly one
/// unpaired profile of that kind. Returns the pairs and the unpaired names
/// of each side. An explicit pair naming a missing profile is an error.
pub fn pair_profiles(base: &[Profile], cand: &[Profile], explicit: &[(String, String)]) -> Result<Pairing, PairError> {
    let mut pairs = Vec::new();
    let mut used_b = vec![false; base.len()];
    let mut used_c = vec![false; cand.len()];
    let names = |ps: &[Profile]| ps.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    for (bn, cn) in explicit {
        let missing = |side, name: &str, ps: &[Profile]| PairError::NoSuchProfile {
            base: bn.clone(),
            candidate: cn.clone(),
            side,
            name: name.to_string(),
            available: names(ps),
        };
        let b = base.iter().position(|p| &p.name == bn).ok_or_else(|| missing(Side::Base, bn, base))?;
        let c = cand.iter().position(|p| &p.name == cn).ok_or_else(|| missing(Side::Candidate, cn, cand))?;
        used_b[b] = true;
        used_c[c] = true;
        pairs.push(Pair { base: b, candidate: c });
    }
    for b in 0..base.len() {
        if used_b[b] {
            continue;
        }
        if let Some(c) = (0..cand.len()).find(|&c| !used_c[c] && cand[c].name == base[b].name) {
            used_b[b] = true;
            used_c[c] = true;
            pairs.push(Pair { base: b, candidate: c });
        }
    }
    let mut kinds: Vec<&str> = base.iter().map(|p| p.source.as_str()).collect();
    kinds.dedup();
    for kind in kinds {
        let bs: Vec<usize> = (0..base.len()).filter(|&i| !used_b[i] && base[i].source == kind).collect();
        let cs: Vec<usize> = (0..cand.len()).filter(|&i| !used_c[i] && cand[i].source == kind).collect();
        if let ([b], [c]) = (bs.as_slice(), cs.as_slice()) {
            used_b[*b] = true;
            used_c[*c] = true;
            pairs.push(Pair { base: *b, candidate: *c });
        }
    }
    let left = |ps: &[Profile], used: &[bool]| {
        ps.iter().zip(used).filter(|(_, u)| !**u).map(|(p, _)| p.name.clone()).collect::<Vec<_>>()
    };
    Ok((pairs, left(base, &used_b), left(cand, &used_c)))
}

/// One function's samples on each side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionChange {
    pub function: String,
    /// The candidate's file (the base's for a function gone in the candidate).
    pub file: String,
    /// The base's file, when it differs from `file` (a function whose file moved).
    pub base_file: Option<String>,
    pub base_self: u64,
    pub candidate_self: u64,
    pub base_total: u64,
    pub candidate_total: u64,
    /// Self samples over the profile's samples (0..1).
    pub base_share: f64,
    pub candidate_share: f64,
    pub base_total_share: f64,
    pub candidate_total_share: f64,
}

/// Every function of either profile with a sample, paired as `m` says,
/// sorted by the absolute change of its self share, largest first (ties by name).
pub fn function_changes(base: &Profile, cand: &Profile, m: FrameMatch) -> Vec<FunctionChange> {
    let share = |x: u64, n: u64| if n == 0 { 0.0 } else { x as f64 / n as f64 };
    // Key → (base name and file, candidate name and file, [bs, cs, bt, ct]).
    type Sides = (Option<(String, String)>, Option<(String, String)>, [u64; 4]);
    let mut by: BTreeMap<String, Sides> = BTreeMap::new();
    for (key, f) in base.functions_matched(m) {
        let e = by.entry(key).or_default();
        e.0 = Some((f.function, f.file));
        e.2[0] = f.self_samples;
        e.2[2] = f.total_samples;
    }
    for (key, f) in cand.functions_matched(m) {
        let e = by.entry(key).or_default();
        e.1 = Some((f.function, f.file));
        e.2[1] = f.self_samples;
        e.2[3] = f.total_samples;
    }
    let (nb, nc) = (base.total_samples, cand.total_samples);
    let mut out: Vec<FunctionChange> = by
        .into_values()
        // A function with no sample on either side (a category left out) is not a change.
        .filter(|(_, _, [_, _, bt, ct])| *bt > 0 || *ct > 0)
        .map(|(b, c, [bs, cs, bt, ct])| {
            let (function, file) = c.clone().or_else(|| b.clone()).unwrap_or_default();
            let base_file = b.map(|(_, f)| f).filter(|f| *f != file);
            FunctionChange {
                function,
                file,
                base_file,
                base_self: bs,
                candidate_self: cs,
                base_total: bt,
                candidate_total: ct,
                base_share: share(bs, nb),
                candidate_share: share(cs, nc),
                base_total_share: share(bt, nb),
                candidate_total_share: share(ct, nc),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let da = (a.candidate_share - a.base_share).abs();
        let db = (b.candidate_share - b.base_share).abs();
        db.total_cmp(&da).then_with(|| a.function.cmp(&b.function)).then_with(|| a.file.cmp(&b.file))
    });
    out
}

/// Differential folded stacks, as `inferno-diff-folded` writes them for the
/// two profiles' folded stacks: `stack base_count candidate_count`, one line
/// per stack of either side, sorted.
pub fn diff_folded(base: &Profile, cand: &Profile) -> Vec<String> {
    let mut by: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let split = |l: &str| l.rsplit_once(' ').map(|(s, c)| (s.to_string(), c.parse::<u64>().unwrap_or(0)));
    for (s, c) in base.folded(true).iter().filter_map(|l| split(l)) {
        by.entry(s).or_default().0 += c;
    }
    for (s, c) in cand.folded(true).iter().filter_map(|l| split(l)) {
        by.entry(s).or_default().1 += c;
    }
    by.into_iter().map(|(s, (a, b))| format!("{s} {a} {b}")).collect()
}

/// The union of two call trees, for differential flame graphs. `profile` is
/// a real [`Profile`] (so every flame graph code draws it) whose node
/// weights are the mean of each side's share, in billionths: a stack present
/// on either side has width. The per-node figures of each side are kept
/// alongside.
#[derive(Debug, Clone)]
pub struct DiffTree {
    pub profile: Profile,
    /// The candidate's file of each frame where it differs from the base's
    /// (a function whose file moved), else `""`.
    pub candidate_file: Vec<String>,
    pub base_self: Vec<u64>,
    pub candidate_self: Vec<u64>,
    pub base_total: Vec<u64>,
    pub candidate_total: Vec<u64>,
    pub base_samples: u64,
    pub candidate_samples: u64,
}

/// Layout weight of a whole tree: shares in billionths.
const SCALE: f64 = 1e9;

impl DiffTree {
    /// The union of `base`'s and `cand`'s call trees, frames paired as `m` says.
    pub fn new(base: &Profile, cand: &Profile, m: FrameMatch) -> DiffTree {
        let mut frames = FrameTable::default();
        let mut candidate_file: Vec<String> = Vec::new();
        let mut frame_ids: HashMap<String, i64> = HashMap::new();
        let mut nodes = NodeTable { parent: vec![-1], frame: vec![-1], self_samples: vec![0], self_weight: Vec::new() };
        let mut children: HashMap<(usize, i64), usize> = HashMap::new();
        let mut sides: [Vec<u64>; 2] = [vec![0], vec![0]];
        for (side, p) in [base, cand].into_iter().enumerate() {
            let mut map = vec![0usize; p.nodes.parent.len()];
            let pf = &p.frames;
            // The union's frame of each of this side's frames.
            let mut union_frame = vec![-1i64; pf.name.len()];
            for i in 1..p.nodes.parent.len() {
                let fr = p.nodes.frame[i] as usize;
                if union_frame[fr] < 0 {
                    let key = m.key(&pf.name[fr], &pf.file[fr], pf.line[fr], pf.col[fr]);
                    let mut added = false;
                    let id = *frame_ids.entry(key).or_insert_with(|| {
                        added = true;
                        frames.name.push(pf.name[fr].clone());
                        frames.file.push(pf.file[fr].clone());
                        frames.line.push(pf.line[fr]);
                        frames.col.push(pf.col[fr]);
                        frames.category.push(pf.category[fr]);
                        candidate_file.push(String::new());
                        (frames.name.len() - 1) as i64
                    });
                    if !added && side == 1 && frames.file[id as usize] != pf.file[fr] {
                        candidate_file[id as usize] = pf.file[fr].clone();
                    }
                    union_frame[fr] = id;
                }
                let f = union_frame[fr];
                let parent = map[p.nodes.parent[i] as usize];
                let node = *children.entry((parent, f)).or_insert_with(|| {
                    nodes.parent.push(parent as i64);
                    nodes.frame.push(f);
                    nodes.self_samples.push(0);
                    sides[0].push(0);
                    sides[1].push(0);
                    nodes.parent.len() - 1
                });
                map[i] = node;
                sides[side][node] += p.nodes.self_samples[i];
            }
        }
        let (nb, nc) = (base.total_samples, cand.total_samples);
        let share = |x: u64, n: u64| if n == 0 { 0.0 } else { x as f64 / n as f64 };
        for (w, (b, c)) in nodes.self_samples.iter_mut().zip(sides[0].iter().zip(&sides[1])) {
            *w = ((share(*b, nb) + share(*c, nc)) / 2.0 * SCALE).round() as u64;
        }
        let total: u64 = nodes.self_samples.iter().sum();
        let totals = |s: &[u64]| {
            let mut t = s.to_vec();
            for i in (1..t.len()).rev() {
                let p = nodes.parent[i] as usize;
                t[p] += t[i];
            }
            t
        };
        let base_total = totals(&sides[0]);
        let candidate_total = totals(&sides[1]);
        let profile = Profile {
            name: format!("{} → {}", base.name, cand.name),
            source: base.source.clone(),
            total_samples: total,
            weight_unit: None,
            start_unix_us: None,
            start_us: None,
            clock: None,
            clock_ref: None,
            duration_us: None,
            tools: Default::default(),
            frames,
            nodes,
            samples: None,
        };
        let [base_self, candidate_self] = sides;
        DiffTree {
            profile,
            candidate_file,
            base_self,
            candidate_self,
            base_total,
            candidate_total,
            base_samples: nb,
            candidate_samples: nc,
        }
    }

    /// A node's share of each side's samples (total, including descendants).
    pub fn shares(&self, node: usize) -> (f64, f64) {
        let share = |x: u64, n: u64| if n == 0 { 0.0 } else { x as f64 / n as f64 };
        (share(self.base_total[node], self.base_samples), share(self.candidate_total[node], self.candidate_samples))
    }

    /// The largest change of total share of any node (for colour intensity).
    pub fn max_change(&self) -> f64 {
        (1..self.profile.nodes.parent.len())
            .map(|i| {
                let (b, c) = self.shares(i);
                (c - b).abs()
            })
            .fold(0.0, f64::max)
    }

    /// A node's colour as inferno's differential flame graphs have it: red
    /// where the share grew, blue where it shrank, white-ish for no change,
    /// saturation by the size of the change relative to the largest.
    pub fn color(&self, node: usize, max_change: f64) -> (u8, u8, u8) {
        let (b, c) = self.shares(node);
        let d = c - b;
        if max_change <= 0.0 || d == 0.0 {
            return (250, 250, 250);
        }
        let fade = (210.0 * (1.0 - (d.abs() / max_change).min(1.0))).round() as u8;
        if d > 0.0 {
            (255, fade, fade)
        } else {
            (fade, fade, 255)
        }
    }

    /// A node's tooltip: both sides' samples and shares, and the change.
    pub fn tooltip(&self, node: usize) -> String {
        let (b, c) = self.shares(node);
        let fr = self.profile.nodes.frame[node].max(0) as usize;
        let moved = match self.candidate_file.get(fr) {
            Some(f) if !f.is_empty() => format!("\nin the candidate: {f}"),
            _ => String::new(),
        };
        format!(
            "{}{moved}\nbase: {} samples ({})\ncandidate: {} samples ({})\nchange: {} of share",
            self.profile.frame_label(fr),
            self.base_total[node],
            crate::format::pct(b),
            self.candidate_total[node],
            crate::format::pct(c),
            crate::format::points(c - b)
        )
    }

    /// The category of a node's frame.
    pub fn category(&self, node: usize) -> Category {
        self.profile.frames.category[self.profile.nodes.frame[node].max(0) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::folded;

    fn prof(name: &str, text: &str) -> Profile {
        folded::ingest(text.as_bytes(), name, name).unwrap()
    }

    #[test]
    fn the_union_tree_keeps_stacks_of_both_sides() {
        // Hand-made folded stacks: `gone` exists only in the base, `new` only in the candidate.
        let a = prof("a", "main;work 60\nmain;gone 40\n");
        let b = prof("b", "main;work 30\nmain;new 10\n");
        let t = DiffTree::new(&a, &b, FrameMatch::default());
        t.profile.validate().unwrap();
        let find = |name: &str| {
            (1..t.profile.nodes.parent.len())
                .find(|&i| t.profile.frames.name[t.profile.nodes.frame[i] as usize] == name)
                .unwrap()
        };
        let gone = find("gone");
        assert_eq!((t.base_total[gone], t.candidate_total[gone]), (40, 0));
        assert!(t.profile.nodes.self_samples[gone] > 0, "a vanished stack keeps width");
        let new = find("new");
        assert_eq!(t.shares(new), (0.0, 0.25));
        assert_eq!(t.color(gone, t.max_change()).2, 255, "shrank: blue");
        assert_eq!(t.color(new, t.max_change()).0, 255, "grew: red");
        assert!(t.tooltip(gone).contains("base: 40 samples (40.00%)"));
        let ch = function_changes(&a, &b, FrameMatch::default());
        assert_eq!(ch[0].function, "gone");
        assert_eq!(diff_folded(&a, &b), vec!["main;gone 40 0", "main;new 0 10", "main;work 60 30"]);
    }

    #[test]
    fn pairs_by_name_then_by_kind_then_not_at_all() {
        let a = vec![prof("x.folded", "a 1\n"), prof("y.folded", "a 1\n")];
        let b = vec![prof("y.folded", "a 1\n"), prof("z.folded", "a 1\n"), prof("w.folded", "a 1\n")];
        let (pairs, lb, lc) = pair_profiles(&a, &b, &[]).unwrap();
        assert_eq!(pairs, vec![Pair { base: 1, candidate: 0 }]);
        assert_eq!((lb, lc), (vec!["x.folded".to_string()], vec!["z.folded".to_string(), "w.folded".to_string()]));
        let (pairs, _, _) = pair_profiles(&a, &b, &[("x.folded".into(), "w.folded".into())]).unwrap();
        assert_eq!(pairs[0], Pair { base: 0, candidate: 2 });
        assert!(pair_profiles(&a, &b, &[("nope".into(), "w.folded".into())])
            .unwrap_err()
            .to_string()
            .contains("no profile"));
    }
}
