//! MCP: what `paddock mcp` costs an agent. A supervisor runs in this process (on a thread of
//! its own, as `paddock up` runs it) on the harness's runtime directory. Measured, with
//! newline-delimited JSON-RPC written by hand (no SDK between the bench and the wire):
//!
//! - **start-up**: spawn the real `paddock mcp`, write `initialize`, `initialized` and a
//!   `tools/call list_sessions` at once, time until the tool's result line arrives, and the
//!   process's exit once stdin closes;
//! - **round trip**: one `tools/call list_sessions` after another on one connection, from a
//!   `paddock mcp` that runs as a session's own agent (its stdio on FIFOs), the way Claude
//!   Code's stdio MCP client calls it;
//! - **wait_for wake-up**: that session waits for its own `working` state; a Claude Code hook
//!   (`UserPromptSubmit`, handed to the supervisor as `paddock hook` does) makes it working;
//!   time from the hook to the `wait_for` result on the client's side.

use crate::endpoint::{Endpoint, Sender};
use crate::harness::Harness;
use crate::options::Options;
use crate::report::{latency_summary, micros, percentile, Report, Row};
use anyhow::{bail, Context};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Target: a `wait_for` returns within this time of the awaited state change (p99).
const WAKE_TARGET: Duration = Duration::from_millis(100);
/// Samples of each figure.
const SAMPLES: usize = 100;
/// Start-ups timed (each a process).
const STARTS: usize = 30;

pub fn run(h: &mut Harness, rt: &Runtime, _opts: &Options, report: &mut Report) {
    if let Err(e) = measure(h, report) {
        report.fail("paddock mcp", &e);
    }
    // After the in-process supervisor stopped: `paddock up` takes the same runtime directory.
    let result = Endpoint::start(h).and_then(|ep| rt.block_on(https(&ep, report)));
    if let Err(e) = result {
        report.fail("MCP over HTTPS", &e);
    }
}

/// One MCP POST to `/mcp` on the endpoint with the operator's token: the JSON-RPC message
/// that answers `id` (the reply is JSON or one server-sent event), and the MCP session id.
async fn post_mcp(
    ep: &Endpoint,
    s: &mut Sender,
    session: Option<&str>,
    msg: &Value,
    id: Option<u64>,
) -> anyhow::Result<(Option<Value>, Option<String>)> {
    let mut req = hyper::Request::builder()
        .method("POST")
        .uri("/mcp")
        .header("host", &ep.addr)
        .header("authorization", format!("Bearer {}", ep.token))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25");
    if let Some(sid) = session {
        req = req.header("mcp-session-id", sid);
    }
    s.ready().await?;
    let resp = s
        .send_request(req.body(http_body_util::Full::new(msg.to_string().into()))?)
        .await?;
    let status = resp.status();
    let sid = resp
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.into_body().collect().await?.to_bytes();
    let text = String::from_utf8_lossy(&body);
    if !status.is_success() {
        bail!("POST /mcp: {status} {text}");
    }
    let Some(id) = id else { return Ok((None, sid)) };
    let found = std::iter::once(text.trim())
        .chain(text.lines().filter_map(|l| l.strip_prefix("data:")))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v["id"] == id)
        .with_context(|| format!("no answer to request {id} in: {text}"))?;
    if found.get("error").is_some() || found["result"]["isError"] == true {
        bail!("request {id} failed: {found}");
    }
    Ok((Some(found), sid))
}

/// A tool call's round trip over HTTPS: `paddock up` with its endpoint, an operator's token
/// from real pairing, one TLS connection (the certificate pinned), `initialize`, then
/// `tools/call list_sessions` one after another, each a POST answered in full.
async fn https(ep: &Endpoint, report: &mut Report) -> anyhow::Result<()> {
    let mut s = ep.http().await?;
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "paddock-bench", "version": "1"}}});
    let (_, sid) = post_mcp(ep, &mut s, None, &init, Some(0)).await?;
    let sid = sid.context("the endpoint gave no MCP session id")?;
    let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    post_mcp(ep, &mut s, Some(&sid), &done, None).await?;
    let mut trip = Vec::with_capacity(SAMPLES);
    for n in 0..SAMPLES as u64 {
        let msg: Value = serde_json::from_str(&call(n + 1, "list_sessions", json!({})))?;
        let start = Instant::now();
        post_mcp(ep, &mut s, Some(&sid), &msg, Some(n + 1)).await?;
        trip.push(start.elapsed());
    }
    let ms = |q| micros(percentile(&trip, q)) / 1000.0;
    report.add(
        Row::new(
            "MCP tool call round trip over HTTPS (`list_sessions`), p50 / p99",
            format!("{:.2} / {:.2} ms", ms(50.0), ms(99.0)),
        )
        .beside(format!(
            "{SAMPLES} calls on one pinned TLS connection with an operator's token (`/mcp`)"
        )),
    );
    report.record(
        "mcp_https",
        json!({"round_trip_https": latency_summary(&trip)}),
    );
    Ok(())
}

