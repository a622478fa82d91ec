//! Terminal output throughput to one WSS client, beside the holder socket and a bare PTY.

use super::client::{attach_with, send};
use super::up::Endpoint;
use crate::harness::{self, Harness};
use crate::options::Options;
use crate::report::mb_per_s;
use crate::throughput;
use anyhow::{bail, Context};
use futures_util::StreamExt;
use paddock_proto::web::TerminalFrame;
use serde_json::{json, Value};
use std::time::Instant;
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::Message;

pub(super) fn throughput_rows(
    h: &mut Harness,
    rt: &Runtime,
    ep: &Endpoint,
    opts: &Options,
) -> anyhow::Result<(f64, f64, f64)> {
    let size = opts.size.min(64 << 20);
    // Rings that hold the whole run: a slow moment of the machine must not resync a client.
    let opts = &Options {
        ring: opts.ring.max(4 * size),
        ..opts.clone()
    };
    let file = h.text_file("endpoint-data.txt", size)?;
    let bytes = throughput::ECHO + file.tty_bytes();
    let script = format!("read x; cat {}; exec sleep 1000000", file.path.display());
    let raw = throughput::raw_pty(&script, bytes)?;
    let socket = throughput::holder(h, opts, &script, bytes, 1)?.complete()?;
    let socket_time = *socket.times.first().context("no client time")?;
    let ring = opts.ring.to_string();
    let session = h.start_session(&["--ring", &ring], &["sh", "-c", &script])?;
    let wss = rt.block_on(async {
        ep.known(&session.id).await?;
        let mut ws = ep.ws().await?;
        // Lossless, like the socket client beside it: the figure is the rate, not the
        // interactive resync policy.
        let a = attach_with(&mut ws, &session.id, None, true).await?;
        let mut next = a["offset"].as_u64().context("offset")?;
        let start = next;
        let deadline = Instant::now() + harness::transfer_limit(bytes);
        let t0 = Instant::now();
        send(&mut ws, json!({"type": "input", "session": session.id, "data": "\r"})).await?;
        while next - start < bytes {
            if Instant::now() > deadline {
                bail!("only {} of {bytes} bytes arrived in time", next - start);
            }
            match ws.next().await {
                Some(Ok(Message::Binary(b))) => match TerminalFrame::decode(&b)? {
                    TerminalFrame::Output { offset, data, .. } => {
                        if offset != next {
                            bail!("output at {offset}, expected {next}: bytes were skipped");
                        }
                        next += data.len() as u64;
                    }
                    TerminalFrame::Snapshot { .. } => {}
                },
                Some(Ok(Message::Text(t))) => {
                    let m: Value = serde_json::from_str(&t)?;
                    if m["type"] == "lagged" {
                        bail!("the WSS client fell more than the holder's interactive limit behind and was resynced ({m})");
                    }
                }
                Some(Ok(_)) => {}
                other => bail!("the socket ended: {other:?}"),
            }
        }
        anyhow::Ok(t0.elapsed())
    });
    h.stop(&session);
    let wss = wss?;
    Ok((
        mb_per_s(bytes, wss),
        mb_per_s(bytes, socket_time),
        mb_per_s(bytes, raw.elapsed),
    ))
}
