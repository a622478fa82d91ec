//! Claude Code's transcript as a conversation (records of 2.1.328; see
//! `claude::transcript` for the record types): a typed prompt starts a turn; `assistant`
//! lines give text, thinking and tool calls (one response may span several lines sharing
//! `message.id`: its usage counts once); `tool_result` blocks in `user` lines close calls,
//! with `toolUseResult` giving an edit's `structuredPatch` and AskUserQuestion's answers;
//! `isApiErrorMessage` lines are API errors; `[Request interrupted by user…]` an interruption;
//! `system` `compact_boundary` a compaction; `<task-notification>` a background sub-agent that
//! finished; `<local-command-stdout>` a slash command's output. A sub-agent writes its own
//! file (`<session>/subagents/agent-<id>.jsonl`, with `agent-<id>.meta.json` naming the
//! `toolUseId` that started it), read with [`ClaudeConversation::sidechain`].

use super::calls::ShownCalls;
use super::{keep, Conversation};
use crate::claude::tools::input_summary;
use crate::claude::transcript::{edit_diff, parse_time, readable_prompt, result_text};
use crate::json::str_of;
use paddock_proto::conversation::{
    FileDiff, Item, Question, QuestionOption, SubAgentRun, ToolCall,
};
use paddock_proto::insight::ModelUsage;
use serde_json::Value;
use std::collections::{HashSet, VecDeque};
use std::path::Path;

/// Response keys remembered to count each response's usage once.
const MAX_SEEN: usize = 512;

