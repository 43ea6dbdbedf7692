//! `perf script` text (FORMATS.md §11), read sample by sample and folded
//! exactly as `inferno-collapse-perf` folds it: the same frames, the same
//! folded lines, the same counts. inferno's perf collapser (0.12, default
//! options) only gives the folded totals; this reader follows its rules line
//! for line — which line starts a sample, which event type is kept, how a
//! frame's name is tidied — so that every sample also keeps its own leaf
//! node, time and period (the flame graph of a time range, the alignment
//! with k6, and both sample counts and period weights per node).
//!
//! The rules, as inferno applies them:
//!
//! - A line starting with `#` is a comment. A blank line ends a sample.
//! - The first line of a sample is its header `comm [pid/]tid [cpu] time:
//!   [period] event[:mods]:`, found by its first all-digit word; perf may
//!   also put the sample's one frame on the header line itself (`perf script
//!   -F comm,pid,tid,time,event,ip,sym` and the like).
//! - Only samples of the first event type are kept.
//! - A frame line is `addr symbol[+0xoff] (module)`; the offset is dropped,
//!   a symbol starting with `(` is skipped, `[unknown]` becomes the module's
//!   base name in brackets, Rust hashes are demangled away, `;` becomes `:`,
//!   the argument list is cut (but not Go's `.(*T)` nor C++'s `(anonymous
//!   namespace)`), Java's leading `L` is dropped in processes named `java…`,
//!   and `a->b` (inlined) gives frames `a`, `b_[i]`.
//! - The sample counts the event's period (1 when the header has none), under
//!   `comm` (spaces as `_`) and its frames, root first. A sample with no frame
//!   counts nowhere in inferno's lines; here it counts at the root, so that
//!   the profile's samples are the source's.
//!
//! (Some 630 lines before its tests, past the ~600 a module usually stays
//! under: the reader and every one of inferno's rules in one place, so that
//! they can be read side by side with inferno's `collapse/perf.rs`.)

use std::collections::HashMap;
use std::io::BufRead;

use super::category::Category;
use super::{Profile, ProfileBuilder};
use crate::error::IngestError;
use crate::ingest::lines::{read_line_capped, DEFAULT_MAX_LINE_BYTES};

/// The clock of a perf recording, from `perf script --header`'s comments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PerfClock {
    /// `# clockid: monotonic (1)` → `monotonic`.
    pub clockid: Option<String>,
    /// `# reference time: … = S.US (TOD) = S.NS (CLOCK)`: the same instant as
    /// Unix µs and on the recording's clock (µs).
    pub reference: Option<(i64, i64)>,
}

/// What the reader saw.
#[derive(Debug, Default, Clone)]
pub struct ScriptStats {
    /// Samples of the event type kept (the first one), with or without frames.
    pub samples: u64,
    /// Of those, samples without a frame inferno keeps (counted at the root).
    pub empty: u64,
    /// Samples of other event types, left out.
    pub other_events: u64,
    pub event: Option<String>,
    /// Distinct periods of the samples kept (up to a few).
    pub periods: Vec<u64>,
    /// Whether the samples kept have more than one period (or some have none).
    pub varying_periods: bool,
    pub lines: u64,
    /// Lines inferno skips with a warning (an indented line where a header
    /// should be, a frame line it cannot split), and the first of them.
    pub weird_lines: u64,
    pub first_weird: Option<(u64, String)>,
    /// Weird lines shaped as a frame without its dso (`addr symbol`, as
    /// `perf script -F …,ip,sym` prints), and the first of them.
    pub frames_without_dso: u64,
    pub first_without_dso: Option<(u64, String)>,
    /// Lines whose bytes were not UTF-8 (replaced by U+FFFD, as inferno reads them).
    pub repaired: u64,
    /// Samples with a time on the header.
    pub timed: u64,
    pub clock: PerfClock,
}

