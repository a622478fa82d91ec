//! `paddock doctor`'s checks, written once: the CLI (`paddock doctor`), `GET
//! /api/v1/system/doctor` and the UI's Settings page all call [`run`] with the [`Inputs`]
//! they can see, and show the [`DoctorReport`] it returns.
//!
//! Each check says ✓ (fine), ! (works, worth a look) or ✗ (broken), what it found and what to
//! do next. A check never prints a secret: authentication is reported by where it comes from
//! (a variable's name, a file's path), never by its value.

use crate::nested;
use paddock_proto::doctor::{CheckStatus, DoctorCheck, DoctorReport};
use paddock_proto::supervisor::{HealthStatus, SupervisorStatus};
use paddock_proto::{Hello, Mode, Request, Response};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// The agent CLI versions Paddock's tests run (`scripts/agent-versions.env`).
const TESTED: &str = include_str!("../../../scripts/agent-versions.env");
/// How long an agent's `--version` or `tmux -V` may take.
const PROGRAM_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the hook round trip and the endpoint's connection may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Free space below which the data directory is a problem, and below which it is worth a look.
const DISK_FAIL: u64 = 100 << 20;
const DISK_WARN: u64 = 1 << 30;
/// Descriptors the supervisor needs beyond its sessions, and per session it serves.
const FDS_BASE: u64 = 64;
const FDS_PER_SESSION: u64 = 8;
/// Sessions the open-file limit should leave room for at least.
const SESSIONS_PLANNED: u64 = 100;

/// What the caller can see; each adapter fills it in its own way.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The environment a session started now inherits (the shell's for the CLI, the
    /// supervisor's for REST): checked for the variables that break a nested agent.
    pub env: Vec<(String, String)>,
    /// The owner's login-shell environment when it was read (see `crate::login_env`);
    /// agents are looked up on its `PATH` and its API keys count.
    pub login_env: Option<Vec<(String, String)>>,
    /// Why the login-shell environment could not be read, when it could not.
    pub login_env_error: Option<String>,
    pub runtime_dir: PathBuf,
    pub data_dir: PathBuf,
    /// The supervisor's own status, `None` when it does not run.
    pub supervisor: Option<SupervisorStatus>,
    /// The supervisor keeps the variables of a parent Claude Code (`agents.keep_nested_env`).
    pub keep_nested_env: bool,
}

/// Runs every check (blocking: call it off the async runtime, or from a plain thread).
pub fn run(inputs: &Inputs) -> DoctorReport {
    let mut checks = Vec::new();
    let lookup_env = inputs.login_env.as_deref().unwrap_or(&inputs.env);
    checks.push(login_env_check(inputs));
    for agent in AGENTS {
        checks.extend(agent_checks(agent, lookup_env, &inputs.env));
    }
    checks.push(nested_check(&inputs.env, inputs.keep_nested_env));
    checks.push(tmux_check(lookup_env));
    checks.push(runtime_dir_check(&inputs.runtime_dir));
    checks.push(supervisor_check(
        inputs.supervisor.as_ref(),
        &inputs.runtime_dir,
    ));
    checks.push(hooks_check(
        inputs.supervisor.is_some(),
        &inputs.runtime_dir,
    ));
    checks.push(endpoint_check(inputs.supervisor.as_ref(), &inputs.data_dir));
    checks.push(disk_check(&inputs.data_dir));
    checks.push(open_files_check(inputs.supervisor.as_ref()));
    DoctorReport::new(checks)
}

