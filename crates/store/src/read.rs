//! The queries behind [`crate::Store`]'s read methods; each runs on the read connection.
//!
//! Rows are turned back into records here. A value the records cannot hold (an id that is
//! not a session id, an unknown backend or level, JSON that does not parse) is reported as
//! [`crate::StoreError::Malformed`] instead of being guessed.

use crate::records::{
    ActivityQuery, ActivityRecord, HostMetrics, Level, MetricSample, MetricTarget, ProcessRecord,
    SessionRecord, Tier,
};
use crate::time::UnixMs;
use crate::write::target_columns;
use paddock_proto::supervisor::Backend;
use paddock_proto::SessionId;
use rusqlite::types::{Type, Value};
use rusqlite::{params, Connection, Row};
use serde::de::IntoDeserializer;
use serde::Deserialize;

/// A conversion failure of column `idx`, which the store reports as malformed data.
fn bad(idx: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, what.into())
}

fn session_id(row: &Row<'_>, idx: usize) -> rusqlite::Result<SessionId> {
    let s: String = row.get(idx)?;
    SessionId::parse(&s).map_err(|e| bad(idx, e.to_string()))
}

fn opt_session_id(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<SessionId>> {
    match row.get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(s) => SessionId::parse(&s)
            .map(Some)
            .map_err(|e| bad(idx, e.to_string())),
    }
}

fn json(row: &Row<'_>, idx: usize) -> rusqlite::Result<serde_json::Value> {
    match row.get::<_, Option<String>>(idx)? {
        None => Ok(serde_json::Value::Null),
        Some(s) => serde_json::from_str(&s).map_err(|e| bad(idx, format!("bad JSON: {e}"))),
    }
}

fn opt_ms(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<UnixMs>> {
    Ok(row.get::<_, Option<i64>>(idx)?.map(UnixMs))
}

fn count(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(row.get::<_, i64>(idx)?).unwrap_or(0))
}

pub(crate) fn sessions(conn: &Connection) -> rusqlite::Result<Vec<SessionRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, agent, backend, name, cwd, pid, state, title, started_ms, ended_ms,
                tokens_in, tokens_out, cost_usd, last_activity_ms, extra
         FROM sessions ORDER BY started_ms DESC, id",
    )?;
    let rows = stmt.query_map([], |row| {
        let backend: String = row.get(2)?;
        let backend = Backend::deserialize(backend.as_str().into_deserializer())
            .map_err(|e: serde::de::value::Error| bad(2, format!("backend: {e}")))?;
        Ok(SessionRecord {
            id: session_id(row, 0)?,
            agent: row.get(1)?,
            backend,
            name: row.get(3)?,
            cwd: row.get(4)?,
            pid: row.get(5)?,
            state: row.get(6)?,
            title: row.get(7)?,
            started: UnixMs(row.get(8)?),
            ended: opt_ms(row, 9)?,
            tokens_in: count(row, 10)?,
            tokens_out: count(row, 11)?,
            cost_usd: row.get(12)?,
            last_activity: opt_ms(row, 13)?,
            extra: json(row, 14)?,
        })
    })?;
    rows.collect()
}

pub(crate) fn processes(conn: &Connection) -> rusqlite::Result<Vec<ProcessRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT pid, start_ms, command, args, cwd, session_id, agent, first_seen_ms,
                last_seen_ms, exit_code
         FROM processes ORDER BY first_seen_ms DESC, pid",
    )?;
    let rows = stmt.query_map([], |row| {
        let args: String = row.get(3)?;
        Ok(ProcessRecord {
            pid: row.get(0)?,
            start: UnixMs(row.get(1)?),
            command: row.get(2)?,
            args: serde_json::from_str(&args).map_err(|e| bad(3, format!("args: {e}")))?,
            cwd: row.get(4)?,
            session: opt_session_id(row, 5)?,
            agent: row.get(6)?,
            first_seen: UnixMs(row.get(7)?),
            last_seen: UnixMs(row.get(8)?),
            exit_code: row.get(9)?,
        })
    })?;
    rows.collect()
}