/// Splits a header at its first all-digit word (`tid` or `pid/tid`),
/// followed by a space: `(comm, pid, tid, index after that space)`.
/// inferno's rule: a word counts from the character after a space; a `/`
/// inside an all-digit word splits pid from tid.
fn event_line_parts(line: &str) -> Option<(&str, &str, &str, usize)> {
    let mut word_start = 0usize;
    let mut all_digits = false;
    let mut last_was_space = false;
    let mut slash_at: Option<usize> = None;
    for (idx, c) in line.char_indices() {
        if c == ' ' {
            if all_digits && !last_was_space {
                let (pid, tid) = match slash_at {
                    Some(s) => (&line[word_start..s], &line[s + 1..idx]),
                    None => ("?", &line[word_start..idx]),
                };
                let comm = line[..word_start - 1].trim();
                return Some((comm, pid, tid, idx + 1));
            }
            word_start = idx + 1;
            all_digits = true;
        } else if c == '/' {
            if all_digits {
                slash_at = Some(idx);
            }
        } else if !c.is_ascii_digit() {
            all_digits = false;
            slash_at = None;
        }
        last_was_space = c == ' ';
    }
    None
}

/// Splits a frame line into `(pc, symbol, module)`: the first word, the
/// text up to the last space, and the last word without its parentheses.
fn stack_line_parts(line: &str) -> Option<(&str, &str, &str)> {
    let (pc, rest) = line.trim_start().split_once(' ')?;
    let pc = pc.trim_end();
    let (func, module) = rest.rsplit_once(' ')?;
    let module = module.strip_prefix('(')?.strip_suffix(')')?;
    let func = match func.trim() {
        // Two spaces between the address and the module: perl's " ".
        "" => " ",
        s => s,
    };
    Some((pc, func, module))
}

/// `addr symbol…` that inferno could not split (no `(dso)`): a frame as
/// `perf script -F …,ip,sym` prints it.
fn looks_like_frame_without_dso(line: &str) -> bool {
    let t = line.trim();
    let Some((addr, rest)) = t.split_once(' ') else { return false };
    !addr.is_empty()
        && addr.chars().all(|c| c.is_ascii_hexdigit())
        && !rest.trim().is_empty()
        && stack_line_parts(line).is_none()
        && event_line_parts(t).is_none()
}

/// The kernel, by its module: `[kernel.kallsyms]`, `[module]`, `x.ko`, `vmlinux…`.
fn is_kernel(module: &str) -> bool {
    let vmlinux = module
        .rfind("vmlinux")
        .is_some_and(|at| module[at..].chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')));
    (module.starts_with('[') || module.ends_with(".ko") || vmlinux) && module != "[unknown]"
}

const RUST_HASH_LEN: usize = 17;

/// Rust symbols that perf left half-demangled (`…::h0123456789abcdef`,
/// `$LT$`…): the hash dropped and the escapes decoded. A symbol where the
/// hash would start inside a multi-byte character is left alone (inferno
/// 0.12.8 panics on those).
fn fix_rust_symbol(symbol: &str) -> std::borrow::Cow<'_, str> {
    let n = symbol.len();
    if n < RUST_HASH_LEN || !symbol.is_char_boundary(n - RUST_HASH_LEN) {
        return symbol.into();
    }
    let hash = &symbol[n - RUST_HASH_LEN..];
    if !(hash.starts_with('h') && hash[1..].chars().all(|c| c.is_ascii_hexdigit())) {
        return symbol.into();
    }
    let mut rest = &symbol[..n - RUST_HASH_LEN];
    rest = rest.strip_suffix("::").unwrap_or(rest);
    if rest.starts_with("_$") {
        rest = &rest[1..];
    }
    const ESCAPES: [(&str, &str); 20] = [
        ("$SP$", "@"),
        ("$BP$", "*"),
        ("$RF$", "&"),
        ("$LT$", "<"),
        ("$GT$", ">"),
        ("$LP$", "("),
        ("$RP$", ")"),
        ("$C$", ","),
        ("$u7e$", "~"),
        ("$u20$", " "),
        ("$u27$", "'"),
        ("$u3d$", "="),
        ("$u5b$", "["),
        ("$u5d$", "]"),
        ("$u7b$", "{"),
        ("$u7d$", "}"),
        ("$u3b$", ";"),
        ("$u2b$", "+"),
        ("$u21$", "!"),
        ("$u22$", "\""),
    ];
    let mut out = String::with_capacity(rest.len());
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            if let Some(after2) = after.strip_prefix('.') {
                out.push_str("::");
                rest = after2;
            } else {
                out.push('.');
                rest = after;
            }
        } else if rest.starts_with('$') {
            match ESCAPES.iter().find(|(from, _)| rest.starts_with(from)) {
                Some((from, to)) => {
                    out.push_str(to);
                    rest = &rest[from.len()..];
                }
                None => {
                    out.push_str(rest);
                    break;
                }
            }
        } else {
            let i = rest.find(['$', '.']).unwrap_or(rest.len());
            out.push_str(&rest[..i]);
            rest = &rest[i..];
        }
    }
    out.into()
}

