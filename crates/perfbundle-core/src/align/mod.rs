//! Putting a profile's samples on the k6 run's clock after the fact
//! (`pack --align`).
//!
//! A profile's sample times are on its source's own clock: CLOCK_MONOTONIC
//! for V8 (`.cpuprofile`, Chrome traces), perf's clock, the process's age
//! for 0x, the profile's own start for speedscope files. Two kinds of
//! evidence place them on the wall clock:
//!
//! - **clock pairs**: one instant read on that clock and on the wall clock —
//!   perf's `--header` reference time, Clinic.js doctor's `-systeminfo`
//!   (`hrtime`, `unixtime`), the packing host's own clocks (valid when the
//!   profile was recorded on that host since its last boot, which the
//!   correlation then has to confirm);
//! - **the load itself**: the profile's non-idle samples rise and fall with
//!   k6's requests. The normalized cross-correlation of the two rates over
//!   time (at each offset, on bins from a coarse grid down to 10 ms) peaks
//!   where they line up; the peak's half-width at half height is the
//!   alignment's uncertainty.
//!
//! With a clock pair, the correlation is searched a few seconds around the
//! pair's offset: a peak there confirms the pair (the profile is then put
//! where the pair says, the more exact of the two, with the peak's width as
//! uncertainty). Without one — or when the pair's place is not where the
//! load is — the whole range where profile and run overlap is searched, and
//! only a peak that stands well clear of every other offset (`MIN_Z`,
//! `MIN_RATIO`) is taken. Otherwise the profile stays unaligned, and the
//! record says why.

pub mod inflight;
pub mod requests;

use std::io::BufRead;

use serde::{Deserialize, Serialize};

use crate::error::IngestError;
use crate::ingest::lines::next_line;
use crate::profile::{Category, Profile};

pub use inflight::{InFlight, State};
pub use requests::{read_requests, Requests};

/// A correlation peak must be this many robust standard deviations above
/// the median correlation to stand alone…
pub const MIN_Z: f64 = 6.0;
/// …and this many times higher (above the median) than any other peak a
/// second or more away.
pub const MIN_RATIO: f64 = 2.5;
/// A peak found by the correlation alone must be this narrow (ms): a wider
/// one places the profile no better than a glance at the charts would.
pub const MAX_HALF_WIDTH_MS: f64 = 250.0;
/// Fewest samples a profile needs for its rate over time to mean anything.
pub const MIN_SAMPLES: usize = 50;
/// The finest bin the correlation uses (µs).
pub const FINEST_BIN_US: i64 = 10_000;
/// How far around a clock pair's offset the correlation looks (µs), beyond the pair's own uncertainty.
pub const PAIR_WINDOW_US: i64 = 2_000_000;

/// One instant on a clock and on the wall clock.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockPair {
    /// The clock (`CLOCK_MONOTONIC`, …), as [`Profile::clock`] names it.
    pub clock: String,
    pub clock_us: i64,
    pub unix_us: i64,
    /// How far apart the two readings may be (µs).
    pub spread_us: i64,
    /// Where the pair comes from, in words.
    pub source: String,
    /// Whether the pair needs the correlation's confirmation to be used (the packing host's).
    pub needs_confirmation: bool,
}

/// What the correlation found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// Wall = profile clock + offset, µs.
    pub offset_us: i64,
    /// The normalized cross-correlation at the peak (−1…1).
    pub r: f64,
    /// (peak − median) / robust standard deviation, over the offsets searched.
    pub z: f64,
    /// (peak − median) / (best other peak − median); other peaks are a second or more away.
    pub ratio: f64,
    /// Half-width of the peak at half its height above the median, ms.
    pub half_width_ms: f64,
    /// Bin width of the finest level, ms.
    pub bin_ms: f64,
    /// The offsets searched, µs (first, last).
    pub searched_us: (i64, i64),
}

/// The outcome for one profile.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Aligned {
        offset_us: i64,
        method: String,
        uncertainty_ms: f64,
        correlation: Option<Correlation>,
        inflight: Option<InFlight>,
    },
    Unaligned {
        reason: String,
        correlation: Option<Correlation>,
        inflight: Option<InFlight>,
    },
}

