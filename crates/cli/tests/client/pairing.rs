//! Pairing pinned to the certificate: a wrong or changed certificate refused before anything
//! is sent, the short code, and an impostor with the certificate but not its key.

use crate::common::Env;
use crate::support::{client_side, listed, qr_link};
use paddock_client::{ClientError, PairingLink};
use paddock_proto::supervisor::SessionView;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

#[tokio::test]
async fn a_wrong_fingerprint_is_refused_before_the_secret_leaves_and_the_right_one_pairs() {
    let env = Env::new();
    let _sup = env.up();
    let offer = env.pair_offer("operator");
    let (_dir, hosts) = client_side();

    let mut wrong = qr_link(&offer);
    wrong.fingerprint = Some("00".repeat(32));
    let err = paddock_client::pair(&hosts, &wrong, "laptop", Some("box"))
        .await
        .expect_err("a wrong fingerprint must be refused");
    assert_eq!(err.code(), "certificate_changed", "{err}");
    assert!(hosts.list().expect("list").is_empty());

    // The secret is single use: had it been sent, this would fail.
    let host = paddock_client::pair(&hosts, &qr_link(&offer), "laptop", Some("box"))
        .await
        .expect("the right fingerprint pairs");
    assert_eq!(host.role.to_string(), "operator");
    assert_eq!(hosts.list().expect("list"), vec![host.clone()]);

    let id = env.run(
        &["--name", "remote-one"],
        &["sh", "-c", "echo hello; sleep 60"],
    );
    let client = hosts.client("box").expect("client");
    let sessions = listed(&client, &id).await;
    assert!(sessions
        .iter()
        .any(|s| s.id.as_str() == id && s.name == "remote-one"));
    let me: paddock_proto::rest::Me = client.get("/me").await.expect("me");
    assert_eq!(me.device.name, "laptop");
}

#[tokio::test]
async fn a_short_code_with_url_and_fingerprint_pairs_and_a_bad_code_says_so() {
    let env = Env::new();
    let _sup = env.up();
    let offer = env.pair_offer("viewer");
    let (url, fp) = env.endpoint();
    let (_dir, hosts) = client_side();
    let bad = PairingLink::short_code("ZZZZ-ZZZZ", &url, Some(&fp)).expect("parses");
    let err = paddock_client::pair(&hosts, &bad, "phone", None)
        .await
        .expect_err("wrong code");
    assert_eq!(err.code(), "pairing_failed", "{err}");
    let line = format!("{} {url} {fp}", offer["code"].as_str().expect("code"));
    let host = paddock_client::pair(
        &hosts,
        &PairingLink::parse(&line).expect("code"),
        "phone",
        None,
    )
    .await
    .expect("the short code pairs");
    assert_eq!(host.name, "127.0.0.1");
    assert_eq!(host.fingerprint, fp);
}

#[tokio::test]
async fn a_changed_certificate_is_reported_as_such() {
    let env = Env::new();
    let sup = env.up();
    let (_dir, hosts) = client_side();
    let host = paddock_client::pair(&hosts, &qr_link(&env.pair_offer("viewer")), "laptop", None)
        .await
        .expect("pairs");
    // The host makes a new certificate (its TLS directory is gone) and comes back.
    drop(sup);
    std::fs::remove_dir_all(env.dir().join("data/endpoint/tls")).expect("remove the tls dir");
    let _sup = env.up();
    let (url, new_fp) = env.endpoint();
    assert_ne!(new_fp, host.fingerprint);
    let mut moved = host.clone();
    moved.url = paddock_client::HostUrl::parse(&url).expect("url");
    hosts.update(moved).expect("update");
    let err = hosts
        .client(&host.name)
        .expect("client")
        .get::<Vec<SessionView>>("/sessions")
        .await
        .expect_err("a changed certificate must be refused");
    match &err {
        ClientError::CertificateChanged {
            pinned, presented, ..
        } => {
            assert_eq!(pinned, &host.fingerprint);
            assert_eq!(presented, &new_fp);
        }
        other => panic!("expected certificate_changed, got {other:?}"),
    }
    assert_eq!(err.code(), "certificate_changed");
    assert!(err.to_string().contains("pair again"), "{err}");
}

/// A TLS server presenting `cert_der` but signing with a key of its own; records whether any
/// byte of a request reached it.
async fn impostor(cert_der: Vec<u8>) -> (String, Arc<Mutex<usize>>) {
    #[derive(Debug)]
    struct Fixed(Arc<rustls::sign::CertifiedKey>);
    impl rustls::server::ResolvesServerCert for Fixed {
        fn resolve(
            &self,
            _: rustls::server::ClientHello<'_>,
        ) -> Option<Arc<rustls::sign::CertifiedKey>> {
            Some(self.0.clone())
        }
    }
    let other_key = rcgen::KeyPair::generate().expect("key");
    let der = rustls::pki_types::PrivateKeyDer::Pkcs8(other_key.serialize_der().into());
    let signer = rustls::crypto::ring::sign::any_supported_type(&der).expect("signer");
    let certified = rustls::sign::CertifiedKey::new(
        vec![rustls::pki_types::CertificateDer::from(cert_der)],
        signer,
    );
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .expect("tls13")
    .with_no_client_auth()
    .with_cert_resolver(Arc::new(Fixed(Arc::new(certified))));
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let received = Arc::new(Mutex::new(0usize));
    let seen = received.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut buf = [0u8; 1024];
                    if let Ok(n) = tls.read(&mut buf).await {
                        *seen.lock().expect("lock") += n;
                    }
                }
            });
        }
    });
    (format!("https://{addr}"), received)
}

#[tokio::test]
async fn a_server_with_the_right_certificate_but_not_its_key_is_refused() {
    let env = Env::new();
    let _sup = env.up();
    let offer = env.pair_offer("admin");
    let cert = std::fs::read(env.dir().join("data/endpoint/tls/cert.der")).expect("cert");
    let (url, received) = impostor(cert).await;
    let (_dir, hosts) = client_side();
    let mut link = qr_link(&offer);
    link.url = paddock_client::HostUrl::parse(&url).expect("url");
    let err = paddock_client::pair(&hosts, &link, "laptop", None)
        .await
        .expect_err("an impostor must be refused");
    assert_eq!(err.code(), "tls_failed", "{err}");
    assert_eq!(
        *received.lock().expect("lock"),
        0,
        "nothing reached the impostor"
    );
    // The same offer still pairs with the real host: the secret never left.
    paddock_client::pair(&hosts, &qr_link(&offer), "laptop", None)
        .await
        .expect("the real host pairs");
}
