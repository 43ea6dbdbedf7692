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

/// Deepest stack kept: frames past this depth are folded into one frame,
/// [`DEEPER`], under the outermost ones (the root side of the stack stays).
/// A recursion thousands deep fits; a hostile million-frame stack costs no more.
pub const MAX_DEPTH: u32 = 4_096;
/// Most distinct frames kept: further ones are read as one frame, [`MORE_FRAMES`].
pub const MAX_FRAMES: usize = 262_144;
/// Most nodes of a call tree a reader takes (bundles of format 1.3 and
/// before were written with up to this many).
pub const MAX_NODES: usize = 2_000_000;
/// Most nodes of the call tree the builder makes: new call paths past it
/// are counted under one node, [`MORE_PATHS`], under the root. Every view
/// of a profile (its function table, a flame graph, a comparison of two)
/// costs a few hundred bytes a node, so that two profiles of this size are
/// compared within 256 MB.
pub const MAX_BUILT_NODES: usize = 200_000;
/// The longest frame name or file kept (bytes); longer ones are cut.
pub const MAX_NAME_BYTES: usize = 4096;

/// The frame that stands for the frames past [`MAX_DEPTH`].
pub const DEEPER: &str = "(perfbundle: frames deeper than 4096, folded here)";
/// The frame that stands for the distinct frames past [`MAX_FRAMES`].
pub const MORE_FRAMES: &str = "(perfbundle: more distinct frames than 262144, read as one)";
/// The frame of the call paths past [`MAX_BUILT_NODES`].
pub const MORE_PATHS: &str = "(perfbundle: more call paths than 200000, counted here)";

/// What a profile's stand-in frames say was folded, in words for a warning (none when nothing was).
pub fn bounds_hit(p: &Profile) -> Vec<String> {
    [
        (DEEPER, "stacks deeper than 4,096 frames: the deeper frames are folded into one"),
        (MORE_FRAMES, "more than 262,144 distinct frames: the others are read as one"),
        (MORE_PATHS, "more than 200,000 call paths: the others are counted under one node"),
    ]
    .into_iter()
    .filter(|(name, _)| p.frames.name.iter().any(|n| n == name))
    .map(|(_, why)| format!("profile {}: {why}", p.name))
    .collect()
}

/// Builds a profile: intern frames, add stacks (root first), optionally
/// record each sample's time, then [`ProfileBuilder::finish`]. Bounded
/// whatever the input ([`MAX_DEPTH`], [`MAX_FRAMES`], [`MAX_NODES`]).
#[derive(Debug)]
pub struct ProfileBuilder {
    name: String,
    source: String,
    frames: Vec<Frame>,
    frame_ids: HashMap<Frame, u32>,
    nodes: NodeTable,
    /// Each node's depth (the root's is 0).
    depth: Vec<u32>,
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
            depth: vec![0],
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

    /// The frame's index, adding it if new (past [`MAX_FRAMES`], the index of [`MORE_FRAMES`]).
    pub fn intern(&mut self, mut f: Frame) -> u32 {
        // A name or file past MAX_NAME_BYTES is cut (with "…"): each is
        // stored, drawn and exported many times over.
        for s in [&mut f.name, &mut f.file] {
            if s.len() > MAX_NAME_BYTES {
                let mut end = MAX_NAME_BYTES;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                s.truncate(end);
                s.push('…');
            }
        }
        if let Some(&i) = self.frame_ids.get(&f) {
            return i;
        }
        // Room is kept for the three stand-in frames.
        if self.frames.len() >= MAX_FRAMES - 3 {
            return self.stand_in(MORE_FRAMES);
        }
        let i = self.frames.len() as u32;
        self.frames.push(f.clone());
        self.frame_ids.insert(f, i);
        i
    }

    /// A frame the builder stands in for others with (named, category `other`).
    fn stand_in(&mut self, name: &str) -> u32 {
        let f = Frame { name: name.into(), file: String::new(), line: 0, col: 0, category: super::Category::Other };
        if let Some(&i) = self.frame_ids.get(&f) {
            return i;
        }
        let i = self.frames.len() as u32;
        self.frames.push(f.clone());
        self.frame_ids.insert(f, i);
        i
    }

    /// The child of `parent` for `frame`, adding it if new. Past
    /// [`MAX_DEPTH`], every deeper frame is the one [`DEEPER`] node; past
    /// [`MAX_BUILT_NODES`], a new path is the root's [`MORE_PATHS`] node.
    pub fn child(&mut self, parent: u32, frame: u32) -> u32 {
        if let Some(&c) = self.children.get(&(parent, frame)) {
            return c;
        }
        let d = self.depth[parent as usize];
        if d + 1 >= MAX_DEPTH {
            let deeper = self.stand_in(DEEPER);
            if self.nodes.frame[parent as usize] == i64::from(deeper) {
                return parent;
            }
            if frame != deeper {
                return self.child(parent, deeper);
            }
        }
        if self.nodes.parent.len() >= MAX_BUILT_NODES - 1 {
            let more = self.stand_in(MORE_PATHS);
            if let Some(&c) = self.children.get(&(0, more)) {
                return c;
            }
            return self.new_node(0, more);
        }
        self.new_node(parent, frame)
    }

    fn new_node(&mut self, parent: u32, frame: u32) -> u32 {
        let c = self.nodes.parent.len() as u32;
        self.nodes.parent.push(i64::from(parent));
        self.nodes.frame.push(i64::from(frame));
        self.nodes.self_samples.push(0);
        self.nodes.self_weight.push(0);
        self.depth.push(self.depth[parent as usize] + 1);
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
        // Frames no node uses (interned for call paths past MAX_BUILT_NODES,
        // which went to the one MORE_PATHS node) are left out, the nodes' indices renumbered.
        let mut used = vec![false; self.frames.len()];
        for f in &self.nodes.frame {
            if let Some(u) = usize::try_from(*f).ok().and_then(|i| used.get_mut(i)) {
                *u = true;
            }
        }
        let mut renumbered = vec![-1i64; self.frames.len()];
        let mut next = 0i64;
        for (i, u) in used.iter().enumerate() {
            if *u {
                renumbered[i] = next;
                next += 1;
            }
        }
        for f in &mut self.nodes.frame {
            if *f >= 0 {
                *f = renumbered[*f as usize];
            }
        }
        let mut frames = FrameTable::default();
        for (f, u) in self.frames.into_iter().zip(used) {
            if !u {
                continue;
            }
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
