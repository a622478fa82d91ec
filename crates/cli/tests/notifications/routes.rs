//! The endpoint's notification routes: a browser's Web Push subscription and test, action
//! tokens, and the settings an admin changes.

use crate::common::*;
use crate::web;
use crate::web::{relaxed, up_env, Web};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_browser_subscribes_to_web_push_a_test_reaches_it_and_a_bad_action_token_is_refused() {
    let env = Env::new();
    let (_sup, web) = web::up(&env);
    let push = paddock_fakeapi::push::PushService::start().expect("push service");
    let browser = push.subscribe();
    let operator = web.token(&env, "operator").await;
    let admin = web.token(&env, "admin").await;

    let info = web
        .call(
            "GET",
            "/api/v1/notifications/web-push",
            Some(&operator),
            None,
        )
        .await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.body["enabled"], true);
    let key = info.body["public_key"].as_str().expect("the VAPID key");
    assert_eq!(key.len(), 87, "65 bytes, base64url: {key}");

    let bad = web
        .call(
            "POST",
            "/api/v1/notifications/web-push/subscriptions",
            Some(&operator),
            Some(json!({"endpoint": "http://push.example.com/x", "keys": {"p256dh": browser.p256dh, "auth": browser.auth}})),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("https")),
        "{}",
        bad.body
    );
    let sub = web
        .call(
            "POST",
            "/api/v1/notifications/web-push/subscriptions",
            Some(&operator),
            Some(json!({"endpoint": browser.endpoint, "keys": {"p256dh": browser.p256dh, "auth": browser.auth}})),
        )
        .await;
    assert_eq!(sub.status, 200, "{}", sub.body);
    assert_eq!(sub.body["device_name"], "operator device", "{}", sub.body);

    let sent = web.test_notification("web_push", &admin).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sent.body["status"], "delivered", "{}", sent.body);
    let got = push.wait_for("the test notification", Duration::from_secs(10), |d| {
        d.json()["title"] == "Paddock test notification"
    });
    assert_eq!(got.claims["aud"], push.origin());
    let log = web
        .call("GET", "/api/v1/notifications", Some(&operator), None)
        .await;
    assert_eq!(log.body["notifications"][0]["kind"], "test", "{}", log.body);

    let none = web.test_notification("pager", &admin).await;
    assert_eq!(none.status, 404, "{}", none.body);
    assert!(
        none.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("web_push")),
        "{}",
        none.body
    );

    let forged = web
        .call(
            "POST",
            "/api/v1/notifications/act",
            None,
            Some(json!({"token": "pna_AAAAAAAAAAAAAAAA.AAAA"})),
        )
        .await;
    assert_eq!(forged.status, 400, "{}", forged.body);
    assert!(
        forged.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not valid")),
        "{}",
        forged.body
    );
}

