//! Lossless following and fan-out under pressure (`--only lossless`).
//!
//! **Follower**: the agent is `sh -c 'read x; cat FILE'` in a session with the default ring
//! (4 MiB); `paddock logs --follow --raw` follows it into a pipe this bench reads and
//! compares, byte for byte, with what the terminal must have printed (the echo of "\r", then
//! the file with ONLCR's `\r\n`). `logs` hands that pipe to the holder, which writes into it
//! itself (`paddock_host`'s sink; a holder that declines sends frames `logs` copies on). The clock runs from the "\r" to the follower's last byte;
//! the agent's own time ends when the holder announces its exit (every byte then is in the
//! ring). Runs alternate with a bare PTY, which reads as fast as it can.
//!
//! **Fan-out**: 49 fast lossless clients and one slow ordinary client (it reads 16 KiB every
//! 20 ms) on one session printing a quarter of `--size`; then the same without the slow
//! client; three rounds of the two, alternating. Reported: whether every fast client got
//! every byte, how often the slow one was resynced, the agent's median time with and
//! without it, and the holder's peak memory.

use crate::follower::Follower;
use crate::harness::{self, Harness, Session};
use crate::options::Options;
use crate::procfs::{self, ThreadStats};
use crate::report::{mb_per_s, Report, Row};
use crate::throughput::{raw_pty, ECHO};
use anyhow::{bail, Context};
use paddock_proto::{Frame, FrameDecoder, Hello, Message, Mode, Notification, Start};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Clients in the fan-out run, the slow one included.
const FAN_CLIENTS: usize = 50;
/// Fan-out rounds, each with the slow client and without it, alternating; medians reported.
const FAN_ROUNDS: usize = 3;
/// The holder's default ring, which a user's session has.
const DEFAULT_RING: u64 = 4 << 20;
/// How fast `logs --follow --raw` must be, as a share of the bare PTY.
const TARGET_RATIO: f64 = 0.90;

pub fn run(h: &mut Harness, opts: &Options, report: &mut Report) {
    let file = match h.text_file("lossless.txt", opts.size) {
        Ok(f) => f,
        Err(e) => return report.fail("Lossless follower", &e),
    };
    let bytes = ECHO + file.tty_bytes();
    let follow_script = format!("read x; cat {}", file.path.display());
    let raw_script = format!("read x; cat {}; exec sleep 1000000", file.path.display());
    let mut raws = Vec::new();
    let mut runs = Vec::new();
    for round in 1..=opts.follows {
        eprintln!(
            "lossless: round {round}/{}: bare PTY, logs --follow --raw",
            opts.follows
        );
        match raw_pty(&raw_script, bytes) {
            Ok(r) => raws.push(r.elapsed),
            Err(e) => report.fail(&format!("Lossless follower, bare PTY, round {round}"), &e),
        }
        match follow_run(h, &follow_script, bytes) {
            Ok(r) => runs.push(r),
            Err(e) => report.fail(&format!("Lossless follower, round {round}"), &e),
        }
    }
    let mut json = json!({ "tty_bytes": bytes });
    follower_rows(report, &mut json, bytes, &raws, &runs, opts.follows);

    let fan_file = match h.text_file("fan.txt", opts.size / 4) {
        Ok(f) => f,
        Err(e) => return report.fail("Fan-out with a slow client", &e),
    };
    let fan_bytes = ECHO + fan_file.tty_bytes();
    let fan_script = format!("read x; cat {}", fan_file.path.display());
    let fast = FAN_CLIENTS - 1;
    let (mut with_slow, mut without) = (Vec::new(), Vec::new());
    for round in 1..=FAN_ROUNDS {
        eprintln!("lossless: fan-out round {round}/{FAN_ROUNDS}, {fast} fast clients + 1 slow");
        match fan_run(h, &fan_script, fan_bytes, fast, true) {
            Ok(r) => with_slow.push(r),
            Err(e) => report.fail(&format!("Fan-out with a slow client, round {round}"), &e),
        }
        eprintln!("lossless: fan-out round {round}/{FAN_ROUNDS}, {fast} fast clients alone");
        match fan_run(h, &fan_script, fan_bytes, fast, false) {
            Ok(r) => without.push(r),
            Err(e) => report.fail(
                &format!("Fan-out without the slow client, round {round}"),
                &e,
            ),
        }
    }
    if !with_slow.is_empty() && !without.is_empty() {
        fan_rows(report, &mut json, fan_bytes, &with_slow, &without);
    }
    report.record("lossless", json);
}

