//! The part of Codex's app-server protocol (JSON-RPC 2.0 in WebSocket text frames; replies
//! leave out `"jsonrpc"`) that the supervisor reads and writes: pure functions from a frame
//! to a [`Message`] and from a [`Decision`] to the reply. Untrusted input: a frame that is
//! not JSON, or a message of an unknown or malformed kind, is [`Message::Other`].

use paddock_proto::agent::Decision;
use serde_json::{json, Value};

/// Frames larger than this are not read (the server's own limit is 16 MiB).
pub const MAX_FRAME: usize = 16 << 20;

/// How a thread is doing (`thread/status/changed`, sent to every client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadStatus {
    /// Running a turn; whether it waits on an approval or on the user's answer.
    Active {
        waiting: bool,
    },
    Idle,
    /// The thread broke (Codex's `systemError`).
    Failed,
    /// Not loaded, or a status this version does not know.
    Other,
}

/// An approval the app-server asks its clients for.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    /// The JSON-RPC request id, given back in the reply.
    pub rpc_id: Value,
    pub thread: String,
    /// `exec_command` (a shell command) or `apply_patch` (file changes).
    pub tool: &'static str,
    /// What the owner is shown: `command`, `cwd`, `reason` (or `grant_root`).
    pub input: Value,
    /// Whether "for the rest of the session" is offered.
    pub for_session: bool,
}

/// One message from the app-server, as far as Paddock cares.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The reply to a request of ours.
    Reply {
        id: u64,
        result: Result<Value, String>,
    },
    ThreadStarted {
        thread: String,
        ephemeral: bool,
    },
    Status {
        thread: String,
        status: ThreadStatus,
    },
    TurnStarted {
        thread: String,
    },
    /// A turn ended; `error` when it failed or was interrupted.
    TurnCompleted {
        thread: String,
        error: Option<String>,
    },
    /// A tool started (`commandExecution`, `fileChange`, `mcpToolCall`...).
    ToolStarted {
        thread: String,
        tool: String,
    },
    ToolFinished {
        thread: String,
    },
    Approval(Approval),
    /// A request to the clients was answered (by any of them) or withdrawn.
    Resolved {
        thread: String,
        rpc_id: Value,
    },
    /// Anything else (other notifications, requests Paddock leaves to the terminal UI).
    Other,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The name Paddock shows for a thread item that is a tool, if it is one.
fn tool_of(item: &Value) -> Option<String> {
    let name = match item.get("type").and_then(Value::as_str)? {
        "commandExecution" => "exec_command",
        "fileChange" => "apply_patch",
        "mcpToolCall" => "mcp",
        "webSearch" => "web_search",
        "dynamicToolCall" => "tool",
        _ => return None,
    };
    Some(name.to_owned())
}

/// Reads one text frame.
pub fn parse(frame: &str) -> Message {
    let Ok(v) = serde_json::from_str::<Value>(frame) else {
        return Message::Other;
    };
    let method = v.get("method").and_then(Value::as_str);
    let params = v.get("params").cloned().unwrap_or(Value::Null);
    let thread = text(&params, "threadId");
    match (method, v.get("id")) {
        (None, Some(id)) => {
            let Some(id) = id.as_u64() else {
                return Message::Other;
            };
            let result = match (v.get("result"), v.get("error")) {
                (Some(r), _) => Ok(r.clone()),
                (None, Some(e)) => Err(text(e, "message").unwrap_or_else(|| e.to_string())),
                (None, None) => return Message::Other,
            };
            Message::Reply { id, result }
        }
        (Some(m), Some(id)) => approval(m, id, &params, thread).unwrap_or(Message::Other),
        (Some(m), None) => notification(m, &params, thread).unwrap_or(Message::Other),
        (None, None) => Message::Other,
    }
}

fn approval(method: &str, id: &Value, params: &Value, thread: Option<String>) -> Option<Message> {
    let thread = thread?;
    let (tool, input, for_session) = match method {
        "item/commandExecution/requestApproval" => {
            // The command as the model wrote it (the request's `command` is wrapped in a
            // login shell: `/bin/bash -lc '…'`).
            let command = params
                .get("commandActions")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(|a| text(a, "command"))
                .or_else(|| text(params, "command"))?;
            let for_session = params
                .get("availableDecisions")
                .and_then(Value::as_array)
                .is_none_or(|d| d.iter().any(|d| d == "acceptForSession"));
            let input = json!({"command": command, "cwd": text(params, "cwd"),
                "reason": text(params, "reason")});
            ("exec_command", input, for_session)
        }
        "item/fileChange/requestApproval" => {
            let input = json!({"reason": text(params, "reason"),
                "grant_root": text(params, "grantRoot")});
            ("apply_patch", input, true)
        }
        _ => return None,
    };
    Some(Message::Approval(Approval {
        rpc_id: id.clone(),
        thread,
        tool,
        input,
        for_session,
    }))
}

