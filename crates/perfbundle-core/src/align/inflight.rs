//! Placing a profile by k6's requests in flight: a server works while it
//! has requests in flight and waits when it has none, so at the right
//! offset the profile's busy samples fall inside the requests' intervals
//! and its idle samples mostly outside; at a wrong one both fall inside as
//! often as the intervals cover the time. The score of an offset is
//!
//! > J = (share of busy samples inside a request) − (share of reference samples inside one)
//!
//! where the reference is the idle samples (V8's `(idle)`), or, for a
//! profile without idle samples (perf samples only what runs), the
//! profile's whole span. It is computed for every offset at once (a
//! cross-correlation, by FFT, on bins of 1 ms or more) over the offsets
//! where profile and run overlap. The edges of requests are sharp, so the
//! peak is a few milliseconds wide; it is taken only when it stands clear
//! of every other offset in nearly every part of the run ([`MIN_J`],
//! [`MIN_EVIDENCE_SHARE`], [`MIN_LOGLIK`]).

use rustfft::num_complex::Complex;
use rustfft::FftPlanner;
use serde::{Deserialize, Serialize};

use super::requests::Requests;

/// The peak's score must be at least this (a share of samples).
pub const MIN_J: f64 = 0.15;
/// …and more likely than each of the best other peaks ([`EXCLUSION_MS`] or
/// four half-widths away) throughout the run: of the log-likelihood by which
/// one of the two beats the other in each part ([`BLOCK_US`] each), this
/// share must favour the peak (a load that repeats itself fits as well one
/// repeat away, part for part, and is refused)…
pub const MIN_EVIDENCE_SHARE: f64 = 0.9;
/// …over at least this many parts with samples…
pub const MIN_PARTS: usize = 10;
/// …and by this much in all (natural log of the likelihood ratio).
pub const MIN_LOGLIK: f64 = 30.0;
/// The parts the margin is measured on: this long (µs)…
pub const BLOCK_US: i64 = 500_000;
/// …or shorter, to make at least this many…
pub const MIN_BLOCKS: usize = 10;
/// …or longer, to make at most this many.
pub const MAX_PARTS: usize = 4096;
/// Other peaks the margin is measured against.
pub const RIVALS: usize = 5;
/// How far another peak must be to count as another (ms).
pub const EXCLUSION_MS: f64 = 50.0;
/// The peak must be this narrow (half-width at half height, ms).
pub const MAX_HALF_WIDTH_MS: f64 = 100.0;
/// The finest bin (µs).
pub const BIN_US: i64 = 1_000;
/// Most bins in the FFT (2²¹: 16 MiB a buffer of `Complex<f32>`, two buffers).
pub const MAX_FFT: usize = 1 << 21;
/// Fewest busy samples to place a profile by.
pub const MIN_BUSY: usize = 50;
/// Fewest idle samples for them to be the reference (else the profile's span is).
pub const MIN_IDLE: usize = 50;

/// What a sample says about the server at its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Running code.
    Busy,
    /// Waiting (V8's `(idle)`).
    Idle,
    /// Neither said (`(program)`, `(root)`): left out.
    Neutral,
}

/// Where the in-flight score peaks, and how clearly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InFlight {
    /// Wall = profile clock + offset, µs.
    pub offset_us: i64,
    /// Share of busy samples inside a request at the peak.
    pub busy_inside: f64,
    /// Share of the reference inside one at the peak.
    pub reference_inside: f64,
    /// `idle samples` or `the profile's span`.
    pub reference: String,
    /// (peak − median) / robust standard deviation, over the offsets searched.
    pub z: f64,
    /// (peak − median) / (best other offset − median).
    pub ratio: f64,
    /// Against the closest of the best other peaks: the parts of the run
    /// (of [`BLOCK_US`], those with samples) where the peak is the more
    /// likely place…
    pub parts_for: usize,
    /// …of these parts…
    pub parts: usize,
    /// …the share of the evidence (log-likelihood) that favours the peak,
    /// part by part ([`MIN_EVIDENCE_SHARE`])…
    pub evidence_share: f64,
    /// …and how much more likely it is in all (natural log of the likelihood ratio).
    pub loglik_margin: f64,
    /// Where that rival is (µs, as `offset_us`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rival_offset_us: Option<i64>,
    /// Half-width of the peak at half its height above the median, ms.
    pub half_width_ms: f64,
    pub bin_ms: f64,
    /// The offsets searched, µs (first, last).
    pub searched_us: (i64, i64),
    /// Requests used (all, or an even sample of a very long run).
    pub requests: u64,
}

