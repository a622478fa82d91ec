//! Shared test helpers: a temporary data directory, a raw SQLite view of the database, and
//! waiting on a named condition with a deadline.
#![allow(dead_code)]

use paddock_store::{Store, StoreOptions};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A temporary data directory, removed on drop.
pub struct DataDir {
    dir: tempfile::TempDir,
}

impl DataDir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("data").join("paddock.db")
    }

    pub fn open(&self) -> Store {
        Store::open(&self.db()).expect("open the store")
    }

    pub fn open_with(&self, options: StoreOptions) -> Store {
        Store::open_with(&self.db(), options).expect("open the store")
    }

    /// A read-only connection of our own, to look at the tables directly.
    pub fn raw(&self) -> Connection {
        Connection::open_with_flags(self.db(), OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open read-only")
    }
}

pub fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Polls `cond` until it holds; panics naming `what` after `within`.
pub fn wait_for(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub const MIN: i64 = 60_000;
pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 86_400_000;

pub fn sid(s: &str) -> paddock_proto::SessionId {
    paddock_proto::SessionId::parse(s).expect("session id")
}

/// The wall-clock time of `ms` unix milliseconds.
pub fn st(ms: i64) -> std::time::SystemTime {
    paddock_store::UnixMs(ms).to_system_time()
}
