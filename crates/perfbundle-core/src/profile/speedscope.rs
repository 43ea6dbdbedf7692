//! speedscope's own file format (`"$schema":
//! "https://www.speedscope.app/file-format-schema.json"`), as speedscope
//! exports it and as py-spy (`record -f speedscope`), rbspy, Austin and
//! others write it: a shared frame table and one or more profiles, each
//! `sampled` (stacks, root first, with a weight each) or `evented` (`O`pen
//! and `C`lose events of frames at given values). And the way back:
//! [`write`] turns a bundle's profile into such a file.
//!
//! A sampled profile keeps its samples and weights as they are; in a unit of
//! time, each sample lasts its weight, so the samples get times from
//! `startValue` on. An evented profile becomes one sample per span between
//! two events while a frame is open, weighing the span.

use std::collections::HashMap;
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use super::{categorize, Frame, Profile, ProfileBuilder};
use crate::error::IngestError;

/// The schema URL that marks the format.
pub const SCHEMA: &str = "https://www.speedscope.app/file-format-schema.json";

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    shared: Shared,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    profiles: Vec<RawProfile>,
    #[serde(default, deserialize_with = "crate::bounded::opt_string")]
    exporter: Option<String>,
}

#[derive(Deserialize, Default)]
struct Shared {
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    frames: Vec<RawFrame>,
}

#[derive(Deserialize, Serialize)]
struct RawFrame {
    #[serde(deserialize_with = "crate::bounded::string")]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::bounded::opt_string")]
    file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    line: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    col: Option<f64>,
}

#[derive(Deserialize)]
struct RawProfile {
    #[serde(rename = "type", deserialize_with = "crate::bounded::string")]
    kind: String,
    #[serde(default, deserialize_with = "crate::bounded::string")]
    name: String,
    #[serde(default, deserialize_with = "crate::bounded::string")]
    unit: String,
    #[serde(rename = "startValue", default)]
    start_value: f64,
    #[serde(rename = "endValue", default)]
    end_value: f64,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    samples: Vec<crate::bounded::Seq<usize>>,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    weights: Vec<f64>,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    events: Vec<Event>,
}

impl crate::bounded::Heap for RawFrame {}
impl crate::bounded::Heap for RawProfile {}
impl crate::bounded::Heap for Event {}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type", deserialize_with = "crate::bounded::string")]
    kind: String,
    at: f64,
    frame: usize,
}

/// How a unit's values become the model's integer weights: the unit's name
/// in the model and the factor to it.
fn unit_of(unit: &str) -> Option<(&'static str, f64)> {
    Some(match unit {
        "nanoseconds" => ("ns", 1.0),
        "microseconds" => ("us", 1.0),
        "milliseconds" => ("us", 1e3),
        "seconds" => ("us", 1e6),
        "bytes" => ("bytes", 1.0),
        "none" | "" => ("count", 1.0),
        _ => return None,
    })
}

/// Whether the first bytes look like a speedscope file.
pub fn looks_like(head: &[u8]) -> bool {
    let n = head.len().min(64 << 10);
    memchr::memmem::find(&head[..n], b"\"$schema\"").is_some()
        && memchr::memmem::find(&head[..n], b"speedscope.app/file-format-schema.json").is_some()
}

