//! Git worktrees made for sessions (`paddock run --worktree [BRANCH]`, REST's and MCP's
//! `worktree`, the UI's New session form), listed and removed by `paddock worktree ls|rm`.
//!
//! A worktree of the folder's repository is made under the configured directory
//! (`worktrees.dir`, default `<data dir>/worktrees`) as `<repo>-<hash>/<branch>`, on a new
//! branch `paddock/<session name>` from the folder's HEAD unless a branch is given (an existing
//! branch is checked out there; one checked out in another worktree is refused). What Paddock
//! made is recorded in `<dir>/.records/<session id>.json`: the session, the repository, the
//! branch and the one it was made from (which ahead/behind count against), and whether the
//! branch is Paddock's to delete. Git itself does the work ([`crate::git`]).

use crate::git::{self, GitError};
use paddock_proto::{SessionId, SessionInfo, SessionState};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The folder under the worktrees directory where records are kept.
const RECORDS: &str = ".records";

/// A worktree asked for with a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorktreeRequest {
    /// The branch to check out; `None` makes `paddock/<session name>`.
    pub branch: Option<String>,
    /// The worktrees directory (`Config::worktrees_dir`; `Handle::start_session` sets it
    /// from the supervisor's configuration).
    pub root: PathBuf,
}

/// What Paddock made for a session, kept in `<dir>/.records/<session>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub session: SessionId,
    pub session_name: String,
    /// The repository's main folder (where `git worktree list` shows them all).
    pub repo: PathBuf,
    /// The worktree's folder.
    pub path: PathBuf,
    pub branch: String,
    /// The branch (or commit) it was made from.
    pub base: String,
    /// Paddock created the branch, so `worktree rm` deletes it too.
    pub created_branch: bool,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// A worktree made, and where in it the agent starts (the same sub-folder the request named).
#[derive(Debug, Clone)]
pub struct Created {
    pub record: Record,
    pub cwd: PathBuf,
}

