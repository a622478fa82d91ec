//! The soak's load: WSS clients (through `paddock-client`, pinned TLS, a paired device's
//! token) that attach, detach abruptly and resume at random, checking every byte; typists
//! that type known commands into the shells and wait for their echo; REST load; and the
//! final comparison of what clients saw of each shell with the holder's ring.

use super::sessions::{Kind, SessionSet, Soaked};
use super::Violations;
use paddock_client::{AttachOptions, HostClient, TerminalEvent};
use paddock_host::client::{Client, Event};
use paddock_proto::supervisor::SessionView;
use paddock_proto::{Backpressure, Hello, Mode, Start};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// A small deterministic random source (xorshift64*), one per task, seeded from `--seed`.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// Counters every task adds to.
#[derive(Default)]
pub struct Counters {
    pub attaches: AtomicU64,
    pub resumes: AtomicU64,
    pub lossless: AtomicU64,
    pub reconnects: AtomicU64,
    pub resyncs: AtomicU64,
    pub bytes_checked: AtomicU64,
    pub bytes_recorded: AtomicU64,
    pub attach_errors: AtomicU64,
    pub stream_errors: AtomicU64,
    pub typed: AtomicU64,
    pub dropped: AtomicU64,
}

/// A snapshot of [`Counters`] for the report.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    pub attaches: u64,
    pub resumes: u64,
    pub lossless: u64,
    pub reconnects: u64,
    pub resyncs: u64,
    pub bytes_checked: u64,
    pub bytes_recorded: u64,
    pub attach_errors: u64,
    pub stream_errors: u64,
    pub typed: u64,
    pub dropped: u64,
}

/// Per shell (by session index): runs of output `(offset, bytes)` clients saw.
pub type ShellRuns = HashMap<usize, Vec<(u64, Vec<u8>)>>;

/// What the tasks share: counters, what clients saw of each shell, and the signal that
/// drops every connection at once.
#[derive(Clone, Default)]
pub struct Shared {
    pub counters: Arc<Counters>,
    /// Per shell (by session index): contiguous runs of output a client saw, by offset.
    pub shell_seen: Arc<Mutex<ShellRuns>>,
    /// Every client drops its connection abruptly (and resumes) when this fires.
    pub drop_all: Arc<Notify>,
}

impl Shared {
    pub fn totals(&self) -> Totals {
        let c = &self.counters;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Totals {
            attaches: g(&c.attaches),
            resumes: g(&c.resumes),
            lossless: g(&c.lossless),
            reconnects: g(&c.reconnects),
            resyncs: g(&c.resyncs),
            bytes_checked: g(&c.bytes_checked),
            bytes_recorded: g(&c.bytes_recorded),
            attach_errors: g(&c.attach_errors),
            stream_errors: g(&c.stream_errors),
            typed: g(&c.typed),
            dropped: g(&c.dropped),
        }
    }

    fn keep_shell_run(&self, session: usize, run: Option<(u64, Vec<u8>)>) {
        if let Some((offset, bytes)) = run.filter(|(_, b)| !b.is_empty()) {
            self.counters
                .bytes_recorded
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            let mut seen = self.shell_seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.entry(session).or_default().push((offset, bytes));
        }
    }
}

/// One attachment's view of a session's stream: where the next byte must be, and (for a
/// shell) the run of bytes seen since the last resync.
struct View<'a> {
    s: &'a Soaked,
    client: usize,
    next: Option<u64>,
    run: Option<(u64, Vec<u8>)>,
}

