//! One client connection to a holder: the hello, the requests, the input, and the output
//! stream that follows the client's own cursor through the ring.
//!
//! The output side is pull-based: each client has an offset into the ring and copies from it
//! when the ring grows, so the agent never waits for a client and a client costs no memory
//! beyond its socket buffer. A client whose offset falls more than `max_lag` behind (or out of
//! the ring, for lossless clients) is told `lagged` and continues from a snapshot. A client
//! that asked for backpressure is the exception: the agent waits for it (see
//! [`crate::hold`]) until it stalls past its limit and is demoted.

use crate::hold::Hold;
use crate::holder::{exited_error, Cmd, Shared};
use crate::ring::Position;
use crate::sink::Sink;
use crate::sync::lock;
use paddock_proto::frame::{encode_control, encode_output_parts, encode_snapshot};
use paddock_proto::{
    Backpressure, ClientId, ErrorCode, ErrorPayload, Frame, FrameError, FrameReader, Hello,
    Message, Mode, Notification, Request, Response, Size, Start, StreamKind, StreamStart,
    MIN_PROTOCOL_VERSION, PROTOCOL_VERSION,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::UnixStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::Instrument;

/// A client must say hello within this time.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest frame a client may send (input is typed or pasted text; 1 MiB is plenty).
const MAX_CLIENT_FRAME: usize = 1024 * 1024;
/// Output bytes per frame.
const OUTPUT_CHUNK: usize = 64 * 1024;
/// Output bytes per frame for a client the agent waits for (`paddock logs --follow`): in a
/// flood it is a whole ring behind most of the time, and fewer, larger frames cost it and
/// the holder fewer writes, reads and wakeups. Only such clients, which are few, get them:
/// each client's frame buffer grows to its largest frame.
const HELD_CHUNK: usize = 256 * 1024;
/// A client the agent waits for is sent its output once this much has gathered (or
/// [`HELD_LINGER`] after the first unsent byte): in a flood the PTY gives a few KiB per
/// read, and a frame per read would wake the follower, and the reader behind it, once per
/// few KiB. Far below the ring, so the agent never waits for the batching itself.
const HELD_BATCH: u64 = 64 * 1024;
/// The batch of a held client whose output goes into its own pipe ([`Sink`]): a write per
/// batch, and a wakeup of the pipe's reader, so larger than [`HELD_BATCH`]; as large as a
/// frame of a held client, still far below the ring.
const SINK_BATCH: u64 = HELD_CHUNK as u64;
/// How long a held client's first unsent byte may wait for more to gather: short enough
/// that a person watching `paddock logs --follow` sees no delay.
const HELD_LINGER: Duration = Duration::from_millis(2);
/// Control messages queued for one client.
const CONTROL_QUEUE: usize = 64;

/// Serves one connection until the client leaves or the holder closes.
pub(crate) async fn serve(shared: Arc<Shared>, stream: UnixStream) {
    let client = shared.next_client_id();
    let span = tracing::info_span!("client", id = %client, name = tracing::field::Empty);
    serve_client(shared.clone(), stream, client)
        .instrument(span)
        .await;
    trim_if_idle(&shared);
}

/// With nobody watching the output (quiet control connections such as the supervisor's do
/// not count), the holder is idle: it gives back the code pages the last client faulted in.
fn trim_if_idle(shared: &Shared) {
    if shared.streaming.load(Ordering::Relaxed) == 0 {
        crate::os::trim_code_pages();
    }
}

async fn serve_client(shared: Arc<Shared>, stream: UnixStream, client: ClientId) {
    // Read apart from the rest: a descriptor may come with it (`hello.sink`).
    let first = tokio::time::timeout(
        HELLO_TIMEOUT,
        crate::sink::recv_hello(&stream, MAX_CLIENT_FRAME),
    )
    .await;
    let (rd, mut wr) = stream.into_split();

    let (hello, passed, decoder) = match first {
        Ok(Ok((
            Some(Frame::Control(Message::Request {
                id,
                payload: Request::Hello(hello),
            })),
            passed,
            decoder,
        ))) => ((id, hello), passed, decoder),
        Ok(Ok((None, ..))) => return,
        Ok(Err(e)) => return refuse(&mut wr, None, bad_frame(&e)).await,
        Ok(Ok((Some(_), ..))) => {
            return refuse(
                &mut wr,
                None,
                ErrorPayload::new(
                    ErrorCode::Protocol,
                    "the first message must be a hello request",
                ),
            )
            .await
        }
        Err(_) => {
            return refuse(
                &mut wr,
                None,
                ErrorPayload::new(ErrorCode::Protocol, "no hello within 10 seconds; closing"),
            )
            .await
        }
    };
    let (hello_id, hello) = hello;
    let mut reader = FrameReader::with_decoder(rd, decoder);
    if hello.version < MIN_PROTOCOL_VERSION {
        let msg = format!(
            "protocol version {} is too old: this holder speaks {MIN_PROTOCOL_VERSION} to {PROTOCOL_VERSION}; upgrade the client",
            hello.version
        );
        return refuse(
            &mut wr,
            Some(hello_id),
            ErrorPayload::new(ErrorCode::UnsupportedVersion, msg),
        )
        .await;
    }
    if let Some(name) = &hello.client_name {
        tracing::Span::current().record("name", name.as_str());
    }

    let mut client_size = hello.size;
    if hello.mode == Mode::ReadWrite && shared.is_running() {
        if let Some(size) = hello.size {
            if let Err(e) = shared.activate_writer(client, Some(size)) {
                return refuse(&mut wr, Some(hello_id), e).await;
            }
        }
    }

    // Where the stream starts, decided and (for a snapshot) captured before the reply.
    let mut buf = Vec::new();
    let (stream_start, snapshot) = match start_point(&shared, &hello).await {
        Ok(s) => s,
        Err(e) => return refuse(&mut wr, Some(hello_id), e).await,
    };
    // Held from its first byte, before any `.await` lets the reader go on.
    let (hold, unheld) = hold_for(&shared, client, &hello, stream_start);
    // Before the state in the answer is read: an exit after it reaches this client.
    let events = shared.events.subscribe();
    // The hello's own descriptor is the first; any more are closed.
    let sink = sink_for(
        &shared,
        &hello,
        stream_start,
        hold.is_some(),
        passed.into_iter().next(),
    );
    let reply = Message::Response {
        id: hello_id,
        payload: Response::Hello {
            version: hello.version.min(PROTOCOL_VERSION),
            client,
            session: Box::new(shared.info()),
            stream: stream_start,
            sink: sink.is_some(),
        },
    };
    encode_control(&reply, &mut buf);
    if let Some(snap) = &snapshot {
        encode_snapshot(
            snap.offset,
            snap.size.cols,
            snap.size.rows,
            &snap.data,
            &mut buf,
        );
    }
    if let Some(reason) = unheld {
        encode_control(
            &Message::Notification {
                payload: Notification::Demoted { reason },
            },
            &mut buf,
        );
    }
    if wr.write_all(&buf).await.is_err() {
        return;
    }
    let _streaming = hello.stream.then(|| StreamingGuard::new(&shared));
    if !hello.stream {
        trim_if_idle(&shared);
    }
    tracing::debug!(mode = ?hello.mode, start = ?stream_start, "client attached");

    let (ctl_tx, ctl_rx) = mpsc::channel(CONTROL_QUEUE);
    let _activity = hello.activity.then(|| {
        AbortOnDrop(tokio::spawn(activity_loop(
            shared.clone(),
            ctl_tx.clone(),
            hello.version,
        )))
    });
    let cursor = (stream_start.kind != StreamKind::None).then_some(stream_start.offset);
    let mut writer = tokio::spawn(
        write_loop(
            shared.clone(),
            wr,
            ctl_rx,
            events,
            cursor,
            Output {
                lossless: hello.lossless || hello.backpressure.is_some(),
                hold,
                batch: if sink.is_some() {
                    SINK_BATCH
                } else {
                    HELD_BATCH
                }
                .min(shared.spec.ring_bytes as u64 / 4)
                .max(1),
                sink,
            },
        )
        .in_current_span(),
    );

    loop {
        let next = tokio::select! {
            next = reader.next() => next,
            _ = &mut writer => return,
        };
        let frame = match next {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                tracing::info!(error = %e, "closing a client that sent a malformed frame");
                let _ = ctl_tx
                    .send(Message::Error {
                        id: None,
                        payload: bad_frame(&e),
                    })
                    .await;
                break;
            }
        };
        let answer = match frame {
            Frame::Input(data) => {
                if hello.stream && !hello.relay {
                    // A client that watches the terminal and types is a person at it.
                    shared.typed_tx.send_modify(|n| *n += 1);
                }
                handle_input(&shared, client, hello.mode, client_size, data).await
            }
            Frame::Control(Message::Request {
                id,
                payload: Request::Remove { force },
            }) if hello.mode == Mode::ReadWrite => {
                let (tx, rx) = oneshot::channel();
                let (answered_tx, answered) = oneshot::channel();
                let result = ask(
                    &shared,
                    Cmd::Remove {
                        force,
                        reply: tx,
                        answered,
                    },
                    rx,
                )
                .await;
                let msg = match result {
                    Ok(payload) => Message::Response { id, payload },
                    Err(payload) => Message::Error {
                        id: Some(id),
                        payload,
                    },
                };
                if ctl_tx.send(msg).await.is_err() {
                    return;
                }
                let _ = answered_tx.send(());
                continue;
            }
            Frame::Control(Message::Request { id, payload }) => {
                let result =
                    handle_request(&shared, client, hello.mode, &mut client_size, payload).await;
                Some(match result {
                    Ok(payload) => Message::Response { id, payload },
                    Err(payload) => Message::Error {
                        id: Some(id),
                        payload,
                    },
                })
            }
            Frame::Control(_) => Some(Message::Error {
                id: None,
                payload: ErrorPayload::new(
                    ErrorCode::Protocol,
                    "clients send requests only; responses, notifications and errors are ignored",
                ),
            }),
            Frame::Output { .. } | Frame::Snapshot { .. } => {
                let _ = ctl_tx
                    .send(Message::Error {
                        id: None,
                        payload: ErrorPayload::new(
                            ErrorCode::BadFrame,
                            "clients may not send output or snapshot frames; closing",
                        ),
                    })
                    .await;
                break;
            }
        };
        if let Some(msg) = answer {
            if ctl_tx.send(msg).await.is_err() {
                return;
            }
        }
    }
    // Let the writer flush what is queued (an error frame, say), then stop it.
    drop(ctl_tx);
    let _ = tokio::time::timeout(Duration::from_secs(1), &mut writer).await;
    writer.abort();
}

