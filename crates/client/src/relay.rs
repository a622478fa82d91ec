//! The pinned client for a caller that keeps its own tokens: the Paddock app's webview, whose
//! UI stores its host records and tokens itself (as in a browser) and hands each request and
//! WebSocket to Rust only because a webview cannot pin a self-signed certificate. A request
//! goes over the same pinned, pooled HTTP/1.1 transport as [`crate::HostClient`]'s
//! ([`Relay::forward`]); a socket is the host's `/api/v1/ws` upgraded over a pinned
//! connection and left to the caller, which authenticates with its first message exactly as
//! the UI does in a browser. [`Sockets`] keeps the caller's open sockets by id: it pumps each
//! one's frames to a [`SocketSink`] (the app's sink is the webview's IPC channel) and the
//! caller's text frames, in order, to the host, until either side closes. What the frames
//! mean (attach, resume from an offset, snapshots) stays the caller's, as in a browser.
use crate::conn::Connector;
use crate::error::{ClientError, Result};
use crate::http::{Response, Transport};
use crate::tls::normalize_fingerprint;
use crate::url::HostUrl;
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// A raw WebSocket to a host over pinned TLS.
pub type RawSocket = tokio_tungstenite::WebSocketStream<TlsStream<TcpStream>>;

/// One pooled, pinned transport per (host, pin), shared by every request of the caller.
#[derive(Default)]
pub struct Relay {
    transports: Mutex<HashMap<(String, String), Arc<Transport>>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").finish_non_exhaustive()
    }
}

/// Frames the caller may have queued for one socket before they are written; more is refused
/// ([`RelayError::Busy`]).
pub const SEND_QUEUE: usize = 256;

/// Why a relayed request or socket was refused, with a stable [`RelayError::code`].
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The caller has no fingerprint for the host, so nothing can be pinned.
    #[error("This host was paired without its certificate's fingerprint (a typed short code), so the app cannot check it is the same host. Pair again by scanning its QR code or opening its pairing link.")]
    Unpinned,
    /// The socket is closed (or was never opened).
    #[error("This connection to the host is closed; the UI reconnects by itself.")]
    Closed,
    /// The socket's queue is full: the host is not reading fast enough.
    #[error("The connection to the host is not keeping up ({SEND_QUEUE} messages wait to be written); what was sent last was not sent. Wait a moment and send it again.")]
    Busy,
    /// The pinned client's own error (unreachable, certificate changed, ...).
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl RelayError {
    /// `unpinned`, `closed`, `busy`, or the client's code ([`ClientError::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            RelayError::Unpinned => "unpinned",
            RelayError::Closed => "closed",
            RelayError::Busy => "busy",
            RelayError::Client(e) => e.code(),
        }
    }
}

/// As the app's window receives it (the `request` and `stream_*` commands).
impl From<RelayError> for paddock_proto::shell::ShellError {
    fn from(e: RelayError) -> Self {
        Self {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }
}

/// The caller's pin, which every relayed request and socket needs.
pub fn require_pin(fingerprint: Option<&str>) -> Result<&str, RelayError> {
    fingerprint.ok_or(RelayError::Unpinned)
}

/// The bearer token of the caller's `Authorization` header (any case of the name), if any.
pub fn bearer(headers: &HashMap<String, String>) -> Option<&str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.strip_prefix("Bearer "))
}

/// A host's answer to a relayed REST call, any status, its body as text (a wire type: the
/// UI reads it).
pub use paddock_proto::shell::RelayReply as Reply;

/// The address and pin of a request, checked.
fn target(url: &str, fingerprint: &str) -> Result<(HostUrl, String)> {
    let url = url.trim();
    let https = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("wss") => format!("https://{rest}"),
        _ => url.to_owned(),
    };
    let host = HostUrl::parse(&https)?;
    let pin = normalize_fingerprint(fingerprint).ok_or_else(|| {
        ClientError::Protocol(format!(
            "`{fingerprint}` is not a SHA-256 fingerprint (64 hex digits); pair with this host again with its QR code or pairing link"
        ))
    })?;
    Ok((host, pin))
}

impl Relay {
    pub fn new() -> Self {
        Self::default()
    }

