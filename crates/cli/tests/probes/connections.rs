//! Connections: foreign origins and bad socket messages, slow headers, stalled handshakes, one
//! connection too many and TLS 1.2.

use crate::audit::{audited, names_peer, T};
use crate::common::Env;
use crate::web;
use crate::web::{next_json, relaxed, send, up_env, Web};
use futures_util::SinkExt;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

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
