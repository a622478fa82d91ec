//! Turns a scripted [`Answer`] into the bytes of either protocol: Anthropic Messages (JSON or
//! server-sent events) and OpenAI Responses (server-sent events or JSON).

use crate::script::{Answer, Block, Usage};
use serde_json::{json, Value};

/// A response ready to write.
#[derive(Debug, Clone)]
pub enum Response {
    Full {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// `text/event-stream`, one chunk per event.
    Events { events: Vec<String> },
}

impl Response {
    pub fn json(status: u16, body: &Value) -> Self {
        Self::Full {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Full { status, .. } => *status,
            Self::Events { .. } => 200,
        }
    }
}

fn sse(event: &str, data: &Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

/// Splits text into a few pieces so it streams as several deltas, like a model would.
pub(crate) fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, word) in text.split_inclusive(' ').enumerate() {
        cur.push_str(word);
        if i % 4 == 3 {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

/// Tool-call ids in a reply: the block's own, else `<prefix>_<n>_<i>`.
fn tool_id(id: &Option<String>, prefix: &str, n: usize, i: usize) -> String {
    id.clone().unwrap_or_else(|| format!("{prefix}_{n}_{i}"))
}

fn anthropic_usage(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_creation_input_tokens": u.cache_creation_input_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens,
    })
}

/// The `error` body of either API for an HTTP error.
fn error_response(
    anthropic: bool,
    status: u16,
    error_type: &str,
    message: &str,
    should_retry: Option<bool>,
    n: usize,
) -> Response {
    let body = if anthropic {
        json!({"type": "error", "error": {"type": error_type, "message": message},
               "request_id": format!("req_fake_{n}")})
    } else {
        json!({"error": {"type": error_type, "message": message, "code": error_type, "param": null}})
    };
    let mut headers = vec![
        ("content-type", "application/json".to_owned()),
        ("request-id", format!("req_fake_{n}")),
    ];
    if let Some(retry) = should_retry {
        headers.push(("x-should-retry", retry.to_string()));
    }
    Response::Full {
        status,
        headers,
        body: body.to_string().into_bytes(),
    }
}

/// An Anthropic Messages answer; `n` numbers the response (ids are unique per fake).
pub fn anthropic(answer: &Answer, model: &str, stream: bool, n: usize) -> Response {
    let (blocks, usage, stop_reason) = match answer {
        Answer::Error {
            status,
            error_type,
            message,
            should_retry,
        } => return error_response(true, *status, error_type, message, *should_retry, n),
        Answer::Message {
            blocks,
            usage,
            stop_reason,
        } => (blocks, usage, stop_reason),
    };
    let stop_reason = stop_reason.clone().unwrap_or_else(|| {
        if blocks.iter().any(|b| matches!(b, Block::ToolUse { .. })) {
            "tool_use".into()
        } else {
            "end_turn".into()
        }
    });
    let id = format!("msg_fake_{n}");
    let full: Vec<Value> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| match b {
            Block::Text { text } => json!({"type": "text", "text": text}),
            Block::Thinking {
                thinking,
                signature,
            } => json!({"type": "thinking", "thinking": thinking,
                        "signature": signature.clone().unwrap_or_else(|| format!("sig_fake_{n}_{i}"))}),
            Block::ToolUse {
                id: tid,
                name,
                input,
            } => json!({"type": "tool_use", "id": tool_id(tid, "toolu_fake", n, i),
                        "name": name, "input": input}),
        })
        .collect();
    if !stream {
        return Response::json(
            200,
            &json!({"id": id, "type": "message", "role": "assistant", "model": model,
                    "content": full, "stop_reason": stop_reason, "stop_sequence": null,
                    "usage": anthropic_usage(usage)}),
        );
    }
    let mut start_usage = anthropic_usage(usage);
    start_usage["output_tokens"] = json!(1);
    let mut events = vec![sse(
        "message_start",
        &json!({"type": "message_start", "message": {"id": id, "type": "message",
                "role": "assistant", "model": model, "content": [], "stop_reason": null,
                "stop_sequence": null, "usage": start_usage}}),
    )];
    for (i, (b, done)) in blocks.iter().zip(&full).enumerate() {
        let (start, deltas): (Value, Vec<Value>) = match b {
            Block::Text { text } => (
                json!({"type": "text", "text": ""}),
                pieces(text)
                    .into_iter()
                    .map(|p| json!({"type": "text_delta", "text": p}))
                    .collect(),
            ),
            Block::Thinking { thinking, .. } => {
                let mut d: Vec<Value> = pieces(thinking)
                    .into_iter()
                    .map(|p| json!({"type": "thinking_delta", "thinking": p}))
                    .collect();
                d.push(json!({"type": "signature_delta", "signature": done["signature"]}));
                (
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    d,
                )
            }
            Block::ToolUse { name, input, .. } => {
                let s = input.to_string();
                let mid = s.len() / 2;
                let mid = (mid..=s.len())
                    .find(|&m| s.is_char_boundary(m))
                    .unwrap_or(s.len());
                (
                    json!({"type": "tool_use", "id": done["id"], "name": name, "input": {}}),
                    [&s[..mid], &s[mid..]]
                        .iter()
                        .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
                        .collect(),
                )
            }
        };
        events.push(sse(
            "content_block_start",
            &json!({"type": "content_block_start", "index": i, "content_block": start}),
        ));
        for d in deltas {
            events.push(sse(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": i, "delta": d}),
            ));
        }
        events.push(sse(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": i}),
        ));
    }
    events.push(sse(
        "message_delta",
        &json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": null},
                "usage": anthropic_usage(usage)}),
    ));
    events.push(sse("message_stop", &json!({"type": "message_stop"})));
    Response::Events { events }
}

