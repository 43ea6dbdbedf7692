//! The profile side of the model: one stack model for every profiler.
//!
//! A [`Profile`] has a frame table (deduplicated), a call tree whose nodes
//! carry self sample counts (and self weights in time where the source has
//! them), and, where the source timestamps its samples, the node and time of
//! each sample so that a time range can be cut out later. Ingesters build one
//! through a [`ProfileBuilder`], one module per source format.
//!
//! (Some 530 lines before its tests: the model and the views every consumer
//! shares — range cuts, weights, function totals, folded stacks.)

mod builder;
pub mod category;
pub mod chrome_trace;
pub mod clinic_flame;
pub mod cpuprofile;
pub mod derive;
pub mod flame;
pub mod folded;
pub mod identity;
#[cfg(feature = "inferno")]
pub mod perf;
pub mod pprof;
pub mod speedscope;
pub mod time_order;
pub mod v8log;

pub use builder::{bounds_hit, CountOverflow, ProfileBuilder, MAX_DEPTH, MAX_FRAMES, MAX_NODES};
pub use category::{categorize, Category};
pub use identity::FrameMatch;

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
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub name: Vec<String>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub file: Vec<String>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub line: Vec<u32>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub col: Vec<u32>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub category: Vec<Category>,
}

/// The call tree, column-wise. Node 0 is the root (no frame: `frame` is
/// -1); every other node's `parent` is a lower index.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NodeTable {
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub parent: Vec<i64>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub frame: Vec<i64>,
    /// Samples whose leaf is this node.
    #[serde(rename = "self")]
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub self_samples: Vec<u64>,
    /// Self weight in `weight_unit`, when the source has one.
    #[serde(deserialize_with = "crate::bounded::vec", default, skip_serializing_if = "Vec::is_empty")]
    pub self_weight: Vec<u64>,
}

/// Per-sample leaf node and time, where the source has them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SampleTable {
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub node: Vec<u32>,
    /// Microseconds from `start_us`, delta-coded: each is the gap to the previous sample.
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub dt_us: Vec<i64>,
    /// Each sample's weight in `weight_unit` (format 1.3), where samples
    /// weigh differently and it cannot be told from the times (perf's
    /// periods of `cycles`); empty otherwise.
    #[serde(deserialize_with = "crate::bounded::vec", default, skip_serializing_if = "Vec::is_empty")]
    pub weight: Vec<u64>,
}

/// One instant on a source's own clock and on the wall clock (format 1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockRef {
    /// Unix µs.
    pub unix_us: i64,
    /// The same instant on the clock of `start_us`, µs.
    pub clock_us: i64,
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
    /// Which clock `start_us` is on (format 1.3): `CLOCK_MONOTONIC`,
    /// `perf` (perf's own clock), `process` (since the process started),
    /// `unix`, `profile` (since the profile started); absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
    /// A pair linking that clock to the wall clock, when the source holds one (format 1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_ref: Option<ClockRef>,
    /// Profile duration in µs, when known.
    #[serde(default)]
    pub duration_us: Option<f64>,
    /// Tool and runtime versions seen in the data.
    #[serde(default, deserialize_with = "crate::bounded::map")]
    pub tools: std::collections::BTreeMap<String, String>,
    pub frames: FrameTable,
    pub nodes: NodeTable,
    #[serde(default)]
    pub samples: Option<SampleTable>,
}

/// A frame as a folded line holds it: a `;` (the separator) written `:`, as
/// inferno's and FlameGraph's collapsers write it, and control characters as
/// visible text (a newline would split the line; most are not allowed in the
/// XML of a flame graph).
pub fn folded_frame(label: &str) -> String {
    crate::format::escape_controls(label).replace(';', ":")
}

/// The stack of a folded line (what is before its last space).
fn folded_key(line: &str) -> &str {
    line.rsplit_once(' ').map_or(line, |(k, _)| k)
}

/// A function's share of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionStat {
    pub function: String,
    pub file: String,
    pub category: Category,
    pub self_samples: u64,
    pub total_samples: u64,
    /// The same by weight (in the profile's `weight_unit`), where it has weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_weight: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_weight: Option<u64>,
}

