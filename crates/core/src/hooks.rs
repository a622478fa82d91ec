//! Hook calls (`paddock hook`): an agent's lifecycle events, exact and immediate. Each feeds
//! the session's state machine; a permission request becomes a [`PermissionRequest`] that
//! waits here for an answer, which goes back to the agent as its hook's output.

use crate::permissions::NewRequest;
use crate::state::HookSignal;
use crate::supervisor::Handle;
use paddock_proto::agent::{AnswerChannel, Decision, HookCall, PermissionRequest};
use paddock_proto::SessionId;
use serde_json::Value;

/// How long a hook from a session not adopted yet waits for its adoption.
const ADOPTION_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Handles one hook call. Returns what the hook prints for the agent, if anything.
pub async fn on_hook(handle: &Handle, call: HookCall) -> Option<Value> {
    let registry = handle.registry();
    if let Some(id) = &call.session {
        // The agent's first hooks can come before the holder is adopted.
        if registry.get(id).is_none() && handle.runtime_dir().socket_path(id).exists() {
            handle.rescan();
            let deadline = tokio::time::Instant::now() + ADOPTION_WAIT;
            while registry.get(id).is_none() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    }
    let session = call
        .session
        .clone()
        .filter(|id| registry.get(id).is_some())
        .or_else(|| registry.by_pid(&call.ancestors));
    let Some(session) = session else {
        tracing::debug!(agent = %call.agent, "a hook from an agent in no known session");
        return None;
    };
    let (event, payload) = crate::agents::hook_event(&call.agent, &call.payload);
    handle
        .agents()
        .hook_seen(&session, &call.agent, payload.as_ref());
    follow_transcript(handle, &session, &call, payload.as_ref());
    match event {
        crate::agents::HookEvent::Signal(signal) => {
            if !matches!(signal, HookSignal::Waiting { .. }) {
                // The agent moved on: a permission request still waiting was answered in its
                // terminal (Claude Code does not stop the waiting hook then). A question it
                // put to its owner over MCP (`ask_owner`'s ticket) waits on.
                if let Some(p) = handle
                    .permissions()
                    .pending_for(&session)
                    .filter(|p| !handle.mcp_asks().holds(&p.id))
                {
                    handle
                        .permissions()
                        .withdraw(&p.id, "answered in the agent's terminal");
                    registry.observe(&session, |m, _| m.permission(None));
                }
            }
            registry.observe(&session, |m, now| m.hook(signal, now));
            None
        }
        crate::agents::HookEvent::Permission(ask) => permission(handle, session, ask).await,
        // --- begin: Gemini CLI (issue 15, item 4) ---
        crate::agents::HookEvent::TypedPermission(ask) => {
            typed_permission(handle, &session, ask);
            None
        }
        // --- end: Gemini CLI ---
        crate::agents::HookEvent::Ignored => None,
    }
}

// --- begin: Gemini CLI (issue 15, item 4) ---
/// Opens a permission request that a hook announced but cannot answer (Gemini CLI's
/// `ToolPermission` notification, sent just before its confirmation box is drawn): the
/// session waits for permission, and `control::decide` types the answer into the box. The
/// hook returns at once (the agent awaits it before drawing the box). One answered in the
/// terminal is withdrawn when the box leaves the screen (`holders::read_screen`) or the next
/// hook comes.
fn typed_permission(handle: &Handle, session: &SessionId, ask: crate::agents::PermissionAsk) {
    let permissions = handle.permissions();
    if let Some(old) = permissions
        .pending_for(session)
        .filter(|p| !handle.mcp_asks().holds(&p.id))
    {
        permissions.withdraw(&old.id, "the agent asked for another tool");
    }
    let (request, _) = permissions.open(NewRequest {
        session: session.clone(),
        agent_session: ask.agent_session,
        tool: ask.tool,
        input: ask.input,
        suggestions: ask.suggestions,
        channel: AnswerChannel::Terminal,
        timeout: handle.config().agents.permission_timeout,
    });
    handle.registry().observe(session, |m, now| {
        m.hook(HookSignal::Waiting { permission: true }, now);
        m.permission(Some(request));
    });
}
// --- end: Gemini CLI ---

/// Follows the transcript a hook names (Claude Code and Gemini CLI give its path; Codex its
/// thread id).
fn follow_transcript(
    handle: &Handle,
    session: &SessionId,
    call: &HookCall,
    payload: Option<&paddock_agents::HookPayload>,
) {
    let agent = call.agent.as_str();
    let (Some(t), Some(p)) = (handle.transcripts(), payload) else {
        return;
    };
    let kind = paddock_agents::AgentKind::from_name(agent);
    let path = match (&kind, &p.transcript_path, &p.session_id) {
        (_, Some(path), _) => {
            let roots = crate::transcripts::agent_roots(&kind, call.agent_home.as_deref());
            match crate::transcripts::under_roots(path, &roots) {
                Some(path) => Some(path),
                None => {
                    tracing::warn!(%session, path = %path.display(), "a hook named a transcript outside the agents' own folders (~/.claude/projects, ~/.codex/sessions, ~/.gemini/tmp); it is not followed or served");
                    None
                }
            }
        }
        (paddock_agents::AgentKind::Codex, None, Some(thread)) => {
            let paths = match &call.agent_home {
                Some(home) => Some(paddock_agents::codex::CodexPaths::resolve(
                    Some(home.into()),
                    None,
                )),
                None => Some(paddock_agents::codex::CodexPaths::from_env()),
            };
            paths.flatten().and_then(|c| c.find_rollout(thread))
        }
        _ => None,
    };
    if let Some(path) = path {
        t.follow(session, &kind, &path);
    }
}

/// Withdraws the request if the hook goes away (the agent was answered in the terminal or
/// was interrupted) before it was decided.
struct WithdrawOnDrop<'a> {
    handle: &'a Handle,
    id: String,
    session: SessionId,
    armed: bool,
}