/// Reads a speedscope file into one profile per profile it holds (named
/// `name`, or `name: PROFILE` when there are several).
pub fn ingest<R: Read>(reader: R, file: &str, name: &str) -> Result<Vec<Profile>, IngestError> {
    let f: File = crate::ingest::document::read(reader).map_err(|e| {
        IngestError::invalid(file, format!("not a speedscope file (shared.frames and profiles, {SCHEMA}): {e}"))
    })?;
    if f.profiles.is_empty() {
        return Err(IngestError::invalid(file, "the speedscope file holds no profile"));
    }
    let frames: Vec<Frame> = f
        .shared
        .frames
        .iter()
        .map(|r| {
            let file_name = r.file.clone().unwrap_or_default();
            let pos = |v: Option<f64>| v.filter(|x| x.is_finite() && *x >= 1.0 && *x < 4.0e9).map_or(0, |x| x as u32);
            Frame {
                category: categorize(&r.name, &file_name),
                name: r.name.clone(),
                file: file_name,
                line: pos(r.line),
                col: pos(r.col),
            }
        })
        .collect();
    let many = f.profiles.len() > 1;
    let mut out = Vec::new();
    for (pi, rp) in f.profiles.iter().enumerate() {
        let pname = if many {
            format!("{name}: {}", if rp.name.is_empty() { format!("profile {pi}") } else { rp.name.clone() })
        } else {
            name.to_string()
        };
        let at = |what: String| IngestError::invalid(file, format!("profile {pi} ({:?}): {what}", rp.name));
        let (unit, factor) = unit_of(&rp.unit).ok_or_else(|| at(format!("unknown unit {:?}", rp.unit)))?;
        let is_time = matches!(unit, "ns" | "us");
        let mut b = ProfileBuilder::new(pname, "speedscope");
        if let Some(e) = &f.exporter {
            if let Some((tool, version)) = e.rsplit_once('@') {
                b.tools.insert(tool.to_string(), version.to_string());
            }
        }
        let mut ids: HashMap<usize, u32> = HashMap::new();
        let mut intern = |b: &mut ProfileBuilder, i: usize| -> Result<u32, IngestError> {
            if let Some(&id) = ids.get(&i) {
                return Ok(id);
            }
            let fr = frames.get(i).ok_or_else(|| at(format!("frame {i} is not in shared.frames")))?;
            let id = b.intern(fr.clone());
            ids.insert(i, id);
            Ok(id)
        };
        let value = |v: f64, what: &str| -> Result<u64, IngestError> {
            let x = v * factor;
            if x.is_finite() && (0.0..1.8e19).contains(&x) {
                Ok(x.round() as u64)
            } else {
                Err(at(format!("{what} {v} is not a weight")))
            }
        };
        // Times in µs on the profile's own clock (its values from startValue).
        let to_us = |v: f64| -> Option<i64> {
            let us = match unit {
                "ns" => v / 1e3,
                "us" => v * factor,
                _ => return None,
            };
            (us.is_finite() && us.abs() < 9.0e15).then_some(us.round() as i64)
        };
        let mut stack: Vec<u32> = Vec::new();
        match rp.kind.as_str() {
            "sampled" => {
                if rp.weights.len() != rp.samples.len() {
                    return Err(at(format!("{} samples but {} weights", rp.samples.len(), rp.weights.len())));
                }
                let mut t = rp.start_value;
                for (k, (s, w)) in rp.samples.iter().zip(&rp.weights).enumerate() {
                    stack.clear();
                    for &i in s.iter() {
                        stack.push(intern(&mut b, i)?);
                    }
                    let weight = value(*w, &format!("sample {k}'s weight"))?;
                    let node = b.add_stack(&stack, 1, weight).map_err(|e| at(e.to_string()))?;
                    if is_time {
                        if let Some(tu) = to_us(t) {
                            b.add_sample_time(node, tu);
                        }
                    }
                    t += w;
                }
            }
            "evented" => {
                // The open frames, and the node each one's stack ends at: an
                // event costs one step, however deep the stack is.
                let mut open: Vec<usize> = Vec::new();
                let mut nodes: Vec<u32> = Vec::new();
                let mut last_at = rp.start_value;
                for (k, e) in rp.events.iter().enumerate() {
                    if !e.at.is_finite() || e.at < last_at {
                        return Err(at(format!("event {k} at {} comes before the one before it ({last_at})", e.at)));
                    }
                    if let (Some(&node), true) = (nodes.last(), e.at > last_at) {
                        let weight = value(e.at - last_at, &format!("the span before event {k}"))?;
                        b.add_self(node, 1, weight).map_err(|e| at(e.to_string()))?;
                        if let Some(tu) = to_us(last_at) {
                            b.add_sample_time(node, tu);
                        }
                    }
                    last_at = e.at;
                    match e.kind.as_str() {
                        "O" => {
                            let parent = nodes.last().copied().unwrap_or(0);
                            let f = intern(&mut b, e.frame)?;
                            nodes.push(b.child(parent, f));
                            open.push(e.frame);
                        }
                        "C" => match open.last() {
                            Some(&top) if top == e.frame => {
                                open.pop();
                                nodes.pop();
                            }
                            Some(&top) => {
                                return Err(at(format!(
                                    "event {k} closes frame {} while frame {top} is open on top",
                                    e.frame
                                )))
                            }
                            None => return Err(at(format!("event {k} closes frame {} with none open", e.frame))),
                        },
                        other => return Err(at(format!("event {k} has type {other:?} (expected O or C)"))),
                    }
                }
                if !open.is_empty() {
                    return Err(at(format!("{} frames are still open at the last event", open.len())));
                }
            }
            other => return Err(at(format!("type {other:?} (expected sampled or evented)"))),
        }
        if b.total_samples() == 0 {
            return Err(at("no samples".into()));
        }
        if unit != "count" || rp.weights.iter().any(|w| *w != 1.0) || rp.kind == "evented" {
            b.weight_unit = Some(unit.to_string());
        }
        if is_time {
            b.clock = Some("profile".into());
            b.duration_us = to_us(rp.end_value).zip(to_us(rp.start_value)).map(|(e, s)| (e - s).max(0) as f64);
        }
        let p = b.finish();
        out.push(p);
    }
    Ok(out)
}

