//! Process timelines: Clinic.js doctor's samples of CPU, memory, event-loop
//! delay and handles, and the GC events of its trace, on absolute wall-clock
//! time so that they line up with the k6 run (FORMATS.md §8).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::IngestError;

/// One garbage collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GcEvent {
    /// Start, Unix ms.
    pub start_unix_ms: f64,
    pub duration_ms: f64,
    /// The trace event's name (`V8.GCScavenger`, `MinorGC`, `MajorGC`, …).
    pub kind: String,
    #[serde(default)]
    pub heap_before_bytes: Option<f64>,
    #[serde(default)]
    pub heap_after_bytes: Option<f64>,
}

impl crate::bounded::Heap for GcEvent {
    fn heap(&self) -> u64 {
        self.kind.len() as u64
    }
}

/// A process timeline (`timelines/<n>.json`, kind `timeline`), column-wise:
/// every column has one value per sample.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Timeline {
    pub name: String,
    /// `clinic-doctor`.
    pub source: String,
    #[serde(default, deserialize_with = "crate::bounded::map")]
    pub tools: BTreeMap<String, String>,
    /// Sample times, Unix ms.
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub t_unix_ms: Vec<f64>,
    /// Process CPU time over elapsed time, in % (can exceed 100 with threads).
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub cpu_percent: Vec<f64>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub rss_bytes: Vec<f64>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub heap_total_bytes: Vec<f64>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub heap_used_bytes: Vec<f64>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub external_bytes: Vec<f64>,
    #[serde(deserialize_with = "crate::bounded::vec", default)]
    pub array_buffers_bytes: Vec<Option<f64>>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub event_loop_delay_ms: Vec<f64>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    pub active_handles: Vec<i64>,
    /// Event-loop utilization in % where the sampler had it.
    #[serde(deserialize_with = "crate::bounded::vec", default)]
    pub loop_utilization_percent: Vec<Option<f64>>,
    #[serde(deserialize_with = "crate::bounded::vec", default)]
    pub gc: Vec<GcEvent>,
}

impl Timeline {
    /// The first and last sample times (Unix ms); `None` without samples.
    pub fn span_ms(&self) -> Option<(f64, f64)> {
        let lo = self.t_unix_ms.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self.t_unix_ms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo <= hi).then_some((lo, hi))
    }

    /// `true` when some sample falls within `from..=to` (Unix ms).
    pub fn overlaps(&self, from_ms: f64, to_ms: f64) -> bool {
        self.span_ms().is_some_and(|(lo, hi)| lo <= to_ms && hi >= from_ms)
    }

    /// When none of the samples falls in the k6 run's window (Unix ms), what
    /// to say instead of drawing it on the run's time axis: `its samples
    /// (A → B) do not overlap the k6 run (C → D)`. Pack's warning, the
    /// viewer and the Markdown report say it alike.
    pub fn apart_from(&self, k6_window_ms: (f64, f64)) -> Option<String> {
        let (from, to) = k6_window_ms;
        if self.overlaps(from, to) {
            return None;
        }
        let when = |ms: f64| crate::time::format_rfc3339_ms((ms * 1e6) as i64);
        let span = self.span_ms().map_or("no samples".to_string(), |(lo, hi)| format!("{} → {}", when(lo), when(hi)));
        Some(format!("its samples ({span}) do not overlap the k6 run ({} → {})", when(from), when(to)))
    }

    pub fn validate(&self) -> Result<(), String> {
        let n = self.t_unix_ms.len();
        for (name, len) in [
            ("cpu_percent", self.cpu_percent.len()),
            ("rss_bytes", self.rss_bytes.len()),
            ("heap_total_bytes", self.heap_total_bytes.len()),
            ("heap_used_bytes", self.heap_used_bytes.len()),
            ("external_bytes", self.external_bytes.len()),
            ("event_loop_delay_ms", self.event_loop_delay_ms.len()),
            ("active_handles", self.active_handles.len()),
        ] {
            if len != n {
                return Err(format!("column {name} has {len} values, t_unix_ms has {n}"));
            }
        }
        for (name, len) in [
            ("array_buffers_bytes", self.array_buffers_bytes.len()),
            ("loop_utilization_percent", self.loop_utilization_percent.len()),
        ] {
            if len != 0 && len != n {
                return Err(format!("column {name} has {len} values, t_unix_ms has {n}"));
            }
        }
        Ok(())
    }

    /// Every number finite (JSON holds no other; a corrupt input can).
    pub fn check_finite(&self) -> Result<(), String> {
        let cols: [(&str, &[f64]); 7] = [
            ("timestamp", &self.t_unix_ms),
            ("cpu", &self.cpu_percent),
            ("rss", &self.rss_bytes),
            ("heapTotal", &self.heap_total_bytes),
            ("heapUsed", &self.heap_used_bytes),
            ("external", &self.external_bytes),
            ("delay", &self.event_loop_delay_ms),
        ];
        for (name, col) in cols {
            if let Some(i) = col.iter().position(|v| !v.is_finite()) {
                return Err(format!("sample {i}: {name} is not a finite number"));
            }
        }
        for (name, col) in
            [("arrayBuffers", &self.array_buffers_bytes), ("loopUtilization", &self.loop_utilization_percent)]
        {
            if let Some(i) = col.iter().position(|v| v.is_some_and(|v| !v.is_finite())) {
                return Err(format!("sample {i}: {name} is not a finite number"));
            }
        }
        for (i, g) in self.gc.iter().enumerate() {
            let nums = [Some(g.start_unix_ms), Some(g.duration_ms), g.heap_before_bytes, g.heap_after_bytes];
            if nums.iter().flatten().any(|v| !v.is_finite()) {
                return Err(format!("GC event {i} ({}): a time or size is not a finite number", g.kind));
            }
        }
        Ok(())
    }
}