impl Drop for WithdrawOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.handle.permissions().withdraw(
                &self.id,
                "the agent stopped waiting (answered in its terminal, or interrupted)",
            );
            clear(self.handle, &self.session, &self.id);
        }
    }
}

/// Removes the session's pending request from its state, if it is this one.
fn clear(handle: &Handle, session: &SessionId, id: &str) {
    handle.registry().observe(session, |m, _| {
        if m.pending_permission().is_some_and(|p| p.id == id) {
            m.permission(None);
        }
    });
}

async fn permission(
    handle: &Handle,
    session: SessionId,
    ask: crate::agents::PermissionAsk,
) -> Option<Value> {
    let timeout = handle.config().agents.permission_timeout;
    permission_within(
        handle,
        session,
        ask,
        timeout,
        "answer it in the agent's terminal",
    )
    .await
}

/// Opens a permission request for `ask` in the one registry (CLI, UI, notifications), the
/// session waiting for permission meanwhile, and waits up to `timeout` for the owner: the
/// hook output that carries the decision, or `None` (withdrawn, saying `then` to the owner).
pub(crate) async fn permission_within(
    handle: &Handle,
    session: SessionId,
    ask: crate::agents::PermissionAsk,
    timeout: std::time::Duration,
    then: &str,
) -> Option<Value> {
    let (request, decided) = open_permission(handle, &session, &ask, timeout);
    let id = request.id.clone();
    let decision = await_permission(handle, &session, request, decided, timeout, then).await?;
    Some(crate::agents::permission_output(
        &decision,
        &ask.input,
        &ask.suggestions,
        &by_of(handle, &id),
    ))
}

/// Opens a permission request answered over an exact channel (an agent's hook, Codex's
/// app-server protocol) and marks the session as waiting for it. The receiver gets the
/// decision ([`await_permission`]).
pub(crate) fn open_permission(
    handle: &Handle,
    session: &SessionId,
    ask: &crate::agents::PermissionAsk,
    timeout: std::time::Duration,
) -> (PermissionRequest, tokio::sync::oneshot::Receiver<Decision>) {
    let (request, decided) = handle.permissions().open(NewRequest {
        session: session.clone(),
        agent_session: ask.agent_session.clone(),
        tool: ask.tool.clone(),
        input: ask.input.clone(),
        suggestions: ask.suggestions.clone(),
        channel: AnswerChannel::Hook,
        timeout,
    });
    let pending: PermissionRequest = request.clone();
    handle.registry().observe(session, |m, now| {
        m.hook(
            HookSignal::ToolStarted {
                tool: ask.tool.clone(),
            },
            now,
        );
        m.permission(Some(pending));
    });
    (request, decided)
}

/// Waits up to `timeout` for the decision on a request [`open_permission`] opened: `None`
/// when it was withdrawn, or on time-out (withdrawn then, saying `then` to the owner). The
/// session's state no longer shows the request when this returns.
pub(crate) async fn await_permission(
    handle: &Handle,
    session: &SessionId,
    request: PermissionRequest,
    decided: tokio::sync::oneshot::Receiver<Decision>,
    timeout: std::time::Duration,
    then: &str,
) -> Option<Decision> {
    let mut guard = WithdrawOnDrop {
        handle,
        id: request.id.clone(),
        session: session.clone(),
        armed: true,
    };
    let answer = tokio::time::timeout(timeout, decided).await;
    guard.armed = false;
    match answer {
        Ok(Ok(decision)) => {
            clear(handle, session, &request.id);
            Some(decision)
        }
        Ok(Err(_)) => {
            clear(handle, session, &request.id);
            None
        }
        Err(_) => {
            handle.permissions().withdraw(
                &request.id,
                &format!(
                    "no answer within {}; {then}",
                    humantime::format_duration(timeout)
                ),
            );
            clear(handle, session, &request.id);
            None
        }
    }
}

/// Who decided a request, for the message the agent gets.
fn by_of(handle: &Handle, id: &str) -> String {
    match handle.permissions().get(id).and_then(|r| r.outcome) {
        Some(paddock_proto::agent::PermissionOutcome::Decided { by, .. }) => by,
        _ => "Paddock".into(),
    }
}
