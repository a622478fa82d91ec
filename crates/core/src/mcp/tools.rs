//! The MCP tools, one method each under rmcp's `#[tool_router]`: names and argument schemas
//! are stable (docs/mcp.md lists them). Each tool checks the caller's profile, then calls the
//! operation the supervisor already has; changes are audited like any other client's. Errors
//! a model can act on (unknown session, refused by role, bad arguments) come back as tool
//! results with `isError: true` and a sentence saying what to do.

mod prompt;
mod status;

use super::asks::Asks;
use super::caller::{Caller, Profile};
use crate::access::AuditInput;
use crate::supervisor::Handle;
use paddock_proto::access::Permission;
use paddock_proto::agent::{AgentState, AnswerChannel, Control, Decision, PermissionRequest};
use paddock_proto::supervisor::SessionView;
use paddock_proto::{Request, Response};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{tool, tool_handler, tool_router, ServerHandler};
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

/// `list_sessions`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionSummary>,
}

/// Arguments of `list_sessions`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListArgs {
    /// Only sessions in this state (e.g. `waiting_permission`).
    #[serde(default)]
    pub state: Option<String>,
    /// Only sessions of this agent (e.g. `claude`).
    #[serde(default)]
    pub agent: Option<String>,
    /// Include sessions that have ended (default false).
    #[serde(default)]
    pub include_ended: bool,
}

/// Arguments naming a session (id, unique id prefix or name); an agent may leave it out
/// for its own.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SessionArgs {
    /// The session's id, unique id prefix or name; leave out for your own session.
    #[serde(default)]
    pub session: Option<String>,
}

/// `get_session`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SessionDetail {
    pub session: SessionSummary,
    /// What the agent's transcript says: task, recent actions, files, tokens, cost,
    /// progress (null when no transcript is followed).
    pub insight: Option<serde_json::Value>,
}

/// `read_screen`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ScreenText {
    pub session: String,
    /// The terminal's title.
    pub title: String,
    /// The screen, one string per row, trailing blanks trimmed.
    pub rows: Vec<String>,
    /// The output offset the screen reflects.
    pub offset: u64,
}

/// Arguments of `read_transcript`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct TranscriptArgs {
    /// The session; leave out for your own.
    #[serde(default)]
    pub session: Option<String>,
    /// Turns before this turn index (a page's `older`); without it, the newest.
    #[serde(default)]
    pub before: Option<u64>,
    /// At most this many turns (1..=50, default 10).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `read_transcript`: a page of the conversation model (turns, newest last).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TranscriptPage {
    pub session: String,
    pub page: serde_json::Value,
}

/// Arguments of `send_message`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct MessageArgs {
    /// The session; leave out for your own.
    #[serde(default)]
    pub session: Option<String>,
    /// What to type into the agent's prompt; submitted with Enter.
    pub text: String,
    /// How long to wait for a sign that the agent took it, in seconds (default 5, at most 60).
    #[serde(default)]
    pub timeout_secs: Option<f64>,
}

/// `send_message`: whether the agent took it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct MessageResult {
    /// submitted (it started on it), queued (it was busy and reads it when its turn
    /// allows), refused (no sign it took it).
    pub outcome: String,
    pub detail: String,
    pub session: SessionSummary,
}

/// Arguments of `send_keys`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KeysArgs {
    /// The session; leave out for your own.
    #[serde(default)]
    pub session: Option<String>,
    /// Text typed as is (no Enter added).
    #[serde(default)]
    pub text: Option<String>,
    /// Named keys typed after the text, in order: enter, escape, tab, backspace, up,
    /// down, left, right, ctrl-c, ctrl-d, ctrl-u.
    #[serde(default)]
    pub keys: Vec<String>,
}

/// Arguments of `stop_session`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct StopArgs {
    /// The session (id, unique id prefix or name).
    pub session: String,
    /// Seconds to wait after TERM before KILL, 0..=30 (default 10).
    #[serde(default)]
    pub grace_secs: Option<u64>,
}

/// Arguments of `interrupt`, `pause`, `resume`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ControlArgs {
    /// The session (id, unique id prefix or name).
    pub session: String,
}

/// What a control tool did.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Done {
    pub detail: String,
    pub session: SessionSummary,
}

