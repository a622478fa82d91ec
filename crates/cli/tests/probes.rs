//! The security probe suite: a real `paddock up` attacked the way the threat model in
//! docs/design/endpoint.md ("Threat model") says it can be, one probe per line of it. Every probe
//! expects a refusal the attacker can see AND the audit entry the owner can read
//! (`GET /api/v1/audit`), with the peer's address and the reason.

mod common;
#[path = "common/web.rs"]
mod web;

use common::{wait_until, Env};
use futures_util::SinkExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use web::{next_json, relaxed, send, up_env, Web};

const T: Duration = Duration::from_secs(10);

/// The audit log as the admin reads it, newest first.
async fn audit(web: &Web, admin: &str) -> Vec<Value> {
    let r = web
        .call("GET", "/api/v1/audit?limit=1000", Some(admin), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body.as_array().cloned().unwrap_or_default()
}

/// Waits until the audit log has an entry with `action` whose detail contains `needle`
/// (refusals are written off the request's path, so one may land just after the answer).
async fn audited(web: &Web, admin: &str, action: &str, needle: &str) -> Value {
    audited_at(web, admin, action, "", needle).await
}

/// [`audited`] for an entry whose target contains `target`.
async fn audited_at(web: &Web, admin: &str, action: &str, target: &str, needle: &str) -> Value {
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
fn names_peer(e: &Value) {
    let text = format!("{} {}", e["actor"], e["target"]);
    assert!(text.contains("127.0.0.1"), "no peer address in {e}");
}

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

#[tokio::test]
async fn foreign_origins_malformed_and_oversize_socket_messages_are_refused_and_audited() {
    let env = Env::new();
    let mut vars = relaxed().to_vec();
    vars.push(("PADDOCK_SERVER__WS_MAX_MESSAGE_BYTES", "4096"));
    let _sup = up_env(&env, &vars);
    let web = Web::of(&env);
    let admin = web.token(&env, "admin").await;

    // A web page elsewhere in the owner's browser: its REST call and its socket are refused.
    let (status, _, body) = web
        .raw(
            "GET",
            "/api/v1/sessions",
            &[
                ("origin", "https://evil.example"),
                ("authorization", &format!("Bearer {admin}")),
            ],
            Vec::new(),
        )
        .await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    let e = audited(&web, &admin, "origin.denied", "evil.example").await;
    names_peer(&e);
    let io = web.tls_with(web.tls.clone()).await.expect("TLS");
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("wss://{}/api/v1/ws", web.addr),
    )
    .expect("request");
    req.headers_mut().insert(
        "origin",
        "https://attacker.example".parse().expect("header"),
    );
    let err = tokio_tungstenite::client_async(req, io)
        .await
        .expect_err("a socket from another origin is refused");
    assert!(err.to_string().contains("403"), "{err}");
    audited(&web, &admin, "origin.denied", "attacker.example").await;

    // Malformed messages are answered and audited; the socket stays.
    let mut ws = web.ws(Some(&admin)).await;
    for bad in [
        "{not json",
        r#"{"type":"attach"}"#,
        r#"{"type":"no_such_thing"}"#,
    ] {
        ws.send(Message::Text(bad.into())).await.expect("send");
        let m = next_json(&mut ws).await.expect("an answer");
        assert_eq!(m["type"], "error", "{bad}: {m}");
    }
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .expect("send");
    let m = next_json(&mut ws).await.expect("an answer");
    assert_eq!(m["type"], "error", "{m}");
    send(&mut ws, json!({"type": "ping", "nonce": 7})).await;
    let m = next_json(&mut ws).await.expect("the socket still answers");
    assert_eq!(m["type"], "pong", "{m}");
    audited(&web, &admin, "ws.refused", "not a valid message").await;
    audited(&web, &admin, "ws.refused", "binary").await;
    // Oversize: the socket is closed, and that is audited with the limit.
    ws.send(Message::Text("x".repeat(10_000).into()))
        .await
        .expect("send");
    assert!(
        next_json(&mut ws).await.is_none(),
        "an oversize message closes the socket"
    );
    let e = audited(&web, &admin, "ws.refused", "ws_max_message_bytes").await;
    names_peer(&e);
}

#[tokio::test]
async fn slow_headers_stalled_handshakes_one_connection_too_many_and_tls_1_2_are_refused_and_audited(
) {
    let env = Env::new();
    let mut vars = relaxed().to_vec();
    vars.push(("PADDOCK_SERVER__HEADER_TIMEOUT", "2s"));
    vars.push(("PADDOCK_SERVER__MAX_CONNECTIONS_PER_ADDRESS", "4"));
    let _sup = up_env(&env, &vars);
    let web = Web::of(&env);
    let admin = web.token(&env, "admin").await;

    // Four connections that never say hello hold the address's four places; the fifth is
    // closed at once.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(&web.addr).await.expect("connect"));
    }
    let mut fifth = TcpStream::connect(&web.addr).await.expect("connect");
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(1), fifth.read(&mut buf))
        .await
        .expect("the fifth connection is closed at once, not left waiting");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    // Those that never finish the handshake are dropped after the header timeout, which
    // frees the places.
    for mut c in idle {
        let n = tokio::time::timeout(T, c.read(&mut buf))
            .await
            .expect("a stalled handshake is cut off");
        assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    }
    let e = audited(&web, &admin, "conn.refused", "max_connections_per_address").await;
    names_peer(&e);
    audited(&web, &admin, "tls.refused", "header_timeout").await;

    // A slowloris: the handshake done, the headers never finished.
    let mut slow = web.tls_with(web.tls.clone()).await.expect("TLS");
    slow.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n")
        .await
        .expect("write");
    slow.flush().await.expect("flush");
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(T, slow.read_to_end(&mut rest))
        .await
        .expect("a client that never finishes its headers is disconnected");
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "unfinished headers were answered: {}",
        String::from_utf8_lossy(&rest)
    );
    let e = audited(&web, &admin, "http.header_timeout", "header_timeout").await;
    names_peer(&e);

    // TLS 1.2 only: refused at the handshake.
    let tls12 = web::tls12_only();
    web.tls_with(Arc::new(tls12))
        .await
        .expect_err("TLS 1.2 must be refused");
    let e = audited(&web, &admin, "tls.refused", "handshake refused").await;
    names_peer(&e);
    // After all that, the endpoint still serves.
    let r = web.call("GET", "/api/v1/health", None, None).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn pairing_guesses_are_rate_limited_offers_are_single_use_and_all_is_audited() {
    let env = Env::new();
    // The default pairing limit (5 a minute per address); the request limit relaxed.
    let _sup = up_env(&env, &[("PADDOCK_SERVER__REQUESTS_PER_MINUTE", "100000")]);
    let web = Web::of(&env);
    let offer: Value =
        serde_json::from_str(&env.ok(&["pair", "--json", "--role", "admin"])).expect("offer");
    let claim = |secret: Value| {
        let web = &web;
        async move {
            web.call(
                "POST",
                "/api/v1/pair",
                None,
                Some(json!({"secret": secret, "device_name": "probe"})),
            )
            .await
        }
    };
    let first = claim(offer["secret"].clone()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let admin = first.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    // Single use: the same secret again, and its short code, are refused.
    let again = claim(offer["secret"].clone()).await;
    assert_eq!(again.status, 401, "{}", again.body);
    let code = claim(offer["code"].clone()).await;
    assert_eq!(code.status, 401, "{}", code.body);
    // Guesses: the fifth attempt of the minute is the last one heard.
    let guess = claim(json!("ABCD-EFGH")).await;
    assert_eq!(guess.status, 401, "{}", guess.body);
    let guess = claim(json!("0".repeat(64))).await;
    assert_eq!(guess.status, 401, "{}", guess.body);
    let limited = claim(json!("WXYZ-2345")).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.headers.contains_key("retry-after"));
    let entries = audit(&web, &admin).await;
    let failed = entries
        .iter()
        .filter(|e| e["action"] == "device.pair" && e["result"] == "unauthenticated")
        .count();
    assert_eq!(
        failed, 4,
        "every wrong or spent secret is audited: {entries:#?}"
    );
    assert!(entries.iter().any(|e| e["action"] == "device.pair"
        && e["detail"]
            .as_str()
            .is_some_and(|d| d.contains("already used"))));
    let e = audited(&web, &admin, "rate.limited", "pairing").await;
    names_peer(&e);
}

