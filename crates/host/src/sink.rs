//! A follower's own descriptor (issue 17): `paddock logs --follow --raw` into a pipe passes
//! its standard output with its hello (`SCM_RIGHTS`, `hello.sink`), and the holder writes
//! the raw output from the ring into that pipe itself. The bytes then go from the PTY read
//! to the pipe's reader with one copy out of the ring: no output frames, no socket between
//! the holder and `logs`, no second process waking for every batch. The connection stays
//! for control (end of stream, `demoted`, `lagged`, answers); `conn.rs` writes them after
//! the output written before them, as for any client.
//!
//! Both ends live here: [`send_hello`] (the client side) and [`recv_hello`] (the holder's
//! reading of every hello, which keeps a descriptor that came with it). A holder takes
//! only a pipe (or FIFO), reopened through `/proc/self/fd` as a non-blocking open file of
//! its own ([`Sink::open`]), so it waits for a full pipe in its runtime without touching
//! the flags of the file the client and its shell share. Elsewhere (other systems, a file,
//! a socket, a terminal) the holder declines and the client reads output frames as before.

use paddock_proto::{Frame, FrameDecoder, FrameError};
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use std::io::{IoSlice, IoSliceMut, Write};
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::net::UnixStream;

/// Sends the encoded hello `frame` on `stream` with `fd` attached. The descriptor travels
/// with the first byte; a holder that reads it with plain reads drops it (the kernel closes
/// its copy), which is how an older holder declines.
pub async fn send_hello(
    stream: &UnixStream,
    frame: &[u8],
    fd: BorrowedFd<'_>,
) -> std::io::Result<()> {
    let mut sent = 0;
    while sent == 0 {
        stream.writable().await?;
        let fds = [fd];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
            return Err(std::io::Error::other(
                "cannot attach a descriptor to the hello",
            ));
        }
        match stream.try_io(Interest::WRITABLE, || {
            rustix::net::sendmsg(
                stream,
                &[IoSlice::new(frame)],
                &mut control,
                SendFlags::empty(),
            )
            .map_err(std::io::Error::from)
        }) {
            Ok(n) => sent = n.max(1),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    // The rest (a hello is far smaller than a socket buffer, so in practice nothing).
    let mut rest = &frame[sent.min(frame.len())..];
    while !rest.is_empty() {
        stream.writable().await?;
        match stream.try_write(rest) {
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads the first frame (a client's hello) from `stream` with `recvmsg`, keeping the
/// descriptors that came with it. Returns the decoder too, holding whatever came after the
/// frame, for the connection's frame reader to go on from. `Ok((None, ..))` when the
/// client closed before sending anything.
pub(crate) async fn recv_hello(
    stream: &UnixStream,
    max: usize,
) -> Result<(Option<Frame>, Vec<OwnedFd>, FrameDecoder), FrameError> {
    let mut fds = Vec::new();
    let mut decoder = FrameDecoder::new(max);
    let mut buf = vec![0u8; 4096];
    loop {
        if let Some(frame) = decoder.next_frame()? {
            return Ok((Some(frame), fds, decoder));
        }
        let n = recv(stream, &mut buf, &mut fds).await?;
        if n == 0 {
            if decoder.buffered() > 0 {
                return Err(FrameError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed in the middle of a frame",
                )));
            }
            return Ok((None, fds, decoder));
        }
        decoder.extend(&buf[..n]);
    }
}

/// Passed descriptors are close-on-exec from the start where the OS can say so (Linux); on
/// the others the holder never keeps one (`Sink::open` refuses it) and drops it at once.
#[cfg(target_os = "linux")]
const RECV_FLAGS: RecvFlags = RecvFlags::CMSG_CLOEXEC;
#[cfg(not(target_os = "linux"))]
const RECV_FLAGS: RecvFlags = RecvFlags::empty();

/// One `recvmsg` into `buf`, keeping passed descriptors; 0 at the end of the stream.
async fn recv(
    stream: &UnixStream,
    buf: &mut [u8],
    fds: &mut Vec<OwnedFd>,
) -> std::io::Result<usize> {
    loop {
        stream.readable().await?;
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(4))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let read = stream.try_io(Interest::READABLE, || {
            let mut iov = [IoSliceMut::new(buf)];
            rustix::net::recvmsg(stream, &mut iov, &mut control, RECV_FLAGS)
                .map_err(std::io::Error::from)
        });
        let n = match read {
            Ok(msg) => msg.bytes,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for message in control.drain() {
            if let RecvAncillaryMessage::ScmRights(passed) = message {
                fds.extend(passed);
            }
        }
        return Ok(n);
    }
}

/// A pipe the holder writes a follower's raw output into.
pub(crate) struct Sink {
    pipe: AsyncFd<std::fs::File>,
}

impl Sink {
    /// Takes `passed` if it is a pipe this holder can open for itself without blocking;
    /// otherwise says why not (the client then reads output frames).
    #[cfg(target_os = "linux")]
    pub fn open(passed: OwnedFd) -> Result<Self, String> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        let file = std::fs::File::from(passed);
        let kind = file
            .metadata()
            .map_err(|e| format!("cannot inspect the passed descriptor: {e}"))?
            .file_type();
        if !kind.is_fifo() {
            return Err("the passed descriptor is not a pipe".into());
        }
        // Its own open file: O_NONBLOCK here leaves the client's (and its shell's) alone.
        let own = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
            .open(format!("/proc/self/fd/{}", file.as_raw_fd()))
            .map_err(|e| format!("cannot open the passed pipe for writing: {e}"))?;
        drop(file);
        let pipe =
            crate::os::async_fd(own).map_err(|e| format!("cannot wait on the passed pipe: {e}"))?;
        Ok(Self { pipe })
    }

    #[cfg(not(target_os = "linux"))]
    pub fn open(_passed: OwnedFd) -> Result<Self, String> {
        Err("a holder writes into a follower's pipe on Linux only".into())
    }

    /// Runs `write` (one non-blocking write into the pipe, say of what the ring holds for
    /// this follower) once the pipe may take more; again, after waiting, if the pipe was
    /// full after all.
    pub async fn write_with<R>(
        &self,
        mut write: impl FnMut(&std::fs::File) -> std::io::Result<R>,
    ) -> std::io::Result<R> {
        loop {
            let mut guard = self.pipe.writable().await?;
            match guard.try_io(|pipe| write(pipe.get_ref())) {
                Ok(result) => return result,
                // Full: readiness is cleared, the next wait waits for the reader.
                Err(_would_block) => continue,
            }
        }
    }
}

/// Writes what the pipe takes of `a` then `b` (the ring's two slices) without waiting.
pub(crate) fn write_parts(pipe: &std::fs::File, a: &[u8], b: &[u8]) -> std::io::Result<usize> {
    let mut pipe = pipe;
    if b.is_empty() {
        return pipe.write(a);
    }
    pipe.write_vectored(&[IoSlice::new(a), IoSlice::new(b)])
}
