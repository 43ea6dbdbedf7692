//! The `.perfbundle` container: a gzip-compressed ustar archive whose first
//! entry is `manifest.json` (FORMAT.md). [`BundleBuilder`] writes one,
//! [`read_entries`] streams one back with every check, and [`Bundle::read`]
//! loads its model entries.

mod index;
mod manifest;
mod reader;
pub mod tar;
mod writer;

pub use index::{IndexEntry, SiteIndex, MAX_RUNS};
pub use manifest::*;
pub use reader::{read_entries, Bundle, EntryVisit, EntryVisitor, ReadLimits, WRITTEN_MODEL_MEMORY};
pub use writer::{BundleBuilder, PendingEntry, GZIP_LEVEL};

/// Entry kinds of format 1.
pub mod kinds {
    pub const K6_SUMMARY: &str = "k6-summary";
    pub const K6_TIMESERIES: &str = "k6-timeseries";
    pub const RAW: &str = "raw";
    pub const PROFILE: &str = "profile";
    pub const TIMELINE: &str = "timeline";
}

/// Paths of the model entries.
pub mod paths {
    pub const MANIFEST: &str = "manifest.json";
    pub const K6_SUMMARY: &str = "k6/summary.json";
    pub const K6_TIMESERIES: &str = "k6/timeseries.json";

    /// Path of the n-th profile.
    pub fn profile(n: usize) -> String {
        format!("profiles/{n}.json")
    }

    /// Path of the n-th process timeline.
    pub fn timeline(n: usize) -> String {
        format!("timelines/{n}.json")
    }
}

/// Checks that an entry path is relative, `/`-separated, and stays inside the
/// archive's root (no `..`, no absolute path, no empty or `.` component).
pub fn check_entry_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty path".into());
    }
    if path.starts_with('/') || path.starts_with('\\') {
        return Err("absolute path".into());
    }
    if path.contains('\\') || path.contains('\0') {
        return Err("backslash or NUL in path".into());
    }
    if path.len() > 1 && path.as_bytes()[1] == b':' {
        return Err("drive-letter path".into());
    }
    for comp in path.trim_end_matches('/').split('/') {
        match comp {
            "" | "." => return Err("empty or '.' component".into()),
            ".." => return Err("'..' component escapes the destination".into()),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_entry_path;

    #[test]
    fn refuses_escaping_paths() {
        assert!(check_entry_path("k6/summary.json").is_ok());
        for bad in ["../x", "a/../../x", "/etc/passwd", "a//b", "C:/x", "a\\b", "", "./a"] {
            assert!(check_entry_path(bad).is_err(), "{bad}");
        }
    }
}
