//! Parses arbitrary bytes as what an agent's hook hands Paddock, through every path the
//! product reads hooks by:
//!
//! * each adapter's [`Adapter::parse_hook`] on the raw bytes: Claude Code (its hooks' stdin),
//!   Codex (its `notify` argument), Gemini CLI (its hooks' stdin); the agents without hooks
//!   (Aider, any other program) refuse with `NoHooks`;
//! * `paddock hook`'s path: the input read as UTF-8 text and parsed as JSON (`paddock hook`
//!   forwards that value to the supervisor), then the supervisor's reading of it,
//!   [`paddock_core::agents::hook_event`], for a `claude`, a `codex` and a `gemini` hook
//!   (Gemini's `ToolPermission` notification read as a permission answered by keys).
//!
//! Properties: nothing panics; a parsed payload came from a JSON object, and it is that
//! object (`raw`), with the event name the agent gave; every JSON object parses (hook parsing
//! is tolerant: unknown events and odd fields are kept, not refused); what a parsed event
//! means for the state (`state_hint`) and the one-line summary of its tool can be computed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paddock_agents::{adapter_for, AgentError, AgentKind, HookEvent, HookPayload};
use paddock_core::agents::{hook_event, HookEvent as Reading};
use serde_json::Value;

/// The key that names the event in each agent's payload.
fn event_key(kind: &AgentKind) -> &'static str {
    match kind {
        AgentKind::Codex => "type",
        _ => "hook_event_name",
    }
}

/// Checks a payload that `kind`'s parsing accepted, given the JSON it was parsed from.
fn check(kind: &AgentKind, p: &HookPayload, json: &Value) {
    assert!(
        json.is_object(),
        "{kind}: parsed a payload from JSON that is not an object: {json}"
    );
    assert_eq!(
        &p.raw, json,
        "{kind}: the raw payload is not what was received"
    );
    let name = json
        .get(event_key(kind))
        .and_then(Value::as_str)
        .unwrap_or("");
    assert_eq!(p.event_name, name, "{kind}: the event name changed");
    let _ = p.event.state_hint();
    match &p.event {
        HookEvent::PreToolUse { tool }
        | HookEvent::PermissionRequest { tool, .. }
        | HookEvent::PostToolUse { tool, .. }
        | HookEvent::PostToolUseFailure { tool, .. } => {
            let _ = tool.summary();
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    // What every adapter decodes first.
    let json: Option<Value> = serde_json::from_slice(data).ok();

    for kind in [AgentKind::Claude, AgentKind::Codex, AgentKind::Gemini] {
        match adapter_for(&kind).parse_hook(data) {
            Ok(p) => match &json {
                Some(json) => check(&kind, &p, json),
                None => panic!("{kind}: parsed a payload from input that is not JSON: {p:?}"),
            },
            Err(e) => assert!(
                !json.as_ref().is_some_and(Value::is_object),
                "{kind}: refused a JSON object: {e}"
            ),
        }
    }
    for kind in [AgentKind::Aider, AgentKind::Other("bash".into())] {
        match adapter_for(&kind).parse_hook(data) {
            Err(AgentError::NoHooks { .. }) => {}
            other => panic!("{kind} has no hooks, yet parse_hook gave {other:?}"),
        }
    }

    // `paddock hook`: stdin (or Codex's argument) as text, then JSON, then the supervisor.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    for agent in ["claude", "codex", "gemini"] {
        let (reading, payload) = hook_event(agent, &value);
        match &payload {
            Some(p) => check(&AgentKind::from_name(agent), p, &value),
            None => assert!(
                !value.is_object(),
                "the supervisor could not read a {agent} hook's JSON object"
            ),
        }
        if let (Reading::Permission(ask), Some(p)) = (&reading, &payload) {
            match &p.event {
                HookEvent::PermissionRequest { tool, .. } => {
                    assert_eq!(ask.tool, tool.name, "the permission asks for another tool")
                }
                other => panic!("a permission request read from a {other:?} event"),
            }
        }
        if let Reading::TypedPermission(ask) = &reading {
            assert_eq!(agent, "gemini", "only Gemini's hooks announce typed permissions");
            assert_eq!(
                value.get("notification_type").and_then(Value::as_str),
                Some("ToolPermission"),
                "a typed permission read from another event"
            );
            assert!(!ask.tool.is_empty(), "a typed permission names no tool");
        }
    }
});
