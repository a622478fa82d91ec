//! The history: every transcript under `~/.claude/projects` (and Codex's rollouts), indexed
//! into the store (one row per transcript: title, first prompt, cwd, branch, model, tokens,
//! cost, time range; prompts and assistant text in a full-text index).
//!
//! Incremental and bounded: each file is read from its saved offset (a file that did not
//! grow is not even opened), line by line, never more than one line (capped) plus one batch
//! of text in memory; what was read is saved with its offset in one transaction, so a
//! restart never reads a line twice. Blocking I/O: run it on a thread.

use crate::claude::transcript::cut;
use crate::claude::ClaudePaths;
use crate::codex::CodexPaths;
use crate::live::TranscriptParser;
use crate::prices::Prices;
use crate::tail::{read_new_lines, TailPosition, DEFAULT_MAX_LINE};
use crate::AgentError;
use paddock_store::{HistorySession, HistoryText, Store, TranscriptCommit, TranscriptCursor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The store's name for the history's cursors.
pub const HISTORY_CONSUMER: &str = "history";

/// Bytes read from one file before what was read is saved (bounds the text held).
const BATCH_BYTES: u64 = 8 * 1024 * 1024;
/// Characters of one text indexed.
const MAX_INDEXED_TEXT: usize = 4000;
/// Response ids remembered per file for deduplication.
const SEEN: usize = 64;

/// One transcript's reader in the history: Claude Code's lean one, or an agent's full
/// transcript parser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reader", rename_all = "snake_case")]
// One reader exists per file being indexed, one at a time: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Reader {
    Claude(ClaudeHistory),
    Full(Box<TranscriptParser>),
}

impl Reader {
    fn apply_line(&mut self, line: &[u8], texts: &mut Vec<HistoryText>) {
        match self {
            Reader::Claude(h) => h.apply_line(line, texts),
            Reader::Full(p) => {
                p.apply_line(line);
                for (role, time, text) in p.take_new_texts() {
                    texts.push(HistoryText {
                        role,
                        time_ms: time.and_then(|t| i64::try_from(t).ok()),
                        text: cut(&text, MAX_INDEXED_TEXT),
                    });
                }
            }
        }
    }

    fn session(&self, path: &str, bytes: u64, prices: &Prices) -> HistorySession {
        match self {
            Reader::Claude(h) => h.session(path, bytes, prices),
            Reader::Full(p) => {
                let i = p.insight(prices);
                let to_i64 = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok());
                HistorySession {
                    path: path.to_owned(),
                    agent: p.agent().to_owned(),
                    session_id: i.agent_session_id,
                    cwd: i.cwd,
                    title: i
                        .title
                        .or_else(|| i.first_prompt.as_deref().map(|p| cut(p, 80))),
                    first_prompt: i.first_prompt,
                    last_prompt: i.current_task,
                    git_branch: i.git_branch,
                    model: i.model,
                    tokens_in: i.tokens.input,
                    tokens_out: i.tokens.output,
                    tokens_cache_read: i.tokens.cache_read,
                    tokens_cache_write: i.tokens.cache_creation,
                    cost_usd: i.cost.reported_usd.unwrap_or(i.cost.estimated_usd),
                    prompts: i.prompts,
                    responses: i.responses,
                    started_ms: to_i64(i.started_at_ms),
                    ended_ms: to_i64(i.last_activity_ms),
                    bytes,
                }
            }
        }
    }

    fn fresh(&self) -> Reader {
        match self {
            Reader::Claude(_) => Reader::Claude(ClaudeHistory::default()),
            Reader::Full(p) => Reader::Full(Box::new(p.fresh())),
        }
    }
}

/// What one indexing pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexReport {
    /// Transcript files found.
    pub files: u64,
    /// Files that had new lines.
    pub files_read: u64,
    /// Bytes read in this pass.
    pub bytes: u64,
    pub lines: u64,
    /// Files that could not be read (each logged).
    pub failed: u64,
    /// Files read again from their start (truncated or replaced).
    pub resets: u64,
    /// Transcripts removed from the history because their files are gone.
    pub removed: u64,
}

