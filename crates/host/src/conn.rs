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
use crate::holder::{Cmd, Shared};
use crate::ring::Position;
use crate::sink::Sink;
use crate::sync::lock;
use paddock_proto::frame::{encode_control, encode_snapshot};
use paddock_proto::{
    Backpressure, ClientId, ErrorCode, ErrorPayload, Frame, FrameError, FrameReader, Hello,
    Message, Mode, Notification, Request, Response, Start, StreamKind, StreamStart,
    MIN_PROTOCOL_VERSION, PROTOCOL_VERSION,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

mod activity;
mod output;
mod requests;

use activity::activity_loop;
use output::{write_loop, Output};
use requests::{ask, handle_input, handle_request};

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
