//! Keystroke round trip: one byte typed, its echo read back, timed per keystroke.
//!
//! The agent is `cat` reading into /dev/null in cooked mode, so the echo comes from the tty's
//! line discipline and nothing else writes to the terminal. Three paths: a bare PTY (this
//! process writes the master and reads it back: the floor), the holder (an Input frame out,
//! an Output frame back, through `paddock_host::client`), and tmux (`send-keys -l x` written
//! to a `tmux -C` client, until the matching `%output` line). The three take turns over
//! `--rounds` rounds, each a fresh terminal with its own warmup, so that they share the
//! machine's spells of noise; the percentiles are over all samples of a path.

use crate::harness::{self, Harness, COLS, ROWS};
use crate::options::Options;
use crate::report::{latency_summary, micros, percentile, Report, Row};
use crate::tmux::Tmux;
use anyhow::{bail, Context};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use paddock_host::client::{Client, ClientReader, Event};
use paddock_proto::{Hello, Mode, Start};
use portable_pty::{CommandBuilder, PtySize};
use serde_json::json;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Keystrokes before the measured ones.
const WARMUP: usize = 200;
/// Enter ends the line after this many keystrokes (cooked mode keeps at most 4095 pending).
const LINE: usize = 64;
/// The longest a single echo may take before the run is declared stuck.
const ECHO_LIMIT: Duration = Duration::from_secs(5);
/// Holder p99 target.
const TARGET_P99: Duration = Duration::from_micros(150);
const AGENT: &[&str] = &["sh", "-c", "exec cat > /dev/null"];

/// Where a keystroke goes.
#[derive(Clone, Copy)]
enum Path {
    Raw,
    Holder,
    Tmux,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Raw => "bare PTY echo",
            Path::Holder => "holder",
            Path::Tmux => "tmux -C",
        }
    }
}

/// The three paths' samples, gathered round by round.
#[derive(Default)]
struct Samples {
    raw: Vec<Duration>,
    holder: Vec<Duration>,
    tmux: Vec<Duration>,
    errors: Vec<(Path, anyhow::Error)>,
}

impl Samples {
    fn take(&mut self, path: Path, result: anyhow::Result<Vec<Duration>>) {
        let into = match path {
            Path::Raw => &mut self.raw,
            Path::Holder => &mut self.holder,
            Path::Tmux => &mut self.tmux,
        };
        match result {
            Ok(s) => into.extend(s),
            Err(e) => self.errors.push((path, e)),
        }
    }
}

pub fn run(h: &mut Harness, rt: &Runtime, opts: &Options, report: &mut Report) {
    let all = gather(h, rt, opts, opts.tmux);
    let json = add_rows(report, &all, opts, "");
    report.record("keystroke", json);

    // The same again with the guest's halt polling changed for this pass only.
    if let Some(ns) = opts.halt_poll {
        let what = format!("guest halt polling {} µs", ns / 1000);
        match crate::haltpoll::Override::set(ns) {
            Ok(guard) => {
                eprintln!("latency: again with {what}");
                let again = gather(h, rt, opts, false);
                drop(guard);
                let json = add_rows(report, &again, opts, &format!(", {what}"));
                report.record("keystroke_halt_poll", json);
            }
            Err(e) => report.fail(&format!("Keystroke round trip, {what}"), &e),
        }
    }
}

/// The paths' samples: they take turns over `rounds` rounds, so that each sees the same
/// spells of machine noise; a round is a fresh terminal with its own warmup.
fn gather(h: &mut Harness, rt: &Runtime, opts: &Options, tmux: bool) -> Samples {
    let rounds = opts.rounds.min(opts.samples);
    let mut all = Samples::default();
    for round in 0..rounds {
        let n = opts.samples / rounds + usize::from(round < opts.samples % rounds);
        eprintln!(
            "latency: round {}/{rounds}: {n} keystrokes per path",
            round + 1
        );
        all.take(Path::Raw, raw_pty(n));
        all.take(Path::Holder, holder(h, rt, n));
        if tmux {
            all.take(Path::Tmux, tmux_control(h, n));
        }
    }
    all
}

/// Adds a row per path (figure names end with `suffix`); the summaries as JSON.
fn add_rows(report: &mut Report, all: &Samples, opts: &Options, suffix: &str) -> serde_json::Value {
    let rounds = opts.rounds.min(opts.samples);
    let figure = |path: &str| format!("Keystroke round trip, {path}{suffix}, p50 / p99");
    let value = |s: &[Duration]| {
        format!(
            "{:.0} / {:.0} µs",
            micros(percentile(s, 50.0)),
            micros(percentile(s, 99.0))
        )
    };
    let detail = |s: &[Duration]| {
        format!(
            "{} samples in {rounds} rounds, each after {WARMUP} warmup",
            s.len()
        )
    };
    for (path, e) in &all.errors {
        report.fail(&figure(path.name()), e);
    }
    let mut json = json!({});
    if !all.raw.is_empty() {
        json["raw_pty"] = latency_summary(&all.raw);
        report.add(Row::new(figure(Path::Raw.name()), value(&all.raw)).beside(detail(&all.raw)));
    }
    if !all.holder.is_empty() {
        json["holder"] = latency_summary(&all.holder);
        let p99 = percentile(&all.holder, 99.0);
        report.add(
            Row::new(figure(Path::Holder.name()), value(&all.holder))
                .beside(detail(&all.holder))
                .target("p99 ≤ 150 µs", p99 <= TARGET_P99),
        );
    }
    if !all.tmux.is_empty() {
        json["tmux"] = latency_summary(&all.tmux);
        report.add(Row::new(figure(Path::Tmux.name()), value(&all.tmux)).beside(detail(&all.tmux)));
    }
    json
}

