//! A device's tokens in use, refreshed exactly as the UI does it (`ui/src/lib/backend/`,
//! `core::access`): the access token is sent until the host answers 401; then the stored
//! tokens are read again (another process, or another window of the app, may have rotated
//! them already: then theirs are used), else the refresh token is spent at
//! `/auth/refresh` and the new pair stored before it is used. The host keeps a spent refresh
//! token valid for 60 s and answers it with the same new token, so two clients racing the
//! rotation both succeed. A refused refresh means the device was revoked.

use crate::error::{ClientError, Result};
use crate::http::Transport;
use crate::secrets::{SecretStore, Tokens};
use paddock_proto::access::TokenGrant;
use paddock_proto::rest::RefreshRequest;

pub(crate) struct Auth {
    key: String,
    host: String,
    secrets: SecretStore,
    /// The tokens in use; one refresh at a time (held across the refresh request).
    current: tokio::sync::Mutex<Option<Tokens>>,
}

impl Auth {
    pub fn new(key: String, host: String, secrets: SecretStore) -> Self {
        Self {
            key,
            host,
            secrets,
            current: tokio::sync::Mutex::new(None),
        }
    }

    /// The tokens to use now.
    pub async fn current(&self) -> Result<Tokens> {
        let mut cur = self.current.lock().await;
        if let Some(t) = cur.as_ref() {
            return Ok(t.clone());
        }
        let t = self.stored().await?;
        *cur = Some(t.clone());
        Ok(t)
    }

    async fn stored(&self) -> Result<Tokens> {
        self.secrets
            .load(&self.key)
            .await?
            .ok_or_else(|| ClientError::Revoked {
                host: self.host.clone(),
            })
    }

    /// New tokens after the host refused `failed` (an access token).
    pub async fn refresh(&self, transport: &Transport, failed: &str) -> Result<Tokens> {
        let mut cur = self.current.lock().await;
        if let Some(t) = cur.as_ref() {
            if t.access_token != failed {
                // Refreshed by another request of this client meanwhile.
                return Ok(t.clone());
            }
        }
        let stored = self.stored().await?;
        if stored.access_token != failed {
            // Rotated by another process: use its tokens.
            *cur = Some(stored.clone());
            return Ok(stored);
        }
        let body = serde_json::to_vec(&RefreshRequest {
            refresh_token: stored.refresh_token.clone(),
        })
        .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let resp = transport
            .send("POST", "/auth/refresh", None, Some(&body))
            .await?;
        if resp.status == 401 {
            *cur = None;
            return Err(ClientError::Revoked {
                host: self.host.clone(),
            });
        }
        let grant: TokenGrant = resp.error_for_status()?.json()?;
        let fresh = Tokens {
            access_token: grant.access_token,
            refresh_token: grant.refresh_token,
        };
        self.secrets.save(&self.key, &fresh).await?;
        *cur = Some(fresh.clone());
        tracing::debug!(host = %self.host, "refreshed this device's tokens");
        Ok(fresh)
    }
}
