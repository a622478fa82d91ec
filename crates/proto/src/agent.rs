//! What an agent is doing: the fused state of a session, permission requests and the answers
//! to them, and the control actions a client may take. Shared by the supervisor's local socket,
//! the endpoint and (exported to TypeScript) the UI.

use crate::ids::SessionId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A session's state, fused from every signal Paddock has (see [`StateSource`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// The process has just started and shown nothing yet (at most a few seconds: see
    /// docs/design/supervisor.md, "What the state machine guarantees").
    #[default]
    Starting,
    /// The process runs, and nothing that knows what it does speaks: what `paddock ls` says
    /// without the supervisor, and the supervisor for a process whose terminal it cannot see
    /// (found in the process table, an unbridged tmux pane) until its status file speaks.
    Running,
    /// Working on a task (the detail names the tool when one runs).
    Working,
    /// Stopped at a permission prompt (the detail carries the exact request).
    WaitingPermission,
    /// Finished a turn or asked a question: waits for its owner to type.
    WaitingInput,
    /// Running, nothing to do and nothing asked (e.g. a fresh prompt, a quiet program).
    Idle,
    /// Ended normally: the agent finished its work and its process exited with code 0.
    Completed,
    /// The agent reports a failure it cannot get past by itself (the detail says why); its
    /// process may still run.
    Errored,
    /// The process is gone (the detail has the exit code or signal).
    Exited,
}

impl AgentState {
    pub const ALL: [AgentState; 9] = [
        AgentState::Starting,
        AgentState::Running,
        AgentState::Working,
        AgentState::WaitingPermission,
        AgentState::WaitingInput,
        AgentState::Idle,
        AgentState::Completed,
        AgentState::Errored,
        AgentState::Exited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Starting => "starting",
            AgentState::Running => "running",
            AgentState::Working => "working",
            AgentState::WaitingPermission => "waiting_permission",
            AgentState::WaitingInput => "waiting_input",
            AgentState::Idle => "idle",
            AgentState::Completed => "completed",
            AgentState::Errored => "errored",
            AgentState::Exited => "exited",
        }
    }

    /// Whether the session's process has ended.
    pub fn is_final(self) -> bool {
        matches!(self, AgentState::Completed | AgentState::Exited)
    }

    /// Whether the agent waits for its owner.
    pub fn needs_owner(self) -> bool {
        matches!(
            self,
            AgentState::WaitingPermission | AgentState::WaitingInput | AgentState::Errored
        )
    }
}

impl fmt::Display for AgentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a session's state came from, most exact first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StateSource {
    /// The agent's own hooks, injected by Paddock (exact and immediate).
    Hooks,
    /// The agent's per-process status file (Claude Code's `~/.claude/sessions/<pid>.json`).
    StatusFile,
    /// The program's own status reports to its terminal (OSC 7501), read by its holder.
    Program,
    /// The agent's transcript or rollout file.
    Transcript,
    /// What the terminal shows.
    Screen,
    /// Whether the terminal printed anything lately.
    Output,
    /// The process table: alive or gone, and how it ended.
    Process,
}

/// The state with what goes with it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct StateDetail {
    pub state: AgentState,
    /// The tool running (`working`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The pending request (`waiting_permission`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<Box<PermissionRequest>>,
    /// Why (`errored`), or what the agent asks (`waiting_input`, when it says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The exit code (`completed`, `exited`); null otherwise.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// The signals this state was decided from, the deciding one first.
    #[serde(default)]
    pub sources: Vec<StateSource>,
    /// What the program last reported to its terminal about itself (OSC 7501: its message,
    /// kind and progress), when it did; shown whatever source decided the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<Box<crate::program_status::ProgramStatus>>,
    /// When the session entered this state, RFC 3339 UTC.
    #[serde(default)]
    pub since: String,
}

/// A permission request's id, e.g. `p7`.
pub type PermissionId = String;

/// An agent asking before it runs a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct PermissionRequest {
    pub id: PermissionId,
    /// The Paddock session.
    pub session: SessionId,
    /// The agent's own session id (Claude Code's `session_id`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_session: Option<String>,
    pub tool: String,
    /// The tool's input as the agent gave it (e.g. `{"command": "rm -rf build"}`).
    pub input: serde_json::Value,
    /// The "always allow" rules the agent offers (Claude Code's `permission_suggestions`),
    /// as it gave them.
    #[serde(default)]
    pub suggestions: Vec<serde_json::Value>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// When the agent stops waiting for a remote answer (the prompt then stays in the
    /// terminal), RFC 3339 UTC.
    pub expires_at: String,
    /// How an answer reaches the agent: `hook` (exact) or `terminal` (keys typed into its
    /// prompt, for agents Paddock did not start).
    pub channel: AnswerChannel,
    /// The questions the tool asks the user, with their options (Claude Code's
    /// AskUserQuestion): answer them with [`Decision::Answer`]. Empty for other tools.
    #[serde(default)]
    pub questions: Vec<crate::conversation::Question>,
    /// Set once decided (or withdrawn because it was answered in the terminal or expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<PermissionOutcome>,
}

