//! alacritty_terminal: byte input through vte's `ansi::Processor`, no
//! snapshot of its own. `snapshot()` below is a minimal grid-to-ANSI
//! serializer: bench code that Paddock would have to own. The title only
//! arrives as an `Event::Title` through the `EventListener`.

use crate::model::{CellView, Colour, Model, StateView};
use alacritty_terminal::event::{Event, EventListener};
use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::term::{Config, Term, TermMode};
use alacritty_terminal::vte::ansi::{Color, Processor};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

#[derive(Clone, Default)]
pub struct TitleListener(Rc<RefCell<String>>);

impl EventListener for TitleListener {
    fn send_event(&self, event: Event) {
        match event {
            Event::Title(title) => *self.0.borrow_mut() = title,
            Event::ResetTitle => self.0.borrow_mut().clear(),
            _ => {}
        }
    }
}

struct Size {
    cols: usize,
    rows: usize,
}

impl Dimensions for Size {
    fn total_lines(&self) -> usize {
        self.rows
    }

    fn screen_lines(&self) -> usize {
        self.rows
    }

    fn columns(&self) -> usize {
        self.cols
    }
}

pub struct Alacritty {
    term: Term<TitleListener>,
    parser: Processor,
    title: TitleListener,
}

fn colour(c: Color) -> Colour {
    match c {
        Color::Named(n) if (n as usize) < 16 => Colour::Idx(n as u8),
        Color::Named(_) => Colour::Default,
        Color::Indexed(i) => Colour::Idx(i),
        Color::Spec(rgb) => Colour::Rgb(rgb.r, rgb.g, rgb.b),
    }
}

/// `;30..37`, `;90..97`, `;38;5;n` or `;38;2;r;g;b` (base 30), or the
/// background forms (base 40). Default colours write nothing.
fn write_colour(out: &mut String, c: Color, base: usize) {
    match c {
        Color::Named(n) if (n as usize) < 8 => write!(out, ";{}", base + n as usize),
        Color::Named(n) if (n as usize) < 16 => write!(out, ";{}", base + 52 + n as usize),
        Color::Named(_) => Ok(()),
        Color::Indexed(i) => write!(out, ";{};5;{i}", base + 8),
        Color::Spec(rgb) => write!(out, ";{};2;{};{};{}", base + 8, rgb.r, rgb.g, rgb.b),
    }
    .unwrap();
}

/// A full SGR (reset first) that sets the pen to the cell's attributes.
fn write_sgr(out: &mut String, cell: &Cell) {
    out.push_str("\x1b[0");
    let flags = [
        (Flags::BOLD, ";1"),
        (Flags::DIM, ";2"),
        (Flags::ITALIC, ";3"),
        (Flags::ALL_UNDERLINES, ";4"),
        (Flags::INVERSE, ";7"),
        (Flags::HIDDEN, ";8"),
        (Flags::STRIKEOUT, ";9"),
    ];
    for (flag, code) in flags {
        if cell.flags.intersects(flag) {
            out.push_str(code);
        }
    }
    write_colour(out, cell.fg, 30);
    write_colour(out, cell.bg, 40);
    out.push('m');
}

/// alacritty keeps a `\t` in the cell where a tab started (for copying);
/// on screen it is a blank, and writing it back would move the cursor.
fn visible_char(cell: &Cell) -> char {
    if cell.c == '\t' { ' ' } else { cell.c }
}

fn same_pen(a: &Cell, b: &Cell) -> bool {
    let style = !(Flags::WRAPLINE | Flags::WIDE_CHAR | Flags::LEADING_WIDE_CHAR_SPACER);
    a.fg == b.fg && a.bg == b.bg && (a.flags & style) == (b.flags & style)
}

fn is_blank(cell: &Cell) -> bool {
    cell.c == ' ' && same_pen(cell, &Cell::default()) && cell.zerowidth().is_none()
}

impl Alacritty {
    fn write_rows(&self, out: &mut String) {
        let grid = self.term.grid();
        let mut pen = Cell::default();
        for line in 0..grid.screen_lines() {
            let row = &grid[Line(line as i32)];
            let Some(last) = (0..grid.columns())
                .rev()
                .find(|&c| !is_blank(&row[Column(c)]))
            else {
                continue;
            };
            write!(out, "\x1b[{};1H", line + 1).unwrap();
            for col in 0..=last {
                let cell = &row[Column(col)];
                if cell.flags.contains(Flags::WIDE_CHAR_SPACER) {
                    continue;
                }
                if !same_pen(cell, &pen) {
                    write_sgr(out, cell);
                    pen = cell.clone();
                }
                out.push(visible_char(cell));
                out.extend(cell.zerowidth().unwrap_or_default());
            }
        }
    }

