//! V8 `.cpuprofile` (`node --cpu-prof`, Chrome DevTools): a tree of nodes
//! with call frames, the leaf node of each sample, and the time between
//! samples (FORMATS.md §10). Lines and columns there are 0-based.
//!
//! Also the older layout of V8's C++ API (Node ≤ 10's `v8-profiler`, old
//! Chrome DevTools): a nested tree under `head`, `startTime`/`endTime` in
//! seconds, and absolute sample `timestamps` in µs (often one more than the
//! samples: the end of the last one). Its line numbers are 1-based.

use std::collections::HashMap;
use std::io::Read;

use serde::Deserialize;

use super::{categorize, Frame, Profile, ProfileBuilder};
use crate::error::IngestError;

#[derive(Deserialize)]
struct CpuProfile {
    #[serde(default, deserialize_with = "crate::bounded::opt_vec")]
    nodes: Option<Vec<Node>>,
    /// The old layout's nested tree.
    #[serde(default)]
    head: Option<OldNode>,
    #[serde(rename = "startTime")]
    start_time: f64,
    #[serde(rename = "endTime", default)]
    end_time: Option<f64>,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    samples: Vec<u64>,
    #[serde(rename = "timeDeltas", default, deserialize_with = "crate::bounded::vec")]
    time_deltas: Vec<i64>,
    /// The old layout's absolute sample times, µs.
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    timestamps: Vec<i64>,
}

/// A node of the old layout: its call frame inline, its children nested.
#[derive(Deserialize)]
struct OldNode {
    #[serde(default)]
    id: u64,
    #[serde(rename = "functionName", default, deserialize_with = "crate::bounded::string")]
    function_name: String,
    #[serde(default, deserialize_with = "crate::bounded::string")]
    url: String,
    /// 1-based; 0 unknown.
    #[serde(rename = "lineNumber", default)]
    line: i64,
    #[serde(rename = "columnNumber", default)]
    col: i64,
    #[serde(rename = "hitCount", default)]
    hit_count: u64,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    children: Vec<OldNode>,
}

impl crate::bounded::Heap for OldNode {}
impl crate::bounded::Heap for Node {}

/// The old layout's tree as the flat node list of the current one (lines
/// and columns made 0-based, as the current layout has them).
fn flatten(head: OldNode) -> Vec<Node> {
    let mut out = Vec::new();
    let mut todo = vec![head];
    while let Some(mut n) = todo.pop() {
        let children = std::mem::take(&mut n.children);
        out.push(Node {
            id: n.id,
            call_frame: CallFrame {
                function_name: n.function_name,
                url: n.url,
                line: if n.line > 0 { n.line - 1 } else { -1 },
                col: if n.col > 0 { n.col - 1 } else { -1 },
            },
            children: children.iter().map(|c| c.id).collect(),
            parent: None,
            hit_count: n.hit_count,
        });
        todo.extend(children.into_iter().rev());
    }
    out
}

#[derive(Deserialize)]
pub(crate) struct Node {
    id: u64,
    #[serde(rename = "callFrame")]
    call_frame: CallFrame,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    children: Vec<u64>,
    #[serde(default)]
    parent: Option<u64>,
    #[serde(rename = "hitCount", default)]
    hit_count: u64,
}

#[derive(Deserialize)]
pub(crate) struct CallFrame {
    #[serde(rename = "functionName", default, deserialize_with = "crate::bounded::string")]
    function_name: String,
    #[serde(default, deserialize_with = "crate::bounded::string")]
    url: String,
    #[serde(rename = "lineNumber", default = "minus_one")]
    line: i64,
    #[serde(rename = "columnNumber", default = "minus_one")]
    col: i64,
}

fn minus_one() -> i64 {
    -1
}

