//! `paddock default-config`: a commented example configuration.

/// Print a commented config.toml with every setting at its default.
#[derive(clap::Args)]
pub struct Args {}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        print!("{}", paddock_core::config::DEFAULT_CONFIG_TOML);
        Ok(())
    }
}