impl InFlight {
    /// The score at the peak.
    pub fn score(&self) -> f64 {
        self.busy_inside - self.reference_inside
    }
    /// Whether the peak stands on its own.
    pub fn strong(&self) -> bool {
        self.score() >= MIN_J && self.clear_of_rivals() && self.half_width_ms <= MAX_HALF_WIDTH_MS
    }
    /// Whether the peak is more likely than every rival in nearly every part of the run.
    pub fn clear_of_rivals(&self) -> bool {
        self.rival_offset_us.is_none()
            || (self.parts >= MIN_PARTS
                && self.evidence_share >= MIN_EVIDENCE_SHARE
                && self.loglik_margin >= MIN_LOGLIK)
    }
    /// One line: what the peak is.
    pub fn describe(&self) -> String {
        format!(
            "{:.0}% of busy samples inside k6's requests against {:.0}% of the {} at the peak, more likely than the best other offset in {} of {} half-second parts of the run (by e^{:.0} in all, {:.0}% of the evidence), {:.0} robust deviations above the median, half-width {:.1} ms",
            100.0 * self.busy_inside,
            100.0 * self.reference_inside,
            self.reference,
            self.parts_for,
            self.parts,
            self.loglik_margin,
            100.0 * self.evidence_share,
            self.z,
            self.half_width_ms
        )
    }
}