impl crate::supervisor::Handle {
    /// The checks as the supervisor sees them: its own environment (the one the sessions it
    /// starts inherit), its status, directories and configuration.
    /// With `agents.login_env` on, the owner's login-shell environment is read again first.
    pub async fn doctor(&self) -> DoctorReport {
        let handle = self.clone();
        let login = if self.config().agents.login_env {
            tokio::task::spawn_blocking(move || handle.login_env().refresh())
                .await
                .ok()
        } else {
            None
        };
        let (login_env, login_env_error) = match login {
            Some(Ok(vars)) => (Some(vars.as_ref().clone()), None),
            Some(Err(e)) => (None, Some(e.to_string())),
            None => (None, None),
        };
        let inputs = Inputs {
            env: std::env::vars().collect(),
            login_env,
            login_env_error,
            runtime_dir: self.runtime_dir().path().to_owned(),
            data_dir: self.config().data_dir(),
            supervisor: Some(self.status()),
            keep_nested_env: self.config().agents.keep_nested_env,
        };
        tokio::task::spawn_blocking(move || run(&inputs))
            .await
            .unwrap_or_else(|_| {
                DoctorReport::new(vec![check(
                    "doctor",
                    "Doctor",
                    CheckStatus::Fail,
                    "the checks stopped inside the supervisor; see its log",
                )])
            })
    }
}

fn check(id: &str, title: &str, status: CheckStatus, detail: impl Into<String>) -> DoctorCheck {
    DoctorCheck {
        id: id.to_owned(),
        title: title.to_owned(),
        status,
        detail: detail.into(),
        fix: None,
    }
}

trait WithFix {
    fn fix(self, fix: impl Into<String>) -> Self;
}

impl WithFix for DoctorCheck {
    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

fn var<'a>(env: &'a [(String, String)], key: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn login_env_check(inputs: &Inputs) -> DoctorCheck {
    const TITLE: &str = "Owner's login-shell environment";
    match (&inputs.login_env, &inputs.login_env_error) {
        (Some(env), _) => check(
            "env.login",
            TITLE,
            CheckStatus::Ok,
            format!(
                "{} variables read from the login shell; sessions the supervisor starts get them (their own variables win)",
                env.len()
            ),
        ),
        (None, Some(e)) => check("env.login", TITLE, CheckStatus::Warn, e.clone()).fix(
            "make `$SHELL -l -i -c env` work without questions (a prompt or a slow rc file stops it); agents then get this process's environment instead",
        ),
        (None, None) => check(
            "env.login",
            TITLE,
            CheckStatus::Ok,
            "not read: this environment is the one agents get",
        ),
    }
}

/// An agent CLI Paddock knows.
struct Agent {
    id: &'static str,
    title: &'static str,
    program: &'static str,
    tested_key: &'static str,
    install: &'static str,
}

const AGENTS: &[Agent] = &[
    Agent {
        id: "claude",
        title: "Claude Code CLI",
        program: "claude",
        tested_key: "CLAUDE_CODE_VERSION",
        install: "npm install -g @anthropic-ai/claude-code",
    },
    Agent {
        id: "codex",
        title: "Codex CLI",
        program: "codex",
        tested_key: "CODEX_VERSION",
        install: "npm install -g @openai/codex",
    },
    // --- begin: Gemini CLI (issue 15, item 4) ---
    Agent {
        id: "gemini",
        title: "Gemini CLI",
        program: "gemini",
        tested_key: "GEMINI_CLI_VERSION",
        install: "npm install -g @google/gemini-cli (needs Node.js 20 or newer)",
    },
    // --- end: Gemini CLI ---
];

/// The version of `key` in `scripts/agent-versions.env`.
pub fn tested_version(key: &str) -> Option<&'static str> {
    TESTED
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(str::trim)
}

/// `program` on `path` (a `PATH` value), as the login shell would find it.
pub fn which(program: &str, path: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .map(|d| d.join(program))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The first `x.y.z` in `text`.
fn version_in(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
        .map(|w| w.trim_start_matches('v'))
        .find(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() >= 2
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        })
        .map(str::to_owned)
}