fn init_lines(first_call: &str) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "paddock-bench", "version": "1"}}});
    let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    format!("{init}\n{done}\n{first_call}\n")
}

fn call(id: u64, tool: &str, args: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": args}})
    .to_string()
}

/// Reads lines until the answer to request `id`; its `result`.
fn answer(reader: &mut impl BufRead, id: u64) -> anyhow::Result<Value> {
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            bail!("`paddock mcp` closed before answering request {id}");
        }
        let v: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(_) => continue,
        };
        if v["id"] == id {
            if v.get("error").is_some() || v["result"]["isError"] == true {
                bail!("request {id} failed: {line}");
            }
            return Ok(v["result"].clone());
        }
    }
}

fn measure(h: &mut Harness, report: &mut Report) -> anyhow::Result<()> {
    let data = std::env::temp_dir().join(format!("paddock-bench-mcp-{}", std::process::id()));
    std::fs::create_dir_all(&data)?;
    let config = paddock_core::Config {
        data_dir: Some(data.clone()),
        ..Default::default()
    };
    let dir = paddock_host::RuntimeDir::open(h.dir().to_owned())
        .context("cannot open the bench's runtime directory")?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let supervisor = std::thread::spawn(move || -> anyhow::Result<()> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let sup = paddock_core::Supervisor::start(config, data.join("config.toml"), dir)
                .context("cannot start the supervisor")?;
            let _ = ready_tx.send((sup.handle().clone(), tokio::runtime::Handle::current()));
            let _ = stop_rx.await;
            sup.stop().await;
            anyhow::Ok(())
        })
    });
    let (handle, tokio_handle) = ready_rx.recv().context("the supervisor did not start")?;
    let result = measure_with(h, &handle, &tokio_handle, report);
    let _ = stop_tx.send(());
    let _ = supervisor.join();
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("paddock-bench-mcp-{}", std::process::id())),
    );
    result
}