/// A decoded `ProcessStat` message (clinic doctor's `process-stat.proto`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProcessStat {
    pub timestamp: f64,
    pub delay: f64,
    pub cpu: f64,
    pub rss: f64,
    pub heap_total: f64,
    pub heap_used: f64,
    pub external: f64,
    pub array_buffers: Option<f64>,
    pub handles: i64,
    pub loop_utilization: Option<f64>,
}

fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn f64_at(b: &[u8], i: &mut usize) -> Option<f64> {
    let bytes: [u8; 8] = b.get(*i..*i + 8)?.try_into().ok()?;
    *i += 8;
    Some(f64::from_le_bytes(bytes))
}

/// Walks a protobuf message, calling `field(number, wire value)` for each field.
fn fields(b: &[u8], mut field: impl FnMut(u64, Wire<'_>)) -> Option<()> {
    let mut i = 0;
    while i < b.len() {
        let key = varint(b, &mut i)?;
        let (num, wt) = (key >> 3, key & 7);
        let w = match wt {
            0 => Wire::Varint(varint(b, &mut i)?),
            1 => Wire::F64(f64_at(b, &mut i)?),
            2 => {
                let len = usize::try_from(varint(b, &mut i)?).ok()?;
                let s = b.get(i..i.checked_add(len)?)?;
                i += len;
                Wire::Bytes(s)
            }
            5 => {
                i += 4;
                if i > b.len() {
                    return None;
                }
                Wire::Other
            }
            _ => return None,
        };
        field(num, w);
    }
    Some(())
}

enum Wire<'a> {
    Varint(u64),
    F64(f64),
    Bytes(&'a [u8]),
    Other,
}

fn decode_stat(msg: &[u8]) -> Option<ProcessStat> {
    let mut s = ProcessStat::default();
    let mut seen = 0u8;
    fields(msg, |num, w| match (num, w) {
        (1, Wire::F64(v)) => {
            s.timestamp = v;
            seen |= 1;
        }
        (2, Wire::F64(v)) => s.delay = v,
        (3, Wire::F64(v)) => s.cpu = v,
        (4, Wire::Bytes(m)) => {
            let _ = fields(m, |n, w| {
                if let Wire::F64(v) = w {
                    match n {
                        1 => s.rss = v,
                        2 => s.heap_total = v,
                        3 => s.heap_used = v,
                        4 => s.external = v,
                        5 => s.array_buffers = Some(v),
                        _ => {}
                    }
                }
            });
            seen |= 2;
        }
        (5, Wire::Varint(v)) => s.handles = v as i32 as i64,
        (6, Wire::Varint(v)) => s.loop_utilization = Some(f64::from(v as i32)),
        _ => {}
    })?;
    (seen == 3).then_some(s)
}

/// Decodes a whole `-processstat` file: big-endian u16 lengths, each
/// followed by one `ProcessStat` message.
pub fn decode_processstat(bytes: &[u8], file: &str) -> Result<Vec<ProcessStat>, IngestError> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < bytes.len() {
        let Some(len) = bytes.get(i..i + 2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]]))) else {
            return Err(IngestError::invalid(file, format!("truncated frame header at byte {i}")));
        };
        let msg = bytes.get(i + 2..i + 2 + len).ok_or_else(|| {
            IngestError::invalid(file, format!("frame at byte {i} says {len} bytes, the file ends first (truncated?)"))
        })?;
        let stat = decode_stat(msg).ok_or_else(|| {
            IngestError::invalid(file, format!("frame at byte {i} is not a clinic doctor ProcessStat message"))
        })?;
        out.push(stat);
        i += 2 + len;
    }
    if out.is_empty() {
        return Err(IngestError::Empty { file: file.into() });
    }
    Ok(out)
}