impl Profile {
    /// The profile of the samples taken in `[from_unix_us, to_unix_us)` only
    /// (a chart's selected range), when the profile has per-sample times on
    /// the wall clock; `None` otherwise. Nodes keep their indexes; weights
    /// are kept where each sample's weight is known ([`Profile::sample_weights`]).
    pub fn in_range(&self, from_unix_us: i64, to_unix_us: i64) -> Option<Profile> {
        let start = self.start_unix_us?;
        let samples = self.samples.as_ref()?;
        let weights = self.sample_weights();
        let mut counts = vec![0u64; self.nodes.parent.len()];
        let mut wsum = vec![0u64; if weights.is_some() { self.nodes.parent.len() } else { 0 }];
        let mut t = start;
        let mut kept = 0u64;
        for (k, (node, dt)) in samples.node.iter().zip(&samples.dt_us).enumerate() {
            t = t.saturating_add(*dt);
            if t >= from_unix_us && t < to_unix_us {
                if let Some(c) = counts.get_mut(*node as usize) {
                    *c += 1;
                    kept += 1;
                    if let Some(w) = &weights {
                        wsum[*node as usize] = wsum[*node as usize].saturating_add(w[k]);
                    }
                }
            }
        }
        let p = Profile {
            name: self.name.clone(),
            source: self.source.clone(),
            total_samples: kept,
            weight_unit: if weights.is_some() { self.weight_unit.clone() } else { None },
            start_unix_us: Some(from_unix_us.max(start)),
            start_us: None,
            clock: None,
            clock_ref: None,
            duration_us: Some((to_unix_us - from_unix_us.max(start)).max(0) as f64),
            tools: self.tools.clone(),
            frames: self.frames.clone(),
            nodes: NodeTable {
                parent: self.nodes.parent.clone(),
                frame: self.nodes.frame.clone(),
                self_samples: counts,
                self_weight: wsum,
            },
            samples: None,
        };
        Some(p)
    }

    /// The time between two samples (µs), where the samples have times: the
    /// span from the first sample to the last over the gaps between them.
    pub fn sample_interval_us(&self) -> Option<f64> {
        let s = self.samples.as_ref()?;
        let n = s.dt_us.len();
        if n < 2 {
            return None;
        }
        let span: i64 = s.dt_us[1..].iter().fold(0i64, |a, b| a.saturating_add((*b).max(0)));
        (span > 0).then(|| span as f64 / (n - 1) as f64)
    }

    /// Why this profile's samples cannot be drawn on a k6 run's time axis
    /// (`run_ms`: the run's span, Unix ms; `None`: the bundle has no k6 time
    /// series), in words a user can act on; `None` when they can.
    pub fn off_run_clock(&self, run_ms: Option<(f64, f64)>) -> Option<String> {
        let Some(samples) = self.samples.as_ref() else {
            return Some(format!(
                "this profile's samples have no times ({}): nothing to place on the run's clock",
                self.source
            ));
        };
        let Some(start) = self.start_unix_us else {
            return Some(
                "this profile is not on the run's clock: pack it with --align auto (or --align OFFSET), or record the run with perfbundle record"
                    .into(),
            );
        };
        let Some((a, b)) = run_ms else {
            return Some("this bundle has no k6 time series to draw it beside".into());
        };
        let span_us: i64 = samples.dt_us.iter().fold(0i64, |x, d| x.saturating_add((*d).max(0)));
        let (from, to) = (start as f64 / 1e3, start.saturating_add(span_us) as f64 / 1e3);
        (to < a || from > b).then(|| {
            "this profile's samples fall outside the k6 run's window: check its alignment (perfbundle inspect)".into()
        })
    }

    /// The share of samples whose stack holds a function (`is_function`
    /// tells its frames), per bucket of `bucket_ms` over `[from_ms, to_ms)`
    /// on the wall clock (Unix ms): `(bucket start, share 0..1)`, buckets
    /// without samples left out. `None` when the samples have no wall time.
    pub fn share_over_time(
        &self,
        is_function: &dyn Fn(usize) -> bool,
        (from_ms, to_ms): (f64, f64),
        bucket_ms: f64,
    ) -> Option<Vec<(f64, f64)>> {
        let start = self.start_unix_us?;
        let s = self.samples.as_ref()?;
        let n = self.nodes.parent.len();
        let mut holds = vec![false; n];
        for i in 1..n {
            holds[i] = holds[self.nodes.parent[i] as usize] || is_function(self.nodes.frame[i] as usize);
        }
        let bucket_ms = bucket_ms.max(1e-3);
        let buckets = (((to_ms - from_ms) / bucket_ms).ceil().max(1.0) as usize).min(100_000);
        let mut all = vec![0u64; buckets];
        let mut hit = vec![0u64; buckets];
        let mut t = start;
        for (node, dt) in s.node.iter().zip(&s.dt_us) {
            t = t.saturating_add(*dt);
            let ms = t as f64 / 1e3;
            if ms < from_ms || ms >= to_ms {
                continue;
            }
            let b = (((ms - from_ms) / bucket_ms) as usize).min(buckets - 1);
            all[b] += 1;
            if holds.get(*node as usize).copied().unwrap_or(false) {
                hit[b] += 1;
            }
        }
        Some(
            (0..buckets)
                .filter(|&b| all[b] > 0)
                .map(|b| (from_ms + b as f64 * bucket_ms, hit[b] as f64 / all[b] as f64))
                .collect(),
        )
    }

