//! The writer thread and the state it shares with the [`crate::Store`] handles.
//!
//! One thread owns the writing: it sleeps until records are queued, then commits everything
//! queued in one transaction once the oldest record has waited `batch_interval` (200 ms), or
//! at once when `batch_records` (500) are queued or a caller flushes. A failed commit puts the
//! batch back at the front of the queue, is logged and shown in the health, and is retried
//! after a backoff (1 s doubling to 30 s; a flush retries at once). Every
//! `housekeeping_every` it also enforces retention. When the last handle is dropped it
//! commits what is left and stops.
//!
//! Locks: the state mutex is only held to push, take or account, never during SQLite work;
//! the connection mutex is never taken while the state mutex is held.

use crate::queue::{Batch, Queue, Shed};
use crate::retention;
use crate::time::UnixMs;
use crate::write::write_batch;
use crate::{StoreError, StoreOptions};
use rusqlite::Connection;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Locks `m`, going on with the data if a thread panicked while holding it: every critical
/// section here leaves the data consistent between statements.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How often at most a full queue is logged.
const DROP_LOG_EVERY: Duration = Duration::from_secs(10);

pub(crate) struct Shared {
    pub state: Mutex<State>,
    /// The writer waits on this for work.
    pub work: Condvar,
    /// Flushers wait on this for commits and failures.
    pub done: Condvar,
    pub options: StoreOptions,
}

pub(crate) struct State {
    pub queue: Queue,
    /// Counts every record ever queued.
    pub enqueued: u64,
    /// Every record counted in `enqueued` up to this is committed (or was dropped).
    pub committed: u64,
    /// When the oldest record now queued arrived.
    pub oldest_pending: Option<Instant>,
    /// The writer was woken for a full batch since its last take.
    pub full_wake_sent: bool,
    pub flush_requested: bool,
    pub shutdown: bool,
    pub writer_alive: bool,
    /// Counts failed commits, so that a flusher sees one that happened after it asked.
    pub failed_attempts: u64,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    /// [`StoreError::code`] of the last failed commit, while failing.
    pub last_error_code: Option<&'static str>,
    pub last_commit: Option<UnixMs>,
    pub rejected: u64,
    pub last_drop: Option<Instant>,
    /// A recovery of the database file (moved aside, rebuilt) and when it happened.
    pub notice: Option<(Instant, String)>,
    last_drop_log: Option<Instant>,
    /// Tests hold the writer back to fill the queue.
    #[cfg(test)]
    pub paused: bool,
}

impl State {
    pub fn new(max_queued: usize) -> Self {
        Self {
            queue: Queue::new(max_queued),
            enqueued: 0,
            committed: 0,
            oldest_pending: None,
            full_wake_sent: false,
            flush_requested: false,
            shutdown: false,
            writer_alive: true,
            failed_attempts: 0,
            consecutive_failures: 0,
            last_error: None,
            last_error_code: None,
            last_commit: None,
            rejected: 0,
            last_drop: None,
            notice: None,
            last_drop_log: None,
            #[cfg(test)]
            paused: false,
        }
    }

    fn paused(&self) -> bool {
        #[cfg(test)]
        return self.paused;
        #[cfg(not(test))]
        false
    }

    /// Accounts for records the queue had to drop, and says so in the log now and then.
    pub fn note_shed(&mut self, shed: Shed, now: Instant) {
        if !shed.any() {
            return;
        }
        self.last_drop = Some(now);
        if self
            .last_drop_log
            .is_some_and(|t| now.duration_since(t) < DROP_LOG_EVERY)
        {
            return;
        }
        self.last_drop_log = Some(now);
        let (queued, max) = (self.queue.len(), self.queue.max_queued());
        if self.queue.dropped_activity > 0 || self.queue.dropped_durable > 0 {
            tracing::error!(
                queued,
                max,
                dropped_metrics = self.queue.dropped_metrics,
                dropped_activity = self.queue.dropped_activity,
                dropped_audit_device_notification = self.queue.dropped_durable,
                "the store's queue is far beyond its limit, so the oldest activity entries (and \
                 audit, device or notification records) are being dropped; the database has \
                 not accepted writes for a long time: see the errors before this one (disk \
                 full?)"
            );
        } else {
            tracing::warn!(
                queued,
                max,
                dropped_metrics = self.queue.dropped_metrics,
                "the store's queue is full, so the oldest metric samples are being dropped; the \
                 database is not keeping up or is failing: see the store's health"
            );
        }
    }

    /// Takes everything queued for one commit, with the count it covers.
    fn take(&mut self) -> (Batch, u64) {
        self.oldest_pending = None;
        self.full_wake_sent = false;
        self.flush_requested = false;
        (self.queue.take(), self.enqueued)
    }
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

enum Job {
    /// Commit this batch, which covers every record counted up to `upto`; `last` on shutdown.
    Write {
        batch: Batch,
        upto: u64,
        last: bool,
    },
    Housekeep,
}

/// Marks the writer as gone however it ends, so that no flusher waits for it for ever.
struct AliveGuard<'a>(&'a Shared);

