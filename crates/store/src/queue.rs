//! The in-memory queue between the callers of [`crate::Store`] and its writer thread.
//!
//! Callers push under a short mutex and never wait on SQLite. The queue is bounded by
//! `max_queued` records; past it, the oldest metric samples are dropped first (they are the
//! cheapest loss: the next sample is a second away). Sessions and processes are coalesced by
//! key (the newest session record wins, process observations merge), so they grow only with
//! the number of distinct sessions and processes. Activity is never dropped to make room,
//! except as a last resort against running out of memory: past `10 × max_queued` queued
//! entries (only reachable when SQLite has been failing for a long time) the oldest go, and
//! are counted.
//!
//! Audit entries, device changes and the notifications' delivery log ([`Durable`]) wait in one
//! ordered list of their own: they are never dropped to make room (a flood of audited refusals
//! is already bounded by the endpoint's audit budget), only by the same last resort as
//! activity, past `10 × max_queued`, counted and logged as an error.

use crate::access::{AuditRecord, DeviceChange};
use crate::notifications::AttemptRecord;
use crate::records::{ActivityRecord, MetricSample, ProcessRecord, SessionRecord};
use crate::time::UnixMs;
use paddock_proto::notify::{DeliveryView, Notification};
use paddock_proto::SessionId;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};

/// Activity may exceed `max_queued` by this factor before the oldest is dropped.
const ACTIVITY_HARD_FACTOR: usize = 10;

/// A record that must reach the database in the order it was made, and that nothing but
/// the last resort drops: the audit log, device changes, the delivery log.
#[derive(Debug, Clone)]
pub(crate) enum Durable {
    Audit(AuditRecord),
    Device(DeviceChange),
    Notification(Box<Notification>, UnixMs),
    Delivery(DeliveryView, UnixMs),
    Attempt(AttemptRecord),
}

/// What one push or requeue had to drop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Shed {
    pub metrics: u64,
    pub activity: u64,
    pub durable: u64,
}

impl Shed {
    pub fn any(self) -> bool {
        self.metrics > 0 || self.activity > 0 || self.durable > 0
    }
}

/// Everything the writer takes in one go, to commit in one transaction.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub sessions: Vec<SessionRecord>,
    pub processes: Vec<ProcessRecord>,
    pub activity: VecDeque<ActivityRecord>,
    pub metrics: VecDeque<MetricSample>,
    pub durable: VecDeque<Durable>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.sessions.len()
            + self.processes.len()
            + self.activity.len()
            + self.metrics.len()
            + self.durable.len()
    }
}

#[derive(Debug)]
pub(crate) struct Queue {
    sessions: HashMap<SessionId, SessionRecord>,
    processes: HashMap<(u32, i64), ProcessRecord>,
    activity: VecDeque<ActivityRecord>,
    metrics: VecDeque<MetricSample>,
    durable: VecDeque<Durable>,
    max_queued: usize,
    /// Since the store was opened.
    pub dropped_metrics: u64,
    pub dropped_activity: u64,
    pub dropped_durable: u64,
}

