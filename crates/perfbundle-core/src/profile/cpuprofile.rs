//! V8 `.cpuprofile` (`node --cpu-prof`, Chrome DevTools): a tree of nodes
//! with call frames, the leaf node of each sample, and the time between
//! samples (FORMATS.md §10). Lines and columns there are 0-based.

use std::collections::HashMap;
use std::io::Read;

use serde::Deserialize;

use super::{categorize, Frame, Profile, ProfileBuilder};
use crate::error::IngestError;

#[derive(Deserialize)]
struct CpuProfile {
    nodes: Vec<Node>,
    #[serde(rename = "startTime")]
    start_time: i64,
    #[serde(rename = "endTime", default)]
    end_time: Option<i64>,
    #[serde(default)]
    samples: Vec<u64>,
    #[serde(rename = "timeDeltas", default)]
    time_deltas: Vec<i64>,
}

#[derive(Deserialize)]
struct Node {
    id: u64,
    #[serde(rename = "callFrame")]
    call_frame: CallFrame,
    #[serde(default)]
    children: Vec<u64>,
    #[serde(default)]
    parent: Option<u64>,
    #[serde(rename = "hitCount", default)]
    hit_count: u64,
}

#[derive(Deserialize)]
struct CallFrame {
    #[serde(rename = "functionName", default)]
    function_name: String,
    #[serde(default)]
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
    let p: CpuProfile = serde_json::from_reader(std::io::BufReader::new(reader)).map_err(|e| {
        IngestError::invalid(
            file,
            format!("not a complete .cpuprofile (a JSON object with nodes, startTime, samples and timeDeltas): {e}"),
        )
    })?;
    if p.nodes.is_empty() {
        return Err(IngestError::invalid(file, ".cpuprofile has no nodes"));
    }
    if !p.samples.is_empty() && p.samples.len() != p.time_deltas.len() {
        return Err(IngestError::invalid(
            file,
            format!("{} samples but {} timeDeltas: truncated or edited profile", p.samples.len(), p.time_deltas.len()),
        ));
    }
    let index: HashMap<u64, usize> = p.nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    let mut parent: Vec<Option<usize>> = vec![None; p.nodes.len()];
    for (i, n) in p.nodes.iter().enumerate() {
        for c in &n.children {
            let &ci = index.get(c).ok_or_else(|| {
                IngestError::invalid(file, format!("node {} lists child {c}, which is not a node", n.id))
            })?;
            parent[ci] = Some(i);
        }
        if let Some(pid) = n.parent {
            let &pi = index.get(&pid).ok_or_else(|| {
                IngestError::invalid(file, format!("node {} has parent {pid}, which is not a node", n.id))
            })?;
            parent[i] = Some(pi);
        }
    }

    let mut b = ProfileBuilder::new(name, "cpuprofile");
    // Builder node of each profile node, resolved root-first (parents before children).
    let mut mapped: Vec<Option<u32>> = vec![None; p.nodes.len()];
    let mut chain = Vec::new();
    for start in 0..p.nodes.len() {
        let mut i = start;
        chain.clear();
        while mapped[i].is_none() {
            chain.push(i);
            match parent[i] {
                Some(pi) => {
                    if chain.len() > p.nodes.len() {
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
                None => {
                    // A root node ("(root)") is the profile's root.
                    mapped[i] = Some(0);
                    continue;
                }
            };
            let cf = &p.nodes[i].call_frame;
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

    if p.samples.is_empty() {
        for (i, n) in p.nodes.iter().enumerate() {
            if n.hit_count > 0 {
                b.add_self(mapped[i].unwrap_or(0), n.hit_count, 0)
                    .map_err(|e| IngestError::invalid(file, format!("node {}'s hitCount: {e}", n.id)))?;
            }
        }
    } else {
        b.weight_unit = Some("us".into());
        // V8 stamps samples with base::TimeTicks: CLOCK_MONOTONIC µs on Linux.
        b.clock = Some("CLOCK_MONOTONIC".into());
        let mut t = p.start_time;
        let n = p.samples.len();
        for (k, s) in p.samples.iter().enumerate() {
            let &i = index
                .get(s)
                .ok_or_else(|| IngestError::invalid(file, format!("sample {k} is node {s}, which is not a node")))?;
            t = t.saturating_add(p.time_deltas[k]);
            // A sample lasts until the next one (the last until endTime).
            let next =
                if k + 1 < n { p.time_deltas[k + 1] } else { p.end_time.map(|e| e.saturating_sub(t)).unwrap_or(0) };
            let node = mapped[i].unwrap_or(0);
            b.add_self(node, 1, u64::try_from(next).unwrap_or(0))
                .map_err(|e| IngestError::invalid(file, format!("sample {k}: {e}")))?;
            b.add_sample_time(node, t);
        }
        if let Some(e) = p.end_time {
            b.duration_us = Some(e.saturating_sub(p.start_time) as f64);
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
