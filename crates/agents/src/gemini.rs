//! Gemini CLI: its hook payloads (hooks configured in its `settings.json`; events
//! `SessionStart`, `BeforeAgent`, `BeforeTool`, `AfterTool`, `AfterAgent`, `Notification`,
//! `SessionEnd`, ...) mapped onto the common [`HookEvent`]s, and its screen (the tool
//! confirmation box, the "esc to cancel" spinner, the input box).

use crate::hook::{HookEvent, HookPayload, ToolCall};
use crate::screen::{numbered_option, trimmed_rows, PromptKind, ScreenPrompt};
use crate::{Adapter, AgentError, AgentKind, ScreenState};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// Gemini CLI's adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gemini;

impl Adapter for Gemini {
    fn kind(&self) -> AgentKind {
        AgentKind::Gemini
    }

    fn classify_screen(&self, rows: &[&str], _quiet_for: Option<Duration>) -> ScreenState {
        classify_screen(rows)
    }

    fn parse_hook(&self, payload: &[u8]) -> Result<HookPayload, AgentError> {
        parse_hook(payload)
    }

    /// Esc cancels Gemini CLI's current request.
    fn interrupt_keys(&self) -> &'static [u8] {
        b"\x1b"
    }
}

/// Gemini CLI's own folder as its environment says: `$GEMINI_CLI_HOME/.gemini` (that
/// variable stands for the home holding `.gemini`) or `~/.gemini`. Its chat files are under
/// `tmp/<project>/chats/`.
pub fn gemini_home() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    var("GEMINI_CLI_HOME")
        .or_else(|| var("HOME"))
        .map(|h| PathBuf::from(h).join(".gemini"))
}

/// Parses a Gemini CLI hook payload.
pub fn parse_hook(payload: &[u8]) -> Result<HookPayload, AgentError> {
    let raw = crate::hook::payload_object(payload)?;
    let s = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
    let tool = || ToolCall {
        name: s("tool_name").unwrap_or_default(),
        input: raw.get("tool_input").cloned().unwrap_or(Value::Null),
        tool_use_id: None,
    };
    let event_name = s("hook_event_name").unwrap_or_default();
    let event = match event_name.as_str() {
        "SessionStart" => HookEvent::SessionStart {
            source: s("source"),
            model: None,
        },
        "BeforeAgent" => HookEvent::UserPromptSubmit {
            prompt: s("prompt").unwrap_or_default(),
        },
        "BeforeTool" => HookEvent::PreToolUse { tool: tool() },
        "AfterTool" => HookEvent::PostToolUse {
            tool: tool(),
            response: raw.get("tool_response").cloned(),
            duration_ms: None,
        },
        "AfterAgent" => HookEvent::Stop {
            last_assistant_message: s("prompt_response"),
            stop_hook_active: raw
                .get("stop_hook_active")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
        "Notification" => {
            let kind = s("notification_type");
            HookEvent::Notification {
                message: s("message"),
                // Gemini asks for a tool's permission with a ToolPermission notification.
                notification_type: match kind.as_deref() {
                    Some("ToolPermission") => Some("permission_prompt".into()),
                    _ => kind,
                },
            }
        }
        "SessionEnd" => HookEvent::SessionEnd {
            reason: s("reason"),
        },
        _ => HookEvent::Unknown,
    };
    Ok(HookPayload {
        session_id: s("session_id"),
        transcript_path: s("transcript_path").map(PathBuf::from),
        cwd: s("cwd").map(PathBuf::from),
        event_name,
        permission_mode: None,
        prompt_id: None,
        event,
        raw,
    })
}

/// What a `ToolPermission` notification asks: the tool and what it would do. Gemini CLI sends
/// it (awaiting the hook) just before it draws its confirmation box; no hook can answer the
/// box, so Paddock answers it with the box's keys.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolPermission {
    /// Gemini's tool (`run_shell_command` for a shell command; `edit`, `web_fetch` or the
    /// MCP tool's name otherwise).
    pub tool: String,
    /// The request's subject under the keys Paddock's lists read (`command`, `file_path`,
    /// `url`), plus the box's title.
    pub input: Value,
}

