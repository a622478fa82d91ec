//! `paddock remote add|ls|rm`: the hosts this machine works with over the network (pinned
//! HTTPS/WSS, `paddock-client`), used by `--host NAME` on ls, attach, send, logs, show,
//! approvals, approve, deny, message and interrupt.

use crate::remote_client::hosts;
use paddock_client::{Host, PairingLink};

/// Pair with another machine's Paddock and list or forget the hosts paired with.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// Pair with a host: the link `paddock pair` shows there
    /// (`https://HOST:PORT/#pair=SECRET&fp=SHA256` or `paddock://pair?...`), or its short code
    /// with --url and --fingerprint.
    Add {
        /// The pairing link, or the short code (`XXXX-XXXX`) with --url and --fingerprint.
        link_or_code: String,
        /// The host's URL, for a short code (as `paddock pair` prints it).
        #[arg(long, requires = "fingerprint")]
        url: Option<String>,
        /// The host's certificate fingerprint (SHA-256), for a short code.
        #[arg(long, requires = "url")]
        fingerprint: Option<String>,
        /// What to call the host here (`--host NAME`); default: its address.
        #[arg(long)]
        name: Option<String>,
        /// How this machine is named in the host's device list; default: this machine's
        /// hostname.
        #[arg(long)]
        device_name: Option<String>,
    },
    /// The hosts paired with, and whether each answers now.
    Ls {
        /// One JSON array of objects with name, url, fingerprint, device_id, role, status
        /// (`online` or an error code: unreachable, certificate_changed, revoked, ...).
        #[arg(long)]
        json: bool,
    },
    /// Forget a host and this machine's tokens for it.
    Rm { name: String },
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let hosts = hosts();
        match self.command {
            Sub::Add {
                link_or_code,
                url,
                fingerprint,
                name,
                device_name,
            } => {
                let link = match (&url, &fingerprint) {
                    (Some(u), Some(f)) => PairingLink::short_code(&link_or_code, u, Some(f))?,
                    _ => PairingLink::parse(&link_or_code)?,
                };
                let device = device_name.unwrap_or_else(default_device_name);
                let host = paddock_client::pair(&hosts, &link, &device, name.as_deref()).await?;
                println!(
                    "paired with {} ({}) as {}; try `paddock ls --host {}`",
                    host.name, host.url, host.role, host.name
                );
            }
            Sub::Ls { json } => {
                let list = hosts.list()?;
                let mut rows = Vec::new();
                for h in list {
                    let status = probe(&hosts, &h).await;
                    rows.push((h, status));
                }
                if json {
                    let out: Vec<serde_json::Value> = rows
                        .iter()
                        .map(|(h, status)| {
                            let mut v = serde_json::to_value(h).unwrap_or_default();
                            v["status"] = serde_json::Value::String(status.clone());
                            v
                        })
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&out)?);
                } else if rows.is_empty() {
                    println!("No hosts. Pair with one: `paddock remote add LINK` (run `paddock pair` on it for the link).");
                } else {
                    println!(
                        "{:<16} {:<32} {:<9} {:<20} FINGERPRINT",
                        "NAME", "URL", "ROLE", "STATUS"
                    );
                    for (h, status) in rows {
                        println!(
                            "{:<16} {:<32} {:<9} {:<20} {}…",
                            h.name,
                            h.url.to_string(),
                            h.role.to_string(),
                            status,
                            &h.fingerprint[..16.min(h.fingerprint.len())]
                        );
                    }
                }
            }
            Sub::Rm { name } => {
                let h = hosts.remove(&name).await?;
                println!(
                    "forgot {} ({}); its owner can revoke this device there with `paddock devices revoke {}`",
                    h.name, h.url, h.device_id.0
                );
            }
        }
        Ok(())
    }
}

/// `online`, or the error code of asking the host who we are.
async fn probe(hosts: &paddock_client::Hosts, h: &Host) -> String {
    let Ok(client) = hosts.client(&h.name) else {
        return "unknown".into();
    };
    let ask = client.get::<paddock_proto::rest::Me>("/me");
    match tokio::time::timeout(std::time::Duration::from_secs(5), ask).await {
        Ok(Ok(_)) => "online".into(),
        Ok(Err(e)) => e.code().into(),
        Err(_) => "timeout".into(),
    }
}

fn default_device_name() -> String {
    match nix::unistd::gethostname() {
        Ok(h) => format!("paddock CLI on {}", h.to_string_lossy()),
        Err(_) => "paddock CLI".into(),
    }
}