/// How a permission answer reaches the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AnswerChannel {
    Hook,
    Terminal,
}

/// An answer to a permission request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(tag = "behavior", rename_all = "snake_case")]
pub enum Decision {
    /// Run the tool this once.
    Allow,
    /// Run it, and apply one of the request's suggestions (by index, default the first) so
    /// the agent stops asking.
    AllowAlways {
        #[serde(default)]
        suggestion: usize,
    },
    /// Answer the tool's questions (AskUserQuestion): each question's text to the chosen
    /// option's label (several labels joined by ", "), or to the user's own words.
    Answer {
        answers: std::collections::BTreeMap<String, String>,
    },
    /// Do not run it; the agent is told `message`.
    Deny {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
}

impl Decision {
    pub fn verb(&self) -> &'static str {
        match self {
            Decision::Allow => "allowed",
            Decision::AllowAlways { .. } => "always allowed",
            Decision::Answer { .. } => "answered",
            Decision::Deny { .. } => "denied",
        }
    }
}

/// What became of a permission request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PermissionOutcome {
    /// Answered through Paddock.
    Decided {
        decision: Decision,
        /// Who answered: a device name, `cli`, ...
        by: String,
        at: String,
    },
    /// The agent stopped waiting for Paddock (answered in the terminal, interrupted, or the
    /// hook's time ran out).
    Withdrawn { reason: String, at: String },
}

/// A control action on an agent (003 §3.3.2). Every backend that has a terminal supports
/// them; for an external process only `pause` and `resume`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Control {
    /// Type `text` into the agent's prompt and submit it; the answer is a [`MessageReceipt`].
    Message {
        text: String,
        /// How long to wait for a sign that the agent took it, in milliseconds (default
        /// 5000, at most [`MAX_TAKE_WAIT_MS`]).
        #[serde(default)]
        #[cfg_attr(feature = "wire", ts(type = "number | null"))]
        timeout_ms: Option<u64>,
        /// Type `text` exactly as given, then Enter (`paddock send --enter`), instead of as
        /// one message to an agent's prompt (pasted whole when it has several lines).
        #[serde(default)]
        typed: bool,
    },
    /// What the agent treats as interrupt (Esc for Claude Code and Codex, Ctrl-C for others);
    /// with a message, it is sent once the agent has stopped (feedback).
    Interrupt {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// Stop the process group (SIGSTOP).
    Pause,
    /// Continue it (SIGCONT).
    Resume,
}

impl Control {
    pub fn name(&self) -> &'static str {
        match self {
            Control::Message { .. } => "message",
            Control::Interrupt { .. } => "interrupt",
            Control::Pause => "pause",
            Control::Resume => "resume",
        }
    }
}

/// Whether an agent took a message, as far as Paddock could see within the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InputOutcome {
    /// The agent started working on it (its hooks said so, or it began to print).
    Submitted,
    /// The agent was busy: the message waits in its input until its turn allows.
    Queued,
    /// The session does not take input now: it has exited, or a dialog is up (a permission
    /// prompt) that the text would answer by accident. Nothing was typed.
    Refused,
    /// No sign either way within the wait: the receipt's detail says what was seen (the
    /// text may still sit in the input box).
    Unknown,
}

/// The longest a caller may have a message wait for its receipt.
pub const MAX_TAKE_WAIT_MS: u64 = 60_000;

/// What became of a message (`paddock message`, `POST /api/v1/sessions/{id}/message`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct MessageReceipt {
    pub outcome: InputOutcome,
    /// A sentence for people: what happened, and what to do next when it was not taken.
    pub detail: String,
    /// The session as it is after the message.
    pub session: crate::supervisor::SessionView,
}

