//! Codex CLI: its rollout transcripts (`~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`, the
//! tree moves with `CODEX_HOME`), the JSON its `notify` program gets at the end of each turn,
//! and its screen.
//!
//! A rollout line is `{timestamp, type, payload}`. Read here: `session_meta` (id, cwd, git
//! branch, version), `turn_context` (model, cwd), `response_item` (`message`,
//! `function_call` / `function_call_output`, `custom_tool_call` / `custom_tool_call_output`,
//! `local_shell_call`, `reasoning`), `event_msg` (`task_started`, `task_complete`,
//! `token_count`, `user_message`, `agent_message`, `agent_reasoning`). Anything else is
//! ignored; a line that is not JSON is counted and skipped.

use crate::claude::tools::one_line;
use crate::hook::{HookEvent, HookPayload};
use crate::prices::Prices;
use crate::screen::{block_text, is_rule, numbered_option, trimmed_rows, PromptKind, ScreenPrompt};
use crate::{Adapter, AgentError, AgentKind, ScreenState};
use paddock_proto::insight::{
    Action, ActionStatus, FileChange, FileOperation, ModelUsage, SessionInsight, ThinkingView,
    TokenUsage,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

const MAX_ACTIONS: usize = 50;
const MAX_FILES: usize = 500;
const MAX_PENDING: usize = 256;
const MAX_TEXT: usize = 2000;

/// Codex CLI's adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Codex;

impl Adapter for Codex {
    fn kind(&self) -> AgentKind {
        AgentKind::Codex
    }

    fn classify_screen(&self, rows: &[&str], quiet_for: Option<Duration>) -> ScreenState {
        classify_screen(rows, quiet_for)
    }

    /// Codex has no hooks, but its `notify` program gets one JSON argument per finished
    /// turn: this parses that argument.
    fn parse_hook(&self, payload: &[u8]) -> Result<HookPayload, AgentError> {
        parse_notify(payload)
    }

    /// Esc interrupts a Codex turn.
    fn interrupt_keys(&self) -> &'static [u8] {
        b"\x1b"
    }
}

/// Where Codex keeps its files: `$CODEX_HOME`, else `~/.codex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodexPaths {
    pub root: PathBuf,
}

impl CodexPaths {
    pub fn from_env() -> Option<CodexPaths> {
        Self::resolve(
            std::env::var_os("CODEX_HOME").map(PathBuf::from),
            std::env::var_os("HOME").map(PathBuf::from),
        )
    }

    pub fn resolve(codex_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<CodexPaths> {
        match codex_home.filter(|p| !p.as_os_str().is_empty()) {
            Some(root) => Some(CodexPaths { root }),
            None => home
                .filter(|h| !h.as_os_str().is_empty())
                .map(|h| CodexPaths {
                    root: h.join(".codex"),
                }),
        }
    }

    /// `<root>/sessions`, holding `YYYY/MM/DD/rollout-*.jsonl`.
    pub fn sessions(&self) -> PathBuf {
        self.root.join("sessions")
    }

    /// The rollout of `session_id` (its file name ends with the id), newest days first.
    pub fn find_rollout(&self, session_id: &str) -> Option<PathBuf> {
        if session_id.is_empty() || session_id.contains(['/', '\\']) {
            return None;
        }
        let suffix = format!("{session_id}.jsonl");
        self.rollouts().into_iter().rev().find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(&suffix))
        })
    }

    /// Every rollout file, oldest day first.
    pub fn rollouts(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let sorted_dirs = |p: &Path| -> Vec<PathBuf> {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.is_dir())
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            v
        };
        for y in sorted_dirs(&self.sessions()) {
            for m in sorted_dirs(&y) {
                for d in sorted_dirs(&m) {
                    let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
                        .map(|rd| {
                            rd.flatten()
                                .map(|e| e.path())
                                .filter(|p| {
                                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                                        n.starts_with("rollout-") && n.ends_with(".jsonl")
                                    })
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    files.sort();
                    out.extend(files);
                }
            }
        }
        out
    }
}

