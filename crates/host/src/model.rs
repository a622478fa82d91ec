//! The terminal model: what the session's screen looks like right now, kept off the hot path.
//!
//! A dedicated thread owns a `vt100` parser (chosen by measurement; see docs/design/holder.md). The
//! PTY reader only appends to the ring and sets a flag; the model thread then copies what is
//! new from the ring and parses it. If the model ever falls further behind than the ring
//! holds, it skips ahead to the ring's start (the screen heals with the next redraw) instead
//! of slowing the agent. Snapshots and resizes are requests to this thread, so they apply at
//! an exact offset of the stream.
//!
//! A flood of plain text is not parsed whole: the model fast-forwards through it to the last
//! screenful (see [`crate::fastforward`]), which gives the very screen parsing every byte
//! would, for a small part of the CPU.

use crate::fastforward::{self, Watch};
use crate::ring::{Position, Ring};
use crate::sync::lock;
use paddock_proto::Size;
use std::num::NonZeroU16;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Lines of scrollback the model keeps; history lives in the byte ring, not here.
const MODEL_SCROLLBACK: usize = 0;
/// Bytes copied out of the ring per step, so the ring lock is held only briefly (a few tens
/// of microseconds), yet a step holds many screenfuls to fast-forward through.
const STEP: usize = 256 * 1024;
/// Unparsed output that makes the reader wake the model. Below it the model waits: a
/// keystroke's echo costs no extra thread wakeup, and snapshots catch up on demand (parsing at
/// most this much more before they answer: about 2 ms of escape-heavy output). In a flood
/// each wakeup parses the last screenful of what it skims, so fewer, larger steps cost less:
/// at 64 KiB the model took a quarter of the holder's CPU in a `logs --follow` flood.
const KICK_BYTES: u64 = 256 * 1024;

/// A redraw of the screen as it was once the first `offset` bytes had been written.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub offset: u64,
    pub size: Size,
    pub data: Vec<u8>,
}

/// Records the window title, which vt100 reports through a callback.
#[derive(Default)]
struct Titles {
    title: String,
}

impl vt100::Callbacks for Titles {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        // Control characters in a title could end the OSC early when replayed.
        self.title = String::from_utf8_lossy(title)
            .chars()
            .filter(|c| !c.is_control())
            .take(256)
            .collect();
    }
}

/// The screen model itself, independent of threads (also used by `paddock logs` and tests).
pub struct ScreenModel {
    parser: vt100::Parser<Titles>,
    /// How many bytes of the stream have been fed.
    offset: u64,
    /// How many of them were parsed (the rest were fast-forwarded through).
    parsed: u64,
    /// Fast-forwarding through plain runs, with what proves it exact (`None`: every byte is
    /// parsed, as with scrollback, which keeps what a fast-forward would skip).
    skim: Option<Skim>,
}

/// The fast-forward's state: a watch on the parser and whether it is known to be in its
/// ground state at `offset`.
struct Skim {
    watch: Watch,
    ground: bool,
}