impl Drop for AliveGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            tracing::error!(
                "the store's writer thread panicked; nothing more is saved: restart Paddock \
                 and report this bug"
            );
        }
        self.0.lock().writer_alive = false;
        self.0.done.notify_all();
    }
}

/// The writer thread's body.
pub(crate) fn run(shared: Arc<Shared>, conn: Arc<Mutex<Connection>>) {
    let _alive = AliveGuard(&shared);
    let opts = &shared.options;
    // When to retry after a failure, and the delay that led there.
    let mut retry: Option<(Instant, Duration)> = None;
    let mut next_housekeeping = opts.housekeeping_every.map(|d| Instant::now() + d);
    loop {
        match next_job(&shared, retry.map(|r| r.0), next_housekeeping) {
            Job::Housekeep => {
                housekeep(&shared, &conn);
                next_housekeeping = opts.housekeeping_every.map(|d| Instant::now() + d);
            }
            Job::Write { batch, upto, last } => {
                attempt(&shared, &conn, batch, upto, &mut retry);
                if last {
                    let st = shared.lock();
                    let lost = st.queue.len();
                    if lost > 0 {
                        tracing::error!(
                            lost,
                            audit_device_notification = st.queue.durable_len(),
                            "closing the store with records that could not be written; they \
                             are lost"
                        );
                    }
                    for id in st.queue.revocations() {
                        tracing::error!(
                            device = %id,
                            "the revocation of device {id} could not be written before Paddock \
                             stopped (is the disk full?): once it has space again, revoke it \
                             again with `paddock devices revoke {id}`"
                        );
                    }
                    return;
                }
            }
        }
    }
}

fn next_job(shared: &Shared, retry_at: Option<Instant>, housekeeping: Option<Instant>) -> Job {
    let opts = &shared.options;
    let mut st = shared.lock();
    loop {
        let now = Instant::now();
        if st.shutdown {
            let (batch, upto) = st.take();
            return Job::Write {
                batch,
                upto,
                last: true,
            };
        }
        if housekeeping.is_some_and(|t| t <= now) {
            return Job::Housekeep;
        }
        let mut wake_at = housekeeping;
        if !st.queue.is_empty() && !st.paused() {
            let due_at = match retry_at.filter(|t| *t > now && !st.flush_requested) {
                Some(t) => t,
                None if st.flush_requested || st.queue.len() >= opts.batch_records => now,
                None => st.oldest_pending.unwrap_or(now) + opts.batch_interval,
            };
            if due_at <= now {
                let (batch, upto) = st.take();
                return Job::Write {
                    batch,
                    upto,
                    last: false,
                };
            }
            wake_at = Some(wake_at.map_or(due_at, |t| t.min(due_at)));
        } else if st.queue.is_empty() {
            st.flush_requested = false;
        }
        st = match wake_at {
            Some(t) => {
                shared
                    .work
                    .wait_timeout(st, t.saturating_duration_since(now))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
            None => shared.work.wait(st).unwrap_or_else(PoisonError::into_inner),
        };
    }
}

fn attempt(
    shared: &Shared,
    conn: &Mutex<Connection>,
    batch: Batch,
    upto: u64,
    retry: &mut Option<(Instant, Duration)>,
) {
    let records = batch.len();
    let result = if records == 0 {
        Ok(Default::default())
    } else {
        write_batch(&mut lock(conn), &batch)
    };
    let now = Instant::now();
    let mut st = shared.lock();
    match result {
        Ok(outcome) => {
            st.committed = st.committed.max(upto);
            if st.consecutive_failures > 0 {
                tracing::info!(
                    failures = st.consecutive_failures,
                    records,
                    "the database accepts writes again; the queued records are saved"
                );
            }
            st.consecutive_failures = 0;
            st.last_error = None;
            st.last_error_code = None;
            st.last_commit = Some(UnixMs::now());
            st.rejected += outcome.rejected;
            *retry = None;
        }
        Err(e) => {
            let err = StoreError::sqlite("writing queued records", e);
            let shed = st.queue.requeue(batch);
            st.note_shed(shed, now);
            if !st.queue.is_empty() && st.oldest_pending.is_none() {
                st.oldest_pending = Some(now);
            }
            let delay = retry.map_or(shared.options.retry_min, |(_, d)| {
                (d * 2).min(shared.options.retry_max)
            });
            *retry = Some((now + delay, delay));
            st.failed_attempts += 1;
            st.consecutive_failures = st.consecutive_failures.saturating_add(1);
            st.last_error = Some(err.to_string());
            st.last_error_code = Some(err.code());
            tracing::error!(
                error = %err,
                code = err.code(),
                records,
                queued = st.queue.len(),
                retry_in_ms = delay.as_millis() as u64,
                "cannot write to the database; the records stay queued in memory and are \
                 written again"
            );
        }
    }
    drop(st);
    shared.done.notify_all();
}

fn housekeep(shared: &Shared, conn: &Mutex<Connection>) {
    let days = shared.options.retention_days;
    match retention::enforce(&mut lock(conn), UnixMs::now(), days) {
        Ok(report) => tracing::debug!(?report, days, "retention enforced"),
        Err(e) => tracing::warn!(
            error = %StoreError::sqlite("enforcing retention", e),
            "retention could not run; it is tried again at the next housekeeping"
        ),
    }
}
