//! Test support for the real agent CLIs: where `scripts/install-agents.sh` put them, and
//! sandboxes (a fresh HOME, config and environment) that make them start straight at work,
//! offline, against a [`crate::FakeApi`], with every hook payload and notification recorded.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const VERSIONS: &str = include_str!("../../../scripts/agent-versions.env");

fn version_of(key: &str) -> &'static str {
    VERSIONS
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(str::trim)
        .unwrap_or("unknown")
}

/// The pinned `@anthropic-ai/claude-code` version (`scripts/agent-versions.env`).
pub fn claude_code_version() -> &'static str {
    version_of("CLAUDE_CODE_VERSION")
}

/// The pinned `@openai/codex` version.
pub fn codex_version() -> &'static str {
    version_of("CODEX_VERSION")
}

/// The cache the install script uses: `$PADDOCK_AGENTS_DIR`, else
/// `${XDG_CACHE_HOME:-$HOME/.cache}/paddock/agents`.
pub fn agents_dir() -> PathBuf {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(dir) = nonempty("PADDOCK_AGENTS_DIR") {
        return dir.into();
    }
    let cache = nonempty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| nonempty("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("paddock").join("agents")
}

/// A real agent CLI that is not installed where the tests look.
#[derive(Debug, thiserror::Error)]
#[error(
    "the real {package} {version} is not installed (looked for {path}); run \
     scripts/install-agents.sh once on this machine (about 400 MB from the npm registry), \
     or point {override_var} at the binary"
)]
pub struct MissingAgent {
    pub package: &'static str,
    pub version: &'static str,
    pub path: String,
    pub override_var: &'static str,
}

fn find(
    override_var: &'static str,
    package: &'static str,
    folder: &str,
    version: &'static str,
    bin: &str,
) -> Result<PathBuf, MissingAgent> {
    let path = match std::env::var_os(override_var).filter(|v| !v.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => agents_dir()
            .join(format!("{folder}-{version}"))
            .join("node_modules/.bin")
            .join(bin),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(MissingAgent {
            package,
            version,
            path: path.display().to_string(),
            override_var,
        })
    }
}

/// The real `claude` binary (`$PADDOCK_CLAUDE_BIN` overrides the cache).
pub fn claude_bin() -> Result<PathBuf, MissingAgent> {
    find(
        "PADDOCK_CLAUDE_BIN",
        "@anthropic-ai/claude-code",
        "claude-code",
        claude_code_version(),
        "claude",
    )
}

/// The real `codex` launcher (`$PADDOCK_CODEX_BIN` overrides the cache).
pub fn codex_bin() -> Result<PathBuf, MissingAgent> {
    find(
        "PADDOCK_CODEX_BIN",
        "@openai/codex",
        "codex",
        codex_version(),
        "codex",
    )
}

// --- begin: Gemini CLI (issue 15, item 4) ---
/// The pinned `@google/gemini-cli` version.
pub fn gemini_cli_version() -> &'static str {
    version_of("GEMINI_CLI_VERSION")
}

/// The real `gemini` launcher (a Node script; `$PADDOCK_GEMINI_BIN` overrides the cache).
pub fn gemini_bin() -> Result<PathBuf, MissingAgent> {
    find(
        "PADDOCK_GEMINI_BIN",
        "@google/gemini-cli",
        "gemini-cli",
        gemini_cli_version(),
        "gemini",
    )
}
// --- end: Gemini CLI ---

/// Variables from the developer's own environment that would send an agent elsewhere or
/// change how it behaves; sandboxes remove them.
const FOREIGN_VARS: &[&str] = &[
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "ANTHROPIC_CUSTOM_HEADERS",
    "CLAUDE_CONFIG_DIR",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CODE_ENTRYPOINT",
    "CLAUDE_CODE_SSE_PORT",
    "CLAUDECODE",
    "CODEX_HOME",
    "CODEX_SANDBOX",
    "CODEX_SANDBOX_NETWORK_DISABLED",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "TMUX",
    "TMUX_PANE",
    // A CI runner sets these; Gemini CLI then runs headless (no input box, exit 42 with no
    // prompt) whatever its terminal, and other CLIs quietly change behaviour too.
    "CI",
    "GITHUB_ACTIONS",
];

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

fn write_script(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

/// Writes `text` to `path` atomically (a reader never sees half of it).
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    write(&tmp, text)?;
    std::fs::rename(tmp, path)
}

