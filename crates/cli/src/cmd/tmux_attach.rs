//! `paddock tmux-attach`: bridge an existing tmux pane into a Paddock session.

use anyhow::{bail, Context};
use paddock_host::{sessions, HolderSpec};
use std::path::PathBuf;

/// Make a tmux pane a Paddock session (a "tmux bridge"): `attach`, `send`, `logs` and
/// signals then work on it as on any session, while the pane stays in tmux. Prints the
/// session's id (`tmux-<server>-<pane number>`). `paddock rm ID` ends the bridge and leaves
/// the pane running.
#[derive(clap::Args)]
pub struct Args {
    /// The pane: an id such as %3 or a target such as work:1.0 (default: the pane this
    /// command runs in, $TMUX_PANE).
    pub pane: Option<String>,
    /// The tmux server's socket (as `tmux -S`).
    #[arg(long, value_name = "PATH", conflicts_with = "server")]
    pub socket: Option<PathBuf>,
    /// The tmux server's name (as `tmux -L`; default: the server this command runs in, else
    /// `default`).
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
    /// A name to refer to the session by (default: its id).
    #[arg(long)]
    pub name: Option<String>,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let socket = match (self.socket, self.server) {
            (Some(path), _) => path,
            (None, Some(name)) => paddock_core::tmux::socket_dir().join(name),
            // Inside tmux, $TMUX is `socket,server pid,session`.
            (None, None) => std::env::var("TMUX")
                .ok()
                .and_then(|t| t.split(',').next().map(PathBuf::from))
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or_else(|| paddock_core::tmux::socket_dir().join("default")),
        };
        let Some(target) = self
            .pane
            .or_else(|| std::env::var("TMUX_PANE").ok().filter(|p| !p.is_empty()))
        else {
            bail!("name the pane to bridge, e.g. `paddock tmux-attach %3` (`tmux list-panes -a -F '#{{pane_id}} #{{pane_current_command}}'` lists them)");
        };
        let pane = resolve_pane(&socket, &target)?;
        // The supervisor's id for the pane, so that both agree.
        let id = pane.session_id();

        let dir = paddock_host::runtime_dir()?;
        let existing = sessions::list(&dir).await;
        if let Some(s) = existing.iter().find(|s| s.id == id) {
            bail!(
                "pane {} is already bridged as session {}; `paddock attach {}` shows it",
                pane.pane_id,
                s.id,
                s.id
            );
        }
        let name = self.name.unwrap_or_else(|| id.to_string());
        if let Some(other) = existing.iter().find(|s| s.name == name) {
            bail!(
                "a session named `{name}` already exists ({}); choose another name with --name",
                other.id
            );
        }
        let spec = HolderSpec::tmux_bridge(id.clone(), name, socket, pane.pane_id.clone());
        let exe = std::env::current_exe().context("cannot find the paddock executable")?;
        paddock_host::launch::spawn(&exe, &dir, &spec)?;
        crate::supervisor_client::adopt(&id).await;
        println!("{id}");
        Ok(())
    }
}

/// Finds `target` (an id or a tmux target) among the server's panes.
fn resolve_pane(
    socket: &std::path::Path,
    target: &str,
) -> anyhow::Result<paddock_core::tmux::Pane> {
    let out = std::process::Command::new("tmux")
        .arg("-S")
        .arg(socket)
        .args(["display", "-p", "-t", target, "#{pane_id}"])
        .output()
        .context("cannot run tmux; install it")?;
    let pane_id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || !pane_id.starts_with('%') {
        bail!(
            "there is no pane `{target}` on the tmux server {}{}; `tmux -S {} list-panes -a` lists the panes",
            socket.display(),
            match String::from_utf8_lossy(&out.stderr).trim() {
                "" => String::new(),
                e => format!(" ({e})"),
            },
            socket.display()
        );
    }
    let panes = paddock_core::tmux::list_panes(socket)?;
    panes
        .into_iter()
        .find(|p| p.pane_id == pane_id)
        .with_context(|| format!("pane {pane_id} went away"))
}
