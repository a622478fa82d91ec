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
mod notifications;
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

use paddock_proto::supervisor::{ComponentHealth, HealthStatus};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};
use writer::{lock, Shared, State};

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

/// The store's state for `paddock status` and `/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreHealth {
    /// `healthy`; `degraded` while writes fail, the queue is backed up or records were dropped
    /// in the last minute; `unhealthy` once the writer thread has stopped.
    pub status: HealthStatus,
    /// What is wrong and what happens next, for people.
    pub message: String,
    /// Records waiting to be written (kept in memory only until they are).
    pub queued: usize,
    /// Of those, audit entries, device changes and delivery-log records.
    pub queued_durable: usize,
    /// Metric samples dropped because the queue was full, since the store was opened.
    pub dropped_metrics: u64,
    /// Activity entries dropped (only far beyond the queue's limit), since opened.
    pub dropped_activity: u64,
    /// Audit, device and delivery-log records dropped (the same last resort), since opened.
    pub dropped_durable: u64,
    /// Records the database refused for their own data (a bug), since opened.
    pub rejected: u64,
    /// Failed commits in a row; 0 when the last one succeeded.
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    pub last_commit: Option<UnixMs>,
}

impl StoreHealth {
    /// The store's line (`database`) in the supervisor's status, with the records kept in
    /// memory as `pending_writes`.
    pub fn component(&self) -> ComponentHealth {
        ComponentHealth {
            name: "database".to_owned(),
            status: self.status,
            message: self.message.clone(),
            pending_writes: Some(self.queued as u64),
        }
    }
}

/// Records dropped within this long make the store report itself degraded.
const RECENT_DROP: Duration = Duration::from_secs(60);