/// `;` → `:`, and the argument list cut at the first top-level `(` that is
/// not Go's `.(` nor C++'s `(anonymous namespace)`.
fn tidy_generic(func: &str) -> String {
    let func = func.replace(';', ":");
    let mut depth = 0i64;
    let mut after_dot: Option<usize> = None;
    let mut keep = func.len();
    for (i, c) in func.char_indices() {
        match c {
            '<' | '{' | '[' => depth += 1,
            '>' | '}' | ']' | ')' => depth -= 1,
            '(' => {
                if depth == 0 && after_dot != Some(i) && !func[i..].starts_with("(anonymous namespace)") {
                    keep = i;
                    break;
                }
                depth += 1;
            }
            '.' => after_dot = Some(i + 1),
            _ => {}
        }
    }
    let mut func = func;
    func.truncate(keep);
    func
}

/// Names a kernel frame that means the CPU had nothing to do.
fn is_idle_symbol(name: &str) -> bool {
    matches!(
        name,
        "cpu_idle"
            | "do_idle"
            | "default_idle"
            | "default_idle_call"
            | "native_safe_halt"
            | "arch_cpu_idle"
            | "intel_idle"
            | "acpi_idle_enter"
            | "acpi_idle_do_entry"
            | "cpuidle_enter_state"
            | "poll_idle"
            | "mwait_idle"
            | "pv_native_safe_halt"
    )
}

/// The reader's state: inferno's, plus the sample's time and frames as ids.
struct Reader<'b> {
    b: &'b mut ProfileBuilder,
    file: &'b str,
    frame_ids: HashMap<String, u32>,
    in_event: bool,
    /// A header of the kept type was read and its sample not yet counted.
    have_event: bool,
    skip: bool,
    filter: Option<String>,
    period: Option<u64>,
    time_us: Option<i64>,
    pname: String,
    /// Frames of the current sample, leaf first.
    stack: Vec<u32>,
    /// One line's frames (`a->b->c`), in order.
    group: Vec<u32>,
    path: Vec<u32>,
    first_period: Option<Option<u64>>,
    per_sample_weight: Vec<u64>,
    stats: ScriptStats,
    line_no: u64,
}

