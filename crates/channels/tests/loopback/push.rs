//! APNs and FCM against loopback fakes that check what Apple and Google check. APNs: an
//! HTTP/2-only TLS server (ALPN h2) that verifies the ES256 provider token with the key's
//! public half (`kid`, `iss`, a recent `iat`), the headers and the device, as APNs answers
//! (200 with `apns-id`, or 4xx with a `reason`). FCM: a token endpoint that verifies the
//! service account's RS256 assertion and issues an access token, and `messages:send` that
//! takes only that bearer token and a valid message.

use super::support::{cert, jws, now, permission, Served};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use http_body_util::BodyExt;
use paddock_channels::apns::Apns;
use paddock_channels::fcm::Fcm;
use paddock_core::notify::remote_config::{ApnsConfig, FcmConfig};
use paddock_core::notify::{Channel, ChannelError, Withdrawal};
use ring::signature::{self, KeyPair};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const DEVICE: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const GONE: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

#[derive(Clone)]
pub struct ApnsFake {
    public_key: Vec<u8>,
    pub seen: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

fn reason(status: u16, reason: &str) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
    hyper::Response::builder()
        .status(status)
        .header("apns-id", "00000000-0000-0000-0000-000000000000")
        .body(json!({"reason": reason}).to_string().into())
        .expect("response")
}

impl ApnsFake {
    async fn handle(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
        if req.version() != hyper::Version::HTTP_2 {
            return reason(400, "BadRequest: HTTP/2 only");
        }
        let Some(device) = req
            .uri()
            .path()
            .strip_prefix("/3/device/")
            .map(str::to_owned)
        else {
            return reason(404, "BadPath");
        };
        if req.method() != hyper::Method::POST {
            return reason(405, "MethodNotAllowed");
        }
        let headers = req.headers().clone();
        let h = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let Some(token) = h("authorization")
            .strip_prefix("bearer ")
            .map(str::to_owned)
        else {
            return reason(403, "MissingProviderToken");
        };
        let Some((header, claims, input, sig)) = jws(&token) else {
            return reason(403, "InvalidProviderToken");
        };
        let key = signature::UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_FIXED,
            &self.public_key,
        );
        if header["alg"] != "ES256"
            || header["kid"] != "KEY1234567"
            || key.verify(input.as_bytes(), &sig).is_err()
        {
            return reason(403, "InvalidProviderToken");
        }
        if claims["iss"] != "TEAM123456" {
            return reason(403, "InvalidProviderToken");
        }
        let iat = claims["iat"].as_u64().unwrap_or(0);
        if now().abs_diff(iat) > 3600 {
            return reason(403, "ExpiredProviderToken");
        }
        if h("apns-topic").is_empty() {
            return reason(400, "MissingTopic");
        }
        if h("apns-topic") != "dev.paddock.app" {
            return reason(400, "DeviceTokenNotForTopic");
        }
        if !["alert", "background"].contains(&h("apns-push-type").as_str()) {
            return reason(400, "InvalidPushType");
        }
        if !["5", "10"].contains(&h("apns-priority").as_str()) {
            return reason(400, "BadPriority");
        }
        if h("apns-collapse-id").len() > 64 {
            return reason(400, "BadCollapseId");
        }
        if device.len() != 64 || !device.bytes().all(|b| b.is_ascii_hexdigit()) {
            return reason(400, "BadDeviceToken");
        }
        if device == GONE {
            return reason(410, "Unregistered");
        }
        let Ok(body) = req.into_body().collect().await.map(|b| b.to_bytes()) else {
            return reason(400, "BadRequest");
        };
        if body.len() > 4096 {
            return reason(413, "PayloadTooLarge");
        }
        let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
            return reason(400, "BadRequest");
        };
        if !payload["aps"].is_object() {
            return reason(400, "PayloadEmpty");
        }
        self.seen.lock().expect("lock").push((headers, payload));
        hyper::Response::builder()
            .status(200)
            .header("apns-id", "5f8d7f1c-1111-2222-3333-444455556666")
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .expect("response")
    }
}

