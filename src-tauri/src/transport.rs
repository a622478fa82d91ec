//! The UI's REST calls and WebSockets, carried by the pinned client (`paddock_client::relay`)
//! because a webview cannot pin a self-signed certificate. The UI keeps its host records and
//! tokens as in a browser and passes the pin with each call; these commands only adapt:
//! `request` (one REST call, `Relay::forward`), and `stream_open` / `stream_send` /
//! `stream_close` for a WebSocket kept by `relay::Sockets`, whose frames come back over a
//! `tauri::ipc::Channel` (this file's `SocketSink`: text frames as JSON messages, binary
//! frames as raw bytes, so terminal output is never re-encoded).
use paddock_client::relay::{Relay, Reply, SocketSink, Sockets};
use paddock_proto::shell::{ShellCapabilities, ShellError, StreamMessage};
use std::collections::HashMap;
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::State;

/// What the shell can do; the UI asks this once at start and picks its transport from it.
#[tauri::command]
pub fn capabilities() -> ShellCapabilities {
    ShellCapabilities {
        pinned_transport: true,
        // WebKitGTK (Linux) can leave a WebGL pane blank (tauri-apps/tauri#6559,
        // xtermjs/xterm.js#5357), and without a GPU it is software GL anyway. WKWebView
        // (macOS, iOS) and Android's WebView keep WebGL.
        webgl_terminal: !cfg!(target_os = "linux"),
    }
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
) -> Result<Reply, ShellError> {
    Ok(relay
        .forward(
            &url,
            fingerprint.as_deref(),
            &method,
            &path,
            &headers.unwrap_or_default(),
            body.as_deref(),
        )
        .await?)
}

/// A socket's frames to the webview, over the channel the UI passed to `stream_open`.
struct ToWebview(Channel<InvokeResponseBody>);

impl ToWebview {
    fn json(&self, m: &StreamMessage) -> bool {
        match serde_json::to_string(m) {
            Ok(json) => self.0.send(InvokeResponseBody::Json(json)).is_ok(),
            Err(_) => false,
        }
    }
}

impl SocketSink for ToWebview {
    fn open(&self) -> bool {
        self.json(&StreamMessage::Open)
    }

    fn text(&self, data: String) -> bool {
        self.json(&StreamMessage::Text { data })
    }

    fn binary(&self, data: Vec<u8>) -> bool {
        self.0.send(InvokeResponseBody::Raw(data)).is_ok()
    }

    fn closed(&self, code: u16, reason: String) {
        self.json(&StreamMessage::Close { code, reason });
    }
}

/// Opens the host's WebSocket; returns its id at once, then reports `open` (or `close` with
/// the reason) on `channel`.
#[tauri::command]
pub async fn stream_open(
    sockets: State<'_, Sockets>,
    url: String,
    fingerprint: Option<String>,
    channel: Channel<InvokeResponseBody>,
) -> Result<u32, ShellError> {
    let (id, relay) = sockets.open(&url, fingerprint.as_deref(), ToWebview(channel))?;
    tauri::async_runtime::spawn(relay);
    Ok(id)
}

/// Sends text frames on a socket, in the order given. The UI has at most one `stream_send`
/// of a socket in flight (commands run as separate tasks, so two could overtake each other)
/// and passes the frames queued meanwhile together.
#[tauri::command]
pub async fn stream_send(
    sockets: State<'_, Sockets>,
    id: u32,
    texts: Vec<String>,
) -> Result<(), ShellError> {
    Ok(sockets.send(id, texts)?)
}

/// Closes a socket (and forgets it).
#[tauri::command]
pub async fn stream_close(
    sockets: State<'_, Sockets>,
    id: u32,
    code: Option<u16>,
) -> Result<(), ShellError> {
    sockets.close(id, code);
    Ok(())
}
