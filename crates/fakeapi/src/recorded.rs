//! Requests as the fake received them, with readers for what tests assert on: the user's
//! last words and the tool results an agent sent back, in either protocol.

use serde_json::Value;
use std::time::SystemTime;

/// Which API a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `POST /v1/messages`.
    Messages,
    /// `POST /v1/messages/count_tokens`.
    CountTokens,
    /// `POST /v1/responses`.
    Responses,
    /// `POST /v1beta/models/<model>:streamGenerateContent` or `:generateContent` (Gemini).
    Gemini,
    /// `POST /v1beta/models/<model>:countTokens` (Gemini).
    GeminiCountTokens,
    /// Anything else (answered 404).
    Other,
}

/// A tool result the agent sent back.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// Anthropic `tool_use_id`, OpenAI `call_id`.
    pub id: String,
    /// The result's text (text parts joined by newlines).
    pub text: String,
    /// Anthropic `is_error` (OpenAI has none: false).
    pub is_error: bool,
}

/// One request received, in arrival order.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// 0, 1, 2, ... in arrival order.
    pub seq: usize,
    pub at: SystemTime,
    pub method: String,
    /// Path and query, as sent (`/v1/messages?beta=true`).
    pub target: String,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub api: Api,
    /// The JSON body (`Null` when there was none or it was not JSON).
    pub body: Value,
    /// The index in the script of the reply that answered it; `None`: the fallback (or no
    /// scripted answer at all, e.g. count_tokens).
    pub reply: Option<usize>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A conversation turn: the request offers tools.
    pub fn is_turn(&self) -> bool {
        if self.api == Api::Gemini {
            return crate::gemini::offers_tools(&self.body);
        }
        matches!(self.api, Api::Messages | Api::Responses)
            && self
                .body
                .get("tools")
                .and_then(Value::as_array)
                .is_some_and(|t| !t.is_empty())
    }

    /// The conversation items: Anthropic `messages`, OpenAI `input`.
    fn items(&self) -> &[Value] {
        let key = if self.api == Api::Responses {
            "input"
        } else {
            "messages"
        };
        self.body
            .get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Tool results in the request's last user message (Anthropic) or trailing
    /// `function_call_output` items (OpenAI).
    pub fn tool_results(&self) -> Vec<ToolResult> {
        if self.api == Api::Gemini {
            return crate::gemini::tool_results(&self.body);
        }
        let items = self.items();
        if self.api == Api::Responses {
            return items
                .iter()
                .rev()
                .take_while(|i| i.get("type").and_then(Value::as_str) != Some("message"))
                .filter(|i| i.get("type").and_then(Value::as_str) == Some("function_call_output"))
                .map(|i| ToolResult {
                    id: str_of(i, "call_id"),
                    text: text_of(i.get("output").unwrap_or(&Value::Null)),
                    is_error: false,
                })
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
        }
        // Claude Code may put a `system` message after the last user message.
        let Some(last) = items
            .iter()
            .rev()
            .find(|i| i.get("role").and_then(Value::as_str) != Some("system"))
        else {
            return Vec::new();
        };
        if last.get("role").and_then(Value::as_str) != Some("user") {
            return Vec::new();
        }
        blocks(last)
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
            .map(|b| ToolResult {
                id: str_of(b, "tool_use_id"),
                text: text_of(b.get("content").unwrap_or(&Value::Null)),
                is_error: b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
            })
            .collect()
    }

    /// All tool results anywhere in the conversation the request carries.
    pub fn all_tool_results(&self) -> Vec<ToolResult> {
        if self.api == Api::Gemini {
            return crate::gemini::all_tool_results(&self.body);
        }
        let mut out = Vec::new();
        for item in self.items() {
            if self.api == Api::Responses {
                if item.get("type").and_then(Value::as_str) == Some("function_call_output") {
                    out.push(ToolResult {
                        id: str_of(item, "call_id"),
                        text: text_of(item.get("output").unwrap_or(&Value::Null)),
                        is_error: false,
                    });
                }
                continue;
            }
            for b in &blocks(item) {
                if b.get("type").and_then(Value::as_str) == Some("tool_result") {
                    out.push(ToolResult {
                        id: str_of(b, "tool_use_id"),
                        text: text_of(b.get("content").unwrap_or(&Value::Null)),
                        is_error: b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
                    });
                }
            }
        }
        out
    }

    /// Whether the request ends with tool results (the agent answering a tool call).
    pub fn ends_with_tool_result(&self) -> bool {
        !self.tool_results().is_empty()
    }

    /// The text of the last user message (all its text parts joined by newlines; Claude Code
    /// adds `<system-reminder>` parts, so search it with `contains`). Empty when there is none.
    pub fn last_user_text(&self) -> String {
        if self.api == Api::Gemini {
            return crate::gemini::last_user_text(&self.body);
        }
        self.items()
            .iter()
            .rev()
            .find(|i| {
                i.get("role").and_then(Value::as_str) == Some("user")
                    && (self.api == Api::Responses
                        || !blocks(i)
                            .iter()
                            .any(|b| b.get("type").and_then(Value::as_str) == Some("tool_result")))
            })
            .map(|i| text_of(i.get("content").unwrap_or(&Value::Null)))
            .unwrap_or_default()
    }

    /// What the user typed last: the last text part of the last user message that is not a
    /// tool result, leaving out Claude Code's `<system-reminder>` parts. Claude Code merges
    /// prompts that got no answer (e.g. after an API error) into one message, so this is the
    /// newest of them. Empty when there is none.
    pub fn prompt(&self) -> String {
        if self.api == Api::Gemini {
            return crate::gemini::prompt(&self.body);
        }
        let Some(message) = self.items().iter().rev().find(|i| {
            i.get("role").and_then(Value::as_str) == Some("user")
                && (self.api == Api::Responses
                    || !blocks(i)
                        .iter()
                        .any(|b| b.get("type").and_then(Value::as_str) == Some("tool_result")))
        }) else {
            return String::new();
        };
        let parts: Vec<String> = match message.get("content") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        parts
            .into_iter()
            .rev()
            .find(|t| !t.trim_start().starts_with("<system-reminder>") && !t.trim().is_empty())
            .map(|t| t.trim_end().to_owned())
            .unwrap_or_default()
    }

    /// The model the agent asked for.
    pub fn model(&self) -> Option<&str> {
        if self.api == Api::Gemini {
            let path = self.target.split('?').next().unwrap_or("");
            return crate::gemini::route(path).map(|(model, _)| model);
        }
        self.body.get("model").and_then(Value::as_str)
    }

    /// Whether the agent asked for a streamed answer.
    pub fn stream(&self) -> bool {
        if self.api == Api::Gemini {
            return self.target.contains(":streamGenerateContent");
        }
        self.body
            .get("stream")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
}

/// A message's content as blocks (a bare string is one text block).
fn blocks(message: &Value) -> Vec<Value> {
    match message.get("content") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) => vec![serde_json::json!({"type": "text", "text": s})],
        _ => Vec::new(),
    }
}

/// The text in a content value: a string, or an array of parts with `text`.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}
