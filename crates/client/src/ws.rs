//! Opening the host's WebSocket (`/api/v1/ws`) over pinned TLS, authenticated by the
//! upgrade's `Authorization` header; a refused token is refreshed once. Shared by the event
//! and terminal streams.

use crate::error::{ClientError, Result};
use crate::http::HostClient;
use futures_util::{SinkExt, StreamExt};
use paddock_proto::web::{ApiErrorCode, ClientMessage, ServerMessage};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub(crate) type Ws = WebSocketStream<TlsStream<TcpStream>>;

/// The longest the host may take to say `ready` or to answer an attach.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// What a read of the socket gave.
pub(crate) enum Incoming {
    Server(ServerMessage),
    /// A text message that is not a `ServerMessage`: a supervisor event.
    Event(serde_json::Value),
    Binary(Vec<u8>),
    /// The socket closed or failed: reconnect.
    Gone(String),
}

/// An authenticated socket, after the host's `ready`.
pub(crate) async fn connect(client: &HostClient) -> Result<Ws> {
    let mut failed: Option<String> = None;
    loop {
        let token = client.token(failed.as_deref()).await?;
        let io = client.connector().connect().await?;
        let url = format!("wss://{}/api/v1/ws", client.connector().url.authority());
        let mut req = url
            .into_client_request()
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let auth = format!("Bearer {token}")
            .parse()
            .map_err(|_| ClientError::Protocol("the access token is not a header value".into()))?;
        req.headers_mut().insert("authorization", auth);
        let (mut ws, _) = match tokio_tungstenite::client_async(req, io).await {
            Ok(ok) => ok,
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                let status = resp.status().as_u16();
                let body = resp.body().clone().unwrap_or_default();
                if status == 401 && failed.is_none() {
                    failed = Some(token);
                    continue;
                }
                return Err(ClientError::api(status, &body));
            }
            Err(e) => {
                return Err(ClientError::Protocol(format!(
                    "WebSocket upgrade failed: {e}"
                )))
            }
        };
        let first = tokio::time::timeout(ANSWER_TIMEOUT, read(&mut ws))
            .await
            .map_err(|_| ClientError::Timeout(client.connector().url.to_string()))?;
        match first {
            Incoming::Server(ServerMessage::Ready { .. }) => return Ok(ws),
            Incoming::Server(ServerMessage::Error {
                code: ApiErrorCode::Unauthorized,
                ..
            }) if failed.is_none() => {
                failed = Some(token);
            }
            Incoming::Server(ServerMessage::Error { code, message, .. }) => {
                return Err(ClientError::Api {
                    status: 401,
                    code,
                    message,
                })
            }
            Incoming::Gone(why) => {
                return Err(ClientError::Unreachable {
                    url: client.connector().url.to_string(),
                    source: std::io::Error::new(std::io::ErrorKind::ConnectionAborted, why),
                })
            }
            _ => {
                return Err(ClientError::Protocol(
                    "the WebSocket did not start with `ready`".into(),
                ))
            }
        }
    }
}

/// Sends one JSON message.
pub(crate) async fn send(ws: &mut Ws, m: &ClientMessage) -> Result<()> {
    let text = serde_json::to_string(m).map_err(|e| ClientError::Protocol(e.to_string()))?;
    ws.send(Message::Text(text.into()))
        .await
        .map_err(|_| ClientError::Closed)
}

/// The next message that matters (pings are answered by tungstenite itself).
pub(crate) async fn read(ws: &mut Ws) -> Incoming {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                return match serde_json::from_str::<ServerMessage>(&t) {
                    Ok(m) => Incoming::Server(m),
                    Err(_) => match serde_json::from_str::<serde_json::Value>(&t) {
                        Ok(v) => Incoming::Event(v),
                        Err(e) => Incoming::Gone(format!("the host sent malformed JSON: {e}")),
                    },
                }
            }
            Some(Ok(Message::Binary(b))) => return Incoming::Binary(b.to_vec()),
            Some(Ok(Message::Close(frame))) => {
                return Incoming::Gone(match frame {
                    Some(f) => format!("closed by the host ({}: {})", u16::from(f.code), f.reason),
                    None => "closed by the host".into(),
                })
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Incoming::Gone(e.to_string()),
            None => return Incoming::Gone("the connection ended".into()),
        }
    }
}

/// Waits before the next reconnect attempt: 100 ms doubling to 2 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((100u64 << attempt.min(5)).min(2000))
}
