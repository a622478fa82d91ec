//! Watching transcript files for growth by polling, for the live readers and the history.

use crate::AgentError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Polls a set of files for growth and calls `on_change` with each file that changed (its
/// size or modification time), from its own thread. Portable (no inotify/FSEvents): one
/// `stat` per watched file per interval, a few microseconds each, so watching the live
/// transcripts of dozens of sessions every 50 ms costs next to nothing and a new line is
/// seen within one interval.
pub struct TranscriptWatcher {
    shared: std::sync::Arc<WatchShared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct WatchShared {
    files: std::sync::Mutex<HashMap<PathBuf, Option<(u64, std::time::SystemTime)>>>,
    stop: std::sync::Mutex<bool>,
    wake: std::sync::Condvar,
}

impl std::fmt::Debug for TranscriptWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranscriptWatcher").finish_non_exhaustive()
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl TranscriptWatcher {
    /// Starts the polling thread.
    pub fn start(
        interval: Duration,
        on_change: impl Fn(&Path) + Send + 'static,
    ) -> Result<TranscriptWatcher, AgentError> {
        let shared = std::sync::Arc::new(WatchShared {
            files: std::sync::Mutex::new(HashMap::new()),
            stop: std::sync::Mutex::new(false),
            wake: std::sync::Condvar::new(),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("paddock-transcript-watch".into())
            .spawn(move || loop {
                {
                    let stop = lock(&s.stop);
                    if *stop {
                        return;
                    }
                    // Nothing watched: sleep until `watch` or `drop` wakes us, so an idle
                    // supervisor's watcher costs no wakeups at all.
                    let idle = lock(&s.files).is_empty();
                    let stop = if idle {
                        s.wake
                            .wait(stop)
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                    } else {
                        s.wake
                            .wait_timeout(stop, interval)
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .0
                    };
                    if *stop {
                        return;
                    }
                }
                let mut changed = Vec::new();
                {
                    let mut files = lock(&s.files);
                    for (path, last) in files.iter_mut() {
                        let now = std::fs::metadata(path)
                            .ok()
                            .and_then(|m| Some((m.len(), m.modified().ok()?)));
                        if now != *last {
                            *last = now;
                            if now.is_some() {
                                changed.push(path.clone());
                            }
                        }
                    }
                }
                for p in changed {
                    on_change(&p);
                }
            })
            .map_err(|source| AgentError::Io {
                path: PathBuf::from("(watcher thread)"),
                source,
            })?;
        Ok(TranscriptWatcher {
            shared,
            thread: Some(thread),
        })
    }

    /// Watches `path` (it may not exist yet); a file that exists is reported at the next
    /// poll once, then on every change.
    pub fn watch(&self, path: &Path) {
        lock(&self.shared.files)
            .entry(path.to_owned())
            .or_insert(None);
        // Take the stop lock so the thread is either before its emptiness check (and sees
        // the file) or waiting (and gets this wakeup).
        let _stop = lock(&self.shared.stop);
        self.shared.wake.notify_all();
    }

    pub fn unwatch(&self, path: &Path) {
        lock(&self.shared.files).remove(path);
    }
}

impl Drop for TranscriptWatcher {
    fn drop(&mut self) {
        *lock(&self.shared.stop) = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
