//! What a resume after a cut costs: a WSS client comes back with its offset and gets exactly
//! the bytes it missed, beside a fresh attach (a snapshot).

use super::client::{attach, call};
use super::up::Endpoint;
use crate::harness::{Harness, Session};
use crate::report::micros;
use crate::throughput;
use anyhow::{bail, Context};
use futures_util::StreamExt;
use paddock_proto::web::TerminalFrame;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::Message;

pub(super) struct Resync {
    pub(super) resume_ms: f64,
    pub(super) resume_bytes: u64,
    pub(super) snapshot_ms: f64,
    pub(super) snapshot_bytes: u64,
}

/// A WSS client is cut; 512 KiB is written meanwhile; it comes back with its offset (exactly
/// the missed bytes) — and, for comparison, a fresh attach (a snapshot).
pub(super) fn resync(h: &mut Harness, rt: &Runtime, ep: &Endpoint) -> anyhow::Result<Resync> {
    // Below the holder's interactive limit (1 MiB behind): a client further behind gets a
    // snapshot, not the bytes.
    let file = h.text_file("endpoint-burst.txt", 512 << 10)?;
    let missed = file.tty_bytes() + throughput::ECHO;
    let script = format!("read x; cat {}; exec sleep 1000000", file.path.display());
    let session: Session = h.start_session(&[], &["sh", "-c", &script])?;
    let result = rt.block_on(async {
        ep.known(&session.id).await?;
        let mut ws = ep.ws().await?;
        let a = attach(&mut ws, &session.id, None).await?;
        let offset = a["offset"].as_u64().context("offset")?;
        drop(ws);
        let mut s = ep.http().await?;
        let path = format!("/api/v1/sessions/{}/input", session.id);
        call(
            &mut s,
            &ep.addr,
            "POST",
            &path,
            &ep.token,
            Some(json!({"data": "\r"})),
        )
        .await?;
        // Wait until the holder has all of it.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let info = paddock_host::sessions::query(&session.socket).await?;
            if info.output_end >= offset + missed {
                break;
            }
            if Instant::now() > deadline {
                bail!("the burst did not finish");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let t = Instant::now();
        let mut ws = ep.ws().await?;
        let a = attach(&mut ws, &session.id, Some(offset)).await?;
        if a["snapshot"] == true {
            bail!("the resume got a snapshot: {a}");
        }
        let mut got = 0u64;
        while got < missed {
            match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => {
                    if let TerminalFrame::Output { data, .. } = TerminalFrame::decode(&b)? {
                        got += data.len() as u64;
                    }
                }
                Ok(Some(Ok(Message::Text(t)))) if t.contains("\"lagged\"") => {
                    bail!("the resume was resynced with a snapshot: {t}")
                }
                Ok(Some(Ok(_))) => {}
                other => bail!("resume ended early after {got} of {missed} bytes: {other:?}"),
            }
        }
        let resume = t.elapsed();
        drop(ws);
        let t = Instant::now();
        let mut ws = ep.ws().await?;
        attach(&mut ws, &session.id, None).await?;
        let snap = loop {
            match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => {
                    if let TerminalFrame::Snapshot { data, .. } = TerminalFrame::decode(&b)? {
                        break data.len() as u64;
                    }
                }
                Ok(Some(Ok(_))) => {}
                other => bail!("no snapshot: {other:?}"),
            }
        };
        anyhow::Ok(Resync {
            resume_ms: micros(resume) / 1e3,
            resume_bytes: got,
            snapshot_ms: micros(t.elapsed()) / 1e3,
            snapshot_bytes: snap,
        })
    });
    h.stop(&session);
    result
}
