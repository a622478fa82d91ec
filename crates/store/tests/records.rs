//! What the store keeps of sessions, processes, activity and metrics, and how it reads them
//! back (filters, downsampling tiers) and prunes them (retention), against real SQLite files.

mod common;

use common::{sid, st, DataDir, DAY, HOUR, MIN};
use paddock_proto::supervisor::Backend;
use paddock_store::{
    ActivityQuery, ActivityRecord, HostMetrics, Level, MetricSample, MetricTarget, ProcessRecord,
    RetentionReport, SessionRecord, Store, Tier, UnixMs,
};

fn process(pid: u32, seen: i64) -> ProcessRecord {
    ProcessRecord {
        pid,
        start: UnixMs(500),
        command: "claude".into(),
        args: vec!["--resume".into()],
        cwd: None,
        session: None,
        agent: None,
        first_seen: UnixMs(seen),
        last_seen: UnixMs(seen),
        exit_code: None,
    }
}

#[test]
fn upserting_a_session_replaces_the_row_of_the_same_id() {
    let dir = DataDir::new();
    let store = dir.open();
    let mut s = SessionRecord::new(sid("a1"), "claude", Backend::Tmux, UnixMs(1_000));
    s.name = Some("fix-tests".into());
    s.extra = serde_json::json!({ "model": "opus" });
    store.upsert_session(s.clone());
    store.upsert_session(SessionRecord::new(
        sid("b2"),
        "codex",
        Backend::External,
        UnixMs(2_000),
    ));
    store.flush().expect("flush");

    s.state = "exited".into();
    s.name = None;
    s.ended = Some(UnixMs(9_000));
    s.tokens_in = 1_234;
    s.tokens_out = 56;
    s.cost_usd = 0.75;
    s.title = Some("Fix the tests".into());
    s.pid = Some(4242);
    s.cwd = Some("/src/app".into());
    s.last_activity = Some(UnixMs(8_999));
    store.upsert_session(s.clone());
    store.flush().expect("flush");

    let sessions = store.sessions().expect("sessions");
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0].id, sid("b2"), "most recently started first");
    assert_eq!(
        sessions[1], s,
        "every field, including None ones, is the newest"
    );
}

#[test]
fn upserting_a_process_merges_observations_of_the_same_pid_and_start() {
    let dir = DataDir::new();
    let store = dir.open();
    let mut first = process(7, 100);
    first.cwd = Some("/w".into());
    first.agent = Some("claude".into());
    store.upsert_process(first);
    let mut reused_pid = process(7, 150);
    reused_pid.start = UnixMs(900);
    store.upsert_process(reused_pid);
    store.flush().expect("flush");

    let mut later = process(7, 200);
    later.session = Some(sid("a1"));
    later.args = vec![];
    store.upsert_process(later);
    store.flush().expect("flush");
    let mut stale = process(7, 50);
    stale.exit_code = Some(0);
    store.upsert_process(stale);
    store.flush().expect("flush");

    let all = store.processes().expect("processes");
    assert_eq!(
        all.len(),
        2,
        "a reused pid with another start time is another process"
    );
    let p = all
        .iter()
        .find(|p| p.start == UnixMs(500))
        .expect("the first process");
    assert_eq!((p.first_seen, p.last_seen), (UnixMs(50), UnixMs(200)));
    assert_eq!(
        p.cwd.as_deref(),
        Some("/w"),
        "a later None keeps what was known"
    );
    assert_eq!(p.agent.as_deref(), Some("claude"));
    assert_eq!(p.session, Some(sid("a1")));
    assert_eq!(p.exit_code, Some(0));
    assert_eq!(
        p.args,
        vec!["--resume".to_owned()],
        "args take the newest value"
    );
}

