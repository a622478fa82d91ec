//! Access and refresh tokens: signing and verifying the JWTs, rotating refresh tokens and
//! revoking a device whose rotated-away token comes back.

use super::secrets::{b64, ct_eq, sha256_hex, unb64};
use super::{Access, AccessError, AuditInput, Principal, Rotated, CLOCK_LEEWAY_SECS, OWNER, SPENT};
use paddock_proto::access::{DeviceId, Permission, Role, TokenGrant};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

#[derive(Serialize, Deserialize)]
pub(super) struct Claims {
    sub: String,
    device_id: String,
    role: Role,
    permissions: Vec<Permission>,
    iat: u64,
    exp: u64,
    /// Not before (RFC 7519); Paddock does not set it, but honours it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    jti: String,
}

impl Access {
    /// A new access token, and a new refresh token, for the device holding `refresh_token`.
    /// The refresh token is rotated: the one presented stops working (after a short grace
    /// for requests racing with this one), so a copied token is good for one use at most.
    /// A rotated-away token presented after its grace means two parties hold the device's
    /// tokens (RFC 9700, 4.14.2): the device is revoked, and the answer says so.
    /// Blocks (store write).
    pub fn refresh(&self, refresh_token: &str) -> Result<TokenGrant, AccessError> {
        let hash = sha256_hex(refresh_token.trim().as_bytes());
        let new_token = format!("pdr_{}", b64(&self.random(32)?));
        let new_hash = sha256_hex(new_token.as_bytes());
        let (device_id, role, refresh, rotated) = {
            let mut st = self.lock();
            let now = self.inner.clock.mono();
            let grace = st.refresh_grace;
            let found = st.devices.values_mut().find(|d| {
                ct_eq(d.record.token_hash.as_bytes(), hash.as_bytes())
                    || d.previous.as_ref().is_some_and(|p| {
                        now.duration_since(p.at) < grace
                            && ct_eq(p.old_hash.as_bytes(), hash.as_bytes())
                    })
            });
            let Some(d) = found else {
                let reused = st
                    .devices
                    .values()
                    .find(|d| d.spent.iter().any(|h| ct_eq(h.as_bytes(), hash.as_bytes())))
                    .map(|d| (d.record.id.clone(), d.record.revoked.is_some()));
                drop(st);
                return Err(match reused {
                    Some((_, true)) => AccessError::Revoked,
                    Some((id, false)) => self.revoke_for_reuse(id, grace),
                    None => AccessError::BadRefresh,
                });
            };
            if d.record.revoked.is_some() {
                return Err(AccessError::Revoked);
            }
            let id = d.record.id.clone();
            let current = ct_eq(d.record.token_hash.as_bytes(), hash.as_bytes());
            let refresh = if current {
                d.record.token_hash = new_hash.clone();
                d.spent.push_back(hash.clone());
                while d.spent.len() > SPENT {
                    d.spent.pop_front();
                }
                d.previous = Some(Rotated {
                    old_hash: hash,
                    new_token: new_token.clone(),
                    at: now,
                });
                new_token
            } else {
                // A request racing with the rotation: the same new token.
                d.previous
                    .as_ref()
                    .map(|p| p.new_token.clone())
                    .ok_or(AccessError::BadRefresh)?
            };
            (DeviceId(id), d.role, refresh, current)
        };
        if rotated {
            if let Some(store) = &self.inner.store {
                // The rotation holds in memory at once; on a full disk it is written later
                // (until then a restart would bring the previous token back).
                if let paddock_store::Persisted::Queued(why) =
                    store.set_device_token(&device_id.0, &new_hash)
                {
                    tracing::warn!(device = %device_id, "a refresh token was rotated in memory but not written yet ({why}); it is written when the database accepts writes again");
                }
            }
        }
        self.grant(device_id, role, refresh)
    }

    /// The grant a device is handed (on pairing and on each refresh): a new signed access
    /// token with its expiry, and `refresh_token`.
    pub(super) fn grant(
        &self,
        device_id: DeviceId,
        role: Role,
        refresh_token: String,
    ) -> Result<TokenGrant, AccessError> {
        let (access_token, exp) = self.sign(&device_id, role)?;
        Ok(TokenGrant {
            device_id,
            role,
            access_token,
            access_expires_at: crate::clock::rfc3339(exp),
            refresh_token,
        })
    }