fn nz(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

impl ScreenModel {
    pub fn new(size: Size) -> Self {
        Self::with_scrollback(size, MODEL_SCROLLBACK)
    }

    pub fn with_scrollback(size: Size, scrollback: usize) -> Self {
        let mut model = Self::eager(size, scrollback);
        if scrollback == 0 {
            model.skim = Some(Skim {
                watch: Watch::new(nz(size.rows).get()),
                ground: true,
            });
        }
        model
    }

    /// A model that parses every byte (to compare the fast-forward with).
    pub fn eager(size: Size, scrollback: usize) -> Self {
        Self {
            parser: vt100::Parser::new_with_callbacks(
                nz(size.rows),
                nz(size.cols),
                scrollback,
                Titles::default(),
            ),
            offset: 0,
            parsed: 0,
            skim: None,
        }
    }

    /// Feeds the next bytes of the stream. The screen afterwards is exactly what parsing
    /// every byte gives; long plain runs are fast-forwarded ([`crate::fastforward`]).
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.skim.is_none() {
            self.parser.process(bytes);
            self.offset += bytes.len() as u64;
            self.parsed += bytes.len() as u64;
            return;
        }
        let rows = usize::from(self.parser.screen().size().0.get());
        let skimmable = |run: &[u8]| run.len() >= 4 * rows;
        // `bytes[..done]` are fed; the scan looks for the next long plain run from `at`.
        let (mut done, mut at) = (0, 0);
        while at < bytes.len() {
            let start = at
                + bytes[at..]
                    .iter()
                    .position(|&b| fastforward::is_plain(b))
                    .unwrap_or(bytes.len() - at);
            let end = start
                + fastforward::first_not_plain(&bytes[start..]).unwrap_or(bytes.len() - start);
            if skimmable(&bytes[start..end]) {
                self.parse(&bytes[done..start]);
                self.plain_run(&bytes[start..end], rows);
                done = end;
            }
            at = end;
        }
        self.parse(&bytes[done..]);
    }

    /// Parses `bytes` (the model and its watch); the parser's ground state is known after
    /// them if it was before and they are plain, or if a character was printed in a plain
    /// tail of them.
    fn parse(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.parser.process(bytes);
        self.offset += bytes.len() as u64;
        self.parsed += bytes.len() as u64;
        if let Some(skim) = &mut self.skim {
            let printed = skim.watch.advance(bytes);
            let all_plain = fastforward::first_not_plain(bytes).is_none();
            skim.ground = if all_plain {
                skim.ground || printed
            } else {
                false
            };
        }
    }

    /// A plain run: its first line parsed if the ground state is not known yet (a print
    /// proves it), then fast-forwarded to its last screenful if the watch allows.
    fn plain_run(&mut self, mut run: &[u8], rows: usize) {
        let ground = self.skim.as_ref().is_some_and(|s| s.ground);
        if !ground {
            // Up to the end of the line with the first printable character, which prints
            // only if the parser is in its ground state.
            let first = run.iter().position(|b| (b' '..=b'~').contains(b));
            let line = first
                .and_then(|f| memchr::memchr(b'\n', &run[f..]).map(|i| f + i + 1))
                .unwrap_or(run.len());
            self.parse(&run[..line]);
            run = &run[line..];
        }
        let ready = self
            .skim
            .as_ref()
            .is_some_and(|s| s.ground && !s.watch.region());
        if let Some(q) = ready.then(|| fastforward::skip_point(run, rows)).flatten() {
            let sub = fastforward::substitute(rows);
            self.parser.process(&sub);
            if let Some(skim) = &mut self.skim {
                skim.watch.advance(&sub);
            }
            self.offset += q as u64;
            run = &run[q..];
        }
        self.parse(run);
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How many of the bytes fed were parsed; the others were fast-forwarded through.
    pub fn parsed(&self) -> u64 {
        self.parsed
    }

    pub fn resize(&mut self, size: Size) {
        self.parser
            .screen_mut()
            .set_size(nz(size.rows), nz(size.cols));
        if let Some(skim) = &mut self.skim {
            skim.watch.set_rows(nz(size.rows).get());
        }
    }

    pub fn size(&self) -> Size {
        let (rows, cols) = self.parser.screen().size();
        Size {
            cols: cols.get(),
            rows: rows.get(),
        }
    }

    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    pub fn title(&self) -> &str {
        &self.parser.callbacks().title
    }

    /// The screen as text, one string per row.
    pub fn text(&self) -> ScreenText {
        let screen = self.parser.screen();
        let (_, cols) = screen.size();
        ScreenText {
            rows: screen
                .rows(0, cols.get())
                .map(|r| r.trim_end().to_owned())
                .collect(),
            offset: self.offset,
            title: self.title().to_owned(),
        }
    }

    /// Bytes that, written to a terminal of the same size, reproduce this screen: the
    /// alternate-screen mode, the contents with colours and attributes, the cursor, the input
    /// modes (keypad, cursor keys, bracketed paste, mouse) and the title.
    pub fn snapshot(&self) -> Snapshot {
        let screen = self.parser.screen();
        let mut out = String::new();
        out.push_str(if screen.alternate_screen() {
            "\x1b[?1049h"
        } else {
            "\x1b[?1049l"
        });
        out.push_str(&screen.state_formatted());
        if !self.title().is_empty() {
            out.push_str("\x1b]2;");
            out.push_str(self.title());
            out.push('\x07');
        }
        Snapshot {
            offset: self.offset,
            size: self.size(),
            data: out.into_bytes(),
        }
    }
}

enum Command {
    /// New bytes are in the ring.
    Kick,
    /// Catch up to `at`, then resize.
    Resize { at: u64, size: Size },
    /// Catch up to the ring's end, then answer with a snapshot.
    Snapshot(oneshot::Sender<Snapshot>),
    /// Catch up to the ring's end, then answer with the screen as text.
    Text(oneshot::Sender<ScreenText>),
}

/// The screen as plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenText {
    /// One string per row, trailing blanks trimmed.
    pub rows: Vec<String>,
    /// The output offset this screen reflects.
    pub offset: u64,
    pub title: String,
}

