//! `paddock restart`: run the session's command again (same cwd and environment).

use crate::target;
use paddock_proto::{Hello, Mode, Request, Response};

/// Start the session's command again in the same session: stops it first if it runs
/// (TERM, then KILL after 3 s).
#[derive(clap::Args)]
pub struct Args {
    /// Session id, name or unique id prefix.
    pub session: String,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        // A Claude Code background agent restarts through `claude respawn`.
        if crate::claude_bg::act_if_background(&self.session, paddock_proto::BgAction::Respawn)
            .await?
        {
            return Ok(());
        }
        let target = target::find(&self.session).await?;
        let mut client = target.connect(Hello::control(Mode::ReadWrite)).await?;
        client.request(Request::Restart).await?;
        if let Response::Info { session } = client.request(Request::Info).await? {
            println!("restarted {} (pid {})", session.id, session.pid);
        }
        Ok(())
    }
}
