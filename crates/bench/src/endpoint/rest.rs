//! REST latency: `GET /api/v1/sessions` at a fixed 1,000 requests/s, open loop, over four
//! TLS connections.

use super::client::call;
use super::up::Endpoint;
use anyhow::anyhow;
use std::time::Duration;

/// 1,000 requests/s for 5 s, open loop: each request has its time; a late one counts from
/// when it should have left.
pub(super) async fn rest_latency(ep: &Endpoint) -> anyhow::Result<(Vec<Duration>, usize, usize)> {
    const CONNS: usize = 4;
    const SECS: u64 = 5;
    let mut warm = ep.http().await?;
    for _ in 0..200 {
        call(
            &mut warm,
            &ep.addr,
            "GET",
            "/api/v1/sessions",
            &ep.token,
            None,
        )
        .await?;
    }
    let t0 = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::new();
    for k in 0..CONNS {
        let mut s = ep.http().await?;
        let (addr, token) = (ep.addr.clone(), ep.token.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            let mut late = 0;
            let mut i = k as u64;
            while i < SECS * 1000 {
                let due = t0 + Duration::from_millis(i);
                if tokio::time::Instant::now() > due + Duration::from_millis(1) {
                    late += 1;
                }
                tokio::time::sleep_until(due).await;
                call(&mut s, &addr, "GET", "/api/v1/sessions", &token, None).await?;
                out.push(due.elapsed());
                i += CONNS as u64;
            }
            anyhow::Ok((out, late))
        }));
    }
    let mut all = Vec::new();
    let mut late = 0;
    for t in tasks {
        let (s, l) = t.await.map_err(|e| anyhow!("{e}"))??;
        all.extend(s);
        late += l;
    }
    let n = all.len();
    Ok((all, n, late))
}
