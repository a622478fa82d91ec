//! `paddock send`: type text into a session without attaching.

use crate::{remote_client, target};
use paddock_proto::rest::InputRequest;
use paddock_proto::{Hello, Mode, Request};

/// Type TEXT into a session, as if typed at its keyboard. With --enter and the supervisor
/// running, says whether the program took the line, as `paddock message` does.
#[derive(clap::Args)]
pub struct Args {
    /// Session id, name or unique id prefix.
    pub session: String,
    /// Press Enter after the text, and wait for a sign that the program took the line.
    #[arg(long)]
    pub enter: bool,
    #[command(flatten)]
    pub wait: crate::cmd::control::WaitArg,
    /// The text to type (escape sequences are not interpreted).
    pub text: String,
    #[command(flatten)]
    pub remote: crate::remote_client::HostArg,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        if self.enter {
            let local_supervisor = self.remote.client()?.is_none()
                && crate::supervisor_client::sessions().await?.is_some();
            if self.remote.client()?.is_some() || local_supervisor {
                return crate::cmd::control::deliver(
                    &self.remote,
                    self.session,
                    self.text,
                    self.wait,
                    true,
                )
                .await;
            }
            eprintln!(
                "typed with Enter; the supervisor is not running, so whether the program took the line is not known (`paddock up` starts it)"
            );
        }
        if let Some(client) = self.remote.client()? {
            let s = remote_client::resolve(&client, &self.session).await?;
            let path = format!("{}/input", remote_client::session_path(s.id.as_str()));
            let body = InputRequest {
                data: self.text,
                enter: self.enter,
            };
            let _: serde_json::Value = client.post(&path, &body).await?;
            return Ok(());
        }
        let target = target::find(&self.session).await?;
        target.ensure_running()?;
        let mut client = target.connect(Hello::control(Mode::ReadWrite)).await?;
        let mut bytes = self.text.into_bytes();
        if self.enter {
            bytes.push(b'\r');
        }
        client.send_input(&bytes).await?;
        // Requests are handled in order, so once this is answered the holder has queued the
        // text for the agent (or told us why not).
        client.request(Request::Info).await?;
        Ok(())
    }
}
