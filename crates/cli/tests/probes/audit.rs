//! The audit log as the admin reads it, what every probe checks after its refusal; and `T`,
//! how long a probe waits.

use crate::web::Web;
use serde_json::Value;
use std::time::{Duration, Instant};

pub const T: Duration = Duration::from_secs(10);

/// The audit log as the admin reads it, newest first.
pub async fn audit(web: &Web, admin: &str) -> Vec<Value> {
    let r = web
        .call("GET", "/api/v1/audit?limit=1000", Some(admin), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body.as_array().cloned().unwrap_or_default()
}

/// Waits until the audit log has an entry with `action` whose detail contains `needle`
/// (refusals are written off the request's path, so one may land just after the answer).
pub async fn audited(web: &Web, admin: &str, action: &str, needle: &str) -> Value {
    audited_at(web, admin, action, "", needle).await
}

/// [`audited`] for an entry whose target contains `target`.
pub async fn audited_at(web: &Web, admin: &str, action: &str, target: &str, needle: &str) -> Value {
    let deadline = Instant::now() + T;
    loop {
        let entries = audit(web, admin).await;
        if let Some(e) = entries.iter().find(|e| {
            e["action"] == action
                && e["target"].as_str().unwrap_or_default().contains(target)
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.to_lowercase().contains(&needle.to_lowercase()))
        }) {
            return e.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no audit entry {action} mentioning {needle:?} within {T:?}; the log: {entries:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An audit entry names the peer's address.
pub fn names_peer(e: &Value) {
    let text = format!("{} {}", e["actor"], e["target"]);
    assert!(text.contains("127.0.0.1"), "no peer address in {e}");
}
