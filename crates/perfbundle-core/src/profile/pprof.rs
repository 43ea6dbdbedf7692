//! Go's pprof (`profile.proto`, as `runtime/pprof` and `go test
//! -cpuprofile` write it, gzip-compressed: the caller decompresses): the
//! protocol buffer decoded by hand (a few varint and length-delimited
//! fields; no code generator), samples expanded through their locations'
//! lines (inlined functions included) into stacks.
//!
//! Each sample's values follow `sample_type`: a Go CPU profile has
//! `samples/count` and `cpu/nanoseconds`. The profile's samples are the
//! `samples` (or first `count`) value; its weights the profile's default
//! value (`default_sample_type`, else the last one, as `go tool pprof`
//! shows), in its unit. `time_nanos` is the profile's start on the wall
//! clock; a CPU profile has no per-sample times.

use std::collections::HashMap;
use std::io::Read;

use super::{categorize, Category, Frame, Profile, ProfileBuilder};
use crate::error::IngestError;

/// The largest profile read (decompressed): a pprof file is one message
/// (Go's CPU and heap profiles are a few MB).
pub const MAX_BYTES: u64 = 64 << 20;

/// A protobuf field's value.
enum Val<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed(u64),
}

/// A cursor over one protobuf message.
struct Msg<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Msg<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Msg { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or("a varint runs past the end")?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a varint longer than 10 bytes".into())
    }

    /// The next field (number, value), or `None` at the end.
    fn next(&mut self) -> Result<Option<(u64, Val<'a>)>, String> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (field, wire) = (key >> 3, key & 7);
        if field == 0 {
            return Err("field number 0".into());
        }
        let v = match wire {
            0 => Val::Varint(self.varint()?),
            1 => Val::Fixed(self.fixed(8)?),
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| "a length past memory")?;
                let end =
                    self.pos.checked_add(n).filter(|e| *e <= self.buf.len()).ok_or("a field runs past the end")?;
                let b = &self.buf[self.pos..end];
                self.pos = end;
                Val::Bytes(b)
            }
            5 => Val::Fixed(self.fixed(4)?),
            w => return Err(format!("wire type {w} (groups are not used by profile.proto)")),
        };
        Ok(Some((field, v)))
    }

    fn fixed(&mut self, n: usize) -> Result<u64, String> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len()).ok_or("a field runs past the end")?;
        let mut v = 0u64;
        for (i, b) in self.buf[self.pos..end].iter().enumerate() {
            v |= u64::from(*b) << (8 * i);
        }
        self.pos = end;
        Ok(v)
    }
}

/// A repeated integer field, packed or not, appended to `out`.
fn push_ints(v: Val<'_>, out: &mut Vec<u64>) -> Result<(), String> {
    match v {
        Val::Varint(x) | Val::Fixed(x) => out.push(x),
        Val::Bytes(b) => {
            let mut m = Msg::new(b);
            while m.pos < b.len() {
                out.push(m.varint()?);
            }
        }
    }
    Ok(())
}

fn int(v: &Val<'_>) -> u64 {
    match v {
        Val::Varint(x) | Val::Fixed(x) => *x,
        Val::Bytes(_) => 0,
    }
}

#[derive(Default)]
struct Location {
    /// (function id, line), innermost first.
    lines: Vec<(u64, i64)>,
    address: u64,
    mapping: u64,
}

#[derive(Default)]
struct Function {
    name: u64,
    file: u64,
    start_line: u64,
}

/// Whether the (decompressed) first bytes look like a profile.proto: the
/// fields read are the profile's, each with its wire type (a `sample_type`
/// holds only its `type` and `unit`), and there are a few of them.
pub fn looks_like(head: &[u8]) -> bool {
    let mut m = Msg::new(head);
    let mut fields = 0;
    let mut typed = false;
    loop {
        let start = m.pos;
        match m.next() {
            Ok(Some((f, v))) => {
                let ok = match (f, &v) {
                    (1, Val::Bytes(b)) => {
                        let mut vt = Msg::new(b);
                        let mut n = 0;
                        loop {
                            match vt.next() {
                                Ok(Some((1 | 2, Val::Varint(_)))) => n += 1,
                                Ok(None) => break,
                                _ => return false,
                            }
                        }
                        typed = true;
                        n > 0
                    }
                    (2..=6 | 11, Val::Bytes(_)) => true,
                    (7..=10 | 12 | 14, Val::Varint(_)) => true,
                    (13, Val::Varint(_) | Val::Bytes(_)) => true,
                    _ => false,
                };
                if !ok {
                    return false;
                }
                fields += 1;
                if fields >= 4 && typed {
                    return true;
                }
            }
            Ok(None) => return fields >= 2 && typed,
            // The head ends inside a field: fine if enough came before.
            Err(_) => return fields >= 3 && start > 0,
        }
    }
}