    /// Whether nodes carry weights (a flame graph is then drawn by weight,
    /// and `export --folded` writes them, as the source's own tools do).
    pub fn has_weights(&self) -> bool {
        self.weight_unit.is_some() && !self.nodes.self_weight.is_empty()
    }

    /// Each sample's weight, in sample order, where it is known: stored
    /// (`samples.weight`), or for wall-time weights (`us`) the time until the
    /// next sample (the last one: what remains of the total weight), or one
    /// period for every sample when all nodes weigh a whole number of it.
    pub fn sample_weights(&self) -> Option<Vec<u64>> {
        let s = self.samples.as_ref()?;
        if !self.has_weights() {
            return None;
        }
        let n = s.node.len();
        if s.weight.len() == n && n > 0 {
            return Some(s.weight.clone());
        }
        let total: u64 = self.nodes.self_weight.iter().fold(0u64, |a, b| a.saturating_add(*b));
        if self.weight_unit.as_deref() == Some("us") {
            let mut w: Vec<u64> = (0..n).map(|k| s.dt_us.get(k + 1).map_or(0, |d| (*d).max(0) as u64)).collect();
            let rest: u64 = w.iter().fold(0u64, |a, b| a.saturating_add(*b));
            if let Some(last) = w.last_mut() {
                *last = total.saturating_sub(rest);
            }
            return Some(w);
        }
        let samples = self.total_samples;
        if samples == 0 || total % samples != 0 {
            return None;
        }
        let period = total / samples;
        let uniform =
            self.nodes.self_samples.iter().zip(&self.nodes.self_weight).all(|(c, w)| c.checked_mul(period) == Some(*w));
        uniform.then(|| vec![period; n])
    }

