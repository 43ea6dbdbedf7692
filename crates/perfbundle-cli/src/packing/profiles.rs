//! Reading profile and timeline inputs (files or profiler folders) through
//! the core's ingesters.

use std::path::Path;

use anyhow::Result;
use perfbundle_core::ingest::InputKind;
use perfbundle_core::profile::{
    chrome_trace, clinic_flame, cpuprofile, folded, perf, pprof, speedscope, v8log, Profile,
};
use perfbundle_core::timeline::{self, Timeline};

use crate::inputs::{self, Input};

/// The largest small JSON a profiler writes beside its data (Clinic's systeminfo).
const MAX_SMALL_DOCUMENT_BYTES: u64 = 4 << 20;

/// A profile's default name: the file's name without its usual extensions, or the folder's name.
pub fn default_name(inp: &Input) -> String {
    let n = inp.file_name();
    let mut s = n.as_str();
    for ext in [".gz", ".cpuprofile", ".txt", ".folded", ".json", ".speedscope", ".pb", ".pprof", ".prof"] {
        s = s.strip_suffix(ext).unwrap_or(s);
    }
    s.to_string()
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

/// Ingests one profile input (one profile per thread for a Chrome trace or
/// a speedscope file with several); lines over `max_line` bytes are an error.
/// Returns the profiles and warnings about them.
pub fn profiles(inp: &Input, max_line: usize) -> Result<(Vec<Profile>, Vec<String>)> {
    let name = inp.name.clone().unwrap_or_else(|| default_name(inp));
    let main = &inp.files[0];
    let file = display(main);
    let mut warnings = Vec::new();
    let mut many = match inp.kind {
        InputKind::Pprof => vec![pprof::ingest(inputs::open(main)?, &file, &name)?],
        InputKind::ChromeTrace => {
            let (ps, note) = chrome_trace::ingest(inputs::open(main)?, &file, &name)?;
            warnings.extend(note);
            ps
        }
        InputKind::Speedscope => speedscope::ingest(inputs::open(main)?, &file, &name)?,
        _ => Vec::new(),
    };
    if !many.is_empty() {
        return Ok((many, warnings));
    }
    let mut perf_script = |source: Option<&str>| -> Result<Profile> {
        let (mut p, stats) = perf::ingest_capped(inputs::open(main)?, &file, &name, max_line)?;
        if stats.repaired > 0 {
            warnings.push(format!(
                "{file}: {} lines had bytes that are not UTF-8 (replaced by U+FFFD, as inferno reads them)",
                stats.repaired
            ));
        }
        if let Some((line, text)) = &stats.first_weird {
            warnings.push(format!(
                "{file}: {} lines skipped as inferno-collapse-perf skips them (neither a sample header nor a frame `addr symbol (dso)`), the first at line {line}: {text:?}",
                stats.weird_lines
            ));
        }
        if stats.other_events > 0 {
            warnings.push(format!(
                "{file}: {} samples of other events than {} left out (as inferno-collapse-perf folds the first event type only)",
                stats.other_events,
                stats.event.as_deref().unwrap_or("the first")
            ));
        }
        if let Some(s) = source {
            p.source = s.into();
        }
        Ok(p)
    };
    let mut p = match inp.kind {
        InputKind::CpuProfile => cpuprofile::ingest(inputs::open(main)?, &file, &name)?,
        InputKind::PerfScript => perf_script(None)?,
        InputKind::Folded => folded::ingest_capped(inputs::open(main)?, &file, &name, max_line)?,
        InputKind::ZeroX => {
            if inputs::file_name(main).starts_with("stacks.") {
                // 0x --kernel-tracing: perf script text.
                perf_script(Some("0x"))?
            } else {
                v8log::ingest(inputs::open(main)?, &file, &name)?
            }
        }
        InputKind::ClinicFlame => clinic_flame::ingest(inputs::open(main)?, &file, &name)?,
        other => anyhow::bail!("{file}: a {} input is not a profile", other.name()),
    };
    // Clinic's systeminfo names the node and tool versions.
    if let Some(si) = inp.files.iter().find(|f| inputs::file_name(f).ends_with("-systeminfo")) {
        let v = perfbundle_core::ingest::document::value(&inputs::read_document(si, MAX_SMALL_DOCUMENT_BYTES)?)
            .map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", si.display()))?;
        if let Some(t) = v.get("toolVersion").and_then(|x| x.as_str()) {
            p.tools.insert("@clinic/flame".into(), t.into());
        }
        if let Some(n) = v.get("nodeVersions").and_then(|x| x.get("node")).and_then(|x| x.as_str()) {
            p.tools.insert("node".into(), n.into());
        }
    }
    many.push(p);
    Ok((many, warnings))
}

/// Ingests a Clinic.js doctor folder.
pub fn timeline(inp: &Input) -> Result<Timeline> {
    let name = inp.name.clone().unwrap_or_else(|| inp.file_name());
    let find = |suffix: &str| inp.files.iter().find(|f| inputs::file_name(f).ends_with(suffix));
    let ps = &inp.files[0];
    // Clinic's processstat is a sample each 10 ms (an hour is 20 MB); its trace events, the GC's.
    let ps_bytes = inputs::read_document(ps, 32 << 20)?;
    let te = find("-traceevent").map(|f| inputs::read_document(f, 64 << 20)).transpose()?;
    let si = find("-systeminfo").map(|f| inputs::read_document(f, MAX_SMALL_DOCUMENT_BYTES)).transpose()?;
    Ok(timeline::clinic_doctor(&name, &ps_bytes, &display(ps), te.as_deref(), si.as_deref())?)
}
