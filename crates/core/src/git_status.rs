//! A session folder's git state ([`GitStatus`]: branch, ahead/behind, changed files, diff
//! stat), read with the `git` command when a client asks (`paddock ls`/`show`, the REST session
//! routes) and kept for [`TTL`] per folder, so a list of many sessions asked for often runs git
//! at most once per folder in that time. Always called off the async runtime (blocking), never
//! from the supervisor's loops. A folder outside any repository (or a machine without git) has
//! none.
//!
//! `ahead`/`behind` count against the branch's upstream, else against the branch a Paddock
//! worktree was made from ([`crate::worktree::Record::base`]). Changed files are those that
//! differ from where HEAD left that base (committed or not), plus untracked files; without a
//! base, the uncommitted changes.

use crate::git;
use crate::Handle;
use paddock_proto::git::{ChangedFile, GitStatus};
use paddock_proto::supervisor::SessionView;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an answer is reused.
pub const TTL: Duration = Duration::from_secs(2);
/// Untracked files larger than this are listed without a line count.
const MAX_COUNTED: u64 = 1 << 20;

/// Answers per folder, each reused for [`TTL`].
#[derive(Default)]
pub struct GitCache {
    entries: Mutex<HashMap<PathBuf, (Instant, Option<GitStatus>)>>,
}

impl GitCache {
    /// The state of `cwd`, from the cache when fresh. Blocking.
    pub fn get(&self, cwd: &Path, worktrees: &Path) -> Option<GitStatus> {
        let now = Instant::now();
        if let Ok(entries) = self.entries.lock() {
            if let Some((at, status)) = entries.get(cwd) {
                if now.duration_since(*at) < TTL {
                    return status.clone();
                }
            }
        }
        let status = status(cwd, worktrees);
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (at, _)| now.duration_since(*at) < TTL);
            entries.insert(cwd.to_owned(), (now, status.clone()));
        }
        status
    }
}

/// The supervisor's answers, shared by every client's requests.
static CACHE: std::sync::LazyLock<GitCache> = std::sync::LazyLock::new(GitCache::default);

impl Handle {
    /// `views` with their folders' git state (`SessionView::git`), read off the async
    /// runtime and cached for [`TTL`].
    pub async fn with_git(&self, views: Vec<SessionView>) -> Vec<SessionView> {
        let root = self.config().worktrees_dir();
        let plain = views.clone();
        let filled = tokio::task::spawn_blocking(move || {
            let mut views = views;
            for v in &mut views {
                v.git = CACHE.get(Path::new(&v.cwd), &root);
            }
            views
        })
        .await;
        filled.unwrap_or(plain)
    }

    /// One view with its folder's git state (see [`Handle::with_git`]).
    pub async fn view_with_git(&self, view: SessionView) -> SessionView {
        let plain = view.clone();
        self.with_git(vec![view]).await.pop().unwrap_or(plain)
    }
}

/// The git state of `cwd`, or `None` outside a repository. `worktrees` is the directory of
/// Paddock's worktrees (for the base of one). Blocking: runs git up to five times.
pub fn status(cwd: &Path, worktrees: &Path) -> Option<GitStatus> {
    if cwd.as_os_str().is_empty() || !cwd.is_dir() {
        return None;
    }
    let top = git::run(cwd, &["rev-parse", "--show-toplevel"]).ok()?;
    let top = PathBuf::from(top.trim_end_matches('\n'));
    let porcelain = git::run(
        &top,
        &[
            "status",
            "--porcelain=v2",
            "--branch",
            "-z",
            "--untracked-files=all",
        ],
    )
    .ok()?;
    let parsed = parse_status(&porcelain);
    let record = crate::worktree::record_at(worktrees, &top);
    let mut out = GitStatus {
        branch: parsed.branch.clone(),
        commit: parsed
            .oid
            .as_ref()
            .map(|o| o.chars().take(7).collect::<String>()),
        worktree: record.as_ref().map(|r| r.path.display().to_string()),
        ..Default::default()
    };
    let base = match (&parsed.upstream, &record) {
        (Some(u), _) => {
            out.ahead = parsed.ahead;
            out.behind = parsed.behind;
            Some(u.clone())
        }
        (None, Some(r)) if parsed.oid.is_some() => {
            let range = format!("{}...HEAD", r.base);
            match git::run(&top, &["rev-list", "--left-right", "--count", &range]) {
                Ok(counts) => {
                    let mut n = counts.split_whitespace().map(|n| n.parse().unwrap_or(0));
                    out.behind = n.next().unwrap_or(0);
                    out.ahead = n.next().unwrap_or(0);
                    Some(r.base.clone())
                }
                // The base branch is gone.
                Err(_) => None,
            }
        }
        _ => None,
    };
    out.base = base.clone();
    // Diff against where HEAD left its base, or against HEAD.
    let against = match &base {
        Some(b) => git::run(&top, &["merge-base", "HEAD", b])
            .ok()
            .map(|m| m.trim().to_owned()),
        None => None,
    }
    .or_else(|| parsed.oid.clone());
    let mut files: Vec<ChangedFile> = Vec::new();
    if let Some(against) = against {
        if let Ok(numstat) = git::run(&top, &["diff", "--numstat", "-z", &against, "--"]) {
            files = parse_numstat(&numstat);
        }
    }
    for f in &mut files {
        f.uncommitted = parsed.changed.iter().any(|c| c == &f.path);
    }
    for path in &parsed.untracked {
        let (insertions, deletions) = match count_lines(&top.join(path)) {
            Some(n) => (Some(n), Some(0)),
            None => (None, None),
        };
        files.push(ChangedFile {
            path: path.clone(),
            insertions,
            deletions,
            uncommitted: true,
        });
    }
    // Changes in the index or the work tree that `git diff` did not list (e.g. a file added
    // then deleted again) still count as uncommitted.
    out.uncommitted = (parsed.changed.len() + parsed.untracked.len()) as u32;
    out.files_changed = files.len() as u32;
    out.insertions = files.iter().filter_map(|f| f.insertions).sum();
    out.deletions = files.iter().filter_map(|f| f.deletions).sum();
    files.truncate(GitStatus::MAX_FILES);
    out.files = files;
    Some(out)
}