/// Serves `fake` over TLS with ALPN h2 only, HTTP/2 only.
async fn serve_h2(
    fake: ApnsFake,
    cert: &super::support::Cert,
) -> (String, tokio::task::JoinHandle<()>) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_der.clone())),
        )
        .expect("tls config");
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let fake = fake.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |req| {
                    let fake = fake.clone();
                    async move { Ok::<_, std::convert::Infallible>(fake.handle(req).await) }
                });
                let _ =
                    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
            });
        }
    });
    (url, task)
}

/// An APNs fake with a new key: the channel's config (devices: one live, one gone), the
/// fake (what it accepted), and its server task.
pub async fn apns_server(
    cert: &super::support::Cert,
) -> (ApnsConfig, ApnsFake, tokio::task::JoinHandle<()>) {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 =
        signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("key");
    let pair = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8.as_ref(),
        &rng,
    )
    .expect("pair");
    let key_file = cert.dir.path().join("AuthKey_KEY1234567.p8");
    {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref());
        std::fs::write(
            &key_file,
            format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n"),
        )
        .expect("write key");
    }
    let fake = ApnsFake {
        public_key: pair.public_key().as_ref().to_vec(),
        seen: Arc::default(),
    };
    let (url, task) = serve_h2(fake.clone(), cert).await;
    let config = ApnsConfig {
        enabled: true,
        base_url: url,
        team_id: "TEAM123456".into(),
        key_id: "KEY1234567".into(),
        key_file: Some(key_file),
        topic: "dev.paddock.app".into(),
        devices: vec![DEVICE.into(), GONE.into()],
        ca_file: Some(cert.pem_file.clone()),
    };
    (config, fake, task)
}

#[tokio::test]
async fn apns_gets_an_http2_push_with_a_valid_es256_token_and_the_actions_for_the_app() {
    let cert = cert();
    let (config, fake, task) = apns_server(&cert).await;
    let channel = Apns::new(&config).expect("channel");
    let out = permission();
    let receipt = channel
        .deliver(&out)
        .await
        .expect("delivered to the live device");
    assert_eq!(receipt.remote_ids, ["5f8d7f1c-1111-2222-3333-444455556666"]);
    assert_eq!(
        receipt.detail.as_deref(),
        Some("1 of 2 devices"),
        "the unregistered one failed"
    );
    let (headers, payload) = fake.seen.lock().expect("lock")[0].clone();
    assert_eq!(headers["apns-push-type"], "alert");
    assert_eq!(
        headers["apns-priority"], "10",
        "a permission request is urgent"
    );
    assert_eq!(headers["apns-collapse-id"], "paddock-n7");
    assert_eq!(
        payload["aps"]["alert"]["title"],
        "api-refactor asks to run Bash"
    );
    assert_eq!(payload["aps"]["category"], "PADDOCK_PERMISSION");
    assert_eq!(payload["paddock"]["request"], "p3");
    assert_eq!(payload["paddock"]["actions"][0]["token"], "pna_allow");
    assert_eq!(payload["paddock"]["actions"][1]["label"], "Deny");

    channel
        .withdraw(
            &out,
            &receipt,
            &Withdrawal {
                text: "Allowed by ntfy notification".into(),
            },
        )
        .await
        .expect("replaced");
    let (headers, update) = fake.seen.lock().expect("lock")[1].clone();
    assert_eq!(
        headers["apns-collapse-id"], "paddock-n7",
        "replaces the first"
    );
    assert_eq!(headers["apns-priority"], "5");
    assert_eq!(
        update["aps"]["alert"]["body"],
        "Allowed by ntfy notification"
    );
    assert!(
        update["aps"].get("category").is_none() && update["aps"].get("sound").is_none(),
        "{update}"
    );
    assert_eq!(update["paddock"]["actions"], json!([]));

    let only_gone = Apns::new(&ApnsConfig {
        devices: vec![GONE.into()],
        ..config.clone()
    })
    .expect("channel");
    let err = only_gone.deliver(&out).await.expect_err("unregistered");
    assert!(
        err.to_string()
            .contains("remove it from [notify.apns] devices"),
        "{err}"
    );
    assert!(!err.is_retryable());

    let other_team = Apns::new(&ApnsConfig {
        team_id: "TEAM999999".into(),
        ..config.clone()
    })
    .expect("channel");
    let err = other_team.deliver(&out).await.expect_err("wrong team");
    assert!(err.to_string().contains("InvalidProviderToken"), "{err}");

    let none = Apns::new(&ApnsConfig {
        devices: vec![],
        ..config
    })
    .expect("channel");
    let err = none.deliver(&out).await.expect_err("no devices");
    assert!(matches!(err, ChannelError::NotConfigured(_)), "{err:?}");
    task.abort();
}

