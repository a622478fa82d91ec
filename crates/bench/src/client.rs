//! The client path without IPC (`--only client`): a REST request's round trip and a terminal
//! stream's throughput through `paddock-client` (what the CLI's `--host` and the app in
//! client mode use), beside the same through a browser (Debian's Chromium driven by
//! playwright-core, `ui/scripts/bench-client.mjs`) to the same `paddock up`, in one run.
//! The app adds its IPC on top of the first figure; the UI in a browser is the second.

use crate::endpoint::Endpoint;
use crate::harness::{self, Harness};
use crate::options::Options;
use crate::report::{latency_summary, mb_per_s, micros, percentile, Report, Row};
use crate::throughput;
use anyhow::{bail, Context};
use paddock_client::{AttachOptions, Hosts, PairingLink, SecretStore, TerminalEvent};
use paddock_proto::supervisor::SessionView;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Round trips measured on each side.
const REQUESTS: usize = 500;

pub fn run(h: &mut Harness, rt: &Runtime, opts: &Options, report: &mut Report) {
    eprintln!("client: starting paddock up with its endpoint");
    let ep = match Endpoint::start(h) {
        Ok(ep) => ep,
        Err(e) => return report.fail("Client path", &e),
    };
    let client = match rt.block_on(pair(h, &ep)) {
        Ok(c) => c,
        Err(e) => return report.fail("Client path: pairing paddock-client", &e),
    };
    let size = opts.size.min(64 << 20);
    let mut json = serde_json::Map::new();

    eprintln!("client: {REQUESTS} requests through paddock-client");
    let rest = rt.block_on(async {
        // One request first: the connection and the token are set up before timing.
        let _: Vec<SessionView> = client.get("/sessions").await?;
        let mut samples = Vec::with_capacity(REQUESTS);
        for _ in 0..REQUESTS {
            let t0 = Instant::now();
            let _: Vec<SessionView> = client.get("/sessions").await?;
            samples.push(t0.elapsed());
        }
        anyhow::Ok(samples)
    });
    eprintln!("client: terminal stream through paddock-client");
    let stream = stream_through_client(h, rt, &ep, &client, size);
    eprintln!("client: the same through Chromium");
    let browser = browser(h, rt, &ep, size);

    match (&rest, &browser) {
        (Ok(samples), Ok(b)) => {
            let p = |q| micros(percentile(samples, q)) / 1e3;
            report.add(
                Row::new(
                    "REST GET /api/v1/sessions round trip through paddock-client, p50 / p99",
                    format!("{:.2} / {:.2} ms", p(50.0), p(99.0)),
                )
                .beside(format!(
                    "Chromium fetch (same host, same route) {:.2} / {:.2} ms",
                    b.rest_p50, b.rest_p99
                )),
            );
            json.insert("rest_client".into(), latency_summary(samples));
            json.insert(
                "rest_browser_ms".into(),
                json!({"p50": b.rest_p50, "p99": b.rest_p99}),
            );
        }
        (Err(e), _) => report.fail("REST round trip through paddock-client", e),
        (_, Err(e)) => report.fail("REST round trip through Chromium", e),
    }
    match (&stream, &browser) {
        (Ok(mbs), Ok(b)) => {
            report.add(
                Row::new(
                    "Terminal stream throughput (WSS, lossless) through paddock-client",
                    format!("{mbs:.0} MB/s"),
                )
                .beside(format!("Chromium WebSocket {:.0} MB/s", b.stream_mbs)),
            );
            json.insert(
                "stream_mb_s".into(),
                json!({"client": mbs, "browser": b.stream_mbs}),
            );
        }
        (Err(e), _) => report.fail("Terminal stream through paddock-client", e),
        (_, Err(e)) => report.fail("Terminal stream through Chromium", e),
    }
    report.record("client", Value::Object(json));
}

/// Pairs a `paddock-client` device (its own config directory, tokens in files).
pub(crate) async fn pair(h: &Harness, ep: &Endpoint) -> anyhow::Result<paddock_client::HostClient> {
    let dir = h.dir().join("client-conf");
    let hosts = Hosts::open(dir.clone(), SecretStore::file(&dir));
    let offer = ep.offer("operator")?;
    let link = PairingLink::parse(offer["pair_url"].as_str().context("no pair_url")?)?;
    let host = paddock_client::pair(&hosts, &link, "bench", Some("bench")).await?;
    Ok(hosts.client(&host.name)?)
}

