//! Who may do what: every role against every route and WebSocket message (a table written
//! here, independently of the server's), every refusal audited, and revocation.

use crate::common::{wait_until, Env};
use crate::web::{next_json, next_json_of, send, up};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

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