/// Arguments of `spawn_session`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SpawnArgs {
    /// The program (looked up in PATH), e.g. `claude`; leave empty with `background`.
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// An absolute path to an existing folder to run it in.
    pub cwd: String,
    /// A name to refer to it by (unique); default: the program's name made unique.
    #[serde(default)]
    pub name: Option<String>,
    /// A prompt: start a Claude Code background agent (`claude --bg PROMPT`, run by Claude's
    /// own daemon, listed as `cbg-<id>`) in `cwd` instead of a program.
    #[serde(default)]
    pub background: Option<String>,
    // worktrees (issue 16): begin
    /// Start it in a new git worktree of `cwd`'s repository, on a new branch named after the
    /// session (`paddock/<name>`) unless `branch` is given.
    #[serde(default)]
    pub worktree: bool,
    /// The branch for the worktree (implies `worktree`); an existing one is checked out.
    #[serde(default)]
    pub branch: Option<String>,
    // worktrees (issue 16): end
}

/// Arguments of `wait_for`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WaitArgs {
    /// The session (id, unique id prefix or name); leave out for your own.
    #[serde(default)]
    pub session: Option<String>,
    /// The states to wait for (e.g. ["waiting_input", "idle", "exited"]); empty: any change
    /// of state.
    #[serde(default)]
    pub states: Vec<String>,
    /// Seconds to wait, 1..=45 (default 30). On timeout the result says so.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

/// `wait_for`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct WaitResult {
    /// Whether the awaited state (or a change) came; false means the wait timed out.
    pub reached: bool,
    pub waited_ms: u64,
    pub detail: String,
    pub session: SessionSummary,
}

/// `list_approvals`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalList {
    pub requests: Vec<serde_json::Value>,
}

/// Arguments of `answer_approval`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AnswerArgs {
    /// The request's id, e.g. `p3`.
    pub request: String,
    /// allow, allow_always, or deny.
    pub decision: String,
    /// With deny: what the agent is told.
    #[serde(default)]
    pub message: Option<String>,
}

/// `answer_approval`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AnswerResult {
    pub detail: String,
    pub request: serde_json::Value,
}

/// Arguments of `notify_owner`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct NotifyArgs {
    /// A short title.
    pub title: String,
    /// What the owner should know.
    #[serde(default)]
    pub body: String,
}

/// `notify_owner`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct NotifyResult {
    pub notification: String,
    pub detail: String,
}

/// Arguments of `ask_owner`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AskArgs {
    /// The question.
    pub question: String,
    /// Answers to choose from (the owner may also write their own).
    #[serde(default)]
    pub choices: Vec<String>,
    /// Seconds to wait for the answer, 0..=45 (default 40); past it the result carries a
    /// ticket for `get_answer`.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

/// Arguments of `get_answer`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TicketArgs {
    /// The ticket `ask_owner` returned.
    pub ticket: String,
}

/// `ask_owner` and `get_answer`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AskResult {
    /// Whether the owner has answered.
    pub answered: bool,
    /// The owner's answer (a choice's label or their own words).
    pub answer: Option<String>,
    /// For `get_answer` when not answered yet.
    pub ticket: String,
    pub detail: String,
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

fn parse_state(s: &str) -> Result<AgentState, String> {
    AgentState::ALL
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| {
            format!(
                "`{s}` is not a state; use one of {}",
                AgentState::ALL.map(AgentState::as_str).join(", ")
            )
        })
}

fn key_bytes(name: &str) -> Result<&'static [u8], String> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "enter" | "return" => b"\r",
        "escape" | "esc" => b"\x1b",
        "tab" => b"\t",
        "backspace" => b"\x7f",
        "up" => b"\x1b[A",
        "down" => b"\x1b[B",
        "right" => b"\x1b[C",
        "left" => b"\x1b[D",
        "ctrl-c" => b"\x03",
        "ctrl-d" => b"\x04",
        "ctrl-u" => b"\x15",
        other => {
            return Err(format!(
                "`{other}` is not a key name; use enter, escape, tab, backspace, up, down, left, right, ctrl-c, ctrl-d or ctrl-u"
            ))
        }
    })
}

