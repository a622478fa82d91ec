//! Where a device's tokens live: the OS keychain (`keyring`: Secret Service, macOS/iOS
//! Keychain, Windows Credential Manager) where one is usable, else one 0600 file per device
//! in a 0700 directory. Tokens are never printed: [`Tokens`]' `Debug` redacts them.
//!
//! Every call runs on a blocking thread (the keychain and the file system block).

use crate::error::{ClientError, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The keychain's service name.
pub const SERVICE: &str = "paddock";

/// A device's tokens for one host.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Tokens {
    /// The current access token (JWT), possibly expired: it is refreshed on a 401.
    pub access_token: String,
    /// The refresh token (`pdr_...`): rotated at every refresh.
    pub refresh_token: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens { <redacted> }")
    }
}

/// Where tokens are kept.
#[derive(Clone, Debug)]
pub struct SecretStore {
    dir: PathBuf,
    /// Try the keychain first.
    keychain: bool,
    /// Set once the keychain failed as unusable: files from then on.
    keychain_unusable: Arc<AtomicBool>,
}

impl SecretStore {
    /// The keychain where usable, else 0600 files in `<config_dir>/secrets/`.
    pub fn auto(config_dir: &Path) -> Self {
        Self {
            dir: config_dir.join("secrets"),
            keychain: cfg!(any(
                target_os = "linux",
                target_os = "freebsd",
                target_os = "macos",
                target_os = "ios",
                target_os = "windows"
            )),
            keychain_unusable: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Only 0600 files in `<config_dir>/secrets/` (tests, or machines whose keychain prompts).
    pub fn file(config_dir: &Path) -> Self {
        Self {
            keychain: false,
            ..Self::auto(config_dir)
        }
    }

    /// [`SecretStore::auto`], or [`SecretStore::file`] when `PADDOCK_SECRET_STORE=file`.
    pub fn from_env(config_dir: &Path) -> Self {
        match std::env::var("PADDOCK_SECRET_STORE").as_deref() {
            Ok("file") => Self::file(config_dir),
            _ => Self::auto(config_dir),
        }
    }

    /// Where the tokens of `key` would be if they are in a file.
    pub fn file_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{}.json", sanitize(key)))
    }

    fn use_keychain(&self) -> bool {
        self.keychain && !self.keychain_unusable.load(Ordering::Relaxed)
    }

    pub async fn load(&self, key: &str) -> Result<Option<Tokens>> {
        let me = self.clone();
        let key = key.to_owned();
        blocking(move || {
            if me.use_keychain() {
                match keychain::get(&key) {
                    Ok(Some(s)) => return parse(&s).map(Some),
                    Ok(None) => {}
                    Err(Unusable(why)) => me.mark_unusable(&why),
                }
            }
            let path = me.file_path(&key);
            match std::fs::read(&path) {
                Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                    ClientError::BadHostsFile {
                        path,
                        message: e.to_string(),
                    }
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(ClientError::Storage { path, source }),
            }
        })
        .await
    }

    pub async fn save(&self, key: &str, tokens: &Tokens) -> Result<()> {
        let me = self.clone();
        let key = key.to_owned();
        let json =
            serde_json::to_string(tokens).map_err(|e| ClientError::Keychain(e.to_string()))?;
        blocking(move || {
            if me.use_keychain() {
                match keychain::set(&key, &json) {
                    Ok(()) => {
                        // A copy from a time without a keychain would be stale now.
                        let _ = std::fs::remove_file(me.file_path(&key));
                        return Ok(());
                    }
                    Err(Unusable(why)) => me.mark_unusable(&why),
                }
            }
            write_private(&me.dir, &me.file_path(&key), json.as_bytes())
        })
        .await
    }

    pub async fn delete(&self, key: &str) -> Result<()> {
        let me = self.clone();
        let key = key.to_owned();
        blocking(move || {
            if me.use_keychain() {
                let _ = keychain::delete(&key);
            }
            let path = me.file_path(&key);
            match std::fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(ClientError::Storage { path, source }),
            }
        })
        .await
    }

    fn mark_unusable(&self, why: &str) {
        if !self.keychain_unusable.swap(true, Ordering::Relaxed) {
            tracing::info!(
                reason = why,
                dir = %self.dir.display(),
                "no usable keychain here: keeping tokens in 0600 files instead"
            );
        }
    }
}

fn parse(s: &str) -> Result<Tokens> {
    serde_json::from_str(s).map_err(|e| {
        ClientError::Keychain(format!(
            "a stored token is damaged ({e}); pair this host again"
        ))
    })
}

/// Device ids are `[A-Za-z0-9_-]`; anything else becomes `_` so a key is always a file name.
fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ClientError::Keychain(format!("the token store's thread failed: {e}")))?
}

/// Writes `bytes` to `path` (0600) through a temporary file and a rename, in `dir` (0700).
pub(crate) fn write_private(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let storage = |source| ClientError::Storage {
        path: path.to_owned(),
        source,
    };
    create_private_dir(dir).map_err(storage)?;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp).map_err(storage)?;
    f.write_all(bytes).map_err(storage)?;
    f.sync_all().map_err(storage)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(storage)
}

pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// The keychain said it cannot be used here (no Secret Service, locked, no access).
struct Unusable(String);

#[cfg(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "macos",
    target_os = "ios",
    target_os = "windows"
))]
mod keychain {
    use super::{Unusable, SERVICE};

    fn entry(key: &str) -> Result<keyring::Entry, Unusable> {
        keyring::Entry::new(SERVICE, key).map_err(|e| Unusable(e.to_string()))
    }

    pub fn get(key: &str) -> Result<Option<String>, Unusable> {
        match entry(key)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(Unusable(e.to_string())),
        }
    }

    pub fn set(key: &str, value: &str) -> Result<(), Unusable> {
        entry(key)?
            .set_password(value)
            .map_err(|e| Unusable(e.to_string()))
    }

    pub fn delete(key: &str) -> Result<(), Unusable> {
        match entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(Unusable(e.to_string())),
        }
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "macos",
    target_os = "ios",
    target_os = "windows"
)))]
mod keychain {
    use super::Unusable;
    const NONE: &str = "this platform has no keychain keyring can use";
    pub fn get(_: &str) -> Result<Option<String>, Unusable> {
        Err(Unusable(NONE.into()))
    }
    pub fn set(_: &str, _: &str) -> Result<(), Unusable> {
        Err(Unusable(NONE.into()))
    }
    pub fn delete(_: &str) -> Result<(), Unusable> {
        Err(Unusable(NONE.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_tokens_are_private_and_round_trip() {
        let dir = tempfile::tempdir().expect("dir");
        let store = SecretStore::file(dir.path());
        let t = Tokens {
            access_token: "a".into(),
            refresh_token: "pdr_secret".into(),
        };
        assert_eq!(store.load("dev1").await.expect("load"), None);
        store.save("dev1", &t).await.expect("save");
        assert_eq!(store.load("dev1").await.expect("load"), Some(t.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.file_path("dev1"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{t:?}").contains("pdr_secret"));
        store.delete("dev1").await.expect("delete");
        assert_eq!(store.load("dev1").await.expect("load"), None);
        assert_eq!(sanitize("../x"), "___x");
    }
}
