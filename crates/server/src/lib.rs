//! Paddock's endpoint: HTTPS REST and WSS for the UI, the apps and browsers on other devices.
//! TLS 1.3 (rustls with `ring`, a self-signed certificate pinned through pairing), device
//! tokens with roles, per-address rate limits, security headers, the OpenAPI document and the
//! embedded UI. Started by `paddock up`; every operation is a method of the supervisor's
//! [`paddock_core::Handle`] and the handlers here only adapt it.
#![forbid(unsafe_code)]

pub mod app;
pub mod conversation;
pub mod error;
pub mod host;
pub mod notifications;
pub mod openapi;
pub mod refusals;
pub mod rest;
pub mod tls;
pub mod ui;
pub mod wire;
pub mod ws;

use app::AppState;
use axum::routing::{get, patch, post};
use axum::Router;
use paddock_core::supervisor::Endpoint;
use paddock_core::Handle;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Why the endpoint cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("server.listen `{0}` is not an IP address (e.g. 127.0.0.1, 192.168.1.20, 0.0.0.0)")]
    BadListen(String),
    #[error("plain HTTP is allowed on loopback only, and {0} is not loopback; turn server.insecure_http off")]
    InsecureNotLoopback(IpAddr),
    #[error("cannot listen on {addr}: {source}; is another `paddock up` (or another program) using it? Choose another with --port or server.port")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

