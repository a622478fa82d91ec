//! What the loopback tests share: notifications to send, HTTP servers on port 0 that stop
//! when dropped, a self-signed certificate the client is told to trust, and waiting on a
//! named condition with a deadline.

use paddock_core::notify::{
    ActionLink, Notification, NotificationAction, NotificationKind, NotificationState, Outgoing,
};
use paddock_proto::agent::Decision;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const UI: &str = "https://box.tailnet.test:7420";

/// A permission notification as the notifier hands it to a channel, with Approve and Deny
/// carrying made-up tokens (`pna_allow`, `pna_deny`).
pub fn permission() -> Outgoing {
    let n = Notification {
        id: "n7".into(),
        kind: NotificationKind::Permission,
        rule: "permission".into(),
        session: Some(paddock_proto::SessionId::from_random(7)),
        session_name: Some("api-refactor".into()),
        title: "api-refactor asks to run Bash".into(),
        body: "rm -rf target && cargo test <all>".into(),
        link: "/#/sessions/s7?request=p3".into(),
        request: Some("p3".into()),
        tool: Some("Bash".into()),
        detail: Some("rm -rf target && cargo test <all>".into()),
        actions: vec![],
        created_at: "2026-12-06T16:00:00.000Z".into(),
        state: NotificationState::Pending,
    };
    let actions = [
        ("allow", "Approve", Decision::Allow),
        ("deny", "Deny", Decision::Deny { message: None }),
    ]
    .into_iter()
    .map(|(key, label, decision)| ActionLink {
        action: NotificationAction {
            key: key.into(),
            label: label.into(),
            decision,
            takes_message: key == "deny",
        },
        token: format!("pna_{key}"),
        url: Some(format!("{UI}/#act=pna_{key}")),
    })
    .collect();
    outgoing(n, actions)
}

/// The one place an [`Outgoing`] is made by hand.
pub fn outgoing(n: Notification, actions: Vec<ActionLink>) -> Outgoing {
    Outgoing::new(n, actions, Some(UI.into()))
}

/// An axum app served on 127.0.0.1:0 until dropped.
pub struct Served {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    pub async fn start(app: axum::Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost, its PEM written to a file the
/// channels are told to trust (`ca_file`).
pub struct Cert {
    pub dir: tempfile::TempDir,
    pub pem_file: PathBuf,
    pub key_file: PathBuf,
    pub cert_der: Vec<u8>,
    pub key_der: Vec<u8>,
}

pub fn cert() -> Cert {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("certificate");
    let dir = tempfile::tempdir().expect("tempdir");
    let pem_file = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");
    std::fs::write(&pem_file, ck.cert.pem()).expect("write cert");
    std::fs::write(&key_file, ck.key_pair.serialize_pem()).expect("write key");
    Cert {
        dir,
        pem_file,
        key_file,
        cert_der: ck.cert.der().to_vec(),
        key_der: ck.key_pair.serialize_der(),
    }
}

/// Waits until `probe` gives a value, or fails naming `what`.
pub async fn until<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Splits a compact JWS into its decoded header, claims, signing input and signature.
pub fn jws(token: &str) -> Option<(serde_json::Value, serde_json::Value, String, Vec<u8>)> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header = serde_json::from_slice(&b64.decode(h).ok()?).ok()?;
    let claims = serde_json::from_slice(&b64.decode(c).ok()?).ok()?;
    Some((header, claims, format!("{h}.{c}"), b64.decode(s).ok()?))
}
