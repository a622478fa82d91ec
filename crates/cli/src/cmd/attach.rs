//! `paddock attach`: the session in this terminal, like tmux or dtach.
//!
//! The local terminal goes to raw mode and its alternate screen; the session's current screen
//! is drawn at once, then live output follows. Keys go to the session, the window size
//! follows this terminal (SIGWINCH), and the detach key (Ctrl-\ by default) gives the
//! terminal back exactly as it was: settings restored, modes the agent turned on turned off,
//! and the screen that was there before attaching.

use crate::errors::CliError;
use crate::term::{self, RawMode};
use crate::{remote_client, target};
use anyhow::{bail, Context};
use paddock_client::{AttachOptions, HostClient, TerminalEvent, TerminalStream};
use paddock_host::client::{Client, Event};
use paddock_host::text;
use paddock_proto::agent::AgentState;
use paddock_proto::{ErrorCode, Hello, Mode, Notification, Request, Start};
use std::io::{Read, Write};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

pub const DEFAULT_DETACH_KEY: &str = "ctrl-\\";

/// Modes an agent may have turned on, turned off again on detach, then the alternate screen
/// left so the screen from before attaching comes back.
const RESTORE: &[u8] = b"\x1b[0m\x1b[?25h\x1b[?1l\x1b>\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[?1004l\x1b[?1049l";

/// Attach this terminal to a session: see its screen, type into it, detach with Ctrl-\.
#[derive(clap::Args)]
pub struct Args {
    /// Session id, name or unique id prefix.
    pub session: String,
    /// Watch only: keys other than the detach key are ignored and the size is left alone.
    #[arg(long, short)]
    pub read_only: bool,
    /// The key that detaches: ctrl-<key> or ^<key>, e.g. ctrl-\ (default), ctrl-a, ^q.
    #[arg(long, default_value = DEFAULT_DETACH_KEY)]
    pub detach_key: String,
    #[command(flatten)]
    pub remote: crate::remote_client::HostArg,
}

enum Outcome {
    Detached,
    Exited(String),
    Closed(String),
    Lost,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let detach = parse_detach_key(&self.detach_key)?;
        if let Some(client) = self.remote.client()? {
            return self.run_remote(client, detach).await;
        }
        let target = target::find(&self.session).await?;
        target.ensure_running()?;
        if !term::stdin_is_terminal() {
            bail!("attach needs a terminal on stdin; use `paddock send` to type into a session and `paddock logs --follow` to watch it from a script");
        }
        let mode = if self.read_only {
            Mode::ReadOnly
        } else {
            Mode::ReadWrite
        };
        let mut hello = Hello::new(mode);
        hello.size = term::size();
        hello.start = Start::Snapshot;
        hello.client_name = Some("attach".into());
        let client = target.connect(hello).await?;
        let id = target.info.id.to_string();
        let name = target.info.name.clone();

        let outcome = in_raw_terminal(session_loop(client, mode, detach)).await;
        match outcome? {
            Outcome::Detached => {
                eprintln!("[paddock] detached from {id} ({name}); `paddock attach {id}` to return");
                Ok(())
            }
            Outcome::Exited(how) => {
                print_final_screen(&target).await;
                eprintln!("[paddock] session {id} ({name}) {how}");
                Ok(())
            }
            Outcome::Closed(reason) => {
                eprintln!("[paddock] session {id} ({name}) closed: {reason}");
                Ok(())
            }
            Outcome::Lost => bail!(
                "lost the connection to session {id}'s holder; `paddock ls` shows whether it still runs"
            ),
        }
    }
}

/// Runs `attached` with this terminal in raw mode on its alternate screen, then gives the
/// terminal back as it was (settings, modes the agent turned on, the screen from before),
/// whatever `attached` returned.
async fn in_raw_terminal<F: std::future::Future<Output = anyhow::Result<Outcome>>>(
    attached: F,
) -> anyhow::Result<Outcome> {
    let raw = RawMode::enable().context("cannot put this terminal in raw mode")?;
    let outcome = {
        let mut out = std::io::stdout().lock();
        out.write_all(b"\x1b[?1049h\x1b[H\x1b[2J")?;
        out.flush()?;
        drop(out);
        attached.await
    };
    let mut out = std::io::stdout().lock();
    out.write_all(RESTORE)?;
    out.flush()?;
    drop(out);
    drop(raw);
    outcome
}

