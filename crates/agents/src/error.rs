//! The crate's errors. Each says what was wrong with the input and what happens next.

use std::path::PathBuf;

/// Why something an agent wrote could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    #[error("{agent} has no hooks; its state comes from its screen and its files")]
    NoHooks { agent: String },

    #[error(
        "the hook payload is not a JSON object ({reason}); the event was ignored and the \
         session's state comes from its other signals"
    )]
    BadHookPayload { reason: String },

    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path} is not a valid {what} ({reason}); it was skipped")]
    BadFile {
        path: PathBuf,
        what: &'static str,
        reason: String,
    },

    #[error(
        "{path} changed under the reader (it was cut or rewritten); its conversation is read \
         again from its end: ask for the newest page again"
    )]
    Rewritten { path: PathBuf },

    #[error(
        "Paddock cannot read {agent}'s transcripts; its state comes from its screen and process"
    )]
    NoTranscript { agent: String },

    #[error("cannot save a transcript reader's state ({reason}); it is kept in memory and saved again later")]
    State { reason: String },

    #[error("cannot save transcript progress in the store: {reason}")]
    Store { reason: String },

    #[error("the pattern {pattern:?} is not a valid regular expression: {reason}")]
    BadPattern { pattern: String, reason: String },
}
