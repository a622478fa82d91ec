//! A session's metadata as the holder keeps and answers it, and the rows of `paddock ls`.

use super::Size;
use crate::ids::SessionId;
use crate::supervisor::Backend;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// Whether the agent is running or has exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Running,
    Exited,
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SessionState::Running => "running",
            SessionState::Exited => "exited",
        })
    }
}

/// A session's metadata, as the holder keeps it in `<id>.json` beside its socket and as it
/// answers `info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: SessionId,
    pub name: String,
    /// The program, as given.
    pub command: String,
    pub args: Vec<String>,
    pub cwd: String,
    /// The agent's pid (also its process group id).
    pub pid: u32,
    /// The holder's own pid.
    pub holder_pid: u32,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub size: Size,
    pub state: SessionState,
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// The signal that ended the agent, e.g. `KILL`.
    #[serde(default)]
    pub exit_signal: Option<String>,
    #[serde(default)]
    pub exited_at: Option<String>,
    /// Clients streaming output right now.
    #[serde(default)]
    pub clients: u32,
    #[serde(default)]
    pub restarts: u32,
    /// Total bytes of output since the session began (the next byte's offset).
    #[serde(default)]
    pub output_end: u64,
    /// When the terminal last printed (RFC 3339 with milliseconds, UTC); absent until it
    /// prints, and from holders older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_output_at: Option<String>,
    /// The oldest offset still in the ring.
    #[serde(default)]
    pub ring_start: u64,
    /// Ring capacity in bytes.
    #[serde(default)]
    pub ring_capacity: u64,
    /// Where the terminal lives: `holder` (a PTY the holder owns) or `tmux` (a tmux pane the
    /// holder mirrors, a "tmux bridge").
    #[serde(default)]
    pub backend: Backend,
    /// The pane a tmux bridge mirrors; absent for other sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmux: Option<TmuxTarget>,
    /// What the program last reported to its terminal about itself (OSC 7501), if it did;
    /// absent from holders older than protocol 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program_status: Option<crate::program_status::ProgramStatus>,
}

/// A tmux pane: the server's socket and the pane's id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TmuxTarget {
    /// The tmux server's socket, e.g. `/tmp/tmux-1000/default` (`tmux -S`).
    pub socket: PathBuf,
    /// The pane's id, e.g. `%3` (a target such as `work:1.0` is accepted when starting a
    /// bridge and resolved to the id).
    pub pane: String,
}

impl SessionInfo {
    /// The command line as one shell-like string, for display.
    pub fn command_line(&self) -> String {
        std::iter::once(self.command.as_str())
            .chain(self.args.iter().map(String::as_str))
            .map(quote_arg)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The row `paddock ls --json` prints for this session.
    pub fn summary(&self) -> SessionSummary {
        SessionSummary {
            id: self.id.clone(),
            name: self.name.clone(),
            command: self.command_line(),
            cwd: self.cwd.clone(),
            pid: self.pid,
            state: self.state,
            exit_code: self.exit_code,
            started_at: self.started_at.clone(),
            clients: self.clients,
        }
    }
}

/// Quotes an argument for display when it contains anything a shell would split or expand.
fn quote_arg(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// One row of `paddock ls --json`: exactly these fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub id: SessionId,
    pub name: String,
    pub command: String,
    pub cwd: String,
    pub pid: u32,
    pub state: SessionState,
    pub exit_code: Option<i32>,
    pub started_at: String,
    pub clients: u32,
}