/// The permission a hook payload asks for, if it is a `ToolPermission` notification. Its
/// `details` are Gemini's confirmation details (`type`: `exec`, `edit`, `mcp`, `info`); an
/// unknown type still asks, named by its title.
pub fn tool_permission(p: &HookPayload) -> Option<ToolPermission> {
    let raw = &p.raw;
    if raw.get("notification_type").and_then(Value::as_str) != Some("ToolPermission") {
        return None;
    }
    let details = raw.get("details").cloned().unwrap_or(Value::Null);
    let d = |k: &str| details.get(k).and_then(Value::as_str);
    let title = d("title").unwrap_or("a tool");
    let (tool, mut input) = match d("type") {
        Some("exec") => (
            "run_shell_command".to_owned(),
            serde_json::json!({ "command": d("command"), "root_command": d("rootCommand") }),
        ),
        Some("edit") => (
            "edit".to_owned(),
            serde_json::json!({ "file_path": d("filePath").or(d("fileName")), "diff": d("fileDiff") }),
        ),
        Some("mcp") => (
            d("toolName").unwrap_or("mcp").to_owned(),
            serde_json::json!({ "server": d("serverName"), "detail": d("toolDisplayName") }),
        ),
        Some("info") => (
            "web_fetch".to_owned(),
            serde_json::json!({
                "url": details.get("urls").and_then(|u| u.get(0)).and_then(Value::as_str),
                "urls": details.get("urls"),
                "detail": d("prompt"),
            }),
        ),
        _ => (
            title.to_owned(),
            serde_json::json!({ "detail": raw.get("message").and_then(Value::as_str) }),
        ),
    };
    input["title"] = title.into();
    Some(ToolPermission { tool, input })
}

/// A row without the side borders of Gemini's boxes.
fn unbox(row: &str) -> &str {
    let t = row.trim();
    let t = t.strip_prefix('│').unwrap_or(t);
    t.strip_suffix('│').unwrap_or(t).trim()
}

