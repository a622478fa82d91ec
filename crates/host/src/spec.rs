//! What a holder is asked to run and how it is tuned; handed to the new holder process on its
//! standard input as JSON (see [`crate::launch`]).
//!
//! Two kinds of holder take the same spec:
//!
//! - **A command in a PTY** (`paddock run`): `command`, `args`, `cwd`, `env` and `size` say
//!   what to start.
//! - **A tmux bridge**: `tmux` names an existing pane; the holder mirrors that pane instead
//!   of owning a PTY. `command` and `cwd` may be left empty (they are read from the pane),
//!   `args` and `env` are ignored and `size` follows the pane. The smallest spec is
//!
//!   ```json
//!   {"id": "tmux-default-3", "name": "tmux-default-3",
//!    "tmux": {"socket": "/tmp/tmux-1000/default", "pane": "%3"}}
//!   ```
//!
//!   [`HolderSpec::tmux_bridge`] builds it.
//! - **An adopted process** (`paddock adopt PID`, Linux): `command`/`args` run the takeover
//!   (`reptyr PID`) in the PTY; `adopted` names the process it moves there, which the session
//!   then shows as its program and pid (see `paddock_core::takeover`).

use paddock_proto::{SessionId, Size, TmuxTarget};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Default output ring: 4 MiB.
pub const DEFAULT_RING_BYTES: usize = 4 * 1024 * 1024;
/// Default time an exited session stays readable: 10 minutes.
pub const DEFAULT_GRACE_SECS: u64 = 600;
/// Default lag an interactive client may build before it is resynced: 1 MiB.
pub const DEFAULT_MAX_LAG: usize = 1024 * 1024;

/// Everything a holder needs to start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HolderSpec {
    pub id: SessionId,
    pub name: String,
    /// The program to run; for a tmux bridge, a label (default: the pane's current command).
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// For a tmux bridge, a label (default: the pane's current directory).
    #[serde(default)]
    pub cwd: PathBuf,
    /// Set on top of the environment `paddock run` was started with.
    #[serde(default)]
    pub env: Vec<(String, String)>,
    /// Inherited variables the holder (and so its agent) does not get: the ones that break a
    /// nested agent (see `paddock_core::nested`). [`crate::launch::spawn`] removes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_remove: Vec<String>,
    /// The PTY's initial size; a tmux bridge takes the pane's size instead.
    #[serde(default = "default_size")]
    pub size: Size,
    #[serde(default = "default_ring")]
    pub ring_bytes: usize,
    #[serde(default = "default_grace")]
    pub grace_secs: u64,
    #[serde(default = "default_lag")]
    pub max_lag: usize,
    /// Mirror this tmux pane instead of starting `command` in a PTY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmux: Option<TmuxTarget>,
    /// The running process that `command` (reptyr) moves onto this PTY: the session shows
    /// it (command, args, pid) instead of the takeover program, and signals reach it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<Adopted>,
}

/// A process started elsewhere that a session took over (`paddock adopt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adopted {
    pub pid: u32,
    /// Its program and arguments, from `/proc/PID/cmdline`.
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
}

impl HolderSpec {
    /// The spec of a tmux bridge for `pane` (e.g. `%3`) of the server at `socket`, with the
    /// default ring, grace period and lag.
    pub fn tmux_bridge(id: SessionId, name: String, socket: PathBuf, pane: String) -> Self {
        Self {
            id,
            name,
            command: String::new(),
            args: Vec::new(),
            cwd: PathBuf::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
            size: default_size(),
            ring_bytes: DEFAULT_RING_BYTES,
            grace_secs: DEFAULT_GRACE_SECS,
            max_lag: DEFAULT_MAX_LAG,
            tmux: Some(TmuxTarget { socket, pane }),
            adopted: None,
        }
    }
}

fn default_size() -> Size {
    Size { cols: 80, rows: 24 }
}
fn default_ring() -> usize {
    DEFAULT_RING_BYTES
}
fn default_grace() -> u64 {
    DEFAULT_GRACE_SECS
}
fn default_lag() -> usize {
    DEFAULT_MAX_LAG
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_bridge_spec_parses() {
        let spec: HolderSpec = serde_json::from_str(
            r#"{"id": "tmux-default-3", "name": "tmux-default-3",
                "tmux": {"socket": "/tmp/tmux-1000/default", "pane": "%3"}}"#,
        )
        .expect("parses");
        let tmux = spec.tmux.expect("a bridge");
        assert_eq!(tmux.pane, "%3");
        assert_eq!(spec.ring_bytes, DEFAULT_RING_BYTES);
        assert!(spec.command.is_empty());
    }
}
