//! A webhook of the owner's own: each notification (and, later, its withdrawal once its
//! request was answered) as a JSON POST signed with HMAC-SHA256.
//!
//! # The signature (how a receiver checks it)
//!
//! Every request carries `Paddock-Timestamp: <unix seconds>` and `Paddock-Signature:
//! v1=<hex>`, where `<hex>` is `HMAC-SHA256(secret, "<timestamp>.<raw body>")` in lowercase
//! hex. A receiver recomputes it over the raw bytes of the body (before any JSON parsing),
//! compares in constant time, and refuses a timestamp more than five minutes from its own
//! clock (a replayed request). `Paddock-Event` says `notification` or `withdrawn`;
//! `Paddock-Delivery` is the notification's id. [`verify`] is that check.
//!
//! The body is `{"event", "notification": {...}, "actions": [{"key", "label", "url"}],
//! "link", "reason"}`: `actions[].url` opens the request in Paddock's UI with that answer
//! ready (its single-use token in the fragment), for receivers that make buttons of their own.

use crate::{http, secret, SetupError};
use paddock_core::notify::config::Secret;
use paddock_core::notify::remote_config::WebhookConfig;
use paddock_core::notify::{
    BoxFuture, Capabilities, Channel, ChannelError, Outgoing, Receipt, Withdrawal,
};
use ring::hmac;
use serde_json::{json, Value};

const NAME: &str = "webhook";
/// A receiver refuses timestamps further than this from its clock.
pub const TOLERANCE_SECS: u64 = 300;

/// The webhook channel.
pub struct Webhook {
    url: String,
    key: hmac::Key,
    client: reqwest::Client,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url)
            .field("secret", &"***")
            .finish()
    }
}

/// `v1=<hex>` for `timestamp` and `body`.
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    format!(
        "v1={}",
        hex(hmac::sign(&key, &signed_bytes(timestamp, body)).as_ref())
    )
}

fn signed_bytes(timestamp: u64, body: &[u8]) -> Vec<u8> {
    let mut m = format!("{timestamp}.").into_bytes();
    m.extend_from_slice(body);
    m
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok().filter(|p| p.len() == 2)?;
            u8::from_str_radix(pair, 16).ok()
        })
        .collect()
}

/// Why a receiver refuses a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the Paddock-Timestamp header is missing or not a number")]
    Timestamp,
    #[error("the request is {0} s away from this clock (more than {TOLERANCE_SECS} s): refused as a possible replay")]
    Stale(u64),
    #[error("the Paddock-Signature header is missing or not `v1=<hex>`")]
    Malformed,
    #[error("the signature does not match: another secret, or the body was changed")]
    Mismatch,
}

/// A receiver's check: `timestamp` and `signature` are the headers' values, `now` its clock.
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: u64,
) -> Result<(), VerifyError> {
    let ts: u64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::Timestamp)?;
    let skew = now.abs_diff(ts);
    if skew > TOLERANCE_SECS {
        return Err(VerifyError::Stale(skew));
    }
    let mac = signature
        .trim()
        .strip_prefix("v1=")
        .and_then(unhex)
        .ok_or(VerifyError::Malformed)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, &signed_bytes(ts, body), &mac).map_err(|_| VerifyError::Mismatch)
}

impl Webhook {
    pub fn new(config: &WebhookConfig) -> Result<Self, SetupError> {
        if !config.url.starts_with("https://") && !config.url.starts_with("http://") {
            return Err(SetupError::new(
                NAME,
                format!("url `{}` is not an http(s) URL", config.url),
            ));
        }
        let secret: Secret = secret::require(
            NAME,
            "secret",
            &config.secret,
            config.secret_file.as_deref(),
        )?;
        if secret.expose().len() < 16 {
            return Err(SetupError::new(
                NAME,
                "secret is shorter than 16 characters; use a long random one (e.g. `openssl rand -hex 32`)",
            ));
        }
        Ok(Self {
            url: config.url.clone(),
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes()),
            client: http::client(NAME, config.ca_file.as_deref(), false)?,
        })
    }

    /// The body for `event` (`notification` or `withdrawn`).
    pub fn body(out: &Outgoing, event: &str, reason: Option<&str>) -> Value {
        let actions: Vec<Value> = if event == "notification" {
            out.actions
                .iter()
                .filter_map(|a| {
                    let url = a.url.as_ref()?;
                    Some(json!({"key": a.action.key, "label": a.action.label, "url": url}))
                })
                .collect()
        } else {
            Vec::new()
        };
        json!({
            "event": event,
            "notification": out.notification.as_ref(),
            "link": out.link_url(),
            "actions": actions,
            "reason": reason,
        })
    }

    async fn post(&self, out: &Outgoing, event: &str, body: &Value) -> Result<(), ChannelError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| ChannelError::Rejected(format!("cannot write the webhook's body: {e}")))?;
        let ts = crate::jwt::now();
        let mac = hmac::sign(&self.key, &signed_bytes(ts, &bytes));
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("paddock-timestamp", ts.to_string())
            .header("paddock-signature", format!("v1={}", hex(mac.as_ref())))
            .header("paddock-event", event)
            .header("paddock-delivery", out.notification.id.as_str())
            .body(bytes)
            .send()
            .await
            .map_err(|e| http::send_error("the webhook", &e))?;
        http::read("the webhook", response).await.map(|_| ())
    }
}

impl Channel for Webhook {
    fn name(&self) -> &str {
        NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            actions: false,
            withdraw: true,
            reply_text: false,
            remote: true,
        }
    }

    fn deliver<'a>(&'a self, out: &'a Outgoing) -> BoxFuture<'a, Result<Receipt, ChannelError>> {
        Box::pin(async move {
            self.post(out, "notification", &Self::body(out, "notification", None))
                .await?;
            Ok(Receipt::default())
        })
    }

    fn withdraw<'a>(
        &'a self,
        out: &'a Outgoing,
        _receipt: &'a Receipt,
        why: &'a Withdrawal,
    ) -> BoxFuture<'a, Result<(), ChannelError>> {
        Box::pin(async move {
            self.post(
                out,
                "withdrawn",
                &Self::body(out, "withdrawn", Some(&why.text)),
            )
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_changed_body_old_timestamp_or_other_secret_does_not() {
        let secret = b"0123456789abcdef0123";
        let body = br#"{"event":"notification"}"#;
        let sig = sign(secret, 1_700_000_000, body);
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64, "{sig}");
        assert_eq!(
            verify(secret, "1700000000", &sig, body, 1_700_000_010),
            Ok(())
        );
        assert_eq!(
            verify(secret, "1700000000", &sig, b"{}", 1_700_000_010),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"another secret!!", "1700000000", &sig, body, 1_700_000_010),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(secret, "1700000000", &sig, body, 1_700_000_000 + 301),
            Err(VerifyError::Stale(301))
        );
        assert_eq!(
            verify(secret, "x", &sig, body, 0),
            Err(VerifyError::Timestamp)
        );
        assert_eq!(
            verify(secret, "1700000000", "sha256=zz", body, 1_700_000_000),
            Err(VerifyError::Malformed)
        );
    }

    #[test]
    fn a_short_secret_is_refused_with_how_to_make_one() {
        let c = WebhookConfig {
            enabled: true,
            url: "https://example.com/hook".into(),
            secret: Secret::new("short"),
            ..Default::default()
        };
        let e = Webhook::new(&c).expect_err("short");
        assert!(e.to_string().contains("openssl rand"), "{e}");
    }
}
