//! Transcript reading state and the history index (migration 2): the cursors of
//! `paddock-agents`' transcript readers, one row per transcript in the history, and the
//! full-text index of prompts and assistant text.
//!
//! Unlike the queued records, these are written synchronously, in one transaction per call
//! ([`crate::Store::commit_transcripts`]): a cursor must never be saved ahead of what it
//! read, nor the index behind it. Call from a blocking context.

use crate::writer::lock;
use crate::{Store, StoreError};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use serde::{Deserialize, Serialize};

/// How far one reader has read one transcript file, and its state there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptCursor {
    /// Who reads: `live` (a running session's insight), `history` (the index), ...
    pub consumer: String,
    pub path: String,
    /// The file's identity when read, to notice it being replaced.
    pub dev: u64,
    pub ino: u64,
    /// Bytes consumed: everything before this offset was read, up to a line's end.
    pub offset: u64,
    /// The file's first bytes (up to 64), to notice it being rewritten.
    pub head: Vec<u8>,
    /// The reader stopped inside a line over its size limit, skipped to its end.
    pub skipping: bool,
    /// The reader's own state at `offset` (JSON), opaque to the store.
    pub state: Option<String>,
    pub updated_ms: i64,
}

/// One transcript in the history: the wire type itself, so the store, the local socket and
/// the endpoint share one definition.
pub use paddock_proto::agent::HistoryEntry as HistorySession;

/// A piece of text to make searchable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryText {
    /// `user` (a prompt) or `assistant`.
    pub role: String,
    pub time_ms: Option<i64>,
    pub text: String,
}

/// What one reader read from one file, saved at once.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptCommit {
    pub cursor: TranscriptCursor,
    /// The file was replaced or truncated: drop what was indexed from it before.
    pub reset: bool,
    /// The transcript's row in the history (replaces the stored one), if this reader keeps it.
    pub session: Option<HistorySession>,
    /// New text to index.
    pub texts: Vec<HistoryText>,
}

/// A full-text search hit (the wire type itself).
pub use paddock_proto::agent::HistoryHit;

/// Which history sessions to list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryQuery {
    pub agent: Option<String>,
    /// Only sessions whose cwd is this.
    pub cwd: Option<String>,
    /// At most this many (the most recently ended first); 0 means 100.
    pub limit: u32,
    pub offset: u32,
}

fn cursor_row(row: &Row<'_>) -> rusqlite::Result<TranscriptCursor> {
    Ok(TranscriptCursor {
        consumer: row.get(0)?,
        path: row.get(1)?,
        dev: row.get::<_, i64>(2)? as u64,
        ino: row.get::<_, i64>(3)? as u64,
        offset: u64::try_from(row.get::<_, i64>(4)?).unwrap_or(0),
        head: row.get(5)?,
        skipping: row.get::<_, i64>(6)? != 0,
        state: row.get(7)?,
        updated_ms: row.get(8)?,
    })
}

const CURSOR_COLUMNS: &str = "consumer, path, dev, ino, offset, head, skipping, state, updated_ms";

pub(crate) fn cursor(
    conn: &Connection,
    consumer: &str,
    path: &str,
) -> rusqlite::Result<Option<TranscriptCursor>> {
    conn.prepare_cached(&format!(
        "SELECT {CURSOR_COLUMNS} FROM transcript_cursors WHERE consumer = ?1 AND path = ?2"
    ))?
    .query_row(params![consumer, path], cursor_row)
    .optional()
}

