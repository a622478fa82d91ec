//! The endpoint (`paddock up`'s HTTPS REST and WSS) measured on this machine: REST latency
//! at a fixed 1,000 requests/s, the supervisor's CPU for 50 WSS clients receiving 10 events/s,
//! terminal output over WSS beside the holder socket and a bare PTY, the keystroke round trip
//! over TLS WSS beside the holder socket, and what a resume after a cut costs.
//!
//! Every client pins the endpoint's certificate and uses a token from real pairing.

use crate::harness::{self, Harness, Session};
use crate::options::Options;
use crate::report::{latency_summary, mb_per_s, micros, percentile, Report, Row};
use crate::throughput;
use anyhow::{anyhow, bail, Context};
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use paddock_proto::web::TerminalFrame;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<TlsStream<TcpStream>>;
pub(crate) type Sender =
    hyper::client::conn::http1::SendRequest<http_body_util::Full<hyper::body::Bytes>>;

/// A `paddock up` with its endpoint, killed on drop. Also used by the client bench.
pub(crate) struct Endpoint {
    child: Child,
    /// `host:port` of the endpoint.
    pub addr: String,
    tls: Arc<rustls::ClientConfig>,
    /// An operator's access token, from real pairing.
    pub token: String,
    paddock: PathBuf,
    runtime: PathBuf,
    dir: PathBuf,
    /// The configuration overrides `paddock up` was started with (kept for a restart).
    env: Vec<(String, String)>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Endpoint {
    /// `paddock ARGS` against this supervisor (its runtime, data and config directories).
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        paddock_cmd(&self.paddock, &self.runtime, &self.dir, args)
    }

    pub(crate) fn start(h: &Harness) -> anyhow::Result<Self> {
        Self::start_with(h, &[])
    }

    /// [`Endpoint::start`] with more environment for `paddock up` (configuration overrides).
    pub(crate) fn start_with(h: &Harness, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let dir = h.dir().join("endpoint");
        std::fs::create_dir_all(&dir).context("cannot create the endpoint's directory")?;
        let cmd = |args: &[&str]| paddock_cmd(h.paddock(), h.dir(), &dir, args);
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let child = spawn_up(cmd(&["up"]), &env)?;
        h.cleanup_handle().track(child.id(), false);
        let out = cmd(&["status", "--json"]).output()?;
        let status: Value = serde_json::from_slice(&out.stdout)?;
        let url = status["url"].as_str().context("no endpoint url")?;
        let fp = status["fingerprint"].as_str().context("no fingerprint")?;
        let addr = url.trim_start_matches("https://").to_owned();
        let tls = paddock_client::tls::pinned_config(fp);
        let out = cmd(&["pair", "--json", "--role", "operator"]).output()?;
        let offer: Value = serde_json::from_slice(&out.stdout).context("paddock pair")?;
        let mut ep = Self {
            child,
            addr,
            tls,
            token: String::new(),
            paddock: h.paddock().to_owned(),
            runtime: h.dir().to_owned(),
            dir: dir.clone(),
            env,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let grant = rt.block_on(async {
            let mut s = ep.http().await?;
            let body = json!({"secret": offer["secret"], "device_name": "bench"});
            call(&mut s, &ep.addr, "POST", "/api/v1/pair", "", Some(body)).await
        })?;
        ep.token = grant["access_token"]
            .as_str()
            .context("no token")?
            .to_owned();
        Ok(ep)
    }

    /// The supervisor's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9` of the supervisor, then `paddock up` again with the same directories,
    /// configuration and port; returns once it says it is ready.
    pub(crate) fn respawn(&mut self) -> anyhow::Result<()> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let cmd = paddock_cmd(&self.paddock, &self.runtime, &self.dir, &["up"]);
        self.child = spawn_up(cmd, &self.env).context("restarting paddock up")?;
        Ok(())
    }

    /// SIGTERM, and waits up to 10 s for the supervisor to exit (then kills it).
    pub(crate) fn terminate(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A fresh pairing offer (`paddock pair --json`).
    pub(crate) fn offer(&self, role: &str) -> anyhow::Result<Value> {
        let out = paddock_cmd(
            &self.paddock,
            &self.runtime,
            &self.dir,
            &["pair", "--json", "--role", role],
        )
        .output()?;
        serde_json::from_slice(&out.stdout).context("paddock pair did not answer with an offer")
    }

    async fn tls(&self) -> anyhow::Result<TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(&self.addr).await?;
        tcp.set_nodelay(true)?;
        let name = rustls::pki_types::ServerName::try_from("localhost")?;
        Ok(tokio_rustls::TlsConnector::from(self.tls.clone())
            .connect(name, tcp)
            .await?)
    }

