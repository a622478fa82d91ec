//! The UI's REST calls and WebSockets, carried by the pinned client (`paddock_client::relay`)
//! because a webview cannot pin a self-signed certificate. The UI keeps its host records and
//! tokens as in a browser and passes the pin with each call; these commands only adapt:
//! `request` (one REST call), and `stream_open` / `stream_send` / `stream_close` for a
//! WebSocket whose frames come back over a `tauri::ipc::Channel` (text frames as JSON
//! messages, binary frames as raw bytes, so terminal output is never re-encoded).
use futures_util::{SinkExt, StreamExt};
use paddock_client::relay::{open_socket, Relay};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::State;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// Frames the UI may have queued for one socket before it is written; more is refused.
const SEND_QUEUE: usize = 256;

/// What the shell can do for the UI.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Capabilities {
    /// REST and WSS go through the app's pinned client (`request`, `stream_*`).
    pub pinned_transport: bool,
    /// Whether this webview draws xterm.js' WebGL renderer reliably. Not WebKitGTK (Linux):
    /// there the pane can stay blank (black) while the bytes arrive (tauri-apps/tauri#6559,
    /// xtermjs/xterm.js#5357), and without a GPU it is software GL anyway, so the terminal
    /// uses the DOM renderer there. WKWebView (macOS, iOS) and Android's WebView keep WebGL.
    pub webgl_terminal: bool,
}

/// What the shell can do; the UI asks this once at start and picks its transport from it.
#[tauri::command]
pub fn capabilities() -> Capabilities {
    Capabilities {
        pinned_transport: true,
        webgl_terminal: !cfg!(target_os = "linux"),
    }
}

/// An error as the UI receives it (`{code, message}`, as over REST).
#[derive(Debug, Serialize)]
pub struct TransportError {
    pub code: &'static str,
    pub message: String,
}

impl From<paddock_client::ClientError> for TransportError {
    fn from(e: paddock_client::ClientError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// A host's answer to a REST call, any status.
#[derive(Debug, Serialize)]
pub struct Reply {
    pub status: u16,
    pub text: String,
}

fn pin(fingerprint: Option<&str>) -> Result<&str, TransportError> {
    fingerprint.ok_or_else(|| TransportError {
        code: "unpinned",
        message: "This host was paired without its certificate's fingerprint (a typed short code), so the app cannot check it is the same host. Pair again by scanning its QR code or opening its pairing link.".to_owned(),
    })
}

/// Carries one REST call of the UI through the pinned client: `method /api/v1{path}` to
/// `url`, pinned to `fingerprint`, with the UI's `Authorization` header.
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn request(
    relay: State<'_, Relay>,
    url: String,
    fingerprint: Option<String>,
    method: String,
    path: String,
    headers: Option<HashMap<String, String>>,
    body: Option<String>,
) -> Result<Reply, TransportError> {
    let headers = headers.unwrap_or_default();
    let token = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.strip_prefix("Bearer "));
    let r = relay
        .request(
            &url,
            pin(fingerprint.as_deref())?,
            &method,
            &path,
            token,
            body.as_deref().map(str::as_bytes),
        )
        .await?;
    Ok(Reply {
        status: r.status,
        text: String::from_utf8_lossy(&r.body).into_owned(),
    })
}

/// What the UI gets on a socket's channel besides binary frames.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum StreamMessage {
    Open,
    Text { data: String },
    Close { code: u16, reason: String },
}

/// What the UI sends to a socket.
enum Outgoing {
    Text(String),
    Close(u16),
}

/// The open sockets, by id.
#[derive(Default)]
pub struct Streams {
    next: AtomicU32,
    open: Mutex<HashMap<u32, mpsc::Sender<Outgoing>>>,
}

fn to_ui(channel: &Channel<InvokeResponseBody>, m: &StreamMessage) -> bool {
    match serde_json::to_string(m) {
        Ok(json) => channel.send(InvokeResponseBody::Json(json)).is_ok(),
        Err(_) => false,
    }
}

