//! The profile side of the model: one stack model for every profiler.
//!
//! A [`Profile`] has a frame table (deduplicated), a call tree whose nodes
//! carry self sample counts (and self weights in time where the source has
//! them), and, where the source timestamps its samples, the node and time of
//! each sample so that a time range can be cut out later. Ingesters build one
//! through a [`ProfileBuilder`], one module per source format.

mod builder;
pub mod category;
pub mod clinic_flame;
pub mod cpuprofile;
pub mod flame;
pub mod folded;
pub mod perf;
pub mod v8log;

pub use builder::ProfileBuilder;
pub use category::{categorize, Category};

use serde::{Deserialize, Serialize};

/// One function (or native symbol) as the profiler named it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Frame {
    pub name: String,
    /// File path or URL, `""` when unknown.
    pub file: String,
    /// 1-based line and column, 0 when unknown.
    pub line: u32,
    pub col: u32,
    pub category: Category,
}

/// The frame table, column-wise (`profiles/*.json` → `frames`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FrameTable {
    pub name: Vec<String>,
    pub file: Vec<String>,
    pub line: Vec<u32>,
    pub col: Vec<u32>,
    pub category: Vec<Category>,
}

/// The call tree, column-wise. Node 0 is the root (no frame: `frame` is
/// -1); every other node's `parent` is a lower index.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NodeTable {
    pub parent: Vec<i64>,
    pub frame: Vec<i64>,
    /// Samples whose leaf is this node.
    #[serde(rename = "self")]
    pub self_samples: Vec<u64>,
    /// Self weight in `weight_unit`, when the source has one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub self_weight: Vec<u64>,
}

/// Per-sample leaf node and time, where the source has them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SampleTable {
    pub node: Vec<u32>,
    /// Microseconds from `start_us`, delta-coded: each is the gap to the previous sample.
    pub dt_us: Vec<i64>,
}

/// A profile as stored in a bundle (`profiles/<n>.json`, kind `profile`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    /// Source format: `cpuprofile`, `0x`, `clinic-flame`, `perf`, `folded`.
    pub source: String,
    /// Samples the source holds.
    pub total_samples: u64,
    /// Unit of `self_weight`: `us` (wall time), `ns` (perf's period of a
    /// clock event), `period` (another event's period); absent when there is none.
    #[serde(default)]
    pub weight_unit: Option<String>,
    /// Absolute time of the first sample (Unix µs), when the source links its clock to wall time.
    #[serde(default)]
    pub start_unix_us: Option<i64>,
    /// Time of the first sample on the source's own clock (µs), when it has one.
    #[serde(default)]
    pub start_us: Option<i64>,
    /// Profile duration in µs, when known.
    #[serde(default)]
    pub duration_us: Option<f64>,
    /// Tool and runtime versions seen in the data.
    #[serde(default)]
    pub tools: std::collections::BTreeMap<String, String>,
    pub frames: FrameTable,
    pub nodes: NodeTable,
    #[serde(default)]
    pub samples: Option<SampleTable>,
}

/// A function's share of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionStat {
    pub function: String,
    pub file: String,
    pub category: Category,
    pub self_samples: u64,
    pub total_samples: u64,
}

