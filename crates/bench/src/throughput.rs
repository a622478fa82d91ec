//! Output throughput: a large file pushed through a bare PTY, through the holder to one
//! client and to several at once, and through tmux to a control-mode client.
//!
//! Every run starts the same way. The agent is `sh -c 'read x; cat FILE; exec sleep …'` in a
//! 200×50 terminal in the kernel's default tty mode; once the reader is ready, "\r" is typed
//! and the clock runs from that keystroke until the reader has every byte: the echo of the
//! "\r" (`\r\n`) plus the file, in which ONLCR turns each `\n` into `\r\n`.
//!
//! The bare PTY and the holder with one client, whose ratio has a target, run in alternating
//! rounds and report medians; tmux and the fan-out run once. Alongside each holder run the
//! bench reads the CPU time of each holder thread, to say where the time goes.

use crate::follower::Follower;
use crate::harness::{self, Harness, Session, COLS, ROWS};
use crate::options::Options;
use crate::procfs::{self, CpuTimes, ThreadStats};
use crate::report::{mb_per_s, percentile, Report, Row};
use crate::tmux::{self, Tmux};
use anyhow::{bail, Context};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use paddock_proto::{Hello, Mode, Start};
use portable_pty::{CommandBuilder, PtySize};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What the tty echoes for the "\r" that starts a run: ICRNL makes it `\n`, ONLCR `\r\n`.
pub(crate) const ECHO: u64 = 2;
/// Bytes per read from the bare PTY's master, as the holder reads.
const READ_CHUNK: usize = 64 * 1024;
/// The holder must deliver at least this share of the bare PTY's rate.
const TARGET_RATIO: f64 = 0.90;

/// One timed run and how busy the machine was meanwhile.
pub(crate) struct Timed {
    pub(crate) elapsed: Duration,
    pub(crate) busy_cores: f64,
}

/// A run through the holder.
pub(crate) struct HolderRun {
    /// Each client's time from the keystroke to its last byte.
    pub(crate) times: Vec<Duration>,
    /// Why the other clients did not get every byte.
    failed: Vec<String>,
    busy_cores: f64,
    /// What each holder thread did meanwhile.
    threads: BTreeMap<String, ThreadStats>,
}

impl HolderRun {
    /// A row with the holder's CPU time during the run, per thread, busiest first.
    fn cpu_row(&self, what: &str) -> Row {
        let mut threads: Vec<_> = self.threads.values().collect();
        threads.sort_by_key(|t| std::cmp::Reverse(t.cpu_ns));
        let secs = |ns: u64| ns as f64 / 1e9;
        let per_thread: Vec<String> = threads
            .iter()
            .filter(|t| t.cpu_ns >= 10_000_000)
            // The holder's main thread runs the tokio runtime (the socket side).
            .map(|t| match t.name.as_str() {
                "paddock" => format!("main {:.2} s", secs(t.cpu_ns)),
                name => format!("{name} {:.2} s", secs(t.cpu_ns)),
            })
            .collect();
        let total: u64 = threads.iter().map(|t| t.cpu_ns).sum();
        let waited: u64 = threads.iter().map(|t| t.wait_ns).sum();
        Row::new(
            format!("Holder CPU time, {what}"),
            format!("{:.2} s", secs(total)),
        )
        .beside(format!(
            "{}; its threads waited {:.2} s for a core; {}",
            per_thread.join(", "),
            secs(waited),
            busy(self.busy_cores)
        ))
    }

    /// This run if every client got every byte, else why not.
    pub(crate) fn complete(self) -> anyhow::Result<Self> {
        match self.failed.first() {
            None => Ok(self),
            Some(e) => Err(anyhow::anyhow!("{e}")),
        }
    }

    fn json(&self, bytes: u64) -> serde_json::Value {
        json!({
            "clients": self.times.len(),
            "secs": self.times.iter().map(Duration::as_secs_f64).collect::<Vec<_>>(),
            "per_client_mb_per_s": self.times.iter().map(|d| mb_per_s(bytes, *d)).collect::<Vec<_>>(),
            "failed_clients": self.failed,
            "busy_cores": self.busy_cores,
            "holder_threads": procfs::growth_json(&self.threads),
        })
    }
}

/// The median (the upper one of an even count); `None` if there are no values.
fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// `52–71 MB/s`
fn range(rates: &[f64]) -> String {
    let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = rates.iter().copied().fold(0.0, f64::max);
    format!("{lo:.0}–{hi:.0} MB/s")
}

fn busy(cores: f64) -> String {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cores:.1} of {all} cores busy")
}

