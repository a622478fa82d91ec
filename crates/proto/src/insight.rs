//! What Paddock knows about a session from its agent's transcript: the current task, recent
//! actions, files modified, progress, the thinking view, tokens and cost.
//!
//! Built by `paddock-agents` (one transcript reader per agent), carried by the supervisor's
//! `session_update` / `thinking_update` events and the REST endpoint, exported to TypeScript
//! for the UI. Times are unix milliseconds; money is US dollars.

use serde::{Deserialize, Serialize};

/// Everything read from one session's transcript.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct SessionInsight {
    /// The agent's own session id (Claude Code: a UUID), from the transcript.
    pub agent_session_id: Option<String>,
    /// The session's title when the agent wrote one (an AI title, a custom title, a summary).
    pub title: Option<String>,
    /// The last prompt the user gave: what the agent is working on.
    pub current_task: Option<String>,
    /// The first prompt of the session.
    pub first_prompt: Option<String>,
    pub cwd: Option<String>,
    pub git_branch: Option<String>,
    /// The model of the latest response.
    pub model: Option<String>,
    /// The agent's version that wrote the latest record.
    pub agent_version: Option<String>,
    /// The latest actions, oldest first (at most a few dozen).
    pub recent_actions: Vec<Action>,
    /// Tool calls seen in the whole transcript.
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub total_actions: u64,
    /// Files the agent changed, in the order first changed.
    pub files_modified: Vec<FileChange>,
    /// The agent's own todo/task list, when it keeps one.
    pub progress: Option<Progress>,
    pub thinking: ThinkingView,
    pub tokens: TokenUsage,
    pub cost: Cost,
    /// User prompts in the transcript.
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub prompts: u64,
    /// Distinct model responses in the transcript.
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub responses: u64,
    /// Time of the first and the latest record.
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub started_at_ms: Option<u64>,
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub last_activity_ms: Option<u64>,
    /// Lines that could not be read (not JSON, cut, over the size limit): skipped, counted.
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub skipped_lines: u64,
}

/// One tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct Action {
    /// The agent's id of the call.
    pub id: Option<String>,
    /// `Bash`, `Edit`, `Write`, an MCP tool, ...
    pub tool: String,
    /// One line saying what it does: the command, the file, the URL.
    pub input_summary: String,
    pub status: ActionStatus,
    /// One line of what came back (the output's first line, "12 lines", ...).
    pub result_summary: Option<String>,
    /// What went wrong, when the call failed.
    pub error: Option<String>,
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub started_at_ms: Option<u64>,
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub duration_ms: Option<u64>,
}

/// Where a tool call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Called; no result yet.
    Running,
    Succeeded,
    Failed,
}

/// How a file was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileOperation {
    /// Written where no file was.
    Created,
    /// Edited in place, or overwritten.
    Modified,
}

/// One file the agent changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct FileChange {
    pub path: String,
    pub operation: FileOperation,
    /// Successful changes to the file.
    pub changes: u32,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub lines_added: u64,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub lines_removed: u64,
    /// The changes as unified-diff hunks, when the transcript has them (cut at a size limit;
    /// `diff_truncated` says so).
    pub diff: Option<String>,
    pub diff_truncated: bool,
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub last_changed_at_ms: Option<u64>,
}

/// Progress through the agent's own todo/task list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct Progress {
    pub done: u32,
    pub total: u32,
    /// The items, in the agent's order.
    pub items: Vec<TodoItem>,
    /// When the remaining items might be done, if work goes on at the pace so far. Only an
    /// estimate; absent until at least one item is done.
    pub estimate: Option<CompletionEstimate>,
}

/// An estimated completion time. It is an extrapolation, never a promise: UIs must show it
/// as an estimate ("about 4 min left").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct CompletionEstimate {
    /// Always true: this value is an estimate.
    pub is_estimate: bool,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub estimated_completion_ms: u64,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub remaining_ms: u64,
    /// How it was computed, for people: "3 of 7 done in 6 min (2 min each)".
    pub basis: String,
}

