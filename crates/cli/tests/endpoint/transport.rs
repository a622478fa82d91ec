//! TLS 1.3 with a pinned certificate, and plain HTTP: only on loopback, never pairable.

use crate::common::Env;
use crate::web;
use crate::web::{up, up_env};
use serde_json::Value;
use std::sync::Arc;
use tokio::net::TcpStream;

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
