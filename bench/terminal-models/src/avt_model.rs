//! avt: `&str`/`char` input only (bytes go through `Utf8Feeder`), native
//! `dump()` snapshot. No title, keypad, bracketed-paste or mouse state.

use crate::model::{CellView, Colour, Model, StateView, Utf8Feeder};

pub struct Avt {
    terminal: avt::Terminal,
    utf8: Utf8Feeder,
}

fn colour(c: Option<avt::Color>) -> Colour {
    match c {
        None => Colour::Default,
        Some(avt::Color::Indexed(i)) => Colour::Idx(i),
        Some(avt::Color::RGB(rgb)) => Colour::Rgb(rgb.r, rgb.g, rgb.b),
    }
}

impl Model for Avt {
    const NAME: &'static str = "avt";

    fn new(cols: usize, rows: usize, scrollback: usize) -> Self {
        let terminal =
            avt::Terminal::with_scrollback(cols, rows, Some(scrollback)).expect("valid size");
        Self {
            terminal,
            utf8: Utf8Feeder::default(),
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        let terminal = &mut self.terminal;
        self.utf8.feed(bytes, |text| terminal.feed(text));
    }

    fn snapshot(&self) -> Vec<u8> {
        self.terminal.dump().into_bytes()
    }

    fn cells(&self) -> Vec<Vec<CellView>> {
        self.terminal
            .screen()
            .visible_lines()
            .map(|line| {
                line.cells()
                    .iter()
                    .filter(|cell| cell.width() > 0)
                    .map(|cell| {
                        let pen = cell.pen();
                        CellView {
                            text: cell.char().to_string(),
                            fg: colour(pen.foreground()),
                            bg: colour(pen.background()),
                            bold: pen.is_bold(),
                            dim: pen.is_faint(),
                            italic: pen.is_italic(),
                            underline: pen.is_underline(),
                            inverse: pen.is_inverse(),
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn state(&self) -> StateView {
        let cursor = self.terminal.cursor();
        StateView {
            cursor: (cursor.row, cursor.col),
            cursor_visible: cursor.visible,
            alt_screen: Some(self.terminal.active_screen_kind() == avt::ScreenKind::Alternate),
            app_cursor: Some(self.terminal.cursor_key_app_mode()),
            app_keypad: None,
            bracketed_paste: None,
            mouse: None,
            title: None,
        }
    }
}
