//! The Gemini API's side of the fake (what Gemini CLI calls with `GOOGLE_GEMINI_BASE_URL`):
//! its routes (`POST /v1beta/models/<model>:streamGenerateContent?alt=sse`,
//! `:generateContent`, `:countTokens`), reading its requests (`contents` of `parts`: text,
//! `functionCall`, `functionResponse`) and rendering a scripted [`Answer`] as its responses
//! (server-sent events of `GenerateContentResponse` chunks, or one JSON body), with the error
//! shape `{"error": {"code", "message", "status"}}`.

use crate::render::Response;
use crate::script::{Answer, Block, Usage};
use crate::ToolResult;
use serde_json::{json, Value};

/// What a request path asks of the Gemini API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `:streamGenerateContent` (Gemini CLI adds `?alt=sse`).
    Stream,
    /// `:generateContent` (one JSON answer; Gemini CLI's side requests, e.g. routing).
    Generate,
    /// `:countTokens`.
    CountTokens,
}

/// The model and method of a `/v1beta/models/<model>:<method>` path; `None` for others.
pub fn route(path: &str) -> Option<(&str, Method)> {
    let rest = path.strip_prefix("/v1beta/models/")?;
    let (model, method) = rest.split_once(':')?;
    let method = match method {
        "streamGenerateContent" => Method::Stream,
        "generateContent" => Method::Generate,
        "countTokens" => Method::CountTokens,
        _ => return None,
    };
    (!model.is_empty() && !model.contains('/')).then_some((model, method))
}

