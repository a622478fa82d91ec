//! The store's errors. Each message says what went wrong and what the user can do next.

use rusqlite::ErrorCode;
use std::path::PathBuf;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error(
        "cannot create or secure the data directory or database file {path}: {source}; \
         check that you own it and that its parent directory is writable, or set another \
         data_dir"
    )]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "cannot open the database {path}: {source}; check the file's owner and permissions, \
         or move it aside to start with an empty history"
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error(
        "{path} is not a Paddock database or is damaged ({source}); move it aside (Paddock \
         then starts an empty one) and keep the copy for a bug report"
    )]
    NotADatabase {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error(
        "the database {path} has schema version {found}, newer than this Paddock knows \
         ({known}); upgrade Paddock, or move the file aside to start with an empty history"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },

    #[error(
        "upgrading the database to schema version {version} ({name}) failed: {source}; the \
         database was left at the version before it. Free disk space if it is full and start \
         again; if it fails again, report it with the database file"
    )]
    Migration {
        version: u32,
        name: &'static str,
        source: rusqlite::Error,
    },

    #[error(
        "the disk holding the database is full ({source}); free some space: records still \
         queued are kept in memory and written again"
    )]
    DiskFull { source: rusqlite::Error },

    #[error(
        "the database stayed locked by another process ({source}); check that only one \
         Paddock supervisor uses this data directory"
    )]
    Busy { source: rusqlite::Error },

    #[error(
        "{action} failed: {source}; if this repeats, check the disk and the data directory's \
         permissions, and run the store's integrity check"
    )]
    Sqlite {
        action: &'static str,
        source: rusqlite::Error,
    },

    #[error(
        "the database holds a value Paddock cannot read ({what}); the file may be damaged or \
         written by another program: run the store's integrity check and report this"
    )]
    Malformed { what: String },

    #[error(
        "writing queued records failed: {message}; they stay queued in memory and are written \
         again shortly (the store's health shows the state)"
    )]
    WriteFailed { message: String },

    #[error(
        "cannot start the store's writer thread: {source}; the system is out of threads or \
         memory: close some programs and start Paddock again"
    )]
    Thread { source: std::io::Error },

    #[error(
        "the store's writer thread has stopped, so nothing more is saved; restart Paddock and \
         report this bug"
    )]
    WriterStopped,

    /// A history search the full-text engine cannot read (an unclosed `"`, ...); the message
    /// says what to change.
    #[error("{0}")]
    BadSearch(String),
}

impl StoreError {
    /// Classifies an SQLite error met while doing `action`.
    pub(crate) fn sqlite(action: &'static str, source: rusqlite::Error) -> Self {
        match source.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull { source },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StoreError::Busy { source }
            }
            _ => StoreError::Sqlite { action, source },
        }
    }

    /// A short stable name for the kind of error, for logs and for `{code, message}` answers.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::DataDir { .. } => "data_dir",
            StoreError::Open { .. } => "open",
            StoreError::NotADatabase { .. } => "not_a_database",
            StoreError::SchemaTooNew { .. } => "schema_too_new",
            StoreError::Migration { .. } => "migration",
            StoreError::DiskFull { .. } => "disk_full",
            StoreError::Busy { .. } => "busy",
            StoreError::Sqlite { .. } => "sqlite",
            StoreError::Malformed { .. } => "malformed",
            StoreError::WriteFailed { .. } => "write_failed",
            StoreError::Thread { .. } => "thread",
            StoreError::WriterStopped => "writer_stopped",
            StoreError::BadSearch(_) => "bad_search",
        }
    }
}

/// Whether an SQLite error is about the data of one record (which will fail again however
/// often it is retried) rather than about the database or the disk (which may recover).
pub(crate) fn is_data_error(e: &rusqlite::Error) -> bool {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => matches!(
            f.code,
            ErrorCode::ConstraintViolation | ErrorCode::TooBig | ErrorCode::TypeMismatch
        ),
        rusqlite::Error::ToSqlConversionFailure(_) => true,
        _ => false,
    }
}
