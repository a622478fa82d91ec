//! Everything Paddock reads from the AI coding agents it supervises, behind one [`Adapter`]
//! trait with one module per agent: [`claude`] (Claude Code), [`generic`] (any terminal
//! program, by configurable screen patterns), and the agent detection of
//! [`detect`] (the classification rules live in `paddock-monitor`, which the process scanner
//! shares; this crate re-exports them rather than keeping a second copy).
//!
//! Called by the supervisor (`paddock-core`): it picks the adapter of a session with
//! [`adapter_for`] and then feeds it what it observes:
//!
//! - **hooks**: the JSON an agent's hook sends on stdin (`paddock hook`), parsed by
//!   [`Adapter::parse_hook`] into a typed [`HookEvent`] inside a [`HookPayload`];
//!   [`HookEvent::state_hint`] says what the event means for the session's state, and
//!   [`claude::hooks::permission_decision_json`] writes Claude Code's answer to a
//!   permission request;
//! - **status files**: Claude Code's `~/.claude/sessions/<pid>.json`
//!   ([`claude::status::StatusFile`], [`claude::ClaudePaths::status_files`]);
//! - **the screen**: the text rows of the session's terminal model, classified by
//!   [`Adapter::classify_screen`] into a [`ScreenState`] (a permission prompt with its tool and
//!   command, working, waiting at the input prompt, idle).
//!
//! Parsing is tolerant by design: unknown fields are ignored, missing ones are `None`,
//! unknown hook events are kept raw ([`HookEvent::Unknown`]); what cannot be read at all is a
//! [`AgentError`] that says what was wrong, never a panic. A new version of an agent's CLI
//! should be a change to that agent's module only.
//!
//! Everything here is synchronous and does no I/O except where a function takes a path
//! (status files, transcripts); call those from a blocking context.
#![forbid(unsafe_code)]

pub mod claude;
pub mod codex;
mod error;
pub mod generic;
pub mod history;
pub mod hook;
pub mod live;
pub mod prices;
pub mod screen;
pub mod tail;

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

/// The adapter for an agent kind: Claude Code's for [`AgentKind::Claude`], the generic one
/// (default prompt patterns) for every other kind until its own module exists.
pub fn adapter_for(kind: &AgentKind) -> Arc<dyn Adapter> {
    match kind {
        AgentKind::Claude => Arc::new(claude::Claude),
        AgentKind::Codex => Arc::new(codex::Codex),
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
