//! The app's relayed socket: the webview's frames carried over pinned TLS.

use crate::support::{counting, listed, Paired, Relay};
use std::time::{Duration, Instant};

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
