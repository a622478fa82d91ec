//! `paddock adopt`: take over a program running in a terminal Paddock does not hold (Linux).

use anyhow::Context;
use paddock_core::takeover::{self, AdoptRequest};
use paddock_proto::Size;

/// Move a running program (an agent started in a plain terminal) into a new Paddock session,
/// so that it can be listed, attached, typed into, read and stopped like any session. Linux
/// only; needs reptyr. The program must run in a terminal and be alone in its process group
/// (else `--whole-terminal`); its old terminal is told where it went. Prints the session's id.
#[derive(clap::Args)]
pub struct Args {
    /// The process to take over (e.g. from `pgrep -n claude`).
    pub pid: u32,
    /// A name to refer to the session by (default: the program's name, made unique).
    #[arg(long)]
    pub name: Option<String>,
    /// Move the program's whole terminal (`reptyr -T`): every program on it comes along, the
    /// shell that started it included. Needed when the program runs other processes in its
    /// process group (Claude Code does); the old terminal is left empty.
    #[arg(long)]
    pub whole_terminal: bool,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let dir = paddock_host::runtime_dir()?;
        let exe = std::env::current_exe().context("cannot find the paddock executable")?;
        let request = AdoptRequest {
            pid: self.pid,
            name: self.name,
            size: crate::term::size().unwrap_or(Size { cols: 80, rows: 24 }),
            whole_terminal: self.whole_terminal,
        };
        let id = takeover::adopt(request, &dir, &exe).await?;
        crate::supervisor_client::adopt(&id).await;
        println!("{id}");
        Ok(())
    }
}
