//! `perf script` text (FORMATS.md §11), folded by the `inferno` crate's perf
//! collapser — the same algorithm as `inferno-collapse-perf` — while the
//! lines are checked and the samples counted on their way in.

use std::io::{self, BufRead, Read};

use inferno::collapse::perf::{Folder, Options};
use inferno::collapse::Collapse;

use super::{Profile, ProfileBuilder};
use crate::error::IngestError;

/// What the line check saw.
#[derive(Debug, Default, Clone)]
pub struct ScriptStats {
    /// Sample headers of the first event type (the one inferno folds).
    pub samples: u64,
    pub event: Option<String>,
    /// Distinct periods seen on those headers (up to a few).
    pub periods: Vec<u64>,
    pub lines: u64,
    /// First line that is neither a sample header, a frame nor a comment.
    pub bad_line: Option<(u64, String)>,
}

/// Parses a sample header's event name and period (`node 1 6108.38: 10101010 cpu-clock:ppp:`).
fn header_event(line: &str) -> Option<(String, Option<u64>)> {
    // The timestamp is the first token of digits and a dot ending in ':'.
    for tok in line.split_whitespace() {
        // `tok` is a sub-slice of `line`: its end is found from the pointers, without a search.
        let pos = tok.as_ptr() as usize - line.as_ptr() as usize + tok.len();
        if let Some(t) = tok.strip_suffix(':') {
            if t.contains('.') && t.parse::<f64>().is_ok() {
                let rest = &line[pos..];
                let upto = rest.split(':').next()?;
                let mut it = upto.trim().rsplit(' ');
                let event = it.next()?.to_string();
                let period = it.next().and_then(|p| p.trim().parse::<u64>().ok());
                return Some((event, period));
            }
        }
    }
    None
}

/// Passes the script through to inferno untouched, looking at each line as
/// inferno consumes it: sample headers are parsed and counted, indented
/// frame lines skipped over, anything else reported.
struct Observe<R> {
    inner: R,
    /// The current line so far, when it is not indented (a header candidate).
    cur: Vec<u8>,
    at_start: bool,
    skipping: bool,
    stats: ScriptStats,
}

impl<R: BufRead> Observe<R> {
    fn new(inner: R) -> Self {
        Observe { inner, cur: Vec::with_capacity(256), at_start: true, skipping: false, stats: ScriptStats::default() }
    }

    fn scan(cur: &mut Vec<u8>, at_start: &mut bool, skipping: &mut bool, stats: &mut ScriptStats, chunk: &[u8]) {
        let mut i = 0;
        while i < chunk.len() {
            if *at_start {
                *at_start = false;
                *skipping = matches!(chunk[i], b' ' | b'\t');
            }
            let nl = memchr::memchr(b'\n', &chunk[i..]);
            let end = nl.map_or(chunk.len(), |p| i + p);
            if !*skipping {
                cur.extend_from_slice(&chunk[i..end]);
            }
            match nl {
                Some(_) => {
                    if !*skipping {
                        Self::line(cur, stats);
                        cur.clear();
                    }
                    stats.lines += 1;
                    *at_start = true;
                    i = end + 1;
                }
                None => i = chunk.len(),
            }
        }
    }

    /// A whole non-indented line.
    fn line(line: &[u8], stats: &mut ScriptStats) {
        let text = String::from_utf8_lossy(line);
        let t = text.trim_end();
        if t.is_empty() || t.starts_with('#') {
            return;
        }
        match header_event(t) {
            Some((event, period)) => {
                let first = stats.event.get_or_insert_with(|| event.clone());
                if *first == event {
                    stats.samples += 1;
                    if let Some(p) = period {
                        if !stats.periods.contains(&p) && stats.periods.len() < 8 {
                            stats.periods.push(p);
                        }
                    }
                }
            }
            None => {
                if stats.bad_line.is_none() {
                    stats.bad_line = Some((stats.lines + 1, t.chars().take(80).collect()));
                }
            }
        }
    }

    /// The last line, when the text does not end with a newline.
    fn finish(&mut self) {
        if !self.at_start && !self.skipping && !self.cur.is_empty() {
            Self::line(&self.cur, &mut self.stats);
            self.stats.lines += 1;
        }
    }
}

impl<R: BufRead> Read for Observe<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Observe<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // The bytes being consumed are still in the inner buffer: look at them first.
        let Observe { inner, cur, at_start, skipping, stats } = self;
        if let Ok(buf) = inner.fill_buf() {
            Self::scan(cur, at_start, skipping, stats, &buf[..amt.min(buf.len())]);
        }
        self.inner.consume(amt);
    }
}

