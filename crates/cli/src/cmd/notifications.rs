//! `paddock notifications`: the notifications Paddock sent lately with every channel's
//! attempts, one in detail, a test send through one channel, and the owner's pause.

use crate::supervisor_client::request;
use anyhow::bail;
use paddock_proto::notify::{DeliveryView, Notification};
use paddock_proto::{Request, Response};

/// The notifications sent lately, and a test send through a channel.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// The newest notifications and how each channel delivered them.
    List {
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// One notification and every channel's attempts (id from `list`, e.g. n3).
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Send a test notification through CHANNEL (desktop, web_push, ...) and say whether it
    /// arrived.
    Test { channel: String },
    /// Hold every notification until `resume` (or a restart of the supervisor); permission
    /// requests still wait in the UI, the tray and `paddock approvals`.
    Pause,
    /// Let notifications go again after `pause`.
    Resume,
}

async fn pause(paused: bool) -> anyhow::Result<()> {
    match request(Request::NotifyPause { paused }).await? {
        Response::Ok if paused => {
            println!("notifications paused until `paddock notifications resume`")
        }
        Response::Ok => println!("notifications resumed"),
        other => bail!("the supervisor answered {other:?} to a pause of notifications"),
    }
    Ok(())
}

async fn log(limit: u32) -> anyhow::Result<(Vec<Notification>, Vec<DeliveryView>)> {
    match request(Request::Notifications { limit }).await? {
        Response::Notifications {
            notifications,
            deliveries,
        } => Ok((notifications, deliveries)),
        other => bail!("the supervisor answered {other:?} to a list of notifications"),
    }
}

fn outcome(d: &DeliveryView) -> String {
    let latency = d
        .latency_ms
        .map(|l| format!(" in {l} ms"))
        .unwrap_or_default();
    let error = d
        .error
        .as_deref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default();
    format!(
        "{} {:?}{latency} ({} attempt(s)){error}",
        d.channel, d.status, d.attempts
    )
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Sub::List { limit, json } => {
                let (notifications, deliveries) = log(limit).await?;
                if json {
                    let out = serde_json::json!({"notifications": notifications, "deliveries": deliveries});
                    println!("{}", serde_json::to_string_pretty(&out)?);
                    return Ok(());
                }
                if notifications.is_empty() {
                    println!("no notification sent since the supervisor started");
                }
                for n in notifications {
                    let channels: Vec<String> = deliveries
                        .iter()
                        .filter(|d| d.notification == n.id)
                        .map(|d| format!("{} {:?}", d.channel, d.status).to_lowercase())
                        .collect();
                    println!(
                        "{:<5} {:<24} {:<16} {}  [{}]",
                        n.id,
                        n.created_at,
                        format!("{:?}", n.kind).to_lowercase(),
                        n.title,
                        channels.join(", ")
                    );
                }
            }
            Sub::Show { id, json } => {
                let (notifications, deliveries) = log(500).await?;
                let Some(n) = notifications.into_iter().find(|n| n.id == id) else {
                    bail!("no notification `{id}` among the last 500; `paddock notifications list` shows them");
                };
                let mine: Vec<DeliveryView> = deliveries
                    .into_iter()
                    .filter(|d| d.notification == id)
                    .collect();
                if json {
                    let out = serde_json::json!({"notification": n, "deliveries": mine});
                    println!("{}", serde_json::to_string_pretty(&out)?);
                    return Ok(());
                }
                println!("{} ({:?}, rule {})", n.title, n.kind, n.rule);
                println!("{}", n.body);
                println!("state: {:?}", n.state);
                for d in &mine {
                    println!("  {}", outcome(d));
                }
            }
            Sub::Test { channel } => match request(Request::NotifyTest { channel }).await? {
                Response::NotifyTested { delivery } => println!("sent: {}", outcome(&delivery)),
                other => bail!("the supervisor answered {other:?} to a test notification"),
            },
            Sub::Pause => pause(true).await?,
            Sub::Resume => pause(false).await?,
        }
        Ok(())
    }
}