/// Every cursor of `consumer`, without their states (which can be large).
pub(crate) fn cursors(
    conn: &Connection,
    consumer: &str,
) -> rusqlite::Result<Vec<TranscriptCursor>> {
    let mut stmt = conn.prepare_cached(
        "SELECT consumer, path, dev, ino, offset, head, skipping, NULL, updated_ms
         FROM transcript_cursors WHERE consumer = ?1 ORDER BY path",
    )?;
    let rows = stmt.query_map(params![consumer], cursor_row)?;
    rows.collect()
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn commit(conn: &mut Connection, commits: &[TranscriptCommit]) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for c in commits {
        let cur = &c.cursor;
        if c.reset {
            tx.prepare_cached("DELETE FROM history_fts WHERE path = ?1")?
                .execute(params![cur.path])?;
        }
        tx.prepare_cached(
            "INSERT INTO transcript_cursors (consumer, path, dev, ino, offset, head, skipping, state, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (consumer, path) DO UPDATE SET dev = excluded.dev, ino = excluded.ino,
               offset = excluded.offset, head = excluded.head, skipping = excluded.skipping,
               state = excluded.state, updated_ms = excluded.updated_ms",
        )?
        .execute(params![
            cur.consumer,
            cur.path,
            cur.dev as i64,
            cur.ino as i64,
            i64_of(cur.offset),
            cur.head,
            cur.skipping as i64,
            cur.state,
            cur.updated_ms
        ])?;
        if let Some(s) = &c.session {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO history_sessions (path, agent, session_id, cwd, title,
                   first_prompt, last_prompt, git_branch, model, tokens_in, tokens_out,
                   tokens_cache_read, tokens_cache_write, cost_usd, prompts, responses,
                   started_ms, ended_ms, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                   ?17, ?18, ?19)",
            )?
            .execute(params![
                s.path,
                s.agent,
                s.session_id,
                s.cwd,
                s.title,
                s.first_prompt,
                s.last_prompt,
                s.git_branch,
                s.model,
                i64_of(s.tokens_in),
                i64_of(s.tokens_out),
                i64_of(s.tokens_cache_read),
                i64_of(s.tokens_cache_write),
                s.cost_usd,
                i64_of(s.prompts),
                i64_of(s.responses),
                s.started_ms,
                s.ended_ms,
                i64_of(s.bytes)
            ])?;
        }
        let mut insert = tx.prepare_cached(
            "INSERT INTO history_fts (text, path, role, time_ms) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for t in &c.texts {
            insert.execute(params![t.text, cur.path, t.role, t.time_ms])?;
        }
    }
    tx.commit()
}

pub(crate) fn forget(conn: &mut Connection, consumer: &str, path: &str) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "DELETE FROM transcript_cursors WHERE consumer = ?1 AND path = ?2",
        params![consumer, path],
    )?;
    if consumer == "history" {
        tx.execute("DELETE FROM history_fts WHERE path = ?1", params![path])?;
        tx.execute(
            "DELETE FROM history_sessions WHERE path = ?1",
            params![path],
        )?;
    }
    tx.commit()
}

const SESSION_COLUMNS: &str = "path, agent, session_id, cwd, title, first_prompt, last_prompt,
    git_branch, model, tokens_in, tokens_out, tokens_cache_read, tokens_cache_write, cost_usd,
    prompts, responses, started_ms, ended_ms, bytes";

fn u(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(row.get::<_, i64>(idx)?).unwrap_or(0))
}

fn session_row(row: &Row<'_>) -> rusqlite::Result<HistorySession> {
    Ok(HistorySession {
        path: row.get(0)?,
        agent: row.get(1)?,
        session_id: row.get(2)?,
        cwd: row.get(3)?,
        title: row.get(4)?,
        first_prompt: row.get(5)?,
        last_prompt: row.get(6)?,
        git_branch: row.get(7)?,
        model: row.get(8)?,
        tokens_in: u(row, 9)?,
        tokens_out: u(row, 10)?,
        tokens_cache_read: u(row, 11)?,
        tokens_cache_write: u(row, 12)?,
        cost_usd: row.get(13)?,
        prompts: u(row, 14)?,
        responses: u(row, 15)?,
        started_ms: row.get(16)?,
        ended_ms: row.get(17)?,
        bytes: u(row, 18)?,
    })
}

pub(crate) fn sessions(
    conn: &Connection,
    q: &HistoryQuery,
) -> rusqlite::Result<Vec<HistorySession>> {
    let limit = if q.limit == 0 { 100 } else { q.limit };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SESSION_COLUMNS} FROM history_sessions
         WHERE (?1 IS NULL OR agent = ?1) AND (?2 IS NULL OR cwd = ?2)
         ORDER BY ended_ms DESC NULLS LAST, path LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = stmt.query_map(params![q.agent, q.cwd, limit, q.offset], session_row)?;
    rows.collect()
}