impl View<'_> {
    /// Checks one event; `Err` names the broken check and what was seen.
    fn event(&mut self, ev: &TerminalEvent, shared: &Shared) -> Result<(), (&'static str, String)> {
        let c = &shared.counters;
        let who = format!(
            "client {} on {} session {} ({})",
            self.client,
            self.s.kind_name(),
            self.s.index,
            self.s.session.id
        );
        match ev {
            TerminalEvent::Attached { resumed: true, .. } => {
                c.reconnects.fetch_add(1, Ordering::Relaxed);
            }
            TerminalEvent::Snapshot { offset, gap, .. } => {
                if *gap {
                    c.resyncs.fetch_add(1, Ordering::Relaxed);
                } else if let Some(n) = self.next.filter(|n| n != offset) {
                    return Err((
                        "contiguity",
                        format!("{who}: a snapshot moved the stream from {n} to {offset} without announcing a gap"),
                    ));
                }
                self.next = Some(*offset);
                shared.keep_shell_run(self.s.index, self.run.take());
            }
            TerminalEvent::Output { offset, data } => {
                if let Some(n) = self.next.filter(|n| n != offset) {
                    let what = if *offset > n { "gap" } else { "duplicate" };
                    return Err((
                        "contiguity",
                        format!("{who}: expected the byte at {n}, got output at {offset} (a {what} of {} bytes, not announced)", offset.abs_diff(n)),
                    ));
                }
                if let Err(e) = self.s.check(*offset, data) {
                    return Err(("content", format!("{who}: {e}")));
                }
                if matches!(self.s.kind, Kind::Shell) {
                    let run = self.run.get_or_insert_with(|| (*offset, Vec::new()));
                    run.1.extend_from_slice(data);
                } else {
                    c.bytes_checked
                        .fetch_add(data.len() as u64, Ordering::Relaxed);
                }
                self.next = Some(offset + data.len() as u64);
            }
            TerminalEvent::Exited { code, signal } => {
                return Err((
                    "no agent lost",
                    format!("{who}: the agent exited (code {code:?}, signal {signal:?})"),
                ));
            }
            TerminalEvent::Detached { reason } => {
                return Err((
                    "no agent lost",
                    format!("{who}: detached by the host: {reason}"),
                ));
            }
            TerminalEvent::Reconnecting { .. } | TerminalEvent::Resized { .. } => {}
            TerminalEvent::Attached { .. } => {}
        }
        Ok(())
    }
}

