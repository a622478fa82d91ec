//! A tmux pane as a holder's terminal: the **tmux bridge**. The holder mirrors a pane that
//! tmux owns instead of a PTY of its own, and serves it to clients exactly like a PTY session
//! (same ring, model, socket and protocol).
//!
//! - **Output** comes through tmux's `pipe-pane`: `pipe-pane -O -o -t PANE 'exec cat > FIFO'`
//!   copies every byte the pane's program writes into `<runtime>/<id>.fifo` (0600), which a
//!   reader thread streams into the ring. Measured on this machine, pipe-pane keeps up with
//!   tmux's own parsing of the pane (~25 MiB/s) while a `tmux -C` client's `%output` manages
//!   a third of that (docs/design/holder.md, "tmux bridges"). A pane that already has a pipe is refused
//!   (tmux allows one per pane and `-o` would silently turn the other one off), unless the
//!   pipe is a dead bridge's of the same session (its FIFO is still in the runtime
//!   directory).
//! - **The screen at start**: in the same tmux command as `pipe-pane` (tmux runs one
//!   command list without reading panes in between, so no byte falls between the two), a
//!   `display` of the cursor, size and modes and a `capture-pane -p -e -N`. The holder seeds
//!   the ring with a redraw built from them ([`Connected::seed`]), so a client attaching at
//!   once sees the pane as it is. `logs --raw` shows that redraw first.
//! - **Input** goes through `send-keys -H` (the bytes as hex), one tmux call per batch of
//!   queued input of up to [`SEND_KEYS_MAX`] bytes (tmux caps a command line at 16 KiB).
//! - **Size**: tmux owns the pane's size; clients cannot change it. The bridge follows it:
//!   before each chunk of output it reads the pane's window size from its tty (TIOCGWINSZ,
//!   opened for an instant with `O_NOCTTY`, a few microseconds), so the model resizes at the
//!   offset where the program's redraw after SIGWINCH begins; clients' hello, resize and info
//!   requests read it too. A resize with no output after it is seen at the next request.
//! - **Signals** go to the pane's process group and to its terminal's foreground group
//!   (`tpgid` of the pane's process, from /proc on Linux, `ps` elsewhere), as for a PTY.
//! - **Exit**: a waiter thread waits for the pane's process to end (a pidfd on Linux, a 1 s
//!   poll elsewhere), lets the FIFO drain, then asks tmux for `#{pane_dead_status}` and
//!   `#{pane_dead_signal}`: known when the pane remains (`remain-on-exit`), unknown (`None`)
//!   when tmux destroyed it. A FIFO that ends while the process lives means the pane was
//!   killed, the server died, or someone replaced the pipe: the session ends too. tmux
//!   refuses `pipe-pane` on a dead pane, so a pane kept by `remain-on-exit` keeps the
//!   bridge's pipe until it is respawned; the bridge stops reading, and `cat` dies of SIGPIPE
//!   at the first byte after the respawn, which ends the pipe.
//! - **Restart** is refused: Paddock did not start the pane's program.
//! - **Detach**: when the holder stops mirroring a live pane (`paddock rm` without `--force`,
//!   or SIGTERM to the holder), it turns its pipe off and removes the FIFO; the pane runs on.

use crate::agent::{to_nix, ExitInfo};
use nix::sys::signal;
use nix::unistd::Pid;
use paddock_proto::{Signal, Size, TmuxTarget};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

mod command;
mod error;
mod process;
mod state;

use command::{pane_end, send_keys, shell_quote, stale_bridge_pipe, tmux, tmux_ok, PaneEnd};
pub use error::TmuxError;
pub(crate) use process::foreground_group;
use process::{tty_size, wait_for_exit};
use state::STATE_FORMAT;
pub use state::{redraw, PaneState};

/// Most input bytes per `send-keys -H` call: each byte is a 3-byte argument and tmux refuses
/// command lines over 16 KiB.
pub const SEND_KEYS_MAX: usize = 4096;
/// Read size from the FIFO.
const READ_CHUNK: usize = 64 * 1024;
/// Input chunks queued before a typing client waits.
const INPUT_QUEUE: usize = 256;
/// How long `cat` has to open the FIFO after `pipe-pane`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// After the pane's process ended: how long to wait for the FIFO to drain.
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(300);
/// After the FIFO ended: how long to wait for the pane's process to end before deciding the
/// pipe was lost while the pane lives.
const EXIT_AFTER_EOF: Duration = Duration::from_secs(1);
/// How long tmux may take to mark a pane dead after its process ended (it needs both the
/// process reaped and the pane's terminal closed; a loaded machine takes a while).
const DEAD_STATUS_WAIT: Duration = Duration::from_secs(3);
/// Field separator in our `display` formats (ASCII unit separator: never in a title or path).
const SEP: char = '\u{1f}';

