//! Claude Code's per-process status file, `~/.claude/sessions/<pid>.json`: which session a
//! running interactive CLI has, its cwd, the tmux pane it runs in, and whether it is busy,
//! idle or waiting (and for what). Undocumented: one signal among several, for sessions
//! Paddock did not start and cannot hook.

use crate::hook::StateHint;
use crate::AgentError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Status files larger than this are not status files.
const MAX_STATUS_FILE: u64 = 1024 * 1024;

/// The status a CLI reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CliStatus {
    /// Running a turn.
    Busy,
    /// At its prompt.
    Idle,
    /// Waiting for the user (see [`StatusFile::waiting_for`]).
    Waiting,
    /// A status this build does not know, as written.
    Other(String),
}

/// A tmux pane as the status file names it: `"cc:@0.%0"` is session `cc`, window `@0`,
/// pane `%0`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmuxLocation {
    pub session: String,
    pub window: Option<String>,
    /// The pane id (`%0`), what `tmux` commands take as a target.
    pub pane: Option<String>,
}

impl TmuxLocation {
    /// Reads `session:window.pane`; parts that are missing are `None`.
    pub fn parse(s: &str) -> Option<TmuxLocation> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        // The session name may itself contain ':'; the window and pane ids never do.
        let (session, rest) = match s.rsplit_once(':') {
            Some((sess, rest)) if rest.starts_with('@') || rest.starts_with('%') => {
                (sess, Some(rest))
            }
            _ => (s, None),
        };
        let (window, pane) = match rest {
            None => (None, None),
            Some(r) => match r.split_once('.') {
                Some((w, p)) => (Some(w.to_owned()), Some(p.to_owned())),
                None if r.starts_with('%') => (None, Some(r.to_owned())),
                None => (Some(r.to_owned()), None),
            },
        };
        Some(TmuxLocation {
            session: session.to_owned(),
            window,
            pane,
        })
    }
}

/// One status file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusFile {
    /// The file it was read from.
    pub path: PathBuf,
    /// The CLI's pid (from the file, else from the file name).
    pub pid: u32,
    pub session_id: Option<String>,
    pub cwd: Option<PathBuf>,
    /// When the CLI started, unix ms.
    pub started_at_ms: Option<u64>,
    pub version: Option<String>,
    /// `interactive`, ...
    pub kind: Option<String>,
    pub entrypoint: Option<String>,
    /// The session's display name.
    pub name: Option<String>,
    pub tmux: Option<TmuxLocation>,
    pub status: Option<CliStatus>,
    /// What a waiting CLI waits for ("permission prompt", ...).
    pub waiting_for: Option<String>,
    /// When `status` last changed, unix ms.
    pub status_updated_ms: Option<u64>,
    pub updated_ms: Option<u64>,
    /// The file as read, for fields this build does not know.
    pub raw: Value,
}

impl StatusFile {
    /// Reads and parses one status file.
    pub fn read(path: &Path) -> Result<StatusFile, AgentError> {
        let io = |source| AgentError::Io {
            path: path.to_owned(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.len() > MAX_STATUS_FILE {
            return Err(AgentError::BadFile {
                path: path.to_owned(),
                what: "Claude Code status file",
                reason: format!("{} bytes", meta.len()),
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Self::parse(path, &bytes)
    }

    /// Parses the bytes of the status file at `path` (the path supplies the pid when the
    /// file does not).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<StatusFile, AgentError> {
        let bad = |reason: String| AgentError::BadFile {
            path: path.to_owned(),
            what: "Claude Code status file",
            reason,
        };
        let raw: Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if !raw.is_object() {
            return Err(bad("not a JSON object".into()));
        }
        let s = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
        let n = |k: &str| raw.get(k).and_then(Value::as_u64);
        let pid = n("pid")
            .and_then(|p| u32::try_from(p).ok())
            .or_else(|| {
                path.file_stem()
                    .and_then(|s| s.to_str())
                    .and_then(|s| s.parse().ok())
            })
            .ok_or_else(|| bad("no pid in the file or its name".into()))?;
        let status = s("status").map(|st| match st.as_str() {
            "busy" => CliStatus::Busy,
            "idle" => CliStatus::Idle,
            "waiting" => CliStatus::Waiting,
            _ => CliStatus::Other(st),
        });
        Ok(StatusFile {
            path: path.to_owned(),
            pid,
            session_id: s("sessionId"),
            cwd: s("cwd").map(PathBuf::from),
            started_at_ms: n("startedAt"),
            version: s("version"),
            kind: s("kind"),
            entrypoint: s("entrypoint"),
            name: s("name"),
            tmux: s("tmux").as_deref().and_then(TmuxLocation::parse),
            status,
            waiting_for: s("waitingFor"),
            status_updated_ms: n("statusUpdatedAt"),
            updated_ms: n("updatedAt"),
            raw,
        })
    }

    /// What the status means for the session's state.
    pub fn state_hint(&self) -> StateHint {
        match &self.status {
            Some(CliStatus::Busy) => StateHint::Working { tool: None },
            Some(CliStatus::Idle) => StateHint::WaitingInput,
            Some(CliStatus::Waiting) => {
                let w = self.waiting_for.as_deref().unwrap_or("").to_lowercase();
                if w.contains("permission") || w.contains("approval") {
                    StateHint::WaitingPermission { tool: None }
                } else {
                    StateHint::WaitingInput
                }
            }
            Some(CliStatus::Other(_)) | None => StateHint::NoChange,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmux_locations_are_split_into_session_window_and_pane() {
        let t = TmuxLocation::parse("cc:@0.%0").expect("parse");
        assert_eq!(t.session, "cc");
        assert_eq!(t.window.as_deref(), Some("@0"));
        assert_eq!(t.pane.as_deref(), Some("%0"));
        let t = TmuxLocation::parse("my:proj:@3.%12").expect("parse");
        assert_eq!(t.session, "my:proj");
        assert_eq!(t.pane.as_deref(), Some("%12"));
        let t = TmuxLocation::parse("main").expect("parse");
        assert_eq!((t.window, t.pane), (None, None));
        assert_eq!(TmuxLocation::parse(""), None);
    }

    #[test]
    fn a_status_file_without_pid_takes_it_from_its_name_and_unknown_status_is_kept() {
        let s = StatusFile::parse(
            Path::new("/x/sessions/4242.json"),
            br#"{"status":"compacting","sessionId":"abc","newField":[1]}"#,
        )
        .expect("parse");
        assert_eq!(s.pid, 4242);
        assert_eq!(s.status, Some(CliStatus::Other("compacting".into())));
        assert_eq!(s.state_hint(), StateHint::NoChange);
        assert_eq!(s.raw["newField"][0], 1);
    }

    #[test]
    fn unreadable_status_files_are_clear_errors() {
        let e =
            StatusFile::parse(Path::new("/x/sessions/notapid.json"), b"{}").expect_err("no pid");
        assert!(e.to_string().contains("no pid"), "{e}");
        let e = StatusFile::parse(Path::new("/x/sessions/1.json"), b"{\"pid\":").expect_err("cut");
        assert!(e.to_string().contains("/x/sessions/1.json"), "{e}");
    }
}
