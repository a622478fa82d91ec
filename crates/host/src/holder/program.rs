//! Starting what the holder serves (the agent on its PTY, or a tmux pane's bridge), what an
//! exit records, and a restart.

use crate::agent::{Agent, AgentError, ExitInfo, Launch};
use crate::osc7501::Scanner;
use crate::sync::lock;
use crate::terminal::Terminal;
use crate::tmux_pane::TmuxPane;
use paddock_proto::supervisor::Backend;
use paddock_proto::{ErrorCode, ErrorPayload, Notification, SessionState, TmuxTarget};
use std::sync::Arc;

use super::{now_rfc3339, Cmd, HolderError, Shared};

/// Spawns the agent for `generation` and records its pid.
pub(super) fn start_agent(shared: &Arc<Shared>, generation: u32) -> Result<(), AgentError> {
    let spec = &shared.spec;
    let mut env = vec![
        ("PADDOCK_SESSION_ID".to_owned(), spec.id.to_string()),
        ("PADDOCK_SESSION_NAME".to_owned(), spec.name.clone()),
    ];
    if std::env::var_os("TERM").is_none_or(|t| t.is_empty() || t == "dumb") {
        env.push(("TERM".to_owned(), "xterm-256color".to_owned()));
    }
    env.extend(spec.env.iter().cloned());
    let size = lock(&shared.info).size;
    let launch = Launch {
        command: spec.command.clone(),
        args: spec.args.clone(),
        cwd: spec.cwd.clone(),
        env,
        size,
    };
    // A new program: the last one's unfinished sequence and record are not its own.
    *lock(&shared.scanner) = Scanner::new();
    lock(&shared.info).program_status = None;
    shared.status_tx.send_if_modified(|s| s.take().is_some());
    let out = shared.clone();
    let cmds = shared.cmds.clone();
    let mut agent = Agent::spawn(
        &launch,
        Some(shared.holds.clone()),
        move |data| out.push_output(data),
        move |exit| {
            let _ = cmds.send(Cmd::Exited { generation, exit });
        },
    )?;
    if let Some(adopted) = &spec.adopted {
        agent.also_signal(adopted.pid);
    }
    let terminal = Terminal::Pty(agent);
    // An adopted process is the session's pid: its tree is what the supervisor measures and
    // recognises (the takeover program is not its parent).
    let pid = spec
        .adopted
        .as_ref()
        .map_or_else(|| terminal.pid(), |a| a.pid);
    {
        let mut slot = lock(&shared.terminal);
        shared.answer_late(&terminal);
        *slot = Some(terminal);
    }
    let mut info = lock(&shared.info);
    info.pid = pid;
    info.state = SessionState::Running;
    info.exit_code = None;
    info.exit_signal = None;
    info.exited_at = None;
    Ok(())
}

/// Starts mirroring the tmux pane `target`: its pipe, a redraw of its screen as the ring's
/// first bytes, then its output.
pub(super) fn start_bridge(
    shared: &Arc<Shared>,
    generation: u32,
    target: &TmuxTarget,
) -> Result<(), HolderError> {
    let connected = TmuxPane::connect(target, &shared.dir.fifo_path(&shared.spec.id))?;
    let pane = &connected.state;
    {
        let mut info = lock(&shared.info);
        info.backend = Backend::Tmux;
        info.tmux = Some(TmuxTarget {
            socket: target.socket.clone(),
            pane: pane.pane_id.clone(),
        });
        info.pid = pane.pid;
        info.size = pane.size;
        if info.command.is_empty() {
            info.command = pane.command.clone();
        }
        if info.cwd.is_empty() {
            info.cwd = pane.cwd.clone();
        }
    }
    // Nothing is in the ring yet: the model takes the pane's size before the redraw.
    shared.model.resize(0, pane.size);
    shared.push_to_ring(&connected.seed);
    let out = shared.clone();
    let sized = shared.clone();
    let cmds = shared.cmds.clone();
    let pane = connected.start(
        move |data| out.push_output(data),
        move |size| sized.follow_size(size),
        move |exit| {
            let _ = cmds.send(Cmd::Exited { generation, exit });
        },
    )?;
    tracing::info!(pane = pane.pane_id(), socket = %target.socket.display(), "mirroring a tmux pane");
    {
        let mut slot = lock(&shared.terminal);
        let terminal = Terminal::Tmux(pane);
        shared.answer_late(&terminal);
        *slot = Some(terminal);
    }
    Ok(())
}

pub(super) fn on_exit(shared: &Shared, exit: &ExitInfo) {
    {
        let mut info = lock(&shared.info);
        info.state = SessionState::Exited;
        info.exit_code = exit.code;
        info.exit_signal = exit.signal.clone();
        info.exited_at = Some(now_rfc3339());
    }
    // Dropping the terminal closes its input queue and the PTY master (or the pane's pipe,
    // which runs tmux: not under the lock).
    let terminal = lock(&shared.terminal).take();
    drop(terminal);
    tracing::info!(code = ?exit.code, signal = ?exit.signal, "agent exited");
    shared.write_meta();
    let _ = shared.events.send(Notification::Exited {
        code: exit.code,
        signal: exit.signal.clone(),
    });
}

pub(super) fn restart(shared: &Arc<Shared>, generation: u32) -> Result<(), ErrorPayload> {
    start_agent(shared, generation).map_err(|e| ErrorPayload::new(ErrorCode::Os, e.to_string()))?;
    let pid = {
        let mut info = lock(&shared.info);
        info.restarts += 1;
        info.pid
    };
    tracing::info!(pid, "agent restarted");
    shared.write_meta();
    let _ = shared.events.send(Notification::Restarted { pid });
    Ok(())
}
