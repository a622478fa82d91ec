//! Opening a pinned TLS connection to a host, with errors that say why it failed: the
//! certificate changed, the handshake failed (an impostor without the private key), the host
//! is unreachable, or this machine is offline.

use crate::error::{ClientError, Result};
use crate::tls;
use crate::url::HostUrl;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// How long a TCP connect plus TLS handshake may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how to connect: the address and the pinned configuration.
#[derive(Clone)]
pub struct Connector {
    pub url: HostUrl,
    pin: String,
    tls: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("url", &self.url)
            .field("pin", &self.pin)
            .finish()
    }
}

impl Connector {
    pub fn new(url: HostUrl, fingerprint: &str) -> Self {
        Self {
            url,
            pin: fingerprint.to_owned(),
            tls: tls::pinned_config(fingerprint),
        }
    }

    /// A TCP connection and a completed, pinned TLS 1.3 handshake. Nothing of a request has
    /// been sent when this fails.
    pub async fn connect(&self) -> Result<TlsStream<TcpStream>> {
        let url = self.url.to_string();
        let attempt = async {
            let tcp = TcpStream::connect(self.url.authority())
                .await
                .map_err(|e| classify_connect(&url, e))?;
            let _ = tcp.set_nodelay(true);
            tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(self.url.server_name(), tcp)
                .await
                .map_err(|e| self.classify_handshake(e))
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout(url)),
        }
    }

    fn classify_handshake(&self, e: std::io::Error) -> ClientError {
        let url = self.url.to_string();
        if let Some(m) = tls::pin_mismatch(&e) {
            return ClientError::CertificateChanged {
                url,
                pinned: m.pinned.clone(),
                presented: m.presented.clone(),
            };
        }
        match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(tls) => ClientError::Tls {
                url,
                message: tls.to_string(),
            },
            // The peer closed or reset the connection during the handshake.
            None => ClientError::Unreachable { url, source: e },
        }
    }
}

fn classify_connect(url: &str, e: std::io::Error) -> ClientError {
    use std::io::ErrorKind as K;
    let offline = matches!(
        e.kind(),
        K::NetworkUnreachable | K::NetworkDown | K::HostUnreachable
    );
    if offline {
        ClientError::Offline {
            url: url.to_owned(),
            source: e,
        }
    } else {
        ClientError::Unreachable {
            url: url.to_owned(),
            source: e,
        }
    }
}
