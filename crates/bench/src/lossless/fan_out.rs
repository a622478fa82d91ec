//! The lossless fan-out runs: 49 fast lossless clients and one slow ordinary client on one
//! session (or the fast ones alone), whether every fast client got every byte, how the slow
//! one was resynced, the agent's time and the holder's peak memory; and their rows in the
//! report.

use super::median;
use crate::follower::Follower;
use crate::harness::{self, Harness, Session};
use crate::report::{mb_per_s, Report, Row};
use anyhow::{bail, Context};
use paddock_proto::{Frame, FrameDecoder, Hello, Message, Mode, Notification, Start};
use serde_json::json;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The holder's default ring, which a user's session has.
const DEFAULT_RING: u64 = 4 << 20;

/// One fan-out run.
pub(super) struct FanRun {
    agent: Duration,
    fast: Vec<Duration>,
    failed: Vec<String>,
    slow: Option<SlowStats>,
    /// The holder's peak resident memory (VmHWM), KiB.
    peak_kib: u64,
}

#[derive(Default)]
struct SlowStats {
    lagged: u32,
    snapshots: u32,
    bytes: u64,
}

pub(super) fn fan_run(
    h: &mut Harness,
    script: &str,
    bytes: u64,
    fast: usize,
    slow: bool,
) -> anyhow::Result<FanRun> {
    let session = h.start_session(&[], &["sh", "-c", script])?;
    let result = fan_session(&session, bytes, fast, slow);
    h.stop(&session);
    result
}

fn fan_session(session: &Session, bytes: u64, fast: usize, slow: bool) -> anyhow::Result<FanRun> {
    let limit = Duration::from_secs(10);
    let deadline = Instant::now() + harness::transfer_limit(bytes * fast as u64);
    let mut readers = Vec::new();
    for i in 0..fast {
        let hello = Hello {
            start: Start::End,
            lossless: true,
            client_name: Some("bench fast".into()),
            ..Hello::new(Mode::ReadOnly)
        };
        let mut f = Follower::connect(&session.socket, hello, limit)?;
        readers.push(std::thread::spawn(move || -> anyhow::Result<Instant> {
            f.read_until(bytes, deadline)
                .with_context(|| format!("fast client {i}"))?;
            Ok(Instant::now())
        }));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let slow_reader = if slow {
        let sock = UnixStream::connect(&session.socket)?;
        let stop = stop.clone();
        Some(std::thread::spawn(move || slow_client(sock, &stop)))
    } else {
        None
    };
    let mut control = Follower::connect(&session.socket, Hello::control(Mode::ReadWrite), limit)?;
    let want = (fast + usize::from(slow)) as u32;
    if !harness::wait_for(limit, || {
        control.info(deadline).is_ok_and(|i| i.clients >= want)
    }) {
        bail!("the clients did not all attach within {limit:?}");
    }
    let t0 = Instant::now();
    control.send_input(b"\r")?;
    let agent = control.wait_exited(deadline)? - t0;
    let mut times = Vec::new();
    let mut failed = Vec::new();
    for r in readers {
        match r.join() {
            Ok(Ok(at)) => times.push(at - t0),
            Ok(Err(e)) => failed.push(format!("{e:#}")),
            Err(_) => failed.push("a client thread panicked".into()),
        }
    }
    let peak_kib = vm_hwm_kib(session.holder_pid)?;
    stop.store(true, Ordering::Relaxed);
    let slow = match slow_reader {
        Some(t) => Some(
            t.join()
                .map_err(|_| anyhow::anyhow!("slow client panicked"))??,
        ),
        None => None,
    };
    Ok(FanRun {
        agent,
        fast: times,
        failed,
        slow,
        peak_kib,
    })
}

/// An ordinary (interactive) client that reads 16 KiB every 20 ms, about 0.8 MB/s.
fn slow_client(mut sock: UnixStream, stop: &AtomicBool) -> anyhow::Result<SlowStats> {
    let mut out = Vec::new();
    let hello = Message::Request {
        id: 1,
        payload: paddock_proto::Request::Hello(Hello {
            start: Start::End,
            client_name: Some("bench slow".into()),
            ..Hello::new(Mode::ReadOnly)
        }),
    };
    paddock_proto::frame::encode_control(&hello, &mut out);
    std::io::Write::write_all(&mut sock, &out)?;
    sock.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut decoder = FrameDecoder::new(paddock_proto::MAX_FRAME_LEN);
    let mut stats = SlowStats::default();
    let mut buf = vec![0u8; 16 * 1024];
    while !stop.load(Ordering::Relaxed) {
        match sock.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => decoder.extend(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e.into()),
        }
        while let Some(frame) = decoder.next_frame()? {
            match frame {
                Frame::Output { data, .. } => stats.bytes += data.len() as u64,
                Frame::Snapshot { .. } => stats.snapshots += 1,
                Frame::Control(Message::Notification {
                    payload: Notification::Lagged { .. },
                }) => stats.lagged += 1,
                _ => {}
            }
        }
        // Deliberately slow: this is the client the others must not wait for.
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(stats)
}

fn vm_hwm_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in the holder's status")
}