/// Each sample's time on the profile's clock (µs) and whether it is busy
/// (its leaf is not idle), in sample order.
pub fn sample_activity(p: &Profile) -> Option<(Vec<i64>, Vec<bool>)> {
    let s = p.samples.as_ref()?;
    let mut t = p.start_us?;
    let mut times = Vec::with_capacity(s.node.len());
    let mut busy = Vec::with_capacity(s.node.len());
    let idle: Vec<bool> = (0..p.nodes.parent.len())
        .map(|i| {
            let f = p.nodes.frame[i];
            f >= 0 && p.frames.category.get(f as usize) == Some(&Category::Idle)
        })
        .collect();
    for (node, dt) in s.node.iter().zip(&s.dt_us) {
        t = t.saturating_add(*dt);
        times.push(t);
        busy.push(!idle.get(*node as usize).copied().unwrap_or(false) && *node != 0);
    }
    Some((times, busy))
}

/// Each sample's time on the profile's clock (µs) and what it says of the
/// server: busy, idle (an idle leaf), or neither (`(program)`, `(root)`).
pub fn sample_states(p: &Profile) -> Option<(Vec<i64>, Vec<State>)> {
    let s = p.samples.as_ref()?;
    let mut t = p.start_us?;
    let state: Vec<State> = (0..p.nodes.parent.len())
        .map(|i| {
            let f = p.nodes.frame[i];
            if i == 0 || f < 0 {
                return State::Neutral;
            }
            let f = f as usize;
            match p.frames.category.get(f) {
                Some(Category::Idle) => State::Idle,
                _ if matches!(p.frames.name.get(f).map(String::as_str), Some("(program)" | "(root)")) => State::Neutral,
                _ => State::Busy,
            }
        })
        .collect();
    let mut times = Vec::with_capacity(s.node.len());
    let mut states = Vec::with_capacity(s.node.len());
    for (node, dt) in s.node.iter().zip(&s.dt_us) {
        t = t.saturating_add(*dt);
        times.push(t);
        states.push(state.get(*node as usize).copied().unwrap_or(State::Neutral));
    }
    Some((times, states))
}

/// The clock pairs that can place `p`: its own, then those of its clock
/// from `pairs` (perf's clock is CLOCK_MONOTONIC on Linux x86 in practice,
/// which the load must then confirm).
fn clock_hints(p: &Profile, pairs: &[ClockPair]) -> Vec<ClockPair> {
    let clock = p.clock.clone().unwrap_or_else(|| "unknown".into());
    let mut hints: Vec<ClockPair> = Vec::new();
    if let Some(r) = p.clock_ref {
        hints.push(ClockPair {
            clock: clock.clone(),
            clock_us: r.clock_us,
            unix_us: r.unix_us,
            spread_us: 1,
            source: format!("the profile's own reference time ({clock} ↔ wall clock)"),
            needs_confirmation: false,
        });
    }
    for c in pairs {
        if c.clock == clock || (clock == "perf" && c.clock == "CLOCK_MONOTONIC") {
            let mut c = c.clone();
            if clock == "perf" {
                c.needs_confirmation = true;
            }
            hints.push(c);
        }
    }
    hints
}