/// Reads a whole `.cpuprofile`.
pub fn ingest<R: Read>(reader: R, file: &str, name: &str) -> Result<Profile, IngestError> {
    let p: CpuProfile = crate::ingest::document::read(reader).map_err(|e| {
        IngestError::invalid(
            file,
            format!("not a complete .cpuprofile (a JSON object with nodes, startTime, samples and timeDeltas): {e}"),
        )
    })?;
    let old = p.head.is_some() && p.nodes.is_none();
    let mut p = p;
    let nodes = match (p.nodes.take(), p.head.take()) {
        (Some(n), _) => n,
        (None, Some(h)) => flatten(h),
        (None, None) => {
            return Err(IngestError::invalid(
                file,
                "not a .cpuprofile: neither `nodes` nor (the older layout's) `head`",
            ))
        }
    };
    if nodes.is_empty() {
        return Err(IngestError::invalid(file, ".cpuprofile has no nodes"));
    }
    let finite = |x: f64, what: &str| -> Result<i64, IngestError> {
        if x.is_finite() && x.abs() < 9.0e15 {
            Ok(x as i64)
        } else {
            Err(IngestError::invalid(file, format!("{what} {x} is not a time")))
        }
    };
    // Sample times (µs on the profile's clock), and each sample's duration.
    let (start_time, end_time, times): (i64, Option<i64>, Vec<i64>) = if old {
        // Seconds, while the timestamps are µs.
        let start = finite(p.start_time * 1e6, "startTime")?;
        let end = p.end_time.map(|e| finite(e * 1e6, "endTime")).transpose()?;
        if !p.samples.is_empty() && p.timestamps.len() != p.samples.len() && p.timestamps.len() != p.samples.len() + 1 {
            return Err(IngestError::invalid(
                file,
                format!(
                    "{} samples but {} timestamps: truncated or edited profile",
                    p.samples.len(),
                    p.timestamps.len()
                ),
            ));
        }
        (p.timestamps.first().copied().unwrap_or(start), end, p.timestamps.clone())
    } else {
        let start = finite(p.start_time, "startTime")?;
        let end = p.end_time.map(|e| finite(e, "endTime")).transpose()?;
        let mut t = start;
        let times = p.time_deltas.iter().map(|d| {
            t = t.saturating_add(*d);
            t
        });
        (start, end, times.collect())
    };
    if !old && !p.samples.is_empty() && p.samples.len() != p.time_deltas.len() {
        return Err(IngestError::invalid(
            file,
            format!("{} samples but {} timeDeltas: truncated or edited profile", p.samples.len(), p.time_deltas.len()),
        ));
    }
    build(Parts { nodes, samples: p.samples, times, start: start_time, end: end_time }, file, name, "cpuprofile", false)
}

/// A V8 CPU profile's content, however it was stored (a `.cpuprofile`, a
/// Chrome trace's `ProfileChunk`s): nodes, each sample's node and time (µs,
/// CLOCK_MONOTONIC), the profile's start and end.
pub(crate) struct Parts {
    pub nodes: Vec<Node>,
    pub samples: Vec<u64>,
    pub times: Vec<i64>,
    pub start: i64,
    pub end: Option<i64>,
}