impl Profile {
    /// The profile of the samples taken in `[from_unix_us, to_unix_us)` only
    /// (a chart's selected range), when the profile has per-sample times on
    /// the wall clock; `None` otherwise. Nodes keep their indexes; weights
    /// are left out (they cover the whole profile).
    pub fn in_range(&self, from_unix_us: i64, to_unix_us: i64) -> Option<Profile> {
        let start = self.start_unix_us?;
        let samples = self.samples.as_ref()?;
        let mut counts = vec![0u64; self.nodes.parent.len()];
        let mut t = start;
        let mut kept = 0u64;
        for (node, dt) in samples.node.iter().zip(&samples.dt_us) {
            t += dt;
            if t >= from_unix_us && t < to_unix_us {
                if let Some(c) = counts.get_mut(*node as usize) {
                    *c += 1;
                    kept += 1;
                }
            }
        }
        let p = Profile {
            name: self.name.clone(),
            source: self.source.clone(),
            total_samples: kept,
            weight_unit: None,
            start_unix_us: Some(from_unix_us.max(start)),
            start_us: None,
            duration_us: Some((to_unix_us - from_unix_us.max(start)).max(0) as f64),
            tools: self.tools.clone(),
            frames: self.frames.clone(),
            nodes: NodeTable {
                parent: self.nodes.parent.clone(),
                frame: self.nodes.frame.clone(),
                self_samples: counts,
                self_weight: Vec::new(),
            },
            samples: None,
        };
        Some(p)
    }

    /// Checks the invariants a reader relies on.
    pub fn validate(&self) -> Result<(), String> {
        let f = &self.frames;
        let nf = f.name.len();
        if f.file.len() != nf || f.line.len() != nf || f.col.len() != nf || f.category.len() != nf {
            return Err("frame columns differ in length".into());
        }
        let n = &self.nodes;
        let nn = n.parent.len();
        if n.frame.len() != nn || n.self_samples.len() != nn || (!n.self_weight.is_empty() && n.self_weight.len() != nn)
        {
            return Err("node columns differ in length".into());
        }
        if nn == 0 || n.parent[0] != -1 {
            return Err("node 0 must be the root (parent -1)".into());
        }
        for i in 1..nn {
            let p = n.parent[i];
            if p < 0 || p as usize >= i {
                return Err(format!("node {i}: parent {p} is not an earlier node"));
            }
            let fr = n.frame[i];
            if fr < 0 || fr as usize >= nf {
                return Err(format!("node {i}: frame {fr} is not in the frame table"));
            }
        }
        let sum: u64 = n.self_samples.iter().sum();
        if sum != self.total_samples {
            return Err(format!("node self samples add up to {sum}, total_samples is {}", self.total_samples));
        }
        if let Some(s) = &self.samples {
            if s.node.len() != s.dt_us.len() {
                return Err("sample columns differ in length".into());
            }
            if s.node.iter().any(|&x| x as usize >= nn) {
                return Err("a sample points past the node table".into());
            }
        }
        Ok(())
    }

    /// Total samples of each node (self plus every descendant).
    pub fn node_totals(&self) -> Vec<u64> {
        let mut t = self.nodes.self_samples.clone();
        for i in (1..t.len()).rev() {
            let p = self.nodes.parent[i] as usize;
            t[p] += t[i];
        }
        t
    }

    /// Functions (name + file) by self samples, most first; ties by name.
    /// A function's total counts each sample once even under recursion.
    pub fn functions(&self) -> Vec<FunctionStat> {
        use std::collections::HashMap;
        let mut by: HashMap<(&str, &str), (Category, u64, u64)> = HashMap::new();
        for i in 1..self.nodes.parent.len() {
            let fr = self.nodes.frame[i] as usize;
            let e =
                by.entry((&self.frames.name[fr], &self.frames.file[fr])).or_insert((self.frames.category[fr], 0, 0));
            e.1 += self.nodes.self_samples[i];
        }
        // Totals: walk each sample's path once per distinct function.
        let mut totals: HashMap<(&str, &str), u64> = HashMap::new();
        let mut path: Vec<(&str, &str)> = Vec::new();
        for i in 1..self.nodes.parent.len() {
            let s = self.nodes.self_samples[i];
            if s == 0 {
                continue;
            }
            path.clear();
            let mut n = i;
            while n != 0 {
                let fr = self.nodes.frame[n] as usize;
                let key = (self.frames.name[fr].as_str(), self.frames.file[fr].as_str());
                if !path.contains(&key) {
                    path.push(key);
                }
                n = self.nodes.parent[n] as usize;
            }
            for k in &path {
                *totals.entry(*k).or_default() += s;
            }
        }
        let mut out: Vec<FunctionStat> = by
            .into_iter()
            .map(|((name, file), (category, self_samples, _))| FunctionStat {
                function: name.to_string(),
                file: file.to_string(),
                category,
                self_samples,
                total_samples: totals.get(&(name, file)).copied().unwrap_or(0),
            })
            .collect();
        out.sort_by(|a, b| b.self_samples.cmp(&a.self_samples).then_with(|| a.function.cmp(&b.function)));
        out
    }

