//! `paddock message`, `paddock interrupt`: talking to an agent the way its owner would at its
//! terminal, from anywhere.

use crate::remote_client::{self, HostArg};
use crate::supervisor_client::{actor, request};
use paddock_proto::agent::Control;
use paddock_proto::rest::MessageRequest;
use paddock_proto::Request;

/// Type a message into an agent's prompt and submit it.
#[derive(clap::Args)]
pub struct MessageArgs {
    /// The session's id or name.
    pub session: String,
    /// The message (several words are joined with spaces).
    #[arg(required = true, num_args = 1..)]
    pub text: Vec<String>,
    #[command(flatten)]
    pub remote: crate::remote_client::HostArg,
}

/// Interrupt what the agent is doing (Esc for Claude Code and Codex, Ctrl-C for other
/// programs); with --message, tell it what to do instead once it has stopped.
#[derive(clap::Args)]
pub struct InterruptArgs {
    /// The session's id or name.
    pub session: String,
    /// Feedback typed in once the agent has stopped.
    #[arg(long, short)]
    pub message: Option<String>,
    #[command(flatten)]
    pub remote: crate::remote_client::HostArg,
}

async fn send(remote: &HostArg, session: String, control: Control) -> anyhow::Result<()> {
    if let Some(client) = remote.client()? {
        let s = remote_client::resolve(&client, &session).await?;
        let path = remote_client::session_path(s.id.as_str());
        let _: serde_json::Value = match control {
            Control::Message { text } => {
                client
                    .post(&format!("{path}/message"), &MessageRequest { text })
                    .await?
            }
            other => client.post(&format!("{path}/control"), &other).await?,
        };
        return Ok(());
    }
    request(Request::Control {
        session,
        control,
        by: actor(),
    })
    .await?;
    Ok(())
}

impl MessageArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let session = self.session.clone();
        send(
            &self.remote,
            self.session,
            Control::Message {
                text: self.text.join(" "),
            },
        )
        .await?;
        println!("sent to {session}");
        Ok(())
    }
}

impl InterruptArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let session = self.session.clone();
        send(
            &self.remote,
            self.session,
            Control::Interrupt {
                message: self.message,
            },
        )
        .await?;
        println!("interrupted {session}");
        Ok(())
    }
}
