//! Paddock's store: the SQLite history of sessions, processes, activity and metrics (and,
//! for later issues, paired devices and the audit log).
//!
//! Used by the supervisor (`paddock-core`), which opens one [`Store`] in its data directory
//! and hands clones to its components. Writes are queued and committed by a writer thread in
//! batches (every 200 ms or 500 records), so callers never wait on SQLite; reads and
//! [`Store::enforce_retention`] run on the caller's thread, so call them from a blocking
//! context (`tokio::task::spawn_blocking`), never directly inside async code.
//!
//! The database runs in WAL mode with `synchronous=NORMAL`: a crash of Paddock (even
//! `SIGKILL`) loses nothing that was committed, a power loss may lose the last commits but
//! never corrupts the file. Its schema is in `migrations/` (numbered `.sql` files embedded in
//! the binary, applied in order, each in one transaction; the version is SQLite's
//! `user_version`).
//!
//! Times are [`UnixMs`] everywhere.
#![forbid(unsafe_code)]

mod access;
mod error;
mod health;
mod notifications;
mod open;
mod queue;
mod read;
mod records;
mod recovery;
mod retention;
mod schema;
mod time;
mod transcripts;
mod write;
mod writer;

pub use access::{AuditQuery, AuditRecord, DeviceChange, DeviceRecord};
pub use error::StoreError;
pub use health::{StoreHealth, RECOVERY_NOTICE};
pub use notifications::{seq_of, AttemptRecord, StoredNotification};
pub use records::{
    ActivityQuery, ActivityRecord, HostMetrics, Level, MetricSample, MetricTarget, ProcessRecord,
    RetentionReport, SessionRecord, Tier,
};
pub use schema::SCHEMA_VERSION;
pub use time::UnixMs;
pub use transcripts::{
    HistoryHit, HistoryQuery, HistorySession, HistoryText, TranscriptCommit, TranscriptCursor,
};

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};
use writer::{lock, Shared};

/// How the store batches, bounds and keeps. [`Default`] is what the supervisor should use.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreOptions {
    /// Records queued at most before the oldest metric samples are dropped.
    pub max_queued: usize,
    /// Commit at once when this many records are queued.
    pub batch_records: usize,
    /// Commit when the oldest queued record has waited this long.
    pub batch_interval: Duration,
    /// The first retry after a failed commit; doubled each time up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// What the writer's periodic housekeeping keeps (see [`Store::enforce_retention`]).
    pub retention_days: u32,
    /// How often the writer enforces retention (the first time after one period); `None`
    /// leaves it to the caller.
    pub housekeeping_every: Option<Duration>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_queued: 100_000,
            batch_records: 500,
            batch_interval: Duration::from_millis(200),
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(30),
            retention_days: 30,
            housekeeping_every: Some(Duration::from_secs(600)),
        }
    }
}

/// Whether a record the caller waited for ([`Store::append_audit`], the device changes) is in
/// the database.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Persisted {
    /// Committed before the call returned.
    Written,
    /// The database did not take it (why, for people): it is kept in memory, counted in the
    /// store's health, and written as soon as the database accepts writes again.
    Queued(String),
}

/// A handle on the store; cheap to clone. The writer thread stops, after committing what is
/// queued, when the last clone is dropped.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    write: Arc<Mutex<Connection>>,
    read: Arc<Mutex<Connection>>,
    writer: Option<JoinHandle<()>>,
    path: Option<PathBuf>,
    /// The database file's identity when it was opened, to notice its deletion.
    file_id: Mutex<Option<recovery::FileId>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.work.notify_all();
        if let Some(writer) = self.writer.take() {
            // A panic was already logged by the writer itself.
            let _ = writer.join();
        }
    }
}

