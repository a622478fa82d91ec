//! Paired devices and the audit log (the `devices` and `audit_log` tables). A new device is
//! written at once (pairing is refused when it cannot be). Audit entries and changes to a
//! device ([`DeviceChange`]) go through the writer's queue in order and are waited for, so
//! they are on disk when the call returns if the disk takes them, and kept in memory and
//! written when it does again if not (a full disk; docs/design/faults.md).

use crate::time::UnixMs;
use crate::{queue, Persisted, Store, StoreError};
use rusqlite::{params, Connection, OptionalExtension, Row};

/// One paired device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub id: String,
    pub name: String,
    /// `admin`, `operator`, `viewer` or `guest`.
    pub role: String,
    /// SHA-256 (hex) of the device's refresh token; the token itself is never stored.
    pub token_hash: String,
    pub created: UnixMs,
    pub last_seen: Option<UnixMs>,
    pub revoked: Option<UnixMs>,
}

/// One audit entry. `id` is assigned by the database (ignored when appending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub time: UnixMs,
    pub actor: String,
    pub device_id: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub result: String,
    /// A JSON value (object or string).
    pub details: Option<serde_json::Value>,
}

/// Which audit entries to read: newest first, `limit` of them, older than `before_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub before_id: Option<i64>,
    pub device_id: Option<String>,
    pub limit: u32,
}

/// A change to a stored device, queued and written in order with the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceChange {
    Rename {
        id: String,
        name: String,
    },
    /// A rotated refresh token: its new SHA-256 (hex).
    Token {
        id: String,
        token_hash: String,
    },
    /// Revoked at this time (the first revocation's time is kept).
    Revoke {
        id: String,
        at: UnixMs,
    },
    /// Last seen at this time.
    Touch {
        id: String,
        at: UnixMs,
    },
}

/// Applies a queued device change (a device that is gone changes nothing).
pub(crate) fn apply_device_change(c: &Connection, change: &DeviceChange) -> rusqlite::Result<()> {
    match change {
        DeviceChange::Rename { id, name } => rename_device(c, id, name).map(drop),
        DeviceChange::Token { id, token_hash } => set_device_token(c, id, token_hash).map(drop),
        DeviceChange::Revoke { id, at } => revoke_device(c, id, *at).map(drop),
        DeviceChange::Touch { id, at } => touch_device(c, id, *at),
    }
}

fn device(row: &Row<'_>) -> rusqlite::Result<DeviceRecord> {
    Ok(DeviceRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        role: row.get(2)?,
        token_hash: row.get(3)?,
        created: UnixMs(row.get(4)?),
        last_seen: row.get::<_, Option<i64>>(5)?.map(UnixMs),
        revoked: row.get::<_, Option<i64>>(6)?.map(UnixMs),
    })
}

const DEVICE_COLUMNS: &str = "id, name, role, token_hash, created_ms, last_seen_ms, revoked_ms";

pub(crate) fn insert_device(c: &Connection, d: &DeviceRecord) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO devices (id, name, role, token_hash, created_ms, last_seen_ms, revoked_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            d.id,
            d.name,
            d.role,
            d.token_hash,
            d.created.0,
            d.last_seen.map(|t| t.0),
            d.revoked.map(|t| t.0)
        ],
    )?;
    Ok(())
}

pub(crate) fn devices(c: &Connection) -> rusqlite::Result<Vec<DeviceRecord>> {
    let mut st = c.prepare(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY created_ms, id"
    ))?;
    let rows = st.query_map([], device)?;
    rows.collect()
}

pub(crate) fn device_by_id(c: &Connection, id: &str) -> rusqlite::Result<Option<DeviceRecord>> {
    c.query_row(
        &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"),
        [id],
        device,
    )
    .optional()
}

/// Returns whether a row changed.
pub(crate) fn rename_device(c: &Connection, id: &str, name: &str) -> rusqlite::Result<bool> {
    Ok(c.execute(
        "UPDATE devices SET name = ?2 WHERE id = ?1",
        params![id, name],
    )? > 0)
}

/// Replaces a device's refresh-token hash; returns whether the device exists.
pub(crate) fn set_device_token(c: &Connection, id: &str, hash: &str) -> rusqlite::Result<bool> {
    Ok(c.execute(
        "UPDATE devices SET token_hash = ?2 WHERE id = ?1",
        params![id, hash],
    )? > 0)
}

