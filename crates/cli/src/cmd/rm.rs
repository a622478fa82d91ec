//! `paddock rm`: remove sessions.

use crate::target;
use anyhow::anyhow;
use paddock_proto::{Hello, Mode, Request};

/// Remove exited sessions (their output goes with them). A running session is refused
/// unless --force, which kills its agent first.
#[derive(clap::Args)]
pub struct Args {
    /// Session ids, names or unique id prefixes.
    #[arg(required = true)]
    pub sessions: Vec<String>,
    /// Kill running agents first.
    #[arg(long, short)]
    pub force: bool,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let mut failed = None;
        for query in &self.sessions {
            let result = async {
                let target = target::find(query).await?;
                let mut client = target.connect(Hello::control(Mode::ReadWrite)).await?;
                client
                    .request(Request::Remove { force: self.force })
                    .await?;
                anyhow::Ok(target.info.id)
            }
            .await;
            match result {
                Ok(id) => println!("removed {id}"),
                Err(e) => {
                    eprintln!("paddock: {query}: {e:#}");
                    failed = Some(e);
                }
            }
        }
        match failed {
            Some(e) if self.sessions.len() == 1 => Err(e),
            Some(_) => Err(anyhow!("some sessions were not removed")),
            None => Ok(()),
        }
    }
}
