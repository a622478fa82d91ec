//! The notifications' delivery log: every notification, each channel's delivery and every
//! attempt (migration 3). Written by the notifier's log thread, read by `paddock
//! notifications` and the REST log; pruned by retention with the rest of the history.

use crate::time::UnixMs;
use crate::{queue, Store, StoreError};
use paddock_proto::notify::{DeliveryStatus, DeliveryView, Notification};
use rusqlite::{params, Connection, OptionalExtension};

/// One channel attempt, for the log.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    /// The notification's sequence number (`n<seq>`).
    pub seq: i64,
    pub channel: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub time: UnixMs,
    /// The channel accepted it.
    pub ok: bool,
    pub error: Option<String>,
    pub latency_ms: u64,
}

/// A stored notification with its deliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNotification {
    pub notification: Notification,
    pub deliveries: Vec<DeliveryView>,
}

/// The sequence number in an id `n<seq>`.
pub fn seq_of(id: &str) -> Option<i64> {
    id.strip_prefix('n')?.parse().ok()
}

fn status_text(s: DeliveryStatus) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn status_of(text: &str) -> rusqlite::Result<DeliveryStatus> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
    })
}

pub(crate) fn save_notification(
    c: &Connection,
    n: &Notification,
    created: UnixMs,
) -> rusqlite::Result<()> {
    let Some(seq) = seq_of(&n.id) else {
        return Ok(());
    };
    let data = serde_json::to_string(n)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    c.execute(
        "INSERT INTO notifications (seq, created_ms, session, request, data)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (seq) DO UPDATE SET data = excluded.data",
        params![
            seq,
            created.0,
            n.session.as_ref().map(|s| s.as_str().to_owned()),
            n.request,
            data
        ],
    )?;
    Ok(())
}

pub(crate) fn save_delivery(c: &Connection, d: &DeliveryView, at: UnixMs) -> rusqlite::Result<()> {
    let Some(seq) = seq_of(&d.notification) else {
        return Ok(());
    };
    c.execute(
        "INSERT INTO notification_deliveries
             (seq, channel, status, attempts, error, latency_ms, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (seq, channel) DO UPDATE SET status = excluded.status,
             attempts = excluded.attempts, error = excluded.error,
             latency_ms = excluded.latency_ms, updated_ms = excluded.updated_ms",
        params![
            seq,
            d.channel,
            status_text(d.status),
            d.attempts,
            d.error,
            d.latency_ms.map(|l| l as i64),
            at.0
        ],
    )?;
    Ok(())
}

pub(crate) fn add_attempt(c: &Connection, a: &AttemptRecord) -> rusqlite::Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO notification_attempts
             (seq, channel, attempt, time_ms, ok, error, latency_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            a.seq,
            a.channel,
            a.attempt,
            a.time.0,
            a.ok,
            a.error,
            a.latency_ms as i64
        ],
    )?;
    Ok(())
}

/// The newest `limit` notifications, newest first, each with its deliveries.
pub(crate) fn notifications(
    c: &Connection,
    limit: u32,
) -> rusqlite::Result<Vec<StoredNotification>> {
    let mut st = c.prepare("SELECT seq, data FROM notifications ORDER BY seq DESC LIMIT ?1")?;
    let rows = st.query_map([limit], |row| {
        let seq: i64 = row.get(0)?;
        let data: String = row.get(1)?;
        Ok((seq, data))
    })?;
    let mut deliveries = c.prepare(
        "SELECT channel, status, attempts, error, latency_ms FROM notification_deliveries
         WHERE seq = ?1 ORDER BY channel",
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, data) = row?;
        let notification: Notification = serde_json::from_str(&data).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
        })?;
        let ds = deliveries
            .query_map([seq], |r| {
                let status: String = r.get(1)?;
                let latency: Option<i64> = r.get(4)?;
                Ok(DeliveryView {
                    notification: notification.id.clone(),
                    channel: r.get(0)?,
                    status: status_of(&status)?,
                    attempts: r.get(2)?,
                    error: r.get(3)?,
                    latency_ms: latency.map(|l| l.max(0) as u64),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.push(StoredNotification {
            notification,
            deliveries: ds,
        });
    }
    Ok(out)
}

/// Every attempt for the notification `seq`, in order.
pub(crate) fn attempts(c: &Connection, seq: i64) -> rusqlite::Result<Vec<AttemptRecord>> {
    let mut st = c.prepare(
        "SELECT channel, attempt, time_ms, ok, error, latency_ms FROM notification_attempts
         WHERE seq = ?1 ORDER BY time_ms, channel, attempt",
    )?;
    let rows = st.query_map([seq], |r| {
        let latency: i64 = r.get(5)?;
        Ok(AttemptRecord {
            seq,
            channel: r.get(0)?,
            attempt: r.get(1)?,
            time: UnixMs(r.get(2)?),
            ok: r.get(3)?,
            error: r.get(4)?,
            latency_ms: latency.max(0) as u64,
        })
    })?;
    rows.collect()
}

/// The highest sequence number used so far (0 for none).
pub(crate) fn last_seq(c: &Connection) -> rusqlite::Result<i64> {
    Ok(c.query_row("SELECT max(seq) FROM notifications", [], |r| {
        r.get::<_, Option<i64>>(0)
    })
    .optional()?
    .flatten()
    .unwrap_or(0))
}

impl Store {
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
        self.read("reading the delivery log", |c| notifications(c, limit))
    }

    /// Every attempt of the notification `seq`, oldest first.
    pub fn notification_attempts(&self, seq: i64) -> Result<Vec<AttemptRecord>, StoreError> {
        let _ = self.flush();
        self.read("reading the delivery log", |c| attempts(c, seq))
    }

    /// The highest notification sequence number stored (0 for none): new ones go on after it.
    pub fn last_notification_seq(&self) -> Result<i64, StoreError> {
        self.read("reading the delivery log", last_seq)
    }
}
