//! Starting a session: the one recipe behind `paddock run` and `POST /api/v1/sessions`.
//!
//! It checks what it is given (a command, an absolute working directory that exists, a
//! unique name, a sane size and environment), picks a fresh id, adds Paddock's hooks to the
//! agents that take them (Claude Code's `--settings`, Codex's `notify`; see
//! [`crate::inject`]) and starts a detached holder with [`paddock_host::launch::spawn`],
//! which returns once the agent runs or with the reason it could not start. The variables
//! inherited from a parent Claude Code that break a new agent are left out of its environment
//! unless the request keeps them ([`crate::nested`]).

use crate::events::{Event, Received};
use crate::inject::{self, InjectError};
use crate::supervisor::Handle;
use paddock_host::launch::LaunchError;
use paddock_host::{spec, HolderSpec, Ready, RuntimeDir};
use paddock_proto::supervisor::SessionView;
use paddock_proto::{SessionId, SessionInfo, Size};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Output kept for late or reconnecting clients unless asked otherwise.
pub const DEFAULT_RING: usize = 4 << 20;
/// How long an exited session stays readable unless asked otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(600);
/// The longest session name accepted.
const MAX_NAME: usize = 100;
/// How long [`Handle::start_session`] waits for the supervisor to adopt a holder it started
/// (discovery is told at once; this only bounds a stuck supervisor).
const ADOPT_WAIT: Duration = Duration::from_secs(5);

/// What to start.
#[derive(Debug, Clone)]
pub struct StartRequest {
    /// The program, looked up in `PATH` when it has no slash.
    pub command: String,
    pub args: Vec<String>,
    /// A name to refer to the session by; the program's name, made unique, when `None`.
    pub name: Option<String>,
    /// An absolute path to an existing directory.
    pub cwd: PathBuf,
    /// Variables set on top of the holder's environment.
    pub env: Vec<(String, String)>,
    pub size: Size,
    pub ring_bytes: usize,
    pub grace: Duration,
    /// Whether Claude Code and Codex get Paddock's hooks.
    pub hooks: bool,
    /// The owner grants the session the MCP orchestrator role (see `crate::mcp`).
    pub orchestrator: bool,
    /// Whether Claude Code and Codex get Paddock's MCP server (`paddock mcp`) in their MCP
    /// configuration, next to the owner's own servers (see [`crate::mcp::wiring`]).
    pub mcp: bool,
    /// Keep the inherited variables that break a nested agent (see [`crate::nested`]);
    /// by default they are removed (those set in `env` are always kept).
    pub keep_nested_env: bool,
    // worktrees (issue 16): begin
    /// Start in a new git worktree of `cwd`'s repository (see [`crate::worktree`]) rather
    /// than in `cwd` itself.
    pub worktree: Option<crate::worktree::WorktreeRequest>,
    // worktrees (issue 16): end
    // codex app-server (issue 15, item 2): begin
    /// Run Codex through its app-server (`[agents] codex_app_server`; needs `hooks`): its
    /// state and approvals then come from its protocol (see [`crate::agents::codex_app`]).
    pub codex_app_server: bool,
    // codex app-server (issue 15, item 2): end
}

impl StartRequest {
    /// A request with the defaults for everything but the command and directory.
    pub fn new(command: impl Into<String>, args: Vec<String>, cwd: PathBuf) -> Self {
        Self {
            command: command.into(),
            args,
            name: None,
            cwd,
            env: Vec::new(),
            size: Size { cols: 80, rows: 24 },
            ring_bytes: DEFAULT_RING,
            grace: DEFAULT_GRACE,
            hooks: true,
            orchestrator: false,
            mcp: true,
            keep_nested_env: false,
            worktree: None,
            codex_app_server: false,
        }
    }
}

