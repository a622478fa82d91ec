//! The terminal model: what the session's screen looks like right now, kept off the hot path.
//!
//! [`ScreenModel`] is the screen itself: a `vt100` parser (chosen by measurement; see
//! docs/design/holder.md) that redraws as a [`Snapshot`] or reads as [`ScreenText`]. Feeding
//! it fast-forwards through long runs of plain text instead of parsing them whole (`skim`).
//! In the holder it lives on a thread of its own behind a [`ModelHandle`] (`thread`), so
//! the PTY reader never waits for it.

mod skim;
mod thread;

pub use thread::{ModelGone, ModelHandle};

use paddock_proto::Size;
use skim::Skim;
use std::num::NonZeroU16;

/// Lines of scrollback the model keeps; history lives in the byte ring, not here.
const MODEL_SCROLLBACK: usize = 0;

/// A redraw of the screen as it was once the first `offset` bytes had been written.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub offset: u64,
    pub size: Size,
    pub data: Vec<u8>,
}

/// Records the window title, which vt100 reports through a callback.
#[derive(Default)]
struct Titles {
    title: String,
}

impl vt100::Callbacks for Titles {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        // Control characters in a title could end the OSC early when replayed.
        self.title = String::from_utf8_lossy(title)
            .chars()
            .filter(|c| !c.is_control())
            .take(256)
            .collect();
    }
}

/// The screen model itself, independent of threads (also used by `paddock logs` and tests).
pub struct ScreenModel {
    parser: vt100::Parser<Titles>,
    /// How many bytes of the stream have been fed.
    offset: u64,
    /// How many of them were parsed (the rest were fast-forwarded through).
    parsed: u64,
    /// Fast-forwarding through plain runs, with what proves it exact (`None`: every byte is
    /// parsed, as with scrollback, which keeps what a fast-forward would skip).
    skim: Option<Skim>,
}

fn nz(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

impl ScreenModel {
    pub fn new(size: Size) -> Self {
        Self::with_scrollback(size, MODEL_SCROLLBACK)
    }

    pub fn with_scrollback(size: Size, scrollback: usize) -> Self {
        let mut model = Self::eager(size, scrollback);
        if scrollback == 0 {
            model.skim = Some(Skim::new(nz(size.rows).get()));
        }
        model
    }

    /// A model that parses every byte (to compare the fast-forward with).
    pub fn eager(size: Size, scrollback: usize) -> Self {
        Self {
            parser: vt100::Parser::new_with_callbacks(
                nz(size.rows),
                nz(size.cols),
                scrollback,
                Titles::default(),
            ),
            offset: 0,
            parsed: 0,
            skim: None,
        }
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How many of the bytes fed were parsed; the others were fast-forwarded through.
    pub fn parsed(&self) -> u64 {
        self.parsed
    }

    pub fn resize(&mut self, size: Size) {
        self.parser
            .screen_mut()
            .set_size(nz(size.rows), nz(size.cols));
        if let Some(skim) = &mut self.skim {
            skim.set_rows(nz(size.rows).get());
        }
    }

    pub fn size(&self) -> Size {
        let (rows, cols) = self.parser.screen().size();
        Size {
            cols: cols.get(),
            rows: rows.get(),
        }
    }

    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    pub fn title(&self) -> &str {
        &self.parser.callbacks().title
    }

    /// The screen as text, one string per row.
    pub fn text(&self) -> ScreenText {
        let screen = self.parser.screen();
        let (_, cols) = screen.size();
        ScreenText {
            rows: screen
                .rows(0, cols.get())
                .map(|r| r.trim_end().to_owned())
                .collect(),
            offset: self.offset,
            title: self.title().to_owned(),
        }
    }

    /// Bytes that, written to a terminal of the same size, reproduce this screen: the
    /// alternate-screen mode, the contents with colours and attributes, the cursor, the input
    /// modes (keypad, cursor keys, bracketed paste, mouse) and the title.
    pub fn snapshot(&self) -> Snapshot {
        let screen = self.parser.screen();
        let mut out = String::new();
        out.push_str(if screen.alternate_screen() {
            "\x1b[?1049h"
        } else {
            "\x1b[?1049l"
        });
        out.push_str(&screen.state_formatted());
        if !self.title().is_empty() {
            out.push_str("\x1b]2;");
            out.push_str(self.title());
            out.push('\x07');
        }
        Snapshot {
            offset: self.offset,
            size: self.size(),
            data: out.into_bytes(),
        }
    }
}

/// The screen as plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenText {
    /// One string per row, trailing blanks trimmed.
    pub rows: Vec<String>,
    /// The output offset this screen reflects.
    pub offset: u64,
    pub title: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_replayed_into_a_fresh_model_gives_the_same_screen() {
        let size = Size { cols: 40, rows: 6 };
        let mut model = ScreenModel::new(size);
        model.feed(b"\x1b]2;my title\x07plain \x1b[1;31mbold red\x1b[0m\r\n");
        model.feed("wide: 漢字 ✓\r\n\x1b[44mblue bg\x1b[0m line\r\n".as_bytes());
        model.feed(b"\x1b[?1h\x1b[?2004h\x1b[3;5H");
        let snap = model.snapshot();
        assert_eq!(snap.offset, model.offset());
        let mut replay = ScreenModel::new(size);
        replay.feed(&snap.data);
        assert_eq!(replay.screen().contents(), model.screen().contents());
        assert_eq!(
            replay.screen().contents_formatted(),
            model.screen().contents_formatted()
        );
        assert_eq!(replay.screen().cursor_position(), (2, 4));
        assert!(replay.screen().application_cursor());
        assert!(replay.screen().bracketed_paste());
        assert_eq!(replay.title(), "my title");
    }

    #[test]
    fn the_alternate_screen_survives_a_snapshot() {
        let size = Size { cols: 20, rows: 4 };
        let mut model = ScreenModel::new(size);
        model.feed(b"main screen\r\n\x1b[?1049h\x1b[Hfull screen app");
        let mut replay = ScreenModel::new(size);
        replay.feed(&model.snapshot().data);
        assert!(replay.screen().alternate_screen());
        assert_eq!(replay.screen().contents(), "full screen app");
    }

    #[test]
    fn titles_cannot_smuggle_control_characters() {
        let mut model = ScreenModel::new(Size { cols: 20, rows: 4 });
        model.feed(b"\x1b]2;a\x1bb\x07");
        assert!(model.title().chars().all(|c| !c.is_control()));
    }
}