/// Which agent a transcript file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranscriptAgent {
    Claude,
    Codex,
}

/// Indexes transcripts into the store's history.
pub struct HistoryIndexer {
    store: Store,
    prices: Prices,
    claude: Option<ClaudePaths>,
    codex: Option<CodexPaths>,
    max_line: usize,
}

impl std::fmt::Debug for HistoryIndexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistoryIndexer")
            .field("claude", &self.claude)
            .field("codex", &self.codex)
            .finish_non_exhaustive()
    }
}

impl HistoryIndexer {
    /// An indexer writing to `store`, pricing with `prices`, with no roots yet.
    pub fn new(store: Store, prices: Prices) -> HistoryIndexer {
        HistoryIndexer {
            store,
            prices,
            claude: None,
            codex: None,
            max_line: DEFAULT_MAX_LINE,
        }
    }

    /// Indexes Claude Code's transcripts under `paths.projects()`.
    pub fn with_claude(mut self, paths: ClaudePaths) -> Self {
        self.claude = Some(paths);
        self
    }

    /// Indexes Codex's rollouts under `paths.sessions()`.
    pub fn with_codex(mut self, paths: CodexPaths) -> Self {
        self.codex = Some(paths);
        self
    }

    pub fn with_max_line(mut self, max_line: usize) -> Self {
        self.max_line = max_line;
        self
    }

    /// Every transcript file under the roots: `projects/*/*.jsonl` for Claude Code (a
    /// session's subagents, in subfolders, are part of it, not sessions of their own), the
    /// rollouts for Codex.
    pub fn transcript_files(&self) -> Vec<(TranscriptAgent, PathBuf)> {
        let mut out = Vec::new();
        if let Some(c) = &self.claude {
            let mut dirs: Vec<PathBuf> = std::fs::read_dir(c.projects())
                .map(|rd| rd.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            dirs.sort();
            for d in dirs {
                let Ok(rd) = std::fs::read_dir(&d) else {
                    continue;
                };
                let mut files: Vec<PathBuf> = rd
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("jsonl"))
                    .filter(|p| p.is_file())
                    .collect();
                files.sort();
                out.extend(files.into_iter().map(|p| (TranscriptAgent::Claude, p)));
            }
        }
        if let Some(c) = &self.codex {
            out.extend(
                c.rollouts()
                    .into_iter()
                    .map(|p| (TranscriptAgent::Codex, p)),
            );
        }
        out
    }

