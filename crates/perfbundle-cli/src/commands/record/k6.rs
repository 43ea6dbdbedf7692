//! The k6 command: our outputs added where the user named none.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// What `k6_command` made of the user's k6 command.
#[derive(Debug)]
pub struct K6Command {
    /// `k6 run …`, with `--out json=` and `--summary-export=` added unless given.
    pub args: Vec<String>,
    /// The JSON stream k6 writes.
    pub json: PathBuf,
    /// The summary k6 exports.
    pub summary: PathBuf,
}

/// `k6 run` arguments with our outputs added where the user named none.
pub fn k6_command(args: &[String], work: &Path) -> Result<K6Command> {
    if args.len() < 3 || args[1] != "run" {
        bail!("after --, give the k6 command: k6 run [K6 ARGS...] SCRIPT");
    }
    let mut json: Option<PathBuf> = None;
    let mut summary: Option<PathBuf> = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        let value = |i: usize| args.get(i + 1).cloned();
        if a == "--out" || a == "-o" {
            if let Some(v) = value(i).and_then(|v| v.strip_prefix("json=").map(String::from)) {
                json = Some(PathBuf::from(v));
            }
            i += 2;
            continue;
        }
        if let Some(v) = a.strip_prefix("--out=").and_then(|v| v.strip_prefix("json=")) {
            json = Some(PathBuf::from(v));
        }
        if a == "--summary-export" {
            summary = value(i).map(PathBuf::from);
            i += 2;
            continue;
        }
        if let Some(v) = a.strip_prefix("--summary-export=") {
            summary = Some(PathBuf::from(v));
        }
        i += 1;
    }
    let mut out = args.to_vec();
    let script = out.pop().unwrap_or_default();
    let json = json.unwrap_or_else(|| {
        let p = work.join("k6.json");
        out.push("--out".into());
        out.push(format!("json={}", p.display()));
        p
    });
    let summary = summary.unwrap_or_else(|| {
        let p = work.join("summary.json");
        out.push(format!("--summary-export={}", p.display()));
        p
    });
    out.push(script);
    Ok(K6Command { args: out, json, summary })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k6_outputs_are_added_unless_given() {
        let w = Path::new("/w");
        let args: Vec<String> = ["k6", "run", "--vus", "2", "s.js"].iter().map(|s| s.to_string()).collect();
        let c = k6_command(&args, w).unwrap();
        assert_eq!(c.json, w.join("k6.json"));
        assert_eq!(c.summary, w.join("summary.json"));
        assert_eq!(c.args.last().unwrap(), "s.js");
        assert!(c.args.contains(&"json=/w/k6.json".to_string()));
        let args: Vec<String> = [
            "k6",
            "run",
            "--out",
            "json=mine.json",
            "--out",
            "influxdb=http://x/k6",
            "--summary-export=s.json",
            "s.js",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let c = k6_command(&args, w).unwrap();
        assert_eq!((c.json, c.summary), (PathBuf::from("mine.json"), PathBuf::from("s.json")));
        assert_eq!(c.args, args, "the user's outputs are kept as they are");
        assert!(k6_command(&["k6".to_string(), "s.js".to_string()], w).is_err());
    }
}
