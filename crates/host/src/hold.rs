//! Backpressure: the clients that asked the agent to wait for them rather than lose output
//! (`hello.backpressure`, e.g. `paddock logs --follow --raw`).
//!
//! The PTY reader asks [`Holds::room`] how many bytes it may read without overwriting a
//! byte such a client has not been sent yet, and waits in [`Holds::wait_for_room`] while
//! that is none: the agent's writes then block in the kernel, so it waits instead of its
//! output being dropped. A held client that makes no progress for its stall limit while the
//! reader waits on it is demoted: it leaves the set, its [`Hold`] says why, and the reader
//! goes on. Clients without backpressure are never counted here.
//!
//! Called by the PTY reader task, the clients' writers (`conn.rs`) and the agent's exit
//! waiter. The one std mutex is never held across an `.await`, nor together with the ring's.

use crate::ring::Ring;
use crate::sync::lock;
use paddock_proto::ClientId;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The clients the agent waits for, and the reader's side of waiting.
pub struct Holds {
    ring: Arc<Mutex<Ring>>,
    clients: Mutex<Vec<Held>>,
    /// A held client moved, left or was demoted: the reader looks again.
    moved: Notify,
    /// The reader is waiting for room now.
    waiting: AtomicBool,
    /// How many times the reader had to wait, ever (the exit waiter watches it).
    waits: AtomicU64,
}

struct Held {
    client: ClientId,
    /// The first offset this client has not been given yet.
    cursor: u64,
    /// When `cursor` last moved (or the client arrived).
    progress: Instant,
    stall: Duration,
    demoted: Arc<Mutex<Option<String>>>,
}

/// One held client's registration; dropping it releases the agent from that client.
pub(crate) struct Hold {
    holds: Arc<Holds>,
    client: ClientId,
    demoted: Arc<Mutex<Option<String>>>,
}

impl Holds {
    pub(crate) fn new(ring: Arc<Mutex<Ring>>) -> Self {
        Self {
            ring,
            clients: Mutex::new(Vec::new()),
            moved: Notify::new(),
            waiting: AtomicBool::new(false),
            waits: AtomicU64::new(0),
        }
    }

    /// Makes the agent wait for `client`, whose next byte is at `cursor`, from now on.
    pub(crate) fn hold(self: &Arc<Self>, client: ClientId, cursor: u64, stall: Duration) -> Hold {
        let demoted = Arc::new(Mutex::new(None));
        lock(&self.clients).push(Held {
            client,
            cursor,
            progress: Instant::now(),
            stall,
            demoted: demoted.clone(),
        });
        Hold {
            holds: self.clone(),
            client,
            demoted,
        }
    }

    /// Bytes the reader may append now without overwriting any held client's unsent bytes
    /// (`usize::MAX` when nobody is held).
    pub fn room(&self) -> usize {
        let (end, capacity) = {
            let ring = lock(&self.ring);
            (ring.end(), ring.capacity() as u64)
        };
        let clients = lock(&self.clients);
        match clients.iter().map(|h| h.cursor).min() {
            None => usize::MAX,
            Some(cursor) => capacity.saturating_sub(end.saturating_sub(cursor)) as usize,
        }
    }

    /// Returns once [`Holds::room`] is more than zero, demoting the held clients that stall
    /// the reader past their limit meanwhile.
    pub async fn wait_for_room(&self) {
        let mut since: Option<Instant> = None;
        loop {
            let moved = self.moved.notified();
            if self.room() > 0 {
                self.waiting.store(false, Ordering::Release);
                return;
            }
            let now = Instant::now();
            let since = *since.get_or_insert_with(|| {
                self.waits.fetch_add(1, Ordering::Relaxed);
                self.waiting.store(true, Ordering::Release);
                now
            });
            let Some(due) = self.next_due(since) else {
                // Nobody to wait for after all (left between the two looks).
                continue;
            };
            tokio::select! {
                _ = moved => {}
                _ = tokio::time::sleep_until(due) => self.demote_stalled(since, Instant::now()),
            }
        }
    }

    /// Whether the reader is waiting, or has waited since `seen` (a value of
    /// [`Holds::waits`]); for the exit waiter, which keeps waiting for the last output
    /// while a held client slows it down.
    pub fn held_since(&self, seen: u64) -> bool {
        self.waiting.load(Ordering::Acquire) || self.waits() != seen
    }

    pub fn waits(&self) -> u64 {
        self.waits.load(Ordering::Relaxed)
    }

    /// When the first of the clients that block the reader reaches its stall limit. A
    /// client's stall counts from its last progress or from when the reader began waiting
    /// (`since`), whichever is later: a client idle while nothing was printed is not stalled.
    fn next_due(&self, since: Instant) -> Option<Instant> {
        let (end, capacity) = self.end_and_capacity();
        lock(&self.clients)
            .iter()
            .filter(|h| end.saturating_sub(h.cursor) >= capacity)
            .map(|h| h.progress.max(since) + h.stall)
            .min()
    }

