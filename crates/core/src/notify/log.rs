//! The delivery log in SQLite (the store's migration 3): every notification as it changes,
//! each channel's delivery and every attempt. The notifier hands each change to one thread of
//! the log's own, which writes it through the store, so no task on the runtime waits on
//! SQLite; a read first lets that thread catch up. Without a store (the database could not
//! be opened) the log is the notifier's memory of the newest 500.

use paddock_proto::notify::{DeliveryView, Notification};
use paddock_store::{AttemptRecord, Store, StoredNotification, UnixMs};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// Changes waiting for the log's thread, at most; past it they are dropped (and said).
const QUEUE: usize = 4096;
/// How long a read waits for the log's thread to catch up.
const CATCH_UP: Duration = Duration::from_secs(2);

pub(crate) enum Write {
    Notification(Arc<Notification>, UnixMs),
    Delivery(DeliveryView),
    Attempt(AttemptRecord),
    CaughtUp(mpsc::Sender<()>),
}

/// Cheap to clone.
#[derive(Clone, Default)]
pub struct DeliveryLog {
    store: Option<Store>,
    tx: Option<mpsc::SyncSender<Write>>,
}

impl DeliveryLog {
    /// A log writing through `store` (none: memory only).
    pub fn new(store: Option<Store>) -> Self {
        let Some(store) = store else {
            return Self::default();
        };
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let writer = store.clone();
        let spawned = std::thread::Builder::new()
            .name("notify-log".into())
            .spawn(move || write_loop(&writer, &rx));
        match spawned {
            Ok(_) => Self {
                store: Some(store),
                tx: Some(tx),
            },
            Err(e) => {
                tracing::error!(error = %e, "cannot start the delivery log's thread; the log stays in memory");
                Self::default()
            }
        }
    }

    pub(crate) fn send(&self, w: Write) {
        if let Some(tx) = &self.tx {
            if let Err(mpsc::TrySendError::Full(_)) = tx.try_send(w) {
                tracing::warn!("the delivery log is behind the notifier; a change was not logged");
            }
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
    /// (SQLite): call it off the runtime.
    pub fn read(
        &self,
        limit: u32,
    ) -> Option<Result<Vec<StoredNotification>, paddock_store::StoreError>> {
        let store = self.store.as_ref()?;
        if let Some(tx) = &self.tx {
            let (done, wait) = mpsc::channel();
            if tx.send(Write::CaughtUp(done)).is_ok() {
                let _ = wait.recv_timeout(CATCH_UP);
            }
        }
        Some(store.notifications(limit))
    }
}

fn write_loop(store: &Store, rx: &mpsc::Receiver<Write>) {
    let mut failing = false;
    while let Ok(w) = rx.recv() {
        let result = match w {
            Write::Notification(n, created) => store.save_notification(&n, created),
            Write::Delivery(d) => store.save_delivery(&d, UnixMs::now()),
            Write::Attempt(a) => store.add_notification_attempt(&a),
            Write::CaughtUp(done) => {
                let _ = done.send(());
                continue;
            }
        };
        match result {
            Ok(()) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "cannot write the delivery log; notifications still go out");
            }
            Err(_) => {}
        }
    }
}