/// One item of the agent's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct TodoItem {
    pub id: Option<String>,
    pub content: String,
    pub status: TodoStatus,
    /// The agent's present-tense label while in progress ("Running the tests").
    pub active_form: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TodoStatus {
    Pending,
    InProgress,
    Completed,
}

/// The thinking view: what the agent reasons about and plans.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ThinkingView {
    /// The latest reasoning the agent wrote (its latest thinking block; cut at a size limit).
    pub current_reasoning: Option<String>,
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub reasoning_at_ms: Option<u64>,
    /// What it plans next: its in-progress and pending todo items, in order.
    pub next_actions: Vec<String>,
    /// A few lines on where the session stands (task, work done, context size), or the
    /// agent's own summary after a compaction.
    pub context_summary: Option<String>,
    /// The points the latest reasoning weighs, when it lists them.
    pub decision_factors: Vec<String>,
}

/// Tokens, counted once per model response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct TokenUsage {
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub input: u64,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub output: u64,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub cache_creation: u64,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub cache_read: u64,
    /// The context size of the latest response (its input, cache read and cache creation).
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub context: u64,
    /// The same counts per model, for pricing.
    pub by_model: Vec<ModelUsage>,
}

/// Tokens of one model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ModelUsage {
    pub model: String,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub input: u64,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub output: u64,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub cache_creation: u64,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub cache_read: u64,
}

/// What the session cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct Cost {
    /// Tokens × the price table, for the models it knows.
    pub estimated_usd: f64,
    /// Models whose tokens the price table does not price (not in `estimated_usd`).
    pub unpriced_models: Vec<String>,
    /// What the agent itself reported, when it writes its cost (Claude Code's `cost-state`).
    pub reported_usd: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insight_round_trips_through_json_in_snake_case() {
        let insight = SessionInsight {
            agent_session_id: Some("s".into()),
            current_task: Some("fix the parser".into()),
            recent_actions: vec![Action {
                id: Some("t1".into()),
                tool: "Bash".into(),
                input_summary: "cargo test".into(),
                status: ActionStatus::Failed,
                result_summary: None,
                error: Some("exit 101".into()),
                started_at_ms: Some(1),
                duration_ms: Some(2),
            }],
            files_modified: vec![FileChange {
                path: "src/lib.rs".into(),
                operation: FileOperation::Created,
                changes: 1,
                lines_added: 3,
                lines_removed: 0,
                diff: Some("+a\n".into()),
                diff_truncated: false,
                last_changed_at_ms: None,
            }],
            progress: Some(Progress {
                done: 1,
                total: 2,
                items: vec![TodoItem {
                    id: None,
                    content: "write it".into(),
                    status: TodoStatus::InProgress,
                    active_form: Some("Writing it".into()),
                }],
                estimate: Some(CompletionEstimate {
                    is_estimate: true,
                    estimated_completion_ms: 10,
                    remaining_ms: 5,
                    basis: "estimate".into(),
                }),
            }),
            cost: Cost {
                estimated_usd: 0.5,
                unpriced_models: vec!["m".into()],
                reported_usd: Some(0.4),
            },
            ..SessionInsight::default()
        };
        let json = serde_json::to_value(&insight).expect("serialize");
        assert_eq!(json["recent_actions"][0]["status"], "failed");
        assert_eq!(json["files_modified"][0]["operation"], "created");
        assert_eq!(json["progress"]["items"][0]["status"], "in_progress");
        assert_eq!(json["progress"]["estimate"]["is_estimate"], true);
        let back: SessionInsight = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, insight);
    }
}

/// A page of a session's raw transcript (`GET /api/v1/sessions/{id}/transcript`): whole
/// lines as the agent wrote them, addressed by byte offset so a reader can follow the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct TranscriptPage {
    /// The transcript file.
    pub path: String,
    /// Byte offset of the first line returned.
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub from: u64,
    /// Offset just after the last whole line returned: ask again with `after` = this for
    /// what comes next.
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub next: u64,
    /// The file's size when it was read.
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub size: u64,
    /// Each line parsed as JSON; a line that is not JSON comes as a string.
    #[cfg_attr(feature = "wire", schema(value_type = Vec<Object>))]
    pub lines: Vec<serde_json::Value>,
}
