//! The endpoint of a real `paddock up`, its access: real TLS handshakes, real tokens from
//! real pairing, every role against every route, revocation, rate limits, headers,
//! malformed input, plain HTTP, MCP over HTTPS and the doctor's route. Sessions, transcripts
//! and streams over REST and WSS are in endpoint_sessions.rs; the notification routes in
//! notifications.rs.

mod common;
#[path = "common/web.rs"]
mod web;

use common::{wait_until, Env};
use futures_util::SinkExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use web::{next_json, next_json_of, send, up, up_env, Web};

#[tokio::test]
async fn only_tls_1_3_is_spoken_and_a_pinned_client_trusts_exactly_that_certificate() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    // The certificate on disk is the one served, readable by its owner only.
    let der = std::fs::read(env.dir().join("data/endpoint/tls/cert.der")).expect("cert");
    assert_eq!(paddock_server::tls::fingerprint(&der), web.fingerprint);
    for f in ["key.der", "cert.der"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(env.dir().join("data/endpoint/tls").join(f))
                .expect("meta")
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    // Pinned TLS 1.3 works.
    let r = web.call("GET", "/health", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "healthy");
    // A TLS 1.2-only client is refused.
    let tls12 = web::tls12_only();
    let err = web
        .tls_with(Arc::new(tls12))
        .await
        .expect_err("TLS 1.2 must be refused");
    assert!(
        err.to_string().to_lowercase().contains("protocol") || err.to_string().contains("alert"),
        "{err}"
    );
    // A client pinning another certificate refuses the server.
    let wrong = paddock_client::tls::pinned_config(&"00".repeat(32));
    let err = web
        .tls_with(wrong)
        .await
        .expect_err("a wrong pin must fail");
    assert!(err.to_string().contains("pinned"), "{err}");
    // Restarted, it serves the same certificate (paired devices keep their pin).
    drop(_sup);
    let (_sup, again) = up(&env);
    assert_eq!(again.fingerprint, web.fingerprint);
}

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

/// What each route needs, written here independently of the server's table. `{sid}` is a
/// real session; `{x}` an id that does not exist (so destructive routes change nothing).
const EXPECTED: &[(&str, &str, Option<&str>, &str)] = &[
    ("GET", "/api/v1/me", Some("guest"), ""),
    ("GET", "/api/v1/sessions", Some("guest"), ""),
    // A relative directory is refused (400) before anything starts.
    (
        "POST",
        "/api/v1/sessions",
        Some("operator"),
        r#"{"command": ["true"], "cwd": "relative"}"#,
    ),
    ("GET", "/api/v1/sessions/{sid}", Some("guest"), ""),
    (
        "POST",
        "/api/v1/sessions/{sid}/input",
        Some("operator"),
        r#"{"data": "x"}"#,
    ),
    (
        "POST",
        "/api/v1/sessions/{sid}/resize",
        Some("operator"),
        r#"{"cols": 100, "rows": 30}"#,
    ),
    (
        "POST",
        "/api/v1/sessions/{x}/signal",
        Some("operator"),
        r#"{"signal": "CONT"}"#,
    ),
    ("POST", "/api/v1/sessions/{x}/restart", Some("operator"), ""),
    ("DELETE", "/api/v1/sessions/{x}", Some("operator"), ""),
    (
        "POST",
        "/api/v1/sessions/{x}/message",
        Some("operator"),
        r#"{"text": "hi"}"#,
    ),
    (
        "POST",
        "/api/v1/sessions/{x}/control",
        Some("operator"),
        r#"{"action": "pause"}"#,
    ),
    ("GET", "/api/v1/permissions", Some("viewer"), ""),
    ("GET", "/api/v1/sessions/{x}/insight", Some("viewer"), ""),
    ("GET", "/api/v1/sessions/{x}/thinking", Some("viewer"), ""),
    ("GET", "/api/v1/sessions/{x}/transcript", Some("viewer"), ""),
    (
        "GET",
        "/api/v1/sessions/{x}/conversation",
        Some("viewer"),
        "",
    ),
    (
        "GET",
        "/api/v1/sessions/{x}/conversation/turns/{index}",
        Some("viewer"),
        "",
    ),
    (
        "POST",
        "/api/v1/permissions/{x}/decide",
        Some("operator"),
        r#"{"decision": {"behavior": "allow"}}"#,
    ),
    ("GET", "/api/v1/system/status", Some("viewer"), ""),
    ("GET", "/api/v1/system/metrics", Some("viewer"), ""),
    ("GET", "/api/v1/system/logs", Some("viewer"), ""),
    ("GET", "/api/v1/system/doctor", Some("admin"), ""),
    ("GET", "/api/v1/processes", Some("viewer"), ""),
    ("GET", "/api/v1/history", Some("viewer"), ""),
    ("GET", "/api/v1/devices", Some("admin"), ""),
    (
        "PATCH",
        "/api/v1/devices/{x}",
        Some("admin"),
        r#"{"name": "x"}"#,
    ),
    ("DELETE", "/api/v1/devices/{x}", Some("admin"), ""),
    (
        "POST",
        "/api/v1/pairing",
        Some("admin"),
        r#"{"role": "guest"}"#,
    ),
    ("GET", "/api/v1/audit", Some("admin"), ""),
    ("GET", "/api/v1/notifications", Some("viewer"), ""),
    ("GET", "/api/v1/notifications/web-push", Some("viewer"), ""),
    (
        "POST",
        "/api/v1/notifications/web-push/subscriptions",
        Some("operator"),
        r#"{"endpoint": "https://push.example.com/x", "keys": {"p256dh": "AA", "auth": "AA"}}"#,
    ),
    ("POST", "/api/v1/notifications/test/{x}", Some("admin"), ""),
    ("GET", "/api/v1/notifications/settings", Some("viewer"), ""),
    (
        "PUT",
        "/api/v1/notifications/settings",
        Some("admin"),
        SETTINGS,
    ),
    ("GET", "/health", None, ""),
    ("GET", "/api/v1/health", None, ""),
    ("GET", "/api/v1/openapi.json", None, ""),
];