/// JSON files in `dir` in name order (names start with a nanosecond timestamp).
fn read_json_dir(dir: &Path) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect()
}

/// The Claude Code hook events (2.1.328) that matter for a session's state; the recording settings
/// hook them all.
pub const CLAUDE_HOOK_EVENTS: &[&str] = &[
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "Notification",
    "PostToolUse",
    "PostToolUseFailure",
    "PermissionDenied",
    "TaskCreated",
    "TaskCompleted",
    "SubagentStop",
    "Stop",
    "StopFailure",
    "SessionEnd",
];

/// A fresh HOME and project folder in which the real `claude` starts straight at its prompt,
/// talking to the fake API. Removed when dropped.
///
/// Layout: `home/` (with `.claude.json`), `project/` (the cwd, trusted), `hooks/` (one JSON
/// file per hook payload), `bin/` (the hook scripts).
pub struct ClaudeSandbox {
    dir: tempfile::TempDir,
    api_url: String,
    api_key: String,
    task_tools: bool,
}

impl ClaudeSandbox {
    /// `api_url` is the fake's [`crate::FakeApi::url`].
    pub fn new(api_url: &str) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("pdkc").tempdir_in("/tmp")?;
        let sb = Self {
            dir,
            api_url: api_url.to_owned(),
            api_key: "sk-ant-api03-paddock-fake-key-0123456789abcdefghij".to_owned(),
            task_tools: false,
        };
        for d in ["home", "project", "hooks", "bin", "decisions"] {
            std::fs::create_dir_all(sb.root().join(d))?;
        }
        let project = sb.project();
        let key_tail: String = {
            let chars: Vec<char> = sb.api_key.chars().collect();
            chars[chars.len().saturating_sub(20)..].iter().collect()
        };
        let mut projects = serde_json::Map::new();
        projects.insert(
            project.display().to_string(),
            json!({"hasTrustDialogAccepted": true, "hasCompletedProjectOnboarding": true}),
        );
        let config = json!({
            "hasCompletedOnboarding": true,
            "lastOnboardingVersion": crate::agents::claude_code_version(),
            "customApiKeyResponses": {"approved": [key_tail], "rejected": []},
            "projects": projects,
        });
        write(&sb.home().join(".claude.json"), &config.to_string())?;
        let hooks = sb.root().join("hooks");
        write_script(
            &sb.root().join("bin/record-hook"),
            &format!(
                "#!/bin/sh\n# Keeps the hook payload on stdin as one file (written whole, then renamed).\n\
                 f=\"{hooks}/$(date +%s%N)-$$\"\ncat > \"$f.part\" && mv \"$f.part\" \"$f.json\"\n",
                hooks = hooks.display()
            ),
        )?;
        let decisions = sb.root().join("decisions");
        write_script(
            &sb.root().join("bin/decide-permission"),
            &format!(
                "#!/bin/sh\n# Records the PermissionRequest payload, then waits (up to 10 minutes) for the\n\
                 # test to leave a decision in {d}/next.json, takes it and prints it. Hooks run in\n\
                 # a session of their own, so killing the agent leaves this running: it stops as\n\
                 # soon as the sandbox is gone (the test ended).\n\
                 \"{rec}\"\ni=0\nwhile ! mv \"{d}/next.json\" \"{d}/used-$$.json\" 2>/dev/null; do\n\
                 \x20 [ -d \"{d}\" ] || exit 0\n\
                 \x20 i=$((i+1)); [ $i -gt 12000 ] && exit 0\n  sleep 0.05\ndone\ncat \"{d}/used-$$.json\"\n",
                d = decisions.display(),
                rec = sb.root().join("bin/record-hook").display()
            ),
        )?;
        Ok(sb)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    /// The working directory to start `claude` in (trusted in `.claude.json`).
    pub fn project(&self) -> PathBuf {
        self.root().join("project")
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Where Claude Code writes its transcripts (`~/.claude/projects`).
    pub fn transcripts_dir(&self) -> PathBuf {
        self.home().join(".claude/projects")
    }

    /// Where the interactive CLI keeps its per-process status files.
    pub fn status_dir(&self) -> PathBuf {
        self.home().join(".claude/sessions")
    }

    /// Variables to set for `claude`.
    pub fn env(&self) -> Vec<(String, String)> {
        let home = self.home();
        let at = |p: &str| home.join(p).display().to_string();
        [
            ("HOME", home.display().to_string()),
            ("XDG_CONFIG_HOME", at(".config")),
            ("XDG_CACHE_HOME", at(".cache")),
            ("XDG_DATA_HOME", at(".local/share")),
            ("XDG_STATE_HOME", at(".local/state")),
            ("ANTHROPIC_API_KEY", self.api_key.clone()),
            ("ANTHROPIC_BASE_URL", self.api_url.clone()),
            // Without it the TUI first checks that Anthropic's servers are reachable.
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            ("DISABLE_AUTOUPDATER", "1".into()),
            ("DISABLE_TELEMETRY", "1".into()),
            ("DISABLE_ERROR_REPORTING", "1".into()),
        ]
        .into_iter()
        .chain(self.task_tools.then(|| {
            // 2.1.328 offers its task-list tools (TaskCreate, TaskUpdate, TaskList, TaskGet:
            // deferred, announced for loading with ToolSearch) only to some models; this
            // offers them to every model.
            ("CLAUDE_CODE_ENABLE_TODO_TOOLS", "true".to_owned())
        }))
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Offers Claude Code's task-list tools to the model, so a script can drive a task list.
    /// Off by default: it changes the CLI's timing (see docs/agents-offline.md).
    pub fn with_task_tools(mut self) -> Self {
        self.task_tools = true;
        self
    }

    /// Variables to remove from the inherited environment.
    pub fn unset(&self) -> &'static [&'static str] {
        FOREIGN_VARS
    }

    /// Sets up `cmd` (e.g. a `paddock run` whose holder passes its environment on) to run
    /// `claude` in this sandbox.
    pub fn apply(&self, cmd: &mut Command) {
        for k in self.unset() {
            cmd.env_remove(k);
        }
        cmd.envs(self.env()).current_dir(self.project());
    }

    /// `--settings` JSON hooking every event to a recorder ([`Self::hook_payloads`]); the
    /// PermissionRequest hook then waits for [`Self::allow_next`] / [`Self::deny_next`]
    /// (or gives up after 10 minutes, leaving the prompt to the terminal).
    pub fn recording_settings(&self) -> String {
        let record = self.root().join("bin/record-hook").display().to_string();
        let decide = self
            .root()
            .join("bin/decide-permission")
            .display()
            .to_string();
        let mut hooks = serde_json::Map::new();
        for event in CLAUDE_HOOK_EVENTS {
            let command = if *event == "PermissionRequest" {
                &decide
            } else {
                &record
            };
            hooks.insert(
                (*event).to_owned(),
                json!([{"matcher": "*", "hooks": [{"type": "command", "command": command, "timeout": 600}]}]),
            );
        }
        json!({"hooks": hooks}).to_string()
    }

    /// Every hook payload recorded so far, in the order the hooks ran.
    pub fn hook_payloads(&self) -> Vec<Value> {
        read_json_dir(&self.root().join("hooks"))
    }

    /// The recorded payloads of one event (`"PermissionRequest"`, ...).
    pub fn hooks_of(&self, event: &str) -> Vec<Value> {
        self.hook_payloads()
            .into_iter()
            .filter(|p| p["hook_event_name"] == event)
            .collect()
    }

    fn decide(&self, decision: Value) -> std::io::Result<()> {
        let out = json!({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}});
        write_atomic(&self.root().join("decisions/next.json"), &out.to_string())
    }

