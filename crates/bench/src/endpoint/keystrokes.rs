//! The keystroke round trip over TLS WSS, beside the same over the holder socket.

use super::client::{attach, send};
use super::up::Endpoint;
use crate::harness::Harness;
use anyhow::bail;
use futures_util::StreamExt;
use paddock_proto::web::TerminalFrame;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::Message;

const AGENT: &[&str] = &["sh", "-c", "exec cat > /dev/null"];

pub(super) fn keystrokes(
    h: &mut Harness,
    rt: &Runtime,
    ep: &Endpoint,
    samples: usize,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    // One session per path, so that neither client sees the other's echo.
    let session = h.start_session(&[], AGENT)?;
    let other = h.start_session(&[], AGENT)?;
    let result = rt.block_on(async {
        ep.known(&session.id).await?;
        let mut ws = ep.ws().await?;
        attach(&mut ws, &session.id, None).await?;
        let mut hello = paddock_proto::Hello::new(paddock_proto::Mode::ReadWrite);
        hello.start = paddock_proto::Start::End;
        let client = paddock_host::client::Client::connect(&other.socket, hello).await?;
        let (mut reader, mut writer) = client.into_split();
        let mut over_ws = Vec::with_capacity(samples);
        let mut over_socket = Vec::with_capacity(samples);
        for i in 0..(samples + 200) {
            let (key, echo): (&str, &[u8]) = if i % 64 == 63 {
                ("\r", b"\r\n")
            } else {
                ("x", b"x")
            };
            // Over WSS.
            let t = Instant::now();
            send(
                &mut ws,
                json!({"type": "input", "session": session.id, "data": key}),
            )
            .await?;
            let mut got = Vec::new();
            while got.len() < echo.len() {
                match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                    Ok(Some(Ok(Message::Binary(b)))) => {
                        if let TerminalFrame::Output { data, .. } = TerminalFrame::decode(&b)? {
                            got.extend_from_slice(&data);
                        }
                    }
                    Ok(Some(Ok(_))) => {}
                    other => bail!("no echo over WSS: {other:?}"),
                }
            }
            if i >= 200 && key == "x" {
                over_ws.push(t.elapsed());
            }
            // The same key over the holder socket, to the other session.
            let t = Instant::now();
            writer.send_input(key.as_bytes()).await?;
            let mut got = Vec::new();
            while got.len() < echo.len() {
                match tokio::time::timeout(Duration::from_secs(5), reader.next_event()).await {
                    Ok(Ok(Some(paddock_host::client::Event::Output { data, .. }))) => {
                        got.extend_from_slice(&data)
                    }
                    Ok(Ok(Some(_))) => {}
                    other => bail!("no echo over the socket: {other:?}"),
                }
            }
            if i >= 200 && key == "x" {
                over_socket.push(t.elapsed());
            }
        }
        anyhow::Ok((over_ws, over_socket))
    });
    h.stop(&session);
    h.stop(&other);
    result
}
