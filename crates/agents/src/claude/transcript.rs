//! Claude Code's transcript (`~/.claude/projects/<encoded cwd>/<session-id>.jsonl`), read
//! line by line into what a user wants to see: the task, the actions, the files changed, the
//! todo list and its progress, the latest reasoning, tokens and cost.
//!
//! [`ClaudeTranscript`] is an accumulator: feed it each line once ([`ClaudeTranscript::apply_line`]),
//! ask for the [`SessionInsight`] whenever needed. Its memory is bounded whatever the
//! transcript's length (the last [`MAX_ACTIONS`] actions, [`MAX_FILES`] files with diffs cut
//! at [`MAX_DIFF`], the last [`MAX_SEEN_RESPONSES`] response ids), and it serializes, so a
//! reader can save it beside its byte offset and resume after a restart.
//!
//! Records seen in 2.1.328: `user` (prompts; `tool_result` blocks with `toolUseResult`),
//! `assistant` (`message` with `id`, `model`, `content` blocks `text` / `thinking` /
//! `tool_use`, `usage`), `system`, `attachment`, `summary`, `ai-title`, `custom-title`,
//! `last-prompt`, `cost-state`, and many more that carry nothing shown here and are ignored.
//! One API response may be written as several `assistant` lines sharing `message.id` and
//! repeating its `usage`: tokens are counted once per response, keyed by `message.id` and the
//! request (`requestRef`, or `requestId` in older versions).

use super::tools::{input_summary, one_line};
use crate::json::str_of;
use crate::prices::Prices;
use crate::record::SessionRecord;
use paddock_proto::insight::{
    CompletionEstimate, ModelUsage, Progress, SessionInsight, ThinkingView, TodoItem, TodoStatus,
    TokenUsage,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};

mod blocks;
mod calls;
mod insight;

use blocks::{summarize_result, tail_chars, u64_of};

pub use blocks::parse_time;
pub(crate) use blocks::{content_text, cut, edit_diff, readable_prompt, result_text};
pub use insight::duration_text;

pub use crate::record::{MAX_ACTIONS, MAX_FILES};
/// Diff bytes kept per file.
pub const MAX_DIFF: usize = 32 * 1024;
/// Diff bytes kept for the whole session (the state is saved often; it must stay small).
pub const MAX_DIFF_TOTAL: usize = 1024 * 1024;
/// Response ids remembered for deduplication (the lines of one response are adjacent or
/// close; this is far more than any response's spread).
pub const MAX_SEEN_RESPONSES: usize = 512;
/// Tool calls waiting for their result, at most.
const MAX_PENDING_CALLS: usize = 256;
/// Characters of reasoning kept.
const MAX_REASONING: usize = 4000;
/// Characters of a prompt kept.
const MAX_PROMPT: usize = 2000;

/// A tool call whose result has not come yet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct PendingCall {
    tool: String,
    /// Kept only for tools whose input the result needs (file and todo tools).
    input: Value,
    started_ms: Option<u64>,
}

/// Counted usage of one response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Counted {
    key: String,
    model: String,
    input: u64,
    output: u64,
    cache_creation: u64,
    cache_read: u64,
}

/// Everything read from one Claude Code transcript so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClaudeTranscript {
    #[serde(flatten)]
    rec: SessionRecord,
    ai_title: Option<String>,
    custom_title: Option<String>,
    summary: Option<String>,
    last_prompt_record: Option<String>,
    pending: VecDeque<(String, PendingCall)>,
    files_over_limit: u64,
    diff_bytes: usize,
    todos: Vec<TodoItem>,
    todos_started_ms: Option<u64>,
    next_task_number: u64,
    compact_summary: Option<String>,
    by_model: BTreeMap<String, ModelUsage>,
    context: u64,
    seen: VecDeque<Counted>,
    reported_cost: Option<f64>,
    responses: u64,
    /// A turn started (a prompt) and its end (`system` `turn_duration`) was not seen yet;
    /// `None` before the first prompt.
    turn_open: Option<bool>,
}