impl Args {
    /// `attach --host NAME`: the same terminal handling over the host's WebSocket, which
    /// resumes from the last offset when the connection drops.
    async fn run_remote(self, client: HostClient, detach: u8) -> anyhow::Result<()> {
        let view = remote_client::resolve(&client, &self.session).await?;
        let (id, name, host) = (
            view.id.to_string(),
            view.name.clone(),
            client.host().name.clone(),
        );
        if matches!(
            view.status.state,
            AgentState::Exited | AgentState::Completed
        ) {
            return Err(CliError::Exited {
                id,
                code: view
                    .status
                    .exit_code
                    .map(|c| format!(" with code {c}"))
                    .unwrap_or_default(),
            }
            .into());
        }
        if !term::stdin_is_terminal() {
            bail!("attach needs a terminal on stdin; use `paddock send --host {host}` to type into a session and `paddock logs --host {host} --follow` to watch it from a script");
        }
        let mode = if self.read_only {
            Mode::ReadOnly
        } else {
            Mode::ReadWrite
        };
        let opts = AttachOptions {
            size: if self.read_only { None } else { term::size() },
            ..Default::default()
        };
        let stream = client.attach(&id, opts).await?;
        match in_raw_terminal(remote_loop(stream, mode, detach)).await? {
            Outcome::Detached => {
                eprintln!("[paddock] detached from {id} ({name}) on {host}; `paddock attach --host {host} {id}` to return");
                Ok(())
            }
            Outcome::Exited(how) => {
                eprintln!("[paddock] session {id} ({name}) on {host} {how}");
                Ok(())
            }
            Outcome::Closed(reason) => {
                eprintln!("[paddock] session {id} ({name}) on {host} closed: {reason}");
                Ok(())
            }
            Outcome::Lost => bail!(
                "lost the connection to {host}; `paddock ls --host {host}` shows whether the session still runs"
            ),
        }
    }
}

async fn remote_loop(
    mut stream: TerminalStream,
    mode: Mode,
    detach: u8,
) -> anyhow::Result<Outcome> {
    let writer = stream.writer();
    let mut keys = spawn_stdin_reader();
    let mut winch =
        signal(SignalKind::window_change()).context("cannot watch window size changes")?;
    let mut filter = AltScreenFilter::default();
    let mut out = std::io::stdout();
    let mut shown = Vec::new();
    loop {
        tokio::select! {
            ev = stream.next() => match ev {
                Some(Ok(TerminalEvent::Snapshot { data, .. })) => {
                    filter = AltScreenFilter::default();
                    write_filtered(&mut out, &mut filter, &data, &mut shown)?;
                }
                Some(Ok(TerminalEvent::Output { data, .. })) => write_filtered(&mut out, &mut filter, &data, &mut shown)?,
                Some(Ok(TerminalEvent::Exited { code, signal })) => {
                    let how = match (signal, code) {
                        (Some(s), _) => format!("was killed by SIG{s}"),
                        (None, Some(c)) => format!("exited with code {c}"),
                        (None, None) => "exited".to_owned(),
                    };
                    return Ok(Outcome::Exited(how));
                }
                Some(Ok(TerminalEvent::Detached { reason })) => return Ok(Outcome::Closed(reason)),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(Outcome::Lost),
            },
            keys_read = keys.recv() => {
                let Some(bytes) = keys_read else { return Ok(Outcome::Detached) };
                let (send, detached) = match bytes.iter().position(|&b| b == detach) {
                    Some(i) => (&bytes[..i], true),
                    None => (&bytes[..], false),
                };
                if mode == Mode::ReadWrite && !send.is_empty() {
                    writer.input(send).await?;
                }
                if detached {
                    return Ok(Outcome::Detached);
                }
            }
            _ = winch.recv() => {
                if let (Mode::ReadWrite, Some(size)) = (mode, term::size()) {
                    writer.resize(size).await?;
                }
            }
        }
    }
}

async fn session_loop(client: Client, mode: Mode, detach: u8) -> anyhow::Result<Outcome> {
    let (mut rd, mut wr) = client.into_split();
    let mut keys = spawn_stdin_reader();
    let mut winch =
        signal(SignalKind::window_change()).context("cannot watch window size changes")?;
    let mut filter = AltScreenFilter::default();
    let mut out = std::io::stdout();
    let mut shown = Vec::new();
    loop {
        tokio::select! {
            ev = rd.next_event() => match ev? {
                Some(Event::Snapshot { data, .. }) => {
                    filter = AltScreenFilter::default();
                    write_filtered(&mut out, &mut filter, &data, &mut shown)?;
                }
                Some(Event::Output { data, .. }) => write_filtered(&mut out, &mut filter, &data, &mut shown)?,
                Some(Event::Notification(Notification::Exited { code, signal })) => {
                    let how = match (signal, code) {
                        (Some(s), _) => format!("was killed by SIG{s}"),
                        (None, Some(c)) => format!("exited with code {c}"),
                        (None, None) => "exited".to_owned(),
                    };
                    return Ok(Outcome::Exited(how));
                }
                Some(Event::Notification(Notification::Closing { reason })) => return Ok(Outcome::Closed(reason)),
                Some(Event::Error { id: None, error }) if error.code == ErrorCode::BadFrame => {
                    bail!("the holder closed this connection: {}", error.message)
                }
                Some(_) => {}
                None => return Ok(Outcome::Lost),
            },
            keys_read = keys.recv() => {
                let Some(bytes) = keys_read else { return Ok(Outcome::Detached) };
                let (send, detached) = match bytes.iter().position(|&b| b == detach) {
                    Some(i) => (&bytes[..i], true),
                    None => (&bytes[..], false),
                };
                if mode == Mode::ReadWrite && !send.is_empty() {
                    wr.send_input(send).await?;
                }
                if detached {
                    return Ok(Outcome::Detached);
                }
            }
            _ = winch.recv() => {
                if let (Mode::ReadWrite, Some(size)) = (mode, term::size()) {
                    wr.send_request(Request::Resize { size }).await?;
                }
            }
        }
    }
}

