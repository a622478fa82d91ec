//! The store's behaviour against real SQLite files in temporary directories: opening,
//! reopening and refusing files, batching and concurrent writers, refused records, health
//! and the delivery log. What it keeps of sessions, processes, activity and metrics, and
//! how it reads and prunes them: `records.rs`.

mod common;

use common::{count, sid, st, wait_for, DataDir, DAY};
use paddock_proto::supervisor::{Backend, HealthStatus};
use paddock_store::{
    ActivityQuery, ActivityRecord, Level, MetricSample, MetricTarget, SessionRecord, Store,
    StoreError, StoreOptions, UnixMs, SCHEMA_VERSION,
};
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

fn schema_dump(conn: &rusqlite::Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare(
            "SELECT type || ' ' || name || ': ' || coalesce(sql, '')
             FROM sqlite_master ORDER BY name",
        )
        .expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn opening_creates_private_directories_the_whole_schema_and_a_wal() {
    let dir = DataDir::new();
    let store = dir.open();
    assert_eq!(mode(&dir.db()), 0o600);
    assert_eq!(mode(dir.db().parent().expect("parent")), 0o700);

    let raw = dir.raw();
    let version: u32 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, SCHEMA_VERSION);
    let journal: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal mode");
    assert_eq!(journal, "wal");
    let tables: BTreeSet<String> = {
        let mut stmt = raw
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let expected: BTreeSet<String> = [
        "activity_logs",
        "audit_log",
        "devices",
        "history_fts",
        "history_fts_config",
        "history_fts_content",
        "history_fts_data",
        "history_fts_docsize",
        "history_fts_idx",
        "history_sessions",
        "metric_samples",
        "metric_tiers",
        "notification_attempts",
        "notification_deliveries",
        "notifications",
        "processes",
        "sessions",
        "transcript_cursors",
    ]
    .map(String::from)
    .into();
    assert_eq!(tables, expected);
    for (table, column) in [
        ("processes", "exit_code"),
        ("sessions", "extra"),
        ("activity_logs", "details"),
        ("metric_samples", "load1_sum"),
        ("devices", "token_hash"),
        ("devices", "revoked_ms"),
        ("audit_log", "device_id"),
    ] {
        let n = count(
            &raw,
            &format!("SELECT count(*) FROM pragma_table_info('{table}') WHERE name = '{column}'"),
        );
        assert_eq!(n, 1, "{table}.{column}");
    }

    store.log_activity(ActivityRecord::new(UnixMs(1), None, Level::Info, "k", "m"));
    store.flush().expect("flush");
    let wal = dir.db().with_extension("db-wal");
    assert!(wal.exists(), "writes go to the WAL");
    assert_eq!(mode(&wal), 0o600, "the WAL is as private as the database");
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

#[test]
fn reopening_keeps_the_data_and_the_schema_unchanged() {
    let dir = DataDir::new();
    let store = dir.open();
    store.upsert_session(SessionRecord::new(
        sid("a1"),
        "claude",
        Backend::Holder,
        UnixMs(5),
    ));
    store.flush().expect("flush");
    let before = schema_dump(&dir.raw());
    drop(store);

    for _ in 0..3 {
        let store = dir.open();
        assert_eq!(store.sessions().expect("sessions").len(), 1);
        drop(store);
    }
    let raw = dir.raw();
    assert_eq!(schema_dump(&raw), before);
    let version: u32 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn dropping_the_last_handle_commits_what_is_queued() {
    let dir = DataDir::new();
    let store = dir.open_with(StoreOptions {
        batch_interval: Duration::from_secs(3600),
        ..StoreOptions::default()
    });
    let clone = store.clone();
    for i in 0..10 {
        clone.log_activity(ActivityRecord::new(UnixMs(i), None, Level::Info, "k", "m"));
    }
    drop(store);
    drop(clone);
    assert_eq!(count(&dir.raw(), "SELECT count(*) FROM activity_logs"), 10);
}

#[test]
fn an_existing_database_readable_by_others_is_made_private() {
    let dir = DataDir::new();
    drop(dir.open());
    std::fs::set_permissions(dir.db(), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    drop(dir.open());
    assert_eq!(mode(&dir.db()), 0o600);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_with_advice() {
    let dir = DataDir::new();
    std::fs::create_dir_all(dir.db().parent().expect("parent")).expect("mkdir");
    std::fs::write(dir.db(), vec![0x42; 8192]).expect("write");
    let err = Store::open(&dir.db()).err().expect("refused");
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
    assert!(err.to_string().contains("move it aside"), "{err}");
}

#[test]
fn a_database_from_a_newer_paddock_is_refused() {
    let dir = DataDir::new();
    drop(dir.open());
    let conn = rusqlite::Connection::open(dir.db()).expect("open");
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .expect("bump");
    drop(conn);
    let err = Store::open(&dir.db()).err().expect("refused");
    assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err}");
}

#[test]
fn queued_records_are_committed_on_flush_on_a_full_batch_or_after_the_interval() {
    let dir = DataDir::new();
    let activity_rows = |store: &Store| {
        store
            .activity(&ActivityQuery::default())
            .expect("read")
            .len()
    };
    let rec = |i: i64| ActivityRecord::new(UnixMs(i), None, Level::Info, "k", format!("m{i}"));

    // An interval that never comes: only a flush or a full batch commits.
    let store = dir.open_with(StoreOptions {
        batch_interval: Duration::from_secs(3600),
        batch_records: 500,
        ..StoreOptions::default()
    });
    for i in 0..10 {
        store.log_activity(rec(i));
    }
    assert_eq!(
        activity_rows(&store),
        0,
        "nothing is written before the batch is due"
    );
    store.flush().expect("flush");
    assert_eq!(activity_rows(&store), 10);
    for i in 10..510 {
        store.log_activity(rec(i));
    }
    wait_for(
        "a full batch of 500 to be committed",
        Duration::from_secs(10),
        || activity_rows(&store) == 510,
    );
    drop(store);

    // The default interval: committed within ~200 ms without a flush.
    let store = dir.open();
    store.log_activity(rec(1_000));
    wait_for(
        "the 200 ms batch to be committed",
        Duration::from_secs(10),
        || activity_rows(&store) == 511,
    );
    assert!(store.health().last_commit.is_some());
}

#[test]
fn many_threads_writing_at_once_lose_nothing() {
    let dir = DataDir::new();
    let store = dir.open();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..5_000 {
                    store.log_activity(ActivityRecord::new(
                        UnixMs(i),
                        None,
                        Level::Debug,
                        "t",
                        format!("{t}"),
                    ));
                    store.record_metric(MetricSample::new(
                        MetricTarget::Host,
                        UnixMs(t * 100_000 + i),
                        1.0,
                        1,
                    ));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer thread");
    }
    store.flush().expect("flush");
    let raw = dir.raw();
    assert_eq!(count(&raw, "SELECT count(*) FROM activity_logs"), 20_000);
    assert_eq!(
        count(&raw, "SELECT count(*) FROM metric_samples WHERE tier = 0"),
        20_000
    );
    assert_eq!(store.health().status, HealthStatus::Healthy);
}

#[test]
fn a_record_the_database_refuses_is_dropped_alone_and_counted() {
    let dir = DataDir::new();
    drop(dir.open());
    let conn = rusqlite::Connection::open(dir.db()).expect("open");
    conn.execute_batch(
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON activity_logs
         WHEN NEW.message = 'poison' BEGIN SELECT RAISE(ABORT, 'poison refused'); END;",
    )
    .expect("trigger");
    drop(conn);

    let store = dir.open();
    for msg in ["before", "poison", "after"] {
        store.log_activity(ActivityRecord::new(UnixMs(1), None, Level::Info, "k", msg));
    }
    store.upsert_session(SessionRecord::new(
        sid("a1"),
        "claude",
        Backend::Holder,
        UnixMs(1),
    ));
    store
        .flush()
        .expect("the batch commits without the bad record");
    let mut messages: Vec<String> = store
        .activity(&ActivityQuery::default())
        .expect("activity")
        .into_iter()
        .map(|a| a.message)
        .collect();
    messages.sort();
    assert_eq!(messages, ["after", "before"]);
    assert_eq!(store.sessions().expect("sessions").len(), 1);
    let health = store.health();
    assert_eq!(health.rejected, 1);
    assert_eq!(health.status, HealthStatus::Healthy);
}

#[test]
fn a_fresh_store_is_healthy() {
    let store = Store::open_in_memory().expect("open");
    let h = store.health();
    assert_eq!(h.status, HealthStatus::Healthy);
    assert_eq!(
        (h.queued, h.dropped_metrics, h.consecutive_failures),
        (0, 0, 0)
    );
    assert_eq!(h.component().name, "database");
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

fn notification(seq: i64) -> paddock_proto::notify::Notification {
    use paddock_proto::notify::{Notification, NotificationKind, NotificationState};
    Notification {
        id: format!("n{seq}"),
        kind: NotificationKind::Permission,
        rule: "permission".into(),
        session: Some(sid("s1")),
        session_name: Some("claude".into()),
        title: "claude asks to run Bash".into(),
        body: "make".into(),
        link: "/#/sessions/s1".into(),
        request: Some("p1".into()),
        tool: Some("Bash".into()),
        detail: Some("make".into()),
        actions: Vec::new(),
        created_at: "2027-01-15T08:00:00Z".into(),
        state: NotificationState::Pending,
    }
}

#[test]
fn the_delivery_log_keeps_each_notification_delivery_and_attempt_across_a_reopen() {
    use paddock_proto::notify::{DeliveryStatus, DeliveryView, NotificationState};
    use paddock_store::AttemptRecord;
    let dir = DataDir::new();
    let now = 1_800_000_000_000_i64;
    {
        let store = dir.open();
        assert_eq!(store.last_notification_seq().expect("seq"), 0);
        let mut n = notification(7);
        store.save_notification(&n, UnixMs(now));
        let mut d = DeliveryView {
            notification: "n7".into(),
            channel: "web_push".into(),
            status: DeliveryStatus::Waiting,
            attempts: 0,
            error: Some("held".into()),
            latency_ms: None,
        };
        store.save_delivery(&d, UnixMs(now));
        for (attempt, ok) in [(1, false), (2, true)] {
            store.add_notification_attempt(&AttemptRecord {
                seq: 7,
                channel: "web_push".into(),
                attempt,
                time: UnixMs(now + i64::from(attempt)),
                ok,
                error: (!ok).then(|| "503 busy".to_owned()),
                latency_ms: 40,
            });
        }
        d.status = DeliveryStatus::Delivered;
        d.attempts = 2;
        d.error = None;
        d.latency_ms = Some(90);
        store.save_delivery(&d, UnixMs(now + 2));
        n.state = NotificationState::Answered {
            by: "web_push notification on phone".into(),
            verb: "allowed".into(),
            at: "2027-01-15T08:00:05Z".into(),
        };
        store.save_notification(&n, UnixMs(now));
        store.save_notification(&notification(3), UnixMs(now - 31 * DAY));
    }
    let store = dir.open();
    assert_eq!(store.last_notification_seq().expect("seq"), 7);
    let log = store.notifications(10).expect("log");
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0].notification.id, "n7", "newest first");
    assert!(
        matches!(&log[0].notification.state, NotificationState::Answered { by, .. } if by.contains("phone")),
        "{log:?}"
    );
    assert_eq!(log[0].deliveries.len(), 1);
    assert_eq!(log[0].deliveries[0].status, DeliveryStatus::Delivered);
    assert_eq!(log[0].deliveries[0].latency_ms, Some(90));
    let attempts = store.notification_attempts(7).expect("attempts");
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].error.as_deref(), Some("503 busy"));
    assert!(attempts[1].ok);

    let report = store.enforce_retention(st(now), 30).expect("retention");
    assert_eq!(report.notifications, 1, "the month-old one goes");
    let log = store.notifications(10).expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(store.notification_attempts(7).expect("attempts").len(), 2);
    assert_eq!(
        count(&dir.raw(), "SELECT count(*) FROM notification_deliveries"),
        1
    );
}