pub fn run(h: &mut Harness, opts: &Options, report: &mut Report) {
    eprintln!("throughput: writing a {} MiB file", opts.size >> 20);
    let file = match h.text_file("data.txt", opts.size) {
        Ok(f) => f,
        Err(e) => return report.fail("Throughput", &e),
    };
    let bytes = ECHO + file.tty_bytes();
    let script = format!("read x; cat {}; exec sleep 1000000", file.path.display());
    let mut out = Figures {
        report,
        json: json!({ "tty_bytes": bytes, "file_bytes": file.len }),
        bytes,
        raw_rate: None,
    };

    // Bare PTY and holder alternate, so that both see the same spells of noise; each
    // figure is the median of its rounds.
    let mut raws = Vec::new();
    let mut holders = Vec::new();
    for round in 1..=opts.rounds {
        eprintln!(
            "throughput: round {round}/{}: bare PTY, holder → 1 client",
            opts.rounds
        );
        match raw_pty(&script, bytes) {
            Ok(r) => raws.push(r),
            Err(e) => out
                .report
                .fail(&format!("Throughput, bare PTY, round {round}"), &e),
        }
        match holder(h, opts, &script, bytes, 1).and_then(HolderRun::complete) {
            Ok(run) => holders.push(run),
            Err(e) => out
                .report
                .fail(&format!("Throughput, holder → 1 client, round {round}"), &e),
        }
    }
    out.bare_pty(&raws);
    out.holder_1(&holders);

    if opts.tmux {
        eprintln!("throughput: tmux → tmux -C");
        match tmux_control(h, &script, bytes) {
            Ok(r) => out.tmux(&r),
            Err(e) => out.report.fail("Throughput, tmux → `tmux -C` client", &e),
        }
    }

    let n = opts.clients;
    eprintln!("throughput: holder → {n} clients");
    match holder(h, opts, &script, bytes, n) {
        Ok(run) => out.fan_out(&run, opts.ring),
        Err(e) => out
            .report
            .fail(&format!("Throughput, holder → {n} clients"), &e),
    }
    let Figures { report, json, .. } = out;
    report.record("throughput", json);
}

/// Turns runs into rows and JSON.
struct Figures<'a> {
    report: &'a mut Report,
    json: serde_json::Value,
    /// Bytes per run.
    bytes: u64,
    /// The bare PTY's median rate, which the others are compared with.
    raw_rate: Option<f64>,
}

impl Figures<'_> {
    fn rate(&self, d: Duration) -> f64 {
        mb_per_s(self.bytes, d)
    }

    fn of_raw(&self, rate: f64) -> String {
        match self.raw_rate {
            Some(r) => format!("{:.1} % of bare PTY", 100.0 * rate / r),
            None => "no bare PTY figure".to_owned(),
        }
    }

    fn bare_pty(&mut self, raws: &[Timed]) {
        let rates: Vec<f64> = raws.iter().map(|r| self.rate(r.elapsed)).collect();
        let Some(rate) = median(&rates) else { return };
        self.raw_rate = Some(rate);
        let busy_cores: Vec<f64> = raws.iter().map(|r| r.busy_cores).collect();
        self.json["raw_pty"] = json!({
            "mb_per_s": rate,
            "rounds_mb_per_s": rates,
            "busy_cores": busy_cores,
        });
        self.report.add(
            Row::new("Throughput, bare PTY", format!("{rate:.0} MB/s")).beside(format!(
                "`cat` → PTY master, read in 64 KiB; median of {} rounds ({}); {}",
                rates.len(),
                range(&rates),
                busy(median(&busy_cores).unwrap_or(0.0))
            )),
        );
    }

    fn holder_1(&mut self, runs: &[HolderRun]) {
        let rates: Vec<f64> = runs.iter().map(|r| self.rate(r.times[0])).collect();
        let Some(rate) = median(&rates) else { return };
        self.json["holder_1"] = json!({
            "mb_per_s": rate,
            "ratio_to_raw": self.raw_rate.map(|r| rate / r),
            "rounds": runs.iter().map(|r| r.json(self.bytes)).collect::<Vec<_>>(),
        });
        let mut row =
            Row::new("Throughput, holder → 1 client", format!("{rate:.0} MB/s")).beside(format!(
                "{}; median of {} rounds ({})",
                self.of_raw(rate),
                rates.len(),
                range(&rates)
            ));
        if let Some(r) = self.raw_rate {
            row = row.target("≥ 90 % of bare PTY", rate / r >= TARGET_RATIO);
        }
        self.report.add(row);
        // The CPU of the round whose rate is the median.
        let mut by_time: Vec<&HolderRun> = runs.iter().collect();
        by_time.sort_by_key(|r| r.times[0]);
        self.report
            .add(by_time[by_time.len() / 2].cpu_row("1 client, median round"));
    }

    fn tmux(&mut self, r: &Timed) {
        let rate = self.rate(r.elapsed);
        self.json["tmux"] = json!({
            "secs": r.elapsed.as_secs_f64(),
            "mb_per_s": rate,
            "busy_cores": r.busy_cores,
        });
        let row = Row::new(
            "Throughput, tmux → `tmux -C` client",
            format!("{rate:.0} MB/s"),
        )
        .beside(format!(
            "{}; {}; `%output` lines decoded",
            self.of_raw(rate),
            busy(r.busy_cores)
        ));
        self.report.add(row);
    }

    fn fan_out(&mut self, run: &HolderRun, ring: u64) {
        let n = run.times.len() + run.failed.len();
        self.json["holder_n"] = run.json(self.bytes);
        if let Some(first) = run.failed.first() {
            // A lossless client more than a ring behind is resynced with a snapshot: by
            // design the agent never waits for a viewer, so a starved client can be lapped.
            let err = anyhow::anyhow!(
                "{} of {n} clients did not receive every byte (ring {} MiB); first: {first}",
                run.failed.len(),
                ring >> 20,
            );
            self.report
                .fail(&format!("Throughput, holder → {n} clients"), &err);
            self.report.add(run.cpu_row(&format!("{n} clients")));
            return;
        }
        let last = run.times.iter().max().copied().unwrap_or_default();
        let first = run.times.iter().min().copied().unwrap_or_default();
        let aggregate = mb_per_s(self.bytes * n as u64, last);
        self.json["holder_n"]["aggregate_mb_per_s"] = json!(aggregate);
        self.report.add(
            Row::new(
                format!("Throughput, holder → {n} clients, aggregate"),
                format!("{aggregate:.0} MB/s"),
            )
            .beside(format!(
                "{n} × {} MiB in {:.2} s",
                self.bytes >> 20,
                last.as_secs_f64()
            )),
        );
        let slowest = self.rate(last);
        self.report.add(
            Row::new(
                format!("Throughput, holder → {n} clients, per client"),
                format!("{:.0} MB/s median", self.rate(percentile(&run.times, 50.0))),
            )
            .beside(format!(
                "slowest {slowest:.0}, fastest {:.0} MB/s; slowest is {}",
                self.rate(first),
                self.of_raw(slowest)
            )),
        );
        self.report.add(run.cpu_row(&format!("{n} clients")));
    }
}

