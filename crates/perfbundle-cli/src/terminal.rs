//! Text from a bundle, a server or a file, made safe for a terminal: a
//! title can hold an escape sequence (an OSC 52 clipboard write, a clear
//! screen), which must be shown, not run. Control characters (C0, DEL, C1)
//! are written escaped (`\x1b`, `\u{9b}`), and so is the backslash that
//! starts such an escape, so the text reads back unambiguously.

/// `s` with every control character escaped.
pub fn terminal_text(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A text of several lines with every control character but the line
/// ends escaped ([`terminal_text`] per line).
pub fn terminal_text_lines(s: &str) -> String {
    s.split('\n').map(terminal_text).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_run_as_text() {
        // Hand-made: an OSC 52 clipboard write and a clear-screen, as a hostile title would hold them.
        assert_eq!(terminal_text("a\x1b]52;c;aGk=\x07b"), "a\\x1b]52;c;aGk=\\x07b");
        assert_eq!(terminal_text("\x1b[2J\x1b[H"), "\\x1b[2J\\x1b[H");
        assert_eq!(terminal_text("csi\u{9b}31m"), "csi\\u{9b}31m");
        assert_eq!(terminal_text("two\nlines"), "two\\nlines");
        assert_eq!(terminal_text("GET /products/:id — ✓ 200"), "GET /products/:id — ✓ 200");
        // A backslash stays as it is unless the text also holds a control character.
        assert_eq!(terminal_text("C:\\dir"), "C:\\dir");
        assert_eq!(terminal_text("\\x1b\x1b"), "\\\\x1b\\x1b");
    }
}
