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

/// An approval (or a question) the app-server asks its clients for.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    /// The JSON-RPC request id, given back in the reply.
    pub rpc_id: Value,
    pub thread: String,
    /// `exec_command` (a shell command), `apply_patch` (file changes), `permissions` (more
    /// sandbox access), or `AskUserQuestion` (Codex's question: Paddock's question kind).
    pub tool: &'static str,
    /// What the owner is shown: `command`, `cwd`, `reason` (or `grant_root`, `files`,
    /// `permissions`), or the questions in the shape Paddock reads questions in.
    pub input: Value,
    /// Whether "for the rest of the session" is offered.
    pub for_session: bool,
    /// How the decision goes back.
    pub answering: Answering,
}

/// The protocol's words for a decision, which depend on the request.
#[derive(Debug, Clone, PartialEq)]
pub enum Answering {
    /// v2 `item/commandExecution|fileChange/requestApproval`: `accept`, `acceptForSession`,
    /// `decline`.
    Review,
    /// v1 `execCommandApproval` / `applyPatchApproval`: `approved`, `approved_for_session`,
    /// `denied`.
    ReviewV1,
    /// `item/tool/requestUserInput`: the answers by question id; `(question, id)` pairs.
    Questions(Vec<(String, String)>),
    /// `item/permissions/requestApproval`: the profile asked for, granted whole (for the
    /// turn, or the session) or not at all.
    Permissions(Value),
    /// `mcpServer/elicitation/request` that only asks whether an MCP tool may run (Codex's
    /// `codex_approval_kind: mcp_tool_call`, no fields to fill): `accept` or `decline`.
    Elicitation,
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
    let (thread, tool, input, for_session, answering) = match method {
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
            (
                thread?,
                "exec_command",
                input,
                for_session,
                Answering::Review,
            )
        }
        "item/fileChange/requestApproval" => {
            let input = json!({"reason": text(params, "reason"),
                "grant_root": text(params, "grantRoot")});
            (thread?, "apply_patch", input, true, Answering::Review)
        }
        "execCommandApproval" => {
            let argv: Vec<&str> = params
                .get("command")?
                .as_array()?
                .iter()
                .map(Value::as_str)
                .collect::<Option<_>>()?;
            let input = json!({"command": command_line(&argv), "cwd": text(params, "cwd"),
                "reason": text(params, "reason")});
            let thread = text(params, "conversationId")?;
            (thread, "exec_command", input, true, Answering::ReviewV1)
        }
        "applyPatchApproval" => {
            let files: Vec<&String> = params.get("fileChanges")?.as_object()?.keys().collect();
            let input = json!({"reason": text(params, "reason"),
                "grant_root": text(params, "grantRoot"), "files": files});
            let thread = text(params, "conversationId")?;
            (thread, "apply_patch", input, true, Answering::ReviewV1)
        }
        "item/tool/requestUserInput" => {
            let mut ids = Vec::new();
            let mut questions = Vec::new();
            for q in params.get("questions")?.as_array()? {
                let (id, question) = (text(q, "id")?, text(q, "question")?);
                let options: Vec<Value> = q
                    .get("options")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|o| {
                        Some(json!({"label": text(o, "label")?,
                            "description": text(o, "description")}))
                    })
                    .collect();
                questions.push(json!({"question": question, "header": text(q, "header"),
                    "multiSelect": false, "options": options}));
                ids.push((question, id));
            }
            if ids.is_empty() {
                return None;
            }
            let input = json!({"questions": questions});
            (
                thread?,
                "AskUserQuestion",
                input,
                false,
                Answering::Questions(ids),
            )
        }
        "item/permissions/requestApproval" => {
            let asked = params.get("permissions")?.clone();
            let input = json!({"permissions": asked, "cwd": text(params, "cwd"),
                "reason": text(params, "reason")});
            (
                thread?,
                "permissions",
                input,
                true,
                Answering::Permissions(asked),
            )
        }
        "mcpServer/elicitation/request" => {
            // Only Codex's yes/no question before an MCP tool runs; a form with fields to
            // fill stays in the terminal UI.
            let meta = params.get("_meta")?;
            let no_fields = params
                .pointer("/requestedSchema/properties")
                .and_then(Value::as_object)
                .is_none_or(|p| p.is_empty());
            if meta.get("codex_approval_kind").and_then(Value::as_str) != Some("mcp_tool_call")
                || params.get("mode").and_then(Value::as_str) != Some("form")
                || !no_fields
            {
                return None;
            }
            let input = json!({"server": text(params, "serverName"),
                "tool": text(meta, "tool_name"), "arguments": meta.get("tool_params"),
                "message": text(params, "message")});
            (thread?, "mcp", input, false, Answering::Elicitation)
        }
        _ => return None,
    };
    Some(Message::Approval(Approval {
        rpc_id: id.clone(),
        thread,
        tool,
        input,
        for_session,
        answering,
    }))
}

