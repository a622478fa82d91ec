//! A running session's transcript, followed: [`LiveTranscript`] reads the lines appended
//! since the last call and keeps the session's [`SessionInsight`] up to date, saving its byte
//! offset and state in the store so that a restarted supervisor resumes where it stopped.
//!
//! Blocking file and SQLite I/O: call from a blocking context (`spawn_blocking`, a thread).

use crate::claude::transcript::ClaudeTranscript;
use crate::prices::Prices;
use crate::tail::{read_new_lines, TailPosition, DEFAULT_MAX_LINE};
use crate::{AgentError, AgentKind};
use paddock_proto::insight::SessionInsight;
use paddock_store::{Store, TranscriptCommit, TranscriptCursor};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The store's name for the live readers' cursors.
pub const LIVE_CONSUMER: &str = "live";

/// The state is saved at most this often while lines keep coming (and always by
/// [`LiveTranscript::checkpoint`]); after a crash, at most this much is read again, never
/// counted twice (the offset and the state are saved together).
pub const SAVE_EVERY: Duration = Duration::from_secs(2);

/// Searchable text kept for [`TranscriptParser::take_new_texts`] at most; a caller that never
/// takes it (a live reader) loses the oldest, never grows without bound.
const MAX_PENDING_TEXTS: usize = 4096;

pub(crate) fn bound_texts<T>(texts: &mut Vec<T>) {
    if texts.len() > MAX_PENDING_TEXTS {
        texts.drain(..texts.len() - MAX_PENDING_TEXTS / 2);
    }
}

/// One agent's transcript reader, whichever the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "agent", rename_all = "snake_case")]
// One parser per followed session: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum TranscriptParser {
    Claude(ClaudeTranscript),
    Codex(crate::codex::CodexRollout),
    /// Aider's `.aider.chat.history.md`.
    Aider(crate::aider::AiderHistory),
}

impl TranscriptParser {
    /// The reader for `kind`'s transcripts; `None` when Paddock cannot read them.
    pub fn for_agent(kind: &AgentKind) -> Option<TranscriptParser> {
        match kind {
            AgentKind::Claude => Some(TranscriptParser::Claude(ClaudeTranscript::new())),
            AgentKind::Codex => Some(TranscriptParser::Codex(crate::codex::CodexRollout::new())),
            AgentKind::Aider => Some(TranscriptParser::Aider(crate::aider::AiderHistory::new())),
            _ => None,
        }
    }

    /// A fresh reader of the same agent.
    pub fn fresh(&self) -> TranscriptParser {
        match self {
            TranscriptParser::Claude(_) => TranscriptParser::Claude(ClaudeTranscript::new()),
            TranscriptParser::Codex(_) => {
                TranscriptParser::Codex(crate::codex::CodexRollout::new())
            }
            TranscriptParser::Aider(_) => {
                TranscriptParser::Aider(crate::aider::AiderHistory::new())
            }
        }
    }

    pub fn apply_line(&mut self, line: &[u8]) {
        match self {
            TranscriptParser::Claude(t) => t.apply_line(line),
            TranscriptParser::Codex(t) => t.apply_line(line),
            TranscriptParser::Aider(t) => t.apply_line(line),
        }
    }

    pub fn note_skipped(&mut self, n: u64) {
        match self {
            TranscriptParser::Claude(t) => t.note_skipped(n),
            TranscriptParser::Codex(t) => t.note_skipped(n),
            TranscriptParser::Aider(t) => t.note_skipped(n),
        }
    }

    pub fn insight(&self, prices: &Prices) -> SessionInsight {
        match self {
            TranscriptParser::Claude(t) => t.insight(prices),
            TranscriptParser::Codex(t) => t.insight(prices),
            TranscriptParser::Aider(t) => t.insight(prices),
        }
    }

    /// Searchable text read since the last call: `(role, time ms, text)`.
    pub fn take_new_texts(&mut self) -> Vec<(String, Option<u64>, String)> {
        match self {
            TranscriptParser::Claude(t) => t.take_new_texts(),
            TranscriptParser::Codex(t) => t.take_new_texts(),
            TranscriptParser::Aider(t) => t.take_new_texts(),
        }
    }

    /// Whether the agent is in a turn by its transcript (Claude Code: a prompt whose end was
    /// not written yet; Codex: between `task_started` and `task_complete`); `None` when the
    /// transcript does not say.
    pub fn turn_active(&self) -> Option<bool> {
        match self {
            TranscriptParser::Claude(t) => t.turn_active(),
            TranscriptParser::Codex(t) => Some(t.turn_active()),
            TranscriptParser::Aider(_) => None,
        }
    }

    /// The agent's name as the store keeps it.
    pub fn agent(&self) -> &'static str {
        match self {
            TranscriptParser::Claude(_) => "claude",
            TranscriptParser::Codex(_) => "codex",
            TranscriptParser::Aider(_) => "aider",
        }
    }
}

/// What one [`LiveTranscript::poll`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollOutcome {
    /// Complete new lines read.
    pub lines: u64,
    /// The file had been truncated or replaced: the insight was rebuilt from its start.
    pub reset: bool,
}

/// A running session's transcript, followed.
pub struct LiveTranscript {
    path: PathBuf,
    pos: TailPosition,
    parser: TranscriptParser,
    store: Option<Store>,
    max_line: usize,
    dirty: bool,
    last_save: Option<Instant>,
}