pub(crate) fn session(conn: &Connection, path: &str) -> rusqlite::Result<Option<HistorySession>> {
    conn.prepare_cached(&format!(
        "SELECT {SESSION_COLUMNS} FROM history_sessions WHERE path = ?1"
    ))?
    .query_row(params![path], session_row)
    .optional()
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The user's search as an FTS5 query. Words are taken literally (each quoted, so `hello.txt`
/// or `a-b` is never read as FTS5 syntax) and must all appear; `"…"` is a phrase; a trailing
/// `*` makes a word (or phrase) a prefix; `OR` between two terms takes either. `Ok(None)`
/// when there is nothing to search for; `Err` (a message for people) for an unclosed `"`.
pub(crate) fn fts_query(words: &str) -> Result<Option<String>, String> {
    let mut parts: Vec<String> = Vec::new();
    let mut last_is_term = false;
    let mut chars = words.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };
        let (text, phrase) = if first == '"' {
            chars.next();
            let mut text = String::new();
            let mut closed = false;
            for c in chars.by_ref() {
                if c == '"' {
                    closed = true;
                    break;
                }
                text.push(c);
            }
            if !closed {
                return Err(format!(
                    "the search `{words}` opens a phrase with `\"` and never closes it; add the \
                     closing `\"` or remove the quote"
                ));
            }
            (text, true)
        } else {
            let mut text = String::new();
            while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '"') {
                text.push(c);
            }
            (text, false)
        };
        let prefix = chars.next_if_eq(&'*').is_some();
        if !phrase && text == "OR" {
            if last_is_term {
                parts.push("OR".into());
                last_is_term = false;
            }
            continue;
        }
        let (body, prefix) = match text.strip_suffix('*') {
            Some(b) if !phrase => (b.trim_end_matches('*').to_owned(), true),
            _ => (text, prefix),
        };
        if body.trim().is_empty() {
            continue;
        }
        parts.push(format!(
            "{}{}",
            quoted(&body),
            if prefix { "*" } else { "" }
        ));
        last_is_term = true;
    }
    if parts.last().is_some_and(|p| p == "OR") {
        parts.pop();
    }
    Ok((!parts.is_empty()).then(|| parts.join(" ")))
}

/// Whether SQLite refused an FTS5 query (a syntax error in the `MATCH` expression).
pub(crate) fn is_fts_syntax_error(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(_, Some(m)) if m.starts_with("fts5:") || m.contains("unterminated string"))
}

