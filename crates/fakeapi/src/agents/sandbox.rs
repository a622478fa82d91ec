//! What every agent sandbox shares: its folder and the accessors on it ([`Sandbox`], which
//! each agent's sandbox derefs to), the inherited variables it removes, the files it writes
//! (scripts, atomically replaced files) and reads back (recorded JSON payloads, transcripts).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// An agent sandbox's folder, removed when dropped, and what every agent's sandbox reads the
/// same way: `home/` (the agent's HOME), `project/` (its working directory) and `hooks/`
/// (one JSON file per hook payload, for the agents that have hooks).
pub struct Sandbox {
    dir: tempfile::TempDir,
    api_url: String,
}

impl Sandbox {
    /// A fresh folder in `/tmp` (short paths: sockets live there) named `prefix…`, holding
    /// `dirs`, for an agent talking to the fake at `api_url`.
    pub(super) fn create(prefix: &str, api_url: &str, dirs: &[&str]) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix(prefix).tempdir_in("/tmp")?;
        let sb = Self {
            dir,
            api_url: api_url.to_owned(),
        };
        for d in dirs {
            std::fs::create_dir_all(sb.root().join(d))?;
        }
        Ok(sb)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The agent's HOME.
    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    /// The working directory to start the agent in (trusted by its settings).
    pub fn project(&self) -> PathBuf {
        self.root().join("project")
    }

    /// The fake's [`crate::FakeApi::url`] the agent talks to.
    pub(super) fn api_url(&self) -> &str {
        &self.api_url
    }

    /// Every hook payload recorded so far, in the order the hooks ran.
    pub fn hook_payloads(&self) -> Vec<Value> {
        read_json_dir(&self.root().join("hooks"))
    }

    /// The recorded payloads of one hook event (`"PermissionRequest"`, ...).
    pub fn hooks_of(&self, event: &str) -> Vec<Value> {
        of_event(self.hook_payloads(), event)
    }
}

/// Variables from the developer's own environment that would send an agent elsewhere or
/// change how it behaves; sandboxes remove them.
pub(super) const FOREIGN_VARS: &[&str] = &[
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

pub(super) fn write(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

pub(super) fn write_script(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

/// Writes `text` to `path` atomically (a reader never sees half of it).
pub(super) fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    write(&tmp, text)?;
    std::fs::rename(tmp, path)
}

/// JSON files in `dir` in name order (names start with a nanosecond timestamp).
pub(super) fn read_json_dir(dir: &Path) -> Vec<Value> {
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

pub(super) fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
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

/// The environment of an agent whose home is `home` (its XDG folders inside it), then `extra`.
pub(super) fn home_env<'a>(
    home: &Path,
    extra: impl IntoIterator<Item = (&'a str, String)>,
) -> Vec<(String, String)> {
    let at = |p: &str| home.join(p).display().to_string();
    [
        ("HOME", home.display().to_string()),
        ("XDG_CONFIG_HOME", at(".config")),
        ("XDG_CACHE_HOME", at(".cache")),
        ("XDG_DATA_HOME", at(".local/share")),
        ("XDG_STATE_HOME", at(".local/state")),
    ]
    .into_iter()
    .chain(extra)
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Sets up `cmd` to run an agent in a sandbox: `unset` removed from what it inherits, `env`
/// set, `project` its working directory.
pub(super) fn apply_env(
    cmd: &mut Command,
    unset: &[&str],
    env: Vec<(String, String)>,
    project: &Path,
) {
    for k in unset {
        cmd.env_remove(k);
    }
    cmd.envs(env).current_dir(project);
}

/// The recorded payloads of one hook event (`"PermissionRequest"`, ...), in order.
fn of_event(payloads: Vec<Value>, event: &str) -> Vec<Value> {
    payloads
        .into_iter()
        .filter(|p| p["hook_event_name"] == event)
        .collect()
}

/// A hook script that keeps the payload on its stdin as one JSON file in `dir`, written
/// whole, then renamed (so [`read_json_dir`] never reads half of one).
pub(super) fn record_stdin_script(dir: &Path) -> String {
    format!(
        "#!/bin/sh\n# Keeps the hook payload on stdin as one file (written whole, then renamed).\n\
         f=\"{d}/$(date +%s%N)-$$\"\ncat > \"$f.part\" && mv \"$f.part\" \"$f.json\"\n",
        d = dir.display()
    )
}
