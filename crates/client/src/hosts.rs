//! The known hosts: `hosts.json` in the config directory (name, URL, pinned fingerprint,
//! device id, role; no secrets), and each host's tokens in the [`SecretStore`] under its
//! device id.

use crate::error::{ClientError, Result};
use crate::http::HostClient;
use crate::secrets::{write_private, SecretStore, Tokens};
use crate::url::HostUrl;
use paddock_proto::access::{DeviceId, Role};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A host this device paired with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// What the user calls it (`--host NAME`): unique among the known hosts.
    pub name: String,
    pub url: HostUrl,
    /// SHA-256 of the host's certificate, pinned at pairing (lowercase hex).
    pub fingerprint: String,
    /// This device's id on that host (also the key of its tokens).
    pub device_id: DeviceId,
    /// What the host lets this device do.
    pub role: Role,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct HostsFile {
    hosts: Vec<Host>,
}

/// The list of known hosts and their tokens.
#[derive(Debug, Clone)]
pub struct Hosts {
    dir: PathBuf,
    secrets: SecretStore,
}

impl Hosts {
    /// The hosts kept in `dir` (the config directory), their tokens in `secrets`.
    pub fn open(dir: PathBuf, secrets: SecretStore) -> Self {
        Self { dir, secrets }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("hosts.json")
    }

    pub fn secrets(&self) -> &SecretStore {
        &self.secrets
    }

    /// Every known host, in the order they were added.
    pub fn list(&self) -> Result<Vec<Host>> {
        Ok(self.read()?.hosts)
    }

    pub fn get(&self, name: &str) -> Result<Host> {
        self.list()?
            .into_iter()
            .find(|h| h.name == name)
            .ok_or_else(|| ClientError::UnknownHost(name.to_owned()))
    }

    /// Adds a host and stores its tokens; refuses a name already taken.
    pub async fn add(&self, host: Host, tokens: &Tokens) -> Result<()> {
        let mut file = self.read()?;
        if file.hosts.iter().any(|h| h.name == host.name) {
            return Err(ClientError::HostExists(host.name));
        }
        self.secrets.save(host.device_id.0.as_str(), tokens).await?;
        file.hosts.push(host);
        self.write(&file)
    }

    /// Forgets a host and its tokens (the host itself still lists the device until its
    /// owner revokes it).
    pub async fn remove(&self, name: &str) -> Result<Host> {
        let mut file = self.read()?;
        let i = file
            .hosts
            .iter()
            .position(|h| h.name == name)
            .ok_or_else(|| ClientError::UnknownHost(name.to_owned()))?;
        let host = file.hosts.remove(i);
        self.write(&file)?;
        self.secrets.delete(host.device_id.0.as_str()).await?;
        Ok(host)
    }

    /// Replaces the record of the host called `host.name` (e.g. a new address).
    pub fn update(&self, host: Host) -> Result<()> {
        let mut file = self.read()?;
        let slot = file
            .hosts
            .iter_mut()
            .find(|h| h.name == host.name)
            .ok_or_else(|| ClientError::UnknownHost(host.name.clone()))?;
        *slot = host;
        self.write(&file)
    }

    /// A client of the host called `name`.
    pub fn client(&self, name: &str) -> Result<HostClient> {
        Ok(HostClient::new(self.get(name)?, self.secrets.clone()))
    }

    /// A name not yet taken, from `wanted` (`wanted`, `wanted-2`, ...).
    pub fn free_name(&self, wanted: &str) -> Result<String> {
        let taken: Vec<String> = self.list()?.into_iter().map(|h| h.name).collect();
        if !taken.iter().any(|t| t == wanted) {
            return Ok(wanted.to_owned());
        }
        Ok((2..)
            .map(|i| format!("{wanted}-{i}"))
            .find(|n| !taken.contains(n))
            .unwrap_or_else(|| wanted.to_owned()))
    }

    fn read(&self) -> Result<HostsFile> {
        let path = self.path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ClientError::BadHostsFile {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HostsFile::default()),
            Err(source) => Err(ClientError::Storage { path, source }),
        }
    }

    fn write(&self, file: &HostsFile) -> Result<()> {
        let json = serde_json::to_vec_pretty(file).map_err(|e| ClientError::BadHostsFile {
            path: self.path(),
            message: e.to_string(),
        })?;
        write_private(&self.dir, &self.path(), &json)
    }
}

/// A valid host name: letters, digits, `.`, `-`, `_`; 1 to 64 of them.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, dev: &str) -> Host {
        Host {
            name: name.into(),
            url: HostUrl::parse("https://127.0.0.1:7420").expect("url"),
            fingerprint: "ab".repeat(32),
            device_id: DeviceId(dev.into()),
            role: Role::Admin,
        }
    }

    #[tokio::test]
    async fn hosts_are_added_listed_and_removed_with_their_tokens() {
        let dir = tempfile::tempdir().expect("dir");
        let secrets = SecretStore::file(dir.path());
        let hosts = Hosts::open(dir.path().to_owned(), secrets.clone());
        let t = Tokens {
            access_token: "a".into(),
            refresh_token: "r".into(),
        };
        hosts.add(host("box", "d1"), &t).await.expect("add");
        assert!(matches!(
            hosts.add(host("box", "d2"), &t).await,
            Err(ClientError::HostExists(_))
        ));
        assert_eq!(hosts.free_name("box").expect("free"), "box-2");
        assert_eq!(hosts.list().expect("list"), vec![host("box", "d1")]);
        let on_disk = std::fs::read_to_string(hosts.path()).expect("file");
        assert!(!on_disk.contains("\"r\""), "no token in hosts.json");
        assert_eq!(secrets.load("d1").await.expect("load"), Some(t));
        hosts.remove("box").await.expect("rm");
        assert!(hosts.list().expect("list").is_empty());
        assert_eq!(secrets.load("d1").await.expect("load"), None);
        assert!(matches!(
            hosts.remove("box").await,
            Err(ClientError::UnknownHost(_))
        ));
        assert!(valid_name("my-box.lan") && !valid_name("a b") && !valid_name(""));
    }
}