/// Sets `revoked_ms` unless already revoked; returns whether the device exists.
pub(crate) fn revoke_device(c: &Connection, id: &str, at: UnixMs) -> rusqlite::Result<bool> {
    c.execute(
        "UPDATE devices SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
        params![id, at.0],
    )?;
    Ok(device_by_id(c, id)?.is_some())
}

pub(crate) fn touch_device(c: &Connection, id: &str, at: UnixMs) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE devices SET last_seen_ms = ?2 WHERE id = ?1",
        params![id, at.0],
    )?;
    Ok(())
}

pub(crate) fn append_audit(c: &Connection, a: &AuditRecord) -> rusqlite::Result<()> {
    let details = a.details.as_ref().map(|d| d.to_string());
    c.execute(
        "INSERT INTO audit_log (time_ms, actor, device_id, action, target, result, details)
         VALUES (?1, ?2, (SELECT id FROM devices WHERE id = ?3), ?4, ?5, ?6, ?7)",
        params![
            a.time.0,
            a.actor,
            a.device_id,
            a.action,
            a.target,
            a.result,
            details
        ],
    )?;
    Ok(())
}

pub(crate) fn audit(c: &Connection, q: &AuditQuery) -> rusqlite::Result<Vec<AuditRecord>> {
    let mut st = c.prepare(
        "SELECT id, time_ms, actor, device_id, action, target, result, details FROM audit_log
         WHERE (?1 IS NULL OR id < ?1) AND (?2 IS NULL OR device_id = ?2)
         ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = st.query_map(params![q.before_id, q.device_id, q.limit], |row| {
        let details: Option<String> = row.get(7)?;
        Ok(AuditRecord {
            id: row.get(0)?,
            time: UnixMs(row.get(1)?),
            actor: row.get(2)?,
            device_id: row.get(3)?,
            action: row.get(4)?,
            target: row.get(5)?,
            result: row.get(6)?,
            details: details.and_then(|d| serde_json::from_str(&d).ok()),
        })
    })?;
    rows.collect()
}

impl Store {
    /// Adds a paired device; written before this returns, or refused (a full disk is
    /// [`StoreError::DiskFull`]): a device known only in memory would be forgotten at the
    /// next start, so pairing waits for space instead. While the writer's commits fail for
    /// a full disk it is refused without trying (a small write may still fit in space SQLite
    /// had taken before, but the disk is full all the same and the queue waits).
    pub fn insert_device(&self, d: &DeviceRecord) -> Result<(), StoreError> {
        if self.inner.shared.lock().last_error_code == Some("disk_full") {
            return Err(StoreError::DiskFull {
                source: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                    Some("the store's queued records cannot be committed".to_owned()),
                ),
            });
        }
        self.write_now("adding a device", |c| insert_device(c, d))
    }

    /// Every paired device, revoked ones included, oldest first.
    pub fn devices(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        self.read("reading devices", devices)
    }

    /// Renames a device (an unknown id changes nothing); waits for the write.
    pub fn rename_device(&self, id: &str, name: &str) -> Persisted {
        self.write_durable(queue::Durable::Device(DeviceChange::Rename {
            id: id.to_owned(),
            name: name.to_owned(),
        }))
    }

    /// Replaces a device's refresh-token hash (rotation); waits for the write.
    pub fn set_device_token(&self, id: &str, token_hash: &str) -> Persisted {
        self.write_durable(queue::Durable::Device(DeviceChange::Token {
            id: id.to_owned(),
            token_hash: token_hash.to_owned(),
        }))
    }

    /// Revokes a device (keeps the first revocation time); waits for the write.
    pub fn revoke_device(&self, id: &str, at: UnixMs) -> Persisted {
        self.write_durable(queue::Durable::Device(DeviceChange::Revoke {
            id: id.to_owned(),
            at,
        }))
    }

    /// Queues when a device was last seen (not waited for).
    pub fn touch_device(&self, id: &str, at: UnixMs) {
        self.enqueue(|q| {
            q.push_durable(queue::Durable::Device(DeviceChange::Touch {
                id: id.to_owned(),
                at,
            }))
        });
    }

    /// Appends an audit entry (a `device_id` that is not a paired device is stored as NULL;
    /// `id` is ignored); waits for the write.
    pub fn append_audit(&self, a: &AuditRecord) -> Persisted {
        self.write_durable(queue::Durable::Audit(a.clone()))
    }

    /// Audit entries, newest first (after writing what is queued, if the database takes it).
    pub fn audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let _ = self.flush();
        self.write_now("reading the audit log", |c| audit(c, q))
    }
}