#[test]
fn activity_is_filtered_by_session_level_kind_time_and_id_newest_first() {
    let dir = DataDir::new();
    let store = dir.open();
    let entries = [
        (10, Some("a1"), Level::Info, "state"),
        (20, Some("a1"), Level::Warn, "permission_request"),
        (30, Some("b2"), Level::Error, "crash"),
        (40, None, Level::Debug, "paddock"),
        (50, Some("a1"), Level::Error, "crash"),
    ];
    for (t, s, level, kind) in entries {
        let mut a = ActivityRecord::new(UnixMs(t), s.map(sid), level, kind, format!("at {t}"));
        if t == 30 {
            a.details = serde_json::json!({ "signal": "SEGV" });
        }
        store.log_activity(a);
    }
    store.flush().expect("flush");
    let times = |q: ActivityQuery| -> Vec<i64> {
        store
            .activity(&q)
            .expect("query")
            .iter()
            .map(|a| a.time.0)
            .collect()
    };
    assert_eq!(times(ActivityQuery::default()), [50, 40, 30, 20, 10]);
    assert_eq!(
        times(ActivityQuery {
            session: Some(sid("a1")),
            ..Default::default()
        }),
        [50, 20, 10]
    );
    assert_eq!(
        times(ActivityQuery {
            level: Some(Level::Warn),
            ..Default::default()
        }),
        [50, 30, 20]
    );
    assert_eq!(
        times(ActivityQuery {
            kind: Some("crash".into()),
            ..Default::default()
        }),
        [50, 30]
    );
    assert_eq!(
        times(ActivityQuery {
            since: Some(UnixMs(30)),
            ..Default::default()
        }),
        [50, 40, 30]
    );
    assert_eq!(
        times(ActivityQuery {
            limit: Some(2),
            ..Default::default()
        }),
        [50, 40]
    );
    assert_eq!(
        times(ActivityQuery {
            session: Some(sid("a1")),
            level: Some(Level::Info),
            since: Some(UnixMs(15)),
            limit: Some(1),
            ..Default::default()
        }),
        [50]
    );

    let all = store.activity(&ActivityQuery::default()).expect("all");
    let oldest_shown = all[1].id.expect("id");
    assert_eq!(
        times(ActivityQuery {
            before_id: Some(oldest_shown),
            ..Default::default()
        }),
        [30, 20, 10]
    );
    let crash = all.iter().find(|a| a.time.0 == 30).expect("crash");
    assert_eq!(crash.details, serde_json::json!({ "signal": "SEGV" }));
    assert_eq!(crash.session, Some(sid("b2")));
    assert_eq!(all[1].details, serde_json::Value::Null);
    assert!(
        all.windows(2).all(|w| w[0].id > w[1].id),
        "ids increase with writes"
    );
}

/// 20 minutes of 1 s samples starting at a 10-minute boundary.
fn twenty_minutes(store: &Store, t0: i64) {
    for i in 0..1_200_i64 {
        let host = HostMetrics {
            mem_total_bytes: 16 << 30,
            swap_used_bytes: 0,
            load_1m: if i < 600 { 1.0 } else { 3.0 },
        };
        store.record_metric(
            MetricSample::new(
                MetricTarget::Host,
                UnixMs(t0 + i * 1_000),
                (i % 60) as f64,
                1_000 * i as u64,
            )
            .with_host(host),
        );
        store.record_metric(MetricSample::new(
            MetricTarget::Session(sid("a1")),
            UnixMs(t0 + i * 1_000),
            50.0,
            7,
        ));
    }
}

#[test]
fn downsampling_tiers_hold_exact_averages_and_the_finest_covering_tier_is_read() {
    let dir = DataDir::new();
    let store = dir.open();
    let t0 = 1_700_000_400_000_i64; // a multiple of 10 minutes
    assert_eq!(t0 % (10 * MIN), 0);
    twenty_minutes(&store, t0);
    // Sent twice: a repeated sample is not counted twice.
    store.record_metric(MetricSample::new(MetricTarget::Host, UnixMs(t0), 99.0, 99));
    store.flush().expect("flush");
    let host = MetricTarget::Host;
    let end = st(t0 + 20 * MIN);

    let raw = store
        .metrics_in_tier(&host, Tier::Raw, st(t0), end)
        .expect("raw");
    assert_eq!(raw.len(), 1_200);
    assert_eq!(
        (raw[0].cpu_percent, raw[0].rss_bytes),
        (0.0, 0),
        "the first sample wins"
    );

    let minutes = store
        .metrics_in_tier(&host, Tier::Minute, st(t0), end)
        .expect("1m");
    assert_eq!(minutes.len(), 20);
    for (m, row) in minutes.iter().enumerate() {
        let m = m as i64;
        assert_eq!(row.time, UnixMs(t0 + m * MIN));
        assert_eq!(row.tier, Tier::Minute);
        assert_eq!(row.samples, 60);
        assert_eq!(row.cpu_percent, 29.5);
        assert_eq!(row.cpu_max_percent, 59.0);
        // rss = 1000 i over i = 60m .. 60m+59: average 1000 (60m + 29.5).
        assert_eq!(row.rss_bytes, (1_000 * (60 * m) + 29_500) as u64);
        assert_eq!(row.rss_max_bytes, (1_000 * (60 * m + 59)) as u64);
        let h = row.host.expect("host figures");
        assert_eq!(h.mem_total_bytes, 16 << 30);
        assert_eq!(h.load_1m, if m < 10 { 1.0 } else { 3.0 });
    }

    let tens = store
        .metrics_in_tier(&host, Tier::TenMinutes, st(t0), end)
        .expect("10m");
    assert_eq!(tens.len(), 2);
    assert_eq!(tens[0].samples, 600);
    assert_eq!(tens[1].time, UnixMs(t0 + 10 * MIN));
    assert_eq!(tens[0].cpu_percent, 29.5);
    assert_eq!(tens[1].rss_bytes, 899_500); // the average of 1000 i for i = 600..1199
    assert_eq!(tens[1].host.expect("host").load_1m, 3.0);

    let session = store
        .metrics_in_tier(
            &MetricTarget::Session(sid("a1")),
            Tier::TenMinutes,
            st(t0),
            end,
        )
        .expect("session");
    assert_eq!(session.len(), 2);
    assert_eq!(
        (
            session[0].cpu_percent,
            session[0].rss_bytes,
            session[0].host
        ),
        (50.0, 7, None)
    );

    // A range starting mid-bucket includes the bucket it starts in.
    let from_mid = store
        .metrics_in_tier(&host, Tier::Minute, st(t0 + 90_000), st(t0 + 3 * MIN))
        .expect("mid");
    let starts: Vec<i64> = from_mid.iter().map(|r| r.time.0 - t0).collect();
    assert_eq!(starts, [MIN, 2 * MIN, 3 * MIN]);

    // Nothing pruned yet: the raw tier covers everything.
    assert_eq!(
        store.metrics(&host, st(t0), end).expect("read")[0].tier,
        Tier::Raw
    );
    // Two hours later the raw tier is gone; the 1 min tier covers the range.
    let report = store
        .enforce_retention(st(t0 + 2 * HOUR), 30)
        .expect("retention");
    assert_eq!(report.metric_samples, 2_400, "raw samples of both targets");
    let got = store.metrics(&host, st(t0), end).expect("read");
    assert_eq!((got[0].tier, got.len()), (Tier::Minute, 20));
    // A range within the last hour still reads the raw tier (empty now).
    let recent = st(t0 + 2 * HOUR - 10 * MIN);
    assert!(store
        .metrics(&host, recent, st(t0 + 2 * HOUR))
        .expect("read")
        .is_empty());
    // A day later only the 10 min tier covers it.
    store
        .enforce_retention(st(t0 + 25 * HOUR), 30)
        .expect("retention");
    let got = store.metrics(&host, st(t0), end).expect("read");
    assert_eq!((got[0].tier, got.len()), (Tier::TenMinutes, 2));
    assert_eq!(got[0].cpu_percent, 29.5);
}