fn notification(method: &str, params: &Value, thread: Option<String>) -> Option<Message> {
    Some(match method {
        "thread/started" => {
            let t = params.get("thread")?;
            Message::ThreadStarted {
                thread: text(t, "id")?,
                ephemeral: t.get("ephemeral").and_then(Value::as_bool).unwrap_or(false),
            }
        }
        "thread/status/changed" => {
            let s = params.get("status")?;
            let status = match s.get("type").and_then(Value::as_str)? {
                "active" => ThreadStatus::Active {
                    waiting: s
                        .get("activeFlags")
                        .and_then(Value::as_array)
                        .is_some_and(|f| !f.is_empty()),
                },
                "idle" => ThreadStatus::Idle,
                "systemError" => ThreadStatus::Failed,
                _ => ThreadStatus::Other,
            };
            Message::Status {
                thread: thread?,
                status,
            }
        }
        "turn/started" => Message::TurnStarted { thread: thread? },
        "turn/completed" => {
            let turn = params.get("turn")?;
            let error = match turn.get("status").and_then(Value::as_str) {
                Some("failed") | Some("interrupted") => Some(
                    turn.get("error")
                        .and_then(|e| text(e, "message"))
                        .unwrap_or_else(|| "the turn was interrupted".into()),
                ),
                _ => None,
            };
            Message::TurnCompleted {
                thread: thread?,
                error,
            }
        }
        "item/started" => Message::ToolStarted {
            thread: thread?,
            tool: tool_of(params.get("item")?)?,
        },
        "item/completed" => {
            tool_of(params.get("item")?)?;
            Message::ToolFinished { thread: thread? }
        }
        "serverRequest/resolved" => Message::Resolved {
            thread: thread?,
            rpc_id: params.get("requestId")?.clone(),
        },
        _ => return None,
    })
}

/// A request of ours.
pub fn request(id: u64, method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

/// The reply that gives `decision` to an approval request; `None` for a decision the
/// protocol has no word for (answers to questions).
pub fn reply(rpc_id: &Value, decision: &Decision) -> Option<String> {
    let word = match decision {
        Decision::Allow => "accept",
        Decision::AllowAlways { .. } => "acceptForSession",
        Decision::Deny { .. } => "decline",
        Decision::Answer { .. } => return None,
    };
    Some(json!({"jsonrpc": "2.0", "id": rpc_id, "result": {"decision": word}}).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_approval_request_names_the_command_as_the_model_wrote_it() {
        // As the pinned Codex 0.169.0 sent it (trimmed).
        let frame = r#"{"method":"item/commandExecution/requestApproval","id":0,"params":{"kind":"command","threadId":"t1","turnId":"u1","itemId":"call_fake_0_0","reason":"Write made.txt?","command":"/bin/bash -lc 'echo approved > made.txt'","cwd":"/p","commandActions":[{"type":"unknown","command":"echo approved > made.txt"}],"availableDecisions":["accept",{"acceptWithExecpolicyAmendment":{}},"cancel"]}}"#;
        let Message::Approval(a) = parse(frame) else {
            panic!("not an approval: {:?}", parse(frame));
        };
        assert_eq!(a.rpc_id, json!(0));
        assert_eq!(a.thread, "t1");
        assert_eq!(a.tool, "exec_command");
        assert_eq!(a.input["command"], "echo approved > made.txt");
        assert_eq!(a.input["reason"], "Write made.txt?");
        assert!(!a.for_session, "not offered here");
        let yes = reply(&a.rpc_id, &Decision::Allow).expect("a word for it");
        let yes: Value = serde_json::from_str(&yes).expect("json");
        assert_eq!(
            yes,
            json!({"jsonrpc": "2.0", "id": 0, "result": {"decision": "accept"}})
        );
        let no = reply(&a.rpc_id, &Decision::Deny { message: None }).expect("word");
        assert!(no.contains("\"decline\""), "{no}");
    }

    #[test]
    fn statuses_turns_and_resolutions_are_read_and_nonsense_is_other() {
        let status = |s: &str| {
            parse(&format!(
                r#"{{"method":"thread/status/changed","params":{{"threadId":"t","status":{s}}}}}"#
            ))
        };
        let of = |status| Message::Status {
            thread: "t".into(),
            status,
        };
        assert_eq!(
            status(r#"{"type":"active","activeFlags":["waitingOnApproval"]}"#),
            of(ThreadStatus::Active { waiting: true })
        );
        assert_eq!(
            status(r#"{"type":"active","activeFlags":[]}"#),
            of(ThreadStatus::Active { waiting: false })
        );
        assert_eq!(status(r#"{"type":"idle"}"#), of(ThreadStatus::Idle));
        assert_eq!(status(r#"{"type":"later"}"#), of(ThreadStatus::Other));
        assert_eq!(
            parse(
                r#"{"method":"turn/completed","params":{"threadId":"t","turn":{"id":"u","status":"failed","error":{"message":"overloaded"}}}}"#
            ),
            Message::TurnCompleted {
                thread: "t".into(),
                error: Some("overloaded".into())
            }
        );
        assert_eq!(
            parse(r#"{"method":"serverRequest/resolved","params":{"threadId":"t","requestId":0}}"#),
            Message::Resolved {
                thread: "t".into(),
                rpc_id: json!(0)
            }
        );
        assert_eq!(
            parse(r#"{"id":3,"error":{"code":-32600,"message":"no rollout found"}}"#),
            Message::Reply {
                id: 3,
                result: Err("no rollout found".into())
            }
        );
        for bad in [
            "",
            "nope",
            "[]",
            r#"{"method":"thread/status/changed"}"#,
            r#"{"method":"item/commandExecution/requestApproval","id":1,"params":{}}"#,
            r#"{"id":"x","result":{}}"#,
        ] {
            assert_eq!(parse(bad), Message::Other, "{bad}");
        }
    }
}
