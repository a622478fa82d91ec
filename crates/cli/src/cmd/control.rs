//! `paddock message`, `paddock interrupt`: talking to an agent the way its owner would at its
//! terminal, from anywhere.

use crate::supervisor_client::{actor, request};
use paddock_proto::agent::{Control, InputOutcome};
use paddock_proto::{Request, Response};

/// Type a message into an agent's prompt, submit it, and say whether the agent took it:
/// `submitted` (it started working on it), `queued` (it was busy and reads it when its turn
/// allows) or, with exit code 1, `refused` (no sign of it within 5 s).
#[derive(clap::Args)]
pub struct MessageArgs {
    /// The session's id or name.
    pub session: String,
    /// The message (several words are joined with spaces).
    #[arg(required = true, num_args = 1..)]
    pub text: Vec<String>,
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
}

async fn send(session: String, control: Control) -> anyhow::Result<()> {
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
        let answer = request(Request::Control {
            session: self.session,
            control: Control::Message {
                text: self.text.join(" "),
            },
            by: actor(),
        })
        .await?;
        let Response::Message { receipt } = answer else {
            anyhow::bail!(
                "the supervisor answered {answer:?} to a message; is it older than this paddock?"
            );
        };
        if receipt.outcome == InputOutcome::Refused {
            anyhow::bail!("refused: {}", receipt.detail);
        }
        println!("{}: {}", outcome_name(receipt.outcome), receipt.detail);
        Ok(())
    }
}

fn outcome_name(outcome: InputOutcome) -> &'static str {
    match outcome {
        InputOutcome::Submitted => "submitted",
        InputOutcome::Queued => "queued",
        InputOutcome::Refused => "refused",
    }
}

impl InterruptArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let session = self.session.clone();
        send(
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