#[test]
fn retention_deletes_exactly_what_is_older_than_the_cutoff() {
    let dir = DataDir::new();
    let store = dir.open();
    let now = 1_800_000_000_000_i64 - 1_800_000_000_000_i64 % (10 * MIN); // 10-minute aligned
    let cutoff = now - 30 * DAY;

    for (t, msg) in [
        (cutoff - 1, "old"),
        (cutoff, "boundary"),
        (cutoff + 1, "new"),
    ] {
        store.log_activity(ActivityRecord::new(UnixMs(t), None, Level::Info, "k", msg));
    }
    let session = |id: &str, ended: Option<i64>| {
        let mut s =
            SessionRecord::new(sid(id), "claude", Backend::Holder, UnixMs(cutoff - 5 * DAY));
        s.ended = ended.map(UnixMs);
        s
    };
    store.upsert_session(session("ended-old", Some(cutoff - 1)));
    store.upsert_session(session("ended-boundary", Some(cutoff)));
    store.upsert_session(session("still-running", None));
    store.upsert_process(process(1, cutoff - 1));
    store.upsert_process(process(2, cutoff));
    for t in [cutoff - 1, cutoff, now - HOUR - 1, now - HOUR] {
        store.record_metric(MetricSample::new(MetricTarget::Host, UnixMs(t), 1.0, 1));
    }
    store.flush().expect("flush");

    let report = store.enforce_retention(st(now), 30).expect("retention");
    assert_eq!(
        report,
        RetentionReport {
            activity: 1,
            // cutoff - 1: raw, 1 min and its 10 min bucket (which ends at the cutoff);
            // cutoff: raw and 1 min (their own spans), its 10 min bucket stays;
            // now - 1 h - 1: raw only.
            metric_samples: 6,
            sessions: 1,
            processes: 1,
            notifications: 0,
        }
    );

    let messages: Vec<String> = store
        .activity(&ActivityQuery::default())
        .expect("activity")
        .into_iter()
        .map(|a| a.message)
        .collect();
    assert_eq!(messages, ["new", "boundary"]);
    let mut ids: Vec<String> = store
        .sessions()
        .expect("sessions")
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, ["ended-boundary", "still-running"]);
    let pids: Vec<u32> = store
        .processes()
        .expect("processes")
        .iter()
        .map(|p| p.pid)
        .collect();
    assert_eq!(pids, [2]);
    let rows = |tier| {
        store
            .metrics_in_tier(&MetricTarget::Host, tier, st(0), st(now))
            .expect("metrics")
            .iter()
            .map(|m| m.time.0)
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(Tier::Raw), [now - HOUR]);
    assert_eq!(rows(Tier::Minute), [now - HOUR - MIN, now - HOUR]);
    assert_eq!(
        rows(Tier::TenMinutes),
        [cutoff, now - HOUR - 10 * MIN, now - HOUR]
    );

    assert_eq!(
        store.enforce_retention(st(now), 30).expect("again"),
        RetentionReport::default(),
        "a second run finds nothing more"
    );
}
