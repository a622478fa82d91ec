//! The client side of a holder's socket, used by the CLI, the tests and the benchmarks (and
//! later the supervisor).

use paddock_proto::frame::{encode_control, encode_input};
use paddock_proto::{
    ClientId, ErrorPayload, Frame, FrameError, FrameReader, Hello, Message, Notification, Request,
    Response, SessionInfo, Size, StreamStart,
};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

/// How long a holder has to answer hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

/// Why talking to a holder failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to the session's holder at {path}: {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the holder refused: {0}")]
    Refused(ErrorPayload),
    #[error("the holder sent something unexpected: {0}")]
    Protocol(String),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("the holder closed the connection")]
    Closed,
    #[error("the holder did not answer within {0:?}")]
    Timeout(Duration),
    #[error("lost the connection to the holder: {0}")]
    Io(#[from] std::io::Error),
}

/// What arrives from a holder after hello.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Output {
        offset: u64,
        data: Vec<u8>,
    },
    Snapshot {
        offset: u64,
        size: Size,
        data: Vec<u8>,
    },
    Notification(Notification),
    Response {
        id: u64,
        response: Response,
    },
    Error {
        id: Option<u64>,
        error: ErrorPayload,
    },
}

/// What the holder said in answer to hello.
#[derive(Debug, Clone)]
pub struct Welcome {
    pub version: u32,
    pub client: ClientId,
    pub session: SessionInfo,
    pub stream: StreamStart,
    /// The holder writes the output into the descriptor passed with hello
    /// ([`Client::connect_with_sink`]); no output frames come.
    pub sink: bool,
}

/// A connection to one holder.
pub struct Client {
    pub welcome: Welcome,
    reader: ClientReader,
    writer: ClientWriter,
    /// Notifications that arrived while [`Client::request`] waited for its answer, handed
    /// out first by [`Client::next_event`]: an `exited` must not be lost because the
    /// supervisor was reading the screen when it came.
    held: VecDeque<Notification>,
}

/// The most notifications kept while one request waits (they are throttled by the holder,
/// so a request never sees this many; the oldest go first).
const HELD_MAX: usize = 256;

/// The receiving half of a [`Client`].
pub struct ClientReader {
    frames: FrameReader<OwnedReadHalf>,
}

/// The sending half of a [`Client`].
pub struct ClientWriter {
    wr: OwnedWriteHalf,
    next_id: u64,
    buf: Vec<u8>,
}

impl Client {
    /// Connects and says hello.
    pub async fn connect(path: &Path, hello: Hello) -> Result<Self, ClientError> {
        Self::connect_inner(path, hello, None).await
    }

    /// Connects and says hello with `sink` (a pipe: the caller's standard output) passed
    /// along, for the holder to write the output into itself (`hello.sink` is set here).
    /// [`Welcome::sink`] says whether it does; if not (an older holder, a tmux bridge, an
    /// exited agent) the output comes in frames as from [`Client::connect`].
    pub async fn connect_with_sink(
        path: &Path,
        mut hello: Hello,
        sink: std::os::fd::BorrowedFd<'_>,
    ) -> Result<Self, ClientError> {
        hello.sink = true;
        Self::connect_inner(path, hello, Some(sink)).await
    }

