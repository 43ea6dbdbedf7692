//! Which frames of two profiles are "the same function": the pairing a
//! comparison uses (`perfbundle diff --match`, the viewer's differential
//! flame graph, the Markdown report).
//!
//! A refactor or a release moves code: `apps/v1/catalog.js` becomes
//! `apps/v2/catalog.js`, `server-v1.js` becomes `server-v2.js`, a function
//! moves down its file, and the run happens in another checkout. Pairing by
//! the exact file then shows every function as gone plus new. The default,
//! [`FrameMatch::NameModule`], pairs a function by its name and its file's
//! *module identity*: the file's last two path parts with version-like parts
//! (`v2`, `1.4.0`, `-v1`, `@3.2.1`), the scheme and the line/column removed.

use serde::{Deserialize, Serialize};

/// How frames of two profiles are paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FrameMatch {
    /// By function name alone (every `(anonymous)` is one function).
    #[serde(rename = "name")]
    Name,
    /// By name and the file's module identity ([`module_identity`]).
    #[default]
    #[serde(rename = "name+file")]
    NameModule,
    /// By name, file, line and column exactly as recorded.
    #[serde(rename = "exact")]
    Exact,
}

impl FrameMatch {
    /// Every mode, default first.
    pub const ALL: [FrameMatch; 3] = [FrameMatch::NameModule, FrameMatch::Name, FrameMatch::Exact];

    /// The mode's name (`--match`'s value).
    pub fn as_str(self) -> &'static str {
        match self {
            FrameMatch::Name => "name",
            FrameMatch::NameModule => "name+file",
            FrameMatch::Exact => "exact",
        }
    }

    /// The key two frames share when they are paired.
    pub fn key(self, name: &str, file: &str, line: u32, col: u32) -> String {
        match self {
            FrameMatch::Name => name.to_string(),
            FrameMatch::NameModule => format!("{name}\u{0}{}", module_identity(file)),
            FrameMatch::Exact => format!("{name}\u{0}{file}\u{0}{line}\u{0}{col}"),
        }
    }
}

impl std::str::FromStr for FrameMatch {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        FrameMatch::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown match mode {s:?} (expected name+file, name or exact)"))
    }
}

/// Whether a path part or a name piece looks like a version: `v2`, `V10`,
/// `1.4.0`, `2`, `v1.2-rc1` is not (kept: it has letters after the digits).
fn version_like(s: &str) -> bool {
    let digits = s.strip_prefix(['v', 'V']).unwrap_or(s);
    !digits.is_empty() && digits.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A file name without its version-like pieces: `server-v1.js` →
/// `server.js`, `lib_2.0.1.min.js` → `lib.min.js`, `pkg@1.2.3` → `pkg`.
fn strip_version(name: &str) -> String {
    // Split off the extension (the last `.` piece when it is not a number).
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && !e.bytes().all(|b| b.is_ascii_digit()) => (s, Some(e)),
        _ => (name, None),
    };
    // Drop a trailing version after `-`, `_`, `@` or `.` (repeatedly: `x-1.2-v3`).
    let mut stem = stem.to_string();
    loop {
        let cut = stem.char_indices().rev().find(|(_, c)| matches!(c, '-' | '_' | '@' | '.')).map(|(i, _)| i);
        match cut {
            Some(i) if i > 0 && version_like(&stem[i + 1..]) => stem.truncate(i),
            _ => break,
        }
    }
    // `lib_2.0.1.min`: a version followed by more pieces.
    let pieces: Vec<&str> = stem.split('.').collect();
    if pieces.len() > 1 {
        let kept: Vec<&str> = pieces
            .iter()
            .enumerate()
            .filter(|(k, p)| *k == 0 || !p.bytes().all(|b| b.is_ascii_digit()))
            .map(|(_, p)| *p)
            .collect();
        let first = kept[0];
        let first =
            first.rsplit_once(['-', '_']).filter(|(a, v)| !a.is_empty() && version_like(v)).map_or(first, |x| x.0);
        stem = std::iter::once(first).chain(kept[1..].iter().copied()).collect::<Vec<_>>().join(".");
    }
    match ext {
        Some(e) => format!("{stem}.{e}"),
        None => stem,
    }
}

/// A file's module identity: its last two path parts once the scheme
/// (`file://`, `webpack:///`), a `:line:col` suffix and version-like parts
/// are removed, each part without version pieces (`…/apps/v1/catalog.js` and
/// `…/apps/v2/catalog.js` → `apps/catalog.js`; `…/apps/server-v1.js` →
/// `apps/server.js`; `node:internal/crypto/scrypt` stays itself).
pub fn module_identity(file: &str) -> String {
    let mut path = file;
    if let Some((scheme, rest)) = path.split_once("://") {
        if !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-') {
            path = rest;
        }
    }
    // A trailing `:line` or `:line:col`.
    for _ in 0..2 {
        match path.rsplit_once(':') {
            Some((p, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => path = p,
            _ => break,
        }
    }
    let parts: Vec<String> = path
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && !version_like(p))
        .map(strip_version)
        .filter(|p| !p.is_empty())
        .collect();
    let from = parts.len().saturating_sub(2);
    parts[from..].join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_parts_and_checkouts_do_not_matter() {
        let a = module_identity("file:///work/wt-corpus/tests/corpus/apps/v1/catalog.js");
        let b = module_identity("file:///home/ci/build/tests/corpus/apps/v2/catalog.js");
        assert_eq!(a, "apps/catalog.js");
        assert_eq!(a, b);
        assert_eq!(module_identity("file:///srv/x/apps/server-v1.js"), "apps/server.js");
        assert_eq!(module_identity("/srv/x/apps/server-v2.js"), "apps/server.js");
        assert_eq!(module_identity("/n/node_modules/lodash@4.17.21/index.js:12:3"), "lodash/index.js");
        assert_eq!(module_identity("/a/b/lib_2.0.1.min.js"), "b/lib.min.js");
        assert_eq!(module_identity("/a/release-1.2/x.js"), "release/x.js");
        assert_eq!(module_identity("node:internal/crypto/scrypt"), "crypto/scrypt");
        assert_eq!(module_identity(""), "");
        assert_eq!(module_identity("[unknown]"), "[unknown]");
    }

    #[test]
    fn different_modules_stay_apart() {
        assert_ne!(module_identity("/a/orders/index.js"), module_identity("/a/users/index.js"));
        assert_ne!(module_identity("/a/server.js"), module_identity("/a/client.js"));
        // A number that is the name, not a version, is kept where it is the whole stem.
        assert_eq!(module_identity("/a/2024.js"), "a/2024.js");
        assert_eq!(module_identity("/a/v8.js"), "a/v8.js");
    }

    #[test]
    fn keys_by_mode() {
        let k = |m: FrameMatch, f: &str, line| m.key("route", f, line, 3);
        let (a, b) = ("/x/apps/server-v1.js", "/y/apps/server-v2.js");
        assert_eq!(k(FrameMatch::NameModule, a, 10), k(FrameMatch::NameModule, b, 40));
        assert_ne!(k(FrameMatch::Exact, a, 10), k(FrameMatch::Exact, b, 10));
        assert_ne!(k(FrameMatch::Exact, a, 10), k(FrameMatch::Exact, a, 11));
        assert_eq!(k(FrameMatch::Name, a, 1), k(FrameMatch::Name, "/other.js", 2));
        assert_eq!("name+file".parse::<FrameMatch>(), Ok(FrameMatch::NameModule));
        assert!("file".parse::<FrameMatch>().unwrap_err().contains("name+file"));
    }
}