    fn write_modes(&self, out: &mut String) {
        let mode = *self.term.mode();
        let private = [
            (TermMode::APP_CURSOR, 1),
            (TermMode::LINE_WRAP, 7),
            (TermMode::MOUSE_REPORT_CLICK, 1000),
            (TermMode::MOUSE_DRAG, 1002),
            (TermMode::MOUSE_MOTION, 1003),
            (TermMode::FOCUS_IN_OUT, 1004),
            (TermMode::UTF8_MOUSE, 1005),
            (TermMode::SGR_MOUSE, 1006),
            (TermMode::BRACKETED_PASTE, 2004),
        ];
        for (flag, number) in private {
            let set = if mode.contains(flag) { 'h' } else { 'l' };
            write!(out, "\x1b[?{number}{set}").unwrap();
        }
        out.push_str(if mode.contains(TermMode::APP_KEYPAD) {
            "\x1b="
        } else {
            "\x1b>"
        });
        out.push_str(if mode.contains(TermMode::INSERT) {
            "\x1b[4h"
        } else {
            "\x1b[4l"
        });
    }
}

impl Model for Alacritty {
    const NAME: &'static str = "alacritty_terminal";

    fn new(cols: usize, rows: usize, scrollback: usize) -> Self {
        let config = Config {
            scrolling_history: scrollback,
            ..Config::default()
        };
        let title = TitleListener::default();
        let term = Term::new(config, &Size { cols, rows }, title.clone());
        Self {
            term,
            parser: Processor::new(),
            title,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.parser.advance(&mut self.term, bytes);
    }

    /// Not covered: the primary screen under an active alternate screen, the
    /// scroll region and origin mode (private in `Term`), saved cursors,
    /// charsets, tab stops, soft-wrap flags, the pending-wrap state,
    /// hyperlinks, underline colour and style, the kitty keyboard stack.
    fn snapshot(&self) -> Vec<u8> {
        let mode = *self.term.mode();
        let mut out = String::with_capacity(32 * 1024);
        if mode.contains(TermMode::ALT_SCREEN) {
            out.push_str("\x1b[?1049h");
        }
        out.push_str("\x1b[0m\x1b[H\x1b[2J");
        self.write_rows(&mut out);
        self.write_modes(&mut out);
        write!(out, "\x1b]2;{}\x07", self.title.0.borrow()).unwrap();
        let cursor = &self.term.grid().cursor;
        write!(
            out,
            "\x1b[{};{}H",
            cursor.point.line.0 + 1,
            cursor.point.column.0 + 1
        )
        .unwrap();
        write_sgr(&mut out, &cursor.template);
        out.push_str(if mode.contains(TermMode::SHOW_CURSOR) {
            "\x1b[?25h"
        } else {
            "\x1b[?25l"
        });
        out.into_bytes()
    }

    fn cells(&self) -> Vec<Vec<CellView>> {
        let grid = self.term.grid();
        (0..grid.screen_lines())
            .map(|line| {
                let row = &grid[Line(line as i32)];
                (0..grid.columns())
                    .map(|col| &row[Column(col)])
                    .filter(|cell| !cell.flags.contains(Flags::WIDE_CHAR_SPACER))
                    .map(|cell| CellView {
                        text: std::iter::once(visible_char(cell))
                            .chain(cell.zerowidth().unwrap_or_default().iter().copied())
                            .collect(),
                        fg: colour(cell.fg),
                        bg: colour(cell.bg),
                        bold: cell.flags.contains(Flags::BOLD),
                        dim: cell.flags.contains(Flags::DIM),
                        italic: cell.flags.contains(Flags::ITALIC),
                        underline: cell.flags.intersects(Flags::ALL_UNDERLINES),
                        inverse: cell.flags.contains(Flags::INVERSE),
                    })
                    .collect()
            })
            .collect()
    }

    fn state(&self) -> StateView {
        let mode = *self.term.mode();
        let point = self.term.grid().cursor.point;
        let mouse = [
            (TermMode::MOUSE_REPORT_CLICK, "click"),
            (TermMode::MOUSE_DRAG, "drag"),
            (TermMode::MOUSE_MOTION, "motion"),
            (TermMode::SGR_MOUSE, "sgr"),
            (TermMode::UTF8_MOUSE, "utf8"),
        ];
        StateView {
            cursor: (point.line.0 as usize, point.column.0),
            cursor_visible: mode.contains(TermMode::SHOW_CURSOR),
            alt_screen: Some(mode.contains(TermMode::ALT_SCREEN)),
            app_cursor: Some(mode.contains(TermMode::APP_CURSOR)),
            app_keypad: Some(mode.contains(TermMode::APP_KEYPAD)),
            bracketed_paste: Some(mode.contains(TermMode::BRACKETED_PASTE)),
            mouse: Some(
                mouse
                    .iter()
                    .filter(|(flag, _)| mode.contains(*flag))
                    .map(|(_, name)| *name)
                    .collect::<Vec<_>>()
                    .join("+"),
            ),
            title: Some(self.title.0.borrow().clone()),
        }
    }
}
