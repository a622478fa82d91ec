//! The `paddock up` with its endpoint that the endpoint measurements (and the client, MCP,
//! notify, conversation and soak benches) talk to: started with private directories and a
//! free port, paired for an operator's token, restarted or stopped, and its pinned TLS, HTTP
//! and WSS connections.

use super::client::{call, next_json, send, Sender, Ws};
use crate::harness::Harness;
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A `paddock up` with its endpoint, killed on drop. Also used by the client bench.
pub(crate) struct Endpoint {
    child: Child,
    /// `host:port` of the endpoint.
    pub addr: String,
    tls: Arc<rustls::ClientConfig>,
    /// An operator's access token, from real pairing.
    pub token: String,
    pub(super) paddock: PathBuf,
    pub(super) runtime: PathBuf,
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

    pub(super) async fn ws(&self) -> anyhow::Result<Ws> {
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

    pub(super) fn supervisor_cpu_ticks(&self) -> anyhow::Result<u64> {
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