    /// `method /api/v1{path}` to the host at `url`, whose certificate must have the SHA-256
    /// `fingerprint`; `token` goes in `Authorization: Bearer`. Any status is returned; only a
    /// host that cannot be reached or is not the pinned one is an error.
    pub async fn request(
        &self,
        url: &str,
        fingerprint: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Response> {
        let (host, pin) = target(url, fingerprint)?;
        let transport = {
            let mut map = self.transports.lock().unwrap_or_else(|p| p.into_inner());
            map.entry((host.authority(), pin.clone()))
                .or_insert_with(|| Arc::new(Transport::new(Connector::new(host, &pin))))
                .clone()
        };
        transport.send(method, path, token, body).await
    }

    /// One REST call as the UI makes it: `method /api/v1{path}` with the UI's headers (only
    /// its `Authorization: Bearer` is carried) and text body, pinned to `fingerprint`, which
    /// must be known ([`RelayError::Unpinned`]). Any status is an answer.
    pub async fn forward(
        &self,
        url: &str,
        fingerprint: Option<&str>,
        method: &str,
        path: &str,
        headers: &HashMap<String, String>,
        body: Option<&str>,
    ) -> Result<Reply, RelayError> {
        let r = self
            .request(
                url,
                require_pin(fingerprint)?,
                method,
                path,
                bearer(headers),
                body.map(str::as_bytes),
            )
            .await?;
        Ok(Reply {
            status: r.status,
            text: String::from_utf8_lossy(&r.body).into_owned(),
        })
    }
}

/// Where a relayed socket's frames go: the app's sink is the webview's IPC channel. Each
/// method but `closed` says whether anyone still listens; `false` ends the socket.
pub trait SocketSink: Send + 'static {
    /// The socket is open: the caller may authenticate and send.
    fn open(&self) -> bool;
    /// A text frame from the host (JSON: `ServerMessage`s and events).
    fn text(&self, data: String) -> bool;
    /// A binary frame from the host (terminal output and snapshots), untouched.
    fn binary(&self, data: Vec<u8>) -> bool;
    /// The host closed the socket, or it could not be opened or was lost (code 1006, with
    /// the reason). Not called when the caller closed it ([`Sockets::close`]).
    fn closed(&self, code: u16, reason: String);
}

/// What the caller sends to a socket.
enum Outgoing {
    Text(String),
    Close(u16),
}

/// The caller's open sockets, by id.
#[derive(Default)]
pub struct Sockets {
    next: AtomicU32,
    open: Mutex<HashMap<u32, mpsc::Sender<Outgoing>>>,
}

impl std::fmt::Debug for Sockets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sockets").finish_non_exhaustive()
    }
}

impl Sockets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens a socket to the host at `url` (`wss://` or `https://`), pinned to `fingerprint`:
    /// its id at once, and the future that connects and then relays until either side
    /// closes, for the caller to spawn on its runtime. Whether it opened reaches `sink`
    /// (`open`, or `closed` with the reason).
    pub fn open(
        &self,
        url: &str,
        fingerprint: Option<&str>,
        sink: impl SocketSink,
    ) -> Result<(u32, impl Future<Output = ()> + Send + 'static), RelayError> {
        let pin = require_pin(fingerprint)?.to_owned();
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(SEND_QUEUE);
        {
            let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
            // Sockets the host closed have ended their relay: forget them.
            open.retain(|_, tx| !tx.is_closed());
            open.insert(id, tx);
        }
        Ok((id, pump(url.to_owned(), pin, sink, rx)))
    }

    /// Queues text frames for socket `id`, in the order given. A caller that sends from
    /// concurrent tasks must keep one call in flight per socket (two could overtake).
    pub fn send(&self, id: u32, texts: Vec<String>) -> Result<(), RelayError> {
        let tx = self
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
            .ok_or(RelayError::Closed)?;
        for text in texts {
            tx.try_send(Outgoing::Text(text)).map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => RelayError::Busy,
                mpsc::error::TrySendError::Closed(_) => RelayError::Closed,
            })?;
        }
        Ok(())
    }

    /// Closes socket `id` with `code` (1000 when none) after the frames already queued, and
    /// forgets it; the sink hears nothing more. Closing a closed socket does nothing.
    pub fn close(&self, id: u32, code: Option<u16>) {
        let tx = self
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        if let Some(tx) = tx {
            let _ = tx.try_send(Outgoing::Close(code.unwrap_or(1000)));
        }
    }
}

