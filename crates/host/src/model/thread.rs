//! The model thread: the holder's screen model, kept off the hot path.
//!
//! A dedicated thread owns the [`ScreenModel`]. The PTY reader only appends to the ring and
//! sets a flag; the model thread then copies what is new from the ring and parses it. If the
//! model ever falls further behind than the ring holds, it skips ahead to the ring's start
//! (the screen heals with the next redraw) instead of slowing the agent. Snapshots and
//! resizes are requests to this thread, so they apply at an exact offset of the stream.

use super::{ScreenModel, ScreenText, Snapshot};
use crate::ring::{Position, Ring};
use crate::sync::lock;
use paddock_proto::Size;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Bytes copied out of the ring per step, so the ring lock is held only briefly (a few tens
/// of microseconds), yet a step holds many screenfuls to fast-forward through.
pub(super) const STEP: usize = 256 * 1024;
/// Unparsed output that makes the reader wake the model. Below it the model waits: a
/// keystroke's echo costs no extra thread wakeup, and snapshots catch up on demand (parsing at
/// most this much more before they answer: about 2 ms of escape-heavy output). In a flood
/// each wakeup parses the last screenful of what it skims, so fewer, larger steps cost less:
/// at 64 KiB the model took a quarter of the holder's CPU in a `logs --follow` flood.
const KICK_BYTES: u64 = 256 * 1024;

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