/// Monotonic µs → Unix ms, from `-systeminfo`'s `clock` pair.
#[derive(Debug, Clone, Copy)]
pub struct ClockPair {
    pub mono_ms: f64,
    pub unix_ms: f64,
}

impl ClockPair {
    /// The pair, when `clock` holds one of plausible size (finite, and
    /// within ±2^53 ms — 285,000 years — either side of the epoch).
    pub fn from_systeminfo(v: &Value) -> Option<Self> {
        let c = v.get("clock")?;
        let hr = c.get("hrtime")?.as_array()?;
        let mono_ms = hr.first()?.as_f64()? * 1e3 + hr.get(1)?.as_f64()? / 1e6;
        let unix_ms = c.get("unixtime")?.as_f64()?;
        let plausible = |x: f64| x.is_finite() && x.abs() < 9.0e15;
        (plausible(mono_ms) && plausible(unix_ms)).then_some(ClockPair { mono_ms, unix_ms })
    }
    pub fn unix_ms_of_mono_us(&self, us: f64) -> f64 {
        self.unix_ms + (us / 1e3 - self.mono_ms)
    }
}

/// GC events of a Chrome trace-event document (`{"traceEvents": […]}`).
pub fn gc_events(trace: &Value, clock: Option<ClockPair>) -> Vec<GcEvent> {
    let Some(events) = trace.get("traceEvents").and_then(Value::as_array) else { return Vec::new() };
    let to_ms = |us: f64| match clock {
        Some(c) => c.unix_ms_of_mono_us(us),
        None => us / 1e3,
    };
    let mut open: Vec<(i64, String, f64, Option<f64>)> = Vec::new();
    let mut out = Vec::new();
    for e in events {
        let name = e.get("name").and_then(Value::as_str).unwrap_or_default();
        if !name.contains("GC") {
            continue;
        }
        let ts = e.get("ts").and_then(Value::as_f64).unwrap_or(0.0);
        let tid = e.get("tid").and_then(Value::as_i64).unwrap_or(0);
        let arg = |k: &str| e.get("args").and_then(|a| a.get(k)).and_then(Value::as_f64);
        match e.get("ph").and_then(Value::as_str) {
            Some("X") => out.push(GcEvent {
                start_unix_ms: to_ms(ts),
                duration_ms: e.get("dur").and_then(Value::as_f64).unwrap_or(0.0) / 1e3,
                kind: name.to_string(),
                heap_before_bytes: None,
                heap_after_bytes: None,
            }),
            Some("B") => open.push((tid, name.to_string(), ts, arg("usedHeapSizeBefore"))),
            Some("E") => {
                if let Some(pos) = open.iter().rposition(|(t, n, _, _)| *t == tid && n == name) {
                    let (_, n, start, before) = open.remove(pos);
                    out.push(GcEvent {
                        start_unix_ms: to_ms(start),
                        duration_ms: (ts - start) / 1e3,
                        kind: n,
                        heap_before_bytes: before,
                        heap_after_bytes: arg("usedHeapSizeAfter"),
                    });
                }
            }
            _ => {}
        }
    }
    out.sort_by(|a, b| a.start_unix_ms.total_cmp(&b.start_unix_ms));
    out
}