    async fn connect_inner(
        path: &Path,
        hello: Hello,
        sink: Option<std::os::fd::BorrowedFd<'_>>,
    ) -> Result<Self, ClientError> {
        let mut stream = connect_stream(path).await?;
        let id = 1;
        let mut frame = Vec::new();
        encode_control(
            &Message::Request {
                id,
                payload: Request::Hello(hello),
            },
            &mut frame,
        );
        match sink {
            Some(fd) => crate::sink::send_hello(&stream, &frame, fd).await?,
            None => stream.write_all(&frame).await?,
        }
        let (mut reader, mut writer) = halves(stream);
        writer.next_id = id;
        let first = tokio::time::timeout(HELLO_TIMEOUT, reader.frames.next())
            .await
            .map_err(|_| ClientError::Timeout(HELLO_TIMEOUT))??;
        let welcome = match first {
            Some(Frame::Control(Message::Response {
                id: rid,
                payload:
                    Response::Hello {
                        version,
                        client,
                        session,
                        stream,
                        sink,
                    },
            })) if rid == id => Welcome {
                version,
                client,
                session: *session,
                stream,
                sink,
            },
            Some(Frame::Control(Message::Error { payload, .. })) => {
                return Err(ClientError::Refused(payload))
            }
            None => return Err(ClientError::Closed),
            Some(other) => {
                return Err(ClientError::Protocol(format!(
                    "expected the hello response, got {other:?}"
                )))
            }
        };
        Ok(Self {
            welcome,
            reader,
            writer,
            held: VecDeque::new(),
        })
    }

    pub fn into_split(self) -> (ClientReader, ClientWriter) {
        (self.reader, self.writer)
    }

    pub async fn next_event(&mut self) -> Result<Option<Event>, ClientError> {
        if let Some(n) = self.held.pop_front() {
            return Ok(Some(Event::Notification(n)));
        }
        self.reader.next_event().await
    }

    pub async fn send_input(&mut self, data: &[u8]) -> Result<(), ClientError> {
        self.writer.send_input(data).await
    }

    /// Sends a request and waits for its answer (meant for connections opened with
    /// [`Hello::control`]). Notifications that arrive meanwhile are kept for
    /// [`Client::next_event`]; terminal bytes are skipped.
    pub async fn request(&mut self, req: Request) -> Result<Response, ClientError> {
        let held = &mut self.held;
        request_on(&mut self.reader, &mut self.writer, req, |n| {
            if held.len() == HELD_MAX {
                held.pop_front();
            }
            held.push_back(n);
        })
        .await
    }
}

/// Connects to the socket at `path`; the two halves of a connection.
async fn open(path: &Path) -> Result<(ClientReader, ClientWriter), ClientError> {
    Ok(halves(connect_stream(path).await?))
}

async fn connect_stream(path: &Path) -> Result<UnixStream, ClientError> {
    UnixStream::connect(path)
        .await
        .map_err(|source| ClientError::Connect {
            path: path.to_owned(),
            source,
        })
}

fn halves(stream: UnixStream) -> (ClientReader, ClientWriter) {
    let (rd, wr) = stream.into_split();
    (
        ClientReader {
            frames: FrameReader::new(rd),
        },
        ClientWriter {
            wr,
            next_id: 0,
            buf: Vec::new(),
        },
    )
}

/// Sends `req` and waits for its answer; notifications that arrive meanwhile go to `keep`.
async fn request_on(
    reader: &mut ClientReader,
    writer: &mut ClientWriter,
    req: Request,
    mut keep: impl FnMut(Notification),
) -> Result<Response, ClientError> {
    let id = writer.send_request(req).await?;
    loop {
        match reader.next_event().await? {
            Some(Event::Notification(n)) => keep(n),
            Some(Event::Response { id: rid, response }) if rid == id => return Ok(response),
            Some(Event::Error {
                id: Some(rid),
                error,
            }) if rid == id => return Err(ClientError::Refused(error)),
            Some(Event::Error { id: None, error }) => return Err(ClientError::Refused(error)),
            Some(_) => continue,
            None => return Err(ClientError::Closed),
        }
    }
}

/// A request/response connection to a server that is not a holder (the supervisor).
pub struct Requester {
    reader: ClientReader,
    writer: ClientWriter,
}

impl Requester {
    /// Connects and says hello; the server answers `ok`.
    pub async fn connect(path: &Path, hello: Hello) -> Result<Self, ClientError> {
        let (reader, writer) = open(path).await?;
        let mut r = Self { reader, writer };
        tokio::time::timeout(HELLO_TIMEOUT, r.request(Request::Hello(hello)))
            .await
            .map_err(|_| ClientError::Timeout(HELLO_TIMEOUT))??;
        Ok(r)
    }

