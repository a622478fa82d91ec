//! The holder's main loop: accepts clients, and alone changes the agent's lifecycle (exit,
//! restart, remove, the grace period), until the holder closes.

use crate::conn;
use crate::dirs::RuntimeDir;
use crate::hold::Holds;
use crate::model::ModelHandle;
use crate::osc7501::Scanner;
use crate::ring::Ring;
use crate::spec::HolderSpec;
use crate::sync::lock;
use paddock_proto::supervisor::Backend;
use paddock_proto::{ErrorCode, ErrorPayload, Notification, SessionInfo, SessionState, Signal};
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UnixListener;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::program::{on_exit, restart, start_agent, start_bridge};
use super::{now_rfc3339, Cmd, HolderError, Ready, Reply, Shared, CLOSE_FLUSH, RESTART_KILL_AFTER};

pub(super) async fn serve(
    spec: HolderSpec,
    dir: RuntimeDir,
    std_listener: std::os::unix::net::UnixListener,
    report: &mut dyn FnMut(Result<Ready, String>),
) -> Result<(), HolderError> {
    let mut listener =
        UnixListener::from_std(std_listener).map_err(|source| HolderError::Listen {
            path: dir.socket_path(&spec.id),
            source,
        })?;
    let ring = Arc::new(Mutex::new(Ring::new(spec.ring_bytes)));
    let model = ModelHandle::spawn(ring.clone(), spec.size).map_err(HolderError::Runtime)?;
    let (cmds, mut cmd_rx) = mpsc::unbounded_channel();
    let info = SessionInfo {
        id: spec.id.clone(),
        name: spec.name.clone(),
        // An adopted process is the session's program; the takeover (reptyr) is plumbing.
        command: spec
            .adopted
            .as_ref()
            .map_or_else(|| spec.command.clone(), |a| a.command.clone()),
        args: spec
            .adopted
            .as_ref()
            .map_or_else(|| spec.args.clone(), |a| a.args.clone()),
        cwd: spec.cwd.display().to_string(),
        pid: 0,
        holder_pid: std::process::id(),
        started_at: now_rfc3339(),
        size: spec.size,
        state: SessionState::Running,
        exit_code: None,
        exit_signal: None,
        exited_at: None,
        clients: 0,
        restarts: 0,
        output_end: 0,
        last_output_at: None,
        ring_start: 0,
        ring_capacity: spec.ring_bytes as u64,
        backend: Backend::Holder,
        tmux: None,
        program_status: None,
    };
    let shared = Arc::new(Shared {
        dir: dir.clone(),
        holds: Arc::new(Holds::new(ring.clone())),
        ring,
        end_tx: watch::channel(0).0,
        typed_tx: watch::channel(0).0,
        model,
        info: Mutex::new(info),
        events: broadcast::channel(64).0,
        terminal: Mutex::new(None),
        bridge: spec.tmux.is_some(),
        active_writer: Mutex::new(None),
        streaming: AtomicU32::new(0),
        last_output_ms: AtomicU64::new(0),
        next_client: AtomicU64::new(0),
        cmds,
        scanner: Mutex::new(Scanner::new()),
        unanswered: Mutex::new(None),
        status_tx: watch::channel(None).0,
        spec,
    });

    let mut generation = 0;
    match shared.spec.tmux.clone() {
        None => start_agent(&shared, generation)?,
        Some(target) => start_bridge(&shared, generation, &target)?,
    }
    shared.write_meta();
    report(Ok(Ready {
        id: shared.spec.id.to_string(),
        pid: lock(&shared.info).pid,
        holder_pid: std::process::id(),
    }));
    tracing::info!(pid = lock(&shared.info).pid, "agent started");
    crate::os::trim_code_pages();

    let mut conns = JoinSet::new();
    let mut grace_deadline: Option<Instant> = None;
    let mut kill_deadline: Option<Instant> = None;
    let mut pending_restart: Vec<Reply> = Vec::new();
    let mut pending_remove: Option<(Reply, oneshot::Receiver<()>)> = None;
    // A bridge stopped with SIGTERM turns its pipe off and goes; the pane runs on. (A PTY
    // holder keeps SIGTERM's default: its agent gets SIGHUP when the PTY closes.)
    let mut sigterm = if shared.bridge {
        Some(
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(HolderError::Runtime)?,
        )
    } else {
        None
    };

    // The socket comes back if the runtime directory is removed (crate::rebind).
    let mut socket_guard = crate::rebind::SocketGuard::new(dir.socket_path(&shared.spec.id));
    let mut socket_tick = tokio::time::interval(crate::rebind::CHECK_EVERY);
    let mut rebind_failing = false;
    let close_reason = loop {
        let far = Instant::now() + Duration::from_secs(86400 * 365);
        tokio::select! {
            _ = socket_tick.tick() => match socket_guard.check(&dir).and_then(|l| l.map(UnixListener::from_std).transpose()) {
                Ok(None) => {}
                Ok(Some(new)) => {
                    listener = new;
                    rebind_failing = false;
                    shared.write_meta();
                    tracing::warn!(path = %socket_guard.path().display(), "the session's socket was removed (with the runtime directory?); it is bound again and clients can attach");
                }
                Err(e) => {
                    if !rebind_failing {
                        tracing::error!(path = %socket_guard.path().display(), error = %e, "the session's socket was removed and cannot be bound again; the session keeps running but cannot be attached until the runtime directory is usable (tried again every few seconds)");
                    }
                    rebind_failing = true;
                }
            },
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = shared.clone();
                    conns.spawn(async move { conn::serve(shared, stream).await });
                }
                Err(e) => tracing::warn!(error = %e, "cannot accept a client connection"),
            },
            Some(joined) = conns.join_next(), if !conns.is_empty() => {
                if let Err(e) = joined {
                    tracing::error!(error = %e, "a client task failed; other clients are unaffected");
                }
            }
            Some(cmd) = cmd_rx.recv() => match cmd {
                Cmd::Exited { generation: g, exit } => {
                    if g != generation {
                        continue;
                    }
                    on_exit(&shared, &exit);
                    kill_deadline = None;
                    if let Some((reply, answered)) = pending_remove.take() {
                        confirm_removal(reply, answered).await;
                        break "the session was removed".to_owned();
                    }
                    if !pending_restart.is_empty() {
                        generation += 1;
                        let result = restart(&shared, generation);
                        for reply in pending_restart.drain(..) {
                            let _ = reply.send(result.clone());
                        }
                        if result.is_ok() {
                            continue;
                        }
                    }
                    grace_deadline = Some(Instant::now() + Duration::from_secs(shared.spec.grace_secs));
                }
                Cmd::Restart(reply) if shared.spec.adopted.is_some() => {
                    let _ = reply.send(Err(ErrorPayload::new(
                        ErrorCode::Unsupported,
                        format!(
                            "session {} holds a program Paddock adopted and did not start, so it cannot start it again; stop it and start it anew with `paddock run`",
                            shared.spec.id
                        ),
                    )));
                }
                Cmd::Restart(reply) if shared.bridge => {
                    let _ = reply.send(Err(ErrorPayload::new(
                        ErrorCode::Unsupported,
                        format!(
                            "session {} mirrors a tmux pane, whose program Paddock did not start and cannot restart; restart it in tmux (e.g. `tmux respawn-pane -k`), then bridge the pane again",
                            shared.spec.id
                        ),
                    )));
                }
                Cmd::Restart(reply) => {
                    if shared.is_running() {
                        pending_restart.push(reply);
                        if kill_deadline.is_none() {
                            let _ = shared.signal(Signal::Cont);
                            let _ = shared.signal(Signal::Term);
                            kill_deadline = Some(Instant::now() + RESTART_KILL_AFTER);
                        }
                    } else {
                        generation += 1;
                        let result = restart(&shared, generation);
                        if result.is_ok() {
                            grace_deadline = None;
                        }
                        let _ = reply.send(result);
                    }
                }
                Cmd::Remove { force, reply, answered } => {
                    if !shared.is_running() {
                        confirm_removal(reply, answered).await;
                        break "the session was removed".to_owned();
                    } else if force {
                        let _ = shared.signal(Signal::Kill);
                        pending_remove = Some((reply, answered));
                    } else if shared.bridge {
                        // Nothing dies when a bridge goes: stop mirroring, leave the pane.
                        shared.detach();
                        confirm_removal(reply, answered).await;
                        break "the session was removed; the tmux pane keeps running".to_owned();
                    } else {
                        let _ = reply.send(Err(ErrorPayload::new(
                            ErrorCode::SessionRunning,
                            "the agent is still running; stop it first (`paddock stop`) or remove it with --force",
                        )));
                    }
                }
            },
            _ = tokio::time::sleep_until(kill_deadline.unwrap_or(far)), if kill_deadline.is_some() => {
                tracing::warn!("the agent ignored TERM for {RESTART_KILL_AFTER:?}; sending KILL");
                let _ = shared.signal(Signal::Kill);
                kill_deadline = None;
            }
            _ = tokio::time::sleep_until(grace_deadline.unwrap_or(far)), if grace_deadline.is_some() => {
                break format!("the agent exited {}s ago and the grace period is over", shared.spec.grace_secs);
            }
            Some(()) = recv_signal(&mut sigterm) => {
                shared.detach();
                break "the bridge was stopped (SIGTERM); the tmux pane keeps running".to_owned();
            }
        }
    };

    tracing::info!(reason = %close_reason, "closing the session");
    let _ = std::fs::remove_file(dir.socket_path(&shared.spec.id));
    let _ = shared.events.send(Notification::Closing {
        reason: close_reason,
    });
    let _ = tokio::time::timeout(CLOSE_FLUSH, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    dir.remove_session_files(&shared.spec.id);
    Ok(())
}

/// The next delivery of `signal`, or never when there is none.
async fn recv_signal(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// Answers a removal and waits (briefly) until the answer is queued for its client.
async fn confirm_removal(
    reply: oneshot::Sender<Result<(), ErrorPayload>>,
    answered: oneshot::Receiver<()>,
) {
    if reply.send(Ok(())).is_ok() {
        let _ = tokio::time::timeout(CLOSE_FLUSH, answered).await;
    }
}
