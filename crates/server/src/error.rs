//! The endpoint's errors: a stable code, an HTTP status and a message for people, sent as
//! `{"error": {"code", "message"}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use paddock_core::access::AccessError;
use paddock_core::terminal::TerminalError;
use paddock_proto::web::{ApiErrorCode, ErrorBody, ErrorDetail};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ApiErrorCode,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ApiErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ApiErrorCode::NotFound, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ApiErrorCode::BadRequest, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ApiErrorCode::Internal, message)
    }

    pub fn status(&self) -> StatusCode {
        match self.code {
            ApiErrorCode::Unauthorized | ApiErrorCode::PairingFailed => StatusCode::UNAUTHORIZED,
            ApiErrorCode::Forbidden | ApiErrorCode::OriginDenied => StatusCode::FORBIDDEN,
            ApiErrorCode::NotFound => StatusCode::NOT_FOUND,
            ApiErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ApiErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ApiErrorCode::SessionExited
            | ApiErrorCode::SessionRunning
            | ApiErrorCode::AlreadyDecided
            | ApiErrorCode::Unsupported => StatusCode::CONFLICT,
            ApiErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        let code = match &e {
            AccessError::MissingToken
            | AccessError::BadToken(_)
            | AccessError::Expired
            | AccessError::Revoked
            | AccessError::BadRefresh
            | AccessError::RefreshReused { .. } => ApiErrorCode::Unauthorized,
            AccessError::PairingInvalid
            | AccessError::PairingExpired
            | AccessError::PairingUsed => ApiErrorCode::PairingFailed,
            AccessError::NoSuchDevice(_) => ApiErrorCode::NotFound,
            AccessError::BadName => ApiErrorCode::BadRequest,
            AccessError::NoDatabase | AccessError::Store(_) | AccessError::DiskFull => {
                ApiErrorCode::Unavailable
            }
            AccessError::Key { .. } | AccessError::Random => ApiErrorCode::Internal,
        };
        Self::new(code, e.to_string())
    }
}

impl From<TerminalError> for ApiError {
    fn from(e: TerminalError) -> Self {
        use paddock_proto::ErrorCode as H;
        let code = match &e {
            TerminalError::NoSuchSession(_) => ApiErrorCode::NotFound,
            TerminalError::NoTerminal(..) => ApiErrorCode::Unsupported,
            TerminalError::Refused(p) => match p.code {
                H::SessionExited => ApiErrorCode::SessionExited,
                H::SessionRunning => ApiErrorCode::SessionRunning,
                H::InvalidSize => ApiErrorCode::BadRequest,
                H::Unsupported => ApiErrorCode::Unsupported,
                _ => ApiErrorCode::Unavailable,
            },
            TerminalError::Holder(_) => ApiErrorCode::Unavailable,
            TerminalError::Os { .. } => ApiErrorCode::Unavailable,
            TerminalError::Background(b) if b.is_bad_request() => ApiErrorCode::BadRequest,
            TerminalError::Background(_) => ApiErrorCode::Unavailable,
        };
        Self::new(code, e.to_string())
    }
}

impl From<paddock_core::control::ControlError> for ApiError {
    fn from(e: paddock_core::control::ControlError) -> Self {
        use paddock_core::control::ControlError as C;
        use paddock_core::permissions::DecideError as D;
        let code = match &e {
            C::NotFound(_) | C::Decide(D::NotFound(_)) => ApiErrorCode::NotFound,
            C::Ambiguous(..) | C::Invalid(_) | C::Decide(D::Invalid(_)) => ApiErrorCode::BadRequest,
            C::Decide(D::AlreadyDecided { .. } | D::Withdrawn { .. }) => {
                ApiErrorCode::AlreadyDecided
            }
            C::Unsupported(_) => ApiErrorCode::Unsupported,
            C::Exited { .. } => ApiErrorCode::SessionExited,
            C::Holder { .. } | C::Os { .. } => ApiErrorCode::Unavailable,
        };
        Self::new(code, e.to_string())
    }
}

impl From<paddock_core::start::StartError> for ApiError {
    fn from(e: paddock_core::start::StartError) -> Self {
        use paddock_core::start::StartError as S;
        let code = match &e {
            e if e.is_bad_request() => ApiErrorCode::BadRequest,
            // The holder's own refusal: the program is missing or cannot run.
            S::Launch(paddock_host::launch::LaunchError::Refused(_)) => ApiErrorCode::BadRequest,
            _ => ApiErrorCode::Unavailable,
        };
        Self::new(code, e.to_string())
    }
}
