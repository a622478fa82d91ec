//! The holder's terminal: a PTY it owns ([`Agent`], `paddock run`) or a tmux pane it mirrors
//! ([`TmuxPane`], a tmux bridge). Everything above this seam (ring, model, socket server,
//! protocol, clients) is the same for both.
//!
//! Output does not pass through here: each kind's reader thread calls the holder's output
//! callback directly, so the PTY relay has no extra hop. Input is a queue of byte chunks
//! drained by the kind's writer thread.

use crate::agent::{Agent, AgentError};
use crate::tmux_pane::{TmuxError, TmuxPane};
use paddock_proto::{Signal, Size};
use tokio::sync::mpsc;

/// A session's terminal.
pub(crate) enum Terminal {
    /// A PTY the holder owns, with the agent as its session leader.
    Pty(Agent),
    /// A tmux pane the holder mirrors (output through `pipe-pane`, input through
    /// `send-keys`); tmux owns it and its size.
    Tmux(TmuxPane),
}

/// Why the terminal refused.
#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    #[error(transparent)]
    Pty(#[from] AgentError),
    #[error(transparent)]
    Tmux(#[from] TmuxError),
}

impl Terminal {
    /// The process at the root of the session (its process group leader).
    pub fn pid(&self) -> u32 {
        match self {
            Terminal::Pty(a) => a.pid(),
            Terminal::Tmux(p) => p.pid(),
        }
    }

    /// The queue of bytes to type into the terminal.
    #[inline]
    pub fn input(&self) -> &mpsc::Sender<Vec<u8>> {
        match self {
            Terminal::Pty(a) => a.input(),
            Terminal::Tmux(p) => p.input(),
        }
    }

    /// Types `data` at once where the terminal allows it (a PTY with nothing queued); returns
    /// what must go through [`Terminal::input`].
    pub fn write_now(&self, data: Vec<u8>) -> Option<Vec<u8>> {
        match self {
            Terminal::Pty(a) => a.write_now(data),
            Terminal::Tmux(_) => Some(data),
        }
    }

    /// Resizes a PTY. A tmux pane keeps the size tmux gives it (see [`Terminal::own_size`]).
    pub fn resize(&self, size: Size) -> Result<(), TerminalError> {
        match self {
            Terminal::Pty(a) => Ok(a.resize(size)?),
            Terminal::Tmux(_) => Ok(()),
        }
    }

    /// The size the terminal has by itself, for terminals the holder does not size (a tmux
    /// pane); `None` for a PTY, whose size is the holder's to set.
    pub fn own_size(&self) -> Option<Size> {
        match self {
            Terminal::Pty(_) => None,
            Terminal::Tmux(p) => p.size(),
        }
    }

    /// Sends `sig` to the session's process group and its terminal's foreground group.
    pub fn signal(&self, sig: Signal) -> Result<(), TerminalError> {
        match self {
            Terminal::Pty(a) => Ok(a.signal(sig)?),
            Terminal::Tmux(p) => Ok(p.signal(sig)?),
        }
    }

    /// Stops using the terminal while its processes run on: a tmux pane's pipe is turned
    /// off. A PTY cannot be left (its agent would get SIGHUP); nothing happens.
    pub fn detach(&self) {
        if let Terminal::Tmux(p) = self {
            p.detach();
        }
    }
}
