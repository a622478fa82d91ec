//! The pinned client for a caller that keeps its own tokens: the Paddock app's webview, whose
//! UI stores its host records and tokens itself (as in a browser) and hands each request and
//! WebSocket to Rust only because a webview cannot pin a self-signed certificate. A request
//! goes over the same pinned, pooled HTTP/1.1 transport as [`crate::HostClient`]'s; a socket
//! is the host's `/api/v1/ws` upgraded over a pinned connection and left to the caller, which
//! authenticates with its first message exactly as the UI does in a browser.
use crate::conn::Connector;
use crate::error::{ClientError, Result};
use crate::http::{Response, Transport};
use crate::tls::normalize_fingerprint;
use crate::url::HostUrl;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

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
    fn no_request_without_a_real_pin() {
        let err = target("https://127.0.0.1:7420", "not-a-pin").expect_err("refused");
        assert!(
            err.to_string().contains("pair with this host again"),
            "{err}"
        );
        assert!(target("http://127.0.0.1:7420", &"ab".repeat(32)).is_err());
    }
}
