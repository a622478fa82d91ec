//! Claude Code: hook payloads ([`hooks`]), the per-process status file ([`status`]), the
//! screen ([`screen`]), and where its files live ([`ClaudePaths`]).
//!
//! Facts from Claude Code 2.1.328 (see `tests/data/` for what that version writes). Field
//! names and event names are open sets: anything unknown is kept raw or ignored.

pub mod hooks;
pub mod lean;
pub mod screen;
pub mod status;
pub mod tools;
pub mod transcript;

use crate::{Adapter, AgentError, AgentKind, HookPayload, ScreenState};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Claude Code's adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Claude;

impl Adapter for Claude {
    fn kind(&self) -> AgentKind {
        AgentKind::Claude
    }

    fn classify_screen(&self, rows: &[&str], _quiet_for: Option<Duration>) -> ScreenState {
        screen::classify(rows)
    }

    fn parse_hook(&self, payload: &[u8]) -> Result<HookPayload, AgentError> {
        hooks::parse(payload)
    }

    /// Esc interrupts Claude Code's turn (Ctrl-C twice would quit it).
    fn interrupt_keys(&self) -> &'static [u8] {
        b"\x1b"
    }
}

/// Where Claude Code keeps its files: `$CLAUDE_CONFIG_DIR`, else `~/.claude`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaudePaths {
    pub root: PathBuf,
}

impl ClaudePaths {
    /// The folder Claude Code uses with this environment: `CLAUDE_CONFIG_DIR` when set and not
    /// empty, else `$HOME/.claude`. `None` when neither is known.
    pub fn from_env() -> Option<ClaudePaths> {
        Self::resolve(
            std::env::var_os("CLAUDE_CONFIG_DIR").map(PathBuf::from),
            std::env::var_os("HOME").map(PathBuf::from),
        )
    }

    /// [`ClaudePaths::from_env`] from given values (for the environment of another process).
    pub fn resolve(config_dir: Option<PathBuf>, home: Option<PathBuf>) -> Option<ClaudePaths> {
        crate::home::agent_root(config_dir, home, ".claude").map(|root| ClaudePaths { root })
    }

    pub fn new(root: impl Into<PathBuf>) -> ClaudePaths {
        ClaudePaths { root: root.into() }
    }

    /// `<root>/projects`: one folder per working directory, one transcript per session.
    pub fn projects(&self) -> PathBuf {
        self.root.join("projects")
    }

    /// `<root>/sessions`: one status file per running interactive CLI.
    pub fn sessions(&self) -> PathBuf {
        self.root.join("sessions")
    }

    /// The status file of the CLI process `pid`.
    pub fn status_file(&self, pid: u32) -> PathBuf {
        self.sessions().join(format!("{pid}.json"))
    }

    /// Every status file present, parsed; files that cannot be read are skipped with a
    /// warning (a CLI may be writing or removing one right now).
    pub fn status_files(&self) -> Vec<status::StatusFile> {
        let dir = self.sessions();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot list Claude Code's status files");
                }
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match status::StatusFile::read(&path) {
                Ok(s) => out.push(s),
                Err(e) => tracing::debug!(error = %e, "skipping a status file"),
            }
        }
        out.sort_by_key(|s| s.pid);
        out
    }

    /// The transcript that Claude Code writes for `session_id` started in `cwd`:
    /// `<root>/projects/<encoded cwd>/<session_id>.jsonl` when it exists; else (a long cwd
    /// whose folder name got a hash suffix, or a cwd given differently) the first project
    /// folder holding `<session_id>.jsonl`. `None` when there is none yet.
    pub fn find_transcript(&self, cwd: Option<&Path>, session_id: &str) -> Option<PathBuf> {
        if session_id.is_empty() || session_id.contains(['/', '\\']) || session_id == ".." {
            return None;
        }
        let file = format!("{session_id}.jsonl");
        if let Some(cwd) = cwd {
            let direct = self.projects().join(encode_project_dir(cwd)).join(&file);
            if direct.is_file() {
                return Some(direct);
            }
        }
        let entries = std::fs::read_dir(self.projects()).ok()?;
        entries
            .flatten()
            .map(|e| e.path().join(&file))
            .find(|p| p.is_file())
    }
}

/// The folder name Claude Code gives a working directory under `projects/`: every character
/// outside `[A-Za-z0-9]` becomes `-`. (Names over 200 characters are cut and get a hash suffix
/// whose function is not known; [`ClaudePaths::find_transcript`] copes.) It cannot be decoded:
/// read `cwd` from the transcript's records instead.
pub fn encode_project_dir(cwd: &Path) -> String {
    cwd.to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_dir_wins_over_home_and_empty_values_are_ignored() {
        let p = ClaudePaths::resolve(Some("/cfg".into()), Some("/home/u".into()));
        assert_eq!(p, Some(ClaudePaths::new("/cfg")));
        let p = ClaudePaths::resolve(Some("".into()), Some("/home/u".into()));
        assert_eq!(p, Some(ClaudePaths::new("/home/u/.claude")));
        assert_eq!(ClaudePaths::resolve(None, None), None);
    }

    #[test]
    fn project_folder_names_replace_every_non_alphanumeric_character() {
        assert_eq!(
            encode_project_dir(Path::new("/home/dev/app")),
            "-home-dev-app"
        );
        assert_eq!(
            encode_project_dir(Path::new("/home/dev/my_app.v2 (copy)")),
            "-home-dev-my-app-v2--copy-"
        );
    }

    #[test]
    fn transcripts_are_found_by_cwd_or_by_session_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = ClaudePaths::new(dir.path());
        let proj = paths.projects().join("-home-dev-app");
        std::fs::create_dir_all(&proj).expect("mkdir");
        std::fs::write(proj.join("s1.jsonl"), "{}\n").expect("write");
        assert_eq!(
            paths.find_transcript(Some(Path::new("/home/dev/app")), "s1"),
            Some(proj.join("s1.jsonl"))
        );
        // The cwd is unknown or encoded differently: found by scanning the project folders.
        assert_eq!(
            paths.find_transcript(Some(Path::new("/elsewhere")), "s1"),
            Some(proj.join("s1.jsonl"))
        );
        assert_eq!(paths.find_transcript(None, "s2"), None);
        assert_eq!(paths.find_transcript(None, "../x"), None);
    }
}
