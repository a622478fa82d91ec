//! Tests that need the store's internals: a full disk (through `max_page_count` on the
//! writer's connection) and a held-back writer (to fill the queue).

use super::*;
use paddock_proto::supervisor::HealthStatus;
use paddock_proto::SessionId;
use std::time::Duration;

fn activity(i: u32, size: usize) -> ActivityRecord {
    let mut a = ActivityRecord::new(
        UnixMs(1_000 + i64::from(i)),
        None,
        Level::Info,
        "test",
        "x".repeat(size),
    );
    a.details = serde_json::json!({ "i": i });
    a
}

fn count_activity(store: &Store) -> usize {
    store
        .activity(&ActivityQuery::default())
        .expect("activity")
        .len()
}

/// Polls `cond` until it holds or `within` passes; panics naming `what`.
fn wait_for(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A store in `dir` that retries a failed write after 20 to 50 ms, so tests see retries soon.
fn store_retrying_fast(dir: &std::path::Path) -> Store {
    let options = StoreOptions {
        retry_min: Duration::from_millis(20),
        retry_max: Duration::from_millis(50),
        ..StoreOptions::default()
    };
    Store::open_with(&dir.join("p.db"), options).expect("open")
}

/// Makes the disk full for the writer: the database may not grow past its current pages.
fn fill_the_disk(store: &Store) {
    store.with_write_conn(|c| {
        let pages: i64 = c
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .expect("pages");
        c.pragma_update(None, "max_page_count", pages)
            .expect("limit");
    });
}

/// Gives the writer room again (SQLite's largest page count).
fn free_the_disk(store: &Store) {
    store.with_write_conn(|c| {
        c.pragma_update(None, "max_page_count", 1_073_741_823_i64)
            .expect("unlimit")
    });
}

#[test]
fn a_full_disk_keeps_the_queue_reports_degraded_and_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_retrying_fast(dir.path());
    store.log_activity(activity(0, 10));
    store.flush().expect("first flush");
    fill_the_disk(&store);

    for i in 1..=300 {
        store.log_activity(activity(i, 1_000));
    }
    let err = store.flush().expect_err("the disk is full");
    assert!(matches!(err, StoreError::WriteFailed { .. }), "{err}");
    assert!(
        err.to_string().contains("full"),
        "the error names the cause: {err}"
    );
    let health = store.health();
    assert_eq!(health.status, HealthStatus::Degraded, "{health:?}");
    assert!(health.consecutive_failures >= 1);
    assert!(
        health.message.contains("free some space"),
        "{}",
        health.message
    );
    assert_eq!(health.queued, 300, "nothing was lost: {health:?}");
    assert_eq!(count_activity(&store), 1);

    // Retries go on in the background while the disk stays full.
    wait_for("a second failed attempt", Duration::from_secs(5), || {
        store.health().consecutive_failures >= 2
    });

    free_the_disk(&store);
    store.flush().expect("flush after space was freed");
    assert_eq!(count_activity(&store), 301);
    let health = store.health();
    assert_eq!(health.status, HealthStatus::Healthy, "{health:?}");
    assert_eq!(health.last_error, None);
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

/// A notification of sequence `seq`, for the delivery log.
fn notification(seq: i64) -> paddock_proto::notify::Notification {
    use paddock_proto::notify::{Notification, NotificationKind, NotificationState};
    Notification {
        id: format!("n{seq}"),
        kind: NotificationKind::Test,
        rule: "test".into(),
        session: None,
        session_name: None,
        title: "Paddock test notification".into(),
        body: "made while the disk was full".into(),
        link: "/".into(),
        request: None,
        tool: None,
        detail: None,
        actions: Vec::new(),
        created_at: "2027-01-15T08:00:00Z".into(),
        state: NotificationState::Pending,
    }
}

fn audit_entry(action: &str) -> AuditRecord {
    AuditRecord {
        id: 0,
        time: UnixMs(2_000),
        actor: "ip:127.0.0.1".into(),
        device_id: None,
        action: action.into(),
        target: None,
        result: "unauthenticated".into(),
        details: Some(serde_json::json!("bad signature")),
    }
}

#[test]
fn on_a_full_disk_audit_device_and_delivery_log_records_wait_in_memory_and_are_written_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store_retrying_fast(dir.path());
    let device = DeviceRecord {
        id: "dev-a".into(),
        name: "phone".into(),
        role: "viewer".into(),
        token_hash: "h0".into(),
        created: UnixMs(1_000),
        last_seen: None,
        revoked: None,
    };
    store
        .insert_device(&device)
        .expect("a device, while there is space");
    assert_eq!(
        store.append_audit(&audit_entry("before")),
        Persisted::Written
    );
    fill_the_disk(&store);

    // What the activity needs fills the disk (the batch holding it fails as a whole).
    for i in 1..=300 {
        store.log_activity(activity(i, 1_000));
    }
    store.flush().expect_err("the disk is full");
    // Pairing a new device is refused, with the cause named (even if its row would fit).
    let mut other = device.clone();
    other.id = "dev-b".into();
    other.token_hash = "hb".into();
    let err = store
        .insert_device(&other)
        .expect_err("no room for a device");
    assert!(matches!(err, StoreError::DiskFull { .. }), "{err}");

    // Everything else is kept, in order, and counted.
    for i in 0..50 {
        assert!(matches!(
            store.append_audit(&audit_entry(&format!("during{i}"))),
            Persisted::Queued(why) if why.contains("full")
        ));
    }
    assert!(matches!(
        store.set_device_token("dev-a", "h1"),
        Persisted::Queued(_)
    ));
    assert!(matches!(
        store.rename_device("dev-a", "old phone"),
        Persisted::Queued(_)
    ));
    assert!(matches!(
        store.revoke_device("dev-a", UnixMs(3_000)),
        Persisted::Queued(_)
    ));
    store.save_notification(&notification(1), UnixMs(3_000));
    store.save_delivery(
        &paddock_proto::notify::DeliveryView {
            notification: "n1".into(),
            channel: "web_push".into(),
            status: paddock_proto::notify::DeliveryStatus::Failed,
            attempts: 1,
            error: Some("no subscriptions".into()),
            latency_ms: None,
        },
        UnixMs(3_001),
    );
    let health = store.health();
    assert_eq!(health.status, HealthStatus::Degraded, "{health:?}");
    assert_eq!(health.queued_durable, 55, "{health:?}");
    assert_eq!(health.component().pending_writes, Some(355));
    assert_eq!(health.component().name, "database");
    assert!(
        health.message.contains("55 of them audit entries"),
        "{}",
        health.message
    );
    let written = store.audit(&AuditQuery {
        limit: 100,
        ..Default::default()
    });
    assert_eq!(written.expect("audit").len(), 1, "only what came before");

    free_the_disk(&store);
    wait_for("the queue to be written", Duration::from_secs(5), || {
        store.health().queued == 0
    });
    let audit = store
        .audit(&AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .expect("audit");
    let actions: Vec<&str> = audit.iter().rev().map(|a| a.action.as_str()).collect();
    let mut want = vec!["before".to_owned()];
    want.extend((0..50).map(|i| format!("during{i}")));
    assert_eq!(actions, want, "all of them, in order");
    let devices = store.devices().expect("devices");
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(devices[0].token_hash, "h1");
    assert_eq!(devices[0].name, "old phone");
    assert_eq!(devices[0].revoked, Some(UnixMs(3_000)));
    let log = store.notifications(10).expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].deliveries.len(), 1);
    assert_eq!(store.health().status, HealthStatus::Healthy);
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