pub(crate) fn activity(
    conn: &Connection,
    q: &ActivityQuery,
) -> rusqlite::Result<Vec<ActivityRecord>> {
    let mut sql = String::from(
        "SELECT id, time_ms, session_id, level, kind, message, details FROM activity_logs
         WHERE 1 = 1",
    );
    let mut args: Vec<Value> = Vec::new();
    if let Some(session) = &q.session {
        sql.push_str(" AND session_id = ?");
        args.push(Value::Text(session.as_str().to_owned()));
    }
    if let Some(min) = q.level {
        let levels: Vec<Level> = Level::ALL.into_iter().filter(|l| *l >= min).collect();
        sql.push_str(" AND level IN (");
        sql.push_str(&vec!["?"; levels.len()].join(", "));
        sql.push(')');
        args.extend(levels.iter().map(|l| Value::Text(l.as_str().to_owned())));
    }
    if let Some(kind) = &q.kind {
        sql.push_str(" AND kind = ?");
        args.push(Value::Text(kind.clone()));
    }
    if let Some(since) = q.since {
        sql.push_str(" AND time_ms >= ?");
        args.push(Value::Integer(since.0));
    }
    if let Some(before) = q.before_id {
        sql.push_str(" AND id < ?");
        args.push(Value::Integer(before));
    }
    sql.push_str(" ORDER BY time_ms DESC, id DESC");
    if let Some(limit) = q.limit {
        sql.push_str(" LIMIT ?");
        args.push(Value::Integer(i64::from(limit)));
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |row| {
        let level: String = row.get(3)?;
        Ok(ActivityRecord {
            id: Some(row.get(0)?),
            time: UnixMs(row.get(1)?),
            session: opt_session_id(row, 2)?,
            level: Level::parse(&level).ok_or_else(|| bad(3, format!("level `{level}`")))?,
            kind: row.get(4)?,
            message: row.get(5)?,
            details: json(row, 6)?,
        })
    })?;
    rows.collect()
}

/// The finest tier whose retained history reaches back to `since`: a tier covers `since`
/// when retention has not yet deleted anything at or after it. When none does (the range
/// starts before the retention period), the coarsest.
pub(crate) fn covering_tier(conn: &Connection, since: UnixMs) -> rusqlite::Result<Tier> {
    let mut stmt = conn.prepare_cached("SELECT tier, pruned_before_ms FROM metric_tiers")?;
    let pruned: Vec<(i64, i64)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let covers = |tier: Tier| {
        pruned
            .iter()
            .find(|(t, _)| *t == tier.as_i64())
            .is_none_or(|(_, before)| since.0 >= *before)
    };
    Ok(Tier::ALL
        .into_iter()
        .find(|t| covers(*t))
        .unwrap_or(Tier::TenMinutes))
}

/// The rows of one tier that overlap `[since, until]`, oldest first.
pub(crate) fn metrics_in_tier(
    conn: &Connection,
    target: &MetricTarget,
    tier: Tier,
    since: UnixMs,
    until: UnixMs,
) -> rusqlite::Result<Vec<MetricSample>> {
    let (kind, id) = target_columns(target);
    let mut stmt = conn.prepare_cached(
        "SELECT t_ms, samples, cpu_sum, cpu_max, rss_sum, rss_max, host_samples,
                mem_total_sum, swap_used_sum, load1_sum
         FROM metric_samples
         WHERE target_kind = ?1 AND target_id = ?2 AND tier = ?3 AND t_ms > ?4 AND t_ms <= ?5
         ORDER BY t_ms",
    )?;
    // A bucket [t, t + width) overlaps the range when t + width > since.
    let after = since.0.saturating_sub(tier.bucket_ms());
    let rows = stmt.query_map(params![kind, id, tier.as_i64(), after, until.0], |row| {
        let samples = count(row, 1)?.max(1);
        let n = samples as f64;
        let host_samples = count(row, 6)?;
        let avg = |sum: i64, n: u64| (sum as f64 / n as f64).round().max(0.0) as u64;
        let host = if host_samples > 0 {
            Some(HostMetrics {
                mem_total_bytes: avg(row.get(7)?, host_samples),
                swap_used_bytes: avg(row.get(8)?, host_samples),
                load_1m: row.get::<_, f64>(9)? / host_samples as f64,
            })
        } else {
            None
        };
        Ok(MetricSample {
            target: target.clone(),
            time: UnixMs(row.get(0)?),
            tier,
            samples: u32::try_from(samples).unwrap_or(u32::MAX),
            cpu_percent: row.get::<_, f64>(2)? / n,
            cpu_max_percent: row.get(3)?,
            rss_bytes: avg(row.get(4)?, samples),
            rss_max_bytes: count(row, 5)?,
            host,
        })
    })?;
    rows.collect()
}

/// `PRAGMA integrity_check`'s answer, one line per problem; `ok` when there is none.
pub(crate) fn integrity_check(conn: &Connection) -> rusqlite::Result<String> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let lines: Vec<String> = stmt
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(lines.join("\n"))
}
