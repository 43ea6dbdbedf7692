//! Text from a bundle, a server or a file, made safe for a terminal: a
//! title can hold an escape sequence (an OSC 52 clipboard write, a clear
//! screen), which must be shown, not run. Control characters (C0, DEL, C1)
//! are written escaped (`\x1b`, `\u{9b}`), and so is the backslash that
//! starts such an escape, so the text reads back unambiguously. And tables
//! of any width, aligned.

/// `s` with every control character escaped (the core's
/// [`perfbundle_core::format::escape_controls`]).
pub fn terminal_text(s: &str) -> String {
    perfbundle_core::format::escape_controls(s).into_owned()
}

/// A path for the terminal: as `display()` shows it, control characters escaped.
pub fn path(p: &std::path::Path) -> String {
    terminal_text(&p.display().to_string())
}

/// A text of several lines with every control character but the line
/// ends escaped ([`terminal_text`] per line).
pub fn terminal_text_lines(s: &str) -> String {
    s.split('\n').map(terminal_text).collect::<Vec<_>>().join("\n")
}

/// Rows of cells as lines with aligned columns (`right`: the columns aligned
/// right), padded by hand: a cell of any length (a 100,000-character title)
/// is laid out, where `format!`'s width would panic past 65,535.
pub fn aligned_rows<R: AsRef<[String]>>(rows: &[R], right: &[usize]) -> Vec<String> {
    let n = rows.iter().map(|r| r.as_ref().len()).max().unwrap_or(0);
    let mut widths = vec![0usize; n];
    for r in rows {
        for (i, x) in r.as_ref().iter().enumerate() {
            widths[i] = widths[i].max(x.chars().count());
        }
    }
    rows.iter()
        .map(|r| {
            let r = r.as_ref();
            let mut s = String::new();
            for (i, x) in r.iter().enumerate() {
                let pad = " ".repeat(widths[i] - x.chars().count());
                let last = i + 1 == r.len();
                if right.contains(&i) {
                    s.push_str(&pad);
                    s.push_str(x);
                } else {
                    s.push_str(x);
                    if !last {
                        s.push_str(&pad);
                    }
                }
                if !last {
                    s.push_str("  ");
                }
            }
            s.trim_end().to_string()
        })
        .collect()
}

/// [`aligned_rows`] of rows of `N` cells.
pub fn aligned<const N: usize>(rows: &[[String; N]], right: &[usize]) -> Vec<String> {
    aligned_rows(rows, right)
}

/// Writes `value` as pretty JSON for a terminal: as serde_json does, with
/// DEL and the C1 controls (U+007F–U+009F) escaped too (`\u009b` is a
/// terminal's CSI), so a bundle's text never reaches the reader's terminal raw.
pub fn json_pretty<T: serde::Serialize + ?Sized>(w: &mut dyn std::io::Write, value: &T) -> std::io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, TerminalJson(serde_json::ser::PrettyFormatter::new()));
    value.serialize(&mut ser).map_err(std::io::Error::other)
}

/// serde_json's pretty formatter, escaping DEL and C1 controls in strings.
struct TerminalJson<'a>(serde_json::ser::PrettyFormatter<'a>);

impl serde_json::ser::Formatter for TerminalJson<'_> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(&mut self, w: &mut W, fragment: &str) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if ('\u{7f}'..='\u{9f}').contains(&c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                write!(w, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_of_any_width_align() {
        let long = "t".repeat(70_000);
        let rows = vec![vec!["a".to_string(), "1".into()], vec![long.clone(), "22".into()]];
        let lines = aligned_rows(&rows, &[1]);
        assert_eq!(lines[0], format!("a{}   1", " ".repeat(69_999)));
        assert_eq!(lines[1], format!("{long}  22"));
    }
}