fn u64_of(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

/// The reading state of one Claude Code transcript.
#[derive(Debug, Default)]
pub struct ClaudeConversation {
    /// Reading a sub-agent's own file (all its lines are `isSidechain`).
    sidechain: bool,
    /// Tool calls by id: the turn they are in, and when they were made.
    calls: ShownCalls,
    seen: VecDeque<String>,
    seen_set: HashSet<String>,
    /// A manual compaction is written before the `/compact` prompt that asked for it: it
    /// waits for that prompt's turn.
    compaction: Option<Item>,
}

impl ClaudeConversation {
    /// A reader of a sub-agent's file.
    pub fn sidechain() -> Self {
        Self {
            sidechain: true,
            ..Self::default()
        }
    }

    /// The turn of the tool call `id`, if it was seen.
    pub fn turn_of_call(&self, id: &str) -> Option<u64> {
        self.calls.turn_of(id)
    }

    /// Reads one line (without its newline); a line that is not a JSON object is skipped.
    pub fn apply_line(&mut self, conv: &mut Conversation, line: &[u8]) {
        match serde_json::from_slice::<Value>(line) {
            Ok(v) if v.is_object() => self.apply(conv, &v),
            _ => tracing::debug!("skipping a transcript line that is not a JSON object"),
        }
    }

    fn apply(&mut self, conv: &mut Conversation, v: &Value) {
        if self.skipped(v) {
            return;
        }
        let ts = str_of(v, "timestamp").and_then(parse_time);
        match str_of(v, "type") {
            Some("user") => self.user(conv, v, ts),
            Some("assistant") => self.assistant(conv, v, ts),
            Some("system") if str_of(v, "subtype") == Some("compact_boundary") => {
                let meta = v.get("compactMetadata").unwrap_or(&Value::Null);
                let trigger = str_of(meta, "trigger").map(str::to_owned);
                let item = Item::Compaction {
                    tokens_before: meta.get("preTokens").and_then(Value::as_u64),
                    trigger: trigger.clone(),
                };
                if trigger.as_deref() == Some("manual") {
                    self.compaction = Some(item);
                } else {
                    conv.push(item, ts);
                }
            }
            _ => {}
        }
    }

    /// Whether `line` starts a turn (a typed prompt, a background task that finished) in a
    /// main transcript: such a turn is read the same from that line on as from the file's
    /// start. Decided by the same code as [`Self::apply_line`].
    pub fn starts_turn(&self, line: &[u8]) -> bool {
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            return false;
        };
        if !v.is_object() || self.skipped(&v) || str_of(&v, "type") != Some("user") {
            return false;
        }
        let (_, text) = user_blocks(&v);
        text.is_some_and(|t| {
            matches!(
                self.user_kind(&t),
                UserText::TaskDone(_) | UserText::Prompt(_)
            )
        })
    }

    /// Forgets the calls of turns keyed before `key` (dropped from memory: a late result for
    /// them is not shown until their turn is read again).
    pub fn forget_before(&mut self, key: u64) {
        self.calls.forget_before(key);
    }

    /// A side-chain line in a main transcript (a sub-agent's, read from its own file).
    fn skipped(&self, v: &Value) -> bool {
        !self.sidechain && v.get("isSidechain").and_then(Value::as_bool) == Some(true)
    }

    fn user(&mut self, conv: &mut Conversation, v: &Value, ts: Option<u64>) {
        let (results, text) = user_blocks(v);
        for b in results {
            self.tool_result(conv, v, b, ts);
        }
        if let Some(text) = text {
            self.user_text(conv, &text, ts);
        }
    }

    /// What a user line's text is.
    fn user_kind<'a>(&self, text: &'a str) -> UserText<'a> {
        let t = text.trim();
        if t.starts_with("[Request interrupted by user") {
            UserText::Interrupted
        } else if let Some(rest) = t.strip_prefix("<task-notification>") {
            UserText::TaskDone(tag(rest, "summary").unwrap_or("A background task finished"))
        } else if t.starts_with("<local-command-stdout>") || t.starts_with("<local-command-stderr>")
        {
            UserText::Output(
                tag(t, "local-command-stdout")
                    .or_else(|| tag(t, "local-command-stderr"))
                    .unwrap_or("")
                    .trim(),
            )
        } else if self.sidechain {
            // A sub-agent's prompt is its call's input, shown with the call.
            UserText::Other
        } else {
            readable_prompt(t).map_or(UserText::Other, UserText::Prompt)
        }
    }

    fn user_text(&mut self, conv: &mut Conversation, text: &str, ts: Option<u64>) {
        match self.user_kind(text) {
            UserText::Interrupted => conv.push(Item::Interrupted, ts),
            UserText::TaskDone(summary) => {
                conv.start_turn(None, ts);
                conv.push(
                    Item::Notice {
                        text: summary.to_owned(),
                    },
                    ts,
                );
            }
            UserText::Output(out) => {
                if !out.is_empty() {
                    conv.push(Item::Notice { text: keep(out) }, ts);
                }
            }
            UserText::Other => {}
            UserText::Prompt(prompt) => {
                let compact = prompt == "/compact" || prompt.starts_with("/compact ");
                let compaction = self.compaction.take();
                if let (Some(item), false) = (&compaction, compact) {
                    conv.push(item.clone(), ts);
                }
                conv.start_turn(Some(prompt), ts);
                if let (Some(item), true) = (compaction, compact) {
                    conv.push(item, ts);
                }
            }
        }
    }

    fn tool_result(&mut self, conv: &mut Conversation, line: &Value, b: &Value, ts: Option<u64>) {
        let Some(id) = str_of(b, "tool_use_id") else {
            return;
        };
        let result = line.get("toolUseResult");
        let failed = b.get("is_error").and_then(Value::as_bool) == Some(true);
        let Some(call) = self.calls.finish(conv, id, failed, None, ts) else {
            return;
        };
        call.output = Some(keep(&result_text(b)));
        let structured = result.filter(|r| r.is_object());
        if !failed && is_file_tool(&call.tool) {
            let (diff, added, removed) = edit_diff(&call.tool, &call.input, structured);
            let path = str_of(&call.input, "file_path")
                .or_else(|| str_of(&call.input, "notebook_path"))
                .or_else(|| structured.and_then(|r| str_of(r, "filePath")))
                .unwrap_or_default();
            call.diff = Some(FileDiff {
                path: path.to_owned(),
                created: call.tool == "Write"
                    && structured.and_then(|r| str_of(r, "type")) == Some("create"),
                diff: keep(&diff),
                added,
                removed,
            });
        }
        if let Some(answers) = structured.and_then(|r| r.get("answers")) {
            for q in &mut call.questions {
                q.answer = str_of(answers, &q.question).map(str::to_owned);
            }
        }
    }

    fn assistant(&mut self, conv: &mut Conversation, v: &Value, ts: Option<u64>) {
        let msg = v.get("message").unwrap_or(&Value::Null);
        let blocks = msg.get("content").and_then(Value::as_array);
        if v.get("isApiErrorMessage").and_then(Value::as_bool) == Some(true) {
            let text: Vec<&str> = blocks
                .into_iter()
                .flatten()
                .filter_map(|b| str_of(b, "text"))
                .collect();
            conv.push(
                Item::ApiError {
                    status: v.get("apiErrorStatus").and_then(Value::as_u64),
                    message: text.join("\n"),
                },
                ts,
            );
            return;
        }
        self.count_usage(conv, v, msg, ts);
        for b in blocks.into_iter().flatten() {
            match str_of(b, "type") {
                Some("text") => {
                    let text = str_of(b, "text").unwrap_or("");
                    if !text.trim().is_empty() {
                        conv.push(Item::Text { text: keep(text) }, ts);
                    }
                }
                Some("thinking") => {
                    let text = str_of(b, "thinking").unwrap_or("");
                    if !text.trim().is_empty() {
                        conv.push(Item::Thinking { text: keep(text) }, ts);
                    }
                }
                Some("tool_use") => {
                    let id = str_of(b, "id").unwrap_or_default().to_owned();
                    let tool = str_of(b, "name").unwrap_or("tool").to_owned();
                    let input = b.get("input").cloned().unwrap_or(Value::Null);
                    let call = ToolCall {
                        id,
                        summary: input_summary(&tool, &input),
                        questions: questions_of(&tool, &input),
                        tool,
                        input,
                        ..ToolCall::default()
                    };
                    self.calls.start(conv, call, ts);
                }
                _ => {}
            }
        }
    }

    fn count_usage(&mut self, conv: &mut Conversation, v: &Value, msg: &Value, ts: Option<u64>) {
        let Some(usage) = msg.get("usage") else {
            return;
        };
        let request = str_of(v, "requestRef").or_else(|| str_of(v, "requestId"));
        let key = format!(
            "{}/{}",
            str_of(msg, "id").unwrap_or_default(),
            request.unwrap_or_default()
        );
        if !self.seen_set.insert(key.clone()) {
            return;
        }
        self.seen.push_back(key);
        if self.seen.len() > MAX_SEEN {
            if let Some(old) = self.seen.pop_front() {
                self.seen_set.remove(&old);
            }
        }
        conv.add_usage(
            ModelUsage {
                model: str_of(msg, "model").unwrap_or("unknown").to_owned(),
                input: u64_of(usage, "input_tokens"),
                output: u64_of(usage, "output_tokens"),
                cache_creation: u64_of(usage, "cache_creation_input_tokens"),
                cache_read: u64_of(usage, "cache_read_input_tokens"),
            },
            ts,
        );
    }
}