impl PaddockMcp {
    /// The server for one connection of `caller`.
    pub fn new(handle: Handle, caller: Caller) -> Self {
        let asks = handle.mcp_asks().clone();
        Self {
            handle,
            caller,
            asks,
            tool_router: Self::tool_router()
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

    async fn control(&self, args: ControlArgs, control: Control) -> ToolResult<Done> {
        self.caller.need(Permission::Control)?;
        let name = control.name();
        self.require_orchestrator(&format!("{name} on a session"))?;
        let view = self.target(Some(&args.session))?;
        let result =
            crate::control::control(&self.handle, view.id.as_str(), control, &self.caller.actor)
                .await
                .map(|v| Done {
                    detail: format!("{name}: done on {}", v.name),
                    session: self.fresh(&v),
                })
                .map_err(|e| e.to_string());
        result.map(Json)
    }
}

#[tool_router(router = tool_router)]
impl PaddockMcp {
    #[tool(
        description = "List Paddock's sessions (an agent sees its own only). Filters: state, agent, include_ended.",
        annotations(read_only_hint = true)
    )]
    async fn list_sessions(&self, args: Parameters<ListArgs>) -> ToolResult<SessionList> {
        self.caller.need(Permission::SessionsList)?;
        let args = args.0;
        let state = args.state.as_deref().map(parse_state).transpose()?;
        let sessions = self
            .handle
            .sessions()
            .into_iter()
            .filter(|v| {
                self.caller.profile == Profile::Orchestrator
                    || self.caller.session.as_ref() == Some(&v.id)
            })
            .filter(|v| args.include_ended || v.is_running())
            .filter(|v| state.is_none_or(|s| v.status.state == s))
            .filter(|v| {
                args.agent
                    .as_deref()
                    .is_none_or(|a| v.agent.as_deref() == Some(a))
            })
            .map(|v| summary(&v, &self.caller))
            .collect();
        Ok(Json(SessionList { sessions }))
    }

