//! Chrome DevTools Performance traces (Trace Event JSON: the file the
//! Performance panel saves, `browser.startTracing` in Playwright or
//! Puppeteer, `chrome://tracing`): the V8 CPU samples of each thread, one
//! profile per thread.
//!
//! The samples come in `Profile` (`ph: P`, one per profiled thread:
//! `args.data.startTime`, and the `id` that links its chunks) and
//! `ProfileChunk` events (`args.data.cpuProfile.nodes` — the nodes new in
//! this chunk —, `.samples`, and `args.data.timeDeltas`). Traces of Chrome
//! ≤ 66 hold one `CpuProfile` event per thread with a whole `.cpuprofile`
//! instead. Times are V8's TimeTicks (µs, CLOCK_MONOTONIC on Linux), the
//! same clock as the events' `ts`. The events array is read one event at a
//! time; only the profiles' data is kept.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::cpuprofile::{build, Node, Parts};
use super::Profile;
use crate::error::IngestError;

#[derive(Deserialize)]
struct Event {
    #[serde(default, deserialize_with = "crate::bounded::string")]
    name: String,
    #[serde(default, deserialize_with = "bounded_value")]
    pid: Value,
    #[serde(default, deserialize_with = "bounded_value")]
    tid: Value,
    #[serde(default, deserialize_with = "bounded_value")]
    id: Value,
    #[serde(default)]
    ts: Option<f64>,
    #[serde(default, deserialize_with = "bounded_value")]
    args: Value,
}

/// A JSON value read within the document's memory budget.
fn bounded_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Ok(crate::bounded::Value::deserialize(d)?.0)
}

#[derive(Deserialize, Default)]
struct ChunkProfile {
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    nodes: Vec<Node>,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    samples: Vec<u64>,
}

/// A whole `.cpuprofile` in a `CpuProfile` event (Chrome ≤ 66).
#[derive(Deserialize)]
struct Whole {
    #[serde(deserialize_with = "crate::bounded::vec")]
    nodes: Vec<Node>,
    #[serde(rename = "startTime")]
    start: f64,
    #[serde(rename = "endTime", default)]
    end: Option<f64>,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    samples: Vec<u64>,
    #[serde(rename = "timeDeltas", default, deserialize_with = "crate::bounded::vec")]
    deltas: Vec<i64>,
}

/// One profiled thread's data, gathered from its events.
#[derive(Default)]
struct Thread {
    pid: String,
    tid: String,
    start: Option<f64>,
    first_ts: Option<f64>,
    nodes: Vec<Node>,
    samples: Vec<u64>,
    deltas: Vec<i64>,
    /// A whole profile (Chrome ≤ 66's `CpuProfile` event), or why it is not one.
    whole: Option<Result<Whole, String>>,
}

#[derive(Default)]
struct State {
    threads: BTreeMap<(String, String), Thread>,
    thread_names: HashMap<(String, String), String>,
    process_names: HashMap<String, String>,
    events: u64,
    /// Profile events whose data could not be read (as DevTools skips them).
    unreadable: u64,
    /// `metadata["clock-domain"]` (`LINUX_CLOCK_MONOTONIC`), where the trace says.
    clock_domain: Option<String>,
}

