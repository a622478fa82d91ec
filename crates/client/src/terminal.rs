//! A session's terminal over the host's WebSocket: output and snapshots with their offsets,
//! input and resize, and resume after a dropped connection with exactly the missing bytes
//! ([`Offsets`]). One task owns the socket; [`TerminalStream::next`] reads what it
//! forwards and [`TerminalWriter`] (cloneable) sends keys and sizes to it.

use crate::error::{ClientError, Result};
use crate::http::HostClient;
use crate::offsets::Offsets;
use crate::ws::{self, Incoming, Ws};
use paddock_proto::web::{ClientMessage, ServerMessage, TerminalFrame};
use paddock_proto::{SessionId, Size};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How to attach.
#[derive(Debug, Clone)]
pub struct AttachOptions {
    /// Resume after this offset (exactly the bytes after it, when the host still has them);
    /// `None` starts with a snapshot of the screen.
    pub offset: Option<u64>,
    /// Resize the session's terminal to this when attaching (operators only).
    pub size: Option<Size>,
    /// Every byte, tolerating a lag up to the session's whole ring (logs, recorders), rather
    /// than the interactive limit after which the host sends a snapshot instead.
    pub lossless: bool,
    /// Keep reconnecting for this long after the connection drops before giving up.
    pub reconnect_for: Duration,
}

impl Default for AttachOptions {
    fn default() -> Self {
        Self {
            offset: None,
            size: None,
            lossless: false,
            reconnect_for: Duration::from_secs(60),
        }
    }
}

/// What a terminal stream gives.
#[derive(Debug, Clone, PartialEq)]
pub enum TerminalEvent {
    /// The stream (re)started at `offset`; `resumed` after a reconnect.
    Attached {
        offset: u64,
        size: Size,
        writable: bool,
        resumed: bool,
    },
    /// New output beginning at `offset`: write it to the terminal. Never repeats a byte.
    Output {
        offset: u64,
        data: Vec<u8>,
    },
    /// Clear the terminal and draw this screen (ANSI); the next byte is at `offset`. `gap`
    /// when bytes were lost before it (the client fell behind, or the host no longer had
    /// them).
    Snapshot {
        offset: u64,
        size: Size,
        data: Vec<u8>,
        gap: bool,
    },
    Resized {
        size: Size,
    },
    /// The agent exited; its final screen stays.
    Exited {
        code: Option<i32>,
        signal: Option<String>,
    },
    /// The stream ended (the session is gone, or it was detached).
    Detached {
        reason: String,
    },
    /// The connection dropped; reconnecting (with the error's code and message).
    Reconnecting {
        code: &'static str,
        message: String,
    },
}

enum Command {
    Input(Vec<u8>),
    Resize(Size),
}

/// Sends keys and sizes into a terminal stream; cheap to clone.
#[derive(Clone, Debug)]
pub struct TerminalWriter {
    tx: mpsc::Sender<Command>,
}

impl TerminalWriter {
    /// Types `data` into the session (sent as UTF-8 text: a character split between two
    /// calls is sent whole with the second; invalid bytes become U+FFFD).
    pub async fn input(&self, data: &[u8]) -> Result<()> {
        self.tx
            .send(Command::Input(data.to_vec()))
            .await
            .map_err(|_| ClientError::Closed)
    }

    pub async fn resize(&self, size: Size) -> Result<()> {
        self.tx
            .send(Command::Resize(size))
            .await
            .map_err(|_| ClientError::Closed)
    }
}