#[derive(Clone, Default)]
pub struct FcmFake {
    public_key: Vec<u8>,
    token_url: Arc<Mutex<String>>,
    issued: Arc<Mutex<Vec<String>>>,
    pub sent: Arc<Mutex<Vec<Value>>>,
}

fn google_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": status.as_u16(), "message": message, "status": code}})),
    )
        .into_response()
}

async fn fcm_token(
    State(f): State<FcmFake>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let bad = |d: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": d})),
        )
            .into_response()
    };
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type"})),
        )
            .into_response();
    }
    let Some((header, claims, input, sig)) = form.get("assertion").and_then(|a| jws(a)) else {
        return bad("Invalid JWT.");
    };
    let key =
        signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &f.public_key);
    if header["alg"] != "RS256" || key.verify(input.as_bytes(), &sig).is_err() {
        return bad("Invalid JWT Signature.");
    }
    if header["kid"] != "testkeyid1" {
        return bad("Invalid key id.");
    }
    if claims["iss"] != "paddock-push@paddock-test.iam.gserviceaccount.com" {
        return bad("Invalid issuer.");
    }
    if claims["aud"].as_str() != Some(f.token_url.lock().expect("lock").as_str()) {
        return bad("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe");
    }
    if !claims["scope"]
        .as_str()
        .unwrap_or("")
        .split(' ')
        .any(|s| s == "https://www.googleapis.com/auth/firebase.messaging")
    {
        return bad("Invalid scope.");
    }
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap_or(0),
        claims["exp"].as_u64().unwrap_or(0),
    );
    if exp <= iat || exp - iat > 3600 || now().abs_diff(iat) > 300 {
        return bad("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.");
    }
    let mut issued = f.issued.lock().expect("lock");
    let token = format!("ya29.fake-{}", issued.len() + 1);
    issued.push(token.clone());
    Json(json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})).into_response()
}

async fn fcm_send(
    State(f): State<FcmFake>,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ok = auth
        .strip_prefix("Bearer ")
        .is_some_and(|t| f.issued.lock().expect("lock").iter().any(|i| i == t));
    if !ok {
        return google_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
        );
    }
    if project != "paddock-test" {
        return google_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Permission denied on the project.",
        );
    }
    let m = &body["message"];
    let targets = ["token", "topic", "condition"]
        .iter()
        .filter(|k| m.get(**k).is_some())
        .count();
    if targets != 1 {
        return google_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "exactly one of token, topic or condition",
        );
    }
    if let Some(data) = m.get("data") {
        if !data
            .as_object()
            .is_some_and(|d| d.values().all(Value::is_string))
        {
            return google_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                "Invalid value at 'message.data': values must be strings",
            );
        }
    }
    if m["token"] == GONE {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND",
                "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}})),
        )
            .into_response();
    }
    let mut sent = f.sent.lock().expect("lock");
    sent.push(body.clone());
    Json(json!({"name": format!("projects/paddock-test/messages/{}", sent.len())})).into_response()
}