#[test]
fn a_backed_up_queue_drops_the_oldest_metrics_but_keeps_activity_and_sessions() {
    let store = Store::open_in_memory_with(StoreOptions {
        max_queued: 100,
        ..StoreOptions::default()
    })
    .expect("open");
    store.pause_writer(true);
    let id = SessionId::parse("s1").expect("id");
    store.upsert_session(SessionRecord::new(
        id.clone(),
        "claude",
        paddock_proto::supervisor::Backend::Holder,
        UnixMs(0),
    ));
    for i in 0..50 {
        store.log_activity(activity(i, 5));
    }
    for t in 0..200 {
        store.record_metric(MetricSample::new(
            MetricTarget::Host,
            UnixMs(t * 1_000),
            1.0,
            1,
        ));
    }
    let health = store.health();
    assert_eq!(health.status, HealthStatus::Degraded);
    assert_eq!(health.queued, 100);
    assert_eq!(
        health.dropped_metrics, 151,
        "1 session + 50 activity + 49 newest metrics fit"
    );
    assert_eq!(health.dropped_activity, 0);
    assert!(health.message.contains("dropped"), "{}", health.message);

    store.pause_writer(false);
    store.flush().expect("flush");
    assert_eq!(count_activity(&store), 50);
    assert_eq!(store.sessions().expect("sessions").len(), 1);
    let kept = store
        .metrics_in_tier(
            &MetricTarget::Host,
            Tier::Raw,
            SystemTime::UNIX_EPOCH,
            UnixMs(1_000_000).to_system_time(),
        )
        .expect("metrics");
    let times: Vec<i64> = kept.iter().map(|m| m.time.0).collect();
    let newest: Vec<i64> = (151..200).map(|t| t * 1_000).collect();
    assert_eq!(times, newest, "the oldest samples were the ones dropped");
}