/// A valid settings body (the defaults, with the cooldown changed).
const SETTINGS: &str = r#"{"paused": false, "cooldown_secs": 60, "quiet_hours": null, "devices": [],
  "rules": {"permission": true, "waiting_input": true, "long_task": true, "long_task_after_secs": 300,
    "exited_abnormally": true, "errored": true,
    "resources": {"enabled": true, "cpu_percent": 95.0, "memory_mib": 8192, "for_secs": 120}}}"#;

fn expected_routes(
    session: &str,
) -> Vec<(&'static str, String, Option<&'static str>, Option<Value>)> {
    EXPECTED
        .iter()
        .map(|(m, p, need, body)| {
            let path = p
                .replace("{sid}", session)
                .replace("{x}", "nosuch")
                .replace("{index}", "0");
            let body = (!body.is_empty()).then(|| serde_json::from_str(body).expect("json body"));
            (*m, path, *need, body)
        })
        .collect()
}

const ROLES: [&str; 4] = ["guest", "viewer", "operator", "admin"];

fn rank(role: &str) -> usize {
    ROLES.iter().position(|r| *r == role).expect("role")
}

#[tokio::test]
async fn every_role_against_every_route_and_ws_message_and_every_refusal_is_audited() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let id = env.run(&[], &["cat"]);
    wait_until(
        "the supervisor knows the session",
        Duration::from_secs(10),
        || env.ok(&["ls", "--json"]).contains(&id),
    );
    // The test's table covers every route the server has (a new route needs a row here).
    let template = |p: &str| p.replace("{sid}", "{id}").replace("{x}", "{id}");
    // (`{index}` stays as it is: the route's own name for it.)
    for (m, p, need) in paddock_server::app::ROUTES {
        // Public routes whose success needs a secret: each has a test of its own.
        if [
            "/api/v1/ws",
            "/api/v1/pair",
            "/api/v1/auth/refresh",
            "/api/v1/notifications/act",
            // MCP over HTTP (its transport's own errors are not the API's JSON): tests/mcp.rs.
            "/mcp",
        ]
        .contains(p)
        {
            continue;
        }
        let public = matches!(need, paddock_server::app::Need::Public);
        assert!(
            EXPECTED.iter().any(|(om, op, oneed, _)| om == m
                && template(op) == p.replace("{channel}", "{id}")
                && oneed.is_none() == public),
            "route {m} {p} has no row in this test"
        );
    }
    let mut tokens = Vec::new();
    for role in ROLES {
        tokens.push((role, web.token(&env, role).await));
    }
    let mut refusals = 0;
    for (method, path, need, body) in expected_routes(&id) {
        let anon = web.call(method, &path, None, body.clone()).await;
        match need {
            None => assert_eq!(anon.status, 200, "{method} {path} is public"),
            Some(_) => {
                assert_eq!(anon.status, 401, "{method} {path} without a token");
                assert_eq!(anon.body["error"]["code"], "unauthorized");
                refusals += 1;
            }
        }
        let Some(need) = need else { continue };
        for (role, token) in &tokens {
            let r = web.call(method, &path, Some(token), body.clone()).await;
            if rank(role) >= rank(need) {
                assert!(
                    r.status != 401 && r.status != 403 && r.status < 500,
                    "{role} may {method} {path}, got {} {}",
                    r.status,
                    r.body
                );
            } else {
                assert_eq!(r.status, 403, "{role} may not {method} {path}: {}", r.body);
                assert_eq!(r.body["error"]["code"], "forbidden");
                refusals += 1;
            }
        }
    }
    // WebSocket messages, per role.
    for (role, token) in &tokens {
        let mut ws = web.ws(Some(token)).await;
        send(&mut ws, json!({"type": "subscribe"})).await;
        let first = next_json(&mut ws).await.expect("answer");
        assert_eq!(first["type"], "resync", "{role} may subscribe");
        send(&mut ws, json!({"type": "unsubscribe"})).await;
        send(&mut ws, json!({"type": "attach", "session": id})).await;
        let a = next_json_of(&mut ws, &["attached", "error"]).await;
        let may_read = rank(role) >= rank("viewer");
        assert_eq!(a["type"] == "attached", may_read, "{role} attach: {a}");
        if !may_read {
            assert_eq!(a["code"], "forbidden");
            refusals += 1;
            continue;
        }
        send(
            &mut ws,
            json!({"type": "input", "session": id, "data": format!("from-{role}\r")}),
        )
        .await;
        send(
            &mut ws,
            json!({"type": "resize", "session": id, "size": {"cols": 90, "rows": 20}}),
        )
        .await;
        send(&mut ws, json!({"type": "ping", "nonce": 7})).await;
        let mut forbidden = 0;
        loop {
            let m = next_json(&mut ws).await.expect("message");
            if m["type"] == "pong" {
                assert_eq!(m["nonce"], 7);
                break;
            }
            if m["type"] == "error" {
                assert_eq!(m["code"], "forbidden", "{m}");
                forbidden += 1;
            }
        }
        let may_write = rank(role) >= rank("operator");
        assert_eq!(
            forbidden,
            if may_write { 0 } else { 2 },
            "{role}: input and resize"
        );
        refusals += forbidden;
    }
    // The operator's and the admin's typing reached the terminal; the viewer's did not.
    let text = env.ok(&["logs", &id]);
    assert!(
        text.contains("from-operator") && text.contains("from-admin"),
        "{text}"
    );
    assert!(!text.contains("from-viewer"), "{text}");
    // Every 401 and 403 is in the audit log.
    let admin = &tokens[3].1;
    let log = web
        .call("GET", "/api/v1/audit?limit=1000", Some(admin), None)
        .await;
    let entries = log.body.as_array().expect("entries");
    let audited = entries
        .iter()
        .filter(|e| e["action"] == "auth.unauthenticated" || e["action"] == "auth.forbidden")
        .count();
    assert_eq!(audited, refusals, "every refusal is audited once");
    assert!(entries
        .iter()
        .any(|e| e["action"] == "session.input" && e["result"] == "ok"));
}

