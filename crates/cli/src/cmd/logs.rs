//! `paddock logs`: a session's recent output, as text or raw bytes, optionally followed.
//!
//! The follower asks the holder for backpressure: the agent waits for it rather than lose
//! output to it, unless it reads nothing for `--stall-limit` (a paused pager), after which
//! it is demoted, says so, and continues like any reader (a gap is reported with its size).
//! Into a pipe or a file its output goes in large writes, flushed when no more is waiting.
//! Following raw bytes into a pipe, it passes the pipe to the holder, which writes the
//! output into it itself (one hop fewer; `paddock_host::sink`), and only waits for the end.

use crate::{remote_client, target};
use anyhow::{bail, Context};
use paddock_client::{AttachOptions, HostClient, TerminalEvent};
use paddock_host::client::{Client, Event};
use paddock_host::text::{self, Plain};
use paddock_proto::{Backpressure, Hello, Mode, Notification, Start};
use std::io::{BufWriter, IsTerminal, Write};
use std::os::fd::AsFd;

/// Output gathered before a write when standard output is not a terminal.
const OUT_BUFFER: usize = 1 << 20;

/// Print a session's recent output (what is still in its ring), as plain text with escape
/// sequences rendered away, or raw.
#[derive(clap::Args)]
pub struct Args {
    /// Session id, name or unique id prefix.
    pub session: String,
    /// Keep printing new output until the session exits. The agent waits for this reader
    /// rather than lose output to it (see --stall-limit).
    #[arg(long, short)]
    pub follow: bool,
    /// The bytes exactly as the program wrote them, escape sequences included.
    #[arg(long)]
    pub raw: bool,
    /// Only the last N lines of what is already there.
    #[arg(long, short = 'n', value_name = "N")]
    pub lines: Option<usize>,
    /// How long this reader may take nothing (say, a paused pager) while the agent waits
    /// for it; after that the agent runs on and output this reader misses is reported as
    /// skipped. At most 60.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = stall_limit)]
    pub stall_limit: f64,
    #[command(flatten)]
    pub remote: crate::remote_client::HostArg,
}

