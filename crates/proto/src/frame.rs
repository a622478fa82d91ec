//! The framing of every local socket: a u32 little-endian length, then the payload.
//!
//! The payload's first byte is a tag:
//!
//! | tag | frame      | body                                                    | direction        |
//! |-----|------------|---------------------------------------------------------|------------------|
//! | 0   | `Control`  | one JSON [`Message`]                                    | both             |
//! | 1   | `Output`   | u64 LE absolute offset of the first byte, then the bytes | holder → client |
//! | 2   | `Input`    | bytes to type into the terminal                         | client → holder  |
//! | 3   | `Snapshot` | u64 LE offset, u16 LE cols, u16 LE rows, then ANSI bytes that redraw the screen as it was at that offset | holder → client |
//!
//! The length is checked against [`MAX_FRAME_LEN`] before anything is allocated, so a peer
//! cannot make us reserve memory it never sends.

use crate::message::Message;

/// The largest payload accepted or produced, tag included (4 MiB: a full-screen snapshot of the
/// largest terminal the holder allows fits with room to spare).
pub const MAX_FRAME_LEN: usize = 4 * 1024 * 1024;
/// Bytes of the length prefix.
pub const HEADER_LEN: usize = 4;

const TAG_CONTROL: u8 = 0;
const TAG_OUTPUT: u8 = 1;
const TAG_INPUT: u8 = 2;
const TAG_SNAPSHOT: u8 = 3;

/// One decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A JSON control message.
    Control(Message),
    /// Terminal output; `offset` is the absolute position of `data[0]` since the session began.
    Output { offset: u64, data: Vec<u8> },
    /// Bytes typed by a client.
    Input(Vec<u8>),
    /// A redraw of the whole screen as it was once the first `offset` bytes had been written.
    Snapshot {
        offset: u64,
        cols: u16,
        rows: u16,
        data: Vec<u8>,
    },
}

/// What is wrong with a frame a peer sent. The connection that sent it cannot be trusted to be
/// in step any more, so the receiver answers with an error message and closes it.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {len} bytes is larger than the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("empty frame: every frame starts with a tag byte")]
    Empty,
    #[error("unknown frame tag {0}: the peer speaks a different protocol")]
    UnknownTag(u8),
    #[error("{kind} frame is too short ({len} bytes) for its header")]
    Truncated { kind: &'static str, len: usize },
    #[error("control frame is not a valid message: {0}")]
    BadMessage(#[from] serde_json::Error),
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
}

impl Frame {
    /// Appends this frame, length prefix included, to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Frame::Control(msg) => encode_control(msg, out),
            Frame::Output { offset, data } => encode_output(*offset, data, out),
            Frame::Input(data) => encode_input(data, out),
            Frame::Snapshot {
                offset,
                cols,
                rows,
                data,
            } => encode_snapshot(*offset, *cols, *rows, data, out),
        }
    }

    /// This frame as bytes, length prefix included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Decodes one payload (the bytes after the length prefix).
    pub fn decode_payload(payload: &[u8]) -> Result<Frame, FrameError> {
        let (&tag, body) = payload.split_first().ok_or(FrameError::Empty)?;
        match tag {
            TAG_CONTROL => Ok(Frame::Control(serde_json::from_slice(body)?)),
            TAG_OUTPUT => {
                let (offset, data) = split_u64(body, "output")?;
                Ok(Frame::Output {
                    offset,
                    data: data.to_vec(),
                })
            }
            TAG_INPUT => Ok(Frame::Input(body.to_vec())),
            TAG_SNAPSHOT => {
                let (offset, rest) = split_u64(body, "snapshot")?;
                if rest.len() < 4 {
                    return Err(FrameError::Truncated {
                        kind: "snapshot",
                        len: payload.len(),
                    });
                }
                let cols = u16::from_le_bytes([rest[0], rest[1]]);
                let rows = u16::from_le_bytes([rest[2], rest[3]]);
                Ok(Frame::Snapshot {
                    offset,
                    cols,
                    rows,
                    data: rest[4..].to_vec(),
                })
            }
            other => Err(FrameError::UnknownTag(other)),
        }
    }
}

fn split_u64<'a>(body: &'a [u8], kind: &'static str) -> Result<(u64, &'a [u8]), FrameError> {
    if body.len() < 8 {
        return Err(FrameError::Truncated {
            kind,
            len: body.len() + 1,
        });
    }
    let (head, rest) = body.split_at(8);
    let mut b = [0u8; 8];
    b.copy_from_slice(head);
    Ok((u64::from_le_bytes(b), rest))
}

