//! What the supervisor says about the sessions it knows and about itself.

use crate::agent::{AgentState, StateDetail, StateSource};
use crate::ids::SessionId;
use crate::message::{SessionInfo, SessionState};
use serde::{Deserialize, Serialize};

/// Where a session's terminal lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// A Paddock holder: full terminal access.
    #[default]
    Holder,
    /// A tmux pane: terminal access through tmux.
    Tmux,
    /// A process in a terminal Paddock cannot reach (Terminal.app, iTerm, a bare tty):
    /// metrics and signals only.
    External,
    /// One of Claude Code's background agents (`claude --bg`), run by Claude's own daemon:
    /// its terminal is opened on demand with `claude attach` in a holder.
    ClaudeBg,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Holder => "holder",
            Backend::Tmux => "tmux",
            Backend::External => "external",
            Backend::ClaudeBg => "claude-bg",
        })
    }
}

/// One row of `paddock ls --json`: the holder's fields plus `backend`, `agent`, `cpu`, `rss`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct SessionView {
    pub id: SessionId,
    pub name: String,
    pub command: String,
    pub cwd: String,
    pub pid: u32,
    /// The fused state (`state`, and with it `tool`, `permission`, `reason`, `exit_code`,
    /// `sources`, `since`).
    #[serde(flatten)]
    pub status: StateDetail,
    pub started_at: String,
    /// Clients attached through Paddock (holders only; 0 otherwise).
    pub clients: u32,
    pub backend: Backend,
    /// The agent running in it (`claude`, `codex`, `gemini`, `aider`, a configured name), if
    /// one was recognised.
    pub agent: Option<String>,
    /// CPU use of the whole process tree, percent of one core; null until first sampled.
    pub cpu: Option<f32>,
    /// Resident memory of the whole process tree in bytes; null until first sampled.
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub rss: Option<u64>,
    /// The agent's process is stopped (paused through Paddock, SIGSTOP or Ctrl-Z); resume
    /// continues it. Seen by the monitor each second, at once for a pause through Paddock.
    #[serde(default)]
    pub paused: bool,
    /// What the agent says it is doing (MCP `set_status`); absent until it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wire", ts(optional))]
    pub agent_status: Option<AgentStatus>,
    // worktrees (issue 16): begin
    /// The git state of its folder (branch, ahead/behind, changed files, diff stat), filled
    /// in by the REST session routes and `paddock ls`/`show`; absent outside a repository and
    /// in events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wire", ts(optional))]
    pub git: Option<crate::git::GitStatus>,
    // worktrees (issue 16): end
}

/// An agent's own account of its work, set through MCP `set_status` and shown beside its
/// state (`paddock ls`/`show`, REST, the UI). Kept for the session's life; replaced whole.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct AgentStatus {
    /// The task it works on, e.g. "Migrate the store to v3".
    pub task: Option<String>,
    /// Steps done of `total`, when it counts steps.
    pub done: Option<u32>,
    pub total: Option<u32>,
    /// 0..=100: given, or `done` of `total`.
    pub percent: Option<u8>,
    /// A short line on what it does now.
    pub message: Option<String>,
    /// When it was set, RFC 3339 UTC.
    pub at: String,
}

