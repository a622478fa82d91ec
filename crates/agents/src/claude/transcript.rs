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
use crate::live::file_entry;
use crate::prices::Prices;
use paddock_proto::insight::{
    Action, ActionStatus, CompletionEstimate, FileChange, ModelUsage, Progress, SessionInsight,
    ThinkingView, TodoItem, TodoStatus, TokenUsage,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};

/// Actions kept (the most recent).
pub const MAX_ACTIONS: usize = 50;
/// Files kept (the first changed); more are counted, not listed.
pub const MAX_FILES: usize = 500;
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
    session_id: Option<String>,
    ai_title: Option<String>,
    custom_title: Option<String>,
    summary: Option<String>,
    current_task: Option<String>,
    first_prompt: Option<String>,
    last_prompt_record: Option<String>,
    cwd: Option<String>,
    git_branch: Option<String>,
    model: Option<String>,
    version: Option<String>,
    actions: VecDeque<Action>,
    total_actions: u64,
    pending: VecDeque<(String, PendingCall)>,
    files: Vec<FileChange>,
    files_over_limit: u64,
    diff_bytes: usize,
    todos: Vec<TodoItem>,
    todos_started_ms: Option<u64>,
    next_task_number: u64,
    reasoning: Option<(String, Option<u64>)>,
    compact_summary: Option<String>,
    by_model: BTreeMap<String, ModelUsage>,
    context: u64,
    seen: VecDeque<Counted>,
    reported_cost: Option<f64>,
    prompts: u64,
    responses: u64,
    started_ms: Option<u64>,
    last_ms: Option<u64>,
    skipped_lines: u64,
    /// A turn started (a prompt) and its end (`system` `turn_duration`) was not seen yet;
    /// `None` before the first prompt.
    turn_open: Option<bool>,
    /// The text of the latest assistant message, for the history index.
    #[serde(skip)]
    new_texts: Vec<(String, Option<u64>, String)>,
}

/// Parses an RFC 3339 timestamp (`2026-11-21T23:53:02.111Z`) to unix ms.
pub fn parse_time(s: &str) -> Option<u64> {
    let t = humantime::parse_rfc3339_weak(s.trim_end_matches('Z'))
        .or_else(|_| humantime::parse_rfc3339(s))
        .ok()?;
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| u64::try_from(d.as_millis()).ok())
}

fn u64_of(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

/// The text of a message's content: a string, or its `text` blocks joined.
pub(crate) fn content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(s) => Some(s.clone()),
        Value::Array(blocks) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter(|b| str_of(b, "type") == Some("text"))
                .filter_map(|b| str_of(b, "text"))
                .collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        _ => None,
    }
}

/// A slash command as typed: `<command-name>/review</command-name><command-args>x</command-args>`
/// → `/review x`.
pub(crate) fn readable_prompt(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty()
        || t.starts_with("<local-command-stdout>")
        || t.starts_with("<local-command-stderr>")
    {
        return None;
    }
    if t.starts_with("<command-") {
        let tag = |name: &str| {
            let open = format!("<{name}>");
            let close = format!("</{name}>");
            let start = t.find(&open)? + open.len();
            let end = t[start..].find(&close)? + start;
            Some(t[start..end].trim().to_owned())
        };
        let name = tag("command-name")?;
        return Some(match tag("command-args").filter(|a| !a.is_empty()) {
            Some(args) => format!("{name} {args}"),
            None => name,
        });
    }
    if t.starts_with("<system-reminder>") || t.starts_with("Caveat: ") {
        return None;
    }
    Some(cut(t, MAX_PROMPT))
}

/// `s` cut to `max` characters with an ellipsis.
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// The last `max` characters of `s`, with an ellipsis before.
fn tail_chars(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let skip = n - max;
    let i = s.char_indices().nth(skip).map_or(0, |(i, _)| i);
    format!("…{}", &s[i..])
}

