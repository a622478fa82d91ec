//! The agent's process and its PTY: spawn, read, write, resize, signal, reap.
//!
//! Per agent generation: a reader (PTY master → `on_output`; a task on the holder's runtime,
//! or a thread outside one), a writer thread and a waiter thread
//! (reaps the child with `waitpid`, waits briefly for the reader to drain, then reports the
//! exit). The master is non-blocking: typed input is written at once by the caller
//! ([`Agent::write_now`]) when nothing is queued and the PTY takes it, which saves a thread
//! hand-off on every keystroke; what the PTY cannot take yet goes to the writer thread's
//! queue, so a full PTY input buffer never blocks the async runtime. The child is a session leader with the PTY as its controlling terminal (done by
//! portable-pty), so its pid is also its process group id.
//!
//! Backpressure: given the holder's [`Holds`], the reader reads no more than the held
//! clients leave room for, and waits while there is none (see [`crate::hold`]).

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{self, Signal as NixSignal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use paddock_proto::{Signal, Size};
use portable_pty::{CommandBuilder, MasterPty, PtySize};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

use crate::hold::Holds;

/// How long the waiter waits for the reader to reach end-of-file after the child exited, so
/// the last output is in the ring before the exit is announced. Longer only matters when a
/// grandchild keeps the terminal open; its output still arrives afterwards.
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(300);
/// Read size from the PTY master.
const READ_CHUNK: usize = 64 * 1024;
/// Input chunks queued for the PTY before a typing client waits.
const INPUT_QUEUE: usize = 256;

/// What to run.
#[derive(Debug, Clone)]
pub struct Launch {
    pub command: String,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// Variables set on top of the holder's own environment.
    pub env: Vec<(String, String)>,
    pub size: Size,
}

/// How the agent ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitInfo {
    /// The exit code, or 128 + the signal number when a signal ended it (as a shell's `$?`).
    /// Always known for a PTY agent; `None` when a tmux pane ended and tmux kept no status.
    pub code: Option<i32>,
    /// The signal that ended it, e.g. `KILL`.
    pub signal: Option<String>,
}

/// Why the agent could not be started or controlled.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot open a terminal (PTY) for the agent: {0}")]
    Pty(String),
    #[error("cannot start `{command}`: {reason}")]
    Spawn { command: String, reason: String },
    #[error("cannot start the agent's {0} thread: {1}")]
    Thread(&'static str, std::io::Error),
    #[error("cannot resize the terminal: {0}")]
    Resize(String),
    #[error("cannot send SIG{signal} to the agent (pid {pid}): {source}")]
    Signal {
        signal: Signal,
        pid: u32,
        source: nix::Error,
    },
}

/// A running agent: its pid, its PTY master (for resizing) and its input queue.
pub struct Agent {
    pid: u32,
    master: Box<dyn MasterPty + Send>,
    input: mpsc::Sender<Vec<u8>>,
    /// The master for writing (non-blocking), shared with the writer thread.
    writer: Arc<Mutex<File>>,
    /// Chunks queued for the writer thread and not yet fully written: while any are, input
    /// must queue behind them to keep its order.
    queued: Arc<AtomicUsize>,
    /// A process outside the agent's group that its signals reach too: the one a takeover
    /// (reptyr) moved onto this PTY, in a session of its own.
    adopted: Option<u32>,
}