/// Builds a timeline from clinic doctor's three files' contents.
pub fn clinic_doctor(
    name: &str,
    processstat: &[u8],
    processstat_file: &str,
    traceevent: Option<&[u8]>,
    systeminfo: Option<&[u8]>,
) -> Result<Timeline, IngestError> {
    let stats = decode_processstat(processstat, processstat_file)?;
    let sysinfo: Option<Value> = systeminfo.and_then(|b| crate::ingest::document::value(b).ok());
    let clock = sysinfo.as_ref().and_then(ClockPair::from_systeminfo);
    let mut tl = Timeline { name: name.into(), source: "clinic-doctor".into(), ..Default::default() };
    if let Some(si) = &sysinfo {
        if let Some(v) = si.get("toolVersion").and_then(Value::as_str) {
            tl.tools.insert("@clinic/doctor".into(), v.into());
        }
        if let Some(nv) = si.get("nodeVersions").and_then(Value::as_object) {
            for k in ["node", "v8"] {
                if let Some(v) = nv.get(k).and_then(Value::as_str) {
                    tl.tools.insert(k.into(), v.into());
                }
            }
        }
    }
    for s in &stats {
        tl.t_unix_ms.push(s.timestamp);
        tl.cpu_percent.push(s.cpu * 100.0);
        tl.rss_bytes.push(s.rss);
        tl.heap_total_bytes.push(s.heap_total);
        tl.heap_used_bytes.push(s.heap_used);
        tl.external_bytes.push(s.external);
        tl.array_buffers_bytes.push(s.array_buffers);
        tl.event_loop_delay_ms.push(s.delay);
        tl.active_handles.push(s.handles);
        tl.loop_utilization_percent.push(s.loop_utilization);
    }
    if let Some(t) = traceevent {
        let v: Value = crate::ingest::document::value(t)
            .map_err(|e| IngestError::invalid(processstat_file, format!("its -traceevent file is not JSON: {e}")))?;
        tl.gc = gc_events(&v, clock);
    }
    if sysinfo.as_ref().is_some_and(|si| si.get("clock").is_some()) && clock.is_none() {
        return Err(IngestError::invalid(
            processstat_file,
            "its -systeminfo file's clock (hrtime, unixtime) is not a plausible time: corrupt or not Clinic's",
        ));
    }
    tl.check_finite().map_err(|m| IngestError::invalid(processstat_file, m))?;
    Ok(tl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_hand_encoded_frame() {
        // One ProcessStat built by hand: timestamp 1000, delay 2, cpu 0.5, memory {rss 10}, handles 3.
        let mut msg = vec![0x09];
        msg.extend(1000f64.to_le_bytes());
        msg.push(0x11);
        msg.extend(2f64.to_le_bytes());
        msg.push(0x19);
        msg.extend(0.5f64.to_le_bytes());
        msg.extend([0x22, 9, 0x09]);
        msg.extend(10f64.to_le_bytes());
        msg.extend([0x28, 3]);
        let mut file = (msg.len() as u16).to_be_bytes().to_vec();
        file.extend(&msg);
        let s = decode_processstat(&file, "p").unwrap();
        assert_eq!(s[0].timestamp, 1000.0);
        assert_eq!(s[0].rss, 10.0);
        assert_eq!(s[0].handles, 3);
        assert!(decode_processstat(&file[..file.len() - 1], "p").unwrap_err().to_string().contains("truncated"));
    }
}
