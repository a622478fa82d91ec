//! Crash safety: a child process writes through a `Store` as fast as it can and is killed
//! with SIGKILL at random moments, 100 times over the same database. After every kill the
//! database must reopen, pass `PRAGMA integrity_check`, and hold everything the child had
//! flushed before it died; the metric tiers must agree with the raw samples (they are
//! written in the same transaction).
//!
//! The child is this test binary itself, re-run with `PADDOCK_STORE_CRASH_DB` set so that
//! only [`crash_writer`] does anything. It prints `FLUSHED <seq>` after each successful
//! `flush()`; the parent reads those lines, so anything it saw was committed before the kill.
//!
//! `PADDOCK_STORE_KILL_SEED` replays a run (the seed is printed on failure);
//! `PADDOCK_STORE_KILL_ROUNDS` changes the number of kills (default 100).

mod common;

use common::{count, DataDir};
use paddock_proto::supervisor::Backend;
use paddock_proto::SessionId;
use paddock_store::{
    ActivityRecord, Level, MetricSample, MetricTarget, ProcessRecord, SessionRecord, Store,
    StoreOptions, UnixMs,
};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DB_ENV: &str = "PADDOCK_STORE_CRASH_DB";
const START_ENV: &str = "PADDOCK_STORE_CRASH_START";
/// Every record's time is derived from its sequence number from here.
const T0: i64 = 1_700_000_000_000;
/// Sequence numbers written between two flushes; each is an activity entry and a metric
/// sample (four rows with its buckets), plus a session and a process every 25. A chunk is
/// more than one batch of the child's `batch_records`, so the writer also commits on its own
/// between flushes. Kept small so that the database (which every round checks whole) grows
/// slowly.
const CHUNK: u64 = 100;
const CHILD_BATCH_RECORDS: usize = 120;
/// A child that the parent forgot stops by itself.
const CHILD_LIFETIME: Duration = Duration::from_secs(60);
/// How long the parent waits for the child to report a flush.
const REPORT_WITHIN: Duration = Duration::from_secs(60);

