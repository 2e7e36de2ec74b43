//! Everything pimlab prints may reach a terminal, and some of it is text other people chose: a
//! justification, a display name, a hook's message. A control character in it (ESC `[2J` clears
//! the screen) must be shown, not obeyed. [`Escaped`] writes C0 controls other than newline and
//! tab, DEL, and the C1 controls as JSON-style escapes (`\u001b`, `\u009b`), which read plainly
//! in a table and keep `--json` output valid JSON (serde_json escapes C0 itself but leaves DEL and
//! C1 raw). The store keeps the text as given.

use std::io::{self, Write};

/// A writer that shows control characters instead of sending them.
pub struct Escaped<'a> {
    inner: &'a mut dyn Write,
    /// The last byte written was 0xC2, the first byte of a C1 control in UTF-8 (U+0080-U+009F),
    /// held back until the next byte says what it starts.
    pending_c2: bool,
}

impl<'a> Escaped<'a> {
    pub fn new(inner: &'a mut dyn Write) -> Self {
        Escaped { inner, pending_c2: false }
    }

    fn release_pending(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.pending_c2) {
            out.push(0xC2);
        }
    }
}

impl Write for Escaped<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut out = Vec::with_capacity(buf.len());
        for &b in buf {
            if self.pending_c2 {
                self.pending_c2 = false;
                if (0x80..=0x9F).contains(&b) {
                    out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                    continue;
                }
                out.push(0xC2);
            }
            match b {
                b'\n' | b'\t' => out.push(b),
                0xC2 => self.pending_c2 = true,
                0x00..=0x1F | 0x7F => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
                _ => out.push(b),
            }
        }
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut out = Vec::new();
        self.release_pending(&mut out);
        self.inner.write_all(&out)?;
        self.inner.flush()
    }
}

impl Drop for Escaped<'_> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(chunks: &[&[u8]]) -> String {
        let mut buf = Vec::new();
        {
            let mut w = Escaped::new(&mut buf);
            for c in chunks {
                w.write_all(c).unwrap();
            }
        }
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn escape_sequences_and_bells_are_shown_not_sent() {
        assert_eq!(shown(&[b"why: \x1b[2J\x07 done\n"]), "why: \\u001b[2J\\u0007 done\n");
        assert_eq!(shown(&[b"a\rb\tc\x7f"]), "a\\u000db\tc\\u007f");
    }

    #[test]
    fn c1_controls_are_shown_even_when_split_across_writes() {
        assert_eq!(shown(&["x\u{9b}2J".as_bytes()]), "x\\u009b2J");
        assert_eq!(shown(&[b"x\xc2", b"\x9b2J"]), "x\\u009b2J");
    }

    #[test]
    fn json_with_escaped_controls_stays_json() {
        let value = serde_json::json!({"why": "a\u{1b}b\u{7f}c\u{9b}d"});
        let text = shown(&[value.to_string().as_bytes()]);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), value);
    }

    #[test]
    fn other_text_passes_unchanged() {
        let text = "Zoë Ångström — ¢ £ ¥ 漢字 🙂\n";
        assert_eq!(shown(&[text.as_bytes()]), text);
        let bytes = text.as_bytes();
        let (a, b) = bytes.split_at(2);
        assert_eq!(shown(&[a, b]), text);
    }
}
