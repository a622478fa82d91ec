//! `paddock message`, `paddock interrupt`: talking to an agent the way its owner would at its
//! terminal, from anywhere.

use crate::errors::CliError;
use crate::remote_client::{self, HostArg};
use crate::supervisor_client::{actor, request};
use anyhow::Context;
use paddock_proto::agent::{Control, InputOutcome, MessageReceipt};
use paddock_proto::rest::MessageRequest;
use paddock_proto::{Request, Response};

/// Type a message into an agent's prompt, submit it, and say whether the agent took it:
/// `submitted` (it started working on it), `queued` (it was busy and reads it when its turn
/// allows), `refused` (exit code 1, or 4 when the session has exited: nothing was typed) or
/// `unknown` (exit code 6: no sign within the wait; says what was seen).
#[derive(clap::Args)]
pub struct MessageArgs {
    /// The session's id or name.
    pub session: String,
    /// The message (several words are joined with spaces; several lines stay one message).
    #[arg(required = true, num_args = 1..)]
    pub text: Vec<String>,
    #[command(flatten)]
    pub wait: WaitArg,
    #[command(flatten)]
    pub remote: crate::remote_client::HostArg,
}

/// How long to wait for the receipt of input.
#[derive(clap::Args, Clone, Copy)]
pub struct WaitArg {
    /// Seconds to wait for a sign that the agent took the input (at most 60).
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub timeout: f64,
}

impl WaitArg {
    /// In milliseconds, as the wire says it (the host checks the range).
    pub fn millis(self) -> u64 {
        (self.timeout * 1000.0).round().max(0.0) as u64
    }
}

/// Sends `text` (as a message, or typed as is with `typed`) and prints its receipt; refused
/// and unknown are errors with their own exit codes.
pub async fn deliver(
    remote: &HostArg,
    session: String,
    text: String,
    wait: WaitArg,
    typed: bool,
) -> anyhow::Result<()> {
    let timeout_ms = Some(wait.millis());
    let receipt: MessageReceipt = if let Some(client) = remote.client()? {
        let s = remote_client::resolve(&client, &session).await?;
        let path = remote_client::session_path(s.id.as_str());
        let body = MessageRequest {
            text,
            timeout_ms,
            typed,
        };
        client.post(&format!("{path}/message"), &body).await?
    } else {
        let answer = request(Request::Control {
            session,
            control: Control::Message {
                text,
                timeout_ms,
                typed,
            },
            by: actor(),
        })
        .await?;
        let Response::Message { receipt } = answer else {
            anyhow::bail!(
                "the supervisor answered {answer:?} to a message; is it older than this paddock?"
            );
        };
        *receipt
    };
    report(&receipt, typed)
}

/// Prints a receipt; refused becomes an error with its exit code, and so does unknown for a
/// message (keys typed as is often answer a dialog that shows no sign: not an error there).
fn report(receipt: &MessageReceipt, typed: bool) -> anyhow::Result<()> {
    match receipt.outcome {
        InputOutcome::Submitted | InputOutcome::Queued => {
            println!("{}: {}", outcome_name(receipt.outcome), receipt.detail);
            Ok(())
        }
        InputOutcome::Unknown if typed => {
            println!("{}: {}", outcome_name(receipt.outcome), receipt.detail);
            Ok(())
        }
        InputOutcome::Refused if !receipt.session.is_running() => Err(CliError::Exited {
            id: receipt.session.name.clone(),
            code: receipt
                .session
                .status
                .exit_code
                .map(|c| format!(" (code {c})"))
                .unwrap_or_default(),
        })
        .context(format!("refused: {}", receipt.detail)),
        InputOutcome::Refused => anyhow::bail!("refused: {}", receipt.detail),
        InputOutcome::Unknown => Err(CliError::NotTaken(receipt.detail.clone()).into()),
    }
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
        let _: serde_json::Value = client.post(&format!("{path}/control"), &control).await?;
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
        deliver(
            &self.remote,
            self.session,
            self.text.join(" "),
            self.wait,
            false,
        )
        .await
    }
}

fn outcome_name(outcome: InputOutcome) -> &'static str {
    match outcome {
        InputOutcome::Submitted => "submitted",
        InputOutcome::Queued => "queued",
        InputOutcome::Refused => "refused",
        InputOutcome::Unknown => "unknown",
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