fn key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl State {
    /// Takes in one event: what it keeps (a thread's nodes, samples and
    /// deltas) charged to the document's memory budget.
    fn event(&mut self, e: Event) -> Result<(), String> {
        self.events += 1;
        let data = e.args.get("data");
        match e.name.as_str() {
            "thread_name" => {
                if let Some(n) = e.args.get("name").and_then(Value::as_str) {
                    self.thread_names.insert((key(&e.pid), key(&e.tid)), n.to_string());
                }
            }
            "process_name" => {
                if let Some(n) = e.args.get("name").and_then(Value::as_str) {
                    self.process_names.insert(key(&e.pid), n.to_string());
                }
            }
            "Profile" => {
                let t = self.threads.entry((key(&e.pid), key(&e.id))).or_default();
                t.pid = key(&e.pid);
                t.tid = key(&e.tid);
                t.start = data.and_then(|d| d.get("startTime")).and_then(Value::as_f64).or(e.ts);
            }
            "ProfileChunk" => {
                let t = self.threads.entry((key(&e.pid), key(&e.id))).or_default();
                if t.pid.is_empty() {
                    t.pid = key(&e.pid);
                    t.tid = key(&e.tid);
                }
                t.first_ts = t.first_ts.or(e.ts);
                let Some(d) = data else { return Ok(()) };
                let cp = d.get("cpuProfile").map(ChunkProfile::deserialize).transpose();
                let deltas = d.get("timeDeltas").map(crate::bounded::Seq::<i64>::deserialize).transpose();
                match (cp, deltas) {
                    (Ok(cp), Ok(deltas)) => {
                        let cp = cp.unwrap_or_default();
                        let deltas = deltas.unwrap_or_default().0;
                        if cp.samples.len() != deltas.len() {
                            self.unreadable += 1;
                            return Ok(());
                        }
                        t.nodes.extend(cp.nodes);
                        t.samples.extend(cp.samples);
                        t.deltas.extend(deltas);
                    }
                    (cp, deltas) => {
                        // Past the memory budget is an error; other unreadable chunks are left out.
                        let why = cp.err().map(|e| e.to_string()).or(deltas.err().map(|e| e.to_string()));
                        if let Some(w) = why.filter(|w| w.contains(crate::bounded::SPENT)) {
                            return Err(w);
                        }
                        self.unreadable += 1
                    }
                }
            }
            "CpuProfile" => {
                if let Some(cp) = data.and_then(|d| d.get("cpuProfile")) {
                    let t = self.threads.entry((key(&e.pid), format!("cpuprofile {}", key(&e.tid)))).or_default();
                    t.pid = key(&e.pid);
                    t.tid = key(&e.tid);
                    t.whole = Some(Whole::deserialize(cp).map_err(|e| e.to_string()));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

struct Events<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for Events<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Events<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of trace events")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            // An event's own values are freed once it is taken in: their charge is given back.
            let before = crate::bounded::left();
            let Some(e) = seq.next_element::<Event>()? else { break };
            crate::bounded::set_left(before);
            self.0.event(e).map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}

/// The whole file: the events array, or an object with `traceEvents`.
struct TraceFile<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for TraceFile<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TraceFile<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a trace: an array of events, or an object with traceEvents")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Events(self.0).visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            if k == "traceEvents" {
                map.next_value_seed(Events(&mut *self.0))?;
            } else if k == "metadata" {
                #[derive(Deserialize)]
                struct Meta {
                    #[serde(rename = "clock-domain", default)]
                    clock_domain: Option<String>,
                }
                if let Ok(m) = map.next_value::<Meta>() {
                    self.0.clock_domain = m.clock_domain;
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Whether the (decompressed) first bytes look like a Trace Event file.
pub fn looks_like(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let Some(start) = text.iter().position(|b| !b.is_ascii_whitespace()) else { return false };
    let text = &text[start..];
    let n = text.len().min(256 << 10);
    match text[0] {
        b'{' => memchr::memmem::find(&text[..n], b"\"traceEvents\"").is_some(),
        b'[' => {
            // The first element is an event object: it has a phase.
            let Some(obj) = text[1..].iter().position(|b| !b.is_ascii_whitespace()) else { return false };
            if text[1 + obj] != b'{' {
                return false;
            }
            let first = &text[1 + obj..n.min(1 + obj + 4096)];
            let end = memchr::memchr(b'}', first).unwrap_or(first.len());
            memchr::memmem::find(&first[..end], b"\"ph\"").is_some()
        }
        _ => false,
    }
}

/// Reads a trace into one profile per thread with CPU samples (named
/// `name`, or `name: THREAD (pid P, tid T)` when there are several).
/// Returns the profiles and a note on events whose data could not be read.
pub fn ingest<R: Read>(reader: R, file: &str, name: &str) -> Result<(Vec<Profile>, Option<String>), IngestError> {
    let mut st = State::default();
    let reader = crate::ingest::document::LongStrings::new(
        std::io::BufReader::with_capacity(1 << 16, reader),
        crate::ingest::document::MAX_STRING_BYTES,
    );
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut budget = crate::ingest::document::DOCUMENT_MEMORY;
    crate::bounded::with_budget(&mut budget, || TraceFile(&mut st).deserialize(&mut de)).map_err(|e| {
        IngestError::invalid(
            file,
            format!("not a Chrome trace (Trace Event JSON: an events array, or an object with traceEvents): {e}"),
        )
    })?;
    de.end().map_err(|e| IngestError::invalid(file, format!("text after the trace: {e}")))?;
    let threads: Vec<Thread> =
        st.threads.into_values().filter(|t| t.whole.is_some() || !t.samples.is_empty()).collect();
    if threads.is_empty() {
        return Err(IngestError::invalid(
            file,
            format!(
                "a Chrome trace ({} events) without CPU samples: record it with the disabled-by-default-v8.cpu_profiler category (the Performance panel does)",
                st.events
            ),
        ));
    }
    let many = threads.len() > 1;
    let mut out = Vec::new();
    for t in threads {
        let thread = st.thread_names.get(&(t.pid.clone(), t.tid.clone())).cloned().unwrap_or_else(|| "thread".into());
        let process = st.process_names.get(&t.pid).map(|p| format!("{p} ")).unwrap_or_default();
        let pname =
            if many { format!("{name}: {process}{thread} (pid {}, tid {})", t.pid, t.tid) } else { name.to_string() };
        let what = format!("{file} (pid {}, tid {})", t.pid, t.tid);
        let parts = match t.whole {
            Some(w) => {
                let w = w.map_err(|e| {
                    IngestError::invalid(&what, format!("a CpuProfile event that is not a .cpuprofile: {e}"))
                })?;
                to_parts(w.nodes, w.samples, w.deltas, w.start, w.end, &what)?
            }
            None => {
                let start = t.start.or(t.first_ts).unwrap_or(0.0);
                to_parts(t.nodes, t.samples, t.deltas, start, None, &what)?
            }
        };
        let mut p = build(parts, &what, &pname, "chrome-trace", true)?;
        p.tools.insert("chrome thread".into(), thread);
        // V8's TimeTicks: CLOCK_MONOTONIC on Linux, which traces from Chrome say.
        match st.clock_domain.as_deref() {
            Some("LINUX_CLOCK_MONOTONIC") | None => p.clock = Some("CLOCK_MONOTONIC".into()),
            Some(other) => p.clock = Some(other.to_string()),
        }
        out.push(p);
    }
    let note = (st.unreadable > 0).then(|| {
        format!(
            "{file}: {} profile events whose data could not be read were left out (as DevTools leaves them out)",
            st.unreadable
        )
    });
    Ok((out, note))
}

fn to_parts(
    nodes: Vec<Node>,
    samples: Vec<u64>,
    deltas: Vec<i64>,
    start: f64,
    end: Option<f64>,
    what: &str,
) -> Result<Parts, IngestError> {
    if samples.len() != deltas.len() {
        return Err(IngestError::invalid(what, format!("{} samples but {} timeDeltas", samples.len(), deltas.len())));
    }
    let us = |x: f64| -> Result<i64, IngestError> {
        if x.is_finite() && x.abs() < 9.0e15 {
            Ok(x.round() as i64)
        } else {
            Err(IngestError::invalid(what, format!("time {x} is not a time")))
        }
    };
    let start = us(start)?;
    let mut t = start;
    let times = deltas
        .iter()
        .map(|d| {
            t = t.saturating_add(*d);
            t
        })
        .collect();
    Ok(Parts { nodes, samples, times, start, end: end.map(us).transpose()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_profile_chunks_per_thread() {
        // Hand-made, in the shape Chrome writes: a Profile, two chunks (nodes split across them).
        let text = r#"{"traceEvents":[
          {"pid":1,"tid":7,"ts":0,"ph":"M","cat":"__metadata","name":"thread_name","args":{"name":"CrRendererMain"}},
          {"pid":1,"tid":7,"ts":1000,"ph":"P","cat":"disabled-by-default-v8.cpu_profiler","name":"Profile","id":"0x1","args":{"data":{"startTime":1000}}},
          {"pid":1,"tid":9,"ts":1100,"ph":"P","cat":"disabled-by-default-v8.cpu_profiler","name":"ProfileChunk","id":"0x1","args":{"data":{"cpuProfile":{"nodes":[{"callFrame":{"functionName":"(root)","scriptId":0},"id":1},{"callFrame":{"functionName":"work","url":"https://x/app.js","scriptId":3,"lineNumber":4,"columnNumber":2},"id":2,"parent":1}],"samples":[2,2]},"timeDeltas":[10,20]}}},
          {"pid":1,"tid":9,"ts":1200,"ph":"P","cat":"disabled-by-default-v8.cpu_profiler","name":"ProfileChunk","id":"0x1","args":{"data":{"cpuProfile":{"nodes":[{"callFrame":{"functionName":"(idle)","scriptId":0},"id":3,"parent":1}],"samples":[3]},"timeDeltas":[30]}}},
          {"pid":1,"tid":7,"ts":1300,"ph":"X","name":"RunTask","dur":5,"args":{"data":{"startTime":"not a number"}}}
        ],"metadata":{"source":"DevTools"}}"#;
        assert!(looks_like(text.as_bytes()));
        assert!(looks_like(br#"[{"pid":1,"tid":2,"ts":3,"ph":"X","name":"a"}]"#));
        assert!(!looks_like(br#"[[{"name":"x","type":"JS"}]]"#));
        let (ps, note) = ingest(text.as_bytes(), "t.json", "t").unwrap();
        assert!(note.is_none());
        assert_eq!(ps.len(), 1);
        let p = &ps[0];
        p.validate().unwrap();
        assert_eq!((p.total_samples, p.start_us), (3, Some(1010)));
        assert_eq!(p.samples.as_ref().unwrap().dt_us, vec![0, 20, 30]);
        assert_eq!(p.functions()[0].function, "work");
        assert_eq!(p.tools.get("chrome thread").map(String::as_str), Some("CrRendererMain"));
        let e = ingest(&br#"{"traceEvents":[{"name":"RunTask","ph":"X","ts":1}]}"#[..], "n.json", "n").unwrap_err();
        assert!(e.to_string().contains("without CPU samples"), "{e}");
    }
}
