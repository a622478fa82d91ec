//! The SQL that commits one batch of queued records: called by the writer thread only.
//!
//! A batch is one `BEGIN IMMEDIATE` transaction. If a record's own data is refused (a
//! constraint, a value too big), the batch is written again one record at a time inside
//! savepoints, so that the one bad record is dropped, logged and counted instead of blocking
//! the queue for ever; any other error (disk full, I/O, busy) fails the whole batch, which the
//! writer keeps and retries.

use crate::error::is_data_error;
use crate::queue::{Batch, Durable};
use crate::records::{
    ActivityRecord, MetricSample, MetricTarget, ProcessRecord, SessionRecord, Tier,
};
use rusqlite::{params, Connection, Transaction, TransactionBehavior};

/// What a committed batch left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct WriteOutcome {
    /// Records refused by the database for their own data, logged and dropped.
    pub rejected: u64,
}

/// Commits `batch` in one transaction (see the module documentation).
pub(crate) fn write_batch(conn: &mut Connection, batch: &Batch) -> rusqlite::Result<WriteOutcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    match write_all(&tx, batch, false) {
        Ok(outcome) => {
            tx.commit()?;
            Ok(outcome)
        }
        Err(e) if is_data_error(&e) => {
            drop(tx);
            tracing::warn!(
                error = %e,
                "a queued record was refused; writing the batch one record at a time to find it"
            );
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let outcome = write_all(&tx, batch, true)?;
            tx.commit()?;
            Ok(outcome)
        }
        Err(e) => Err(e),
    }
}

fn write_all(tx: &Transaction<'_>, batch: &Batch, isolate: bool) -> rusqlite::Result<WriteOutcome> {
    let mut out = WriteOutcome::default();
    each(
        tx,
        &batch.sessions,
        isolate,
        "session",
        &mut out,
        upsert_session,
    )?;
    each(
        tx,
        &batch.processes,
        isolate,
        "process",
        &mut out,
        upsert_process,
    )?;
    each(
        tx,
        &batch.activity,
        isolate,
        "activity entry",
        &mut out,
        insert_activity,
    )?;
    each(
        tx,
        &batch.metrics,
        isolate,
        "metric sample",
        &mut out,
        insert_metric,
    )?;
    each(
        tx,
        &batch.durable,
        isolate,
        "audit, device or delivery-log record",
        &mut out,
        write_durable,
    )?;
    Ok(out)
}

fn each<'a, T: std::fmt::Debug + 'a>(
    tx: &Transaction<'_>,
    items: impl IntoIterator<Item = &'a T>,
    isolate: bool,
    what: &str,
    out: &mut WriteOutcome,
    write: fn(&Transaction<'_>, &T) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    for item in items {
        if !isolate {
            write(tx, item)?;
            continue;
        }
        tx.execute_batch("SAVEPOINT record")?;
        match write(tx, item) {
            Ok(()) => tx.execute_batch("RELEASE record")?,
            Err(e) if is_data_error(&e) => {
                tx.execute_batch("ROLLBACK TO record; RELEASE record")?;
                out.rejected += 1;
                tracing::error!(
                    error = %e, record = ?item,
                    "the database refused a {what}; it is dropped (a bug: please report it \
                     with this line)"
                );
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn write_durable(tx: &Transaction<'_>, d: &Durable) -> rusqlite::Result<()> {
    match d {
        Durable::Audit(a) => crate::access::append_audit(tx, a),
        Durable::Device(change) => crate::access::apply_device_change(tx, change),
        Durable::Notification(n, created) => {
            crate::notifications::save_notification(tx, n, *created)
        }
        Durable::Delivery(d, at) => crate::notifications::save_delivery(tx, d, *at),
        Durable::Attempt(a) => crate::notifications::add_attempt(tx, a),
    }
}

/// An unsigned count as SQLite's signed integer, saturating.
pub(crate) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A float SQLite can store (it turns NaN into NULL, which NOT NULL columns refuse).
fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

fn json_or_null(v: &serde_json::Value) -> Option<String> {
    (!v.is_null()).then(|| v.to_string())
}

fn upsert_session(tx: &Transaction<'_>, s: &SessionRecord) -> rusqlite::Result<()> {
    let extra = json_or_null(&s.extra).unwrap_or_else(|| "{}".to_owned());
    tx.prepare_cached(
        "INSERT INTO sessions (id, agent, backend, name, cwd, pid, state, title, started_ms,
             ended_ms, tokens_in, tokens_out, cost_usd, last_activity_ms, extra)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (id) DO UPDATE SET
             agent = excluded.agent, backend = excluded.backend, name = excluded.name,
             cwd = excluded.cwd, pid = excluded.pid, state = excluded.state,
             title = excluded.title, started_ms = excluded.started_ms,
             ended_ms = excluded.ended_ms, tokens_in = excluded.tokens_in,
             tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd,
             last_activity_ms = excluded.last_activity_ms, extra = excluded.extra",
    )?
    .execute(params![
        s.id.as_str(),
        s.agent,
        s.backend.to_string(),
        s.name,
        s.cwd,
        s.pid,
        s.state,
        s.title,
        s.started.0,
        s.ended.map(|t| t.0),
        int(s.tokens_in),
        int(s.tokens_out),
        finite(s.cost_usd),
        s.last_activity.map(|t| t.0),
        extra,
    ])?;
    Ok(())
}

fn upsert_process(tx: &Transaction<'_>, p: &ProcessRecord) -> rusqlite::Result<()> {
    let args = serde_json::Value::from(p.args.clone()).to_string();
    tx.prepare_cached(
        "INSERT INTO processes (pid, start_ms, command, args, cwd, session_id, agent,
             first_seen_ms, last_seen_ms, exit_code)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (pid, start_ms) DO UPDATE SET
             command = excluded.command, args = excluded.args,
             cwd = coalesce(excluded.cwd, cwd),
             session_id = coalesce(excluded.session_id, session_id),
             agent = coalesce(excluded.agent, agent),
             first_seen_ms = min(first_seen_ms, excluded.first_seen_ms),
             last_seen_ms = max(last_seen_ms, excluded.last_seen_ms),
             exit_code = coalesce(excluded.exit_code, exit_code)",
    )?
    .execute(params![
        p.pid,
        p.start.0,
        p.command,
        args,
        p.cwd,
        p.session.as_ref().map(|s| s.as_str()),
        p.agent,
        p.first_seen.0,
        p.last_seen.0,
        p.exit_code,
    ])?;
    Ok(())
}

fn insert_activity(tx: &Transaction<'_>, a: &ActivityRecord) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO activity_logs (time_ms, session_id, level, kind, message, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        a.time.0,
        a.session.as_ref().map(|s| s.as_str()),
        a.level.as_str(),
        a.kind,
        a.message,
        json_or_null(&a.details),
    ])?;
    Ok(())
}