    #[tool(
        description = "One session: its state, and what its transcript says (task, recent actions, tokens, cost, progress).",
        annotations(read_only_hint = true)
    )]
    async fn get_session(&self, args: Parameters<SessionArgs>) -> ToolResult<SessionDetail> {
        self.caller.need(Permission::Read)?;
        let view = self.target(args.0.session.as_deref())?;
        let insight = self
            .handle
            .insight(&view.id)
            .and_then(|i| serde_json::to_value(i).ok());
        Ok(Json(SessionDetail {
            session: summary(&view, &self.caller),
            insight,
        }))
    }

    #[tool(
        description = "The session's terminal screen as text, one string per row.",
        annotations(read_only_hint = true)
    )]
    async fn read_screen(&self, args: Parameters<SessionArgs>) -> ToolResult<ScreenText> {
        self.caller.need(Permission::Read)?;
        let view = self.target(args.0.session.as_deref())?;
        match self
            .handle
            .session_request(&view.id, Request::Screen)
            .await
            .map_err(|e| e.to_string())?
        {
            Response::Screen {
                rows,
                offset,
                title,
            } => Ok(Json(ScreenText {
                session: view.id.to_string(),
                title,
                rows: rows.into_iter().map(|r| r.trim_end().to_owned()).collect(),
                offset,
            })),
            other => Err(format!(
                "the session's holder answered {other:?} instead of its screen; try again"
            )),
        }
    }

    #[tool(
        description = "A page of the session's conversation (turns with prompts, replies, tool calls and results), from its agent's transcript.",
        annotations(read_only_hint = true)
    )]
    async fn read_transcript(
        &self,
        args: Parameters<TranscriptArgs>,
    ) -> ToolResult<TranscriptPage> {
        self.caller.need(Permission::Read)?;
        let args = args.0;
        let view = self.target(args.session.as_deref())?;
        let limit = args.limit.unwrap_or(10).clamp(1, 50) as usize;
        let handle = self.handle.clone();
        let id = view.id.clone();
        let page = tokio::task::spawn_blocking(move || {
            handle
                .transcripts()
                .ok_or_else(|| "transcripts are not followed on this host".to_owned())?
                .conversation_page(&id, args.before, limit)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|_| {
            "reading the transcript failed inside the supervisor; see its log".to_owned()
        })??;
        Ok(Json(TranscriptPage {
            session: view.id.to_string(),
            page: serde_json::to_value(page).map_err(|e| e.to_string())?,
        }))
    }

    #[tool(
        description = "Type a message into a session's agent and submit it. The result says whether the agent took it: submitted, queued (busy; it reads it when its turn allows), refused (exited, or a permission prompt is up: nothing typed) or unknown (no sign within the wait; the detail says what was seen)."
    )]
    async fn send_message(&self, args: Parameters<MessageArgs>) -> ToolResult<MessageResult> {
        self.caller.need(Permission::Input)?;
        let args = args.0;
        let view = self.target(args.session.as_deref())?;
        let timeout_ms = args
            .timeout_secs
            .map(|s| (s * 1000.0).round().max(0.0) as u64);
        let how = crate::delivery::How::new(timeout_ms, false).map_err(|e| e.to_string())?;
        let result = crate::delivery::message(
            &self.handle,
            view.id.as_str(),
            &args.text,
            &self.caller.actor,
            how,
        )
        .await
        .map(|r| MessageResult {
            outcome: serde_json::to_value(r.outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            detail: r.detail,
            session: summary(&r.session, &self.caller),
        })
        .map_err(|e| e.to_string());
        result.map(Json)
    }

    #[tool(
        description = "Type raw text and named keys (enter, escape, tab, arrows, ctrl-c, ...) into a session's terminal."
    )]
    async fn send_keys(&self, args: Parameters<KeysArgs>) -> ToolResult<Done> {
        self.caller.need(Permission::Input)?;
        let args = args.0;
        let view = self.target(args.session.as_deref())?;
        let mut bytes = args.text.unwrap_or_default().into_bytes();
        for k in &args.keys {
            bytes.extend_from_slice(key_bytes(k)?);
        }
        if bytes.is_empty() {
            return Err("nothing to type: give `text`, `keys` or both".into());
        }
        if bytes.len() > MAX_KEYS {
            return Err(format!(
                "{} bytes is more than the {MAX_KEYS} send_keys types at once; use send_message for long text",
                bytes.len()
            ));
        }
        let result = self
            .handle
            .send_input(&view.id, &bytes)
            .await
            .map(|()| Done {
                detail: format!("typed {} bytes into {}", bytes.len(), view.name),
                session: self.fresh(&view),
            })
            .map_err(|e| e.to_string());
        result.map(Json)
    }

    #[tool(
        description = "Start a new session (orchestrator only): a program in a folder, with Paddock's hooks for Claude Code and Codex; `worktree` (or `branch`) starts it in a new git worktree of the folder's repository; or, with `background`, a Claude Code background agent (`claude --bg`)."
    )]
    async fn spawn_session(&self, args: Parameters<SpawnArgs>) -> ToolResult<Done> {
        self.caller.need(Permission::Control)?;
        self.require_orchestrator("spawning a session")?;
        let args = args.0;
        if let Some(prompt) = &args.background {
            let result = self
                .handle
                .start_background(prompt, std::path::Path::new(&args.cwd))
                .await
                .map(|v| Done {
                    detail: format!("started background agent {} ({})", v.name, v.id),
                    session: summary(&v, &self.caller),
                })
                .map_err(|e| e.to_string());
            return result.map(Json);
        }
        let mut req = crate::start::StartRequest::new(
            args.command.clone(),
            args.args,
            std::path::PathBuf::from(&args.cwd),
        );
        req.name = args.name;
        if args.worktree || args.branch.is_some() {
            // The supervisor sets the directory from its configuration.
            req.worktree = Some(crate::worktree::WorktreeRequest {
                branch: args.branch,
                root: Default::default(),
            });
        }
        let result = self
            .handle
            .start_session(req)
            .await
            .map(|v| Done {
                detail: format!("started {} ({})", v.name, v.id),
                session: summary(&v, &self.caller),
            })
            .map_err(|e| e.to_string());
        result.map(Json)
    }

    #[tool(
        description = "Stop a session (orchestrator only) as `paddock stop` does: TERM, then KILL after grace_secs (default 10). Returns once it ended.",
        annotations(destructive_hint = true)
    )]
    async fn stop_session(&self, args: Parameters<StopArgs>) -> ToolResult<Done> {
        self.caller.need(Permission::Control)?;
        self.require_orchestrator("stopping a session")?;
        let args = args.0;
        let view = self.target(Some(&args.session))?;
        if self.caller.session.as_ref() == Some(&view.id) {
            return Err("refused: an orchestrator does not stop its own session".into());
        }
        if !view.is_running() {
            return Err(format!("{} has already ended", view.name));
        }
        let grace = Duration::from_secs(args.grace_secs.unwrap_or(10).min(30));
        let result = crate::control::stop(&self.handle, &view, grace)
            .await
            .map(|how| Done {
                detail: match how {
                    crate::control::Stopped::Term => format!("{} exited after TERM", view.name),
                    crate::control::Stopped::Kill => format!(
                        "{} ignored TERM for {} s and was killed",
                        view.name,
                        grace.as_secs()
                    ),
                },
                session: self.fresh(&view),
            })
            .map_err(|e| e.to_string());
        result.map(Json)
    }

    #[tool(
        description = "Interrupt a session's agent (orchestrator only): Esc for Claude Code and Codex, Ctrl-C otherwise."
    )]
    async fn interrupt(&self, args: Parameters<ControlArgs>) -> ToolResult<Done> {
        self.control(args.0, Control::Interrupt { message: None })
            .await
    }

    #[tool(
        description = "Pause a session's agent (orchestrator only): SIGSTOP to its process group."
    )]
    async fn pause(&self, args: Parameters<ControlArgs>) -> ToolResult<Done> {
        self.control(args.0, Control::Pause).await
    }

    #[tool(description = "Resume a paused session (orchestrator only).")]
    async fn resume(&self, args: Parameters<ControlArgs>) -> ToolResult<Done> {
        self.control(args.0, Control::Resume).await
    }

    #[tool(
        description = "Wait until a session reaches one of `states` (or, with none, changes state), up to timeout_secs (at most 45). On timeout the result says reached: false; call again to keep waiting.",
        annotations(read_only_hint = true)
    )]
    async fn wait_for(&self, args: Parameters<WaitArgs>) -> ToolResult<WaitResult> {
        self.caller.need(Permission::Read)?;
        use crate::events::{Event, Received};
        let args = args.0;
        let view = self.target(args.session.as_deref())?;
        let wanted = args
            .states
            .iter()
            .map(|s| parse_state(s))
            .collect::<Result<Vec<_>, _>>()?;
        let timeout =
            Duration::from_secs(args.timeout_secs.unwrap_or(30).clamp(1, MAX_WAIT.as_secs()));
        let started = tokio::time::Instant::now();
        // Subscribed before looking, so no change falls between the look and the wait.
        let mut events = self.handle.bus().subscribe();
        let now = self.handle.registry().get(&view.id).unwrap_or(view);
        let initial = now.status.state;
        let done = |v: &SessionView| {
            if wanted.is_empty() {
                v.status.state != initial
            } else {
                wanted.contains(&v.status.state)
            }
        };
        let result = |reached: bool, v: &SessionView| {
            let waited_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let detail = if reached {
                format!("{} is {}", v.name, v.status.state)
            } else {
                format!(
                    "still {} after {} s; call wait_for again to keep waiting",
                    v.status.state,
                    timeout.as_secs()
                )
            };
            Json(WaitResult {
                reached,
                waited_ms,
                detail,
                session: summary(v, &self.caller),
            })
        };
        if !wanted.is_empty() && done(&now) {
            return Ok(result(true, &now));
        }
        let deadline = started + timeout;
        loop {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Err(_) => {
                    let v = self.handle.registry().get(&now.id).unwrap_or(now);
                    return Ok(result(false, &v));
                }
                Ok(Received::Closed) => {
                    return Err("the supervisor is stopping; try again once it runs".into())
                }
                Ok(Received::Event(Event::SessionUpdate { session })) if session.id == now.id => {
                    if done(&session) {
                        return Ok(result(true, &session));
                    }
                }
                Ok(Received::Event(Event::SessionRemoved { id })) if id == now.id => {
                    return Err(format!("{} was removed while waiting", now.name));
                }
                Ok(Received::Lagged(_)) => {
                    if let Some(v) = self.handle.registry().get(&now.id) {
                        if done(&v) {
                            return Ok(result(true, &v));
                        }
                    }
                }
                Ok(_) => {}
            }
        }
    }

    #[tool(
        description = "Pending permission requests: an orchestrator sees every session's, an agent its own.",
        annotations(read_only_hint = true)
    )]
    async fn list_approvals(&self) -> ToolResult<ApprovalList> {
        self.caller.need(Permission::Read)?;
        let requests = self
            .handle
            .permissions()
            .list(false)
            .into_iter()
            .filter(|r| {
                self.caller.profile == Profile::Orchestrator
                    || self.caller.session.as_ref() == Some(&r.session)
            })
            .filter_map(|r| serde_json::to_value(r).ok())
            .collect();
        Ok(Json(ApprovalList { requests }))
    }

    #[tool(
        description = "Answer another session's permission request (orchestrator only; never one of your own session): allow, allow_always or deny (with a message)."
    )]
    async fn answer_approval(&self, args: Parameters<AnswerArgs>) -> ToolResult<AnswerResult> {
        self.caller.need(Permission::Control)?;
        let args = args.0;
        let request = self
            .handle
            .permissions()
            .get(&args.request)
            .ok_or_else(|| {
                format!(
                    "no permission request `{}`; list_approvals lists them",
                    args.request
                )
            })?;
        let result = self.answer(&request, &args).await;
        result.map(Json)
    }

    #[tool(
        description = "Send your owner a notification (desktop, phone, the channels they set up)."
    )]
    async fn notify_owner(&self, args: Parameters<NotifyArgs>) -> ToolResult<NotifyResult> {
        let args = args.0;
        if args.title.trim().is_empty() || args.title.len() > 200 || args.body.len() > MAX_TEXT {
            return Err(format!(
                "the title must be 1..=200 bytes and the body at most {MAX_TEXT}; shorten them"
            ));
        }
        let view = self
            .caller
            .session
            .as_ref()
            .and_then(|id| self.handle.registry().get(id));
        let draft = crate::notify::rules::Draft {
            kind: paddock_proto::notify::NotificationKind::Custom,
            rule: "mcp".into(),
            title: args.title,
            body: args.body,
            request: None,
        };
        let n = crate::notify::component::dispatch(&self.handle, draft, view.as_ref());
        let result = Ok(NotifyResult {
            notification: n.id.clone(),
            detail: "sent to the owner's notification channels".into(),
        });
        result.map(Json)
    }

    #[tool(
        description = "Ask your owner a question (with optional choices); it reaches them as a notification and in Paddock's approvals. Waits up to timeout_secs (at most 45) and returns the answer, or a ticket for get_answer."
    )]
    async fn ask_owner(&self, args: Parameters<AskArgs>) -> ToolResult<AskResult> {
        let args = args.0;
        if args.question.trim().is_empty() || args.question.len() > MAX_TEXT {
            return Err(format!("the question must be 1..={MAX_TEXT} bytes"));
        }
        if args.choices.len() > 8
            || args
                .choices
                .iter()
                .any(|c| c.trim().is_empty() || c.len() > 200)
        {
            return Err("give at most 8 choices, each 1..=200 bytes".into());
        }
        let Some(session) = self.caller.session.clone() else {
            return Err(
                "ask_owner needs a Paddock session to ask from; start the agent with `paddock run`"
                    .into(),
            );
        };
        let input = serde_json::json!({
            "questions": [{
                "question": args.question,
                "header": "Question",
                "options": args.choices.iter().map(|c| serde_json::json!({"label": c})).collect::<Vec<_>>(),
                "multiSelect": false,
            }],
        });
        let (request, mut waiter) =
            self.handle
                .permissions()
                .open(crate::permissions::NewRequest {
                    session,
                    agent_session: None,
                    tool: "AskUserQuestion".into(),
                    input,
                    suggestions: Vec::new(),
                    channel: AnswerChannel::Hook,
                    timeout: self.handle.config().agents.permission_timeout,
                });
        let wait = Duration::from_secs(args.timeout_secs.unwrap_or(40).min(MAX_WAIT.as_secs()));
        match tokio::time::timeout(wait, &mut waiter).await {
            Ok(Ok(decision)) => Ok(Json(answer_of(&request.id, Some(&decision)))),
            Ok(Err(_)) => Err("the question was withdrawn before the owner answered".into()),
            Err(_) => {
                self.asks.keep(request.id.clone(), waiter);
                Ok(Json(answer_of(&request.id, None)))
            }
        }
    }

    #[tool(
        description = "The owner's answer to an earlier ask_owner, by its ticket.",
        annotations(read_only_hint = true)
    )]
    async fn get_answer(&self, args: Parameters<TicketArgs>) -> ToolResult<AskResult> {
        let ticket = args.0.ticket;
        let request = self
            .handle
            .permissions()
            .get(&ticket)
            .filter(|r| {
                r.tool == "AskUserQuestion" && Some(&r.session) == self.caller.session.as_ref()
            })
            .ok_or_else(|| {
                format!("no question `{ticket}` of yours; ask_owner gives the ticket")
            })?;
        let decision = match &request.outcome {
            Some(paddock_proto::agent::PermissionOutcome::Decided { decision, .. }) => {
                Some(decision)
            }
            Some(paddock_proto::agent::PermissionOutcome::Withdrawn { reason, .. }) => {
                return Err(format!("the question was withdrawn: {reason}"))
            }
            None => None,
        };
        Ok(Json(answer_of(&ticket, decision)))
    }
}

