-- Migration 2: what paddock-agents reads from agents' transcripts.
--
-- transcript_cursors: how far each reader ('live' for a running session's insight,
-- 'history' for the index) has read each transcript file, with the file's identity (device,
-- inode, first bytes) to notice a file replaced or truncated, and the reader's state (JSON,
-- opaque here) so that a restart resumes without reading any line again.
--
-- history_sessions: one row per transcript file (a resumed session writes a new file).
-- history_fts: prompts and assistant text for full-text search (SQLite's FTS5).

CREATE TABLE transcript_cursors (
    consumer   TEXT NOT NULL,
    path       TEXT NOT NULL,
    dev        INTEGER NOT NULL,
    ino        INTEGER NOT NULL,
    offset     INTEGER NOT NULL CHECK (offset >= 0),
    head       BLOB NOT NULL,
    skipping   INTEGER NOT NULL DEFAULT 0,   -- inside a line over the size limit
    state      TEXT CHECK (state IS NULL OR json_valid(state)),
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (consumer, path)
) STRICT;

CREATE TABLE history_sessions (
    path               TEXT NOT NULL PRIMARY KEY,
    agent              TEXT NOT NULL,
    session_id         TEXT,
    cwd                TEXT,
    title              TEXT,
    first_prompt       TEXT,
    last_prompt        TEXT,
    git_branch         TEXT,
    model              TEXT,
    tokens_in          INTEGER NOT NULL DEFAULT 0,
    tokens_out         INTEGER NOT NULL DEFAULT 0,
    tokens_cache_read  INTEGER NOT NULL DEFAULT 0,
    tokens_cache_write INTEGER NOT NULL DEFAULT 0,
    cost_usd           REAL NOT NULL DEFAULT 0,
    prompts            INTEGER NOT NULL DEFAULT 0,
    responses          INTEGER NOT NULL DEFAULT 0,
    started_ms         INTEGER,
    ended_ms           INTEGER,
    bytes              INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX history_sessions_ended ON history_sessions (ended_ms);
CREATE INDEX history_sessions_session ON history_sessions (session_id);

CREATE VIRTUAL TABLE history_fts USING fts5(
    text,
    path UNINDEXED,
    role UNINDEXED,
    time_ms UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);
