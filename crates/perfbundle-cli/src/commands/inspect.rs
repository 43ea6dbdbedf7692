//! `perfbundle inspect`: the k6-style summary of a bundle, or its JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use perfbundle_core::bundle::{Bundle, ReadLimits};
use perfbundle_core::format;
use perfbundle_core::k6::headline::Headline;
use perfbundle_core::k6::{metrics_view, text};
use serde_json::json;

use crate::fsio::read_bundle;
use crate::terminal::{terminal_text, terminal_text_lines};

/// Show a bundle's run: k6's end-of-test summary, or all of it as JSON.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Print the manifest and k6.metrics as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also list each metric broken down by this tag (e.g. name, status, scenario).
    #[arg(long = "by", value_name = "TAG")]
    pub by: Option<String>,
    /// Rank the profiles' functions with their idle samples (the event loop
    /// waiting); by default idle is left out and its share said once.
    #[arg(long)]
    pub with_idle: bool,
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
    let profiles: Vec<_> = b
        .profiles
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let top: Vec<_> = p
                .functions()
                .into_iter()
                .take(10)
                .map(|f| json!({"function": f.function, "file": f.file, "category": f.category, "self_samples": f.self_samples, "total_samples": f.total_samples, "self_weight": f.self_weight, "total_weight": f.total_weight}))
                .collect();
            // How the profile was put on the run's clock: `pack --align`'s record, or `record`'s.
            let alignment = b
                .manifest
                .alignment
                .iter()
                .find(|a| a.profile == i && a.what == p.name)
                .map(|a| serde_json::to_value(a).unwrap_or_default())
                .or_else(|| {
                    let r = b.manifest.record.as_ref()?;
                    let a = r.alignment.iter().find(|a| a.what == p.name)?;
                    Some(json!({"what": a.what, "status": "aligned", "method": a.method, "uncertainty_ms": a.uncertainty_ms, "by": "record"}))
                });
            let total_weight: u64 = p.nodes.self_weight.iter().fold(0u64, |a, w| a.saturating_add(*w));
            json!({
                "name": p.name,
                "source": p.source,
                "total_samples": p.total_samples,
                "frames": p.frames.name.len(),
                "duration_us": p.duration_us,
                "weight_unit": p.weight_unit,
                "total_weight": p.has_weights().then_some(total_weight),
                "start_us": p.start_us,
                "clock": p.clock,
                "start_unix_us": p.start_unix_us,
                "sample_times": p.samples.is_some(),
                "alignment": alignment,
                "tools": p.tools,
                "top_self": top,
            })
        })
        .collect();
    let timelines: Vec<_> = b
        .timelines
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "source": t.source,
                "samples": t.t_unix_ms.len(),
                "start_unix_ms": t.t_unix_ms.first(),
                "end_unix_ms": t.t_unix_ms.last(),
                "gc_events": t.gc.len(),
                "tools": t.tools,
            })
        })
        .collect();
    json!({ "manifest": b.manifest, "k6": k6, "profiles": profiles, "timelines": timelines })
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NAN, f64::max)
}