/// What the text of a user line is.
enum UserText<'a> {
    /// The user interrupted the agent.
    Interrupted,
    /// A background task finished: a turn the agent starts by itself (its summary).
    TaskDone(&'a str),
    /// A slash command's output.
    Output(&'a str),
    /// A typed prompt: it starts a turn.
    Prompt(String),
    Other,
}

/// A user line's tool results, and its text (text blocks joined; `None` for meta lines,
/// compaction summaries and lines without text).
fn user_blocks(v: &Value) -> (Vec<&Value>, Option<String>) {
    if v.get("isMeta").and_then(Value::as_bool) == Some(true)
        || v.get("isCompactSummary").and_then(Value::as_bool) == Some(true)
    {
        return (Vec::new(), None);
    }
    match v.pointer("/message/content").unwrap_or(&Value::Null) {
        Value::String(text) => (Vec::new(), Some(text.clone())),
        Value::Array(blocks) => {
            let mut results = Vec::new();
            let mut texts = Vec::new();
            for b in blocks {
                match str_of(b, "type") {
                    Some("tool_result") => results.push(b),
                    Some("text") => texts.extend(str_of(b, "text")),
                    Some("image") => texts.push("[image]"),
                    _ => {}
                }
            }
            (results, (!texts.is_empty()).then(|| texts.join("\n")))
        }
        _ => (Vec::new(), None),
    }
}

fn is_file_tool(tool: &str) -> bool {
    matches!(tool, "Edit" | "Write" | "MultiEdit" | "NotebookEdit")
}

/// The text inside `<name>…</name>` in `s`.
fn tag<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = s.find(&open)? + open.len();
    let end = s[start..].find(&close)? + start;
    Some(&s[start..end])
}

/// The questions of an AskUserQuestion call's input (`questions: [{question, header,
/// options: [{label, description}], multiSelect}]`); none for other tools.
pub fn questions_of(tool: &str, input: &Value) -> Vec<Question> {
    if tool != "AskUserQuestion" {
        return Vec::new();
    }
    input
        .get("questions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|q| {
            Some(Question {
                question: str_of(q, "question")?.to_owned(),
                header: str_of(q, "header").map(str::to_owned),
                options: q
                    .get("options")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|o| {
                        Some(QuestionOption {
                            label: str_of(o, "label")?.to_owned(),
                            description: str_of(o, "description").map(str::to_owned),
                        })
                    })
                    .collect(),
                multi_select: q.get("multiSelect").and_then(Value::as_bool) == Some(true),
                answer: None,
            })
        })
        .collect()
}

/// A sub-agent file's `.meta.json`: which call started it, its type and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAgentMeta {
    pub tool_use_id: String,
    pub agent_type: Option<String>,
    pub description: Option<String>,
}

impl SubAgentMeta {
    /// Reads `agent-<id>.meta.json` beside `agent-<id>.jsonl`; `None` when it is missing or
    /// names no call.
    pub fn read(jsonl: &Path) -> Option<SubAgentMeta> {
        let text = std::fs::read(jsonl.with_extension("meta.json")).ok()?;
        let v: Value = serde_json::from_slice(&text).ok()?;
        Some(SubAgentMeta {
            tool_use_id: str_of(&v, "toolUseId")?.to_owned(),
            agent_type: str_of(&v, "agentType").map(str::to_owned),
            description: str_of(&v, "description").map(str::to_owned),
        })
    }

    /// The run of the file at `jsonl` with `items`.
    pub fn run(&self, jsonl: &Path, items: Vec<Item>) -> SubAgentRun {
        let stem = jsonl
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        SubAgentRun {
            agent_id: stem.strip_prefix("agent-").unwrap_or(&stem).to_owned(),
            agent_type: self.agent_type.clone(),
            description: self.description.clone(),
            items,
        }
    }
}
