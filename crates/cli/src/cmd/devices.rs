//! `paddock devices list|rename|revoke`: the paired devices.

use crate::supervisor_client::owner_request;
use paddock_proto::access::{DeviceId, DeviceView};
use paddock_proto::{Request, Response};

/// List, rename and revoke paired devices.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// Every paired device, revoked ones included.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Give a device another name.
    Rename { id: String, name: String },
    /// Revoke a device: its tokens stop working at once and its open connections close.
    Revoke { id: String },
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Sub::List { json } => {
                let Response::Devices { devices } = owner_request(Request::ListDevices).await?
                else {
                    anyhow::bail!("the supervisor did not answer with devices");
                };
                if json {
                    println!("{}", serde_json::to_string_pretty(&devices)?);
                } else if devices.is_empty() {
                    println!("No paired devices. Pair one with `paddock pair`.");
                } else {
                    println!(
                        "{:<14} {:<9} {:<22} {:<22} NAME",
                        "ID", "ROLE", "LAST SEEN", "REVOKED"
                    );
                    for d in devices {
                        println!(
                            "{:<14} {:<9} {:<22} {:<22} {}",
                            d.id.0,
                            d.role,
                            d.last_seen_at.as_deref().unwrap_or("-"),
                            d.revoked_at.as_deref().unwrap_or("-"),
                            d.name
                        );
                    }
                }
            }
            Sub::Rename { id, name } => {
                let d = one(owner_request(Request::RenameDevice {
                    id: DeviceId(id),
                    name,
                })
                .await?)?;
                println!("{} is now called {}", d.id, d.name);
            }
            Sub::Revoke { id } => {
                let d = one(owner_request(Request::RevokeDevice { id: DeviceId(id) }).await?)?;
                println!(
                    "{} ({}) is revoked; its tokens no longer work.",
                    d.id, d.name
                );
            }
        }
        Ok(())
    }
}

fn one(r: Response) -> anyhow::Result<DeviceView> {
    match r {
        Response::Device { device } => Ok(*device),
        other => anyhow::bail!("the supervisor answered {other:?}"),
    }
}