/// The child's side: does nothing unless started by the kill test.
#[test]
fn crash_writer() {
    let Ok(db) = std::env::var(DB_ENV) else {
        return;
    };
    let mut seq: u64 = std::env::var(START_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("start sequence");
    let options = StoreOptions {
        batch_records: CHILD_BATCH_RECORDS,
        // The records' times are in 2023: retention must not touch them.
        housekeeping_every: None,
        ..StoreOptions::default()
    };
    let store = Store::open_with(db.as_ref(), options).expect("the child opens the store");
    let session = SessionId::parse("crash").expect("id");
    let padding = "p".repeat(32);
    let deadline = Instant::now() + CHILD_LIFETIME;
    while Instant::now() < deadline {
        for _ in 0..CHUNK {
            let t = T0 + seq as i64;
            let mut a = ActivityRecord::new(
                UnixMs(t),
                Some(session.clone()),
                Level::Info,
                "crash",
                format!("seq {seq} {padding}"),
            );
            a.details = serde_json::json!({ "seq": seq });
            store.log_activity(a);
            store.record_metric(MetricSample::new(
                MetricTarget::Host,
                UnixMs(T0 + seq as i64 * 1_000),
                (seq % 100) as f64,
                seq,
            ));
            if seq % 25 == 0 {
                let mut s =
                    SessionRecord::new(session.clone(), "claude", Backend::Holder, UnixMs(T0));
                s.tokens_in = seq;
                s.state = "working".into();
                store.upsert_session(s);
                store.upsert_process(ProcessRecord {
                    pid: 1,
                    start: UnixMs(T0),
                    command: "claude".into(),
                    args: vec![seq.to_string()],
                    cwd: None,
                    session: Some(session.clone()),
                    agent: Some("claude".into()),
                    first_seen: UnixMs(t),
                    last_seen: UnixMs(t),
                    exit_code: None,
                });
            }
            seq += 1;
        }
        store.flush().expect("flush");
        println!("FLUSHED {}", seq - 1);
    }
}

/// A small deterministic generator (xorshift64*), so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// The writer child; killed and reaped on drop if the test fails half-way.
struct Writer {
    child: Child,
    lines: mpsc::Receiver<String>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn spawn(dir: &DataDir, start: u64) -> Self {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "crash_writer", "--nocapture", "--test-threads=1"])
            .env(DB_ENV, dir.db())
            .env(START_ENV, start.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the writer child");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            reader: Some(reader),
        }
    }

    /// Waits for the child's next `FLUSHED n` line.
    fn next_flush(&self, deadline: Instant) -> Result<u64, String> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .map_err(|e| format!("no flush report ({e})"))?;
            if let Some(n) = parse_flushed(&line) {
                return Ok(n);
            }
        }
    }

    /// SIGKILLs the child, reaps it, and returns the last flush it had reported.
    fn kill(mut self) -> (std::process::ExitStatus, Option<u64>) {
        let _ = self.child.kill();
        let status = self.child.wait().expect("reap the child");
        if let Some(reader) = self.reader.take() {
            reader.join().expect("stdout reader");
        }
        let last = self
            .lines
            .try_iter()
            .filter_map(|l| parse_flushed(&l))
            .max();
        (status, last)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// libtest may print `test crash_writer ... ` before the child's first line.
fn parse_flushed(line: &str) -> Option<u64> {
    let at = line.find("FLUSHED ")?;
    line[at + "FLUSHED ".len()..].trim().parse().ok()
}

#[test]
fn sigkill_at_random_moments_never_corrupts_or_loses_flushed_records() {
    if std::env::var_os(DB_ENV).is_some() {
        return; // this is the child
    }
    let seed = std::env::var("PADDOCK_STORE_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    let rounds: u32 = std::env::var("PADDOCK_STORE_KILL_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let mut rng = Rng(seed);
    let dir = DataDir::new();
    let started = Instant::now();
    // Per round that flushed: the first sequence number it wrote and the last it flushed.
    let mut flushed: Vec<(u64, u64)> = Vec::new();
    let mut next_seq = 0_u64;
    let mut early_kills = 0;
    let mut verify_total = Duration::ZERO;
    // Rounds whose writer had committed more than its last report: it was busy when killed.
    let mut committed_past_report = 0;

    for round in 0..rounds {
        let ctx = format!("round {round} of {rounds} (PADDOCK_STORE_KILL_SEED={seed})");
        let writer = Writer::spawn(&dir, next_seq);
        // One round in ten is killed at a random moment from its start (while opening,
        // recovering the WAL, or writing its first batch); the others after 1 to 4 flushes
        // and a random delay, so the kill lands mid-enqueue or mid-commit.
        if rng.below(10) == 0 {
            early_kills += 1;
            std::thread::sleep(Duration::from_millis(rng.below(40)));
        } else {
            let deadline = Instant::now() + REPORT_WITHIN;
            for _ in 0..1 + rng.below(4) {
                writer.next_flush(deadline).unwrap_or_else(|e| {
                    panic!("{ctx}: the writer child gave {e} within {REPORT_WITHIN:?}")
                });
            }
            std::thread::sleep(Duration::from_micros(rng.below(25_000)));
        }
        let (status, last_flushed) = writer.kill();
        assert_eq!(
            status.signal(),
            Some(9),
            "{ctx}: the writer child ended by itself ({status}) instead of being killed"
        );

        let checking = Instant::now();
        let store = Store::open(&dir.db()).unwrap_or_else(|e| panic!("{ctx}: reopen: {e}"));
        assert_eq!(
            store.integrity_check().expect("integrity check"),
            "ok",
            "{ctx}"
        );
        drop(store);

        let raw = dir.raw();
        let (n, distinct, min, max): (i64, i64, Option<i64>, Option<i64>) = raw
            .query_row(
                "SELECT count(*), count(DISTINCT s), min(s), max(s) FROM
                   (SELECT json_extract(details, '$.seq') AS s FROM activity_logs
                    WHERE kind = 'crash')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .expect("activity summary");
        assert_eq!(n, distinct, "{ctx}: an activity entry was written twice");
        if n > 0 {
            // Batches commit whole and in order, so what survives is always a prefix.
            assert_eq!(
                (min, max),
                (Some(0), Some(n - 1)),
                "{ctx}: activity has a hole"
            );
        }
        if let Some(last) = last_flushed {
            flushed.push((next_seq, last));
            if max.unwrap_or(-1) > last as i64 {
                committed_past_report += 1;
            }
            assert!(
                max.unwrap_or(-1) >= last as i64,
                "{ctx}: activity up to {last} was flushed but only {max:?} survived"
            );
            let tokens = count(&raw, "SELECT tokens_in FROM sessions WHERE id = 'crash'");
            assert!(
                tokens >= (last - last % 25) as i64,
                "{ctx}: the session lost its last flushed state"
            );
            let seen = count(&raw, "SELECT last_seen_ms FROM processes WHERE pid = 1");
            assert!(
                seen >= T0 + (last - last % 25) as i64,
                "{ctx}: the process lost its last flushed state"
            );
        }
        for &(from, to) in &flushed {
            let samples = count(
                &raw,
                &format!(
                    "SELECT count(*) FROM metric_samples WHERE target_kind = 'host' AND tier = 0
                     AND t_ms BETWEEN {} AND {}",
                    T0 + from as i64 * 1_000,
                    T0 + to as i64 * 1_000
                ),
            );
            assert_eq!(
                samples,
                (to - from + 1) as i64,
                "{ctx}: flushed metric samples {from}..={to} are missing"
            );
        }
        let inconsistent = count(
            &raw,
            "SELECT count(*) FROM metric_samples b WHERE b.tier IN (1, 2) AND b.samples !=
               (SELECT count(*) FROM metric_samples r
                WHERE r.target_kind = b.target_kind AND r.target_id = b.target_id AND r.tier = 0
                  AND r.t_ms >= b.t_ms
                  AND r.t_ms < b.t_ms + CASE b.tier WHEN 1 THEN 60000 ELSE 600000 END)",
        );
        assert_eq!(
            inconsistent, 0,
            "{ctx}: a 1 min or 10 min bucket disagrees with the raw samples"
        );
        next_seq = max.map_or(0, |m| m as u64 + 1);
        verify_total += checking.elapsed();
    }
    eprintln!(
        "{rounds} SIGKILLs ({early_kills} early, {committed_past_report} with commits after \
         the last reported flush) in {:.1} s ({:.1} s of it checking); {next_seq} sequence \
         numbers survived; seed {seed}",
        started.elapsed().as_secs_f64(),
        verify_total.as_secs_f64()
    );
}
