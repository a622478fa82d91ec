//! The endpoint of a real `paddock up`: real TLS handshakes, real tokens from real pairing,
//! real holders with real PTYs behind REST and WSS.

mod common;
#[path = "common/web.rs"]
mod web;

use common::{wait_until, Env, Supervisor};
use futures_util::{SinkExt, StreamExt};
use paddock_proto::web::{ServerMessage, TerminalFrame};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use web::{next_json, relaxed, send, up, up_env, AnyCert, Web, Ws};

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
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls12 = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .expect("tls12")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert))
        .with_no_client_auth();
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
async fn an_operator_starts_a_session_over_rest_and_reads_the_stored_log() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let token = web.token(&env, "operator").await;
    let cwd = env.dir().join("project");
    std::fs::create_dir_all(&cwd).expect("project dir");
    let body = json!({
        "command": ["sh", "-c", "echo \"started in $(pwd) as $GREETING\"; exec cat"],
        "name": "from-phone",
        "cwd": cwd.display().to_string(),
        "env": {"GREETING": "hello"},
        "size": {"cols": 100, "rows": 30},
    });
    let r = web
        .call("POST", "/api/v1/sessions", Some(&token), Some(body.clone()))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["name"], "from-phone");
    let id = r.body["id"].as_str().expect("id").to_owned();
    // It is an ordinary held session: the CLI lists it and reads its output.
    assert!(env.ls().iter().any(|s| s["id"] == id.as_str()));
    let want = format!("started in {} as hello", cwd.display());
    wait_until("the program printed", Duration::from_secs(10), || {
        env.ok(&["logs", &id]).contains(&want)
    });
    assert_eq!(env.meta(&id).size.cols, 100);

    // A taken name names its owner; a missing program gets the holder's reason; both 400.
    let again = web
        .call("POST", "/api/v1/sessions", Some(&token), Some(body))
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    let msg = again.body["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("already exists") && msg.contains(&id), "{msg}");
    let missing = web
        .call(
            "POST",
            "/api/v1/sessions",
            Some(&token),
            Some(json!({"command": ["no-such-program-xyz"], "cwd": "/"})),
        )
        .await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    let msg = missing.body["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(msg.contains("no-such-program-xyz"), "{msg}");
    for bad in [json!({"command": []}), json!({"command": "sh"}), json!({})] {
        let r = web
            .call("POST", "/api/v1/sessions", Some(&token), Some(bad.clone()))
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }

    // The stored activity log has the session's lines, newest first, and pages by id.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = format!("/api/v1/system/logs?session={id}&limit=50");
        let r = web.call("GET", &url, Some(&token), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let mine = r.body.as_array().expect("entries");
        if !mine.is_empty() {
            assert!(mine.iter().all(|e| e["session"] == id.as_str()), "{mine:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the session's state changes never reached the stored log"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all = web
        .call("GET", "/api/v1/system/logs?limit=1000", Some(&token), None)
        .await;
    let entries = all.body.as_array().expect("entries");
    let ids: Vec<i64> = entries.iter().filter_map(|e| e["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    if let Some(last) = ids.get(ids.len() / 2) {
        let page = web
            .call(
                "GET",
                &format!("/api/v1/system/logs?before={last}&limit=1000"),
                Some(&token),
                None,
            )
            .await;
        let older: Vec<i64> = page
            .body
            .as_array()
            .expect("page")
            .iter()
            .filter_map(|e| e["id"].as_i64())
            .collect();
        assert!(
            !older.is_empty() && older.iter().all(|i| i < last),
            "{older:?}"
        );
    }
    // Its process tree, as the supervisor samples it each second: the shell (the root) and
    // the `sleep` it started, whose parent it is.
    let pid = env.meta(&id).pid;
    let child = web
        .call(
            "POST",
            "/api/v1/sessions",
            Some(&token),
            Some(json!({"command": ["sh", "-c", "sleep 600 & wait"], "cwd": "/", "name": "tree"})),
        )
        .await;
    assert_eq!(child.status, 201, "{}", child.body);
    let tree_id = child.body["id"].as_str().expect("id").to_owned();
    let tree_pid = child.body["pid"].as_u64().expect("pid");
    let deadline = Instant::now() + Duration::from_secs(10);
    let procs = loop {
        let r = web
            .call(
                "GET",
                &format!("/api/v1/processes?session={tree_id}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let list = r.body.as_array().cloned().unwrap_or_default();
        if list.len() >= 2 {
            break list;
        }
        assert!(
            Instant::now() < deadline,
            "the tree was never sampled: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        procs[0]["pid"].as_u64(),
        Some(tree_pid),
        "root first: {procs:?}"
    );
    assert!(procs.iter().all(|p| p["session"] == tree_id.as_str()));
    assert!(
        procs.iter().any(|p| p["name"] == "sleep"
            && p["ppid"].as_u64() == Some(tree_pid)
            && p["command"] == json!(["sleep", "600"])),
        "{procs:?}"
    );
    // All sessions' processes together, and refusals for unknown or malformed sessions.
    let all = web
        .call("GET", "/api/v1/processes", Some(&token), None)
        .await;
    let all = all.body.as_array().expect("processes");
    assert!(
        all.iter()
            .any(|p| p["pid"].as_u64() == Some(u64::from(pid))),
        "{all:?}"
    );
    let unknown = web
        .call(
            "GET",
            "/api/v1/processes?session=zzzzzzzz",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    let bad = web
        .call("GET", "/api/v1/system/logs?level=loud", Some(&token), None)
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // The start is audited with who did it.
    let admin = web.token(&env, "admin").await;
    let audit = web
        .call("GET", "/api/v1/audit?limit=100", Some(&admin), None)
        .await;
    let starts: Vec<&Value> = audit
        .body
        .as_array()
        .expect("audit")
        .iter()
        .filter(|e| e["action"] == "session.start")
        .collect();
    assert!(starts.iter().any(|e| e["result"] == "ok"), "{starts:?}");
    assert!(starts.iter().filter(|e| e["result"] == "failed").count() >= 2);
}

#[tokio::test]
async fn a_sessions_raw_transcript_is_read_by_tail_and_followed_by_offset() {
    use std::io::Write;
    let env = Env::new();
    let (_sup, web, projects) = up_with_projects(&env);
    let token = web.token(&env, "viewer").await;
    let id = env.run(&[], &["cat"]);
    wait_until(
        "the supervisor knows the session",
        Duration::from_secs(10),
        || env.ok(&["ls", "--json"]).contains(&id),
    );
    let url = format!("/api/v1/sessions/{id}/transcript");
    let none = web.call("GET", &url, Some(&token), None).await;
    assert_eq!(none.status, 404, "no transcript yet: {}", none.body);
    assert!(
        none.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no transcript"),
        "{}",
        none.body
    );

    // Claude Code names its transcript in every hook; this is how the session learns it.
    let path = projects.join("session.jsonl");
    let first = r#"{"type":"user","message":{"role":"user","content":"fix the bug"},"uuid":"u1","timestamp":"2026-11-22T08:00:00Z"}"#;
    let second = r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Looking."}]},"uuid":"a1","timestamp":"2026-11-22T08:00:01Z"}"#;
    std::fs::write(&path, format!("{first}\n{second}\n")).expect("transcript");
    let payload = json!({
        "hook_event_name": "UserPromptSubmit",
        "session_id": "4f9d",
        "transcript_path": path.display().to_string(),
        "cwd": "/",
        "prompt": "fix the bug",
    });
    let mut hook = env
        .cmd()
        .args(["hook", "--agent", "claude"])
        .env("PADDOCK_SESSION_ID", &id)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("paddock hook");
    hook.stdin
        .take()
        .expect("stdin")
        .write_all(payload.to_string().as_bytes())
        .expect("payload");
    assert!(hook.wait().expect("hook").success());

    let deadline = Instant::now() + Duration::from_secs(10);
    let page = loop {
        let r = web.call("GET", &url, Some(&token), None).await;
        if r.status == 200 {
            break r.body;
        }
        assert!(
            Instant::now() < deadline,
            "never followed: {} {}",
            r.status,
            r.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(page["path"], path.display().to_string());
    let lines = page["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 2, "{page}");
    assert_eq!(lines[0]["message"]["content"], "fix the bug");
    assert_eq!(page["next"], page["size"]);

    // Follow it: an appended line, and half of the next one, which waits for its newline.
    let third = r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Fixed."}]},"uuid":"a2"}"#;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("append");
    write!(f, "{third}\n{{\"type\":\"us").expect("append");
    let next = page["next"].as_u64().expect("next");
    let more = web
        .call("GET", &format!("{url}?after={next}"), Some(&token), None)
        .await;
    assert_eq!(more.status, 200, "{}", more.body);
    let lines = more.body["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 1, "{}", more.body);
    assert_eq!(lines[0]["uuid"], "a2");
    assert!(more.body["next"].as_u64() < more.body["size"].as_u64());
    let tail = web
        .call("GET", &format!("{url}?limit=1"), Some(&token), None)
        .await;
    assert_eq!(tail.body["lines"][0]["uuid"], "a2", "{}", tail.body);
    for bad in ["?limit=0", "?after=999999"] {
        let r = web
            .call("GET", &format!("{url}{bad}"), Some(&token), None)
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
}

/// `paddock up` whose HOME is in the test's directory; the folder of Claude Code's projects
/// there (transcripts are followed only inside the agents' own folders).
fn up_with_projects(env: &Env) -> (Supervisor, Web, std::path::PathBuf) {
    let home = env.dir().join("home");
    let projects = home.join(".claude/projects/-work-app");
    std::fs::create_dir_all(&projects).expect("projects folder");
    let home = home.display().to_string();
    let mut vars = relaxed().to_vec();
    vars.push(("HOME", &home));
    let sup = up_env(env, &vars);
    (sup, Web::of(env), projects)
}

/// Tells the supervisor, as Claude Code's hook does, that session `id` writes `path`.
fn announce_transcript(env: &Env, id: &str, path: &std::path::Path) {
    use std::io::Write;
    let payload = json!({
        "hook_event_name": "UserPromptSubmit",
        "session_id": "4f9d",
        "transcript_path": path.display().to_string(),
        "cwd": "/",
        "prompt": "fix the bug",
    });
    let mut hook = env
        .cmd()
        .args(["hook", "--agent", "claude"])
        .env("PADDOCK_SESSION_ID", id)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("paddock hook");
    hook.stdin
        .take()
        .expect("stdin")
        .write_all(payload.to_string().as_bytes())
        .expect("payload");
    assert!(hook.wait().expect("hook").success());
}

#[tokio::test]
async fn a_sessions_conversation_is_served_a_page_of_turns_at_a_time_and_live_over_the_socket() {
    use std::io::Write;
    let env = Env::new();
    let (_sup, web, projects) = up_with_projects(&env);
    let token = web.token(&env, "viewer").await;
    let id = env.run(&[], &["cat"]);
    wait_until(
        "the supervisor knows the session",
        Duration::from_secs(10),
        || env.ok(&["ls", "--json"]).contains(&id),
    );
    let url = format!("/api/v1/sessions/{id}/conversation");
    let none = web.call("GET", &url, Some(&token), None).await;
    assert_eq!(none.status, 404, "no transcript yet: {}", none.body);
    assert!(
        none.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no transcript")),
        "{}",
        none.body
    );

    // Five turns, each a prompt, a tool call with a long output and an answer.
    let path = projects.join("conversation.jsonl");
    let mut text = String::new();
    let long = "line of output\n".repeat(500);
    // Each turn's key: where its prompt's line ends.
    let mut keys = Vec::new();
    for n in 0..5 {
        text += &format!(
            "{}\n",
            json!({"type": "user", "timestamp": "2026-12-06T10:00:00Z",
            "message": {"role": "user", "content": format!("task {n}")}})
        );
        keys.push(text.len());
        text += &format!(
            "{}\n",
            json!({"type": "assistant", "timestamp": "2026-12-06T10:00:01Z",
            "message": {"id": format!("m{n}"), "model": "claude-sonnet-4-5", "usage": {"input_tokens": 1000, "output_tokens": 100},
            "content": [{"type": "tool_use", "id": format!("t{n}"), "name": "Bash", "input": {"command": format!("make {n}")}}]}})
        );
        text += &format!(
            "{}\n",
            json!({"type": "user", "timestamp": "2026-12-06T10:00:03Z",
            "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("t{n}"), "content": long}]}})
        );
        text += &format!(
            "{}\n",
            json!({"type": "assistant", "timestamp": "2026-12-06T10:00:04Z",
            "message": {"id": format!("m{n}b"), "model": "claude-sonnet-4-5", "content": [{"type": "text", "text": format!("Done {n}. Shall I go on?")}]}})
        );
    }
    std::fs::write(&path, &text).expect("transcript");
    announce_transcript(&env, &id, &path);

    let deadline = Instant::now() + Duration::from_secs(10);
    let page = loop {
        let r = web
            .call("GET", &format!("{url}?limit=2"), Some(&token), None)
            .await;
        if r.status == 200 {
            break r.body;
        }
        assert!(
            Instant::now() < deadline,
            "never followed: {} {}",
            r.status,
            r.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(page["agent"], "claude");
    assert_eq!(page["total"], 5);
    assert_eq!(page["older"], keys[3], "{page}");
    let turns = page["turns"].as_array().expect("turns");
    let prompts: Vec<&str> = turns.iter().filter_map(|t| t["prompt"].as_str()).collect();
    assert_eq!(prompts, ["task 3", "task 4"]);
    let t4 = &turns[1];
    assert_eq!(t4["question"], "Shall I go on?");
    assert_eq!(t4["cut"], true);
    let call = &t4["items"][0];
    assert_eq!(
        (call["kind"].as_str(), call["tool"].as_str()),
        (Some("tool"), Some("Bash"))
    );
    assert_eq!(call["summary"], "make 4");
    assert_eq!(call["status"], "succeeded");
    assert_eq!(call["duration_ms"], 2000);
    assert_eq!(call["output_chars"], long.chars().count());
    assert!(
        t4["cost_usd"].as_f64().is_some_and(|c| c > 0.0),
        "priced: {t4}"
    );
    let older = web
        .call(
            "GET",
            &format!("{url}?limit=2&before={}", keys[3]),
            Some(&token),
            None,
        )
        .await;
    let prompts: Vec<&str> = older.body["turns"]
        .as_array()
        .expect("turns")
        .iter()
        .filter_map(|t| t["prompt"].as_str())
        .collect();
    assert_eq!(prompts, ["task 1", "task 2"]);
    assert_eq!(older.body["older"], keys[1]);
    let whole = web
        .call(
            "GET",
            &format!("{url}/turns/{}", keys[4]),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(whole.status, 200, "{}", whole.body);
    assert_eq!(whole.body["items"][0]["output"], long.as_str());
    assert_eq!(whole.body["cut"], false);
    for (bad, status) in [
        ("?limit=0", 400),
        ("?limit=201", 400),
        ("/turns/9", 404),
        ("/turns/x", 400),
    ] {
        let r = web
            .call("GET", &format!("{url}{bad}"), Some(&token), None)
            .await;
        assert_eq!(r.status, status, "{bad}: {}", r.body);
        assert!(r.body["error"]["message"].is_string(), "{bad}: {}", r.body);
    }

    // Live: a new prompt and an answer appended reach an open socket as conversation updates.
    let mut ws = web.ws(Some(&token)).await;
    send(&mut ws, json!({"type": "subscribe"})).await;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("append");
    let prompt = json!({"type": "user", "message": {"role": "user", "content": "task 5"}});
    writeln!(f, "{prompt}").expect("append");
    let key5 = text.len() + prompt.to_string().len() + 1;
    writeln!(f, "{}", json!({"type": "assistant", "message": {"id": "m5", "content": [{"type": "text", "text": "On it."}]}})).expect("append");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = next_json_of(&mut ws, &["conversation_update"]).await["payload"].take();
        assert_eq!(m["id"], id.as_str());
        let turn = m["turns"]
            .as_array()
            .and_then(|t| t.last())
            .cloned()
            .unwrap_or_default();
        if turn["prompt"] == "task 5" && turn["items"][0]["text"] == "On it." {
            assert_eq!(m["total"], 6);
            assert_eq!(turn["index"], key5);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no update with the new turn: {m}"
        );
    }
}

/// A Claude Code prompt line as the CLI writes it (the fields the history reads).
fn claude_prompt(session: &str, ts: &str, text: &str) -> String {
    format!(
        "{}\n",
        json!({"type": "user", "sessionId": session, "timestamp": ts,
        "cwd": "/home/dev/api", "gitBranch": "main",
        "message": {"role": "user", "content": text}})
    )
}

#[tokio::test]
async fn the_history_lists_past_sessions_newest_first_and_searches_what_was_said() {
    let env = Env::new();
    let home = tempfile::tempdir().expect("home");
    let projects = home.path().join(".claude/projects");
    let app = projects.join("-home-dev-app");
    let api = projects.join("-home-dev-api");
    std::fs::create_dir_all(&app).expect("projects");
    std::fs::create_dir_all(&api).expect("projects");
    // The real Claude Code 2.1.328 sample (ended 2026-11-21) and an older session (2026-11-20).
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../agents/tests/data/claude-transcript-2.1.328.jsonl"
        ),
        app.join("63a89093-4ee6-447d-b5e0-c1488233b86a.jsonl"),
    )
    .expect("copy the sample transcript");
    std::fs::write(
        api.join("b2.jsonl"),
        claude_prompt(
            "b2",
            "2026-11-20T09:00:00.000Z",
            "migrate the billing tables to postgres (see db/schema[v2].sql)",
        ),
    )
    .expect("write a session");
    let home_var = home.path().display().to_string();
    let mut vars = relaxed().to_vec();
    vars.push(("HOME", &home_var));
    let _sup = up_env(&env, &vars);
    let web = Web::of(&env);
    let token = web.token(&env, "viewer").await;
    let get = |q: String| {
        let web = &web;
        let token = token.clone();
        async move {
            web.call("GET", &format!("/api/v1/history{q}"), Some(&token), None)
                .await
        }
    };

    // The list: both sessions once indexed, the most recently ended first.
    let deadline = Instant::now() + Duration::from_secs(20);
    let list = loop {
        let r = get(String::new()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        if r.body["sessions"].as_array().is_some_and(|s| s.len() == 2) {
            break r.body;
        }
        assert!(Instant::now() < deadline, "never indexed: {}", r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(list["kind"], "sessions", "{list}");
    assert_eq!(list["next_offset"], Value::Null, "one page holds both");
    let sessions = list["sessions"].as_array().expect("sessions");
    assert_eq!(
        sessions[0]["session_id"], "63a89093-4ee6-447d-b5e0-c1488233b86a",
        "the newest first: {list}"
    );
    assert_eq!(sessions[0]["cwd"], "/home/dev/app");
    assert_eq!(sessions[1]["session_id"], "b2");
    assert_eq!(sessions[1]["git_branch"], "main");
    assert!(sessions[1]["first_prompt"]
        .as_str()
        .is_some_and(|p| p.starts_with("migrate the billing")));

    // Paging: one a page, then the rest.
    let first = get("?limit=1".into()).await.body;
    assert_eq!(first["sessions"].as_array().map(Vec::len), Some(1));
    assert_eq!(first["next_offset"], 1, "{first}");
    let second = get("?limit=1&offset=1".into()).await.body;
    assert_eq!(second["sessions"][0]["session_id"], "b2", "{second}");
    assert_eq!(second["next_offset"], Value::Null);
    let only_api = get("?cwd=/home/dev/api".into()).await.body;
    assert_eq!(
        only_api["sessions"].as_array().map(Vec::len),
        Some(1),
        "{only_api}"
    );

    // A search finds a prompt's words, the terms marked (never confused with the text's own
    // brackets); a file name with a dot is taken literally.
    let found = get("?q=postgres%20billing".into()).await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["kind"], "hits");
    assert_eq!(found.body["query"], "postgres billing");
    let hits = found.body["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 1, "{}", found.body);
    assert_eq!(hits[0]["session_id"], "b2");
    assert_eq!(hits[0]["role"], "user");
    assert_eq!(
        hits[0]["snippet"],
        "migrate the \u{2}billing\u{3} tables to \u{2}postgres\u{3} (see db/schema[v2].sql)"
    );
    let phrase = get("?q=%22billing%20tables%22%20schema*".into()).await;
    assert_eq!(
        phrase.body["hits"].as_array().map(Vec::len),
        Some(1),
        "{}",
        phrase.body
    );

    // No hit: an empty page, not an error.
    let none = get("?q=zebracorn".into()).await;
    assert_eq!(none.status, 200, "{}", none.body);
    assert_eq!(none.body["kind"], "hits");
    assert_eq!(none.body["hits"], json!([]));

    // A search the engine cannot read, and bad bounds: 400 with a message for people.
    let bad = get("?q=%22billing%20tables".into()).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.body["error"]["code"], "bad_request");
    assert!(
        bad.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("closing")),
        "{}",
        bad.body
    );
    for q in ["?limit=0", "?limit=501", "?limit=-1", "?q=x&agent=claude"] {
        let r = get(q.into()).await;
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert!(r.body["error"]["message"].is_string(), "{q}: {}", r.body);
    }
    assert_eq!(get("?limit=500".into()).await.status, 200);
}

async fn next_json_of(ws: &mut Ws, types: &[&str]) -> Value {
    loop {
        let m = next_json(ws).await.expect("message");
        if types.iter().any(|t| m["type"] == *t) {
            return m;
        }
        assert_ne!(m["type"], "error", "expected one of {types:?}, got {m}");
    }
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
async fn events_and_a_terminal_stream_over_wss() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let token = web.token(&env, "operator").await;
    let mut ws = web.ws(Some(&token)).await;
    send(&mut ws, json!({"type": "subscribe"})).await;
    assert_eq!(next_json(&mut ws).await.expect("resync")["type"], "resync");
    let id = env.run(&["--name", "echoer"], &["cat"]);
    wait_until(
        "the supervisor knows the session",
        Duration::from_secs(10),
        || env.ok(&["ls", "--json"]).contains(&id),
    );
    let started = Instant::now();
    loop {
        let m = next_json(&mut ws).await.expect("event");
        if m["type"] == "session_update" && m["payload"]["session"]["id"] == id.as_str() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no session_update"
        );
    }
    send(
        &mut ws,
        json!({"type": "attach", "session": id, "size": {"cols": 80, "rows": 24}}),
    )
    .await;
    let a = next_json_of(&mut ws, &["attached"]).await;
    assert_eq!(a["writable"], true);
    send(
        &mut ws,
        json!({"type": "input", "session": id, "data": "hello over wss\r"}),
    )
    .await;
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&out)
        .matches("hello over wss")
        .count()
        .ge(&2)
    {
        assert!(
            Instant::now() < deadline,
            "echo never came: {}",
            String::from_utf8_lossy(&out)
        );
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => match TerminalFrame::decode(&b).expect("frame") {
                TerminalFrame::Output { data, .. } | TerminalFrame::Snapshot { data, .. } => {
                    out.extend_from_slice(&data)
                }
            },
            Ok(Some(Ok(_))) => {}
            other => panic!("socket ended: {other:?}"),
        }
    }
    // The ServerMessage type decodes what the server sends.
    let _: ServerMessage = serde_json::from_value(a).expect("attached decodes");
}

#[tokio::test]
async fn a_thousand_wss_disconnect_resume_cycles_during_a_flood_lose_and_double_nothing() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let token = web.token(&env, "viewer").await;
    let stop = env.dir().join("stop-flood");
    // Lines as fast as sh can write them, with a 10 ms breath every 500 lines: on a busy
    // 2-core machine an unbroken flood starved the holder's hello for more than 5 s, again
    // and again; the cycles still all happen while output pours in.
    let script = format!(
        "read go; i=0; while [ ! -e {} ]; do echo $i; i=$((i+1)); [ $((i % 500)) -ne 0 ] || sleep 0.01; done; echo END; read x",
        stop.display()
    );
    let id = env.run(&["--ring", "256M"], &["sh", "-c", &script]);
    wait_until(
        "the supervisor knows the session",
        Duration::from_secs(10),
        || env.ok(&["ls", "--json"]).contains(&id),
    );
    env.ok(&["send", &id, "--enter", ""]);
    let mut all: Vec<u8> = Vec::new();
    let mut offset = 0u64;
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut cycles_in_flood = 0;
    let mut cycles = 0;
    let mut started_at: Option<u64> = None;
    let mut retries = 0;
    loop {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut ws = web.ws(Some(&token)).await;
        send(
            &mut ws,
            json!({"type": "attach", "session": id, "offset": offset}),
        )
        .await;
        let a = next_json_of(&mut ws, &["attached", "error"]).await;
        if a["type"] == "error" {
            // A holder slow to answer (a loaded machine, mid-flood) is like a failed
            // reconnect: the client tries again from the same offset.
            assert_eq!(a["code"], "unavailable", "cycle {cycles}: {a}");
            retries += 1;
            assert!(retries <= 50, "too many failed attaches: {a}");
            continue;
        }
        assert_eq!(
            (a["snapshot"].as_bool(), a["gap"].as_bool()),
            (Some(false), Some(false)),
            "cycle {cycles}: {a}"
        );
        assert_eq!(
            a["offset"].as_u64(),
            Some(offset),
            "cycle {cycles} resumes where it left"
        );
        let ended = all.ends_with(b"END\r\n");
        if ended {
            break;
        }
        cycles_in_flood += 1;
        if cycles_in_flood == 1000 {
            std::fs::write(&stop, b"").expect("stop file");
        }
        let frames = 1 + seed % 4;
        let mut got = 0;
        while got < frames {
            match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => match TerminalFrame::decode(&b).expect("frame")
                {
                    TerminalFrame::Output {
                        offset: o, data, ..
                    } => {
                        assert_eq!(
                            o, offset,
                            "cycle {cycles}: a byte lost or doubled at the seam"
                        );
                        started_at.get_or_insert(o);
                        offset += data.len() as u64;
                        all.extend_from_slice(&data);
                        got += 1;
                    }
                    TerminalFrame::Snapshot { .. } => {
                        panic!("cycle {cycles}: resynced by a snapshot")
                    }
                },
                Ok(Some(Ok(Message::Text(t)))) => {
                    let m: Value = serde_json::from_str(&t).expect("json");
                    assert_ne!(m["type"], "lagged", "cycle {cycles}: {m}");
                }
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
            if all.ends_with(b"END\r\n") {
                break;
            }
        }
        // Cut without a goodbye half the time, like a phone losing its network.
        if seed.is_multiple_of(2) {
            let _ = ws.close(None).await;
        }
        drop(ws);
        cycles += 1;
        assert!(cycles < 100_000, "the flood never finished");
    }
    let text = String::from_utf8(all).expect("utf8");
    let mut expected = 0u32;
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        if line == "END" {
            break;
        }
        assert_eq!(
            line.parse::<u32>().ok(),
            Some(expected),
            "byte lost or doubled near line {expected}"
        );
        expected += 1;
    }
    assert!(text.ends_with("\r\nEND\r\n"));
    assert!(expected > 1000, "a real flood: {expected} lines");
    assert!(
        cycles_in_flood >= 1000,
        "{cycles_in_flood} cycles during the flood"
    );
    assert_eq!(started_at, Some(0));
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

#[tokio::test]
async fn a_session_from_paddock_run_is_in_the_very_next_rest_list_and_on_the_event_stream() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let token = web.token(&env, "viewer").await;
    let mut ws = web.ws(Some(&token)).await;
    send(&mut ws, json!({"type": "subscribe"})).await;
    assert_eq!(next_json(&mut ws).await.expect("resync")["type"], "resync");
    for i in 0..3 {
        let id = env.run(&["--name", &format!("r{i}")], &["sleep", "600"]);
        let r = web
            .call("GET", "/api/v1/sessions", Some(&token), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body
                .as_array()
                .is_some_and(|all| all.iter().any(|s| s["id"] == id.as_str())),
            "{id} is missing from the REST list right after `paddock run`: {}",
            r.body
        );
        // The UI learns of it from the event already published.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let m = tokio::time::timeout_at(deadline.into(), next_json(&mut ws))
                .await
                .expect("a session_update for the new session")
                .expect("event");
            if m["type"] == "session_update" && m["payload"]["session"]["id"] == id.as_str() {
                break;
            }
        }
    }
}

#[tokio::test]
async fn a_message_over_rest_says_whether_the_agent_took_it() {
    let env = Env::new();
    let (_sup, web) = up(&env);
    let token = web.token(&env, "operator").await;
    let id = env.run(&["--name", "reader"], &["cat"]);
    let r = web
        .call(
            "POST",
            &format!("/api/v1/sessions/{id}/message"),
            Some(&token),
            Some(json!({"text": "hello over rest"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["outcome"], "submitted", "{}", r.body);
    assert_eq!(r.body["session"]["id"], id.as_str(), "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("reader took the message")),
        "{}",
        r.body
    );
    // The wait is the caller's: a program that shows nothing is `unknown` after it, with
    // what was seen; a wait out of range is a 400 that gives the range.
    let deaf = env.run(&["--name", "deaf"], &["sh", "-c", "stty -echo; sleep 600"]);
    let post = |id: String, body: serde_json::Value| {
        let web = &web;
        let token = &token;
        async move {
            web.call(
                "POST",
                &format!("/api/v1/sessions/{id}/message"),
                Some(token),
                Some(body),
            )
            .await
        }
    };
    let r = post(deaf.clone(), json!({"text": "hello", "timeout_ms": 800})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["outcome"], "unknown", "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("within 0.8 s") && d.contains("never showed")),
        "{}",
        r.body
    );
    let r = post(deaf, json!({"text": "hello", "timeout_ms": 600_001})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Typed as is to a shell (what `paddock send --enter` does): submitted once it ran.
    let sh = env.run(
        &["--name", "sh"],
        &["env", "PS1=ready$ ", "bash", "--norc", "--noprofile", "-i"],
    );
    wait_until("bash's prompt", Duration::from_secs(20), || {
        env.ok(&["logs", &sh]).contains("ready$")
    });
    let r = post(sh, json!({"text": "echo over-$((1 + 1))", "typed": true})).await;
    assert_eq!(r.body["outcome"], "submitted", "{}", r.body);
}

#[tokio::test]
async fn a_browser_subscribes_to_web_push_a_test_reaches_it_and_a_bad_action_token_is_refused() {
    let env = Env::new();
    let (_sup, web) = up(&env);
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

    let sent = web
        .call(
            "POST",
            "/api/v1/notifications/test/web_push",
            Some(&admin),
            None,
        )
        .await;
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

    let none = web
        .call(
            "POST",
            "/api/v1/notifications/test/pager",
            Some(&admin),
            None,
        )
        .await;
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

#[tokio::test]
async fn a_session_started_over_rest_gets_what_only_the_owners_login_shell_sets() {
    let env = Env::new();
    let home = env.dir().join("home");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(
        home.join(".bash_profile"),
        "echo 'a profile that talks'\nexport ONLY_IN_LOGIN=from-the-profile\nexport SHARED=from-the-profile\n",
    )
    .expect("profile");
    assert!(std::env::var_os("ONLY_IN_LOGIN").is_none());
    let mut vars = relaxed().to_vec();
    let home_s = home.display().to_string();
    vars.extend([
        ("HOME", home_s.as_str()),
        ("SHELL", "/bin/bash"),
        ("PADDOCK_AGENTS__LOGIN_ENV", "true"),
    ]);
    let _sup = up_env(&env, &vars);
    let web = Web::of(&env);
    let token = web.token(&env, "operator").await;
    let body = json!({
        "command": ["sh", "-c", "echo \"login=$ONLY_IN_LOGIN shared=$SHARED\"; exec cat"],
        "cwd": home_s,
        "env": {"SHARED": "from-the-request"},
    });
    let r = web
        .call("POST", "/api/v1/sessions", Some(&token), Some(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().expect("id").to_owned();
    let want = "login=from-the-profile shared=from-the-request";
    wait_until(
        "the session printed its variables",
        Duration::from_secs(10),
        || env.ok(&["logs", &id]).contains(want),
    );
}
