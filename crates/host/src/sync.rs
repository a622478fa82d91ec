//! Small helpers for shared state.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, recovering the data if a thread panicked while holding it: the data we
/// guard (ring, metadata) stays consistent between statements, so a poisoned lock is still
/// safe to use and the holder must keep serving its agent.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
