//! Terminal output as plain text, for `paddock logs`.
//!
//! Two tools: [`render`] replays bytes through a terminal model with scrollback, which gets
//! cursor movement and redraws right (what a person saw); [`Plain`] strips escape sequences
//! from a live stream, line by line, for `--follow`.

use crate::model::ScreenModel;
use paddock_proto::Size;

/// The last `lines` lines of text that `bytes` leave on a terminal of `size`, scrollback
/// included, without trailing blank lines.
pub fn render(bytes: &[u8], size: Size, lines: usize) -> Vec<String> {
    let mut model = ScreenModel::with_scrollback(size, lines);
    model.feed(bytes);
    let mut parser_screen = model.screen().clone();
    let mut out = Vec::new();
    parser_screen.set_scrollback(usize::MAX);
    let back = parser_screen.scrollback();
    for k in (1..=back).rev() {
        parser_screen.set_scrollback(k);
        if let Some(row) = parser_screen.rows(0, size.cols).next() {
            out.push(row.trim_end().to_owned());
        }
    }
    parser_screen.set_scrollback(0);
    out.extend(
        parser_screen
            .rows(0, size.cols)
            .map(|r| r.trim_end().to_owned()),
    );
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    let skip = out.len().saturating_sub(lines);
    out.split_off(skip)
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum State {
    #[default]
    Text,
    Esc,
    Csi,
    /// OSC, DCS, APC, PM, SOS: a string ended by BEL or ESC \.
    Str,
    StrEsc,
}

/// A streaming escape-sequence stripper: feed bytes, get complete lines.
#[derive(Debug, Default)]
pub struct Plain {
    state: State,
    line: Vec<u8>,
}

impl Plain {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; complete lines (without their line ending) are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<String>) {
        for &b in bytes {
            match self.state {
                State::Text => match b {
                    0x1b => self.state = State::Esc,
                    b'\n' => out.push(self.take_line()),
                    // A bare carriage return rewrites the line (progress bars); keep the last.
                    b'\r' => {}
                    0x08 => {
                        self.line.pop();
                    }
                    b'\t' => self.line.push(b),
                    b if b < 0x20 || b == 0x7f => {}
                    b => self.line.push(b),
                },
                State::Esc => {
                    self.state = match b {
                        b'[' => State::Csi,
                        b']' | b'P' | b'_' | b'^' | b'X' => State::Str,
                        // Intermediate bytes (ESC ( B and the like): one more byte follows.
                        0x20..=0x2f => State::Esc,
                        _ => State::Text,
                    }
                }
                State::Csi => {
                    if (0x40..=0x7e).contains(&b) {
                        self.state = State::Text;
                    }
                }
                State::Str => match b {
                    0x07 => self.state = State::Text,
                    0x1b => self.state = State::StrEsc,
                    _ => {}
                },
                State::StrEsc => self.state = if b == b'\\' { State::Text } else { State::Str },
            }
        }
    }

    /// The unfinished last line, if any.
    pub fn finish(&mut self) -> Option<String> {
        (!self.line.is_empty()).then(|| self.take_line())
    }

    fn take_line(&mut self) -> String {
        let s = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_shows_what_a_terminal_shows() {
        let size = Size { cols: 20, rows: 3 };
        let bytes =
            b"one\r\ntwo\r\nthree\r\nfour\r\n\x1b[1mfive\x1b[0m\r\nprogress 10%\rprogress 99%\r\n";
        assert_eq!(
            render(bytes, size, 4),
            ["three", "four", "five", "progress 99%"]
        );
        assert_eq!(render(bytes, size, 100).len(), 6);
    }

    #[test]
    fn plain_strips_sequences_across_chunk_boundaries() {
        let mut p = Plain::new();
        let mut out = Vec::new();
        let input = b"\x1b[31mred\x1b[0m and \x1b]2;title\x07plain\r\nnext\x1b[";
        for chunk in input.chunks(3) {
            p.feed(chunk, &mut out);
        }
        p.feed(b"2Kline\n", &mut out);
        assert_eq!(out, ["red and plain", "nextline"]);
        assert_eq!(p.finish(), None);
    }
}
