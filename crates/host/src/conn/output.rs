//! A client's output: pacing (at once, or in batches for a client the agent waits for), the
//! write loop that keeps control messages, notifications and output in stream order, and the
//! held client's own pipe ([`Sink`]).

use crate::hold::Hold;
use crate::holder::Shared;
use crate::ring::Position;
use crate::sink::Sink;
use crate::sync::lock;
use paddock_proto::frame::{encode_control, encode_output_parts, encode_snapshot};
use paddock_proto::{ErrorCode, ErrorPayload, Message, Notification};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

use super::requests::error;
use super::{HELD_CHUNK, HELD_LINGER, OUTPUT_CHUNK};

/// How a client's output is paced.
pub(super) struct Output {
    /// Resynced only when the ring dropped its bytes, not at the interactive lag limit.
    pub(super) lossless: bool,
    /// The agent waits for this client (until it is demoted).
    pub(super) hold: Option<Hold>,
    /// A held client's batch: [`HELD_BATCH`], or a quarter of a smaller ring.
    pub(super) batch: u64,
    /// The client's own pipe, which its output goes into instead of output frames.
    pub(super) sink: Option<Sink>,
}

impl Output {
    /// Whether to send the output from `cursor` to the ring's `end` now. A client the
    /// agent does not wait for gets every change at once (a person at a screen); a held
    /// one gets it in batches (`batch`), or [`HELD_LINGER`] after the first unsent
    /// byte (`linger`, set here, is that moment), or at once when it has been demoted.
    fn send_now(&self, end: u64, cursor: u64, linger: &mut Option<Instant>) -> bool {
        let Some(hold) = &self.hold else {
            return true;
        };
        if end < cursor {
            // Past the end (never in practice): `drain` puts the cursor back.
            return true;
        }
        let backlog = end - cursor;
        let due = linger.is_some_and(|at| at <= Instant::now());
        if backlog >= self.batch || due || hold.demoted() {
            *linger = None;
            return true;
        }
        if backlog > 0 && linger.is_none() {
            *linger = Some(Instant::now() + HELD_LINGER);
        }
        false
    }
}

