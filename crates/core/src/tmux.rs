//! tmux discovery: the user's tmux servers and their panes.
//!
//! Servers are the sockets in `$TMUX_TMPDIR/tmux-<uid>/` (default `/tmp/tmux-<uid>/`), one per
//! `-L` name. Panes are read with one `list-panes -a` per server. A pane is an agent session
//! when its process tree runs a known agent, or when the user marked it with
//! `tmux set -p @paddock 1`.

use paddock_proto::{SessionId, Size};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Field separator in our `list-panes` format (ASCII unit separator: never in a path).
const SEP: char = '\u{1f}';

/// One tmux pane.
#[derive(Debug, Clone, PartialEq)]
pub struct Pane {
    /// The server's socket.
    pub socket: PathBuf,
    /// The server's name (`default`, or the `-L` name).
    pub server: String,
    /// tmux's pane id, e.g. `%3`.
    pub pane_id: String,
    /// The pane's shell (or command) pid: the root of its process tree.
    pub pid: u32,
    pub cwd: String,
    /// tmux's idea of the foreground command, e.g. `claude` or `node`.
    pub current_command: String,
    /// `session:window.pane`, for people.
    pub target: String,
    pub tty: String,
    pub dead: bool,
    /// Marked by the user with `@paddock`.
    pub marked: bool,
    pub size: Size,
    /// When the pane's process started, RFC 3339 (from tmux's `pane_start_time` isn't
    /// available everywhere, so the supervisor fills this from the process table).
    pub title: String,
}

impl Pane {
    /// The registry id: `tmux-<server>-<pane number>`, restricted to session id characters.
    pub fn session_id(&self) -> SessionId {
        let server: String = self
            .server
            .chars()
            .map(|c| {
                let c = c.to_ascii_lowercase();
                if c.is_ascii_lowercase() || c.is_ascii_digit() {
                    c
                } else {
                    '-'
                }
            })
            .take(40)
            .collect();
        let pane = self.pane_id.trim_start_matches('%');
        SessionId::parse(&format!("tmux-{server}-{pane}"))
            .unwrap_or_else(|_| SessionId::from_random(self.pid as u64))
    }
}

/// Why tmux could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum TmuxError {
    #[error(
        "cannot run tmux: {0}; install tmux or disable tmux discovery ([tmux] enabled = false)"
    )]
    Spawn(std::io::Error),
    #[error("tmux server {socket} did not answer: {message}")]
    Server { socket: PathBuf, message: String },
}

/// The directory holding this user's tmux server sockets.
pub fn socket_dir() -> PathBuf {
    let base = std::env::var_os("TMUX_TMPDIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    base.join(format!("tmux-{}", nix::unistd::getuid()))
}

/// Every live server socket of this user (sockets nobody listens on are left by servers that
/// died; asking them would spawn tmux for nothing).
pub fn servers() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(socket_dir()) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            use std::os::unix::fs::FileTypeExt;
            e.file_type().is_ok_and(|t| t.is_socket())
        })
        .map(|e| e.path())
        .filter(|p| std::os::unix::net::UnixStream::connect(p).is_ok())
        .collect();
    out.sort();
    out
}

const FORMAT: &str = "#{pane_id}\u{1f}#{pane_pid}\u{1f}#{pane_current_path}\u{1f}#{pane_current_command}\u{1f}#{session_name}:#{window_index}.#{pane_index}\u{1f}#{pane_tty}\u{1f}#{pane_dead}\u{1f}#{@paddock}\u{1f}#{pane_width}\u{1f}#{pane_height}\u{1f}#{pane_title}";

/// Every pane of the server at `socket`. A server that is not running gives an error.
pub fn list_panes(socket: &Path) -> Result<Vec<Pane>, TmuxError> {
    let out = Command::new("tmux")
        .arg("-S")
        .arg(socket)
        .args(["list-panes", "-a", "-F", FORMAT])
        .output()
        .map_err(TmuxError::Spawn)?;
    if !out.status.success() {
        return Err(TmuxError::Server {
            socket: socket.to_owned(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    let server = socket
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "default".into());
    Ok(parse_panes(
        &String::from_utf8_lossy(&out.stdout),
        socket,
        &server,
    ))
}

fn parse_panes(text: &str, socket: &Path, server: &str) -> Vec<Pane> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(SEP).collect();
            if f.len() < 11 {
                return None;
            }
            Some(Pane {
                socket: socket.to_owned(),
                server: server.to_owned(),
                pane_id: f[0].to_owned(),
                pid: f[1].parse().ok()?,
                cwd: f[2].to_owned(),
                current_command: f[3].to_owned(),
                target: f[4].to_owned(),
                tty: f[5].to_owned(),
                dead: f[6] == "1",
                marked: !f[7].is_empty() && f[7] != "0",
                size: Size {
                    cols: f[8].parse().unwrap_or(80),
                    rows: f[9].parse().unwrap_or(24),
                },
                title: f[10..].join(" "),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_panes_output_parses_and_ids_are_file_safe() {
        let line = [
            "%12",
            "4242",
            "/home/u/src/app",
            "claude",
            "work:1.0",
            "/dev/pts/3",
            "0",
            "1",
            "120",
            "40",
            "✳ Claude Code",
        ]
        .join("\u{1f}");
        let panes = parse_panes(
            &format!("{line}\ngarbage\n"),
            Path::new("/tmp/tmux-0/My Server"),
            "My Server",
        );
        assert_eq!(panes.len(), 1, "malformed lines are skipped");
        let p = &panes[0];
        assert_eq!((p.pid, p.marked, p.dead), (4242, true, false));
        assert_eq!(
            p.size,
            Size {
                cols: 120,
                rows: 40
            }
        );
        assert_eq!(p.session_id().as_str(), "tmux-my-server-12");
    }
}