/// A live terminal stream; dropping it detaches.
pub struct TerminalStream {
    session: SessionId,
    rx: mpsc::Receiver<Result<TerminalEvent>>,
    writer: TerminalWriter,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TerminalStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TerminalStream {
    pub(crate) async fn open(
        client: HostClient,
        session: &str,
        opts: AttachOptions,
    ) -> Result<Self> {
        let session = SessionId::parse(session).map_err(|e| ClientError::Api {
            status: 400,
            code: paddock_proto::web::ApiErrorCode::BadRequest,
            message: e.to_string(),
        })?;
        let offsets = Offsets::starting_at(opts.offset);
        let (ws, first, gap) = attach_once(&client, &session, &offsets, &opts, false).await?;
        let (ev_tx, rx) = mpsc::channel(256);
        let (tx, cmd_rx) = mpsc::channel(64);
        let _ = ev_tx.try_send(Ok(first));
        let task = tokio::spawn(run(
            Task {
                client,
                session: session.clone(),
                opts,
                offsets,
                pending_gap: gap,
                utf8: Utf8Joiner::default(),
                ev_tx,
            },
            ws,
            cmd_rx,
        ));
        Ok(Self {
            session,
            rx,
            writer: TerminalWriter { tx },
            task,
        })
    }

    pub fn session(&self) -> &SessionId {
        &self.session
    }

    /// The next event; `None` once the stream ended (after `Detached`, or an error).
    pub async fn next(&mut self) -> Option<Result<TerminalEvent>> {
        self.rx.recv().await
    }

    pub fn writer(&self) -> TerminalWriter {
        self.writer.clone()
    }

    pub async fn input(&self, data: &[u8]) -> Result<()> {
        self.writer.input(data).await
    }

    pub async fn resize(&self, size: Size) -> Result<()> {
        self.writer.resize(size).await
    }
}

/// Connects, attaches from `offsets`, and waits for the host's `attached`; also whether the
/// host said bytes after the offset are gone (its snapshot that follows then reports a gap).
async fn attach_once(
    client: &HostClient,
    session: &SessionId,
    offsets: &Offsets,
    opts: &AttachOptions,
    resumed: bool,
) -> Result<(Ws, TerminalEvent, bool)> {
    let mut ws = ws::connect(client).await?;
    ws::send(
        &mut ws,
        &ClientMessage::Attach {
            session: session.clone(),
            offset: offsets.resume_from(),
            size: opts.size,
            lossless: opts.lossless.then_some(true),
        },
    )
    .await?;
    let deadline = Instant::now() + ws::ANSWER_TIMEOUT;
    loop {
        let m = tokio::time::timeout_at(deadline.into(), ws::read(&mut ws))
            .await
            .map_err(|_| ClientError::Timeout(format!("attaching to {session}")))?;
        match m {
            Incoming::Server(ServerMessage::Attached {
                session: s,
                offset,
                size,
                writable,
                gap,
                ..
            }) if &s == session => {
                return Ok((
                    ws,
                    TerminalEvent::Attached {
                        offset,
                        size,
                        writable,
                        resumed,
                    },
                    gap,
                ))
            }
            Incoming::Server(ServerMessage::Error { code, message, .. }) => {
                return Err(ClientError::Api {
                    status: 0,
                    code,
                    message,
                })
            }
            Incoming::Gone(why) => {
                return Err(ClientError::Unreachable {
                    url: client.host().url.to_string(),
                    source: std::io::Error::new(std::io::ErrorKind::ConnectionAborted, why),
                })
            }
            _ => {}
        }
    }
}

struct Task {
    client: HostClient,
    session: SessionId,
    opts: AttachOptions,
    offsets: Offsets,
    /// Bytes were skipped (`lagged`, or the resume offset was gone): the next snapshot says so.
    pending_gap: bool,
    /// Input is sent as text: a character split between two reads waits for its end.
    utf8: Utf8Joiner,
    ev_tx: mpsc::Sender<Result<TerminalEvent>>,
}

enum Step {
    Continue,
    /// The socket is gone: reconnect.
    Reconnect(String),
    /// The stream is over.
    End,
}

async fn run(mut t: Task, mut ws: Ws, mut cmd_rx: mpsc::Receiver<Command>) {
    loop {
        let why = loop {
            let step = tokio::select! {
                cmd = cmd_rx.recv() => match cmd {
                    None => {
                        let _ = ws::send(&mut ws, &ClientMessage::Detach { session: t.session.clone() }).await;
                        let _ = ws.close(None).await;
                        return;
                    }
                    Some(c) => t.command(&mut ws, c).await,
                },
                m = ws::read(&mut ws) => t.incoming(m).await,
            };
            match step {
                Step::Continue => {}
                Step::Reconnect(why) => break why,
                Step::End => return,
            }
        };
        tracing::debug!(session = %t.session, reason = %why, "terminal stream dropped; resuming");
        if t.emit(Ok(TerminalEvent::Reconnecting {
            code: "unreachable",
            message: why,
        }))
        .await
        .is_err()
        {
            return;
        }
        match t.reconnect().await {
            Ok(new) => ws = new,
            Err(e) => {
                let _ = t.emit(Err(e)).await;
                return;
            }
        }
    }
}

impl Task {
    async fn emit(&self, ev: Result<TerminalEvent>) -> std::result::Result<(), ()> {
        self.ev_tx.send(ev).await.map_err(|_| ())
    }

    async fn command(&mut self, ws: &mut Ws, c: Command) -> Step {
        let m = match c {
            Command::Input(data) => {
                let text = self.utf8.push(&data);
                if text.is_empty() {
                    return Step::Continue;
                }
                ClientMessage::Input {
                    session: self.session.clone(),
                    data: text,
                }
            }
            Command::Resize(size) => ClientMessage::Resize {
                session: self.session.clone(),
                size,
            },
        };
        match ws::send(ws, &m).await {
            Ok(()) => Step::Continue,
            Err(_) => Step::Reconnect("the connection dropped while sending".into()),
        }
    }