/// One WSS client: attaches to a random session (lossless or not; fresh, or resuming where
/// it left that session), reads for a random while checking every byte, then drops the
/// connection without a goodbye, until `stop`.
pub async fn client(
    id: usize,
    hc: HostClient,
    set: SessionSet,
    shared: Shared,
    seed: u64,
    stop: Arc<AtomicBool>,
    v: Violations,
) {
    let mut rng = Rng::new(seed);
    let mut left_at: HashMap<usize, u64> = HashMap::new();
    let c = shared.counters.clone();
    while !stop.load(Ordering::Relaxed) {
        let s = &set.0[rng.below(set.len() as u64) as usize];
        let lossless = rng.below(2) == 0;
        let offset = match rng.below(3) {
            0 => None,
            _ => left_at.get(&s.index).copied(),
        };
        let opts = AttachOptions {
            offset,
            lossless,
            reconnect_for: Duration::from_secs(60),
            ..Default::default()
        };
        let attached =
            tokio::time::timeout(Duration::from_secs(20), hc.attach(&s.session.id, opts));
        let mut stream = match attached.await {
            Ok(Ok(stream)) => stream,
            _ => {
                c.attach_errors.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        c.attaches.fetch_add(1, Ordering::Relaxed);
        if offset.is_some() {
            c.resumes.fetch_add(1, Ordering::Relaxed);
        }
        if lossless {
            c.lossless.fetch_add(1, Ordering::Relaxed);
        }
        let mut view = View {
            s,
            client: id,
            next: offset,
            run: None,
        };
        let until = tokio::time::Instant::now() + Duration::from_millis(300 + rng.below(6000));
        loop {
            let ev = tokio::select! {
                _ = tokio::time::sleep_until(until) => break,
                _ = shared.drop_all.notified() => {
                    c.dropped.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                ev = stream.next() => ev,
            };
            match ev {
                Some(Ok(ev)) => {
                    if let Err((check, what)) = view.event(&ev, &shared) {
                        v.add(check, what);
                        // Its position is unknown now: start afresh next time.
                        view.next = None;
                        break;
                    }
                }
                Some(Err(_)) => {
                    c.stream_errors.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                None => break,
            }
        }
        shared.keep_shell_run(s.index, view.run.take());
        match view.next {
            Some(n) => left_at.insert(s.index, n),
            None => left_at.remove(&s.index),
        };
        // Dropping the stream closes its socket without a close frame or a detach.
        drop(stream);
        tokio::time::sleep(Duration::from_millis(rng.below(300))).await;
    }
}

/// Types `echo s$((N*3))e` into a shell through its holder every second and waits for the
/// echo of the line and for the shell's answer `s<3N>e`; a shell that does not answer within
/// 20 s is a violation.
pub async fn typist(
    set: SessionSet,
    index: usize,
    shared: Shared,
    stop: Arc<AtomicBool>,
    v: Violations,
) {
    let s = &set.0[index];
    let who = format!("shell session {} ({})", s.index, s.session.id);
    let hello = Hello {
        start: Start::End,
        client_name: Some("soak typist".into()),
        ..Hello::new(Mode::ReadWrite)
    };
    let mut c = match Client::connect(&s.session.socket, hello).await {
        Ok(c) => c,
        Err(e) => {
            return v.add(
                "shell echo",
                format!("{who}: cannot connect to its holder: {e}"),
            )
        }
    };
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let line = format!("echo s$(({n}*3))e");
        let answer = format!("s{}e\r\n", n * 3);
        if let Err(e) = c.send_input(format!("{line}\r").as_bytes()).await {
            return v.add("shell echo", format!("{who}: typing failed: {e}"));
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        let found = |seen: &[u8]| {
            let text = String::from_utf8_lossy(seen);
            text.find(&line)
                .is_some_and(|at| text[at + line.len()..].contains(&answer))
        };
        while !found(&seen) {
            match tokio::time::timeout_at(deadline.into(), c.next_event()).await {
                Ok(Ok(Some(Event::Output { data, .. }))) => seen.extend_from_slice(&data),
                Ok(Ok(Some(_))) => {}
                Ok(Ok(None)) | Ok(Err(_)) => {
                    return v.add(
                        "shell echo",
                        format!("{who}: its holder closed the connection"),
                    )
                }
                Err(_) => {
                    return v.add(
                        "shell echo",
                        format!(
                        "{who}: typed {line:?}, no echo and answer within 20 s; it printed {:?}",
                        String::from_utf8_lossy(&seen)
                    ),
                    )
                }
            }
        }
        shared.counters.typed.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
}

/// REST requests and how they went.
#[derive(Debug, Default, Clone)]
pub struct RestStats {
    pub ok: u64,
    pub failed: u64,
}

/// Lists the sessions and reads one every 50 ms until `stop`; failures are counted (they
/// happen while the supervisor is killed or stopped), not judged.
pub async fn rest_load(
    hc: HostClient,
    ids: Vec<String>,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> RestStats {
    let mut rng = Rng::new(seed);
    let mut stats = RestStats::default();
    while !stop.load(Ordering::Relaxed) {
        let ok = if rng.below(2) == 0 {
            let call = hc.get::<Vec<SessionView>>("/sessions");
            matches!(
                tokio::time::timeout(Duration::from_secs(10), call).await,
                Ok(Ok(_))
            )
        } else {
            let id = &ids[rng.below(ids.len() as u64) as usize];
            let path = format!("/sessions/{id}");
            let call = hc.get::<SessionView>(&path);
            matches!(
                tokio::time::timeout(Duration::from_secs(10), call).await,
                Ok(Ok(_))
            )
        };
        if ok {
            stats.ok += 1;
        } else {
            stats.failed += 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stats
}

/// Reads a session's ring from its holder (oldest byte on) until it is quiet for `quiet`:
/// the offset of its first byte and the bytes. The agent waits for this reader (as for
/// `paddock logs --follow --raw`), so a flooding session cannot overrun it.
pub async fn read_ring(s: &Soaked, quiet: Duration, max: usize) -> anyhow::Result<(u64, Vec<u8>)> {
    let hello = Hello {
        start: Start::RingStart,
        lossless: true,
        backpressure: Some(Backpressure { stall_ms: 10_000 }),
        client_name: Some("soak record".into()),
        ..Hello::new(Mode::ReadOnly)
    };
    let mut c = Client::connect(&s.session.socket, hello).await?;
    let start = c.welcome.stream.offset;
    let mut bytes = Vec::new();
    while bytes.len() < max {
        match tokio::time::timeout(quiet, c.next_event()).await {
            Ok(Ok(Some(Event::Output { offset, data }))) => {
                if offset != start + bytes.len() as u64 {
                    anyhow::bail!(
                        "the holder's own stream jumped from {} to {offset}",
                        start + bytes.len() as u64
                    );
                }
                bytes.extend_from_slice(&data);
            }
            Ok(Ok(Some(Event::Snapshot { offset, .. })))
                if !bytes.is_empty() || offset != start =>
            {
                anyhow::bail!(
                    "the holder resynced its own lossless reader at {offset} after {} bytes",
                    bytes.len()
                )
            }
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None)) => anyhow::bail!("the holder closed the connection"),
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => break,
        }
    }
    Ok((start, bytes))
}

/// The session's own record: every shell's runs as clients saw them must equal the holder's
/// ring at the same offsets, and the start of every flood's ring must be what its agent
/// prints there.
pub async fn check_records(set: &SessionSet, shared: &Shared, v: &Violations) {
    let seen = std::mem::take(&mut *shared.shell_seen.lock().unwrap_or_else(|p| p.into_inner()));
    for s in set.shells() {
        let (start, ring) = match read_ring(s, Duration::from_millis(500), usize::MAX).await {
            Ok(r) => r,
            Err(e) => {
                v.add(
                    "record",
                    format!("shell session {}: cannot read its ring: {e:#}", s.index),
                );
                continue;
            }
        };
        let end = start + ring.len() as u64;
        for (offset, bytes) in seen.get(&s.index).into_iter().flatten() {
            let stop = offset + bytes.len() as u64;
            if *offset < start || stop > end {
                v.add(
                    "record",
                    format!(
                        "shell session {}: a client saw bytes {offset}..{stop}, the holder's ring holds {start}..{end}",
                        s.index
                    ),
                );
                continue;
            }
            let from = (offset - start) as usize;
            if ring[from..from + bytes.len()] != bytes[..] {
                v.add(
                    "record",
                    format!(
                        "shell session {}: what a client saw at {offset}..{stop} differs from the holder's ring",
                        s.index
                    ),
                );
            }
        }
    }
    for s in set.floods() {
        match read_ring(s, Duration::from_millis(500), 1 << 20).await {
            Ok((start, ring)) => {
                if let Err(e) = s.check(start, &ring) {
                    v.add(
                        "record",
                        format!("flood session {}: its holder's ring: {e}", s.index),
                    );
                }
            }
            Err(e) => v.add(
                "record",
                format!("flood session {}: cannot read its ring: {e:#}", s.index),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soak::sessions::tests::soaked;
    use paddock_proto::Size;

    fn snapshot(offset: u64, gap: bool) -> TerminalEvent {
        TerminalEvent::Snapshot {
            offset,
            size: Size { cols: 80, rows: 24 },
            data: Vec::new(),
            gap,
        }
    }

    fn output(offset: u64, data: &[u8]) -> TerminalEvent {
        TerminalEvent::Output {
            offset,
            data: data.to_vec(),
        }
    }

    #[test]
    fn output_must_continue_where_the_last_byte_ended() {
        let s = soaked(Kind::Flood {
            pattern: b"abc\r\n".to_vec(),
        });
        let shared = Shared::default();
        let mut v = View {
            s: &s,
            client: 0,
            next: Some(5),
            run: None,
        };
        assert!(v.event(&output(5, b"abc"), &shared).is_ok());
        assert_eq!(v.next, Some(8));
        let (check, what) = v.event(&output(10, b"abc"), &shared).expect_err("a gap");
        assert_eq!(check, "contiguity");
        assert!(what.contains("gap of 2 bytes"), "{what}");
        let (_, what) = v
            .event(&output(7, b"c\r\n"), &shared)
            .expect_err("a duplicate");
        assert!(what.contains("duplicate"), "{what}");
        assert_eq!(shared.totals().bytes_checked, 3);
    }

    #[test]
    fn a_jump_is_allowed_only_behind_an_announced_gap() {
        let s = soaked(Kind::Idle);
        let shared = Shared::default();
        let mut v = View {
            s: &s,
            client: 0,
            next: Some(5),
            run: None,
        };
        assert!(v.event(&snapshot(100, true), &shared).is_ok());
        assert_eq!(v.next, Some(100));
        assert_eq!(shared.totals().resyncs, 1);
        assert!(
            v.event(&snapshot(100, false), &shared).is_ok(),
            "a redraw in place"
        );
        let (check, _) = v
            .event(&snapshot(200, false), &shared)
            .expect_err("an unannounced jump");
        assert_eq!(check, "contiguity");
    }

    #[test]
    fn what_clients_see_of_a_shell_is_kept_by_offset_for_the_record() {
        let s = soaked(Kind::Shell);
        let shared = Shared::default();
        let mut v = View {
            s: &s,
            client: 0,
            next: None,
            run: None,
        };
        assert!(v.event(&output(40, b"$ ec"), &shared).is_ok());
        assert!(v.event(&output(44, b"ho"), &shared).is_ok());
        assert!(v.event(&snapshot(90, true), &shared).is_ok());
        assert!(v.event(&output(90, b"x"), &shared).is_ok());
        shared.keep_shell_run(s.index, v.run.take());
        let seen = shared.shell_seen.lock().expect("lock");
        assert_eq!(
            seen.get(&0).expect("runs"),
            &vec![(40, b"$ echo".to_vec()), (90, b"x".to_vec())]
        );
    }
}