fn measure_with(
    h: &mut Harness,
    handle: &paddock_core::Handle,
    tokio_handle: &tokio::runtime::Handle,
    report: &mut Report,
) -> anyhow::Result<()> {
    let paddock = h.paddock().to_owned();
    // Start-up to the first tool result, and to exit.
    let mut first = Vec::with_capacity(STARTS);
    let mut whole = Vec::with_capacity(STARTS);
    for _ in 0..STARTS {
        let start = Instant::now();
        let mut child = Command::new(&paddock)
            .arg("mcp")
            .env("PADDOCK_RUNTIME_DIR", h.dir())
            .env_remove("PADDOCK_SESSION_ID")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start `paddock mcp`")?;
        let mut stdin = child.stdin.take().context("stdin")?;
        stdin.write_all(init_lines(&call(1, "list_sessions", json!({}))).as_bytes())?;
        let mut out = BufReader::new(child.stdout.take().context("stdout")?);
        answer(&mut out, 1)?;
        first.push(start.elapsed());
        drop(stdin);
        child.wait()?;
        whole.push(start.elapsed());
    }

    // A `paddock mcp` that is a session's own agent, its stdio on FIFOs.
    let fifo_in = h.dir().join("bench-mcp.in");
    let fifo_out = h.dir().join("bench-mcp.out");
    for p in [&fifo_in, &fifo_out] {
        let _ = std::fs::remove_file(p);
        nix::unistd::mkfifo(p, nix::sys::stat::Mode::S_IRWXU)
            .with_context(|| format!("cannot make the FIFO {}", p.display()))?;
    }
    // Read-write opens never wait for the other side.
    let mut to_mcp = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo_in)?;
    let from_mcp = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo_out)?;
    let script = r#"exec "$0" mcp < "$1" > "$2""#;
    let (i, o) = (
        fifo_in.display().to_string(),
        fifo_out.display().to_string(),
    );
    let p = paddock.display().to_string();
    let session = h.start_session(&[], &["sh", "-c", script, &p, &i, &o])?;
    let result = (|| {
        let mut reader = BufReader::new(from_mcp);
        to_mcp.write_all(init_lines(&call(1, "read_screen", json!({}))).as_bytes())?;
        answer(&mut reader, 1)?;
        let mut trip = Vec::with_capacity(SAMPLES);
        for n in 0..SAMPLES as u64 {
            let start = Instant::now();
            writeln!(to_mcp, "{}", call(100 + n, "list_sessions", json!({})))?;
            answer(&mut reader, 100 + n)?;
            trip.push(start.elapsed());
        }
        let id = paddock_proto::SessionId::parse(&session.id)
            .map_err(|e| anyhow::anyhow!("bad session id: {e}"))?;
        let mut wake = Vec::with_capacity(SAMPLES);
        for n in 0..SAMPLES as u64 {
            let (event, want) = if n % 2 == 0 {
                ("UserPromptSubmit", "working")
            } else {
                ("Stop", "waiting_input")
            };
            let rid = 1000 + n;
            writeln!(
                to_mcp,
                "{}",
                call(
                    rid,
                    "wait_for",
                    json!({"states": [want], "timeout_secs": 10})
                )
            )?;
            // Let the call reach its wait (it subscribes before looking).
            std::thread::sleep(Duration::from_millis(30));
            let hook = paddock_proto::agent::HookCall {
                agent: "claude".into(),
                session: Some(id.clone()),
                ancestors: Vec::new(),
                agent_home: None,
                payload: json!({"hook_event_name": event, "session_id": "bench", "prompt": "go"}),
            };
            let handle = handle.clone();
            let start = Instant::now();
            tokio_handle.spawn(async move {
                paddock_core::hooks::on_hook(&handle, hook).await;
            });
            let r = answer(&mut reader, rid)?;
            if r["structuredContent"]["reached"] != true {
                bail!("wait_for did not see {want}: {r}");
            }
            wake.push(start.elapsed());
        }
        anyhow::Ok((trip, wake))
    })();
    h.stop(&session);
    for p in [&fifo_in, &fifo_out] {
        let _ = std::fs::remove_file(p);
    }
    let (trip, wake) = result?;
    let ms = |s: &[Duration], q| micros(percentile(s, q)) / 1000.0;
    report.add(
        Row::new(
            "`paddock mcp` start → first tool result, p50 / p99",
            format!("{:.1} / {:.1} ms", ms(&first, 50.0), ms(&first, 99.0)),
        )
        .beside(format!(
            "{STARTS} processes; to exit after stdin closes: {:.1} / {:.1} ms",
            ms(&whole, 50.0),
            ms(&whole, 99.0)
        )),
    );
    report.add(
        Row::new(
            "MCP tool call round trip over stdio (`list_sessions`), p50 / p99",
            format!("{:.2} / {:.2} ms", ms(&trip, 50.0), ms(&trip, 99.0)),
        )
        .beside(format!(
            "{SAMPLES} calls through `paddock mcp` run as a session's agent"
        )),
    );
    let p99 = percentile(&wake, 99.0);
    report.add(
        Row::new(
            "`wait_for` wake-up after the state change, p50 / p99",
            format!("{:.2} / {:.2} ms", ms(&wake, 50.0), ms(&wake, 99.0)),
        )
        .beside(format!("{SAMPLES} hooks toggling working / waiting_input"))
        .target("p99 ≤ 100 ms", p99 <= WAKE_TARGET),
    );
    report.record(
        "mcp",
        json!({
            "startup_first_result": latency_summary(&first),
            "startup_to_exit": latency_summary(&whole),
            "round_trip_stdio": latency_summary(&trip),
            "wait_for_wake": latency_summary(&wake),
        }),
    );
    Ok(())
}
