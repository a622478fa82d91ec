//! The host's events over its WebSocket (`subscribe`): `resync` with every session, then the
//! supervisor's events (`session_update`, `permission_update`, ...) as the host sends them.
//! Reconnects by itself; after a reconnect a `resync` replaces what was missed.
//!
//! Supervisor events are given as their JSON (`kind` and `payload`): their type lives in
//! `paddock-core`, which a client does not link; the app forwards them to the UI unchanged.

use crate::error::Result;
use crate::http::HostClient;
use crate::ws::{self, Incoming, Ws};
use paddock_proto::supervisor::SessionView;
use paddock_proto::web::{ClientMessage, ServerMessage};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long to keep reconnecting before the stream ends with the last error.
pub const RECONNECT_FOR: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq)]
pub enum HostEvent {
    /// Every session: replace what you have (after subscribing, a reconnect or a lag).
    Resync { sessions: Vec<SessionView> },
    /// A supervisor event: `kind` is its `type` (`session_update`, `permission_update`...).
    Event {
        kind: String,
        payload: serde_json::Value,
    },
    /// The connection dropped; reconnecting.
    Reconnecting { message: String },
}

/// A live event subscription; dropping it unsubscribes.
pub struct EventStream {
    rx: mpsc::Receiver<Result<HostEvent>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EventStream {
    pub(crate) async fn open(client: HostClient) -> Result<Self> {
        let ws = subscribe(&client).await?;
        let (tx, rx) = mpsc::channel(256);
        let task = tokio::spawn(run(client, ws, tx));
        Ok(Self { rx, task })
    }

    /// The next event; `None` once the stream ended for good (after an error).
    pub async fn next(&mut self) -> Option<Result<HostEvent>> {
        self.rx.recv().await
    }
}

async fn subscribe(client: &HostClient) -> Result<Ws> {
    let mut ws = ws::connect(client).await?;
    ws::send(&mut ws, &ClientMessage::Subscribe).await?;
    Ok(ws)
}

async fn run(client: HostClient, mut ws: Ws, tx: mpsc::Sender<Result<HostEvent>>) {
    loop {
        let why = loop {
            let ev = match ws::read(&mut ws).await {
                Incoming::Gone(why) => break why,
                Incoming::Server(ServerMessage::Resync { sessions }) => {
                    HostEvent::Resync { sessions }
                }
                Incoming::Server(ServerMessage::Error {
                    code: paddock_proto::web::ApiErrorCode::Unauthorized,
                    message,
                    ..
                }) => break message,
                Incoming::Server(_) | Incoming::Binary(_) => continue,
                Incoming::Event(mut v) => {
                    let kind = v
                        .get("type")
                        .and_then(|t| t.as_str())
                        .unwrap_or_default()
                        .to_owned();
                    let payload = v
                        .as_object_mut()
                        .and_then(|o| o.remove("payload"))
                        .unwrap_or(serde_json::Value::Null);
                    HostEvent::Event { kind, payload }
                }
            };
            if tx.send(Ok(ev)).await.is_err() {
                return;
            }
        };
        if tx
            .send(Ok(HostEvent::Reconnecting { message: why }))
            .await
            .is_err()
        {
            return;
        }
        let give_up = Instant::now() + RECONNECT_FOR;
        let mut attempt = 0;
        ws = loop {
            match subscribe(&client).await {
                Ok(ws) => break ws,
                Err(e) if e.is_transient() && Instant::now() < give_up => {
                    tokio::time::sleep(ws::backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        };
    }
}