/// Places a profile on the wall clock by k6's requests in flight
/// ([`inflight`]), with its clock pairs checked against them first.
/// `run` is k6's first and last sample (Unix µs).
pub fn by_load(p: &Profile, requests: &Requests, run: Option<(i64, i64)>, pairs: &[ClockPair]) -> Outcome {
    let unaligned =
        |reason: String, inflight: Option<InFlight>| Outcome::Unaligned { reason, correlation: None, inflight };
    let Some((times, states)) = sample_states(p) else {
        return unaligned("the profile has no per-sample times".into(), None);
    };
    let busy = states.iter().filter(|s| **s == State::Busy).count();
    if busy < inflight::MIN_BUSY {
        return unaligned(format!("{busy} busy samples: too few to place by the load"), None);
    }
    let (p0, p1) = (*times.iter().min().unwrap_or(&0), *times.iter().max().unwrap_or(&0));
    let (k0, k1) = match run {
        Some(r) => r,
        None => (requests.start_us[0], *requests.end_us.iter().max().unwrap_or(&0)),
    };
    let hints = clock_hints(p, pairs);
    let mut notes: Vec<String> = Vec::new();
    for h in &hints {
        let off = h.unix_us - h.clock_us;
        if p1 + off < k0 || p0 + off > k1 {
            notes.push(format!("{} puts the profile outside the run", h.source));
            continue;
        }
        let w = PAIR_WINDOW_US + h.spread_us;
        let Some(f) = inflight::place(&times, &states, requests, off - w, off + w) else { continue };
        let dist_ms = (f.offset_us - off).abs() as f64 / 1000.0;
        let tolerance = h.spread_us as f64 / 1000.0 + 2.0 * f.half_width_ms + 2.0 * f.bin_ms + 5.0;
        if f.score() >= inflight::MIN_J && dist_ms <= tolerance {
            return Outcome::Aligned {
                offset_us: off,
                uncertainty_ms: f.half_width_ms.max(dist_ms).max(h.spread_us as f64 / 1000.0),
                method: format!(
                    "by {}, confirmed by k6's requests in flight ({:.0}% of busy samples inside them)",
                    h.source,
                    100.0 * f.busy_inside
                ),
                correlation: None,
                inflight: Some(f),
            };
        }
        notes.push(format!(
            "{} not confirmed by the requests in flight (they fit best {} from it)",
            h.source,
            ms(f.offset_us - off)
        ));
    }
    let m = (p1 - p0).min(k1 - k0) / 2;
    let (lo, hi) = (k0 - p1 + m, k1 - p0 - m);
    let Some(f) = inflight::place(&times, &states, requests, lo, hi) else {
        return unaligned("the profile and the run do not overlap enough to compare".into(), None);
    };
    let before = if notes.is_empty() { String::new() } else { format!("{}; ", notes.join("; ")) };
    if f.strong() {
        return Outcome::Aligned {
            offset_us: f.offset_us,
            uncertainty_ms: f.half_width_ms.max(f.bin_ms / 2.0),
            method: format!(
                "{before}by k6's requests in flight: {:.0}% of busy samples inside them against {:.0}% of the {}",
                100.0 * f.busy_inside,
                100.0 * f.reference_inside,
                f.reference
            ),
            correlation: None,
            inflight: Some(f),
        };
    }
    // A load that repeats itself: the in-flight peak is sharp but a repeat
    // away fits almost as well. The load's rate over time (the coarse
    // envelope: ramps, pauses) may tell the repeats apart: when its
    // correlation stands on its own and peaks at the in-flight peak, and
    // nearer it than to the rival, the two together place the profile.
    if f.score() >= inflight::MIN_J && f.half_width_ms <= inflight::MAX_HALF_WIDTH_MS && !f.clear_of_rivals() {
        let busy: Vec<bool> = states.iter().map(|s| *s == State::Busy).collect();
        let mut ends = requests.end_us.clone();
        ends.sort_unstable();
        if let Some(c) = correlate(&times, &busy, &ends, lo, hi) {
            let near = (c.offset_us - f.offset_us).abs() as f64 / 1000.0;
            let rival = f.rival_offset_us.map_or(f64::INFINITY, |r| (c.offset_us - r).abs() as f64 / 1000.0);
            if strong(&c) && near <= c.half_width_ms + c.bin_ms && near < rival {
                return Outcome::Aligned {
                    offset_us: f.offset_us,
                    uncertainty_ms: f.half_width_ms.max(f.bin_ms / 2.0),
                    method: format!(
                        "{before}by k6's requests in flight ({:.0}% of busy samples inside them against {:.0}% of the {}), the repeat of the load chosen by its rate over time ({})",
                        100.0 * f.busy_inside,
                        100.0 * f.reference_inside,
                        f.reference,
                        describe(&c)
                    ),
                    correlation: Some(c),
                    inflight: Some(f),
                };
            }
        }
    }
    let why = if f.score() < inflight::MIN_J {
        "the busy samples fall inside k6's requests nowhere clearly more than elsewhere"
    } else if !f.clear_of_rivals() {
        "another offset fits the requests in flight almost as well (a load that repeats itself)"
    } else {
        "the best fit is not sharp enough"
    };
    unaligned(format!("{before}{why}: left unaligned rather than guessed"), Some(f))
}

