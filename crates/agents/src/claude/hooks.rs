//! Claude Code's hook payloads (the JSON object its hooks get on stdin) and its answer to a
//! permission request (the JSON a `PermissionRequest` hook prints).
//!
//! Every payload has `session_id`, `transcript_path`, `cwd`, `hook_event_name`; most have
//! `permission_mode` and `prompt_id`. Known events are typed; any other event is kept as
//! [`HookEvent::Unknown`] with the whole payload in [`HookPayload::raw`]. Missing fields are
//! `None`; a field of an unexpected type is treated as missing.

use crate::hook::{HookEvent, HookPayload, PermissionSuggestion, ToolCall};
use crate::AgentError;
use serde_json::{json, Value};
use std::path::PathBuf;

/// The largest payload accepted (a tool's response can be large, but not this large).
pub const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// Parses one hook payload.
pub fn parse(payload: &[u8]) -> Result<HookPayload, AgentError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(AgentError::BadHookPayload {
            reason: format!(
                "{} bytes, more than the {} accepted",
                payload.len(),
                MAX_PAYLOAD
            ),
        });
    }
    parse_value(crate::hook::payload_object(payload)?)
}

/// Parses one hook payload already decoded as JSON.
pub fn parse_value(raw: Value) -> Result<HookPayload, AgentError> {
    let raw = crate::hook::expect_object(raw)?;
    let s = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
    let event_name = s("hook_event_name").unwrap_or_default();
    let event = parse_event(&event_name, &raw);
    Ok(HookPayload {
        session_id: s("session_id"),
        transcript_path: s("transcript_path").map(PathBuf::from),
        cwd: s("cwd").map(PathBuf::from),
        permission_mode: s("permission_mode"),
        prompt_id: s("prompt_id"),
        event_name,
        event,
        raw,
    })
}