/// The in-flight score of every offset in `[lo, hi]` (µs, wall = clock + offset)
/// and its peak. `None` when there is too little to go on.
pub fn place(times: &[i64], states: &[State], requests: &Requests, lo: i64, hi: i64) -> Option<InFlight> {
    let busy = states.iter().filter(|s| **s == State::Busy).count();
    let idle = states.iter().filter(|s| **s == State::Idle).count();
    if busy < MIN_BUSY || requests.is_empty() || hi < lo || times.len() != states.len() {
        return None;
    }
    let p0 = *times.iter().min()?;
    let p1 = *times.iter().max()?;
    // Bins: 1 ms, or wider so that the profile and the window of the run it can meet fit the FFT.
    let need = |bin: i64| -> usize { (2 * ((p1 - p0) / bin + 1) + (hi - lo) / bin + 4) as usize };
    let mut bin = BIN_US;
    while need(bin) > MAX_FFT / 2 {
        bin *= 2;
    }
    let n_s = ((p1 - p0) / bin + 1) as usize;
    let lags = ((hi - lo) / bin + 1) as usize;
    // The samples: +1/busy for a busy one, −1/reference for the reference.
    let use_idle = idle >= MIN_IDLE;
    let mut s = vec![0f64; n_s];
    for (t, st) in times.iter().zip(states) {
        let k = ((t - p0) / bin) as usize;
        match st {
            State::Busy => s[k] += 1.0 / busy as f64,
            State::Idle if use_idle => s[k] -= 1.0 / idle as f64,
            _ => {}
        }
    }
    if !use_idle {
        for x in &mut s {
            *x -= 1.0 / n_s as f64;
        }
    }
    // The requests' union on the window the lags can reach: [p0 + lo, p1 + hi].
    let g0 = p0 + lo;
    let m = n_s + lags;
    let mut u = vec![0f64; m];
    let cover = |u: &mut [f64], a: i64, b: i64| {
        // Adds the fraction of each bin that [a, b) covers.
        let (a, b) = ((a - g0).max(0), (b - g0).min(m as i64 * bin));
        if b <= a {
            return;
        }
        let (ka, kb) = ((a / bin) as usize, (b / bin) as usize);
        if ka == kb {
            u[ka] += (b - a) as f64 / bin as f64;
            return;
        }
        u[ka] += ((ka as i64 + 1) * bin - a) as f64 / bin as f64;
        for x in &mut u[ka + 1..kb.min(m)] {
            *x += 1.0;
        }
        if kb < m {
            u[kb] += (b - kb as i64 * bin) as f64 / bin as f64;
        }
    };
    let union = union_of(requests);
    for (a, b) in &union {
        cover(&mut u, *a, *b);
    }
    // J[j] = Σ_k s[k]·u[k + j], by FFT.
    let n = (n_s + m).next_power_of_two();
    let mut fs: Vec<Complex<f32>> = vec![Complex::new(0.0, 0.0); n];
    let mut fu: Vec<Complex<f32>> = vec![Complex::new(0.0, 0.0); n];
    for (i, x) in s.iter().enumerate() {
        fs[i].re = *x as f32;
    }
    drop(s);
    for (i, x) in u.iter().enumerate() {
        fu[i].re = *x as f32;
    }
    drop(u);
    let mut planner = FftPlanner::<f32>::new();
    let fwd = planner.plan_fft_forward(n);
    fwd.process(&mut fs);
    fwd.process(&mut fu);
    for (a, b) in fs.iter().zip(fu.iter_mut()) {
        *b *= a.conj();
    }
    drop(fs);
    planner.plan_fft_inverse(n).process(&mut fu);
    let j: Vec<f64> = fu[..lags].iter().map(|c| c.re as f64 / n as f64).collect();
    drop(fu);
    let peak = peak_of(&j, bin)?;
    let offset_us = lo + peak.at_us.round() as i64;
    // The shares at the peak, counted exactly.
    let inside = |t: i64| -> bool {
        let w = t + offset_us;
        let i = union.partition_point(|(a, _)| *a <= w);
        i > 0 && union[i - 1].1 >= w
    };
    let (mut bi, mut ri) = (0usize, 0usize);
    for (t, st) in times.iter().zip(states) {
        match st {
            State::Busy => bi += inside(*t) as usize,
            State::Idle if use_idle => ri += inside(*t) as usize,
            _ => {}
        }
    }
    let busy_inside = bi as f64 / busy as f64;
    // Without idle samples the reference is the share of the profile's span covered (J = busy − that).
    let reference_inside = if use_idle { ri as f64 / idle as f64 } else { (busy_inside - peak.value).clamp(0.0, 1.0) };
    let cum = cumulative(&union);
    // How likely the samples are at an offset, part by part (the parts add
    // up): with idle samples, each sample's state given whether it falls
    // inside a request (the two rates fitted at that offset); without, the
    // busy samples as a Poisson process whose rate differs inside and
    // outside. A rare event — an idle sample in one of the few gaps of a
    // saturated run — weighs what it tells.
    let (t_first, t_last) = (times.iter().min().copied().unwrap_or(0), times.iter().max().copied().unwrap_or(0));
    // Half a second a part (fewer, shorter parts for a short profile; at
    // most MAX_PARTS, longer ones, for a profile spanning days).
    let span = t_last - t_first;
    let width = (span / MIN_BLOCKS as i64).clamp(1, BLOCK_US).max(span / MAX_PARTS as i64 + 1);
    let blocks = ((t_last - t_first) / width + 1) as usize;
    let inside_at = |t: i64, off: i64| -> bool {
        let w = t + off;
        let k = union.partition_point(|(a, _)| *a <= w);
        k > 0 && union[k - 1].1 >= w
    };
    let loglik_by_block = |off: i64| -> Vec<f64> {
        let mut part = vec![0f64; blocks];
        let (mut bi, mut bo, mut ii, mut io) = (0f64, 0f64, 0f64, 0f64);
        for (t, st) in times.iter().zip(states) {
            let ins = inside_at(*t, off);
            match (st, ins) {
                (State::Busy, true) => bi += 1.0,
                (State::Busy, false) => bo += 1.0,
                (State::Idle, true) => ii += 1.0,
                (State::Idle, false) => io += 1.0,
                _ => {}
            }
        }
        if use_idle {
            let p_in = (bi + 0.5) / (bi + ii + 1.0);
            let p_out = (bo + 0.5) / (bo + io + 1.0);
            for (t, st) in times.iter().zip(states) {
                let ins = inside_at(*t, off);
                let l = match (st, ins) {
                    (State::Busy, true) => p_in.ln(),
                    (State::Busy, false) => p_out.ln(),
                    (State::Idle, true) => (1.0 - p_in).ln(),
                    (State::Idle, false) => (1.0 - p_out).ln(),
                    _ => continue,
                };
                part[((t - t_first) / width) as usize] += l;
            }
        } else {
            let span = (t_last - t_first).max(1) as f64;
            let t_in = (covered(&union, &cum, t_first + off, t_last + off) as f64).clamp(1.0, span - 1.0);
            let (l_in, l_out) = ((bi + 0.5) / t_in, (bo + 0.5) / (span - t_in));
            for (t, st) in times.iter().zip(states) {
                if *st == State::Busy {
                    part[((t - t_first) / width) as usize] += if inside_at(*t, off) { l_in.ln() } else { l_out.ln() };
                }
            }
            for (b, x) in part.iter_mut().enumerate() {
                let a = t_first + b as i64 * width;
                let e = (a + width).min(t_last);
                if e > a {
                    let c = covered(&union, &cum, a + off, e + off) as f64;
                    *x -= l_in * c + l_out * ((e - a) as f64 - c);
                }
            }
        }
        part
    };
    // The candidates: the peak of the score and its best rivals; the most
    // likely must be the peak, in nearly every part of the run.
    let at_peak = loglik_by_block(offset_us);
    let mut margin = Margin { parts_for: 0, parts: 0, gain: 0.0, loss: 0.0, rival_offset_us: None };
    for r in rivals(&j, peak.at_us, peak.half_width_us, bin) {
        let off = lo + r as i64 * bin;
        let d: Vec<f64> = loglik_by_block(off).iter().zip(&at_peak).map(|(x, p)| p - x).collect();
        let parts = d.iter().filter(|x| x.abs() > 1e-9).count();
        let parts_for = d.iter().filter(|x| **x > 1e-9).count();
        let (gain, loss) = d.iter().fold((0.0, 0.0), |(g, l), x| if *x > 0.0 { (g + x, l) } else { (g, l - x) });
        let m = Margin { parts_for, parts, gain, loss, rival_offset_us: Some(off) };
        if m.weaker_than(&margin) {
            margin = m;
        }
    }
    let finite = super::finite;
    Some(InFlight {
        offset_us,
        parts_for: margin.parts_for,
        parts: margin.parts,
        evidence_share: finite(margin.share()),
        loglik_margin: finite(margin.gain - margin.loss),
        rival_offset_us: margin.rival_offset_us,
        busy_inside: finite(busy_inside),
        reference_inside: finite(reference_inside),
        reference: if use_idle { "idle samples".into() } else { "the profile's span".into() },
        z: finite(peak.z),
        ratio: finite(peak.ratio),
        half_width_ms: finite(peak.half_width_us / 1000.0),
        bin_ms: bin as f64 / 1000.0,
        searched_us: (lo, hi),
        requests: requests.len() as u64,
    })
}

