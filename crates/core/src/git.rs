//! Running the `git` command (never a library: the owner's git, hooks and configuration are
//! the ones that count), for [`crate::worktree`] and [`crate::git_status`].
//!
//! Variables that would point git at another repository (`GIT_DIR`, `GIT_WORK_TREE`, ...,
//! left by a git hook that started Paddock) are removed; `GIT_OPTIONAL_LOCKS=0` keeps a status
//! from taking the index lock an agent's own git may need at the same moment.

use std::path::Path;
use std::process::Command;

/// Variables that make git act on another repository than the folder it is run in.
const REPOSITORY_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
];

/// Why a git command gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git is not installed or not on PATH: install git (e.g. `apt install git`, `xcode-select --install`) and try again")]
    Missing,
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    /// git ran and refused; `message` is what it said.
    #[error("`git {args}` failed: {message}")]
    Failed { args: String, message: String },
}

/// Runs `git ARGS` in `dir`; its standard output on success.
pub fn run(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir).args(args);
    for var in REPOSITORY_VARS {
        cmd.env_remove(var);
    }
    cmd.env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null());
    let out = cmd.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => GitError::Missing,
        _ => GitError::Spawn(e),
    })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = stderr
        .lines()
        .map(|l| {
            l.trim_start_matches("fatal: ")
                .trim_start_matches("error: ")
        })
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Err(GitError::Failed {
        args: args.join(" "),
        message: if message.is_empty() {
            format!("exit status {}", out.status)
        } else {
            message
        },
    })
}

/// Whether `git ARGS` in `dir` succeeds (a question such as `rev-parse --verify -q REF`).
/// A missing git is an error, not a "no".
pub fn succeeds(dir: &Path, args: &[&str]) -> Result<bool, GitError> {
    match run(dir, args) {
        Ok(_) => Ok(true),
        Err(GitError::Failed { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}
