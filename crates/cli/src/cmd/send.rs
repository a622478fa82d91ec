//! `paddock send`: type text into a session without attaching.

use crate::target;
use paddock_proto::{Hello, Mode, Request};

/// Type TEXT into a session, as if typed at its keyboard.
#[derive(clap::Args)]
pub struct Args {
    /// Session id, name or unique id prefix.
    pub session: String,
    /// Press Enter after the text.
    #[arg(long)]
    pub enter: bool,
    /// The text to type (escape sequences are not interpreted).
    pub text: String,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
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