/// A v1 request's argv as the line the owner reads: the script of a `sh -c`/`bash -lc`
/// wrapper, else the words joined (quoted where they need it).
fn command_line(argv: &[&str]) -> String {
    if let [shell, flag, script] = argv {
        let shell = shell.rsplit('/').next().unwrap_or(shell);
        if matches!(shell, "sh" | "bash" | "zsh") && matches!(*flag, "-c" | "-lc") {
            return (*script).to_owned();
        }
    }
    argv.iter()
        .map(|w| {
            if !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
            {
                (*w).to_owned()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
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

/// A review's answer among its protocol's three words: allow (once), allow for the session,
/// refuse. An answer is refused by Paddock for a request without questions, so it declines.
fn review_word<'a>(decision: &Decision, [once, session, refuse]: [&'a str; 3]) -> &'a str {
    match decision {
        Decision::Allow => once,
        Decision::AllowAlways { .. } => session,
        Decision::Deny { .. } | Decision::Answer { .. } => refuse,
    }
}

/// The reply that gives `decision` to a request, in the words its kind takes.
pub fn reply(rpc_id: &Value, answering: &Answering, decision: &Decision) -> String {
    let result = match (answering, decision) {
        (Answering::Review, d) => {
            json!({"decision": review_word(d, ["accept", "acceptForSession", "decline"])})
        }
        (Answering::ReviewV1, d) => {
            json!({"decision": review_word(d, ["approved", "approved_for_session", "denied"])})
        }
        (Answering::Questions(ids), Decision::Answer { answers }) => {
            let by_id: serde_json::Map<String, Value> = ids
                .iter()
                .filter_map(|(question, id)| {
                    let a = answers.get(question)?;
                    Some((id.clone(), json!({"answers": [a]})))
                })
                .collect();
            json!({"answers": by_id})
        }
        // Approved or denied without words: no answer (the model hears none was given).
        (Answering::Questions(_), _) => json!({"answers": {}}),
        (Answering::Permissions(asked), Decision::Allow) => {
            json!({"permissions": asked, "scope": "turn"})
        }
        (Answering::Permissions(asked), Decision::AllowAlways { .. }) => {
            json!({"permissions": asked, "scope": "session"})
        }
        (Answering::Permissions(_), _) => json!({"permissions": {}}),
        (Answering::Elicitation, Decision::Allow | Decision::AllowAlways { .. }) => {
            json!({"action": "accept", "content": {}})
        }
        (Answering::Elicitation, _) => json!({"action": "decline"}),
    };
    json!({"jsonrpc": "2.0", "id": rpc_id, "result": result}).to_string()
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
        let yes = reply(&a.rpc_id, &a.answering, &Decision::Allow);
        let yes: Value = serde_json::from_str(&yes).expect("json");
        assert_eq!(
            yes,
            json!({"jsonrpc": "2.0", "id": 0, "result": {"decision": "accept"}})
        );
        let no = reply(&a.rpc_id, &a.answering, &Decision::Deny { message: None });
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

    /// Schema-valid requests (`codex app-server generate-json-schema`, 0.169.0) of the kinds
    /// the pinned Codex does not send offline in the tests: each is read, and each decision
    /// goes back in the words its kind takes.
    #[test]
    fn v1_approvals_and_permission_requests_are_read_and_answered_in_their_own_words() {
        let exec = r#"{"method":"execCommandApproval","id":"a1","params":{"conversationId":"c1","callId":"call_1","command":["/bin/bash","-lc","rm -rf build"],"cwd":"/p","parsedCmd":[],"reason":"Clean the build?"}}"#;
        let Message::Approval(a) = parse(exec) else {
            panic!("not read: {:?}", parse(exec));
        };
        assert_eq!((a.thread.as_str(), a.tool), ("c1", "exec_command"));
        assert_eq!(a.input["command"], "rm -rf build");
        assert_eq!(a.input["reason"], "Clean the build?");
        let word = |a: &Approval, d: Decision| -> Value {
            let r: Value = serde_json::from_str(&reply(&a.rpc_id, &a.answering, &d)).expect("json");
            assert_eq!(r["id"], a.rpc_id);
            r["result"].clone()
        };
        assert_eq!(word(&a, Decision::Allow), json!({"decision": "approved"}));
        assert_eq!(
            word(&a, Decision::AllowAlways { suggestion: 0 }),
            json!({"decision": "approved_for_session"})
        );
        assert_eq!(
            word(&a, Decision::Deny { message: None }),
            json!({"decision": "denied"})
        );
        let argv = r#"{"method":"execCommandApproval","id":2,"params":{"conversationId":"c1","callId":"x","command":["git","commit","-m","a b"],"cwd":"/p","parsedCmd":[]}}"#;
        let Message::Approval(a) = parse(argv) else {
            panic!("not read");
        };
        assert_eq!(a.input["command"], "git commit -m 'a b'");

        let patch = r#"{"method":"applyPatchApproval","id":3,"params":{"conversationId":"c1","callId":"p","fileChanges":{"/p/a.rs":{"type":"add","content":"x"}},"grantRoot":"/p","reason":null}}"#;
        let Message::Approval(a) = parse(patch) else {
            panic!("not read");
        };
        assert_eq!(a.tool, "apply_patch");
        assert_eq!(a.input["files"], json!(["/p/a.rs"]));
        assert_eq!(a.input["grant_root"], "/p");
        assert_eq!(word(&a, Decision::Allow), json!({"decision": "approved"}));

        let perms = r#"{"method":"item/permissions/requestApproval","id":4,"params":{"threadId":"t","turnId":"u","itemId":"i","cwd":"/p","startedAtMs":1,"reason":"Fetch the crate index","permissions":{"network":{"enabled":true}}}}"#;
        let Message::Approval(a) = parse(perms) else {
            panic!("not read");
        };
        assert_eq!(a.tool, "permissions");
        assert_eq!(a.input["reason"], "Fetch the crate index");
        assert_eq!(
            word(&a, Decision::Allow),
            json!({"permissions": {"network": {"enabled": true}}, "scope": "turn"})
        );
        assert_eq!(
            word(&a, Decision::AllowAlways { suggestion: 0 }),
            json!({"permissions": {"network": {"enabled": true}}, "scope": "session"})
        );
        assert_eq!(
            word(&a, Decision::Deny { message: None }),
            json!({"permissions": {}})
        );

        // A question: the answers go back by question id; none when only denied.
        let ask = r#"{"method":"item/tool/requestUserInput","id":5,"params":{"threadId":"t","turnId":"u","itemId":"i","isBlocking":true,"questions":[{"id":"c","header":"Colour","question":"Which colour?","options":[{"label":"Red","description":"Warm"}]},{"id":"n","header":"Name","question":"Its name?","options":null,"isOther":true}]}}"#;
        let Message::Approval(a) = parse(ask) else {
            panic!("not read");
        };
        assert_eq!(a.tool, "AskUserQuestion");
        assert_eq!(a.input["questions"][0]["options"][0]["label"], "Red");
        assert_eq!(a.input["questions"][1]["options"], json!([]));
        let answers = [("Which colour?", "Red"), ("Its name?", "Rex")]
            .iter()
            .map(|(q, a)| (q.to_string(), a.to_string()))
            .collect();
        assert_eq!(
            word(&a, Decision::Answer { answers }),
            json!({"answers": {"c": {"answers": ["Red"]}, "n": {"answers": ["Rex"]}}})
        );
        assert_eq!(
            word(&a, Decision::Deny { message: None }),
            json!({"answers": {}})
        );

        // Codex asking before an MCP tool runs (as the pinned Codex sent it, trimmed).
        let mcp = r#"{"method":"mcpServer/elicitation/request","id":0,"params":{"threadId":"t","turnId":"u","serverName":"paddock","mode":"form","_meta":{"codex_approval_kind":"mcp_tool_call","persist":["session","always"],"tool_name":"notify_owner","tool_params":{"message":"hello owner"}},"message":"Allow the paddock MCP server to run tool \"notify_owner\"?","requestedSchema":{"type":"object","properties":{}}}}"#;
        let Message::Approval(a) = parse(mcp) else {
            panic!("not read: {:?}", parse(mcp));
        };
        assert_eq!(a.tool, "mcp");
        assert_eq!(a.input["tool"], "notify_owner");
        assert_eq!(a.input["arguments"]["message"], "hello owner");
        assert_eq!(
            word(&a, Decision::Allow),
            json!({"action": "accept", "content": {}})
        );
        assert_eq!(
            word(&a, Decision::Deny { message: None }),
            json!({"action": "decline"})
        );

        // Malformed ones are left alone (the terminal UI still shows them).
        for bad in [
            r#"{"method":"execCommandApproval","id":6,"params":{"conversationId":"c","command":[1]}}"#,
            r#"{"method":"item/tool/requestUserInput","id":7,"params":{"threadId":"t","questions":[]}}"#,
            r#"{"method":"mcpServer/elicitation/request","id":8,"params":{"threadId":"t","serverName":"s"}}"#,
            r#"{"method":"mcpServer/elicitation/request","id":9,"params":{"threadId":"t","serverName":"s","mode":"form","_meta":{"codex_approval_kind":"mcp_tool_call"},"message":"Name?","requestedSchema":{"type":"object","properties":{"name":{"type":"string"}}}}}"#,
        ] {
            assert_eq!(parse(bad), Message::Other, "{bad}");
        }
    }
}