/// The handle the holder keeps to its model thread. Cheap to clone.
#[derive(Clone)]
pub struct ModelHandle {
    tx: mpsc::Sender<Command>,
    kicked: Arc<AtomicBool>,
    /// How far the model has parsed (published by the model thread).
    parsed: Arc<AtomicU64>,
    ring: Arc<Mutex<Ring>>,
}

/// The model thread has stopped (it only stops when the holder does).
#[derive(Debug, thiserror::Error)]
#[error("the screen model is not running")]
pub struct ModelGone;

impl ModelHandle {
    /// Starts the model thread reading from `ring`.
    pub fn spawn(ring: Arc<Mutex<Ring>>, size: Size) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let kicked = Arc::new(AtomicBool::new(false));
        let parsed = Arc::new(AtomicU64::new(0));
        let (flag, progress, thread_ring) = (kicked.clone(), parsed.clone(), ring.clone());
        std::thread::Builder::new()
            .name("model".into())
            .stack_size(256 * 1024)
            .spawn(move || run(thread_ring, rx, flag, progress, ScreenModel::new(size)))?;
        Ok(Self {
            tx,
            kicked,
            parsed,
            ring,
        })
    }

    /// Tells the model new bytes are in the ring; it is woken once [`KICK_BYTES`] are
    /// waiting. Never blocks; at most one kick is pending.
    pub fn kick(&self) {
        let end = lock(&self.ring).end();
        if end.saturating_sub(self.parsed.load(Ordering::Acquire)) < KICK_BYTES {
            return;
        }
        if !self.kicked.swap(true, Ordering::AcqRel) {
            let _ = self.tx.send(Command::Kick);
        }
    }

    /// Resizes the model once it has parsed everything before `at`.
    pub fn resize(&self, at: u64, size: Size) {
        let _ = self.tx.send(Command::Resize { at, size });
    }

    /// The screen's text as of the ring's current end.
    pub async fn text(&self) -> Result<ScreenText, ModelGone> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Text(tx)).map_err(|_| ModelGone)?;
        rx.await.map_err(|_| ModelGone)
    }

    /// The screen as of the ring's current end.
    pub async fn snapshot(&self) -> Result<Snapshot, ModelGone> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Command::Snapshot(tx)).map_err(|_| ModelGone)?;
        rx.await.map_err(|_| ModelGone)
    }
}

fn run(
    ring: Arc<Mutex<Ring>>,
    rx: mpsc::Receiver<Command>,
    kicked: Arc<AtomicBool>,
    parsed: Arc<AtomicU64>,
    mut model: ScreenModel,
) {
    let mut buf = Vec::with_capacity(STEP);
    while let Ok(cmd) = rx.recv() {
        match cmd {
            Command::Kick => {
                kicked.store(false, Ordering::Release);
                catch_up(&ring, &mut model, &mut buf, u64::MAX);
            }
            Command::Resize { at, size } => {
                catch_up(&ring, &mut model, &mut buf, at);
                model.resize(size);
            }
            Command::Snapshot(reply) => {
                catch_up(&ring, &mut model, &mut buf, u64::MAX);
                let _ = reply.send(model.snapshot());
            }
            Command::Text(reply) => {
                catch_up(&ring, &mut model, &mut buf, u64::MAX);
                let _ = reply.send(model.text());
            }
        }
        parsed.store(model.offset(), Ordering::Release);
    }
}