/// Writes profiles as one speedscope file, one `evented` profile each:
/// speedscope's open and close events of frames, written as they are made.
/// Where the profile has sample times and weights (a `.cpuprofile`, perf),
/// in time order, each sample lasting its weight (consecutive samples of one
/// stack are one span); otherwise the call tree, heaviest subtrees where they
/// come, each frame open for its total. Events are made only where the stack
/// changes, so the file and the memory grow with the tree and the changes,
/// not with every sample's whole stack (a 2,000-deep recursion sampled 50,000
/// times is a few thousand events, not 100 million frame indexes).
pub fn write<W: Write + ?Sized>(profiles: &[&Profile], name: &str, w: &mut W) -> std::io::Result<()> {
    let mut frames: Vec<RawFrame> = Vec::new();
    let mut frame_ids: HashMap<(&str, &str, u32, u32), u32> = HashMap::new();
    let mut maps: Vec<Vec<u32>> = Vec::new();
    for p in profiles {
        // Shared frame index of each of the profile's frames.
        let f = &p.frames;
        maps.push(
            (0..f.name.len())
                .map(|i| {
                    let key = (f.name[i].as_str(), f.file[i].as_str(), f.line[i], f.col[i]);
                    *frame_ids.entry(key).or_insert_with(|| {
                        frames.push(RawFrame {
                            name: f.name[i].clone(),
                            file: (!f.file[i].is_empty()).then(|| f.file[i].clone()),
                            line: (f.line[i] > 0).then_some(f64::from(f.line[i])),
                            col: (f.col[i] > 0).then_some(f64::from(f.col[i])),
                        });
                        (frames.len() - 1) as u32
                    })
                })
                .collect(),
        );
    }
    w.write_all(b"{\"$schema\":")?;
    serde_json::to_writer(&mut *w, &SCHEMA)?;
    w.write_all(b",\"exporter\":")?;
    serde_json::to_writer(&mut *w, &format!("perfbundle@{}", crate::CRATE_VERSION))?;
    w.write_all(b",\"name\":")?;
    serde_json::to_writer(&mut *w, &name)?;
    w.write_all(b",\"activeProfileIndex\":0,\"shared\":{\"frames\":")?;
    serde_json::to_writer(&mut *w, &frames)?;
    w.write_all(b"},\"profiles\":[")?;
    for (k, (p, map)) in profiles.iter().zip(&maps).enumerate() {
        if k > 0 {
            w.write_all(b",")?;
        }
        write_evented(p, map, w)?;
    }
    w.write_all(b"]}\n")
}

