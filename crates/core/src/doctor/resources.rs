//! The machine's resources: free disk for the data directory and the open-file limit.

use super::{check, WithFix};
use paddock_proto::doctor::{CheckStatus, DoctorCheck};
use paddock_proto::supervisor::SupervisorStatus;
use std::path::Path;

/// Free space below which the data directory is a problem, and below which it is worth a look.
pub(super) const DISK_FAIL: u64 = 100 << 20;
pub(super) const DISK_WARN: u64 = 1 << 30;
/// Descriptors the supervisor needs beyond its sessions, and per session it serves.
pub(super) const FDS_BASE: u64 = 64;
pub(super) const FDS_PER_SESSION: u64 = 8;
/// Sessions the open-file limit should leave room for at least.
pub(super) const SESSIONS_PLANNED: u64 = 100;

pub(super) fn disk_check(data: &Path) -> DoctorCheck {
    const TITLE: &str = "Free disk for the data directory";
    let existing = data.ancestors().find(|p| p.exists()).unwrap_or(data);
    match nix::sys::statvfs::statvfs(existing) {
        Ok(st) => {
            // Both are narrower than u64 on some systems (macOS).
            #[allow(clippy::unnecessary_cast)]
            let free = st.blocks_available() as u64 * st.fragment_size() as u64;
            let detail = format!("{} free at {}", human_bytes(free), data.display());
            if free < DISK_FAIL {
                check("disk", TITLE, CheckStatus::Fail, detail)
                    .fix("free some space: history and recordings stop being written")
            } else if free < DISK_WARN {
                check("disk", TITLE, CheckStatus::Warn, detail)
                    .fix("free some space, or lower `retention_days`")
            } else {
                check("disk", TITLE, CheckStatus::Ok, detail)
            }
        }
        Err(e) => check(
            "disk",
            TITLE,
            CheckStatus::Warn,
            format!("cannot read the free space of {}: {e}", existing.display()),
        ),
    }
}

pub(super) fn human_bytes(n: u64) -> String {
    const G: f64 = (1u64 << 30) as f64;
    const M: f64 = (1u64 << 20) as f64;
    if n as f64 >= G {
        format!("{:.1} GiB", n as f64 / G)
    } else {
        format!("{:.0} MiB", n as f64 / M)
    }
}

pub(super) fn open_files_check(status: Option<&SupervisorStatus>) -> DoctorCheck {
    const TITLE: &str = "Open-file limit";
    let sessions = status.map(|s| s.sessions as u64).unwrap_or(0);
    let want = FDS_BASE + FDS_PER_SESSION * sessions.max(SESSIONS_PLANNED);
    match nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            let detail = format!(
                "{soft} (hard {hard}); {want} leaves room for {} sessions",
                sessions.max(SESSIONS_PLANNED)
            );
            if soft >= want {
                check("open_files", TITLE, CheckStatus::Ok, detail)
            } else {
                check("open_files", TITLE, CheckStatus::Warn, detail).fix(format!(
                    "raise it before `paddock up`: `ulimit -n {}`",
                    want.min(hard)
                ))
            }
        }
        Err(e) => check(
            "open_files",
            TITLE,
            CheckStatus::Warn,
            format!("cannot read the limit: {e}"),
        ),
    }
}