#[tokio::test]
async fn revoking_a_device_fails_its_requests_at_once_and_closes_its_live_socket() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let grant = web.pair(&env, "operator").await;
    let token = grant["access_token"].as_str().expect("token");
    let mut ws = web.ws(Some(token)).await;
    send(&mut ws, json!({"type": "subscribe"})).await;
    assert_eq!(next_json(&mut ws).await.expect("resync")["type"], "resync");
    env.ok(&[
        "devices",
        "revoke",
        grant["device_id"].as_str().expect("id"),
    ]);
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(5) {
        match next_json(&mut ws).await {
            None => {
                closed = true;
                break;
            }
            Some(m) if m["type"] == "error" => assert_eq!(m["code"], "unauthorized"),
            Some(_) => {}
        }
    }
    assert!(closed, "the revoked device's socket was closed");
    let r = web.call("GET", "/api/v1/sessions", Some(token), None).await;
    assert_eq!(r.status, 401);
    let r = web
        .call(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": grant["refresh_token"]})),
        )
        .await;
    assert_eq!(r.status, 401, "its refresh token is dead too");
    let mut again = web.ws(None).await;
    send(&mut again, json!({"type": "auth", "token": token})).await;
    let m = next_json(&mut again).await.expect("error");
    assert_eq!(m["code"], "unauthorized");
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after_and_pairing_is_stricter() {
    let env = Env::new();
    let _sup = up_env(
        &env,
        &[
            ("PADDOCK_SERVER__REQUESTS_PER_MINUTE", "20"),
            ("PADDOCK_SERVER__PAIRING_ATTEMPTS_PER_MINUTE", "3"),
        ],
    );
    let web = Web::of(&env);
    let mut pair_codes = Vec::new();
    for _ in 0..4 {
        let r = web
            .call(
                "POST",
                "/api/v1/pair",
                None,
                Some(json!({"secret": "guess", "device_name": "x"})),
            )
            .await;
        pair_codes.push(r.status);
        if r.status == 429 {
            let after: u64 = r.headers["retry-after"]
                .to_str()
                .expect("ascii")
                .parse()
                .expect("seconds");
            assert!((1..=60).contains(&after), "{after}");
        }
    }
    assert_eq!(pair_codes, vec![401, 401, 401, 429]);
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(web.call("GET", "/health", None, None).await.status);
    }
    let limited = statuses
        .iter()
        .position(|s| *s == 429)
        .expect("limited within 20 more requests");
    assert!(
        statuses[..limited].iter().all(|s| *s == 200),
        "{statuses:?}"
    );
    let r = web.call("GET", "/health", None, None).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.body["error"]["code"], "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn security_headers_strict_origins_and_the_page_without_a_built_ui() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    for path in ["/", "/health", "/api/v1/sessions"] {
        let (_, h, _) = web.raw("GET", path, &[], Vec::new()).await;
        assert_eq!(
            h["strict-transport-security"], "max-age=31536000; includeSubDomains",
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        let csp = h["content-security-policy"].to_str().expect("csp");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"));
        assert!(!h.contains_key("access-control-allow-origin"), "no CORS");
    }
    let (status, h, body) = web.raw("GET", "/", &[], Vec::new()).await;
    let body = String::from_utf8_lossy(&body);
    if paddock_server::ui::built() {
        assert_eq!(status, 200);
        assert_eq!(h["cache-control"], "no-cache");
    } else {
        assert_eq!(status, 200);
        assert!(body.contains("npm run build"), "{body}");
    }
    // Another site's page may not call the API; the endpoint's own origin may.
    let evil = web
        .raw(
            "GET",
            "/health",
            &[("origin", "https://evil.example")],
            Vec::new(),
        )
        .await;
    assert_eq!(evil.0, 403);
    let own = format!("https://{}", web.addr);
    let fine = web
        .raw("GET", "/health", &[("origin", &own)], Vec::new())
        .await;
    assert_eq!(fine.0, 200);
    // Unknown API routes are JSON 404s.
    let r = web.call("GET", "/api/v1/nope", None, None).await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test]