fn answer_of(ticket: &str, decision: Option<&Decision>) -> AskResult {
    match decision {
        Some(Decision::Answer { answers }) => {
            let answer = answers.values().next().cloned();
            AskResult {
                answered: true,
                detail: format!("the owner answered: {}", answer.clone().unwrap_or_default()),
                answer,
                ticket: ticket.to_owned(),
            }
        }
        Some(Decision::Deny { message }) => AskResult {
            answered: true,
            answer: None,
            detail: format!(
                "the owner declined to answer{}",
                message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
            ticket: ticket.to_owned(),
        },
        Some(other) => AskResult {
            answered: true,
            answer: None,
            detail: format!("the owner {} without an answer", other.verb()),
            ticket: ticket.to_owned(),
        },
        None => AskResult {
            answered: false,
            answer: None,
            detail: format!("no answer yet; call get_answer with ticket {ticket} later"),
            ticket: ticket.to_owned(),
        },
    }
}

/// Tools that only read: audited when they fail, not on every call.
const READ_ONLY: &[&str] = &[
    "list_sessions",
    "get_session",
    "read_screen",
    "read_transcript",
    "wait_for",
    "list_approvals",
    "get_answer",
];

impl PaddockMcp {
    /// Audits a tool call like any other client's action: every call that changes
    /// something, and every refused or failed one (a store write: off the async threads).
    async fn audit(
        &self,
        tool: &str,
        target: Option<String>,
        result: &Result<rmcp::model::CallToolResponse, rmcp::ErrorData>,
    ) {
        let failure = match result {
            Err(e) => Some(e.message.to_string()),
            Ok(rmcp::model::CallToolResponse::Complete(r)) if r.is_error == Some(true) => Some(
                r.content
                    .iter()
                    .filter_map(|c| c.as_text().map(|t| t.text.clone()))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Ok(_) => None,
        };
        if failure.is_none() && READ_ONLY.contains(&tool) {
            return;
        }
        let entry = AuditInput {
            actor: self.caller.actor.clone(),
            device_id: self.caller.device.as_ref().map(|d| d.device_id.clone()),
            action: format!("mcp.{tool}"),
            target,
            result: match &failure {
                None => "ok",
                Some(f) if f.starts_with("refused") => "denied",
                Some(_) => "failed",
            }
            .to_owned(),
            detail: failure,
        };
        let access = self.handle.access().clone();
        let _ = tokio::task::spawn_blocking(move || access.audit(entry)).await;
    }

    async fn answer(
        &self,
        request: &PermissionRequest,
        args: &AnswerArgs,
    ) -> Result<AnswerResult, String> {
        self.require_orchestrator("answering a permission request")?;
        if self.caller.session.as_ref() == Some(&request.session) {
            return Err(format!(
                "refused: request {} is your own session's; an orchestrator never answers its own requests (the owner does, with `paddock approve {}`)",
                request.id, request.id
            ));
        }
        let decision = match args.decision.as_str() {
            "allow" => Decision::Allow,
            "allow_always" => Decision::AllowAlways { suggestion: 0 },
            "deny" => Decision::Deny {
                message: args.message.clone(),
            },
            other => {
                return Err(format!(
                    "`{other}` is not a decision; use allow, allow_always or deny"
                ))
            }
        };
        let decided =
            crate::control::decide(&self.handle, &request.id, decision, &self.caller.actor)
                .await
                .map_err(|e| e.to_string())?;
        Ok(AnswerResult {
            detail: format!(
                "request {} {}",
                decided.id,
                match &decided.outcome {
                    Some(paddock_proto::agent::PermissionOutcome::Decided { decision, .. }) =>
                        decision.verb(),
                    _ => "answered",
                }
            ),
            request: serde_json::to_value(&decided).map_err(|e| e.to_string())?,
        })
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for PaddockMcp {
    /// Over HTTP the caller is the device the endpoint authenticated for this very request
    /// (its token's role), never the one that opened the MCP session.
    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, rmcp::ErrorData> {
        let device = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<crate::access::Principal>())
            .cloned();
        let this = match device {
            Some(principal) => Self {
                caller: Caller::device(principal),
                ..self.clone()
            },
            None => self.clone(),
        };
        let name = request.name.to_string();
        let target = request.arguments.as_ref().and_then(|a| {
            ["session", "request", "ticket", "command"]
                .iter()
                .find_map(|k| a.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
        });
        let progress = super::progress::for_call(&name, &context);
        let tcc = rmcp::handler::server::tool::ToolCallContext::new(&this, request, context);
        let result = super::progress::run(progress, this.tool_router.call(tcc)).await;
        this.audit(&name, target, &result).await;
        result
    }

    // Resources (each session's screen and transcript): `resources.rs`.
    async fn list_resources(
        &self,
        _: Option<rmcp::model::PaginatedRequestParams>,
        context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, rmcp::ErrorData> {
        self.for_request(&context).resource_list()
    }

    async fn list_resource_templates(
        &self,
        _: Option<rmcp::model::PaginatedRequestParams>,
        _: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, rmcp::ErrorData> {
        Ok(self.resource_templates())
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, rmcp::ErrorData> {
        let this = self.for_request(&context);
        Ok(this.resource_read(&request.uri).await?.into())
    }

    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        );
        info.server_info = Implementation::new("paddock", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(format!(
            "Paddock supervises coding agents. You are calling as {} ({}). Tools act on your own session unless you are an orchestrator; see docs/mcp.md.",
            self.caller.actor,
            self.caller.profile.name()
        ));
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_keys_become_the_bytes_a_terminal_sends_and_unknown_names_say_which_exist() {
        assert_eq!(key_bytes("Enter"), Ok(&b"\r"[..]));
        assert_eq!(key_bytes("esc"), Ok(&b"\x1b"[..]));
        assert_eq!(key_bytes("up"), Ok(&b"\x1b[A"[..]));
        assert_eq!(key_bytes("ctrl-c"), Ok(&b"\x03"[..]));
        let e = key_bytes("f13").expect_err("no such key");
        assert!(
            e.contains("`f13` is not a key name") && e.contains("ctrl-u"),
            "{e}"
        );
    }

    #[test]
    fn states_are_named_as_the_wire_names_them() {
        assert_eq!(parse_state("waiting_input"), Ok(AgentState::WaitingInput));
        let e = parse_state("busy").expect_err("not a state");
        assert!(e.contains("starting") && e.contains("exited"), "{e}");
    }

    #[test]
    fn an_answer_carries_the_owners_words_or_says_there_is_none_yet() {
        let mut answers = std::collections::BTreeMap::new();
        answers.insert("Ship it?".to_owned(), "yes".to_owned());
        let a = answer_of("p3", Some(&Decision::Answer { answers }));
        assert!(a.answered);
        assert_eq!(a.answer.as_deref(), Some("yes"));
        let pending = answer_of("p3", None);
        assert!(!pending.answered && pending.detail.contains("get_answer with ticket p3"));
        let denied = answer_of(
            "p3",
            Some(&Decision::Deny {
                message: Some("later".into()),
            }),
        );
        assert!(denied.answered && denied.answer.is_none() && denied.detail.contains("later"));
    }
}