/// One socket: frames from the host to the sink, the caller's frames to the host, until
/// either side closes.
async fn pump(url: String, pin: String, sink: impl SocketSink, mut rx: mpsc::Receiver<Outgoing>) {
    let ws = match open_socket(&url, &pin).await {
        Ok(ws) => ws,
        Err(e) => return sink.closed(1006, e.to_string()),
    };
    if !sink.open() {
        return;
    }
    let lost = |e: &dyn std::fmt::Display| format!("the connection to the host was lost: {e}");
    let (mut out, mut source) = ws.split();
    let (code, reason) = loop {
        tokio::select! {
            next = rx.recv() => match next {
                Some(Outgoing::Text(t)) => {
                    if let Err(e) = out.send(Message::Text(t.into())).await {
                        break (1006, lost(&e));
                    }
                }
                Some(Outgoing::Close(code)) => {
                    let _ = out
                        .send(Message::Close(Some(CloseFrame {
                            code: CloseCode::from(code),
                            reason: "".into(),
                        })))
                        .await;
                    // Closed by the caller, which expects no more frames.
                    return;
                }
                None => return,
            },
            frame = source.next() => match frame {
                Some(Ok(Message::Text(t))) => {
                    if !sink.text(t.to_string()) {
                        return;
                    }
                }
                Some(Ok(Message::Binary(b))) => {
                    if !sink.binary(b.to_vec()) {
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
                Some(Err(e)) => break (1006, lost(&e)),
                None => break (1006, "the host closed the connection".to_owned()),
            },
        }
    };
    sink.closed(code, reason);
}

/// Opens `/api/v1/ws` of the host at `url` (`wss://` or `https://`) over a pinned connection.
/// Nothing is sent on it: the caller authenticates with its first message.
pub async fn open_socket(url: &str, fingerprint: &str) -> Result<RawSocket> {
    let (host, pin) = target(url, fingerprint)?;
    let connector = Connector::new(host.clone(), &pin);
    let io = connector.connect().await?;
    let req = format!("wss://{}/api/v1/ws", host.authority())
        .into_client_request()
        .map_err(|e| ClientError::Protocol(e.to_string()))?;
    match tokio_tungstenite::client_async(req, io).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let body = resp.body().clone().unwrap_or_default();
            Err(ClientError::api(resp.status().as_u16(), &body))
        }
        Err(e) => Err(ClientError::Protocol(format!(
            "WebSocket upgrade failed: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_url_names_the_same_host_as_its_https_base() {
        let fp = "ab".repeat(32);
        let (a, _) = target("wss://127.0.0.1:7420/api/v1/ws", &fp).expect("wss");
        let (b, _) = target("https://127.0.0.1:7420", &fp).expect("https");
        assert_eq!(a, b);
    }

    #[test]
    fn the_bearer_token_is_taken_from_the_authorization_header_in_any_case() {
        let mut h = HashMap::new();
        assert_eq!(bearer(&h), None);
        h.insert("content-type".to_owned(), "application/json".to_owned());
        h.insert("AUTHORIZATION".to_owned(), "Bearer tok-1".to_owned());
        assert_eq!(bearer(&h), Some("tok-1"));
        h.insert("AUTHORIZATION".to_owned(), "Basic dXNlcg==".to_owned());
        assert_eq!(bearer(&h), None, "only a bearer token is carried");
    }

    #[test]
    fn a_host_paired_without_a_fingerprint_is_refused_with_a_way_out() {
        let err = Sockets::new()
            .open("https://127.0.0.1:7420", None, Nobody)
            .err()
            .expect("refused");
        assert_eq!(err.code(), "unpinned");
        assert!(err.to_string().contains("Pair again"), "{err}");
    }

    #[test]
    fn sending_on_a_socket_that_is_not_open_says_it_is_closed() {
        let sockets = Sockets::new();
        let err = sockets.send(7, vec!["{}".into()]).expect_err("no socket 7");
        assert_eq!(err.code(), "closed");
        // Opened but never driven, then closed by the caller: forgotten.
        let (id, _never_run) = sockets
            .open("https://127.0.0.1:7420", Some(&"ab".repeat(32)), Nobody)
            .expect("opens");
        sockets.send(id, vec!["{}".into()]).expect("queued");
        sockets.close(id, None);
        assert_eq!(
            sockets.send(id, vec![]).expect_err("closed").code(),
            "closed"
        );
    }

    #[test]
    fn a_full_queue_refuses_more_rather_than_grow() {
        let sockets = Sockets::new();
        let (id, _never_run) = sockets
            .open("https://127.0.0.1:7420", Some(&"ab".repeat(32)), Nobody)
            .expect("opens");
        sockets
            .send(id, vec!["x".to_owned(); SEND_QUEUE])
            .expect("a full queue's worth");
        let err = sockets.send(id, vec!["y".into()]).expect_err("full");
        assert_eq!(err.code(), "busy");
        assert!(err.to_string().contains("send it again"), "{err}");
    }

    /// A sink nobody reads.
    struct Nobody;
    impl SocketSink for Nobody {
        fn open(&self) -> bool {
            false
        }
        fn text(&self, _: String) -> bool {
            false
        }
        fn binary(&self, _: Vec<u8>) -> bool {
            false
        }
        fn closed(&self, _: u16, _: String) {}
    }

    #[test]
    fn no_request_without_a_real_pin() {
        let err = target("https://127.0.0.1:7420", "not-a-pin").expect_err("refused");
        assert!(
            err.to_string().contains("pair with this host again"),
            "{err}"
        );
        assert!(target("http://127.0.0.1:7420", &"ab".repeat(32)).is_err());
    }
}
