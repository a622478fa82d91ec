//! The running Paddock: the runtime directory, the supervisor, the hook round trip and the
//! endpoint.

use super::{check, WithFix, PROBE_TIMEOUT};
use paddock_proto::doctor::{CheckStatus, DoctorCheck};
use paddock_proto::supervisor::{HealthStatus, SupervisorStatus};
use paddock_proto::{Hello, Mode, Request, Response};
use std::path::Path;
use std::time::{Instant, SystemTime};

pub(super) fn runtime_dir_check(dir: &Path) -> DoctorCheck {
    use std::os::unix::fs::MetadataExt;
    const TITLE: &str = "Runtime directory";
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return check(
                "runtime_dir",
                TITLE,
                CheckStatus::Warn,
                format!("{} does not exist yet", dir.display()),
            )
            .fix("`paddock up` or `paddock run` creates it")
        }
        Err(e) => {
            return check(
                "runtime_dir",
                TITLE,
                CheckStatus::Fail,
                format!("cannot read {}: {e}", dir.display()),
            )
            .fix("check the permissions of its parent directory")
        }
    };
    let me = nix::unistd::getuid().as_raw();
    let mode = meta.mode() & 0o777;
    let detail = format!(
        "{}, owner uid {}, mode {mode:03o}",
        dir.display(),
        meta.uid()
    );
    if meta.uid() != me {
        check("runtime_dir", TITLE, CheckStatus::Fail, detail).fix(format!(
            "it belongs to another user (you are uid {me}): remove it or set PADDOCK_RUNTIME_DIR to a directory of your own"
        ))
    } else if mode & 0o077 != 0 {
        check("runtime_dir", TITLE, CheckStatus::Fail, detail).fix(format!(
            "others can reach your sessions' sockets: `chmod 700 {}`",
            dir.display()
        ))
    } else {
        check("runtime_dir", TITLE, CheckStatus::Ok, detail)
    }
}

pub(super) fn supervisor_check(status: Option<&SupervisorStatus>, runtime: &Path) -> DoctorCheck {
    const TITLE: &str = "Supervisor";
    let socket = crate::supervisor::socket_path(runtime);
    let Some(s) = status else {
        return check(
            "supervisor",
            TITLE,
            CheckStatus::Fail,
            format!("not running (no answer on {})", socket.display()),
        )
        .fix("start it with `paddock up` (or `paddock up --detach`)");
    };
    let detail = format!(
        "pid {}, version {}, since {}, socket {}, {} sessions",
        s.pid,
        s.version,
        s.started_at,
        socket.display(),
        s.sessions
    );
    let troubled: Vec<String> = s
        .components
        .iter()
        .filter(|c| c.status != HealthStatus::Healthy)
        .map(|c| match c.pending_writes {
            Some(n) if n > 0 => format!(
                "{}: {} ({n} records not written yet, kept in memory)",
                c.name, c.message
            ),
            _ => format!("{}: {}", c.name, c.message),
        })
        .collect();
    match s.health {
        HealthStatus::Healthy => check("supervisor", TITLE, CheckStatus::Ok, detail),
        HealthStatus::Degraded => check(
            "supervisor",
            TITLE,
            CheckStatus::Warn,
            format!("{detail}; degraded: {}", troubled.join("; ")),
        )
        .fix("see `paddock status` and the supervisor's log (`paddock logs --supervisor`)"),
        HealthStatus::Unhealthy => check(
            "supervisor",
            TITLE,
            CheckStatus::Fail,
            format!("{detail}; unhealthy: {}", troubled.join("; ")),
        )
        .fix("see the messages above; restart it with `paddock up` once fixed"),
    }
}

pub(super) fn hooks_check(running: bool, runtime: &Path) -> DoctorCheck {
    const TITLE: &str = "Agent hooks";
    if !running {
        return check(
            "hooks",
            TITLE,
            CheckStatus::Fail,
            "no supervisor to receive the agents' hook events",
        )
        .fix("start it with `paddock up`");
    }
    let exe = std::env::current_exe()
        .ok()
        .filter(|e| e.is_file())
        .map(|e| e.display().to_string());
    let started = Instant::now();
    match hook_round_trip(runtime) {
        Ok(()) => check(
            "hooks",
            TITLE,
            CheckStatus::Ok,
            format!(
                "a test event went to the supervisor and was answered in {} ms; the hooks call {}",
                started.elapsed().as_millis(),
                exe.as_deref().unwrap_or("paddock")
            ),
        ),
        Err(e) => check(
            "hooks",
            TITLE,
            CheckStatus::Fail,
            format!("a test event was not answered: {e}"),
        )
        .fix("restart the supervisor (`paddock up`); agents' states then come from their screens only"),
    }
}

