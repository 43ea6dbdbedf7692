//! `perf script` text (FORMATS.md §11), folded by the `inferno` crate's perf
//! collapser — the same algorithm as `inferno-collapse-perf` — while the
//! lines are checked and the samples counted on their way in.

use std::io::{self, BufRead, Read};

use inferno::collapse::perf::{Folder, Options};
use inferno::collapse::Collapse;

use super::{Profile, ProfileBuilder};
use crate::error::IngestError;
use crate::ingest::lines::DEFAULT_MAX_LINE_BYTES;

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
    /// Lines changed before folding: bytes that were not UTF-8, or a symbol
    /// inferno 0.12.8 would panic on.
    pub repaired: u64,
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

/// Passes the script through to inferno, looking at each line on the way:
/// sample headers are parsed and counted, indented frame lines checked for
/// what would make inferno panic, anything else reported. Lines are handed
/// on whole, and changed only where inferno 0.12.8 could not read them:
/// bytes that are not UTF-8 are replaced (as inferno's own lossy reading
/// would), and a frame whose symbol has a multi-byte character where
/// inferno looks for a Rust hash (17 bytes from its end) gets `?` for that
/// character (inferno slices the name there and panics). A line over
/// `max_line` bytes stops the read with an error.
struct Observe<R> {
    inner: R,
    /// Lines ready to hand on, and how far they were consumed.
    out: Vec<u8>,
    pos: usize,
    /// The start of a line whose end has not been read yet.
    partial: Vec<u8>,
    max_line: usize,
    eof: bool,
    stats: ScriptStats,
    /// Lines changed so that inferno could read them.
    repaired: u64,
}

impl<R: BufRead> Observe<R> {
    fn new(inner: R, max_line: usize) -> Self {
        Observe {
            inner,
            out: Vec::with_capacity(1 << 16),
            pos: 0,
            partial: Vec::new(),
            max_line,
            eof: false,
            stats: ScriptStats::default(),
            repaired: 0,
        }
    }

    /// One whole line (with its `\n`, except maybe the last), appended to `out`.
    fn take_line(out: &mut Vec<u8>, stats: &mut ScriptStats, repaired: &mut u64, line: &[u8]) {
        stats.lines += 1;
        let indented = matches!(line.first(), Some(b' ' | b'\t'));
        if !indented {
            Self::header(line, stats);
        }
        if line.is_ascii() {
            out.extend_from_slice(line);
            return;
        }
        let text = String::from_utf8_lossy(line);
        let fixed = if indented { safe_for_inferno(&text) } else { None };
        if fixed.is_some() || matches!(text, std::borrow::Cow::Owned(_)) {
            *repaired += 1;
        }
        out.extend_from_slice(fixed.as_deref().unwrap_or(&text).as_bytes());
    }

    /// A non-indented line: a sample header, a comment, blank, or not perf's.
    fn header(line: &[u8], stats: &mut ScriptStats) {
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
                    stats.bad_line = Some((stats.lines, t.chars().take(80).collect()));
                }
            }
        }
    }

    /// Reads on until at least one line is ready (or the input ends).
    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() && !self.eof {
            let Observe { inner, out, partial, max_line, eof, stats, repaired, .. } = self;
            let chunk = inner.fill_buf()?;
            if chunk.is_empty() {
                *eof = true;
                if !partial.is_empty() {
                    let last = std::mem::take(partial);
                    Self::take_line(out, stats, repaired, &last);
                }
                break;
            }
            let mut i = 0;
            while let Some(nl) = memchr::memchr(b'\n', &chunk[i..]) {
                let end = i + nl + 1;
                if partial.is_empty() {
                    if end - i > *max_line {
                        return Err(crate::ingest::lines::too_long(*max_line));
                    }
                    Self::take_line(out, stats, repaired, &chunk[i..end]);
                } else {
                    partial.extend_from_slice(&chunk[i..end]);
                    if partial.len() > *max_line {
                        return Err(crate::ingest::lines::too_long(*max_line));
                    }
                    let whole = std::mem::take(partial);
                    Self::take_line(out, stats, repaired, &whole);
                }
                i = end;
            }
            partial.extend_from_slice(&chunk[i..]);
            if partial.len() > *max_line {
                return Err(crate::ingest::lines::too_long(*max_line));
            }
            let n = chunk.len();
            inner.consume(n);
        }
        Ok(())
    }
}

/// The frame line with the character inferno 0.12.8 would slice through
/// replaced by `?`s of its width, or `None` when the line is safe. inferno
/// takes the symbol as the text between the address and the last ` (`,
/// drops a `+0x…` offset, then looks at its last 17 bytes for a Rust hash.
fn safe_for_inferno(line: &str) -> Option<String> {
    let body = line.trim_start();
    let after_pc = body.split_once(' ')?.1;
    let module_at = after_pc.rfind(' ')?;
    let mut func = after_pc[..module_at].trim();
    if let Some(off) = func.rfind("+0x") {
        if func[off + 3..].chars().all(|c| c.is_ascii_hexdigit()) {
            func = &func[..off];
        }
    }
    const RUST_HASH_LENGTH: usize = 17;
    if func.len() < RUST_HASH_LENGTH || func.is_char_boundary(func.len() - RUST_HASH_LENGTH) {
        return None;
    }
    // The character that straddles the cut, found by its byte range in `line`.
    let func_start = func.as_ptr() as usize - line.as_ptr() as usize;
    let cut = func_start + func.len() - RUST_HASH_LENGTH;
    let (start, ch) = line.char_indices().take_while(|(i, _)| *i < cut).last()?;
    let mut fixed = String::with_capacity(line.len());
    fixed.push_str(&line[..start]);
    fixed.extend(std::iter::repeat_n('?', ch.len_utf8()));
    fixed.push_str(&line[start + ch.len_utf8()..]);
    Some(fixed)
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
        if self.pos >= self.out.len() {
            self.refill()?;
        }
        Ok(&self.out[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.out.len());
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
    fold_capped(reader, file, annotate, DEFAULT_MAX_LINE_BYTES)
}

/// [`fold`], with a bound on the length of a line other than the default.
pub fn fold_capped<R: BufRead>(
    reader: R,
    file: &str,
    annotate: bool,
    max_line: usize,
) -> Result<(Vec<u8>, ScriptStats), IngestError> {
    let mut obs = Observe::new(reader, max_line);
    let mut opts = Options::default();
    opts.nthreads = threads();
    opts.annotate_kernel = annotate;
    opts.annotate_jit = annotate;
    let mut folder = Folder::from(opts);
    let mut out = Vec::new();
    folder
        .collapse(&mut obs, &mut out)
        .map_err(|e| IngestError::read(file, format!("reading line {}", obs.stats.lines + 1), e))?;
    let mut stats = obs.stats;
    stats.repaired = obs.repaired;
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
    ingest_capped(reader, file, name, DEFAULT_MAX_LINE_BYTES).map(|(p, _)| p)
}

/// [`ingest`], with a bound on the length of a line other than the default,
/// and what the line check saw (`repaired` lines deserve a warning).
pub fn ingest_capped<R: BufRead>(
    reader: R,
    file: &str,
    name: &str,
    max_line: usize,
) -> Result<(Profile, ScriptStats), IngestError> {
    let (folded, stats) = fold_capped(reader, file, true, max_line)?;
    let mut b = ProfileBuilder::new(name, "perf");
    let period = match stats.periods.as_slice() {
        [p] => Some(*p),
        _ => None,
    };
    super::folded::read_into(&folded[..], file, &mut b, period, usize::MAX)?;
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
    Ok((p, stats))
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
