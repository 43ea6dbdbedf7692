//! Building a [`Profile`] through interned frames and a prefix tree of stacks.

use std::collections::{BTreeMap, HashMap};

use super::{Frame, FrameTable, NodeTable, Profile, SampleTable};

/// Counts past what 64 bits hold: a hostile or corrupt input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountOverflow {
    Samples,
    Weight,
}

impl std::fmt::Display for CountOverflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CountOverflow::Samples => f.write_str("the sample counts add up to more than 2^64 - 1"),
            CountOverflow::Weight => f.write_str("the sample weights add up to more than 2^64 - 1"),
        }
    }
}

/// Builds a profile: intern frames, add stacks (root first), optionally
/// record each sample's time, then [`ProfileBuilder::finish`].
#[derive(Debug)]
pub struct ProfileBuilder {
    name: String,
    source: String,
    frames: Vec<Frame>,
    frame_ids: HashMap<Frame, u32>,
    nodes: NodeTable,
    children: HashMap<(u32, u32), u32>,
    samples: Option<SampleTable>,
    last_t: i64,
    first_t: Option<i64>,
    total: u64,
    total_weight: u64,
    pub weight_unit: Option<String>,
    pub start_unix_us: Option<i64>,
    pub duration_us: Option<f64>,
    /// The clock of the sample times (`Profile::clock`).
    pub clock: Option<String>,
    pub clock_ref: Option<super::ClockRef>,
    pub tools: BTreeMap<String, String>,
}

impl ProfileBuilder {
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> Self {
        ProfileBuilder {
            name: name.into(),
            source: source.into(),
            frames: Vec::new(),
            frame_ids: HashMap::new(),
            nodes: NodeTable { parent: vec![-1], frame: vec![-1], self_samples: vec![0], self_weight: vec![0] },
            children: HashMap::new(),
            samples: None,
            last_t: 0,
            first_t: None,
            total: 0,
            total_weight: 0,
            weight_unit: None,
            start_unix_us: None,
            duration_us: None,
            clock: None,
            clock_ref: None,
            tools: BTreeMap::new(),
        }
    }

    /// The frame's index, adding it if new.
    pub fn intern(&mut self, f: Frame) -> u32 {
        if let Some(&i) = self.frame_ids.get(&f) {
            return i;
        }
        let i = self.frames.len() as u32;
        self.frames.push(f.clone());
        self.frame_ids.insert(f, i);
        i
    }

    /// The child of `parent` for `frame`, adding it if new.
    pub fn child(&mut self, parent: u32, frame: u32) -> u32 {
        if let Some(&c) = self.children.get(&(parent, frame)) {
            return c;
        }
        let c = self.nodes.parent.len() as u32;
        self.nodes.parent.push(i64::from(parent));
        self.nodes.frame.push(i64::from(frame));
        self.nodes.self_samples.push(0);
        self.nodes.self_weight.push(0);
        self.children.insert((parent, frame), c);
        c
    }

    /// Adds `samples` samples (and `weight`) of a stack given root first;
    /// returns its leaf node. An empty stack counts at the root.
    pub fn add_stack(&mut self, stack: &[u32], samples: u64, weight: u64) -> Result<u32, CountOverflow> {
        let mut node = 0u32;
        for &f in stack {
            node = self.child(node, f);
        }
        self.add_self(node, samples, weight)?;
        Ok(node)
    }

    /// Adds samples and weight to a node directly. The profile's totals
    /// (samples, weight) must fit in 64 bits, so that every sum a view takes
    /// of them does too.
    pub fn add_self(&mut self, node: u32, samples: u64, weight: u64) -> Result<(), CountOverflow> {
        let total = self.total.checked_add(samples).ok_or(CountOverflow::Samples)?;
        let total_weight = self.total_weight.checked_add(weight).ok_or(CountOverflow::Weight)?;
        // A node's count is at most the total: these cannot overflow now.
        self.nodes.self_samples[node as usize] += samples;
        self.nodes.self_weight[node as usize] += weight;
        self.total = total;
        self.total_weight = total_weight;
        Ok(())
    }

    /// Records one sample's leaf node and time (µs on the source's clock).
    pub fn add_sample_time(&mut self, node: u32, t_us: i64) {
        let s = self.samples.get_or_insert_with(SampleTable::default);
        let first = *self.first_t.get_or_insert(t_us);
        let prev = if s.node.is_empty() { first } else { self.last_t };
        s.node.push(node);
        s.dt_us.push(t_us.saturating_sub(prev));
        self.last_t = t_us;
    }

    /// Samples added so far.
    pub fn total_samples(&self) -> u64 {
        self.total
    }

    pub fn finish(mut self) -> Profile {
        if self.weight_unit.is_none() {
            self.nodes.self_weight.clear();
        }
        let mut frames = FrameTable::default();
        for f in self.frames {
            frames.name.push(f.name);
            frames.file.push(f.file);
            frames.line.push(f.line);
            frames.col.push(f.col);
            frames.category.push(f.category);
        }
        Profile {
            name: self.name,
            source: self.source,
            total_samples: self.total,
            weight_unit: self.weight_unit,
            start_unix_us: self.start_unix_us,
            start_us: self.first_t,
            clock: self.clock,
            clock_ref: self.clock_ref,
            duration_us: self.duration_us,
            tools: self.tools,
            frames,
            nodes: self.nodes,
            samples: self.samples,
        }
    }
}
