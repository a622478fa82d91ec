//! Claude Code's per-process status files (`~/.claude/sessions/<pid>.json`): the state of a
//! Claude Code that Paddock did not start (no hooks), one signal among several. Read only
//! while such sessions exist, twice a second, and only the files that changed.

use crate::state::FileStatus;
use crate::supervisor::Handle;
use paddock_agents::claude::status::{CliStatus, StatusFile};
use paddock_agents::claude::ClaudePaths;
use paddock_proto::supervisor::SessionView;
use paddock_proto::SessionId;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;

/// How often the files are read while a session needs them.
const EVERY: Duration = Duration::from_millis(500);

/// What a status file says, for the state machine.
pub fn file_status(f: &StatusFile) -> Option<FileStatus> {
    match f.status.as_ref()? {
        CliStatus::Busy => Some(FileStatus::Busy),
        CliStatus::Idle => Some(FileStatus::Idle),
        CliStatus::Waiting => Some(FileStatus::Waiting {
            permission: f
                .waiting_for
                .as_deref()
                .is_some_and(|w| w.to_ascii_lowercase().contains("permission")),
        }),
        CliStatus::Other(_) => None,
    }
}

/// Follows the status files until `shutdown`.
pub async fn follow(handle: Handle, mut shutdown: watch::Receiver<bool>) {
    let Some(paths) = ClaudePaths::from_env() else {
        tracing::debug!(
            "no HOME or CLAUDE_CONFIG_DIR: Claude Code's status files are not followed"
        );
        return;
    };
    let mut last: HashMap<SessionId, Option<FileStatus>> = HashMap::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => return,
        }
        let wanted: Vec<SessionView> = handle
            .sessions()
            .into_iter()
            .filter(|v| {
                v.is_running()
                    && v.agent.as_deref() == Some("claude")
                    // A background agent's state comes from its own state file.
                    && crate::agents::claude_bg::ops::job_id(&v.id).is_none()
                    && !handle.agents().facts(&v.id).is_some_and(|f| f.hooked)
            })
            .collect();
        last.retain(|id, _| wanted.iter().any(|v| &v.id == id));
        if wanted.is_empty() {
            continue;
        }
        let p = paths.clone();
        let Ok(files) = tokio::task::spawn_blocking(move || p.status_files()).await else {
            continue;
        };
        for view in wanted {
            let file = files.iter().find(|f| owns(view.pid, f.pid));
            if let (Some(f), Some(t)) = (file, handle.transcripts()) {
                if let Some(sid) = &f.session_id {
                    if let Some(path) = paths.find_transcript(f.cwd.as_deref(), sid) {
                        t.follow(&view.id, &paddock_agents::AgentKind::Claude, &path);
                    }
                }
            }
            let status = file.and_then(file_status);
            if last.get(&view.id) != Some(&status) {
                last.insert(view.id.clone(), status.clone());
                handle
                    .registry()
                    .observe(&view.id, |m, _| m.status_file(status));
            }
        }
    }
}

/// Whether the process `pid` is `root` or runs under it (a tmux pane's shell runs claude).
fn owns(root: u32, pid: u32) -> bool {
    let mut p = pid;
    for _ in 0..5 {
        if p == root {
            return true;
        }
        match parent_of(p) {
            Some(parent) if parent > 1 => p = parent,
            _ => return false,
        }
    }
    false
}

/// A process's parent, from `/proc` (None elsewhere, or when it is gone).
pub fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_waiting_for_a_permission_prompt_reads_as_such() {
        let bytes = include_bytes!("../../agents/tests/data/claude-session-status-2.1.328.json");
        let f = StatusFile::parse(std::path::Path::new("12370.json"), bytes).expect("parses");
        assert_eq!(
            file_status(&f),
            Some(FileStatus::Waiting { permission: true })
        );
    }

    #[test]
    fn a_process_is_owned_by_itself_and_its_ancestors() {
        let me = std::process::id();
        assert!(owns(me, me));
        assert!(owns(std::os::unix::process::parent_id(), me));
        assert!(!owns(u32::MAX - 1, me));
    }
}