/// How the peak fares against one rival: the parts of the run where it is
/// the more likely (of those with samples), and by how much in all.
struct Margin {
    parts_for: usize,
    parts: usize,
    /// Log-likelihood the peak gains over the rival in the parts where it is the more likely…
    gain: f64,
    /// …and loses in the others.
    loss: f64,
    rival_offset_us: Option<i64>,
}

impl Margin {
    fn share(&self) -> f64 {
        if self.gain + self.loss > 0.0 {
            self.gain / (self.gain + self.loss)
        } else {
            0.0
        }
    }
    fn weaker_than(&self, other: &Margin) -> bool {
        other.rival_offset_us.is_none()
            || (self.share(), self.gain - self.loss) < (other.share(), other.gain - other.loss)
    }
}

struct Peak {
    /// µs from the first lag.
    at_us: f64,
    value: f64,
    z: f64,
    ratio: f64,
    half_width_us: f64,
}

/// The requests' union: sorted, disjoint `[start, end]` intervals.
pub fn union_of(requests: &Requests) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (st, en) in requests.start_us.iter().zip(&requests.end_us) {
        match out.last_mut() {
            Some(last) if *st <= last.1 => last.1 = last.1.max(*en),
            _ => out.push((*st, *en)),
        }
    }
    out
}

/// Running total of the union's lengths: `cum[i]` = length of `union[..i]`.
fn cumulative(union: &[(i64, i64)]) -> Vec<i64> {
    let mut cum = Vec::with_capacity(union.len() + 1);
    cum.push(0);
    for (a, b) in union {
        cum.push(cum.last().copied().unwrap_or(0) + (b - a));
    }
    cum
}