impl std::fmt::Debug for LiveTranscript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveTranscript")
            .field("path", &self.path)
            .field("offset", &self.pos.offset)
            .field("agent", &self.parser.agent())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct SavedState {
    parser: TranscriptParser,
}

impl LiveTranscript {
    /// Starts following `path`, a transcript of `kind`; with a store, resumes from the saved
    /// cursor (a saved state that no longer reads, e.g. written by another Paddock version,
    /// is dropped and the file read again from its start).
    pub fn open(
        kind: &AgentKind,
        path: &Path,
        store: Option<&Store>,
    ) -> Result<LiveTranscript, AgentError> {
        let parser = TranscriptParser::for_agent(kind).ok_or_else(|| AgentError::NoTranscript {
            agent: kind.to_string(),
        })?;
        let mut live = LiveTranscript {
            path: path.to_owned(),
            pos: TailPosition::default(),
            parser,
            store: store.cloned(),
            max_line: DEFAULT_MAX_LINE,
            dirty: false,
            last_save: None,
        };
        if let Some(store) = store {
            let key = path.to_string_lossy();
            match store.transcript_cursor(LIVE_CONSUMER, &key) {
                Ok(Some(c)) => live.restore(c),
                Ok(None) => {}
                Err(e) => tracing::warn!(
                    path = %path.display(), error = %e,
                    "cannot read the saved transcript position; reading the transcript from its start"
                ),
            }
        }
        Ok(live)
    }

    fn restore(&mut self, c: TranscriptCursor) {
        let state = c
            .state
            .as_deref()
            .and_then(|s| serde_json::from_str::<SavedState>(s).ok())
            .filter(|s| s.parser.agent() == self.parser.agent());
        match state {
            Some(s) => {
                self.parser = s.parser;
                self.pos = TailPosition {
                    dev: c.dev,
                    ino: c.ino,
                    offset: c.offset,
                    head: c.head,
                    skipping: c.skipping,
                };
            }
            None => tracing::info!(
                path = %self.path.display(),
                "the saved transcript state does not read with this version; reading the transcript again"
            ),
        }
    }

    /// Sets the longest line read (longer ones are skipped and counted).
    pub fn with_max_line(mut self, max_line: usize) -> Self {
        self.max_line = max_line;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of the file read so far.
    pub fn offset(&self) -> u64 {
        self.pos.offset
    }

    /// Reads what was appended since the last call (every complete line; a partial last line
    /// waits for its end) and saves the position when due. A file that does not exist yet
    /// reads as empty.
    pub fn poll(&mut self) -> Result<PollOutcome, AgentError> {
        let mut out = PollOutcome::default();
        loop {
            let parser = &mut self.parser;
            let read = match read_new_lines(
                &self.path,
                &mut self.pos,
                self.max_line,
                16 * 1024 * 1024,
                |line, _| parser.apply_line(line),
            ) {
                Ok(r) => r,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(source) => {
                    return Err(AgentError::Io {
                        path: self.path.clone(),
                        source,
                    })
                }
            };
            if read.reset {
                // The lines just read belong to the new content: read them again into a
                // fresh parser from the start.
                self.parser = self.parser.fresh();
                self.pos = TailPosition::default();
                out.reset = true;
                out.lines = 0;
                self.dirty = true;
                continue;
            }
            self.parser.note_skipped(read.oversized);
            out.lines += read.lines;
            if read.bytes > 0 {
                self.dirty = true;
            } else {
                break;
            }
        }
        // The history indexer owns the searchable text; the live reader drops its copy.
        self.parser.take_new_texts();
        if self.dirty && self.last_save.is_none_or(|t| t.elapsed() >= SAVE_EVERY) {
            self.checkpoint()?;
        }
        Ok(out)
    }

    /// Saves the position and state now (when anything changed since the last save).
    pub fn checkpoint(&mut self) -> Result<(), AgentError> {
        let Some(store) = &self.store else {
            self.dirty = false;
            return Ok(());
        };
        if !self.dirty {
            return Ok(());
        }
        let state = serde_json::to_string(&SavedState {
            parser: self.parser.clone(),
        })
        .map_err(|e| AgentError::State {
            reason: e.to_string(),
        })?;
        let commit = TranscriptCommit {
            cursor: TranscriptCursor {
                consumer: LIVE_CONSUMER.to_owned(),
                path: self.path.to_string_lossy().into_owned(),
                dev: self.pos.dev,
                ino: self.pos.ino,
                offset: self.pos.offset,
                head: self.pos.head.clone(),
                skipping: self.pos.skipping,
                state: Some(state),
                updated_ms: paddock_store::UnixMs::now().0,
            },
            reset: false,
            session: None,
            texts: Vec::new(),
        };
        store
            .commit_transcripts(&[commit])
            .map_err(|e| AgentError::Store {
                reason: e.to_string(),
            })?;
        self.dirty = false;
        self.last_save = Some(Instant::now());
        Ok(())
    }

    /// What the transcript says so far.
    pub fn insight(&self, prices: &Prices) -> SessionInsight {
        self.parser.insight(prices)
    }

    /// Whether the agent is in a turn by its transcript (see [`TranscriptParser::turn_active`]).
    pub fn turn_active(&self) -> Option<bool> {
        self.parser.turn_active()
    }
}

impl Drop for LiveTranscript {
    fn drop(&mut self) {
        if let Err(e) = self.checkpoint() {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot save the transcript position");
        }
    }
}
