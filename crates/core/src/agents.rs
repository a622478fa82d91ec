//! The supervisor's side of agent adapters: what a hook event, a screen or a status file means
//! for the state machine, and how an answer or an interrupt reaches each agent.

// --- begin: Claude Code background agents (issue 15, item 1) ---
pub mod claude_bg;
// --- end: Claude Code background agents ---
// --- begin: Codex through its app-server (issue 15, item 2) ---
pub mod codex_app;
// --- end: Codex through its app-server ---

use crate::state::{HookSignal, ScreenSignal};
use paddock_agents::claude;
use paddock_agents::claude::hooks::PermissionDecision;
use paddock_agents::generic::{Generic, GenericConfig};
use paddock_agents::{Adapter, AgentKind, HookPayload, PromptKind, ScreenState, StateHint};
use paddock_proto::agent::Decision;
use paddock_proto::SessionId;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What a hook call means.
#[derive(Debug, Clone)]
pub enum HookEvent {
    Signal(HookSignal),
    Permission(PermissionAsk),
    // --- begin: Gemini CLI (issue 15, item 4) ---
    /// A permission request a hook announces but cannot answer (Gemini CLI's
    /// `ToolPermission` notification): the answer is typed into the agent's prompt.
    TypedPermission(PermissionAsk),
    // --- end: Gemini CLI ---
    /// An event that says nothing about the state (or one this build does not know).
    Ignored,
}

/// A permission request as the agent's hook gave it.
#[derive(Debug, Clone)]
pub struct PermissionAsk {
    pub tool: String,
    pub input: Value,
    pub suggestions: Vec<Value>,
    pub agent_session: Option<String>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Reads a hook call's payload, through the agent's adapter.
pub fn hook_event(agent: &str, payload: &Value) -> (HookEvent, Option<HookPayload>) {
    match agent {
        "codex" => {
            let bytes = serde_json::to_vec(payload).unwrap_or_default();
            match paddock_agents::codex::parse_notify(&bytes) {
                Ok(p) => (codex_notify(payload), Some(p)),
                Err(_) => (codex_notify(payload), None),
            }
        }
        // --- begin: Gemini CLI (issue 15, item 4) ---
        // Gemini CLI's hooks (its settings.json `hooks`, calling `paddock hook --agent
        // gemini`) map onto the same common events as Claude Code's; it has no permission
        // hook that waits for an answer, so a ToolPermission notification opens a request
        // that the keys of its confirmation box answer.
        "gemini" => {
            let bytes = serde_json::to_vec(payload).unwrap_or_default();
            match paddock_agents::gemini::parse_hook(&bytes) {
                Ok(p) => match paddock_agents::gemini::tool_permission(&p) {
                    Some(ask) => (
                        HookEvent::TypedPermission(PermissionAsk {
                            tool: ask.tool,
                            input: ask.input,
                            suggestions: Vec::new(),
                            agent_session: p.session_id.clone(),
                        }),
                        Some(p),
                    ),
                    None => (claude_event(&p), Some(p)),
                },
                Err(e) => {
                    tracing::warn!(error = %e, "ignoring a Gemini CLI hook payload Paddock cannot read");
                    (HookEvent::Ignored, None)
                }
            }
        }
        // --- end: Gemini CLI ---
        _ => match claude::hooks::parse_value(payload.clone()) {
            Ok(p) => (claude_event(&p), Some(p)),
            Err(e) => {
                tracing::warn!(error = %e, "ignoring a hook payload Paddock cannot read");
                (HookEvent::Ignored, None)
            }
        },
    }
}

fn claude_event(p: &HookPayload) -> HookEvent {
    use paddock_agents::HookEvent as E;
    let signal = match &p.event {
        E::PermissionRequest { tool, suggestions } => {
            return HookEvent::Permission(PermissionAsk {
                tool: tool.name.clone(),
                input: tool.input.clone(),
                suggestions: suggestions.iter().map(|s| s.raw.clone()).collect(),
                agent_session: p.session_id.clone(),
            })
        }
        E::SessionStart { .. } => HookSignal::SessionStarted,
        E::UserPromptSubmit { .. } => HookSignal::PromptSubmitted,
        E::PreToolUse { tool } => HookSignal::ToolStarted {
            tool: tool.name.clone(),
        },
        E::Notification { .. } => match p.event.state_hint() {
            StateHint::WaitingPermission { .. } => HookSignal::Waiting { permission: true },
            StateHint::WaitingInput => HookSignal::Waiting { permission: false },
            _ => return HookEvent::Ignored,
        },
        E::PostToolUse { .. } | E::PostToolUseFailure { .. } => HookSignal::ToolFinished,
        E::Stop { .. } => HookSignal::TurnEnded,
        E::StopFailure { .. } => match p.event.state_hint() {
            StateHint::Errored { reason } => HookSignal::TurnFailed { reason },
            _ => HookSignal::TurnFailed {
                reason: "the turn failed".into(),
            },
        },
        E::SessionEnd { .. } => HookSignal::SessionEnded,
        E::Unknown => return HookEvent::Ignored,
    };
    HookEvent::Signal(signal)
}

/// Codex's `notify` program gets `{"type": "agent-turn-complete", ...}` when a turn ends.
fn codex_notify(p: &Value) -> HookEvent {
    match text(p, "type").as_deref() {
        Some("agent-turn-complete") => HookEvent::Signal(HookSignal::TurnEnded),
        _ => HookEvent::Ignored,
    }
}

/// The hook output that gives the agent `decision`.
pub fn permission_output(
    decision: &Decision,
    input: &Value,
    suggestions: &[Value],
    by: &str,
) -> Value {
    let decision = match decision {
        Decision::Allow => PermissionDecision::Allow { always: Vec::new() },
        Decision::AllowAlways { suggestion } => PermissionDecision::Allow {
            always: suggestions
                .get(*suggestion)
                .map(claude::hooks::suggestion)
                .into_iter()
                .collect(),
        },
        Decision::Deny { message } => PermissionDecision::Deny {
            message: message
                .clone()
                .unwrap_or_else(|| format!("{by} denied this through Paddock")),
        },
        Decision::Answer { answers } => PermissionDecision::Answer {
            input: input.clone(),
            answers: answers.clone(),
        },
    };
    serde_json::from_str(&claude::hooks::permission_decision_json(&decision)).unwrap_or(Value::Null)
}

/// The keys that answer a permission prompt on the screen (the options are numbered; the
/// first is "Yes", the second "Yes, and always ..."; Esc declines).
pub fn permission_keys(decision: &Decision) -> Vec<u8> {
    match decision {
        Decision::Allow => b"1".to_vec(),
        Decision::AllowAlways { .. } => b"2".to_vec(),
        Decision::Deny { .. } => b"\x1b".to_vec(),
        // Refused before this for the terminal channel (`Permissions::decide`).
        Decision::Answer { .. } => Vec::new(),
    }
}

/// The adapter of a session's agent (`claude`, `codex`, ..., or a plain program).
pub fn adapter(agent: Option<&str>, generic: &GenericConfig) -> Arc<dyn Adapter> {
    let kind = agent.map(AgentKind::from_name);
    match kind {
        Some(k @ (AgentKind::Claude | AgentKind::Codex | AgentKind::Gemini | AgentKind::Aider)) => {
            paddock_agents::adapter_for(&k)
        }
        other => {
            let kind = other.unwrap_or(AgentKind::Other(String::new()));
            match Generic::with_config(kind.clone(), generic) {
                Ok(g) => Arc::new(g),
                Err(e) => {
                    tracing::warn!(error = %e, "a configured prompt pattern is invalid; using the defaults");
                    Arc::new(Generic::new(kind))
                }
            }
        }
    }
}

/// Reads a screen (rows of text) for the state machine. Output timing is the machine's
/// business, so the adapter is asked as if the terminal were quiet.
pub fn classify_screen(adapter: &dyn Adapter, rows: &[String]) -> ScreenSignal {
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let known_agent = !matches!(adapter.kind(), AgentKind::Other(_));
    match adapter.classify_screen(&rows, None) {
        ScreenState::Prompt(p) if p.kind == PromptKind::Permission => ScreenSignal::Permission {
            tool: p.tool,
            subject: p.detail.or(p.description),
        },
        // A known agent's question waits for the user's answer, like its input box (its
        // animated banner keeps printing, so the output rule would call it working).
        ScreenState::Prompt(_) if known_agent => ScreenSignal::Prompt,
        ScreenState::Prompt(_) => ScreenSignal::PatternPrompt,
        ScreenState::Working { .. } => ScreenSignal::Working,
        ScreenState::Errored { message } => ScreenSignal::Errored { reason: message },
        ScreenState::WaitingInput if known_agent => ScreenSignal::Prompt,
        ScreenState::WaitingInput => ScreenSignal::PatternPrompt,
        ScreenState::Idle | ScreenState::Unknown => ScreenSignal::Unknown,
    }
}

/// What the supervisor learned about each session's agent from its hooks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentFacts {
    pub agent: String,
    pub agent_session: Option<String>,
    pub transcript: Option<PathBuf>,
    /// Hooks reach Paddock from this session.
    pub hooked: bool,
    /// The permission request whose prompt the screen has shown.
    pub prompt_seen: Option<String>,
}

