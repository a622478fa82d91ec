//! The common face each candidate crate is wrapped in, and the normalised
//! views of screen and state used to compare a model with its restored copy.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    Default,
    Idx(u8),
    Rgb(u8, u8, u8),
}

/// One visible cell. Wide-character continuation cells are left out, and an
/// empty cell reads as a single space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellView {
    pub text: String,
    pub fg: Colour,
    pub bg: Colour,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub inverse: bool,
}

/// Non-cell state. `None` means the crate does not expose (or track) it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateView {
    /// (row, col), zero-based.
    pub cursor: (usize, usize),
    pub cursor_visible: bool,
    pub alt_screen: Option<bool>,
    pub app_cursor: Option<bool>,
    pub app_keypad: Option<bool>,
    pub bracketed_paste: Option<bool>,
    pub mouse: Option<String>,
    pub title: Option<String>,
}

impl StateView {
    /// Names of the fields that differ between two states.
    pub fn diff(&self, other: &Self) -> Vec<&'static str> {
        let checks = [
            ("cursor", self.cursor == other.cursor),
            (
                "cursor-visible",
                self.cursor_visible == other.cursor_visible,
            ),
            ("alt-screen", self.alt_screen == other.alt_screen),
            ("app-cursor", self.app_cursor == other.app_cursor),
            ("app-keypad", self.app_keypad == other.app_keypad),
            (
                "bracketed-paste",
                self.bracketed_paste == other.bracketed_paste,
            ),
            ("mouse", self.mouse == other.mouse),
            ("title", self.title == other.title),
        ];
        checks
            .iter()
            .filter(|(_, same)| !same)
            .map(|(name, _)| *name)
            .collect()
    }

    /// Names of the fields the crate does not track.
    pub fn untracked(&self) -> Vec<&'static str> {
        let tracked = [
            ("alt-screen", self.alt_screen.is_some()),
            ("app-cursor", self.app_cursor.is_some()),
            ("app-keypad", self.app_keypad.is_some()),
            ("bracketed-paste", self.bracketed_paste.is_some()),
            ("mouse", self.mouse.is_some()),
            ("title", self.title.is_some()),
        ];
        tracked
            .iter()
            .filter(|(_, t)| !t)
            .map(|(name, _)| *name)
            .collect()
    }
}

pub trait Model {
    const NAME: &'static str;

    fn new(cols: usize, rows: usize, scrollback: usize) -> Self;
    /// Feeds raw PTY bytes; chunks may split escape sequences and UTF-8.
    fn feed(&mut self, bytes: &[u8]);
    /// ANSI bytes that redraw the current screen on a fresh terminal.
    fn snapshot(&self) -> Vec<u8>;
    fn cells(&self) -> Vec<Vec<CellView>>;
    fn state(&self) -> StateView;
}

/// Number of differing cells and a description of the first difference.
pub fn compare_cells(a: &[Vec<CellView>], b: &[Vec<CellView>]) -> (usize, Option<String>) {
    let mut count = 0;
    let mut first = None;
    for (row, (ra, rb)) in a.iter().zip(b).enumerate() {
        let len = ra.len().max(rb.len());
        for col in 0..len {
            let (ca, cb) = (ra.get(col), rb.get(col));
            if ca != cb {
                count += 1;
                first.get_or_insert_with(|| format!("row {row} cell {col}: {ca:?} vs {cb:?}"));
            }
        }
    }
    (count, first)
}

/// Turns arbitrary byte chunks into `&str` pieces for `&str`-only parsers
/// (avt), carrying a UTF-8 sequence split across chunks over to the next
/// call and replacing invalid bytes with U+FFFD. This is glue Paddock would
/// own if it chose avt.
#[derive(Default)]
pub struct Utf8Feeder {
    pending: Vec<u8>,
}

impl Utf8Feeder {
    pub fn feed(&mut self, mut bytes: &[u8], mut emit: impl FnMut(&str)) {
        if !self.pending.is_empty() {
            let need = utf8_width(self.pending[0]) - self.pending.len();
            let take = need.min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if take < need {
                return;
            }
            emit(&String::from_utf8_lossy(&self.pending));
            self.pending.clear();
        }
        let mut chunks = bytes.utf8_chunks().peekable();
        while let Some(chunk) = chunks.next() {
            emit(chunk.valid());
            let invalid = chunk.invalid();
            if invalid.is_empty() {
                continue;
            }
            // A truncated but so-far valid sequence at the very end waits
            // for the next chunk; anything else is an encoding error.
            if chunks.peek().is_none() && invalid.len() < utf8_width(invalid[0]) {
                self.pending.extend_from_slice(invalid);
            } else {
                emit("\u{FFFD}");
            }
        }
    }
}

fn utf8_width(lead: u8) -> usize {
    match lead {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => 1,
    }
}
