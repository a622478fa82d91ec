//! The tools that look at sessions: `list_sessions`, `get_session` (state and transcript
//! insight) and `wait_for` (block until a session reaches a state, at most `MAX_WAIT`).

use super::{summary, PaddockMcp, SessionSummary, ToolResult, MAX_WAIT};
use crate::mcp::caller::Profile;
use paddock_proto::access::Permission;
use paddock_proto::agent::AgentState;
use paddock_proto::supervisor::SessionView;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;

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

#[tool_router(router = sessions_router, vis = "pub(super)")]
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_named_as_the_wire_names_them() {
        assert_eq!(parse_state("waiting_input"), Ok(AgentState::WaitingInput));
        let e = parse_state("busy").expect_err("not a state");
        assert!(e.contains("starting") && e.contains("exited"), "{e}");
    }
}
