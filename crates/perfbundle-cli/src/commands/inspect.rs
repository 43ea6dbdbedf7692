//! `perfbundle inspect`: the k6-style summary of a bundle, or its JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use perfbundle_core::bundle::{Bundle, ReadLimits};
use perfbundle_core::k6::{metrics_view, text};
use serde_json::json;

use crate::fsio::read_bundle;

/// Show a bundle's run: k6's end-of-test summary, or all of it as JSON.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Print the manifest and k6.metrics as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also list each metric broken down by this tag (e.g. name, status, scenario).
    #[arg(long = "by", value_name = "TAG")]
    pub by: Option<String>,
    /// The bundle.
    pub file: PathBuf,
}

/// The JSON view: `{"manifest", "k6": {"metrics", "thresholds", "checks", …}}`.
pub fn json_view(b: &Bundle) -> serde_json::Value {
    let k6 = b.k6_summary.as_ref().map(|s| {
        json!({
            "metrics": metrics_view(s),
            "thresholds": s.thresholds,
            "checks": s.checks,
            "duration_ms": s.duration_ms,
            "points_source": s.points_source,
            "summary_source": s.summary_source,
        })
    });
    json!({ "manifest": b.manifest, "k6": k6 })
}

pub fn run(a: InspectArgs) -> Result<ExitCode> {
    let b = read_bundle(&a.file, &ReadLimits::default())?;
    if a.json {
        let mut s = serde_json::to_string_pretty(&json_view(&b))?;
        s.push('\n');
        crate::emit(&s);
        return Ok(ExitCode::SUCCESS);
    }
    let m = &b.manifest;
    let mut out = String::new();
    out.push_str(&format!("\n  {}\n", m.title));
    if !m.labels.is_empty() {
        let l: Vec<String> = m.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push_str(&format!("  labels: {}\n", l.join(" ")));
    }
    if let (Some(s), Some(e)) = (&m.run.start, &m.run.end) {
        let d = m.run.duration_ms.map(|d| format!(" ({})", text::format_ms(d))).unwrap_or_default();
        out.push_str(&format!("  run:    {s} → {e}{d}\n"));
    }
    let inputs: Vec<String> = m.inputs.iter().map(|i| format!("{} ({})", i.name, i.kind)).collect();
    if !inputs.is_empty() {
        out.push_str(&format!("  inputs: {}\n", inputs.join(", ")));
    }
    out.push_str(&format!("  format: {}, created {} by {}\n\n", m.format_version, m.created_at, m.created_by));
    match &b.k6_summary {
        Some(s) => out.push_str(&text::render(s, a.by.as_deref())),
        None => out.push_str("  (no k6 data in this bundle)\n"),
    }
    for w in &m.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    crate::emit(&out);
    Ok(ExitCode::SUCCESS)
}