/// Per-session agent facts. Cheap to clone.
#[derive(Clone, Default)]
pub struct Agents {
    facts: Arc<Mutex<HashMap<SessionId, AgentFacts>>>,
}

impl Agents {
    /// Records what a hook call tells about its session.
    pub fn hook_seen(&self, session: &SessionId, agent: &str, payload: Option<&HookPayload>) {
        let mut map = self.facts.lock().unwrap_or_else(|p| p.into_inner());
        let f = map.entry(session.clone()).or_default();
        f.agent = agent.to_owned();
        f.hooked = true;
        if let Some(p) = payload {
            if p.session_id.is_some() {
                f.agent_session = p.session_id.clone();
            }
            if p.transcript_path.is_some() {
                f.transcript = p.transcript_path.clone();
            }
        }
    }

    /// Records that the screen shows the prompt of request `id`.
    pub fn prompt_seen(&self, session: &SessionId, id: &str) {
        let mut map = self.facts.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(session.clone()).or_default().prompt_seen = Some(id.to_owned());
    }

    /// Forgets a session that is gone.
    pub fn forget(&self, session: &SessionId) {
        self.facts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(session);
    }

    pub fn facts(&self, session: &SessionId) -> Option<AgentFacts> {
        self.facts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(session)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn a_known_agents_question_waits_for_its_answer_like_its_input_box() {
        // Claude Code 2.1.328 asking (AskUserQuestion), from the screen corpus: its banner
        // keeps animating, so as a pattern prompt the output rule would call it working.
        let screen = rows(include_str!(
            "../../agents/tests/data/claude-question-screen-2.1.328.txt"
        ));
        let claude = adapter(Some("claude"), &Default::default());
        assert_eq!(
            classify_screen(claude.as_ref(), &screen),
            ScreenSignal::Prompt
        );
        // A plain program's prompt is still a pattern, timed by its output.
        let plain = adapter(None, &Default::default());
        assert_eq!(
            classify_screen(plain.as_ref(), &rows("Overwrite config.toml? [y/N]")),
            ScreenSignal::PatternPrompt
        );
    }
}
