//! `paddock-client` against a real `paddock up`: pairing pinned to the certificate, a
//! wrong or changed certificate refused before anything is sent, an impostor holding the
//! right certificate but not its key refused, REST with token refresh, revocation, and a
//! terminal stream that resumes across dropped connections without losing or repeating a
//! byte.

mod common;

use common::{Env, Supervisor};
use paddock_client::{
    AttachOptions, ClientError, Host, HostClient, Hosts, PairingLink, SecretStore, TerminalEvent,
};
use paddock_proto::supervisor::SessionView;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// The known hosts of another "machine": its own config dir, tokens in 0600 files.
fn client_side() -> (tempfile::TempDir, Hosts) {
    let dir = tempfile::tempdir().expect("client dir");
    let hosts = Hosts::open(dir.path().to_owned(), SecretStore::file(dir.path()));
    (dir, hosts)
}

/// A running supervisor and another machine paired with it as `role` (device `laptop`),
/// where most tests start. Dropped in field order: the supervisor, then the sessions.
struct Paired {
    _sup: Supervisor,
    env: Env,
    hosts: Hosts,
    host: Host,
    _dir: tempfile::TempDir,
}

impl Paired {
    async fn new(role: &str) -> Self {
        let env = Env::new();
        let sup = env.up();
        let (dir, hosts) = client_side();
        let host = paddock_client::pair(&hosts, &qr_link(&env.pair_offer(role)), "laptop", None)
            .await
            .expect("pairs");
        Self {
            _sup: sup,
            env,
            hosts,
            host,
            _dir: dir,
        }
    }

    /// A client of the paired host.
    fn client(&self) -> HostClient {
        self.hosts.client(&self.host.name).expect("client")
    }
}

/// Waits until the host lists session `id` (the supervisor adopts new holders within a
/// second); the list.
async fn listed(client: &paddock_client::HostClient, id: &str) -> Vec<SessionView> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let sessions: Vec<SessionView> = client.get("/sessions").await.expect("REST works");
        if sessions.iter().any(|s| s.id.as_str() == id) {
            return sessions;
        }
        assert!(Instant::now() < deadline, "the host never listed {id}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn qr_link(offer: &Value) -> PairingLink {
    PairingLink::parse(offer["pair_url"].as_str().expect("pair_url")).expect("the QR link parses")
}

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

#[tokio::test]
async fn an_expired_access_token_is_refreshed_and_a_revoked_device_is_told() {
    let paired = Paired::new("viewer").await;
    let (env, hosts, host) = (&paired.env, &paired.hosts, &paired.host);
    let key = host.device_id.0.clone();
    let before = hosts
        .secrets()
        .load(&key)
        .await
        .expect("load")
        .expect("tokens");
    // An access token the host no longer accepts (as after its 15 minutes).
    let mut stale = before.clone();
    stale.access_token = "expired".into();
    hosts.secrets().save(&key, &stale).await.expect("save");
    let client = paired.client();
    let _: Vec<SessionView> = client
        .get("/sessions")
        .await
        .expect("refreshed and retried");
    let after = hosts
        .secrets()
        .load(&key)
        .await
        .expect("load")
        .expect("tokens");
    assert_ne!(
        after.refresh_token, before.refresh_token,
        "the refresh token rotated"
    );
    assert_ne!(after.access_token, "expired");

    env.ok(&["devices", "revoke", &key]);
    let err = client
        .get::<Vec<SessionView>>("/sessions")
        .await
        .expect_err("revoked");
    assert_eq!(err.code(), "revoked", "{err}");
}

/// A loopback TCP relay whose connections can be cut, as a network drop would.
struct Relay {
    addr: String,
    live: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    accepted: Arc<Mutex<usize>>,
}

impl Relay {
    async fn to(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let live: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let accepted: Arc<Mutex<usize>> = Arc::default();
        let (l, a) = (live.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                *a.lock().expect("lock") += 1;
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut up) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    }
                });
                l.lock().expect("lock").push(task.abort_handle());
            }
        });
        Self {
            addr,
            live,
            accepted,
        }
    }

    /// Drops every relayed connection.
    fn cut(&self) {
        for t in self.live.lock().expect("lock").drain(..) {
            t.abort();
        }
    }
}

/// A session printing 600 numbered lines over about 3 s, then waiting: its id, and every
/// byte it prints, in order.
fn counting(env: &Env) -> (String, Vec<u8>) {
    const LINES: usize = 600;
    let id = env.run(
        &[],
        &[
            "sh",
            "-c",
            &format!("for i in $(seq 1 {LINES}); do echo line-$i; sleep 0.005; done; sleep 60"),
        ],
    );
    let expected = (1..=LINES)
        .flat_map(|i| format!("line-{i}\r\n").into_bytes())
        .collect();
    (id, expected)
}

