//! The delivery log in SQLite (the store's migration 3): every notification as it changes,
//! each channel's delivery and every attempt. The notifier hands each change to the store's
//! queue (a short mutex, never SQLite on the caller's thread); the store's writer commits
//! them in order with the audit log, and keeps them in memory while the database refuses
//! writes (a full disk), writing them once it takes writes again: nothing is dropped for
//! being behind. A read first commits what is queued. Without a store (the database could
//! not be opened) the log is the notifier's memory of the newest 500.

use paddock_proto::notify::{DeliveryView, Notification};
use paddock_store::{AttemptRecord, Store, StoredNotification, UnixMs};
use std::sync::Arc;

pub(crate) enum Write {
    Notification(Arc<Notification>, UnixMs),
    Delivery(DeliveryView),
    Attempt(AttemptRecord),
}

/// Cheap to clone.
#[derive(Clone, Default)]
pub struct DeliveryLog {
    store: Option<Store>,
}

impl DeliveryLog {
    /// A log writing through `store` (none: memory only).
    pub fn new(store: Option<Store>) -> Self {
        Self { store }
    }

    /// Queues a change for the store's writer; never waits on SQLite.
    pub(crate) fn send(&self, w: Write) {
        let Some(store) = &self.store else { return };
        match w {
            Write::Notification(n, created) => store.save_notification(&n, created),
            Write::Delivery(d) => store.save_delivery(&d, UnixMs::now()),
            Write::Attempt(a) => store.add_notification_attempt(&a),
        }
    }

    /// The highest notification number logged so far (0 for none, or without a store).
    pub fn last_seq(&self) -> i64 {
        let Some(store) = &self.store else { return 0 };
        store.last_notification_seq().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the delivery log; notification numbers start again at 1");
            0
        })
    }

    /// The newest `limit` notifications, newest first; `None` without a store. Blocks
    /// (SQLite): call it off the runtime. Records still queued because the database refuses
    /// writes are not in it until they are written.
    pub fn read(
        &self,
        limit: u32,
    ) -> Option<Result<Vec<StoredNotification>, paddock_store::StoreError>> {
        let store = self.store.as_ref()?;
        Some(store.notifications(limit))
    }
}
