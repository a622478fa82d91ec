//! A client of a real `paddock up`'s endpoint for the tests: pinned TLS, raw and JSON
//! requests, pairing through `paddock pair`, WebSockets. Included by endpoint/,
//! endpoint_sessions/, notifications/, probes/ (and others) as
//! `#[path = "common/web.rs"] mod web;` (`../common/web.rs` from a test's main.rs).

#![allow(dead_code)]

use crate::common::{Env, Supervisor};
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message;

pub type Ws = tokio_tungstenite::WebSocketStream<TlsStream<TcpStream>>;

/// A client of one endpoint, pinning its certificate.
pub struct Web {
    pub addr: String,
    pub fingerprint: String,
    pub tls: Arc<rustls::ClientConfig>,
}

pub struct Reply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Value,
}

impl Web {
    pub fn of(env: &Env) -> Self {
        let (url, fingerprint) = env.endpoint();
        let addr = url.strip_prefix("https://").expect("https").to_owned();
        let tls = paddock_client::tls::pinned_config(&fingerprint);
        Self {
            addr,
            fingerprint,
            tls,
        }
    }

    pub async fn tls_with(
        &self,
        cfg: Arc<rustls::ClientConfig>,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(&self.addr).await?;
        tcp.set_nodelay(true)?;
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        tokio_rustls::TlsConnector::from(cfg)
            .connect(name, tcp)
            .await
    }

    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, hyper::HeaderMap, Vec<u8>) {
        self.raw_to(&self.addr, method, path, headers, body).await
    }

    /// [`Web::raw`] with the `Host` header set to `host`.
    pub async fn raw_to(
        &self,
        host: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, hyper::HeaderMap, Vec<u8>) {
        let io = self
            .tls_with(self.tls.clone())
            .await
            .expect("TLS handshake");
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
                .await
                .expect("http handshake");
        tokio::spawn(conn);
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", host);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(http_body_util::Full::new(bytes_of(body)))
            .expect("request");
        let resp = send.send_request(req).await.expect("response");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    /// `POST /api/v1/notifications/test/CHANNEL` as `token`: a test notification through
    /// one channel.
    pub async fn test_notification(&self, channel: &str, token: &str) -> Reply {
        let path = format!("/api/v1/notifications/test/{channel}");
        self.call("POST", &path, Some(token), None).await
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![];
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        let payload = match body {
            Some(b) => {
                headers.push(("content-type", "application/json"));
                serde_json::to_vec(&b).expect("json")
            }
            None => Vec::new(),
        };
        let (status, headers, body) = self.raw(method, path, &headers, payload).await;
        let body = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body).unwrap_or_else(|_| {
                panic!(
                    "{method} {path}: body is not JSON: {}",
                    String::from_utf8_lossy(&body)
                )
            })
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Pairs a new device with `role` through `paddock pair` and the public pairing route.
    pub async fn pair(&self, env: &Env, role: &str) -> Value {
        let offer = env.pair_offer(role);
        assert_eq!(
            offer["fingerprint"].as_str(),
            Some(self.fingerprint.as_str())
        );
        let r = self
            .call(
                "POST",
                "/api/v1/pair",
                None,
                Some(json!({"secret": offer["secret"], "device_name": format!("{role} device")})),
            )
            .await;
        assert_eq!(r.status, 200, "pairing failed: {}", r.body);
        r.body
    }

    /// Pairs a device with `role`; its access token.
    pub async fn token(&self, env: &Env, role: &str) -> String {
        self.pair(env, role).await["access_token"]
            .as_str()
            .expect("the grant has an access token")
            .to_owned()
    }

    pub async fn ws(&self, token: Option<&str>) -> Ws {
        let io = self
            .tls_with(self.tls.clone())
            .await
            .expect("TLS handshake");
        let url = format!("wss://{}/api/v1/ws", self.addr);
        let (ws, _) = tokio_tungstenite::client_async(url, io)
            .await
            .expect("websocket upgrade");
        let mut ws = ws;
        if let Some(t) = token {
            ws.send(Message::Text(
                json!({"type": "auth", "token": t}).to_string().into(),
            ))
            .await
            .expect("send auth");
            match next_json(&mut ws).await {
                Some(v) if v["type"] == "ready" => {}
                other => panic!("expected ready, got {other:?}"),
            }
        }
        ws
    }
}

pub fn bytes_of(v: Vec<u8>) -> hyper::body::Bytes {
    hyper::body::Bytes::from(v)
}

/// The next JSON text message (skipping binary frames and pings), or `None` once closed.
pub async fn next_json(ws: &mut Ws) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                return Some(serde_json::from_str(&t).expect("json message"))
            }
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return None,
            Ok(Some(Ok(_))) => continue,
            Err(_) => panic!("no message within 10 s"),
        }
    }
}

/// The next message of one of `types`, passing over others (an `error` fails the test).
pub async fn next_json_of(ws: &mut Ws, types: &[&str]) -> Value {
    loop {
        let m = next_json(ws).await.expect("message");
        if types.iter().any(|t| m["type"] == *t) {
            return m;
        }
        assert_ne!(m["type"], "error", "expected one of {types:?}, got {m}");
    }
}

pub async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into()))
        .await
        .expect("send");
}

pub fn relaxed() -> [(&'static str, &'static str); 3] {
    [
        ("PADDOCK_SERVER__REQUESTS_PER_MINUTE", "100000"),
        ("PADDOCK_SERVER__PAIRING_ATTEMPTS_PER_MINUTE", "1000"),
        ("PADDOCK_SERVER__AUDITED_REFUSALS_PER_MINUTE", "100000"),
    ]
}

/// `paddock up` with these settings.
pub fn up_env(env: &Env, vars: &[(&str, &str)]) -> Supervisor {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.up_with(&vars)
}

pub fn up(env: &Env) -> (Supervisor, Web) {
    let sup = up_env(env, &relaxed());
    let web = Web::of(env);
    (sup, web)
}

/// A client that speaks TLS 1.2 only (and trusts any certificate): the endpoint must refuse
/// it at the handshake.
pub fn tls12_only() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .expect("tls12")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert))
        .with_no_client_auth()
}

#[derive(Debug)]
pub struct AnyCert;

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}