    pub(crate) async fn http(&self) -> anyhow::Result<Sender> {
        let io = self.tls().await?;
        let (send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io)).await?;
        tokio::spawn(conn);
        Ok(send)
    }

    async fn ws(&self) -> anyhow::Result<Ws> {
        let io = self.tls().await?;
        let url = format!("wss://{}/api/v1/ws", self.addr);
        let (mut ws, _) = tokio_tungstenite::client_async(url, io).await?;
        send(&mut ws, json!({"type": "auth", "token": self.token})).await?;
        let ready = next_json(&mut ws).await?;
        if ready["type"] != "ready" {
            bail!("the socket was not accepted: {ready}");
        }
        Ok(ws)
    }

    /// Waits until the supervisor lists the session (it scans for holders every second).
    pub(crate) async fn known(&self, id: &str) -> anyhow::Result<()> {
        let mut s = self.http().await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let path = format!("/api/v1/sessions/{id}");
            if call(&mut s, &self.addr, "GET", &path, &self.token, None)
                .await
                .is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the supervisor did not list session {id} within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn supervisor_cpu_ticks(&self) -> anyhow::Result<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
        let f: Vec<&str> = after.split_whitespace().collect();
        let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        // utime and stime are fields 14 and 15 of /proc/pid/stat (11 and 12 after the name).
        Ok(field(11) + field(12))
    }
}

/// Spawns `paddock up` (`cmd`) with `env` and waits for its ready line.
fn spawn_up(mut cmd: Command, env: &[(String, String)]) -> anyhow::Result<Child> {
    let mut child = cmd
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start paddock up")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    if !line.starts_with("paddock supervisor ready") {
        let _ = child.kill();
        let _ = child.wait();
        bail!("paddock up did not start: {line}");
    }
    Ok(child)
}

/// `paddock ARGS` for the endpoint's supervisor: its own data and config directories, a free
/// port, no rate limit to speak of, no tmux discovery.
fn paddock_cmd(paddock: &Path, runtime: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(paddock);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PADDOCK_") {
            c.env_remove(&key);
        }
    }
    c.env("PADDOCK_RUNTIME_DIR", runtime)
        .env("PADDOCK_DATA_DIR", dir.join("data"))
        .env("PADDOCK_CONFIG_DIR", dir.join("config"))
        .env("PADDOCK_SERVER__PORT", "0")
        .env("PADDOCK_SERVER__REQUESTS_PER_MINUTE", "100000000")
        .env("PADDOCK_TMUX__ENABLED", "false")
        .args(args);
    c
}

pub(crate) async fn call(
    s: &mut Sender,
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr);
    if !token.is_empty() {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let bytes = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            serde_json::to_vec(&b)?
        }
        None => Vec::new(),
    };
    s.ready().await?;
    let resp = s
        .send_request(req.body(http_body_util::Full::new(bytes.into()))?)
        .await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        bail!(
            "{method} {path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn send(ws: &mut Ws, v: Value) -> anyhow::Result<()> {
    ws.send(Message::Text(v.to_string().into())).await?;
    Ok(())
}

async fn next_json(ws: &mut Ws) -> anyhow::Result<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Ok(serde_json::from_str(&t)?),
            Ok(Some(Ok(_))) => continue,
            Ok(other) => bail!("the socket ended: {other:?}"),
            Err(_) => bail!("no message within 10 s"),
        }
    }
}

/// Attaches and returns the `attached` message.
async fn attach(ws: &mut Ws, id: &str, offset: Option<u64>) -> anyhow::Result<Value> {
    attach_with(ws, id, offset, false).await
}

async fn attach_with(
    ws: &mut Ws,
    id: &str,
    offset: Option<u64>,
    lossless: bool,
) -> anyhow::Result<Value> {
    send(
        ws,
        json!({"type": "attach", "session": id, "offset": offset, "lossless": lossless}),
    )
    .await?;
    loop {
        let m = next_json(ws).await?;
        match m["type"].as_str() {
            Some("attached") => return Ok(m),
            Some("error") => bail!("attach refused: {m}"),
            _ => {}
        }
    }
}

