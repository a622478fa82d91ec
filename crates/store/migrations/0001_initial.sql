-- Migration 1: every table of the first issue, including the ones later issues fill
-- (devices, audit_log), so that those only add columns.
--
-- Conventions: times are INTEGER unix milliseconds in columns named *_ms; JSON is TEXT
-- checked with json_valid; tables are STRICT. Session ids in processes, activity_logs and
-- metric_samples are deliberately not foreign keys: records arrive from independent sources
-- in any order (a process may be seen before its session is known) and must never be
-- refused for that; retention deletes each table by its own times.

CREATE TABLE sessions (
    id               TEXT NOT NULL PRIMARY KEY,
    agent            TEXT NOT NULL,
    backend          TEXT NOT NULL,           -- holder | tmux | external
    name             TEXT,
    cwd              TEXT,
    pid              INTEGER,
    state            TEXT NOT NULL,
    title            TEXT,
    started_ms       INTEGER NOT NULL,
    ended_ms         INTEGER,                 -- NULL while the session lives
    tokens_in        INTEGER NOT NULL DEFAULT 0,
    tokens_out       INTEGER NOT NULL DEFAULT 0,
    cost_usd         REAL NOT NULL DEFAULT 0,
    last_activity_ms INTEGER,
    extra            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(extra))
) STRICT;

CREATE INDEX sessions_ended ON sessions (ended_ms) WHERE ended_ms IS NOT NULL;

CREATE TABLE processes (
    pid           INTEGER NOT NULL,
    start_ms      INTEGER NOT NULL,           -- with pid, identifies a process across pid reuse
    command       TEXT NOT NULL,
    args          TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(args)),
    cwd           TEXT,
    session_id    TEXT,
    agent         TEXT,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL,
    exit_code     INTEGER,
    PRIMARY KEY (pid, start_ms)
) STRICT;

CREATE INDEX processes_session ON processes (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX processes_last_seen ON processes (last_seen_ms);

CREATE TABLE activity_logs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a safe paging cursor
    time_ms    INTEGER NOT NULL,
    session_id TEXT,
    level      TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL,
    details    TEXT CHECK (details IS NULL OR json_valid(details))
) STRICT;

CREATE INDEX activity_time ON activity_logs (time_ms);
CREATE INDEX activity_session_time ON activity_logs (session_id, time_ms)
    WHERE session_id IS NOT NULL;

-- One row per target, tier and instant (tier 0) or bucket start (tiers 1 and 2). Rows hold
-- sums and a count rather than averages, so that adding a sample to a bucket is one UPSERT
-- and the average is exact: average = *_sum / samples (host_* / host_samples).
CREATE TABLE metric_samples (
    target_kind    TEXT NOT NULL CHECK (target_kind IN ('host', 'session')),
    target_id      TEXT NOT NULL DEFAULT '',  -- the session id; '' for the host
    tier           INTEGER NOT NULL CHECK (tier IN (0, 1, 2)),  -- 0 raw, 1 = 1 min, 2 = 10 min
    t_ms           INTEGER NOT NULL,
    samples        INTEGER NOT NULL,
    cpu_sum        REAL NOT NULL,             -- percent of one core
    cpu_max        REAL NOT NULL,
    rss_sum        INTEGER NOT NULL,          -- bytes
    rss_max        INTEGER NOT NULL,
    host_samples   INTEGER NOT NULL DEFAULT 0,
    mem_total_sum  INTEGER NOT NULL DEFAULT 0,
    swap_used_sum  INTEGER NOT NULL DEFAULT 0,
    load1_sum      REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (target_kind, target_id, tier, t_ms)
) STRICT, WITHOUT ROWID;

CREATE INDEX metric_samples_tier_time ON metric_samples (tier, t_ms);

-- What each tier still covers: rows wholly older than pruned_before_ms may have been
-- deleted, so a query reaching further back must use a coarser tier.
CREATE TABLE metric_tiers (
    tier             INTEGER NOT NULL PRIMARY KEY,
    bucket_ms        INTEGER NOT NULL,
    pruned_before_ms INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO metric_tiers (tier, bucket_ms) VALUES (0, 1), (1, 60000), (2, 600000);

CREATE TABLE devices (
    id           TEXT NOT NULL PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,               -- admin | operator | viewer | guest
    token_hash   TEXT NOT NULL UNIQUE,
    created_ms   INTEGER NOT NULL,
    last_seen_ms INTEGER,
    revoked_ms   INTEGER                      -- NULL while the device may connect
) STRICT;

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms   INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    device_id TEXT REFERENCES devices (id) ON DELETE SET NULL,
    action    TEXT NOT NULL,
    target    TEXT,
    result    TEXT NOT NULL,
    details   TEXT CHECK (details IS NULL OR json_valid(details))
) STRICT;

CREATE INDEX audit_log_time ON audit_log (time_ms);
CREATE INDEX audit_log_device ON audit_log (device_id) WHERE device_id IS NOT NULL;