/// One line of a tool's result.
pub(crate) fn result_text(block: &Value) -> String {
    match block.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| match str_of(p, "type") {
                Some("text") => str_of(p, "text").map(str::to_owned),
                Some("image") => Some("[image]".to_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn summarize_result(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("");
    let more = lines.count();
    let first = one_line(first, 160);
    if more == 0 {
        first
    } else {
        format!("{first} (+{more} lines)")
    }
}

fn is_file_tool(tool: &str) -> bool {
    matches!(tool, "Edit" | "Write" | "MultiEdit" | "NotebookEdit")
}

fn is_todo_tool(tool: &str) -> bool {
    matches!(tool, "TodoWrite" | "TaskCreate" | "TaskUpdate")
}

/// A file tool's diff (`@@` hunks of `+`/`-`/` ` lines) and its added and removed line
/// counts: the result's `structuredPatch` when there is one, else built from the input
/// (Edit, MultiEdit, Write, NotebookEdit).
pub(crate) fn edit_diff(tool: &str, input: &Value, result: Option<&Value>) -> (String, u64, u64) {
    // The diff: the result's structuredPatch when there is one, else built from the input.
    let mut diff = String::new();
    let (mut added, mut removed) = (0u64, 0u64);
    let patch = result
        .and_then(|r| r.get("structuredPatch"))
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty());
    if let Some(hunks) = patch {
        for h in hunks {
            diff.push_str(&format!(
                "@@ -{},{} +{},{} @@\n",
                u64_of(h, "oldStart"),
                u64_of(h, "oldLines"),
                u64_of(h, "newStart"),
                u64_of(h, "newLines")
            ));
            for l in h
                .get("lines")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(l) = l.as_str() else { continue };
                if l.starts_with('+') {
                    added += 1;
                } else if l.starts_with('-') {
                    removed += 1;
                }
                diff.push_str(l);
                diff.push('\n');
            }
        }
    } else {
        let mut pair = |old: &str, new: &str| {
            for l in old.lines() {
                removed += 1;
                diff.push('-');
                diff.push_str(l);
                diff.push('\n');
            }
            for l in new.lines() {
                added += 1;
                diff.push('+');
                diff.push_str(l);
                diff.push('\n');
            }
        };
        match tool {
            "Edit" => pair(
                str_of(input, "old_string").unwrap_or(""),
                str_of(input, "new_string").unwrap_or(""),
            ),
            "MultiEdit" => {
                for e in input
                    .get("edits")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    pair(
                        str_of(e, "old_string").unwrap_or(""),
                        str_of(e, "new_string").unwrap_or(""),
                    );
                }
            }
            "Write" => pair("", str_of(input, "content").unwrap_or("")),
            "NotebookEdit" => pair("", str_of(input, "new_source").unwrap_or("")),
            _ => {}
        }
    }
    (diff, added, removed)
}

