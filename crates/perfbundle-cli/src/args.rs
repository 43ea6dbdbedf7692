//! Small parsers of command-line values shared by the subcommands.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Result};

/// `K=V` → (K, V); `what` names the option in the message.
pub fn key_value(s: &str, what: &str) -> Result<(String, String)> {
    let (k, v) = s.split_once('=').ok_or_else(|| anyhow!("{what} {s:?}: expected K=V"))?;
    if k.trim().is_empty() {
        bail!("{what} {s:?}: empty key");
    }
    Ok((k.trim().to_string(), v.to_string()))
}

/// Now, in Unix seconds; `$SOURCE_DATE_EPOCH` when set (reproducible outputs).
pub fn now_secs() -> u64 {
    if let Some(s) = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.parse().ok()) {
        return s;
    }
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
