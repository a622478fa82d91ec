//! `paddock completions`: shell completion scripts.

use clap::CommandFactory;

/// Print a completion script: `paddock completions bash > /etc/bash_completion.d/paddock`.
#[derive(clap::Args)]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let mut cmd = crate::Cli::command();
        clap_complete::generate(self.shell, &mut cmd, "paddock", &mut std::io::stdout());
        Ok(())
    }
}