/// Why a worktree could not be made or removed. Every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    #[error("{folder} is not inside a git repository ({message}); start the session without --worktree, or in a repository's folder")]
    NotARepository { folder: PathBuf, message: String },
    #[error("the repository at {0} has no commit yet, so there is nothing to check out in a worktree; commit once and try again")]
    NoCommits(PathBuf),
    #[error("`{0}` cannot be a branch name; choose one like `fix-login` or `paddock/fix-login`")]
    BadBranch(String),
    #[error("a branch `{0}` exists already; give it to check it out (`--worktree {0}`), or choose another session name or branch")]
    BranchExists(String),
    #[error("branch `{branch}` is checked out in {path} already; git allows a branch in one worktree at a time: choose another branch, or remove that worktree")]
    BranchInUse { branch: String, path: PathBuf },
    #[error("{0} exists already; remove it or choose another branch")]
    PathTaken(PathBuf),
    #[error("cannot prepare the worktrees directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the worktree's record {path}: {source}")]
    Record {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no worktree made by Paddock matches `{0}`; `paddock worktree ls` lists them")]
    NotFound(String),
    #[error("`{0}` matches several worktrees; give the session id or the worktree's path")]
    Ambiguous(String),
    #[error("session {session} still runs in {path}; stop it first (`paddock stop {session}`): a worktree is never removed under a running agent, even with --force")]
    SessionRunning { session: SessionId, path: PathBuf },
    #[error("{path} has {count} uncommitted change(s); commit or discard them, or remove it anyway with --force")]
    Dirty { path: PathBuf, count: usize },
    #[error("branch `{branch}` has {count} commit(s) that `{base}` does not have; merge or push them, or remove it anyway (deleting the branch) with --force")]
    Unmerged {
        branch: String,
        base: String,
        count: u32,
    },
    #[error(transparent)]
    Git(#[from] GitError),
}

/// Makes the worktree for session `id` (named `name`) of the repository of `folder`.
/// Blocking: runs git.
pub fn create(
    folder: &Path,
    id: &SessionId,
    name: &str,
    req: &WorktreeRequest,
) -> Result<Created, WorktreeError> {
    let probe = git::run(
        folder,
        &[
            "rev-parse",
            "--path-format=absolute",
            "--show-toplevel",
            "--git-common-dir",
            "--show-prefix",
        ],
    )
    .map_err(|e| not_a_repository(folder, e))?;
    let mut lines = probe.lines();
    let (Some(top), Some(common)) = (lines.next(), lines.next()) else {
        return Err(WorktreeError::NotARepository {
            folder: folder.to_owned(),
            message: "git named no top folder".into(),
        });
    };
    let top = PathBuf::from(top);
    let prefix = lines.next().unwrap_or("").to_owned();
    let common = PathBuf::from(common);
    let repo = match common.file_name() {
        Some(n) if n == ".git" => common.parent().map(Path::to_owned).unwrap_or(common),
        _ => common,
    };
    if !git::succeeds(&top, &["rev-parse", "--verify", "-q", "HEAD"])? {
        return Err(WorktreeError::NoCommits(top));
    }
    let base = match git::run(&top, &["symbolic-ref", "--short", "-q", "HEAD"]) {
        Ok(b) if !b.trim().is_empty() => b.trim().to_owned(),
        _ => git::run(&top, &["rev-parse", "--short", "HEAD"])?
            .trim()
            .to_owned(),
    };
    let given = req.branch.is_some();
    let branch = match &req.branch {
        Some(b) => b.trim().to_owned(),
        None => format!("paddock/{}", slug(name)),
    };
    if branch.is_empty()
        || branch.starts_with('-')
        || !git::succeeds(&top, &["check-ref-format", "--branch", &branch])?
    {
        return Err(WorktreeError::BadBranch(branch));
    }
    let full = format!("refs/heads/{branch}");
    let exists = git::succeeds(&top, &["rev-parse", "--verify", "-q", &full])?;
    if exists {
        if let Some(path) = checked_out_at(&top, &full)? {
            return Err(WorktreeError::BranchInUse { branch, path });
        }
        if !given {
            return Err(WorktreeError::BranchExists(branch));
        }
    }
    let repo_name = repo
        .file_name()
        .map(|n| slug(&n.to_string_lossy()))
        .unwrap_or_else(|| "repo".into());
    let parent = req
        .root
        .join(format!("{repo_name}-{:08x}", fnv(repo.as_os_str())));
    let path = parent.join(slug(&branch.replace('/', "-")));
    if path.exists() {
        return Err(WorktreeError::PathTaken(path));
    }
    std::fs::create_dir_all(&parent).map_err(|source| WorktreeError::Dir {
        path: parent.clone(),
        source,
    })?;
    let path_arg = path.to_string_lossy().into_owned();
    if exists {
        git::run(&top, &["worktree", "add", "--", &path_arg, &branch])?;
    } else {
        git::run(
            &top,
            &["worktree", "add", "-b", &branch, "--", &path_arg, "HEAD"],
        )?;
    }
    let record = Record {
        session: id.clone(),
        session_name: name.to_owned(),
        repo,
        path: path.clone(),
        branch,
        base,
        created_branch: !exists,
        created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    };
    if let Err(e) = write_record(&req.root, &record) {
        // Nothing half-made stays behind.
        let _ = discard(&record);
        return Err(e);
    }
    let sub = path.join(prefix.trim_end_matches('/'));
    let cwd = if !prefix.is_empty() && sub.is_dir() {
        sub
    } else {
        path
    };
    Ok(Created { record, cwd })
}

fn not_a_repository(folder: &Path, e: GitError) -> WorktreeError {
    match e {
        GitError::Failed { message, .. } => WorktreeError::NotARepository {
            folder: folder.to_owned(),
            message,
        },
        other => other.into(),
    }
}

/// The worktree that has `full_ref` checked out, if any.
fn checked_out_at(top: &Path, full_ref: &str) -> Result<Option<PathBuf>, GitError> {
    let list = git::run(top, &["worktree", "list", "--porcelain"])?;
    let mut path = None;
    for line in list.lines() {
        if let Some(p) = line.strip_prefix("worktree ") {
            path = Some(PathBuf::from(p));
        } else if line.strip_prefix("branch ") == Some(full_ref) {
            return Ok(path);
        }
    }
    Ok(None)
}

/// A name made safe for a branch or a folder: letters, digits, `.`, `_` and `-`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out
        .trim_matches(|c| c == '-' || c == '.')
        .replace("..", ".");
    if out.is_empty() {
        "session".to_owned()
    } else {
        out
    }
}

