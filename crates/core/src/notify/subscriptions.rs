//! Web Push subscriptions: what each browser or installed web app gave when it subscribed
//! through the UI (its push service's endpoint and its keys), per paired device, kept in
//! `<data>/notify/web_push.json` (0600). A push service's 404 or 410 removes one.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// A browser's `PushSubscription.toJSON()` plus whose it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct WebPushSubscription {
    /// The push service URL to POST to.
    pub endpoint: String,
    pub keys: SubscriptionKeys,
    /// The paired device it belongs to (filled in by the host, not the browser).
    #[serde(default)]
    pub device: Option<String>,
    /// The device's name, for the log and "answered on ...".
    #[serde(default)]
    pub device_name: Option<String>,
    /// RFC 3339 UTC; filled in by the host.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// The subscription's keys, base64url as browsers give them.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key (65 bytes uncompressed).
    pub p256dh: String,
    /// The 16-byte authentication secret.
    pub auth: String,
}

impl std::fmt::Debug for SubscriptionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubscriptionKeys(***)")
    }
}

/// Why a subscription was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("the push endpoint must be an https URL (plain http only on loopback), not `{0}`")]
    BadEndpoint(String),
    #[error("the subscription's keys are not a P-256 public key (p256dh, 65 bytes) and a 16-byte auth secret, base64url")]
    BadKeys,
    #[error("cannot save the subscriptions in {path}: {source}")]
    Save {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The subscriptions. Cheap to clone.
#[derive(Clone)]
pub struct Subscriptions {
    path: PathBuf,
    list: Arc<Mutex<Vec<WebPushSubscription>>>,
}

impl Subscriptions {
    /// Reads `path` (a missing or unreadable file is an empty list, said in the log).
    pub fn open(path: PathBuf) -> Self {
        let list = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "the Web Push subscriptions file is not valid; browsers must subscribe again");
                Vec::new()
            }),
            Err(_) => Vec::new(),
        };
        Self {
            path,
            list: Arc::new(Mutex::new(list)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<WebPushSubscription>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn list(&self) -> Vec<WebPushSubscription> {
        self.lock().clone()
    }

    /// Adds or replaces (by endpoint) a subscription.
    pub fn add(&self, sub: WebPushSubscription) -> Result<WebPushSubscription, SubscriptionError> {
        check_endpoint(&sub.endpoint)?;
        let p256dh = unb64(&sub.keys.p256dh).ok_or(SubscriptionError::BadKeys)?;
        let auth = unb64(&sub.keys.auth).ok_or(SubscriptionError::BadKeys)?;
        if p256dh.len() != 65 || p256dh[0] != 4 || auth.len() != 16 {
            return Err(SubscriptionError::BadKeys);
        }
        let mut sub = sub;
        sub.created_at = Some(crate::permissions::now_text());
        let mut list = self.lock();
        list.retain(|s| s.endpoint != sub.endpoint);
        list.push(sub.clone());
        self.save(&list)?;
        Ok(sub)
    }

    /// Removes by endpoint; says whether there was one.
    pub fn remove(&self, endpoint: &str) -> Result<bool, SubscriptionError> {
        let mut list = self.lock();
        let before = list.len();
        list.retain(|s| s.endpoint != endpoint);
        let removed = list.len() != before;
        if removed {
            self.save(&list)?;
        }
        Ok(removed)
    }

    fn save(&self, list: &[WebPushSubscription]) -> Result<(), SubscriptionError> {
        let bytes = serde_json::to_vec_pretty(list).unwrap_or_default();
        crate::keyfile::write_private(&self.path, &bytes).map_err(|source| {
            SubscriptionError::Save {
                path: self.path.clone(),
                source,
            }
        })
    }
}

fn check_endpoint(endpoint: &str) -> Result<(), SubscriptionError> {
    let bad = || SubscriptionError::BadEndpoint(endpoint.chars().take(200).collect());
    let origin = super::vapid::origin(endpoint).ok_or_else(bad)?;
    if origin.starts_with("https://") {
        return Ok(());
    }
    let host = origin.strip_prefix("http://").ok_or_else(bad)?;
    let loopback = host.starts_with("127.")
        || host.starts_with("[::1]")
        || host.starts_with("localhost:")
        || host == "localhost";
    if loopback {
        Ok(())
    } else {
        Err(bad())
    }
}

fn unb64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(endpoint: &str, p256dh: &[u8], auth: &[u8]) -> WebPushSubscription {
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        WebPushSubscription {
            endpoint: endpoint.into(),
            keys: SubscriptionKeys {
                p256dh: e.encode(p256dh),
                auth: e.encode(auth),
            },
            device: Some("d1".into()),
            device_name: Some("phone".into()),
            created_at: None,
        }
    }

    #[test]
    fn subscriptions_are_checked_kept_private_and_replaced_by_endpoint() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notify/web_push.json");
        let s = Subscriptions::open(path.clone());
        let mut key = vec![4u8];
        key.extend([1u8; 64]);
        s.add(sub("https://push.example.com/a", &key, &[2; 16]))
            .expect("valid");
        s.add(sub("https://push.example.com/a", &key, &[3; 16]))
            .expect("replaced");
        assert_eq!(s.list().len(), 1);
        let err = s
            .add(sub("http://evil.example.com/x", &key, &[2; 16]))
            .expect_err("plain http off loopback");
        assert!(err.to_string().contains("https"), "{err}");
        assert!(s
            .add(sub("https://push.example.com/b", &key[..10], &[2; 16]))
            .is_err());
        s.add(sub("http://127.0.0.1:9/p", &key, &[2; 16]))
            .expect("loopback for tests");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("saved")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(Subscriptions::open(path).list().len(), 2, "read back");
        assert!(s.remove("https://push.example.com/a").expect("removed"));
    }
}