pub fn run(h: &mut Harness, rt: &Runtime, opts: &Options, report: &mut Report) {
    eprintln!("endpoint: starting paddock up with its endpoint");
    let ep = match Endpoint::start(h) {
        Ok(ep) => ep,
        Err(e) => return report.fail("Endpoint", &e),
    };
    let mut json = serde_json::Map::new();
    eprintln!("endpoint: REST at 1,000 requests/s");
    match rt.block_on(rest_latency(&ep)) {
        Ok((samples, sent, late)) => {
            let p95 = percentile(&samples, 95.0);
            report.add(
                Row::new(
                    "REST GET /api/v1/sessions at 1,000 req/s, p50 / p95 / p99",
                    format!(
                        "{:.2} / {:.2} / {:.2} ms",
                        micros(percentile(&samples, 50.0)) / 1e3,
                        micros(p95) / 1e3,
                        micros(percentile(&samples, 99.0)) / 1e3
                    ),
                )
                .beside(format!(
                    "{sent} requests over 4 TLS connections, {late} sent late"
                ))
                .target("p95 ≤ 5 ms", p95 <= Duration::from_millis(5)),
            );
            json.insert("rest".into(), latency_summary(&samples));
        }
        Err(e) => report.fail("REST latency", &e),
    }
    eprintln!("endpoint: keystroke round trip over WSS and over the holder socket");
    match keystrokes(h, rt, &ep, opts.samples) {
        Ok((ws, sock)) => {
            let p99 = percentile(&ws, 99.0);
            report.add(
                Row::new(
                    "Keystroke round trip over TLS WSS, p50 / p99",
                    format!(
                        "{:.0} / {:.0} µs",
                        micros(percentile(&ws, 50.0)),
                        micros(p99)
                    ),
                )
                .beside(format!(
                    "holder socket {:.0} / {:.0} µs",
                    micros(percentile(&sock, 50.0)),
                    micros(percentile(&sock, 99.0))
                ))
                .target("p99 ≤ 500 µs", p99 <= Duration::from_micros(500)),
            );
            json.insert("keystroke_wss".into(), latency_summary(&ws));
            json.insert("keystroke_socket".into(), latency_summary(&sock));
        }
        Err(e) => report.fail("Keystroke round trip over WSS", &e),
    }
    eprintln!("endpoint: output throughput over WSS, holder socket, bare PTY");
    match throughput_rows(h, rt, &ep, opts) {
        Ok((wss, socket, raw)) => {
            let share = wss / raw * 100.0;
            report.add(
                Row::new(
                    "Output throughput to one WSS client",
                    format!("{wss:.0} MB/s"),
                )
                .beside(format!(
                    "holder socket {socket:.0} MB/s; bare PTY {raw:.0} MB/s ({share:.0} %)"
                ))
                .target("≥ 60 % of bare PTY", share >= 60.0),
            );
            json.insert(
                "throughput".into(),
                json!({"wss": wss, "socket": socket, "raw": raw}),
            );
        }
        Err(e) => report.fail("Output throughput over WSS", &e),
    }
    eprintln!("endpoint: 50 WSS clients receiving 10 events/s");
    match rt.block_on(fan_out(&ep)) {
        Ok(f) => {
            report.add(
                Row::new(
                    "Event fan-out to 50 WSS clients at 10 Hz, supervisor CPU",
                    format!("{:.2} % of a core more than with no client", f.delta),
                )
                .beside(format!(
                    "{:.2} % with 50 clients, {:.2} % with none; {:.1} events/s reached each client",
                    f.with, f.without, f.per_client_rate
                ))
                .target("≤ 5 % of a core", f.delta <= 5.0),
            );
            json.insert(
                "fan_out".into(),
                json!({"with": f.with, "without": f.without, "per_client_events_per_s": f.per_client_rate}),
            );
        }
        Err(e) => report.fail("Event fan-out", &e),
    }
    eprintln!("endpoint: resume after a cut");
    match resync(h, rt, &ep) {
        Ok(r) => {
            report.add(
                Row::new(
                    "Resume over WSS after missing 512 KiB",
                    format!(
                        "{:.1} ms, {} bytes (exactly the missed ones)",
                        r.resume_ms, r.resume_bytes
                    ),
                )
                .beside(format!(
                    "a fresh attach instead: {:.1} ms, {} bytes of snapshot",
                    r.snapshot_ms, r.snapshot_bytes
                )),
            );
            json.insert(
                "resync".into(),
                json!({"resume_ms": r.resume_ms, "resume_bytes": r.resume_bytes, "snapshot_ms": r.snapshot_ms, "snapshot_bytes": r.snapshot_bytes}),
            );
        }
        Err(e) => report.fail("Resume after a cut", &e),
    }
    report.record("endpoint", Value::Object(json));
    drop(ep);
}

/// 1,000 requests/s for 5 s, open loop: each request has its time; a late one counts from
/// when it should have left.
async fn rest_latency(ep: &Endpoint) -> anyhow::Result<(Vec<Duration>, usize, usize)> {
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

const AGENT: &[&str] = &["sh", "-c", "exec cat > /dev/null"];

fn keystrokes(
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

fn throughput_rows(
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

struct FanOut {
    delta: f64,
    with: f64,
    without: f64,
    per_client_rate: f64,
}

/// Events come from real control actions (`resume`, which logs a line: a `log_entry`
/// event), 10 a second; the supervisor's CPU is measured over 10 s without clients, then with
/// 50 subscribed clients.
async fn fan_out(ep: &Endpoint) -> anyhow::Result<FanOut> {
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

struct Resync {
    resume_ms: f64,
    resume_bytes: u64,
    snapshot_ms: f64,
    snapshot_bytes: u64,
}

/// A WSS client is cut; 512 KiB is written meanwhile; it comes back with its offset (exactly
/// the missed bytes) — and, for comparison, a fresh attach (a snapshot).
fn resync(h: &mut Harness, rt: &Runtime, ep: &Endpoint) -> anyhow::Result<Resync> {
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
