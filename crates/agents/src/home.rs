//! Where an agent keeps its own files, by the environment: its variable (Claude Code's
//! `CLAUDE_CONFIG_DIR`, Codex's `CODEX_HOME`) when set, else a dot folder in the home.

use std::path::PathBuf;

/// `dir` (the agent's variable) when set and not empty, else `<home>/<dot_dir>`; `None` when
/// neither is known.
pub(crate) fn agent_root(
    dir: Option<PathBuf>,
    home: Option<PathBuf>,
    dot_dir: &str,
) -> Option<PathBuf> {
    let set = |p: Option<PathBuf>| p.filter(|p| !p.as_os_str().is_empty());
    set(dir).or_else(|| set(home).map(|h| h.join(dot_dir)))
}