fn agent_checks(
    agent: &Agent,
    lookup: &[(String, String)],
    own: &[(String, String)],
) -> Vec<DoctorCheck> {
    let tested = tested_version(agent.tested_key).unwrap_or("unknown");
    let id = format!("agent.{}", agent.id);
    let path = var(lookup, "PATH").unwrap_or("/usr/local/bin:/usr/bin:/bin");
    let Some(exe) = which(agent.program, path) else {
        return vec![check(
            &id,
            agent.title,
            CheckStatus::Warn,
            format!(
                "`{}` is not on the owner's PATH; tested with {tested}",
                agent.program
            ),
        )
        .fix(format!(
            "install it ({}) if you want to run it, or ignore this",
            agent.install
        ))];
    };
    // Run it as a session would: without the variables that break a nested agent.
    let mut cmd = Command::new(&exe);
    cmd.arg("--version").env_clear();
    for (k, v) in lookup.iter().chain(own) {
        if !nested::is_nested(k) {
            cmd.env(k, v);
        }
    }
    let version = match output_within(cmd, PROGRAM_TIMEOUT) {
        Ok(out) => version_in(&out),
        Err(e) => {
            return vec![check(
                &id,
                agent.title,
                CheckStatus::Fail,
                format!("{} did not answer `--version`: {e}", exe.display()),
            )
            .fix(format!("reinstall it ({})", agent.install))]
        }
    };
    let first = match version.as_deref() {
        Some(v) if v == tested => check(
            &id,
            agent.title,
            CheckStatus::Ok,
            format!("{v} at {}; tested with {tested}", exe.display()),
        ),
        Some(v) => check(
            &id,
            agent.title,
            CheckStatus::Warn,
            format!("{v} at {}; Paddock was tested with {tested}", exe.display()),
        )
        .fix("it probably works; if its state looks wrong in Paddock, install the tested version"),
        None => check(
            &id,
            agent.title,
            CheckStatus::Warn,
            format!("{} printed no version; tested with {tested}", exe.display()),
        ),
    };
    vec![first, auth_check(agent, lookup, own)]
}

fn auth_check(agent: &Agent, lookup: &[(String, String)], own: &[(String, String)]) -> DoctorCheck {
    let id = format!("auth.{}", agent.id);
    let title = format!("{} authentication", agent.title);
    let both = |k: &str| var(own, k).or_else(|| var(lookup, k)).is_some();
    let home = var(lookup, "HOME")
        .or_else(|| var(own, "HOME"))
        .map(PathBuf::from);
    let (vars, files): (&[&str], Vec<PathBuf>) = match agent.id {
        "claude" => (
            &[
                "ANTHROPIC_API_KEY",
                "ANTHROPIC_AUTH_TOKEN",
                "CLAUDE_CODE_OAUTH_TOKEN",
            ],
            home.iter()
                .map(|h| {
                    var(lookup, "CLAUDE_CONFIG_DIR")
                        .map(PathBuf::from)
                        .unwrap_or_else(|| h.join(".claude"))
                        .join(".credentials.json")
                })
                .collect(),
        ),
        // --- begin: Gemini CLI (issue 15, item 4) ---
        // An API key (Gemini API or Vertex AI), or the "Login with Google" credentials it
        // caches in `$GEMINI_CLI_HOME/.gemini` (else `~/.gemini`).
        "gemini" => (
            &[
                "GEMINI_API_KEY",
                "GOOGLE_API_KEY",
                "GOOGLE_APPLICATION_CREDENTIALS",
            ],
            var(lookup, "GEMINI_CLI_HOME")
                .map(PathBuf::from)
                .or_else(|| home.clone())
                .iter()
                .map(|h| h.join(".gemini").join("oauth_creds.json"))
                .collect(),
        ),
        // --- end: Gemini CLI ---
        _ => (
            &["OPENAI_API_KEY", "CODEX_API_KEY"],
            home.iter()
                .map(|h| {
                    var(lookup, "CODEX_HOME")
                        .map(PathBuf::from)
                        .unwrap_or_else(|| h.join(".codex"))
                        .join("auth.json")
                })
                .collect(),
        ),
    };
    if let Some(v) = vars.iter().find(|v| both(v)) {
        return check(
            &id,
            &title,
            CheckStatus::Ok,
            format!("{v} is set (value not shown)"),
        );
    }
    if let Some(f) = files.iter().find(|f| f.is_file()) {
        return check(
            &id,
            &title,
            CheckStatus::Ok,
            format!("credentials in {}", f.display()),
        );
    }
    if agent.id == "claude" && cfg!(target_os = "macos") && claude_keychain_entry() {
        return check(
            &id,
            &title,
            CheckStatus::Ok,
            "credentials in the login keychain (Claude Code-credentials)",
        );
    }
    check(
        &id,
        &title,
        CheckStatus::Warn,
        format!(
            "no {} variable and no {}",
            vars.join(" / "),
            files
                .first()
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| "credentials file".into())
        ),
    )
    .fix(format!(
        "run `{}` once in a terminal and log in, or set {} in your shell's profile",
        agent.program, vars[0]
    ))
}