/// How long a recovery (a database moved aside or rebuilt) keeps the store degraded; its
/// note stays in the health's message after that.
pub const RECOVERY_NOTICE: Duration = Duration::from_secs(600);

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
    /// Opens (creating it, and its missing parent directories with mode 0700) the database
    /// at `path`, made 0600, and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Self::open_with(path, StoreOptions::default())
    }

    /// [`Store::open`] with other options.
    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        secure_path(path)?;
        let mut write = schema::open_file(path, schema::Role::Write)?;
        schema::migrate(&mut write, schema::MIGRATIONS, path)?;
        let read = schema::open_file(path, schema::Role::Read)?;
        Self::start(
            Arc::new(Mutex::new(write)),
            Arc::new(Mutex::new(read)),
            options,
            Some(path.to_owned()),
        )
    }

    /// [`Store::open_with`], but a file that is not a database (garbage, or damaged beyond
    /// reading) is moved aside to `NAME.corrupt-<unix seconds>` and a fresh database is made
    /// in its place. The move is logged as an error and shown in the store's health (degraded
    /// for [`RECOVERY_NOTICE`], then kept in its message).
    pub fn open_recovering(path: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        match Self::open_with(path, options.clone()) {
            Err(e @ StoreError::NotADatabase { .. }) => {
                let aside = recovery::move_aside(path)?;
                let note = format!(
                    "the database {} could not be read ({e}); it was moved aside to {} and a \
                     fresh, empty one was made: the history before now is in that file",
                    path.display(),
                    aside.display()
                );
                tracing::error!(path = %path.display(), aside = %aside.display(), "{note}");
                let store = Self::open_with(path, options)?;
                store.inner.shared.lock().notice = Some((Instant::now(), note));
                Ok(store)
            }
            other => other,
        }
    }

    /// Checks that the database file is still the one opened; when it was deleted (or
    /// replaced) while Paddock runs, rebuilds it at its path from the open connection
    /// (`VACUUM INTO`), so nothing committed is lost, and switches to it. Returns what was
    /// done, for the log; `None` when the file is in place (or the store is in memory).
    /// Call it from a blocking context: it takes the connections while it copies.
    pub fn recover_if_deleted(&self) -> Result<Option<String>, StoreError> {
        let Some(path) = self.inner.path.as_deref() else {
            return Ok(None);
        };
        let mut known = lock(&self.inner.file_id);
        if known.is_none() || recovery::file_id(path) == *known {
            return Ok(None);
        }
        // Lock order: the write connection, then the read one (nothing takes them the other
        // way round; they are distinct for a file).
        let mut write = lock(&self.inner.write);
        let mut read = lock(&self.inner.read);
        let tmp = recovery::rebuild_beside(&write, path)?;
        let placeholder = || schema::open_memory();
        drop(std::mem::replace(&mut *read, placeholder()?));
        drop(std::mem::replace(&mut *write, placeholder()?));
        recovery::finish_rebuild(&tmp, path)?;
        secure_path(path)?;
        let mut fresh = schema::open_file(path, schema::Role::Write)?;
        schema::migrate(&mut fresh, schema::MIGRATIONS, path)?;
        *write = fresh;
        *read = schema::open_file(path, schema::Role::Read)?;
        *known = recovery::file_id(path);
        let note = format!(
            "the database {} was deleted while Paddock was running; it was rebuilt from the \
             copy Paddock still had open, nothing was lost",
            path.display()
        );
        drop((read, write));
        self.inner.shared.lock().notice = Some((Instant::now(), note.clone()));
        Ok(Some(note))
    }

    /// A private database in memory, for tests: one connection shared by the writer and
    /// the readers (so reads wait while a batch commits).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Self::open_in_memory_with(StoreOptions::default())
    }

    /// [`Store::open_in_memory`] with other options.
    pub fn open_in_memory_with(options: StoreOptions) -> Result<Store, StoreError> {
        let mut conn = schema::open_memory()?;
        schema::migrate(&mut conn, schema::MIGRATIONS, Path::new(":memory:"))?;
        let conn = Arc::new(Mutex::new(conn));
        Self::start(conn.clone(), conn, options, None)
    }

    fn start(
        write: Arc<Mutex<Connection>>,
        read: Arc<Mutex<Connection>>,
        options: StoreOptions,
        path: Option<PathBuf>,
    ) -> Result<Store, StoreError> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(options.max_queued)),
            work: Condvar::new(),
            done: Condvar::new(),
            options,
        });
        let writer = std::thread::Builder::new()
            .name("paddock-store-writer".to_owned())
            .spawn({
                let (shared, write) = (shared.clone(), write.clone());
                move || writer::run(shared, write)
            })
            .map_err(|source| StoreError::Thread { source })?;
        Ok(Store {
            inner: Arc::new(Inner {
                shared,
                write,
                read,
                writer: Some(writer),
                file_id: Mutex::new(path.as_deref().and_then(recovery::file_id)),
                path,
            }),
        })
    }

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

    /// Adds a paired device; written before this returns, or refused (a full disk is
    /// [`StoreError::DiskFull`]): a device known only in memory would be forgotten at the
    /// next start, so pairing waits for space instead. While the writer's commits fail for
    /// a full disk it is refused without trying (a small write may still fit in space SQLite
    /// had taken before, but the disk is full all the same and the queue waits).
    pub fn insert_device(&self, d: &DeviceRecord) -> Result<(), StoreError> {
        if self.inner.shared.lock().last_error_code == Some("disk_full") {
            return Err(StoreError::DiskFull {
                source: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                    Some("the store's queued records cannot be committed".to_owned()),
                ),
            });
        }
        self.write_now("adding a device", |c| access::insert_device(c, d))
    }

    /// Every paired device, revoked ones included, oldest first.
    pub fn devices(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        self.read("reading devices", access::devices)
    }

    /// Renames a device (an unknown id changes nothing); waits for the write.
    pub fn rename_device(&self, id: &str, name: &str) -> Persisted {
        self.write_durable(queue::Durable::Device(DeviceChange::Rename {
            id: id.to_owned(),
            name: name.to_owned(),
        }))
    }

    /// Replaces a device's refresh-token hash (rotation); waits for the write.
    pub fn set_device_token(&self, id: &str, token_hash: &str) -> Persisted {
        self.write_durable(queue::Durable::Device(DeviceChange::Token {
            id: id.to_owned(),
            token_hash: token_hash.to_owned(),
        }))
    }

    /// Revokes a device (keeps the first revocation time); waits for the write.
    pub fn revoke_device(&self, id: &str, at: UnixMs) -> Persisted {
        self.write_durable(queue::Durable::Device(DeviceChange::Revoke {
            id: id.to_owned(),
            at,
        }))
    }

    /// Queues when a device was last seen (not waited for).
    pub fn touch_device(&self, id: &str, at: UnixMs) {
        self.enqueue(|q| {
            q.push_durable(queue::Durable::Device(DeviceChange::Touch {
                id: id.to_owned(),
                at,
            }))
        });
    }

    /// Appends an audit entry (a `device_id` that is not a paired device is stored as NULL;
    /// `id` is ignored); waits for the write.
    pub fn append_audit(&self, a: &AuditRecord) -> Persisted {
        self.write_durable(queue::Durable::Audit(a.clone()))
    }

    /// Audit entries, newest first (after writing what is queued, if the database takes it).
    pub fn audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let _ = self.flush();
        self.write_now("reading the audit log", |c| access::audit(c, q))
    }

    /// Queues a notification (again, when its state changed). Its id must be `n<seq>`.
    pub fn save_notification(&self, n: &paddock_proto::notify::Notification, created: UnixMs) {
        let d = queue::Durable::Notification(Box::new(n.clone()), created);
        self.enqueue(|q| q.push_durable(d));
    }

    /// Queues a channel's delivery of a notification as it is now.
    pub fn save_delivery(&self, d: &paddock_proto::notify::DeliveryView, at: UnixMs) {
        let d = queue::Durable::Delivery(d.clone(), at);
        self.enqueue(|q| q.push_durable(d));
    }

    /// Queues one channel attempt.
    pub fn add_notification_attempt(&self, a: &AttemptRecord) {
        let d = queue::Durable::Attempt(a.clone());
        self.enqueue(|q| q.push_durable(d));
    }

    /// The newest `limit` notifications, newest first, with their deliveries (after writing
    /// what is queued, if the database takes it).
    pub fn notifications(&self, limit: u32) -> Result<Vec<StoredNotification>, StoreError> {
        let _ = self.flush();
        self.read("reading the delivery log", |c| {
            notifications::notifications(c, limit)
        })
    }

    /// Every attempt of the notification `seq`, oldest first.
    pub fn notification_attempts(&self, seq: i64) -> Result<Vec<AttemptRecord>, StoreError> {
        let _ = self.flush();
        self.read("reading the delivery log", |c| {
            notifications::attempts(c, seq)
        })
    }

    /// The highest notification sequence number stored (0 for none): new ones go on after it.
    pub fn last_notification_seq(&self) -> Result<i64, StoreError> {
        self.read("reading the delivery log", notifications::last_seq)
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

    /// The cursor of `consumer` on the transcript `path`, with its state.
    pub fn transcript_cursor(
        &self,
        consumer: &str,
        path: &str,
    ) -> Result<Option<TranscriptCursor>, StoreError> {
        self.read("reading a transcript cursor", |c| {
            transcripts::cursor(c, consumer, path)
        })
    }

    /// Every cursor of `consumer`, without their states.
    pub fn transcript_cursors(&self, consumer: &str) -> Result<Vec<TranscriptCursor>, StoreError> {
        self.read("reading transcript cursors", |c| {
            transcripts::cursors(c, consumer)
        })
    }

    /// Saves what transcript readers read, in one transaction, on the caller's thread: each
    /// cursor with its state, the history rows and the text to index. Either all of it is
    /// saved or none.
    pub fn commit_transcripts(&self, commits: &[TranscriptCommit]) -> Result<(), StoreError> {
        if commits.is_empty() {
            return Ok(());
        }
        transcripts::commit(&mut lock(&self.inner.write), commits)
            .map_err(|e| StoreError::sqlite("saving transcript progress", e))
    }

    /// Forgets a transcript (its file is gone): the cursor of `consumer`, and for `history`
    /// its row and its indexed text.
    pub fn forget_transcript(&self, consumer: &str, path: &str) -> Result<(), StoreError> {
        transcripts::forget(&mut lock(&self.inner.write), consumer, path)
            .map_err(|e| StoreError::sqlite("forgetting a transcript", e))
    }

    /// History sessions matching `q`, the most recently ended first.
    pub fn history_sessions(&self, q: &HistoryQuery) -> Result<Vec<HistorySession>, StoreError> {
        self.read("reading the history", |c| transcripts::sessions(c, q))
    }

    /// The history row of one transcript.
    pub fn history_session(&self, path: &str) -> Result<Option<HistorySession>, StoreError> {
        self.read("reading the history", |c| transcripts::session(c, path))
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
        let Some(query) = transcripts::fts_query(words).map_err(StoreError::BadSearch)? else {
            return Ok(Vec::new());
        };
        self.read("searching the history", |c| {
            transcripts::search(c, &query, limit, offset)
        })
        .map_err(|e| match e {
            StoreError::Sqlite { source, .. } if transcripts::is_fts_syntax_error(&source) => {
                StoreError::BadSearch(format!(
                    "the search `{words}` cannot be read ({source}); use plain words, \"a phrase\", \
                     word* or a OR b"
                ))
            }
            e => e,
        })
    }

    /// `PRAGMA integrity_check`: `ok` when the database is sound, else the problems found.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.read("checking the database", read::integrity_check)
    }

    /// Whether the store is keeping up, and if not, why.
    pub fn health(&self) -> StoreHealth {
        let shared = &self.inner.shared;
        let st = shared.lock();
        let queued = st.queue.len();
        let queued_durable = st.queue.durable_len();
        let max = st.queue.max_queued();
        let mut problems = Vec::new();
        let mut status = HealthStatus::Healthy;
        if !st.writer_alive {
            status = HealthStatus::Unhealthy;
            problems.push(
                "the writer thread has stopped, so nothing is saved any more: restart Paddock"
                    .to_owned(),
            );
        }
        if st.consecutive_failures > 0 {
            problems.push(format!(
                "the last {} attempt(s) to write failed ({}); {queued} records are kept in \
                 memory and written again ({queued_durable} of them audit entries, device \
                 changes or notification records)",
                st.consecutive_failures,
                st.last_error.as_deref().unwrap_or("unknown error")
            ));
        }
        if queued > 0 && queued >= max / 2 {
            problems.push(format!(
                "the write queue is backed up ({queued} of {max} records); past the limit the \
                 oldest metric samples are dropped"
            ));
        }
        if st.last_drop.is_some_and(|t| t.elapsed() < RECENT_DROP) {
            problems.push(format!(
                "records were dropped in the last minute because the queue was full ({} metric \
                 samples, {} activity entries and {} audit, device or notification records \
                 since the store was opened)",
                st.queue.dropped_metrics, st.queue.dropped_activity, st.queue.dropped_durable
            ));
        }
        let mut notes = Vec::new();
        if let Some((at, note)) = &st.notice {
            if at.elapsed() < RECOVERY_NOTICE {
                problems.push(note.clone());
            } else {
                notes.push(note.clone());
            }
        }
        if !problems.is_empty() && status == HealthStatus::Healthy {
            status = HealthStatus::Degraded;
        }
        let mut message = if problems.is_empty() {
            format!("ok: {queued} records queued")
        } else {
            problems.join("; ")
        };
        for note in notes {
            message.push_str(&format!(" (earlier: {note})"));
        }
        StoreHealth {
            status,
            message,
            queued,
            queued_durable,
            dropped_metrics: st.queue.dropped_metrics,
            dropped_activity: st.queue.dropped_activity,
            dropped_durable: st.queue.dropped_durable,
            rejected: st.rejected,
            consecutive_failures: st.consecutive_failures,
            last_error: st.last_error.clone(),
            last_commit: st.last_commit,
        }
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

/// Creates the database's missing parent directories (0700) and the file itself (0600), and
/// takes group and other permissions away from an existing file.
fn secure_path(path: &Path) -> Result<(), StoreError> {
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| StoreError::DataDir { path, source }
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(parent).map_err(err(parent))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(err(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(err(path))?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "the database was readable by others; making it 0600"
            );
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(err(path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
