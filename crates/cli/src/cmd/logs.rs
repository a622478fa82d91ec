//! `paddock logs`: a session's recent output, as text or raw bytes, optionally followed.

use crate::{remote_client, target};
use anyhow::bail;
use paddock_client::{AttachOptions, HostClient, TerminalEvent};
use paddock_host::client::Event;
use paddock_host::text::{self, Plain};
use paddock_proto::{Hello, Mode, Notification, Start};
use std::io::Write;

/// Print a session's recent output (what is still in its ring), as plain text with escape
/// sequences rendered away, or raw.
#[derive(clap::Args)]
pub struct Args {
    /// Session id, name or unique id prefix.
    pub session: String,
    /// Keep printing new output until the session exits.
    #[arg(long, short)]
    pub follow: bool,
    /// The bytes exactly as the program wrote them, escape sequences included.
    #[arg(long)]
    pub raw: bool,
    /// Only the last N lines of what is already there.
    #[arg(long, short = 'n', value_name = "N")]
    pub lines: Option<usize>,
    #[command(flatten)]
    pub remote: crate::remote_client::HostArg,
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
        hello.client_name = Some("logs".into());
        let mut client = target.connect(hello).await?;
        let session = client.welcome.session.clone();
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
                Some(Event::Notification(n)) => {
                    if let Notification::Lagged { from, to } = n {
                        warn_lost(from, to);
                        cursor = to;
                    }
                }
                Some(_) => {}
                None => break,
            }
        }
        self.print_history(&history, session.size)?;
        if !self.follow {
            return Ok(());
        }
        let mut plain = Plain::new();
        self.emit(&pending, &mut plain)?;
        if session.state == paddock_proto::SessionState::Exited {
            return Ok(());
        }
        loop {
            match client.next_event().await? {
                Some(Event::Output { offset, data }) => {
                    if offset != cursor {
                        bail!("the holder skipped from offset {cursor} to {offset}; please report this");
                    }
                    cursor += data.len() as u64;
                    self.emit(&data, &mut plain)?;
                }
                Some(Event::Notification(Notification::Lagged { from, to })) => {
                    warn_lost(from, to);
                    cursor = to;
                }
                Some(Event::Notification(Notification::Exited { .. }))
                | Some(Event::Notification(Notification::Closing { .. }))
                | None => break,
                Some(_) => {}
            }
        }
        if !self.raw {
            if let Some(rest) = plain.finish() {
                println!("{rest}");
            }
        }
        Ok(())
    }
}

impl Args {
    /// What is already there: raw (its last `--lines`) or rendered as text at `size`.
    fn print_history(&self, history: &[u8], size: paddock_proto::Size) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        if self.raw {
            out.write_all(last_lines_raw(history, self.lines))?;
        } else {
            let lines = self.lines.unwrap_or(usize::MAX / 2);
            for line in text::render(history, size, lines.min(1_000_000)) {
                writeln!(out, "{line}")?;
            }
        }
        out.flush()
    }

    /// New output while following: raw, or as the whole lines it completes.
    fn emit(&self, data: &[u8], plain: &mut Plain) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        if self.raw {
            out.write_all(data)?;
        } else {
            let mut lines = Vec::new();
            plain.feed(data, &mut lines);
            for l in &lines {
                writeln!(out, "{l}")?;
            }
        }
        out.flush()
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
        self.print_history(&history, size)?;
        if !self.follow || exited {
            return Ok(());
        }
        let mut plain = Plain::new();
        self.emit(&pending, &mut plain)?;
        loop {
            match stream.next().await {
                Some(Ok(TerminalEvent::Output { data, .. })) => self.emit(&data, &mut plain)?,
                Some(Ok(TerminalEvent::Snapshot { gap: true, .. })) => {
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
            if let Some(rest) = plain.finish() {
                println!("{rest}");
            }
        }
        Ok(())
    }
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