/// Path parameters an attacker would try: traversal, encoded traversal, NUL, overlong UTF-8,
/// other encodings, and very long ids.
const ODD_IDS: &[&str] = &[
    "..",
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "a%00b",
    "%00",
    "%C0%AE%C0%AE",
    "%C0%AF",
    "%E0%80%AE",
    "%FF%FE",
    "%252e%252e",
    "..%5c..%5cwindows",
    "a;b",
    "%0d%0aX-Injected:%201",
];

#[tokio::test]
async fn every_path_parameter_refuses_traversal_and_odd_encodings_without_harm() {
    let env = Env::new();
    let _sup = up_env(&env, &relaxed());
    let web = Web::of(&env);
    let admin = web.token(&env, "admin").await;
    let long = "a".repeat(4000);
    let mut ids: Vec<&str> = ODD_IDS.to_vec();
    ids.push(&long);
    let mut tried = 0;
    for (method, route, _) in paddock_server::app::ROUTES {
        if !route.contains('{') {
            continue;
        }
        for id in &ids {
            let path = route
                .replace("{id}", id)
                .replace("{index}", id)
                .replace("{channel}", id);
            let body = (*method != "GET" && *method != "DELETE").then(|| json!({}));
            let (status, headers, raw) = web
                .raw(
                    method,
                    &path,
                    &[
                        ("authorization", &format!("Bearer {admin}")),
                        ("content-type", "application/json"),
                    ],
                    body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
                )
                .await;
            tried += 1;
            assert!(
                matches!(status, 400 | 404 | 405 | 413 | 422),
                "{method} {path}: {status} {}",
                String::from_utf8_lossy(&raw)
            );
            assert!(!headers.contains_key("x-injected"), "{method} {path}");
            let v: Value = serde_json::from_slice(&raw).unwrap_or_else(|_| {
                panic!(
                    "{method} {path}: not a JSON error: {}",
                    String::from_utf8_lossy(&raw)
                )
            });
            assert!(v["error"]["message"].is_string(), "{method} {path}: {v}");
            let text = String::from_utf8_lossy(&raw);
            assert!(
                !text.contains("root:"),
                "{method} {path} served a file: {text}"
            );
        }
    }
    assert!(tried > 100, "only {tried} probes ran");
    // The static UI's paths too: no file outside the embedded UI is ever served.
    for id in ODD_IDS {
        let (status, _, raw) = web
            .raw("GET", &format!("/assets/{id}"), &[], Vec::new())
            .await;
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.contains("root:"), "/assets/{id}: {status} {text}");
    }
    let r = web.call("GET", "/api/v1/health", None, None).await;
    assert_eq!(r.status, 200, "the endpoint still serves");
}