impl ClaudeTranscript {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one line of the transcript (without its newline). A line that is not a JSON
    /// object is counted in [`SessionInsight::skipped_lines`] and otherwise ignored.
    pub fn apply_line(&mut self, line: &[u8]) {
        if let Some(v) = self.rec.decode_line(line) {
            self.apply(&v);
            crate::live::bound_texts(&mut self.rec.new_texts);
        }
    }

    /// Counts a line skipped by the reader (over the size limit).
    pub fn note_skipped(&mut self, n: u64) {
        self.rec.note_skipped(n);
    }

    /// The searchable text read since the last call: `(role, time, text)` of prompts and
    /// assistant text.
    pub fn take_new_texts(&mut self) -> Vec<(String, Option<u64>, String)> {
        self.rec.take_new_texts()
    }

    /// Reads one record.
    pub fn apply(&mut self, v: &Value) {
        let ts = self.rec.note_time(v);
        if let Some(s) = str_of(v, "sessionId") {
            if self.rec.session_id.as_deref() != Some(s) {
                self.rec.session_id = Some(s.to_owned());
            }
        }
        if let Some(c) = str_of(v, "cwd") {
            if self.rec.cwd.as_deref() != Some(c) {
                self.rec.cwd = Some(c.to_owned());
            }
        }
        if let Some(b) = str_of(v, "gitBranch").filter(|b| !b.is_empty()) {
            if self.rec.git_branch.as_deref() != Some(b) {
                self.rec.git_branch = Some(b.to_owned());
            }
        }
        if let Some(ver) = str_of(v, "version").filter(|s| !s.starts_with('…')) {
            if self.rec.version.as_deref() != Some(ver) {
                self.rec.version = Some(ver.to_owned());
            }
        }
        match str_of(v, "type").unwrap_or("") {
            "user" => self.apply_user(v, ts),
            "assistant" => self.apply_assistant(v, ts),
            "summary" => {
                if let Some(s) = str_of(v, "summary") {
                    self.summary = Some(cut(s, 300));
                }
            }
            "ai-title" => {
                if let Some(t) = str_of(v, "aiTitle").or_else(|| str_of(v, "title")) {
                    self.ai_title = Some(cut(t, 300));
                }
            }
            "custom-title" => {
                if let Some(t) = str_of(v, "customTitle").or_else(|| str_of(v, "title")) {
                    self.custom_title = Some(cut(t, 300));
                }
            }
            "last-prompt" => {
                if let Some(p) = str_of(v, "lastPrompt").and_then(readable_prompt) {
                    self.last_prompt_record = Some(p);
                }
            }
            "cost-state" => {
                if let Some(c) = v.get("totalCostUSD").and_then(Value::as_f64) {
                    self.reported_cost = Some(c);
                }
            }
            // Written when a turn ends.
            "system" if str_of(v, "subtype") == Some("turn_duration") => {
                self.turn_open = Some(false);
            }
            _ => {}
        }
    }

    fn apply_user(&mut self, v: &Value, ts: Option<u64>) {
        let Some(msg) = v.get("message") else { return };
        let content = msg.get("content").unwrap_or(&Value::Null);
        if v.get("isCompactSummary").and_then(Value::as_bool) == Some(true) {
            if let Some(t) = content_text(content) {
                self.compact_summary = Some(cut(&t, 1500));
            }
            return;
        }
        let meta = v.get("isMeta").and_then(Value::as_bool) == Some(true);
        let results: Vec<&Value> = content
            .as_array()
            .map(|blocks| {
                blocks
                    .iter()
                    .filter(|b| str_of(b, "type") == Some("tool_result"))
                    .collect()
            })
            .unwrap_or_default();
        if results.is_empty() {
            if meta {
                return;
            }
            if let Some(p) = content_text(content).as_deref().and_then(readable_prompt) {
                let sidechain = v.get("isSidechain").and_then(Value::as_bool) == Some(true);
                if !sidechain {
                    self.rec.prompt(p, ts);
                    self.turn_open = Some(true);
                }
            }
            return;
        }
        let tool_use_result = v.get("toolUseResult");
        for block in results {
            let Some(id) = str_of(block, "tool_use_id") else {
                continue;
            };
            let is_error = block.get("is_error").and_then(Value::as_bool) == Some(true);
            let text = result_text(block);
            // One result per record in practice; the record's toolUseResult belongs to it.
            self.finish_call(id, is_error, &text, tool_use_result, ts);
        }
    }