/// How often an `activity` client is told the terminal printed, at most.
const ACTIVITY_EVERY: Duration = Duration::from_millis(200);
/// How often an `activity` client is told someone typed, at most: presence counts in
/// minutes, so a few seconds' grain is plenty and typing costs no message per key.
const TYPED_EVERY: Duration = Duration::from_secs(2);

/// Tells an `activity` client when output arrives and when a person types, each at once,
/// then at most every [`ACTIVITY_EVERY`] / [`TYPED_EVERY`] while it goes on, and once more
/// after it stops. Quiet terminals cost nothing: the tasks sleep on their watches.
///
/// Clients of protocol 3 or later are also told each new program status record (OSC 7501)
/// at once: a state change is what the supervisor waits for.
async fn activity_loop(shared: Arc<Shared>, ctl: mpsc::Sender<Message>, version: u32) {
    let status_ctl = ctl.clone();
    let status_shared = shared.clone();
    let status = async move {
        let ctl = status_ctl;
        if version < 3 {
            return;
        }
        let mut rx = status_shared.status_tx.subscribe();
        while rx.changed().await.is_ok() {
            let status = rx.borrow_and_update().clone();
            let msg = Message::Notification {
                payload: Notification::ProgramStatus { status },
            };
            if ctl.send(msg).await.is_err() {
                return;
            }
        }
    };
    let output = throttled(
        shared.end_tx.subscribe(),
        ctl.clone(),
        ACTIVITY_EVERY,
        |end| Notification::Output { end },
    );
    let typed = throttled(shared.typed_tx.subscribe(), ctl, TYPED_EVERY, |count| {
        Notification::Typed { count }
    });
    tokio::join!(output, typed, status);
}