    async fn incoming(&mut self, m: Incoming) -> Step {
        let ev = match m {
            Incoming::Gone(why) => return Step::Reconnect(why),
            Incoming::Binary(b) => match TerminalFrame::decode(&b) {
                Ok(TerminalFrame::Output {
                    session,
                    offset,
                    data,
                }) if session == self.session => {
                    let fresh = self.offsets.output(offset, &data);
                    if fresh.is_empty() {
                        return Step::Continue;
                    }
                    let start = offset + (data.len() - fresh.len()) as u64;
                    TerminalEvent::Output {
                        offset: start,
                        data: fresh.to_vec(),
                    }
                }
                Ok(TerminalFrame::Snapshot {
                    session,
                    offset,
                    size,
                    data,
                }) if session == self.session => {
                    let gap = std::mem::take(&mut self.pending_gap);
                    self.offsets.snapshot(offset, gap);
                    TerminalEvent::Snapshot {
                        offset,
                        size,
                        data,
                        gap,
                    }
                }
                Ok(_) => return Step::Continue,
                Err(e) => {
                    tracing::debug!(error = %e, "skipped a malformed terminal frame");
                    return Step::Continue;
                }
            },
            Incoming::Server(m) => match m {
                ServerMessage::Attached { gap, .. } => {
                    self.pending_gap |= gap;
                    return Step::Continue;
                }
                ServerMessage::Lagged { session, .. } if session == self.session => {
                    self.pending_gap = true;
                    return Step::Continue;
                }
                ServerMessage::Resized { session, size } if session == self.session => {
                    TerminalEvent::Resized { size }
                }
                ServerMessage::Exited {
                    session,
                    code,
                    signal,
                } if session == self.session => TerminalEvent::Exited { code, signal },
                ServerMessage::Detached { session, reason } if session == self.session => {
                    let _ = self.emit(Ok(TerminalEvent::Detached { reason })).await;
                    return Step::End;
                }
                ServerMessage::Error {
                    code: paddock_proto::web::ApiErrorCode::Unauthorized,
                    message,
                    ..
                } => return Step::Reconnect(message),
                ServerMessage::Error { message, code, .. } => {
                    tracing::debug!(code = code.as_str(), %message, "the host refused a terminal message");
                    return Step::Continue;
                }
                _ => return Step::Continue,
            },
            Incoming::Event(_) => return Step::Continue,
        };
        match self.emit(Ok(ev)).await {
            Ok(()) => Step::Continue,
            Err(()) => Step::End,
        }
    }

    /// Attaches again from the last offset, retrying transient failures for
    /// `reconnect_for`.
    async fn reconnect(&mut self) -> Result<Ws> {
        let give_up = Instant::now() + self.opts.reconnect_for;
        let mut attempt = 0;
        loop {
            match attach_once(&self.client, &self.session, &self.offsets, &self.opts, true).await {
                Ok((ws, ev, gap)) => {
                    self.pending_gap |= gap;
                    self.emit(Ok(ev)).await.map_err(|()| ClientError::Closed)?;
                    return Ok(ws);
                }
                Err(e) if e.is_transient() && Instant::now() < give_up => {
                    tokio::time::sleep(ws::backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Joins UTF-8 sequences split between chunks of input; invalid bytes become U+FFFD.
#[derive(Default)]
struct Utf8Joiner {
    tail: Vec<u8>,
}

impl Utf8Joiner {
    fn push(&mut self, data: &[u8]) -> String {
        self.tail.extend_from_slice(data);
        let buf = std::mem::take(&mut self.tail);
        match std::str::from_utf8(&buf) {
            Ok(s) => s.to_owned(),
            // Only the end is incomplete (at most 3 bytes of a character): keep it for later.
            Err(e) if e.error_len().is_none() && buf.len() - e.valid_up_to() < 4 => {
                let (done, rest) = buf.split_at(e.valid_up_to());
                self.tail = rest.to_vec();
                String::from_utf8_lossy(done).into_owned()
            }
            Err(_) => String::from_utf8_lossy(&buf).into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_between_reads_is_sent_whole() {
        let mut j = Utf8Joiner::default();
        let e = "é".as_bytes();
        assert_eq!(j.push(&[b'a', e[0]]), "a");
        assert_eq!(j.push(&[e[1], b'b']), "éb");
        assert_eq!(j.push(&[0xff, b'c']), "\u{fffd}c");
    }
}