/// Parses the JSON argument Codex passes to its `notify` program. Known: `type:
/// "agent-turn-complete"` (→ [`HookEvent::Stop`]) with `thread-id`, `turn-id`, `cwd`,
/// `input-messages`, `last-assistant-message`; other types are kept as
/// [`HookEvent::Unknown`].
pub fn parse_notify(payload: &[u8]) -> Result<HookPayload, AgentError> {
    let raw: Value = serde_json::from_slice(payload).map_err(|e| AgentError::BadHookPayload {
        reason: e.to_string(),
    })?;
    if !raw.is_object() {
        return Err(AgentError::BadHookPayload {
            reason: "found something other than an object".into(),
        });
    }
    let s = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| raw.get(*k).and_then(Value::as_str))
            .map(str::to_owned)
    };
    let event_name = s(&["type"]).unwrap_or_default();
    let event = match event_name.as_str() {
        "agent-turn-complete" => HookEvent::Stop {
            last_assistant_message: s(&["last-assistant-message", "last_assistant_message"]),
            stop_hook_active: false,
        },
        _ => HookEvent::Unknown,
    };
    Ok(HookPayload {
        session_id: s(&["thread-id", "thread_id", "session-id", "session_id"]),
        transcript_path: None,
        cwd: s(&["cwd"]).map(PathBuf::from),
        event_name,
        permission_mode: None,
        prompt_id: s(&["turn-id", "turn_id"]),
        event,
        raw,
    })
}

/// What Codex's screen shows: its approval prompt ("Would you like to run the following
/// command?"), working ("esc to interrupt"), a failed turn (an error above the empty input
/// box), or its input prompt (`›`).
pub fn classify_screen(rows: &[&str], _quiet_for: Option<Duration>) -> ScreenState {
    let rows = trimmed_rows(rows);
    let bottom = &rows[rows.len().saturating_sub(30)..];
    if let Some(qi) = bottom.iter().rposition(|r| {
        let t = r.trim().to_lowercase();
        t.starts_with("would you like to")
            || t.starts_with("allow command")
            || t.contains("approve") && t.ends_with('?')
    }) {
        let options: Vec<(bool, String)> = bottom[qi + 1..]
            .iter()
            .filter_map(|r| {
                numbered_option(r.trim_start_matches(['›', '▌', ' ']))
                    .map(|(s, _, t)| (s || r.trim_start().starts_with('›'), t.to_owned()))
            })
            .collect();
        let question = bottom[qi].trim().to_owned();
        let detail = bottom[..qi]
            .iter()
            .rev()
            .take(12)
            .find_map(|r| r.trim().strip_prefix("$ ").map(str::to_owned));
        let ql = question.to_lowercase();
        let tool = if ql.contains("command") {
            Some("shell".to_owned())
        } else if ql.contains("edit") {
            Some("apply_patch".to_owned())
        } else {
            None
        };
        if !options.is_empty() || detail.is_some() {
            return ScreenState::Prompt(ScreenPrompt {
                kind: PromptKind::Permission,
                tool,
                title: None,
                detail,
                description: None,
                question,
                selected: options.iter().position(|(s, _)| *s),
                options: options.into_iter().map(|(_, t)| t).collect(),
            });
        }
    }
    let tail = &bottom[bottom.len().saturating_sub(12)..];
    if let Some(line) = status_line(tail) {
        return ScreenState::Working {
            activity: Some(line.trim().to_owned()),
        };
    }
    if let Some(message) = failed_turn(bottom) {
        return ScreenState::Errored { message };
    }
    if turn_unfinished(bottom) {
        return ScreenState::Working { activity: None };
    }
    // Shell mode (the user typed `!`): the box reads "! command", the footer "Shell mode".
    let shell_mode = tail.last().is_some_and(|r| r.trim() == "Shell mode")
        && tail.iter().any(|r| r.starts_with('!'));
    if shell_mode
        || tail
            .iter()
            .any(|r| r.trim_start().starts_with('›') || r.trim_start().starts_with("▌"))
        || tail
            .windows(2)
            .any(|w| is_rule(w[0], '─') && w[1].trim_start().starts_with('>'))
    {
        return ScreenState::WaitingInput;
    }
    ScreenState::Unknown
}