/// Hits of an FTS5 `query` (from [`fts_query`]).
pub(crate) fn search(
    conn: &Connection,
    query: &str,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<Vec<HistoryHit>> {
    let limit = if limit == 0 { 50 } else { limit };
    let mut stmt = conn.prepare_cached(
        "SELECT f.path, s.session_id, s.title, s.cwd, f.role, f.time_ms,
                snippet(history_fts, 0, char(2), char(3), '…', 16) -- the proto's SNIPPET_MARKS
         FROM history_fts AS f LEFT JOIN history_sessions AS s ON s.path = f.path
         WHERE history_fts MATCH ?1
         ORDER BY rank LIMIT ?2 OFFSET ?3",
    )?;
    let rows = stmt.query_map(params![query, limit, offset], |row| {
        Ok(HistoryHit {
            path: row.get(0)?,
            session_id: row.get(1)?,
            title: row.get(2)?,
            cwd: row.get(3)?,
            role: row.get(4)?,
            time_ms: row.get(5)?,
            snippet: row.get(6)?,
        })
    })?;
    rows.collect()
}

impl Store {
    /// The cursor of `consumer` on the transcript `path`, with its state.
    pub fn transcript_cursor(
        &self,
        consumer: &str,
        path: &str,
    ) -> Result<Option<TranscriptCursor>, StoreError> {
        self.read("reading a transcript cursor", |c| cursor(c, consumer, path))
    }

    /// Every cursor of `consumer`, without their states.
    pub fn transcript_cursors(&self, consumer: &str) -> Result<Vec<TranscriptCursor>, StoreError> {
        self.read("reading transcript cursors", |c| cursors(c, consumer))
    }

    /// Saves what transcript readers read, in one transaction, on the caller's thread: each
    /// cursor with its state, the history rows and the text to index. Either all of it is
    /// saved or none.
    pub fn commit_transcripts(&self, commits: &[TranscriptCommit]) -> Result<(), StoreError> {
        if commits.is_empty() {
            return Ok(());
        }
        commit(&mut lock(&self.inner.write), commits)
            .map_err(|e| StoreError::sqlite("saving transcript progress", e))
    }

    /// Forgets a transcript (its file is gone): the cursor of `consumer`, and for `history`
    /// its row and its indexed text.
    pub fn forget_transcript(&self, consumer: &str, path: &str) -> Result<(), StoreError> {
        forget(&mut lock(&self.inner.write), consumer, path)
            .map_err(|e| StoreError::sqlite("forgetting a transcript", e))
    }

    /// History sessions matching `q`, the most recently ended first.
    pub fn history_sessions(&self, q: &HistoryQuery) -> Result<Vec<HistorySession>, StoreError> {
        self.read("reading the history", |c| sessions(c, q))
    }

    /// The history row of one transcript.
    pub fn history_session(&self, path: &str) -> Result<Option<HistorySession>, StoreError> {
        self.read("reading the history", |c| session(c, path))
    }

    /// Full-text search over indexed prompts and assistant text, best matches first: every
    /// word of `words` must appear (taken literally, `hello.txt` included); `"…"` is a phrase,
    /// a trailing `*` makes a word a prefix, `OR` between two terms takes either. A search the
    /// engine cannot read (an unclosed `"`) is [`StoreError::BadSearch`].
    pub fn search_history(&self, words: &str, limit: u32) -> Result<Vec<HistoryHit>, StoreError> {
        self.search_history_page(words, limit, 0)
    }

    /// [`Store::search_history`], skipping the first `offset` hits (for paging).
    pub fn search_history_page(
        &self,
        words: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<HistoryHit>, StoreError> {
        let Some(query) = fts_query(words).map_err(StoreError::BadSearch)? else {
            return Ok(Vec::new());
        };
        self.read("searching the history", |c| {
            search(c, &query, limit, offset)
        })
        .map_err(|e| match e {
            StoreError::Sqlite { source, .. } if is_fts_syntax_error(&source) => {
                StoreError::BadSearch(format!(
                    "the search `{words}` cannot be read ({source}); use plain words, \"a phrase\", \
                     word* or a OR b"
                ))
            }
            e => e,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{
        HistoryQuery, HistorySession, HistoryText, Store, TranscriptCommit, TranscriptCursor,
    };

    fn cursor(path: &str, offset: u64) -> TranscriptCursor {
        TranscriptCursor {
            consumer: "history".into(),
            path: path.into(),
            dev: u64::MAX,
            ino: 42,
            offset,
            head: b"{\"type\"".to_vec(),
            skipping: false,
            state: Some("{\"n\":1}".into()),
            updated_ms: 1,
        }
    }

    #[test]
    fn cursors_sessions_and_text_are_saved_together_and_searchable() {
        let store = Store::open_in_memory().expect("open");
        let session = HistorySession {
            path: "/p/a.jsonl".into(),
            agent: "claude".into(),
            session_id: Some("s1".into()),
            title: Some("Fix the parser".into()),
            tokens_in: 10,
            ended_ms: Some(5),
            ..HistorySession::default()
        };
        store
            .commit_transcripts(&[TranscriptCommit {
                cursor: cursor("/p/a.jsonl", 100),
                reset: false,
                session: Some(session.clone()),
                texts: vec![
                    HistoryText {
                        role: "user".into(),
                        time_ms: Some(3),
                        text: "please fix the flaky parser test".into(),
                    },
                    HistoryText {
                        role: "assistant".into(),
                        time_ms: Some(4),
                        text: "The parser drops the last line.".into(),
                    },
                ],
            }])
            .expect("commit");
        let c = store
            .transcript_cursor("history", "/p/a.jsonl")
            .expect("read")
            .expect("cursor");
        assert_eq!(c, cursor("/p/a.jsonl", 100), "u64 identities round-trip");
        assert_eq!(
            store
                .history_sessions(&HistoryQuery::default())
                .expect("list"),
            vec![session]
        );
        let hits = store.search_history("flaky parser", 10).expect("search");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].session_id.as_deref(), Some("s1"));
        assert_eq!(
            hits[0].snippet,
            "please fix the \u{2}flaky\u{3} \u{2}parser\u{3} test"
        );
        // Query syntax in the words is taken literally, not as an error.
        // Words are literal (`AND`, `(` and `a-b` are no syntax); an unclosed quote is a
        // search error that says what to change, never an SQLite failure.
        assert!(store.search_history("parser* AND ( a-b", 10).is_ok());
        match store.search_history("\"flaky parser", 10) {
            Err(crate::StoreError::BadSearch(m)) => assert!(m.contains("closing"), "{m}"),
            other => panic!("an unclosed quote gave {other:?}"),
        }
        let hits = store
            .search_history("\"fix the\" OR zebra pars*", 10)
            .expect("search");
        assert_eq!(hits.len(), 1, "a phrase, OR and a prefix: {hits:?}");
        assert_eq!(store.search_history("parser", 10).expect("search").len(), 2);
        // A reset drops what was indexed from the file before.
        store
            .commit_transcripts(&[TranscriptCommit {
                cursor: cursor("/p/a.jsonl", 0),
                reset: true,
                session: None,
                texts: vec![],
            }])
            .expect("reset");
        assert!(store
            .search_history("parser", 10)
            .expect("search")
            .is_empty());
        store
            .forget_transcript("history", "/p/a.jsonl")
            .expect("forget");
        assert!(store
            .history_sessions(&HistoryQuery::default())
            .expect("list")
            .is_empty());
        assert!(store
            .transcript_cursor("history", "/p/a.jsonl")
            .expect("read")
            .is_none());
    }
}
