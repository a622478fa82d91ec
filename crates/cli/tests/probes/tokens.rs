//! Forged, tampered, expired, early, revoked and foreign tokens, and a refresh token reused
//! after its grace.

use crate::audit::{audited, audited_at, names_peer, T};
use crate::common::Env;
use crate::web;
use crate::web::{next_json, relaxed, send, up_env, Web};
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime};

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// A JWT with `header` and `claims`, signed HS256 with `key` (or with an empty signature).
fn jwt(header: &Value, claims: &Value, key: Option<&[u8]>) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = key.map_or_else(String::new, |k| {
        b64(ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, k),
            input.as_bytes(),
        )
        .as_ref())
    });
    format!("{input}.{sig}")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn claims(device: &str, role: &str, iat: u64, exp: u64) -> Value {
    json!({"sub": "owner", "device_id": device, "role": role, "permissions": [],
        "iat": iat, "exp": exp, "jti": "probe"})
}

#[tokio::test]
async fn tampered_expired_early_revoked_and_foreign_tokens_are_refused_and_audited() {
    let env = Env::new();
    let _sup = up_env(&env, &relaxed());
    let web = Web::of(&env);
    let admin = web.token(&env, "admin").await;
    let viewer = web.pair(&env, "viewer").await;
    let viewer_token = viewer["access_token"].as_str().expect("token").to_owned();
    let viewer_id = viewer["device_id"].as_str().expect("id").to_owned();
    let me = web.call("GET", "/api/v1/me", Some(&admin), None).await;
    let admin_id = me.body["device"]["id"]
        .as_str()
        .expect("admin id")
        .to_owned();
    // The key, as an attacker who read the owner's files would have it: even then, only
    // well-formed, current tokens of paired devices pass, with their device's own role.
    let key = std::fs::read(env.dir().join("data/endpoint/token.key")).expect("token key");
    let hs = json!({"alg": "HS256", "typ": "JWT"});
    let t = now();
    let mut forged_body = viewer_token
        .split('.')
        .map(str::to_owned)
        .collect::<Vec<_>>();
    forged_body[1] = b64(claims(&admin_id, "admin", t, t + 600)
        .to_string()
        .as_bytes());
    let probes: Vec<(&str, String, &str)> = vec![
        (
            "alg none",
            jwt(
                &json!({"alg": "none"}),
                &claims(&admin_id, "admin", t, t + 600),
                None,
            ),
            "signature",
        ),
        (
            "a key of its own",
            jwt(
                &hs,
                &claims(&admin_id, "admin", t, t + 600),
                Some(&[7u8; 32]),
            ),
            "bad signature",
        ),
        (
            "another device's claims under this token's signature",
            forged_body.join("."),
            "bad signature",
        ),
        (
            "expired",
            jwt(
                &hs,
                &claims(&admin_id, "admin", t - 7200, t - 3600),
                Some(&key),
            ),
            "expired",
        ),
        (
            "not valid yet",
            jwt(
                &hs,
                &claims(&admin_id, "admin", t + 3600, t + 7200),
                Some(&key),
            ),
            "not valid yet",
        ),
        (
            "alg HS512 signed right",
            jwt(
                &json!({"alg": "HS512", "typ": "JWT"}),
                &claims(&admin_id, "admin", t, t + 600),
                Some(&key),
            ),
            "algorithm",
        ),
        (
            "a device that was never paired",
            jwt(&hs, &claims("dev_nobody", "admin", t, t + 600), Some(&key)),
            "revoked",
        ),
        ("not a JWT", "x".repeat(5000), "too long"),
    ];
    for (what, token, reason) in &probes {
        let r = web.call("GET", "/api/v1/devices", Some(token), None).await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        assert_eq!(r.body["error"]["code"], "unauthorized", "{what}");
        let e = audited(&web, &admin, "auth.unauthenticated", reason).await;
        names_peer(&e);
        assert_eq!(e["result"], "unauthenticated", "{what}");
        // The same token on the WebSocket.
        let mut ws = web.ws(None).await;
        send(&mut ws, json!({"type": "auth", "token": token})).await;
        let m = next_json(&mut ws).await.expect("an answer");
        assert_eq!(m["type"], "error", "{what}: {m}");
        assert_eq!(m["code"], "unauthorized", "{what}: {m}");
        assert!(
            next_json(&mut ws).await.is_none(),
            "{what}: the socket closes"
        );
    }
    // A viewer's device with a token claiming admin, signed with the real key: the role is
    // the device's, not the token's.
    let escalated = jwt(&hs, &claims(&viewer_id, "admin", t, t + 600), Some(&key));
    let r = web
        .call("GET", "/api/v1/audit", Some(&escalated), None)
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let e = audited(&web, &admin, "auth.forbidden", "viewer").await;
    assert_eq!(e["device_id"], viewer_id.as_str());

    // Revoked: its access token and its refresh token stop at once.
    let refresh = viewer["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let r = web
        .call(
            "DELETE",
            &format!("/api/v1/devices/{viewer_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = web
        .call("GET", "/api/v1/sessions", Some(&viewer_token), None)
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    audited_at(
        &web,
        &admin,
        "auth.unauthenticated",
        "/api/v1/sessions",
        "revoked",
    )
    .await;
    let r = web
        .call(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh})),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let e = audited(&web, &admin, "auth.refresh", "").await;
    names_peer(&e);

    // A refresh token is good for one rotation: the spent one still answers within the
    // grace for racing tabs (with the same new token); a made-up one never does.
    let other = web.pair(&env, "operator").await;
    let first = other["refresh_token"].as_str().expect("refresh").to_owned();
    let a = web
        .call(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": first})),
        )
        .await;
    let b = web
        .call(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": first})),
        )
        .await;
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!(a.body["refresh_token"], b.body["refresh_token"]);
    let r = web
        .call(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": format!("{first}x")})),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    audited(&web, &admin, "auth.refresh", "not known").await;
}

/// `POST /api/v1/auth/refresh` with `token`.
async fn refresh(web: &Web, token: &str) -> web::Reply {
    web.call(
        "POST",
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": token})),
    )
    .await
}

#[tokio::test]
async fn a_refresh_token_reused_after_its_grace_is_refused_audited_and_revokes_its_device() {
    let env = Env::new();
    let mut vars = relaxed().to_vec();
    // The shortest grace allowed (`server.refresh_grace`), so the probe waits a second.
    vars.push(("PADDOCK_SERVER__REFRESH_GRACE", "1s"));
    let _sup = up_env(&env, &vars);
    let web = Web::of(&env);
    let admin = web.token(&env, "admin").await;
    let phone = web.pair(&env, "operator").await;
    let id = phone["device_id"].as_str().expect("id").to_owned();
    let first = phone["refresh_token"].as_str().expect("refresh").to_owned();
    let rotated = refresh(&web, &first).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let newer_access = rotated.body["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    let newer_refresh = rotated.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();

    // The spent token, presented again until its grace is over: the same new token within
    // it, then the refusal.
    let deadline = Instant::now() + T;
    let refused = loop {
        let r = refresh(&web, &first).await;
        if r.status != 200 {
            break r;
        }
        assert_eq!(
            r.body["refresh_token"],
            newer_refresh.as_str(),
            "within the grace"
        );
        assert!(
            Instant::now() < deadline,
            "the spent refresh token was still accepted {T:?} after its rotation"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.body["error"]["code"], "unauthorized");
    let reason = refused.body["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("already used") && reason.contains(&format!("device {id} was revoked")),
        "the answer says why: {reason}"
    );
    let e = audited(&web, &admin, "auth.refresh", "already used").await;
    names_peer(&e);
    assert_eq!(e["result"], "unauthenticated");
    let e = audited_at(
        &web,
        &admin,
        "device.revoke",
        &id,
        "reused after its rotation grace",
    )
    .await;
    assert_eq!(e["device_id"], id.as_str());

    // Whoever holds the newer tokens (the copy's holder, or the owner) is out too.
    let r = web
        .call("GET", "/api/v1/sessions", Some(&newer_access), None)
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = refresh(&web, &newer_refresh).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let devices = web.call("GET", "/api/v1/devices", Some(&admin), None).await;
    let device = devices
        .body
        .as_array()
        .and_then(|d| d.iter().find(|d| d["id"] == id.as_str()).cloned())
        .unwrap_or(Value::Null);
    assert!(
        !device["revoked_at"].is_null(),
        "listed as revoked: {device}"
    );
}