/// Whether the macOS keychain holds Claude Code's login (the entry's presence only).
fn claude_keychain_entry() -> bool {
    let mut cmd = Command::new("security");
    cmd.args(["find-generic-password", "-s", "Claude Code-credentials"]);
    output_within(cmd, PROGRAM_TIMEOUT).is_ok()
}

fn nested_check(env: &[(String, String)], keep: bool) -> DoctorCheck {
    const TITLE: &str = "Variables inherited from a parent Claude Code";
    let found = nested::found(env.iter().map(|(k, _)| k));
    if found.is_empty() {
        return check(
            "env.nested",
            TITLE,
            CheckStatus::Ok,
            "none in this environment",
        );
    }
    let detail = format!(
        "set here, left by a parent Claude Code: {}",
        found
            .iter()
            .map(|n| format!("{n} ({})", nested::why(n)))
            .collect::<Vec<_>>()
            .join("; ")
    );
    if keep {
        check("env.nested", TITLE, CheckStatus::Fail, detail).fix(format!(
            "agents.keep_nested_env is on, so sessions get them and fail: turn it off, or `unset {}` before `paddock up`",
            found.join(" ")
        ))
    } else {
        check("env.nested", TITLE, CheckStatus::Warn, detail).fix(format!(
            "Paddock leaves them out of the sessions it starts; before a `claude` you start by hand, `unset {}`",
            found.join(" ")
        ))
    }
}

fn tmux_check(lookup: &[(String, String)]) -> DoctorCheck {
    let path = var(lookup, "PATH").unwrap_or("/usr/local/bin:/usr/bin:/bin");
    let Some(exe) = which("tmux", path) else {
        return check("tmux", "tmux", CheckStatus::Warn, "tmux is not on the PATH")
            .fix("install tmux to have agents you run in tmux found, attached and answered");
    };
    let mut cmd = Command::new(&exe);
    cmd.arg("-V");
    match output_within(cmd, PROGRAM_TIMEOUT) {
        Ok(out) => check(
            "tmux",
            "tmux",
            CheckStatus::Ok,
            format!("{} at {}", out.trim(), exe.display()),
        ),
        Err(e) => check(
            "tmux",
            "tmux",
            CheckStatus::Warn,
            format!("{} -V failed: {e}", exe.display()),
        )
        .fix("reinstall tmux"),
    }
}