impl Store {
    /// The database file; `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    fn enqueue(&self, push: impl FnOnce(&mut queue::Queue) -> queue::Shed) {
        let shared = &self.inner.shared;
        let mut st = shared.lock();
        let was_empty = st.queue.is_empty();
        let shed = push(&mut st.queue);
        st.enqueued += 1;
        let now = Instant::now();
        st.note_shed(shed, now);
        let wake = if was_empty {
            st.oldest_pending = Some(now);
            true
        } else if !st.full_wake_sent && st.queue.len() >= shared.options.batch_records {
            st.full_wake_sent = true;
            true
        } else {
            false
        };
        drop(st);
        if wake {
            shared.work.notify_one();
        }
    }

    /// Queues a session's current state; it replaces the stored row of the same id.
    pub fn upsert_session(&self, s: SessionRecord) {
        self.enqueue(|q| q.push_session(s));
    }

    /// Queues an observation of a process; it merges into the stored row of the same
    /// `(pid, start)` as [`ProcessRecord`] describes.
    pub fn upsert_process(&self, p: ProcessRecord) {
        self.enqueue(|q| q.push_process(p));
    }

    /// Queues an activity entry.
    pub fn log_activity(&self, a: ActivityRecord) {
        self.enqueue(|q| q.push_activity(a));
    }

    /// Queues a raw metric sample; the writer also adds it to its 1 min and 10 min buckets.
    pub fn record_metric(&self, m: MetricSample) {
        self.enqueue(|q| q.push_metric(m));
    }

    /// Blocks until every record queued before the call is committed. Fails, instead of
    /// waiting for ever, as soon as a commit fails (the records stay queued and are retried;
    /// flushing again retries at once).
    pub fn flush(&self) -> Result<(), StoreError> {
        let shared = &self.inner.shared;
        let mut st = shared.lock();
        let target = st.enqueued;
        let failures_before = st.failed_attempts;
        if st.committed < target {
            st.flush_requested = true;
            shared.work.notify_one();
        }
        loop {
            if st.committed >= target {
                return Ok(());
            }
            if st.failed_attempts > failures_before {
                return Err(StoreError::WriteFailed {
                    message: st.last_error.clone().unwrap_or_default(),
                });
            }
            if !st.writer_alive {
                return Err(StoreError::WriterStopped);
            }
            st = shared
                .done
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn read<T>(
        &self,
        action: &'static str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        f(&lock(&self.inner.read)).map_err(|e| match e {
            rusqlite::Error::FromSqlConversionFailure(_, _, what) => StoreError::Malformed {
                what: format!("{action}: {what}"),
            },
            rusqlite::Error::InvalidColumnType(idx, name, ty) => StoreError::Malformed {
                what: format!("{action}: column {idx} ({name}) holds {ty}"),
            },
            e => StoreError::sqlite(action, e),
        })
    }

    fn write_now<T>(
        &self,
        action: &'static str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        f(&lock(&self.inner.write)).map_err(|e| StoreError::sqlite(action, e))
    }

    /// Queues a record that must not be lost and waits for the writer to commit it (and
    /// everything queued before it): [`Persisted::Written`] when it did, else it stays
    /// queued and is written once the database accepts writes again.
    fn write_durable(&self, d: queue::Durable) -> Persisted {
        self.enqueue(|q| q.push_durable(d));
        match self.flush() {
            Ok(()) => Persisted::Written,
            Err(e) => Persisted::Queued(e.to_string()),
        }
    }

    /// Every stored session, the most recently started first.
    pub fn sessions(&self) -> Result<Vec<SessionRecord>, StoreError> {
        self.read("reading sessions", read::sessions)
    }

    /// Every stored process, the most recently first seen first.
    pub fn processes(&self) -> Result<Vec<ProcessRecord>, StoreError> {
        self.read("reading processes", read::processes)
    }

    /// Activity entries matching `q`, newest first.
    pub fn activity(&self, q: &ActivityQuery) -> Result<Vec<ActivityRecord>, StoreError> {
        self.read("reading activity", |c| read::activity(c, q))
    }

    /// The samples of `target` between `since` and `until` (both included), oldest first,
    /// from the finest tier that still holds the whole range: raw samples within the last
    /// hour, 1 min averages within the last day, else 10 min averages. "Still holds" is
    /// decided by what retention has deleted so far, not by the clock.
    pub fn metrics(
        &self,
        target: &MetricTarget,
        since: SystemTime,
        until: SystemTime,
    ) -> Result<Vec<MetricSample>, StoreError> {
        let (since, until) = (UnixMs::from(since), UnixMs::from(until));
        self.read("reading metrics", |c| {
            let tier = read::covering_tier(c, since)?;
            read::metrics_in_tier(c, target, tier, since, until)
        })
    }

    /// The rows of one tier overlapping `[since, until]`, oldest first.
    pub fn metrics_in_tier(
        &self,
        target: &MetricTarget,
        tier: Tier,
        since: SystemTime,
        until: SystemTime,
    ) -> Result<Vec<MetricSample>, StoreError> {
        let (since, until) = (UnixMs::from(since), UnixMs::from(until));
        self.read("reading metrics", |c| {
            read::metrics_in_tier(c, target, tier, since, until)
        })
    }

    /// Deletes activity, metric rows, ended sessions and processes older than `days` days
    /// before `now`, and prunes the raw and 1 min metric tiers to their hour and day; returns
    /// what was deleted. With `cutoff = now - days`, a record strictly older than `cutoff` is
    /// deleted and one exactly `days` old is kept: activity by its time, sessions only once
    /// ended (by their end), processes by when they were last seen, and a metric row when
    /// every sample in it is older than its tier's horizon (`cutoff` for 10 min averages;
    /// `now - 24 h` for 1 min averages and `now - 1 h` for raw samples, never later than
    /// `cutoff`). Devices and the audit log are left alone. The writer also runs this every
    /// `housekeeping_every` with `retention_days`. Records still queued are not affected.
    pub fn enforce_retention(
        &self,
        now: SystemTime,
        days: u32,
    ) -> Result<RetentionReport, StoreError> {
        retention::enforce(&mut lock(&self.inner.write), UnixMs::from(now), days)
            .map_err(|e| StoreError::sqlite("enforcing retention", e))
    }

    /// `PRAGMA integrity_check`: `ok` when the database is sound, else the problems found.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.read("checking the database", read::integrity_check)
    }

    /// Runs `f` on the write connection (tests: to make the disk "full").
    #[cfg(test)]
    fn with_write_conn<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&lock(&self.inner.write))
    }

    #[cfg(test)]
    fn with_read_conn<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&lock(&self.inner.read))
    }

    #[cfg(test)]
    fn pause_writer(&self, paused: bool) {
        self.inner.shared.lock().paused = paused;
        self.inner.shared.work.notify_all();
    }
}

#[cfg(test)]
mod tests;