fn write_filtered(
    out: &mut std::io::Stdout,
    filter: &mut AltScreenFilter,
    data: &[u8],
    scratch: &mut Vec<u8>,
) -> std::io::Result<()> {
    scratch.clear();
    filter.filter(data, scratch);
    let mut lock = out.lock();
    lock.write_all(scratch)?;
    lock.flush()
}

/// Reads the keyboard on a blocking thread (there is no portable async stdin).
fn spawn_stdin_reader() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 4096];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// After the agent exits, the alternate screen is left, so print what its screen last showed
/// where the user will see it.
async fn print_final_screen(target: &target::Target) {
    let Ok(mut client) = target.connect(Hello::new(Mode::ReadOnly)).await else {
        return;
    };
    if let Ok(Some(Event::Snapshot { size, data, .. })) = client.next_event().await {
        for line in text::render(&data, size, size.rows as usize) {
            println!("{line}");
        }
    }
}

/// `ctrl-\`, `ctrl-a`, `^q`, `C-]` → the control byte.
fn parse_detach_key(s: &str) -> anyhow::Result<u8> {
    let lower = s.to_ascii_lowercase();
    let key = lower
        .strip_prefix("ctrl-")
        .or_else(|| lower.strip_prefix("c-"))
        .or_else(|| lower.strip_prefix('^'));
    match key.map(str::as_bytes) {
        Some([k @ b'a'..=b'z']) => Ok(k - b'a' + 1),
        Some([k @ (b'@' | b'[' | b'\\' | b']' | b'^' | b'_')]) => Ok(k - b'@'),
        _ => bail!("`{s}` is not a detach key: use ctrl-<letter> or one of ctrl-@ ctrl-[ ctrl-\\ ctrl-] ctrl-^ ctrl-_"),
    }
}

/// Drops the alternate-screen switches (`CSI ? 47/1047/1049 h/l`) from a stream: the attach
/// client keeps the local terminal on its alternate screen the whole time, so that detaching
/// brings back what was there before.
#[derive(Default)]
pub struct AltScreenFilter {
    pending: Vec<u8>,
}

impl AltScreenFilter {
    pub fn filter(&mut self, data: &[u8], out: &mut Vec<u8>) {
        for &b in data {
            if self.pending.is_empty() {
                if b == 0x1b {
                    self.pending.push(b);
                } else {
                    out.push(b);
                }
                continue;
            }
            self.pending.push(b);
            let p = &self.pending;
            let still_prefix = match p.len() {
                2 => b == b'[',
                3 => b == b'?',
                _ => b.is_ascii_digit() || b == b';',
            };
            if (b == b'h' || b == b'l') && p.len() > 3 {
                let params = &p[3..p.len() - 1];
                if !matches!(params, b"47" | b"1047" | b"1049") {
                    out.extend_from_slice(p);
                }
                self.pending.clear();
            } else if !still_prefix || p.len() > 12 {
                let last = self.pending.pop();
                out.append(&mut self.pending);
                if let Some(last) = last {
                    if last == 0x1b {
                        self.pending.push(last);
                    } else {
                        out.push(last);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_filter(chunks: &[&[u8]]) -> Vec<u8> {
        let mut f = AltScreenFilter::default();
        let mut out = Vec::new();
        for c in chunks {
            f.filter(c, &mut out);
        }
        out
    }

    #[test]
    fn alternate_screen_switches_are_dropped_even_when_split() {
        assert_eq!(run_filter(&[b"a\x1b[?1049hb\x1b[?47lc"]), b"abc");
        assert_eq!(run_filter(&[b"a\x1b[?10", b"49", b"hb"]), b"ab");
    }

    #[test]
    fn everything_else_passes_through() {
        let s: &[u8] = b"\x1b[?25l\x1b[31mred\x1b[0m\x1b[?2004h\x1b]2;t\x07\x1b\x1b[H";
        assert_eq!(run_filter(&[s]), s);
        for split in 1..s.len() {
            assert_eq!(
                run_filter(&[&s[..split], &s[split..]]),
                s,
                "split at {split}"
            );
        }
    }

    #[test]
    fn detach_keys_parse() {
        assert_eq!(parse_detach_key("ctrl-\\").expect("valid"), 0x1c);
        assert_eq!(parse_detach_key("^a").expect("valid"), 1);
        assert_eq!(parse_detach_key("C-]").expect("valid"), 0x1d);
        assert!(parse_detach_key("x").is_err());
        assert!(parse_detach_key("ctrl-1").is_err());
    }
}