impl Agent {
    /// Spawns `launch` in a new PTY. `on_output` runs on the reader thread for every chunk
    /// read; `on_exit` runs once on the waiter thread after the child is reaped. With
    /// `holds`, the reader (on a runtime) never appends more than the held clients leave
    /// room for.
    pub fn spawn(
        launch: &Launch,
        holds: Option<Arc<Holds>>,
        on_output: impl FnMut(&[u8]) + Send + 'static,
        on_exit: impl FnOnce(ExitInfo) + Send + 'static,
    ) -> Result<Self, AgentError> {
        let pair = portable_pty::native_pty_system()
            .openpty(pty_size(launch.size))
            .map_err(|e| AgentError::Pty(e.to_string()))?;
        let mut cmd = CommandBuilder::new(&launch.command);
        cmd.args(&launch.args);
        cmd.cwd(&launch.cwd);
        for (k, v) in &launch.env {
            cmd.env(k, v);
        }
        let child = pair
            .slave
            .spawn_command(cmd)
            .map_err(|e| AgentError::Spawn {
                command: launch.command.clone(),
                reason: spawn_reason(&e.to_string()),
            })?;
        // Keep no slave fd here: the reader must see end-of-file when the agent's side closes.
        drop(pair.slave);
        let pid = child.process_id().ok_or_else(|| AgentError::Spawn {
            command: launch.command.clone(),
            reason: "the process has no pid".into(),
        })?;
        // We reap with waitpid ourselves (to learn the signal's name); the std Child inside is
        // never waited on, so there is no double reap.
        drop(child);

        let raw = pair
            .master
            .as_raw_fd()
            .ok_or_else(|| AgentError::Pty("the PTY master has no descriptor".into()))?;
        let pty_err = |e: std::io::Error| AgentError::Pty(e.to_string());
        let reader = File::from(crate::os::dup_fd(raw).map_err(pty_err)?);
        let writer = Arc::new(Mutex::new(File::from(
            crate::os::dup_fd(raw).map_err(pty_err)?,
        )));
        set_nonblocking(&reader).map_err(pty_err)?;
        let queued = Arc::new(AtomicUsize::new(0));
        let (input, input_rx) = mpsc::channel(INPUT_QUEUE);
        let (drained_tx, drained_rx) = std_mpsc::channel::<()>();

        // Inside the holder's runtime the master is read by the runtime itself: echoed
        // keystrokes then reach clients with no hand-off between threads. Elsewhere (tests,
        // tools) a reader thread does it.
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let reader = {
                    let _entered = rt.enter();
                    crate::os::async_fd(reader).map_err(pty_err)?
                };
                rt.spawn(read_task(reader, holds.clone(), on_output, drained_tx));
            }
            Err(_) => spawn_thread("pty-reader", move || {
                read_loop(reader, on_output, drained_tx)
            })?,
        }
        let (w, q) = (writer.clone(), queued.clone());
        spawn_thread("pty-writer", move || write_loop(w, q, input_rx))?;
        spawn_thread("waiter", move || {
            let exit = reap(pid);
            wait_for_drain(&drained_rx, holds.as_deref());
            on_exit(exit);
        })?;
        Ok(Self {
            pid,
            master: pair.master,
            input,
            writer,
            queued,
            adopted: None,
        })
    }

    /// Writes typed input at once if nothing is queued before it and the PTY takes it
    /// without waiting; returns what is left, which the caller must send to [`Agent::input`]
    /// (it is counted as queued already).
    pub fn write_now(&self, data: Vec<u8>) -> Option<Vec<u8>> {
        if self.queued.load(Ordering::Acquire) == 0 {
            let mut file = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            let mut done = 0;
            while done < data.len() {
                match file.write(&data[done..]) {
                    Ok(0) => break,
                    Ok(n) => done += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
            if done == data.len() {
                return None;
            }
            self.queued.fetch_add(1, Ordering::AcqRel);
            return Some(data[done..].to_vec());
        }
        self.queued.fetch_add(1, Ordering::AcqRel);
        Some(data)
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The queue of bytes to type into the terminal.
    pub fn input(&self) -> &mpsc::Sender<Vec<u8>> {
        &self.input
    }

    pub fn resize(&self, size: Size) -> Result<(), AgentError> {
        self.master
            .resize(pty_size(size))
            .map_err(|e| AgentError::Resize(e.to_string()))
    }

    /// Makes [`Agent::signal`] reach `pid`'s process group and its terminal's foreground
    /// group as well (an adopted process, which is not in the agent's group).
    pub fn also_signal(&mut self, pid: u32) {
        self.adopted = Some(pid);
    }

    /// Sends `sig` to the agent's process group and, when a job inside it (say a command
    /// a shell started) owns the terminal's foreground, to that group too: what the agent
    /// would get from a terminal, plus the agent itself (and an adopted process's groups).
    pub fn signal(&self, sig: Signal) -> Result<(), AgentError> {
        let nix_sig = to_nix(sig);
        if let Some(pid) = self.adopted {
            // Gone already: the takeover's exit is on its way.
            let _ = signal::killpg(Pid::from_raw(pid as i32), nix_sig);
            if let Some(fg) = crate::tmux_pane::foreground_group(pid) {
                if fg > 0 && fg != pid as i32 {
                    let _ = signal::killpg(Pid::from_raw(fg), nix_sig);
                }
            }
        }
        let group = Pid::from_raw(self.pid as i32);
        match signal::killpg(group, nix_sig) {
            // The group is already empty: the agent is exiting and its exit is on its way.
            Ok(()) | Err(nix::Error::ESRCH) => {}
            Err(source) => {
                return Err(AgentError::Signal {
                    signal: sig,
                    pid: self.pid,
                    source,
                })
            }
        }
        if let Some(fg) = self.master.process_group_leader() {
            if fg > 0 && fg != self.pid as i32 {
                let _ = signal::killpg(Pid::from_raw(fg), nix_sig);
            }
        }
        Ok(())
    }
}

impl ExitInfo {
    /// Ended by `sig`: code 128 + its number, as a shell reports it.
    pub(crate) fn signaled(sig: NixSignal) -> Self {
        Self {
            code: Some(128 + sig as i32),
            signal: Some(sig.as_str().trim_start_matches("SIG").to_owned()),
        }
    }
}

/// The operating system's signal for a protocol signal.
pub fn to_nix(sig: Signal) -> NixSignal {
    match sig {
        Signal::Int => NixSignal::SIGINT,
        Signal::Term => NixSignal::SIGTERM,
        Signal::Kill => NixSignal::SIGKILL,
        Signal::Hup => NixSignal::SIGHUP,
        Signal::Stop => NixSignal::SIGSTOP,
        Signal::Cont => NixSignal::SIGCONT,
    }
}

fn pty_size(size: Size) -> PtySize {
    PtySize {
        rows: size.rows,
        cols: size.cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

fn spawn_thread(name: &'static str, f: impl FnOnce() + Send + 'static) -> Result<(), AgentError> {
    std::thread::Builder::new()
        .name(name.into())
        .stack_size(256 * 1024)
        .spawn(f)
        .map(|_| ())
        .map_err(|e| AgentError::Thread(name, e))
}

/// portable-pty's reason a program could not start, for people: the PATH it searched is
/// not repeated (it can be long); what it found on the way (a directory, a file that is not
/// executable) is kept.
fn spawn_reason(raw: &str) -> String {
    let mut found = Vec::new();
    let mut missing = false;
    for line in raw.lines().skip(1) {
        let line = line.trim().trim_end_matches('.');
        if line.starts_with("No viable candidates found in PATH") {
            missing = true;
        } else if !line.is_empty() {
            found.push(line.to_owned());
        }
    }
    if !missing {
        return raw.to_owned();
    }
    let mut out =
        "no such program in any directory of PATH; check the spelling or give its full path"
            .to_owned();
    if !found.is_empty() {
        out.push_str(&format!(" (found: {})", found.join("; ")));
    }
    out
}

/// O_NONBLOCK on the master's open file (shared by every descriptor of it).
fn set_nonblocking(file: &File) -> std::io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let fd = file.as_raw_fd();
    let flags = fcntl(fd, FcntlArg::F_GETFL).map_err(std::io::Error::from)?;
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(fd, FcntlArg::F_SETFL(flags)).map_err(std::io::Error::from)?;
    Ok(())
}

/// Blocks until `file` is ready for `events` (or has hung up).
fn wait_for(file: &File, events: PollFlags) -> std::io::Result<()> {
    let mut fds = [PollFd::new(file.as_fd(), events)];
    loop {
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => return Ok(()),
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

fn read_loop(mut reader: File, mut on_output: impl FnMut(&[u8]), drained: std_mpsc::Sender<()>) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => on_output(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if wait_for(&reader, PollFlags::POLLIN).is_err() {
                    break;
                }
            }
            // EIO: every slave fd is closed (the agent and its children are gone).
            Err(_) => break,
        }
    }
    let _ = drained.send(());
}

/// Waits for the reader to reach end-of-file after the agent exited: up to
/// [`DRAIN_AFTER_EXIT`], and longer while a held client keeps the reader waiting (its last
/// output is still coming, at that client's pace; a demotion ends the wait at the latest).
fn wait_for_drain(drained: &std_mpsc::Receiver<()>, holds: Option<&Holds>) {
    let mut seen = holds.map_or(0, Holds::waits);
    loop {
        match drained.recv_timeout(DRAIN_AFTER_EXIT) {
            Err(std_mpsc::RecvTimeoutError::Timeout)
                if holds.is_some_and(|h| h.held_since(seen)) =>
            {
                seen = holds.map_or(0, Holds::waits);
            }
            _ => return,
        }
    }
}

/// [`read_loop`] on the async runtime: reads whenever the master is readable, as much as
/// the held clients leave room for.
async fn read_task(
    reader: tokio::io::unix::AsyncFd<File>,
    holds: Option<Arc<Holds>>,
    mut on_output: impl FnMut(&[u8]),
    drained: std_mpsc::Sender<()>,
) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        if let Some(holds) = &holds {
            holds.wait_for_room().await;
        }
        let Ok(mut guard) = reader.readable().await else {
            break;
        };
        // Measured after the last `.await`: nothing can take room between here and the
        // append (a client that arrived meanwhile is counted).
        let room = holds
            .as_ref()
            .map_or(READ_CHUNK, |h| h.room().min(READ_CHUNK));
        if room == 0 {
            continue;
        }
        // Reads until the master has nothing more (or `room` is full), then hands the whole
        // batch on at once: in a flood that is one append, one wakeup of each client and one
        // large frame per batch instead of one per 4 KiB read (the PTY's own chunk). Bounded
        // by `room`, so a flood cannot starve the other tasks of this single-threaded runtime
        // (new clients' hello, their input) and the reader yields after every batch.
        let mut got = 0;
        let mut end = false;
        while got < room {
            let read = guard.get_inner().read(&mut buf[got..room]);
            match read {
                Ok(0) => end = true,
                Ok(n) => {
                    got += n;
                    continue;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // Not ready (any more): the next check waits for the master.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => guard.clear_ready(),
                // EIO: every slave fd is closed (the agent and its children are gone).
                Err(_) => end = true,
            }
            break;
        }
        drop(guard);
        if got > 0 {
            on_output(&buf[..got]);
            // Let the clients' writers send this batch before the next is read.
            tokio::task::yield_now().await;
        }
        if end {
            break;
        }
    }
    let _ = drained.send(());
}

/// Writes queued input, waiting for the PTY to take it; each chunk is un-counted from
/// `queued` once fully written.
fn write_loop(
    writer: Arc<Mutex<File>>,
    queued: Arc<AtomicUsize>,
    mut input: mpsc::Receiver<Vec<u8>>,
) {
    let Ok(poller) = writer.lock().unwrap_or_else(|p| p.into_inner()).try_clone() else {
        return;
    };
    while let Some(bytes) = input.blocking_recv() {
        let mut done = 0;
        let mut gone = false;
        while done < bytes.len() {
            let result = writer
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .write(&bytes[done..]);
            match result {
                Ok(0) => gone = true,
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    gone = wait_for(&poller, PollFlags::POLLOUT).is_err();
                }
                Err(_) => gone = true,
            }
            if gone {
                break;
            }
        }
        queued.fetch_sub(1, Ordering::AcqRel);
        if gone {
            // The agent is gone; drop whatever is still queued.
            while input.blocking_recv().is_some() {
                queued.fetch_sub(1, Ordering::AcqRel);
            }
            return;
        }
    }
}