/// A key typed in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    X,
    Enter,
}

impl Key {
    fn bytes(self) -> &'static [u8] {
        match self {
            Key::X => b"x",
            Key::Enter => b"\r",
        }
    }

    /// What the line discipline echoes: ICRNL and ONLCR make Enter `\r\n`.
    fn echo(self) -> &'static [u8] {
        match self {
            Key::X => b"x",
            Key::Enter => b"\r\n",
        }
    }
}

/// The keys of one run and whether each is measured: `WARMUP` unmeasured ones first, and an
/// unmeasured Enter every `LINE` keystrokes.
fn schedule(samples: usize) -> impl Iterator<Item = (Key, bool)> {
    (0..WARMUP + samples).flat_map(|i| {
        let enter = (i % LINE == LINE - 1).then_some((Key::Enter, false));
        enter.into_iter().chain([(Key::X, i >= WARMUP)])
    })
}

fn raw_pty(samples: usize) -> anyhow::Result<Vec<Duration>> {
    let pair = portable_pty::native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .map_err(|e| anyhow::anyhow!("cannot open a PTY: {e}"))?;
    let mut cmd = CommandBuilder::new(AGENT[0]);
    cmd.args(&AGENT[1..]);
    let mut child = pair
        .slave
        .spawn_command(cmd)
        .map_err(|e| anyhow::anyhow!("cannot start cat in the PTY: {e}"))?;
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
    let limit = ECHO_LIMIT * 10 + Duration::from_millis(10) * samples as u32;
    let result = harness::with_deadline(
        "bare PTY echo",
        limit,
        move || {
            let mut buf = [0u8; 64];
            let mut out = Vec::with_capacity(samples);
            for (key, measured) in schedule(samples) {
                let t0 = Instant::now();
                writer.write_all(key.bytes())?;
                writer.flush()?;
                let mut got = Vec::new();
                while got.len() < key.echo().len() {
                    let n = reader.read(&mut buf)?;
                    if n == 0 {
                        bail!("the PTY closed");
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                let elapsed = t0.elapsed();
                if got != key.echo() {
                    bail!("echo was {got:?}, expected {:?}", key.echo());
                }
                if measured {
                    out.push(elapsed);
                }
            }
            Ok(out)
        },
        kill,
    );
    kill();
    let _ = child.wait();
    result
}

fn holder(h: &mut Harness, rt: &Runtime, samples: usize) -> anyhow::Result<Vec<Duration>> {
    let session = h.start_session(&[], AGENT)?;
    let result = rt.block_on(async {
        let hello = Hello {
            start: Start::End,
            client_name: Some("bench".into()),
            ..Hello::new(Mode::ReadWrite)
        };
        let client = Client::connect(&session.socket, hello).await?;
        let (mut reader, mut writer) = client.into_split();
        let mut out = Vec::with_capacity(samples);
        for (key, measured) in schedule(samples) {
            let t0 = Instant::now();
            writer.send_input(key.bytes()).await?;
            read_echo(&mut reader, key.echo()).await?;
            if measured {
                out.push(t0.elapsed());
            }
        }
        anyhow::Ok(out)
    });
    h.stop(&session);
    result
}

/// Reads output until exactly `want` has arrived.
async fn read_echo(reader: &mut ClientReader, want: &[u8]) -> anyhow::Result<()> {
    let mut got = Vec::new();
    while got.len() < want.len() {
        let event = tokio::time::timeout(ECHO_LIMIT, reader.next_event())
            .await
            .context("no echo within 5 s")??;
        match event {
            Some(Event::Output { data, .. }) => got.extend_from_slice(&data),
            Some(Event::Error { error, .. }) => bail!("the holder refused: {error}"),
            Some(_) => {}
            None => bail!("the holder closed the connection"),
        }
    }
    if got != want {
        bail!("echo was {got:?}, expected {want:?}");
    }
    Ok(())
}

fn tmux_control(h: &mut Harness, samples: usize) -> anyhow::Result<Vec<Duration>> {
    let tmux = Tmux::start(h, "rtt", AGENT)?;
    let mut control = tmux
        .control(Instant::now() + ECHO_LIMIT)
        .context("attaching tmux -C")?;
    let pane = &tmux.pane;
    // Priming leaves one or more `x` on the line, some perhaps not yet echoed: Enter, and
    // everything up to its echo, clears both.
    control.prime(Instant::now() + ECHO_LIMIT)?;
    control.send(&format!("send-keys -t {pane} Enter"))?;
    let mut seen = Vec::new();
    while !seen.ends_with(br"\015\012") {
        seen.extend_from_slice(control.expect_output(Instant::now() + ECHO_LIMIT)?);
    }
    let mut out = Vec::with_capacity(samples);
    for (i, (key, measured)) in schedule(samples).enumerate() {
        let (command, echo): (_, &[u8]) = match key {
            Key::X => (format!("send-keys -t {pane} -l x"), b"x"),
            // `%output` escapes bytes below 0x20 as octal.
            Key::Enter => (format!("send-keys -t {pane} Enter"), br"\015\012"),
        };
        let t0 = Instant::now();
        control.send(&command)?;
        let mut got = Vec::new();
        while got.len() < echo.len() {
            let line = control
                .expect_output(Instant::now() + ECHO_LIMIT)
                .with_context(|| format!("waiting for the echo of keystroke {i} ({key:?})"))?;
            got.extend_from_slice(line);
        }
        let elapsed = t0.elapsed();
        if got != echo {
            bail!(
                "tmux echoed {:?}, expected {:?}",
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(echo)
            );
        }
        if measured {
            out.push(elapsed);
        }
    }
    Ok(out)
}
