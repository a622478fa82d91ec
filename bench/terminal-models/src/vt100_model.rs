//! vt100: byte input, native `state_formatted()` snapshot. The title is not
//! stored by the crate: it arrives through the `Callbacks` trait.

use crate::model::{CellView, Colour, Model, StateView};
use std::fmt::Write as _;
use std::num::NonZeroU16;

#[derive(Default)]
pub struct TitleCallbacks {
    title: String,
}

impl vt100::Callbacks for TitleCallbacks {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.title = String::from_utf8_lossy(title).into_owned();
    }
}

/// vt100 with the crate's own snapshot, `Screen::state_formatted()`, as is.
pub struct Vt100 {
    parser: vt100::Parser<TitleCallbacks>,
}

fn non_zero(n: usize) -> NonZeroU16 {
    NonZeroU16::new(u16::try_from(n).expect("size fits u16")).expect("size is non-zero")
}

fn colour(c: vt100::Color) -> Colour {
    match c {
        vt100::Color::Default => Colour::Default,
        vt100::Color::Idx(i) => Colour::Idx(i),
        vt100::Color::Rgb(r, g, b) => Colour::Rgb(r, g, b),
    }
}

impl Model for Vt100 {
    const NAME: &'static str = "vt100";

    fn new(cols: usize, rows: usize, scrollback: usize) -> Self {
        let parser = vt100::Parser::new_with_callbacks(
            non_zero(rows),
            non_zero(cols),
            scrollback,
            TitleCallbacks::default(),
        );
        Self { parser }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.parser.process(bytes);
    }

    fn snapshot(&self) -> Vec<u8> {
        self.parser.screen().state_formatted().into_bytes()
    }

    fn cells(&self) -> Vec<Vec<CellView>> {
        let screen = self.parser.screen();
        let (rows, cols) = screen.size();
        (0..rows.get())
            .map(|row| {
                (0..cols.get())
                    .filter_map(|col| screen.cell(row, col))
                    .filter(|cell| !cell.is_wide_continuation())
                    .map(|cell| CellView {
                        text: match cell.contents() {
                            "" => " ".to_owned(),
                            text => text.to_owned(),
                        },
                        fg: colour(cell.fgcolor()),
                        bg: colour(cell.bgcolor()),
                        bold: cell.bold(),
                        dim: cell.dim(),
                        italic: cell.italic(),
                        underline: cell.underline(),
                        inverse: cell.inverse(),
                    })
                    .collect()
            })
            .collect()
    }

    fn state(&self) -> StateView {
        let screen = self.parser.screen();
        let (row, col) = screen.cursor_position();
        StateView {
            cursor: (row.into(), col.into()),
            cursor_visible: !screen.hide_cursor(),
            alt_screen: Some(screen.alternate_screen()),
            app_cursor: Some(screen.application_cursor()),
            app_keypad: Some(screen.application_keypad()),
            bracketed_paste: Some(screen.bracketed_paste()),
            mouse: Some(format!(
                "{:?}/{:?}",
                screen.mouse_protocol_mode(),
                screen.mouse_protocol_encoding()
            )),
            title: Some(self.parser.callbacks().title.clone()),
        }
    }
}

/// vt100 plus the glue Paddock would add around `state_formatted()`: it
/// redraws only the active grid and never emits the title or the switch to
/// the alternate screen, so those are prepended here.
pub struct Vt100Glued(Vt100);

impl Model for Vt100Glued {
    const NAME: &'static str = "vt100 + glue";

    fn new(cols: usize, rows: usize, scrollback: usize) -> Self {
        Self(Vt100::new(cols, rows, scrollback))
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.0.feed(bytes);
    }

    fn snapshot(&self) -> Vec<u8> {
        let screen = self.0.parser.screen();
        let mut out = String::new();
        let title = &self.0.parser.callbacks().title;
        if !title.is_empty() {
            write!(out, "\x1b]2;{title}\x07").unwrap();
        }
        if screen.alternate_screen() {
            out.push_str("\x1b[?1049h");
        }
        out.push_str(&screen.state_formatted());
        out.into_bytes()
    }

    fn cells(&self) -> Vec<Vec<CellView>> {
        self.0.cells()
    }

    fn state(&self) -> StateView {
        self.0.state()
    }
}