/// One `logs --follow --raw` run.
struct FollowRun {
    /// From the keystroke to the follower's last byte.
    follower: Duration,
    /// From the keystroke to the agent's exit.
    agent: Duration,
    received: u64,
    /// The first byte that differed from what the terminal printed.
    mismatch: Option<u64>,
    /// What `paddock logs` said on stderr.
    said: String,
    /// CPU time from the keystroke to the last byte: the holder's, by thread name, and
    /// `paddock logs`'s (all its threads).
    holder_cpu: BTreeMap<String, ThreadStats>,
    logs_cpu_ns: u64,
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

fn median(v: &[Duration]) -> Option<Duration> {
    let mut v = v.to_vec();
    v.sort();
    v.get(v.len() / 2).copied()
}

fn follower_rows(
    report: &mut Report,
    json: &mut serde_json::Value,
    bytes: u64,
    raws: &[Duration],
    runs: &[FollowRun],
    wanted: usize,
) {
    let whole = runs
        .iter()
        .filter(|r| r.received == bytes && r.mismatch.is_none() && r.said.is_empty())
        .count();
    json["follower"] = json!({
        "runs": runs.iter().map(|r| json!({
            "follower_secs": r.follower.as_secs_f64(),
            "agent_secs": r.agent.as_secs_f64(),
            "received": r.received,
            "mismatch_at": r.mismatch,
            "stderr": r.said,
        })).collect::<Vec<_>>(),
        "bare_pty_secs": raws.iter().map(Duration::as_secs_f64).collect::<Vec<_>>(),
    });
    let mut row = Row::new(
        format!("`logs --follow --raw`, {} MiB flood, bytes received", bytes >> 20),
        format!("every byte in {whole} of {wanted} runs"),
    )
    .beside(format!(
        "{bytes} bytes a run, compared byte for byte with the file as the terminal printed it; default 4 MiB ring; received: {}",
        runs.iter().map(|r| r.received.to_string()).collect::<Vec<_>>().join(", ")
    ));
    row = row.target("every byte, every run", whole == wanted);
    report.add(row);
    if let Some(bad) = runs
        .iter()
        .find(|r| !r.said.is_empty() || r.mismatch.is_some())
    {
        report.fail(
            "`logs --follow --raw`, a run",
            &anyhow::anyhow!(
                "mismatch at {:?}, stderr: {}",
                bad.mismatch,
                bad.said.trim()
            ),
        );
    }
    let (Some(raw), Some(follower), Some(agent)) = (
        median(raws),
        median(&runs.iter().map(|r| r.follower).collect::<Vec<_>>()),
        median(&runs.iter().map(|r| r.agent).collect::<Vec<_>>()),
    ) else {
        return;
    };
    let (raw_rate, rate) = (mb_per_s(bytes, raw), mb_per_s(bytes, follower));
    let rates: Vec<String> = runs
        .iter()
        .map(|r| format!("{:.0}", mb_per_s(bytes, r.follower)))
        .collect();
    report.add(
        Row::new(
            "`logs --follow --raw`, throughput",
            format!("{rate:.0} MB/s"),
        )
        .beside(format!(
            "{:.1} % of bare PTY ({raw_rate:.0} MB/s); medians of {} runs ({} MB/s), into a pipe read by the bench",
            100.0 * rate / raw_rate,
            runs.len(),
            rates.join(", ")
        ))
        .target("≥ 90 % of bare PTY", rate / raw_rate >= TARGET_RATIO),
    );
    report.add(
        Row::new(
            "`logs --follow --raw`, the agent's slowdown",
            format!("{:+.1} %", 100.0 * (agent.as_secs_f64() / raw.as_secs_f64() - 1.0)),
        )
        .beside(format!(
            "the agent's `cat` ran {:.2} s with the follower holding it back, {:.2} s on a bare PTY read flat out (medians)",
            agent.as_secs_f64(),
            raw.as_secs_f64()
        )),
    );
    cpu_row(report, json, runs);
    json["follower"]["mb_per_s"] = json!(rate);
    json["follower"]["bare_pty_mb_per_s"] = json!(raw_rate);
}

/// Where the follower's CPU goes: medians over the runs of the holder's threads and of
/// `paddock logs`, from the keystroke to the last byte.
fn cpu_row(report: &mut Report, json: &mut serde_json::Value, runs: &[FollowRun]) {
    let median_ns = |mut v: Vec<u64>| -> u64 {
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    };
    let mut names: Vec<String> = runs
        .iter()
        .flat_map(|r| r.holder_cpu.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    let per_thread: Vec<(String, u64, u64)> = names
        .iter()
        .map(|n| {
            let get = |f: fn(&ThreadStats) -> u64| {
                median_ns(
                    runs.iter()
                        .map(|r| r.holder_cpu.get(n).map_or(0, f))
                        .collect(),
                )
            };
            (n.clone(), get(|t| t.cpu_ns), get(|t| t.wait_ns))
        })
        .collect();
    let holder = median_ns(
        runs.iter()
            .map(|r| r.holder_cpu.values().map(|t| t.cpu_ns).sum())
            .collect(),
    );
    let logs = median_ns(runs.iter().map(|r| r.logs_cpu_ns).collect());
    let threads: Vec<String> = per_thread
        .iter()
        .map(|(n, cpu, wait)| {
            format!(
                "{n} {:.2} s (waited {:.2} s for a core)",
                secs(*cpu),
                secs(*wait)
            )
        })
        .collect();
    report.add(
        Row::new(
            "`logs --follow --raw`, CPU per run",
            format!(
                "holder {:.2} s, `paddock logs` {:.2} s",
                secs(holder),
                secs(logs)
            ),
        )
        .beside(format!(
            "medians from the keystroke to the last byte; the holder's threads: {}",
            threads.join(", ")
        )),
    );
    json["follower"]["cpu"] = json!({
        "holder_secs": secs(holder),
        "logs_secs": secs(logs),
        "holder_threads": per_thread.iter().map(|(n, cpu, wait)| (n.clone(), json!({"cpu_secs": secs(*cpu), "wait_secs": secs(*wait)}))).collect::<serde_json::Map<_, _>>(),
    });
}

fn follow_run(h: &mut Harness, script: &str, bytes: u64) -> anyhow::Result<FollowRun> {
    let session = h.start_session(&[], &["sh", "-c", script])?;
    let result = follow_session(h, &session, bytes);
    h.stop(&session);
    result
}

fn follow_session(h: &Harness, session: &Session, bytes: u64) -> anyhow::Result<FollowRun> {
    let deadline = Instant::now() + harness::transfer_limit(bytes);
    let mut control = Follower::connect(
        &session.socket,
        Hello::control(Mode::ReadWrite),
        Duration::from_secs(10),
    )?;
    let mut child = Command::new(h.paddock())
        .env("PADDOCK_RUNTIME_DIR", h.dir())
        .args(["logs", "--follow", "--raw", &session.id])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start `paddock logs`")?;
    let cleanup = h.cleanup_handle();
    cleanup.track(child.id(), false);
    let mut stdout = child.stdout.take().context("no stdout")?;
    let (holder_pid, logs_pid) = (session.holder_pid, child.id());
    let reader = std::thread::spawn(move || {
        let mut expected = Expected::new(bytes);
        let mut buf = vec![0u8; 1 << 20];
        let mut done = None;
        let mut cpu = None;
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    expected.check(&buf[..n]);
                    if expected.pos >= bytes && done.is_none() {
                        done = Some(Instant::now());
                        // Both still run: `logs` ends when it is told the agent exited.
                        cpu = Some((procfs::threads(holder_pid), procfs::threads(logs_pid)));
                    }
                }
            }
        }
        (expected.pos, expected.mismatch, done, cpu)
    });
    let attached = harness::wait_for(Duration::from_secs(10), || {
        control.info(deadline).is_ok_and(|info| info.clients >= 1)
    });
    if !attached {
        let _ = child.kill();
        bail!("`paddock logs --follow` did not attach within 10 s");
    }
    let holder_before = procfs::threads(session.holder_pid)?;
    let logs_before = procfs::threads(child.id())?;
    let t0 = Instant::now();
    control.send_input(b"\r")?;
    let agent_end = control.wait_exited(deadline);
    let status = wait_child(&mut child, deadline);
    let (received, mismatch, done, cpu) = reader
        .join()
        .map_err(|_| anyhow::anyhow!("reader panicked"))?;
    let (holder_cpu, logs_cpu_ns) = match cpu {
        Some((Ok(holder), Ok(logs))) => (
            procfs::growth(&holder_before, &holder),
            procfs::growth(&logs_before, &logs)
                .values()
                .map(|t| t.cpu_ns)
                .sum(),
        ),
        _ => (BTreeMap::new(), 0),
    };
    cleanup.forget(child.id());
    let mut said = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut said);
    }
    let agent_end = agent_end?;
    if !status?.success() {
        bail!("`paddock logs` failed: {}", said.trim());
    }
    let Some(done) = done else {
        bail!(
            "the follower ended after {received} of {bytes} bytes: {}",
            said.trim()
        );
    };
    Ok(FollowRun {
        follower: done - t0,
        agent: agent_end - t0,
        received,
        mismatch,
        said,
        holder_cpu,
        logs_cpu_ns,
    })
}