    /// The waiting (or next) PermissionRequest hook answers "allow".
    pub fn allow_next(&self) -> std::io::Result<()> {
        self.decide(json!({"behavior": "allow"}))
    }

    /// The waiting (or next) PermissionRequest hook answers "deny" with `message` for the agent.
    pub fn deny_next(&self, message: &str) -> std::io::Result<()> {
        self.decide(json!({"behavior": "deny", "message": message}))
    }

    /// Transcript files (`*.jsonl`) written so far.
    pub fn transcripts(&self) -> Vec<PathBuf> {
        files_under(&self.transcripts_dir(), "jsonl")
    }
}

fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Reads a JSON-lines file, skipping lines that do not parse (e.g. one being written).
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// A fresh `CODEX_HOME` whose `config.toml` points Codex at the fake's Responses API, trusts
/// the project folder and runs a `notify` program that records each JSON it gets.
/// Removed when dropped.
pub struct CodexSandbox {
    dir: tempfile::TempDir,
}

/// The environment variable the sandbox's provider reads its key from.
const CODEX_KEY_VAR: &str = "PADDOCK_FAKE_OPENAI_KEY";

impl CodexSandbox {
    /// `api_url` is the fake's [`crate::FakeApi::url`].
    pub fn new(api_url: &str) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("pdkx").tempdir_in("/tmp")?;
        let sb = Self { dir };
        for d in ["home", "codex", "project", "notify", "bin"] {
            std::fs::create_dir_all(sb.root().join(d))?;
        }
        let notify = sb.root().join("bin/notify");
        write_script(
            &notify,
            &format!(
                "#!/bin/sh\n# Codex calls this at the end of each turn with a JSON argument (the last one).\n\
                 for last; do :; done\nf=\"{d}/$(date +%s%N)-$$\"\nprintf '%s' \"$last\" > \"$f.part\" && mv \"$f.part\" \"$f.json\"\n",
                d = sb.root().join("notify").display()
            ),
        )?;
        let toml_str = |s: &str| Value::String(s.to_owned()).to_string();
        let config = format!(
            "# Written by paddock-fakeapi's CodexSandbox: offline, against a local fake.\n\
             model = \"gpt-fake\"\n\
             model_provider = \"fake\"\n\
             approval_policy = \"never\"\n\
             sandbox_mode = \"danger-full-access\"\n\
             check_for_update_on_startup = false\n\
             notify = [{notify}]\n\
             \n[model_providers.fake]\n\
             name = \"fake\"\n\
             base_url = {url}\n\
             env_key = \"{CODEX_KEY_VAR}\"\n\
             wire_api = \"responses\"\n\
             request_max_retries = 0\n\
             stream_max_retries = 0\n\
             \n[projects.{project}]\n\
             trust_level = \"trusted\"\n\
             \n# The interactive TUI would otherwise start a shared app-server daemon (its own\n\
             # session, outliving the test) and run turns there; keep everything in-process.\n\
             [features]\n\
             daemon_auto_start = false\n",
            notify = toml_str(&notify.display().to_string()),
            url = toml_str(&format!("{api_url}/v1")),
            project = toml_str(&sb.project().display().to_string()),
        );
        write(&sb.codex_home().join("config.toml"), &config)?;
        Ok(sb)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    /// `CODEX_HOME` (config, sessions, state).
    pub fn codex_home(&self) -> PathBuf {
        self.root().join("codex")
    }