/// A running endpoint.
pub struct Server {
    pub url: String,
    pub addr: SocketAddr,
    pub fingerprint: Option<String>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds and serves as `handle.config().server` says; records its URL on the handle.
    pub async fn start(handle: Handle) -> Result<Self, ServerError> {
        let cfg = handle.config().server.clone();
        let ip: IpAddr = cfg
            .listen
            .parse()
            .map_err(|_| ServerError::BadListen(cfg.listen.clone()))?;
        if cfg.insecure_http && !ip.is_loopback() {
            return Err(ServerError::InsecureNotLoopback(ip));
        }
        let addr = SocketAddr::new(ip, cfg.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        let tls = if cfg.insecure_http {
            None
        } else if let (Some(cert), Some(key)) = (&cfg.cert, &cfg.key) {
            Some(tls::own_server_config(cert, key)?)
        } else if let Some(one) = cfg.cert.as_ref().or(cfg.key.as_ref()) {
            return Err(tls::TlsError::Own {
                path: one.clone(),
                message: "`[server] cert` and `key` go together; set both, or neither for a self-signed certificate".into(),
            }
            .into());
        } else {
            let dir = handle.config().data_dir().join("endpoint").join("tls");
            let id = tls::load_or_make(&dir, ip)?;
            Some((tls::server_config(&id)?, id.fingerprint))
        };
        let host = if ip.is_unspecified() {
            IpAddr::from([127, 0, 0, 1])
        } else {
            ip
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = match host {
            IpAddr::V6(v6) => format!("{scheme}://[{v6}]:{}", addr.port()),
            IpAddr::V4(v4) => format!("{scheme}://{v4}:{}", addr.port()),
        };
        let fingerprint = tls.as_ref().map(|t| t.1.clone());
        let state = AppState {
            handle: handle.clone(),
            config: Arc::new(cfg.clone()),
            tls: tls.is_some(),
            limiter: Arc::new(app::Limiter::new(cfg.requests_per_minute)),
            pair_limiter: Arc::new(app::Limiter::new(cfg.pairing_attempts_per_minute)),
            metrics: Arc::default(),
            refusals: Arc::new(refusals::Refusals::new(cfg.audited_refusals_per_minute)),
        };
        let gate = Gate {
            access: handle.access().clone(),
            refusals: state.refusals.clone(),
            header_timeout: cfg.header_timeout.max(Duration::from_millis(100)),
            per_address: cfg.max_connections_per_address.max(1) as usize,
        };
        let router = router(state);
        let (shutdown, rx) = watch::channel(false);
        let acceptor = tls.map(|t| tokio_rustls::TlsAcceptor::from(t.0));
        let task = tokio::spawn(accept_loop(listener, acceptor, router, gate, rx));
        handle.set_endpoint(Some(Endpoint {
            url: url.clone(),
            fingerprint: fingerprint.clone(),
        }));
        tracing::info!(%url, fingerprint = fingerprint.as_deref().unwrap_or("none (plain HTTP)"), "endpoint serving");
        Ok(Self {
            url,
            addr,
            fingerprint,
            shutdown,
            task,
        })
    }

    /// Stops accepting and closes every connection.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// The whole API and the UI.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(rest::health))
        .route("/api/v1/health", get(rest::health))
        .route("/api/v1/openapi.json", get(openapi::serve))
        .route("/api/v1/pair", post(rest::pair))
        .route("/api/v1/auth/refresh", post(rest::refresh))
        .route("/api/v1/ws", get(ws::upgrade))
        .route("/api/v1/me", get(rest::me))
        .route(
            "/api/v1/sessions",
            get(rest::sessions).post(rest::start_session),
        )
        .route(
            "/api/v1/sessions/{id}",
            get(rest::session).delete(rest::remove),
        )
        .route("/api/v1/sessions/{id}/input", post(rest::input))
        .route("/api/v1/sessions/{id}/resize", post(rest::resize))
        .route("/api/v1/sessions/{id}/signal", post(rest::signal))
        .route("/api/v1/sessions/{id}/restart", post(rest::restart))
        .route("/api/v1/sessions/{id}/message", post(rest::message))
        .route("/api/v1/sessions/{id}/control", post(rest::control))
        .route("/api/v1/sessions/{id}/insight", get(rest::insight))
        .route("/api/v1/sessions/{id}/thinking", get(rest::thinking))
        .route("/api/v1/sessions/{id}/transcript", get(rest::transcript))
        .route(
            "/api/v1/sessions/{id}/conversation",
            get(conversation::page),
        )
        .route(
            "/api/v1/sessions/{id}/conversation/turns/{index}",
            get(conversation::turn),
        )
        .route("/api/v1/permissions", get(rest::permissions))
        .route("/api/v1/permissions/{id}/decide", post(rest::decide))
        .route("/api/v1/system/status", get(rest::status))
        .route("/api/v1/system/doctor", get(rest::doctor))
        .route("/api/v1/system/metrics", get(rest::metrics))
        .route("/api/v1/system/logs", get(rest::logs))
        .route("/api/v1/processes", get(rest::processes))
        .route("/api/v1/history", get(rest::history))
        .route("/api/v1/devices", get(rest::devices))
        .route(
            "/api/v1/devices/{id}",
            patch(rest::rename_device).delete(rest::revoke_device),
        )
        .route("/api/v1/pairing", post(rest::create_pairing))
        .route("/api/v1/audit", get(rest::audit_log))
        .route("/api/v1/notifications", get(notifications::log))
        .route(
            "/api/v1/notifications/web-push",
            get(notifications::web_push_info),
        )
        .route(
            "/api/v1/notifications/web-push/subscriptions",
            post(notifications::subscribe),
        )
        .route("/api/v1/notifications/act", post(notifications::act))
        .route(
            "/api/v1/notifications/test/{channel}",
            post(notifications::test),
        )
        .route(
            "/api/v1/notifications/settings",
            get(notifications::settings).put(notifications::change_settings),
        )
        .route_service(
            "/mcp",
            paddock_core::mcp::http::service(state.handle.clone(), &endpoint_hosts(&state.config)),
        )
        .method_not_allowed_fallback(rest::method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            app::guard,
        ));
    api.route("/api/{*rest}", axum::routing::any(rest::api_not_found))
        .fallback(ui::serve)
        .layer(axum::extract::DefaultBodyLimit::max(512 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            app::outer,
        ))
        .with_state(state)
}

/// The names and addresses the endpoint is reached by, for `/mcp`'s Host check: the listen
/// address (unless it is a wildcard), this machine's name, and the hosts of the configured
/// origins (`server.allowed_origins`, where an owner lists a LAN or tailnet name).
fn endpoint_hosts(cfg: &paddock_core::config::ServerConfig) -> Vec<String> {
    let mut hosts = Vec::new();
    if let Ok(ip) = cfg.listen.parse::<IpAddr>() {
        if !ip.is_unspecified() {
            hosts.push(match ip {
                IpAddr::V6(v6) => format!("[{v6}]"),
                IpAddr::V4(v4) => v4.to_string(),
            });
        }
    }
    if let Ok(name) = machine_name() {
        hosts.push(name);
    }
    for origin in &cfg.allowed_origins {
        let rest = origin.split_once("://").map_or(origin.as_str(), |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or_default();
        let host = match authority.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => authority,
        };
        if !host.is_empty() {
            hosts.push(host.to_owned());
        }
    }
    hosts
}

fn machine_name() -> std::io::Result<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_owned())
}

