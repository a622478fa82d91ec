//! The notification routes: the log (viewers and up), Web Push subscriptions (a device
//! subscribes itself), test sends (admins), and redeeming an action token from a
//! notification's button (no device token: the single-use action token is the credential;
//! the per-address rate limit applies), and the settings (viewers read, admins change).

use crate::app::{ApiJson, ApiPath, AppState, Caller};
use crate::error::ApiError;
use axum::extract::State;
use axum::Json;
use paddock_core::notify::settings::{NotifySettings, NotifySettingsView, SettingsError};
use paddock_core::notify::subscriptions::WebPushSubscription;
use paddock_core::notify::{DeliveryView, Notification, RedeemError};
use paddock_proto::agent::PermissionRequest;
use paddock_proto::web::{ApiErrorCode, ErrorBody};
use serde::{Deserialize, Serialize};

/// The notifications made lately, newest first, with every channel's attempts.
#[derive(Debug, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
pub struct NotificationLog {
    pub notifications: Vec<Notification>,
    pub deliveries: Vec<DeliveryView>,
}

/// What a browser needs to subscribe to Web Push.
#[derive(Debug, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
pub struct WebPushInfo {
    /// Whether Web Push is on (`[notify.web_push] enabled`, and its key usable).
    pub enabled: bool,
    /// The VAPID public key, base64url: `applicationServerKey` for `PushManager.subscribe`.
    pub public_key: Option<String>,
    /// How many browsers are subscribed.
    pub subscriptions: u32,
}

/// Pressing a notification's button.
#[derive(Debug, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
pub struct ActRequest {
    /// The action token the notification carried.
    pub token: String,
    /// A deny's reason, where the owner could type one.
    #[serde(default)]
    pub message: Option<String>,
}

/// The request as answered by the button.
#[derive(Debug, Serialize, Deserialize, ts_rs::TS, utoipa::ToSchema)]
pub struct ActResponse {
    pub request: PermissionRequest,
    pub by: String,
}

fn unavailable(what: &str) -> ApiError {
    ApiError::new(ApiErrorCode::Unavailable, what)
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationLog)))]
pub async fn log(State(st): State<AppState>) -> Json<NotificationLog> {
    let (notifications, deliveries) = st.handle.notifier().log(200).await;
    Json(NotificationLog {
        notifications,
        deliveries,
    })
}

#[utoipa::path(get, path = "/api/v1/notifications/web-push", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = WebPushInfo)))]
pub async fn web_push_info(State(st): State<AppState>) -> Json<WebPushInfo> {
    let setup = st.handle.notifier().web_push();
    Json(WebPushInfo {
        enabled: setup.is_some(),
        public_key: setup.map(|s| s.vapid.public_key()),
        subscriptions: setup
            .map(|s| s.subscriptions.list().len() as u32)
            .unwrap_or(0),
    })
}

#[utoipa::path(post, path = "/api/v1/notifications/web-push/subscriptions", tag = "notifications", security(("bearer" = [])),
    request_body = WebPushSubscription,
    responses((status = 200, body = WebPushSubscription), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn subscribe(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(mut sub): ApiJson<WebPushSubscription>,
) -> Result<Json<WebPushSubscription>, ApiError> {
    let setup = st
        .handle
        .notifier()
        .web_push()
        .ok_or_else(|| unavailable("Web Push is off on this host ([notify.web_push] enabled = false, or its key could not be made: see the health board)"))?;
    let device = st.handle.access().device(&caller.0.device_id);
    sub.device = Some(caller.0.device_id.to_string());
    sub.device_name = device.map(|d| d.name);
    let saved = setup
        .subscriptions
        .add(sub)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(Json(saved))
}

#[utoipa::path(post, path = "/api/v1/notifications/act", tag = "notifications",
    request_body = ActRequest,
    responses((status = 200, body = ActResponse), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn act(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<ActRequest>,
) -> Result<Json<ActResponse>, ApiError> {
    match paddock_core::notify::redeem(&st.handle, &req.token, None, req.message).await {
        Ok(r) => Ok(Json(ActResponse {
            request: r.request,
            by: r.by,
        })),
        Err(RedeemError::Token(e)) => Err(ApiError::new(ApiErrorCode::BadRequest, e.to_string())),
        Err(RedeemError::Decide(e)) => Err(e.into()),
    }
}

#[utoipa::path(post, path = "/api/v1/notifications/test/{channel}", tag = "notifications", security(("bearer" = [])),
    params(("channel" = String, Path, description = "channel name: desktop, web_push, ...")),
    responses((status = 200, body = DeliveryView), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn test(
    State(st): State<AppState>,
    ApiPath(channel): ApiPath<String>,
) -> Result<Json<DeliveryView>, ApiError> {
    use paddock_core::notify::TestError;
    st.handle
        .test_notify_channel(&channel)
        .await
        .map(Json)
        .map_err(|e| match e {
            TestError::NoChannel(..) => ApiError::not_found(e.to_string()),
            TestError::Failed { .. } => unavailable(&e.to_string()),
        })
}

#[utoipa::path(get, path = "/api/v1/notifications/settings", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotifySettingsView)))]
pub async fn settings(State(st): State<AppState>) -> Json<NotifySettingsView> {
    Json(st.handle.notify_settings())
}

#[utoipa::path(put, path = "/api/v1/notifications/settings", tag = "notifications", security(("bearer" = [])),
    request_body = NotifySettings,
    responses((status = 200, body = NotifySettingsView), (status = 400, body = ErrorBody), (status = 500, body = ErrorBody)))]
pub async fn change_settings(
    State(st): State<AppState>,
    ApiJson(settings): ApiJson<NotifySettings>,
) -> Result<Json<NotifySettingsView>, ApiError> {
    let handle = st.handle.clone();
    // Reads and writes config.toml: off the async threads.
    tokio::task::spawn_blocking(move || handle.set_notify_settings(&settings))
        .await
        .map_err(|e| ApiError::internal(format!("saving the settings stopped: {e}")))?
        .map(Json)
        .map_err(|e| match e {
            SettingsError::Invalid(_) => ApiError::bad_request(e.to_string()),
            _ => ApiError::internal(e.to_string()),
        })
}