/// Writes control messages, notifications and this client's output, in stream order.
pub(super) async fn write_loop(
    shared: Arc<Shared>,
    mut wr: OwnedWriteHalf,
    mut ctl: mpsc::Receiver<Message>,
    mut events: broadcast::Receiver<Notification>,
    mut cursor: Option<u64>,
    mut output: Output,
) {
    let mut end = shared.end_tx.subscribe();
    let mut buf = Vec::with_capacity(OUTPUT_CHUNK + 64);
    // When a held client's output is sent although less than a batch has gathered.
    let mut linger: Option<Instant> = None;
    loop {
        if let Some(c) = cursor.as_mut() {
            if output.send_now(*end.borrow_and_update(), *c, &mut linger)
                && drain(&shared, &mut wr, c, &mut buf, &mut output, &mut ctl)
                    .await
                    .is_err()
            {
                return;
            }
        }
        let far = Instant::now() + Duration::from_secs(86400);
        let msg = tokio::select! {
            biased;
            m = ctl.recv() => match m {
                Some(m) => m,
                None => return,
            },
            ev = events.recv() => match ev {
                Ok(n) => Message::Notification { payload: n },
                // Notifications are state changes the client can re-read with `info`.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            changed = end.changed(), if cursor.is_some() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
            () = tokio::time::sleep_until(linger.unwrap_or(far)), if linger.is_some() => {
                linger = Some(Instant::now());
                continue;
            }
        };
        // Output written before this message comes first.
        if let Some(c) = cursor.as_mut() {
            if drain(&shared, &mut wr, c, &mut buf, &mut output, &mut ctl)
                .await
                .is_err()
            {
                return;
            }
        }
        let closing = matches!(
            msg,
            Message::Notification {
                payload: Notification::Closing { .. }
            }
        );
        buf.clear();
        encode_control(&msg, &mut buf);
        if wr.write_all(&buf).await.is_err() || closing {
            let _ = wr.shutdown().await;
            return;
        }
    }
}

enum Step {
    Wrote(usize),
    CaughtUp,
    Lagged { from: u64 },
}

/// What one step of a [`drain`] did.
enum Drained {
    /// Nothing is left to send now.
    CaughtUp,
    /// The cursor moved on (sent, skipped or resynced), and the client's hold with it.
    Moved,
}

/// Sends everything from `cursor` to the ring's end, a step at a time: into the client's
/// own pipe ([`sink_step`]) or as output frames ([`frame_step`]). Before each step the
/// client is told of a demotion since the last; after it, answers queued for it go out.
async fn drain(
    shared: &Shared,
    wr: &mut OwnedWriteHalf,
    cursor: &mut u64,
    buf: &mut Vec<u8>,
    output: &mut Output,
    ctl: &mut mpsc::Receiver<Message>,
) -> std::io::Result<()> {
    loop {
        tell_demotion(wr, buf, output).await?;
        let step = if let Some(sink) = &output.sink {
            sink_step(shared, sink, wr, cursor, buf, output).await?
        } else {
            frame_step(shared, wr, cursor, buf, output).await?
        };
        match step {
            Drained::CaughtUp => return Ok(()),
            Drained::Moved => answer_queued(wr, buf, ctl).await?,
        }
    }
}

/// Lets the agent go on past `cursor` if it waits for this client.
fn advance_hold(output: &Output, cursor: u64) {
    if let Some(hold) = &output.hold {
        hold.advance(cursor);
    }
}

/// Appends the notice that the client's output skips from `from` to `to`.
fn encode_lagged(from: u64, to: u64, buf: &mut Vec<u8>) {
    encode_control(
        &Message::Notification {
            payload: Notification::Lagged { from, to },
        },
        buf,
    );
}

/// Writes a demotion notice if the agent stopped waiting for this client since the last.
async fn tell_demotion(
    wr: &mut OwnedWriteHalf,
    buf: &mut Vec<u8>,
    output: &mut Output,
) -> std::io::Result<()> {
    if let Some(reason) = output.hold.as_ref().and_then(Hold::take_demotion) {
        output.hold = None;
        buf.clear();
        encode_control(
            &Message::Notification {
                payload: Notification::Demoted { reason },
            },
            buf,
        );
        wr.write_all(buf).await?;
    }
    Ok(())
}

/// Writes answers queued for this client, so a long backlog does not hold them up.
async fn answer_queued(
    wr: &mut OwnedWriteHalf,
    buf: &mut Vec<u8>,
    ctl: &mut mpsc::Receiver<Message>,
) -> std::io::Result<()> {
    while let Ok(msg) = ctl.try_recv() {
        buf.clear();
        encode_control(&msg, buf);
        wr.write_all(buf).await?;
    }
    Ok(())
}

enum SinkStep {
    Wrote(usize),
    CaughtUp,
    /// The ring dropped bytes this (demoted) client had not taken; it goes on from `to`.
    Skipped {
        from: u64,
        to: u64,
    },
}

/// One step of [`drain`] for a client whose output goes into its own pipe ([`Sink`]): raw
/// bytes straight from the ring, as much as the pipe takes. Bytes the ring dropped (only
/// once demoted) are skipped with a `lagged` notice on the connection; no snapshot.
async fn sink_step(
    shared: &Shared,
    sink: &Sink,
    wr: &mut OwnedWriteHalf,
    cursor: &mut u64,
    buf: &mut Vec<u8>,
    output: &Output,
) -> std::io::Result<Drained> {
    if lock(&shared.ring).end() <= *cursor {
        return Ok(Drained::CaughtUp);
    }
    let at = *cursor;
    let step = sink
        .write_with(|pipe| {
            let ring = lock(&shared.ring);
            match ring.slices_from(at, HELD_CHUNK) {
                Ok((a, b)) if a.is_empty() && b.is_empty() => Ok(SinkStep::CaughtUp),
                Ok((a, b)) => crate::sink::write_parts(pipe, a, b).map(SinkStep::Wrote),
                Err(Position::Gone { start }) => Ok(SinkStep::Skipped {
                    from: at,
                    to: start,
                }),
                Err(Position::Future { .. } | Position::Available) => Ok(SinkStep::CaughtUp),
            }
        })
        .await;
    match step {
        Ok(SinkStep::CaughtUp) => return Ok(Drained::CaughtUp),
        Ok(SinkStep::Wrote(n)) => *cursor += n as u64,
        Ok(SinkStep::Skipped { from, to }) => {
            tracing::info!(
                from,
                to,
                "a follower's pipe fell out of the ring; skipping to the ring's start"
            );
            buf.clear();
            encode_lagged(from, to, buf);
            wr.write_all(buf).await?;
            *cursor = to;
        }
        Err(e) => {
            tracing::info!(error = %e, "cannot write into a follower's pipe (its reader left?); closing that client");
            buf.clear();
            encode_control(
                &error(ErrorPayload::new(
                    ErrorCode::Os,
                    format!("the holder cannot write into this reader's output: {e}"),
                )),
                buf,
            );
            let _ = wr.write_all(buf).await;
            return Err(e);
        }
    }
    advance_hold(output, *cursor);
    Ok(Drained::Moved)
}

/// One step of [`drain`] into output frames on the connection; a client that fell behind
/// is resynced with a snapshot.
async fn frame_step(
    shared: &Shared,
    wr: &mut OwnedWriteHalf,
    cursor: &mut u64,
    buf: &mut Vec<u8>,
    output: &Output,
) -> std::io::Result<Drained> {
    buf.clear();
    let step = {
        let ring = lock(&shared.ring);
        let behind = ring.end().saturating_sub(*cursor);
        if !output.lossless && behind > shared.spec.max_lag as u64 {
            Step::Lagged { from: *cursor }
        } else {
            let chunk = if output.hold.is_some() {
                HELD_CHUNK
            } else {
                OUTPUT_CHUNK
            };
            match ring.slices_from(*cursor, chunk) {
                Ok((a, b)) if a.is_empty() && b.is_empty() => Step::CaughtUp,
                Ok((a, b)) => {
                    encode_output_parts(*cursor, a, b, buf);
                    Step::Wrote(a.len() + b.len())
                }
                Err(Position::Gone { .. }) => Step::Lagged { from: *cursor },
                Err(Position::Future { end }) => {
                    *cursor = end;
                    Step::CaughtUp
                }
                Err(Position::Available) => Step::CaughtUp,
            }
        }
    };
    match step {
        Step::CaughtUp => return Ok(Drained::CaughtUp),
        Step::Wrote(n) => {
            // Copied out of the ring: the agent need not wait for the socket.
            *cursor += n as u64;
            advance_hold(output, *cursor);
            wr.write_all(buf).await?;
        }
        Step::Lagged { from } => {
            let snap = shared
                .model
                .snapshot()
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            tracing::info!(
                from,
                to = snap.offset,
                "client lagged; resyncing it with a snapshot"
            );
            encode_lagged(from, snap.offset, buf);
            encode_snapshot(snap.offset, snap.size.cols, snap.size.rows, &snap.data, buf);
            wr.write_all(buf).await?;
            *cursor = snap.offset;
            advance_hold(output, *cursor);
        }
    }
    Ok(Drained::Moved)
}