/// Go's own code by its function and file: the runtime (its collector as
/// `gc`), the standard library, modules from the module cache, the program.
fn go_category(name: &str, file: &str) -> Category {
    let runtime = name.starts_with("runtime.") || file.contains("/src/runtime/");
    if runtime && ["gc", "mark", "sweep", "scanobject", "scanblock", "greyobject"].iter().any(|k| name.contains(k)) {
        return Category::Gc;
    }
    if runtime || name.starts_with("syscall.") {
        return Category::Native;
    }
    if file.contains("/pkg/mod/") || file.contains("/vendor/") {
        return Category::Dependency;
    }
    // The standard library lives under GOROOT/src.
    if file.contains("/go/src/")
        || file.contains("/libexec/src/")
        || (file.contains("/lib/go") && file.contains("/src/"))
    {
        return Category::Native;
    }
    match categorize(name, file) {
        Category::Native if !file.is_empty() => Category::App,
        c => c,
    }
}

/// Reads a decompressed profile.proto into a profile.
pub fn ingest<R: Read>(reader: R, file: &str, name: &str) -> Result<Profile, IngestError> {
    let mut buf = Vec::new();
    reader
        .take(MAX_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| IngestError::read(file, "reading the profile (truncated or corrupt gzip?)", e))?;
    if buf.len() as u64 > MAX_BYTES {
        return Err(IngestError::invalid(file, format!("larger than {} MiB decompressed", MAX_BYTES >> 20)));
    }
    let mut budget = crate::ingest::document::DOCUMENT_MEMORY;
    crate::bounded::with_budget(&mut budget, || decode(&buf, file, name))
}

