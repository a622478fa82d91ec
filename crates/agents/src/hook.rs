//! Hook events, agent-neutral: what an agent's lifecycle hook reported. Each agent's module
//! parses its own JSON into these types (Claude Code: [`crate::claude::hooks`]).

use crate::AgentError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;

/// A hook payload's JSON, which every agent sends as an object; anything else is an error
/// saying what was found.
pub(crate) fn payload_object(payload: &[u8]) -> Result<Value, AgentError> {
    let raw: Value = serde_json::from_slice(payload).map_err(|e| AgentError::BadHookPayload {
        reason: e.to_string(),
    })?;
    expect_object(raw)
}

/// `raw` when it is a JSON object; else an error naming what it is.
pub(crate) fn expect_object(raw: Value) -> Result<Value, AgentError> {
    let found = match &raw {
        Value::Object(_) => return Ok(raw),
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
    };
    Err(AgentError::BadHookPayload {
        reason: format!("found {found}"),
    })
}

/// One hook invocation: the fields every event carries, the typed event, and the whole
/// payload as received (so nothing the agent sent is lost, whatever its version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookPayload {
    /// The agent's own session id (Claude Code: a UUID).
    pub session_id: Option<String>,
    /// Where the agent writes this session's transcript.
    pub transcript_path: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
    /// The event's name as the agent spelled it (`PreToolUse`, or a name this build does not
    /// know).
    pub event_name: String,
    /// The permission mode in force (`default`, `auto`, `plan`, `acceptEdits`, ...).
    pub permission_mode: Option<String>,
    /// Identifies the user prompt (the turn) the event belongs to.
    pub prompt_id: Option<String>,
    pub event: HookEvent,
    /// The payload exactly as received.
    pub raw: Value,
}

/// A tool the agent runs or wants to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// `Bash`, `Edit`, `Write`, `mcp__server__tool`, ...
    pub name: String,
    /// The tool's input as the agent sent it (`{"command": "..."}` for Bash).
    pub input: Value,
    /// The agent's id of this call, when it sent one (pairs PreToolUse with PostToolUse).
    pub tool_use_id: Option<String>,
}

impl ToolCall {
    /// One line saying what the call does, for people: the command of a shell tool, the
    /// file of a file tool, the URL or query of a web tool, else the input's first string.
    pub fn summary(&self) -> String {
        crate::claude::tools::input_summary(&self.name, &self.input)
    }
}

/// One of the "always allow" options an agent offers with a permission request (Claude Code's
/// `permission_suggestions`). Kept whole in `raw`: answering "allow always" sends the chosen
/// suggestions back as they came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermissionSuggestion {
    /// `addRules`, `addDirectories`, `setMode`, ... (the suggestion's `type`).
    pub kind: String,
    /// Where the rule would be kept: `session`, `localSettings`, `projectSettings`,
    /// `userSettings`.
    pub destination: Option<String>,
    /// A sentence for people: "always allow access to /home/dev/app (this session)".
    pub label: String,
    pub raw: Value,
}

/// What a hook reported. Variants follow Claude Code's events (the richest set); other
/// agents map their own events onto them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum HookEvent {
    /// The session started (or resumed, was cleared or compacted: `source`).
    SessionStart {
        source: Option<String>,
        model: Option<String>,
    },
    /// The user submitted a prompt: a turn starts.
    UserPromptSubmit { prompt: String },
    /// The agent is about to run a tool (it may still ask for permission).
    PreToolUse { tool: ToolCall },
    /// The agent waits for the user's permission to run a tool, now.
    PermissionRequest {
        tool: ToolCall,
        suggestions: Vec<PermissionSuggestion>,
    },
    /// A message for the user; `notification_type` says why (`permission_prompt`,
    /// `idle_prompt`, ...).
    Notification {
        message: Option<String>,
        notification_type: Option<String>,
    },
    /// A tool finished.
    PostToolUse {
        tool: ToolCall,
        response: Option<Value>,
        duration_ms: Option<u64>,
    },
    /// A tool failed (or was interrupted).
    PostToolUseFailure {
        tool: ToolCall,
        error: Option<String>,
        is_interrupt: bool,
        duration_ms: Option<u64>,
    },
    /// The turn ended; the agent waits for input.
    Stop {
        last_assistant_message: Option<String>,
        stop_hook_active: bool,
    },
    /// The turn failed (`rate_limit`, `overloaded`, `authentication_failed`, ...).
    StopFailure {
        error: Option<String>,
        details: Option<String>,
    },
    /// The session ended (`reason`: `clear`, `logout`, `prompt_input_exit`, `other`, ...).
    SessionEnd { reason: Option<String> },
    /// An event this build does not know; its payload is in [`HookPayload::raw`].
    Unknown,
}

/// What an event means for the session's state, for the supervisor's state machine. The
/// supervisor decides; this is the agent module's reading of the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "hint", rename_all = "snake_case")]
pub enum StateHint {
    /// The session is starting (no turn yet).
    Starting,
    /// A turn is running; `tool` is the tool running, when one is.
    Working { tool: Option<String> },
    /// The agent waits for the user's permission for this tool.
    WaitingPermission { tool: Option<String> },
    /// The agent waits for the user's next message.
    WaitingInput,
    /// The turn failed for this reason.
    Errored { reason: String },
    /// The agent's session ended.
    Ended { reason: Option<String> },
    /// The event does not change the state.
    NoChange,
}

impl HookEvent {
    /// What this event means for the session's state.
    pub fn state_hint(&self) -> StateHint {
        match self {
            HookEvent::SessionStart { .. } => StateHint::WaitingInput,
            HookEvent::UserPromptSubmit { .. } => StateHint::Working { tool: None },
            HookEvent::PreToolUse { tool } => StateHint::Working {
                tool: Some(tool.name.clone()),
            },
            HookEvent::PermissionRequest { tool, .. } => StateHint::WaitingPermission {
                tool: Some(tool.name.clone()),
            },
            HookEvent::Notification {
                notification_type, ..
            } => match notification_type.as_deref() {
                Some("permission_prompt") => StateHint::WaitingPermission { tool: None },
                Some("idle_prompt") => StateHint::WaitingInput,
                _ => StateHint::NoChange,
            },
            // The turn goes on after a tool, whatever its outcome.
            HookEvent::PostToolUse { .. } | HookEvent::PostToolUseFailure { .. } => {
                StateHint::Working { tool: None }
            }
            HookEvent::Stop { .. } => StateHint::WaitingInput,
            HookEvent::StopFailure { error, details } => StateHint::Errored {
                reason: match (error, details) {
                    (Some(e), Some(d)) => format!("{e}: {d}"),
                    (Some(e), None) => e.clone(),
                    (None, Some(d)) => d.clone(),
                    (None, None) => "the turn failed".to_owned(),
                },
            },
            HookEvent::SessionEnd { reason } => StateHint::Ended {
                reason: reason.clone(),
            },
            HookEvent::Unknown => StateHint::NoChange,
        }
    }
}