    fn demote_stalled(&self, since: Instant, now: Instant) {
        let (end, capacity) = self.end_and_capacity();
        let mut clients = lock(&self.clients);
        clients.retain(|h| {
            let blocking = end.saturating_sub(h.cursor) >= capacity;
            let stalled = h.progress.max(since) + h.stall <= now;
            if blocking && stalled {
                let secs = h.stall.as_secs_f64();
                tracing::warn!(client = %h.client, stall_secs = secs, "a client that asked the agent to wait for it read nothing for its limit; the agent no longer waits for it");
                *lock(&h.demoted) = Some(format!(
                    "this reader took nothing for {secs:.1} s while the agent waited for it, so the agent no longer waits: output it cannot keep up with is skipped from now on, with a notice"
                ));
                return false;
            }
            true
        });
    }

    fn end_and_capacity(&self) -> (u64, u64) {
        let ring = lock(&self.ring);
        (ring.end(), ring.capacity() as u64)
    }
}

impl Hold {
    /// The client was given every byte before `cursor`.
    pub fn advance(&self, cursor: u64) {
        let mut clients = lock(&self.holds.clients);
        if let Some(h) = clients.iter_mut().find(|h| h.client == self.client) {
            if cursor > h.cursor {
                h.cursor = cursor;
                h.progress = Instant::now();
            }
        }
        drop(clients);
        self.holds.moved.notify_one();
    }

    /// Whether the agent stopped waiting for this client (and it has not been told yet).
    pub fn demoted(&self) -> bool {
        lock(&self.demoted).is_some()
    }

    /// Why the agent stopped waiting for this client, once.
    pub fn take_demotion(&self) -> Option<String> {
        lock(&self.demoted).take()
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        lock(&self.holds.clients).retain(|h| h.client != self.client);
        self.holds.moved.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(capacity: usize) -> (Arc<Mutex<Ring>>, Arc<Holds>) {
        let ring = Arc::new(Mutex::new(Ring::new(capacity)));
        (ring.clone(), Arc::new(Holds::new(ring)))
    }

    #[test]
    fn room_is_what_the_slowest_held_client_has_not_been_given() {
        let (ring, holds) = holds(100);
        assert_eq!(holds.room(), usize::MAX, "nobody held: no limit");
        lock(&ring).push(&[b'x'; 60]);
        let slow = holds.hold(ClientId(1), 0, Duration::from_secs(1));
        let fast = holds.hold(ClientId(2), 60, Duration::from_secs(1));
        assert_eq!(holds.room(), 40);
        slow.advance(50);
        assert_eq!(holds.room(), 90);
        drop(slow);
        assert_eq!(holds.room(), 100);
        fast.advance(60);
        assert_eq!(holds.room(), 100);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_client_is_demoted_after_its_limit_and_told_why() {
        let (ring, holds) = holds(100);
        let stalled = holds.hold(ClientId(1), 0, Duration::from_secs(5));
        lock(&ring).push(&[b'x'; 100]);
        assert_eq!(holds.room(), 0);
        let t0 = Instant::now();
        holds.wait_for_room().await;
        assert!(t0.elapsed() >= Duration::from_secs(5), "{:?}", t0.elapsed());
        assert_eq!(holds.room(), usize::MAX);
        let reason = stalled.take_demotion().expect("told");
        assert!(reason.contains("5.0 s"), "{reason}");
        assert_eq!(stalled.take_demotion(), None, "told once");
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_keeps_reading_is_waited_for_however_long_it_takes() {
        let (ring, holds) = holds(100);
        let reader = holds.hold(ClientId(1), 0, Duration::from_secs(5));
        lock(&ring).push(&[b'x'; 100]);
        let waiting = {
            let holds = holds.clone();
            tokio::spawn(async move { holds.wait_for_room().await })
        };
        // 4 s with no progress, then one byte: the stall clock restarts.
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(!waiting.is_finished());
        reader.advance(1);
        waiting.await.expect("reader task");
        assert_eq!(holds.room(), 1);
        assert_eq!(
            reader.take_demotion(),
            None,
            "it kept reading: never demoted"
        );
        assert!(holds.waits() >= 1);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_time_before_the_reader_waited_does_not_count_as_a_stall() {
        let (ring, holds) = holds(100);
        let client = holds.hold(ClientId(1), 0, Duration::from_secs(5));
        // An hour of quiet, then a burst fills the ring.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        lock(&ring).push(&[b'x'; 100]);
        let t0 = Instant::now();
        holds.wait_for_room().await;
        assert!(t0.elapsed() >= Duration::from_secs(5), "{:?}", t0.elapsed());
        assert!(client.take_demotion().is_some());
    }
}