/// Sends the supervisor a hook event from no session, as `paddock hook` does, and waits for
/// its answer.
pub(super) fn hook_round_trip(runtime: &Path) -> Result<(), String> {
    let socket = crate::supervisor::socket_path(runtime);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    rt.block_on(async {
        let mut hello = Hello::control(Mode::ReadOnly);
        hello.client_name = Some("doctor".into());
        let call = paddock_proto::agent::HookCall {
            agent: "claude".into(),
            agent_home: None,
            session: None,
            ancestors: Vec::new(),
            payload: serde_json::json!({"hook_event_name": "PaddockDoctor"}),
        };
        let exchange = async {
            let mut c = paddock_host::client::Requester::connect(&socket, hello)
                .await
                .map_err(|e| e.to_string())?;
            match c.request(Request::Hook(Box::new(call))).await {
                Ok(Response::HookReply { .. }) => Ok(()),
                Ok(other) => Err(format!("unexpected answer {other:?}")),
                Err(e) => Err(e.to_string()),
            }
        };
        tokio::time::timeout(PROBE_TIMEOUT, exchange)
            .await
            .map_err(|_| format!("no answer within {PROBE_TIMEOUT:?}"))?
    })
}

pub(super) fn endpoint_check(status: Option<&SupervisorStatus>, data: &Path) -> DoctorCheck {
    const TITLE: &str = "Endpoint (UI, phone, other devices)";
    let Some(s) = status else {
        return check(
            "endpoint",
            TITLE,
            CheckStatus::Warn,
            "the supervisor is not running",
        )
        .fix("start it with `paddock up`");
    };
    let Some(url) = &s.url else {
        return check("endpoint", TITLE, CheckStatus::Warn, "not serving")
            .fix("see the endpoint line of `paddock status` (is `[server] enabled = false`?)");
    };
    let addr = url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest).to_owned());
    let reached = addr
        .as_deref()
        .ok_or_else(|| format!("`{url}` is not a URL"))
        .and_then(|a| {
            use std::net::ToSocketAddrs;
            let sock = a
                .to_socket_addrs()
                .map_err(|e| e.to_string())?
                .next()
                .ok_or_else(|| format!("{a} resolves to nothing"))?;
            std::net::TcpStream::connect_timeout(&sock, PROBE_TIMEOUT).map_err(|e| e.to_string())
        });
    if let Err(e) = reached {
        return check(
            "endpoint",
            TITLE,
            CheckStatus::Fail,
            format!("{url} cannot be reached: {e}"),
        )
        .fix("check the listen address and the firewall; restart with `paddock up`");
    }
    let Some(fp) = &s.fingerprint else {
        return check(
            "endpoint",
            TITLE,
            CheckStatus::Warn,
            format!("{url} answers over plain HTTP"),
        )
        .fix("only for development on loopback: turn `server.insecure_http` off");
    };
    let meta = data.join("endpoint").join("tls").join("cert.json");
    let expiry = std::fs::read(&meta)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["not_after_unix"].as_u64());
    let base = format!("{url} reachable; certificate SHA-256 {fp}");
    let Some(not_after) = expiry else {
        return check(
            "endpoint",
            TITLE,
            CheckStatus::Ok,
            format!("{base}; expiry not known (your own certificate)"),
        );
    };
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (not_after as i64 - now as i64) / 86_400;
    if days < 0 {
        check(
            "endpoint",
            TITLE,
            CheckStatus::Fail,
            format!("{base}; expired {} days ago", -days),
        )
        .fix("restart the supervisor (`paddock up`): it renews its certificate, then pair your devices again")
    } else if days < 30 {
        check(
            "endpoint",
            TITLE,
            CheckStatus::Warn,
            format!("{base}; expires in {days} days"),
        )
        .fix("restart the supervisor (`paddock up`) to renew it")
    } else {
        check(
            "endpoint",
            TITLE,
            CheckStatus::Ok,
            format!("{base}; expires in {days} days"),
        )
    }
}
