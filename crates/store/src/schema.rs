//! Opening SQLite connections with the store's settings, and the numbered migrations that
//! are embedded in the binary and bring any older database up to [`SCHEMA_VERSION`].
//!
//! The schema version lives in SQLite's `PRAGMA user_version` (in the file header, so it
//! changes atomically with the migration's own statements). Each migration is one `.sql` file
//! in `migrations/`, applied in its own `BEGIN IMMEDIATE` transaction together with the
//! version bump: a crash or a failure leaves the database at the version before it.

use crate::error::StoreError;
use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// One numbered migration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order, numbered from 1 without gaps. Append only: never edit one that
/// has shipped.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "transcripts",
        sql: include_str!("../migrations/0002_transcripts.sql"),
    },
    Migration {
        version: 3,
        name: "notifications",
        sql: include_str!("../migrations/0003_notifications.sql"),
    },
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: u32 = 3;

/// How long a statement waits for another connection's lock before failing with "busy".
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The WAL file is truncated back to this size after a checkpoint.
const JOURNAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// What a connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The one connection that writes: sets WAL and `synchronous=NORMAL`.
    Write,
    /// A reader: `query_only`, so a bug can never write through it.
    Read,
}

/// Opens the database file and applies the settings for `role`.
pub(crate) fn open_file(path: &Path, role: Role) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|source| StoreError::Open {
        path: path.to_owned(),
        source,
    })?;
    configure(&conn, role, true).map_err(|source| {
        if matches!(
            source.sqlite_error_code(),
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
        ) {
            StoreError::NotADatabase {
                path: path.to_owned(),
                source,
            }
        } else {
            StoreError::Open {
                path: path.to_owned(),
                source,
            }
        }
    })?;
    Ok(conn)
}

/// Opens a private in-memory database with the settings of a writer (no WAL in memory).
pub(crate) fn open_memory() -> Result<Connection, StoreError> {
    let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
        path: ":memory:".into(),
        source,
    })?;
    configure(&conn, Role::Write, false).map_err(|source| StoreError::Open {
        path: ":memory:".into(),
        source,
    })?;
    Ok(conn)
}

fn configure(conn: &Connection, role: Role, file: bool) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The first statement reads the header: a file that is not a database fails here.
    conn.pragma_update(None, "foreign_keys", true)?;
    match role {
        Role::Write => {
            if file {
                let mode: String =
                    conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
                if !mode.eq_ignore_ascii_case("wal") {
                    tracing::warn!(
                        journal_mode = %mode,
                        "SQLite refused WAL mode (is the data directory on a network file \
                         system?); the store works, but readers may wait for writes"
                    );
                }
                conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
            }
            conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        Role::Read => conn.pragma_update(None, "query_only", true)?,
    }
    Ok(())
}

/// The database's schema version.
pub(crate) fn user_version(conn: &Connection) -> Result<u32, rusqlite::Error> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Applies every migration of `migrations` newer than the database; returns the version the
/// database is at afterwards. `label` names the database in errors.
pub(crate) fn migrate(
    conn: &mut Connection,
    migrations: &[Migration],
    label: &Path,
) -> Result<u32, StoreError> {
    let known = migrations.last().map_or(0, |m| m.version);
    let read_version = |conn: &Connection| {
        user_version(conn).map_err(|e| StoreError::sqlite("reading the schema version", e))
    };
    let too_new = |found| StoreError::SchemaTooNew {
        path: label.to_owned(),
        found,
        known,
    };
    let mut current = read_version(conn)?;
    if current > known {
        return Err(too_new(current));
    }
    let start = current;
    for m in migrations.iter().filter(|m| m.version > start) {
        let failed = |source| StoreError::Migration {
            version: m.version,
            name: m.name,
            source,
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        // Another process may have migrated since the version was read.
        let now = read_version(&tx)?;
        if now > known {
            return Err(too_new(now));
        }
        if now >= m.version {
            current = now;
            continue;
        }
        tx.execute_batch(m.sql).map_err(failed)?;
        tx.pragma_update(None, "user_version", m.version)
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
        current = m.version;
        tracing::info!(
            version = m.version,
            name = m.name,
            db = %label.display(),
            "database schema upgraded"
        );
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(
                m.version as usize,
                i + 1,
                "migration {} is out of order",
                m.name
            );
            assert!(!m.sql.trim().is_empty());
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version_untouched() {
        let mut conn = open_memory().expect("open");
        let broken = [
            MIGRATIONS[0],
            Migration {
                version: 2,
                name: "broken",
                sql: "CREATE TABLE half_done (a INTEGER); THIS IS NOT SQL;",
            },
        ];
        let err = migrate(&mut conn, &broken, Path::new(":memory:")).expect_err("must fail");
        assert!(
            matches!(err, StoreError::Migration { version: 2, .. }),
            "{err}"
        );
        assert_eq!(user_version(&conn).expect("version"), 1);
        let half_done: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'half_done'",
                [],
                |r| r.get(0),
            )
            .expect("query");
        assert_eq!(
            half_done, 0,
            "the failed migration's first statement was rolled back"
        );
    }

    #[test]
    fn a_database_from_a_newer_paddock_is_refused() {
        let mut conn = open_memory().expect("open");
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("set");
        let err = migrate(&mut conn, MIGRATIONS, Path::new("x.db")).expect_err("must fail");
        assert!(
            matches!(err, StoreError::SchemaTooNew { found, .. } if found == SCHEMA_VERSION + 1)
        );
        assert!(err.to_string().contains("upgrade Paddock"), "{err}");
    }
}
