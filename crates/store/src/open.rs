//! Opening the store: a database file made private (0700 folders, a 0600 file) and brought
//! up to the current schema, or a private one in memory; then its writer thread started.

use crate::writer::{self, Shared, State};
use crate::{recovery, schema, Inner, Store, StoreError, StoreOptions};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

impl Store {
    /// Opens (creating it, and its missing parent directories with mode 0700) the database
    /// at `path`, made 0600, and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Self::open_with(path, StoreOptions::default())
    }

    /// [`Store::open`] with other options.
    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        secure_path(path)?;
        let mut write = schema::open_file(path, schema::Role::Write)?;
        schema::migrate(&mut write, schema::MIGRATIONS, path)?;
        let read = schema::open_file(path, schema::Role::Read)?;
        Self::start(
            Arc::new(Mutex::new(write)),
            Arc::new(Mutex::new(read)),
            options,
            Some(path.to_owned()),
        )
    }

    /// A private database in memory, for tests: one connection shared by the writer and
    /// the readers (so reads wait while a batch commits).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Self::open_in_memory_with(StoreOptions::default())
    }

    /// [`Store::open_in_memory`] with other options.
    pub fn open_in_memory_with(options: StoreOptions) -> Result<Store, StoreError> {
        let mut conn = schema::open_memory()?;
        schema::migrate(&mut conn, schema::MIGRATIONS, Path::new(":memory:"))?;
        let conn = Arc::new(Mutex::new(conn));
        Self::start(conn.clone(), conn, options, None)
    }

    fn start(
        write: Arc<Mutex<Connection>>,
        read: Arc<Mutex<Connection>>,
        options: StoreOptions,
        path: Option<PathBuf>,
    ) -> Result<Store, StoreError> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(options.max_queued)),
            work: Condvar::new(),
            done: Condvar::new(),
            options,
        });
        let writer = std::thread::Builder::new()
            .name("paddock-store-writer".to_owned())
            .spawn({
                let (shared, write) = (shared.clone(), write.clone());
                move || writer::run(shared, write)
            })
            .map_err(|source| StoreError::Thread { source })?;
        Ok(Store {
            inner: Arc::new(Inner {
                shared,
                write,
                read,
                writer: Some(writer),
                file_id: Mutex::new(path.as_deref().and_then(recovery::file_id)),
                path,
            }),
        })
    }
}

/// Creates the database's missing parent directories (0700) and the file itself (0600), and
/// takes group and other permissions away from an existing file.
pub(crate) fn secure_path(path: &Path) -> Result<(), StoreError> {
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| StoreError::DataDir { path, source }
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(parent).map_err(err(parent))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(err(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(err(path))?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "the database was readable by others; making it 0600"
            );
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(err(path))?;
        }
    }
    Ok(())
}
