//! What `paddock doctor` (and `GET /api/v1/system/doctor`) reports: one row per check, each
//! with a verdict and, when it is not fine, what to do next.

use serde::{Deserialize, Serialize};

/// A check's verdict: `ok` (✓), `warn` (!: works, but worth a look) or `fail` (✗: something a
/// user needs is broken; `paddock doctor` exits non-zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    Warn,
    Fail,
}

impl CheckStatus {
    /// The mark printed before the check: ✓, ! or ✗.
    pub fn mark(self) -> &'static str {
        match self {
            CheckStatus::Ok => "✓",
            CheckStatus::Warn => "!",
            CheckStatus::Fail => "✗",
        }
    }
}

/// One check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct DoctorCheck {
    /// A stable identifier for scripts, e.g. `agent.claude`, `env.nested`, `tmux`.
    pub id: String,
    /// What was checked, for a person: "Claude Code CLI".
    pub title: String,
    pub status: CheckStatus,
    /// What was found ("2.1.328 at /usr/bin/claude; tested with 2.1.328"). Never a secret.
    pub detail: String,
    /// What to do next when the status is not `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wire", ts(optional))]
    pub fix: Option<String>,
}

/// Every check, in the order they ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct DoctorReport {
    /// The worst status of all checks.
    pub status: CheckStatus,
    pub checks: Vec<DoctorCheck>,
}

impl DoctorReport {
    /// A report of `checks`, its status the worst of theirs.
    pub fn new(checks: Vec<DoctorCheck>) -> Self {
        let status = checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(CheckStatus::Ok);
        Self { status, checks }
    }
}
