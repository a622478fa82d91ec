//! `paddock status`: the supervisor's health and counts.

use crate::supervisor_client;
use paddock_proto::supervisor::HealthStatus;

/// Show whether the supervisor runs, its health and what it watches.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let Some(status) = supervisor_client::status().await? else {
            if self.json {
                println!("{}", serde_json::json!({ "running": false }));
            } else {
                println!("The supervisor is not running. Start it with `paddock up` (or `paddock up --detach`).");
            }
            return Ok(());
        };
        if self.json {
            let mut v = serde_json::to_value(&status)?;
            v["running"] = serde_json::Value::Bool(true);
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        let health = match status.health {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Unhealthy => "unhealthy",
        };
        println!(
            "supervisor  running (pid {}, since {}), {health}",
            status.pid, status.started_at
        );
        println!(
            "sessions    {} ({} running): {} holder, {} tmux, {} external",
            status.sessions, status.running, status.holders, status.tmux, status.external
        );
        for c in &status.components {
            println!(
                "  {:<10} {:?}: {}{}",
                c.name,
                c.status,
                c.message,
                pending(c)
            );
        }
        match status.presence.first() {
            Some(p) => println!(
                "owner       at the {}: {} {} s ago (push waits; see [notify.presence])",
                if p.device == "desk" {
                    "desk".to_owned()
                } else {
                    format!("device {}", p.device)
                },
                p.how,
                p.seconds_ago
            ),
            None => println!("owner       away (notifications go to every channel at once)"),
        }
        match &status.url {
            Some(url) => println!("endpoint    {url}"),
            None => println!("endpoint    not serving (see the endpoint component above)"),
        }
        if let Some(fp) = &status.fingerprint {
            println!("certificate SHA-256 {fp}");
        }
        println!("runtime     {}", status.runtime_dir);
        println!("data        {}", status.data_dir);
        println!("config      {}", status.config_file);
        Ok(())
    }
}

/// The database's records kept in memory, when it is not healthy: " (N records not written
/// yet, kept in memory)".
fn pending(c: &paddock_proto::supervisor::ComponentHealth) -> String {
    match c.pending_writes {
        Some(n) if n > 0 && c.status != HealthStatus::Healthy => {
            format!(" ({n} records not written yet, kept in memory)")
        }
        _ => String::new(),
    }
}