/// FNV-1a of a path: a short, stable tag that keeps two repositories of the same name apart.
fn fnv(s: &std::ffi::OsStr) -> u32 {
    s.as_encoded_bytes().iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

fn records_dir(root: &Path) -> PathBuf {
    root.join(RECORDS)
}

fn write_record(root: &Path, record: &Record) -> Result<(), WorktreeError> {
    let dir = records_dir(root);
    let path = dir.join(format!("{}.json", record.session));
    let err = |source| WorktreeError::Record {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(err)?;
    let tmp = dir.join(format!(".{}.json.tmp", record.session));
    let text = serde_json::to_vec_pretty(record).map_err(|e| err(e.into()))?;
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)
}

/// Every worktree Paddock made under `root` (records that cannot be read are skipped with a
/// warning in the log).
pub fn records(root: &Path) -> Vec<Record> {
    let Ok(entries) = std::fs::read_dir(records_dir(root)) else {
        return Vec::new();
    };
    let mut out: Vec<Record> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|e| {
            let bytes = std::fs::read(e.path()).ok()?;
            match serde_json::from_slice(&bytes) {
                Ok(r) => Some(r),
                Err(err) => {
                    tracing::warn!(file = %e.path().display(), error = %err, "skipping a worktree record that cannot be read");
                    None
                }
            }
        })
        .collect();
    out.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    out
}

/// The record of the worktree whose folder is `top` (a session's repository top folder).
pub fn record_at(root: &Path, top: &Path) -> Option<Record> {
    records(root).into_iter().find(|r| r.path == top)
}

/// What became of a worktree's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionPresence {
    Running,
    Exited,
    /// No holder for it any more.
    Gone,
}

impl std::fmt::Display for SessionPresence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SessionPresence::Running => "running",
            SessionPresence::Exited => "exited",
            SessionPresence::Gone => "gone",
        })
    }
}

/// One line of `paddock worktree ls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorktreeView {
    #[serde(flatten)]
    pub record: Record,
    pub session_state: SessionPresence,
    /// The folder is gone (removed by hand; `worktree rm` forgets it).
    pub missing: bool,
    /// Files with uncommitted changes, untracked ones included.
    pub dirty: usize,
    /// Commits on the branch that its base (or its upstream) lacks.
    pub unmerged: u32,
}

/// The presence of `record`'s session among the holders in `sessions`.
pub fn presence(record: &Record, sessions: &[SessionInfo]) -> SessionPresence {
    match sessions.iter().find(|s| s.id == record.session) {
        Some(s) if s.state == SessionState::Running => SessionPresence::Running,
        Some(_) => SessionPresence::Exited,
        None => SessionPresence::Gone,
    }
}

/// Every worktree Paddock made, with its session's state and its changes. Blocking: runs git.
pub fn list(root: &Path, sessions: &[SessionInfo]) -> Vec<WorktreeView> {
    records(root)
        .into_iter()
        .map(|record| {
            let missing = !record.path.is_dir();
            let (dirty, unmerged) = if missing {
                (0, unmerged(&record).unwrap_or(0))
            } else {
                (
                    dirty(&record.path).unwrap_or(0),
                    unmerged(&record).unwrap_or(0),
                )
            };
            WorktreeView {
                session_state: presence(&record, sessions),
                missing,
                dirty,
                unmerged,
                record,
            }
        })
        .collect()
}

/// Finds the one record `what` names: a session id or name, a branch, or the folder.
pub fn find(root: &Path, what: &str) -> Result<Record, WorktreeError> {
    let all = records(root);
    let path = std::path::absolute(what).ok();
    let by = |pred: &dyn Fn(&Record) -> bool| -> Vec<Record> {
        all.iter().filter(|r| pred(r)).cloned().collect()
    };
    for hits in [
        by(&|r| r.session.as_str() == what),
        by(&|r| path.as_deref() == Some(r.path.as_path())),
        by(&|r| r.session_name == what),
        by(&|r| r.branch == what),
    ] {
        match hits.len() {
            0 => continue,
            1 => return Ok(hits.into_iter().next().expect("one hit")),
            _ => return Err(WorktreeError::Ambiguous(what.to_owned())),
        }
    }
    Err(WorktreeError::NotFound(what.to_owned()))
}

