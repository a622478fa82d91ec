//! A session folder's git state as clients see it: branch, ahead/behind, changed files and a
//! diff stat (`paddock show`/`ls`, REST's session view, the UI's session header). Computed by
//! `paddock_core::git_status` on demand; a folder outside any repository has none.

use serde::{Deserialize, Serialize};

/// The git state of a session's folder.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct GitStatus {
    /// The checked-out branch; null on a detached HEAD.
    pub branch: Option<String>,
    /// The abbreviated commit at HEAD; null before the first commit.
    pub commit: Option<String>,
    /// What `ahead` and `behind` count against: the branch's upstream, else the branch the
    /// session's worktree was made from; null when there is neither.
    pub base: Option<String>,
    /// Commits on HEAD that `base` lacks.
    pub ahead: u32,
    /// Commits on `base` that HEAD lacks.
    pub behind: u32,
    /// The worktree Paddock made for the session (`paddock run --worktree`), if it is in one.
    pub worktree: Option<String>,
    /// Files changed against `base` (where HEAD left it) or, without a base, against HEAD:
    /// committed, uncommitted and untracked. At most [`GitStatus::MAX_FILES`]; `files_changed`
    /// counts them all.
    pub files: Vec<ChangedFile>,
    pub files_changed: u32,
    /// Lines added and removed over all changed text files.
    pub insertions: u32,
    pub deletions: u32,
    /// Files with changes not committed yet (untracked ones included).
    pub uncommitted: u32,
}

impl GitStatus {
    /// The longest `files` list sent.
    pub const MAX_FILES: usize = 100;

    /// `3 files +42 -7`: the diff stat in a few characters.
    pub fn stat(&self) -> String {
        let s = if self.files_changed == 1 { "" } else { "s" };
        format!(
            "{} file{s} +{} -{}",
            self.files_changed, self.insertions, self.deletions
        )
    }

    /// `paddock/fix ↑2 ↓1 *`: branch (or commit), ahead/behind and a star when files are
    /// uncommitted; narrow enough for a list column.
    pub fn short(&self) -> String {
        let mut out = self
            .branch
            .clone()
            .or_else(|| self.commit.clone())
            .unwrap_or_else(|| "(no commit)".to_owned());
        if self.ahead > 0 {
            out.push_str(&format!(" ↑{}", self.ahead));
        }
        if self.behind > 0 {
            out.push_str(&format!(" ↓{}", self.behind));
        }
        if self.uncommitted > 0 {
            out.push_str(" *");
        }
        out
    }
}

/// One changed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct ChangedFile {
    /// Relative to the repository's top folder.
    pub path: String,
    /// Lines added and removed; null for a binary file.
    pub insertions: Option<u32>,
    pub deletions: Option<u32>,
    /// The change is not committed yet (or the file is untracked).
    pub uncommitted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_form_shows_branch_divergence_and_dirt() {
        let mut g = GitStatus {
            branch: Some("paddock/fix".into()),
            ahead: 2,
            behind: 1,
            uncommitted: 3,
            files_changed: 1,
            insertions: 4,
            ..Default::default()
        };
        assert_eq!(g.short(), "paddock/fix ↑2 ↓1 *");
        assert_eq!(g.stat(), "1 file +4 -0");
        g.branch = None;
        g.commit = Some("abc1234".into());
        g.uncommitted = 0;
        g.behind = 0;
        assert_eq!(g.short(), "abc1234 ↑2");
    }
}
