//! The store's health for `paddock status` and `/health`: whether the writer keeps up, what
//! was dropped or refused, and the note of a recent recovery.

use crate::time::UnixMs;
use crate::Store;
use paddock_proto::supervisor::{ComponentHealth, HealthStatus};
use serde::{Deserialize, Serialize};
use std::time::Duration;

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

impl Store {
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
}