impl AgentStatus {
    /// One line for a list: "task · 3/7 (42%) · message".
    pub fn line(&self) -> String {
        let progress = match (self.done, self.total, self.percent) {
            (Some(d), Some(t), Some(p)) => Some(format!("{d}/{t} ({p}%)")),
            (_, _, Some(p)) => Some(format!("{p}%")),
            _ => None,
        };
        [self.task.clone(), progress, self.message.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// One process of a session's tree, as last sampled (`GET /api/v1/processes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ProcessView {
    pub pid: u32,
    /// The parent's pid, when known.
    pub ppid: Option<u32>,
    /// The session whose tree it is in.
    pub session: SessionId,
    /// The OS's short name for it (Linux `comm`).
    pub name: String,
    /// Its command line; empty when it may not be read.
    pub command: Vec<String>,
    pub cwd: Option<String>,
    /// When it started, RFC 3339 UTC.
    pub started_at: String,
    /// CPU since the previous sample, percent of one core.
    pub cpu: f32,
    /// Resident memory, bytes.
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub rss: u64,
    pub threads: Option<u32>,
    pub open_files: Option<u32>,
    /// running, sleeping, disk_sleep, stopped, zombie, ...
    pub status: String,
    /// Its controlling terminal, e.g. `/dev/pts/3`.
    pub tty: Option<String>,
}

impl SessionView {
    /// A holder's session (its own PTY, or a tmux pane it mirrors) before the monitor has
    /// sampled it.
    pub fn from_holder(info: &SessionInfo, agent: Option<String>) -> Self {
        let s = info.summary();
        Self {
            id: s.id,
            name: s.name,
            command: s.command,
            cwd: s.cwd,
            pid: s.pid,
            status: StateDetail {
                state: process_state(s.state, s.exit_code),
                exit_code: s.exit_code,
                reason: info
                    .exit_signal
                    .as_ref()
                    .map(|sig| format!("killed by {sig}")),
                sources: vec![StateSource::Process],
                program: info.program_status.clone().map(Box::new),
                ..Default::default()
            },
            started_at: s.started_at,
            clients: s.clients,
            backend: info.backend,
            agent,
            cpu: None,
            rss: None,
            paused: false,
            agent_status: None,
            git: None,
        }
    }
}

impl SessionView {
    /// Whether the session's process still runs.
    pub fn is_running(&self) -> bool {
        !self.status.state.is_final()
    }
}

/// What the holder alone says: `running`, or `exited` (only the supervisor, which knows
/// whether the agent had finished its work, says `completed`; its state machine replaces
/// `running` at once with what the agent does).
pub fn process_state(state: SessionState, _exit_code: Option<i32>) -> AgentState {
    match state {
        SessionState::Running => AgentState::Running,
        SessionState::Exited => AgentState::Exited,
    }
}

/// Overall or per-component health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

/// One component's health with a message for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ComponentHealth {
    pub name: String,
    pub status: HealthStatus,
    pub message: String,
    /// The `database` component only: records (activity, audit entries, device changes,
    /// notification records, ...) kept in memory because they are not written yet. A few for
    /// a moment is normal; it grows while the database refuses writes (a full disk) and goes
    /// back to 0 once they are written. Absent for other components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wire", ts(optional, type = "number"))]
    pub pending_writes: Option<u64>,
}

/// `paddock status --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct SupervisorStatus {
    pub pid: u32,
    pub version: String,
    /// The commit this supervisor was built from (absent from older builds and from builds
    /// made outside a git checkout): `paddock up` tells builds of one version apart by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wire", ts(optional))]
    pub commit: Option<String>,
    /// The newest holder protocol it speaks (absent from builds older than this field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wire", ts(optional))]
    pub protocol: Option<u32>,
    pub started_at: String,
    pub runtime_dir: String,
    pub data_dir: String,
    pub config_file: String,
    pub health: HealthStatus,
    pub components: Vec<ComponentHealth>,
    pub sessions: u32,
    pub running: u32,
    pub holders: u32,
    pub tmux: u32,
    pub external: u32,
    /// The endpoint's base URL (`https://127.0.0.1:7420`), once it is serving.
    #[serde(default)]
    pub url: Option<String>,
    /// SHA-256 of the endpoint's TLS certificate, lowercase hex (none over plain HTTP).
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Where the owner was seen lately, most recent first (empty: away, or presence off).
    /// While it is not empty, push notifications wait (see `[notify.presence]`).
    #[serde(default)]
    pub presence: Vec<PresenceView>,
    /// Every notification is held (`paddock notifications pause`, the UI's settings, the
    /// app's tray); `paddock notifications resume` lets them go again.
    #[serde(default)]
    pub notifications_paused: bool,
}

/// Where the owner was seen: notifications reach that device first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct PresenceView {
    /// `desk` (this host's screen) or a paired device's name.
    pub device: String,
    /// What was seen: `typed into <session>`, `the UI visible`, `the app's window in front`.
    pub how: String,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub seconds_ago: u64,
}