#[tokio::test]
async fn an_admin_changes_notification_settings_they_hold_at_once_and_after_a_restart_and_bad_ones_change_nothing(
) {
    let env = Env::new();
    let config = env.dir().join("conf/config.toml");
    std::fs::create_dir_all(env.dir().join("conf")).expect("conf dir");
    std::fs::write(
        &config,
        "# the owner's own words\n[notify]\ncooldown = \"2m\" # two minutes\n",
    )
    .expect("config");
    let sup = up_env(&env, &relaxed());
    let web = Web::of(&env);
    let admin = web.token(&env, "admin").await;
    let viewer = web.token(&env, "viewer").await;

    let read = web
        .call("GET", "/api/v1/notifications/settings", Some(&viewer), None)
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["settings"]["cooldown_secs"], 120, "{}", read.body);
    let channels = read.body["channels"].as_array().expect("channels");
    assert_eq!(channels.len(), 9, "{}", read.body);
    let web_push = channels
        .iter()
        .find(|c| c["name"] == "web_push")
        .expect("web_push listed");
    assert_eq!(web_push["configured"], true, "{}", read.body);
    let ntfy = channels.iter().find(|c| c["name"] == "ntfy").expect("ntfy");
    assert_eq!(ntfy["configured"], false);
    assert!(
        ntfy["detail"]
            .as_str()
            .is_some_and(|d| d.contains("[notify.ntfy]")),
        "{}",
        read.body
    );
    let devices = read.body["settings"]["devices"]
        .as_array()
        .expect("devices");
    let viewer_device = devices
        .iter()
        .find(|d| d["name"] == "viewer device")
        .expect("the viewer's device is listed")["device"]
        .clone();

    let mut settings = read.body["settings"].clone();
    settings["paused"] = json!(true);
    settings["rules"]["waiting_input"] = json!(false);
    settings["quiet_hours"] = json!({"start": "22:00", "end": "07:30", "permissions_too": false});
    settings["devices"] = json!([{"device": viewer_device, "push": "permissions"}]);
    let refused = web
        .call(
            "PUT",
            "/api/v1/notifications/settings",
            Some(&viewer),
            Some(settings.clone()),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let changed = web
        .call(
            "PUT",
            "/api/v1/notifications/settings",
            Some(&admin),
            Some(settings.clone()),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let now = web
        .call("GET", "/api/v1/notifications/settings", Some(&viewer), None)
        .await;
    assert_eq!(now.body["settings"]["paused"], true, "in force at once");
    assert_eq!(now.body["settings"]["rules"]["waiting_input"], false);
    let text = std::fs::read_to_string(&config).expect("config.toml");
    assert!(
        text.contains("# the owner's own words") && text.contains("# two minutes"),
        "{text}"
    );
    assert!(text.contains("paused = true"), "{text}");

    let before = text.clone();
    for (field, value, says) in [
        ("cooldown_secs", json!(999_999), "cooldown_secs"),
        (
            "quiet_hours",
            json!({"start": "25:00", "end": "07:00", "permissions_too": false}),
            "HH:MM",
        ),
        (
            "devices",
            json!([{"device": "nosuch", "push": "off"}]),
            "paddock devices",
        ),
    ] {
        let mut bad = settings.clone();
        bad[field] = value;
        let r = web
            .call(
                "PUT",
                "/api/v1/notifications/settings",
                Some(&admin),
                Some(bad),
            )
            .await;
        assert_eq!(r.status, 400, "{field}: {}", r.body);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(says)),
            "{field}: {}",
            r.body
        );
    }
    let mut wrong_type = settings.clone();
    wrong_type["paused"] = json!("yes");
    let r = web
        .call(
            "PUT",
            "/api/v1/notifications/settings",
            Some(&admin),
            Some(wrong_type),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        std::fs::read_to_string(&config).expect("config"),
        before,
        "nothing written"
    );

    drop(sup);
    let _sup = up_env(&env, &relaxed());
    let web = Web::of(&env);
    let after = web
        .call("GET", "/api/v1/notifications/settings", Some(&viewer), None)
        .await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(
        after.body["settings"]["paused"], true,
        "kept across a restart"
    );
    assert_eq!(after.body["settings"]["quiet_hours"]["end"], "07:30");
    let route = after.body["settings"]["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["device"] == viewer_device).cloned())
        .expect("the viewer's route");
    assert_eq!(route["push"], "permissions", "{}", after.body);

    // The CLI's resume goes through the same code: in force at once and in the file.
    let said = env.ok(&["notifications", "resume"]);
    assert!(said.contains("resumed"), "{said}");
    let resumed = web
        .call("GET", "/api/v1/notifications/settings", Some(&viewer), None)
        .await;
    assert_eq!(
        resumed.body["settings"]["paused"], false,
        "{}",
        resumed.body
    );
    let text = std::fs::read_to_string(&config).expect("config.toml");
    assert!(text.contains("paused = false"), "{text}");
    assert!(text.contains("# two minutes"), "{text}");
}
