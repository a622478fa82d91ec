//! What the store does about a damaged or vanished database file (ARCHITECTURE.md, "Machine
//! faults"): a file that is not a database at start is moved aside to
//! `NAME.corrupt-<unix seconds>` (with its `-wal` and `-shm`) so that a fresh one can be made;
//! a file deleted while Paddock runs is rebuilt at its path from the connection that still
//! has it open (`VACUUM INTO`), so nothing committed is lost.
//!
//! Called by [`crate::Store::open_recovering`] and [`crate::Store::recover_if_deleted`].

use crate::open::secure_path;
use crate::writer::lock;
use crate::StoreError;
use crate::{schema, Store, StoreOptions};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Instant;
use std::time::{SystemTime, UNIX_EPOCH};

/// The identity of a file (device and inode), to notice it was deleted or replaced.
pub(crate) type FileId = (u64, u64);

/// The identity of the file at `path`; `None` when there is none.
pub(crate) fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// `path` with `suffix` added to its file name (`paddock.db` + `-wal`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Moves the database at `path`, and its `-wal` and `-shm` files, aside to
/// `NAME.corrupt-<unix seconds>`; returns where the database went.
pub(crate) fn move_aside(path: &Path) -> Result<PathBuf, StoreError> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let aside = with_suffix(path, &format!(".corrupt-{secs}"));
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| StoreError::DataDir { path, source }
    };
    std::fs::rename(path, &aside).map_err(err(path))?;
    for suffix in ["-wal", "-shm"] {
        let from = with_suffix(path, suffix);
        if from.exists() {
            std::fs::rename(&from, with_suffix(&aside, suffix)).map_err(err(&from))?;
        }
    }
    Ok(aside)
}

/// Copies the database that `old` still has open (its file deleted) into a new file at
/// `path`: written next to it first, then renamed into place once `old` is closed. Returns the
/// temporary file, which [`finish_rebuild`] renames.
pub(crate) fn rebuild_beside(old: &Connection, path: &Path) -> Result<PathBuf, StoreError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(parent)
            .map_err(|source| StoreError::DataDir {
                path: parent.to_owned(),
                source,
            })?;
    }
    let tmp = with_suffix(path, ".rebuild");
    let _ = std::fs::remove_file(&tmp);
    let target = tmp.to_str().ok_or_else(|| StoreError::DataDir {
        path: tmp.clone(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the database path is not valid UTF-8",
        ),
    })?;
    old.execute("VACUUM INTO ?1", [target])
        .map_err(|e| StoreError::sqlite("rebuilding the deleted database", e))?;
    Ok(tmp)
}

/// Puts the rebuilt file in place at `path`, once the old connections are closed: the
/// `-wal` and `-shm` left at `path` belonged to the deleted file and go first.
pub(crate) fn finish_rebuild(tmp: &Path, path: &Path) -> Result<(), StoreError> {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(path, suffix));
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(0o600)).map_err(|source| {
        StoreError::DataDir {
            path: tmp.to_owned(),
            source,
        }
    })?;
    std::fs::rename(tmp, path).map_err(|source| StoreError::DataDir {
        path: path.to_owned(),
        source,
    })
}

impl Store {
    /// [`Store::open_with`], but a file that is not a database (garbage, or damaged beyond
    /// reading) is moved aside to `NAME.corrupt-<unix seconds>` and a fresh database is made
    /// in its place. The move is logged as an error and shown in the store's health (degraded
    /// for [`RECOVERY_NOTICE`], then kept in its message).
    pub fn open_recovering(path: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        match Self::open_with(path, options.clone()) {
            Err(e @ StoreError::NotADatabase { .. }) => {
                let aside = move_aside(path)?;
                let note = format!(
                    "the database {} could not be read ({e}); it was moved aside to {} and a \
                     fresh, empty one was made: the history before now is in that file",
                    path.display(),
                    aside.display()
                );
                tracing::error!(path = %path.display(), aside = %aside.display(), "{note}");
                let store = Self::open_with(path, options)?;
                store.inner.shared.lock().notice = Some((Instant::now(), note));
                Ok(store)
            }
            other => other,
        }
    }

    /// Checks that the database file is still the one opened; when it was deleted (or
    /// replaced) while Paddock runs, rebuilds it at its path from the open connection
    /// (`VACUUM INTO`), so nothing committed is lost, and switches to it. Returns what was
    /// done, for the log; `None` when the file is in place (or the store is in memory).
    /// Call it from a blocking context: it takes the connections while it copies.
    pub fn recover_if_deleted(&self) -> Result<Option<String>, StoreError> {
        let Some(path) = self.inner.path.as_deref() else {
            return Ok(None);
        };
        let mut known = lock(&self.inner.file_id);
        if known.is_none() || file_id(path) == *known {
            return Ok(None);
        }
        // Lock order: the write connection, then the read one (nothing takes them the other
        // way round; they are distinct for a file).
        let mut write = lock(&self.inner.write);
        let mut read = lock(&self.inner.read);
        let tmp = rebuild_beside(&write, path)?;
        let placeholder = || schema::open_memory();
        drop(std::mem::replace(&mut *read, placeholder()?));
        drop(std::mem::replace(&mut *write, placeholder()?));
        finish_rebuild(&tmp, path)?;
        secure_path(path)?;
        let mut fresh = schema::open_file(path, schema::Role::Write)?;
        schema::migrate(&mut fresh, schema::MIGRATIONS, path)?;
        *write = fresh;
        *read = schema::open_file(path, schema::Role::Read)?;
        *known = file_id(path);
        let note = format!(
            "the database {} was deleted while Paddock was running; it was rebuilt from the \
             copy Paddock still had open, nothing was lost",
            path.display()
        );
        drop((read, write));
        self.inner.shared.lock().notice = Some((Instant::now(), note.clone()));
        Ok(Some(note))
    }
}
