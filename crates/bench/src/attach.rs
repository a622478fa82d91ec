//! Attach time and snapshot size: the agent fills the whole 200×50 screen with text in which
//! every cell has its own foreground and background colour, then sits idle; clients attach
//! one after another (connect, hello, snapshot frame received) and are timed, twice: to a
//! holder nobody else watches (which gives back its code pages whenever its last client
//! leaves, so each attach faults them in again), and while another client stays attached.
//!
//! The first snapshot is also replayed into a fresh screen model and compared with the
//! screen the agent drew, so a fast but wrong snapshot cannot pass.

use crate::follower::Follower;
use crate::harness::{Harness, COLS, ROWS};
use crate::options::Options;
use crate::report::{micros, percentile, Report, Row};
use anyhow::{bail, Context};
use paddock_host::client::{Client, Event};
use paddock_host::model::ScreenModel;
use paddock_proto::{Hello, Mode, Size, Start};
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// A snapshot frame's bytes beyond its data: length, tag, offset, cols, rows.
const SNAPSHOT_OVERHEAD: usize = 4 + 1 + 8 + 2 + 2;

struct Attaches {
    /// Attaches to a holder with no other client.
    alone: Vec<Duration>,
    /// Attaches while another client stays attached.
    watched: Vec<Duration>,
    snapshot_len: usize,
    screen_len: usize,
}

pub fn run(h: &mut Harness, rt: &Runtime, opts: &Options, report: &mut Report) {
    eprintln!(
        "attach: {} attaches to a full coloured screen",
        opts.attaches
    );
    match measure(h, rt, opts.attaches) {
        Ok(a) => {
            let summary = |t: &[Duration]| {
                format!(
                    "p99 {:.0} µs over {} attaches; connect + hello + snapshot frame",
                    micros(percentile(t, 99.0)),
                    t.len()
                )
            };
            let p50 = |t: &[Duration]| format!("{:.0} µs", micros(percentile(t, 50.0)));
            report.add(
                Row::new("Attach time p50, no other client", p50(&a.alone))
                    .beside(summary(&a.alone)),
            );
            report.add(
                Row::new("Attach time p50, another client attached", p50(&a.watched))
                    .beside(summary(&a.watched)),
            );
            report.add(
                Row::new(
                    format!("Snapshot of a full {COLS}×{ROWS} coloured screen"),
                    format!("{} bytes", a.snapshot_len + SNAPSHOT_OVERHEAD),
                )
                .beside(format!(
                    "the agent drew it with {} bytes; replay matches the screen",
                    a.screen_len
                )),
            );
            let stats = |t: &[Duration]| {
                json!({
                    "attaches": t.len(),
                    "p50_us": micros(percentile(t, 50.0)),
                    "p99_us": micros(percentile(t, 99.0)),
                    "max_us": micros(percentile(t, 100.0)),
                })
            };
            report.record(
                "attach",
                json!({
                    "no_other_client": stats(&a.alone),
                    "another_client_attached": stats(&a.watched),
                    "snapshot_frame_bytes": a.snapshot_len + SNAPSHOT_OVERHEAD,
                    "snapshot_data_bytes": a.snapshot_len,
                    "screen_bytes": a.screen_len,
                }),
            );
        }
        Err(e) => report.fail("Attach time and snapshot", &e),
    }
}

/// Every cell of the screen, addressed by position, with its own 256-colour foreground and
/// background. No newlines, so the tty passes it unchanged.
fn coloured_screen() -> Vec<u8> {
    let mut s = b"\x1b[H\x1b[2J".to_vec();
    for row in 0..ROWS as usize {
        let _ = write!(s, "\x1b[{};1H", row + 1);
        for col in 0..COLS as usize {
            let i = row * COLS as usize + col;
            let ch = b'!' + (i % 94) as u8;
            let _ = write!(
                s,
                "\x1b[38;5;{};48;5;{}m{}",
                16 + i % 216,
                232 + (i / 7) % 24,
                ch as char
            );
        }
    }
    s.extend_from_slice(b"\x1b[0m");
    s
}

fn measure(h: &mut Harness, rt: &Runtime, attaches: usize) -> anyhow::Result<Attaches> {
    let screen = coloured_screen();
    let path = h.file("screen.ans", &screen)?;
    let script = format!("cat {}; exec sleep 1000000", path.display());
    let session = h.start_session(&[], &["sh", "-c", &script])?;
    let result = attach_many(&session.socket, &screen, rt, attaches);
    h.stop(&session);
    result
}

fn attach_many(
    socket: &std::path::Path,
    screen: &[u8],
    rt: &Runtime,
    attaches: usize,
) -> anyhow::Result<Attaches> {
    // Wait until the holder has the whole screen.
    let limit = Duration::from_secs(10);
    let hello = Hello {
        start: Start::RingStart,
        lossless: true,
        ..Hello::new(Mode::ReadOnly)
    };
    let mut f = Follower::connect(socket, hello, limit)?;
    f.read_until(screen.len() as u64, Instant::now() + limit)
        .context("waiting for the agent to draw the screen")?;
    drop(f);

    rt.block_on(async {
        let (alone, snapshot) = timed_attaches(socket, attaches).await?;
        let watcher = Client::connect(socket, Hello::new(Mode::ReadOnly)).await?;
        let (watched, _) = timed_attaches(socket, attaches).await?;
        drop(watcher);
        check_replay(screen, &snapshot)?;
        Ok(Attaches {
            alone,
            watched,
            snapshot_len: snapshot.len(),
            screen_len: screen.len(),
        })
    })
}

/// `attaches` attaches one after another; their times and the first snapshot.
async fn timed_attaches(
    socket: &std::path::Path,
    attaches: usize,
) -> anyhow::Result<(Vec<Duration>, Vec<u8>)> {
    let limit = Duration::from_secs(10);
    let mut times = Vec::with_capacity(attaches);
    let mut first: Option<Vec<u8>> = None;
    for _ in 0..attaches {
        let t0 = Instant::now();
        let mut client = Client::connect(socket, Hello::new(Mode::ReadOnly)).await?;
        let data = loop {
            match tokio::time::timeout(limit, client.next_event())
                .await
                .context("no snapshot within 10 s")??
            {
                Some(Event::Snapshot { data, .. }) => break data,
                Some(_) => {}
                None => bail!("the holder closed the connection before the snapshot"),
            }
        };
        times.push(t0.elapsed());
        match &first {
            Some(f) if f.len() != data.len() => {
                bail!("snapshots differ in size: {} then {}", f.len(), data.len())
            }
            Some(_) => {}
            None => first = Some(data),
        }
    }
    Ok((times, first.context("no attaches")?))
}

/// Fails unless `snapshot` redraws the screen that `screen` draws, colours included.
fn check_replay(screen: &[u8], snapshot: &[u8]) -> anyhow::Result<()> {
    let size = Size {
        cols: COLS,
        rows: ROWS,
    };
    let mut drawn = ScreenModel::new(size);
    drawn.feed(screen);
    let mut replayed = ScreenModel::new(size);
    replayed.feed(snapshot);
    if drawn.screen().contents_formatted() != replayed.screen().contents_formatted() {
        bail!("the snapshot does not redraw the screen the agent drew");
    }
    Ok(())
}
