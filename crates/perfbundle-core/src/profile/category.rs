//! Frame categories: where the time went, by kind of code.

use serde::{Deserialize, Serialize};

/// The kind of code a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// The application's own JavaScript.
    App,
    /// Code under `node_modules`.
    Dependency,
    /// Node.js core (`node:…`, `internal/…`).
    Node,
    /// V8: builtins, bytecode handlers, the compiler, regular expressions.
    V8,
    /// Native code: C/C++ of node and libraries, unresolved addresses.
    Native,
    /// Garbage collection.
    Gc,
    /// Idle (the event loop waiting).
    Idle,
    /// The operating system kernel.
    Kernel,
    /// Synthetic frames (a process or thread root, `(root)`, `(program)`).
    Other,
}

impl Category {
    /// Every category, in the order legends list them.
    pub const ALL: [Category; 9] = [
        Category::App,
        Category::Dependency,
        Category::Node,
        Category::V8,
        Category::Native,
        Category::Gc,
        Category::Idle,
        Category::Kernel,
        Category::Other,
    ];

    /// What the category holds, for a legend.
    pub fn describe(self) -> &'static str {
        match self {
            Category::App => "the application's own code",
            Category::Dependency => "code under node_modules",
            Category::Node => "Node.js core",
            Category::V8 => "V8: builtins, regular expressions, the compiler",
            Category::Native => "native code (C/C++)",
            Category::Gc => "garbage collection",
            Category::Idle => "idle: the event loop waiting",
            Category::Kernel => "the kernel",
            Category::Other => "synthetic frames: roots, (program)",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Category::App => "app",
            Category::Dependency => "dependency",
            Category::Node => "node",
            Category::V8 => "v8",
            Category::Native => "native",
            Category::Gc => "gc",
            Category::Idle => "idle",
            Category::Kernel => "kernel",
            Category::Other => "other",
        }
    }

    /// Fill colour in flame graphs (RGB).
    pub fn color(self) -> (u8, u8, u8) {
        match self {
            Category::App => (230, 110, 50),
            Category::Dependency => (225, 175, 60),
            Category::Node => (120, 175, 90),
            Category::V8 => (95, 150, 210),
            Category::Native => (170, 170, 170),
            Category::Gc => (200, 90, 160),
            Category::Idle => (225, 225, 225),
            Category::Kernel => (140, 120, 200),
            Category::Other => (200, 200, 200),
        }
    }
}

/// Classifies a JavaScript (or unknown) frame by its name and file.
pub fn categorize(name: &str, file: &str) -> Category {
    match name {
        "(garbage collector)" | "(GC)" => return Category::Gc,
        "(idle)" => return Category::Idle,
        "(root)" | "(program)" => return Category::Other,
        _ => {}
    }
    if name.starts_with("RegExp:") || name.starts_with("Builtin:") || name.starts_with("BytecodeHandler:") {
        return Category::V8;
    }
    if file.contains("/node_modules/") || file.contains("\\node_modules\\") {
        return Category::Dependency;
    }
    if file.starts_with("node:") || file.starts_with("internal/") || file.starts_with("internal:") {
        return Category::Node;
    }
    if !file.is_empty() {
        return Category::App;
    }
    Category::Native
}

/// Splits a V8-style JS name `"fn /path/file.js:12:25"` into the function,
/// file, line and column (1-based). Returns `None` when it has no location.
pub fn split_js_location(s: &str) -> Option<(&str, &str, u32, u32)> {
    let (func, loc) = match s.rfind(' ') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => ("", s),
    };
    let mut it = loc.rsplitn(3, ':');
    let col: u32 = it.next()?.parse().ok()?;
    let line: u32 = it.next()?.parse().ok()?;
    let file = it.next()?;
    if file.is_empty() {
        return None;
    }
    Some((func.trim(), file, line, col))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert_eq!(categorize("fibonacciNaive", "file:///x/apps/server-v1.js"), Category::App);
        assert_eq!(categorize("parse", "/x/node_modules/qs/lib/parse.js"), Category::Dependency);
        assert_eq!(categorize("emit", "node:events"), Category::Node);
        assert_eq!(categorize("(garbage collector)", ""), Category::Gc);
        assert_eq!(categorize("(idle)", ""), Category::Idle);
        assert_eq!(categorize("RegExp: ^a+$", ""), Category::V8);
        assert_eq!(categorize("pbkdf2", ""), Category::Native);
    }

    #[test]
    fn splits_v8_names() {
        assert_eq!(
            split_js_location("fibonacciNaive /a/server-v1.js:12:25"),
            Some(("fibonacciNaive", "/a/server-v1.js", 12, 25))
        );
        assert_eq!(
            split_js_location(" node:internal/main/run_main_module:1:1"),
            Some(("", "node:internal/main/run_main_module", 1, 1))
        );
        assert_eq!(split_js_location("_init"), None);
    }
}
