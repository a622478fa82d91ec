//! The router's shared state and the layers every request passes: security headers, timing,
//! per-address rate limits, the Origin check, and the one table that says which permission
//! each route needs (checked by [`guard`], which also audits every 401 and 403).

use crate::error::ApiError;
use crate::refusals::Refusal;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use paddock_core::access::{AuditInput, Principal};
use paddock_core::config::ServerConfig;
use paddock_core::Handle;
use paddock_proto::access::Permission;
use paddock_proto::web::ApiErrorCode;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone (rate-limited): health, pairing, token refresh, the OpenAPI document, the
    /// WebSocket upgrade (which authenticates inside).
    Public,
    Permission(Permission),
}

/// Every API route: method, path (axum syntax) and what it needs. The router is built from
/// the same paths; a route missing here is refused (fail closed).
const LIST: Need = Need::Permission(Permission::SessionsList);
const READ: Need = Need::Permission(Permission::Read);
const INPUT: Need = Need::Permission(Permission::Input);
const CONTROL: Need = Need::Permission(Permission::Control);
const ADMIN: Need = Need::Permission(Permission::Admin);

#[rustfmt::skip]
pub const ROUTES: &[(&str, &str, Need)] = &[
    ("GET", "/health", Need::Public),
    ("GET", "/api/v1/health", Need::Public),
    ("GET", "/api/v1/openapi.json", Need::Public),
    ("POST", "/api/v1/pair", Need::Public),
    ("POST", "/api/v1/auth/refresh", Need::Public),
    ("GET", "/api/v1/ws", Need::Public),
    ("GET", "/api/v1/me", LIST),
    ("GET", "/api/v1/sessions", LIST),
    ("POST", "/api/v1/sessions", CONTROL),
    ("GET", "/api/v1/sessions/{id}", LIST),
    ("POST", "/api/v1/sessions/{id}/input", INPUT),
    ("POST", "/api/v1/sessions/{id}/resize", INPUT),
    ("POST", "/api/v1/sessions/{id}/message", INPUT),
    ("POST", "/api/v1/sessions/{id}/signal", CONTROL),
    ("POST", "/api/v1/sessions/{id}/restart", CONTROL),
    ("POST", "/api/v1/sessions/{id}/control", CONTROL),
    ("DELETE", "/api/v1/sessions/{id}", CONTROL),
    ("GET", "/api/v1/sessions/{id}/insight", READ),
    ("GET", "/api/v1/sessions/{id}/thinking", READ),
    ("GET", "/api/v1/sessions/{id}/transcript", READ),
    ("GET", "/api/v1/sessions/{id}/conversation", READ),
    ("GET", "/api/v1/sessions/{id}/conversation/turns/{index}", READ),
    ("GET", "/api/v1/permissions", READ),
    ("POST", "/api/v1/permissions/{id}/decide", CONTROL),
    ("GET", "/api/v1/system/status", READ),
    ("GET", "/api/v1/system/metrics", READ),
    ("GET", "/api/v1/system/logs", READ),
    ("GET", "/api/v1/system/doctor", ADMIN),
    ("GET", "/api/v1/processes", READ),
    ("GET", "/api/v1/history", READ),
    ("GET", "/api/v1/devices", ADMIN),
    ("PATCH", "/api/v1/devices/{id}", ADMIN),
    ("DELETE", "/api/v1/devices/{id}", ADMIN),
    ("POST", "/api/v1/pairing", ADMIN),
    ("GET", "/api/v1/audit", ADMIN),
    ("GET", "/api/v1/notifications", READ),
    ("GET", "/api/v1/notifications/web-push", READ),
    // A device subscribes itself; its notifications carry Approve / Deny.
    ("POST", "/api/v1/notifications/web-push/subscriptions", CONTROL),
    // The single-use action token is the credential (per-address rate limit applies).
    ("POST", "/api/v1/notifications/act", Need::Public),
    ("POST", "/api/v1/notifications/test/{channel}", ADMIN),
    ("GET", "/api/v1/notifications/settings", READ),
    ("PUT", "/api/v1/notifications/settings", ADMIN),
    // MCP over streamable HTTP: any paired device may connect; each tool then needs its own
    // permission of the device's role (`paddock_core::mcp`).
    ("POST", "/mcp", LIST),
    ("GET", "/mcp", LIST),
    ("DELETE", "/mcp", LIST),
];

