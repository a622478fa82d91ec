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
use nix::sys::signal::{self, Signal as NixSignal};
use nix::unistd::Pid;
use paddock_proto::{Signal, Size, TmuxTarget};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

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

/// Why a pane cannot be bridged or controlled.
#[derive(Debug, thiserror::Error)]
pub enum TmuxError {
    #[error("cannot run tmux: {0}; install tmux (3.0 or newer)")]
    Spawn(std::io::Error),
    #[error("tmux server {socket} refused `{command}`: {message}")]
    Command {
        socket: PathBuf,
        command: String,
        message: String,
    },
    #[error("there is no pane `{pane}` on the tmux server {socket}; `tmux -S {socket} list-panes -a` lists them")]
    NoPane { socket: PathBuf, pane: String },
    #[error(
        "pane {pane} has exited (tmux keeps it with remain-on-exit); there is nothing to mirror"
    )]
    Dead { pane: String },
    #[error("pane {pane} already has a pipe (`tmux pipe-pane`), and tmux allows one per pane; turn it off with `tmux -S {socket} pipe-pane -t {pane}` and try again")]
    AlreadyPiped { socket: PathBuf, pane: String },
    #[error("cannot create the FIFO {path}: {source}")]
    Fifo {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tmux did not start the pane's pipe within {0:?} (is `cat` on tmux's PATH?)")]
    NotConnected(Duration),
    #[error("tmux answered something unexpected: {0}")]
    Parse(String),
    #[error("cannot start the bridge's {0} thread: {1}")]
    Thread(&'static str, std::io::Error),
    #[error("cannot send SIG{signal} to pane {pane} (pid {pid}): {source}")]
    Signal {
        signal: Signal,
        pane: String,
        pid: u32,
        source: nix::Error,
    },
}

/// What tmux said about the pane at the moment the pipe started.
#[derive(Debug, Clone, PartialEq)]
pub struct PaneState {
    /// The pane's id, e.g. `%3` (the target given may have been `work:1.0`).
    pub pane_id: String,
    /// The pane's process (its process group leader).
    pub pid: u32,
    pub size: Size,
    pub tty: PathBuf,
    pub cwd: String,
    pub command: String,
    pub title: String,
    /// Cursor column and row, from 0.
    pub cursor: (u16, u16),
    pub cursor_visible: bool,
    pub alternate_screen: bool,
    pub keypad: bool,
    pub cursor_keys: bool,
    pub insert: bool,
    pub wrap: bool,
    /// Mouse modes 1000, 1002, 1003, 1006 (standard, button, any, SGR).
    pub mouse: [bool; 4],
    /// Scroll region, first and last row from 0.
    pub scroll_region: (u16, u16),
}

/// `display` format for [`PaneState`]: fields separated by [`SEP`], the title last.
const STATE_FORMAT: &str = concat!(
    "#{pane_id}\u{1f}",
    "#{pane_pid}\u{1f}",
    "#{pane_width}\u{1f}",
    "#{pane_height}\u{1f}",
    "#{pane_tty}\u{1f}",
    "#{cursor_x}\u{1f}",
    "#{cursor_y}\u{1f}",
    "#{cursor_flag}\u{1f}",
    "#{alternate_on}\u{1f}",
    "#{keypad_flag}\u{1f}",
    "#{keypad_cursor_flag}\u{1f}",
    "#{insert_flag}\u{1f}",
    "#{wrap_flag}\u{1f}",
    "#{mouse_standard_flag}\u{1f}",
    "#{mouse_button_flag}\u{1f}",
    "#{mouse_any_flag}\u{1f}",
    "#{mouse_sgr_flag}\u{1f}",
    "#{scroll_region_upper}\u{1f}",
    "#{scroll_region_lower}\u{1f}",
    "#{pane_current_path}\u{1f}",
    "#{pane_current_command}\u{1f}",
    "#{pane_title}",
);

impl PaneState {
    fn parse(line: &str) -> Result<Self, TmuxError> {
        let f: Vec<&str> = line.splitn(22, SEP).collect();
        if f.len() < 22 || f[0].is_empty() {
            return Err(TmuxError::Parse(format!("pane state `{line}`")));
        }
        let num = |i: usize| -> Result<u16, TmuxError> {
            f[i].parse()
                .map_err(|_| TmuxError::Parse(format!("field {i} of `{line}`")))
        };
        let flag = |i: usize| f[i] == "1";
        Ok(Self {
            pane_id: f[0].to_owned(),
            pid: f[1]
                .parse()
                .map_err(|_| TmuxError::Parse(format!("pane pid in `{line}`")))?,
            size: Size {
                cols: num(2)?,
                rows: num(3)?,
            },
            tty: PathBuf::from(f[4]),
            cursor: (num(5)?, num(6)?),
            cursor_visible: flag(7),
            alternate_screen: flag(8),
            keypad: flag(9),
            cursor_keys: flag(10),
            insert: flag(11),
            wrap: flag(12),
            mouse: [flag(13), flag(14), flag(15), flag(16)],
            scroll_region: (num(17).unwrap_or(0), num(18).unwrap_or(0)),
            cwd: f[19].to_owned(),
            command: f[20].to_owned(),
            title: f[21].to_owned(),
        })
    }
}

