//! The local terminal: raw mode that is always restored, and its size.

use nix::sys::termios::{self, SetArg, Termios};
use paddock_proto::Size;
use std::io::IsTerminal;
use std::os::fd::AsFd;

/// The size of the terminal on stdout (or stdin), if there is one.
pub fn size() -> Option<Size> {
    let (w, h) = terminal_size::terminal_size()
        .or_else(|| terminal_size::terminal_size_of(std::io::stdin()))?;
    let size = Size {
        cols: w.0.clamp(Size::MIN.cols, Size::MAX.cols),
        rows: h.0.clamp(Size::MIN.rows, Size::MAX.rows),
    };
    Some(size)
}

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Puts stdin's terminal in raw mode until dropped, then restores the saved settings.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    pub fn enable() -> nix::Result<Self> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd())?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSADRAIN, &raw)?;
        Ok(Self { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let stdin = std::io::stdin();
        let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSADRAIN, &self.saved);
    }
}