/// The `(target_kind, target_id)` columns of a target.
pub(crate) fn target_columns(t: &MetricTarget) -> (&'static str, &str) {
    match t {
        MetricTarget::Host => ("host", ""),
        MetricTarget::Session(id) => ("session", id.as_str()),
    }
}

/// Adds a raw sample, and (only if it was new) adds it to its 1 min and 10 min buckets.
fn insert_metric(tx: &Transaction<'_>, m: &MetricSample) -> rusqlite::Result<()> {
    let (kind, id) = target_columns(&m.target);
    let cpu = finite(m.cpu_percent);
    let rss = int(m.rss_bytes);
    let (host_samples, mem_total, swap_used, load1) = match m.host {
        Some(h) => (
            1,
            int(h.mem_total_bytes),
            int(h.swap_used_bytes),
            finite(h.load_1m),
        ),
        None => (0, 0, 0, 0.0),
    };
    let inserted = tx
        .prepare_cached(
            "INSERT INTO metric_samples (target_kind, target_id, tier, t_ms, samples, cpu_sum,
                 cpu_max, rss_sum, rss_max, host_samples, mem_total_sum, swap_used_sum, load1_sum)
             VALUES (?1, ?2, 0, ?3, 1, ?4, ?4, ?5, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            kind,
            id,
            m.time.0,
            cpu,
            rss,
            host_samples,
            mem_total,
            swap_used,
            load1
        ])?;
    if inserted == 0 {
        return Ok(());
    }
    let mut bucket = tx.prepare_cached(
        "INSERT INTO metric_samples (target_kind, target_id, tier, t_ms, samples, cpu_sum,
             cpu_max, rss_sum, rss_max, host_samples, mem_total_sum, swap_used_sum, load1_sum)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, ?6, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (target_kind, target_id, tier, t_ms) DO UPDATE SET
             samples = samples + 1,
             cpu_sum = cpu_sum + excluded.cpu_sum,
             cpu_max = max(cpu_max, excluded.cpu_max),
             rss_sum = rss_sum + excluded.rss_sum,
             rss_max = max(rss_max, excluded.rss_max),
             host_samples = host_samples + excluded.host_samples,
             mem_total_sum = mem_total_sum + excluded.mem_total_sum,
             swap_used_sum = swap_used_sum + excluded.swap_used_sum,
             load1_sum = load1_sum + excluded.load1_sum",
    )?;
    for tier in [Tier::Minute, Tier::TenMinutes] {
        bucket.execute(params![
            kind,
            id,
            tier.as_i64(),
            tier.bucket_start(m.time).0,
            cpu,
            rss,
            host_samples,
            mem_total,
            swap_used,
            load1,
        ])?;
    }
    Ok(())
}
