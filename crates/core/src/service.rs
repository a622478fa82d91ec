//! Running the supervisor as a login service: a systemd user unit on Linux, a launchd agent on
//! macOS. This module only renders the files and says where they go; the CLI writes them and
//! asks systemctl / launchctl to load them.

use std::path::{Path, PathBuf};

/// The service manager of this platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    Systemd,
    Launchd,
}

impl Manager {
    pub fn current() -> Self {
        if cfg!(target_os = "macos") {
            Manager::Launchd
        } else {
            Manager::Systemd
        }
    }
}

/// The launchd label and systemd unit name.
pub const LABEL: &str = "dev.paddock.supervisor";
pub const UNIT: &str = "paddock.service";

/// Where the service file goes for `home`.
pub fn file_path(manager: Manager, home: &Path) -> PathBuf {
    match manager {
        Manager::Systemd => {
            let config = std::env::var_os("XDG_CONFIG_HOME")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".config"));
            config.join("systemd/user").join(UNIT)
        }
        Manager::Launchd => home
            .join("Library/LaunchAgents")
            .join(format!("{LABEL}.plist")),
    }
}

/// The service file that runs `exe up`, restarting it if it dies. Stopping the service stops
/// only the supervisor (`KillMode=process`): agents live in their holders and must survive.
pub fn render(manager: Manager, exe: &Path, log_dir: &Path) -> String {
    let exe = exe.display();
    match manager {
        Manager::Systemd => format!(
            "# Written by `paddock service install`; `paddock service uninstall` removes it.\n\
             [Unit]\n\
             Description=Paddock supervisor: watches your AI coding agents\n\
             \n\
             [Service]\n\
             Type=simple\n\
             ExecStart={exe} up\n\
             Restart=on-failure\n\
             RestartSec=2\n\
             # Agents run in their own holder processes; stopping the supervisor must not kill them.\n\
             KillMode=process\n\
             \n\
             [Install]\n\
             WantedBy=default.target\n"
        ),
        Manager::Launchd => {
            let log = log_dir.join("supervisor.out");
            let log = xml_escape(&log.display().to_string());
            let exe = xml_escape(&exe.to_string());
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
                 <plist version=\"1.0\">\n\
                 <dict>\n\
                 \x20 <key>Label</key><string>{LABEL}</string>\n\
                 \x20 <key>ProgramArguments</key><array><string>{exe}</string><string>up</string></array>\n\
                 \x20 <key>RunAtLoad</key><true/>\n\
                 \x20 <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>\n\
                 \x20 <key>AbandonProcessGroup</key><true/>\n\
                 \x20 <key>StandardOutPath</key><string>{log}</string>\n\
                 \x20 <key>StandardErrorPath</key><string>{log}</string>\n\
                 </dict>\n\
                 </plist>\n"
            )
        }
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_systemd_unit_runs_up_and_spares_the_agents() {
        let unit = render(
            Manager::Systemd,
            Path::new("/opt/bin/paddock"),
            Path::new("/l"),
        );
        assert!(unit.contains("ExecStart=/opt/bin/paddock up\n"));
        assert!(unit.contains("KillMode=process"));
        assert!(unit.contains("WantedBy=default.target"));
    }

    #[test]
    fn the_launchd_plist_is_escaped_and_keeps_agents() {
        let plist = render(
            Manager::Launchd,
            Path::new("/A&B/paddock"),
            Path::new("/logs"),
        );
        assert!(plist.contains("<string>/A&amp;B/paddock</string><string>up</string>"));
        assert!(plist.contains("<key>AbandonProcessGroup</key><true/>"));
        assert!(plist.contains("/logs/supervisor.out"));
    }
}