impl Reader<'_> {
    fn frame(&mut self, name: &str, kernel: bool) -> u32 {
        if let Some(&id) = self.frame_ids.get(name) {
            return id;
        }
        let mut f = super::folded::frame_named(name);
        if kernel {
            f.category = if is_idle_symbol(name) { Category::Idle } else { Category::Kernel };
        }
        let id = self.b.intern(f);
        self.frame_ids.insert(name.to_string(), id);
        id
    }

    fn weird(&mut self, line: &str) {
        self.stats.weird_lines += 1;
        if self.stats.first_weird.is_none() {
            self.stats.first_weird = Some((self.line_no, line.chars().take(80).collect()));
        }
        if looks_like_frame_without_dso(line) {
            self.stats.frames_without_dso += 1;
            if self.stats.first_without_dso.is_none() {
                self.stats.first_without_dso = Some((self.line_no, line.chars().take(80).collect()));
            }
        }
    }

    fn on_event_line(&mut self, line: &str) -> Result<(), IngestError> {
        self.in_event = true;
        let Some((comm, _pid, _tid, end)) = event_line_parts(line) else {
            if !line.starts_with([' ', '\t']) {
                return Err(self.not_perf(line));
            }
            self.weird(line);
            self.in_event = false;
            return Ok(());
        };
        let rest = &line[end..];
        self.time_us = header_time_us(rest);
        let mut by_colons = rest.splitn(3, ':').skip(1);
        if let Some(period_and_event) = by_colons.next() {
            let mut it = period_and_event.rsplit(' ');
            let event = it.next().unwrap_or("");
            self.period = it.next().and_then(|s| s.parse::<u64>().ok());
            match &self.filter {
                Some(f) if f != event => {
                    self.skip = true;
                    self.stats.other_events += 1;
                    return Ok(());
                }
                Some(_) => {}
                None => {
                    self.filter = Some(event.to_string());
                    self.stats.event = Some(event.to_string());
                }
            }
        }
        self.have_event = true;
        let single = by_colons.next().and_then(|post| {
            let start = post.find([':', ' ']).map(|i| i + 1).unwrap_or(0);
            let s = post[start..].trim();
            (!s.is_empty()).then_some(s)
        });
        self.pname.clear();
        self.pname.push_str(&comm.replace(' ', "_"));
        if let Some(frame_line) = single {
            // The frame on a header line is not indented: not a reason to refuse it.
            if stack_line_parts(frame_line).is_some() {
                self.on_stack_line(frame_line)?;
            } else {
                self.weird(frame_line);
            }
            self.in_event = false;
        }
        Ok(())
    }

    fn on_stack_line(&mut self, line: &str) -> Result<(), IngestError> {
        if self.skip {
            return Ok(());
        }
        let Some((_pc, mut raw, module)) = stack_line_parts(line) else {
            // perf indents every frame: a line at the margin inside a sample
            // is no perf line at all (inferno would skip it unseen).
            if !line.starts_with([' ', '\t']) {
                return Err(self.not_perf(line));
            }
            self.weird(line);
            return Ok(());
        };
        if let Some(off) = raw.rfind("+0x") {
            if raw[off + 3..].chars().all(|c| c.is_ascii_hexdigit()) {
                raw = &raw[..off];
            }
        }
        if raw.starts_with('(') {
            return Ok(());
        }
        let raw = fix_rust_symbol(raw);
        let kernel = is_kernel(module);
        let java = self.pname.starts_with("java");
        self.group.clear();
        for (k, part) in raw.split("->").enumerate() {
            let base: std::borrow::Cow<'_, str> = if part != "[unknown]" || module == "[unknown]" {
                part.into()
            } else {
                format!("[{}]", &module[module.rfind('/').map(|i| i + 1).unwrap_or(0)..]).into()
            };
            let mut name = tidy_generic(&base);
            if java && name.starts_with('L') && name.contains('/') {
                name.remove(0);
            }
            if k > 0 && !name.contains("_[i]") {
                name.push_str("_[i]");
            }
            let id = self.frame(&name, kernel && k == 0);
            self.group.push(id);
        }
        // The line's frames go in front of the ones read so far (callers
        // come after callees): leaf-first, that is the group reversed.
        let group = std::mem::take(&mut self.group);
        self.stack.extend(group.iter().rev());
        self.group = group;
        Ok(())
    }

    fn not_perf(&self, line: &str) -> IngestError {
        IngestError::BadLine {
            file: self.file.into(),
            line: self.line_no,
            message: format!(
                "not a `perf script` line: {:?} (expected a sample header `comm pid time: period event:`, an indented frame `addr symbol (dso)`, or a blank line)",
                line.chars().take(80).collect::<String>()
            ),
        }
    }

    /// A sample ends: count it (when of the kept type), reset for the next.
    fn after_event(&mut self) -> Result<(), IngestError> {
        if self.have_event && !self.skip {
            let weight = self.period.unwrap_or(1);
            match self.first_period {
                None => self.first_period = Some(self.period),
                Some(p) if p != self.period => self.stats.varying_periods = true,
                Some(_) => {}
            }
            if let Some(p) = self.period {
                if !self.stats.periods.contains(&p) && self.stats.periods.len() < 8 {
                    self.stats.periods.push(p);
                }
            }
            self.stats.samples += 1;
            let node = if self.stack.is_empty() {
                self.stats.empty += 1;
                0
            } else {
                let root = self.frame(&self.pname.clone(), false);
                self.path.clear();
                self.path.push(root);
                self.path.extend(self.stack.iter().rev());
                let mut node = 0u32;
                for &f in &self.path {
                    node = self.b.child(node, f);
                }
                node
            };
            self.b.add_self(node, 1, weight).map_err(|e| IngestError::BadLine {
                file: self.file.to_string(),
                line: self.line_no,
                message: e.to_string(),
            })?;
            self.per_sample_weight.push(weight);
            if let Some(t) = self.time_us {
                self.stats.timed += 1;
                self.b.add_sample_time(node, t);
            }
        }
        self.in_event = false;
        self.have_event = false;
        self.skip = false;
        self.stack.clear();
        self.period = None;
        self.time_us = None;
        Ok(())
    }
}