fn header(out: &mut Vec<u8>, payload_len: usize) {
    debug_assert!(payload_len <= MAX_FRAME_LEN, "frame too large to send");
    out.extend_from_slice(&(payload_len as u32).to_le_bytes());
}

/// Appends a control frame carrying `msg`.
pub fn encode_control(msg: &Message, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0, TAG_CONTROL]);
    // Serialising our own types to a Vec cannot fail: no maps with non-string keys, no I/O.
    if serde_json::to_writer(&mut *out, msg).is_err() {
        out.truncate(start + HEADER_LEN + 1);
        out.extend_from_slice(br#"{"type":"error","payload":{"code":"internal","message":"message could not be encoded"}}"#);
    }
    let len = (out.len() - start - HEADER_LEN) as u32;
    out[start..start + HEADER_LEN].copy_from_slice(&len.to_le_bytes());
}

/// Appends an output frame. `data` must be at most `MAX_FRAME_LEN - 9` bytes.
pub fn encode_output(offset: u64, data: &[u8], out: &mut Vec<u8>) {
    header(out, 1 + 8 + data.len());
    out.push(TAG_OUTPUT);
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(data);
}

/// Appends an output frame whose data is the concatenation of `a` and `b` (a ring that
/// wraps gives two slices), without copying them together first.
pub fn encode_output_parts(offset: u64, a: &[u8], b: &[u8], out: &mut Vec<u8>) {
    header(out, 1 + 8 + a.len() + b.len());
    out.push(TAG_OUTPUT);
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(a);
    out.extend_from_slice(b);
}

/// Appends an input frame.
pub fn encode_input(data: &[u8], out: &mut Vec<u8>) {
    header(out, 1 + data.len());
    out.push(TAG_INPUT);
    out.extend_from_slice(data);
}

/// Appends a snapshot frame.
pub fn encode_snapshot(offset: u64, cols: u16, rows: u16, data: &[u8], out: &mut Vec<u8>) {
    header(out, 1 + 8 + 4 + data.len());
    out.push(TAG_SNAPSHOT);
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&cols.to_le_bytes());
    out.extend_from_slice(&rows.to_le_bytes());
    out.extend_from_slice(data);
}

/// Incremental decoder: feed it bytes as they arrive, take frames out as they complete.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed; compacted lazily.
    pos: usize,
    max: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(MAX_FRAME_LEN)
    }
}

impl FrameDecoder {
    /// A decoder that refuses payloads larger than `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            buf: Vec::new(),
            pos: 0,
            max,
        }
    }

    /// Adds received bytes.
    pub fn extend(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet taken out as frames (non-zero between frames means the
    /// peer stopped in the middle of one).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed. After an error the
    /// decoder is out of step and must not be used again.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let avail = &self.buf[self.pos..];
        if avail.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = u32::from_le_bytes([avail[0], avail[1], avail[2], avail[3]]) as usize;
        if len > self.max {
            return Err(FrameError::TooLarge { len, max: self.max });
        }
        if avail.len() < HEADER_LEN + len {
            // Reserve only what an accepted length needs.
            self.buf.reserve(HEADER_LEN + len - avail.len());
            return Ok(None);
        }
        let frame = Frame::decode_payload(&avail[HEADER_LEN..HEADER_LEN + len]);
        self.pos += HEADER_LEN + len;
        if self.pos > 64 * 1024 && self.pos * 2 > self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        frame.map(Some)
    }
}

#[cfg(feature = "tokio")]
mod io {
    use super::*;
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

    /// Reads frames from an async byte stream.
    pub struct FrameReader<R> {
        inner: R,
        decoder: FrameDecoder,
        chunk: Vec<u8>,
    }

    impl<R: AsyncRead + Unpin> FrameReader<R> {
        pub fn new(inner: R) -> Self {
            Self::with_max(inner, MAX_FRAME_LEN)
        }

        pub fn with_max(inner: R, max: usize) -> Self {
            Self::with_decoder(inner, FrameDecoder::new(max))
        }

        /// Goes on from `decoder`, which may hold bytes already read from `inner` (a holder
        /// reads a client's hello apart, with the descriptors that came with it).
        pub fn with_decoder(inner: R, decoder: FrameDecoder) -> Self {
            Self {
                inner,
                decoder,
                chunk: vec![0; 64 * 1024],
            }
        }