/// The profile and timeline part of the human view: each profile's top
/// functions, idle left out unless `with_idle`.
fn render_profiles(b: &Bundle, with_idle: bool) -> String {
    let mut out = String::new();
    for whole in &b.profiles {
        let view = whole.cpu_view(with_idle);
        let p: &perfbundle_core::profile::Profile = &view.profile;
        let dur = whole.duration_us.map(|d| format!(", {}", text::format_ms(d / 1000.0))).unwrap_or_default();
        out.push_str(&format!(
            "  █ PROFILE {} ({}): {} samples{dur}, {} frames\n",
            terminal_text(&whole.name),
            terminal_text(&whole.source),
            whole.total_samples,
            whole.frames.name.len()
        ));
        if let Some(note) = view.note() {
            out.push_str(&format!("    {note}; shares below are of the other samples (--with-idle ranks it)\n"));
        }
        out.push_str("\n      self     self%    total%  category    function\n");
        for f in p.functions().into_iter().filter(|f| f.total_samples > 0).take(10) {
            let loc = if f.file.is_empty() { String::new() } else { format!("  {}", terminal_text(&f.file)) };
            out.push_str(&format!(
                "    {:>6}  {:>8}  {:>8}  {:<10}  {}{loc}\n",
                f.self_samples,
                format::share(f.self_samples, p.total_samples),
                format::share(f.total_samples, p.total_samples),
                f.category.as_str(),
                terminal_text(&f.function)
            ));
        }
        out.push('\n');
    }
    for t in &b.timelines {
        let (start, end) = (t.t_unix_ms.first().copied().unwrap_or(0.0), t.t_unix_ms.last().copied().unwrap_or(0.0));
        out.push_str(&format!(
            "  █ TIMELINE {} ({}): {} samples, {} → {} ({})\n",
            terminal_text(&t.name),
            terminal_text(&t.source),
            t.t_unix_ms.len(),
            perfbundle_core::time::format_rfc3339_ms((start * 1e6) as i64),
            perfbundle_core::time::format_rfc3339_ms((end * 1e6) as i64),
            text::format_ms(end - start)
        ));
        let mean_cpu = t.cpu_percent.iter().sum::<f64>() / t.cpu_percent.len().max(1) as f64;
        out.push_str(&format!(
            "    cpu mean {:.1}% max {:.1}%   rss max {}   heap used max {}   event-loop delay max {}   handles max {}   gc events {}\n\n",
            mean_cpu,
            max(&t.cpu_percent),
            text::format_bytes(max(&t.rss_bytes)),
            text::format_bytes(max(&t.heap_used_bytes)),
            text::format_ms(max(&t.event_loop_delay_ms)),
            t.active_handles.iter().max().copied().unwrap_or(0),
            t.gc.len()
        ));
    }
    out
}

pub fn run(a: InspectArgs) -> Result<ExitCode> {
    let b = read_bundle(&a.file, &ReadLimits::default())?;
    if a.json {
        let view = json_view(&b);
        drop(b);
        crate::emit_with(|w| {
            crate::terminal::json_pretty(&mut *w, &view)?;
            w.write_all(b"\n")
        });
        return Ok(ExitCode::SUCCESS);
    }
    let m = &b.manifest;
    let mut out = String::new();
    out.push_str(&format!("\n  {}\n", terminal_text(&m.title)));
    if let Some(s) = &b.k6_summary {
        out.push_str(&format!("  verdict: {}\n", Headline::of(s).line()));
    }
    if !m.labels.is_empty() {
        let l: Vec<String> = m.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push_str(&format!("  labels: {}\n", terminal_text(&l.join(" "))));
    }
    if let (Some(s), Some(e)) = (&m.run.start, &m.run.end) {
        let d = m.run.duration_ms.map(|d| format!(" ({})", text::format_ms(d))).unwrap_or_default();
        out.push_str(&format!("  run:    {} → {}{d}\n", terminal_text(s), terminal_text(e)));
    }
    if !m.merged_from.is_empty() {
        let names: Vec<&str> = m.merged_from.iter().map(|s| s.name.as_str()).collect();
        out.push_str(&format!("  merged from {} shards: {}\n", m.merged_from.len(), terminal_text(&names.join(", "))));
    }
    let inputs: Vec<String> = m.inputs.iter().map(|i| format!("{} ({})", i.name, i.kind)).collect();
    if !inputs.is_empty() {
        out.push_str(&format!("  inputs: {}\n", terminal_text(&inputs.join(", "))));
    }
    out.push_str(&format!(
        "  format: {}, created {} by {}\n\n",
        terminal_text(&m.format_version),
        terminal_text(&m.created_at),
        terminal_text(&m.created_by)
    ));
    match &b.k6_summary {
        Some(s) => out.push_str(&terminal_text_lines(&text::render(s, a.by.as_deref()))),
        None => out.push_str("  (no k6 data in this bundle)\n\n"),
    }
    out.push_str(&render_profiles(&b, a.with_idle));
    for w in &m.warnings {
        out.push_str(&format!("  warning: {}\n", terminal_text(w)));
    }
    crate::emit(&out);
    Ok(ExitCode::SUCCESS)
}
