//! Everything Paddock reads from the AI coding agents it supervises, behind one [`Adapter`]
//! trait with one module per agent: [`claude`] (Claude Code), [`codex`] (Codex CLI),
//! [`gemini`] (Gemini CLI), [`aider`] (Aider) and [`generic`] (any terminal program, by
//! configurable screen patterns). Agent detection ([`detect`]) re-exports the classification
//! rules of `paddock-monitor`, which the process scanner shares, rather than keeping a copy.
//!
//! Called by the supervisor (`paddock-core`). What it feeds in, and what it gets back:
//!
//! | input | call | output |
//! |---|---|---|
//! | a command line | [`detect`] | [`AgentKind`], then [`adapter_for`] → `Arc<dyn Adapter>` |
//! | a hook's stdin (or Codex's notify argument) | [`Adapter::parse_hook`] | [`HookPayload`] with a typed [`HookEvent`]; [`HookEvent::state_hint`] → [`StateHint`] |
//! | a permission answer | [`claude::hooks::permission_decision_json`] | the JSON the hook prints |
//! | `~/.claude/sessions/<pid>.json` | [`claude::ClaudePaths::status_files`], [`claude::status::StatusFile::read`] | status, `waitingFor`, tmux pane, session id; `state_hint()` |
//! | the screen's text rows | [`Adapter::classify_screen`] | [`ScreenState`]: a prompt (tool, command, options), working, waiting input, idle |
//! | a transcript path (hook `transcript_path`, [`claude::ClaudePaths::find_transcript`], [`codex::CodexPaths::find_rollout`], [`aider::chat_history`]) | [`LiveTranscript::open`] then [`LiveTranscript::poll`] on each change | [`LiveTranscript::insight`] → [`SessionInsight`] (task, actions, files, progress, thinking, tokens, cost) |
//! | which transcripts changed | [`TranscriptWatcher`] (a stat per file per interval) | a callback with the path |
//! | the whole history | [`HistoryIndexer::index_all`] | rows and full-text search in the store (`Store::history_sessions`, `Store::search_history`) |
//!
//! Prices come from a data file ([`Prices::load`]: `data/prices.toml` embedded, plus an
//! override file of the same shape), never from code.
//!
//! Parsing is tolerant by design: unknown fields are ignored, missing ones are `None`,
//! unknown hook events and records are kept raw or skipped and counted; what cannot be read
//! at all is an [`AgentError`] that says what was wrong, never a panic. A new version of an
//! agent's CLI should be a change to that agent's module only.
//!
//! Screen classification and hook parsing are pure. Transcript reading, the history and
//! status files do blocking file and SQLite I/O: call them from a blocking context
//! (`spawn_blocking`, a thread), never directly inside async code.
#![forbid(unsafe_code)]

pub mod aider;
pub mod backward;
pub mod claude;
pub mod codex;
pub mod conversation;
mod error;
pub mod gemini;
pub mod generic;
pub mod history;
mod home;
pub mod hook;
mod json;
pub mod live;
pub mod prices;
mod record;
pub mod screen;
pub mod tail;

pub use conversation::ConversationReader;
pub use error::AgentError;
pub use history::{HistoryIndexer, IndexReport, TranscriptAgent, TranscriptWatcher};
pub use hook::{HookEvent, HookPayload, PermissionSuggestion, StateHint, ToolCall};
pub use live::{LiveTranscript, PollOutcome, TranscriptParser};
pub use paddock_monitor::{classify, classify_with, AgentKind, AgentPattern};
pub use paddock_proto::insight::SessionInsight;
pub use prices::Prices;
pub use screen::{PromptKind, ScreenPrompt, ScreenState};

use std::sync::Arc;

/// One agent's parsing, behind one interface. Get one with [`adapter_for`]; adapters are
/// stateless and cheap to share (`Arc`).
pub trait Adapter: Send + Sync + std::fmt::Debug {
    /// Which agent this adapter reads.
    fn kind(&self) -> AgentKind;

    /// What a terminal screen shows. `rows` are the text rows of the screen from top to
    /// bottom (e.g. `vt100::Screen::rows(0, cols)`, or `contents()` split on `\n`), without
    /// escape sequences. `quiet_for` is how long the terminal has had no output, when known:
    /// adapters that cannot tell "working" from the screen alone (the generic one) use it.
    fn classify_screen(&self, rows: &[&str], quiet_for: Option<std::time::Duration>)
        -> ScreenState;

    /// Parses the JSON payload a hook of this agent received on stdin. Agents without hooks
    /// answer [`AgentError::NoHooks`].
    fn parse_hook(&self, payload: &[u8]) -> Result<HookPayload, AgentError> {
        let _ = payload;
        Err(AgentError::NoHooks {
            agent: self.kind().to_string(),
        })
    }

    /// The bytes that interrupt the agent's current turn when typed into its terminal
    /// (Claude Code: Esc; most programs: Ctrl-C).
    fn interrupt_keys(&self) -> &'static [u8] {
        b"\x03"
    }

    /// The bytes that submit a message typed into the agent's prompt.
    fn submit_keys(&self) -> &'static [u8] {
        b"\r"
    }
}

/// The adapter for an agent kind: its own module's for Claude Code, Codex, Gemini CLI and
/// Aider; the generic one (default prompt patterns) for any other program.
pub fn adapter_for(kind: &AgentKind) -> Arc<dyn Adapter> {
    match kind {
        AgentKind::Claude => Arc::new(claude::Claude),
        AgentKind::Codex => Arc::new(codex::Codex),
        AgentKind::Gemini => Arc::new(gemini::Gemini),
        AgentKind::Aider => Arc::new(aider::Aider),
        other => Arc::new(generic::Generic::new(other.clone())),
    }
}

/// Which agent a command line runs (argv, and the executable when known), by the configured
/// patterns first and then the built-in rules; `None` for an ordinary program.
pub fn detect(
    patterns: &[AgentPattern],
    cmd: &[String],
    exe: Option<&std::path::Path>,
) -> Option<AgentKind> {
    classify_with(patterns, cmd, exe)
}
