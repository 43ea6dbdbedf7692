//! How every number is written, once: counts, percentages, changes, shares
//! and a profile's amounts (samples, or its weight's unit). `inspect`, the
//! Markdown and SVG exports, `diff` and the viewer all format through here,
//! so one figure reads the same everywhere. Durations and bytes in k6's
//! style are [`crate::k6::text::format_ms`] and [`crate::k6::text::format_bytes`].

/// A ratio (0..1) as a percentage, truncated (not rounded) to two decimals,
/// as k6 prints its rates: 28 of 967 is `2.89%`, not `2.90%`.
pub fn pct(ratio: f64) -> String {
    if !ratio.is_finite() {
        return format!("{ratio}");
    }
    // The small nudge keeps a ratio whose product lands a hair under an exact
    // hundredth (0.29 × 10,000 = 2899.9999…) on that hundredth, as k6's own does.
    let hundredths = if ratio >= 0.0 { (ratio * 10_000.0 + 1e-9).floor() } else { (ratio * 10_000.0 - 1e-9).ceil() };
    format!("{:.2}%", hundredths / 100.0)
}

/// `part` of `whole` as a percentage ([`pct`]); `0.00%` of nothing.
pub fn share(part: u64, whole: u64) -> String {
    pct(if whole == 0 { 0.0 } else { part as f64 / whole as f64 })
}

/// A signed relative change (a fraction: 0.31 is `+31.00%`), rounded to two decimals.
pub fn pct_change(rel: f64) -> String {
    let r = (rel * 10_000.0).round() / 100.0;
    if r == 0.0 {
        "+0.00%".into()
    } else {
        format!("{r:+.2}%")
    }
}

/// A change of a share in percentage points (a fraction of 1: 0.1091 is `+10.91 pts`).
pub fn points(delta: f64) -> String {
    let r = (delta * 10_000.0).round() / 100.0;
    if r == 0.0 {
        "+0.00 pts".into()
    } else {
        format!("{r:+.2} pts")
    }
}

/// An unsigned integer with thousands separators: `1,598`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count with thousands separators (`1,598`); a number that is not a whole
/// count is written plainly.
pub fn count(v: f64) -> String {
    if !v.is_finite() || v.fract() != 0.0 || v.abs() >= 1e15 {
        return crate::k6::text::format_number(v);
    }
    let g = group(v.abs() as u64);
    if v < 0.0 {
        format!("-{g}")
    } else {
        g
    }
}

/// An amount in a profile's unit, as its tools print it: time (`us`, `ns`,
/// `ms`) in ms or s, samples and other counts in full with thousands
/// separators and the unit's name (`samples`, `events (period)` for perf's
/// periods, `bytes`…); no unit, the number alone.
pub fn amount(v: u64, unit: &str) -> String {
    let ms = match unit {
        "us" => Some(v as f64 / 1e3),
        "ns" => Some(v as f64 / 1e6),
        "ms" => Some(v as f64),
        _ => None,
    };
    match ms {
        Some(ms) if ms >= 1000.0 => format!("{:.2} s", ms / 1000.0),
        Some(ms) => format!("{ms:.2} ms"),
        None => match unit {
            "" => group(v),
            "period" => format!("{} events (period)", group(v)),
            _ => format!("{} {unit}", group(v)),
        },
    }
}

/// What a profile's unit counts, for a column head or a switch: `time` for
/// wall or CPU time (`us`, `ns`, `ms`), `event period` for perf's periods,
/// `samples` for none, else the unit itself (`bytes`, `cycles`).
pub fn unit_name(unit: &str) -> &str {
    match unit {
        "us" | "ns" | "ms" => "time",
        "period" => "event period",
        "" | "samples" => "samples",
        other => other,
    }
}

/// `s` cut to at most `max` characters, `…` marking the cut (a title in a
/// list of runs, a shard's title in a merged bundle).
pub fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", &s[..i]),
    }
}

/// `s` with its control characters (C0, DEL, C1) written as visible text —
/// `\x1b`, `\n`, `\u{9b}` — and, when it has any, its backslashes doubled,
/// so the text reads back unambiguously. For a terminal (an escape sequence
/// in a bundle's title must be shown, not run), folded stacks (a newline
/// would split a line) and XML (most control characters are not allowed
/// there at all). Borrowed as it is when it has none.
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    // U+FFFE and U+FFFF: not characters (XML refuses them), shown as their
    // code; so are the invisible marks that reorder or split a line (bidi
    // controls, zero-width space, line and paragraph separators).
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{fffe}' | '\u{ffff}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2028}' | '\u{2029}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if hidden(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_truncate_as_k6_does() {
        // 28 failures of 967 requests: 2.8955…% truncated, as k6 prints http_req_failed.
        assert_eq!(pct(28.0 / 967.0), "2.89%");
        assert_eq!(pct(0.29), "29.00%");
        assert_eq!(pct(1.0), "100.00%");
        assert_eq!(pct(0.0), "0.00%");
        assert_eq!(share(28, 967), "2.89%");
        assert_eq!(share(3, 0), "0.00%");
    }

    #[test]
    fn changes_are_signed() {
        assert_eq!(pct_change(0.3096), "+30.96%");
        assert_eq!(pct_change(-0.5), "-50.00%");
        assert_eq!(pct_change(0.0), "+0.00%");
        assert_eq!(points(0.1091), "+10.91 pts");
        assert_eq!(points(-0.00001), "+0.00 pts");
    }

    #[test]
    fn control_characters_become_visible_text() {
        // Hand-made: an OSC 52 clipboard write and a clear-screen, as a hostile title would hold them.
        assert_eq!(escape_controls("a\x1b]52;c;aGk=\x07b"), "a\\x1b]52;c;aGk=\\x07b");
        assert_eq!(escape_controls("\x1b[2J\x1b[H"), "\\x1b[2J\\x1b[H");
        assert_eq!(escape_controls("csi\u{9b}31m"), "csi\\u{9b}31m");
        assert_eq!(escape_controls("two\nlines"), "two\\nlines");
        assert!(matches!(escape_controls("GET /a — ✓"), std::borrow::Cow::Borrowed(_)));
        // A backslash stays as it is unless the text also holds a control character.
        assert_eq!(escape_controls("C:\\dir"), "C:\\dir");
        assert_eq!(escape_controls("\\x1b\x1b"), "\\\\x1b\\x1b");
    }

    #[test]
    fn counts_and_amounts() {
        assert_eq!(count(1598.0), "1,598");
        assert_eq!(count(999.0), "999");
        assert_eq!(count(-1_000_000.0), "-1,000,000");
        assert_eq!(count(2.5), "2.5");
        assert_eq!(amount(0, "samples"), "0 samples");
        assert_eq!(amount(1_234_567, "cycles"), "1,234,567 cycles");
        assert_eq!(amount(4_000, "period"), "4,000 events (period)");
        assert_eq!(amount(999, ""), "999");
        assert_eq!(amount(1_500_000, "us"), "1.50 s");
        assert_eq!(amount(2_000_000, "ns"), "2.00 ms");
    }
}