impl Queue {
    pub fn new(max_queued: usize) -> Self {
        Self {
            sessions: HashMap::new(),
            processes: HashMap::new(),
            activity: VecDeque::new(),
            metrics: VecDeque::new(),
            durable: VecDeque::new(),
            max_queued: max_queued.max(1),
            dropped_metrics: 0,
            dropped_activity: 0,
            dropped_durable: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
            + self.processes.len()
            + self.activity.len()
            + self.metrics.len()
            + self.durable.len()
    }

    /// Audit entries, device changes and delivery-log records waiting.
    pub fn durable_len(&self) -> usize {
        self.durable.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn max_queued(&self) -> usize {
        self.max_queued
    }

    pub fn push_session(&mut self, s: SessionRecord) -> Shed {
        self.sessions.insert(s.id.clone(), s);
        self.shed()
    }

    pub fn push_process(&mut self, p: ProcessRecord) -> Shed {
        match self.processes.entry(p.key()) {
            Entry::Occupied(mut e) => e.get_mut().merge(p),
            Entry::Vacant(e) => {
                e.insert(p);
            }
        }
        self.shed()
    }

    pub fn push_activity(&mut self, a: ActivityRecord) -> Shed {
        self.activity.push_back(a);
        self.shed()
    }

    pub fn push_metric(&mut self, m: MetricSample) -> Shed {
        self.metrics.push_back(m);
        self.shed()
    }

    /// The devices whose revocation is still waiting to be written.
    pub fn revocations(&self) -> Vec<&str> {
        self.durable
            .iter()
            .filter_map(|d| match d {
                Durable::Device(DeviceChange::Revoke { id, .. }) => Some(id.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn push_durable(&mut self, d: Durable) -> Shed {
        self.durable.push_back(d);
        self.shed()
    }

    /// Takes everything queued.
    pub fn take(&mut self) -> Batch {
        Batch {
            sessions: self.sessions.drain().map(|(_, s)| s).collect(),
            processes: self.processes.drain().map(|(_, p)| p).collect(),
            activity: std::mem::take(&mut self.activity),
            metrics: std::mem::take(&mut self.metrics),
            durable: std::mem::take(&mut self.durable),
        }
    }

    /// Puts back a batch that could not be written, before everything queued since, so
    /// that order is kept and newer records still win.
    pub fn requeue(&mut self, batch: Batch) -> Shed {
        let Batch {
            sessions,
            processes,
            mut activity,
            mut metrics,
            mut durable,
        } = batch;
        for s in sessions {
            self.sessions.entry(s.id.clone()).or_insert(s);
        }
        for older in processes {
            match self.processes.entry(older.key()) {
                Entry::Occupied(mut e) => {
                    let newer = std::mem::replace(e.get_mut(), older);
                    e.get_mut().merge(newer);
                }
                Entry::Vacant(e) => {
                    e.insert(older);
                }
            }
        }
        activity.append(&mut self.activity);
        self.activity = activity;
        metrics.append(&mut self.metrics);
        self.metrics = metrics;
        durable.append(&mut self.durable);
        self.durable = durable;
        self.shed()
    }

    fn shed(&mut self) -> Shed {
        let mut shed = Shed::default();
        let over = self.len().saturating_sub(self.max_queued);
        let metrics = over.min(self.metrics.len());
        if metrics > 0 {
            self.metrics.drain(..metrics);
            shed.metrics = metrics as u64;
        }
        let hard = self.max_queued.saturating_mul(ACTIVITY_HARD_FACTOR);
        let activity = self.activity.len().saturating_sub(hard);
        if activity > 0 {
            self.activity.drain(..activity);
            shed.activity = activity as u64;
        }
        let durable = self.durable.len().saturating_sub(hard);
        if durable > 0 {
            self.durable.drain(..durable);
            shed.durable = durable as u64;
        }
        self.dropped_metrics += shed.metrics;
        self.dropped_activity += shed.activity;
        self.dropped_durable += shed.durable;
        shed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Level, MetricTarget};
    use crate::time::UnixMs;
    use paddock_proto::supervisor::Backend;

    fn sid(s: &str) -> SessionId {
        SessionId::parse(s).expect("id")
    }

    fn metric(t: i64) -> MetricSample {
        MetricSample::new(MetricTarget::Host, UnixMs(t), 1.0, 1)
    }

    fn activity(t: i64) -> ActivityRecord {
        ActivityRecord::new(UnixMs(t), None, Level::Info, "k", "m")
    }

    fn process(pid: u32, seen: i64) -> ProcessRecord {
        ProcessRecord {
            pid,
            start: UnixMs(1),
            command: format!("cmd-{seen}"),
            args: vec![],
            cwd: None,
            session: None,
            agent: None,
            first_seen: UnixMs(seen),
            last_seen: UnixMs(seen),
            exit_code: None,
        }
    }

    #[test]
    fn when_full_the_oldest_metric_samples_go_first() {
        let mut q = Queue::new(4);
        q.push_activity(activity(0));
        for t in 1..=3 {
            assert!(!q.push_metric(metric(t)).any());
        }
        assert_eq!(q.push_metric(metric(4)).metrics, 1);
        assert_eq!(q.push_activity(activity(5)).metrics, 1);
        let b = q.take();
        assert_eq!(b.activity.len(), 2);
        let times: Vec<i64> = b.metrics.iter().map(|m| m.time.0).collect();
        assert_eq!(times, [3, 4]);
        assert_eq!(q.dropped_metrics, 2);
        assert_eq!(q.dropped_activity, 0);
    }

    #[test]
    fn activity_and_sessions_are_kept_beyond_the_bound_until_the_hard_limit() {
        let mut q = Queue::new(2);
        for t in 0..20 {
            assert!(!q.push_activity(activity(t)).any());
        }
        q.push_session(SessionRecord::new(
            sid("a"),
            "claude",
            Backend::Holder,
            UnixMs(0),
        ));
        assert_eq!(q.len(), 21);
        // 10 × 2 = 20 activity entries at most: the 21st pushes out the oldest.
        assert_eq!(q.push_activity(activity(20)).activity, 1);
        let b = q.take();
        assert_eq!(b.activity.front().map(|a| a.time.0), Some(1));
        assert_eq!(b.sessions.len(), 1);
    }

    fn revoke(id: &str) -> Durable {
        Durable::Device(DeviceChange::Revoke {
            id: id.into(),
            at: UnixMs(1),
        })
    }

    #[test]
    fn durable_records_outlive_metrics_keep_their_order_through_a_requeue_and_only_the_last_resort_drops_them(
    ) {
        let mut q = Queue::new(2);
        q.push_metric(metric(1));
        q.push_durable(revoke("a"));
        assert_eq!(
            q.push_durable(revoke("b")).metrics,
            1,
            "the metric goes first"
        );
        let failed = q.take();
        q.push_durable(revoke("c"));
        q.requeue(failed);
        assert_eq!(q.revocations(), ["a", "b", "c"]);
        for i in 0..17 {
            assert!(!q.push_durable(revoke(&format!("x{i}"))).any());
        }
        assert_eq!(q.durable_len(), 20);
        // 10 × 2 = 20 at most: the 21st pushes out the oldest, counted.
        assert_eq!(q.push_durable(revoke("y")).durable, 1);
        assert_eq!(q.dropped_durable, 1);
        assert_eq!(q.revocations().first(), Some(&"b"));
    }

    #[test]
    fn sessions_coalesce_to_the_newest_record() {
        let mut q = Queue::new(100);
        let mut s = SessionRecord::new(sid("a"), "claude", Backend::Holder, UnixMs(0));
        q.push_session(s.clone());
        s.state = "working".into();
        q.push_session(s.clone());
        assert_eq!(q.len(), 1);
        assert_eq!(q.take().sessions, vec![s]);
    }

    #[test]
    fn processes_merge_like_the_sql_upsert() {
        let mut q = Queue::new(100);
        let mut first = process(7, 10);
        first.cwd = Some("/a".into());
        q.push_process(first);
        let mut later = process(7, 20);
        later.exit_code = Some(3);
        q.push_process(later);
        let b = q.take();
        assert_eq!(b.processes.len(), 1);
        let p = &b.processes[0];
        assert_eq!((p.first_seen.0, p.last_seen.0), (10, 20));
        assert_eq!(p.cwd.as_deref(), Some("/a"));
        assert_eq!(p.command, "cmd-20");
        assert_eq!(p.exit_code, Some(3));
    }

    #[test]
    fn a_requeued_batch_goes_before_newer_records_which_still_win() {
        let mut q = Queue::new(100);
        let mut s = SessionRecord::new(sid("a"), "claude", Backend::Holder, UnixMs(0));
        q.push_session(s.clone());
        q.push_activity(activity(1));
        q.push_process(process(7, 10));
        let failed = q.take();
        s.state = "idle".into();
        q.push_session(s.clone());
        q.push_activity(activity(2));
        q.push_process(process(7, 30));
        q.requeue(failed);
        let b = q.take();
        assert_eq!(b.sessions, vec![s]);
        let times: Vec<i64> = b.activity.iter().map(|a| a.time.0).collect();
        assert_eq!(times, [1, 2]);
        let p = &b.processes[0];
        assert_eq!((p.first_seen.0, p.last_seen.0), (10, 30));
        assert_eq!(p.command, "cmd-30");
    }
}