/// The status line of a running turn: "• Working (3s • esc to interrupt)". A long header
/// (the model's reasoning title) is cut at the terminal's edge, hint and all: "◦ Let me think
/// about this carefully, … since the question d…" (`tests/data/codex-working-screen-0.169.0.txt`).
/// Cut or not, it is one row (glyph, text, `…`) with blank rows between it and the input box;
/// history cells wrap instead of being cut.
fn status_line<'a>(tail: &[&'a str]) -> Option<&'a str> {
    if let Some(row) = tail
        .iter()
        .rev()
        .find(|r| r.to_lowercase().contains("esc to interrupt"))
    {
        return Some(row);
    }
    let input = tail.iter().rposition(|r| r.starts_with('›'))?;
    let above = (0..input).rev().find(|&i| !tail[i].trim().is_empty())?;
    let row = tail[above];
    (above + 1 < input && (row.starts_with("• ") || row.starts_with("◦ ")) && row.ends_with('…'))
        .then_some(row)
}

/// Whether the history shows a turn that has not ended: the user's last prompt (`› …` above
/// the input box) answered by the agent (a `•` cell) with no end after it. 0.169.0 ends every
/// turn with "Worked for 3s • 05:48" ("Worked for <1s" for the quickest, a `!` shell command
/// too), an interrupt or an error with a `■` cell; while it streams its answer it hides the
/// status line (`tests/data/codex-streaming-screen-0.169.0.txt`). The slash-command menu
/// marks its choice with `›` too, with no `•` below it (`codex-slash-popup-screen-0.169.0.txt`).
fn turn_unfinished(rows: &[&str]) -> bool {
    let Some(input) = rows.iter().rposition(|r| r.starts_with('›')) else {
        return false;
    };
    let mut answered = false;
    for row in rows[..input].iter().rev() {
        if row.starts_with('■') || (row.starts_with("  ") && row.trim().starts_with("Worked for "))
        {
            return false;
        }
        if row.starts_with("• ") || row.starts_with("◦ ") {
            answered = true;
        }
        if row.starts_with('›') {
            return answered;
        }
    }
    false
}

/// What the input box shows while it is empty (0.169.0).
const EMPTY_INPUT: &str = "Ask Codex to do anything";

/// A turn that failed: its last history cell is an error ("■ We're currently experiencing
/// high demand, ...", `tests/data/codex-api-error-screen-0.169.0.txt`) and the input box is
/// empty. An interrupt is drawn the same way ("■ Conversation interrupted - ...") and is not
/// an error; typing in the box, or a new turn, ends it.
fn failed_turn(rows: &[&str]) -> Option<String> {
    let input = rows.iter().rposition(|r| r.starts_with('›'))?;
    let typed = rows[input].trim_start_matches('›').trim();
    if !typed.is_empty() && typed != EMPTY_INPUT {
        return None;
    }
    // The last cell: the nearest row above the box that is not a cell's indented continuation.
    let start = (0..input)
        .rev()
        .find(|&i| !rows[i].trim().is_empty() && !rows[i].starts_with(' '))?;
    let text = rows[start].strip_prefix('■')?.trim();
    if text.starts_with("Conversation interrupted") {
        return None;
    }
    Some(block_text(text, &rows[start + 1..input]))
}

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
    session_id: Option<String>,
    cwd: Option<String>,
    git_branch: Option<String>,
    model: Option<String>,
    version: Option<String>,
    current_task: Option<String>,
    first_prompt: Option<String>,
    prompts: u64,
    turns: u64,
    turn_active: bool,
    last_agent_message: Option<String>,
    reasoning: Option<(String, Option<u64>)>,
    actions: VecDeque<Action>,
    total_actions: u64,
    pending: VecDeque<Pending>,
    files: Vec<FileChange>,
    /// The latest cumulative totals of `token_count` (Codex reports running totals).
    input: u64,
    cached_input: u64,
    output: u64,
    context: u64,
    started_ms: Option<u64>,
    last_ms: Option<u64>,
    skipped_lines: u64,
    #[serde(skip)]
    new_texts: Vec<(String, Option<u64>, String)>,
}

fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// The lines of an `apply_patch` body: `(path, created, added, removed)` per file.
pub(crate) fn patch_files(patch: &str) -> Vec<(String, bool, u64, u64)> {
    let mut out: Vec<(String, bool, u64, u64)> = Vec::new();
    for line in patch.lines() {
        if let Some(p) = line.strip_prefix("*** Add File: ") {
            out.push((p.trim().to_owned(), true, 0, 0));
        } else if let Some(p) = line
            .strip_prefix("*** Update File: ")
            .or_else(|| line.strip_prefix("*** Delete File: "))
        {
            out.push((p.trim().to_owned(), false, 0, 0));
        } else if let Some(f) = out.last_mut() {
            if line.starts_with('+') {
                f.2 += 1;
            } else if line.starts_with('-') {
                f.3 += 1;
            }
        }
    }
    out
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
        self.skipped_lines += n;
    }

    pub fn take_new_texts(&mut self) -> Vec<(String, Option<u64>, String)> {
        std::mem::take(&mut self.new_texts)
    }

    pub fn apply_line(&mut self, line: &[u8]) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(v) if v.is_object() => {
                self.apply(&v);
                crate::live::bound_texts(&mut self.new_texts);
            }
            _ => self.skipped_lines += 1,
        }
    }

    pub fn apply(&mut self, v: &Value) {
        let ts = str_of(v, "timestamp").and_then(crate::claude::transcript::parse_time);
        if let Some(t) = ts {
            self.started_ms = Some(self.started_ms.map_or(t, |s| s.min(t)));
            self.last_ms = Some(self.last_ms.map_or(t, |l| l.max(t)));
        }
        let p = v.get("payload").unwrap_or(&Value::Null);
        match str_of(v, "type").unwrap_or("") {
            "session_meta" => {
                let meta = p.get("meta").unwrap_or(p);
                if let Some(id) = str_of(meta, "id").or_else(|| str_of(meta, "session_id")) {
                    self.session_id = Some(id.to_owned());
                }
                if let Some(c) = str_of(meta, "cwd") {
                    self.cwd = Some(c.to_owned());
                }
                if let Some(ver) = str_of(meta, "cli_version").or_else(|| str_of(meta, "version")) {
                    self.version = Some(ver.to_owned());
                }
                let git = p.get("git").or_else(|| meta.get("git"));
                if let Some(b) = git.and_then(|g| str_of(g, "branch")) {
                    self.git_branch = Some(b.to_owned());
                }
            }
            "turn_context" => {
                if let Some(m) = str_of(p, "model") {
                    self.model = Some(m.to_owned());
                }
                if let Some(c) = str_of(p, "cwd") {
                    self.cwd = Some(c.to_owned());
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
        if self.current_task.as_deref() == Some(t.as_str()) {
            return;
        }
        self.prompts += 1;
        if self.first_prompt.is_none() {
            self.first_prompt = Some(t.clone());
        }
        self.new_texts.push(("user".into(), ts, t.clone()));
        self.current_task = Some(t);
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
                    self.reasoning = Some((one_line(t, 4000), ts));
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
                let text: Vec<&str> = p
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|c| str_of(c, "text"))
                    .collect();
                let text = text.join("\n");
                match str_of(p, "role") {
                    Some("user") => self.set_prompt(&text, ts),
                    Some("assistant") if !text.trim().is_empty() => {
                        self.new_texts
                            .push(("assistant".into(), ts, one_line(&text, MAX_TEXT)));
                    }
                    _ => {}
                }
            }
            "reasoning" => {
                let text: Vec<&str> = p
                    .get("summary")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|s| str_of(s, "text"))
                    .collect();
                if !text.is_empty() {
                    self.reasoning = Some((one_line(&text.join("\n"), 4000), ts));
                }
            }
            "function_call" | "custom_tool_call" | "local_shell_call" => {
                let name = str_of(p, "name").unwrap_or("shell").to_owned();
                // function_call arguments are a JSON string; custom tools take raw input.
                let args: Value = match p.get("arguments") {
                    Some(Value::String(s)) => {
                        serde_json::from_str(s).unwrap_or(Value::String(s.clone()))
                    }
                    Some(other) => other.clone(),
                    None => p
                        .get("input")
                        .or_else(|| p.get("action"))
                        .cloned()
                        .unwrap_or(Value::Null),
                };
                let summary = codex_summary(&name, &args);
                let id = str_of(p, "call_id")
                    .or_else(|| str_of(p, "id"))
                    .map(str::to_owned);
                self.total_actions += 1;
                self.actions.push_back(Action {
                    id: id.clone(),
                    tool: name.clone(),
                    input_summary: summary,
                    status: ActionStatus::Running,
                    result_summary: None,
                    error: None,
                    started_at_ms: ts,
                    duration_ms: None,
                });
                if self.actions.len() > MAX_ACTIONS {
                    self.actions.pop_front();
                }
                let patch = (name == "apply_patch")
                    .then(|| match &args {
                        Value::String(s) => Some(s.clone()),
                        v => str_of(v, "input")
                            .or_else(|| str_of(v, "patch"))
                            .map(str::to_owned),
                    })
                    .flatten();
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
                if let Some(a) = self
                    .actions
                    .iter_mut()
                    .rev()
                    .find(|a| a.id.as_deref() == Some(id))
                {
                    a.status = if failed {
                        ActionStatus::Failed
                    } else {
                        ActionStatus::Succeeded
                    };
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
                    a.duration_ms = secs.map(|s| (s * 1000.0).round() as u64).or_else(|| {
                        match (pending.as_ref().and_then(|p| p.started_ms), ts) {
                            (Some(s), Some(e)) if e >= s => Some(e - s),
                            _ => None,
                        }
                    });
                }
            }
            _ => {}
        }
    }

    fn record_patch(&mut self, patch: &str, ts: Option<u64>) {
        for (path, created, added, removed) in patch_files(patch) {
            let file = match self.files.iter().position(|f| f.path == path) {
                Some(i) => &mut self.files[i],
                None => {
                    if self.files.len() >= MAX_FILES {
                        continue;
                    }
                    self.files.push(FileChange {
                        path,
                        operation: if created {
                            FileOperation::Created
                        } else {
                            FileOperation::Modified
                        },
                        changes: 0,
                        lines_added: 0,
                        lines_removed: 0,
                        diff: None,
                        diff_truncated: false,
                        last_changed_at_ms: None,
                    });
                    let last = self.files.len() - 1;
                    &mut self.files[last]
                }
            };
            file.changes += 1;
            file.lines_added += added;
            file.lines_removed += removed;
            file.last_changed_at_ms = ts;
        }
    }

    pub fn insight(&self, prices: &Prices) -> SessionInsight {
        let model = self.model.clone().unwrap_or_else(|| "unknown".into());
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
            agent_session_id: self.session_id.clone(),
            title: None,
            current_task: self.current_task.clone(),
            first_prompt: self.first_prompt.clone(),
            cwd: self.cwd.clone(),
            git_branch: self.git_branch.clone(),
            model: self.model.clone(),
            agent_version: self.version.clone(),
            recent_actions: self.actions.iter().cloned().collect(),
            total_actions: self.total_actions,
            files_modified: self.files.clone(),
            progress: None,
            thinking: ThinkingView {
                current_reasoning: self.reasoning.as_ref().map(|r| r.0.clone()),
                reasoning_at_ms: self.reasoning.as_ref().and_then(|r| r.1),
                next_actions: Vec::new(),
                context_summary: self.last_agent_message.clone(),
                decision_factors: Vec::new(),
            },
            tokens,
            cost,
            prompts: self.prompts,
            responses: self.turns,
            started_at_ms: self.started_ms,
            last_activity_ms: self.last_ms,
            skipped_lines: self.skipped_lines,
        }
    }
}

