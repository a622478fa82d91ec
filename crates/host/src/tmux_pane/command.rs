//! Running tmux: commands and their errors, typing input with `send-keys`, how a pane
//! ended, whether its pipe is a dead bridge's.

use super::{TmuxError, SEP};
use crate::agent::ExitInfo;
use nix::sys::signal::Signal as NixSignal;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `tmux -S socket ARGS`.
pub(super) fn tmux(socket: &Path, args: &[&str]) -> Result<Output, TmuxError> {
    Command::new("tmux")
        .arg("-S")
        .arg(socket)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(TmuxError::Spawn)
}

/// Runs `tmux -S socket ARGS` and returns its stdout, or the error tmux printed.
pub(super) fn tmux_ok(socket: &Path, args: &[&str]) -> Result<String, TmuxError> {
    let out = tmux(socket, args)?;
    if !out.status.success() {
        return Err(TmuxError::Command {
            socket: socket.to_owned(),
            command: args.first().copied().unwrap_or_default().to_owned(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Quotes `s` for `sh -c`, and doubles `#` because tmux expands formats in pipe-pane's
/// command.
pub(super) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''").replace('#', "##"))
}

/// What tmux says about a pane after its process ended, or its pipe did.
#[derive(Debug, PartialEq)]
pub(super) enum PaneEnd {
    /// The pane no longer exists (or the server is gone): no status.
    Gone,
    /// The pane remains, dead, with this status.
    Dead(ExitInfo),
    /// The pane is alive.
    Alive,
}

pub(super) fn pane_end(socket: &Path, pane: &str) -> PaneEnd {
    let format = "#{pane_id}\u{1f}#{pane_dead}\u{1f}#{pane_dead_status}\u{1f}#{pane_dead_signal}";
    let Ok(out) = tmux_ok(socket, &["display", "-p", "-t", pane, format]) else {
        return PaneEnd::Gone;
    };
    let f: Vec<&str> = out.trim_end_matches('\n').split(SEP).collect();
    // tmux 3.3 prints an empty line, successfully, for a pane that does not exist.
    if f.len() < 4 || f[0] != pane {
        return PaneEnd::Gone;
    }
    if f[1] != "1" {
        return PaneEnd::Alive;
    }
    if let Some(sig) = f[3]
        .parse::<i32>()
        .ok()
        .and_then(|n| NixSignal::try_from(n).ok())
    {
        return PaneEnd::Dead(ExitInfo::signaled(sig));
    }
    PaneEnd::Dead(ExitInfo {
        code: f[2].parse().ok(),
        signal: None,
    })
}

pub(super) fn send_keys(socket: &Path, pane: &str, bytes: &[u8]) -> Result<(), TmuxError> {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut args = vec!["send-keys", "-t", pane, "-H"];
    args.extend(hex.iter().map(String::as_str));
    tmux_ok(socket, &args).map(|_| ())
}

/// Whether the pane's pipe is a dead bridge's of this session: its `cat` (a child of the
/// tmux server) still writes to our FIFO path (Linux), or the FIFO is still there.
pub(super) fn stale_bridge_pipe(socket: &Path, fifo: &Path) -> bool {
    if fifo.exists() {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        let Ok(server) = tmux_ok(socket, &["display", "-p", "#{pid}"]) else {
            return false;
        };
        let server = server.trim();
        let children = std::fs::read_to_string(format!("/proc/{server}/task/{server}/children"))
            .unwrap_or_default();
        let ours = fifo.as_os_str().as_encoded_bytes();
        children.split_whitespace().any(|child| {
            std::fs::read_link(format!("/proc/{child}/fd/1")).is_ok_and(|target| {
                let target = target.as_os_str().as_encoded_bytes();
                // An unlinked FIFO reads as `<path> (deleted)`.
                target.strip_suffix(b" (deleted)").unwrap_or(target) == ours
            })
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = socket;
        false
    }
}
