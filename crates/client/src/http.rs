//! [`HostClient`]: REST requests to one host over pinned TLS, with the device's access token
//! (refreshed on a 401 as [`crate::auth`] says), and the entry points of its WebSocket
//! streams. Cheap to clone; idle HTTP/1.1 connections are kept and reused.

use crate::auth::Auth;
use crate::conn::Connector;
use crate::error::{ClientError, Result};
use crate::events::EventStream;
use crate::hosts::Host;
use crate::secrets::SecretStore;
use crate::terminal::{AttachOptions, TerminalStream};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The longest a REST request may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle connections kept per host.
const POOL: usize = 4;

/// A host's answer: any status (the caller decides), the body as bytes.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// This response, or the host's error (its stable code and message) when not 2xx.
    pub fn error_for_status(self) -> Result<Self> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(ClientError::api(self.status, &self.body))
        }
    }

    /// The body as JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        let body: &[u8] = if self.body.is_empty() {
            b"null"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| ClientError::Protocol(e.to_string()))
    }
}

/// HTTP/1.1 over pinned TLS to one address; no tokens. Used for pairing and by
/// [`HostClient`].
pub(crate) struct Transport {
    pub connector: Connector,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

impl Transport {
    pub fn new(connector: Connector) -> Self {
        Self {
            connector,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends `method /api/v1{path}` with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Response> {
        let what = format!("{method} {path}");
        match tokio::time::timeout(REQUEST_TIMEOUT, self.send_inner(method, path, token, body))
            .await
        {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout(format!(
                "{} ({what})",
                self.connector.url
            ))),
        }
    }

    async fn send_inner(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Response> {
        let method = hyper::Method::from_bytes(method.as_bytes())
            .map_err(|_| ClientError::Protocol(format!("`{method}` is not an HTTP method")))?;
        let build = || -> Result<hyper::Request<Full<Bytes>>> {
            let mut req = hyper::Request::builder()
                .method(method.clone())
                .uri(format!("/api/v1{path}"))
                .header("host", self.connector.url.authority())
                .header("accept", "application/json")
                .header(
                    "user-agent",
                    concat!("paddock-client/", env!("CARGO_PKG_VERSION")),
                );
            if let Some(t) = token {
                req = req.header("authorization", format!("Bearer {t}"));
            }
            if body.is_some() {
                req = req.header("content-type", "application/json");
            }
            req.body(Full::new(Bytes::copy_from_slice(body.unwrap_or_default())))
                .map_err(|e| ClientError::Protocol(format!("cannot build the request: {e}")))
        };
        let pooled = self.take_idle();
        let fresh = pooled.is_none();
        let mut sender = match pooled {
            Some(s) => s,
            None => self.open().await?,
        };
        let resp = match sender.send_request(build()?).await {
            Ok(r) => r,
            // A kept connection the host closed meanwhile: once more on a new one.
            Err(_) if !fresh => {
                sender = self.open().await?;
                sender
                    .send_request(build()?)
                    .await
                    .map_err(|e| self.lost(e))?
            }
            Err(e) => return Err(self.lost(e)),
        };
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| self.lost(e))?
            .to_bytes()
            .to_vec();
        self.put_idle(sender);
        Ok(Response { status, body })
    }

    fn lost(&self, e: hyper::Error) -> ClientError {
        ClientError::Unreachable {
            url: self.connector.url.to_string(),
            source: std::io::Error::new(std::io::ErrorKind::ConnectionAborted, e),
        }
    }

    async fn open(&self) -> Result<SendRequest<Full<Bytes>>> {
        let io = self.connector.connect().await?;
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
                .await
                .map_err(|e| self.lost(e))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "a connection to the host ended");
            }
        });
        Ok(sender)
    }

    fn take_idle(&self) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(s) = idle.pop() {
            if !s.is_closed() && s.is_ready() {
                return Some(s);
            }
        }
        None
    }

    fn put_idle(&self, s: SendRequest<Full<Bytes>>) {
        if s.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < POOL {
            idle.push(s);
        }
    }
}

/// The client of one paired host.
#[derive(Clone)]
pub struct HostClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub host: Host,
    pub transport: Transport,
    pub auth: Auth,
}

impl std::fmt::Debug for HostClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostClient")
            .field("host", &self.inner.host)
            .finish()
    }
}

impl HostClient {
    /// A client of `host`, its tokens in `secrets`. Connects on first use.
    pub fn new(host: Host, secrets: SecretStore) -> Self {
        let connector = Connector::new(host.url.clone(), &host.fingerprint);
        let auth = Auth::new(
            host.device_id.0.as_str().to_owned(),
            host.name.clone(),
            secrets,
        );
        Self {
            inner: Arc::new(Inner {
                host,
                transport: Transport::new(connector),
                auth,
            }),
        }
    }

    pub fn host(&self) -> &Host {
        &self.inner.host
    }

    pub(crate) fn connector(&self) -> &Connector {
        &self.inner.transport.connector
    }

    /// `method /api/v1{path}` with a JSON body, authenticated; a 401 refreshes the tokens
    /// once and retries. Answers with any status: see [`Response::error_for_status`].
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Response> {
        let bytes = match body {
            Some(b) => {
                Some(serde_json::to_vec(b).map_err(|e| ClientError::Protocol(e.to_string()))?)
            }
            None => None,
        };
        self.request_bytes(method, path, bytes.as_deref()).await
    }

    /// [`HostClient::request`] with the body already encoded as JSON.
    pub async fn request_bytes(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<Response> {
        let t = &self.inner.transport;
        let tokens = self.inner.auth.current().await?;
        let resp = t
            .send(method, path, Some(&tokens.access_token), body)
            .await?;
        if resp.status != 401 {
            return Ok(resp);
        }
        let fresh = self.inner.auth.refresh(t, &tokens.access_token).await?;
        t.send(method, path, Some(&fresh.access_token), body).await
    }

    /// A request whose 2xx answer is JSON of type `T`; other statuses are errors.
    pub async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: &str,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let bytes = match body {
            Some(b) => {
                Some(serde_json::to_vec(b).map_err(|e| ClientError::Protocol(e.to_string()))?)
            }
            None => None,
        };
        self.request_bytes(method, path, bytes.as_deref())
            .await?
            .error_for_status()?
            .json()
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call::<T, ()>("GET", path, None).await
    }

    pub async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.call("POST", path, Some(body)).await
    }

    /// A valid access token (for a WebSocket's `auth`), refreshed when the host refuses
    /// `failed`.
    pub(crate) async fn token(&self, failed: Option<&str>) -> Result<String> {
        match failed {
            None => Ok(self.inner.auth.current().await?.access_token),
            Some(f) => Ok(self
                .inner
                .auth
                .refresh(&self.inner.transport, f)
                .await?
                .access_token),
        }
    }

    /// The host's events (every kind this device may read), over the WebSocket; reconnects
    /// by itself and resyncs.
    pub async fn events(&self) -> Result<EventStream> {
        EventStream::open(self.clone()).await
    }

    /// A session's terminal stream from `opts.offset` (exactly the bytes after it when the
    /// host still has them, else a snapshot); survives dropped connections without losing
    /// or repeating a byte.
    pub async fn attach(&self, session: &str, opts: AttachOptions) -> Result<TerminalStream> {
        TerminalStream::open(self.clone(), session, opts).await
    }
}
