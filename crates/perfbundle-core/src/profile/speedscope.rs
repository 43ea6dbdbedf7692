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
    #[serde(default)]
    profiles: Vec<RawProfile>,
    #[serde(default)]
    exporter: Option<String>,
}

#[derive(Deserialize, Default)]
struct Shared {
    #[serde(default)]
    frames: Vec<RawFrame>,
}

#[derive(Deserialize, Serialize)]
struct RawFrame {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    line: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    col: Option<f64>,
}

#[derive(Deserialize)]
struct RawProfile {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    unit: String,
    #[serde(rename = "startValue", default)]
    start_value: f64,
    #[serde(rename = "endValue", default)]
    end_value: f64,
    #[serde(default)]
    samples: Vec<Vec<usize>>,
    #[serde(default)]
    weights: Vec<f64>,
    #[serde(default)]
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
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
    let f: File = serde_json::from_reader(std::io::BufReader::new(reader)).map_err(|e| {
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
                    for &i in s {
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
                let mut open: Vec<usize> = Vec::new();
                let mut last_at = rp.start_value;
                for (k, e) in rp.events.iter().enumerate() {
                    if !e.at.is_finite() || e.at < last_at {
                        return Err(at(format!("event {k} at {} comes before the one before it ({last_at})", e.at)));
                    }
                    if !open.is_empty() && e.at > last_at {
                        stack.clear();
                        for &i in &open {
                            stack.push(intern(&mut b, i)?);
                        }
                        let weight = value(e.at - last_at, &format!("the span before event {k}"))?;
                        let node = b.add_stack(&stack, 1, weight).map_err(|e| at(e.to_string()))?;
                        if let Some(tu) = to_us(last_at) {
                            b.add_sample_time(node, tu);
                        }
                    }
                    last_at = e.at;
                    match e.kind.as_str() {
                        "O" => open.push(e.frame),
                        "C" => match open.last() {
                            Some(&top) if top == e.frame => {
                                open.pop();
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

/// Writes profiles as one speedscope file (one sampled profile each): a
/// sample's stack per leaf node, weighted by the profile's weights (in
/// their unit) where it has them, else by samples. Stacks with samples in
/// time order when the profile has per-sample times, so speedscope's time
/// order view shows them as they happened.
pub fn write<W: Write + ?Sized>(profiles: &[&Profile], name: &str, w: &mut W) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct OutProfile {
        #[serde(rename = "type")]
        kind: &'static str,
        name: String,
        unit: &'static str,
        #[serde(rename = "startValue")]
        start_value: f64,
        #[serde(rename = "endValue")]
        end_value: f64,
        samples: Vec<Vec<u32>>,
        weights: Vec<f64>,
    }
    let mut frames: Vec<RawFrame> = Vec::new();
    let mut frame_ids: HashMap<(String, String, u32, u32), u32> = HashMap::new();
    let mut out_profiles = Vec::new();
    for p in profiles {
        // Shared frame index of each of the profile's frames.
        let map: Vec<u32> = (0..p.frames.name.len())
            .map(|i| {
                let key = (p.frames.name[i].clone(), p.frames.file[i].clone(), p.frames.line[i], p.frames.col[i]);
                *frame_ids.entry(key).or_insert_with(|| {
                    frames.push(RawFrame {
                        name: p.frames.name[i].clone(),
                        file: (!p.frames.file[i].is_empty()).then(|| p.frames.file[i].clone()),
                        line: (p.frames.line[i] > 0).then_some(f64::from(p.frames.line[i])),
                        col: (p.frames.col[i] > 0).then_some(f64::from(p.frames.col[i])),
                    });
                    (frames.len() - 1) as u32
                })
            })
            .collect();
        let n = p.nodes.parent.len();
        let mut stacks: Vec<Vec<u32>> = vec![Vec::new(); n];
        for i in 1..n {
            let mut s = stacks[p.nodes.parent[i] as usize].clone();
            s.push(map[p.nodes.frame[i] as usize]);
            stacks[i] = s;
        }
        // Weights where the profile has them (a unit speedscope knows, else
        // "none": perf's periods of another event, counts), else samples.
        let by_weight = p.has_weights();
        let (unit, scale) = match p.weight_unit.as_deref() {
            Some("us") if by_weight => ("microseconds", 1.0),
            Some("ns") if by_weight => ("nanoseconds", 1.0),
            Some("bytes") if by_weight => ("bytes", 1.0),
            _ => ("none", 1.0),
        };
        let mut samples = Vec::new();
        let mut weights = Vec::new();
        match (p.samples.as_ref(), p.sample_weights()) {
            (Some(s), Some(sw)) if by_weight => {
                // In time order, one per sample, consecutive equal stacks merged.
                for (k, node) in s.node.iter().enumerate() {
                    let w = sw[k] as f64 * scale;
                    if samples.last() == Some(&stacks[*node as usize]) {
                        *weights.last_mut().expect("a weight per sample") += w;
                    } else {
                        samples.push(stacks[*node as usize].clone());
                        weights.push(w);
                    }
                }
            }
            _ => {
                for (i, stack) in stacks.iter().enumerate().skip(1) {
                    let c = if by_weight { p.nodes.self_weight[i] } else { p.nodes.self_samples[i] };
                    if c > 0 {
                        samples.push(stack.clone());
                        weights.push(c as f64 * scale);
                    }
                }
            }
        }
        let total: f64 = weights.iter().sum();
        out_profiles.push(OutProfile {
            kind: "sampled",
            name: p.name.clone(),
            unit,
            start_value: 0.0,
            end_value: total,
            samples,
            weights,
        });
    }
    let doc = serde_json::json!({
        "$schema": SCHEMA,
        "exporter": format!("perfbundle@{}", crate::CRATE_VERSION),
        "name": name,
        "activeProfileIndex": 0,
        "shared": { "frames": frames },
        "profiles": out_profiles,
    });
    serde_json::to_writer(&mut *w, &doc)?;
    w.write_all(b"\n")
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
