//! Test harness: a private runtime directory, the real `paddock` binary, real holders and
//! PTYs. Everything started here is killed when the harness is dropped.
#![allow(dead_code)]

use paddock_host::client::{Client, Event};
use paddock_proto::{Hello, Mode, SessionInfo, Start};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const PADDOCK: &str = env!("CARGO_BIN_EXE_paddock");

/// A private runtime directory with its own sessions.
pub struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Self {
        // Short path: unix socket paths are limited to ~100 bytes.
        let dir = tempfile::Builder::new()
            .prefix("pdk")
            .tempdir_in("/tmp")
            .expect("temp dir");
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(PADDOCK);
        c.env("PADDOCK_RUNTIME_DIR", self.dir())
            .env("PADDOCK_DATA_DIR", self.dir().join("data"))
            .env("PADDOCK_CONFIG_DIR", self.dir().join("conf"))
            // Each test's supervisor sees only the tmux servers of its own test.
            .env("TMUX_TMPDIR", self.dir())
            // Sessions get the environment of the test process, not of the machine's login
            // shell (the test of that feature turns it on with a login shell of its own).
            .env("PADDOCK_AGENTS__LOGIN_ENV", "false")
            // Each test's endpoint on a free port of its own.
            .env("PADDOCK_SERVER__PORT", "0")
            .env_remove("PADDOCK_LOG")
            // No test pops notifications on the desktop it runs on (notifications/ gives
            // its supervisor a private bus).
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("TERM", "xterm-256color");
        c
    }

    /// Starts `paddock up` in the foreground and waits until it is ready.
    pub fn up(&self) -> Supervisor {
        self.up_with(&[])
    }

    /// [`Env::up`] with extra environment variables (e.g. the HOME whose agents it reads).
    pub fn up_with(&self, vars: &[(String, String)]) -> Supervisor {
        self.up_in(|cmd| {
            cmd.envs(vars.iter().cloned());
        })
    }

    /// [`Env::up`] with its command set up by `setup` (e.g. put in an agent's sandbox, or
    /// its stderr sent elsewhere than the pipe nobody reads).
    pub fn up_in(&self, setup: impl FnOnce(&mut Command)) -> Supervisor {
        let mut cmd = self.cmd();
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        setup(&mut cmd);
        let mut child = cmd.arg("up").spawn().expect("paddock up");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("read");
        if !line.starts_with("paddock supervisor ready") {
            // It ended or said something else: what it wrote to stderr says why.
            let _ = child.kill();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            panic!("unexpected first line from `paddock up`: {line:?}\nstderr: {err}");
        }
        Supervisor { child }
    }

    /// Runs `paddock ARGS` and returns its output, whatever the status.
    pub fn paddock(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run paddock")
    }

    /// Runs `paddock ARGS`, asserting success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_with(|_| {}, args)
    }

    /// [`Env::ok`] with the command set up by `setup` first (put in an agent's sandbox, given
    /// variables from the shell it is typed in).
    pub fn ok_with<S: AsRef<OsStr>>(&self, setup: impl FnOnce(&mut Command), args: &[S]) -> String {
        let mut cmd = self.cmd();
        setup(&mut cmd);
        let out = cmd.args(args).output().expect("run paddock");
        let args: Vec<&OsStr> = args.iter().map(AsRef::as_ref).collect();
        assert!(
            out.status.success(),
            "paddock {args:?} failed with {:?}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `paddock run [opts] -- CMD...`; returns the new session's id.
    pub fn run(&self, opts: &[&str], command: &[&str]) -> String {
        self.run_in(|_| {}, opts, command)
    }

    /// [`Env::run`] with the command set up by `setup` first (see [`Env::ok_with`]).
    pub fn run_in<S: AsRef<OsStr>>(
        &self,
        setup: impl FnOnce(&mut Command),
        opts: &[&str],
        command: &[S],
    ) -> String {
        let mut args: Vec<&OsStr> = vec!["run".as_ref()];
        args.extend(opts.iter().map(OsStr::new));
        args.push("--".as_ref());
        args.extend(command.iter().map(AsRef::as_ref));
        self.ok_with(setup, &args).trim().to_owned()
    }

    pub fn socket(&self, id: &str) -> PathBuf {
        self.dir().join(format!("{id}.sock"))
    }

    pub fn meta(&self, id: &str) -> SessionInfo {
        let bytes = std::fs::read(self.dir().join(format!("{id}.json"))).expect("meta file");
        serde_json::from_slice(&bytes).expect("meta json")
    }

    /// The running supervisor's endpoint: its URL (`https://127.0.0.1:PORT`) and certificate
    /// fingerprint, from `paddock status --json`.
    pub fn endpoint(&self) -> (String, String) {
        let status: serde_json::Value =
            serde_json::from_str(&self.ok(&["status", "--json"])).expect("status json");
        let field = |k: &str| {
            status[k]
                .as_str()
                .unwrap_or_else(|| panic!("status has no {k}: {status}"))
                .to_owned()
        };
        (field("url"), field("fingerprint"))
    }

    /// A fresh pairing offer for `role` (`paddock pair --json`).
    pub fn pair_offer(&self, role: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["pair", "--json", "--role", role])).expect("offer json")
    }

    /// The pending permission requests (`paddock approvals --json`).
    pub fn approvals(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.ok(&["approvals", "--json"])).expect("approvals JSON")
    }

    /// Tells the supervisor, as Claude Code's hook does, that session `id` writes the
    /// transcript `path` (from an agent whose Claude folder is `claude_dir`, if given).
    pub fn announce_transcript(&self, id: &str, path: &Path, claude_dir: Option<&Path>) {
        use std::io::Write;
        let payload = serde_json::json!({
            "hook_event_name": "UserPromptSubmit",
            "session_id": "4f9d",
            "transcript_path": path.display().to_string(),
            "cwd": "/",
            "prompt": "fix the bug",
        });
        let mut cmd = self.cmd();
        if let Some(dir) = claude_dir {
            cmd.env("CLAUDE_CONFIG_DIR", dir);
        }
        let mut hook = cmd
            .args(["hook", "--agent", "claude"])
            .env("PADDOCK_SESSION_ID", id)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("paddock hook");
        hook.stdin
            .take()
            .expect("stdin")
            .write_all(payload.to_string().as_bytes())
            .expect("payload");
        assert!(hook.wait().expect("hook").success());
    }

    pub fn ls(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.ok(&["ls", "--json"])).expect("ls json")
    }

    /// This session's `ls --json` row once `pred` holds for it; panics with the last row
    /// seen after `timeout`.
    pub fn wait_row(
        &self,
        id: &str,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let mut last = serde_json::Value::Null;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.ls().into_iter().find(|r| r["id"] == id) {
                if pred(&r) {
                    return r;
                }
                last = r;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {id} to be {what}; it is {last:#}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the session's terminal shows now, as text (the snapshot `paddock attach` starts
    /// with). Blocks on a runtime of its own: for synchronous tests.
    pub fn screen(&self, id: &str) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut client = self.connect(id, Hello::new(Mode::ReadOnly)).await;
            loop {
                match client.next_event().await.expect("event from the holder") {
                    Some(Event::Snapshot { size, data, .. }) => {
                        let mut model = paddock_host::model::ScreenModel::new(size);
                        model.feed(&data);
                        return model.screen().contents();
                    }
                    Some(_) => continue,
                    None => return String::new(),
                }
            }
        })
    }

    /// Polls the session's screen until `pred` holds; panics with the last screen after
    /// `timeout`.
    pub fn wait_screen(
        &self,
        id: &str,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.screen(id);
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for the screen to show {what}; it shows:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub async fn connect(&self, id: &str, hello: Hello) -> Client {
        Client::connect(&self.socket(id), hello)
            .await
            .expect("connect")
    }

    /// A read-only streaming client from the ring's start that tolerates lag up to the ring.
    pub async fn follower(&self, id: &str) -> Client {
        let mut hello = Hello::new(Mode::ReadOnly);
        hello.start = Start::RingStart;
        hello.lossless = true;
        self.connect(id, hello).await
    }
}

