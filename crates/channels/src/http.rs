//! The HTTP client the channels share the habits of: a connect timeout (each attempt's
//! overall timeout is the notifier's), an optional extra certificate to trust, and one
//! reading of a service's answer into a [`ChannelError`] (5xx, 408 and 429 are worth a
//! retry; other refusals are final and say what the service said).

use crate::SetupError;
use paddock_core::notify::ChannelError;
use std::path::Path;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of an error body kept for the delivery log.
const ERROR_BODY: usize = 300;

/// A client for one channel; `ca_file` adds a PEM certificate to the trusted roots.
pub fn client(
    channel: &'static str,
    ca_file: Option<&Path>,
    http2_only: bool,
) -> Result<reqwest::Client, SetupError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("paddock/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none());
    if http2_only {
        builder = builder.http2_prior_knowledge();
    }
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            SetupError::new(
                channel,
                format!("ca_file {} cannot be read: {e}", path.display()),
            )
        })?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| {
            SetupError::new(
                channel,
                format!("ca_file {} is not a PEM certificate: {e}", path.display()),
            )
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build()
        .map_err(|e| SetupError::new(channel, format!("cannot make an HTTP client: {e}")))
}

/// A request that did not get an answer (no connection, reset, cut short): worth a retry.
pub fn send_error(service: &str, e: &reqwest::Error) -> ChannelError {
    ChannelError::Transient(format!("{service} could not be reached: {}", chain(e)))
}

/// An error and its causes in one line, each said once.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(&format!(": {more}"));
        }
        source = s.source();
    }
    text
}

/// Reads a response: `Ok(body)` for 2xx, the right [`ChannelError`] otherwise.
pub async fn read(service: &str, response: reqwest::Response) -> Result<String, ChannelError> {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status.is_success() {
        return Ok(body);
    }
    Err(refusal(service, status.as_u16(), &body))
}

/// What a service's refusal means for the owner, and whether to try again.
pub fn refusal(service: &str, status: u16, body: &str) -> ChannelError {
    let said: String = body.trim().chars().take(ERROR_BODY).collect();
    let said = if said.is_empty() {
        String::new()
    } else {
        format!(": {said}")
    };
    match status {
        408 | 429 | 500..=599 => {
            ChannelError::Transient(format!("{service} answered {status}{said}; will try again"))
        }
        401 | 403 => ChannelError::Rejected(format!(
            "{service} refused the credentials ({status}{said}); check the token or key in its [notify] section"
        )),
        404 => ChannelError::Rejected(format!(
            "{service} has no such address ({status}{said}); check the URL in its [notify] section"
        )),
        _ => ChannelError::Rejected(format!("{service} refused the message ({status}{said})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_whether_another_try_can_help() {
        assert!(refusal("ntfy", 503, "").is_retryable());
        assert!(refusal("ntfy", 429, "slow down").is_retryable());
        let auth = refusal("Slack", 403, "invalid_token");
        assert!(!auth.is_retryable());
        assert!(auth.to_string().contains("invalid_token"), "{auth}");
        assert!(auth.to_string().contains("check the token"), "{auth}");
        assert!(!refusal("Discord", 400, "{}").is_retryable());
    }
}