pub(super) fn fan_rows(
    report: &mut Report,
    json: &mut serde_json::Value,
    bytes: u64,
    with_slow: &[FanRun],
    without: &[FanRun],
) {
    let fast = with_slow
        .iter()
        .map(|r| r.fast.len() + r.failed.len())
        .max()
        .unwrap_or(0);
    let whole: Vec<usize> = with_slow.iter().map(|r| r.fast.len()).collect();
    let all_fast: Vec<Duration> = with_slow.iter().flat_map(|r| r.fast.clone()).collect();
    let median_rate = median(&all_fast).map_or(0.0, |d| mb_per_s(bytes, d));
    let first_failure = with_slow.iter().find_map(|r| r.failed.first());
    let run_json = |r: &FanRun| {
        json!({
            "agent_secs": r.agent.as_secs_f64(),
            "fast_secs": r.fast.iter().map(Duration::as_secs_f64).collect::<Vec<_>>(),
            "failed": r.failed,
            "slow_lagged": r.slow.as_ref().map(|s| s.lagged),
            "slow_snapshots": r.slow.as_ref().map(|s| s.snapshots),
            "slow_bytes": r.slow.as_ref().map(|s| s.bytes),
            "holder_peak_kib": r.peak_kib,
        })
    };
    json["fan_out"] = json!({
        "bytes": bytes,
        "with_slow": with_slow.iter().map(run_json).collect::<Vec<_>>(),
        "without_slow": without.iter().map(run_json).collect::<Vec<_>>(),
    });
    report.add(
        Row::new(
            format!("Fan-out, {fast} fast clients + 1 slow, fast clients"),
            format!(
                "{} of {fast} got every byte, in each of {} runs",
                whole.iter().min().copied().unwrap_or(0),
                with_slow.len()
            ),
        )
        .beside(format!(
            "{} MiB each, lossless, default 4 MiB ring; median {median_rate:.0} MB/s per client{}",
            bytes >> 20,
            first_failure
                .map(|e| format!("; first failure: {e}"))
                .unwrap_or_default()
        ))
        .target("all", first_failure.is_none()),
    );
    let slows: Vec<&SlowStats> = with_slow.iter().filter_map(|r| r.slow.as_ref()).collect();
    if !slows.is_empty() {
        let list = |f: fn(&SlowStats) -> u64| {
            slows
                .iter()
                .map(|s| f(s).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        report.add(
            Row::new(
                "Fan-out, the slow client",
                format!("resynced {} times", list(|s| u64::from(s.lagged))),
            )
            .beside(format!(
                "an ordinary client reading 16 KiB every 20 ms, by run: told `lagged` {} times, {} snapshots, {} output bytes",
                list(|s| u64::from(s.lagged)),
                list(|s| u64::from(s.snapshots)),
                list(|s| s.bytes)
            ))
            .target(
                "resynced and told",
                slows.iter().all(|s| s.lagged > 0 && s.snapshots >= s.lagged),
            ),
        );
    }
    let agents = |runs: &[FanRun]| runs.iter().map(|r| r.agent).collect::<Vec<_>>();
    let times = |runs: &[FanRun]| {
        runs.iter()
            .map(|r| format!("{:.2}", r.agent.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let (Some(a), Some(b)) = (median(&agents(with_slow)), median(&agents(without))) {
        let slowdown = a.as_secs_f64() / b.as_secs_f64() - 1.0;
        report.add(
            Row::new(
                "Fan-out, the agent with the slow client vs without",
                format!(
                    "{:.2} s vs {:.2} s ({:+.1} %)",
                    a.as_secs_f64(),
                    b.as_secs_f64(),
                    100.0 * slowdown
                ),
            )
            .beside(format!(
                "medians of {} alternating runs each (with: {} s; without: {} s): the agent's `cat` of {} MiB with {fast} fast clients attached",
                with_slow.len().min(without.len()),
                times(with_slow),
                times(without),
                bytes >> 20
            )),
        );
    }
    let peak = |runs: &[FanRun]| runs.iter().map(|r| r.peak_kib).max().unwrap_or(0);
    report.add(
        Row::new(
            "Fan-out, holder peak memory (VmHWM), 50 clients",
            format!("{:.1} MiB", peak(with_slow) as f64 / 1024.0),
        )
        .beside(format!(
            "largest of the runs; ring {} MiB; {:.1} MiB with the 49 fast clients alone",
            DEFAULT_RING >> 20,
            peak(without) as f64 / 1024.0
        )),
    );
}