/// The sample's time in µs from a header's text after its pid/tid: the
/// first word that is a decimal number of seconds followed by `:`.
fn header_time_us(rest: &str) -> Option<i64> {
    rest.split_whitespace().find_map(|w| w.strip_suffix(':').and_then(seconds_to_us))
}

/// `6108.381101` → 6108381101 µs (digits past the µs dropped).
fn seconds_to_us(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.')?;
    if int.is_empty() || frac.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || int.len() > 12 {
        return None;
    }
    let whole: i64 = int.parse().ok()?;
    let mut us: i64 = 0;
    for b in frac.bytes().chain(std::iter::repeat(b'0')).take(6) {
        us = us * 10 + i64::from(b - b'0');
    }
    whole.checked_mul(1_000_000)?.checked_add(us)
}

/// `# clockid: monotonic (1)` and `# reference time: … = 1796037032.321694
/// (TOD) = 6932.831257377 (monotonic)` from `perf script --header`.
fn header_comment(line: &str, clock: &mut PerfClock) {
    let body = line.trim_start_matches('#').trim();
    if let Some(v) = body.strip_prefix("clockid:") {
        let name = v.split_whitespace().next().unwrap_or("");
        if !name.is_empty() {
            clock.clockid = Some(name.to_string());
        }
    } else if let Some(v) = body.strip_prefix("reference time:") {
        let parts: Vec<&str> = v.split('=').map(str::trim).collect();
        let num = |p: &str, tag: &str| p.strip_suffix(tag).map(str::trim).and_then(seconds_to_us);
        let tod = parts.iter().find_map(|p| num(p, "(TOD)"));
        let other = parts.iter().skip(1).find(|p| p.ends_with(')') && !p.ends_with("(TOD)")).and_then(|p| {
            let open = p.rfind('(')?;
            seconds_to_us(p[..open].trim())
        });
        if let (Some(t), Some(c)) = (tod, other) {
            clock.reference = Some((t, c));
        }
    }
}

/// Whether text looks like `perf script` output by its first sample
/// header (also headers inferno's own check refuses: a header carrying its
/// frame without the dso, `perf script -F comm,pid,tid,time,event,ip,sym`).
pub fn looks_like(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .and_then(|l| event_line_parts(l.trim_end()).map(|(_, _, _, end)| header_time_us(&l[end..]).is_some()))
        .unwrap_or(false)
}

/// Reads `perf script` text into a profile (see the module's rules).
pub fn ingest<R: BufRead>(reader: R, file: &str, name: &str) -> Result<Profile, IngestError> {
    ingest_capped(reader, file, name, DEFAULT_MAX_LINE_BYTES).map(|(p, _)| p)
}

