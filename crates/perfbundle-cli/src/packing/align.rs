//! `pack --align`: profiles packed beside a k6 run put on its clock, with
//! the core's `align` (clock pairs, then the correlation with k6's
//! requests); this side reads what that needs from the inputs and the host.

use anyhow::{anyhow, bail, Context, Result};
use perfbundle_core::align::{self, ClockPair, Outcome};
use perfbundle_core::bundle::ProfileAlignment;
use perfbundle_core::ingest::InputKind;
use perfbundle_core::pack::Packed;

use crate::inputs::{self, Input};

/// One `--align` value.
#[derive(Debug, Clone, PartialEq)]
pub enum AlignSpec {
    /// Every profile not named otherwise, with every hint it has.
    Auto,
    /// The profile's first sample this long after the k6 run's first sample (µs), given to within `precision_us`.
    After { name: String, offset_us: i64, precision_us: i64 },
    /// The profile's first sample at this wall-clock time (Unix µs), given to within `precision_us`.
    At { name: String, unix_us: i64, precision_us: i64 },
}

/// `auto`, `NAME=OFFSET` (`+1.5s`, `-200ms`, `350us`, `2m`), `NAME=at:RFC3339`.
pub fn parse(s: &str) -> Result<AlignSpec> {
    if s == "auto" {
        return Ok(AlignSpec::Auto);
    }
    let (name, v) = s
        .rsplit_once('=')
        .ok_or_else(|| anyhow!("--align {s:?}: expected auto, NAME=OFFSET (e.g. +1.5s) or NAME=at:RFC3339"))?;
    if name.is_empty() {
        bail!("--align {s:?}: the profile's name is empty");
    }
    if let Some(t) = v.strip_prefix("at:") {
        let ns = perfbundle_core::time::parse_rfc3339_ns(t)
            .ok_or_else(|| anyhow!("--align {s:?}: {t:?} is not an RFC 3339 time (2026-11-30T09:48:42.162Z)"))?;
        // Precision: half the last digit given.
        let frac = t.split_once('.').map(|(_, f)| f.chars().take_while(|c| c.is_ascii_digit()).count()).unwrap_or(0);
        let precision_us = (10f64.powi(6 - frac.min(6) as i32) / 2.0).max(0.5).ceil() as i64;
        return Ok(AlignSpec::At { name: name.to_string(), unix_us: ns / 1000, precision_us });
    }
    let (offset_us, precision_us) = parse_offset(v).ok_or_else(|| {
        anyhow!("--align {s:?}: {v:?} is not an offset: a signed number with a unit (+1.5s, -200ms, 350us, 2m)")
    })?;
    Ok(AlignSpec::After { name: name.to_string(), offset_us, precision_us })
}

/// `+1.5s` → (1 500 000 µs, 50 000 µs: half the last digit given).
fn parse_offset(v: &str) -> Option<(i64, i64)> {
    let unit_at = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = v.split_at(unit_at);
    let scale = match unit {
        "us" | "µs" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" | "min" => 60e6,
        _ => return None,
    };
    let digits = num.trim_start_matches(['+', '-']);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let x: f64 = num.parse().ok()?;
    let decimals = digits.split_once('.').map_or(0, |(_, f)| f.len());
    let precision = (scale * 10f64.powi(-(decimals as i32)) / 2.0).max(0.5);
    let us = x * scale;
    (us.is_finite() && us.abs() < 9.0e15).then(|| (us.round() as i64, precision.ceil() as i64))
}

fn mono_now_us() -> Option<i64> {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .ok()
        .map(|t| t.tv_sec() * 1_000_000 + t.tv_nsec() / 1000)
}

/// This host's CLOCK_MONOTONIC ↔ wall clock now (valid for profiles recorded here since the last boot).
fn host_pair() -> Option<ClockPair> {
    let m0 = mono_now_us()?;
    let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_micros() as i64;
    let m1 = mono_now_us()?;
    Some(ClockPair {
        clock: "CLOCK_MONOTONIC".into(),
        clock_us: m0 + (m1 - m0) / 2,
        unix_us: wall,
        spread_us: (m1 - m0).max(1),
        source: "the packing host's own clocks (CLOCK_MONOTONIC ↔ wall clock now; the profile's clock only if it was recorded on this host since its last boot)".into(),
        needs_confirmation: true,
    })
}

/// Clinic.js doctor's `-systeminfo` clock: `hrtime` (CLOCK_MONOTONIC) and `unixtime` (ms) read together.
fn doctor_pairs(all: &[Input]) -> Vec<ClockPair> {
    let mut out = Vec::new();
    for inp in all.iter().filter(|i| i.kind == InputKind::ClinicDoctor) {
        let Some(si) = inp.files.iter().find(|f| inputs::file_name(f).ends_with("-systeminfo")) else { continue };
        let Ok(doc) = inputs::read_document(si, 4 << 20) else { continue };
        let Ok(v) = perfbundle_core::ingest::document::value(&doc) else { continue };
        let c = &v["clock"];
        let (Some(s), Some(ns), Some(ms)) = (c["hrtime"][0].as_i64(), c["hrtime"][1].as_i64(), c["unixtime"].as_f64())
        else {
            continue;
        };
        out.push(ClockPair {
            clock: "CLOCK_MONOTONIC".into(),
            clock_us: s * 1_000_000 + ns / 1000,
            unix_us: (ms * 1000.0) as i64,
            // unixtime is whole milliseconds.
            spread_us: 1000,
            source: format!("Clinic.js doctor's clock pair in {} (hrtime ↔ unixtime)", si.display()),
            needs_confirmation: true,
        });
    }
    out
}

