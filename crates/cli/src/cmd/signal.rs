//! `paddock signal`, `stop`, `kill`, `suspend`, `resume`: signals to a session's agent.

use crate::target::{self, Target};
use anyhow::bail;
use paddock_host::client::{Client, Event};
use paddock_proto::{Hello, Mode, Notification, Request, Signal};
use std::time::Duration;

/// Send a signal (INT, TERM, KILL, HUP, STOP, CONT) to the agent's process group.
#[derive(clap::Args)]
pub struct Args {
    /// Session id, name or unique id prefix.
    pub session: String,
    /// INT, TERM, KILL, HUP, STOP or CONT (SIG prefix and lower case accepted).
    pub signal: Signal,
}

/// Stop the agent: TERM, then KILL if it has not exited after --timeout.
#[derive(clap::Args)]
pub struct StopArgs {
    /// Session id, name or unique id prefix.
    pub session: String,
    /// How long to wait after TERM before KILL.
    #[arg(long, default_value = "10s")]
    pub timeout: humantime::Duration,
}

/// Kill the agent (KILL) and wait for it to go.
#[derive(clap::Args)]
pub struct KillArgs {
    /// Session id, name or unique id prefix.
    pub session: String,
}

/// Suspend the agent (STOP); `paddock resume` continues it.
#[derive(clap::Args)]
pub struct SuspendArgs {
    /// Session id, name or unique id prefix.
    pub session: String,
}

/// Resume a suspended agent (CONT).
#[derive(clap::Args)]
pub struct ResumeArgs {
    /// Session id, name or unique id prefix.
    pub session: String,
}

async fn connect_running(query: &str) -> anyhow::Result<(Target, Client)> {
    let target = target::find(query).await?;
    target.ensure_running()?;
    let client = target.connect(Hello::control(Mode::ReadWrite)).await?;
    Ok((target, client))
}

async fn send(client: &mut Client, signal: Signal) -> anyhow::Result<()> {
    client.request(Request::Signal { signal }).await?;
    Ok(())
}

/// Waits for the agent's exit notification; returns its description, or None on timeout.
async fn wait_exit(client: &mut Client, timeout: Duration) -> anyhow::Result<Option<String>> {
    let wait = async {
        loop {
            match client.next_event().await? {
                Some(Event::Notification(Notification::Exited { code, signal })) => {
                    return anyhow::Ok(Some(match (signal, code) {
                        (Some(s), _) => format!("killed by SIG{s}"),
                        (None, Some(c)) => format!("exited with code {c}"),
                        (None, None) => "exited".to_owned(),
                    }));
                }
                Some(_) => continue,
                None => return Ok(Some("exited".to_owned())),
            }
        }
    };
    Ok(tokio::time::timeout(timeout, wait)
        .await
        .ok()
        .transpose()?
        .flatten())
}

/// For a session Paddock does not hold: the signal goes straight to its process. Returns
/// true when it handled the session.
async fn signal_unheld(query: &str, sig: Signal) -> anyhow::Result<bool> {
    match target::find_any(query).await? {
        target::AnyTarget::Unheld(u) => {
            u.signal(sig)?;
            println!(
                "sent SIG{sig} to {} (pid {}, {})",
                u.view.id, u.view.pid, u.view.backend
            );
            Ok(true)
        }
        target::AnyTarget::Held(_) => Ok(false),
    }
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        if signal_unheld(&self.session, self.signal).await? {
            return Ok(());
        }
        let (target, mut client) = connect_running(&self.session).await?;
        send(&mut client, self.signal).await?;
        println!("sent SIG{} to {}", self.signal, target.info.id);
        Ok(())
    }
}

impl StopArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        // A Claude Code background agent stops through `claude stop`.
        if crate::claude_bg::act_if_background(&self.session, paddock_proto::BgAction::Stop).await?
        {
            return Ok(());
        }
        if signal_unheld(&self.session, Signal::Term).await? {
            return Ok(());
        }
        let (target, mut client) = connect_running(&self.session).await?;
        // A suspended agent cannot act on TERM until it continues.
        send(&mut client, Signal::Cont).await?;
        send(&mut client, Signal::Term).await?;
        if let Some(how) = wait_exit(&mut client, *self.timeout).await? {
            println!("{}: {how}", target.info.id);
            return Ok(());
        }
        eprintln!(
            "paddock: {} did not exit within {}; sending KILL",
            target.info.id, self.timeout
        );
        send(&mut client, Signal::Kill).await?;
        match wait_exit(&mut client, Duration::from_secs(5)).await? {
            Some(how) => {
                println!("{}: {how}", target.info.id);
                Ok(())
            }
            None => bail!(
                "{} is still running after KILL (is it stuck in the kernel?)",
                target.info.id
            ),
        }
    }
}

impl KillArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        // A Claude Code background agent stops through `claude stop`.
        if crate::claude_bg::act_if_background(&self.session, paddock_proto::BgAction::Stop).await?
        {
            return Ok(());
        }
        if signal_unheld(&self.session, Signal::Kill).await? {
            return Ok(());
        }
        let (target, mut client) = connect_running(&self.session).await?;
        send(&mut client, Signal::Kill).await?;
        let how = wait_exit(&mut client, Duration::from_secs(5))
            .await?
            .unwrap_or_else(|| "KILL sent; it has not exited yet".to_owned());
        println!("{}: {how}", target.info.id);
        Ok(())
    }
}

impl SuspendArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        if signal_unheld(&self.session, Signal::Stop).await? {
            return Ok(());
        }
        let (target, mut client) = connect_running(&self.session).await?;
        send(&mut client, Signal::Stop).await?;
        println!(
            "suspended {}; `paddock resume {}` continues it",
            target.info.id, target.info.id
        );
        Ok(())
    }
}

impl ResumeArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        if signal_unheld(&self.session, Signal::Cont).await? {
            return Ok(());
        }
        let (target, mut client) = connect_running(&self.session).await?;
        send(&mut client, Signal::Cont).await?;
        println!("resumed {}", target.info.id);
        Ok(())
    }
}