    /// Folded stacks (`root;…;leaf count`, one line per distinct stack,
    /// sorted), weighted by `self_weight` when `by_weight` and the profile has it.
    pub fn folded(&self, by_weight: bool) -> Vec<String> {
        let use_w = by_weight && !self.nodes.self_weight.is_empty();
        let mut names: Vec<String> = vec![String::new(); self.nodes.parent.len()];
        for i in 1..self.nodes.parent.len() {
            let fr = self.nodes.frame[i] as usize;
            let p = self.nodes.parent[i] as usize;
            let label = self.frame_label(fr);
            names[i] = if p == 0 { label } else { format!("{};{label}", names[p]) };
        }
        let mut lines: Vec<String> = (1..self.nodes.parent.len())
            .filter_map(|i| {
                let c = if use_w { self.nodes.self_weight[i] } else { self.nodes.self_samples[i] };
                (c > 0).then(|| format!("{} {c}", names[i]))
            })
            .collect();
        lines.sort();
        lines
    }

    /// A frame's label in folded stacks and flame graphs: the name, and the
    /// file:line:col where known (unless the name already holds it).
    pub fn frame_label(&self, fr: usize) -> String {
        let f = &self.frames;
        let name = &f.name[fr];
        if f.file[fr].is_empty() || name.contains(&f.file[fr]) || self.source == "perf" || self.source == "folded" {
            return name.clone();
        }
        let mut s = format!("{} {}", if name.is_empty() { "(anonymous)" } else { name }, f.file[fr]);
        if f.line[fr] > 0 {
            s.push_str(&format!(":{}", f.line[fr]));
            if f.col[fr] > 0 {
                s.push_str(&format!(":{}", f.col[fr]));
            }
        }
        s
    }
}

#[cfg(test)]
mod range_tests {
    use super::*;

    #[test]
    fn a_range_keeps_the_samples_taken_in_it() {
        // Hand-made: root → a, root → b; samples at 0, 10, 20, 30 ms after the start: a, b, a, a.
        let p = Profile {
            name: "p".into(),
            source: "cpuprofile".into(),
            total_samples: 4,
            weight_unit: None,
            start_unix_us: Some(1_000_000),
            start_us: Some(5),
            duration_us: Some(30_000.0),
            tools: Default::default(),
            frames: FrameTable {
                name: vec!["a".into(), "b".into()],
                file: vec![String::new(); 2],
                line: vec![0; 2],
                col: vec![0; 2],
                category: vec![Category::App; 2],
            },
            nodes: NodeTable {
                parent: vec![-1, 0, 0],
                frame: vec![-1, 0, 1],
                self_samples: vec![0, 3, 1],
                self_weight: Vec::new(),
            },
            samples: Some(SampleTable { node: vec![1, 2, 1, 1], dt_us: vec![0, 10_000, 10_000, 10_000] }),
        };
        p.validate().unwrap();
        let r = p.in_range(1_005_000, 1_025_000).unwrap();
        r.validate().unwrap();
        assert_eq!(r.total_samples, 2);
        assert_eq!(r.nodes.self_samples, vec![0, 1, 1]);
        assert_eq!(p.in_range(0, i64::MAX).unwrap().nodes.self_samples, p.nodes.self_samples);
        let mut no_times = p.clone();
        no_times.start_unix_us = None;
        assert!(no_times.in_range(0, 1).is_none());
    }
}