/// A pane whose pipe runs and whose screen was captured; [`Connected::start`] starts
/// streaming it.
pub struct Connected {
    socket: PathBuf,
    fifo: PathBuf,
    pub state: PaneState,
    /// The redraw of the screen at the moment the pipe started.
    pub seed: Vec<u8>,
}

/// A pane the holder mirrors: its pid, its input queue and its pipe.
pub struct TmuxPane {
    socket: PathBuf,
    pane: String,
    pid: u32,
    tty: PathBuf,
    fifo: PathBuf,
    input: mpsc::Sender<Vec<u8>>,
    pipe: Arc<PipeState>,
}

/// Shared by the pane's threads.
#[derive(Default)]
struct PipeState {
    /// The FIFO reached end-of-file: the pipe is closed (or no longer ours).
    eof: AtomicBool,
    /// The holder is turning the pipe off on purpose: its end is not an exit.
    detaching: AtomicBool,
}

/// The holder's exit callback.
type OnExit = Box<dyn FnOnce(ExitInfo) + Send>;

/// Calls the exit callback once, from whichever thread learns of the end first.
struct ExitOnce(Mutex<Option<OnExit>>);

impl ExitOnce {
    fn report(&self, exit: ExitInfo) {
        let f = crate::sync::lock(&self.0).take();
        if let Some(f) = f {
            f(exit);
        }
    }
}