async fn malformed_and_oversize_messages_are_refused_without_harm() {
    let env = Env::new();
    let sup = up_env(
        &env,
        &[
            ("PADDOCK_SERVER__REQUESTS_PER_MINUTE", "100000"),
            ("PADDOCK_SERVER__PAIRING_ATTEMPTS_PER_MINUTE", "1000"),
            ("PADDOCK_SERVER__WS_MAX_MESSAGE_BYTES", "65536"),
        ],
    );
    let web = Web::of(&env);
    let token = web.token(&env, "operator").await;
    // REST: bad JSON, wrong types, a huge body, a bad session id.
    let (s, _, b) = web
        .raw(
            "POST",
            "/api/v1/sessions/abc/input",
            &[
                ("authorization", &format!("Bearer {token}")),
                ("content-type", "application/json"),
            ],
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(s, 400, "{}", String::from_utf8_lossy(&b));
    let v: Value = serde_json::from_slice(&b).expect("a JSON error");
    assert_eq!(v["error"]["code"], "bad_request");
    let r = web
        .call(
            "POST",
            "/api/v1/sessions/abc/signal",
            Some(&token),
            Some(json!({"signal": "NUKE"})),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = web
        .call("GET", "/api/v1/sessions/..%2F..%2Fetc", Some(&token), None)
        .await;
    assert_eq!(r.status, 400);
    let (s, _, b) = web
        .raw(
            "POST",
            "/api/v1/pair",
            &[("content-type", "application/json")],
            vec![b' '; 600 * 1024],
        )
        .await;
    assert_eq!(s, 413, "{}", String::from_utf8_lossy(&b));
    // WebSocket: garbage and unknown messages get errors and the socket stays usable.
    let mut ws = web.ws(Some(&token)).await;
    for bad in ["{", "[]", r#"{"type":"attach"}"#, r#"{"type":"launch"}"#] {
        ws.send(Message::Text(bad.into())).await.expect("send");
        let m = next_json(&mut ws).await.expect("an error, not a close");
        assert_eq!(m["type"], "error", "{bad}");
        assert_eq!(m["code"], "bad_request");
    }
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .expect("send");
    assert_eq!(next_json(&mut ws).await.expect("error")["type"], "error");
    send(&mut ws, json!({"type": "ping", "nonce": 1})).await;
    assert_eq!(next_json(&mut ws).await.expect("pong")["type"], "pong");
    // Over the size limit: the socket is closed; the endpoint carries on.
    let huge = json!({"type": "ping", "pad": "x".repeat(200_000)}).to_string();
    let _ = ws.send(Message::Text(huge.into())).await;
    assert!(
        next_json(&mut ws).await.is_none(),
        "an oversize message closes the socket"
    );
    // A socket that never authenticates gets nothing but an error.
    let mut anon = web.ws(None).await;
    send(&mut anon, json!({"type": "subscribe"})).await;
    let m = next_json(&mut anon).await.expect("error");
    assert_eq!(m["code"], "unauthorized");
    assert_eq!(web.call("GET", "/health", None, None).await.status, 200);
    drop(sup);
}

#[tokio::test]
async fn plain_http_only_on_loopback_and_never_pairable() {
    let env = Env::new();
    let sup = up_env(
        &env,
        &[
            ("PADDOCK_SERVER__INSECURE_HTTP", "true"),
            ("PADDOCK_SERVER__LISTEN", "0.0.0.0"),
        ],
    );
    let status: Value = serde_json::from_str(&env.ok(&["status", "--json"])).expect("json");
    assert!(status["url"].is_null(), "{status}");
    let endpoint = status["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["name"] == "endpoint")
        .expect("an endpoint component")
        .clone();
    assert_eq!(endpoint["status"], "unhealthy");
    assert!(
        endpoint["message"]
            .as_str()
            .expect("msg")
            .contains("loopback"),
        "{endpoint}"
    );
    drop(sup);
    let _sup = up_env(&env, &[("PADDOCK_SERVER__INSECURE_HTTP", "true")]);
    let status: Value = serde_json::from_str(&env.ok(&["status", "--json"])).expect("json");
    let url = status["url"].as_str().expect("url");
    let addr = url.strip_prefix("http://").expect("plain http on loopback");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(
        format!("GET /health HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .expect("write");
    let mut resp = String::new();
    tcp.read_to_string(&mut resp).await.expect("read");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(
        !resp.to_lowercase().contains("strict-transport-security"),
        "no HSTS over HTTP"
    );
    let out = env.paddock(&["pair"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("plain HTTP"),
        "{out:?}"
    );
}

/// One MCP message over streamable HTTP: the JSON-RPC answers in the response (JSON or
/// server-sent events), the status and the session header.
async fn mcp_post(
    web: &Web,
    host: &str,
    token: Option<&str>,
    session: Option<&str>,
    msg: Value,
) -> (u16, Option<String>, Vec<Value>) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    if let Some(s) = session {
        headers.push(("mcp-session-id", s));
    }
    let (status, h, body) = web
        .raw_to(host, "POST", "/mcp", &headers, msg.to_string().into_bytes())
        .await;
    let session = h
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = String::from_utf8_lossy(&body);
    let messages = if text.trim_start().starts_with('{') {
        vec![serde_json::from_str(&text).expect("json answer")]
    } else {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    };
    (status, session, messages)
}

#[tokio::test]
async fn mcp_over_https_needs_a_token_checks_the_host_and_bounds_tools_by_role() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let id = env.run(&["--name", "cat1"], &["cat"]);
    wait_until(
        "the supervisor knows the session",
        Duration::from_secs(10),
        || env.ok(&["ls", "--json"]).contains(&id),
    );
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "endpoint-test", "version": "1"}}});
    let addr = web.addr.clone();

    // Without a token: refused by the endpoint, audited like any other route.
    let (status, _, _) = mcp_post(&web, &addr, None, None, init.clone()).await;
    assert_eq!(status, 401);
    let viewer = web.token(&env, "viewer").await;
    // A Host that is not the endpoint's (DNS rebinding): refused.
    let (status, _, _) = mcp_post(&web, "evil.example", Some(&viewer), None, init.clone()).await;
    assert_eq!(status, 403);

    let (status, session, answer) = mcp_post(&web, &addr, Some(&viewer), None, init).await;
    assert_eq!(status, 200, "{answer:?}");
    assert_eq!(answer[0]["result"]["serverInfo"]["name"], "paddock");
    let session = session.expect("an MCP session id");
    let s = Some(session.as_str());
    let (status, _, _) = mcp_post(
        &web,
        &addr,
        Some(&viewer),
        s,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(status, 202);

    let (_, _, answer) = mcp_post(
        &web,
        &addr,
        Some(&viewer),
        s,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .await;
    let names: Vec<&str> = answer[0]["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"list_sessions") && names.contains(&"read_screen"),
        "{names:?}"
    );

    let call = |n: u64, tool: &str, args: Value| {
        json!({"jsonrpc": "2.0", "id": n,
        "method": "tools/call", "params": {"name": tool, "arguments": args}})
    };
    let (_, _, answer) = mcp_post(
        &web,
        &addr,
        Some(&viewer),
        s,
        call(3, "list_sessions", json!({})),
    )
    .await;
    let listed = &answer[0]["result"]["structuredContent"]["sessions"];
    assert!(
        listed
            .as_array()
            .expect("sessions")
            .iter()
            .any(|x| x["id"] == id.as_str()),
        "{listed}"
    );

    env.ok(&["send", "cat1", "over-https\n"]);
    let mut screen = Value::Null;
    for n in 0..100 {
        let (_, _, answer) = mcp_post(
            &web,
            &addr,
            Some(&viewer),
            s,
            call(10 + n, "read_screen", json!({"session": "cat1"})),
        )
        .await;
        screen = answer[0]["result"]["structuredContent"]["rows"].clone();
        if screen.to_string().contains("over-https") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(screen.to_string().contains("over-https"), "{screen}");

    // A viewer may read but not type: the tool says why, as a result the model can read.
    let (_, _, answer) = mcp_post(
        &web,
        &addr,
        Some(&viewer),
        s,
        call(
            200,
            "send_message",
            json!({"session": "cat1", "text": "hi"}),
        ),
    )
    .await;
    assert_eq!(answer[0]["result"]["isError"], true, "{answer:?}");
    let text = answer[0]["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        text.contains("the role viewer may not do this (it needs input)"),
        "{text}"
    );

    // The same session with an operator's token may: the caller is each request's device.
    let operator = web.token(&env, "operator").await;
    let (_, _, answer) = mcp_post(
        &web,
        &addr,
        Some(&operator),
        s,
        call(
            201,
            "send_keys",
            json!({"session": "cat1", "text": "typed-by-operator", "keys": ["enter"]}),
        ),
    )
    .await;
    assert_ne!(answer[0]["result"]["isError"], true, "{answer:?}");
}

#[tokio::test]
async fn an_admin_reads_the_doctors_checks_and_an_operator_is_refused() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let admin = web.token(&env, "admin").await;
    let r = web
        .call("GET", "/api/v1/system/doctor", Some(&admin), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let checks = r.body["checks"].as_array().expect("checks");
    let by_id = |id: &str| {
        checks
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no check {id} in {}", r.body))
    };
    // The supervisor answers for itself: it runs, its hooks socket answers a test event and
    // its endpoint is reachable with the fingerprint the client pinned.
    assert_eq!(by_id("supervisor")["status"], "ok", "{}", r.body);
    assert_eq!(by_id("hooks")["status"], "ok", "{}", r.body);
    let endpoint = by_id("endpoint");
    assert_eq!(endpoint["status"], "ok", "{}", r.body);
    let detail = endpoint["detail"].as_str().expect("detail");
    assert!(detail.contains(&web.fingerprint), "{detail}");
    assert!(detail.contains("expires in"), "{detail}");
    assert_eq!(by_id("runtime_dir")["status"], "ok", "{}", r.body);
    for c in checks {
        let status = c["status"].as_str().expect("status");
        assert!(["ok", "warn", "fail"].contains(&status), "{c}");
        if status != "ok" {
            assert!(
                c["fix"].is_string(),
                "a check that is not ok says what to do: {c}"
            );
        }
    }
    let operator = web.token(&env, "operator").await;
    let refused = web
        .call("GET", "/api/v1/system/doctor", Some(&operator), None)
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
}