#[tokio::test]
async fn a_terminal_stream_resumes_after_dropped_connections_without_loss_or_duplication() {
    let paired = Paired::new("operator").await;
    let (env, hosts, host) = (&paired.env, &paired.hosts, &paired.host);
    let (url, _) = env.endpoint();
    let relay = Relay::to(url.trim_start_matches("https://").to_owned()).await;
    let mut via = host.clone();
    via.url = paddock_client::HostUrl::parse(&format!("https://{}", relay.addr)).expect("url");
    hosts.update(via).expect("update");

    let (id, expected) = counting(env);
    let client = paired.client();
    listed(&client, &id).await;
    let mut stream = client
        .attach(
            &id,
            AttachOptions {
                offset: Some(0),
                ..Default::default()
            },
        )
        .await
        .expect("attach");
    let mut got = Vec::new();
    let mut next_offset = 0u64;
    let (mut cuts, mut resumed) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.len() < expected.len() {
        let ev = tokio::time::timeout_at(deadline.into(), stream.next())
            .await
            .expect("the stream delivered everything in time")
            .expect("the stream is open")
            .expect("no error");
        match ev {
            TerminalEvent::Output { offset, data } => {
                assert_eq!(
                    offset, next_offset,
                    "output continues exactly where it stopped"
                );
                next_offset += data.len() as u64;
                got.extend_from_slice(&data);
                // Cut the connection three times while output is still flowing.
                if cuts < 3 && got.len() > (cuts + 1) * expected.len() / 5 {
                    relay.cut();
                    cuts += 1;
                }
            }
            TerminalEvent::Attached { resumed: true, .. } => resumed += 1,
            TerminalEvent::Snapshot { .. } => {
                panic!("a resume from a known offset needs no snapshot")
            }
            _ => {}
        }
    }
    assert_eq!(cuts, 3);
    assert!(resumed >= 3, "resumed {resumed} times");
    assert!(*relay.accepted.lock().expect("lock") >= 4);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected),
        "every byte exactly once"
    );
}

