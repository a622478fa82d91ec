//! Questions MCP callers put to their owner (`ask_owner`) that are still open after the tool
//! returned with a ticket: their waiters are kept here so the owner's answer is still taken
//! (a request whose waiter is gone counts as withdrawn), and `get_answer` reads the outcome
//! from the one permission registry.

use paddock_proto::agent::Decision;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Most open tickets kept; the oldest are dropped (and so withdrawn) past this.
const MAX_OPEN: usize = 256;

/// Open questions' waiters, by request id. Cheap to clone.
#[derive(Clone, Default)]
pub struct Asks {
    inner: Arc<Mutex<HashMap<String, oneshot::Receiver<Decision>>>>,
}

impl Asks {
    /// Keeps `waiter` for request `id` until the owner answers.
    pub fn keep(&self, id: String, waiter: oneshot::Receiver<Decision>) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, w| matches!(w.try_recv(), Err(oneshot::error::TryRecvError::Empty)));
        if map.len() >= MAX_OPEN {
            if let Some(oldest) = map
                .keys()
                .min_by_key(|k| k[1..].parse::<u64>().unwrap_or(0))
                .cloned()
            {
                map.remove(&oldest);
            }
        }
        map.insert(id, waiter);
    }

    /// Whether request `id` is a question kept here: it waits for the owner, not for the
    /// agent's terminal, so the agent moving on does not answer it.
    pub fn holds(&self, id: &str) -> bool {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.contains_key(id)
    }
}