/// Files with uncommitted changes in `path` (untracked ones included).
fn dirty(path: &Path) -> Result<usize, GitError> {
    // One line per file (a rename included); paths with odd characters are quoted.
    let out = git::run(path, &["status", "--porcelain", "--untracked-files=all"])?;
    Ok(out.lines().filter(|l| !l.trim().is_empty()).count())
}

/// Commits on the record's branch that neither its base nor its upstream has (the work that
/// deleting the branch would lose). A branch Paddock did not create is never deleted: 0.
fn unmerged(record: &Record) -> Result<u32, GitError> {
    if !record.created_branch {
        return Ok(0);
    }
    let full = format!("refs/heads/{}", record.branch);
    if !git::succeeds(&record.repo, &["rev-parse", "--verify", "-q", &full])? {
        return Ok(0);
    }
    let upstream = format!("{full}@{{upstream}}");
    let mut args = vec!["rev-list", "--count", full.as_str(), "--not"];
    let mut against = 0;
    for r in [record.base.as_str(), upstream.as_str()] {
        if git::succeeds(&record.repo, &["rev-parse", "--verify", "-q", r])? {
            args.push(r);
            against += 1;
        }
    }
    if against == 0 {
        // The base is gone: count what no other branch or remote has.
        let exclude = format!("--exclude={full}");
        let mut args = vec!["rev-list", "--count", full.as_str(), "--not"];
        args.extend([exclude.as_str(), "--branches", "--remotes"]);
        return count(&record.repo, &args);
    }
    count(&record.repo, &args)
}

fn count(dir: &Path, args: &[&str]) -> Result<u32, GitError> {
    Ok(git::run(dir, args)?.trim().parse().unwrap_or(0))
}

/// Removes the worktree of `record` (and its branch, when Paddock made it) unless its session
/// runs, or, without `force`, it has uncommitted changes or commits its base lacks. Blocking.
pub fn remove(
    root: &Path,
    record: &Record,
    sessions: &[SessionInfo],
    force: bool,
) -> Result<(), WorktreeError> {
    if presence(record, sessions) == SessionPresence::Running {
        return Err(WorktreeError::SessionRunning {
            session: record.session.clone(),
            path: record.path.clone(),
        });
    }
    if !force {
        if record.path.is_dir() {
            let count = dirty(&record.path)?;
            if count > 0 {
                return Err(WorktreeError::Dirty {
                    path: record.path.clone(),
                    count,
                });
            }
        }
        let count = unmerged(record)?;
        if count > 0 {
            return Err(WorktreeError::Unmerged {
                branch: record.branch.clone(),
                base: record.base.clone(),
                count,
            });
        }
    }
    discard(record)?;
    let path = records_dir(root).join(format!("{}.json", record.session));
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(WorktreeError::Record { path, source: e })
        }
        _ => Ok(()),
    }
}

/// Removes the worktree's folder and (if Paddock made it) its branch, whatever they hold.
fn discard(record: &Record) -> Result<(), GitError> {
    let path = record.path.to_string_lossy().into_owned();
    if record.path.exists() {
        git::run(
            &record.repo,
            &["worktree", "remove", "--force", "--", &path],
        )?;
    } else {
        git::run(&record.repo, &["worktree", "prune"])?;
    }
    if record.created_branch {
        let full = format!("refs/heads/{}", record.branch);
        if git::succeeds(&record.repo, &["rev-parse", "--verify", "-q", &full])? {
            git::run(&record.repo, &["branch", "-D", "--", &record.branch])?;
        }
    }
    Ok(())
}

/// Undoes [`create`] for a session that did not start: the worktree, its branch if new, the
/// record. Errors are logged: the start's own error is the one to report.
pub fn abandon(root: &Path, id: &SessionId) {
    let Some(record) = records(root).into_iter().find(|r| &r.session == id) else {
        return;
    };
    if let Err(e) = remove(root, &record, &[], true) {
        tracing::warn!(session = %id, error = %e, "cannot remove the worktree of a session that did not start");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_safe_branch_and_folder_names() {
        assert_eq!(slug("claude"), "claude");
        assert_eq!(slug("fix login / now!"), "fix-login-now");
        assert_eq!(slug("..."), "session");
        assert_eq!(slug("a..b"), "a.b");
    }
}