fn stall_limit(s: &str) -> Result<f64, String> {
    let max = Backpressure::MAX_STALL_MS as f64 / 1000.0;
    match s.parse::<f64>() {
        Ok(v) if (0.1..=max).contains(&v) => Ok(v),
        _ => Err(format!("give a number of seconds from 0.1 to {max}")),
    }
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        if let Some(client) = self.remote.client()? {
            return self.run_remote(client).await;
        }
        let target = target::find(&self.session).await?;
        let mut hello = Hello::new(Mode::ReadOnly);
        hello.start = Start::RingStart;
        hello.lossless = true;
        hello.backpressure = Some(Backpressure {
            stall_ms: (self.stall_limit * 1000.0) as u64,
        });
        hello.client_name = Some("logs".into());
        let pipe = self.own_pipe()?;
        let mut client = match &pipe {
            Some(pipe) => {
                let path = target.dir.socket_path(&target.info.id);
                Client::connect_with_sink(&path, hello, pipe.as_fd())
                    .await
                    .with_context(|| format!("cannot reach session {}", target.info.id))?
            }
            None => target.connect(hello).await?,
        };
        drop(pipe);
        if client.welcome.sink {
            return self.follow_sink(&mut client).await;
        }
        let session = client.welcome.session.clone();
        if self.follow && client.welcome.version < 2 {
            eprintln!(
                "paddock: this session's holder is older than this paddock and cannot wait for a reader; if this one falls a whole ring behind, output is skipped (with a notice). Restart the session to get a current holder"
            );
        }
        let mut cursor = client.welcome.stream.offset;
        let history_end = session.output_end;

        // What is already there.
        let mut history = Vec::with_capacity((history_end - cursor) as usize);
        let mut pending = Vec::new();
        while cursor < history_end {
            match client.next_event().await? {
                Some(Event::Output { offset, data }) => {
                    if offset != cursor {
                        bail!("the holder skipped from offset {cursor} to {offset}; please report this");
                    }
                    cursor += data.len() as u64;
                    let keep = (data.len() as u64 - cursor.saturating_sub(history_end)) as usize;
                    history.extend_from_slice(&data[..keep]);
                    pending.extend_from_slice(&data[keep..]);
                }
                Some(Event::Notification(n)) => self.notice(&n, &mut cursor),
                Some(_) => {}
                None => break,
            }
        }
        let mut out = Sink::stdout()?;
        let plain = Plain::new();
        self.print_history(&mut out, &history, session.size)?;
        if !self.follow {
            return Ok(out.flush()?);
        }
        let mut follower = Follower {
            raw: self.raw,
            plain,
            lines: Vec::new(),
            out,
        };
        follower.emit(&pending)?;
        if session.state != paddock_proto::SessionState::Exited {
            self.follow(&mut client, &mut cursor, &mut follower).await?;
        }
        if !self.raw {
            if let Some(rest) = follower.plain.finish() {
                writeln!(follower.out, "{rest}")?;
            }
        }
        Ok(follower.out.flush()?)
    }

    /// Standard output, for the holder to write into itself, when that is how this reader
    /// is served fastest: following raw bytes, all of them, into a pipe (`| wc -c`,
    /// `| gzip`); widened like [`Sink::stdout`] does. `None` otherwise (a terminal, a file,
    /// rendered text, `--lines`).
    fn own_pipe(&self) -> std::io::Result<Option<std::fs::File>> {
        if !(self.follow && self.raw && self.lines.is_none()) {
            return Ok(None);
        }
        let stdout = std::io::stdout();
        if stdout.is_terminal() {
            return Ok(None);
        }
        let file = std::fs::File::from(stdout.as_fd().try_clone_to_owned()?);
        Ok(widen_pipe(&file).then_some(file))
    }

    /// The holder writes the output into this process's standard output itself (from the
    /// start of its ring, as the history would be printed): this connection only says when
    /// it ends (the agent exited, after every byte before that was written) and tells of a
    /// demotion or skipped output.
    async fn follow_sink(&self, client: &mut Client) -> anyhow::Result<()> {
        let mut cursor = client.welcome.stream.offset;
        loop {
            match client.next_event().await? {
                Some(Event::Notification(
                    Notification::Exited { .. } | Notification::Closing { .. },
                ))
                | None => return Ok(()),
                Some(Event::Notification(n)) => self.notice(&n, &mut cursor),
                Some(Event::Error { error, .. }) => bail!("{}", error.message),
                Some(_) => {}
            }
        }
    }

    /// New output until the agent exits or the holder closes.
    async fn follow(
        &self,
        client: &mut Client,
        cursor: &mut u64,
        follower: &mut Follower,
    ) -> anyhow::Result<()> {
        loop {
            // Written out whenever nothing more is waiting on the socket.
            let event = tokio::select! {
                biased;
                event = client.next_event() => event?,
                () = std::future::ready(()), if follower.out.pending() => {
                    follower.out.flush()?;
                    continue;
                }
            };
            match event {
                Some(Event::Output { offset, data }) => {
                    if offset != *cursor {
                        bail!("the holder skipped from offset {cursor} to {offset}; please report this");
                    }
                    *cursor += data.len() as u64;
                    follower.emit(&data)?;
                }
                Some(Event::Notification(
                    Notification::Exited { .. } | Notification::Closing { .. },
                ))
                | None => return Ok(()),
                Some(Event::Notification(n)) => {
                    follower.out.flush()?;
                    self.notice(&n, cursor);
                }
                Some(_) => {}
            }
        }
    }

    /// What is already there: raw (its last `--lines`) or rendered as text at `size`.
    fn print_history(
        &self,
        out: &mut Sink,
        history: &[u8],
        size: paddock_proto::Size,
    ) -> std::io::Result<()> {
        if self.raw {
            return out.write_all(last_lines_raw(history, self.lines));
        }
        let lines = self.lines.unwrap_or(usize::MAX / 2);
        for line in text::render(history, size, lines.min(1_000_000)) {
            writeln!(out, "{line}")?;
        }
        Ok(())
    }

    /// `logs --host NAME`: the same over the host's WebSocket: the current end of output
    /// from a first attach, then everything the host still has from offset 0 up to it
    /// (lossless), then, with --follow, what comes next.
    async fn run_remote(&self, client: HostClient) -> anyhow::Result<()> {
        let view = remote_client::resolve(&client, &self.session).await?;
        let id = view.id.to_string();
        let end = {
            let mut probe = client.attach(&id, AttachOptions::default()).await?;
            match probe.next().await {
                Some(Ok(TerminalEvent::Attached { offset, .. })) => offset,
                Some(Err(e)) => return Err(e.into()),
                _ => bail!("the host did not start the stream of {id}; try again"),
            }
        };
        let opts = AttachOptions {
            offset: Some(0),
            lossless: true,
            ..Default::default()
        };
        let mut stream = client.attach(&id, opts).await?;
        let (mut history, mut pending) = (Vec::new(), Vec::new());
        let mut size = paddock_proto::Size { cols: 80, rows: 24 };
        let mut cursor = 0u64;
        let mut exited = false;
        while cursor < end && !exited {
            match stream.next().await {
                Some(Ok(TerminalEvent::Attached { size: s, .. })) => size = s,
                Some(Ok(TerminalEvent::Output { offset, data })) => {
                    let keep = end.saturating_sub(offset).min(data.len() as u64) as usize;
                    history.extend_from_slice(&data[..keep]);
                    pending.extend_from_slice(&data[keep..]);
                    cursor = offset + data.len() as u64;
                }
                Some(Ok(TerminalEvent::Snapshot {
                    offset,
                    data,
                    size: s,
                    ..
                })) => {
                    // The host no longer has the beginning: its screen instead.
                    eprintln!("paddock: the beginning of this output is no longer kept by the host; showing its screen from there");
                    history = data;
                    size = s;
                    cursor = offset;
                }
                Some(Ok(TerminalEvent::Exited { .. } | TerminalEvent::Detached { .. })) => {
                    exited = true
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => break,
            }
        }
        let mut out = Sink::stdout()?;
        self.print_history(&mut out, &history, size)?;
        if !self.follow || exited {
            return Ok(out.flush()?);
        }
        let mut follower = Follower {
            raw: self.raw,
            plain: Plain::new(),
            lines: Vec::new(),
            out,
        };
        follower.emit(&pending)?;
        follower.out.flush()?;
        loop {
            match stream.next().await {
                Some(Ok(TerminalEvent::Output { data, .. })) => {
                    // Over the network frames come at the host's pace: write each one out.
                    follower.emit(&data)?;
                    follower.out.flush()?;
                }
                Some(Ok(TerminalEvent::Snapshot { gap: true, .. })) => {
                    follower.out.flush()?;
                    eprintln!("paddock: some output was lost: this reader fell further behind than the session's ring holds");
                }
                Some(Ok(TerminalEvent::Exited { .. } | TerminalEvent::Detached { .. })) | None => {
                    break
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
            }
        }
        if !self.raw {
            if let Some(rest) = follower.plain.finish() {
                writeln!(follower.out, "{rest}")?;
            }
        }
        Ok(follower.out.flush()?)
    }

    /// Tells the user what a notification means for this reader.
    fn notice(&self, n: &Notification, cursor: &mut u64) {
        match n {
            Notification::Lagged { from, to } => {
                warn_lost(*from, *to);
                *cursor = *to;
            }
            Notification::Demoted { reason } if self.follow => eprintln!("paddock: {reason}"),
            _ => {}
        }
    }
}

/// What the follower prints, raw or as plain lines.
struct Follower {
    raw: bool,
    plain: Plain,
    lines: Vec<String>,
    out: Sink,
}

impl Follower {
    fn emit(&mut self, data: &[u8]) -> std::io::Result<()> {
        if self.raw {
            return self.out.write_all(data);
        }
        self.lines.clear();
        self.plain.feed(data, &mut self.lines);
        for l in &self.lines {
            writeln!(self.out, "{l}")?;
        }
        Ok(())
    }
}

/// Standard output: on a terminal every write is flushed at once; into a pipe or a file,
/// writes gather in a large buffer, written when full or when the caller flushes.
struct Sink {
    out: BufWriter<std::fs::File>,
    eager: bool,
}

impl Sink {
    fn stdout() -> std::io::Result<Self> {
        let stdout = std::io::stdout();
        let eager = stdout.is_terminal();
        // Its own descriptor, so writes bypass the line buffer of `Stdout`.
        let file = std::fs::File::from(stdout.as_fd().try_clone_to_owned()?);
        if !eager {
            let _is_pipe = widen_pipe(&file);
        }
        Ok(Self {
            out: BufWriter::with_capacity(OUT_BUFFER, file),
            eager,
        })
    }

    /// Whether some output waits in the buffer.
    fn pending(&self) -> bool {
        !self.out.buffer().is_empty()
    }
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(data)?;
        if self.eager {
            self.out.flush()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Into a pipe, asks for a pipe as large as one write (1 MiB, the default limit for
/// anyone), so a write of the buffer is one copy and one wakeup of the reader rather than
/// sixteen of the default 64 KiB. Nothing changes if the pipe cannot grow. Whether `file`
/// is a pipe. Linux only: other systems size their pipes themselves (and their holders
/// write into no follower's pipe: `false`).
#[cfg(target_os = "linux")]
fn widen_pipe(file: &std::fs::File) -> bool {
    use nix::fcntl::{fcntl, FcntlArg};
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    let is_pipe = nix::sys::stat::fstat(fd)
        .is_ok_and(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFIFO);
    if is_pipe {
        let _ = fcntl(fd, FcntlArg::F_SETPIPE_SZ(OUT_BUFFER as nix::libc::c_int));
    }
    is_pipe
}

#[cfg(not(target_os = "linux"))]
fn widen_pipe(_file: &std::fs::File) -> bool {
    false
}

fn warn_lost(from: u64, to: u64) {
    eprintln!(
        "paddock: {} bytes of output were lost: this reader fell further behind than the session's ring holds",
        to.saturating_sub(from)
    );
}

/// The tail of `bytes` holding the last `n` lines (all of it without `n`).
fn last_lines_raw(bytes: &[u8], n: Option<usize>) -> &[u8] {
    let Some(n) = n else { return bytes };
    let trimmed = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut count = 0;
    for (i, &b) in trimmed.iter().enumerate().rev() {
        if b == b'\n' {
            count += 1;
            if count == n {
                return &bytes[i + 1..];
            }
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_tail_keeps_whole_lines() {
        let b = b"a\r\nb\r\nc\r\n";
        assert_eq!(last_lines_raw(b, Some(2)), b"b\r\nc\r\n");
        assert_eq!(last_lines_raw(b, Some(9)), b);
        assert_eq!(last_lines_raw(b, None), b);
    }
}
