//! Paired devices: whether one may connect, last-seen times, listing, renaming, revoking,
//! and the audit log.

use super::{Access, AccessError, AuditInput, TOUCH_EVERY};
use paddock_proto::access::{AuditEntry, DeviceId, DeviceView, Role};
use paddock_store::{AuditQuery, AuditRecord, DeviceRecord, UnixMs};
use std::time::SystemTime;

impl Access {
    /// Whether the device may still connect (in memory).
    pub fn is_active(&self, device: &DeviceId) -> bool {
        self.lock()
            .devices
            .get(&device.0)
            .is_some_and(|d| d.record.revoked.is_none())
    }

    /// Whether [`Access::touch`] would write now (in memory; never blocks), so callers on
    /// async threads hand it to a blocking thread only then.
    pub fn touch_is_due(&self, device: &DeviceId) -> bool {
        self.lock()
            .devices
            .get(&device.0)
            .is_some_and(|d| d.last_touch.is_none_or(|t| t.elapsed() >= TOUCH_EVERY))
    }

    /// Notes that a device was seen; writes it at most once a minute. Blocks when it writes.
    pub fn touch(&self, device: &DeviceId) {
        let due = {
            let mut st = self.lock();
            match st.devices.get_mut(&device.0) {
                Some(d) if d.last_touch.is_none_or(|t| t.elapsed() >= TOUCH_EVERY) => {
                    d.last_touch = Some(self.inner.clock.mono());
                    d.record.last_seen = Some(UnixMs::now());
                    true
                }
                _ => false,
            }
        };
        if due {
            if let Some(store) = &self.inner.store {
                store.touch_device(&device.0, UnixMs::now());
            }
        }
    }

    /// Every paired device, revoked ones included.
    pub fn devices(&self) -> Vec<DeviceView> {
        let st = self.lock();
        let mut all: Vec<_> = st
            .devices
            .values()
            .map(|d| view(&d.record, d.role))
            .collect();
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        all
    }

    pub fn device(&self, id: &DeviceId) -> Option<DeviceView> {
        self.lock()
            .devices
            .get(&id.0)
            .map(|d| view(&d.record, d.role))
    }

    /// Renames a device: at once in memory, then written (on a full disk, queued and
    /// written when space returns). Blocks (store write).
    pub fn rename(&self, id: &DeviceId, name: &str) -> Result<DeviceView, AccessError> {
        let name = clean_name(name)?;
        let store = self.inner.store.as_ref().ok_or(AccessError::NoDatabase)?;
        let v = {
            let mut st = self.lock();
            let d = st
                .devices
                .get_mut(&id.0)
                .ok_or_else(|| AccessError::NoSuchDevice(id.0.clone()))?;
            d.record.name = name.clone();
            view(&d.record, d.role)
        };
        if let paddock_store::Persisted::Queued(why) = store.rename_device(&id.0, &name) {
            tracing::warn!(device = %id, "a device was renamed but the name is not written yet ({why}); it is written when the database accepts writes again");
        }
        Ok(v)
    }

    /// Revokes a device: its tokens fail from now on and its live sockets are told to close.
    /// The revocation takes effect in memory before anything is written, so a full disk
    /// never lets a revoked device in; it is written at once if the disk takes it, else
    /// queued and written when space returns (docs/design/faults.md). Blocks (store write).
    pub fn revoke(&self, id: &DeviceId) -> Result<DeviceView, AccessError> {
        let store = self.inner.store.as_ref().ok_or(AccessError::NoDatabase)?;
        let at = UnixMs::now();
        let (v, at) = {
            let mut st = self.lock();
            let d = st
                .devices
                .get_mut(&id.0)
                .ok_or_else(|| AccessError::NoSuchDevice(id.0.clone()))?;
            let at = *d.record.revoked.get_or_insert(at);
            (view(&d.record, d.role), at)
        };
        self.inner.changes.send_modify(|n| *n += 1);
        if let paddock_store::Persisted::Queued(why) = store.revoke_device(&id.0, at) {
            tracing::error!(device = %id, "device {id} is revoked (refused from now on) but the revocation is not written yet ({why}); it is written when the database accepts writes again: if Paddock stops before that, revoke it again");
        }
        Ok(v)
    }

    /// Writes an audit entry. Blocks (store write); when the database refuses writes (a full
    /// disk) the entry is kept in memory and written when it accepts them again.
    pub fn audit(&self, entry: AuditInput) {
        let Some(store) = &self.inner.store else {
            tracing::warn!(action = %entry.action, actor = %entry.actor, result = %entry.result, "audit entry not stored: the database is not available");
            return;
        };
        let record = AuditRecord {
            id: 0,
            time: UnixMs::now(),
            actor: entry.actor,
            device_id: entry.device_id.map(|d| d.0),
            action: entry.action,
            target: entry.target,
            result: entry.result,
            details: entry.detail.map(serde_json::Value::String),
        };
        if let paddock_store::Persisted::Queued(why) = store.append_audit(&record) {
            tracing::warn!(action = %record.action, "an audit entry is kept in memory until the database accepts writes again ({why})");
        }
    }

    /// Audit entries, newest first. Blocks (store read).
    pub fn audit_log(
        &self,
        limit: u32,
        before_id: Option<i64>,
        device: Option<&DeviceId>,
    ) -> Result<Vec<AuditEntry>, AccessError> {
        let store = self.inner.store.as_ref().ok_or(AccessError::NoDatabase)?;
        let rows = store.audit(&AuditQuery {
            before_id,
            device_id: device.map(|d| d.0.clone()),
            limit: limit.clamp(1, 1000),
        })?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                time: humantime::format_rfc3339_millis(
                    r.time.to_system_time().max(SystemTime::UNIX_EPOCH),
                )
                .to_string(),
                actor: r.actor,
                device_id: r.device_id.map(DeviceId),
                action: r.action,
                target: r.target,
                result: r.result,
                detail: r.details.map(|d| match d {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }),
            })
            .collect())
    }
}

pub(super) fn view(r: &DeviceRecord, role: Role) -> DeviceView {
    let t = |ms: UnixMs| crate::clock::rfc3339(ms.to_system_time());
    DeviceView {
        id: DeviceId(r.id.clone()),
        name: r.name.clone(),
        role,
        created_at: t(r.created),
        last_seen_at: r.last_seen.map(t),
        revoked_at: r.revoked.map(t),
    }
}

pub(super) fn clean_name(name: &str) -> Result<String, AccessError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AccessError::BadName);
    }
    Ok(name.to_owned())
}