    /// The working directory to start `codex` in (trusted).
    pub fn project(&self) -> PathBuf {
        self.root().join("project")
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let home = self.home();
        let at = |p: &str| home.join(p).display().to_string();
        [
            ("HOME", home.display().to_string()),
            ("XDG_CONFIG_HOME", at(".config")),
            ("XDG_CACHE_HOME", at(".cache")),
            ("XDG_DATA_HOME", at(".local/share")),
            ("XDG_STATE_HOME", at(".local/state")),
            ("CODEX_HOME", self.codex_home().display().to_string()),
            (CODEX_KEY_VAR, "fake-openai-key".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    pub fn unset(&self) -> &'static [&'static str] {
        FOREIGN_VARS
    }

    /// Sets up `cmd` to run `codex` in this sandbox.
    pub fn apply(&self, cmd: &mut Command) {
        for k in self.unset() {
            cmd.env_remove(k);
        }
        cmd.envs(self.env()).current_dir(self.project());
    }

    /// Rollout files (`sessions/YYYY/MM/DD/rollout-*.jsonl`) written so far.
    pub fn rollouts(&self) -> Vec<PathBuf> {
        files_under(&self.codex_home().join("sessions"), "jsonl")
    }

    /// The JSON each `notify` call received, in order.
    pub fn notifications(&self) -> Vec<Value> {
        read_json_dir(&self.root().join("notify"))
    }
}

// --- begin: Gemini CLI (issue 15, item 4) ---
/// Variables that would send Gemini CLI elsewhere (another key, Vertex AI, a login, another
/// home); the sandbox removes them.
const GEMINI_FOREIGN_VARS: &[&str] = &[
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_USE_GCA",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_VERTEX_BASE_URL",
    "GEMINI_CLI_HOME",
    "GEMINI_MODEL",
    "GEMINI_SANDBOX",
    "GEMINI_CLI_SYSTEM_SETTINGS_PATH",
    "GEMINI_CLI_SYSTEM_DEFAULTS_PATH",
    "CLOUD_SHELL",
];

/// The Gemini CLI (0.61.0) hook events that matter for a session's state; the sandbox hooks
/// them all.
pub const GEMINI_HOOK_EVENTS: &[&str] = &[
    "SessionStart",
    "BeforeAgent",
    "BeforeTool",
    "AfterTool",
    "AfterAgent",
    "Notification",
    "SessionEnd",
];

/// A fresh HOME and project folder in which the real `gemini` starts straight at its prompt,
/// offline, talking to the fake's Gemini API (`GOOGLE_GEMINI_BASE_URL`, an API key), with
/// its settings turning off what would reach the network (telemetry, usage statistics,
/// update checks, the IDE companion) and the first-run questions (auth type chosen, folder
/// trust off), and every hook payload recorded. Removed when dropped.
///
/// Layout: `home/.gemini/settings.json`, `project/` (the cwd), `hooks/` (one JSON file per
/// hook payload), `bin/` (the recorder).
pub struct GeminiSandbox {
    dir: tempfile::TempDir,
    api_url: String,
}

impl GeminiSandbox {
    /// `api_url` is the fake's [`crate::FakeApi::url`].
    pub fn new(api_url: &str) -> std::io::Result<Self> {
        Self::with_hook(api_url, None)
    }

    /// Like [`GeminiSandbox::new`], and each hook event also goes to `command` (e.g.
    /// `paddock hook --agent gemini`, as an owner's settings would have it).
    pub fn with_hook(api_url: &str, command: Option<&str>) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("pdkg").tempdir_in("/tmp")?;
        let sb = Self {
            dir,
            api_url: api_url.to_owned(),
        };
        for d in ["home/.gemini", "project", "hooks", "bin"] {
            std::fs::create_dir_all(sb.root().join(d))?;
        }
        let recorder = sb.root().join("bin/record-hook");
        write_script(
            &recorder,
            &format!(
                "#!/bin/sh\n# Gemini CLI runs this for each hook event, the payload on stdin.\n\
                 f=\"{d}/$(date +%s%N)-$$\"\ncat > \"$f.part\" && mv \"$f.part\" \"$f.json\"\n",
                d = sb.root().join("hooks").display()
            ),
        )?;
        let recorder = recorder.display().to_string();
        let hooks: serde_json::Map<String, Value> = GEMINI_HOOK_EVENTS
            .iter()
            .map(|e| {
                let mut list =
                    vec![json!({"type": "command", "command": recorder, "timeout": 10_000})];
                if let Some(c) = command {
                    list.push(json!({"type": "command", "command": c, "timeout": 10_000}));
                }
                ((*e).to_owned(), json!([{"hooks": list}]))
            })
            .collect();
        let settings = json!({
            "security": {
                "auth": {"selectedType": "gemini-api-key"},
                "folderTrust": {"enabled": false},
            },
            "general": {"disableAutoUpdate": true, "disableUpdateNag": true},
            "privacy": {"usageStatisticsEnabled": false},
            "telemetry": {"enabled": false},
            "ide": {"enabled": false},
            "hooks": hooks,
        });
        write(
            &sb.home().join(".gemini/settings.json"),
            &serde_json::to_string_pretty(&settings).unwrap_or_default(),
        )?;
        Ok(sb)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    /// The working directory to start `gemini` in.
    pub fn project(&self) -> PathBuf {
        self.root().join("project")
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let home = self.home();
        let at = |p: &str| home.join(p).display().to_string();
        [
            ("HOME", home.display().to_string()),
            ("XDG_CONFIG_HOME", at(".config")),
            ("XDG_CACHE_HOME", at(".cache")),
            ("XDG_DATA_HOME", at(".local/share")),
            ("XDG_STATE_HOME", at(".local/state")),
            ("GEMINI_API_KEY", "fake-gemini-key".into()),
            ("GOOGLE_GEMINI_BASE_URL", self.api_url.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// The variables to remove from the environment `gemini` inherits (a CI runner's, or
    /// ones that send it elsewhere).
    pub fn unset(&self) -> Vec<&'static str> {
        FOREIGN_VARS
            .iter()
            .chain(GEMINI_FOREIGN_VARS)
            .copied()
            .collect()
    }

    /// Sets up `cmd` to run `gemini` in this sandbox.
    pub fn apply(&self, cmd: &mut Command) {
        for k in self.unset() {
            cmd.env_remove(k);
        }
        cmd.envs(self.env()).current_dir(self.project());
    }

    /// Every hook payload so far, in order.
    pub fn hook_payloads(&self) -> Vec<Value> {
        read_json_dir(&self.root().join("hooks"))
    }

    /// The payloads of one hook event.
    pub fn hooks_of(&self, event: &str) -> Vec<Value> {
        self.hook_payloads()
            .into_iter()
            .filter(|p| p["hook_event_name"] == event)
            .collect()
    }
}
// --- end: Gemini CLI ---

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_the_pinned_file() {
        assert!(
            claude_code_version().starts_with("2."),
            "{}",
            claude_code_version()
        );
        assert!(codex_version().starts_with("0."), "{}", codex_version());
    }

    #[test]
    fn a_missing_agent_names_the_install_script() {
        let err = find(
            "PADDOCK_TEST_NO_SUCH_VAR",
            "@x/y",
            "nowhere-folder",
            "1.0.0",
            "y",
        )
        .expect_err("nothing is installed there");
        let msg = err.to_string();
        assert!(msg.contains("scripts/install-agents.sh"), "{msg}");
        assert!(msg.contains("@x/y 1.0.0"), "{msg}");
    }

    #[test]
    fn claude_sandbox_approves_the_key_and_trusts_the_project() {
        let sb = ClaudeSandbox::new("http://127.0.0.1:1").expect("sandbox");
        let cfg: Value =
            serde_json::from_slice(&std::fs::read(sb.home().join(".claude.json")).expect("config"))
                .expect("json");
        assert_eq!(cfg["hasCompletedOnboarding"], true);
        let tail = &sb.api_key()[sb.api_key().len() - 20..];
        assert_eq!(cfg["customApiKeyResponses"]["approved"][0], tail);
        let project = sb.project().display().to_string();
        assert_eq!(cfg["projects"][&project]["hasTrustDialogAccepted"], true);
        let settings: Value = serde_json::from_str(&sb.recording_settings()).expect("settings");
        for e in CLAUDE_HOOK_EVENTS {
            assert!(settings["hooks"][e].is_array(), "{e} not hooked");
        }
    }

    #[test]
    fn the_recording_hook_keeps_each_payload_and_the_decision_hook_prints_the_decision() {
        let sb = ClaudeSandbox::new("http://127.0.0.1:1").expect("sandbox");
        let run = |script: &str, input: &str| {
            use std::io::Write;
            let mut child = Command::new(sb.root().join("bin").join(script))
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("hook script");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write");
            child.wait_with_output().expect("wait")
        };
        run("record-hook", r#"{"hook_event_name":"Stop"}"#);
        sb.deny_next("not today").expect("decision");
        let out = run(
            "decide-permission",
            r#"{"hook_event_name":"PermissionRequest"}"#,
        );
        let printed: Value = serde_json::from_slice(&out.stdout).expect("decision json");
        assert_eq!(
            printed["hookSpecificOutput"]["decision"]["behavior"],
            "deny"
        );
        assert_eq!(
            printed["hookSpecificOutput"]["decision"]["message"],
            "not today"
        );
        let events: Vec<Value> = sb
            .hook_payloads()
            .iter()
            .map(|p| p["hook_event_name"].clone())
            .collect();
        assert_eq!(events, vec![json!("Stop"), json!("PermissionRequest")]);
    }

    #[test]
    fn a_waiting_permission_hook_ends_when_the_sandbox_is_dropped() {
        let sb = ClaudeSandbox::new("http://127.0.0.1:1").expect("sandbox");
        let mut child = Command::new(sb.root().join("bin/decide-permission"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("hook script");
        // It waits for a decision that never comes...
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(child.try_wait().expect("wait").is_none(), "it did not wait");
        // ...until the test's sandbox goes away.
        drop(sb);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the hook outlived its sandbox"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert!(status.success());
        let out = child.wait_with_output().expect("output");
        assert!(
            out.stdout.is_empty(),
            "it printed a decision: {:?}",
            out.stdout
        );
    }
}
