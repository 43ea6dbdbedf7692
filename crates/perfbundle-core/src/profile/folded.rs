//! Folded stacks (Brendan Gregg's `stackcollapse` / inferno format): one
//! `frame;frame;frame COUNT` per line, root first.

use std::io::BufRead;

use super::{categorize, Category, Frame, Profile, ProfileBuilder};
use crate::error::IngestError;
use crate::ingest::lines::{next_line, DEFAULT_MAX_LINE_BYTES};

/// Splits `a;b;c 12` into the stack text and its count.
pub fn split_line(line: &str) -> Option<(&str, u64)> {
    let line = line.trim_end();
    let (stack, count) = line.rsplit_once(' ')?;
    let count = count.parse::<u64>().ok()?;
    (!stack.trim().is_empty()).then_some((stack, count))
}

/// The frame for one folded-stack name: inferno's `_[k]` and `_[j]`
/// annotations (dropped from the name: inferno's default output has none) and
/// V8's `JS:` / `Builtin:` prefixes give the category. An `_[i]` (inlined)
/// suffix stays, as in inferno's default output.
pub fn frame_of(name: &str) -> Frame {
    let (base, cat) = if let Some(b) = name.strip_suffix("_[k]") {
        (b, Some(Category::Kernel))
    } else if let Some(b) = name.strip_suffix("_[j]") {
        (b, None)
    } else {
        (name, None)
    };
    let mut f = frame_named(base);
    if let Some(c) = cat {
        f.category = c;
    }
    f
}

/// The frame for a name taken as it is (no annotation stripped): V8's
/// `JS:` frames give their file and line, prefixes and names the category.
pub fn frame_named(base: &str) -> Frame {
    let js = base.strip_prefix("JS:").map(|s| s.trim_start_matches(['*', '~', '^']));
    let (file, line, col) =
        js.and_then(super::category::split_js_location).map(|(_, f, l, c)| (f.to_string(), l, c)).unwrap_or_default();
    let category = if js.is_some() {
        categorize(base, &file)
    } else if base.starts_with("Builtin:")
        || base.starts_with("Builtins_")
        || base.starts_with("BytecodeHandler:")
        || base.starts_with("RegExp:")
        || base.starts_with("Stub:")
        || base.starts_with("v8::")
    {
        Category::V8
    } else if base.contains("GC") && base.contains("v8::internal") {
        Category::Gc
    } else {
        match categorize(base, "") {
            Category::Native if base.starts_with("Interpreter") => Category::V8,
            c => c,
        }
    };
    Frame { name: base.to_string(), file, line, col, category }
}

/// Reads folded stacks into a profile.
pub fn ingest<R: BufRead>(reader: R, file: &str, name: &str) -> Result<Profile, IngestError> {
    ingest_capped(reader, file, name, DEFAULT_MAX_LINE_BYTES)
}

/// [`ingest`], with a bound on the length of a line other than the default.
pub fn ingest_capped<R: BufRead>(reader: R, file: &str, name: &str, max_line: usize) -> Result<Profile, IngestError> {
    let mut b = ProfileBuilder::new(name, "folded");
    read_into(reader, file, &mut b, None, max_line)?;
    if b.total_samples() == 0 {
        return Err(IngestError::Empty { file: file.into() });
    }
    Ok(b.finish())
}

/// Adds folded lines to a builder. With `period`, each count is a weight and
/// the samples are `count / period`. Lines are read as UTF-8, invalid bytes
/// replaced (as inferno reads them); a line over `max_line` bytes is an error.
pub(crate) fn read_into<R: BufRead>(
    mut reader: R,
    file: &str,
    b: &mut ProfileBuilder,
    period: Option<u64>,
    max_line: usize,
) -> Result<(), IngestError> {
    let mut raw: Vec<u8> = Vec::new();
    let mut stack: Vec<u32> = Vec::new();
    let mut no = 0u64;
    while next_line(&mut reader, &mut raw, max_line, file, &mut no)? {
        let line = String::from_utf8_lossy(&raw);
        if line.trim().is_empty() {
            continue;
        }
        let (st, count) = split_line(&line).ok_or_else(|| IngestError::BadLine {
            file: file.into(),
            line: no,
            message: "not a folded stack (expected `frame;frame;… COUNT`)".into(),
        })?;
        stack.clear();
        for f in st.split(';') {
            let id = b.intern(frame_of(f));
            stack.push(id);
        }
        let added = match period {
            Some(p) if p > 0 => b.add_stack(&stack, count / p, count),
            _ => b.add_stack(&stack, count, 0),
        };
        added.map_err(|e| IngestError::BadLine { file: file.into(), line: no, message: e.to_string() })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_folded_lines() {
        let text = "node;main;work 3\nnode;main 1\nnode;uv_run;epoll_wait_[k] 2\n";
        let p = ingest(text.as_bytes(), "s.folded", "s").unwrap();
        p.validate().unwrap();
        assert_eq!(p.total_samples, 6);
        assert_eq!(p.functions()[0].function, "work");
        let k = p.frames.name.iter().position(|n| n == "epoll_wait").unwrap();
        assert_eq!(p.frames.category[k], Category::Kernel);
        assert_eq!(p.folded(false), vec!["node;main 1", "node;main;work 3", "node;uv_run;epoll_wait 2"]);
        assert!(ingest("hello world\n".as_bytes(), "x", "x").unwrap_err().to_string().contains("line 1"));
    }

    #[test]
    fn reads_js_frames() {
        let f = frame_of("JS:*fibonacciNaive /a/server-v1.js:12:25_[j]");
        assert_eq!((f.file.as_str(), f.line, f.col, f.category), ("/a/server-v1.js", 12, 25, Category::App));
        assert_eq!(frame_of("Builtins_InterpreterEntryTrampoline").category, Category::V8);
    }
}
