//! `paddock-notification-server`: the test notification server of [`paddock_fakeapi::desktop`]
//! as a program, for tests that are not written in Rust (the desktop app's end-to-end tests):
//! owns `org.freedesktop.Notifications` on the session bus it is given, prints each `Notify`
//! and `CloseNotification` it receives as a JSON line, and presses a notification's button
//! when told so on its standard input.

use anyhow::Context;
use clap::Parser;
use paddock_fakeapi::desktop::NotificationServer;
use serde_json::json;
use std::io::{BufRead, Write};
use std::sync::mpsc;
use std::time::Duration;

/// Serve freedesktop notifications on a session bus for a test. Standard output: one JSON
/// object a line, `{"event":"ready"}` first, then `{"event":"notify","id":..,"summary":..,
/// "body":..,"actions":[key, label, ...],"urgency":..}` and `{"event":"closed","id":..}`.
/// Standard input: `invoke ID KEY` presses the button KEY of notification ID (the server
/// emits `ActionInvoked`). Ends when its standard input closes.
#[derive(Parser)]
struct Args {
    /// The bus to serve on (default: $DBUS_SESSION_BUS_ADDRESS, as `dbus-run-session` sets it).
    #[arg(long)]
    address: Option<String>,
    /// Say that this server cannot show buttons (no `actions` capability).
    #[arg(long)]
    no_actions: bool,
}

enum Input {
    Invoke(u32, String),
    Bad(String),
    Closed,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let address = match args.address {
        Some(a) => a,
        None => std::env::var("DBUS_SESSION_BUS_ADDRESS").context(
            "no session bus: DBUS_SESSION_BUS_ADDRESS is unset; run this under dbus-run-session or give --address",
        )?,
    };
    let server = NotificationServer::attach(&address, !args.no_actions)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("cannot serve notifications on {address}"))?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let words: Vec<&str> = line.split_whitespace().collect();
            let input = match words.as_slice() {
                ["invoke", id, key] => match id.parse() {
                    Ok(id) => Input::Invoke(id, (*key).to_owned()),
                    Err(_) => Input::Bad(line.clone()),
                },
                [] => continue,
                _ => Input::Bad(line.clone()),
            };
            if tx.send(input).is_err() {
                return;
            }
        }
        let _ = tx.send(Input::Closed);
    });

    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", json!({"event": "ready", "address": address}))?;
    out.flush()?;
    // Each shown notification is printed once, and once more when it is closed.
    let (mut printed, mut closed) = (0usize, Vec::<bool>::new());
    loop {
        let shown = server.shown();
        for s in &shown[printed..] {
            let line = json!({"event": "notify", "id": s.id, "app": s.app, "summary": s.summary,
                "body": s.body, "actions": s.actions, "urgency": s.urgency,
                "expire_timeout": s.expire_timeout});
            writeln!(out, "{line}")?;
            closed.push(false);
        }
        printed = shown.len();
        for (i, s) in shown.iter().enumerate() {
            if s.closed && !closed[i] {
                closed[i] = true;
                writeln!(out, "{}", json!({"event": "closed", "id": s.id}))?;
            }
        }
        out.flush()?;
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(Input::Invoke(id, key)) => server.invoke(id, &key),
            Ok(Input::Bad(line)) => eprintln!(
                "paddock-notification-server: ignored {line:?}; the only command is `invoke ID KEY`"
            ),
            Ok(Input::Closed) | Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
}
