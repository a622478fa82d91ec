//! The private runtime directory where holders keep their sockets and metadata files.
//!
//! `$PADDOCK_RUNTIME_DIR` if set, else `$XDG_RUNTIME_DIR/paddock`, else
//! `$TMPDIR/paddock-<uid>` (or `/tmp/paddock-<uid>`). The directory is created 0700 and
//! refused if another user owns it or if it is a symlink; sockets inside are 0600.

use paddock_proto::SessionId;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why the runtime directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    #[error("cannot create the runtime directory {path}: {source}. Set PADDOCK_RUNTIME_DIR to a directory you own")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the runtime directory {path} belongs to user {owner}, not to you ({uid}); remove it or set PADDOCK_RUNTIME_DIR")]
    NotOwned { path: PathBuf, owner: u32, uid: u32 },
    #[error("the runtime directory {path} is not a directory (or is a symlink); remove it or set PADDOCK_RUNTIME_DIR")]
    NotADirectory { path: PathBuf },
}

/// The runtime directory's path, without creating it.
pub fn runtime_dir_path() -> PathBuf {
    if let Some(dir) = std::env::var_os("PADDOCK_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return Path::new(&dir).join("paddock");
    }
    let tmp = std::env::var_os("TMPDIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    tmp.join(format!("paddock-{}", nix::unistd::getuid()))
}

/// The runtime directory, created private if missing and checked if present.
pub fn runtime_dir() -> Result<RuntimeDir, DirError> {
    RuntimeDir::open(runtime_dir_path())
}

/// A checked private directory holding sessions' sockets and metadata.
#[derive(Debug, Clone)]
pub struct RuntimeDir {
    path: PathBuf,
}

impl RuntimeDir {
    /// Creates `path` 0700 if missing; refuses it if it is not ours or not a directory, and
    /// tightens its mode to 0700 if it is ours but looser.
    pub fn open(path: PathBuf) -> Result<Self, DirError> {
        match fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&path)
        {
            Ok(()) => {}
            Err(source) => return Err(DirError::Create { path, source }),
        }
        let meta = fs::symlink_metadata(&path).map_err(|source| DirError::Create {
            path: path.clone(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(DirError::NotADirectory { path });
        }
        let uid = nix::unistd::getuid().as_raw();
        if meta.uid() != uid {
            return Err(DirError::NotOwned {
                path,
                owner: meta.uid(),
                uid,
            });
        }
        if meta.mode() & 0o077 != 0 {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).map_err(|source| {
                DirError::Create {
                    path: path.clone(),
                    source,
                }
            })?;
        }
        Ok(Self { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `<dir>/<id>.sock`
    pub fn socket_path(&self, id: &SessionId) -> PathBuf {
        self.path.join(format!("{id}.sock"))
    }

    /// `<dir>/<id>.json`
    pub fn meta_path(&self, id: &SessionId) -> PathBuf {
        self.path.join(format!("{id}.json"))
    }

    /// `<dir>/<id>.log`: the holder's own log (not the agent's output).
    pub fn log_path(&self, id: &SessionId) -> PathBuf {
        self.path.join(format!("{id}.log"))
    }

    /// `<dir>/<id>.fifo`: the FIFO a tmux bridge reads its pane's output from (0600).
    pub fn fifo_path(&self, id: &SessionId) -> PathBuf {
        self.path.join(format!("{id}.fifo"))
    }

    /// `<dir>/<id>.settings`: the hook settings `paddock run` gave the session's agent.
    pub fn settings_path(&self, id: &SessionId) -> PathBuf {
        self.path.join(format!("{id}.settings"))
    }

    /// `<dir>/<id>.codex-app-server`: the socket of the Codex app-server a session runs
    /// (`codex_app_server`; Codex makes it a symlink to its real socket under `/tmp`).
    pub fn codex_socket_path(&self, id: &SessionId) -> PathBuf {
        self.path.join(format!("{id}.codex-app-server"))
    }

    /// `<dir>/<id>.orchestrator`: the owner granted the session the MCP orchestrator role.
    pub fn orchestrator_path(&self, id: &SessionId) -> PathBuf {
        self.path.join(format!("{id}.orchestrator"))
    }

    /// Removes a session's socket, metadata, log, FIFO and settings, ignoring files already
    /// gone.
    pub fn remove_session_files(&self, id: &SessionId) {
        // Codex's real socket (and its lock), which the session's symlink names: left behind
        // when its app-server was killed. Only ever one under Codex's own folder.
        if let Ok(real) = fs::read_link(self.codex_socket_path(id)) {
            let in_codex_folder = real
                .parent()
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("codex-daemon-"));
            if in_codex_folder {
                let _ = fs::remove_file(real.with_extension("lock"));
                let _ = fs::remove_file(&real);
            }
        }
        for p in [
            self.socket_path(id),
            self.meta_path(id),
            self.log_path(id),
            self.fifo_path(id),
            self.settings_path(id),
            self.codex_socket_path(id),
            self.orchestrator_path(id),
        ] {
            let _ = fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_a_private_directory_and_tightens_a_loose_one() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("rt");
        let dir = RuntimeDir::open(path.clone()).expect("created");
        let mode = fs::metadata(dir.path()).expect("stat").mode() & 0o777;
        assert_eq!(mode, 0o700);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
        RuntimeDir::open(path.clone()).expect("reopened");
        assert_eq!(fs::metadata(&path).expect("stat").mode() & 0o777, 0o700);
    }

    #[test]
    fn refuses_a_symlink() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let real = tmp.path().join("real");
        fs::create_dir(&real).expect("mkdir");
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        assert!(matches!(
            RuntimeDir::open(link),
            Err(DirError::NotADirectory { .. })
        ));
    }
}