/// Opens the host's WebSocket; returns its id at once, then reports `open` (or `close` with
/// the reason) on `channel`.
#[tauri::command]
pub async fn stream_open(
    streams: State<'_, Streams>,
    url: String,
    fingerprint: Option<String>,
    channel: Channel<InvokeResponseBody>,
) -> Result<u32, TransportError> {
    let pin = pin(fingerprint.as_deref())?.to_owned();
    let id = streams.next.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel(SEND_QUEUE);
    {
        let mut open = streams.open.lock().unwrap_or_else(|p| p.into_inner());
        // Sockets the host closed have ended their relay: forget them.
        open.retain(|_, tx| !tx.is_closed());
        open.insert(id, tx);
    }
    tauri::async_runtime::spawn(relay_socket(url, pin, channel, rx));
    Ok(id)
}

/// One socket: frames from the host to the channel, the UI's messages to the host, until
/// either side closes.
async fn relay_socket(
    url: String,
    pin: String,
    channel: Channel<InvokeResponseBody>,
    mut rx: mpsc::Receiver<Outgoing>,
) {
    let ws = match open_socket(&url, &pin).await {
        Ok(ws) => ws,
        Err(e) => {
            to_ui(
                &channel,
                &StreamMessage::Close {
                    code: 1006,
                    reason: e.to_string(),
                },
            );
            return;
        }
    };
    if !to_ui(&channel, &StreamMessage::Open) {
        return;
    }
    let (mut sink, mut source) = ws.split();
    let (code, reason) = loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Outgoing::Text(t)) => {
                    if let Err(e) = sink.send(Message::Text(t.into())).await {
                        break (1006, format!("the connection to the host was lost: {e}"));
                    }
                }
                Some(Outgoing::Close(code)) => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code: CloseCode::from(code),
                            reason: "".into(),
                        })))
                        .await;
                    // Closed by the UI, which expects no more messages.
                    return;
                }
                None => return,
            },
            frame = source.next() => match frame {
                Some(Ok(Message::Text(t))) => {
                    if !to_ui(&channel, &StreamMessage::Text { data: t.to_string() }) {
                        return;
                    }
                }
                Some(Ok(Message::Binary(b))) => {
                    if channel.send(InvokeResponseBody::Raw(b.to_vec())).is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Close(f))) => {
                    break match f {
                        Some(f) => (u16::from(f.code), f.reason.to_string()),
                        None => (1005, String::new()),
                    };
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => break (1006, format!("the connection to the host was lost: {e}")),
                None => break (1006, "the host closed the connection".to_owned()),
            },
        }
    };
    to_ui(&channel, &StreamMessage::Close { code, reason });
}

/// Sends text frames on a socket, in the order given. The UI has at most one `stream_send`
/// of a socket in flight (commands run as separate tasks, so two could overtake each other)
/// and passes the frames queued meanwhile together.
#[tauri::command]
pub async fn stream_send(
    streams: State<'_, Streams>,
    id: u32,
    texts: Vec<String>,
) -> Result<(), TransportError> {
    let tx = streams
        .open
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&id)
        .cloned();
    let closed = || TransportError {
        code: "closed",
        message: "This connection to the host is closed; the UI reconnects by itself.".to_owned(),
    };
    let tx = tx.ok_or_else(closed)?;
    for text in texts {
        tx.try_send(Outgoing::Text(text)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => TransportError {
                code: "busy",
                message: format!(
                    "The connection to the host is not keeping up ({SEND_QUEUE} messages wait to be written); what was sent last was not sent. Wait a moment and send it again."
                ),
            },
            mpsc::error::TrySendError::Closed(_) => closed(),
        })?;
    }
    Ok(())
}

/// Closes a socket (and forgets it).
#[tauri::command]
pub async fn stream_close(
    streams: State<'_, Streams>,
    id: u32,
    code: Option<u16>,
) -> Result<(), TransportError> {
    let tx = streams
        .open
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
    if let Some(tx) = tx {
        let _ = tx.try_send(Outgoing::Close(code.unwrap_or(1000)));
    }
    Ok(())
}