/// The parts of one `contents` item.
fn parts(content: &Value) -> &[Value] {
    content
        .get("parts")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn role(content: &Value) -> Option<&str> {
    content.get("role").and_then(Value::as_str)
}

fn is_response(part: &Value) -> bool {
    part.get("functionResponse").is_some()
}

/// A `functionResponse` part as a tool result: its `id` (the call's, else the function's
/// name) and its `response` (`output` or `error` when a string, else the JSON).
fn tool_result(part: &Value) -> Option<ToolResult> {
    let r = part.get("functionResponse")?;
    let id = r
        .get("id")
        .or_else(|| r.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let response = r.get("response").unwrap_or(&Value::Null);
    let (text, is_error) = match (response.get("output"), response.get("error")) {
        (Some(Value::String(s)), _) => (s.clone(), false),
        (_, Some(Value::String(s))) => (s.clone(), true),
        _ => (response.to_string(), false),
    };
    Some(ToolResult { id, text, is_error })
}

/// Tool results in the request's last content, when it is the user's.
pub fn tool_results(body: &Value) -> Vec<ToolResult> {
    let Some(last) = contents(body).last() else {
        return Vec::new();
    };
    if role(last) != Some("user") {
        return Vec::new();
    }
    parts(last).iter().filter_map(tool_result).collect()
}

/// Every tool result the request's conversation carries.
pub fn all_tool_results(body: &Value) -> Vec<ToolResult> {
    contents(body)
        .iter()
        .flat_map(|c| parts(c).iter().filter_map(tool_result))
        .collect()
}

fn contents(body: &Value) -> &[Value] {
    body.get("contents")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The user content that is typed text (not function responses), newest first.
fn typed(body: &Value) -> Option<&Value> {
    contents(body)
        .iter()
        .rev()
        .find(|c| role(c) == Some("user") && !parts(c).iter().any(is_response))
}

fn texts(content: &Value) -> Vec<&str> {
    parts(content)
        .iter()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect()
}

/// All text parts of the newest typed user content, joined by newlines.
pub fn last_user_text(body: &Value) -> String {
    typed(body).map(|c| texts(c).join("\n")).unwrap_or_default()
}

/// What the user typed last: the last non-empty text part of the newest typed user content
/// (Gemini CLI sends its `<session_context>` as an earlier part of the first one).
pub fn prompt(body: &Value) -> String {
    typed(body)
        .and_then(|c| {
            texts(c)
                .into_iter()
                .rev()
                .find(|t| !t.trim().is_empty() && !t.trim_start().starts_with("<session_context>"))
                .map(|t| t.trim_end().to_owned())
        })
        .unwrap_or_default()
}

/// Whether the request offers the model functions (`tools[].functionDeclarations`).
pub fn offers_tools(body: &Value) -> bool {
    body.get("tools")
        .and_then(Value::as_array)
        .is_some_and(|t| {
            t.iter().any(|t| {
                t.get("functionDeclarations")
                    .and_then(Value::as_array)
                    .is_some_and(|d| !d.is_empty())
            })
        })
}

fn usage_metadata(u: &Usage) -> Value {
    json!({
        "promptTokenCount": u.input_tokens,
        "candidatesTokenCount": u.output_tokens,
        "cachedContentTokenCount": u.cache_read_input_tokens,
        "totalTokenCount": u.input_tokens + u.output_tokens,
    })
}

/// The status name Google APIs give an HTTP status.
fn status_name(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// An error in the Gemini API's shape.
pub fn error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({"error": {"code": status, "message": message, "status": status_name(status)}}),
    )
}

/// One candidate chunk.
fn chunk(parts: Vec<Value>, finish: bool, usage: &Usage, model: &str, n: usize) -> Value {
    let mut candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
    if finish {
        candidate["finishReason"] = json!("STOP");
    }
    let mut c = json!({
        "candidates": [candidate],
        "modelVersion": model,
        "responseId": format!("fake_{n}"),
    });
    if finish {
        c["usageMetadata"] = usage_metadata(usage);
    }
    c
}

/// A scripted answer as a Gemini API response: server-sent events (`data: <chunk>`, text
/// in a few pieces, then each function call, the last chunk carrying `finishReason` and
/// `usageMetadata`) when `stream`, else one JSON body with every part.
pub fn render(answer: &Answer, model: &str, stream: bool, n: usize) -> Response {
    let (blocks, usage) = match answer {
        Answer::Error {
            status, message, ..
        } => return error(*status, message),
        Answer::Message { blocks, usage, .. } => (blocks, usage),
    };
    let mut pieces: Vec<Vec<Value>> = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        match b {
            Block::Text { text } => pieces.extend(
                crate::render::pieces(text)
                    .into_iter()
                    .map(|t| vec![json!({"text": t})]),
            ),
            Block::Thinking { thinking, .. } => {
                pieces.push(vec![json!({"text": thinking, "thought": true})]);
            }
            Block::ToolUse { id, name, input } => {
                let id = id.clone().unwrap_or_else(|| format!("call_fake_{n}_{i}"));
                pieces.push(vec![
                    json!({"functionCall": {"id": id, "name": name, "args": input}}),
                ]);
            }
        }
    }
    if !stream {
        let all = pieces.into_iter().flatten().collect();
        return Response::json(200, &chunk(all, true, usage, model, n));
    }
    let last = pieces.len().saturating_sub(1);
    let events = if pieces.is_empty() {
        vec![chunk(Vec::new(), true, usage, model, n)]
    } else {
        pieces
            .into_iter()
            .enumerate()
            .map(|(i, p)| chunk(p, i == last, usage, model, n))
            .collect()
    };
    Response::Events {
        events: events
            .into_iter()
            .map(|c| format!("data: {c}\r\n\r\n"))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_name_the_model_and_method() {
        assert_eq!(
            route("/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent"),
            Some(("gemini-3.1-pro-preview", Method::Stream))
        );
        assert_eq!(
            route("/v1beta/models/m:generateContent"),
            Some(("m", Method::Generate))
        );
        assert_eq!(route("/v1beta/models/m:embed"), None);
        assert_eq!(route("/v1/messages"), None);
    }

    #[test]
    fn a_stream_carries_text_the_function_call_and_usage_last() {
        let answer = Answer::Message {
            blocks: vec![
                Block::Text {
                    text: "Running it now.".into(),
                },
                Block::ToolUse {
                    id: None,
                    name: "run_shell_command".into(),
                    input: json!({"command": "ls"}),
                },
            ],
            usage: Usage::new(12, 3),
            stop_reason: None,
        };
        let Response::Events { events } = render(&answer, "m", true, 4) else {
            panic!("not a stream")
        };
        let chunks: Vec<Value> = events
            .iter()
            .map(|e| {
                let data = e.strip_prefix("data: ").expect("data line");
                serde_json::from_str(data.trim_end()).expect("json")
            })
            .collect();
        let text: String = chunks
            .iter()
            .filter_map(|c| c["candidates"][0]["content"]["parts"][0]["text"].as_str())
            .collect();
        assert_eq!(text, "Running it now.");
        let last = chunks.last().expect("a chunk");
        assert_eq!(
            last["candidates"][0]["content"]["parts"][0]["functionCall"]["name"],
            "run_shell_command"
        );
        assert_eq!(last["candidates"][0]["finishReason"], "STOP");
        assert_eq!(last["usageMetadata"]["totalTokenCount"], 15);
        assert!(chunks[0].get("usageMetadata").is_none());
    }

    #[test]
    fn requests_give_the_prompt_and_the_function_responses() {
        let body = json!({"contents": [
            {"role": "user", "parts": [{"text": "<session_context>\n...</session_context>"}, {"text": "please run it"}]},
            {"role": "model", "parts": [{"functionCall": {"id": "c1", "name": "run_shell_command", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"id": "c1", "name": "run_shell_command", "response": {"output": "made"}}}]}
        ], "tools": [{"functionDeclarations": [{"name": "run_shell_command"}]}]});
        assert_eq!(prompt(&body), "please run it");
        assert!(offers_tools(&body));
        assert_eq!(
            tool_results(&body),
            [ToolResult {
                id: "c1".into(),
                text: "made".into(),
                is_error: false
            }]
        );
        assert!(!offers_tools(&json!({"contents": []})));
    }
}