#[tokio::test]
async fn the_transcript_route_serves_only_the_agents_own_transcripts() {
    let env = Env::new();
    let _sup = up_env(&env, &relaxed());
    let web = Web::of(&env);
    let viewer = web.token(&env, "viewer").await;
    let claude = env.dir().join("claude");
    let projects = claude.join("projects/-work-app");
    std::fs::create_dir_all(&projects).expect("projects");
    let line = r#"{"type":"user","message":{"role":"user","content":"secret plans"},"uuid":"u1","timestamp":"2026-12-06T08:00:00Z"}"#;
    // A .jsonl file of the owner's elsewhere, and a link to it inside the agent's folder.
    let secret = env.dir().join("secrets.jsonl");
    std::fs::write(&secret, format!("{line}\n")).expect("secret");
    std::os::unix::fs::symlink(&secret, projects.join("link.jsonl")).expect("link");
    let id = env.run(&[], &["cat"]);
    wait_until("the supervisor knows the session", T, || {
        env.ok(&["ls", "--json"]).contains(&id)
    });
    let url = format!("/api/v1/sessions/{id}/transcript");
    for named in [
        secret.clone(),
        projects.join("link.jsonl"),
        projects.join("../../../secrets.jsonl"),
    ] {
        env.announce_transcript(&id, &named, Some(&claude));
        let r = web.call("GET", &url, Some(&viewer), None).await;
        assert_eq!(r.status, 404, "{}: {}", named.display(), r.body);
        assert!(!r.body.to_string().contains("secret plans"), "{}", r.body);
    }
    let real = projects.join("4f9d.jsonl");
    std::fs::write(
        &real,
        format!("{}\n", line.replace("secret plans", "fix the bug")),
    )
    .expect("transcript");
    env.announce_transcript(&id, &real, Some(&claude));
    let deadline = Instant::now() + T;
    loop {
        let r = web.call("GET", &url, Some(&viewer), None).await;
        if r.status == 200 {
            assert!(r.body.to_string().contains("fix the bug"), "{}", r.body);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the agent's own transcript is served: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Named again after the real one, the outside file does not replace it.
    env.announce_transcript(&id, &secret, Some(&claude));
    let r = web.call("GET", &url, Some(&viewer), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.to_string().contains("secret plans"), "{}", r.body);
}

#[tokio::test]
async fn a_flood_of_refusals_is_audited_up_to_the_budget_and_counted() {
    let env = Env::new();
    let mut vars = relaxed().to_vec();
    vars.push(("PADDOCK_SERVER__AUDITED_REFUSALS_PER_MINUTE", "5"));
    let _sup = up_env(&env, &vars);
    let web = Web::of(&env);
    let admin = web.token(&env, "admin").await;
    let began = Instant::now();
    for n in 0..200 {
        let r = web
            .call("GET", "/api/v1/sessions", Some(&format!("bogus{n}")), None)
            .await;
        assert_eq!(r.status, 401);
    }
    let entries = audit(&web, &admin).await;
    let refusals: Vec<_> = entries
        .iter()
        .filter(|e| e["action"] == "auth.unauthenticated")
        .collect();
    // The budget is a bucket of 5 refilled at 5 a minute: a slow machine that takes t
    // seconds for the 200 requests earns t / 12 more entries, no more.
    let refilled = (began.elapsed().as_secs_f64() * 5.0 / 60.0).floor() as usize;
    assert!(
        (5..=5 + refilled).contains(&refusals.len()),
        "200 refusals, 5 written (+{refilled} refilled): {entries:#?}"
    );
    // An entry after the budget ran out says how many were left out; none is counted twice.
    let left_out: u64 = refusals
        .iter()
        .filter_map(|e| {
            let detail = e["detail"].as_str()?;
            let (_, tail) = detail.split_once(" (")?;
            tail.split_once(" more refusals")?.0.parse::<u64>().ok()
        })
        .sum();
    assert!(
        refusals.len() as u64 + left_out <= 200,
        "{left_out} left out: {entries:#?}"
    );
    if refusals.len() > 5 {
        assert!(left_out > 0, "{entries:#?}");
    }
}