fn decode(buf: &[u8], file: &str, name: &str) -> Result<Profile, IngestError> {
    let bad = |what: String| IngestError::invalid(file, format!("not a pprof profile.proto: {what}"));
    let mut strings: Vec<String> = Vec::new();
    let mut sample_types: Vec<(u64, u64)> = Vec::new();
    let mut samples: Vec<&[u8]> = Vec::new();
    let mut locations: HashMap<u64, Location> = HashMap::new();
    let mut functions: HashMap<u64, Function> = HashMap::new();
    let mut mappings: HashMap<u64, u64> = HashMap::new();
    let (mut time_nanos, mut duration_nanos, mut default_type) = (0u64, 0u64, 0u64);
    let mut m = Msg::new(buf);
    // What the decoded records keep, charged to the document's memory budget.
    let keep = |bytes: usize| {
        crate::bounded::take(bytes as u64).map_err(|e| {
            IngestError::invalid(
                file,
                format!(
                    "it holds more than perfbundle reads of one file ({} MiB once decoded): {e}",
                    crate::ingest::document::DOCUMENT_MEMORY >> 20
                ),
            )
        })
    };
    while let Some((f, v)) = m.next().map_err(bad)? {
        match (f, v) {
            (1, Val::Bytes(b)) => {
                let mut vt = Msg::new(b);
                let (mut t, mut u) = (0, 0);
                while let Some((f, v)) = vt.next().map_err(|e| bad(format!("sample_type: {e}")))? {
                    match f {
                        1 => t = int(&v),
                        2 => u = int(&v),
                        _ => {}
                    }
                }
                sample_types.push((t, u));
            }
            (2, Val::Bytes(b)) => {
                keep(32)?;
                samples.push(b)
            }
            (3, Val::Bytes(b)) => {
                let mut mm = Msg::new(b);
                let (mut id, mut filename) = (0, 0);
                while let Some((f, v)) = mm.next().map_err(|e| bad(format!("mapping: {e}")))? {
                    match f {
                        1 => id = int(&v),
                        5 => filename = int(&v),
                        _ => {}
                    }
                }
                keep(48)?;
                mappings.insert(id, filename);
            }
            (4, Val::Bytes(b)) => {
                let mut lm = Msg::new(b);
                let mut id = 0;
                let mut loc = Location::default();
                while let Some((f, v)) = lm.next().map_err(|e| bad(format!("location: {e}")))? {
                    match (f, v) {
                        (1, v) => id = int(&v),
                        (2, v) => loc.mapping = int(&v),
                        (3, v) => loc.address = int(&v),
                        (4, Val::Bytes(lb)) => {
                            let mut l = Msg::new(lb);
                            let (mut func, mut line) = (0, 0i64);
                            while let Some((f, v)) = l.next().map_err(|e| bad(format!("line: {e}")))? {
                                match f {
                                    1 => func = int(&v),
                                    2 => line = int(&v) as i64,
                                    _ => {}
                                }
                            }
                            loc.lines.push((func, line));
                        }
                        _ => {}
                    }
                }
                keep(96 + 32 * loc.lines.len())?;
                locations.insert(id, loc);
            }
            (5, Val::Bytes(b)) => {
                let mut fm = Msg::new(b);
                let mut id = 0;
                let mut func = Function::default();
                while let Some((f, v)) = fm.next().map_err(|e| bad(format!("function: {e}")))? {
                    match f {
                        1 => id = int(&v),
                        2 => func.name = int(&v),
                        4 => func.file = int(&v),
                        5 => func.start_line = int(&v),
                        _ => {}
                    }
                }
                keep(64)?;
                functions.insert(id, func);
            }
            (6, Val::Bytes(b)) => {
                keep(24 + crate::bounded::alloc(b.len()) as usize)?;
                strings.push(String::from_utf8_lossy(b).into_owned())
            }
            (9, v) => time_nanos = int(&v),
            (10, v) => duration_nanos = int(&v),
            (14, v) => default_type = int(&v),
            _ => {}
        }
    }
    if strings.first().is_some_and(|s| !s.is_empty()) {
        return Err(bad("the string table does not start with \"\"".into()));
    }
    if sample_types.is_empty() {
        return Err(bad("no sample_type".into()));
    }
    let s = |i: u64| strings.get(i as usize).map(String::as_str).unwrap_or("");
    // Which value weighs (the default type, else the last) and which counts.
    let weight_ix = if default_type != 0 {
        sample_types.iter().position(|(t, _)| *t == default_type).unwrap_or(sample_types.len() - 1)
    } else {
        sample_types.len() - 1
    };
    let count_ix = sample_types
        .iter()
        .position(|(t, u)| s(*t) == "samples" && s(*u) == "count")
        .or_else(|| sample_types.iter().position(|(_, u)| s(*u) == "count"));
    let unit = s(sample_types[weight_ix].1);
    let weight_unit = match unit {
        "nanoseconds" => Some("ns".to_string()),
        "microseconds" => Some("us".to_string()),
        "count" => None,
        "" => None,
        u => Some(u.to_string()),
    };

    let mut b = ProfileBuilder::new(name, "pprof");
    let mut frame_of: HashMap<(u64, i64), u32> = HashMap::new();
    let mut stack: Vec<u32> = Vec::new();
    let mut loc_ids: Vec<u64> = Vec::new();
    let mut values: Vec<u64> = Vec::new();
    for (k, sb) in samples.iter().enumerate() {
        loc_ids.clear();
        values.clear();
        let mut sm = Msg::new(sb);
        while let Some((f, v)) = sm.next().map_err(|e| bad(format!("sample {k}: {e}")))? {
            match f {
                1 => push_ints(v, &mut loc_ids).map_err(|e| bad(format!("sample {k}: {e}")))?,
                2 => push_ints(v, &mut values).map_err(|e| bad(format!("sample {k}: {e}")))?,
                _ => {}
            }
        }
        if values.len() != sample_types.len() {
            return Err(bad(format!("sample {k} has {} values for {} sample types", values.len(), sample_types.len())));
        }
        // Leaf first: each location's lines innermost first.
        stack.clear();
        for id in &loc_ids {
            let loc = locations
                .get(id)
                .ok_or_else(|| bad(format!("sample {k} names location {id}, which is not in the profile")))?;
            if loc.lines.is_empty() {
                // No symbol: the address, in its mapping's file.
                let key = (u64::MAX - *id, 0);
                let fr = match frame_of.get(&key) {
                    Some(f) => *f,
                    None => {
                        let file_name = mappings.get(&loc.mapping).map(|f| s(*f)).unwrap_or("").to_string();
                        let f = b.intern(Frame {
                            name: format!("0x{:x}", loc.address),
                            file: file_name,
                            line: 0,
                            col: 0,
                            category: Category::Native,
                        });
                        frame_of.insert(key, f);
                        f
                    }
                };
                stack.push(fr);
                continue;
            }
            // One frame per function, as `go tool pprof` shows them (not per line).
            for &(func, _line) in &loc.lines {
                let key = (func, 0);
                let fr = match frame_of.get(&key) {
                    Some(f) => *f,
                    None => {
                        let fu = functions.get(&func);
                        let fname = fu.map(|x| s(x.name)).unwrap_or("").to_string();
                        let ffile = fu.map(|x| s(x.file)).unwrap_or("").to_string();
                        let category = go_category(&fname, &ffile);
                        let f = b.intern(Frame {
                            name: if fname.is_empty() { format!("function {func}") } else { fname },
                            file: ffile,
                            line: fu.map_or(0, |x| u32::try_from(x.start_line).unwrap_or(0)),
                            col: 0,
                            category,
                        });
                        frame_of.insert(key, f);
                        f
                    }
                };
                stack.push(fr);
            }
        }
        stack.reverse();
        let count = match count_ix {
            Some(i) => values[i],
            None => 1,
        };
        let weight = if weight_unit.is_some() { values[weight_ix] } else { 0 };
        b.add_stack(&stack, count, weight).map_err(|e| bad(format!("sample {k}: {e}")))?;
    }
    if b.total_samples() == 0 {
        return Err(IngestError::invalid(file, "the pprof profile holds no samples"));
    }
    b.weight_unit = weight_unit;
    if time_nanos > 0 {
        b.start_unix_us = i64::try_from(time_nanos / 1000).ok();
        b.clock = Some("unix".into());
    }
    if duration_nanos > 0 {
        b.duration_us = Some(duration_nanos as f64 / 1000.0);
    }
    b.tools.insert(
        "pprof sample types".into(),
        sample_types.iter().map(|(t, u)| format!("{}/{}", s(*t), s(*u))).collect::<Vec<_>>().join(" "),
    );
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A varint, a field key, a length-delimited field: enough to write a small profile by hand.
    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    fn field(n: u64, body: &[u8], out: &mut Vec<u8>) {
        varint(n << 3 | 2, out);
        varint(body.len() as u64, out);
        out.extend_from_slice(body);
    }
    fn vfield(n: u64, v: u64, out: &mut Vec<u8>) {
        varint(n << 3, out);
        varint(v, out);
    }

    #[test]
    fn decodes_a_small_profile() {
        // Hand-made: strings "", samples, count, cpu, nanoseconds, main.f, main.g, x.go.
        let mut p = Vec::new();
        let mut vt = Vec::new();
        vfield(1, 1, &mut vt);
        vfield(2, 2, &mut vt);
        field(1, &vt, &mut p);
        let mut vt = Vec::new();
        vfield(1, 3, &mut vt);
        vfield(2, 4, &mut vt);
        field(1, &vt, &mut p);
        // Samples: [loc 1 (g inlined in f)] x2 values (2, 20ms); [loc 2 (f)] (1, 10ms), packed.
        for (locs, vals) in [(vec![1u64], vec![2u64, 20_000_000]), (vec![2], vec![1, 10_000_000])] {
            let mut s = Vec::new();
            let mut l = Vec::new();
            locs.iter().for_each(|x| varint(*x, &mut l));
            field(1, &l, &mut s);
            let mut v = Vec::new();
            vals.iter().for_each(|x| varint(*x, &mut v));
            field(2, &v, &mut s);
            field(2, &s, &mut p);
        }
        for (id, lines) in [(1u64, vec![(2u64, 7u64), (1, 3)]), (2, vec![(1, 4)])] {
            let mut loc = Vec::new();
            vfield(1, id, &mut loc);
            for (f, l) in lines {
                let mut ln = Vec::new();
                vfield(1, f, &mut ln);
                vfield(2, l, &mut ln);
                field(4, &ln, &mut loc);
            }
            field(4, &loc, &mut p);
        }
        for (id, name) in [(1u64, 5u64), (2, 6)] {
            let mut f = Vec::new();
            vfield(1, id, &mut f);
            vfield(2, name, &mut f);
            vfield(4, 7, &mut f);
            field(5, &f, &mut p);
        }
        for s in ["", "samples", "count", "cpu", "nanoseconds", "main.f", "main.g", "/x/x.go"] {
            field(6, s.as_bytes(), &mut p);
        }
        vfield(9, 1_700_000_000_123_456_789, &mut p);
        assert!(looks_like(&p));
        let prof = decode(&p, "t.pprof", "t").unwrap();
        prof.validate().unwrap();
        assert_eq!(prof.total_samples, 3);
        assert_eq!(prof.weight_unit.as_deref(), Some("ns"));
        assert_eq!(prof.folded(true), vec!["main.f 10000000", "main.f;main.g 20000000"]);
        assert_eq!(prof.folded(false), vec!["main.f 1", "main.f;main.g 2"]);
        assert_eq!(prof.start_unix_us, Some(1_700_000_000_123_456));
        assert!(!looks_like(b"{\"nodes\":[]}"));
        assert!(!looks_like(b"\nhello world, this is text\n"));
        let e = decode(&p[..p.len() - 3], "cut.pprof", "c").unwrap_err().to_string();
        assert!(e.starts_with("cut.pprof: not a pprof profile.proto"), "{e}");
    }
}
