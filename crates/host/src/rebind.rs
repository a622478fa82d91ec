//! A unix socket in the runtime directory that comes back when it is removed: someone ran
//! `rm -rf` on the runtime directory (a tmp cleaner, a wrong glob) while Paddock ran. The
//! listener keeps working on the unlinked file, but nobody can reach it by name any more.
//!
//! The holder (for its session's socket) and the supervisor (for `_supervisor.sock` and
//! `_mcp.sock`) call [`SocketGuard::check`] every few seconds; when the file at the path is not
//! the one they bound, the directory is made again (0700) and a new listener bound (0600). See
//! ARCHITECTURE.md, "Machine faults".

use crate::dirs::RuntimeDir;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

/// How often holders and the supervisor look for their sockets.
pub const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The identity (device, inode) of the file at `path`.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// Watches one bound socket's path.
#[derive(Debug)]
pub struct SocketGuard {
    path: PathBuf,
    bound: Option<(u64, u64)>,
}

impl SocketGuard {
    /// Remembers the socket just bound at `path`.
    pub fn new(path: PathBuf) -> Self {
        let bound = file_id(&path);
        Self { path, bound }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the socket at the path is still the one bound.
    pub fn in_place(&self) -> bool {
        self.bound.is_some() && file_id(&self.path) == self.bound
    }

    /// `Ok(None)` while the socket is in place. When it is gone (or replaced), makes the
    /// runtime directory `dir` again if needed, binds a new non-blocking listener at the path
    /// (0600) and returns it; the caller serves it instead of the old one.
    pub fn check(&mut self, dir: &RuntimeDir) -> std::io::Result<Option<UnixListener>> {
        if self.in_place() {
            return Ok(None);
        }
        RuntimeDir::open(dir.path().to_owned()).map_err(std::io::Error::other)?;
        // Whatever is at the path now is not ours (we never bound it): a stale file.
        let _ = std::fs::remove_file(&self.path);
        let listener = UnixListener::bind(&self.path)?;
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600))?;
        listener.set_nonblocking(true)?;
        self.bound = file_id(&self.path);
        Ok(Some(listener))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_directory_is_made_again_and_the_socket_bound_anew() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = RuntimeDir::open(tmp.path().join("run")).expect("dir");
        let path = dir.path().join("x.sock");
        let _first = UnixListener::bind(&path).expect("bind");
        let mut guard = SocketGuard::new(path.clone());
        assert!(guard.check(&dir).expect("check").is_none(), "in place");

        std::fs::remove_dir_all(dir.path()).expect("rm -rf");
        let second = guard.check(&dir).expect("rebind").expect("a new listener");
        let mode = std::fs::metadata(dir.path()).expect("dir").mode() & 0o777;
        assert_eq!(mode, 0o700, "the directory is private again");
        let sock_mode = std::fs::metadata(&path).expect("sock").mode() & 0o777;
        assert_eq!(sock_mode, 0o600);
        second.set_nonblocking(false).expect("blocking");
        let _client = std::os::unix::net::UnixStream::connect(&path).expect("reachable by name");
        assert!(
            second.accept().is_ok(),
            "the new listener gets the connection"
        );
        assert!(
            guard.check(&dir).expect("check").is_none(),
            "in place again"
        );
    }
}
