//! The history of every agent session on this machine: all of Claude Code's transcripts
//! (`~/.claude/projects`) and Codex's rollouts, indexed into the store at start and every few
//! minutes (only what was appended since: cursors per file), for the session history and its
//! full-text search.

use paddock_agents::claude::ClaudePaths;
use paddock_agents::codex::CodexPaths;
use paddock_agents::{HistoryIndexer, Prices};
use paddock_store::Store;
use std::time::Duration;
use tokio::sync::watch;

/// How often the history is brought up to date.
const EVERY: Duration = Duration::from_secs(300);

/// Indexes at start and every [`EVERY`] until `shutdown`.
pub async fn run(store: Store, prices: Prices, mut shutdown: watch::Receiver<bool>) {
    let mut indexer = HistoryIndexer::new(store, prices);
    if let Some(c) = ClaudePaths::from_env() {
        indexer = indexer.with_claude(c);
    }
    if let Some(c) = CodexPaths::from_env() {
        indexer = indexer.with_codex(c);
    }
    let indexer = std::sync::Arc::new(indexer);
    loop {
        let i = indexer.clone();
        match tokio::task::spawn_blocking(move || i.index_all()).await {
            Ok(Ok(report)) => tracing::info!(?report, "agent history indexed"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot index the agents' history; retrying in 5 minutes")
            }
            Err(e) => tracing::error!(error = %e, "the history indexer stopped unexpectedly"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}