        /// The next frame; `Ok(None)` when the peer closed the connection between frames.
        /// Cancel-safe: bytes already read stay in the decoder.
        pub async fn next(&mut self) -> Result<Option<Frame>, FrameError> {
            loop {
                if let Some(frame) = self.decoder.next_frame()? {
                    return Ok(Some(frame));
                }
                let n = self.inner.read(&mut self.chunk).await?;
                if n == 0 {
                    if self.decoder.buffered() > 0 {
                        return Err(FrameError::Io(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "connection closed in the middle of a frame",
                        )));
                    }
                    return Ok(None);
                }
                self.decoder.extend(&self.chunk[..n]);
            }
        }
    }

    /// Writes one frame and flushes it.
    pub async fn write_frame<W: AsyncWrite + Unpin>(
        w: &mut W,
        frame: &Frame,
    ) -> std::io::Result<()> {
        let bytes = frame.encode();
        w.write_all(&bytes).await?;
        w.flush().await
    }
}

#[cfg(feature = "tokio")]
pub use io::{write_frame, FrameReader};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::*;

    fn round_trip(frame: Frame) {
        let bytes = frame.encode();
        let mut dec = FrameDecoder::default();
        // Feed byte by byte: a frame split anywhere must still decode.
        for b in &bytes[..bytes.len() - 1] {
            dec.extend(std::slice::from_ref(b));
            assert!(dec.next_frame().expect("valid prefix").is_none());
        }
        dec.extend(&bytes[bytes.len() - 1..]);
        assert_eq!(dec.next_frame().expect("valid frame"), Some(frame));
        assert!(dec.next_frame().expect("empty").is_none());
    }

    #[test]
    fn binary_frames_round_trip() {
        round_trip(Frame::Output {
            offset: u64::MAX - 3,
            data: b"\x1b[31mred\x1b[0m\r\n".to_vec(),
        });
        round_trip(Frame::Output {
            offset: 0,
            data: vec![],
        });
        round_trip(Frame::Input(b"ls\r".to_vec()));
        round_trip(Frame::Input(vec![0, 255, 3]));
        round_trip(Frame::Snapshot {
            offset: 42,
            cols: 200,
            rows: 50,
            data: b"\x1b[H\x1b[2Jhello".to_vec(),
        });
    }

    #[test]
    fn control_frames_round_trip() {
        round_trip(Frame::Control(Message::Request {
            id: 7,
            payload: Request::Info,
        }));
        round_trip(Frame::Control(Message::Error {
            id: None,
            payload: ErrorPayload::new(ErrorCode::BadFrame, "bad"),
        }));
    }

    #[test]
    fn oversize_length_is_refused_before_allocating() {
        let mut dec = FrameDecoder::new(1024);
        dec.extend(&u32::MAX.to_le_bytes());
        let err = dec.next_frame().expect_err("must refuse");
        assert!(matches!(err, FrameError::TooLarge { len, max: 1024 } if len == u32::MAX as usize));
        assert!(
            dec.buf.capacity() < 1024,
            "nothing reserved for the claimed length"
        );
    }

    #[test]
    fn malformed_payloads_are_errors_not_panics() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "empty"),
            (vec![9, 1, 2], "unknown tag"),
            (vec![1, 0, 0], "short output"),
            (vec![3, 0, 0, 0, 0, 0, 0, 0, 0, 1], "short snapshot"),
            (b"\0{not json".to_vec(), "bad json"),
            (b"\0{\"type\":\"shout\"}".to_vec(), "unknown type"),
        ];
        for (payload, what) in cases {
            assert!(Frame::decode_payload(&payload).is_err(), "{what} accepted");
        }
    }

    #[test]
    fn several_frames_in_one_read_come_out_in_order() {
        let mut bytes = Vec::new();
        for i in 0..100u64 {
            encode_output(i, &[i as u8; 3], &mut bytes);
        }
        let mut dec = FrameDecoder::default();
        dec.extend(&bytes);
        for i in 0..100u64 {
            assert_eq!(
                dec.next_frame().expect("valid"),
                Some(Frame::Output {
                    offset: i,
                    data: vec![i as u8; 3]
                })
            );
        }
        assert_eq!(dec.next_frame().expect("valid"), None);
    }
}