    pub async fn request(&mut self, req: Request) -> Result<Response, ClientError> {
        request_on(&mut self.reader, &mut self.writer, req, |_| {}).await
    }
}

impl ClientReader {
    /// The next event; `Ok(None)` when the holder closed the connection.
    pub async fn next_event(&mut self) -> Result<Option<Event>, ClientError> {
        let Some(frame) = self.frames.next().await? else {
            return Ok(None);
        };
        Ok(Some(match frame {
            Frame::Output { offset, data } => Event::Output { offset, data },
            Frame::Snapshot {
                offset,
                cols,
                rows,
                data,
            } => Event::Snapshot {
                offset,
                size: Size { cols, rows },
                data,
            },
            Frame::Control(Message::Notification { payload }) => Event::Notification(payload),
            Frame::Control(Message::Response { id, payload }) => Event::Response {
                id,
                response: payload,
            },
            Frame::Control(Message::Error { id, payload }) => Event::Error { id, error: payload },
            other => {
                return Err(ClientError::Protocol(format!(
                    "a holder does not send {other:?}"
                )))
            }
        }))
    }
}

impl ClientWriter {
    /// Types `data` into the session.
    pub async fn send_input(&mut self, data: &[u8]) -> Result<(), ClientError> {
        self.buf.clear();
        encode_input(data, &mut self.buf);
        self.wr.write_all(&self.buf).await?;
        Ok(())
    }

    /// Sends a request; returns its id (the answer arrives on the reader).
    pub async fn send_request(&mut self, req: Request) -> Result<u64, ClientError> {
        self.next_id += 1;
        let id = self.next_id;
        self.buf.clear();
        encode_control(&Message::Request { id, payload: req }, &mut self.buf);
        self.wr.write_all(&self.buf).await?;
        Ok(id)
    }

    /// Sends raw bytes (for tests of malformed input).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        self.wr.write_all(bytes).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paddock_proto::frame::FrameReader;
    use paddock_proto::message::{StreamKind, StreamStart};
    use tokio::net::UnixListener;

    /// A holder that answers hello, then answers the first request only after telling the
    /// client that its agent exited, as a real holder can when the agent dies meanwhile.
    async fn holder_that_notifies_during_a_request(listener: UnixListener) {
        let (stream, _) = listener.accept().await.expect("accept");
        let (rd, mut wr) = stream.into_split();
        let mut frames = FrameReader::new(rd);
        let info = session_info();
        let mut out = Vec::new();
        for answer in 0..2 {
            let Some(Frame::Control(Message::Request { id, .. })) =
                frames.next().await.expect("a frame")
            else {
                panic!("expected a request");
            };
            out.clear();
            if answer == 1 {
                let exited = Message::Notification {
                    payload: Notification::Exited {
                        code: Some(137),
                        signal: Some("KILL".into()),
                    },
                };
                encode_control(&exited, &mut out);
            }
            let payload = if answer == 0 {
                Response::Hello {
                    version: paddock_proto::PROTOCOL_VERSION,
                    client: ClientId(1),
                    session: Box::new(info.clone()),
                    stream: StreamStart {
                        kind: StreamKind::None,
                        offset: 0,
                        gap: false,
                    },
                    sink: false,
                }
            } else {
                Response::Info {
                    session: Box::new(info.clone()),
                }
            };
            encode_control(&Message::Response { id, payload }, &mut out);
            wr.write_all(&out).await.expect("write");
        }
        // Keep the connection open until the client is done.
        let _ = frames.next().await;
    }

