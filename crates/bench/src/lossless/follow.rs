//! The lossless follower runs: `paddock logs --follow --raw` into a pipe the bench reads,
//! checked byte for byte against what the terminal printed, timed against a bare PTY, with
//! where the CPU went; and their rows in the report.

use super::median;
use crate::follower::Follower;
use crate::harness::{self, Harness, Session};
use crate::procfs::{self, ThreadStats};
use crate::report::{mb_per_s, Report, Row};
use crate::throughput::ECHO;
use anyhow::{bail, Context};
use paddock_proto::{Hello, Mode};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How fast `logs --follow --raw` must be, as a share of the bare PTY.
const TARGET_RATIO: f64 = 0.90;

/// One `logs --follow --raw` run.
pub(super) struct FollowRun {
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

pub(super) fn follower_rows(
    report: &mut Report,
    json: &mut serde_json::Value,
    bytes: u64,
    (raws, relays): (&[Duration], &[Duration]),
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
        "bare_relay_secs": relays.iter().map(Duration::as_secs_f64).collect::<Vec<_>>(),
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
    if let Some(relay) = median(relays) {
        let relay_rate = mb_per_s(bytes, relay);
        report.add(
            Row::new(
                "`logs --follow --raw` against a bare relay",
                format!("{:.1} % of the relay's rate", 100.0 * rate / relay_rate),
            )
            .beside(format!(
                "the bare relay (the bare PTY's reader writing each read into a pipe another thread reads and checks) ran at {relay_rate:.0} MB/s, {:.1} % of the bare PTY: the least a program between a PTY and its reader costs on this machine (medians of {} runs)",
                100.0 * relay_rate / raw_rate,
                relays.len()
            )),
        );
        json["follower"]["bare_relay_mb_per_s"] = json!(relay_rate);
    }
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

pub(super) fn follow_run(h: &mut Harness, script: &str, bytes: u64) -> anyhow::Result<FollowRun> {
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

/// A bare relay, the least any program between a PTY and its reader costs, whoever wrote
/// it: the bare PTY's reader writes each read on into a pipe (1 MiB, as `logs` asks for
/// its own), which another thread reads and checks as the follower's reader does. The
/// clock runs from the "\r" to that thread's last byte.
pub(super) fn relay_run(script: &str, bytes: u64) -> anyhow::Result<Duration> {
    let (rd, wr) = nix::unistd::pipe().context("cannot make a pipe for the bare relay")?;
    // Linux only, as in `logs`: other systems size their pipes themselves.
    #[cfg(target_os = "linux")]
    let _ = nix::fcntl::fcntl(
        std::os::fd::AsRawFd::as_raw_fd(&wr),
        nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20),
    );
    let mut out = std::fs::File::from(wr);
    let reader = std::thread::spawn(move || {
        let mut pipe = std::fs::File::from(rd);
        let mut expected = Expected::new(bytes);
        let mut buf = vec![0u8; 1 << 20];
        while expected.pos < bytes {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => expected.check(&buf[..n]),
            }
        }
        (expected.pos, expected.mismatch, Instant::now())
    });
    let (_, t0) = crate::throughput::raw_pty_into(script, bytes, move |chunk| {
        std::io::Write::write_all(&mut out, chunk)
    })?;
    let (got, mismatch, done) = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the bare relay's reader panicked"))?;
    if got != bytes || mismatch.is_some() {
        bail!(
            "the bare relay's reader got {got} of {bytes} bytes, first difference at {mismatch:?}"
        );
    }
    Ok(done - t0)
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