/// Connections served at once; more are closed at accept.
const MAX_CONNECTIONS: usize = 1024;

/// What the accept loop enforces before a request reaches the router: the handshake and
/// header deadline and the per-address connection cap, each refusal audited.
struct Gate {
    access: paddock_core::access::Access,
    refusals: Arc<refusals::Refusals>,
    header_timeout: Duration,
    per_address: usize,
}

impl Gate {
    fn refuse(&self, peer: SocketAddr, action: &'static str, reason: String) {
        self.refusals.record(
            &self.access,
            peer.ip(),
            refusals::Refusal::new(action, "connection", reason),
        );
    }
}

/// Open connections per client address; a [`Slot`] gives its place back when dropped.
#[derive(Default, Clone)]
struct PerAddress(Arc<std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>>);

struct Slot {
    map: PerAddress,
    ip: IpAddr,
}

impl PerAddress {
    fn take(&self, ip: IpAddr, cap: usize) -> Option<Slot> {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(ip).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(Slot {
            map: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut m = self.map.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    router: Router,
    gate: Gate,
    mut shutdown: watch::Receiver<bool>,
) {
    let gate = Arc::new(gate);
    let open = PerAddress::default();
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if conns.len() >= MAX_CONNECTIONS {
            tracing::warn!(%peer, "refusing a connection: {MAX_CONNECTIONS} are open already");
            gate.refuse(
                peer,
                "conn.refused",
                format!("{MAX_CONNECTIONS} connections are open already"),
            );
            drop(tcp);
            continue;
        }
        let Some(slot) = open.take(peer.ip(), gate.per_address) else {
            tracing::debug!(%peer, "refusing a connection: too many from this address");
            gate.refuse(
                peer,
                "conn.refused",
                format!(
                    "{} connections from this address are open already (server.max_connections_per_address)",
                    gate.per_address
                ),
            );
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let acceptor = acceptor.clone();
        let gate = gate.clone();
        conns.spawn(async move {
            let _slot = slot;
            match acceptor {
                Some(a) => match tokio::time::timeout(gate.header_timeout, a.accept(tcp)).await {
                    Ok(Ok(tls)) => serve_conn(tls, peer, router, &gate).await,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake refused");
                        gate.refuse(peer, "tls.refused", format!("TLS handshake refused: {e}"));
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        gate.refuse(
                            peer,
                            "tls.refused",
                            format!(
                                "the TLS handshake was not finished within {} (server.header_timeout)",
                                humantime::format_duration(gate.header_timeout)
                            ),
                        );
                    }
                },
                None => serve_conn(tcp, peer, router, &gate).await,
            }
        });
    }
    conns.abort_all();
}

async fn serve_conn<IO>(io: IO, peer: SocketAddr, router: Router, gate: &Gate)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use tower::ServiceExt;
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        router.clone().oneshot(req)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .max_buf_size(256 * 1024)
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(gate.header_timeout)
        .serve_connection(hyper_util::rt::TokioIo::new(io), svc)
        .with_upgrades();
    if let Err(e) = conn.await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
        if e.is_timeout() {
            gate.refuse(
                peer,
                "http.header_timeout",
                format!(
                    "the request's headers were not finished within {} (server.header_timeout)",
                    humantime::format_duration(gate.header_timeout)
                ),
            );
        }
    }
}

/// Starts the endpoint if the configuration enables it; failures are reported on the
/// supervisor's health board (component `endpoint`) instead of stopping the supervisor.
pub async fn start_if_enabled(handle: &Handle) -> Option<Server> {
    use paddock_proto::supervisor::HealthStatus;
    if !handle.config().server.enabled {
        handle.health().set(
            "endpoint",
            HealthStatus::Healthy,
            "disabled by server.enabled = false",
        );
        return None;
    }
    match Server::start(handle.clone()).await {
        Ok(s) => {
            handle.health().set(
                "endpoint",
                HealthStatus::Healthy,
                format!("serving {}", s.url),
            );
            Some(s)
        }
        Err(e) => {
            tracing::error!(error = %e, "the endpoint cannot start; the supervisor runs without it");
            handle
                .health()
                .set("endpoint", HealthStatus::Unhealthy, e.to_string());
            None
        }
    }
}
