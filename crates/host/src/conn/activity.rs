//! What an `activity` client is told: the terminal printed, someone typed, a new program
//! status record; each at once, then throttled while it goes on.

use crate::holder::Shared;
use paddock_proto::{Message, Notification};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How often an `activity` client is told the terminal printed, at most.
const ACTIVITY_EVERY: Duration = Duration::from_millis(200);
/// How often an `activity` client is told someone typed, at most: presence counts in
/// minutes, so a few seconds' grain is plenty and typing costs no message per key.
const TYPED_EVERY: Duration = Duration::from_secs(2);

/// Tells an `activity` client when output arrives and when a person types, each at once,
/// then at most every [`ACTIVITY_EVERY`] / [`TYPED_EVERY`] while it goes on, and once more
/// after it stops. Quiet terminals cost nothing: the tasks sleep on their watches.
///
/// Clients of protocol 3 or later are also told each new program status record (OSC 7501)
/// at once: a state change is what the supervisor waits for.
pub(super) async fn activity_loop(shared: Arc<Shared>, ctl: mpsc::Sender<Message>, version: u32) {
    let status_ctl = ctl.clone();
    let status_shared = shared.clone();
    let status = async move {
        let ctl = status_ctl;
        if version < 3 {
            return;
        }
        let mut rx = status_shared.status_tx.subscribe();
        while rx.changed().await.is_ok() {
            let status = rx.borrow_and_update().clone();
            let msg = Message::Notification {
                payload: Notification::ProgramStatus { status },
            };
            if ctl.send(msg).await.is_err() {
                return;
            }
        }
    };
    let output = throttled(
        shared.end_tx.subscribe(),
        ctl.clone(),
        ACTIVITY_EVERY,
        |end| Notification::Output { end },
    );
    let typed = throttled(shared.typed_tx.subscribe(), ctl, TYPED_EVERY, |count| {
        Notification::Typed { count }
    });
    tokio::join!(output, typed, status);
}

/// Sends `make(value)` whenever `rx` changes, at most once per `every`.
async fn throttled(
    mut rx: watch::Receiver<u64>,
    ctl: mpsc::Sender<Message>,
    every: Duration,
    make: impl Fn(u64) -> Notification,
) {
    while rx.changed().await.is_ok() {
        let value = *rx.borrow_and_update();
        let msg = Message::Notification {
            payload: make(value),
        };
        // A client that does not read its queue misses activity, never output or answers.
        if let Err(mpsc::error::TrySendError::Closed(_)) = ctl.try_send(msg) {
            return;
        }
        tokio::time::sleep(every).await;
    }
}