impl TmuxPane {
    /// Checks `target`, creates the FIFO at `fifo` and starts the pane's pipe into it, and
    /// captures the screen at that same moment.
    pub fn connect(target: &TmuxTarget, fifo: &Path) -> Result<Connected, TmuxError> {
        let socket = target.socket.as_path();
        let check = tmux_ok(
            socket,
            &[
                "display",
                "-p",
                "-t",
                &target.pane,
                "#{pane_id}\u{1f}#{pane_pipe}\u{1f}#{pane_dead}",
            ],
        )
        .map_err(|e| match e {
            TmuxError::Command { message, .. } if message.contains("can't find") => {
                TmuxError::NoPane {
                    socket: socket.to_owned(),
                    pane: target.pane.clone(),
                }
            }
            e => e,
        })?;
        let f: Vec<&str> = check.trim_end_matches('\n').split(SEP).collect();
        let (pane, piped, dead) = match f.as_slice() {
            [id, piped, dead] if id.starts_with('%') => (*id, *piped == "1", *dead == "1"),
            _ => {
                return Err(TmuxError::NoPane {
                    socket: socket.to_owned(),
                    pane: target.pane.clone(),
                })
            }
        };
        if dead {
            return Err(TmuxError::Dead { pane: pane.into() });
        }
        if piped {
            // A bridge of this session that died leaves its pipe; it is ours to take over.
            // Any other pipe belongs to someone else.
            if !stale_bridge_pipe(socket, fifo) {
                return Err(TmuxError::AlreadyPiped {
                    socket: socket.to_owned(),
                    pane: pane.into(),
                });
            }
            tracing::info!(pane, "taking over the pipe of a bridge that died");
            tmux_ok(socket, &["pipe-pane", "-t", pane])?;
        }

        let _ = std::fs::remove_file(fifo);
        nix::unistd::mkfifo(
            fifo,
            nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
        )
        .map_err(|e| TmuxError::Fifo {
            path: fifo.to_owned(),
            source: e.into(),
        })?;
        let pipe_cmd = format!("exec cat > {}", shell_quote(&fifo.to_string_lossy()));
        // One command list: tmux reads no pane output between these, so the capture is the
        // screen exactly as of the pipe's first byte.
        let out = tmux_ok(
            socket,
            &[
                "pipe-pane",
                "-O",
                "-o",
                "-t",
                pane,
                &pipe_cmd,
                ";",
                "display",
                "-p",
                "-t",
                pane,
                STATE_FORMAT,
                ";",
                "capture-pane",
                "-p",
                "-e",
                "-N",
                "-t",
                pane,
            ],
        );
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                let _ = tmux(socket, &["pipe-pane", "-t", pane]);
                let _ = std::fs::remove_file(fifo);
                return Err(e);
            }
        };
        let (first, screen) = out.split_once('\n').unwrap_or((&out, ""));
        let state = match PaneState::parse(first) {
            Ok(s) => s,
            Err(e) => {
                let _ = tmux(socket, &["pipe-pane", "-t", pane]);
                let _ = std::fs::remove_file(fifo);
                return Err(e);
            }
        };
        let seed = redraw(&state, screen);
        Ok(Connected {
            socket: socket.to_owned(),
            fifo: fifo.to_owned(),
            state,
            seed,
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn pane_id(&self) -> &str {
        &self.pane
    }

    /// The queue of bytes to type into the pane.
    pub fn input(&self) -> &mpsc::Sender<Vec<u8>> {
        &self.input
    }

    /// The pane's size now.
    pub fn size(&self) -> Option<Size> {
        tty_size(&self.tty).or_else(|| {
            let out = tmux_ok(
                &self.socket,
                &[
                    "display",
                    "-p",
                    "-t",
                    &self.pane,
                    "#{pane_width} #{pane_height}",
                ],
            )
            .ok()?;
            let (c, r) = out.trim().split_once(' ')?;
            Some(Size {
                cols: c.parse().ok()?,
                rows: r.parse().ok()?,
            })
        })
    }

    /// Sends `sig` to the pane's process group and to its terminal's foreground group.
    pub fn signal(&self, sig: Signal) -> Result<(), TmuxError> {
        let nix_sig = to_nix(sig);
        match signal::killpg(Pid::from_raw(self.pid as i32), nix_sig) {
            Ok(()) | Err(nix::Error::ESRCH) => {}
            Err(source) => {
                return Err(TmuxError::Signal {
                    signal: sig,
                    pane: self.pane.clone(),
                    pid: self.pid,
                    source,
                })
            }
        }
        if let Some(fg) = foreground_group(self.pid) {
            if fg > 0 && fg != self.pid as i32 {
                let _ = signal::killpg(Pid::from_raw(fg), nix_sig);
            }
        }
        Ok(())
    }

    /// Stops mirroring a live pane: turns the pipe off. The pane keeps running.
    pub fn detach(&self) {
        if self.pipe.detaching.swap(true, Ordering::AcqRel) {
            return;
        }
        if !self.pipe.eof.load(Ordering::Acquire) {
            let _ = tmux(&self.socket, &["pipe-pane", "-t", &self.pane]);
        }
    }
}

impl Drop for TmuxPane {
    fn drop(&mut self) {
        // A dead pane that tmux keeps (remain-on-exit) still has our pipe, and tmux refuses
        // `pipe-pane` on a dead pane; the reader stops at the pipe's next byte (after a
        // `respawn-pane`), and `cat` then dies of SIGPIPE, which ends the pipe.
        self.detach();
        let _ = std::fs::remove_file(&self.fifo);
    }
}

impl Connected {
    /// Starts streaming: `on_output` runs on the reader thread for every chunk of the pane's
    /// output, `on_resize` there too, before the first chunk written at a new size;
    /// `on_exit` runs once when the pane's process has ended or the pipe is lost.
    pub fn start(
        self,
        mut on_output: impl FnMut(&[u8]) + Send + 'static,
        mut on_resize: impl FnMut(Size) + Send + 'static,
        on_exit: impl FnOnce(ExitInfo) + Send + 'static,
    ) -> Result<TmuxPane, TmuxError> {
        let Connected {
            socket,
            fifo,
            state,
            seed: _,
        } = self;
        let pane = state.pane_id.clone();
        let pid = state.pid;
        let pipe = Arc::new(PipeState::default());
        let exit = Arc::new(ExitOnce(Mutex::new(Some(Box::new(on_exit)))));
        let (opened_tx, opened_rx) = std_mpsc::channel::<()>();
        let (drained_tx, drained_rx) = std_mpsc::channel::<()>();
        let (ended_tx, ended_rx) = std_mpsc::channel::<()>();

        let reader = {
            let (fifo, tty, socket, pane) = (
                fifo.clone(),
                state.tty.clone(),
                socket.clone(),
                pane.clone(),
            );
            let (pipe, exit) = (pipe.clone(), exit.clone());
            let mut size = state.size;
            move || {
                // Blocks until `cat` opens the FIFO for writing.
                let file = match File::open(&fifo) {
                    Ok(f) => f,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot open the pane's FIFO");
                        return;
                    }
                };
                let _ = opened_tx.send(());
                if pipe.detaching.load(Ordering::Acquire) {
                    return;
                }
                read_loop(
                    file,
                    |data| {
                        if let Some(now) = tty_size(&tty) {
                            if now != size {
                                size = now;
                                on_resize(now);
                            }
                        }
                        on_output(data);
                    },
                    || pipe.detaching.load(Ordering::Acquire),
                );
                pipe.eof.store(true, Ordering::Release);
                let _ = drained_tx.send(());
                if pipe.detaching.load(Ordering::Acquire) {
                    return;
                }
                // The process ending explains the end of the pipe; the waiter reports it.
                if ended_rx.recv_timeout(EXIT_AFTER_EOF).is_ok() {
                    return;
                }
                match pane_end(&socket, &pane) {
                    PaneEnd::Alive => {
                        tracing::warn!(pane, "the pane's pipe was closed while the pane runs (someone ran `tmux pipe-pane` on it); the bridge stops mirroring it");
                        exit.report(ExitInfo {
                            code: None,
                            signal: None,
                        });
                    }
                    PaneEnd::Dead(info) => exit.report(info),
                    PaneEnd::Gone => exit.report(ExitInfo {
                        code: None,
                        signal: None,
                    }),
                }
            }
        };
        spawn_thread("tmux-reader", reader)?;
        if opened_rx.recv_timeout(CONNECT_TIMEOUT).is_err() {
            pipe.detaching.store(true, Ordering::Release);
            // Unblock the reader's open (a reader is waiting, so this open succeeds).
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(nix::libc::O_NONBLOCK)
                .open(&fifo);
            let _ = tmux(&socket, &["pipe-pane", "-t", &pane]);
            let _ = std::fs::remove_file(&fifo);
            return Err(TmuxError::NotConnected(CONNECT_TIMEOUT));
        }

        let (input, input_rx) = mpsc::channel(INPUT_QUEUE);
        {
            let (socket, pane) = (socket.clone(), pane.clone());
            spawn_thread("tmux-writer", move || write_loop(&socket, &pane, input_rx))?;
        }
        {
            let (socket, pane, pipe) = (socket.clone(), pane.clone(), pipe.clone());
            spawn_thread("tmux-waiter", move || {
                wait_for_exit(pid);
                let _ = ended_tx.send(());
                let _ = drained_rx.recv_timeout(DRAIN_AFTER_EXIT);
                if pipe.detaching.load(Ordering::Acquire) {
                    return;
                }
                // tmux marks the pane dead (or destroys it) once it has reaped the process.
                let deadline = std::time::Instant::now() + DEAD_STATUS_WAIT;
                let info = loop {
                    match pane_end(&socket, &pane) {
                        // tmux marks a pane dead when its terminal closes, which can come
                        // before it has reaped the process and recorded the status.
                        PaneEnd::Dead(ExitInfo {
                            code: None,
                            signal: None,
                        }) if std::time::Instant::now() < deadline => {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        PaneEnd::Dead(info) => break info,
                        PaneEnd::Alive if std::time::Instant::now() < deadline => {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        PaneEnd::Alive | PaneEnd::Gone => {
                            break ExitInfo {
                                code: None,
                                signal: None,
                            }
                        }
                    }
                };
                exit.report(info);
            })?;
        }
        Ok(TmuxPane {
            socket,
            pane,
            pid,
            tty: state.tty,
            fifo,
            input,
            pipe,
        })
    }
}

fn spawn_thread(name: &'static str, f: impl FnOnce() + Send + 'static) -> Result<(), TmuxError> {
    std::thread::Builder::new()
        .name(name.into())
        .stack_size(256 * 1024)
        .spawn(f)
        .map(|_| ())
        .map_err(|e| TmuxError::Thread(name, e))
}

/// Reads the FIFO until end-of-file, or until `stop` says so after a read.
fn read_loop(mut file: File, mut on_output: impl FnMut(&[u8]), stop: impl Fn() -> bool) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(_) if stop() => break,
            Ok(n) => on_output(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::warn!(error = %e, "reading the pane's FIFO failed");
                break;
            }
        }
    }
}

/// Types queued input into the pane, batching what is queued into one `send-keys` call.
fn write_loop(socket: &Path, pane: &str, mut input: mpsc::Receiver<Vec<u8>>) {
    let mut batch = Vec::new();
    while let Some(bytes) = input.blocking_recv() {
        batch.extend_from_slice(&bytes);
        while batch.len() < SEND_KEYS_MAX {
            match input.try_recv() {
                Ok(more) => batch.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        for chunk in batch.chunks(SEND_KEYS_MAX) {
            if let Err(e) = send_keys(socket, pane, chunk) {
                tracing::warn!(error = %e, "cannot type into the pane; dropping queued input");
                while input.blocking_recv().is_some() {}
                return;
            }
        }
        batch.clear();
    }
}

#[cfg(test)]
mod tests;