impl ClaudeTranscript {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one line of the transcript (without its newline). A line that is not a JSON
    /// object is counted in [`SessionInsight::skipped_lines`] and otherwise ignored.
    pub fn apply_line(&mut self, line: &[u8]) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(v) if v.is_object() => {
                self.apply(&v);
                crate::live::bound_texts(&mut self.new_texts);
            }
            Ok(_) | Err(_) => {
                self.skipped_lines += 1;
                tracing::debug!("skipping a transcript line that is not a JSON object");
            }
        }
    }

    /// Counts a line skipped by the reader (over the size limit).
    pub fn note_skipped(&mut self, n: u64) {
        self.skipped_lines += n;
    }

    /// The searchable text read since the last call: `(role, time, text)` of prompts and
    /// assistant text.
    pub fn take_new_texts(&mut self) -> Vec<(String, Option<u64>, String)> {
        std::mem::take(&mut self.new_texts)
    }

    /// Reads one record.
    pub fn apply(&mut self, v: &Value) {
        let ts = str_of(v, "timestamp").and_then(parse_time);
        if let Some(t) = ts {
            self.started_ms = Some(self.started_ms.map_or(t, |s| s.min(t)));
            self.last_ms = Some(self.last_ms.map_or(t, |l| l.max(t)));
        }
        if let Some(s) = str_of(v, "sessionId") {
            if self.session_id.as_deref() != Some(s) {
                self.session_id = Some(s.to_owned());
            }
        }
        if let Some(c) = str_of(v, "cwd") {
            if self.cwd.as_deref() != Some(c) {
                self.cwd = Some(c.to_owned());
            }
        }
        if let Some(b) = str_of(v, "gitBranch").filter(|b| !b.is_empty()) {
            if self.git_branch.as_deref() != Some(b) {
                self.git_branch = Some(b.to_owned());
            }
        }
        if let Some(ver) = str_of(v, "version").filter(|s| !s.starts_with('…')) {
            if self.version.as_deref() != Some(ver) {
                self.version = Some(ver.to_owned());
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
                    self.prompts += 1;
                    if self.first_prompt.is_none() {
                        self.first_prompt = Some(p.clone());
                    }
                    self.new_texts.push(("user".into(), ts, p.clone()));
                    self.current_task = Some(p);
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

    fn finish_call(
        &mut self,
        id: &str,
        is_error: bool,
        text: &str,
        tool_use_result: Option<&Value>,
        ts: Option<u64>,
    ) {
        let call = self
            .pending
            .iter()
            .position(|(pid, _)| pid == id)
            .and_then(|i| self.pending.remove(i))
            .map(|(_, c)| c);
        if let Some(a) = self
            .actions
            .iter_mut()
            .rev()
            .find(|a| a.id.as_deref() == Some(id))
        {
            a.status = if is_error {
                ActionStatus::Failed
            } else {
                ActionStatus::Succeeded
            };
            if is_error {
                a.error = Some(one_line(text.trim(), 300));
            } else {
                a.result_summary = Some(summarize_result(text));
            }
            let tool_ms = tool_use_result
                .and_then(|r| r.get("durationMs"))
                .and_then(Value::as_u64);
            a.duration_ms = tool_ms.or_else(|| match (a.started_at_ms, ts) {
                (Some(s), Some(e)) if e >= s => Some(e - s),
                _ => None,
            });
        }
        let Some(call) = call else { return };
        if is_error {
            return;
        }
        if is_file_tool(&call.tool) {
            self.record_file_change(&call, tool_use_result, ts);
        } else if call.tool == "TodoWrite" {
            // Applied once the tool accepted it: a disabled or failing TodoWrite changes
            // nothing.
            self.apply_todo_write(&call.input, ts);
        } else if is_todo_tool(&call.tool) {
            self.record_task_result(&call, text, tool_use_result, ts);
        }
    }

    fn apply_assistant(&mut self, v: &Value, ts: Option<u64>) {
        let Some(msg) = v.get("message") else { return };
        let sidechain = v.get("isSidechain").and_then(Value::as_bool) == Some(true);
        let model = str_of(msg, "model").filter(|m| *m != "<synthetic>");
        if let (Some(m), false) = (model, sidechain) {
            if self.model.as_deref() != Some(m) {
                self.model = Some(m.to_owned());
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
                            self.reasoning = Some((tail_chars(t.trim(), MAX_REASONING), ts));
                        }
                    }
                }
                Some("text") => {
                    if let Some(t) = str_of(b, "text").filter(|t| !t.trim().is_empty()) {
                        self.new_texts
                            .push(("assistant".into(), ts, cut(t.trim(), MAX_PROMPT)));
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

    fn start_call(&mut self, b: &Value, ts: Option<u64>) {
        let tool = str_of(b, "name").unwrap_or("").to_owned();
        let input = b.get("input").cloned().unwrap_or(Value::Null);
        let id = str_of(b, "id").map(str::to_owned);
        self.total_actions += 1;
        self.actions.push_back(Action {
            id: id.clone(),
            tool: tool.clone(),
            input_summary: input_summary(&tool, &input),
            status: ActionStatus::Running,
            result_summary: None,
            error: None,
            started_at_ms: ts,
            duration_ms: None,
        });
        if self.actions.len() > MAX_ACTIONS {
            self.actions.pop_front();
        }
        if let Some(id) = id {
            let keep_input = is_file_tool(&tool) || is_todo_tool(&tool);
            self.pending.push_back((
                id,
                PendingCall {
                    tool,
                    input: if keep_input { input } else { Value::Null },
                    started_ms: ts,
                },
            ));
            if self.pending.len() > MAX_PENDING_CALLS {
                self.pending.pop_front();
            }
        }
    }

    fn record_file_change(&mut self, call: &PendingCall, result: Option<&Value>, ts: Option<u64>) {
        let input = &call.input;
        let path = str_of(input, "file_path")
            .or_else(|| str_of(input, "notebook_path"))
            .or_else(|| result.and_then(|r| str_of(r, "filePath")));
        let Some(path) = path.map(str::to_owned) else {
            return;
        };
        let created =
            call.tool == "Write" && result.and_then(|r| str_of(r, "type")) == Some("create");
        let (diff, added, removed) = edit_diff(&call.tool, input, result);
        let Some(file) = file_entry(&mut self.files, path, created, MAX_FILES) else {
            self.files_over_limit += 1;
            return;
        };
        file.changes += 1;
        file.lines_added += added;
        file.lines_removed += removed;
        file.last_changed_at_ms = ts.or(call.started_ms);
        if !diff.is_empty() {
            let d = file.diff.get_or_insert_with(String::new);
            let before = d.len();
            let room = MAX_DIFF
                .saturating_sub(d.len())
                .min(MAX_DIFF_TOTAL.saturating_sub(self.diff_bytes));
            if diff.len() <= room {
                d.push_str(&diff);
            } else {
                let mut end = room;
                while end > 0 && !diff.is_char_boundary(end) {
                    end -= 1;
                }
                d.push_str(&diff[..end]);
                file.diff_truncated = true;
            }
            self.diff_bytes += d.len() - before;
        }
    }

    fn apply_todo_write(&mut self, input: &Value, ts: Option<u64>) {
        let Some(todos) = input.get("todos").and_then(Value::as_array) else {
            return;
        };
        let items: Vec<TodoItem> = todos
            .iter()
            .filter_map(|t| {
                let content = str_of(t, "content").or_else(|| str_of(t, "subject"))?;
                Some(TodoItem {
                    id: str_of(t, "id").map(str::to_owned),
                    content: cut(content, 300),
                    status: todo_status(str_of(t, "status").unwrap_or("pending"))?,
                    active_form: str_of(t, "activeForm").map(str::to_owned),
                })
            })
            .collect();
        self.set_todos(items, ts);
    }

    fn set_todos(&mut self, items: Vec<TodoItem>, ts: Option<u64>) {
        let was_open = self.todos.iter().any(|t| t.status != TodoStatus::Completed);
        let none_done_now = items.iter().all(|t| t.status != TodoStatus::Completed);
        // A new list (nothing open before, or a fresh list with nothing done): the pace is
        // measured from now.
        if !was_open || self.todos_started_ms.is_none() || (none_done_now && !items.is_empty()) {
            self.todos_started_ms = ts.or(self.last_ms);
        }
        self.todos = items;
    }

    fn record_task_result(
        &mut self,
        call: &PendingCall,
        text: &str,
        result: Option<&Value>,
        ts: Option<u64>,
    ) {
        let input = &call.input;
        match call.tool.as_str() {
            "TaskCreate" => {
                let content = str_of(input, "subject")
                    .or_else(|| str_of(input, "description"))
                    .unwrap_or("")
                    .to_owned();
                self.next_task_number += 1;
                // The id the tool gave: in its structured result, else "Task #3" in its text.
                let id = result
                    .and_then(|r| r.get("task"))
                    .and_then(|t| t.get("id"))
                    .and_then(|id| match id {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .or_else(|| {
                        let i = text.find('#')?;
                        let digits: String = text[i + 1..]
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect();
                        (!digits.is_empty()).then_some(digits)
                    })
                    .unwrap_or_else(|| self.next_task_number.to_string());
                let mut items = self.todos.clone();
                items.push(TodoItem {
                    id: Some(id),
                    content: cut(&content, 300),
                    status: TodoStatus::Pending,
                    active_form: str_of(input, "activeForm").map(str::to_owned),
                });
                self.set_todos(items, ts);
            }
            "TaskUpdate" => {
                let id = input
                    .get("taskId")
                    .or_else(|| input.get("id"))
                    .and_then(|id| match id {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    });
                let Some(id) = id else { return };
                let Some(pos) = self.todos.iter().position(|t| t.id.as_deref() == Some(&id)) else {
                    return;
                };
                match str_of(input, "status") {
                    Some("deleted") => {
                        self.todos.remove(pos);
                    }
                    Some(s) => {
                        if let Some(st) = todo_status(s) {
                            self.todos[pos].status = st;
                        }
                    }
                    None => {}
                }
                if let (Some(subject), Some(t)) =
                    (str_of(input, "subject"), self.todos.get_mut(pos))
                {
                    t.content = cut(subject, 300);
                }
            }
            _ => {}
        }
    }

    /// What the transcript says so far, priced with `prices`.
    pub fn insight(&self, prices: &Prices) -> SessionInsight {
        let by_model: Vec<ModelUsage> = self.by_model.values().cloned().collect();
        let mut tokens = TokenUsage {
            context: self.context,
            ..TokenUsage::default()
        };
        for m in &by_model {
            tokens.input += m.input;
            tokens.output += m.output;
            tokens.cache_creation += m.cache_creation;
            tokens.cache_read += m.cache_read;
        }
        tokens.by_model = by_model;
        let cost = prices.cost(&tokens.by_model, self.reported_cost);
        let progress = self.progress();
        let current_task = self
            .current_task
            .clone()
            .or_else(|| self.last_prompt_record.clone());
        let mut next_actions: Vec<String> = self
            .todos
            .iter()
            .filter(|t| t.status == TodoStatus::InProgress)
            .map(|t| t.active_form.clone().unwrap_or_else(|| t.content.clone()))
            .collect();
        next_actions.extend(
            self.todos
                .iter()
                .filter(|t| t.status == TodoStatus::Pending)
                .map(|t| t.content.clone()),
        );
        let decision_factors = self
            .reasoning
            .as_ref()
            .map(|(r, _)| decision_factors(r))
            .unwrap_or_default();
        let context_summary = self.compact_summary.clone().or_else(|| {
            let mut parts = Vec::new();
            if let Some(t) = &current_task {
                parts.push(format!("Task: {}.", one_line(t, 200)));
            }
            let changed = self.files.len() as u64 + self.files_over_limit;
            parts.push(format!(
                "{} prompt{}, {} tool call{}, {} file{} changed.",
                self.prompts,
                plural(self.prompts),
                self.total_actions,
                plural(self.total_actions),
                changed,
                plural(changed)
            ));
            if let Some(p) = &progress {
                parts.push(format!("Todo list: {} of {} done.", p.done, p.total));
            }
            if self.context > 0 {
                parts.push(format!("Context: {} tokens.", self.context));
            }
            (self.prompts > 0 || self.total_actions > 0).then(|| parts.join(" "))
        });
        SessionInsight {
            agent_session_id: self.session_id.clone(),
            title: self
                .custom_title
                .clone()
                .or_else(|| self.ai_title.clone())
                .or_else(|| self.summary.clone()),
            current_task,
            first_prompt: self.first_prompt.clone(),
            cwd: self.cwd.clone(),
            git_branch: self.git_branch.clone(),
            model: self.model.clone(),
            agent_version: self.version.clone(),
            recent_actions: self.actions.iter().cloned().collect(),
            total_actions: self.total_actions,
            files_modified: self.files.clone(),
            progress,
            thinking: ThinkingView {
                current_reasoning: self.reasoning.as_ref().map(|(r, _)| r.clone()),
                reasoning_at_ms: self.reasoning.as_ref().and_then(|(_, t)| *t),
                next_actions,
                context_summary,
                decision_factors,
            },
            tokens,
            cost,
            prompts: self.prompts,
            responses: self.responses,
            started_at_ms: self.started_ms,
            last_activity_ms: self.last_ms,
            skipped_lines: self.skipped_lines,
        }
    }

    fn progress(&self) -> Option<Progress> {
        if self.todos.is_empty() {
            return None;
        }
        let total = u32::try_from(self.todos.len()).unwrap_or(u32::MAX);
        let done = u32::try_from(
            self.todos
                .iter()
                .filter(|t| t.status == TodoStatus::Completed)
                .count(),
        )
        .unwrap_or(u32::MAX);
        let estimate = match (self.todos_started_ms, self.last_ms) {
            (Some(start), Some(now)) if done > 0 && done < total && now > start => {
                let elapsed = now - start;
                let each = elapsed / u64::from(done);
                let remaining = each * u64::from(total - done);
                Some(CompletionEstimate {
                    is_estimate: true,
                    estimated_completion_ms: now + remaining,
                    remaining_ms: remaining,
                    basis: format!(
                        "estimate: {done} of {total} done in {} (about {} each); {} left at that pace",
                        duration_text(elapsed),
                        duration_text(each),
                        duration_text(remaining)
                    ),
                })
            }
            _ => None,
        };
        Some(Progress {
            done,
            total,
            items: self.todos.clone(),
            estimate,
        })
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// "45 s", "6 min", "2 h 10 min".
pub fn duration_text(ms: u64) -> String {
    let s = ms / 1000;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", (s + 30) / 60)
    } else {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    }
}

fn todo_status(s: &str) -> Option<TodoStatus> {
    match s {
        "pending" | "open" | "todo" => Some(TodoStatus::Pending),
        "in_progress" | "in-progress" | "active" => Some(TodoStatus::InProgress),
        "completed" | "done" | "complete" => Some(TodoStatus::Completed),
        _ => None,
    }
}

/// The points a piece of reasoning lists: its bullet and numbered lines (at most 8).
fn decision_factors(reasoning: &str) -> Vec<String> {
    reasoning
        .lines()
        .map(str::trim)
        .filter_map(|l| {
            let rest = l
                .strip_prefix("- ")
                .or_else(|| l.strip_prefix("* "))
                .or_else(|| l.strip_prefix("• "))
                .or_else(|| {
                    let digits = l.bytes().take_while(u8::is_ascii_digit).count();
                    (digits > 0 && digits < 3)
                        .then(|| {
                            l[digits..]
                                .strip_prefix(". ")
                                .or_else(|| l[digits..].strip_prefix(") "))
                        })
                        .flatten()
                })?;
            let rest = rest.trim();
            (!rest.is_empty()).then(|| one_line(rest, 200))
        })
        .take(8)
        .collect()
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