/// Sends `make(value)` whenever `rx` changes, at most once per `every`.
async fn throttled(
    mut rx: watch::Receiver<u64>,
    ctl: mpsc::Sender<Message>,
    every: Duration,
    make: impl Fn(u64) -> Notification,
) {
    while rx.changed().await.is_ok() {
        let value = *rx.borrow_and_update();
        let msg = Message::Notification {
            payload: make(value),
        };
        // A client that does not read its queue misses activity, never output or answers.
        if let Err(mpsc::error::TrySendError::Closed(_)) = ctl.try_send(msg) {
            return;
        }
        tokio::time::sleep(every).await;
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Counts streaming clients for `clients` in the metadata.
struct StreamingGuard(Arc<Shared>);

impl StreamingGuard {
    fn new(shared: &Arc<Shared>) -> Self {
        shared.streaming.fetch_add(1, Ordering::Relaxed);
        Self(shared.clone())
    }
}

impl Drop for StreamingGuard {
    fn drop(&mut self) {
        self.0.streaming.fetch_sub(1, Ordering::Relaxed);
    }
}

fn bad_frame(e: &FrameError) -> ErrorPayload {
    ErrorPayload::new(ErrorCode::BadFrame, format!("{e}; closing this connection"))
}

/// Sends one error and closes.
async fn refuse(wr: &mut OwnedWriteHalf, id: Option<u64>, payload: ErrorPayload) {
    let mut buf = Vec::new();
    encode_control(&Message::Error { id, payload }, &mut buf);
    let _ = wr.write_all(&buf).await;
    let _ = wr.shutdown().await;
}

/// The hold of a client that asked for backpressure, or why it gets none (a tmux pane
/// cannot be held back: tmux reads the program's output whoever waits).
fn hold_for(
    shared: &Arc<Shared>,
    client: ClientId,
    hello: &Hello,
    start: StreamStart,
) -> (Option<Hold>, Option<String>) {
    let Some(terms) = hello
        .backpressure
        .filter(|_| start.kind != StreamKind::None)
    else {
        return (None, None);
    };
    if shared.bridge {
        let reason = format!(
            "session {} mirrors a tmux pane, which keeps printing whoever reads it, so it cannot wait for this reader: output it cannot keep up with is skipped, with a notice",
            shared.spec.id
        );
        return (None, Some(reason));
    }
    let stall = Duration::from_millis(terms.stall_ms.clamp(100, Backpressure::MAX_STALL_MS));
    tracing::debug!(?stall, "the agent waits for this client");
    (Some(shared.holds.hold(client, start.offset, stall)), None)
}

/// The pipe a held follower passed with its hello (`hello.sink`), if the holder takes it:
/// only for a held byte stream of a running agent (a finished one sends no `exited` to end
/// the follower), and only a pipe ([`Sink::open`]). Otherwise the client is told no and
/// reads output frames; the descriptor is closed.
fn sink_for(
    shared: &Shared,
    hello: &Hello,
    start: StreamStart,
    held: bool,
    passed: Option<std::os::fd::OwnedFd>,
) -> Option<Sink> {
    if !hello.sink {
        return None;
    }
    let Some(fd) = passed else {
        tracing::info!("a client asked to pass its output pipe, but no descriptor came with its hello; sending it output frames");
        return None;
    };
    if !held || start.kind != StreamKind::Bytes || !shared.is_running() {
        return None;
    }
    match Sink::open(fd) {
        Ok(sink) => {
            tracing::debug!("writing this follower's output into its pipe");
            Some(sink)
        }
        Err(why) => {
            tracing::info!(%why, "not writing into the follower's pipe; sending it output frames");
            None
        }
    }
}

async fn start_point(
    shared: &Shared,
    hello: &Hello,
) -> Result<(StreamStart, Option<crate::model::Snapshot>), ErrorPayload> {
    if !hello.stream {
        let offset = lock(&shared.ring).end();
        return Ok((
            StreamStart {
                kind: StreamKind::None,
                offset,
                gap: false,
            },
            None,
        ));
    }
    let bytes = |offset| StreamStart {
        kind: StreamKind::Bytes,
        offset,
        gap: false,
    };
    let gap = {
        let ring = lock(&shared.ring);
        match hello.start {
            Start::Snapshot => false,
            Start::RingStart => return Ok((bytes(ring.start()), None)),
            Start::End => return Ok((bytes(ring.end()), None)),
            Start::Offset { offset } => match ring.position(offset) {
                Position::Available => return Ok((bytes(offset), None)),
                Position::Gone { .. } => true,
                // Never written: the client has another session's offset; show it this one.
                Position::Future { .. } => false,
            },
        }
    };
    // A tmux pane may have been resized without writing since: take its size first.
    shared.follow_own_size();
    let snap = shared.model.snapshot().await.map_err(|e| {
        ErrorPayload::new(
            ErrorCode::Internal,
            format!("{e}; the holder is shutting down"),
        )
    })?;
    Ok((
        StreamStart {
            kind: StreamKind::Snapshot,
            offset: snap.offset,
            gap,
        },
        Some(snap),
    ))
}

async fn handle_input(
    shared: &Shared,
    client: ClientId,
    mode: Mode,
    size: Option<Size>,
    data: Vec<u8>,
) -> Option<Message> {
    if mode != Mode::ReadWrite {
        return Some(error(ErrorPayload::new(
            ErrorCode::ReadOnly,
            "this connection is read-only; attach without --read-only to type",
        )));
    }
    let Some(input) = shared.input() else {
        return Some(error(exited_error()));
    };
    if let Err(e) = shared.activate_writer(client, size) {
        return Some(error(e));
    }
    match shared.write_now(data) {
        Ok(None) => None,
        Ok(Some(rest)) => input.send(rest).await.err().map(|_| error(exited_error())),
        Err(()) => Some(error(exited_error())),
    }
}

fn error(payload: ErrorPayload) -> Message {
    Message::Error { id: None, payload }
}

async fn handle_request(
    shared: &Shared,
    client: ClientId,
    mode: Mode,
    client_size: &mut Option<Size>,
    req: Request,
) -> Result<Response, ErrorPayload> {
    let need_write = || {
        if mode == Mode::ReadWrite {
            Ok(())
        } else {
            Err(ErrorPayload::new(
                ErrorCode::ReadOnly,
                "this connection is read-only; connect read-write to resize, signal, restart or remove",
            ))
        }
    };
    match req {
        Request::Hello(_) => Err(ErrorPayload::new(
            ErrorCode::Protocol,
            "hello was already received on this connection",
        )),
        Request::Info => {
            shared.follow_own_size();
            Ok(Response::Info {
                session: Box::new(shared.info()),
            })
        }
        Request::Resize { size } => {
            need_write()?;
            if !shared.is_running() {
                return Err(exited_error());
            }
            *client_size = Some(size);
            shared.activate_writer(client, Some(size))?;
            Ok(Response::Ok)
        }
        Request::Signal { signal } => {
            need_write()?;
            shared.signal(signal)?;
            tracing::info!(%signal, "signal sent to the agent");
            Ok(Response::Ok)
        }
        Request::Restart => {
            need_write()?;
            let (tx, rx) = oneshot::channel();
            ask(shared, Cmd::Restart(tx), rx).await
        }
        // Read-write removals are handled by the connection loop (the answer must be
        // queued before the holder closes).
        Request::Remove { .. } => {
            need_write()?;
            Err(ErrorPayload::new(
                ErrorCode::Internal,
                "removal was not routed",
            ))
        }
        Request::Screen => {
            let text = shared.model.text().await.map_err(|e| {
                ErrorPayload::new(ErrorCode::Internal, format!("{e}; the holder is stopping"))
            })?;
            Ok(Response::Screen {
                rows: text.rows,
                offset: text.offset,
                title: text.title,
            })
        }
        Request::ListSessions
        | Request::Adopt { .. }
        | Request::ClaudeBg { .. }
        | Request::StartBackground { .. }
        | Request::Status
        | Request::Hook(_)
        | Request::Permissions { .. }
        | Request::Notifications { .. }
        | Request::NotifyTest { .. }
        | Request::NotifyPause { .. }
        | Request::Decide { .. }
        | Request::Insight { .. }
        | Request::History { .. }
        | Request::Control { .. }
        | Request::CreatePairing { .. }
        | Request::ListDevices
        | Request::RenameDevice { .. }
        | Request::RevokeDevice { .. } => Err(ErrorPayload::new(
            ErrorCode::UnknownRequest,
            "this is a session holder; ask the supervisor (`paddock up`) for that",
        )),
        Request::Unknown => Err(ErrorPayload::new(
            ErrorCode::UnknownRequest,
            "this holder does not know that request; it may be older than the client",
        )),
    }
}

async fn ask(
    shared: &Shared,
    cmd: Cmd,
    rx: oneshot::Receiver<Result<(), ErrorPayload>>,
) -> Result<Response, ErrorPayload> {
    let gone = || ErrorPayload::new(ErrorCode::Internal, "the holder is shutting down");
    shared.cmds.send(cmd).map_err(|_| gone())?;
    rx.await.map_err(|_| gone())??;
    Ok(Response::Ok)
}

/// How a client's output is paced.
struct Output {
    /// Resynced only when the ring dropped its bytes, not at the interactive lag limit.
    lossless: bool,
    /// The agent waits for this client (until it is demoted).
    hold: Option<Hold>,
    /// A held client's batch: [`HELD_BATCH`], or a quarter of a smaller ring.
    batch: u64,
    /// The client's own pipe, which its output goes into instead of output frames.
    sink: Option<Sink>,
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
async fn write_loop(
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

/// Sends everything from `cursor` to the ring's end; resyncs with a snapshot on lag.
async fn drain(
    shared: &Shared,
    wr: &mut OwnedWriteHalf,
    cursor: &mut u64,
    buf: &mut Vec<u8>,
    output: &mut Output,
    ctl: &mut mpsc::Receiver<Message>,
) -> std::io::Result<()> {
    if output.sink.is_some() {
        return drain_to_sink(shared, wr, cursor, buf, output, ctl).await;
    }
    drain_frames(shared, wr, cursor, buf, output, ctl).await
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

/// [`drain`] for a client whose output goes into its own pipe ([`Sink`]): the raw bytes
/// straight from the ring, each write as much as the pipe takes. Bytes the ring dropped
/// (only once demoted) are skipped with a `lagged` notice on the connection; no snapshot.
async fn drain_to_sink(
    shared: &Shared,
    wr: &mut OwnedWriteHalf,
    cursor: &mut u64,
    buf: &mut Vec<u8>,
    output: &mut Output,
    ctl: &mut mpsc::Receiver<Message>,
) -> std::io::Result<()> {
    loop {
        tell_demotion(wr, buf, output).await?;
        if lock(&shared.ring).end() <= *cursor {
            return Ok(());
        }
        let Some(sink) = output.sink.as_ref() else {
            return Ok(());
        };
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
            Ok(SinkStep::CaughtUp) => return Ok(()),
            Ok(SinkStep::Wrote(n)) => *cursor += n as u64,
            Ok(SinkStep::Skipped { from, to }) => {
                tracing::info!(
                    from,
                    to,
                    "a follower's pipe fell out of the ring; skipping to the ring's start"
                );
                buf.clear();
                encode_control(
                    &Message::Notification {
                        payload: Notification::Lagged { from, to },
                    },
                    buf,
                );
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
        if let Some(hold) = &output.hold {
            hold.advance(*cursor);
        }
        answer_queued(wr, buf, ctl).await?;
    }
}

/// [`drain`] into output frames on the connection.
async fn drain_frames(
    shared: &Shared,
    wr: &mut OwnedWriteHalf,
    cursor: &mut u64,
    buf: &mut Vec<u8>,
    output: &mut Output,
    ctl: &mut mpsc::Receiver<Message>,
) -> std::io::Result<()> {
    loop {
        tell_demotion(wr, buf, output).await?;
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
            Step::CaughtUp => return Ok(()),
            Step::Wrote(n) => {
                // Copied out of the ring: the agent need not wait for the socket.
                *cursor += n as u64;
                if let Some(hold) = &output.hold {
                    hold.advance(*cursor);
                }
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
                encode_control(
                    &Message::Notification {
                        payload: Notification::Lagged {
                            from,
                            to: snap.offset,
                        },
                    },
                    buf,
                );
                encode_snapshot(snap.offset, snap.size.cols, snap.size.rows, &snap.data, buf);
                wr.write_all(buf).await?;
                *cursor = snap.offset;
                if let Some(hold) = &output.hold {
                    hold.advance(*cursor);
                }
            }
        }
        answer_queued(wr, buf, ctl).await?;
    }
}