    fn apply_assistant(&mut self, v: &Value, ts: Option<u64>) {
        let Some(msg) = v.get("message") else { return };
        let sidechain = v.get("isSidechain").and_then(Value::as_bool) == Some(true);
        let model = str_of(msg, "model").filter(|m| *m != "<synthetic>");
        if let (Some(m), false) = (model, sidechain) {
            if self.rec.model.as_deref() != Some(m) {
                self.rec.model = Some(m.to_owned());
            }
        }
        if let Some(usage) = msg.get("usage") {
            let id = str_of(msg, "id").unwrap_or("");
            let request = str_of(v, "requestRef")
                .or_else(|| str_of(v, "requestId"))
                .unwrap_or("");
            let key = if id.is_empty() && request.is_empty() {
                // Nothing identifies the response: every line counts once.
                str_of(v, "uuid").unwrap_or("").to_owned()
            } else {
                format!("{id}\u{1f}{request}")
            };
            self.count_usage(key, model.unwrap_or("unknown"), usage, sidechain);
        }
        let Some(blocks) = msg.get("content").and_then(Value::as_array) else {
            return;
        };
        for b in blocks {
            match str_of(b, "type") {
                Some("thinking") => {
                    if let Some(t) = str_of(b, "thinking").filter(|t| !t.trim().is_empty()) {
                        if !sidechain {
                            self.rec.reasoning = Some((tail_chars(t.trim(), MAX_REASONING), ts));
                        }
                    }
                }
                Some("text") => {
                    if let Some(t) = str_of(b, "text").filter(|t| !t.trim().is_empty()) {
                        self.rec.new_texts.push((
                            "assistant".into(),
                            ts,
                            cut(t.trim(), MAX_PROMPT),
                        ));
                    }
                }
                Some("tool_use") => self.start_call(b, ts),
                _ => {}
            }
        }
    }

    fn count_usage(&mut self, key: String, model: &str, usage: &Value, sidechain: bool) {
        let now = Counted {
            key,
            model: model.to_owned(),
            input: u64_of(usage, "input_tokens"),
            output: u64_of(usage, "output_tokens"),
            cache_creation: u64_of(usage, "cache_creation_input_tokens"),
            cache_read: u64_of(usage, "cache_read_input_tokens"),
        };
        if !sidechain {
            self.context = now.input + now.cache_creation + now.cache_read;
        }
        // A repeated response adds only what grew (streaming may write a smaller count
        // first); a new one adds all.
        let prev = self.seen.iter_mut().rev().find(|c| c.key == now.key);
        let delta = match prev {
            Some(p) => {
                let d = Counted {
                    key: String::new(),
                    model: now.model.clone(),
                    input: now.input.saturating_sub(p.input),
                    output: now.output.saturating_sub(p.output),
                    cache_creation: now.cache_creation.saturating_sub(p.cache_creation),
                    cache_read: now.cache_read.saturating_sub(p.cache_read),
                };
                p.input = p.input.max(now.input);
                p.output = p.output.max(now.output);
                p.cache_creation = p.cache_creation.max(now.cache_creation);
                p.cache_read = p.cache_read.max(now.cache_read);
                d
            }
            None => {
                self.responses += 1;
                let d = now.clone();
                self.seen.push_back(now);
                if self.seen.len() > MAX_SEEN_RESPONSES {
                    self.seen.pop_front();
                }
                d
            }
        };
        let m = self
            .by_model
            .entry(delta.model.clone())
            .or_insert_with(|| ModelUsage {
                model: delta.model.clone(),
                ..ModelUsage::default()
            });
        m.input += delta.input;
        m.output += delta.output;
        m.cache_creation += delta.cache_creation;
        m.cache_read += delta.cache_read;
    }
}

impl ClaudeTranscript {
    /// Whether a turn is running by the transcript (a prompt without its end yet); `None`
    /// before the first prompt.
    pub fn turn_active(&self) -> Option<bool> {
        self.turn_open
    }

    /// The number of tool calls still waiting for their result.
    pub fn running_calls(&self) -> usize {
        self.pending.len()
    }
}
