//! A session's conversation, agent-neutral: turns of a user's prompt and what the agent did
//! for it (its text in markdown, its thinking, tool calls with their input, result and
//! duration, edits with their diffs, sub-agent runs, API errors, interruptions, compactions),
//! with each turn's tokens and cost.
//!
//! Built by `paddock-agents` (`conversation`) from Claude Code transcripts (sub-agent files
//! included), Codex rollouts and Aider's chat history; served by the endpoint a page of turns
//! at a time (newest first, by cursor) and one turn whole, and pushed live as turns are
//! written; exported to TypeScript for the UI. Times are unix milliseconds; money is US
//! dollars.

use crate::insight::ModelUsage;
use serde::{Deserialize, Serialize};

/// One turn: what the user asked (or what woke the agent) and everything the agent did until
/// it waited again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct Turn {
    /// The turn's key and the cursor of pages: where its first line ends in the agent's file
    /// (a byte offset). Later turns have larger keys; a key never changes as the file grows.
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub index: u64,
    /// The user's prompt as typed (a slash command as `/name args`); `None` for a turn the
    /// agent started itself (a sub-agent finished, the session resumed).
    pub prompt: Option<String>,
    /// What happened, in order.
    pub items: Vec<Item>,
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub started_at_ms: Option<u64>,
    /// Time of the turn's latest record.
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub last_at_ms: Option<u64>,
    /// Tokens of the turn's model responses, per model (each response counted once).
    pub tokens: Vec<ModelUsage>,
    /// The turn's cost estimated from the price table (0 when every model is unpriced).
    pub cost_usd: f64,
    /// Models the price table does not know (their tokens are not in `cost_usd`).
    pub unpriced_models: Vec<String>,
    /// The agent ended the turn with a question for the user (its last text ends with `?`):
    /// the question's sentence.
    pub question: Option<String>,
    /// Something in the page form of this turn was cut (a long output, a long text): ask for
    /// the turn whole to see everything.
    pub cut: bool,
}

/// One thing that happened in a turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Item {
    /// The agent's words, markdown.
    Text { text: String },
    /// The agent's reasoning (shown folded).
    Thinking { text: String },
    /// A tool call and, once it came, its result.
    Tool(Box<ToolCall>),
    /// The model API failed (the agent says so and stops the turn).
    ApiError {
        #[cfg_attr(feature = "wire", ts(type = "number | null"))]
        status: Option<u64>,
        message: String,
    },
    /// The user interrupted the agent.
    Interrupted,
    /// The agent compacted its context (the earlier conversation is summarized for it; this
    /// view keeps it).
    Compaction {
        /// `manual` (`/compact`) or `auto`.
        trigger: Option<String>,
        #[cfg_attr(feature = "wire", ts(type = "number | null"))]
        tokens_before: Option<u64>,
    },
    /// Something the agent's program printed or noted for the user (a command's output, a
    /// background task that finished).
    Notice { text: String },
}

/// One tool call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ToolCall {
    /// The agent's id of the call.
    pub id: String,
    pub tool: String,
    /// One line saying what it does (the command, the file, the pattern).
    pub summary: String,
    /// The input as the agent gave it.
    pub input: serde_json::Value,
    pub status: ToolStatus,
    /// The result's text (cut in pages; see [`Turn::cut`]).
    pub output: Option<String>,
    /// The result's length in characters, when `output` was cut.
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub output_chars: Option<u64>,
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub duration_ms: Option<u64>,
    /// A file edit's unified diff (`@@` hunks, `+`/`-`/` ` lines), with its path.
    pub diff: Option<FileDiff>,
    /// The questions the tool asks the user (Claude Code's AskUserQuestion), with the answers
    /// once given.
    pub questions: Vec<Question>,
    /// A sub-agent's run (Claude Code's Agent/Task tool): what it did, grouped under the call.
    #[cfg_attr(feature = "wire", schema(no_recursion))]
    pub subagent: Option<SubAgentRun>,
}

/// Where a tool call is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ToolStatus {
    #[default]
    Running,
    Succeeded,
    Failed,
}

/// A file edit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct FileDiff {
    pub path: String,
    /// The file did not exist before.
    pub created: bool,
    pub diff: String,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub added: u64,
    #[cfg_attr(feature = "wire", ts(type = "number"))]
    pub removed: u64,
}

/// A question an agent asks with choices (Claude Code's AskUserQuestion).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct Question {
    pub question: String,
    /// A short label for it ("Colour").
    pub header: Option<String>,
    pub options: Vec<QuestionOption>,
    /// Several options may be chosen (the answer joins them with ", ").
    pub multi_select: bool,
    /// The answer given, once given.
    pub answer: Option<String>,
}

/// One choice of a [`Question`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct QuestionOption {
    pub label: String,
    pub description: Option<String>,
}

/// A sub-agent's run, from its own transcript.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct SubAgentRun {
    /// The agent's own id of the run.
    pub agent_id: String,
    /// Its type (`general-purpose`, `Explore`, ...), when known.
    pub agent_type: Option<String>,
    pub description: Option<String>,
    /// What it did, in order (its prompt is the call's input).
    #[cfg_attr(feature = "wire", schema(no_recursion))]
    pub items: Vec<Item>,
}

/// A page of a session's conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ConversationPage {
    /// `claude`, `codex`, `aider`.
    pub agent: String,
    /// The newest turns before the cursor asked for, oldest first (the order they read in).
    pub turns: Vec<Turn>,
    /// The cursor of the page before this one (`before=` it); `None` on the first turns.
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub older: Option<u64>,
    /// Turns in the whole session, once known: `None` while only the newest part of a long
    /// file was read (older pages are read when asked for).
    #[cfg_attr(feature = "wire", ts(type = "number | null"))]
    pub total: Option<u64>,
}