/// Bytes that draw `screen` (from `capture-pane -p -e -N`, one line per row) with the cursor,
/// modes and title of `state` on a terminal of the pane's size.
pub fn redraw(state: &PaneState, screen: &str) -> Vec<u8> {
    use std::fmt::Write;
    let mut out = String::with_capacity(screen.len() + 256);
    if state.alternate_screen {
        out.push_str("\x1b[?1049h");
    }
    out.push_str("\x1b[0m\x1b[H\x1b[2J");
    for (row, line) in screen.lines().take(state.size.rows as usize).enumerate() {
        if !line.is_empty() {
            let _ = write!(out, "\x1b[{};1H{line}", row + 1);
        }
    }
    out.push_str("\x1b[0m");
    let (top, bottom) = state.scroll_region;
    if bottom > top && (top, bottom) != (0, state.size.rows.saturating_sub(1)) {
        let _ = write!(out, "\x1b[{};{}r", top + 1, bottom + 1);
    }
    let modes: [(bool, &str); 8] = [
        (!state.wrap, "\x1b[?7l"),
        (state.insert, "\x1b[4h"),
        (state.keypad, "\x1b="),
        (state.cursor_keys, "\x1b[?1h"),
        (state.mouse[0], "\x1b[?1000h"),
        (state.mouse[1], "\x1b[?1002h"),
        (state.mouse[2], "\x1b[?1003h"),
        (state.mouse[3], "\x1b[?1006h"),
    ];
    for (on, seq) in modes {
        if on {
            out.push_str(seq);
        }
    }
    let title: String = state.title.chars().filter(|c| !c.is_control()).collect();
    if !title.is_empty() {
        let _ = write!(out, "\x1b]2;{title}\x07");
    }
    let _ = write!(
        out,
        "\x1b[{};{}H",
        state.cursor.1 as u32 + 1,
        state.cursor.0 as u32 + 1
    );
    if !state.cursor_visible {
        out.push_str("\x1b[?25l");
    }
    out.into_bytes()
}

/// Runs `tmux -S socket ARGS`.
fn tmux(socket: &Path, args: &[&str]) -> Result<Output, TmuxError> {
    Command::new("tmux")
        .arg("-S")
        .arg(socket)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(TmuxError::Spawn)
}