/// The normalized cross-correlation of the profile's busy samples per bin
/// with k6's requests per bin, for offsets `lo, lo + bin, …` up to `hi`.
/// Each signal has its mean removed over its own span (the profile's, the
/// run's) and is divided by its norm over that span, so that requests
/// pushed out of the profile's window by an offset count against it.
fn scan(times: &[i64], busy: &[bool], requests: &[i64], lo: i64, hi: i64, bin: i64) -> Vec<(i64, f64)> {
    let p0 = *times.iter().min().expect("samples");
    let p1 = *times.iter().max().expect("samples");
    let n = ((p1 - p0) / bin + 1) as usize;
    let mut prof = vec![0f64; n];
    for (t, b) in times.iter().zip(busy) {
        if *b {
            prof[((t - p0) / bin) as usize] += 1.0;
        }
    }
    let lags = ((hi - lo) / bin + 1).max(1) as usize;
    let m = n + lags - 1;
    let g0 = p0 + lo;
    let mut k6 = vec![0f64; m];
    let first = requests.partition_point(|r| *r < g0);
    for r in &requests[first..] {
        let i = (r - g0) / bin;
        if i >= m as i64 {
            break;
        }
        k6[i as usize] += 1.0;
    }
    // The run's own span on this grid (its requests, wherever the grid cuts them).
    let (r0, r1) = (requests[0], requests[requests.len() - 1]);
    let run_bins = ((r1 - r0) / bin + 1) as f64;
    let run_mean = requests.len() as f64 / run_bins;
    let i0 = ((r0 - g0).div_euclid(bin)).clamp(0, m as i64) as usize;
    let i1 = ((r1 - g0).div_euclid(bin) + 1).clamp(0, m as i64) as usize;
    for x in &mut k6[i0..i1] {
        *x -= run_mean;
    }
    // The run's norm from every request (also those off this grid): Σ(c − mean)² over its bins.
    let mut counts: std::collections::HashMap<i64, f64> = std::collections::HashMap::new();
    for r in requests {
        *counts.entry((r - r0) / bin).or_default() += 1.0;
    }
    let occupied: f64 = counts.values().map(|c| (c - run_mean) * (c - run_mean)).sum();
    let empty = run_bins - counts.len() as f64;
    let kn = (occupied + empty * run_mean * run_mean).sqrt();
    let mean = prof.iter().sum::<f64>() / n as f64;
    let pm: Vec<f64> = prof.iter().map(|x| x - mean).collect();
    let pn = pm.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut out = Vec::with_capacity(lags);
    for l in 0..lags {
        let dot: f64 = k6[l..l + n].iter().zip(&pm).map(|(a, b)| a * b).sum();
        let r = if pn > 0.0 && kn > 0.0 { dot / (pn * kn) } else { 0.0 };
        out.push((lo + l as i64 * bin, r));
    }
    out
}

