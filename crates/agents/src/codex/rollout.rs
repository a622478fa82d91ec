//! A Codex rollout, read line by line into a bounded, serializable record of the session:
//! its metadata, prompts, tool calls, changed files, reasoning and token counts.

use super::tools::{call_args, codex_summary, patch_body, patch_files, text_parts, tool_output};
use crate::claude::tools::one_line;
use crate::json::str_of;
use crate::prices::Prices;
use crate::record::SessionRecord;
use paddock_proto::insight::{ModelUsage, SessionInsight, ThinkingView, TokenUsage};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::VecDeque;

const MAX_PENDING: usize = 256;
const MAX_TEXT: usize = 2000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Pending {
    id: String,
    tool: String,
    started_ms: Option<u64>,
    /// An `apply_patch` body, applied to the file list once the tool succeeded.
    #[serde(default)]
    patch: Option<String>,
}

/// Everything read from one Codex rollout so far (serializable, bounded, like
/// [`crate::claude::transcript::ClaudeTranscript`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CodexRollout {
    #[serde(flatten)]
    rec: SessionRecord,
    turns: u64,
    turn_active: bool,
    last_agent_message: Option<String>,
    pending: VecDeque<Pending>,
    /// The latest cumulative totals of `token_count` (Codex reports running totals).
    input: u64,
    cached_input: u64,
    output: u64,
    context: u64,
}

impl CodexRollout {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a turn is running (between `task_started` and `task_complete`).
    pub fn turn_active(&self) -> bool {
        self.turn_active
    }

    /// Turns completed.
    pub fn turns(&self) -> u64 {
        self.turns
    }

    pub fn note_skipped(&mut self, n: u64) {
        self.rec.note_skipped(n);
    }

    pub fn take_new_texts(&mut self) -> Vec<(String, Option<u64>, String)> {
        self.rec.take_new_texts()
    }

    pub fn apply_line(&mut self, line: &[u8]) {
        if let Some(v) = self.rec.decode_line(line) {
            self.apply(&v);
            crate::live::bound_texts(&mut self.rec.new_texts);
        }
    }

    pub fn apply(&mut self, v: &Value) {
        let ts = self.rec.note_time(v);
        let p = v.get("payload").unwrap_or(&Value::Null);
        match str_of(v, "type").unwrap_or("") {
            "session_meta" => {
                let meta = p.get("meta").unwrap_or(p);
                if let Some(id) = str_of(meta, "id").or_else(|| str_of(meta, "session_id")) {
                    self.rec.session_id = Some(id.to_owned());
                }
                if let Some(c) = str_of(meta, "cwd") {
                    self.rec.cwd = Some(c.to_owned());
                }
                if let Some(ver) = str_of(meta, "cli_version").or_else(|| str_of(meta, "version")) {
                    self.rec.version = Some(ver.to_owned());
                }
                let git = p.get("git").or_else(|| meta.get("git"));
                if let Some(b) = git.and_then(|g| str_of(g, "branch")) {
                    self.rec.git_branch = Some(b.to_owned());
                }
            }
            "turn_context" => {
                if let Some(m) = str_of(p, "model") {
                    self.rec.model = Some(m.to_owned());
                }
                if let Some(c) = str_of(p, "cwd") {
                    self.rec.cwd = Some(c.to_owned());
                }
            }
            "response_item" => self.apply_item(p, ts),
            "event_msg" => self.apply_event(p, ts),
            _ => {}
        }
    }

    fn set_prompt(&mut self, text: &str, ts: Option<u64>) {
        let t = text.trim();
        if t.is_empty() || t.starts_with('<') {
            return;
        }
        let t = crate::claude::tools::one_line(t, MAX_TEXT);
        if self.rec.current_task.as_deref() == Some(t.as_str()) {
            return;
        }
        self.rec.prompt(t, ts);
    }

    fn apply_event(&mut self, p: &Value, ts: Option<u64>) {
        match str_of(p, "type").unwrap_or("") {
            "task_started" => self.turn_active = true,
            "task_complete" => {
                self.turn_active = false;
                self.turns += 1;
                if let Some(m) = str_of(p, "last_agent_message") {
                    self.last_agent_message = Some(one_line(m, MAX_TEXT));
                }
            }
            "user_message" => {
                if let Some(m) = str_of(p, "message") {
                    self.set_prompt(m, ts);
                }
            }
            "agent_reasoning" => {
                if let Some(t) = str_of(p, "text") {
                    self.rec.reasoning = Some((one_line(t, 4000), ts));
                }
            }
            "token_count" => {
                let info = p.get("info").unwrap_or(&Value::Null);
                if let Some(total) = info.get("total_token_usage") {
                    let n = |k: &str| total.get(k).and_then(Value::as_u64).unwrap_or(0);
                    self.input = n("input_tokens");
                    self.cached_input = n("cached_input_tokens");
                    self.output = n("output_tokens");
                }
                if let Some(last) = info.get("last_token_usage") {
                    self.context = last
                        .get("input_tokens")
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                }
            }
            _ => {}
        }
    }