/// Threads to fold with: all cores with the `multithreaded` feature (as
/// `inferno-collapse-perf` does), one otherwise.
fn threads() -> usize {
    #[cfg(feature = "multithreaded")]
    {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    }
    #[cfg(not(feature = "multithreaded"))]
    {
        1
    }
}

/// Folds `perf script` text exactly as `inferno-collapse-perf` does with
/// default options, returning the folded lines and what the
/// check saw. With `annotate`, kernel and JIT frames get inferno's `_[k]`
/// and `_[j]` suffixes (used to categorise frames).
pub fn fold<R: BufRead>(reader: R, file: &str, annotate: bool) -> Result<(Vec<u8>, ScriptStats), IngestError> {
    let mut obs = Observe::new(reader);
    let mut opts = Options::default();
    opts.nthreads = threads();
    opts.annotate_kernel = annotate;
    opts.annotate_jit = annotate;
    let mut folder = Folder::from(opts);
    let mut out = Vec::new();
    folder
        .collapse(&mut obs, &mut out)
        .map_err(|e| IngestError::read(file, format!("reading after line {}", obs.stats.lines), e))?;
    obs.finish();
    let stats = obs.stats;
    if let Some((n, text)) = &stats.bad_line {
        return Err(IngestError::BadLine {
            file: file.into(),
            line: *n,
            message: format!(
                "not a `perf script` line: {text:?} (expected a sample header `comm pid time: period event:`, an indented frame `addr symbol (dso)`, or a blank line)"
            ),
        });
    }
    if stats.samples == 0 {
        return Err(IngestError::invalid(
            file,
            "no perf samples: expected `perf script` output (a `comm pid time: period event:` header, then one indented frame per line)",
        ));
    }
    Ok((out, stats))
}

/// Reads `perf script` text into a profile. Node weights are inferno's
/// (the event's period when the header has one); sample counts are the
/// weights divided by the period when every sample has the same one.
pub fn ingest<R: BufRead>(reader: R, file: &str, name: &str) -> Result<Profile, IngestError> {
    let (folded, stats) = fold(reader, file, true)?;
    let mut b = ProfileBuilder::new(name, "perf");
    let period = match stats.periods.as_slice() {
        [p] => Some(*p),
        _ => None,
    };
    super::folded::read_into(&folded[..], file, &mut b, period)?;
    if period.is_some() || !stats.periods.is_empty() {
        let clock = stats.event.as_deref().is_some_and(|e| e.starts_with("cpu-clock") || e.starts_with("task-clock"));
        b.weight_unit = Some(if clock { "ns" } else { "period" }.into());
    }
    if let Some(e) = &stats.event {
        b.tools.insert("perf event".into(), e.clone());
    }
    let mut p = b.finish();
    if p.total_samples != stats.samples {
        // Periods differ from sample to sample: share the samples out by weight.
        redistribute(&mut p, stats.samples);
    }
    Ok(p)
}

fn redistribute(p: &mut Profile, samples: u64) {
    let w: u128 = p.nodes.self_weight.iter().map(|&x| u128::from(x)).sum();
    if w == 0 {
        return;
    }
    let mut given = 0u64;
    let mut biggest = 0usize;
    for i in 0..p.nodes.self_samples.len() {
        let s = (u128::from(p.nodes.self_weight[i]) * u128::from(samples) / w) as u64;
        p.nodes.self_samples[i] = s;
        given += s;
        if p.nodes.self_weight[i] > p.nodes.self_weight[biggest] {
            biggest = i;
        }
    }
    p.nodes.self_samples[biggest] += samples - given;
    p.total_samples = samples;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_headers() {
        assert_eq!(
            header_event("node 11418  6108.381101:   10101010 cpu-clock:ppp: "),
            Some(("cpu-clock".to_string(), Some(10_101_010)))
        );
        assert_eq!(
            header_event("V8 WorkerThread 24636/25607 [000] 94564.109216: cycles:"),
            Some(("cycles".to_string(), None))
        );
        assert_eq!(header_event("hello world"), None);
    }

    #[test]
    fn unknown_lines_are_reported() {
        let text = "node 1 10.000001: 100 cpu-clock:\n\t abc f (/x)\n\nthis is not perf\n";
        let e = ingest(text.as_bytes(), "p.txt", "p").unwrap_err();
        assert!(e.to_string().contains("p.txt: line 4: not a `perf script` line"), "{e}");
        let e = ingest("".as_bytes(), "e.txt", "e").unwrap_err();
        assert!(e.to_string().contains("no perf samples"), "{e}");
    }
}