// soak: begin
/// Found by the soak (`paddock-bench soak`): a client resuming from an offset whose bytes
/// the host no longer has got the host's snapshot without being told bytes were lost (the
/// `gap` of the host's `attached` was dropped), so a recorder or a viewer took the jump for
/// continuous output.
#[tokio::test]
async fn resuming_from_an_offset_the_host_no_longer_has_reports_the_gap() {
    let paired = Paired::new("operator").await;
    let env = &paired.env;
    // 20,000 lines (128,894 bytes on the terminal) through a 4 KiB ring.
    const PRINTED: u64 = 128_894;
    let id = env.run(&["--ring", "4K"], &["sh", "-c", "seq 1 20000; sleep 60"]);
    let client = paired.client();
    listed(&client, &id).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    // Wait until the agent printed everything (the ring wrapped many times).
    loop {
        let mut probe = client
            .attach(&id, AttachOptions::default())
            .await
            .expect("attach");
        let at = match tokio::time::timeout_at(deadline.into(), probe.next()).await {
            Ok(Some(Ok(TerminalEvent::Attached { offset, .. }))) => offset,
            other => panic!("expected attached first, got {other:?}"),
        };
        if at >= PRINTED {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the agent printed only {at} bytes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut stream = client
        .attach(
            &id,
            AttachOptions {
                offset: Some(10),
                ..Default::default()
            },
        )
        .await
        .expect("attach");
    loop {
        let ev = tokio::time::timeout_at(deadline.into(), stream.next())
            .await
            .expect("an event in time")
            .expect("the stream is open")
            .expect("no error");
        match ev {
            TerminalEvent::Snapshot { offset, gap, .. } => {
                assert!(offset >= PRINTED, "the snapshot is of the screen now");
                assert!(gap, "bytes 10..{offset} are gone: the snapshot must say so");
                break;
            }
            TerminalEvent::Output { offset, .. } => {
                panic!("output at {offset} without the snapshot that says bytes were lost")
            }
            _ => {}
        }
    }
}
// soak: end

#[tokio::test]
async fn events_start_with_every_session_then_follow_the_host() {
    let paired = Paired::new("viewer").await;
    let env = &paired.env;
    let client = paired.client();
    let mut events = client.events().await.expect("subscribe");
    let deadline = Instant::now() + Duration::from_secs(30);
    match next(&mut events, deadline).await {
        paddock_client::HostEvent::Resync { sessions } => assert!(sessions.is_empty()),
        other => panic!("expected resync first, got {other:?}"),
    }
    let id = env.run(&["--name", "watched"], &["sleep", "60"]);
    loop {
        if let paddock_client::HostEvent::Event { kind, payload } =
            next(&mut events, deadline).await
        {
            if kind == "session_update" && payload["session"]["id"] == id.as_str() {
                assert_eq!(payload["session"]["name"], "watched");
                break;
            }
        }
    }
}

async fn next(
    events: &mut paddock_client::EventStream,
    deadline: Instant,
) -> paddock_client::HostEvent {
    tokio::time::timeout_at(deadline.into(), events.next())
        .await
        .expect("an event in time")
        .expect("the stream is open")
        .expect("no error")
}

// relay: begin
/// A relayed socket's frames, as the app's webview gets them.
#[derive(Debug)]
enum Frame {
    Open,
    Text(String),
    Binary(Vec<u8>),
    Closed(u16, String),
}

/// The test's stand-in for the webview's IPC channel.
struct Collect(tokio::sync::mpsc::UnboundedSender<Frame>);

impl paddock_client::relay::SocketSink for Collect {
    fn open(&self) -> bool {
        self.0.send(Frame::Open).is_ok()
    }
    fn text(&self, data: String) -> bool {
        self.0.send(Frame::Text(data)).is_ok()
    }
    fn binary(&self, data: Vec<u8>) -> bool {
        self.0.send(Frame::Binary(data)).is_ok()
    }
    fn closed(&self, code: u16, reason: String) {
        let _ = self.0.send(Frame::Closed(code, reason));
    }
}

async fn frame(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Frame>, deadline: Instant) -> Frame {
    tokio::time::timeout_at(deadline.into(), rx.recv())
        .await
        .expect("a frame in time")
        .expect("the relay is alive")
}

fn json(m: &paddock_proto::web::ClientMessage) -> String {
    serde_json::to_string(m).expect("a client message")
}

/// The app's way to the host: the webview keeps its token and offsets and authenticates and
/// attaches itself; `relay::Sockets` only carries the frames over pinned TLS. Three dropped
/// connections later, attaching again from the offset the UI's bookkeeping expects
/// (`Offsets`, the twin of `terminal-stream.ts`), every byte arrived exactly once.
#[tokio::test]
async fn the_apps_relayed_socket_carries_a_terminal_that_resumes_without_loss_or_duplication() {
    use paddock_proto::web::{ClientMessage, ServerMessage, TerminalFrame};
    let paired = Paired::new("operator").await;
    let (env, hosts, host) = (&paired.env, &paired.hosts, &paired.host);
    let token = hosts
        .secrets()
        .load(&host.device_id.0)
        .await
        .expect("load")
        .expect("tokens")
        .access_token;
    let (url, fp) = env.endpoint();
    let proxy = Relay::to(url.trim_start_matches("https://").to_owned()).await;
    let ws_url = format!("wss://{}/api/v1/ws", proxy.addr);

    let (id, expected) = counting(env);
    listed(&paired.client(), &id).await;
    let session = paddock_proto::SessionId::parse(&id).expect("a session id");

    let sockets = paddock_client::relay::Sockets::new();
    let mut offsets = paddock_client::Offsets::starting_at(Some(0));
    let mut got = Vec::new();
    let (mut opened, mut cuts, mut last) = (0, 0, None);
    let deadline = Instant::now() + Duration::from_secs(60);
    'connections: while got.len() < expected.len() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (sock, pump) = sockets
            .open(&ws_url, Some(&fp), Collect(tx))
            .expect("a pinned socket");
        tokio::spawn(pump);
        last = Some(sock);
        opened += 1;
        assert!(matches!(frame(&mut rx, deadline).await, Frame::Open));
        sockets
            .send(
                sock,
                vec![
                    json(&ClientMessage::Auth {
                        token: token.clone(),
                    }),
                    json(&ClientMessage::Attach {
                        session: session.clone(),
                        offset: offsets.resume_from(),
                        size: None,
                        lossless: None,
                    }),
                ],
            )
            .expect("queued in order");
        loop {
            match frame(&mut rx, deadline).await {
                Frame::Binary(b) => match TerminalFrame::decode(&b).expect("a terminal frame") {
                    TerminalFrame::Output { offset, data, .. } => {
                        got.extend_from_slice(offsets.output(offset, &data));
                        if got.len() >= expected.len() {
                            break 'connections;
                        }
                        // Drop the connection three times while output still flows.
                        if cuts < 3 && got.len() > (cuts + 1) * expected.len() / 5 {
                            proxy.cut();
                            cuts += 1;
                        }
                    }
                    TerminalFrame::Snapshot { .. } => {
                        panic!("a resume from a known offset needs no snapshot")
                    }
                },
                Frame::Text(t) => {
                    if let Ok(ServerMessage::Error { message, .. }) = serde_json::from_str(&t) {
                        panic!("the host refused: {message}");
                    }
                }
                Frame::Closed(code, reason) => {
                    assert_eq!(code, 1006, "a dropped connection: {reason}");
                    assert!(reason.contains("connection"), "{reason}");
                    continue 'connections;
                }
                Frame::Open => panic!("opened twice"),
            }
        }
    }
    assert_eq!(cuts, 3);
    assert!(opened >= 4, "reconnected {opened} times");
    assert_eq!(offsets.gaps(), 0, "no bytes were skipped");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected),
        "every byte exactly once"
    );
    // Closed by the app: forgotten, and a late send says so.
    let sock = last.expect("a socket");
    sockets.close(sock, None);
    let err = sockets
        .send(sock, vec![json(&ClientMessage::Ping { nonce: None })])
        .expect_err("closed");
    assert_eq!(err.code(), "closed");
}
// relay: end