    fn apply_item(&mut self, p: &Value, ts: Option<u64>) {
        match str_of(p, "type").unwrap_or("") {
            "message" => {
                let text = text_parts(p, "content").join("\n");
                match str_of(p, "role") {
                    Some("user") => self.set_prompt(&text, ts),
                    Some("assistant") if !text.trim().is_empty() => {
                        self.rec.new_texts.push((
                            "assistant".into(),
                            ts,
                            one_line(&text, MAX_TEXT),
                        ));
                    }
                    _ => {}
                }
            }
            "reasoning" => {
                let text = text_parts(p, "summary");
                if !text.is_empty() {
                    self.rec.reasoning = Some((one_line(&text.join("\n"), 4000), ts));
                }
            }
            "function_call" | "custom_tool_call" | "local_shell_call" => {
                let name = str_of(p, "name").unwrap_or("shell").to_owned();
                let args = call_args(p);
                let summary = codex_summary(&name, &args);
                let id = str_of(p, "call_id")
                    .or_else(|| str_of(p, "id"))
                    .map(str::to_owned);
                self.rec.start_action(id.clone(), name.clone(), summary, ts);
                let patch = (name == "apply_patch").then(|| patch_body(&args)).flatten();
                if let Some(id) = id {
                    self.pending.push_back(Pending {
                        id,
                        tool: name,
                        started_ms: ts,
                        patch,
                    });
                    if self.pending.len() > MAX_PENDING {
                        self.pending.pop_front();
                    }
                }
            }
            "function_call_output" | "custom_tool_call_output" => {
                let Some(id) = str_of(p, "call_id") else {
                    return;
                };
                let pending = self
                    .pending
                    .iter()
                    .position(|c| c.id == id)
                    .and_then(|i| self.pending.remove(i));
                let out = tool_output(p.get("output").unwrap_or(&Value::Null));
                let (text, exit_code, secs) = (out.text, out.exit_code, out.secs);
                let failed = exit_code.is_some_and(|c| c != 0) || out.refused;
                if !failed {
                    if let Some(patch) = pending.as_ref().and_then(|p| p.patch.clone()) {
                        self.record_patch(&patch, ts);
                    }
                }
                let tool_ms = secs.map(|s| (s * 1000.0).round() as u64);
                if let Some(a) = self.rec.finish_action(id, failed, tool_ms, ts) {
                    let first = text
                        .lines()
                        .map(str::trim)
                        .find(|l| !l.is_empty())
                        .unwrap_or("");
                    if failed {
                        a.error = Some(match exit_code {
                            Some(code) => format!("exit code {code}: {}", one_line(first, 200)),
                            None => one_line(first, 200),
                        });
                    } else {
                        a.result_summary = Some(one_line(first, 160));
                    }
                }
            }
            _ => {}
        }
    }

    fn record_patch(&mut self, patch: &str, ts: Option<u64>) {
        for (path, created, added, removed) in patch_files(patch) {
            self.rec.change_file(path, created, (added, removed), ts);
        }
    }

    pub fn insight(&self, prices: &Prices) -> SessionInsight {
        let base = self.rec.insight();
        let model = self.rec.model.clone().unwrap_or_else(|| "unknown".into());
        let usage = ModelUsage {
            model,
            input: self.input.saturating_sub(self.cached_input),
            output: self.output,
            cache_creation: 0,
            cache_read: self.cached_input,
        };
        let tokens = TokenUsage {
            input: usage.input,
            output: usage.output,
            cache_creation: 0,
            cache_read: usage.cache_read,
            context: self.context,
            by_model: if self.input + self.output > 0 {
                vec![usage]
            } else {
                Vec::new()
            },
        };
        let cost = prices.cost(&tokens.by_model, None);
        SessionInsight {
            thinking: ThinkingView {
                context_summary: self.last_agent_message.clone(),
                ..base.thinking
            },
            tokens,
            cost,
            responses: self.turns,
            ..base
        }
    }
}