/// A session that prints a `size`-byte text file when it gets Enter; its id and how many
/// bytes its terminal will carry.
fn printing_session(
    h: &mut Harness,
    opts_ring: u64,
    name: &str,
    size: u64,
) -> anyhow::Result<(harness::Session, u64)> {
    let file = h.text_file(name, size)?;
    let bytes = throughput::ECHO + file.tty_bytes();
    let script = format!("read x; cat {}; exec sleep 1000000", file.path.display());
    let ring = opts_ring.max(4 * size).to_string();
    let session = h.start_session(&["--ring", &ring], &["sh", "-c", &script])?;
    Ok((session, bytes))
}

fn stream_through_client(
    h: &mut Harness,
    rt: &Runtime,
    ep: &Endpoint,
    client: &paddock_client::HostClient,
    size: u64,
) -> anyhow::Result<f64> {
    let (session, bytes) = printing_session(h, 0, "client-data.txt", size)?;
    let took = rt.block_on(async {
        ep.known(&session.id).await?;
        let opts = AttachOptions {
            lossless: true,
            ..Default::default()
        };
        let mut stream = client.attach(&session.id, opts).await?;
        let start = match stream.next().await {
            Some(Ok(TerminalEvent::Attached { offset, .. })) => offset,
            other => bail!("the stream did not start: {other:?}"),
        };
        let deadline = Instant::now() + harness::transfer_limit(bytes);
        let t0 = Instant::now();
        stream.input(b"\r").await?;
        let mut got = 0u64;
        while got < bytes {
            let ev = tokio::time::timeout_at(deadline.into(), stream.next())
                .await
                .map_err(|_| anyhow::anyhow!("only {got} of {bytes} bytes arrived in time"))?;
            match ev {
                Some(Ok(TerminalEvent::Output { offset, data })) => {
                    got = offset + data.len() as u64 - start;
                }
                Some(Ok(TerminalEvent::Snapshot { gap: true, .. })) => {
                    bail!("the client fell behind and was resynced")
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => bail!("the stream ended after {got} bytes"),
            }
        }
        anyhow::Ok(t0.elapsed())
    });
    h.stop(&session);
    Ok(mb_per_s(bytes, took?))
}

struct Browser {
    rest_p50: f64,
    rest_p99: f64,
    stream_mbs: f64,
}

/// `ui/scripts/bench-client.mjs` in Chromium against the same endpoint.
fn browser(h: &mut Harness, rt: &Runtime, ep: &Endpoint, size: u64) -> anyhow::Result<Browser> {
    let ui = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui");
    let script = ui.join("scripts/bench-client.mjs");
    if !ui.join("node_modules/playwright-core").exists() {
        bail!("playwright-core is not installed: run `cd ui && npm ci` first");
    }
    let (session, bytes) = printing_session(h, 0, "browser-data.txt", size)?;
    rt.block_on(ep.known(&session.id))?;
    let out = Command::new("node")
        .arg(&script)
        .current_dir(&ui)
        .env("BENCH_URL", format!("https://{}", ep.addr))
        .env("BENCH_TOKEN", &ep.token)
        .env("BENCH_SESSION", &session.id)
        .env("BENCH_BYTES", bytes.to_string())
        .env("BENCH_REQUESTS", REQUESTS.to_string())
        .env(
            "BENCH_TIMEOUT_MS",
            harness::transfer_limit(bytes).as_millis().to_string(),
        )
        .output()
        .context("cannot run node (Node.js 20 or newer is needed)")?;
    h.stop(&session);
    if !out.status.success() {
        bail!(
            "the browser bench failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("the browser bench's output")?;
    let f = |k: &str| v[k].as_f64().with_context(|| format!("no {k} in {v}"));
    let stream_ms = f("stream_ms")?;
    Ok(Browser {
        rest_p50: f("rest_p50_ms")?,
        rest_p99: f("rest_p99_ms")?,
        stream_mbs: mb_per_s(bytes, Duration::from_secs_f64(stream_ms / 1e3)),
    })
}
