//! Keeps the supervisor reachable when its runtime directory is removed while it runs (ARCHITECTURE.md,
//! "Machine faults"): every few seconds it checks `_supervisor.sock` and `_mcp.sock`; when they
//! are gone, it makes the directory again (0700), takes the supervisor lock again (so that a
//! second `paddock up` is still refused) and serves new sockets, and says so in the log and in
//! the health's `runtime` line. Holders bring back their own sockets the same way
//! (`paddock_host::rebind`). Started by the supervisor.

use crate::supervisor::Handle;
use paddock_host::rebind::{SocketGuard, CHECK_EVERY};
use paddock_host::RuntimeDir;
use paddock_proto::supervisor::HealthStatus;
use tokio::sync::watch;

/// How long the health says the directory was made again before it is healthy again.
const NOTICE: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs until `shutdown`.
pub async fn run(dir: RuntimeDir, handle: Handle, mut shutdown: watch::Receiver<bool>) {
    let health = handle.health().clone();
    let watching = format!("{} is in place", dir.path().display());
    health.set("runtime", HealthStatus::Healthy, watching.clone());
    let mut supervisor = SocketGuard::new(crate::supervisor::socket_path(dir.path()));
    let mut mcp = SocketGuard::new(dir.path().join(crate::mcp::SOCKET_NAME));
    // The lock taken again after a removal; the first one is the supervisor's.
    let mut lock = None;
    let mut since: Option<std::time::Instant> = None;
    let mut tick = tokio::time::interval(CHECK_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        if since.is_some_and(|t| t.elapsed() > NOTICE) {
            since = None;
            health.set("runtime", HealthStatus::Healthy, watching.clone());
        }
        if supervisor.in_place() && mcp.in_place() {
            continue;
        }
        if lock.is_none() {
            match crate::supervisor::retake_lock(&dir) {
                Ok(l) => lock = Some(l),
                Err(e) => {
                    tracing::error!(error = %e, "the runtime directory was removed and another supervisor started in the new one; this one can no longer be reached: stop it (kill {})", std::process::id());
                    health.set("runtime", HealthStatus::Unhealthy, format!("the runtime directory {} was removed and another supervisor took it over ({e}); stop this one", dir.path().display()));
                    continue;
                }
            }
        }
        let mut failed = Vec::new();
        for (guard, what) in [(&mut supervisor, "local API"), (&mut mcp, "MCP")] {
            match guard
                .check(&dir)
                .and_then(|l| l.map(tokio::net::UnixListener::from_std).transpose())
            {
                Ok(None) => {}
                Ok(Some(listener)) => {
                    let (handle, rx) = (handle.clone(), shutdown.clone());
                    if what == "MCP" {
                        tokio::spawn(crate::mcp::local::serve(listener, handle, rx));
                    } else {
                        tokio::spawn(crate::api::serve(listener, handle, rx));
                    }
                }
                Err(e) => failed.push(format!("{} ({e})", guard.path().display())),
            }
        }
        if failed.is_empty() {
            let message = format!(
                "the runtime directory {} was removed while Paddock was running; it was made \
                 again and the supervisor's sockets restored (sessions restore theirs within \
                 seconds; their holder logs were lost with it)",
                dir.path().display()
            );
            tracing::error!("{message}");
            health.set("runtime", HealthStatus::Degraded, message);
            since = Some(std::time::Instant::now());
        } else {
            let message = format!(
                "the runtime directory {} was removed and cannot be made again: {}; `paddock` \
                 commands cannot reach the supervisor until it can: check the parent \
                 directory's permissions and free space (tried again every few seconds)",
                dir.path().display(),
                failed.join(", ")
            );
            tracing::error!("{message}");
            health.set("runtime", HealthStatus::Unhealthy, message);
        }
    }
}
