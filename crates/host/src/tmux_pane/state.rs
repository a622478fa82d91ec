//! What tmux says about a pane when its pipe starts ([`PaneState`]), and the redraw the
//! holder seeds its ring with ([`redraw`]).

use super::{TmuxError, SEP};
use paddock_proto::Size;
use std::path::PathBuf;

/// What tmux said about the pane at the moment the pipe started.
#[derive(Debug, Clone, PartialEq)]
pub struct PaneState {
    /// The pane's id, e.g. `%3` (the target given may have been `work:1.0`).
    pub pane_id: String,
    /// The pane's process (its process group leader).
    pub pid: u32,
    pub size: Size,
    pub tty: PathBuf,
    pub cwd: String,
    pub command: String,
    pub title: String,
    /// Cursor column and row, from 0.
    pub cursor: (u16, u16),
    pub cursor_visible: bool,
    pub alternate_screen: bool,
    pub keypad: bool,
    pub cursor_keys: bool,
    pub insert: bool,
    pub wrap: bool,
    /// Mouse modes 1000, 1002, 1003, 1006 (standard, button, any, SGR).
    pub mouse: [bool; 4],
    /// Scroll region, first and last row from 0.
    pub scroll_region: (u16, u16),
}

/// `display` format for [`PaneState`]: fields separated by [`SEP`], the title last.
pub(super) const STATE_FORMAT: &str = concat!(
    "#{pane_id}\u{1f}",
    "#{pane_pid}\u{1f}",
    "#{pane_width}\u{1f}",
    "#{pane_height}\u{1f}",
    "#{pane_tty}\u{1f}",
    "#{cursor_x}\u{1f}",
    "#{cursor_y}\u{1f}",
    "#{cursor_flag}\u{1f}",
    "#{alternate_on}\u{1f}",
    "#{keypad_flag}\u{1f}",
    "#{keypad_cursor_flag}\u{1f}",
    "#{insert_flag}\u{1f}",
    "#{wrap_flag}\u{1f}",
    "#{mouse_standard_flag}\u{1f}",
    "#{mouse_button_flag}\u{1f}",
    "#{mouse_any_flag}\u{1f}",
    "#{mouse_sgr_flag}\u{1f}",
    "#{scroll_region_upper}\u{1f}",
    "#{scroll_region_lower}\u{1f}",
    "#{pane_current_path}\u{1f}",
    "#{pane_current_command}\u{1f}",
    "#{pane_title}",
);

impl PaneState {
    pub(super) fn parse(line: &str) -> Result<Self, TmuxError> {
        let f: Vec<&str> = line.splitn(22, SEP).collect();
        if f.len() < 22 || f[0].is_empty() {
            return Err(TmuxError::Parse(format!("pane state `{line}`")));
        }
        let num = |i: usize| -> Result<u16, TmuxError> {
            f[i].parse()
                .map_err(|_| TmuxError::Parse(format!("field {i} of `{line}`")))
        };
        let flag = |i: usize| f[i] == "1";
        Ok(Self {
            pane_id: f[0].to_owned(),
            pid: f[1]
                .parse()
                .map_err(|_| TmuxError::Parse(format!("pane pid in `{line}`")))?,
            size: Size {
                cols: num(2)?,
                rows: num(3)?,
            },
            tty: PathBuf::from(f[4]),
            cursor: (num(5)?, num(6)?),
            cursor_visible: flag(7),
            alternate_screen: flag(8),
            keypad: flag(9),
            cursor_keys: flag(10),
            insert: flag(11),
            wrap: flag(12),
            mouse: [flag(13), flag(14), flag(15), flag(16)],
            scroll_region: (num(17).unwrap_or(0), num(18).unwrap_or(0)),
            cwd: f[19].to_owned(),
            command: f[20].to_owned(),
            title: f[21].to_owned(),
        })
    }
}

/// Bytes that draw `screen` (from `capture-pane -p -e -N`, one line per row) with the cursor,
/// modes and title of `state` on a terminal of the pane's size.
pub fn redraw(state: &PaneState, screen: &str) -> Vec<u8> {
    use std::fmt::Write;
    let mut out = String::with_capacity(screen.len() + 256);
    if state.alternate_screen {
        out.push_str("\x1b[?1049h");
    }
    out.push_str("\x1b[0m\x1b[H\x1b[2J");
    for (row, line) in screen.lines().take(state.size.rows as usize).enumerate() {
        if !line.is_empty() {
            let _ = write!(out, "\x1b[{};1H{line}", row + 1);
        }
    }
    out.push_str("\x1b[0m");
    let (top, bottom) = state.scroll_region;
    if bottom > top && (top, bottom) != (0, state.size.rows.saturating_sub(1)) {
        let _ = write!(out, "\x1b[{};{}r", top + 1, bottom + 1);
    }
    let modes: [(bool, &str); 8] = [
        (!state.wrap, "\x1b[?7l"),
        (state.insert, "\x1b[4h"),
        (state.keypad, "\x1b="),
        (state.cursor_keys, "\x1b[?1h"),
        (state.mouse[0], "\x1b[?1000h"),
        (state.mouse[1], "\x1b[?1002h"),
        (state.mouse[2], "\x1b[?1003h"),
        (state.mouse[3], "\x1b[?1006h"),
    ];
    for (on, seq) in modes {
        if on {
            out.push_str(seq);
        }
    }
    let title: String = state.title.chars().filter(|c| !c.is_control()).collect();
    if !title.is_empty() {
        let _ = write!(out, "\x1b]2;{title}\x07");
    }
    let _ = write!(
        out,
        "\x1b[{};{}H",
        state.cursor.1 as u32 + 1,
        state.cursor.0 as u32 + 1
    );
    if !state.cursor_visible {
        out.push_str("\x1b[?25l");
    }
    out.into_bytes()
}