    /// Totals of each node (self plus every descendant), by weight when
    /// `by_weight` and the profile has weights, else by samples.
    pub fn node_totals_by(&self, by_weight: bool) -> Vec<u64> {
        if !(by_weight && self.has_weights()) {
            return self.node_totals();
        }
        let mut t = self.nodes.self_weight.clone();
        for i in (1..t.len()).rev() {
            let p = self.nodes.parent[i] as usize;
            t[p] = t[p].saturating_add(t[i]);
        }
        t
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
        // The builder's bounds: a profile past them is not one perfbundle writes.
        if nf > builder::MAX_FRAMES || nn > builder::MAX_NODES {
            return Err(format!(
                "{nf} frames and {nn} nodes: past the bounds of {} frames and {} nodes",
                builder::MAX_FRAMES,
                builder::MAX_NODES
            ));
        }
        let mut depth = vec![0u32; nn];
        for i in 1..nn {
            let p = n.parent[i];
            if p < 0 || p as usize >= i {
                return Err(format!("node {i}: parent {p} is not an earlier node"));
            }
            depth[i] = depth[p as usize] + 1;
            if depth[i] > builder::MAX_DEPTH {
                return Err(format!("node {i}: deeper than {} frames", builder::MAX_DEPTH));
            }
            let fr = n.frame[i];
            if fr < 0 || fr as usize >= nf {
                return Err(format!("node {i}: frame {fr} is not in the frame table"));
            }
        }
        let sum = n.self_samples.iter().try_fold(0u64, |a, b| a.checked_add(*b));
        let Some(sum) = sum else { return Err("node self samples add up to more than 2^64 - 1".into()) };
        if n.self_weight.iter().try_fold(0u64, |a, b| a.checked_add(*b)).is_none() {
            return Err("node self weights add up to more than 2^64 - 1".into());
        }
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

    /// Functions (name + file), most self time first (see [`Profile::ranks_by_weight`]); ties by name.
    /// A function's total counts each sample once even under recursion.
    pub fn functions(&self) -> Vec<FunctionStat> {
        self.functions_by_frame().0
    }

    /// [`Profile::functions`], and for each frame the index of its function
    /// in that list (`u32::MAX` for a frame of no function): what a viewer's
    /// search needs to mark functions by the frames it matched.
    pub fn functions_by_frame(&self) -> (Vec<FunctionStat>, Vec<u32>) {
        let f = &self.frames;
        let (list, of_frame) = self.functions_keyed(|fr| (f.name[fr].as_str(), f.file[fr].as_str()));
        (list.into_iter().map(|(_, s)| s).collect(), of_frame)
    }

    /// [`Profile::functions`] with frames paired as `m` pairs them across
    /// profiles (a function whose file was renamed is one function under
    /// [`FrameMatch::NameModule`]), each with its key; each takes the name
    /// and file of its first frame.
    pub fn functions_matched(&self, m: FrameMatch) -> Vec<(String, FunctionStat)> {
        let f = &self.frames;
        self.functions_keyed(|fr| m.key(&f.name[fr], &f.file[fr], f.line[fr], f.col[fr])).0
    }

    /// Functions grouped by `key` of their frame, ranked; and each frame's
    /// function as an index into them.
    fn functions_keyed<K: std::hash::Hash + Eq + Clone>(
        &self,
        key: impl Fn(usize) -> K,
    ) -> (Vec<(K, FunctionStat)>, Vec<u32>) {
        use std::collections::HashMap;
        let n = self.nodes.parent.len();
        // Function ids by key, computed once per frame.
        let mut ids: HashMap<K, usize> = HashMap::new();
        let mut keys: Vec<K> = Vec::new();
        let mut funcs: Vec<(&str, &str, Category, u64, u64)> = Vec::new();
        let weighted = self.has_weights();
        let mut wsum: Vec<(u64, u64)> = Vec::new();
        let mut id_of_frame = vec![usize::MAX; self.frames.name.len()];
        let mut func_of = vec![usize::MAX; n];
        for (i, f) in func_of.iter_mut().enumerate().skip(1) {
            let fr = self.nodes.frame[i] as usize;
            if id_of_frame[fr] == usize::MAX {
                let k = key(fr);
                id_of_frame[fr] = *ids.entry(k.clone()).or_insert_with(|| {
                    keys.push(k);
                    funcs.push((&self.frames.name[fr], &self.frames.file[fr], self.frames.category[fr], 0, 0));
                    wsum.push((0, 0));
                    funcs.len() - 1
                });
            }
            let id = id_of_frame[fr];
            *f = id;
            funcs[id].3 += self.nodes.self_samples[i];
            if weighted {
                wsum[id].0 = wsum[id].0.saturating_add(self.nodes.self_weight[i]);
            }
        }
        // Totals: a node adds its subtree's samples to its function unless
        // the function is already on the path above it (recursion). One walk
        // of the tree, keeping how often each function is on the path.
        let totals = self.node_totals();
        let wtotals = if weighted { self.node_totals_by(true) } else { Vec::new() };
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
        for i in 1..n {
            children[self.nodes.parent[i] as usize].push(i as u32);
        }
        let mut on_path = vec![0u32; funcs.len()];
        let mut stack: Vec<(u32, bool)> = children[0].iter().rev().map(|&c| (c, false)).collect();
        while let Some((node, leaving)) = stack.pop() {
            let f = func_of[node as usize];
            if leaving {
                on_path[f] -= 1;
                continue;
            }
            if on_path[f] == 0 {
                funcs[f].4 += totals[node as usize];
                if weighted {
                    wsum[f].1 = wsum[f].1.saturating_add(wtotals[node as usize]);
                }
            }
            on_path[f] += 1;
            stack.push((node, true));
            stack.extend(children[node as usize].iter().rev().map(|&c| (c, false)));
        }
        let mut out: Vec<(usize, K, FunctionStat)> = keys
            .into_iter()
            .zip(funcs.into_iter().zip(wsum))
            .enumerate()
            .map(|(id, (key, ((name, file, category, self_samples, total_samples), (sw, tw))))| {
                let stat = FunctionStat {
                    function: name.to_string(),
                    file: file.to_string(),
                    category,
                    self_samples,
                    total_samples,
                    self_weight: weighted.then_some(sw),
                    total_weight: weighted.then_some(tw),
                };
                (id, key, stat)
            })
            .collect();
        // Ranked as the source's own tool ranks them: by weight where it goes
        // by weight (perf report by period, go tool pprof -top by value,
        // speedscope by weight), by samples otherwise (V8's own counts).
        if weighted && self.ranks_by_weight() {
            out.sort_by(|(_, _, a), (_, _, b)| {
                b.self_weight
                    .cmp(&a.self_weight)
                    .then(b.self_samples.cmp(&a.self_samples))
                    .then_with(|| a.function.cmp(&b.function))
            });
        } else {
            out.sort_by(|(_, _, a), (_, _, b)| {
                b.self_samples.cmp(&a.self_samples).then_with(|| a.function.cmp(&b.function))
            });
        }
        // Each frame's function by its place in the ranking (frames on no
        // node, by their key: another frame of the same function may be).
        let mut rank = vec![u32::MAX; out.len()];
        for (k, (id, _, _)) in out.iter().enumerate() {
            rank[*id] = k as u32;
        }
        let of_frame = (0..self.frames.name.len())
            .map(|fr| {
                let id = match id_of_frame[fr] {
                    usize::MAX => ids.get(&key(fr)).copied(),
                    id => Some(id),
                };
                id.map_or(u32::MAX, |id| rank[id])
            })
            .collect();
        (out.into_iter().map(|(_, k, s)| (k, s)).collect(), of_frame)
    }

    /// Whether the source's own tools rank functions by weight rather than by samples.
    pub fn ranks_by_weight(&self) -> bool {
        matches!(self.source.as_str(), "perf" | "pprof" | "speedscope")
    }

    /// Folded stacks (`root;…;leaf count`, one line per distinct stack,
    /// sorted by stack as inferno sorts them), weighted by `self_weight` when
    /// `by_weight` and the profile has it.
    pub fn folded(&self, by_weight: bool) -> Vec<String> {
        let mut lines = Vec::new();
        self.for_each_folded(by_weight, &mut |l| lines.push(l.to_string()));
        lines
    }

    /// Writes [`Profile::folded`]'s lines, each ended by `\n`, without
    /// holding them: memory grows with the tree, not with the text (a
    /// 20,000-frame stack is one line, not 20,000 prefixes of it).
    pub fn write_folded<W: std::io::Write + ?Sized>(&self, by_weight: bool, w: &mut W) -> std::io::Result<()> {
        let mut result = Ok(());
        self.for_each_folded(by_weight, &mut |l| {
            if result.is_ok() {
                result = w.write_all(l.as_bytes()).and_then(|_| w.write_all(b"\n"));
            }
        });
        result
    }

    /// Calls `emit` with each folded line (without its `\n`) in the byte
    /// order of the stacks (inferno's order). A depth-first walk with
    /// siblings in label order gives that order except where one sibling's
    /// label is a prefix of another's and the next character sorts before
    /// `;` (`f` and `f (native)`, `f` and `f:12`): such a run of siblings
    /// is collected and sorted on its own.
    pub fn for_each_folded(&self, by_weight: bool, emit: &mut dyn FnMut(&str)) {
        let use_w = by_weight && self.has_weights();
        let n = self.nodes.parent.len();
        if n == 0 {
            return;
        }
        let count = |i: usize| if use_w { self.nodes.self_weight[i] } else { self.nodes.self_samples[i] };
        // Totals, to skip subtrees with nothing to print.
        let mut any = vec![false; n];
        for i in (1..n).rev() {
            if count(i) > 0 {
                any[i] = true;
            }
            if any[i] {
                any[self.nodes.parent[i] as usize] = true;
            }
        }
        let labels: Vec<String> = (0..self.frames.name.len()).map(|f| folded_frame(&self.frame_label(f))).collect();
        let label = |i: usize| labels[self.nodes.frame[i] as usize].as_str();
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
        for i in 1..n {
            if any[i] {
                children[self.nodes.parent[i] as usize].push(i as u32);
            }
        }
        for c in &mut children {
            c.sort_by(|a, b| label(*a as usize).cmp(label(*b as usize)));
        }
        // Groups of siblings: one child, or a run whose lines interleave.
        let groups = |node: usize| -> Vec<Vec<u32>> {
            let mut out: Vec<Vec<u32>> = Vec::new();
            for &c in &children[node] {
                let l = label(c as usize);
                let joins = out.last().is_some_and(|g| {
                    g.iter().any(|&p| {
                        let pl = label(p as usize);
                        l.len() > pl.len() && l.starts_with(pl) && l.as_bytes()[pl.len()] <= b';'
                    })
                });
                match out.last_mut() {
                    Some(g) if joins => g.push(c),
                    _ => out.push(vec![c]),
                }
            }
            out
        };
        let mut line = String::new();
        let mut path = String::new();
        // Explicit stack: (node, its groups, next group); the path holds the node's labels.
        let mut stack: Vec<(usize, Vec<Vec<u32>>, usize, usize)> = vec![(0, groups(0), 0, 0)];
        while let Some(top) = stack.last_mut() {
            let (_, gs, next, path_len) = top;
            if *next >= gs.len() {
                let len = *path_len;
                stack.pop();
                path.truncate(len);
                continue;
            }
            let g = std::mem::take(&mut gs[*next]);
            *next += 1;
            if g.len() > 1 {
                // Interleaving siblings: their lines, sorted.
                let mut lines = Vec::new();
                let mut sub: Vec<(usize, usize)> = g.iter().map(|&c| (c as usize, path.len())).collect();
                let mut p = path.clone();
                while let Some((node, len)) = sub.pop() {
                    p.truncate(len);
                    // Not by `p`'s emptiness: a label may be empty (a perf comm of none).
                    if self.nodes.parent[node] != 0 {
                        p.push(';');
                    }
                    p.push_str(label(node));
                    if count(node) > 0 {
                        lines.push(format!("{p} {}", count(node)));
                    }
                    let l = p.len();
                    sub.extend(children[node].iter().map(|&c| (c as usize, l)));
                }
                // By stack (as inferno sorts its keys), not by the whole line.
                lines.sort_by(|a, b| folded_key(a).cmp(folded_key(b)));
                for l in &lines {
                    emit(l);
                }
                continue;
            }
            let node = g[0] as usize;
            let before = path.len();
            if self.nodes.parent[node] != 0 {
                path.push(';');
            }
            path.push_str(label(node));
            if count(node) > 0 {
                line.clear();
                line.push_str(&path);
                line.push(' ');
                line.push_str(&count(node).to_string());
                emit(&line);
            }
            stack.push((node, groups(node), 0, before));
        }
    }

    /// A frame's label in folded stacks and flame graphs: the name, and the
    /// file:line:col where known (unless the name already holds it).
    pub fn frame_label(&self, fr: usize) -> String {
        let f = &self.frames;
        let name = &f.name[fr];
        // Sources whose own tools name frames by their name alone.
        let bare = matches!(self.source.as_str(), "perf" | "folded" | "pprof");
        if f.file[fr].is_empty() || name.contains(&f.file[fr]) || bare {
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
            clock: None,
            clock_ref: None,
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
            samples: Some(SampleTable {
                node: vec![1, 2, 1, 1],
                dt_us: vec![0, 10_000, 10_000, 10_000],
                weight: Vec::new(),
            }),
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

#[cfg(test)]
mod folded_tests {
    use super::*;
    use proptest::prelude::*;

    /// Folded lines the plain way: every path built, then sorted.
    fn naive(p: &Profile) -> Vec<String> {
        let n = p.nodes.parent.len();
        let mut names = vec![String::new(); n];
        let mut out = Vec::new();
        for i in 1..n {
            let l = p.frame_label(p.nodes.frame[i] as usize);
            let par = p.nodes.parent[i] as usize;
            let l = folded_frame(&l);
            names[i] = if par == 0 { l } else { format!("{};{l}", names[par]) };
            if p.nodes.self_samples[i] > 0 {
                out.push(format!("{} {}", names[i], p.nodes.self_samples[i]));
            }
        }
        out.sort_by(|a, b| folded_key(a).cmp(folded_key(b)));
        out
    }

    /// A hand-made tree from (parent choice, label choice, count) triples;
    /// the labels share prefixes followed by characters either side of `;`.
    fn tree(spec: &[(usize, usize, u64)]) -> Profile {
        const LABELS: [&str; 9] = ["f", "f x", "f:1", "f:12", "f!", "fa", "g", "f (native)", "f;"];
        let mut b = ProfileBuilder::new("t", "folded");
        let ids: Vec<u32> = LABELS
            .iter()
            .map(|l| {
                b.intern(Frame { name: l.to_string(), file: String::new(), line: 0, col: 0, category: Category::App })
            })
            .collect();
        let mut nodes = vec![0u32];
        for &(parent, label, count) in spec {
            let par = nodes[parent % nodes.len()];
            let c = b.child(par, ids[label % LABELS.len()]);
            b.add_self(c, count, 0).unwrap();
            nodes.push(c);
        }
        b.finish()
    }

    proptest! {
        #[test]
        fn streamed_folded_lines_equal_the_sorted_text(spec in prop::collection::vec((0usize..40, 0usize..9, 0u64..3), 1..40)) {
            let p = tree(&spec);
            prop_assert_eq!(p.folded(false), naive(&p));
        }
    }

    #[test]
    fn a_deep_stack_is_one_line_and_writes_without_prefixes() {
        let mut b = ProfileBuilder::new("deep", "folded");
        let stack: Vec<u32> = (0..20_000)
            .map(|i| {
                b.intern(Frame { name: format!("f{i}"), file: String::new(), line: 0, col: 0, category: Category::App })
            })
            .collect();
        b.add_stack(&stack, 1, 0).unwrap();
        // Twice as deep again: the same folded frame, not a node per frame.
        let deeper: Vec<u32> = stack.iter().chain(&stack).copied().collect();
        b.add_stack(&deeper, 1, 0).unwrap();
        let p = b.finish();
        p.validate().unwrap();
        // Frames past 4,096 are folded into one, under the outermost 4,095.
        assert_eq!(p.nodes.parent.len(), MAX_DEPTH as usize + 1);
        assert_eq!(bounds_hit(&p).len(), 1, "{:?}", bounds_hit(&p));
        let mut out = Vec::new();
        p.write_folded(false, &mut out).unwrap();
        assert_eq!(out.iter().filter(|c| **c == b'\n').count(), 1);
        let want_end = format!(";f4094;{} 2\n", builder::DEEPER);
        assert!(out.starts_with(b"f0;f1;f2;") && out.ends_with(want_end.as_bytes()));
    }

    #[test]
    fn distinct_frames_and_paths_past_the_bounds_are_read_as_one() {
        let mut b = ProfileBuilder::new("wide", "folded");
        for i in 0..MAX_FRAMES + 10 {
            let f = b.intern(Frame {
                name: format!("f{i}"),
                file: String::new(),
                line: 0,
                col: 0,
                category: Category::App,
            });
            b.add_stack(&[f], 1, 0).unwrap();
        }
        let p = b.finish();
        p.validate().unwrap();
        assert!(p.frames.name.len() <= MAX_FRAMES);
        assert_eq!(p.total_samples, MAX_FRAMES as u64 + 10, "every sample counted");
        // Each distinct frame here is a call path of its own: the paths' bound
        // (200,000) comes first, and the frames past it, under its one node, are not kept.
        let hit = bounds_hit(&p);
        assert!(hit.iter().any(|w| w.contains("200,000 call paths")), "{hit:?}");
        assert!(p.frames.name.len() <= super::builder::MAX_BUILT_NODES + 3);
    }

    #[test]
    fn counts_that_overflow_are_refused() {
        let mut b = ProfileBuilder::new("o", "folded");
        let f = b.intern(Frame { name: "a".into(), file: String::new(), line: 0, col: 0, category: Category::App });
        b.add_stack(&[f], u64::MAX, 0).unwrap();
        assert_eq!(b.add_stack(&[f], 1, 0), Err(CountOverflow::Samples));
        assert_eq!(b.total_samples(), u64::MAX);
        let text = format!("a;b {}\na;c 1\n", u64::MAX);
        let e = folded::ingest(text.as_bytes(), "big.folded", "big").unwrap_err();
        assert!(e.to_string().contains("big.folded: line 2") && e.to_string().contains("2^64"), "{e}");
    }

    #[test]
    fn function_totals_count_each_sample_once_under_recursion() {
        let p = folded::ingest("a;b;a 2\na 1\nc;a 3\na;b 4\n".as_bytes(), "r", "r").unwrap();
        let f = p.functions();
        let get = |n: &str| f.iter().find(|x| x.function == n).map(|x| (x.self_samples, x.total_samples)).unwrap();
        assert_eq!(get("a"), (6, 10));
        assert_eq!(get("b"), (4, 6));
        assert_eq!(get("c"), (0, 3));
    }
}