/// The state every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub handle: Handle,
    pub config: Arc<ServerConfig>,
    pub tls: bool,
    pub limiter: Arc<Limiter>,
    pub pair_limiter: Arc<Limiter>,
    pub metrics: Arc<Metrics>,
    pub refusals: Arc<crate::refusals::Refusals>,
}

/// A token bucket per client address: `per_minute` requests, refilled continuously.
pub struct Limiter {
    per_minute: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl Limiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: f64::from(per_minute.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` when allowed, else the seconds until the next request would be.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let rate = self.per_minute / 60.0;
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if b.len() > 10_000 {
            b.retain(|_, (_, t)| now.duration_since(*t) < Duration::from_secs(120));
        }
        let (tokens, last) = b.entry(ip).or_insert((self.per_minute, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(self.per_minute);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

/// The endpoint's own figures: requests, errors, response times.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<MetricsInner>,
}

#[derive(Default)]
struct MetricsInner {
    requests: u64,
    client_errors: u64,
    server_errors: u64,
    rate_limited: u64,
    /// The last 4096 response times in microseconds.
    recent_us: Vec<u32>,
    next: usize,
}

/// What `/api/v1/system/metrics` reports about the endpoint.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct EndpointMetrics {
    #[ts(type = "number")]
    pub requests: u64,
    #[ts(type = "number")]
    pub client_errors: u64,
    #[ts(type = "number")]
    pub server_errors: u64,
    #[ts(type = "number")]
    pub rate_limited: u64,
    /// Share of the recent requests answered with 5xx.
    pub error_rate: f64,
    /// Response times of the last (up to) 4096 requests, microseconds.
    pub p50_us: u32,
    pub p95_us: u32,
    pub p99_us: u32,
}

impl Metrics {
    fn record(&self, status: u16, took: Duration) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        m.requests += 1;
        match status {
            429 => {
                m.rate_limited += 1;
                m.client_errors += 1
            }
            400..=499 => m.client_errors += 1,
            500..=599 => m.server_errors += 1,
            _ => {}
        }
        let us = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        if m.recent_us.len() < 4096 {
            m.recent_us.push(us);
        } else {
            let i = m.next;
            m.recent_us[i] = us;
        }
        m.next = (m.next + 1) % 4096;
    }

    pub fn snapshot(&self) -> EndpointMetrics {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut v = m.recent_us.clone();
        v.sort_unstable();
        let q = |p: f64| {
            if v.is_empty() {
                0
            } else {
                v[((v.len() - 1) as f64 * p).round() as usize]
            }
        };
        EndpointMetrics {
            requests: m.requests,
            client_errors: m.client_errors,
            server_errors: m.server_errors,
            rate_limited: m.rate_limited,
            error_rate: if m.requests == 0 {
                0.0
            } else {
                m.server_errors as f64 / m.requests as f64
            },
            p50_us: q(0.5),
            p95_us: q(0.95),
            p99_us: q(0.99),
        }
    }
}

pub fn peer(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// The outermost layer: security headers on every response, timing, the rate limit and the
/// Origin check.
pub async fn outer(
    axum::extract::State(st): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let path = req.uri().path().to_owned();
    let api = path.starts_with("/api/") || path == "/health" || path == "/mcp";
    let mut resp = match pre_checks(&st, &req, &path, api) {
        Err(e) => e.into_response(),
        Ok(()) => next.run(req).await,
    };
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    if st.tls {
        set(
            h,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' wss: ws:; \
         worker-src 'self' blob:; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'",
    );
    h.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=(), usb=()"),
    );
    h.insert(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if api && !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    st.metrics.record(resp.status().as_u16(), started.elapsed());
    resp
}

fn pre_checks(st: &AppState, req: &Request, path: &str, api: bool) -> Result<(), ApiError> {
    let ip = peer(req);
    if api {
        let limited = |secs: u64| {
            ApiError {
            retry_after: Some(secs),
            ..ApiError::new(
                ApiErrorCode::RateLimited,
                format!("too many requests from {ip}; wait {secs} s (the limit is set by server.requests_per_minute)"),
            )
        }
        };
        let target = format!("{} {path}", req.method());
        let refused = |action: &'static str, result: &'static str, e: &ApiError| {
            st.refusals.record(
                st.handle.access(),
                ip,
                Refusal {
                    result,
                    ..Refusal::new(action, target.clone(), e.message.clone())
                },
            );
        };
        if path == "/api/v1/pair" || path == "/api/v1/auth/refresh" {
            st.pair_limiter
                .check(ip)
                .map_err(|secs| ApiError {
                    retry_after: Some(secs),
                    ..ApiError::new(
                        ApiErrorCode::RateLimited,
                        format!("too many pairing attempts from {ip}; wait {secs} s"),
                    )
                })
                .inspect_err(|e| refused("rate.limited", "rate_limited", e))?;
        }
        st.limiter
            .check(ip)
            .map_err(limited)
            .inspect_err(|e| refused("rate.limited", "rate_limited", e))?;
        if let Some(origin) = req.headers().get(header::ORIGIN) {
            if !origin_allowed(st, req.headers(), origin) {
                let e = ApiError::new(
                    ApiErrorCode::OriginDenied,
                    format!(
                        "requests from the page at {} are not allowed; add its origin to server.allowed_origins if it is yours",
                        origin.to_str().unwrap_or("?")
                    ),
                );
                refused("origin.denied", "refused", &e);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// The endpoint's own origin (from `Host`) or one configured; never a wildcard.
pub fn origin_allowed(st: &AppState, headers: &HeaderMap, origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if st.config.allowed_origins.iter().any(|o| o == origin) {
        return true;
    }
    let scheme = if st.tls { "https" } else { "http" };
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|host| origin.eq_ignore_ascii_case(&format!("{scheme}://{host}")))
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Checks the route's need against the caller; audits every refusal.
pub async fn guard(
    axum::extract::State(st): axum::extract::State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let need = ROUTES
        .iter()
        .find(|(m, p, _)| {
            *p == matched && Method::from_bytes(m.as_bytes()).ok() == Some(method.clone())
        })
        .map(|(_, _, n)| *n);
    let target = format!("{method} {}", req.uri().path());
    let ip = peer(&req);
    let Some(need) = need else {
        return ApiError::new(
            ApiErrorCode::Forbidden,
            "this route has no access rule; refused",
        )
        .into_response();
    };
    let Need::Permission(perm) = need else {
        return next.run(req).await;
    };
    let access = st.handle.access().clone();
    let principal = match bearer(req.headers()).map(|t| access.verify(t)) {
        Some(Ok(p)) => p,
        other => {
            let err = match other {
                Some(Err(e)) => ApiError::from(e),
                _ => ApiError::from(paddock_core::access::AccessError::MissingToken),
            };
            let written = st.refusals.record(
                &access,
                ip,
                Refusal {
                    result: "unauthenticated",
                    ..Refusal::new("auth.unauthenticated", target, err.message.clone())
                },
            );
            if let Some(w) = written {
                let _ = w.await;
            }
            return err.into_response();
        }
    };
    if !principal.allows(perm) {
        let err = ApiError::new(
            ApiErrorCode::Forbidden,
            format!(
                "the role {} may not do this (it needs {}); ask the host's owner for a device with a higher role",
                principal.role,
                perm.as_str()
            ),
        );
        audit(
            &st,
            AuditInput {
                actor: principal.actor(),
                device_id: Some(principal.device_id.clone()),
                action: "auth.forbidden".into(),
                target: Some(target),
                result: "denied".into(),
                detail: Some(err.message.clone()),
            },
        )
        .await;
        return err.into_response();
    }
    if access.touch_is_due(&principal.device_id) {
        let access = access.clone();
        let id = principal.device_id.clone();
        tokio::task::spawn_blocking(move || access.touch(&id));
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// Writes an audit entry off the async threads.
pub async fn audit(st: &AppState, entry: AuditInput) {
    let access = st.handle.access().clone();
    let _ = tokio::task::spawn_blocking(move || access.audit(entry)).await;
}

/// The caller, set by [`guard`].
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| ApiError::new(ApiErrorCode::Unauthorized, "no access token"))
    }
}

/// `Json` whose rejections are JSON errors with stable codes.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => {
                let code = if rej.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiErrorCode::PayloadTooLarge
                } else {
                    ApiErrorCode::BadRequest
                };
                Err(ApiError::new(
                    code,
                    format!(
                        "{}; the API is described at /api/v1/openapi.json",
                        rej.body_text()
                    ),
                ))
            }
        }
    }
}

/// `Path` whose rejections (a parameter that is not UTF-8 once decoded, e.g. overlong
/// `%C0%AE`) are JSON errors like every other.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|rej| {
                ApiError::bad_request(format!(
                    "{}; ids are as GET /api/v1/sessions (or the list they come from) gives them",
                    rej.body_text()
                ))
            })
    }
}

/// `Query` whose rejections are JSON errors.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|rej| ApiError::bad_request(rej.body_text()))
    }
}
