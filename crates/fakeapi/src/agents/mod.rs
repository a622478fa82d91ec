//! Test support for the real agent CLIs: where `scripts/install-agents.sh` put them, and
//! sandboxes (a fresh HOME, config and environment) that make them start straight at work,
//! offline, against a [`crate::FakeApi`], with every hook payload and notification recorded.

use std::path::PathBuf;

const VERSIONS: &str = include_str!("../../../../scripts/agent-versions.env");

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

mod claude;
mod codex;
mod gemini;
mod sandbox;

pub use claude::{ClaudeSandbox, CLAUDE_HOOK_EVENTS};
pub use codex::CodexSandbox;
pub use gemini::{GeminiSandbox, GEMINI_HOOK_EVENTS};
pub use sandbox::{read_jsonl, Sandbox};

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
}