/// What a Codex tool call does, in one line.
pub(crate) fn codex_summary(tool: &str, args: &Value) -> String {
    let cmd = args
        .get("command")
        .or_else(|| args.get("cmd"))
        .map(|c| match c {
            Value::Array(parts) => parts
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    // `bash -lc "<script>"`: the script is what was run.
    let cmd = cmd.map(|c| {
        c.strip_prefix("bash -lc ")
            .or_else(|| c.strip_prefix("sh -c "))
            .map(str::to_owned)
            .unwrap_or(c)
    });
    match (tool, cmd) {
        (_, Some(c)) => one_line(&c, 200),
        ("apply_patch", None) => {
            let patch = match args {
                Value::String(s) => s.as_str(),
                v => str_of(v, "input").unwrap_or(""),
            };
            let files: Vec<String> = patch_files(patch).into_iter().map(|f| f.0).collect();
            one_line(&files.join(", "), 200)
        }
        _ => crate::claude::tools::input_summary(tool, args),
    }
}

/// A tool's output as Codex recorded it.
pub(crate) struct ToolOutput {
    /// What the tool printed (without Codex's header lines).
    pub(crate) text: String,
    pub(crate) exit_code: Option<i64>,
    pub(crate) secs: Option<f64>,
    /// Codex refused the call ("unsupported call: …").
    pub(crate) refused: bool,
}

/// Reads a tool's output: `{"output": "...", "metadata": {"exit_code": 0,
/// "duration_seconds": 0.5}}` (as a JSON string or an object), or the text of 0.169's
/// `exec_command` (`Wall time: 0.01 seconds` / `Process exited with code 1` /
/// `Output:` then the output), or plain text.
pub(crate) fn tool_output(v: &Value) -> ToolOutput {
    let parsed;
    let v = match v {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(inner @ Value::Object(_)) => {
                parsed = inner;
                &parsed
            }
            _ => return text_output(s),
        },
        other => other,
    };
    let text = str_of(v, "output")
        .or_else(|| str_of(v, "content"))
        .unwrap_or("")
        .to_owned();
    let meta = v.get("metadata");
    ToolOutput {
        refused: text.starts_with("unsupported call"),
        text,
        exit_code: meta
            .and_then(|m| m.get("exit_code"))
            .and_then(Value::as_i64),
        secs: meta
            .and_then(|m| m.get("duration_seconds"))
            .and_then(Value::as_f64),
    }
}

fn text_output(s: &str) -> ToolOutput {
    let mut exit_code = None;
    let mut secs = None;
    let mut body = None;
    let mut offset = 0;
    for line in s.split_inclusive('\n') {
        let l = line.trim_end();
        offset += line.len();
        if let Some(c) = l.strip_prefix("Process exited with code ") {
            exit_code = c.trim().parse().ok();
        } else if let Some(t) = l.strip_prefix("Wall time: ") {
            secs = t.trim_end_matches("seconds").trim().parse().ok();
        } else if l == "Output:" {
            body = Some(&s[offset..]);
            break;
        }
    }
    ToolOutput {
        text: body.unwrap_or(s).to_owned(),
        exit_code,
        secs,
        refused: s.starts_with("unsupported call"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_payloads_are_parsed_tolerantly() {
        let p = parse_notify(
            br#"{"type":"agent-turn-complete","thread-id":"t1","turn-id":"u2","cwd":"/w","input-messages":["hi"],"last-assistant-message":"Done.","new-field":1}"#,
        )
        .expect("parse");
        assert_eq!(p.session_id.as_deref(), Some("t1"));
        assert_eq!(
            p.event,
            HookEvent::Stop {
                last_assistant_message: Some("Done.".into()),
                stop_hook_active: false
            }
        );
        let p = parse_notify(br#"{"type":"approval-requested"}"#).expect("parse");
        assert_eq!(p.event, HookEvent::Unknown);
        assert!(parse_notify(b"\"x\"").is_err());
        assert!(parse_notify(b"{").is_err());
    }

    #[test]
    fn exec_command_output_gives_the_exit_code_duration_and_output() {
        let o = tool_output(&Value::String(
            "Chunk ID: 65a5e1\nWall time: 0.2500 seconds\nProcess exited with code 1\nOriginal token count: 11\nOutput:\ncat: missing.txt: No such file or directory\n".into(),
        ));
        assert_eq!(o.exit_code, Some(1));
        assert_eq!(o.secs, Some(0.25));
        assert_eq!(o.text, "cat: missing.txt: No such file or directory\n");
        assert!(tool_output(&Value::String("unsupported call: apply_patch".into())).refused);
        let o = tool_output(&Value::String("plain text".into()));
        assert_eq!(
            (o.exit_code, o.text.as_str(), o.refused),
            (None, "plain text", false)
        );
    }

    #[test]
    fn apply_patch_bodies_name_their_files() {
        let files = patch_files(
            "*** Begin Patch\n*** Add File: a.txt\n+hello\n*** Update File: src/b.rs\n@@\n-old\n+new\n+more\n*** End Patch",
        );
        assert_eq!(
            files,
            vec![
                ("a.txt".into(), true, 1, 0),
                ("src/b.rs".into(), false, 2, 1)
            ]
        );
    }

    #[test]
    fn the_approval_prompt_and_the_working_line_are_recognised() {
        let rows = [
            "• I'll create the file.",
            "",
            "  $ echo hi > made.txt",
            "",
            "Would you like to run the following command?",
            "",
            "› 1. Yes, proceed (y)",
            "  2. Yes, and don't ask again for this command (a)",
            "  3. No, and tell Codex what to do differently (esc)",
        ];
        let ScreenState::Prompt(p) = classify_screen(&rows, None) else {
            panic!("no prompt")
        };
        assert_eq!(p.tool.as_deref(), Some("shell"));
        assert_eq!(p.detail.as_deref(), Some("echo hi > made.txt"));
        assert_eq!(p.options.len(), 3);
        assert_eq!(p.selected, Some(0));
        let rows = [
            "• Working (3s • esc to interrupt)",
            "",
            "› Ask Codex to do anything",
        ];
        assert!(matches!(
            classify_screen(&rows, None),
            ScreenState::Working { .. }
        ));
        let rows = ["", "› Ask Codex to do anything", "", "  ⏎ send"];
        assert_eq!(classify_screen(&rows, None), ScreenState::WaitingInput);
    }

    /// A recorded screen (the corpus, `paddock-bench record-screens`) as rows.
    fn recorded(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn a_status_line_cut_at_the_terminals_edge_still_means_working() {
        let text = include_str!("../tests/data/codex-working-screen-0.169.0.txt");
        let state = classify_screen(&recorded(text), None);
        let ScreenState::Working { activity: Some(a) } = &state else {
            panic!("not working: {state:?}")
        };
        assert!(a.starts_with("◦ Let me think") && a.ends_with("(2s • esc to interru…"));
        // Longer, the elapsed time and the hint are cut off too.
        let cut = "• Let me think about this carefully, one step after another, weighing each option before I answer, since the question d…";
        let longer: Vec<&str> = recorded(text)
            .into_iter()
            .map(|r| if r.starts_with("◦ Let me") { cut } else { r })
            .collect();
        assert!(matches!(
            classify_screen(&longer, None),
            ScreenState::Working { .. }
        ));
        // The answer that follows wraps: not a status line.
        let answer = [
            "› think it over",
            "",
            "• Here is a long answer, streamed slowly so that the screen shows the agent at work",
            "  for several seconds…",
            "  Worked for 10s • 05:48",
            "",
            "› Ask Codex to do anything",
        ];
        assert_eq!(classify_screen(&answer, None), ScreenState::WaitingInput);
    }

    #[test]
    fn an_answer_still_streaming_is_working_until_the_turn_says_it_ended() {
        // 0.169.0 hides its status line while the answer streams in.
        let text = include_str!("../tests/data/codex-streaming-screen-0.169.0.txt");
        assert_eq!(
            classify_screen(&recorded(text), None),
            ScreenState::Working { activity: None }
        );
        // The end of the turn (as the recording shows it next).
        let ended = text.replacen(
            "farrier who is due next week. That is all.",
            "farrier who is due next week. That is all.\n  Worked for 10s • 05:48",
            1,
        );
        assert_eq!(
            classify_screen(&recorded(&ended), None),
            ScreenState::WaitingInput
        );
        // The slash-command menu's choice is not the user's prompt.
        let text = include_str!("../tests/data/codex-slash-popup-screen-0.169.0.txt");
        assert_eq!(
            classify_screen(&recorded(text), None),
            ScreenState::WaitingInput
        );
        // Shell mode: "! echo hi" typed into the box, not sent.
        let text = include_str!("../tests/data/codex-shell-mode-screen-0.169.0.txt");
        assert_eq!(
            classify_screen(&recorded(text), None),
            ScreenState::WaitingInput
        );
        // Before any turn, the banner is above the input box: waiting, not working.
        let text = include_str!("../tests/data/codex-interrupted-screen-0.169.0.txt");
        let fresh: Vec<&str> = recorded(text)
            .into_iter()
            .filter(|r| !r.starts_with("› start") && !r.starts_with('■'))
            .collect();
        assert_eq!(classify_screen(&fresh, None), ScreenState::WaitingInput);
    }

    #[test]
    fn an_error_above_the_empty_input_box_is_a_failed_turn_until_the_user_types() {
        let text = include_str!("../tests/data/codex-api-error-screen-0.169.0.txt");
        let rows = recorded(text);
        assert_eq!(
            classify_screen(&rows, None),
            ScreenState::Errored {
                message:
                    "We’re currently experiencing high demand, which may cause temporary errors."
                        .into()
            }
        );
        // The user types their next message: waiting for it to be sent.
        let typed = text.replace("› Ask Codex to do anything", "› are you there now?");
        assert_eq!(
            classify_screen(&recorded(&typed), None),
            ScreenState::WaitingInput
        );
        // An interrupt is drawn the same way and is not an error.
        let text = include_str!("../tests/data/codex-interrupted-screen-0.169.0.txt");
        assert_eq!(
            classify_screen(&recorded(text), None),
            ScreenState::WaitingInput
        );
    }
}