fn pragma(conn: &Connection, name: &str) -> String {
    conn.query_row(&format!("PRAGMA {name}"), [], |r| {
        r.get::<_, rusqlite::types::Value>(0)
    })
    .map(|v| match v {
        rusqlite::types::Value::Integer(i) => i.to_string(),
        rusqlite::types::Value::Text(t) => t,
        other => format!("{other:?}"),
    })
    .expect(name)
}

#[test]
fn connections_run_in_wal_with_normal_sync_foreign_keys_and_a_busy_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("p.db")).expect("open");
    store.with_write_conn(|c| {
        assert_eq!(pragma(c, "journal_mode"), "wal");
        assert_eq!(pragma(c, "synchronous"), "1", "NORMAL");
        assert_eq!(pragma(c, "foreign_keys"), "1");
        assert_eq!(pragma(c, "busy_timeout"), "5000");
        assert_eq!(pragma(c, "query_only"), "0");
    });
    store.with_read_conn(|c| {
        assert_eq!(pragma(c, "journal_mode"), "wal");
        assert_eq!(pragma(c, "foreign_keys"), "1");
        assert_eq!(pragma(c, "busy_timeout"), "5000");
        assert_eq!(
            pragma(c, "query_only"),
            "1",
            "the read connection cannot write"
        );
    });
    // The one foreign key of the schema is enforced through the store's connection.
    let err = store
        .with_write_conn(|c| {
            c.execute(
                "INSERT INTO audit_log (time_ms, actor, device_id, action, result)
                 VALUES (1, 'owner', 'no-such-device', 'kill', 'ok')",
                [],
            )
        })
        .expect_err("a dangling device id is refused");
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
}

#[test]
fn a_flush_with_nothing_queued_returns_at_once() {
    let store = Store::open_in_memory().expect("open");
    store.flush().expect("flush");
    assert_eq!(store.health().status, HealthStatus::Healthy);
}

#[test]
fn a_file_that_is_not_a_database_is_moved_aside_and_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.db");
    std::fs::write(&path, b"not sqlite at all, just some bytes".repeat(200)).expect("garbage");
    assert!(matches!(
        Store::open(&path),
        Err(StoreError::NotADatabase { .. })
    ));
    let store = Store::open_recovering(&path, StoreOptions::default()).expect("recovered");
    let health = store.health();
    assert_eq!(health.status, HealthStatus::Degraded, "{health:?}");
    assert!(health.message.contains("moved aside"), "{}", health.message);
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("p.db.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1);
    store.log_activity(activity(1, 10));
    store.flush().expect("the fresh database takes writes");
    assert_eq!(count_activity(&store), 1);
}

#[test]
fn a_database_deleted_while_open_is_rebuilt_with_everything_committed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sub").join("p.db");
    let store = Store::open(&path).expect("open");
    assert_eq!(store.recover_if_deleted().expect("check"), None, "in place");
    for i in 0..20 {
        store.log_activity(activity(i, 100));
    }
    store.flush().expect("flush");
    std::fs::remove_dir_all(dir.path().join("sub")).expect("rm -rf");
    store.log_activity(activity(20, 100));

    let done = store.recover_if_deleted().expect("rebuilt");
    assert!(done.is_some_and(|d| d.contains("nothing was lost")));
    assert!(path.exists());
    store.flush().expect("writes go to the rebuilt file");
    assert_eq!(count_activity(&store), 21);
    assert_eq!(store.integrity_check().expect("check"), "ok");
    let reopened = Store::open(&path).expect("reopen");
    assert_eq!(count_activity(&reopened), 21, "it is the file at the path");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(store.recover_if_deleted().expect("check"), None);
}