/// Parses the ring from the model's offset up to `limit` (or the ring's end).
fn catch_up(ring: &Mutex<Ring>, model: &mut ScreenModel, buf: &mut Vec<u8>, limit: u64) {
    loop {
        buf.clear();
        let want = limit.saturating_sub(model.offset()).min(STEP as u64) as usize;
        if want == 0 {
            return;
        }
        let copied = lock(ring).copy_from(model.offset(), want, buf);
        match copied {
            Ok(0) => return,
            Ok(_) => model.feed(buf),
            Err(Position::Gone { start }) => {
                tracing::warn!(
                    skipped = start - model.offset(),
                    "the screen model fell behind the output ring; skipping ahead (the screen repairs itself at the next redraw)"
                );
                model.offset = start;
            }
            Err(Position::Future { .. }) | Err(Position::Available) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_replayed_into_a_fresh_model_gives_the_same_screen() {
        let size = Size { cols: 40, rows: 6 };
        let mut model = ScreenModel::new(size);
        model.feed(b"\x1b]2;my title\x07plain \x1b[1;31mbold red\x1b[0m\r\n");
        model.feed("wide: 漢字 ✓\r\n\x1b[44mblue bg\x1b[0m line\r\n".as_bytes());
        model.feed(b"\x1b[?1h\x1b[?2004h\x1b[3;5H");
        let snap = model.snapshot();
        assert_eq!(snap.offset, model.offset());
        let mut replay = ScreenModel::new(size);
        replay.feed(&snap.data);
        assert_eq!(replay.screen().contents(), model.screen().contents());
        assert_eq!(
            replay.screen().contents_formatted(),
            model.screen().contents_formatted()
        );
        assert_eq!(replay.screen().cursor_position(), (2, 4));
        assert!(replay.screen().application_cursor());
        assert!(replay.screen().bracketed_paste());
        assert_eq!(replay.title(), "my title");
    }

    #[test]
    fn the_alternate_screen_survives_a_snapshot() {
        let size = Size { cols: 20, rows: 4 };
        let mut model = ScreenModel::new(size);
        model.feed(b"main screen\r\n\x1b[?1049h\x1b[Hfull screen app");
        let mut replay = ScreenModel::new(size);
        replay.feed(&model.snapshot().data);
        assert!(replay.screen().alternate_screen());
        assert_eq!(replay.screen().contents(), "full screen app");
    }

    #[test]
    fn titles_cannot_smuggle_control_characters() {
        let mut model = ScreenModel::new(Size { cols: 20, rows: 4 });
        model.feed(b"\x1b]2;a\x1bb\x07");
        assert!(model.title().chars().all(|c| !c.is_control()));
    }

    /// Streams that a fast-forward must get exactly right: plain floods after and around
    /// modes, colours, titles, an unterminated OSC, scrolling regions (with the cursor
    /// outside them), the alternate screen, bare line feeds, long wrapping lines, tabs and a
    /// UTF-8 character cut in two.
    fn streams() -> Vec<Vec<u8>> {
        let lines = |n: usize, tag: &str| -> Vec<u8> {
            (0..n)
                .flat_map(|i| format!("{tag} {i}\t{}\r\n", "x".repeat(i % 37)).into_bytes())
                .collect()
        };
        let cat = |parts: &[&[u8]]| parts.concat();
        vec![
            cat(&[
                b"\x1b]2;flood\x07\x1b[1;31mred\x1b[0m\r\n",
                &lines(900, "a"),
                b"\x1b[32mgreen ",
                &lines(300, "b"),
                b"tail",
            ]),
            cat(&[
                &lines(200, "before"),
                b"\x1b]0;",
                &lines(400, "inside an osc"),
                b"\x07",
                &lines(150, "after"),
            ]),
            cat(&[
                b"\x1b[5;10r",
                &lines(500, "region"),
                b"\x1b[r",
                &lines(300, "whole"),
            ]),
            cat(&[b"\x1b[2;5r\x1b[20;1H", &lines(400, "below the region")]),
            cat(&[b"\x1b[44mblue\r\n", &lines(500, "on blue"), b"\x1b[0m"]),
            cat(&[
                b"\x1b[?1049h\x1b[H",
                &lines(300, "alt"),
                b"\x1b[?1049l",
                &lines(300, "main"),
            ]),
            (0..600)
                .flat_map(|i| format!("bare {i}\n").into_bytes())
                .collect(),
            cat(&[
                &lines(50, "short"),
                &b"w".repeat(5000),
                b"\r\n",
                &lines(400, "after a long line"),
            ]),
            cat(&[
                b"\xe6\xbc",
                &lines(400, "after half a character"),
                "漢字\r\n".as_bytes(),
                &lines(200, "c"),
            ]),
            cat(&[b"\x1b[", &lines(300, "5;10r then text")]),
            cat(&[
                b"\x1b[10;1H\x1b[?6h",
                &lines(300, "origin mode"),
                b"\x1bc",
                &lines(300, "after reset"),
            ]),
        ]
    }

    /// Cuts `data` into chunks of pseudo-random sizes up to `max`.
    fn chunks(data: &[u8], max: usize, seed: u64) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let (mut at, mut x) = (0, seed);
        while at < data.len() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = (((x >> 33) as usize) % max + 1).min(data.len() - at);
            out.push(&data[at..at + n]);
            at += n;
        }
        out
    }

    fn assert_same_screen(skimmed: &ScreenModel, eager: &ScreenModel, what: &str) {
        assert_eq!(skimmed.offset(), eager.offset(), "{what}: offset");
        assert_eq!(
            skimmed.screen().contents_formatted(),
            eager.screen().contents_formatted(),
            "{what}: screen"
        );
        assert_eq!(
            skimmed.screen().cursor_position(),
            eager.screen().cursor_position(),
            "{what}: cursor"
        );
        assert_eq!(
            skimmed.snapshot().data,
            eager.snapshot().data,
            "{what}: snapshot"
        );
        assert_eq!(skimmed.text(), eager.text(), "{what}: text");
    }

    #[test]
    fn fast_forwarding_gives_the_screen_that_parsing_every_byte_gives() {
        let size = Size { cols: 40, rows: 8 };
        for (i, stream) in streams().iter().enumerate() {
            for (max, seed) in [(stream.len(), 0), (1, 0), (7, 1), (300, 2), (5000, 3)] {
                let mut skimmed = ScreenModel::new(size);
                let mut eager = ScreenModel::eager(size, 0);
                for chunk in chunks(stream, max, seed) {
                    skimmed.feed(chunk);
                    eager.feed(chunk);
                }
                assert_same_screen(&skimmed, &eager, &format!("stream {i}, chunks up to {max}"));
            }
        }
    }

    #[test]
    fn fast_forwarding_stays_exact_across_a_resize() {
        let stream = streams().concat();
        let mut skimmed = ScreenModel::new(Size { cols: 40, rows: 8 });
        let mut eager = ScreenModel::eager(Size { cols: 40, rows: 8 }, 0);
        for (n, chunk) in chunks(&stream, 4000, 9).into_iter().enumerate() {
            if n % 5 == 4 {
                let size = Size {
                    cols: 30 + (n % 20) as u16,
                    rows: 5 + (n % 7) as u16,
                };
                skimmed.resize(size);
                eager.resize(size);
            }
            skimmed.feed(chunk);
            eager.feed(chunk);
            assert_same_screen(&skimmed, &eager, &format!("after chunk {n}"));
        }
    }

    #[test]
    fn a_plain_flood_is_fast_forwarded_not_parsed_whole() {
        // Per step of the model thread, a screenful or two is parsed, not the whole step.
        let size = Size { cols: 80, rows: 24 };
        let mut model = ScreenModel::new(size);
        let flood: Vec<u8> = (0..100_000)
            .flat_map(|i| format!("{i:>8} plain output line\r\n").into_bytes())
            .collect();
        for chunk in flood.chunks(STEP) {
            model.feed(chunk);
        }
        assert_eq!(model.offset(), flood.len() as u64);
        assert!(
            model.parsed() * 50 < flood.len() as u64,
            "parsed {} of {} bytes",
            model.parsed(),
            flood.len()
        );
        let mut eager = ScreenModel::eager(size, 0);
        eager.feed(&flood);
        assert_same_screen(&model, &eager, "flood");
    }

    #[tokio::test]
    async fn the_model_thread_catches_up_before_answering() {
        let ring = Arc::new(Mutex::new(Ring::new(1024)));
        let handle = ModelHandle::spawn(ring.clone(), Size { cols: 10, rows: 2 }).expect("thread");
        lock(&ring).push(b"hello");
        handle.kick();
        lock(&ring).push(b" you");
        let snap = handle.snapshot().await.expect("snapshot");
        assert_eq!(snap.offset, 9);
        let mut replay = ScreenModel::new(snap.size);
        replay.feed(&snap.data);
        assert_eq!(replay.screen().contents(), "hello you");
    }

    #[tokio::test]
    async fn a_model_that_fell_behind_the_ring_skips_ahead() {
        let ring = Arc::new(Mutex::new(Ring::new(8)));
        let handle = ModelHandle::spawn(ring.clone(), Size { cols: 20, rows: 2 }).expect("thread");
        lock(&ring).push(b"0123456789abcdef");
        let snap = handle.snapshot().await.expect("snapshot");
        assert_eq!(snap.offset, 16);
        let mut replay = ScreenModel::new(snap.size);
        replay.feed(&snap.data);
        assert_eq!(replay.screen().contents(), "89abcdef");
    }
}
