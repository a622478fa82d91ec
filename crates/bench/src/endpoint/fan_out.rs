//! Event fan-out: the supervisor's CPU with 50 WSS clients receiving 10 events/s, beside
//! its CPU with no client.

use super::client::{call, send};
use super::up::Endpoint;
use anyhow::anyhow;
use futures_util::StreamExt;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

pub(super) struct FanOut {
    pub(super) delta: f64,
    pub(super) with: f64,
    pub(super) without: f64,
    pub(super) per_client_rate: f64,
}

/// Events come from real control actions (`resume`, which logs a line: a `log_entry`
/// event), 10 a second; the supervisor's CPU is measured over 10 s without clients, then with
/// 50 subscribed clients.
pub(super) async fn fan_out(ep: &Endpoint) -> anyhow::Result<FanOut> {
    const WINDOW: Duration = Duration::from_secs(10);
    let out = std::process::Command::new(&ep.paddock)
        .env("PADDOCK_RUNTIME_DIR", &ep.runtime)
        .args([
            "run",
            "--name",
            "fanout",
            "--",
            "sh",
            "-c",
            "exec sleep 1000000",
        ])
        .output()?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    ep.known(&id).await?;
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let mut gen_conn = ep.http().await?;
    let (addr, token, sid) = (ep.addr.clone(), ep.token.clone(), id.clone());
    let generator = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                _ = stop_rx.changed() => return anyhow::Ok(()),
                _ = tick.tick() => {
                    let path = format!("/api/v1/sessions/{sid}/control");
                    call(&mut gen_conn, &addr, "POST", &path, &token, Some(json!({"action": "resume"}))).await?;
                }
            }
        }
    });
    let ticks_per_s = 100.0; // USER_HZ on Linux
    tokio::time::sleep(Duration::from_secs(1)).await;
    let c0 = ep.supervisor_cpu_ticks()?;
    tokio::time::sleep(WINDOW).await;
    let without =
        (ep.supervisor_cpu_ticks()? - c0) as f64 / ticks_per_s / WINDOW.as_secs_f64() * 100.0;
    let counts = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut clients = Vec::new();
    for _ in 0..50 {
        let mut ws = ep.ws().await?;
        send(&mut ws, json!({"type": "subscribe"})).await?;
        let counts = counts.clone();
        clients.push(tokio::spawn(async move {
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Text(t) = m {
                    if t.contains("\"log_entry\"") {
                        counts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let n0 = counts.load(std::sync::atomic::Ordering::Relaxed);
    let c0 = ep.supervisor_cpu_ticks()?;
    tokio::time::sleep(WINDOW).await;
    let with =
        (ep.supervisor_cpu_ticks()? - c0) as f64 / ticks_per_s / WINDOW.as_secs_f64() * 100.0;
    let n = counts.load(std::sync::atomic::Ordering::Relaxed) - n0;
    let _ = stop_tx.send(true);
    generator.await.map_err(|e| anyhow!("{e}"))??;
    for c in clients {
        c.abort();
    }
    Ok(FanOut {
        delta: with - without,
        with,
        without,
        per_client_rate: n as f64 / 50.0 / WINDOW.as_secs_f64(),
    })
}