/// A past or present agent session from the history index (the store's row itself: the
/// store, the local socket and the endpoint share this one type).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct HistoryEntry {
    /// The transcript file.
    pub path: String,
    /// `claude`, `codex`, ...
    pub agent: String,
    pub session_id: Option<String>,
    /// The folder the agent worked in.
    pub cwd: Option<String>,
    pub title: Option<String>,
    pub first_prompt: Option<String>,
    pub last_prompt: Option<String>,
    pub git_branch: Option<String>,
    pub model: Option<String>,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub tokens_in: u64,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub tokens_out: u64,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    #[serde(default)]
    pub tokens_cache_read: u64,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    #[serde(default)]
    pub tokens_cache_write: u64,
    /// Computed from the price table; 0 for a model it lacks.
    pub cost_usd: f64,
    /// Prompts typed by the user.
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub prompts: u64,
    /// Answers of the model.
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    #[serde(default)]
    pub responses: u64,
    /// Milliseconds since the Unix epoch.
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub started_ms: Option<i64>,
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub ended_ms: Option<i64>,
    /// Bytes of the transcript indexed.
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    #[serde(default)]
    pub bytes: u64,
}

/// A prompt or answer in the history that matches a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct HistoryHit {
    /// The transcript file.
    pub path: String,
    pub session_id: Option<String>,
    pub title: Option<String>,
    pub cwd: Option<String>,
    /// `user` or `assistant`.
    pub role: String,
    /// Milliseconds since the Unix epoch.
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub time_ms: Option<i64>,
    /// The matching text around the terms (`…` where it was cut); each matched term is
    /// between U+0002 and U+0003, characters that never occur in the text (brackets would:
    /// code is full of them). Render it as text, the marked parts highlighted.
    pub snippet: String,
}

/// What opens and closes a matched term in [`HistoryHit::snippet`]: U+0002 and U+0003.
pub const SNIPPET_MARKS: (char, char) = ('\u{2}', '\u{3}');

/// One page of the history (`GET /api/v1/history`): without a search, past sessions; with
/// one, its hits. `kind` says which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HistoryPage {
    /// Past sessions, the most recently ended first.
    Sessions {
        sessions: Vec<HistoryEntry>,
        /// Ask again with `offset` = this for the next page; `null` on the last page.
        next_offset: Option<u32>,
    },
    /// A search's hits, the best match first.
    Hits {
        /// The search as received.
        query: String,
        hits: Vec<HistoryHit>,
        /// Ask again with `offset` = this for the next page; `null` on the last page.
        next_offset: Option<u32>,
    },
}

/// What `paddock hook` forwards to the supervisor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookCall {
    /// Which agent's hook (`claude`, `codex`).
    pub agent: String,
    /// The Paddock session the hook runs in (`PADDOCK_SESSION_ID`), when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionId>,
    /// The hook process's ancestors (parent first), to find the session of an agent Paddock
    /// did not start but whose owner installed the hook.
    #[serde(default)]
    pub ancestors: Vec<u32>,
    /// Where the agent keeps its files, as the hook's environment says (Codex: `CODEX_HOME`
    /// or `~/.codex`; Claude Code: `CLAUDE_CONFIG_DIR` or `~/.claude`), so the supervisor
    /// finds its rollout even when its own environment differs, and follows only transcripts
    /// inside it (or its own agents' folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_home: Option<String>,
    /// The agent's JSON, as it gave it.
    pub payload: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_serialize_as_their_names() {
        for s in AgentState::ALL {
            let json = serde_json::to_string(&s).expect("serializes");
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            let back: AgentState = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, s);
        }
    }

    #[test]
    fn decisions_and_controls_round_trip() {
        let all = [
            Decision::Allow,
            Decision::AllowAlways { suggestion: 1 },
            Decision::Deny {
                message: Some("not in prod".into()),
            },
            Decision::Deny { message: None },
        ];
        for d in all {
            let json = serde_json::to_string(&d).expect("serializes");
            assert_eq!(serde_json::from_str::<Decision>(&json).expect("parses"), d);
        }
        let deny: Decision = serde_json::from_str(r#"{"behavior":"deny","message":"no"}"#)
            .expect("the documented shape parses");
        assert_eq!(
            deny,
            Decision::Deny {
                message: Some("no".into())
            }
        );
        for c in [
            Control::Message {
                text: "go".into(),
                timeout_ms: Some(2000),
                typed: false,
            },
            Control::Interrupt { message: None },
            Control::Interrupt {
                message: Some("stop that".into()),
            },
            Control::Pause,
            Control::Resume,
        ] {
            let json = serde_json::to_string(&c).expect("serializes");
            assert_eq!(serde_json::from_str::<Control>(&json).expect("parses"), c);
        }
    }
}