/// An FCM fake (token endpoint and messages:send) and a service account for it written in
/// `dir`: the channel's config (one device), the fake, its server.
pub async fn fcm_server(dir: &std::path::Path) -> (FcmConfig, FcmFake, Served) {
    let pem = include_str!("fcm-test-key.pem");
    let der = paddock_channels::jwt::pem_der(pem, "PRIVATE KEY").expect("pem");
    let pair = signature::RsaKeyPair::from_pkcs8(&der).expect("rsa");
    let fake = FcmFake {
        public_key: pair.public().as_ref().to_vec(),
        ..Default::default()
    };
    let app = Router::new()
        .route("/token", post(fcm_token))
        .route("/v1/projects/{project}/messages:send", post(fcm_send))
        .with_state(fake.clone());
    let server = Served::start(app).await;
    let token_url = format!("{}/token", server.url());
    *fake.token_url.lock().expect("lock") = token_url.clone();
    let sa = dir.join("service-account.json");
    std::fs::write(
        &sa,
        json!({
            "type": "service_account",
            "project_id": "paddock-test",
            "private_key_id": "testkeyid1",
            "private_key": pem,
            "client_email": "paddock-push@paddock-test.iam.gserviceaccount.com",
            "token_uri": token_url,
        })
        .to_string(),
    )
    .expect("write");
    let config = FcmConfig {
        enabled: true,
        base_url: server.url(),
        service_account_file: Some(sa),
        devices: vec!["fcm-device-1".into()],
        ..Default::default()
    };
    (config, fake, server)
}

#[tokio::test]
async fn fcm_exchanges_a_verified_assertion_for_a_token_reuses_it_and_sends_the_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, fake, _server) = fcm_server(dir.path()).await;
    let channel = Fcm::new(&config).expect("channel");
    let out = permission();
    let first = channel.deliver(&out).await.expect("sent");
    assert_eq!(first.remote_ids, ["projects/paddock-test/messages/1"]);
    channel.deliver(&out).await.expect("sent again");
    assert_eq!(
        fake.issued.lock().expect("lock").len(),
        1,
        "the access token is reused"
    );
    let m = fake.sent.lock().expect("lock")[0]["message"].clone();
    assert_eq!(m["token"], "fcm-device-1");
    assert_eq!(m["notification"]["title"], "api-refactor asks to run Bash");
    assert_eq!(m["android"]["priority"], "high");
    assert_eq!(m["data"]["request"], "p3");
    let actions: Value =
        serde_json::from_str(m["data"]["actions"].as_str().unwrap_or("")).expect("actions JSON");
    assert_eq!(actions[0]["token"], "pna_allow");

    channel
        .withdraw(
            &out,
            &first,
            &Withdrawal {
                text: "Denied by desktop notification".into(),
            },
        )
        .await
        .expect("replaced");
    let update = fake.sent.lock().expect("lock")[2]["message"].clone();
    assert_eq!(
        update["android"]["notification"]["tag"], "paddock-n7",
        "replaces the first"
    );
    assert_eq!(
        update["notification"]["body"],
        "Denied by desktop notification"
    );
    assert_eq!(update["data"]["actions"], "[]");

    let gone = Fcm::new(&FcmConfig {
        devices: vec![GONE.into()],
        ..config.clone()
    })
    .expect("channel");
    let err = gone.deliver(&out).await.expect_err("unregistered");
    assert!(
        err.to_string()
            .contains("remove it from [notify.fcm] devices"),
        "{err}"
    );

    let other_key = dir.path().join("other.json");
    let mut forged: Value = serde_json::from_str(
        &std::fs::read_to_string(config.service_account_file.clone().expect("sa")).expect("read"),
    )
    .expect("json");
    forged["client_email"] = "intruder@elsewhere.iam.gserviceaccount.com".into();
    std::fs::write(&other_key, forged.to_string()).expect("write");
    let intruder = Fcm::new(&FcmConfig {
        service_account_file: Some(other_key),
        ..config
    })
    .expect("channel");
    let err = intruder.deliver(&out).await.expect_err("refused");
    assert!(
        err.to_string()
            .contains("Google refused the service account"),
        "{err}"
    );
    assert!(!err.is_retryable());
}