/// Why a session was not started. Every message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("no command given: name the program to run")]
    NoCommand,
    #[error("the command and its arguments may not contain NUL characters")]
    Nul,
    #[error("a session named `{name}` already exists ({id}); choose another name or remove it with `paddock rm {id}`")]
    NameTaken { name: String, id: SessionId },
    #[error("the session name must be 1 to {MAX_NAME} characters without control characters")]
    BadName,
    #[error("the working directory must be an absolute path, not `{0}`")]
    RelativeCwd(PathBuf),
    #[error("the working directory {path} does not exist or cannot be read ({source})")]
    Cwd {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not a directory; give the directory to start in")]
    NotADirectory(PathBuf),
    #[error("terminal size {0} is out of range: use 2..=1000 columns and 1..=500 rows")]
    Size(Size),
    #[error(
        "`{0}` is not a usable environment variable name: use letters, digits and _ without `=`"
    )]
    BadEnv(String),
    #[error("the output ring must be between 1 KiB and 4 GiB, not {0} bytes")]
    Ring(usize),
    #[error(transparent)]
    Hooks(#[from] InjectError),
    #[error(transparent)]
    Launch(#[from] LaunchError),
    #[error(transparent)]
    Worktree(#[from] crate::worktree::WorktreeError),
    #[error("the system's random number generator failed; try again")]
    Random,
    #[error("cannot record the orchestrator role in {path}: {source}")]
    Grant {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot find the paddock executable the agents' hooks call: {0}")]
    Exe(std::io::Error),
    #[error("starting the session was cut short inside the supervisor (is it shutting down?); check `paddock ls`, then try again")]
    Interrupted,
    #[error("session {0} started, but the supervisor has not listed it within 5 s; it runs (`paddock ls` shows it) and appears once discovery catches up")]
    NotAdopted(SessionId),
    #[error("there is no holder for session {0} to adopt (it never started, or it has ended); `paddock ls` lists the sessions")]
    NoHolder(SessionId),
}

impl StartError {
    /// Whether the request itself was wrong (as opposed to the machine failing to start it).
    pub fn is_bad_request(&self) -> bool {
        !matches!(
            self,
            StartError::Launch(_)
                | StartError::Random
                | StartError::Exe(_)
                | StartError::Interrupted
                | StartError::NotAdopted(_)
                | StartError::NoHolder(_)
                | StartError::Worktree(
                    crate::worktree::WorktreeError::Dir { .. }
                        | crate::worktree::WorktreeError::Record { .. }
                        | crate::worktree::WorktreeError::Git(
                            crate::git::GitError::Missing | crate::git::GitError::Spawn(_)
                        )
                )
        )
    }
}

/// Checks `req` against the sessions in `existing` and builds the holder's spec; `exe` is
/// the `paddock` binary the agents' hooks call.
pub fn prepare(
    req: StartRequest,
    dir: &RuntimeDir,
    existing: &[SessionInfo],
    exe: &Path,
) -> Result<HolderSpec, StartError> {
    if req.command.trim().is_empty() {
        return Err(StartError::NoCommand);
    }
    if std::iter::once(&req.command)
        .chain(&req.args)
        .any(|a| a.contains('\0'))
    {
        return Err(StartError::Nul);
    }
    if !req.cwd.is_absolute() {
        return Err(StartError::RelativeCwd(req.cwd));
    }
    let cwd = req.cwd.canonicalize().map_err(|source| StartError::Cwd {
        path: req.cwd.clone(),
        source,
    })?;
    if !cwd.is_dir() {
        return Err(StartError::NotADirectory(cwd));
    }
    if !req.size.is_valid() {
        return Err(StartError::Size(req.size));
    }
    if !(1024..=(1usize << 32)).contains(&req.ring_bytes) {
        return Err(StartError::Ring(req.ring_bytes));
    }
    for (key, value) in &req.env {
        let ok_key = !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !key.starts_with(|c: char| c.is_ascii_digit());
        if !ok_key || value.contains('\0') {
            return Err(StartError::BadEnv(key.clone()));
        }
    }
    let name = match req.name {
        Some(name) => {
            if name.is_empty()
                || name.chars().count() > MAX_NAME
                || name.chars().any(char::is_control)
            {
                return Err(StartError::BadName);
            }
            if let Some(other) = existing.iter().find(|s| s.name == name) {
                return Err(StartError::NameTaken {
                    name,
                    id: other.id.clone(),
                });
            }
            name
        }
        None => unique_name(&req.command, existing),
    };
    let id = loop {
        let id = SessionId::from_random(random_u64()?);
        if !existing.iter().any(|s| s.id == id) && !dir.socket_path(&id).exists() {
            break id;
        }
    };
    let agent = paddock_monitor::classify(std::slice::from_ref(&req.command), None);
    // Through its app-server, Codex's turns are reported by its protocol; Paddock's `notify`
    // goes only to plain Codex, should the server not start.
    let via_app_server =
        agent == Some(paddock_monitor::AgentKind::Codex) && req.codex_app_server && req.hooks;
    let args = match agent {
        _ if !req.hooks || via_app_server => req.args,
        Some(paddock_monitor::AgentKind::Claude) => {
            inject::claude_args_with_file(&req.args, exe, &dir.settings_path(&id))?
        }
        Some(paddock_monitor::AgentKind::Codex) => {
            inject::codex_args(&req.args, exe, inject::codex_config(&req.env).as_deref())
        }
        _ => req.args,
    };
    // The relay needs the supervisor's MCP socket: without a supervisor the server would only
    // fail at the agent's start (and show as failed in its UI), so it is left out.
    let runtime = dir.path();
    let supervised = runtime.join(crate::mcp::SOCKET_NAME).exists();
    let args = match agent {
        _ if !req.mcp || !supervised => args,
        Some(paddock_monitor::AgentKind::Claude) => {
            crate::mcp::wiring::claude_args(args, exe, id.as_str(), runtime)
        }
        Some(paddock_monitor::AgentKind::Codex) => {
            crate::mcp::wiring::codex_args(args, exe, id.as_str(), runtime)
        }
        _ => args,
    };
    let (command, args) = if via_app_server {
        let notify = inject::codex_args(&[], exe, inject::codex_config(&req.env).as_deref());
        codex_app_server(req.command, notify, args, dir, &id)
    } else {
        (req.command, args)
    };
    if req.orchestrator {
        crate::mcp::caller::grant_orchestrator(dir, &id).map_err(|source| StartError::Grant {
            path: dir.orchestrator_path(&id),
            source,
        })?;
    }
    let env_remove = if req.keep_nested_env {
        Vec::new()
    } else {
        let mut names = crate::nested::in_process();
        names.retain(|n| !req.env.iter().any(|(k, _)| k == n));
        names
    };
    // Last, so that nothing above can fail once the worktree exists.
    let cwd = match &req.worktree {
        Some(w) => crate::worktree::create(&cwd, &id, &name, w)?.cwd,
        None => cwd,
    };
    Ok(HolderSpec {
        id,
        name,
        command,
        args,
        cwd,
        env: req.env,
        env_remove,
        size: req.size,
        ring_bytes: req.ring_bytes,
        grace_secs: req.grace.as_secs(),
        max_lag: spec::DEFAULT_MAX_LAG,
        tmux: None,
        adopted: None,
    })
}

/// Codex through its app-server (`[agents] codex_app_server`): the launcher runs `codex` with
/// its app-server beside it; when the launcher cannot be written, plain Codex (said in the log).
fn codex_app_server(
    codex: String,
    notify: Vec<String>,
    args: Vec<String>,
    dir: &RuntimeDir,
    id: &SessionId,
) -> (String, Vec<String>) {
    use crate::agents::codex_app::launch;
    match launch::install(dir) {
        Ok(launcher) => launch::command(&launcher, &codex, dir, id, notify, args),
        Err(e) => {
            tracing::warn!(%id, path = %launch::launcher_path(dir).display(), error = %e,
                "cannot write the Codex app-server launcher; this session runs plain Codex, its state read from notify and the screen");
            let mut all = notify;
            all.extend(args);
            (codex, all)
        }
    }
}

/// [`prepare`] then [`spawn`]; a worktree made for a session that then fails to start is
/// removed again. Blocking.
pub fn prepare_and_spawn(
    req: StartRequest,
    dir: &RuntimeDir,
    existing: &[SessionInfo],
    exe: &Path,
) -> Result<SessionId, StartError> {
    let root = req.worktree.as_ref().map(|w| w.root.clone());
    let spec = prepare(req, dir, existing, exe)?;
    if let Err(e) = spawn(exe, dir, &spec) {
        if let Some(root) = root {
            crate::worktree::abandon(&root, &spec.id);
        }
        return Err(e);
    }
    Ok(spec.id)
}

/// Starts a detached holder for `spec`; returns once its agent runs (blocking: call it off
/// the async runtime).
pub fn spawn(exe: &Path, dir: &RuntimeDir, spec: &HolderSpec) -> Result<Ready, StartError> {
    Ok(paddock_host::launch::spawn(exe, dir, spec)?)
}

impl Handle {
    /// Starts a session (see [`prepare`]) and returns it as the supervisor lists it.
    pub async fn start_session(&self, mut req: StartRequest) -> Result<SessionView, StartError> {
        req.mcp &= self.config().agents.mcp_server;
        req.keep_nested_env |= self.config().agents.keep_nested_env;
        req.codex_app_server |= self.config().agents.codex_app_server;
        if let Some(w) = &mut req.worktree {
            w.root = self.config().worktrees_dir();
        }
        if self.config().agents.login_env {
            // Read once (up to a few seconds), then cached.
            let handle = self.clone();
            let vars = tokio::task::spawn_blocking(move || handle.login_env().get()).await;
            if let Ok(Ok(vars)) = vars {
                req.env = crate::login_env::merge(&vars, std::mem::take(&mut req.env));
            }
        }
        let dir = self.runtime_dir().clone();
        let existing = paddock_host::sessions::list(&dir).await;
        let exe = std::env::current_exe().map_err(StartError::Exe)?;
        // Off the runtime: a worktree runs git, the spawn waits for the agent to start.
        let id = tokio::task::spawn_blocking(move || prepare_and_spawn(req, &dir, &existing, &exe))
            .await
            .map_err(|_| StartError::Interrupted)??;
        self.adopt(&id).await
    }

    /// Adopts the holder of a session just started (by this supervisor or by `paddock run`)
    /// now rather than at the next scan, and returns the session once the registry lists it,
    /// so that whoever started it sees it in the very next list.
    pub async fn adopt(&self, id: &SessionId) -> Result<SessionView, StartError> {
        let mut events = self.bus().subscribe();
        if self.registry().get(id).is_none() && !self.runtime_dir().socket_path(id).exists() {
            return Err(StartError::NoHolder(id.clone()));
        }
        self.rescan();
        let adopted = tokio::time::timeout(ADOPT_WAIT, async {
            loop {
                if let Some(view) = self.registry().get(id) {
                    return Some(view);
                }
                match events.recv().await {
                    Received::Event(Event::SessionUpdate { session }) if &session.id == id => {
                        return Some(*session)
                    }
                    Received::Closed => return None,
                    _ => {}
                }
            }
        })
        .await;
        match adopted {
            Ok(Some(view)) => Ok(view),
            _ => Err(StartError::NotAdopted(id.clone())),
        }
    }
}

/// The program's file name, with `-2`, `-3`... when a session has it already.
pub(crate) fn unique_name(program: &str, existing: &[SessionInfo]) -> String {
    let base = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "session".to_owned());
    let taken = |n: &str| existing.iter().any(|s| s.name == n);
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|i| format!("{base}-{i}"))
        .find(|n| !taken(n))
        .unwrap_or(base)
}

fn random_u64() -> Result<u64, StartError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| StartError::Random)?;
    Ok(u64::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> (tempfile::TempDir, RuntimeDir) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = RuntimeDir::open(tmp.path().join("rt")).expect("runtime dir");
        (tmp, dir)
    }

    fn info(id: &str, name: &str) -> SessionInfo {
        let mut info: SessionInfo = serde_json::from_value(serde_json::json!({
            "id": id, "name": name, "command": "sh", "args": [], "cwd": "/", "pid": 1,
            "holder_pid": 1, "started_at": "2026-11-22T00:00:00Z",
            "size": {"cols": 80, "rows": 24}, "state": "running", "clients": 0,
        }))
        .expect("session info");
        info.name = name.to_owned();
        info
    }

    #[test]
    fn names_are_made_unique_and_a_taken_name_is_refused_with_its_owner() {
        let (_tmp, dir) = dir();
        let existing = [info("aaaaaaaa", "sh"), info("bbbbbbbb", "sh-2")];
        let req = StartRequest::new("/bin/sh", vec![], PathBuf::from("/"));
        let spec = prepare(req.clone(), &dir, &existing, Path::new("/p")).expect("spec");
        assert_eq!(spec.name, "sh-3");
        let taken = StartRequest {
            name: Some("sh-2".into()),
            ..req
        };
        let err = prepare(taken, &dir, &existing, Path::new("/p")).expect_err("taken");
        assert!(err.to_string().contains("bbbbbbbb"), "{err}");
        assert!(err.is_bad_request());
    }

    #[test]
    fn bad_requests_say_what_to_change() {
        let (_tmp, dir) = dir();
        let base = StartRequest::new("sh", vec![], PathBuf::from("/"));
        let cases = [
            (
                StartRequest {
                    command: " ".into(),
                    ..base.clone()
                },
                "no command",
            ),
            (
                StartRequest {
                    cwd: "relative/dir".into(),
                    ..base.clone()
                },
                "absolute path",
            ),
            (
                StartRequest {
                    cwd: "/no/such/dir/here".into(),
                    ..base.clone()
                },
                "does not exist",
            ),
            (
                StartRequest {
                    cwd: "/etc/hostname".into(),
                    ..base.clone()
                },
                "not a directory",
            ),
            (
                StartRequest {
                    size: Size { cols: 0, rows: 24 },
                    ..base.clone()
                },
                "out of range",
            ),
            (
                StartRequest {
                    env: vec![("A=B".into(), "c".into())],
                    ..base.clone()
                },
                "environment variable",
            ),
            (
                StartRequest {
                    args: vec!["a\0b".into()],
                    ..base.clone()
                },
                "NUL",
            ),
            (
                StartRequest {
                    name: Some("two\nlines".into()),
                    ..base.clone()
                },
                "control characters",
            ),
        ];
        for (req, says) in cases {
            let err = prepare(req, &dir, &[], Path::new("/p")).expect_err(says);
            assert!(err.to_string().contains(says), "{err} should say {says}");
        }
    }

    #[test]
    fn claude_gets_hooks_in_a_private_settings_file_unless_asked_not_to() {
        let (_tmp, dir) = dir();
        let req = StartRequest::new("claude", vec!["--model".into(), "x".into()], "/".into());
        let spec = prepare(req.clone(), &dir, &[], Path::new("/opt/paddock")).expect("spec");
        assert_eq!(spec.args[0], "--settings");
        let file = dir.settings_path(&spec.id);
        assert_eq!(spec.args[1], file.display().to_string());
        let text = std::fs::read_to_string(&file).expect("settings file");
        assert!(
            text.contains("'/opt/paddock' hook --agent claude"),
            "{text}"
        );
        let plain = StartRequest {
            hooks: false,
            ..req
        };
        let spec = prepare(plain, &dir, &[], Path::new("/opt/paddock")).expect("spec");
        assert_eq!(spec.args, ["--model", "x"]);
    }
}
