//! What every agent's transcript reader keeps alike ([`crate::claude::transcript`] for Claude
//! Code, [`crate::codex::CodexRollout`] for Codex, [`crate::aider::AiderHistory`] for Aider):
//! the session's facts, its prompts, the
//! recent tool calls and the changed files, the reasoning, the time span, the lines skipped
//! and the searchable text; and the [`SessionInsight`] they make. Each reader adds what only
//! its agent writes (todo lists, tokens counted per response or as running totals, titles).
//!
//! A reader holds one [`SessionRecord`] under `#[serde(flatten)]`: its saved state keeps the
//! same fields as before the record was shared, so a saved cursor still resumes.

use crate::json::str_of;
use paddock_proto::insight::{
    Action, ActionStatus, FileChange, FileOperation, SessionInsight, ThinkingView,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::VecDeque;

/// Actions kept (the most recent).
pub const MAX_ACTIONS: usize = 50;
/// Files kept (the first changed); more are counted by the reader that lists them.
pub const MAX_FILES: usize = 500;

/// The part of a session's reading state that every agent's reader fills the same way.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    pub session_id: Option<String>,
    pub cwd: Option<String>,
    pub git_branch: Option<String>,
    pub model: Option<String>,
    pub version: Option<String>,
    pub current_task: Option<String>,
    pub first_prompt: Option<String>,
    pub prompts: u64,
    pub actions: VecDeque<Action>,
    pub total_actions: u64,
    pub files: Vec<FileChange>,
    /// The latest reasoning and when it was written.
    pub reasoning: Option<(String, Option<u64>)>,
    pub started_ms: Option<u64>,
    pub last_ms: Option<u64>,
    pub skipped_lines: u64,
    /// Searchable text read since the last take: `(role, time ms, text)`.
    #[serde(skip)]
    pub new_texts: Vec<(String, Option<u64>, String)>,
}

impl SessionRecord {
    /// One line of a JSON-lines transcript (without its newline) as a JSON object; `None` for
    /// a blank line, and for a line that is not an object (counted as skipped).
    pub fn decode_line(&mut self, line: &[u8]) -> Option<Value> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(v) if v.is_object() => Some(v),
            Ok(_) | Err(_) => {
                self.skipped_lines += 1;
                tracing::debug!("skipping a transcript line that is not a JSON object");
                None
            }
        }
    }

    /// The time of a record (its `timestamp`), widening the session's span to hold it.
    pub fn note_time(&mut self, v: &Value) -> Option<u64> {
        let ts = str_of(v, "timestamp").and_then(crate::claude::transcript::parse_time)?;
        self.started_ms = Some(self.started_ms.map_or(ts, |s| s.min(ts)));
        self.last_ms = Some(self.last_ms.map_or(ts, |l| l.max(ts)));
        Some(ts)
    }

    /// Counts a line skipped by the reader (over the size limit).
    pub fn note_skipped(&mut self, n: u64) {
        self.skipped_lines += n;
    }

    pub fn take_new_texts(&mut self) -> Vec<(String, Option<u64>, String)> {
        std::mem::take(&mut self.new_texts)
    }

    /// A prompt the user typed (already cut to size): it becomes the current task.
    pub fn prompt(&mut self, text: String, ts: Option<u64>) {
        self.prompts += 1;
        if self.first_prompt.is_none() {
            self.first_prompt = Some(text.clone());
        }
        self.new_texts.push(("user".into(), ts, text.clone()));
        self.current_task = Some(text);
    }

    /// A tool call made, running until [`SessionRecord::finish_action`].
    pub fn start_action(
        &mut self,
        id: Option<String>,
        tool: String,
        input_summary: String,
        ts: Option<u64>,
    ) {
        self.total_actions += 1;
        self.actions.push_back(Action {
            id,
            tool,
            input_summary,
            status: ActionStatus::Running,
            result_summary: None,
            error: None,
            started_at_ms: ts,
            duration_ms: None,
        });
        if self.actions.len() > MAX_ACTIONS {
            self.actions.pop_front();
        }
    }

    /// The tool call `id` among the recent actions, marked finished (failed or succeeded) at
    /// `ts`, lasting `tool_ms` when the tool said, else since it started; `None` once it has
    /// left the list.
    pub fn finish_action(
        &mut self,
        id: &str,
        failed: bool,
        tool_ms: Option<u64>,
        ts: Option<u64>,
    ) -> Option<&mut Action> {
        let a = self
            .actions
            .iter_mut()
            .rev()
            .find(|a| a.id.as_deref() == Some(id))?;
        a.status = if failed {
            ActionStatus::Failed
        } else {
            ActionStatus::Succeeded
        };
        a.duration_ms = tool_ms.or_else(|| match (a.started_at_ms, ts) {
            (Some(s), Some(e)) if e >= s => Some(e - s),
            _ => None,
        });
        Some(a)
    }

    /// The entry for `path` in the list of changed files, added (as created or modified) when
    /// the list has none yet, its change counted (`added` and `removed` lines at `ts`);
    /// `None` for a new file once the list holds [`MAX_FILES`].
    pub fn change_file(
        &mut self,
        path: String,
        created: bool,
        (added, removed): (u64, u64),
        ts: Option<u64>,
    ) -> Option<&mut FileChange> {
        let i = match self.files.iter().position(|f| f.path == path) {
            Some(i) => i,
            None if self.files.len() >= MAX_FILES => return None,
            None => {
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
                self.files.len() - 1
            }
        };
        let file = self.files.get_mut(i)?;
        file.changes += 1;
        file.lines_added += added;
        file.lines_removed += removed;
        file.last_changed_at_ms = ts;
        Some(file)
    }

    /// The insight's fields this record holds; the reader fills in the rest (title,
    /// progress, tokens, cost, responses, the rest of the thinking view).
    pub fn insight(&self) -> SessionInsight {
        SessionInsight {
            agent_session_id: self.session_id.clone(),
            current_task: self.current_task.clone(),
            first_prompt: self.first_prompt.clone(),
            cwd: self.cwd.clone(),
            git_branch: self.git_branch.clone(),
            model: self.model.clone(),
            agent_version: self.version.clone(),
            recent_actions: self.actions.iter().cloned().collect(),
            total_actions: self.total_actions,
            files_modified: self.files.clone(),
            thinking: ThinkingView {
                current_reasoning: self.reasoning.as_ref().map(|(r, _)| r.clone()),
                reasoning_at_ms: self.reasoning.as_ref().and_then(|(_, t)| *t),
                ..ThinkingView::default()
            },
            prompts: self.prompts,
            started_at_ms: self.started_ms,
            last_activity_ms: self.last_ms,
            skipped_lines: self.skipped_lines,
            ..SessionInsight::default()
        }
    }
}
