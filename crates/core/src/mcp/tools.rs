//! The MCP tools, one method each under rmcp's `#[tool_router]`: names and argument schemas
//! are stable (docs/mcp.md lists them). Each tool checks the caller's profile, then calls the
//! operation the supervisor already has; changes are audited like any other client's. Errors
//! a model can act on (unknown session, refused by role, bad arguments) come back as tool
//! results with `isError: true` and a sentence saying what to do.
//!
//! This module holds the server of one connection and what the tool families share (who may
//! act on which session, how a session is shown); each family is a module with its own
//! router: `sessions` (list, get, wait), `reading` (screen, transcript), `input` (message,
//! keys), `lifecycle` (spawn, stop, interrupt, pause, resume), `approvals`, `owner` (notify,
//! ask), `status`, `prompt` (the permission prompt of `claude -p`), and `read_output` in
//! `mcp/output.rs`. `handler` dispatches the calls and audits them.

mod approvals;
mod handler;
mod input;
mod lifecycle;
mod owner;
mod prompt;
mod reading;
mod sessions;
mod status;

pub use approvals::{AnswerArgs, AnswerResult, ApprovalList};
pub use input::{KeysArgs, MessageArgs, MessageResult};
pub use lifecycle::{ControlArgs, SpawnArgs, StopArgs};
pub use owner::{AskArgs, AskResult, NotifyArgs, NotifyResult, TicketArgs};
pub use reading::{ScreenText, TranscriptArgs, TranscriptPage};
pub use sessions::{ListArgs, SessionArgs, SessionDetail, SessionList, WaitArgs, WaitResult};

use super::asks::Asks;
use super::caller::{Caller, Profile};
use crate::supervisor::Handle;
use paddock_proto::supervisor::SessionView;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Longest a blocking tool (`wait_for`, `ask_owner`) waits before it returns "not yet":
/// Claude Code gives up on an HTTP tool call without a first byte after 60 s.
const MAX_WAIT: Duration = Duration::from_secs(45);
/// Most keys `send_keys` types in one call.
const MAX_KEYS: usize = 4096;
/// Most characters of a question or a notification.
const MAX_TEXT: usize = 4000;

type ToolResult<T> = Result<Json<T>, String>;

/// The MCP server of one connection: the supervisor's handle and who is calling.
#[derive(Clone)]
pub struct PaddockMcp {
    pub(super) handle: Handle,
    pub(super) caller: Caller,
    asks: Asks,
    tool_router: ToolRouter<Self>,
}

/// A session, as the tools show it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SessionSummary {
    pub id: String,
    pub name: String,
    /// `claude`, `codex`, ... when recognised.
    pub agent: Option<String>,
    /// starting, running, working, waiting_permission, waiting_input, idle, completed,
    /// errored, exited.
    pub state: String,
    /// The tool running, when working.
    pub tool: Option<String>,
    /// The pending permission request's id, when waiting for permission.
    pub permission: Option<String>,
    /// Why (errored), or what it asks (waiting_input).
    pub reason: Option<String>,
    pub exit_code: Option<i32>,
    /// When it entered this state, RFC 3339 UTC.
    pub since: String,
    pub command: String,
    pub cwd: String,
    pub started_at: String,
    pub paused: bool,
    /// Whether the session is the caller's own.
    pub yours: bool,
}

/// What a control tool did.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Done {
    pub detail: String,
    pub session: SessionSummary,
}

fn summary(view: &SessionView, caller: &Caller) -> SessionSummary {
    SessionSummary {
        id: view.id.to_string(),
        name: view.name.clone(),
        agent: view.agent.clone(),
        state: view.status.state.as_str().to_owned(),
        tool: view.status.tool.clone(),
        permission: view.status.permission.as_ref().map(|p| p.id.clone()),
        reason: view.status.reason.clone(),
        exit_code: view.status.exit_code,
        since: view.status.since.clone(),
        command: view.command.clone(),
        cwd: view.cwd.clone(),
        started_at: view.started_at.clone(),
        paused: view.paused,
        yours: caller.session.as_ref() == Some(&view.id),
    }
}

impl PaddockMcp {
    /// The server for one connection of `caller`.
    pub fn new(handle: Handle, caller: Caller) -> Self {
        let asks = handle.mcp_asks().clone();
        Self {
            handle,
            caller,
            asks,
            tool_router: Self::sessions_router()
                + Self::reading_router()
                + Self::input_router()
                + Self::lifecycle_router()
                + Self::approvals_router()
                + Self::owner_router()
                + Self::status_router()
                + Self::prompt_router()
                + Self::output_router(),
        }
    }

    /// The caller of this connection.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    fn require_orchestrator(&self, what: &str) -> Result<(), String> {
        if self.caller.profile == Profile::Orchestrator {
            return Ok(());
        }
        Err(format!(
            "refused: {what} needs the orchestrator role, and this caller has the agent profile (its own session only); the owner grants the role when starting a session with `paddock run --orchestrator`"
        ))
    }

    /// The session a tool acts on: an agent's own (named or left out), or, for an
    /// orchestrator, any it names.
    pub(super) fn target(&self, query: Option<&str>) -> Result<SessionView, String> {
        let own = || {
            self.caller
                .session
                .as_ref()
                .and_then(|id| self.handle.registry().get(id))
        };
        match (query.filter(|q| !q.trim().is_empty()), self.caller.profile) {
            (None, _) => own().ok_or_else(|| {
                "name a session: this caller runs in no Paddock session (start agents with `paddock run` to give them one)".to_owned()
            }),
            (Some(q), Profile::Orchestrator) => {
                crate::control::find(&self.handle, q).map_err(|e| e.to_string())
            }
            (Some(q), Profile::Agent) => {
                let view = crate::control::find(&self.handle, q).map_err(|e| e.to_string())?;
                if self.caller.session.as_ref() == Some(&view.id) {
                    Ok(view)
                } else {
                    Err(format!(
                        "refused: `{q}` is another session, and this caller has the agent profile, which acts on its own session only; the owner grants the orchestrator role with `paddock run --orchestrator`"
                    ))
                }
            }
        }
    }

    fn fresh(&self, view: &SessionView) -> SessionSummary {
        let now = self.handle.registry().get(&view.id);
        summary(now.as_ref().unwrap_or(view), &self.caller)
    }
}
