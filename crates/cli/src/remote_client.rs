//! `--host NAME`: the known hosts of this machine (`paddock remote`) and a pinned client of
//! one of them (`paddock-client`), for the commands that work a remote host's sessions like
//! local ones.

use crate::errors::CliError;
use paddock_client::{HostClient, Hosts, SecretStore};
use paddock_proto::supervisor::SessionView;

/// The known hosts: `hosts.json` in the config directory, tokens in the keychain (or 0600
/// files there; `PADDOCK_SECRET_STORE=file` forces files).
pub fn hosts() -> Hosts {
    let dir = paddock_core::paths::config_dir();
    let secrets = SecretStore::from_env(&dir);
    Hosts::open(dir, secrets)
}

/// The `--host` option of the commands that can work on another machine's sessions.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct HostArg {
    /// Work on the sessions of this known host (`paddock remote ls`) instead of this
    /// machine's, over its pinned HTTPS/WSS endpoint.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
}

impl HostArg {
    /// The client of the named host, or `None` for this machine.
    pub fn client(&self) -> anyhow::Result<Option<HostClient>> {
        match &self.host {
            None => Ok(None),
            Some(name) => Ok(Some(hosts().client(name)?)),
        }
    }
}

/// `/sessions/{id}` with the id made safe for a path.
pub fn session_path(id: &str) -> String {
    let safe: String = id
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    format!("/sessions/{safe}")
}

/// The remote session `query` names (id, name or unique id prefix), as `paddock ls`
/// resolves local ones.
pub async fn resolve(client: &HostClient, query: &str) -> anyhow::Result<SessionView> {
    let views: Vec<SessionView> = client.get("/sessions").await?;
    crate::target::pick(&views, query).cloned().ok_or_else(|| {
        CliError::NoRemoteSession {
            query: query.to_owned(),
            host: client.host().name.clone(),
        }
        .into()
    })
}
