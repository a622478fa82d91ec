//! `paddock up`: run the supervisor.

use anyhow::{bail, Context};
use paddock_core::Config;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Run the supervisor: it finds every agent session (Paddock's own, tmux panes, other
/// terminals), watches it and remembers it. Agents never depend on it.
#[derive(clap::Args)]
pub struct Args {
    /// Run in the background and return once it is ready.
    #[arg(long)]
    pub detach: bool,
    /// Use this configuration file instead of config.toml in the config directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// The endpoint's port (server.port; 0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
    /// Listen on this address instead of loopback (a LAN or tailnet address, or 0.0.0.0);
    /// TLS and device tokens are always required there.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Serve plain HTTP instead of TLS, for development; loopback only.
    #[arg(long)]
    pub insecure_http: bool,
    /// Set by `--detach` on the background copy: start a new session first.
    #[arg(long, hide = true)]
    pub detached: bool,
}

/// The line a detached supervisor prints on stdout when it is ready.
const READY: &str = "paddock supervisor ready";

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let config_file = self.config.clone().unwrap_or_else(Config::default_path);
        let mut config = Config::load(&config_file)?;
        if let Some(p) = self.port {
            config.server.port = p;
        }
        if let Some(l) = &self.listen {
            config.server.listen = l.clone();
        }
        if self.insecure_http {
            config.server.insecure_http = true;
        }
        if self.detach {
            return detach(&self, &config);
        }
        if self.detached {
            // No controlling terminal: closing the one `--detach` ran in cannot stop us.
            let _ = nix::unistd::setsid();
        }
        let bus = paddock_core::events::Bus::new();
        init_logging(&config, &bus)?;
        let dir = paddock_host::runtime_dir()?;
        let socket = paddock_core::supervisor::socket_path(dir.path());
        // --- upgrade: a supervisor of another build is stopped first (its holders stay) ---
        let previous = replace_previous(dir.path()).await?;
        let host = paddock_server::host::Host::start(config, config_file, dir, bus).await?;
        if let Some(old) = previous {
            say(&replaced(&host, old).await.to_string());
        }
        // --- end upgrade ---
        let server = &host.server;
        let endpoint = match server {
            Some(s) => format!(", endpoint {}", s.url),
            None => String::new(),
        };
        say(&format!(
            "{READY}: pid {}, socket {}{endpoint}",
            std::process::id(),
            socket.display()
        ));
        // An endpoint that could not start (unreadable TLS files, a port in use) is said here,
        // where the owner looks, and not only in the log: the supervisor runs without it.
        if server.is_none() {
            let endpoint = host.supervisor.handle().health().components();
            if let Some(c) = endpoint.iter().find(|c| {
                c.name == "endpoint"
                    && c.status == paddock_proto::supervisor::HealthStatus::Unhealthy
            }) {
                eprintln!(
                    "paddock up: the endpoint (browser and phone access) did not start: {}",
                    c.message
                );
            }
        }
        if let Some(fp) = server.as_ref().and_then(|s| s.fingerprint.as_ref()) {
            say(&format!(
                "Certificate SHA-256 {fp}; pair a device with `paddock pair`."
            ));
        }
        if self.detached {
            // `--detach` has read its line and gone: nothing may write to that pipe again.
            if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
                use std::os::fd::AsRawFd;
                let _ = nix::unistd::dup2(null.as_raw_fd(), 1);
            }
        } else {
            say("Stop it with Ctrl-C; agents keep running without it.");
        }
        wait_for_stop_signal().await?;
        host.stop().await;
        Ok(())
    }
}

// --- upgrade: replacing a running supervisor of another build ---

/// Stops the supervisor that runs now when it is another build than this one, and answers its
/// status; a supervisor of this same build is left running (starting then fails with "already
/// running", as before).
async fn replace_previous(
    runtime_dir: &std::path::Path,
) -> anyhow::Result<Option<paddock_proto::supervisor::SupervisorStatus>> {
    use paddock_core::upgrade::{previous, stop, Build};
    let Some(old) = previous(runtime_dir).await else {
        return Ok(None);
    };
    if Build::of(&old) == Build::current() {
        return Ok(None);
    }
    tracing::info!(pid = old.pid, old = %Build::of(&old), new = %Build::current(), "stopping the supervisor of another build");
    stop(&old).await?;
    Ok(Some(old))
}

/// What became of the replaced supervisor's sessions, once this one has looked for them.
async fn replaced(
    host: &paddock_server::host::Host,
    old: paddock_proto::supervisor::SupervisorStatus,
) -> paddock_core::upgrade::Replaced {
    use paddock_core::upgrade::{wait_adopted, Build, Replaced};
    let sessions = old.sessions as usize;
    let adopted = wait_adopted(host.supervisor.handle(), sessions, Duration::from_secs(10)).await;
    Replaced {
        old: Build::of(&old),
        old_pid: old.pid,
        new: Build::current(),
        sessions,
        adopted,
    }
}

// --- end upgrade ---

/// Prints a line; whoever reads stdout may be gone (`--detach`, a closed pipe), which must
/// never stop the supervisor.
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|_| out.flush());
}

/// Logs go to stderr, to rotating `paddock.log` files in the data directory's `logs/`, and to
/// the bus (clients' live tail).
fn init_logging(config: &Config, bus: &paddock_core::events::Bus) -> anyhow::Result<()> {
    use paddock_core::logging::{init, LogSetup};
    init(LogSetup {
        bus: Some(bus.clone()),
        ..LogSetup::with_files(config, "paddock")
    })?;
    Ok(())
}

async fn wait_for_stop_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch for SIGINT")?;
    let mut hup = signal(SignalKind::hangup()).context("cannot watch for SIGHUP")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = hup.recv() => {}
    }
    Ok(())
}

/// Starts `paddock up` again in its own session with output to a log file, and waits until it
/// says it is ready (or why it is not).
fn detach(args: &Args, config: &Config) -> anyhow::Result<()> {
    let logs = config.data_dir().join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let log_path = logs.join("supervisor.out");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    let exe = std::env::current_exe().context("cannot find the paddock executable")?;
    let mut cmd = Command::new(exe);
    cmd.arg("up").arg("--detached");
    if let Some(c) = &args.config {
        cmd.arg("--config").arg(c);
    }
    if let Some(p) = args.port {
        cmd.arg("--port").arg(p.to_string());
    }
    if let Some(l) = &args.listen {
        cmd.arg("--listen").arg(l);
    }
    if args.insecure_http {
        cmd.arg("--insecure-http");
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .context("cannot start the supervisor")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Lines before the ready line (a replaced supervisor's report) are passed on too.
        let mut lines = BufReader::new(stdout).lines();
        loop {
            let line = match lines.next() {
                Some(Ok(l)) => l,
                _ => String::new(),
            };
            let last = line.is_empty() || line.starts_with(READY);
            let _ = tx.send(line);
            if last {
                return;
            }
        }
    });
    // Replacing a supervisor of another build adds its stop and the adoption to the start.
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    let left = || deadline.saturating_duration_since(std::time::Instant::now());
    let mut said = rx.recv_timeout(left());
    while let Ok(line) = &said {
        if line.is_empty() || line.starts_with(READY) {
            break;
        }
        println!("{line}");
        said = rx.recv_timeout(left());
    }
    match said {
        Ok(line) if line.starts_with(READY) => {
            println!("{}", line.trim());
            println!("Its log: {}", log_path.display());
            Ok(())
        }
        _ => {
            let _ = child.kill();
            let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
            let last = tail
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            bail!("the supervisor did not start: {last}")
        }
    }
}