    /// One pass: reads what is new in every transcript, saves it, and forgets transcripts
    /// whose files are gone.
    pub fn index_all(&self) -> Result<IndexReport, AgentError> {
        let mut report = IndexReport::default();
        let known: HashMap<String, TranscriptCursor> = self
            .store
            .transcript_cursors(HISTORY_CONSUMER)
            .map_err(|e| AgentError::Store {
                reason: e.to_string(),
            })?
            .into_iter()
            .map(|c| (c.path.clone(), c))
            .collect();
        let files = self.transcript_files();
        report.files = files.len() as u64;
        let mut present = std::collections::HashSet::new();
        for (agent, path) in &files {
            let key = path.to_string_lossy().into_owned();
            present.insert(key.clone());
            // A file that has not changed since it was read is not opened.
            if let Some(c) = known.get(&key) {
                if unchanged(path, c) {
                    continue;
                }
            }
            match self.index_file(*agent, path) {
                Ok(r) => {
                    if r.bytes > 0 || r.resets > 0 {
                        report.files_read += 1;
                    }
                    report.bytes += r.bytes;
                    report.lines += r.lines;
                    report.resets += r.resets;
                }
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(error = %e, "a transcript could not be indexed; it is tried again on the next pass");
                }
            }
        }
        for gone in known.keys().filter(|k| !present.contains(*k)) {
            if let Err(e) = self.store.forget_transcript(HISTORY_CONSUMER, gone) {
                tracing::warn!(path = %gone, error = %e, "cannot remove a deleted transcript from the history");
            } else {
                report.removed += 1;
            }
        }
        Ok(report)
    }

    /// Reads what is new in one transcript and saves it (in batches of a few MB).
    pub fn index_file(
        &self,
        agent: TranscriptAgent,
        path: &Path,
    ) -> Result<IndexReport, AgentError> {
        let key = path.to_string_lossy().into_owned();
        let store_err = |e: paddock_store::StoreError| AgentError::Store {
            reason: e.to_string(),
        };
        let fresh = || match agent {
            TranscriptAgent::Claude => Reader::Claude(ClaudeHistory::default()),
            TranscriptAgent::Codex => Reader::Full(Box::new(TranscriptParser::Codex(
                crate::codex::CodexRollout::new(),
            ))),
        };
        let saved = self
            .store
            .transcript_cursor(HISTORY_CONSUMER, &key)
            .map_err(store_err)?;
        let had_cursor = saved.is_some();
        let restored = saved.and_then(|c| {
            let reader = serde_json::from_str::<Reader>(c.state.as_deref()?).ok()?;
            Some((
                TailPosition {
                    dev: c.dev,
                    ino: c.ino,
                    offset: c.offset,
                    head: c.head,
                    skipping: c.skipping,
                },
                reader,
            ))
        });
        // A saved state from another version does not read: index the file again, replacing
        // what was indexed from it.
        let mut reset_pending = had_cursor && restored.is_none();
        let (mut pos, mut reader) = restored.unwrap_or_else(|| (TailPosition::default(), fresh()));
        let mut report = IndexReport::default();
        loop {
            let mut texts = Vec::new();
            let read = {
                let r = &mut reader;
                let t = &mut texts;
                read_new_lines(path, &mut pos, self.max_line, BATCH_BYTES, |line, _| {
                    r.apply_line(line, t)
                })
            }
            .map_err(|source| AgentError::Io {
                path: path.to_owned(),
                source,
            })?;
            if read.reset {
                // Truncated or replaced: what was just read went into the old state. Start
                // over from the first byte with a fresh reader.
                reader = reader.fresh();
                pos = TailPosition::default();
                reset_pending = true;
                report.resets += 1;
                continue;
            }
            if let Reader::Claude(h) = &mut reader {
                h.skipped += read.oversized;
            }
            report.bytes += read.bytes;
            report.lines += read.lines;
            if read.bytes == 0 && !reset_pending {
                break;
            }
            let state = serde_json::to_string(&reader).map_err(|e| AgentError::State {
                reason: e.to_string(),
            })?;
            let commit = TranscriptCommit {
                cursor: TranscriptCursor {
                    consumer: HISTORY_CONSUMER.to_owned(),
                    path: key.clone(),
                    dev: pos.dev,
                    ino: pos.ino,
                    offset: pos.offset,
                    head: pos.head.clone(),
                    skipping: pos.skipping,
                    state: Some(state),
                    updated_ms: paddock_store::UnixMs::now().0,
                },
                reset: reset_pending,
                session: Some(reader.session(&key, pos.offset, &self.prices)),
                texts,
            };
            self.store
                .commit_transcripts(&[commit])
                .map_err(store_err)?;
            reset_pending = false;
            if read.bytes == 0 {
                break;
            }
        }
        Ok(report)
    }
}

/// Whether the file is the one the cursor read, and no longer than what was read.
fn unchanged(path: &Path, c: &TranscriptCursor) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    let same = {
        use std::os::unix::fs::MetadataExt;
        meta.dev() == c.dev && meta.ino() == c.ino
    };
    #[cfg(not(unix))]
    let same = true;
    same && meta.len() == c.offset
}

mod claude;
mod watch;

pub use claude::ClaudeHistory;
pub use watch::TranscriptWatcher;