fn parse_event(name: &str, raw: &Value) -> HookEvent {
    let s = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
    let duration = || raw.get("duration_ms").and_then(Value::as_u64);
    match name {
        "SessionStart" => HookEvent::SessionStart {
            source: s("source"),
            model: s("model").or_else(|| {
                // Some versions send the model as an object.
                raw.get("model")
                    .and_then(|m| m.get("id").or_else(|| m.get("display_name")))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            }),
        },
        "UserPromptSubmit" => HookEvent::UserPromptSubmit {
            prompt: s("prompt").unwrap_or_default(),
        },
        "PreToolUse" => HookEvent::PreToolUse {
            tool: tool_call(raw),
        },
        "PermissionRequest" => HookEvent::PermissionRequest {
            tool: tool_call(raw),
            suggestions: raw
                .get("permission_suggestions")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(suggestion).collect())
                .unwrap_or_default(),
        },
        "Notification" => HookEvent::Notification {
            message: s("message"),
            notification_type: s("notification_type"),
        },
        "PostToolUse" => HookEvent::PostToolUse {
            tool: tool_call(raw),
            response: raw.get("tool_response").cloned(),
            duration_ms: duration(),
        },
        "PostToolUseFailure" => HookEvent::PostToolUseFailure {
            tool: tool_call(raw),
            error: raw.get("error").map(error_text),
            is_interrupt: raw
                .get("is_interrupt")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            duration_ms: duration(),
        },
        // SubagentStop ends a subagent only, not the turn: kept as Unknown.
        "Stop" => HookEvent::Stop {
            last_assistant_message: s("last_assistant_message"),
            stop_hook_active: raw
                .get("stop_hook_active")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
        "StopFailure" => {
            let error = raw
                .get("error_type")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    raw.get("error").map(|e| match e {
                        Value::Object(_) => e
                            .get("type")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                            .unwrap_or_else(|| error_text(e)),
                        other => error_text(other),
                    })
                });
            let details = s("error_details")
                .or_else(|| s("error_message"))
                .or_else(|| {
                    raw.get("error")
                        .and_then(|e| e.get("message"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            HookEvent::StopFailure { error, details }
        }
        "SessionEnd" => HookEvent::SessionEnd {
            reason: s("reason"),
        },
        _ => HookEvent::Unknown,
    }
}

fn tool_call(raw: &Value) -> ToolCall {
    ToolCall {
        name: raw
            .get("tool_name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        input: raw.get("tool_input").cloned().unwrap_or(Value::Null),
        tool_use_id: raw
            .get("tool_use_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

fn error_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => m
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string()),
        other => other.to_string(),
    }
}

/// Reads one of `permission_suggestions`, with a label for people.
pub fn suggestion(v: &Value) -> PermissionSuggestion {
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    let destination = v
        .get("destination")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let strings = |k: &str| -> Vec<String> {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let what = match kind.as_str() {
        "addDirectories" => format!(
            "always allow access to {}",
            strings("directories").join(", ")
        ),
        "addRules" | "replaceRules" => {
            let rules: Vec<String> = v
                .get("rules")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|r| {
                            let tool = r.get("toolName").and_then(Value::as_str).unwrap_or("?");
                            match r.get("ruleContent").and_then(Value::as_str) {
                                Some(c) => format!("{tool}({c})"),
                                None => tool.to_owned(),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let behavior = v.get("behavior").and_then(Value::as_str).unwrap_or("allow");
            format!("always {behavior} {}", rules.join(", "))
        }
        "setMode" => format!(
            "switch to {} mode",
            v.get("mode").and_then(Value::as_str).unwrap_or("another")
        ),
        other => format!("apply the agent's suggestion ({other})"),
    };
    let label = match destination.as_deref() {
        Some("session") => format!("{what} (this session)"),
        Some("localSettings") => format!("{what} (this project, local settings)"),
        Some("projectSettings") => format!("{what} (this project, shared settings)"),
        Some("userSettings") => format!("{what} (all projects)"),
        Some(other) => format!("{what} ({other})"),
        None => what,
    };
    PermissionSuggestion {
        kind,
        destination,
        label,
        raw: v.clone(),
    }
}

/// The answer to one permission request.
#[derive(Debug, Clone, PartialEq)]
pub enum PermissionDecision {
    /// Run the tool; `always` are the suggestions the user chose to keep as rules ("allow
    /// always"), sent back as Claude Code offered them.
    Allow { always: Vec<PermissionSuggestion> },
    /// Do not run the tool; Claude Code tells the model `message`.
    Deny { message: String },
    /// Answer AskUserQuestion: run it with `input` (the tool's own) plus `answers` (question
    /// text to the chosen label). Verified with 2.1.328: the tool result then says
    /// `"<question>"="<label>"` and the transcript's `toolUseResult.answers` keeps them.
    Answer {
        input: Value,
        answers: std::collections::BTreeMap<String, String>,
    },
}

/// What a `PermissionRequest` hook prints on stdout (then exits 0) to answer Claude Code:
/// `{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{...}}}`.
pub fn permission_decision_json(decision: &PermissionDecision) -> String {
    let decision = match decision {
        PermissionDecision::Allow { always } if always.is_empty() => json!({"behavior": "allow"}),
        PermissionDecision::Allow { always } => json!({
            "behavior": "allow",
            "updatedPermissions": always.iter().map(|s| s.raw.clone()).collect::<Vec<_>>(),
        }),
        PermissionDecision::Deny { message } => json!({"behavior": "deny", "message": message}),
        PermissionDecision::Answer { input, answers } => {
            let mut updated = match input {
                Value::Object(o) => o.clone(),
                _ => serde_json::Map::new(),
            };
            updated.insert("answers".into(), json!(answers));
            json!({"behavior": "allow", "updatedInput": updated})
        }
    };
    json!({
        "hookSpecificOutput": {
            "hookEventName": "PermissionRequest",
            "decision": decision,
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::StateHint;

    #[test]
    fn unknown_events_are_kept_whole() {
        let p = parse(br#"{"hook_event_name":"PreCompact","session_id":"s","trigger":"auto"}"#)
            .expect("parse");
        assert_eq!(p.event, HookEvent::Unknown);
        assert_eq!(p.event_name, "PreCompact");
        assert_eq!(p.raw["trigger"], "auto");
        assert_eq!(p.event.state_hint(), StateHint::NoChange);
    }

    #[test]
    fn bad_payloads_are_errors_that_say_why() {
        let e = parse(b"not json").expect_err("garbage");
        assert!(e.to_string().contains("not a JSON object"), "{e}");
        let e = parse(b"[1,2]").expect_err("array");
        assert!(e.to_string().contains("found an array"), "{e}");
    }

    #[test]
    fn fields_of_the_wrong_type_count_as_missing() {
        let p = parse(
            br#"{"hook_event_name":"PreToolUse","session_id":5,"tool_name":["x"],"tool_input":"s"}"#,
        )
        .expect("parse");
        assert_eq!(p.session_id, None);
        match p.event {
            HookEvent::PreToolUse { tool } => {
                assert_eq!(tool.name, "");
                assert_eq!(tool.input, Value::String("s".into()));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn stop_failure_reads_the_error_type_in_either_shape() {
        let p = parse(br#"{"hook_event_name":"StopFailure","error":"rate_limit"}"#).expect("parse");
        assert_eq!(
            p.event.state_hint(),
            StateHint::Errored {
                reason: "rate_limit".into()
            }
        );
        let p = parse(
            br#"{"hook_event_name":"StopFailure","error":{"type":"overloaded","message":"try later"}}"#,
        )
        .expect("parse");
        assert_eq!(
            p.event,
            HookEvent::StopFailure {
                error: Some("overloaded".into()),
                details: Some("try later".into())
            }
        );
    }

    #[test]
    fn decisions_are_written_as_claude_code_expects() {
        let allow = permission_decision_json(&PermissionDecision::Allow { always: vec![] });
        let v: Value = serde_json::from_str(&allow).expect("json");
        assert_eq!(
            v,
            json!({"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow"}}})
        );
        let deny = permission_decision_json(&PermissionDecision::Deny {
            message: "not on main".into(),
        });
        let v: Value = serde_json::from_str(&deny).expect("json");
        assert_eq!(v["hookSpecificOutput"]["decision"]["behavior"], "deny");
        assert_eq!(
            v["hookSpecificOutput"]["decision"]["message"],
            "not on main"
        );
        let s = suggestion(
            &json!({"type":"addRules","rules":[{"toolName":"Bash","ruleContent":"npm test:*"}],"behavior":"allow","destination":"localSettings"}),
        );
        assert_eq!(
            s.label,
            "always allow Bash(npm test:*) (this project, local settings)"
        );
        let always = permission_decision_json(&PermissionDecision::Allow {
            always: vec![s.clone()],
        });
        let v: Value = serde_json::from_str(&always).expect("json");
        assert_eq!(
            v["hookSpecificOutput"]["decision"]["updatedPermissions"][0],
            s.raw
        );
    }
}