/// One profile as speedscope's `evented` profile (see [`write`]).
fn write_evented<W: Write + ?Sized>(p: &Profile, map: &[u32], w: &mut W) -> std::io::Result<()> {
    // Weights where the profile has them (a unit speedscope knows, else
    // "none": perf's periods of another event, counts), else samples.
    let by_weight = p.has_weights();
    let unit = match p.weight_unit.as_deref() {
        Some("us") if by_weight => "microseconds",
        Some("ns") if by_weight => "nanoseconds",
        Some("bytes") if by_weight => "bytes",
        _ => "none",
    };
    let n = p.nodes.parent.len();
    let own = |i: usize| if by_weight { p.nodes.self_weight[i] } else { p.nodes.self_samples[i] };
    let total: f64 = (1..n).map(|i| own(i) as f64).sum();
    w.write_all(b"{\"type\":\"evented\",\"name\":")?;
    serde_json::to_writer(&mut *w, &p.name)?;
    write!(w, ",\"unit\":\"{unit}\",\"startValue\":0,\"endValue\":")?;
    serde_json::to_writer(&mut *w, &total)?;
    w.write_all(b",\"events\":[")?;
    let mut first = true;
    let mut event = |w: &mut W, open: bool, node: usize, at: f64| -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        first = false;
        write!(
            w,
            "{{\"type\":\"{}\",\"frame\":{},\"at\":",
            if open { "O" } else { "C" },
            map[p.nodes.frame[node] as usize]
        )?;
        serde_json::to_writer(&mut *w, &at)?;
        w.write_all(b"}")
    };
    match (p.samples.as_ref(), p.sample_weights()) {
        (Some(s), Some(sw)) if by_weight => {
            // In time order: from the stack open to the next sample's, close up to their
            // common ancestor and open down to the new leaf.
            let mut depth = vec![0u32; n];
            for i in 1..n {
                depth[i] = depth[p.nodes.parent[i] as usize] + 1;
            }
            let (mut leaf, mut t) = (0usize, 0.0f64);
            let mut down: Vec<usize> = Vec::new();
            for (k, &node) in s.node.iter().enumerate() {
                let node = node as usize;
                if node != leaf {
                    let (mut a, mut b) = (leaf, node);
                    down.clear();
                    while depth[a] > depth[b] {
                        event(w, false, a, t)?;
                        a = p.nodes.parent[a] as usize;
                    }
                    while depth[b] > depth[a] {
                        down.push(b);
                        b = p.nodes.parent[b] as usize;
                    }
                    while a != b {
                        event(w, false, a, t)?;
                        a = p.nodes.parent[a] as usize;
                        down.push(b);
                        b = p.nodes.parent[b] as usize;
                    }
                    for &d in down.iter().rev() {
                        event(w, true, d, t)?;
                    }
                    leaf = node;
                }
                t += sw[k] as f64;
            }
            while leaf != 0 {
                event(w, false, leaf, t)?;
                leaf = p.nodes.parent[leaf] as usize;
            }
        }
        _ => {
            // The call tree: each frame open for its subtree's total (its own part first).
            let mut totals: Vec<u64> = (0..n).map(own).collect();
            for i in (1..n).rev() {
                let par = p.nodes.parent[i] as usize;
                totals[par] = totals[par].saturating_add(totals[i]);
            }
            let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
            for i in 1..n {
                if totals[i] > 0 {
                    children[p.nodes.parent[i] as usize].push(i as u32);
                }
            }
            let mut t = 0.0f64;
            // (node, whether its children are done): no recursion, whatever the depth.
            let mut todo: Vec<(usize, bool)> = children[0].iter().rev().map(|&c| (c as usize, false)).collect();
            while let Some((node, done)) = todo.pop() {
                if done {
                    event(w, false, node, t)?;
                    continue;
                }
                event(w, true, node, t)?;
                t += own(node) as f64;
                todo.push((node, true));
                todo.extend(children[node].iter().rev().map(|&c| (c as usize, false)));
            }
        }
    }
    w.write_all(b"]}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sampled_and_evented_profiles() {
        // Hand-made, in the schema's shape.
        let text = r#"{"$schema":"https://www.speedscope.app/file-format-schema.json",
          "shared":{"frames":[{"name":"a"},{"name":"b","file":"/x/b.py","line":3},{"name":"c"}]},
          "profiles":[
            {"type":"sampled","name":"t1","unit":"milliseconds","startValue":0,"endValue":4,"samples":[[0,1],[0,1],[0,2]],"weights":[1,1.5,1.5]},
            {"type":"evented","name":"t2","unit":"none","startValue":0,"endValue":10,
             "events":[{"type":"O","frame":0,"at":0},{"type":"O","frame":1,"at":2},{"type":"C","frame":1,"at":6},{"type":"C","frame":0,"at":10}]}]}"#;
        assert!(looks_like(text.as_bytes()));
        let ps = ingest(text.as_bytes(), "s.json", "s").unwrap();
        assert_eq!(ps.len(), 2);
        let (a, b) = (&ps[0], &ps[1]);
        a.validate().unwrap();
        b.validate().unwrap();
        assert_eq!((a.name.as_str(), a.total_samples, a.weight_unit.as_deref()), ("s: t1", 3, Some("us")));
        assert_eq!(a.folded(true), vec!["a;b /x/b.py:3 2500", "a;c 1500"]);
        assert_eq!(a.samples.as_ref().unwrap().dt_us, vec![0, 1000, 1500]);
        assert_eq!(b.folded(true), vec!["a 6", "a;b /x/b.py:3 4"]);
        // Back to speedscope and in again: the same stacks and weights.
        let mut out = Vec::new();
        write(&[a, b], "s", &mut out).unwrap();
        let again = ingest(&out[..], "again", "again").unwrap();
        assert_eq!(again[0].folded(true), a.folded(true));
        assert_eq!(again[1].folded(true), b.folded(true));
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let bad = |t: &str| ingest(t.as_bytes(), "bad.json", "b").unwrap_err().to_string();
        let head = r#"{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":[{"name":"A"},{"name":"B"}]},"profiles":"#;
        let e = bad(&format!(
            r#"{head}[{{"type":"evented","name":"p1","unit":"none","startValue":0,"endValue":10,"events":[{{"type":"O","frame":0,"at":5}},{{"type":"C","frame":0,"at":2}}]}}]}}"#
        ));
        assert!(e.contains("bad.json: profile 0 (\"p1\"): event 1 at 2 comes before"), "{e}");
        let e = bad(&format!(
            r#"{head}[{{"type":"evented","name":"p1","unit":"none","startValue":0,"endValue":10,"events":[{{"type":"O","frame":0,"at":0}}]}}]}}"#
        ));
        assert!(e.contains("still open"), "{e}");
        let e = bad(&format!(
            r#"{head}[{{"type":"sampled","name":"p","unit":"none","startValue":0,"endValue":1,"samples":[[7]],"weights":[1]}}]}}"#
        ));
        assert!(e.contains("frame 7 is not in shared.frames"), "{e}");
    }
}