/// A running `paddock up`, killed when dropped.
pub struct Supervisor {
    pub child: std::process::Child,
}

impl Supervisor {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.dir().join("data/logs/paddock.log");
            if let Ok(text) = std::fs::read_to_string(&log) {
                eprintln!("--- supervisor log {}:\n{text}", log.display());
            }
        }
        let Ok(entries) = std::fs::read_dir(self.dir()) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if std::thread::panicking() && p.extension().is_some_and(|x| x == "log") {
                eprintln!(
                    "--- holder log {}:\n{}",
                    p.display(),
                    std::fs::read_to_string(&p).unwrap_or_default()
                );
            }
            if p.extension().is_some_and(|x| x == "json") {
                if let Ok(info) = std::fs::read(&p).map_err(|e| e.to_string()).and_then(|b| {
                    serde_json::from_slice::<SessionInfo>(&b).map_err(|e| e.to_string())
                }) {
                    kill(-(info.pid as i32));
                    kill(info.holder_pid as i32);
                }
            }
        }
    }
}

fn kill(pid: i32) {
    if pid != 0 && pid != -1 {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Polls `cond` until it holds or `timeout` passes; panics naming `what` on timeout.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The async twin of [`wait_until`].
pub async fn wait_until_async<F, Fut>(what: &str, timeout: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !cond().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Output bytes collected from a client, checked for continuity.
#[derive(Default)]
pub struct Collected {
    pub bytes: Vec<u8>,
    /// Length of the last output chunk, so `saw` only scans what is new.
    last: usize,
    pub next: Option<u64>,
    pub exited: Option<(Option<i32>, Option<String>)>,
    pub lagged: bool,
}

impl Collected {
    /// Feeds one event; panics if output skips or repeats offsets.
    pub fn take(&mut self, ev: Event) {
        match ev {
            Event::Output { offset, data } => {
                if let Some(next) = self.next {
                    assert_eq!(offset, next, "output skipped or repeated bytes");
                }
                self.next = Some(offset + data.len() as u64);
                self.bytes.extend_from_slice(&data);
                self.last = data.len();
            }
            Event::Notification(paddock_proto::Notification::Exited { code, signal }) => {
                self.exited = Some((code, signal))
            }
            Event::Notification(paddock_proto::Notification::Lagged { to, .. }) => {
                self.lagged = true;
                self.next = Some(to);
            }
            _ => {}
        }
    }
}

impl Collected {
    /// Whether `needle` has arrived. Checked after every event, so it only needs to look
    /// at the newest chunk and the bytes just before it.
    pub fn saw(&self, needle: &[u8]) -> bool {
        let from = self.bytes.len().saturating_sub(self.last + needle.len());
        contains(&self.bytes[from..], needle)
    }
}

/// Reads events until `done` holds for what was collected, or `timeout`.
pub async fn collect_until(
    client: &mut Client,
    timeout: Duration,
    what: &str,
    mut done: impl FnMut(&Collected) -> bool,
) -> Collected {
    let mut c = Collected::default();
    let result = tokio::time::timeout(timeout, async {
        while !done(&c) {
            match client.next_event().await.expect("event") {
                Some(ev) => c.take(ev),
                None => break,
            }
        }
    })
    .await;
    assert!(
        result.is_ok() && done(&c),
        "timed out after {timeout:?} waiting for: {what}; got {} bytes: {:?}",
        c.bytes.len(),
        String::from_utf8_lossy(&c.bytes[c.bytes.len().saturating_sub(300)..])
    );
    c
}

/// A numbered flood's output (`0\r\n1\r\n…END\r\n`) as text, and how many numbered lines
/// came before `END`; panics where a line was lost or doubled.
pub fn numbered_lines(bytes: Vec<u8>) -> (String, u32) {
    let text = String::from_utf8(bytes).expect("utf8");
    let mut expected = 0u32;
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        if line == "END" {
            break;
        }
        assert_eq!(
            line.parse::<u32>().ok(),
            Some(expected),
            "byte lost or doubled near line {expected}"
        );
        expected += 1;
    }
    (text, expected)
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A private tmux server: its own socket in the test's runtime directory, no config file,
/// one detached session. Killed when dropped.
pub struct TmuxServer {
    pub socket: PathBuf,
}

impl TmuxServer {
    /// Starts the server with a `cols`×`rows` session named `main` running `command` (a
    /// shell command line); returns it and the first pane's id.
    pub fn start(env: &Env, cols: u16, rows: u16, command: &str) -> (Self, String) {
        let server = Self {
            socket: env.dir().join("tmux.sock"),
        };
        let pane = server.ok(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
            "-P",
            "-F",
            "#{pane_id}",
            command,
        ]);
        (server, pane.trim().to_owned())
    }

    /// Another detached session of `cols`×`rows` running `command`; returns its pane's id.
    pub fn new_session(&self, name: &str, cols: u16, rows: u16, command: &str) -> String {
        self.ok(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
            "-P",
            "-F",
            "#{pane_id}",
            command,
        ])
        .trim()
        .to_owned()
    }

    pub fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// Runs `tmux ARGS`, asserting success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.tmux(args);
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A `display -p` format for `pane`.
    pub fn display(&self, pane: &str, format: &str) -> String {
        self.ok(&["display", "-p", "-t", pane, format])
            .trim_end()
            .to_owned()
    }

    /// What the pane shows, as text.
    pub fn capture(&self, pane: &str) -> String {
        self.ok(&["capture-pane", "-p", "-t", pane])
    }

    /// Types `line` and Enter into the pane, as a user at the keyboard.
    pub fn type_line(&self, pane: &str, line: &str) {
        self.ok(&["send-keys", "-t", pane, "-l", line]);
        self.ok(&["send-keys", "-t", pane, "Enter"]);
    }

    pub fn keys(&self, pane: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", pane];
        args.extend_from_slice(keys);
        self.ok(&args);
    }
}

impl Drop for TmuxServer {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

/// A process's state letter from /proc (`S` sleeping, `T` stopped, `Z` zombie, `?` gone).
pub fn proc_state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(") ")
        .next()
        .and_then(|s| s.chars().next())
        .unwrap_or('?')
}

/// Whether an `ls --json` row's state says the process still runs (any state but `exited`
/// and `completed`).
pub fn is_live(row: &serde_json::Value) -> bool {
    row["state"]
        .as_str()
        .is_some_and(|s| !matches!(s, "exited" | "completed"))
}
