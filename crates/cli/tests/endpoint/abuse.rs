//! Refusals of abuse: the rate limit, security headers and strict origins, malformed and
//! oversize messages.

use crate::common::Env;
use crate::web::{next_json, send, up, up_env, Web};
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

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