/// How much of `[a, b]` the union covers (µs).
fn covered(union: &[(i64, i64)], cum: &[i64], a: i64, b: i64) -> i64 {
    // Covered up to x: the whole intervals that end before x, and the part of the one holding x.
    let upto = |x: i64| -> i64 {
        let k = union.partition_point(|(s, _)| *s <= x);
        if k == 0 {
            return 0;
        }
        let (s, e) = union[k - 1];
        cum[k - 1] + (x.min(e) - s)
    };
    upto(b) - upto(a)
}

/// The best other peaks of `j`: local maxima away from the peak (and from
/// each other) by [`EXCLUSION_MS`] or four half-widths, highest first.
fn rivals(j: &[f64], peak_us: f64, half_width_us: f64, bin: i64) -> Vec<usize> {
    let away = (4.0 * half_width_us).max(EXCLUSION_MS * 1000.0).max(2.0 * bin as f64);
    let mut maxima: Vec<usize> = (0..j.len())
        .filter(|&k| (k == 0 || j[k] >= j[k - 1]) && (k + 1 == j.len() || j[k] >= j[k + 1]))
        .filter(|&k| (k as f64 * bin as f64 - peak_us).abs() > away)
        .collect();
    maxima.sort_by(|a, b| j[*b].total_cmp(&j[*a]));
    let mut out: Vec<usize> = Vec::new();
    for k in maxima {
        if out.iter().all(|o| ((*o as f64 - k as f64) * bin as f64).abs() > away) {
            out.push(k);
            if out.len() == RIVALS {
                break;
            }
        }
    }
    out
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let k = v.len() / 2;
    v.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    v[k]
}

