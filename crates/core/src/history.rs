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

/// The history as the wire carries it.
pub fn entry(s: paddock_store::HistorySession) -> paddock_proto::agent::HistoryEntry {
    paddock_proto::agent::HistoryEntry {
        path: s.path,
        agent: s.agent,
        session_id: s.session_id,
        cwd: s.cwd,
        title: s.title,
        first_prompt: s.first_prompt,
        last_prompt: s.last_prompt,
        git_branch: s.git_branch,
        model: s.model,
        tokens_in: s.tokens_in,
        tokens_out: s.tokens_out,
        cost_usd: s.cost_usd,
        prompts: s.prompts,
        started_ms: s.started_ms,
        ended_ms: s.ended_ms,
    }
}

/// A search hit as the wire carries it.
pub fn hit(h: paddock_store::HistoryHit) -> paddock_proto::agent::HistoryHit {
    paddock_proto::agent::HistoryHit {
        path: h.path,
        session_id: h.session_id,
        title: h.title,
        cwd: h.cwd,
        role: h.role,
        time_ms: h.time_ms,
        snippet: h.snippet,
    }
}