    /// A rotated-away refresh token of device `id` came back after its grace: revokes the
    /// device (both its refresh and access tokens) and writes why in the audit log.
    fn revoke_for_reuse(&self, id: String, grace: Duration) -> AccessError {
        let device = DeviceId(id.clone());
        match self.revoke(&device) {
            Ok(_) => {
                tracing::warn!(device = %device, "a rotated-away refresh token was used again after its grace; the device is revoked")
            }
            Err(e) => {
                tracing::error!(device = %device, error = %e, "a reused refresh token's device could not be revoked")
            }
        }
        self.audit(AuditInput {
            actor: "paddock".into(),
            device_id: Some(device),
            action: "device.revoke".into(),
            target: Some(id.clone()),
            result: "ok".into(),
            detail: Some("its refresh token was reused after its rotation grace".into()),
        });
        AccessError::RefreshReused {
            device: id,
            grace_secs: grace.as_secs(),
        }
    }

    /// Makes every remembered rotation `by` older (tests of the grace period).
    #[cfg(test)]
    pub(super) fn age_rotations(&self, by: Duration) {
        for d in self.lock().devices.values_mut() {
            if let Some(p) = d.previous.as_mut() {
                p.at = p.at.checked_sub(by).unwrap_or(p.at);
            }
        }
    }

    /// Signs an access token for a device (the endpoint's tests and benchmarks use it for
    /// devices they paired).
    pub fn sign(&self, device: &DeviceId, role: Role) -> Result<(String, SystemTime), AccessError> {
        let now = self.inner.clock.wall();
        let exp = now + self.inner.access_ttl;
        let secs = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        };
        let claims = Claims {
            sub: OWNER.to_owned(),
            device_id: device.0.clone(),
            role,
            permissions: role.permissions(),
            iat: secs(now),
            exp: secs(exp),
            nbf: None,
            jti: b64(&self.random(12)?),
        };
        let header = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
        let body = b64(&serde_json::to_vec(&claims).map_err(|_| AccessError::BadToken("claims"))?);
        let signing_input = format!("{header}.{body}");
        let tag = ring::hmac::sign(&self.inner.key, signing_input.as_bytes());
        Ok((format!("{signing_input}.{}", b64(tag.as_ref())), exp))
    }

    /// Checks an access token: signature, expiry, and that its device is still paired.
    /// In memory only; never blocks.
    pub fn verify(&self, token: &str) -> Result<Principal, AccessError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(AccessError::MissingToken);
        }
        if token.len() > 4096 {
            return Err(AccessError::BadToken("too long"));
        }
        let mut parts = token.split('.');
        let (Some(h), Some(b), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AccessError::BadToken("not a JWT"));
        };
        let sig = unb64(s).ok_or(AccessError::BadToken("bad signature encoding"))?;
        let signing_input = &token[..h.len() + 1 + b.len()];
        ring::hmac::verify(&self.inner.key, signing_input.as_bytes(), &sig)
            .map_err(|_| AccessError::BadToken("bad signature"))?;
        let header = unb64(h).ok_or(AccessError::BadToken("bad header"))?;
        let header: serde_json::Value =
            serde_json::from_slice(&header).map_err(|_| AccessError::BadToken("bad header"))?;
        if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
            return Err(AccessError::BadToken("unsupported algorithm"));
        }
        let body = unb64(b).ok_or(AccessError::BadToken("bad claims"))?;
        let claims: Claims =
            serde_json::from_slice(&body).map_err(|_| AccessError::BadToken("bad claims"))?;
        let now = self
            .inner
            .clock
            .wall()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if claims.exp <= now {
            return Err(AccessError::Expired);
        }
        if claims.iat.max(claims.nbf.unwrap_or(0)) > now + CLOCK_LEEWAY_SECS {
            return Err(AccessError::BadToken(
                "not valid yet: it was issued in the future; check this host's clock",
            ));
        }
        let st = self.lock();
        let d = st
            .devices
            .get(&claims.device_id)
            .ok_or(AccessError::Revoked)?;
        if d.record.revoked.is_some() {
            return Err(AccessError::Revoked);
        }
        Ok(Principal {
            device_id: DeviceId(claims.device_id),
            role: d.role,
        })
    }
}