/// An OpenAI Responses answer.
pub fn openai(answer: &Answer, model: &str, stream: bool, n: usize) -> Response {
    let (blocks, usage) = match answer {
        Answer::Error {
            status,
            error_type,
            message,
            should_retry,
        } => return error_response(false, *status, error_type, message, *should_retry, n),
        Answer::Message { blocks, usage, .. } => (blocks, usage),
    };
    let id = format!("resp_fake_{n}");
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let items: Vec<Value> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| match b {
            Block::Text { text } => json!({"id": format!("msg_fake_{n}_{i}"), "type": "message",
                "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}]}),
            Block::Thinking { thinking, .. } => json!({"id": format!("rs_fake_{n}_{i}"),
                "type": "reasoning", "summary": [{"type": "summary_text", "text": thinking}]}),
            Block::ToolUse {
                id: tid,
                name,
                input,
            } => {
                let mut item = json!({"id": format!("fc_fake_{n}_{i}"), "type": "function_call",
                "status": "completed", "call_id": tool_id(tid, "call_fake", n, i), "name": name,
                "arguments": input.to_string()});
                // Codex names an MCP server's tools in a namespace (`mcp__paddock`): a
                // scripted `NAMESPACE::NAME` calls one (issue 15, Codex app-server).
                if let Some((ns, short)) = name.split_once("::") {
                    item["namespace"] = json!(ns);
                    item["name"] = json!(short);
                }
                item
            }
        })
        .collect();
    let usage_json = json!({
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cache_read_input_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    });
    let response = |status: &str, output: &[Value], usage: Value| {
        json!({"id": id, "object": "response", "created_at": created, "status": status,
               "model": model, "output": output, "usage": usage})
    };
    if !stream {
        return Response::json(200, &response("completed", &items, usage_json));
    }
    let mut seq = 0u64;
    let mut events = Vec::new();
    let mut ev = |kind: &str, mut data: Value| {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(seq);
        seq += 1;
        events.push(sse(kind, &data));
    };
    ev(
        "response.created",
        json!({"response": response("in_progress", &[], Value::Null)}),
    );
    ev(
        "response.in_progress",
        json!({"response": response("in_progress", &[], Value::Null)}),
    );
    for (i, (b, item)) in blocks.iter().zip(&items).enumerate() {
        let item_id = item["id"].clone();
        match b {
            Block::Text { text } => {
                let mut added = item.clone();
                added["status"] = json!("in_progress");
                added["content"] = json!([]);
                ev(
                    "response.output_item.added",
                    json!({"output_index": i, "item": added}),
                );
                let part = json!({"type": "output_text", "text": "", "annotations": []});
                ev(
                    "response.content_part.added",
                    json!({"item_id": item_id, "output_index": i, "content_index": 0, "part": part}),
                );
                for p in pieces(text) {
                    ev(
                        "response.output_text.delta",
                        json!({"item_id": item_id, "output_index": i, "content_index": 0, "delta": p}),
                    );
                }
                ev(
                    "response.output_text.done",
                    json!({"item_id": item_id, "output_index": i, "content_index": 0, "text": text}),
                );
                ev(
                    "response.content_part.done",
                    json!({"item_id": item_id, "output_index": i, "content_index": 0,
                           "part": item["content"][0]}),
                );
            }
            Block::Thinking { thinking, .. } => {
                let mut added = item.clone();
                added["summary"] = json!([]);
                ev(
                    "response.output_item.added",
                    json!({"output_index": i, "item": added}),
                );
                ev(
                    "response.reasoning_summary_part.added",
                    json!({"item_id": item_id, "output_index": i, "summary_index": 0,
                           "part": {"type": "summary_text", "text": ""}}),
                );
                for p in pieces(thinking) {
                    ev(
                        "response.reasoning_summary_text.delta",
                        json!({"item_id": item_id, "output_index": i, "summary_index": 0, "delta": p}),
                    );
                }
                ev(
                    "response.reasoning_summary_text.done",
                    json!({"item_id": item_id, "output_index": i, "summary_index": 0, "text": thinking}),
                );
                ev(
                    "response.reasoning_summary_part.done",
                    json!({"item_id": item_id, "output_index": i, "summary_index": 0,
                           "part": {"type": "summary_text", "text": thinking}}),
                );
            }
            Block::ToolUse { .. } => {
                let mut added = item.clone();
                added["status"] = json!("in_progress");
                added["arguments"] = json!("");
                ev(
                    "response.output_item.added",
                    json!({"output_index": i, "item": added}),
                );
                ev(
                    "response.function_call_arguments.delta",
                    json!({"item_id": item_id, "output_index": i, "delta": item["arguments"]}),
                );
                ev(
                    "response.function_call_arguments.done",
                    json!({"item_id": item_id, "output_index": i, "arguments": item["arguments"]}),
                );
            }
        }
        ev(
            "response.output_item.done",
            json!({"output_index": i, "item": item}),
        );
    }
    ev(
        "response.completed",
        json!({"response": response("completed", &items, usage_json)}),
    );
    Response::Events { events }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::Reply;

    fn data_of(events: &[String]) -> Vec<Value> {
        events
            .iter()
            .map(|e| {
                let line = e
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .expect("data line");
                serde_json::from_str(line).expect("json")
            })
            .collect()
    }

    #[test]
    fn anthropic_stream_rebuilds_the_scripted_message() {
        let reply = Reply::tool_use(
            "Bash",
            json!({"command": "echo héllo > f", "description": "d"}),
        )
        .with_thinking("let me think about it carefully now")
        .usage(Usage::new(120, 7).with_cache(3, 4));
        let Response::Events { events } = anthropic(&reply.answer, "m", true, 3) else {
            panic!("not a stream");
        };
        let data = data_of(&events);
        assert_eq!(data[0]["message"]["usage"]["input_tokens"], 120);
        // Reassemble the blocks from the deltas, as a client does.
        let mut thinking = String::new();
        let mut json_text = String::new();
        let mut signature = String::new();
        for d in &data {
            if d["type"] == "content_block_delta" {
                match d["delta"]["type"].as_str() {
                    Some("thinking_delta") => {
                        thinking += d["delta"]["thinking"].as_str().expect("s")
                    }
                    Some("signature_delta") => {
                        signature += d["delta"]["signature"].as_str().expect("s")
                    }
                    Some("input_json_delta") => {
                        json_text += d["delta"]["partial_json"].as_str().expect("s")
                    }
                    other => panic!("unexpected delta {other:?}"),
                }
            }
        }
        assert_eq!(thinking, "let me think about it carefully now");
        assert!(!signature.is_empty());
        let input: Value = serde_json::from_str(&json_text).expect("tool input json");
        assert_eq!(input["command"], "echo héllo > f");
        let delta = data
            .iter()
            .find(|d| d["type"] == "message_delta")
            .expect("message_delta");
        assert_eq!(delta["delta"]["stop_reason"], "tool_use");
        assert_eq!(delta["usage"]["output_tokens"], 7);
        assert_eq!(delta["usage"]["cache_read_input_tokens"], 4);
        assert_eq!(data.last().expect("last")["type"], "message_stop");
    }

    #[test]
    fn openai_stream_carries_text_function_call_and_usage() {
        let reply = Reply::text("running it")
            .with_tool_use("exec_command", json!({"cmd": "ls"}))
            .usage(Usage::new(50, 9));
        let Response::Events { events } = openai(&reply.answer, "gpt-fake", true, 1) else {
            panic!("not a stream");
        };
        let data = data_of(&events);
        let text: String = data
            .iter()
            .filter(|d| d["type"] == "response.output_text.delta")
            .map(|d| d["delta"].as_str().expect("delta").to_owned())
            .collect();
        assert_eq!(text, "running it");
        let call = data
            .iter()
            .find(|d| {
                d["type"] == "response.output_item.done" && d["item"]["type"] == "function_call"
            })
            .expect("function call");
        assert_eq!(call["item"]["name"], "exec_command");
        assert_eq!(call["item"]["arguments"], r#"{"cmd":"ls"}"#);
        let done = data.last().expect("last");
        assert_eq!(done["type"], "response.completed");
        assert_eq!(done["response"]["usage"]["total_tokens"], 59);
        let seqs: Vec<u64> = data
            .iter()
            .map(|d| d["sequence_number"].as_u64().expect("seq"))
            .collect();
        assert_eq!(seqs, (0..data.len() as u64).collect::<Vec<_>>());
    }

    #[test]
    fn errors_use_each_protocols_shape() {
        let reply = Reply::error(529, "overloaded_error", "Overloaded").should_retry(false);
        let Response::Full {
            status,
            headers,
            body,
        } = anthropic(&reply.answer, "m", true, 1)
        else {
            panic!("not full");
        };
        assert_eq!(status, 529);
        assert!(headers.contains(&("x-should-retry", "false".into())));
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body["error"]["type"], "overloaded_error");
        let Response::Full { body, .. } = openai(&reply.answer, "m", true, 1) else {
            panic!("not full");
        };
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body["error"]["message"], "Overloaded");
    }
}
