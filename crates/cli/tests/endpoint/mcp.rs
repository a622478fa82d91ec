//! MCP over HTTPS: a hand-written JSON-RPC client; token, host check and tools bounded by role.

use crate::common::{wait_until, Env};
use crate::web::{up, Web};
use serde_json::{json, Value};
use std::time::Duration;

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