/// What Gemini CLI's screen shows.
pub fn classify_screen(rows: &[&str]) -> ScreenState {
    let rows: Vec<&str> = trimmed_rows(rows).into_iter().map(unbox).collect();
    let bottom = &rows[rows.len().saturating_sub(30)..];
    // The confirmation box: a question ("Allow execution of: 'echo'?", "Apply this
    // change?", "Do you want to proceed?") followed by numbered options, the selected one
    // marked with ●.
    if let Some(qi) = bottom.iter().rposition(|r| {
        let l = r.to_lowercase();
        r.ends_with('?')
            && (l.starts_with("allow")
                || l.starts_with("apply this change")
                || l.starts_with("do you want to"))
    }) {
        let mut options = Vec::new();
        let mut selected = None;
        for r in &bottom[qi + 1..] {
            let (marked, rest) = match r.strip_prefix('●') {
                Some(rest) => (true, rest),
                None => (false, *r),
            };
            if let Some((sel, _, text)) = numbered_option(rest) {
                if marked || sel {
                    selected = Some(options.len());
                }
                options.push(text.to_owned());
            }
        }
        if options.len() >= 2 {
            // The box's heading: "?  Shell echo hi > made.txt [current working directory …]".
            let heading = bottom[..qi]
                .iter()
                .rev()
                .take(20)
                .find_map(|r| r.strip_prefix('?').map(str::trim));
            let (tool, detail) = match heading {
                Some(h) => {
                    let h = h.split(" [").next().unwrap_or(h);
                    match h.split_once(' ') {
                        Some((t, d)) => (Some(t.to_owned()), Some(d.trim().to_owned())),
                        None => (Some(h.to_owned()), None),
                    }
                }
                None => (None, None),
            };
            return ScreenState::Prompt(ScreenPrompt {
                kind: PromptKind::Permission,
                tool,
                title: heading.map(str::to_owned),
                detail,
                description: None,
                question: bottom[qi].to_owned(),
                options,
                selected,
            });
        }
    }
    let tail = &bottom[bottom.len().saturating_sub(10)..];
    if let Some(line) = tail.iter().rev().find(|r| {
        let l = r.to_lowercase();
        l.contains("esc to cancel") || l.contains("esc to interrupt")
    }) {
        return ScreenState::Working {
            activity: Some(line.to_string()),
        };
    }
    if tail
        .iter()
        .any(|r| r.starts_with("> ") || *r == ">" || r.contains("Type your message"))
    {
        return ScreenState::WaitingInput;
    }
    ScreenState::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_map_onto_the_common_events() {
        let p = parse_hook(
            br#"{"session_id":"g1","hook_event_name":"BeforeTool","tool_name":"run_shell_command","tool_input":{"command":"ls"},"cwd":"/w","timestamp":"2026-01-01T00:00:00Z"}"#,
        )
        .expect("parse");
        assert!(
            matches!(&p.event, HookEvent::PreToolUse { tool } if tool.name == "run_shell_command")
        );
        assert_eq!(p.session_id.as_deref(), Some("g1"));
        let p = parse_hook(br#"{"hook_event_name":"Notification","notification_type":"ToolPermission","message":"Allow?"}"#)
            .expect("parse");
        assert_eq!(
            p.event.state_hint(),
            crate::StateHint::WaitingPermission { tool: None }
        );
        let p = parse_hook(br#"{"hook_event_name":"BeforeModel"}"#).expect("parse");
        assert_eq!(p.event, HookEvent::Unknown);
    }

    #[test]
    fn a_tool_permission_notification_names_the_tool_and_its_command() {
        let hooks: Vec<Value> =
            serde_json::from_str(include_str!("../tests/data/gemini-hooks-0.61.0.json"))
                .expect("the recorded hooks");
        let asks: Vec<ToolPermission> = hooks
            .iter()
            .map(|h| parse_hook(h.to_string().as_bytes()).expect("parse"))
            .filter_map(|p| tool_permission(&p))
            .collect();
        assert_eq!(asks.len(), 1, "one ToolPermission in the recorded turn");
        assert_eq!(asks[0].tool, "run_shell_command");
        assert_eq!(asks[0].input["command"], "echo hi > made.txt");
        assert_eq!(asks[0].input["title"], "Confirm Shell Command");
        let edit = parse_hook(
            br#"{"hook_event_name":"Notification","notification_type":"ToolPermission","details":{"type":"edit","title":"Confirm Edit","filePath":"/w/a.txt","fileDiff":"+x"}}"#,
        )
        .expect("parse");
        let edit = tool_permission(&edit).expect("an edit asks");
        assert_eq!(
            (edit.tool.as_str(), &edit.input["file_path"]),
            ("edit", &Value::from("/w/a.txt"))
        );
        let odd = parse_hook(
            br#"{"hook_event_name":"Notification","notification_type":"ToolPermission","message":"Tool requires confirmation","details":"??"}"#,
        )
        .expect("parse");
        assert_eq!(tool_permission(&odd).map(|a| a.tool), Some("a tool".into()));
        let other =
            parse_hook(br#"{"hook_event_name":"Notification","notification_type":"Other"}"#)
                .expect("parse");
        assert_eq!(tool_permission(&other), None);
    }

    #[test]
    fn the_confirmation_box_spinner_and_input_are_recognised() {
        let screen = [
            "╭──────────────────────────────────────────────────────────────╮",
            "│ ?  Shell echo hi > made.txt [current working directory /w]   │",
            "│                                                              │",
            "│   echo hi > made.txt                                         │",
            "│                                                              │",
            "│ Allow execution of: 'echo'?                                  │",
            "│                                                              │",
            "│ ● 1. Yes, allow once                                         │",
            "│   2. Yes, allow always ...                                   │",
            "│   3. No, suggest changes (esc)                               │",
            "╰──────────────────────────────────────────────────────────────╯",
        ];
        let ScreenState::Prompt(p) = classify_screen(&screen) else {
            panic!("no prompt")
        };
        assert_eq!(p.tool.as_deref(), Some("Shell"));
        assert_eq!(p.detail.as_deref(), Some("echo hi > made.txt"));
        assert_eq!(p.options.len(), 3);
        assert_eq!(p.selected, Some(0));
        let working = ["⠋ Counting the files (esc to cancel, 3s)", "", "> "];
        assert!(matches!(
            classify_screen(&working),
            ScreenState::Working { .. }
        ));
        let idle = [
            "╭────────╮",
            "│ >   Type your message or @path/to/file │",
            "╰────────╯",
        ];
        assert_eq!(classify_screen(&idle), ScreenState::WaitingInput);
    }
}