/// Applies `--align` to the planned bundle's profiles, recording each
/// outcome in the manifest; returns warnings (profiles left unaligned).
pub fn apply(
    packed: &mut Packed,
    specs: &[AlignSpec],
    all: &[Input],
    max_line: usize,
    host_clock: bool,
) -> Result<Vec<String>> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let auto = specs.contains(&AlignSpec::Auto);
    for s in specs {
        if let AlignSpec::After { name, .. } | AlignSpec::At { name, .. } = s {
            if !packed.profiles.iter().any(|p| &p.name == name) {
                let names: Vec<&str> = packed.profiles.iter().map(|p| p.name.as_str()).collect();
                bail!("--align: no profile named {name:?} (the profiles: {})", names.join(", "));
            }
        }
    }
    // k6's requests over time, from the point stream (read once more).
    let stream =
        all.iter().find(|i| i.kind == InputKind::K6Json).or_else(|| all.iter().find(|i| i.kind == InputKind::K6Csv));
    let (requests, metric) = match stream {
        Some(s) => align::k6_request_times(inputs::open(&s.path)?, &s.display(), s.kind == InputKind::K6Csv, max_line)
            .with_context(|| format!("{}: reading k6's request times for --align", s.display()))?,
        None => (Vec::new(), "http_reqs"),
    };
    // Its requests in flight (a JSON stream: CSV's whole-second times are too coarse).
    let load = match stream {
        Some(s) if s.kind == InputKind::K6Json => {
            let r = align::read_requests(inputs::open(&s.path)?, &s.display(), max_line)
                .with_context(|| format!("{}: reading k6's requests for --align", s.display()))?;
            (r.len() >= 2).then_some(r)
        }
        _ => None,
    };
    let run = packed.manifest.run.start_unix_ns.zip(packed.manifest.run.end_unix_ns).map(|(a, b)| (a / 1000, b / 1000));
    let mut pairs = doctor_pairs(all);
    if host_clock {
        pairs.extend(host_pair());
    }
    let mut warnings = Vec::new();
    for (i, p) in packed.profiles.iter_mut().enumerate() {
        let given = specs.iter().find_map(|s| match s {
            AlignSpec::After { name, offset_us, precision_us } if *name == p.name => Some((
                run.map(|r| r.0 + offset_us),
                *precision_us,
                format!("given: the first sample {offset_us} µs after k6's first sample"),
            )),
            AlignSpec::At { name, unix_us, precision_us } if *name == p.name => Some((
                Some(*unix_us),
                *precision_us,
                format!("given: the first sample at {}", perfbundle_core::time::format_rfc3339_ms(unix_us * 1000)),
            )),
            _ => None,
        });
        let record = if let Some((at, precision_us, how)) = given {
            let (Some(at), Some(start)) = (at, p.start_us.or(Some(0))) else {
                bail!("--align {}: an offset from the k6 run needs a k6 run in the inputs (or give at:TIME)", p.name);
            };
            let offset = at - start;
            p.start_unix_us = Some(at);
            ProfileAlignment {
                profile: i,
                what: p.name.clone(),
                status: "given".into(),
                method: format!("{how} (--align); uncertainty: the precision of the value given"),
                uncertainty_ms: Some(precision_us as f64 / 1000.0),
                offset_us: Some(offset),
                correlation: None,
                inflight: None,
            }
        } else if auto {
            let outcome = match &load {
                Some(l) => align::by_load(p, l, run, &pairs),
                None => align::auto(p, &requests, run, &pairs),
            };
            let k6_side = if load.is_some() { "the http_req_duration points of the stream" } else { metric };
            match outcome {
                Outcome::Aligned { offset_us, method, uncertainty_ms, correlation, inflight } => {
                    align::apply(p, offset_us);
                    ProfileAlignment {
                        profile: i,
                        what: p.name.clone(),
                        status: "aligned".into(),
                        method: format!("{method}; k6 side: {k6_side}"),
                        uncertainty_ms: Some(uncertainty_ms),
                        offset_us: Some(offset_us),
                        correlation,
                        inflight,
                    }
                }
                Outcome::Unaligned { reason, correlation, inflight } => {
                    // A time the source itself gave is kept (pprof's time_nanos); nothing is made up.
                    // One short line; the detail is in the bundle (perfbundle inspect).
                    let short = reason.rsplit("; ").next().unwrap_or(&reason);
                    warnings.push(format!(
                        "--align auto: profile {:?} not placed on the run's clock: {} (perfbundle inspect says more)",
                        p.name,
                        perfbundle_core::format::shorten(short, 160)
                    ));
                    ProfileAlignment {
                        profile: i,
                        what: p.name.clone(),
                        status: "unaligned".into(),
                        method: reason,
                        uncertainty_ms: None,
                        offset_us: None,
                        correlation,
                        inflight,
                    }
                }
            }
        } else {
            continue;
        };
        packed.manifest.alignment.push(record);
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_align_values() {
        assert_eq!(parse("auto").unwrap(), AlignSpec::Auto);
        assert_eq!(
            parse("cpu=+1.5s").unwrap(),
            AlignSpec::After { name: "cpu".into(), offset_us: 1_500_000, precision_us: 50_000 }
        );
        assert_eq!(
            parse("a=b=-200ms").unwrap(),
            AlignSpec::After { name: "a=b".into(), offset_us: -200_000, precision_us: 500 }
        );
        match parse("p=at:2026-11-30T09:48:42.162Z").unwrap() {
            AlignSpec::At { unix_us, precision_us, .. } => {
                assert_eq!((unix_us, precision_us), (1_796_032_122_162_000, 500))
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("p=soon").unwrap_err().to_string().contains("not an offset"));
        assert!(parse("p").is_err());
    }
}
