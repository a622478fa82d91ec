//! A Codex rollout as a conversation: `event_msg` `user_message` (or a `response_item` user
//! message that is not Codex's own `<environment_context>`) starts a turn; assistant
//! `message`s are text, `reasoning` summaries thinking; `function_call` / `custom_tool_call`
//! (`apply_patch`, whose patch is the diff) are tool calls closed by their `*_output`, with
//! exit code and duration; `turn_aborted` is an interruption; `token_count` gives the turn's
//! tokens (Codex writes running totals: the turn gets the difference).

use super::calls::ShownCalls;
use super::{keep, Conversation};
use crate::claude::transcript::parse_time;
use crate::codex::{call_args, codex_summary, patch_body, patch_files, text_parts, tool_output};
use crate::json::str_of;
use paddock_proto::conversation::{FileDiff, Item, ToolCall};
use paddock_proto::insight::ModelUsage;
use serde_json::Value;

/// The reading state of one rollout.
#[derive(Debug, Default)]
pub struct CodexConversation {
    model: Option<String>,
    calls: ShownCalls,
    /// The running totals last seen (input, cached input, output).
    totals: (u64, u64, u64),
    /// The last prompt, to skip its second copy (event and response item).
    last_prompt: Option<String>,
}

impl CodexConversation {
    pub fn apply_line(&mut self, conv: &mut Conversation, line: &[u8]) {
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            return;
        };
        let ts = str_of(&v, "timestamp").and_then(parse_time);
        let p = v.get("payload").unwrap_or(&Value::Null);
        match str_of(&v, "type").unwrap_or("") {
            "turn_context" => {
                if let Some(m) = str_of(p, "model") {
                    self.model = Some(m.to_owned());
                }
            }
            "event_msg" => self.event(conv, p, ts),
            "response_item" => self.item(conv, p, ts),
            _ => {}
        }
    }

    fn prompt(&mut self, conv: &mut Conversation, text: &str, ts: Option<u64>) {
        let t = text.trim();
        if t.is_empty() || t.starts_with('<') || self.last_prompt.as_deref() == Some(t) {
            return;
        }
        self.last_prompt = Some(t.to_owned());
        conv.start_turn(Some(keep(t)), ts);
    }

    fn event(&mut self, conv: &mut Conversation, p: &Value, ts: Option<u64>) {
        match str_of(p, "type").unwrap_or("") {
            "user_message" => {
                if let Some(m) = str_of(p, "message") {
                    self.prompt(conv, m, ts);
                }
            }
            "turn_aborted" => conv.push(Item::Interrupted, ts),
            "error" | "stream_error" => conv.push(
                Item::ApiError {
                    status: None,
                    message: str_of(p, "message")
                        .unwrap_or("the model API failed")
                        .to_owned(),
                },
                ts,
            ),
            "token_count" => {
                let Some(total) = p.pointer("/info/total_token_usage") else {
                    return;
                };
                let n = |k: &str| total.get(k).and_then(Value::as_u64).unwrap_or(0);
                let now = (
                    n("input_tokens"),
                    n("cached_input_tokens"),
                    n("output_tokens"),
                );
                let (i, c, o) = self.totals;
                self.totals = now;
                let cached = now.1.saturating_sub(c);
                conv.add_usage(
                    ModelUsage {
                        model: self.model.clone().unwrap_or_else(|| "unknown".into()),
                        input: now.0.saturating_sub(i).saturating_sub(cached),
                        output: now.2.saturating_sub(o),
                        cache_creation: 0,
                        cache_read: cached,
                    },
                    ts,
                );
            }
            _ => {}
        }
    }

    fn item(&mut self, conv: &mut Conversation, p: &Value, ts: Option<u64>) {
        let texts = |key: &str| -> String { text_parts(p, key).join("\n") };
        match str_of(p, "type").unwrap_or("") {
            "message" => {
                let text = texts("content");
                match str_of(p, "role") {
                    Some("user") => self.prompt(conv, &text, ts),
                    Some("assistant") if !text.trim().is_empty() => {
                        conv.push(Item::Text { text: keep(&text) }, ts)
                    }
                    _ => {}
                }
            }
            "reasoning" => {
                let text = texts("summary");
                if !text.trim().is_empty() {
                    conv.push(Item::Thinking { text: keep(&text) }, ts);
                }
            }
            "function_call" | "custom_tool_call" | "local_shell_call" => {
                let tool = str_of(p, "name").unwrap_or("shell").to_owned();
                let input = call_args(p);
                let id = str_of(p, "call_id")
                    .or_else(|| str_of(p, "id"))
                    .unwrap_or_default()
                    .to_owned();
                let call = ToolCall {
                    id,
                    summary: codex_summary(&tool, &input),
                    tool,
                    input,
                    ..ToolCall::default()
                };
                self.calls.start(conv, call, ts);
            }
            "function_call_output" | "custom_tool_call_output" => {
                let Some(id) = str_of(p, "call_id") else {
                    return;
                };
                let out = tool_output(p.get("output").unwrap_or(&Value::Null));
                let failed = out.exit_code.is_some_and(|c| c != 0) || out.refused;
                let tool_ms = out.secs.map(|s| (s * 1000.0).round() as u64);
                let Some(call) = self.calls.finish(conv, id, failed, tool_ms, ts) else {
                    return;
                };
                call.output = Some(keep(&out.text));
                if call.tool == "apply_patch" && !failed {
                    if let Some(patch) = patch_body(&call.input) {
                        let files = patch_files(&patch);
                        call.diff = Some(FileDiff {
                            path: files
                                .iter()
                                .map(|f| f.0.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                            created: files.iter().all(|f| f.1) && !files.is_empty(),
                            added: files.iter().map(|f| f.2).sum(),
                            removed: files.iter().map(|f| f.3).sum(),
                            diff: keep(&patch),
                        });
                    }
                }
            }
            _ => {}
        }
    }
}