    /// A holder that reads hellos with plain reads, as holders from before `hello.sink` do:
    /// a descriptor passed with the hello is dropped by the kernel, and the answer has no
    /// `sink`. Then it sends one output frame.
    async fn holder_that_knows_no_sink(listener: UnixListener, info: SessionInfo) {
        let (stream, _) = listener.accept().await.expect("accept");
        let (rd, mut wr) = stream.into_split();
        let mut frames = FrameReader::new(rd);
        let Some(Frame::Control(Message::Request {
            id,
            payload: Request::Hello(hello),
        })) = frames.next().await.expect("a frame")
        else {
            panic!("expected hello");
        };
        assert!(hello.sink, "the client says it passed its pipe");
        let mut out = Vec::new();
        let hello = Response::Hello {
            version: 1,
            client: ClientId(1),
            session: Box::new(info),
            stream: StreamStart {
                kind: StreamKind::Bytes,
                offset: 0,
                gap: false,
            },
            sink: false,
        };
        encode_control(&Message::Response { id, payload: hello }, &mut out);
        paddock_proto::frame::encode_output_parts(0, b"frames", b"", &mut out);
        wr.write_all(&out).await.expect("write");
        let _ = frames.next().await;
    }

    #[tokio::test]
    async fn a_holder_that_does_not_take_the_pipe_keeps_no_copy_and_sends_frames() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("h.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        let server = tokio::spawn(holder_that_knows_no_sink(listener, session_info()));
        let (pipe_rd, pipe_wr) = nix::unistd::pipe().expect("a pipe");
        let mut client = Client::connect_with_sink(
            &path,
            Hello::new(paddock_proto::Mode::ReadOnly),
            std::os::fd::AsFd::as_fd(&pipe_wr),
        )
        .await
        .expect("connect");
        assert!(!client.welcome.sink, "an older holder writes into no pipe");
        let ev = client.next_event().await.expect("event");
        assert_eq!(
            ev,
            Some(Event::Output {
                offset: 0,
                data: b"frames".to_vec()
            }),
            "the output comes in frames instead"
        );
        // With our write end closed, no copy is left anywhere: the pipe ends.
        drop(pipe_wr);
        let read = tokio::task::spawn_blocking(move || {
            let mut rest = Vec::new();
            std::io::Read::read_to_end(&mut std::fs::File::from(pipe_rd), &mut rest).map(|_| rest)
        });
        let rest = tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("the pipe ends: nobody else holds it")
            .expect("reader task")
            .expect("read");
        assert!(rest.is_empty());
        drop(client);
        server.await.expect("the fake holder");
    }

    fn session_info() -> SessionInfo {
        serde_json::from_value(serde_json::json!({
            "id": "abc123", "name": "build", "command": "sh", "args": [], "cwd": "/tmp",
            "pid": 4242, "holder_pid": 4241, "started_at": "2026-12-06T00:00:00Z",
            "size": {"cols": 80, "rows": 24}, "state": "running", "exit_code": null,
            "clients": 1, "restarts": 0, "output_end": 0, "ring_start": 0,
            "ring_capacity": 1024, "backend": "holder"
        }))
        .expect("a session's metadata")
    }

    #[tokio::test]
    async fn a_notification_that_arrives_while_a_request_waits_is_not_lost() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("h.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        let server = tokio::spawn(holder_that_notifies_during_a_request(listener));
        let mut client = Client::connect(&path, Hello::control(paddock_proto::Mode::ReadOnly))
            .await
            .expect("connect");
        let answer = client.request(Request::Info).await.expect("info");
        assert!(matches!(answer, Response::Info { .. }), "{answer:?}");
        let next = tokio::time::timeout(Duration::from_secs(5), client.next_event())
            .await
            .expect("the held notification comes at once")
            .expect("no error");
        assert!(
            matches!(
                next,
                Some(Event::Notification(Notification::Exited {
                    code: Some(137),
                    ..
                }))
            ),
            "{next:?}"
        );
        drop(client);
        server.await.expect("the fake holder");
    }
}