/// Runs `tmux -S socket ARGS` and returns its stdout, or the error tmux printed.
fn tmux_ok(socket: &Path, args: &[&str]) -> Result<String, TmuxError> {
    let out = tmux(socket, args)?;
    if !out.status.success() {
        return Err(TmuxError::Command {
            socket: socket.to_owned(),
            command: args.first().copied().unwrap_or_default().to_owned(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Quotes `s` for `sh -c`, and doubles `#` because tmux expands formats in pipe-pane's
/// command.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''").replace('#', "##"))
}

/// What tmux says about a pane after its process ended, or its pipe did.
#[derive(Debug, PartialEq)]
enum PaneEnd {
    /// The pane no longer exists (or the server is gone): no status.
    Gone,
    /// The pane remains, dead, with this status.
    Dead(ExitInfo),
    /// The pane is alive.
    Alive,
}

fn pane_end(socket: &Path, pane: &str) -> PaneEnd {
    let format = "#{pane_id}\u{1f}#{pane_dead}\u{1f}#{pane_dead_status}\u{1f}#{pane_dead_signal}";
    let Ok(out) = tmux_ok(socket, &["display", "-p", "-t", pane, format]) else {
        return PaneEnd::Gone;
    };
    let f: Vec<&str> = out.trim_end_matches('\n').split(SEP).collect();
    // tmux 3.3 prints an empty line, successfully, for a pane that does not exist.
    if f.len() < 4 || f[0] != pane {
        return PaneEnd::Gone;
    }
    if f[1] != "1" {
        return PaneEnd::Alive;
    }
    if let Some(sig) = f[3]
        .parse::<i32>()
        .ok()
        .and_then(|n| NixSignal::try_from(n).ok())
    {
        return PaneEnd::Dead(ExitInfo::signaled(sig));
    }
    PaneEnd::Dead(ExitInfo {
        code: f[2].parse().ok(),
        signal: None,
    })
}

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

fn send_keys(socket: &Path, pane: &str, bytes: &[u8]) -> Result<(), TmuxError> {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut args = vec!["send-keys", "-t", pane, "-H"];
    args.extend(hex.iter().map(String::as_str));
    tmux_ok(socket, &args).map(|_| ())
}

/// Whether the pane's pipe is a dead bridge's of this session: its `cat` (a child of the
/// tmux server) still writes to our FIFO path (Linux), or the FIFO is still there.
fn stale_bridge_pipe(socket: &Path, fifo: &Path) -> bool {
    if fifo.exists() {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        let Ok(server) = tmux_ok(socket, &["display", "-p", "#{pid}"]) else {
            return false;
        };
        let server = server.trim();
        let children = std::fs::read_to_string(format!("/proc/{server}/task/{server}/children"))
            .unwrap_or_default();
        let ours = fifo.as_os_str().as_encoded_bytes();
        children.split_whitespace().any(|child| {
            std::fs::read_link(format!("/proc/{child}/fd/1")).is_ok_and(|target| {
                let target = target.as_os_str().as_encoded_bytes();
                // An unlinked FIFO reads as `<path> (deleted)`.
                target.strip_suffix(b" (deleted)").unwrap_or(target) == ours
            })
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = socket;
        false
    }
}

/// The window size of the tty at `path`, read without making it our controlling terminal.
fn tty_size(path: &Path) -> Option<Size> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let ws = rustix::termios::tcgetwinsize(&tty).ok()?;
    let size = Size {
        cols: ws.ws_col,
        rows: ws.ws_row,
    };
    size.is_valid().then_some(size)
}

/// The foreground process group of `pid`'s terminal.
pub(crate) fn foreground_group(pid: u32) -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // After the command's closing parenthesis: state ppid pgrp session tty_nr tpgid.
        stat.rsplit_once(") ")?.1.split(' ').nth(5)?.parse().ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let out = Command::new("ps")
            .args(["-o", "tpgid=", "-p", &pid.to_string()])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    }
}

/// Blocks until process `pid` (not our child) has ended.
fn wait_for_exit(pid: u32) {
    #[cfg(target_os = "linux")]
    {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        use std::os::fd::AsFd;
        let fd = rustix::process::Pid::from_raw(pid as i32).and_then(|p| {
            rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok()
        });
        if let Some(fd) = fd {
            loop {
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(n) if n > 0 => return,
                    Ok(_) | Err(nix::Error::EINTR) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot wait on the pane's process; polling it instead");
                        break;
                    }
                }
            }
        }
    }
    while signal::kill(Pid::from_raw(pid as i32), None).is_ok() {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ScreenModel;

    fn state() -> PaneState {
        PaneState::parse(
            &[
                "%3",
                "4242",
                "20",
                "4",
                "/dev/pts/9",
                "5",
                "1",
                "1",
                "0",
                "0",
                "1",
                "0",
                "1",
                "0",
                "0",
                "0",
                "0",
                "0",
                "3",
                "/home/u",
                "bash",
                "my title",
            ]
            .join("\u{1f}"),
        )
        .expect("parses")
    }

    #[test]
    fn pane_state_parses_from_display() {
        let s = state();
        assert_eq!(s.pane_id, "%3");
        assert_eq!(s.pid, 4242);
        assert_eq!(s.size, Size { cols: 20, rows: 4 });
        assert_eq!(s.cursor, (5, 1));
        assert!(s.cursor_visible && s.cursor_keys && s.wrap && !s.alternate_screen);
        assert_eq!((s.cwd.as_str(), s.command.as_str()), ("/home/u", "bash"));
        assert_eq!(s.title, "my title");
        assert!(PaneState::parse("").is_err());
        assert!(PaneState::parse("%1\u{1f}x").is_err());
    }

    #[test]
    fn the_redraw_reproduces_the_captured_screen_cursor_and_modes() {
        let s = state();
        // As capture-pane -e prints it: attributes carry over from line to line.
        let screen = "$ echo \x1b[31mred\n\x1b[39mred line\n$ \n\n";
        let mut model = ScreenModel::new(s.size);
        model.feed(&redraw(&s, screen));
        assert_eq!(model.screen().contents(), "$ echo red\nred line\n$ ");
        assert_eq!(model.screen().cursor_position(), (1, 5));
        assert!(model.screen().application_cursor());
        assert_eq!(model.title(), "my title");
        assert_eq!(
            model.screen().cell(0, 7).expect("cell").fgcolor(),
            vt100::Color::Idx(1)
        );

        let mut alt = s.clone();
        alt.alternate_screen = true;
        alt.cursor_visible = false;
        let mut model = ScreenModel::new(s.size);
        model.feed(&redraw(&alt, "full screen\n"));
        assert!(model.screen().alternate_screen());
        assert!(model.screen().hide_cursor());
        assert_eq!(model.screen().contents(), "full screen");
    }

    #[test]
    fn pipe_commands_are_quoted_for_the_shell_and_tmux_formats() {
        assert_eq!(shell_quote("/tmp/a b/x.fifo"), "'/tmp/a b/x.fifo'");
        assert_eq!(shell_quote("/tmp/it's#1"), r"'/tmp/it'\''s##1'");
    }
}