fn wait_child(
    child: &mut std::process::Child,
    deadline: Instant,
) -> anyhow::Result<std::process::ExitStatus> {
    loop {
        if let Some(s) = child.try_wait()? {
            return Ok(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!("`paddock logs` did not end with the session");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What the terminal printed for a run: "\r\n", then the file of [`Harness::text_file`]
/// with each `\n` as `\r\n`. Its lines come in 94 variants, built once.
struct Expected {
    lines: Vec<Vec<u8>>,
    total: u64,
    pos: u64,
    mismatch: Option<u64>,
}

impl Expected {
    fn new(total: u64) -> Self {
        let lines = (0..94u64)
            .map(|v| {
                let mut l: Vec<u8> = (0..99u64).map(|j| b'!' + ((v + j) % 94) as u8).collect();
                l.extend_from_slice(b"\r\n");
                l
            })
            .collect();
        Self {
            lines,
            total,
            pos: 0,
            mismatch: None,
        }
    }

    fn check(&mut self, mut got: &[u8]) {
        while !got.is_empty() {
            let want: &[u8] = if self.pos >= self.total {
                &[]
            } else if self.pos < ECHO {
                &b"\r\n"[self.pos as usize..]
            } else {
                let q = self.pos - ECHO;
                let (line, col) = (q / 101, (q % 101) as usize);
                &self.lines[((line * 101) % 94) as usize][col..]
            };
            let n = want.len().min(got.len());
            if n == 0 || got[..n] != want[..n] {
                let at = got[..n]
                    .iter()
                    .zip(want)
                    .position(|(a, b)| a != b)
                    .unwrap_or(n);
                self.mismatch.get_or_insert(self.pos + at as u64);
            }
            let n = n.max(got.len().min(1));
            self.pos += n as u64;
            got = &got[n..];
        }
    }
}

/// One fan-out run.
struct FanRun {
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

fn fan_run(
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

fn fan_rows(
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
