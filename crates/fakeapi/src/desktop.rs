//! A freedesktop notification server on a private session bus, for tests: starts its own
//! `dbus-daemon` (killed when dropped), owns `org.freedesktop.Notifications` on it, answers
//! `GetCapabilities` (with or without `actions`) and `GetServerInformation`, records every
//! `Notify` and `CloseNotification`, and emits `ActionInvoked` when the test presses a
//! button, as a desktop's notification daemon (dunst, GNOME Shell, KDE Plasma) does.
//! [`NotificationServer::attach`] serves on a bus that already runs instead (the app's
//! end-to-end tests, through the `paddock-notification-server` binary).

use futures_util::StreamExt;
use std::collections::HashMap;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use zbus::message::Type;
use zbus::zvariant::OwnedValue;

const NAME: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";

/// One notification as the server was asked to show it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub id: u32,
    pub app: String,
    pub summary: String,
    pub body: String,
    /// Key/label pairs, as sent.
    pub actions: Vec<String>,
    pub urgency: Option<u8>,
    pub expire_timeout: i32,
    /// `CloseNotification` was called for it.
    pub closed: bool,
}

#[derive(Default)]
struct State {
    shown: Vec<Shown>,
    log: Vec<String>,
}

/// The server, and the bus when it started its own. Both stop when dropped.
pub struct NotificationServer {
    /// The private `dbus-daemon` and its folder, when [`NotificationServer::start`] made them.
    daemon: Option<(Child, tempfile::TempDir)>,
    address: String,
    state: Arc<Mutex<State>>,
    press: Option<mpsc::UnboundedSender<(u32, String)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn lock(s: &Mutex<State>) -> MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl NotificationServer {
    /// Starts `dbus-daemon` and the server; `actions`: whether it has that capability.
    pub fn start(actions: bool) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("pdkbus")
            .tempdir_in("/tmp")
            .map_err(|e| e.to_string())?;
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!("--address=unix:path={}", dir.path().join("bus").display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start dbus-daemon ({e}); install the `dbus` package (scripts/test.sh does)"))?;
        let mut line = String::new();
        let stdout = daemon.stdout.take().ok_or("no stdout from dbus-daemon")?;
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let address = line.trim().to_owned();
        if address.is_empty() {
            let _ = daemon.kill();
            return Err("dbus-daemon printed no address".into());
        }
        match Self::attach(&address, actions) {
            Ok(mut server) => {
                server.daemon = Some((daemon, dir));
                Ok(server)
            }
            Err(e) => {
                let _ = daemon.kill();
                let _ = daemon.wait();
                Err(e)
            }
        }
    }

    /// Serves on the bus at `address` (which someone else runs) until dropped.
    pub fn attach(address: &str, actions: bool) -> Result<Self, String> {
        let state = Arc::new(Mutex::new(State::default()));
        let (press, presses) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let served = state.clone();
        let addr = address.to_owned();
        let thread = std::thread::Builder::new()
            .name("notification-server".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                rt.block_on(serve(addr, actions, served, presses, ready_tx));
            })
            .map_err(|e| e.to_string())?;
        match ready_rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err("the notification server did not come up on the bus within 20s".into())
            }
        }
        Ok(Self {
            daemon: None,
            address: address.to_owned(),
            state,
            press: Some(press),
            thread: Some(thread),
        })
    }

    /// The bus address (`unix:path=...`), for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn shown(&self) -> Vec<Shown> {
        lock(&self.state).shown.clone()
    }

    pub fn log(&self) -> String {
        lock(&self.state).log.join("\n")
    }

    /// Presses the button `key` of notification `id` (emits `ActionInvoked`).
    pub fn invoke(&self, id: u32, key: &str) {
        if let Some(press) = &self.press {
            let _ = press.send((id, key.to_owned()));
        }
    }

    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&Shown) -> bool) -> Shown {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = lock(&self.state).shown.iter().find(|s| pred(s)) {
                return s.clone();
            }
            if Instant::now() > deadline {
                panic!("timed out after {timeout:?} waiting for {what}; the notification server saw:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for NotificationServer {
    fn drop(&mut self) {
        // The server's loop ends when the bus goes away, or (on a bus it did not start)
        // when no button can be pressed any more.
        self.press = None;
        if let Some((mut daemon, _dir)) = self.daemon.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if std::thread::panicking() {
            eprintln!("--- notification server log:\n{}", self.log());
        }
    }
}

type NotifyArgs = (
    String,
    u32,
    String,
    String,
    String,
    Vec<String>,
    HashMap<String, OwnedValue>,
    i32,
);

async fn serve(
    address: String,
    actions: bool,
    state: Arc<Mutex<State>>,
    mut presses: mpsc::UnboundedReceiver<(u32, String)>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
) {
    let conn = async {
        zbus::connection::Builder::address(address.as_str())?
            .name(NAME)?
            .build()
            .await
    }
    .await;
    let conn = match conn {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(format!("cannot own {NAME} on the test bus: {e}")));
            return;
        }
    };
    let mut stream = zbus::MessageStream::from(&conn);
    let _ = ready.send(Ok(()));
    let mut next_id = 0u32;
    loop {
        let msg = tokio::select! {
            p = presses.recv() => {
                let Some((id, key)) = p else { break };
                lock(&state).log.push(format!("ActionInvoked({id}, {key})"));
                let _ = conn.emit_signal(None::<&str>, PATH, NAME, "ActionInvoked", &(id, key.as_str())).await;
                continue;
            }
            m = stream.next() => m,
        };
        let Some(Ok(msg)) = msg else { break };
        if msg.message_type() != Type::MethodCall {
            continue;
        }
        let header = msg.header();
        if header.interface().map(|i| i.as_str()) != Some(NAME) {
            continue;
        }
        let member = header.member().map(|m| m.to_string()).unwrap_or_default();
        let replied = match member.as_str() {
            "GetCapabilities" => {
                let mut caps = vec!["body".to_owned()];
                if actions {
                    caps.push("actions".into());
                }
                conn.reply(&header, &caps).await
            }
            "GetServerInformation" => {
                conn.reply(&header, &("paddock-test", "paddock", "1", "1.2"))
                    .await
            }
            "Notify" => match msg.body().deserialize::<NotifyArgs>() {
                Ok((app, replaces, _icon, summary, body, acts, hints, expire_timeout)) => {
                    let id = if replaces != 0 {
                        replaces
                    } else {
                        next_id += 1;
                        next_id
                    };
                    let urgency = hints.get("urgency").and_then(|v| u8::try_from(v).ok());
                    {
                        let mut s = lock(&state);
                        s.log
                            .push(format!("Notify {id}: {summary} | {body} | {acts:?}"));
                        s.shown.push(Shown {
                            id,
                            app,
                            summary,
                            body,
                            actions: acts,
                            urgency,
                            expire_timeout,
                            closed: false,
                        });
                    }
                    conn.reply(&header, &id).await
                }
                Err(e) => {
                    lock(&state)
                        .log
                        .push(format!("a Notify call with bad arguments: {e}"));
                    conn.reply_dbus_error(&header, zbus::fdo::Error::InvalidArgs(e.to_string()))
                        .await
                }
            },
            "CloseNotification" => {
                if let Ok(id) = msg.body().deserialize::<u32>() {
                    {
                        let mut s = lock(&state);
                        s.log.push(format!("CloseNotification({id})"));
                        for n in s.shown.iter_mut().filter(|n| n.id == id) {
                            n.closed = true;
                        }
                    }
                    let _ = conn
                        .emit_signal(None::<&str>, PATH, NAME, "NotificationClosed", &(id, 3u32))
                        .await;
                }
                conn.reply(&header, &()).await
            }
            other => {
                conn.reply_dbus_error(
                    &header,
                    zbus::fdo::Error::UnknownMethod(format!("no method {other}")),
                )
                .await
            }
        };
        if let Err(e) = replied {
            lock(&state)
                .log
                .push(format!("could not reply to {member}: {e}"));
        }
    }
}