/// Waits for `pid` to end, retrying on EINTR.
fn reap(pid: u32) -> ExitInfo {
    loop {
        match waitpid(Pid::from_raw(pid as i32), None) {
            Ok(WaitStatus::Exited(_, code)) => {
                return ExitInfo {
                    code: Some(code),
                    signal: None,
                }
            }
            Ok(WaitStatus::Signaled(_, sig, _)) => return ExitInfo::signaled(sig),
            Ok(_) | Err(nix::Error::EINTR) => continue,
            Err(e) => {
                tracing::error!(pid, error = %e, "cannot wait for the agent; reporting it as exited");
                return ExitInfo {
                    code: Some(-1),
                    signal: None,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::spawn_reason;

    #[test]
    fn a_missing_program_is_named_without_the_whole_path() {
        let raw = "Unable to spawn nope because:\nNo viable candidates found in PATH \"/a:/b:/c\"";
        let r = spawn_reason(raw);
        assert!(
            r.starts_with("no such program in any directory of PATH"),
            "{r}"
        );
        assert!(!r.contains("/a:/b"), "{r}");
        let raw = "Unable to spawn tool because:\n/a/tool exists but is not executable.\nNo viable candidates found in PATH \"/a\"";
        assert!(spawn_reason(raw).contains("/a/tool exists but is not executable"));
        let other = "Unable to spawn /x because it is a directory";
        assert_eq!(spawn_reason(other), other);
    }
}
