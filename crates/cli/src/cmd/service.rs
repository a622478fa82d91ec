//! `paddock service install|uninstall|status`: the supervisor as a login service.

use anyhow::{bail, Context};
use paddock_core::service::{self, Manager};
use paddock_core::Config;
use std::path::PathBuf;
use std::process::Command;

/// Run the supervisor at login (systemd user unit on Linux, launchd agent on macOS).
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Write the service file and start it.
    Install {
        /// Only write the file; do not ask systemctl / launchctl to load it.
        #[arg(long)]
        no_start: bool,
    },
    /// Stop the service and remove its file (agents keep running).
    Uninstall,
    /// Show the service file's path and whether the service manager runs it.
    Status,
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn run_manager(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {program}; is it installed?"))?;
    if !out.status.success() {
        bail!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let manager = Manager::current();
        let path = service::file_path(manager, &home());
        match self.action {
            Action::Install { no_start } => {
                let exe = std::env::current_exe().context("cannot find the paddock executable")?;
                let config = Config::load(&Config::default_path())?;
                let text = service::render(manager, &exe, &config.data_dir().join("logs"));
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create {}", parent.display()))?;
                }
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                println!("wrote {}", path.display());
                if no_start {
                    return Ok(());
                }
                match manager {
                    Manager::Systemd => {
                        run_manager("systemctl", &["--user", "daemon-reload"])?;
                        run_manager("systemctl", &["--user", "enable", "--now", service::UNIT])?;
                    }
                    Manager::Launchd => {
                        run_manager("launchctl", &["load", "-w", &path.to_string_lossy()])?;
                    }
                }
                println!("the supervisor now starts at login; `paddock status` shows it");
                Ok(())
            }
            Action::Uninstall => {
                if !path.exists() {
                    println!("no service file at {}; nothing to remove", path.display());
                    return Ok(());
                }
                let stop = match manager {
                    Manager::Systemd => {
                        run_manager("systemctl", &["--user", "disable", "--now", service::UNIT])
                    }
                    Manager::Launchd => {
                        run_manager("launchctl", &["unload", "-w", &path.to_string_lossy()])
                    }
                };
                if let Err(e) = stop {
                    eprintln!("paddock: {e:#}; removing the file anyway");
                }
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
                println!("removed {}; agents keep running", path.display());
                Ok(())
            }
            Action::Status => {
                if !path.exists() {
                    println!("not installed (`paddock service install` installs it)");
                    return Ok(());
                }
                println!("installed: {}", path.display());
                let state = match manager {
                    Manager::Systemd => {
                        run_manager("systemctl", &["--user", "is-active", service::UNIT])
                    }
                    Manager::Launchd => {
                        run_manager("launchctl", &["list", service::LABEL]).map(|_| "loaded".into())
                    }
                };
                match state {
                    Ok(s) => println!("service manager: {}", s.trim()),
                    Err(e) => println!("service manager: unknown ({e:#})"),
                }
                Ok(())
            }
        }
    }
}