fn runtime_dir_check(dir: &Path) -> DoctorCheck {
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

fn supervisor_check(status: Option<&SupervisorStatus>, runtime: &Path) -> DoctorCheck {
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

fn hooks_check(running: bool, runtime: &Path) -> DoctorCheck {
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
fn hook_round_trip(runtime: &Path) -> Result<(), String> {
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

fn endpoint_check(status: Option<&SupervisorStatus>, data: &Path) -> DoctorCheck {
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

fn disk_check(data: &Path) -> DoctorCheck {
    const TITLE: &str = "Free disk for the data directory";
    let existing = data.ancestors().find(|p| p.exists()).unwrap_or(data);
    match nix::sys::statvfs::statvfs(existing) {
        Ok(st) => {
            // Both are narrower than u64 on some systems (macOS).
            #[allow(clippy::unnecessary_cast)]
            let free = st.blocks_available() as u64 * st.fragment_size() as u64;
            let detail = format!("{} free at {}", human_bytes(free), data.display());
            if free < DISK_FAIL {
                check("disk", TITLE, CheckStatus::Fail, detail)
                    .fix("free some space: history and recordings stop being written")
            } else if free < DISK_WARN {
                check("disk", TITLE, CheckStatus::Warn, detail)
                    .fix("free some space, or lower `retention_days`")
            } else {
                check("disk", TITLE, CheckStatus::Ok, detail)
            }
        }
        Err(e) => check(
            "disk",
            TITLE,
            CheckStatus::Warn,
            format!("cannot read the free space of {}: {e}", existing.display()),
        ),
    }
}

fn human_bytes(n: u64) -> String {
    const G: f64 = (1u64 << 30) as f64;
    const M: f64 = (1u64 << 20) as f64;
    if n as f64 >= G {
        format!("{:.1} GiB", n as f64 / G)
    } else {
        format!("{:.0} MiB", n as f64 / M)
    }
}

fn open_files_check(status: Option<&SupervisorStatus>) -> DoctorCheck {
    const TITLE: &str = "Open-file limit";
    let sessions = status.map(|s| s.sessions as u64).unwrap_or(0);
    let want = FDS_BASE + FDS_PER_SESSION * sessions.max(SESSIONS_PLANNED);
    match nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            let detail = format!(
                "{soft} (hard {hard}); {want} leaves room for {} sessions",
                sessions.max(SESSIONS_PLANNED)
            );
            if soft >= want {
                check("open_files", TITLE, CheckStatus::Ok, detail)
            } else {
                check("open_files", TITLE, CheckStatus::Warn, detail).fix(format!(
                    "raise it before `paddock up`: `ulimit -n {}`",
                    want.min(hard)
                ))
            }
        }
        Err(e) => check(
            "open_files",
            TITLE,
            CheckStatus::Warn,
            format!("cannot read the limit: {e}"),
        ),
    }
}

/// Runs `cmd` and returns its standard output (and error) once it exits successfully within
/// `timeout`; it is killed after that.
pub fn output_within(mut cmd: Command, timeout: Duration) -> Result<String, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {timeout:?}"));
            }
            Err(e) => return Err(e.to_string()),
        }
    };
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if status.success() {
        Ok(text)
    } else {
        Err(format!("it exited with {status}: {}", text.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_found_in_what_agents_print() {
        assert_eq!(
            version_in("2.1.328 (Claude Code)").as_deref(),
            Some("2.1.328")
        );
        assert_eq!(version_in("codex-cli 0.169.0").as_deref(), Some("0.169.0"));
        assert_eq!(version_in("tmux 3.4").as_deref(), Some("3.4"));
        assert_eq!(version_in("no version here"), None);
        assert!(tested_version("CLAUDE_CODE_VERSION").is_some());
        assert_eq!(
            version_in("0.61.0").as_deref(),
            tested_version("GEMINI_CLI_VERSION"),
            "gemini --version prints the bare version"
        );
    }

    #[test]
    fn a_world_readable_runtime_dir_is_broken_and_says_how_to_fix_it() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("rt");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let c = runtime_dir_check(&dir);
        assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
        assert!(
            c.fix.as_deref().is_some_and(|f| f.contains("chmod 700")),
            "{c:?}"
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        assert_eq!(runtime_dir_check(&dir).status, CheckStatus::Ok);
    }

    #[test]
    fn authentication_is_named_by_its_source_never_its_value() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path().display().to_string();
        let secret = "sk-ant-very-secret-value";
        let env = vec![
            ("HOME".to_owned(), home.clone()),
            ("ANTHROPIC_API_KEY".to_owned(), secret.to_owned()),
        ];
        let c = auth_check(&AGENTS[0], &env, &[]);
        assert_eq!(c.status, CheckStatus::Ok);
        assert!(
            c.detail.contains("ANTHROPIC_API_KEY") && !c.detail.contains(secret),
            "{c:?}"
        );
        let bare = vec![("HOME".to_owned(), home)];
        let c = auth_check(&AGENTS[0], &bare, &[]);
        assert_eq!(c.status, CheckStatus::Warn, "{c:?}");
        assert!(c.fix.is_some());
    }
}