/// The file through a PTY pair with nothing in between: `cat` on the slave, this process
/// reading the master.
pub(crate) fn raw_pty(script: &str, bytes: u64) -> anyhow::Result<Timed> {
    raw_pty_into(script, bytes, |_| Ok(())).map(|(timed, _)| timed)
}

/// [`raw_pty`], handing each read to `relay` before reading on; also returns the moment
/// the "\r" was typed, for a relay's reader to time itself from.
pub(crate) fn raw_pty_into(
    script: &str,
    bytes: u64,
    mut relay: impl FnMut(&[u8]) -> std::io::Result<()> + Send + 'static,
) -> anyhow::Result<(Timed, Instant)> {
    let pair = portable_pty::native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .map_err(|e| anyhow::anyhow!("cannot open a PTY: {e}"))?;
    let mut cmd = CommandBuilder::new("sh");
    cmd.args(["-c", script]);
    let mut child = pair
        .slave
        .spawn_command(cmd)
        .map_err(|e| anyhow::anyhow!("cannot start sh in the PTY: {e}"))?;
    drop(pair.slave);
    let group = child
        .process_id()
        .and_then(|p| i32::try_from(p).ok())
        .map(Pid::from_raw);
    let kill = move || {
        if let Some(g) = group {
            let _ = killpg(g, Signal::SIGKILL);
        }
    };
    let mut reader = pair
        .master
        .try_clone_reader()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut writer = pair
        .master
        .take_writer()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let result = harness::with_deadline(
        "bare PTY run",
        harness::transfer_limit(bytes),
        move || {
            let mut buf = vec![0u8; READ_CHUNK];
            let mut got = 0u64;
            let cpu = CpuTimes::now()?;
            let t0 = Instant::now();
            writer.write_all(b"\r")?;
            writer.flush()?;
            while got < bytes {
                let n = reader.read(&mut buf).context("reading the PTY master")?;
                if n == 0 {
                    bail!("the PTY closed after {got} of {bytes} bytes");
                }
                relay(&buf[..n]).context("relaying what the PTY gave")?;
                got += n as u64;
            }
            let elapsed = t0.elapsed();
            let busy_cores = CpuTimes::now()?.busy_cores_since(&cpu);
            if got != bytes {
                bail!("read {got} bytes from the PTY, expected {bytes}");
            }
            Ok((
                Timed {
                    elapsed,
                    busy_cores,
                },
                t0,
            ))
        },
        kill,
    );
    kill();
    let _ = child.wait();
    result
}

