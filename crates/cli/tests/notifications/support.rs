//! Helpers of more than one module: the time Claude Code gets, and a browser's Web Push
//! subscription stored as the route stores it.

use crate::common::*;
use paddock_fakeapi::push::BrowserKeys;
use serde_json::json;
use std::time::Duration;

/// Generous: Claude Code is a large program and the machine is shared.
pub const T: Duration = Duration::from_secs(90);

/// Subscribes a browser the way `POST /api/v1/notifications/web-push/subscriptions` stores
/// it (the route itself is covered in routes.rs,
/// `a_browser_subscribes_to_web_push_a_test_reaches_it_and_a_bad_action_token_is_refused`).
pub fn subscribe(env: &Env, keys: &BrowserKeys) {
    let subs = json!([{
        "endpoint": keys.endpoint,
        "keys": {"p256dh": keys.p256dh, "auth": keys.auth},
        "device": "d-phone",
        "device_name": "phone",
    }]);
    let dir = env.dir().join("data/notify");
    std::fs::create_dir_all(&dir).expect("data dir");
    std::fs::write(dir.join("web_push.json"), subs.to_string()).expect("subscriptions");
}