fn peak_of(j: &[f64], bin: i64) -> Option<Peak> {
    let (i, &top) = j.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let med = median(&mut j.to_vec());
    let mut frac = 0.0;
    if i > 0 && i + 1 < j.len() {
        let (a, b, d) = (j[i - 1], j[i], j[i + 1]);
        let den = a - 2.0 * b + d;
        if den.abs() > 1e-12 {
            frac = (0.5 * (a - d) / den).clamp(-0.5, 0.5);
        }
    }
    let half = (top + med) / 2.0;
    let cross = |step: isize| -> f64 {
        let mut k = i as isize;
        loop {
            let next = k + step;
            if next < 0 || next as usize >= j.len() {
                return k as f64;
            }
            let (above, below) = (j[k as usize], j[next as usize]);
            if below <= half {
                let t = if (above - below).abs() > 1e-12 {
                    ((above - half) / (above - below)).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                return k as f64 + step as f64 * t;
            }
            k = next;
        }
    };
    let half_width_us = ((cross(1) - cross(-1)) / 2.0 * bin as f64).max(bin as f64 / 2.0);
    let away = (4.0 * half_width_us).max(EXCLUSION_MS * 1000.0).max(2.0 * bin as f64);
    let at = i as f64 + frac;
    let mut others: Vec<f64> =
        j.iter().enumerate().filter(|(k, _)| ((*k as f64 - at) * bin as f64).abs() > away).map(|(_, v)| *v).collect();
    let second = others.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let spread = if others.len() >= 10 {
        let mut dev: Vec<f64> = others.iter().map(|x| (x - med).abs()).collect();
        1.4826 * median(&mut dev)
    } else {
        f64::NAN
    };
    others.clear();
    let z = if spread > 1e-12 { (top - med) / spread } else { 0.0 };
    let ratio = if second.is_finite() && second - med > 1e-9 { (top - med) / (second - med) } else { f64::INFINITY };
    Some(Peak { at_us: at * bin as f64, value: top, z, ratio, half_width_us })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A single-threaded server (hand-made, for laws): busy while a request
    /// is in flight, idle otherwise, sampled every ms over `len_ms`; gaps
    /// between requests up to `gap_ms` (or exactly `period_ms`, requests
    /// half as long); the requests on the wall clock `offset` after the
    /// profile's clock.
    pub(crate) fn server(
        seed: u64,
        offset: i64,
        period_ms: Option<i64>,
        gap_ms: f64,
        len_ms: i64,
    ) -> (Vec<i64>, Vec<State>, Requests) {
        let mut x = seed;
        let mut rnd = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as f64 / (1u64 << 31) as f64
        };
        let mut reqs = Vec::new();
        let mut t = 0i64;
        while t < len_ms {
            let gap = match period_ms {
                Some(p) => p,
                None => 1 + (rnd() * gap_ms) as i64,
            };
            let dur = match period_ms {
                Some(p) => p / 2,
                None => 1 + (rnd() * 30.0) as i64,
            };
            reqs.push((t, t + dur));
            t += dur + gap;
        }
        let base = 5_000_000_000i64;
        let mut times = Vec::new();
        let mut states = Vec::new();
        let mut k = 0;
        for ms in 0..len_ms {
            while k < reqs.len() && reqs[k].1 < ms {
                k += 1;
            }
            let busy = k < reqs.len() && reqs[k].0 <= ms;
            times.push(base + ms * 1000);
            states.push(if busy { State::Busy } else { State::Idle });
        }
        let r = Requests::from_intervals(
            reqs.iter().map(|(a, b)| (base + a * 1000 + offset, base + b * 1000 + offset, "GET /x".to_string())),
        );
        (times, states, r)
    }

    const OFFSET: i64 = 1_796_000_000_000_000 - 5_000_000_000 + 123_456;

    #[test]
    fn places_a_busy_server_within_a_bin_and_refuses_a_periodic_one() {
        let (t, s, r) = server(7, OFFSET, None, 60.0, 20_000);
        let p = place(&t, &s, &r, OFFSET - 10_000_000, OFFSET + 10_000_000).unwrap();
        assert!((p.offset_us - OFFSET).abs() <= 1_000, "{} vs {OFFSET}: {p:?}", p.offset_us);
        assert!(p.strong(), "{p:?}");
        assert!(p.busy_inside > 0.9 && p.reference_inside < 0.1, "{p:?}");
        // Strictly periodic load: every period fits as well.
        let (t, s, r) = server(7, OFFSET, Some(40), 0.0, 20_000);
        let p = place(&t, &s, &r, OFFSET - 10_000_000, OFFSET + 10_000_000).unwrap();
        assert!(!p.strong(), "{p:?}");
        // Requests of another run: nothing fits.
        let (t, s, _) = server(7, OFFSET, None, 60.0, 20_000);
        let (_, _, other) = server(99, OFFSET, None, 60.0, 20_000);
        let p = place(&t, &s, &other, OFFSET - 10_000_000, OFFSET + 10_000_000).unwrap();
        assert!(!p.strong(), "{p:?}");
    }

    #[test]
    fn without_idle_samples_the_span_is_the_reference() {
        let (t, s, r) = server(11, OFFSET, None, 60.0, 20_000);
        let busy: Vec<(i64, State)> = t.into_iter().zip(s).filter(|(_, s)| *s == State::Busy).collect();
        let (t, s): (Vec<i64>, Vec<State>) = busy.into_iter().unzip();
        let p = place(&t, &s, &r, OFFSET - 10_000_000, OFFSET + 10_000_000).unwrap();
        assert_eq!(p.reference, "the profile's span");
        assert!(p.strong() && (p.offset_us - OFFSET).abs() <= 1_000, "{p:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        /// Shifted, periodic, sparse or short: placed right, or refused — never placed wrong.
        #[test]
        fn placed_right_or_refused(
            seed in 0u64..1_000_000,
            shift in -8_000_000i64..8_000_000,
            period in prop::option::of(10i64..200),
            gap in prop::sample::select(vec![20.0, 60.0, 400.0, 3_000.0]),
            len in prop::sample::select(vec![2_000i64, 8_000, 20_000]),
            other_run in any::<bool>(),
        ) {
            let truth = OFFSET + shift;
            let (t, s, r) = server(seed, truth, period, gap, len);
            let r = if other_run { server(seed ^ 0x5555, truth, period, gap, len).2 } else { r };
            if let Some(p) = place(&t, &s, &r, OFFSET - 10_000_000, OFFSET + 10_000_000) {
                if p.strong() {
                    prop_assert!(!other_run || period.is_some(), "placed by another run's requests: {p:?}");
                    prop_assert!((p.offset_us - truth).abs() as f64 <= 2_000.0 + 1000.0 * p.half_width_ms,
                        "placed {} ms off: {p:?}", (p.offset_us - truth) / 1000);
                }
            }
        }
    }
}