/// Hello of a client that must see every byte from now on.
fn follower_hello() -> Hello {
    Hello {
        start: Start::End,
        lossless: true,
        client_name: Some("bench".into()),
        ..Hello::new(Mode::ReadOnly)
    }
}

/// The file through a holder to `clients` attached clients; returns each one's time from
/// the keystroke to its last byte.
pub(crate) fn holder(
    h: &mut Harness,
    opts: &Options,
    script: &str,
    bytes: u64,
    clients: usize,
) -> anyhow::Result<HolderRun> {
    let ring = opts.ring.to_string();
    let session = h.start_session(&["--ring", &ring], &["sh", "-c", script])?;
    let result = fan_out(&session, bytes, clients);
    h.stop(&session);
    result
}

fn fan_out(session: &Session, bytes: u64, clients: usize) -> anyhow::Result<HolderRun> {
    let connect_limit = Duration::from_secs(10);
    let deadline = Instant::now() + harness::transfer_limit(bytes * clients as u64);
    let (ready_tx, ready_rx) = mpsc::channel();
    let mut readers = Vec::new();
    for i in 0..clients {
        let socket = session.socket.clone();
        let ready = ready_tx.clone();
        let reader = std::thread::Builder::new()
            .name(format!("client-{i}"))
            .spawn(move || -> anyhow::Result<Instant> {
                let mut f = Follower::connect(&socket, follower_hello(), connect_limit)?;
                let _ = ready.send(());
                f.read_until(bytes, deadline)
                    .with_context(|| format!("client {i}"))?;
                Ok(Instant::now())
            })?;
        readers.push(reader);
    }
    drop(ready_tx);
    // Every client attached, or one failed and dropped its sender.
    let mut ready = 0;
    while ready < clients && ready_rx.recv_timeout(connect_limit).is_ok() {
        ready += 1;
    }
    if ready < clients {
        // The attached ones stop when the holder is stopped.
        bail!("only {ready} of {clients} clients attached within {connect_limit:?}");
    }
    let mut typist = Follower::connect(
        &session.socket,
        Hello::control(Mode::ReadWrite),
        connect_limit,
    )?;
    let (threads, cpu) = (procfs::threads(session.holder_pid)?, CpuTimes::now()?);
    let t0 = Instant::now();
    typist.send_input(b"\r")?;
    let mut times = Vec::new();
    let mut failed = Vec::new();
    for reader in readers {
        match reader.join() {
            Ok(Ok(done)) => times.push(done - t0),
            Ok(Err(e)) => failed.push(format!("{e:#}")),
            Err(_) => failed.push("the client thread panicked".to_owned()),
        }
    }
    Ok(HolderRun {
        times,
        failed,
        busy_cores: CpuTimes::now()?.busy_cores_since(&cpu),
        threads: procfs::growth(&threads, &procfs::threads(session.holder_pid)?),
    })
}

/// The file through tmux to a control-mode client.
///
/// The control client is primed first (see [`tmux::Control::prime`]): a few `x` go into the
/// line `read` is waiting for and are echoed, possibly late. So bytes are counted from the
/// echo of Enter (`\015\012`, the first line end after it was typed) on.
fn tmux_control(h: &mut Harness, script: &str, bytes: u64) -> anyhow::Result<Timed> {
    const ENTER_ECHO: &[u8] = br"\015\012";
    let deadline = Instant::now() + harness::transfer_limit(bytes);
    let tmux = Tmux::start(h, "tp", &["sh", "-c", script])?;
    let mut control = tmux.control(deadline)?;
    control.prime(Instant::now() + Duration::from_secs(10))?;
    let cpu = CpuTimes::now()?;
    let t0 = Instant::now();
    control.send(&format!("send-keys -t {} Enter", tmux.pane))?;
    // Until the echo: escaped output, kept only to find the echo in it.
    let mut before_echo: Option<Vec<u8>> = Some(Vec::new());
    let mut got = 0u64;
    while got < bytes {
        let data = control.expect_output(deadline)?;
        match before_echo.as_mut() {
            None => got += tmux::decoded_len(data) as u64,
            Some(seen) => {
                seen.extend_from_slice(data);
                if let Some(at) = find(seen, ENTER_ECHO) {
                    got = ECHO + tmux::decoded_len(&seen[at + ENTER_ECHO.len()..]) as u64;
                    before_echo = None;
                }
            }
        }
    }
    let elapsed = t0.elapsed();
    let busy_cores = CpuTimes::now()?.busy_cores_since(&cpu);
    if got != bytes {
        bail!("tmux delivered {got} bytes, expected {bytes}");
    }
    Ok(Timed {
        elapsed,
        busy_cores,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