struct Peak {
    offset_us: f64,
    r: f64,
    z: f64,
    ratio: f64,
    half_width_us: f64,
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

fn peak_of(c: &[(i64, f64)], bin: i64) -> Peak {
    let (i, &(_, r)) = c
        .iter()
        .enumerate()
        .max_by(|a, b| a.1 .1.partial_cmp(&b.1 .1).unwrap_or(std::cmp::Ordering::Equal))
        .expect("offsets");
    let mut all: Vec<f64> = c.iter().map(|x| x.1).collect();
    let med = median(&mut all);
    // Sub-bin position of the peak (a parabola through it and its neighbours).
    let mut frac = 0.0;
    if i > 0 && i + 1 < c.len() {
        let (a, b, d) = (c[i - 1].1, c[i].1, c[i + 1].1);
        let den = a - 2.0 * b + d;
        if den.abs() > 1e-12 {
            frac = (0.5 * (a - d) / den).clamp(-0.5, 0.5);
        }
    }
    let offset_us = c[i].0 as f64 + frac * bin as f64;
    // Half-width at half height above the median, from where it crosses
    // (or the edge of the offsets searched).
    let half = (r + med) / 2.0;
    let cross = |step: isize| -> f64 {
        let mut j = i as isize;
        loop {
            let next = j + step;
            if next < 0 || next as usize >= c.len() {
                return j as f64 * bin as f64;
            }
            let (above, below) = (c[j as usize].1, c[next as usize].1);
            if below <= half {
                let t = if (above - below).abs() > 1e-12 {
                    ((above - half) / (above - below)).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                return (j as f64 + step as f64 * t) * bin as f64;
            }
            j = next;
        }
    };
    let (left, right) = (cross(-1), cross(1));
    let half_width_us = ((right - left) / 2.0).max(bin as f64 / 2.0);
    // Other peaks: a second or more (and three half-widths) away.
    let away = (3.0 * half_width_us).max(1_000_000.0);
    let mut others: Vec<f64> = c.iter().filter(|x| (x.0 as f64 - offset_us).abs() > away).map(|x| x.1).collect();
    let second = others.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let spread = if others.len() >= 10 {
        let mut dev: Vec<f64> = others.iter().map(|x| (x - med).abs()).collect();
        1.4826 * median(&mut dev)
    } else {
        f64::NAN
    };
    others.clear();
    let z = if spread > 1e-12 { (r - med) / spread } else { 0.0 };
    let ratio = if second.is_finite() && second - med > 1e-9 { (r - med) / (second - med) } else { f64::INFINITY };
    Peak { offset_us, r, z, ratio, half_width_us }
}

/// The correlation of a profile's busy samples with k6's requests over
/// offsets `[lo, hi]` (wall = clock + offset): a coarse scan of the whole
/// range, then finer ones around its peak, down to [`FINEST_BIN_US`]. The
/// z and ratio come from the coarsest scan (the one that sees every
/// offset), the offset and width from the finest.
pub fn correlate(times: &[i64], busy: &[bool], requests: &[i64], lo: i64, hi: i64) -> Option<Correlation> {
    if times.len() < MIN_SAMPLES || requests.len() < 2 || hi < lo {
        return None;
    }
    let span = (times.iter().max()? - times.iter().min()?).max(1) as f64;
    // At most ~4·10⁷ multiply-adds a level.
    let mut bin = ((span * (hi - lo).max(1) as f64 / 4.0e7).sqrt().ceil() as i64).max(FINEST_BIN_US);
    let (mut lo, mut hi) = (lo, hi);
    let searched = (lo, hi);
    let mut first: Option<Peak> = None;
    loop {
        let c = scan(times, busy, requests, lo, hi, bin);
        let p = peak_of(&c, bin);
        if bin <= FINEST_BIN_US || c.len() < 3 {
            let (z, ratio) = match &first {
                Some(f) => (f.z, f.ratio),
                None => (p.z, p.ratio),
            };
            return Some(Correlation {
                offset_us: p.offset_us.round() as i64,
                r: finite(p.r),
                z: finite(z),
                ratio: finite(ratio),
                half_width_ms: finite(p.half_width_us / 1000.0),
                bin_ms: bin as f64 / 1000.0,
                searched_us: searched,
            });
        }
        let w = (3 * bin).max((2.0 * p.half_width_us) as i64);
        let centre = p.offset_us.round() as i64;
        lo = centre - w;
        hi = centre + w;
        bin = (bin / 4).max(FINEST_BIN_US);
        if first.is_none() {
            first = Some(p);
        }
    }
}

/// `x` as JSON can hold it: an infinity as the largest finite number of its
/// sign (a ratio with no rival), NaN as 0. A bundle's readers refuse `null`.
pub(crate) fn finite(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(f64::MIN, f64::MAX)
    }
}

/// Whether a correlation stands on its own (no clock pair needed).
pub fn strong(c: &Correlation) -> bool {
    c.r > 0.0 && c.z >= MIN_Z && c.ratio >= MIN_RATIO && c.half_width_ms <= MAX_HALF_WIDTH_MS
}

fn ms(us: i64) -> String {
    format!("{:.0} ms", us as f64 / 1000.0)
}

fn describe(c: &Correlation) -> String {
    format!(
        "correlation {:.2} at the peak, {:.1} robust standard deviations above the median of the offsets searched, {:.1}× the next peak a second or more away, half-width {:.0} ms at {:.0} ms bins",
        c.r, c.z, c.ratio, c.half_width_ms, c.bin_ms
    )
}

/// Places a profile on the wall clock with every hint it has: `pairs` that
/// are on the profile's clock, then the correlation of its busy samples
/// with k6's `requests` (Unix µs, sorted). `run` is k6's first and last
/// sample (Unix µs).
pub fn auto(p: &Profile, requests: &[i64], run: Option<(i64, i64)>, pairs: &[ClockPair]) -> Outcome {
    let unaligned =
        |reason: String, correlation: Option<Correlation>| Outcome::Unaligned { reason, correlation, inflight: None };
    let Some((times, busy)) = sample_activity(p) else {
        return unaligned(
            "the profile has no per-sample times (nothing to place: its samples cannot be cut by time)".into(),
            None,
        );
    };
    if times.len() < MIN_SAMPLES {
        return unaligned(format!("{} samples: too few for a rate over time", times.len()), None);
    }
    let clock = p.clock.clone().unwrap_or_else(|| "unknown".into());
    let (p0, p1) = (*times.iter().min().unwrap_or(&0), *times.iter().max().unwrap_or(&0));
    let hints = clock_hints(p, pairs);
    let span = run.or_else(|| Some((*requests.first()?, *requests.last()?)));
    let (Some((k0, k1)), true) = (span, requests.len() >= 2) else {
        return match hints.iter().find(|h| !h.needs_confirmation) {
            Some(h) => Outcome::Aligned {
                offset_us: h.unix_us - h.clock_us,
                method: format!(
                    "{clock} sample times put on the wall clock by {} (no k6 requests to check it against)",
                    h.source
                ),
                uncertainty_ms: h.spread_us as f64 / 1000.0,
                correlation: None,
                inflight: None,
            },
            None => unaligned(
                "no k6 requests in the inputs to correlate with, and no clock pair for the profile's clock".into(),
                None,
            ),
        };
    };
    let mut notes: Vec<String> = Vec::new();
    for h in &hints {
        let off = h.unix_us - h.clock_us;
        // The profile must overlap the run where the pair puts it.
        let (a, b) = (p0 + off, p1 + off);
        if b < k0 || a > k1 {
            notes.push(format!(
                "{} puts the profile {} away from the k6 run (not recorded there, or not since this boot)",
                h.source,
                ms(if b < k0 { k0 - b } else { a - k1 })
            ));
            continue;
        }
        let w = PAIR_WINDOW_US + h.spread_us;
        let Some(c) = correlate(&times, &busy, requests, off - w, off + w) else { continue };
        let dist = (c.offset_us - off).abs();
        let tolerance = h.spread_us as f64 / 1000.0 + 2.0 * c.half_width_ms + 2.0 * c.bin_ms + 50.0;
        if c.r > 0.0 && (dist as f64 / 1000.0) <= tolerance {
            return Outcome::Aligned {
                offset_us: off,
                uncertainty_ms: c.half_width_ms.max(dist as f64 / 1000.0),
                method: format!(
                    "{clock} sample times put on the wall clock by {}, confirmed by the correlation of the profile's non-idle samples with k6's requests over time, which peaks {} from it within ±{} ({})",
                    h.source,
                    ms(c.offset_us - off),
                    ms(w),
                    describe(&c)
                ),
                correlation: Some(c),
                inflight: None,
            };
        }
        notes.push(format!(
            "{} was not confirmed: the correlation within ±{} of it peaks {} away ({})",
            h.source,
            ms(w),
            ms(c.offset_us - off),
            describe(&c)
        ));
    }
    // Every offset where the profile overlaps at least half of the shorter of itself and the run.
    let m = (p1 - p0).min(k1 - k0) / 2;
    let (lo, hi) = (k0 - p1 + m, k1 - p0 - m);
    let searched = format!(
        "offsets where the profile overlaps at least half of the {}",
        if p1 - p0 < k1 - k0 { "profile" } else { "run" }
    );
    let Some(c) = correlate(&times, &busy, requests, lo, hi) else {
        return unaligned(format!("the correlation could not be computed ({})", notes.join("; ")), None);
    };
    let before = if notes.is_empty() { String::new() } else { format!("{}; ", notes.join("; ")) };
    if strong(&c) {
        return Outcome::Aligned {
            offset_us: c.offset_us,
            uncertainty_ms: c.half_width_ms,
            method: format!(
                "{before}placed where the correlation of the profile's non-idle samples with k6's requests over time peaks, over all {searched} ({})",
                describe(&c)
            ),
            correlation: Some(c),
            inflight: None,
        };
    }
    unaligned(
        format!(
            "{before}the correlation with k6's requests over all {searched} has no clear peak ({}; needs {MIN_Z} deviations, {MIN_RATIO}× and a half-width under {MAX_HALF_WIDTH_MS} ms): left unaligned rather than guessed",
            describe(&c)
        ),
        Some(c),
    )
}

/// Puts the profile's first sample at `start + offset` on the wall clock.
pub fn apply(p: &mut Profile, offset_us: i64) {
    if let Some(s) = p.start_us {
        p.start_unix_us = Some(s.saturating_add(offset_us));
    }
}

/// The times of k6's requests in a point stream (`--out json`, or `--out
/// csv` when `csv`), Unix µs, sorted: the `http_reqs` points, or where
/// there are none (a test without HTTP) the `iterations` points. Also
/// returns which metric it used.
pub fn k6_request_times<R: BufRead>(
    mut reader: R,
    file: &str,
    csv: bool,
    max_line: usize,
) -> Result<(Vec<i64>, &'static str), IngestError> {
    #[derive(Deserialize)]
    struct Line<'a> {
        #[serde(rename = "type", borrow)]
        kind: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        metric: std::borrow::Cow<'a, str>,
        data: Data<'a>,
    }
    #[derive(Deserialize)]
    struct Data<'a> {
        #[serde(borrow)]
        time: std::borrow::Cow<'a, str>,
    }
    let (mut reqs, mut iters) = (Vec::new(), Vec::new());
    let mut raw = Vec::new();
    let mut no = 0u64;
    let mut cols: Option<(usize, usize)> = None;
    while next_line(&mut reader, &mut raw, max_line, file, &mut no)? {
        if csv {
            let line = String::from_utf8_lossy(&raw);
            let fields: Vec<&str> = line.trim_end().split(',').collect();
            let Some((m, t)) = cols else {
                let find = |name: &str| fields.iter().position(|f| *f == name);
                cols = find("metric_name").zip(find("timestamp"));
                continue;
            };
            let (Some(metric), Some(ts)) = (fields.get(m), fields.get(t)) else { continue };
            let Ok(secs) = ts.parse::<f64>() else { continue };
            let us = (secs * 1e6).round() as i64;
            match *metric {
                "http_reqs" => reqs.push(us),
                "iterations" => iters.push(us),
                _ => {}
            }
            continue;
        }
        let is = |m: &[u8]| memchr::memmem::find(&raw, m).is_some();
        let which = if is(b"\"http_reqs\"") {
            0
        } else if is(b"\"iterations\"") {
            1
        } else {
            continue;
        };
        let Ok(l) = serde_json::from_slice::<Line<'_>>(&raw) else { continue };
        if l.kind != "Point" {
            continue;
        }
        let Some(ns) = crate::time::parse_rfc3339_ns(&l.data.time) else { continue };
        match (which, l.metric.as_ref()) {
            (0, "http_reqs") => reqs.push(ns / 1000),
            (1, "iterations") => iters.push(ns / 1000),
            _ => {}
        }
    }
    let (mut v, what) = if reqs.len() >= 2 { (reqs, "http_reqs") } else { (iters, "iterations") };
    v.sort_unstable();
    Ok((v, what))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile whose busy samples follow bursts, and requests at the same bursts shifted by `offset`.
    fn bursts(seed: u64, offset: i64) -> (Vec<i64>, Vec<bool>, Vec<i64>) {
        // Deterministic pseudo-random bursts over 20 s (an LCG).
        let mut x: u64 = seed;
        let mut rnd = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as f64 / (1u64 << 31) as f64
        };
        let mut times = Vec::new();
        let mut busy = Vec::new();
        let mut req = Vec::new();
        let mut on = false;
        for ms in 0..20_000i64 {
            if rnd() < 0.01 {
                on = !on;
            }
            let t = 1_000_000_000 + ms * 1000;
            times.push(t);
            busy.push(on);
            if on && rnd() < 0.3 {
                req.push(t + offset);
            }
        }
        (times, busy, req)
    }

    #[test]
    fn finds_the_offset_of_bursts() {
        let offset = 1_796_000_000_000_000 - 1_000_000_000 + 1_234_567;
        let (t, b, r) = bursts(12345, offset);
        let c = correlate(&t, &b, &r, offset - 5_000_000, offset + 5_000_000).unwrap();
        assert!((c.offset_us - offset).abs() <= 10_000, "{} vs {offset}", c.offset_us);
        assert!(strong(&c), "{c:?}");
        assert!(c.half_width_ms > 0.0 && c.half_width_ms < 100.0, "{c:?}");
        // Requests of other bursts: no clear peak.
        let (_, _, other) = bursts(999, offset);
        let c2 = correlate(&t, &b, &other, offset - 5_000_000, offset + 5_000_000).unwrap();
        assert!(!strong(&c2), "{c2:?}");
    }
}