/// [`ingest`], with a bound on the length of a line other than the
/// default, and what the reader saw (weird and repaired lines deserve a warning).
pub fn ingest_capped<R: BufRead>(
    mut reader: R,
    file: &str,
    name: &str,
    max_line: usize,
) -> Result<(Profile, ScriptStats), IngestError> {
    let mut b = ProfileBuilder::new(name, "perf");
    let mut r = Reader {
        b: &mut b,
        file,
        frame_ids: HashMap::new(),
        in_event: false,
        have_event: false,
        skip: false,
        filter: None,
        period: None,
        time_us: None,
        pname: String::new(),
        stack: Vec::new(),
        group: Vec::new(),
        path: Vec::new(),
        first_period: None,
        per_sample_weight: Vec::new(),
        stats: ScriptStats::default(),
        line_no: 0,
    };
    let mut raw: Vec<u8> = Vec::new();
    loop {
        raw.clear();
        let n = read_line_capped(&mut reader, &mut raw, max_line)
            .map_err(|e| IngestError::read(file, format!("reading line {}", r.line_no + 1), e))?;
        if n == 0 {
            if !r.stack.is_empty() || r.have_event {
                r.after_event()?;
            }
            break;
        }
        r.line_no += 1;
        r.stats.lines += 1;
        let text = String::from_utf8_lossy(&raw);
        if matches!(text, std::borrow::Cow::Owned(_)) {
            r.stats.repaired += 1;
        }
        if text.starts_with('#') {
            header_comment(text.trim_end(), &mut r.stats.clock);
            continue;
        }
        let line = text.trim_end();
        if line.is_empty() {
            r.after_event()?;
        } else if r.in_event {
            r.on_stack_line(line)?;
        } else {
            r.on_event_line(line)?;
            if !r.in_event && r.have_event {
                // A header carrying its one frame: the sample ends here (a
                // frame inferno drops leaves the period to the next header).
                if r.stack.is_empty() {
                    let period = r.period;
                    r.after_event()?;
                    r.period = period;
                } else {
                    r.after_event()?;
                }
            }
        }
    }
    let Reader { stats, per_sample_weight, .. } = r;
    if stats.samples > 0 && stats.empty == stats.samples && stats.frames_without_dso > 0 {
        let (line, text) = stats.first_without_dso.clone().unwrap_or_default();
        return Err(IngestError::BadLine {
            file: file.into(),
            line,
            message: format!(
                "{} samples but no frame inferno-collapse-perf can read ({text:?}): a frame needs its dso in parentheses, as `perf script` prints by default (with -F, add dso: -F comm,pid,tid,time,event,ip,sym,dso)",
                stats.samples
            ),
        });
    }
    if stats.samples == 0 {
        return Err(IngestError::invalid(
            file,
            "no perf samples: expected `perf script` output (a `comm pid time: period event:` header, then one indented frame per line)",
        ));
    }
    if !stats.periods.is_empty() {
        let clock = stats.event.as_deref().is_some_and(|e| e.starts_with("cpu-clock") || e.starts_with("task-clock"));
        b.weight_unit = Some(if clock { "ns" } else { "period" }.into());
    }
    if let Some(e) = &stats.event {
        b.tools.insert("perf event".into(), e.clone());
    }
    let mut p = b.finish();
    if let Some(s) = p.samples.as_mut() {
        if stats.timed != stats.samples {
            // Some headers had no time: per-sample times would not line up.
            p.samples = None;
        } else if stats.varying_periods && p.weight_unit.is_some() {
            s.weight = per_sample_weight;
        }
    }
    if let Some(s) = &p.samples {
        let first = p.start_us.unwrap_or(0);
        let last = first + s.dt_us.iter().skip(1).sum::<i64>();
        p.duration_us = Some((last - first).max(0) as f64);
    }
    p.clock = Some(match stats.clock.clockid.as_deref() {
        Some("monotonic") => "CLOCK_MONOTONIC".into(),
        Some(other) => format!("perf clockid {other}"),
        None => "perf".into(),
    });
    if let Some((unix_us, clock_us)) = stats.clock.reference {
        p.clock_ref = Some(super::ClockRef { unix_us, clock_us });
    }
    Ok((p, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_headers_as_inferno_does() {
        let (comm, pid, tid, end) =
            event_line_parts("V8 WorkerThread 24636/25607 [000] 94564.109216: cycles:").unwrap();
        assert_eq!((comm, pid, tid), ("V8 WorkerThread", "24636", "25607"));
        assert_eq!(&"V8 WorkerThread 24636/25607 [000] 94564.109216: cycles:"[end..], "[000] 94564.109216: cycles:");
        assert_eq!(event_line_parts("           false 39654 19115.489713:  1 cycles:u:").unwrap().0, "false");
        assert!(event_line_parts("\t401b94 main+0x1c (./x)").is_none());
        assert_eq!(header_time_us(" [000] 6108.381101:   10101010 cpu-clock:ppp: "), Some(6_108_381_101));
        assert_eq!(header_time_us(" 2026-11-30 11:10:32.455876  6932.965439: cpu-clock: "), Some(6_932_965_439));
        assert_eq!(seconds_to_us("1.5"), Some(1_500_000));
        assert_eq!(seconds_to_us("6932.831257377"), Some(6_932_831_257));
    }

    #[test]
    fn tidies_names_as_inferno_does() {
        assert_eq!(tidy_generic("net/http.(*Client).Do"), "net/http.(*Client).Do");
        assert_eq!(tidy_generic("foo(int, char)"), "foo");
        assert_eq!(tidy_generic("(anonymous namespace)::f(int)"), "(anonymous namespace)::f");
        assert_eq!(
            tidy_generic("std::function<int (int, int)>::operator()(int, int) const"),
            "std::function<int (int, int)>::operator"
        );
        assert_eq!(tidy_generic("a;b"), "a:b");
        assert_eq!(
            fix_rust_symbol("std::sys::unix::fs::File::open::hb90e1c1c787080f0"),
            "std::sys::unix::fs::File::open"
        );
        assert_eq!(
            fix_rust_symbol(
                "_$LT$std..fs..ReadDir$u20$as$u20$core..iter..traits..iterator..Iterator$GT$::next::hc14f1750ca79129b"
            ),
            "<std::fs::ReadDir as core::iter::traits::iterator::Iterator>::next"
        );
        assert_eq!(fix_rust_symbol("_ZN4testE"), "_ZN4testE");
        // A multi-byte character where the hash would start: left alone (inferno 0.12.8 panics).
        let s = format!("{}é{}", "x".repeat(3), "0123456789abcde");
        assert_eq!(fix_rust_symbol(&s), s);
        assert!(is_kernel("[kernel.kallsyms]") && is_kernel("/boot/vmlinux-5.4") && !is_kernel("[unknown]"));
    }

    #[test]
    fn counts_samples_weights_and_times() {
        let text = "# clockid: monotonic (1)\n# reference time: 2026-11-30 11:10:32.321694 = 1796037032.321694 (TOD) = 6932.831257377 (monotonic)\nnode 1 10.000001: 100 cpu-clock:\n\t abc work (/x)\n\t abd main (/x)\n\nnode 1 10.000002: 300 cpu-clock:\n\t abc work (/x)\n\t abd main (/x)\n\nnode 1 10.000010: 100 cpu-clock:\n\t abc (skipped) (/x)\n\n";
        let (p, stats) = ingest_capped(text.as_bytes(), "p.txt", "p", 1 << 20).unwrap();
        p.validate().unwrap();
        assert_eq!((stats.samples, stats.empty, stats.varying_periods), (3, 1, true));
        assert_eq!(p.total_samples, 3);
        assert_eq!(p.folded(true), vec!["node;main;work 400"]);
        assert_eq!(p.folded(false), vec!["node;main;work 2"]);
        let s = p.samples.as_ref().unwrap();
        assert_eq!(s.dt_us, vec![0, 1, 8]);
        assert_eq!(s.weight, vec![100, 300, 100]);
        assert_eq!(p.clock.as_deref(), Some("CLOCK_MONOTONIC"));
        assert_eq!(
            p.clock_ref,
            Some(super::super::ClockRef { unix_us: 1_796_037_032_321_694, clock_us: 6_932_831_257 })
        );
    }

    #[test]
    fn unknown_lines_are_reported() {
        let text = "node 1 10.000001: 100 cpu-clock:\n\t abc f (/x)\n\nthis is not perf\n";
        let e = ingest(text.as_bytes(), "p.txt", "p").unwrap_err();
        assert!(e.to_string().contains("p.txt: line 4: not a `perf script` line"), "{e}");
        let e = ingest("".as_bytes(), "e.txt", "e").unwrap_err();
        assert!(e.to_string().contains("no perf samples"), "{e}");
    }

    /// inferno's own fold of a text (one thread), as lines.
    fn inferno_lines(text: &str) -> Vec<String> {
        use inferno::collapse::Collapse;
        let mut o = inferno::collapse::perf::Options::default();
        o.nthreads = 1;
        let mut out = Vec::new();
        inferno::collapse::perf::Folder::from(o).collapse(text.as_bytes(), &mut out).expect("inferno");
        String::from_utf8(out).expect("utf-8").lines().map(String::from).collect()
    }

    use proptest::prelude::*;

    /// Pieces of `perf script` text, tricky ones included: comm names with
    /// spaces or digits, pid/tid, cpu, periods or none, two event types,
    /// frames on the header line, offsets, inlined `->` chains, `[unknown]`
    /// in a module, skipped `(…)` symbols, templates, Go and C++ names, Java
    /// names, Rust hashes, `;`, weird lines, comments and blank lines.
    fn header() -> impl Strategy<Value = String> {
        let comm =
            prop::sample::select(vec!["node", "java", "V8 WorkerThread", "perf_stacks", "kworker/0:1", "a b c", "x1"]);
        let ids = prop::sample::select(vec!["123", "12/34", "7/7", "0"]);
        let cpu = prop::sample::select(vec!["", "[000] ", "[012] "]);
        let period = prop::sample::select(vec!["", "1 ", "250000 ", "10101010 ", "34467 "]);
        let event =
            prop::sample::select(vec!["cpu-clock:", "cycles:", "cycles:uppp:", "instructions:", "cpu-clock:ppp: "]);
        let single = prop::sample::select(vec![
            "",
            "",
            "",
            "  7fa68b1f2d84 _dl_start+0x4 (/usr/lib/ld-2.31.so)",
            "  ffffffff9b201293 [unknown] ([unknown])",
        ]);
        let lead = prop::sample::select(vec!["", "", "           "]);
        (lead, comm, ids, cpu, 0u32..99_999, 0u32..999_999, period, event, single).prop_map(
            |(lead, comm, ids, cpu, sec, us, period, event, single)| {
                format!("{lead}{comm} {ids} {cpu}{sec}.{us:06}: {period}{event}{single}")
            },
        )
    }

    fn frame() -> impl Strategy<Value = String> {
        let sym = prop::sample::select(vec![
            "main",
            "main+0x1f",
            "[unknown]",
            "(anonymous namespace)::f(int)",
            "std::function<int (int, int)>::operator()(int, int) const",
            "net/http.(*Client).Do",
            "Lorg/mozilla/javascript/ContextFactory;.call(Lorg/mozilla/javascript/ContextAction;)Ljava/lang/Object;",
            "std::sys::unix::fs::File::open::hb90e1c1c787080f0",
            "_$LT$std..fs..ReadDir$u20$as$u20$core..iter..Iterator$GT$::next::hc14f1750ca79129b",
            "a->b->c",
            "inl->inl2_[i]",
            "(deleted)",
            "JS:*fib /a/x.js:12:25",
            "f;g",
            "foo+0x",
            "x+0xzz",
            "caf\u{e9}",
            " ",
        ]);
        let module = prop::sample::select(vec![
            "(/usr/bin/node)",
            "([kernel.kallsyms])",
            "([unknown])",
            "(/tmp/perf-1.map)",
            "(/lib/x.so.6)",
            "(x.ko)",
            "()",
        ]);
        let addr = prop::sample::select(vec!["7fa98400a644", "0", "ffffffff81b08419"]);
        let indent = prop::sample::select(vec!["\t", "\t    ", "        "]);
        (indent, addr, sym, module).prop_map(|(i, a, s, m)| format!("{i}{a} {s} {m}"))
    }

    fn script() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            6 => frame(),
            2 => header(),
            2 => Just(String::new()),
            1 => Just("# a comment".to_string()),
            1 => Just("\t   THIS_IS_A_WEIRD_LINE".to_string()),
        ];
        (header(), prop::collection::vec(line, 0..40)).prop_map(|(h, lines)| {
            let mut s = h;
            s.push('\n');
            for l in lines {
                s.push_str(&l);
                s.push('\n');
            }
            s
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn folds_exactly_as_inferno(text in script()) {
            let theirs = inferno_lines(&text);
            match ingest_capped(text.as_bytes(), "t", "t", 1 << 20) {
                Ok((p, _)) => {
                    p.validate().unwrap();
                    prop_assert_eq!(p.folded(true), theirs);
                }
                Err(e) => {
                    // Only a line that is no perf line at all, or no sample, is refused.
                    let m = e.to_string();
                    prop_assert!(m.contains("not a `perf script` line") || m.contains("no perf samples"), "{}", m);
                }
            }
        }

        #[test]
        fn folds_like_inferno_on_scrambled_text(text in "[a-c0-9 :/()#\t\n>;.\\[\\]+x-]{0,300}") {
            let text = format!("node 1 1.000001: 5 cpu-clock:\n{text}");
            if let Ok((p, _)) = ingest_capped(text.as_bytes(), "t", "t", 1 << 20) {
                p.validate().unwrap();
                prop_assert_eq!(p.folded(true), inferno_lines(&text));
            }
        }
    }
}
