//! [`TmuxError`]: why a pane cannot be bridged or controlled.

use paddock_proto::Signal;
use std::path::PathBuf;
use std::time::Duration;

/// Why a pane cannot be bridged or controlled.
#[derive(Debug, thiserror::Error)]
pub enum TmuxError {
    #[error("cannot run tmux: {0}; install tmux (3.0 or newer)")]
    Spawn(std::io::Error),
    #[error("tmux server {socket} refused `{command}`: {message}")]
    Command {
        socket: PathBuf,
        command: String,
        message: String,
    },
    #[error("there is no pane `{pane}` on the tmux server {socket}; `tmux -S {socket} list-panes -a` lists them")]
    NoPane { socket: PathBuf, pane: String },
    #[error(
        "pane {pane} has exited (tmux keeps it with remain-on-exit); there is nothing to mirror"
    )]
    Dead { pane: String },
    #[error("pane {pane} already has a pipe (`tmux pipe-pane`), and tmux allows one per pane; turn it off with `tmux -S {socket} pipe-pane -t {pane}` and try again")]
    AlreadyPiped { socket: PathBuf, pane: String },
    #[error("cannot create the FIFO {path}: {source}")]
    Fifo {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tmux did not start the pane's pipe within {0:?} (is `cat` on tmux's PATH?)")]
    NotConnected(Duration),
    #[error("tmux answered something unexpected: {0}")]
    Parse(String),
    #[error("cannot start the bridge's {0} thread: {1}")]
    Thread(&'static str, std::io::Error),
    #[error("cannot send SIG{signal} to pane {pane} (pid {pid}): {source}")]
    Signal {
        signal: Signal,
        pane: String,
        pid: u32,
        source: nix::Error,
    },
}