/// What `git status --porcelain=v2 --branch -z` said.
#[derive(Debug, Default, PartialEq)]
struct Parsed {
    oid: Option<String>,
    branch: Option<String>,
    upstream: Option<String>,
    ahead: u32,
    behind: u32,
    /// Tracked files changed in the index or the work tree.
    changed: Vec<String>,
    untracked: Vec<String>,
}

fn parse_status(text: &str) -> Parsed {
    let mut p = Parsed::default();
    let mut entries = text.split('\0');
    while let Some(e) = entries.next() {
        if let Some(h) = e.strip_prefix("# ") {
            match h.split_once(' ') {
                Some(("branch.oid", oid)) if oid != "(initial)" => p.oid = Some(oid.to_owned()),
                Some(("branch.head", head)) if head != "(detached)" => {
                    p.branch = Some(head.to_owned())
                }
                Some(("branch.upstream", u)) => p.upstream = Some(u.to_owned()),
                Some(("branch.ab", ab)) => {
                    for n in ab.split_whitespace() {
                        if let Some(a) = n.strip_prefix('+') {
                            p.ahead = a.parse().unwrap_or(0);
                        } else if let Some(b) = n.strip_prefix('-') {
                            p.behind = b.parse().unwrap_or(0);
                        }
                    }
                }
                _ => {}
            }
        } else if let Some(rest) = e.strip_prefix("1 ") {
            // XY sub mH mI mW hH hI path
            if let Some(path) = rest.splitn(8, ' ').nth(7) {
                p.changed.push(path.to_owned());
            }
        } else if let Some(rest) = e.strip_prefix("2 ") {
            // XY sub mH mI mW hH hI Xscore path, then the original path as its own entry.
            if let Some(path) = rest.splitn(9, ' ').nth(8) {
                p.changed.push(path.to_owned());
            }
            entries.next();
        } else if let Some(rest) = e.strip_prefix("u ") {
            // XY sub m1 m2 m3 mW h1 h2 h3 path
            if let Some(path) = rest.splitn(10, ' ').nth(9) {
                p.changed.push(path.to_owned());
            }
        } else if let Some(path) = e.strip_prefix("? ") {
            p.untracked.push(path.to_owned());
        }
    }
    p
}

/// `git diff --numstat -z`: `added\tdeleted\tpath\0`, or for a rename
/// `added\tdeleted\t\0from\0to\0`; binary files have `-` counts.
fn parse_numstat(text: &str) -> Vec<ChangedFile> {
    let mut out = Vec::new();
    let mut entries = text.split('\0');
    while let Some(e) = entries.next() {
        let mut fields = e.splitn(3, '\t');
        let (Some(add), Some(del), Some(path)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let path = if path.is_empty() {
            entries.next();
            entries.next().unwrap_or_default().to_owned()
        } else {
            path.to_owned()
        };
        out.push(ChangedFile {
            path,
            insertions: add.parse().ok(),
            deletions: del.parse().ok(),
            uncommitted: false,
        });
    }
    out
}

/// Lines of a small text file (a last line without a newline counts); `None` for a binary,
/// large or unreadable one.
fn count_lines(path: &Path) -> Option<u32> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_COUNTED {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    if bytes.contains(&0) {
        return None;
    }
    let newlines = bytes.iter().filter(|b| **b == b'\n').count();
    let last = usize::from(!bytes.is_empty() && !bytes.ends_with(b"\n"));
    u32::try_from(newlines + last).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_v2_gives_branch_divergence_and_files() {
        let text = "# branch.oid 0123456789abcdef\0# branch.head main\0# branch.upstream origin/main\0# branch.ab +2 -1\0\
1 .M N... 100644 100644 100644 aaa bbb src/a b.rs\0\
2 R. N... 100644 100644 100644 aaa bbb R100 new.rs\0old.rs\0\
? notes.txt\0";
        let p = parse_status(text);
        assert_eq!(p.branch.as_deref(), Some("main"));
        assert_eq!(p.upstream.as_deref(), Some("origin/main"));
        assert_eq!((p.ahead, p.behind), (2, 1));
        assert_eq!(p.changed, ["src/a b.rs", "new.rs"]);
        assert_eq!(p.untracked, ["notes.txt"]);
        let detached = parse_status("# branch.oid (initial)\0# branch.head (detached)\0");
        assert_eq!((detached.oid, detached.branch), (None, None));
    }

    #[test]
    fn numstat_counts_lines_and_knows_binaries_and_renames() {
        let files = parse_numstat(concat!(
            "3\t1\tsrc/lib.rs\0",
            "-\t-\tlogo.png\0",
            "0\t0\t\0old.rs\0new.rs\0"
        ));
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["src/lib.rs", "logo.png", "new.rs"]);
        assert_eq!(files[0].insertions, Some(3));
        assert_eq!(files[1].insertions, None);
    }
}
