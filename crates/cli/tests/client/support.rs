//! Helpers of more than one module: the other machine's known hosts, a paired supervisor,
//! the host's session list, a TCP relay whose connections can be cut, and a counting session.

use crate::common::{Env, Supervisor};
use paddock_client::{Host, HostClient, Hosts, PairingLink, SecretStore};
use paddock_proto::supervisor::SessionView;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

/// The known hosts of another "machine": its own config dir, tokens in 0600 files.
pub fn client_side() -> (tempfile::TempDir, Hosts) {
    let dir = tempfile::tempdir().expect("client dir");
    let hosts = Hosts::open(dir.path().to_owned(), SecretStore::file(dir.path()));
    (dir, hosts)
}

/// A running supervisor and another machine paired with it as `role` (device `laptop`),
/// where most tests start. Dropped in field order: the supervisor, then the sessions.
pub struct Paired {
    pub _sup: Supervisor,
    pub env: Env,
    pub hosts: Hosts,
    pub host: Host,
    pub _dir: tempfile::TempDir,
}

impl Paired {
    pub async fn new(role: &str) -> Self {
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
    pub fn client(&self) -> HostClient {
        self.hosts.client(&self.host.name).expect("client")
    }
}

/// Waits until the host lists session `id` (the supervisor adopts new holders within a
/// second); the list.
pub async fn listed(client: &paddock_client::HostClient, id: &str) -> Vec<SessionView> {
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

pub fn qr_link(offer: &Value) -> PairingLink {
    PairingLink::parse(offer["pair_url"].as_str().expect("pair_url")).expect("the QR link parses")
}

/// A loopback TCP relay whose connections can be cut, as a network drop would.
pub struct Relay {
    pub addr: String,
    pub live: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    pub accepted: Arc<Mutex<usize>>,
}

impl Relay {
    pub async fn to(target: String) -> Self {
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
    pub fn cut(&self) {
        for t in self.live.lock().expect("lock").drain(..) {
            t.abort();
        }
    }
}

/// A session printing 600 numbered lines over about 3 s, then waiting: its id, and every
/// byte it prints, in order.
pub fn counting(env: &Env) -> (String, Vec<u8>) {
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
