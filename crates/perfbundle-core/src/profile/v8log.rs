//! 0x (default mode): the `…-v8.log.json` that `node --prof-process
//! --preprocess` wrote (FORMATS.md §7): a `code` table and `ticks`, each
//! tick a flat list of (code index, offset) pairs, innermost first, with its
//! time in µs since the process started and V8's VM state. The code records
//! are also what Clinic.js flame copies into each of its samples.

use std::collections::HashMap;
use std::io::Read;

use serde::Deserialize;

use super::category::split_js_location;
use super::{categorize, Category, Frame, Profile, ProfileBuilder};
use crate::error::IngestError;

/// One `code` record (or one frame of a Clinic.js flame sample).
#[derive(Debug, Deserialize)]
pub struct CodeRecord {
    #[serde(default, deserialize_with = "crate::bounded::string")]
    pub name: String,
    #[serde(rename = "type", default, deserialize_with = "crate::bounded::string")]
    pub kind: String,
    #[serde(rename = "kind", default, deserialize_with = "crate::bounded::opt_string")]
    pub code_kind: Option<String>,
}

impl CodeRecord {
    /// The frame this record stands for. JS names carry `fn file:line:col`.
    pub fn frame(&self) -> Frame {
        match self.kind.as_str() {
            "JS" => match split_js_location(&self.name) {
                Some((func, file, line, col)) => Frame {
                    name: if func.is_empty() { "(anonymous)".into() } else { func.to_string() },
                    category: categorize(func, file),
                    file: file.to_string(),
                    line,
                    col,
                },
                None => {
                    Frame { name: self.name.clone(), file: String::new(), line: 0, col: 0, category: Category::App }
                }
            },
            "CODE" => {
                let name = match self.code_kind.as_deref() {
                    Some("RegExp") => format!("RegExp: {}", self.name),
                    _ => self.name.clone(),
                };
                Frame { name, file: String::new(), line: 0, col: 0, category: Category::V8 }
            }
            "CPP" => {
                let category = if self.name.contains("v8::internal::Heap")
                    || self.name.contains("Scavenge")
                    || self.name.contains("MarkCompact")
                {
                    Category::Gc
                } else if self.name.starts_with("v8::") || self.name.contains(" v8::") {
                    Category::V8
                } else {
                    Category::Native
                };
                Frame { name: self.name.clone(), file: String::new(), line: 0, col: 0, category }
            }
            _ => Frame { name: self.name.clone(), file: String::new(), line: 0, col: 0, category: Category::Native },
        }
    }
}

#[derive(Deserialize)]
struct Tick {
    #[serde(default)]
    tm: i64,
    #[serde(default)]
    vm: i64,
    #[serde(default, deserialize_with = "crate::bounded::vec")]
    s: Vec<i64>,
}

#[derive(Deserialize)]
struct LogJson {
    #[serde(deserialize_with = "crate::bounded::vec")]
    code: Vec<CodeRecord>,
    #[serde(deserialize_with = "crate::bounded::vec")]
    ticks: Vec<Tick>,
}

impl crate::bounded::Heap for Tick {}
impl crate::bounded::Heap for CodeRecord {}

/// A synthetic leaf for V8's VM state when the stack says nothing more.
pub(crate) fn vm_state_frame(vm: i64) -> Option<Frame> {
    let (name, category) = match vm {
        1 => ("(garbage collector)", Category::Gc),
        8 => ("(idle)", Category::Idle),
        _ => return None,
    };
    Some(Frame { name: name.into(), file: String::new(), line: 0, col: 0, category })
}

/// Reads a `…-v8.log.json` (as 0x leaves it) into a profile: one sample per tick.
pub fn ingest<R: Read>(reader: R, file: &str, name: &str) -> Result<Profile, IngestError> {
    let log: LogJson = crate::ingest::document::read(reader).map_err(|e| {
        IngestError::invalid(
            file,
            format!("not a V8 `--prof-process --preprocess` JSON (with code and ticks arrays): {e}"),
        )
    })?;
    let mut b = ProfileBuilder::new(name, "0x");
    let mut frame_of_code: HashMap<usize, u32> = HashMap::new();
    let mut stack: Vec<u32> = Vec::new();
    let program =
        b.intern(Frame { name: "(program)".into(), file: String::new(), line: 0, col: 0, category: Category::Other });
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for (k, t) in log.ticks.iter().enumerate() {
        stack.clear();
        for pair in t.s.chunks(2) {
            let code = pair[0];
            if code < 0 {
                continue;
            }
            let code = code as usize;
            let rec = log.code.get(code).ok_or_else(|| {
                IngestError::invalid(file, format!("tick {k} refers to code {code}, past the code table"))
            })?;
            let f = match frame_of_code.get(&code) {
                Some(&f) => f,
                None => {
                    let f = b.intern(rec.frame());
                    frame_of_code.insert(code, f);
                    f
                }
            };
            stack.push(f);
        }
        stack.reverse();
        // A tick with no resolved frame is named by V8's VM state, as 0x does.
        if stack.is_empty() {
            match vm_state_frame(t.vm) {
                Some(vf) => {
                    let f = b.intern(vf);
                    stack.push(f);
                }
                None => stack.push(program),
            }
        }
        let node = b.add_stack(&stack, 1, 0).map_err(|e| IngestError::invalid(file, e.to_string()))?;
        b.add_sample_time(node, t.tm);
        first = first.min(t.tm);
        last = last.max(t.tm);
    }
    if log.ticks.is_empty() {
        return Err(IngestError::invalid(file, "the V8 log has no ticks (no samples)"));
    }
    b.duration_us = Some((last - first) as f64);
    // Tick times count from the V8 logger's start, shortly after the process's.
    b.clock = Some("process".into());
    Ok(b.finish())
}
