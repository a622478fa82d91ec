//! Codex CLI: its rollout transcripts (`~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`, the
//! tree moves with `CODEX_HOME`), the JSON its `notify` program gets at the end of each turn,
//! and its screen.
//!
//! A rollout line is `{timestamp, type, payload}`. Read here: `session_meta` (id, cwd, git
//! branch, version), `turn_context` (model, cwd), `response_item` (`message`,
//! `function_call` / `function_call_output`, `custom_tool_call` / `custom_tool_call_output`,
//! `local_shell_call`, `reasoning`), `event_msg` (`task_started`, `task_complete`,
//! `token_count`, `user_message`, `agent_message`, `agent_reasoning`). Anything else is
//! ignored; a line that is not JSON is counted and skipped.

use crate::hook::{HookEvent, HookPayload};
use crate::{Adapter, AgentError, AgentKind, ScreenState};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Codex CLI's adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Codex;

impl Adapter for Codex {
    fn kind(&self) -> AgentKind {
        AgentKind::Codex
    }

    fn classify_screen(&self, rows: &[&str], quiet_for: Option<Duration>) -> ScreenState {
        classify_screen(rows, quiet_for)
    }

    /// Codex has no hooks, but its `notify` program gets one JSON argument per finished
    /// turn: this parses that argument.
    fn parse_hook(&self, payload: &[u8]) -> Result<HookPayload, AgentError> {
        parse_notify(payload)
    }

    /// Esc interrupts a Codex turn.
    fn interrupt_keys(&self) -> &'static [u8] {
        b"\x1b"
    }
}

/// Where Codex keeps its files: `$CODEX_HOME`, else `~/.codex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodexPaths {
    pub root: PathBuf,
}

impl CodexPaths {
    pub fn from_env() -> Option<CodexPaths> {
        Self::resolve(
            std::env::var_os("CODEX_HOME").map(PathBuf::from),
            std::env::var_os("HOME").map(PathBuf::from),
        )
    }

    pub fn resolve(codex_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<CodexPaths> {
        crate::home::agent_root(codex_home, home, ".codex").map(|root| CodexPaths { root })
    }

    /// `<root>/sessions`, holding `YYYY/MM/DD/rollout-*.jsonl`.
    pub fn sessions(&self) -> PathBuf {
        self.root.join("sessions")
    }

    /// The rollout of `session_id` (its file name ends with the id), newest days first.
    pub fn find_rollout(&self, session_id: &str) -> Option<PathBuf> {
        if session_id.is_empty() || session_id.contains(['/', '\\']) {
            return None;
        }
        let suffix = format!("{session_id}.jsonl");
        self.rollouts().into_iter().rev().find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(&suffix))
        })
    }

    /// Every rollout file, oldest day first.
    pub fn rollouts(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let sorted_dirs = |p: &Path| -> Vec<PathBuf> {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.is_dir())
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            v
        };
        for y in sorted_dirs(&self.sessions()) {
            for m in sorted_dirs(&y) {
                for d in sorted_dirs(&m) {
                    let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
                        .map(|rd| {
                            rd.flatten()
                                .map(|e| e.path())
                                .filter(|p| {
                                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                                        n.starts_with("rollout-") && n.ends_with(".jsonl")
                                    })
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    files.sort();
                    out.extend(files);
                }
            }
        }
        out
    }
}

/// Parses the JSON argument Codex passes to its `notify` program. Known: `type:
/// "agent-turn-complete"` (→ [`HookEvent::Stop`]) with `thread-id`, `turn-id`, `cwd`,
/// `input-messages`, `last-assistant-message`; other types are kept as
/// [`HookEvent::Unknown`].
pub fn parse_notify(payload: &[u8]) -> Result<HookPayload, AgentError> {
    let raw = crate::hook::payload_object(payload)?;
    let s = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| raw.get(*k).and_then(Value::as_str))
            .map(str::to_owned)
    };
    let event_name = s(&["type"]).unwrap_or_default();
    let event = match event_name.as_str() {
        "agent-turn-complete" => HookEvent::Stop {
            last_assistant_message: s(&["last-assistant-message", "last_assistant_message"]),
            stop_hook_active: false,
        },
        _ => HookEvent::Unknown,
    };
    Ok(HookPayload {
        session_id: s(&["thread-id", "thread_id", "session-id", "session_id"]),
        transcript_path: None,
        cwd: s(&["cwd"]).map(PathBuf::from),
        event_name,
        permission_mode: None,
        prompt_id: s(&["turn-id", "turn_id"]),
        event,
        raw,
    })
}

mod rollout;
mod screen;
mod tools;

pub use rollout::CodexRollout;
pub use screen::classify_screen;
pub(crate) use tools::{
    call_args, codex_summary, patch_body, patch_files, text_parts, tool_output,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_payloads_are_parsed_tolerantly() {
        let p = parse_notify(
            br#"{"type":"agent-turn-complete","thread-id":"t1","turn-id":"u2","cwd":"/w","input-messages":["hi"],"last-assistant-message":"Done.","new-field":1}"#,
        )
        .expect("parse");
        assert_eq!(p.session_id.as_deref(), Some("t1"));
        assert_eq!(
            p.event,
            HookEvent::Stop {
                last_assistant_message: Some("Done.".into()),
                stop_hook_active: false
            }
        );
        let p = parse_notify(br#"{"type":"approval-requested"}"#).expect("parse");
        assert_eq!(p.event, HookEvent::Unknown);
        assert!(parse_notify(b"\"x\"").is_err());
        assert!(parse_notify(b"{").is_err());
    }
}
