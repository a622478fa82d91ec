//! Pairing: wrong, reused and expired secrets refused; the short code works.

use crate::common::Env;
use crate::web::up;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn pairing_refuses_wrong_reused_and_expired_secrets_and_the_short_code_works() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let pair = |secret: Value| {
        web.call(
            "POST",
            "/api/v1/pair",
            None,
            Some(json!({"secret": secret, "device_name": "phone"})),
        )
    };
    let r = pair(json!("not-the-secret")).await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (401, Some("pairing_failed"))
    );
    let offer: Value =
        serde_json::from_str(&env.ok(&["pair", "--json", "--role", "viewer"])).expect("offer");
    assert!(offer["pair_url"]
        .as_str()
        .expect("url")
        .contains(&format!("fp={}", web.fingerprint)));
    let ok = pair(offer["secret"].clone()).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["role"], "viewer");
    let reused = pair(offer["secret"].clone()).await;
    assert_eq!(reused.status, 401);
    assert!(reused.body["error"]["message"]
        .as_str()
        .expect("msg")
        .contains("already used"));
    let short: Value =
        serde_json::from_str(&env.ok(&["pair", "--json", "--role", "guest", "--ttl", "1s"]))
            .expect("offer");
    std::thread::sleep(Duration::from_millis(1100));
    let expired = pair(short["code"].clone()).await;
    assert_eq!(expired.status, 401);
    assert!(expired.body["error"]["message"]
        .as_str()
        .expect("msg")
        .contains("expired"));
    let (svg, png) = (env.dir().join("pair.svg"), env.dir().join("pair.png"));
    let code: Value = serde_json::from_str(&env.ok(&[
        "pair",
        "--json",
        "--svg",
        svg.to_str().expect("utf8"),
        "--png",
        png.to_str().expect("utf8"),
    ]))
    .expect("offer");
    assert!(std::fs::read_to_string(&svg).expect("svg").contains("<svg"));
    let png = std::fs::read(&png).expect("png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let side = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    assert_eq!(
        side,
        u32::from_be_bytes([png[20], png[21], png[22], png[23]]),
        "square"
    );
    assert!(
        side >= 8 * 29,
        "a QR code of at least version 3 at 8 px a module: {side}"
    );
    let typed = code["code"].as_str().expect("code").to_lowercase();
    let r = pair(json!(typed)).await;
    assert_eq!((r.status, r.body["role"].as_str()), (200, Some("operator")));
    // The refresh token gets new access tokens.
    let r = web
        .call(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": r.body["refresh_token"]})),
        )
        .await;
    assert_eq!(r.status, 200);
    // Refresh tokens rotate: each refresh answers with a new one, which works in turn (the
    // spent one is refused after a minute's grace for racing requests: a unit test in core).
    let spent = r.body["refresh_token"].clone();
    let r2 = web
        .call(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": r.body["refresh_token"]})),
        )
        .await;
    assert_eq!(r2.status, 200, "{}", r2.body);
    assert_ne!(
        r2.body["refresh_token"], spent,
        "a new refresh token each time"
    );
    let me = web
        .call("GET", "/api/v1/me", r.body["access_token"].as_str(), None)
        .await;
    assert_eq!(me.body["device"]["name"], "phone");
    // Devices are listed by the CLI, and every pairing is in the audit log.
    let list = env.ok(&["devices", "list"]);
    assert_eq!(list.matches("phone").count(), 2, "{list}");
}
