//! A lean blocking client of a holder's socket, for the throughput runs.
//!
//! It says hello with the project's own encoder and decodes control frames with it, but
//! counts output bytes where they lie in its read buffer instead of copying each frame out,
//! so that the throughput figure is the holder's and not a client library's. It also checks
//! that output offsets are contiguous and fails on `lagged` (a lossless client must see every
//! byte) or on any error the holder sends.

use anyhow::{bail, Context};
use paddock_proto::frame::{encode_control, encode_input, HEADER_LEN};
use paddock_proto::{
    Frame, Hello, Message, Notification, Request, Response, SessionInfo, StreamStart, MAX_FRAME_LEN,
};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// The output frame's tag, as in the table in `paddock_proto::frame`.
const TAG_OUTPUT: u8 = 1;
/// Tag, then the u64 offset.
const OUTPUT_HEADER: usize = 1 + 8;
const READ_BUF: usize = 256 * 1024;

/// A connection that counts the output it receives.
pub struct Follower {
    sock: UnixStream,
    buf: Vec<u8>,
    /// Bytes of `buf` holding unparsed data.
    len: usize,
    /// Bytes of the current output frame's data still to arrive.
    rest: usize,
    /// The offset the next output byte must have.
    next: u64,
    /// Output bytes counted since hello.
    received: u64,
    welcome: Option<StreamStart>,
    /// When the agent's exit was announced.
    exited: Option<Instant>,
    /// The answer to the last `info` request.
    info: Option<SessionInfo>,
}

impl Follower {
    /// Connects, says `hello` and waits for the answer.
    pub fn connect(socket: &Path, hello: Hello, limit: Duration) -> anyhow::Result<Self> {
        let sock = UnixStream::connect(socket)
            .with_context(|| format!("cannot connect to {}", socket.display()))?;
        // Reads wake at least this often, so a deadline is noticed.
        sock.set_read_timeout(Some(Duration::from_millis(500)))?;
        let mut f = Self {
            sock,
            buf: vec![0; READ_BUF],
            len: 0,
            rest: 0,
            next: 0,
            received: 0,
            welcome: None,
            exited: None,
            info: None,
        };
        let mut out = Vec::new();
        let hello = Message::Request {
            id: 1,
            payload: Request::Hello(hello),
        };
        encode_control(&hello, &mut out);
        f.sock.write_all(&out)?;
        let deadline = Instant::now() + limit;
        while f.welcome.is_none() {
            f.read_some(deadline)
                .context("waiting for the hello answer")?;
        }
        Ok(f)
    }

    /// Types `bytes` into the session (the connection must be read-write).
    pub fn send_input(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        let mut out = Vec::new();
        encode_input(bytes, &mut out);
        self.sock.write_all(&out)?;
        Ok(())
    }

    /// Waits for the agent's exit to be announced; returns when this client read it.
    pub fn wait_exited(&mut self, deadline: Instant) -> anyhow::Result<Instant> {
        loop {
            if let Some(at) = self.exited {
                return Ok(at);
            }
            self.read_some(deadline)
                .context("waiting for the agent's exit")?;
        }
    }

    /// The session's metadata, live from the holder.
    pub fn info(&mut self, deadline: Instant) -> anyhow::Result<SessionInfo> {
        let mut out = Vec::new();
        let req = Message::Request {
            id: 2,
            payload: Request::Info,
        };
        encode_control(&req, &mut out);
        self.sock.write_all(&out)?;
        loop {
            if let Some(info) = self.info.take() {
                return Ok(info);
            }
            self.read_some(deadline)
                .context("waiting for the session's info")?;
        }
    }

    /// Reads until `total` output bytes have arrived since hello; fails past `deadline` or
    /// when more than `total` arrive.
    pub fn read_until(&mut self, total: u64, deadline: Instant) -> anyhow::Result<()> {
        while self.received < total {
            self.read_some(deadline)?;
        }
        if self.received > total {
            bail!(
                "received {} output bytes, expected exactly {total}",
                self.received
            );
        }
        Ok(())
    }

    /// One read, then everything it completes.
    fn read_some(&mut self, deadline: Instant) -> anyhow::Result<()> {
        let n = loop {
            match self.sock.read(&mut self.buf[self.len..]) {
                Ok(0) => bail!("the holder closed the connection"),
                Ok(n) => break n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if Instant::now() >= deadline {
                        bail!(
                            "timed out after {} output bytes at offset {}",
                            self.received,
                            self.next
                        );
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        };
        self.len += n;
        self.parse()
    }

    /// Counts output data in place; decodes whole control frames.
    fn parse(&mut self) -> anyhow::Result<()> {
        let mut pos = 0;
        loop {
            if self.rest > 0 {
                let take = self.rest.min(self.len - pos);
                self.rest -= take;
                self.received += take as u64;
                self.next += take as u64;
                pos += take;
                if self.rest > 0 {
                    break;
                }
            }
            let avail = &self.buf[pos..self.len];
            if avail.len() < HEADER_LEN + 1 {
                break;
            }
            let len = u32::from_le_bytes([avail[0], avail[1], avail[2], avail[3]]) as usize;
            if len > MAX_FRAME_LEN || len == 0 {
                bail!("the holder sent a frame of {len} bytes");
            }
            if avail[HEADER_LEN] == TAG_OUTPUT {
                if avail.len() < HEADER_LEN + OUTPUT_HEADER || len < OUTPUT_HEADER {
                    break;
                }
                let mut offset = [0u8; 8];
                offset.copy_from_slice(&avail[HEADER_LEN + 1..HEADER_LEN + OUTPUT_HEADER]);
                let offset = u64::from_le_bytes(offset);
                if offset != self.next {
                    bail!("output jumped from offset {} to {offset}", self.next);
                }
                self.rest = len - OUTPUT_HEADER;
                pos += HEADER_LEN + OUTPUT_HEADER;
                continue;
            }
            if avail.len() < HEADER_LEN + len {
                if HEADER_LEN + len > self.buf.len() {
                    self.buf.resize(HEADER_LEN + len, 0);
                }
                break;
            }
            let frame = Frame::decode_payload(&avail[HEADER_LEN..HEADER_LEN + len])?;
            pos += HEADER_LEN + len;
            self.on_frame(frame)?;
        }
        self.buf.copy_within(pos..self.len, 0);
        self.len -= pos;
        Ok(())
    }

    fn on_frame(&mut self, frame: Frame) -> anyhow::Result<()> {
        match frame {
            Frame::Control(Message::Response {
                payload: Response::Hello { stream, .. },
                ..
            }) => {
                self.next = stream.offset;
                self.welcome = Some(stream);
            }
            Frame::Control(Message::Notification {
                payload: Notification::Lagged { from, to },
            }) => bail!(
                "the holder skipped this client from offset {from} to {to} (lagged) after {} bytes",
                self.received
            ),
            Frame::Control(Message::Notification {
                payload: Notification::Exited { .. },
            }) => self.exited = Some(Instant::now()),
            Frame::Control(Message::Response {
                payload: Response::Info { session },
                ..
            }) => self.info = Some(*session),
            Frame::Control(Message::Notification {
                payload: Notification::Closing { reason },
            }) => bail!("the holder is closing: {reason}"),
            Frame::Control(Message::Error { payload, .. }) => {
                bail!("the holder sent an error: {payload}")
            }
            Frame::Snapshot { offset, .. } => bail!("unexpected snapshot at offset {offset}"),
            // Resized, exited, responses to nothing we asked: not about the byte stream.
            _ => {}
        }
        Ok(())
    }
}
