//! Progress notifications while a blocking tool (`wait_for`, `ask_owner`) waits: when the
//! caller's request carries a `progressToken`, `notifications/progress` goes out every few
//! seconds until the tool returns, so a client's idle timeout (reset by progress) never
//! cuts the wait short and its user sees that Paddock is still waiting.

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::{Peer, RequestContext};
use rmcp::RoleServer;
use std::future::Future;
use std::time::Duration;

/// How often a waiting tool reports.
pub const EVERY: Duration = Duration::from_secs(3);
/// The tools that wait.
const WAITING: &[&str] = &["wait_for", "ask_owner"];

/// Where to report a waiting call's progress.
pub struct Progress {
    peer: Peer<RoleServer>,
    token: ProgressToken,
    tool: String,
}

/// The progress reporter of a call to `tool`, if it is a waiting tool and the caller asked
/// for progress.
pub fn for_call(tool: &str, context: &RequestContext<RoleServer>) -> Option<Progress> {
    if !WAITING.contains(&tool) {
        return None;
    }
    Some(Progress {
        peer: context.peer.clone(),
        token: context.meta.get_progress_token()?,
        tool: tool.to_owned(),
    })
}

/// Runs `call`, reporting progress every [`EVERY`] while it runs.
pub async fn run<F: Future>(progress: Option<Progress>, call: F) -> F::Output {
    let Some(p) = progress else {
        return call.await;
    };
    tokio::pin!(call);
    let started = tokio::time::Instant::now();
    let mut tick = tokio::time::interval_at(started + EVERY, EVERY);
    loop {
        tokio::select! {
            out = &mut call => return out,
            _ = tick.tick() => {
                let secs = started.elapsed().as_secs();
                let param = ProgressNotificationParam::new(p.token.clone(), secs as f64)
                    .with_message(format!("{}: still waiting after {secs} s", p.tool));
                // A client that went away ends the call through its cancellation instead.
                let _ = p.peer.notify_progress(param).await;
            }
        }
    }
}
