//! Retention: deleting what is older than the configured number of days, and the metric
//! tiers' own shorter spans. Called by [`crate::Store::enforce_retention`] and, every
//! `housekeeping_every`, by the writer thread.
//!
//! The boundary: with `cutoff = now - days`, a record is deleted when its time is strictly
//! before `cutoff` (one exactly `days` old is kept). Activity goes by its time; sessions only
//! once ended, by their end; processes by when they were last seen; a metric row when every
//! sample in it is older than its tier's horizon (`t + bucket width <= horizon`, which for a
//! raw sample is `t < horizon`). The horizons are `now - 1 h` for raw samples and
//! `now - 24 h` for 1 min averages (never later than `cutoff`), `cutoff` for 10 min averages.
//! Notifications go by when they were made, with their deliveries and attempts.
//! Devices and the audit log are never deleted here.

use crate::records::{RetentionReport, Tier};
use crate::time::UnixMs;
use rusqlite::{params, Connection, TransactionBehavior};

const DAY_MS: i64 = 86_400_000;

/// Where `tier` is pruned to for `now` and `cutoff`.
pub(crate) fn horizon(tier: Tier, now: UnixMs, cutoff: UnixMs) -> UnixMs {
    match tier.keep_ms() {
        Some(keep) => now.add_ms(-keep).max(cutoff),
        None => cutoff,
    }
}

pub(crate) fn enforce(
    conn: &mut Connection,
    now: UnixMs,
    days: u32,
) -> rusqlite::Result<RetentionReport> {
    let cutoff = now.add_ms(-i64::from(days).saturating_mul(DAY_MS));
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let deleted = |n: usize| n as u64;
    let mut report = RetentionReport {
        activity: deleted(tx.execute("DELETE FROM activity_logs WHERE time_ms < ?1", [cutoff.0])?),
        sessions: deleted(tx.execute(
            "DELETE FROM sessions WHERE ended_ms IS NOT NULL AND ended_ms < ?1",
            [cutoff.0],
        )?),
        processes: deleted(
            tx.execute("DELETE FROM processes WHERE last_seen_ms < ?1", [cutoff.0])?,
        ),
        metric_samples: 0,
        notifications: deleted(tx.execute(
            "DELETE FROM notifications WHERE created_ms < ?1",
            [cutoff.0],
        )?),
    };
    for tier in Tier::ALL {
        let h = horizon(tier, now, cutoff);
        report.metric_samples += deleted(tx.execute(
            "DELETE FROM metric_samples WHERE tier = ?1 AND t_ms <= ?2",
            params![tier.as_i64(), h.0.saturating_sub(tier.bucket_ms())],
        )?);
        tx.execute(
            "UPDATE metric_tiers SET pruned_before_ms = max(pruned_before_ms, ?2) WHERE tier = ?1",
            params![tier.as_i64(), h.0],
        )?;
    }
    tx.commit()?;
    Ok(report)
}
