//! `paddock logs`: a session's recent output, as text or raw bytes, optionally followed.

use crate::target;
use anyhow::bail;
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
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
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
        let mut out = std::io::stdout().lock();
        let mut plain = Plain::new();
        if self.raw {
            out.write_all(last_lines_raw(&history, self.lines))?;
        } else {
            let lines = self.lines.unwrap_or(usize::MAX / 2);
            for line in text::render(&history, session.size, lines.min(1_000_000)) {
                writeln!(out, "{line}")?;
            }
        }
        out.flush()?;
        if !self.follow {
            return Ok(());
        }
        drop(out);

        let mut lines = Vec::new();
        let mut emit = |data: &[u8], plain: &mut Plain| -> std::io::Result<()> {
            let mut out = std::io::stdout().lock();
            if self.raw {
                out.write_all(data)?;
            } else {
                lines.clear();
                plain.feed(data, &mut lines);
                for l in &lines {
                    writeln!(out, "{l}")?;
                }
            }
            out.flush()
        };
        emit(&pending, &mut plain)?;
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
                    emit(&data, &mut plain)?;
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