/// The profile of a V8 CPU profile's parts.
///
/// `lenient` (Chrome traces, whose chunks may lack their data): a node
/// whose parent or child is not in the profile hangs from the root, and a
/// sample of an unknown node counts at the root, as DevTools and speedscope
/// read such traces; otherwise both are errors.
pub(crate) fn build(parts: Parts, file: &str, name: &str, source: &str, lenient: bool) -> Result<Profile, IngestError> {
    let Parts { nodes, samples, times, start: start_time, end: end_time } = parts;
    if nodes.is_empty() {
        return Err(IngestError::invalid(file, "the profile has no nodes"));
    }
    if times.len() < samples.len() {
        return Err(IngestError::invalid(file, format!("{} samples but {} times", samples.len(), times.len())));
    }
    let index: HashMap<u64, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    let mut parent: Vec<Option<usize>> = vec![None; nodes.len()];
    // Nodes whose parent is named but absent (lenient): under the root, with their frame.
    let mut orphan = vec![false; nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for c in &n.children {
            match index.get(c) {
                Some(&ci) => parent[ci] = Some(i),
                None if lenient => {}
                None => {
                    return Err(IngestError::invalid(
                        file,
                        format!("node {} lists child {c}, which is not a node", n.id),
                    ))
                }
            }
        }
        if let Some(pid) = n.parent {
            match index.get(&pid) {
                Some(&pi) => parent[i] = Some(pi),
                None if lenient => orphan[i] = true,
                None => {
                    return Err(IngestError::invalid(
                        file,
                        format!("node {} has parent {pid}, which is not a node", n.id),
                    ))
                }
            }
        }
    }

    let mut b = ProfileBuilder::new(name, source);
    // Builder node of each profile node, resolved root-first (parents before children).
    let mut mapped: Vec<Option<u32>> = vec![None; nodes.len()];
    let mut chain = Vec::new();
    for start in 0..nodes.len() {
        let mut i = start;
        chain.clear();
        while mapped[i].is_none() {
            chain.push(i);
            match parent[i] {
                Some(pi) => {
                    if chain.len() > nodes.len() {
                        return Err(IngestError::invalid(file, "the node tree has a cycle"));
                    }
                    i = pi;
                }
                None => break,
            }
        }
        while let Some(i) = chain.pop() {
            let up = match parent[i] {
                Some(pi) => mapped[pi].unwrap_or(0),
                None if orphan[i] => 0,
                None => {
                    // A root node ("(root)") is the profile's root.
                    mapped[i] = Some(0);
                    continue;
                }
            };
            let cf = &nodes[i].call_frame;
            let fname = if cf.function_name.is_empty() { "(anonymous)".to_string() } else { cf.function_name.clone() };
            let frame = Frame {
                category: categorize(&cf.function_name, &cf.url),
                name: fname,
                file: cf.url.clone(),
                line: u32::try_from(cf.line + 1).unwrap_or(0),
                col: u32::try_from(cf.col + 1).unwrap_or(0),
            };
            let f = b.intern(frame);
            mapped[i] = Some(b.child(up, f));
        }
    }

    if samples.is_empty() {
        for (i, n) in nodes.iter().enumerate() {
            if n.hit_count > 0 {
                b.add_self(mapped[i].unwrap_or(0), n.hit_count, 0)
                    .map_err(|e| IngestError::invalid(file, format!("node {}'s hitCount: {e}", n.id)))?;
            }
        }
    } else {
        b.weight_unit = Some("us".into());
        // V8 stamps samples with base::TimeTicks: CLOCK_MONOTONIC µs on Linux.
        b.clock = Some("CLOCK_MONOTONIC".into());
        let n = samples.len();
        for (k, s) in samples.iter().enumerate() {
            let i = match index.get(s) {
                Some(&i) => Some(i),
                None if lenient => None,
                None => return Err(IngestError::invalid(file, format!("sample {k} is node {s}, which is not a node"))),
            };
            let t = times[k];
            // A sample lasts until the next one (the last until endTime, or
            // the old layout's extra timestamp).
            let next = match times.get(k + 1) {
                Some(nt) => nt.saturating_sub(t),
                None => end_time.map(|e| e.saturating_sub(t)).unwrap_or(0),
            };
            let node = i.and_then(|i| mapped[i]).unwrap_or(0);
            b.add_self(node, 1, u64::try_from(next).unwrap_or(0))
                .map_err(|e| IngestError::invalid(file, format!("sample {k}: {e}")))?;
            b.add_sample_time(node, t);
        }
        let last = match times.get(n) {
            Some(t) => Some(*t),
            None => end_time.or_else(|| times.get(n.wrapping_sub(1)).copied()),
        };
        if let Some(e) = last {
            b.duration_us = Some(e.saturating_sub(start_time).max(0) as f64);
        }
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_small_profile() {
        // Hand-made, in the shape node --cpu-prof writes.
        let text = r#"{"nodes":[
          {"id":1,"callFrame":{"functionName":"(root)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"hitCount":0,"children":[2,3]},
          {"id":2,"callFrame":{"functionName":"main","scriptId":"1","url":"file:///a/app.js","lineNumber":0,"columnNumber":0},"hitCount":0,"children":[4]},
          {"id":3,"callFrame":{"functionName":"(garbage collector)","scriptId":"0","url":"","lineNumber":-1,"columnNumber":-1},"hitCount":1},
          {"id":4,"callFrame":{"functionName":"work","scriptId":"1","url":"file:///a/app.js","lineNumber":9,"columnNumber":4},"hitCount":2}],
          "startTime":1000,"endTime":1400,"samples":[4,4,3],"timeDeltas":[100,100,100]}"#;
        let p = ingest(text.as_bytes(), "t.cpuprofile", "t").unwrap();
        p.validate().unwrap();
        assert_eq!(p.total_samples, 3);
        let top = p.functions();
        assert_eq!((top[0].function.as_str(), top[0].self_samples, top[0].total_samples), ("work", 2, 2));
        let main = top.iter().find(|f| f.function == "main").unwrap();
        assert_eq!((main.self_samples, main.total_samples), (0, 2));
        assert_eq!(
            p.folded(false),
            vec!["(garbage collector) 1", "main file:///a/app.js:1:1;work file:///a/app.js:10:5 2"]
        );
        assert_eq!(p.duration_us, Some(400.0));
        assert_eq!(p.samples.as_ref().unwrap().dt_us, vec![0, 100, 100]);
        // Wall time: 100 + 100 µs for work, the last sample until endTime for GC.
        let w: u64 = p.nodes.self_weight.iter().sum();
        assert_eq!(w, 300);
    }

    #[test]
    fn truncated_profile_is_a_clear_error() {
        let e = ingest(&b"{\"nodes\":[{\"id\":1"[..], "cut.cpuprofile", "x").unwrap_err();
        assert!(e.to_string().starts_with("cut.cpuprofile: not a complete .cpuprofile"), "{e}");
    }
}
