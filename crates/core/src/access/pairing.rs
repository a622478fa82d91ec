//! Pairing: one-time offers (a secret for the QR code, a short code to type) and the claim
//! that turns one into a paired device with its first tokens.

use super::secrets::{b64, ct_eq, sha256_hex};
use super::{clean_name, Access, AccessError, CachedDevice, Offer, KEEP_SPENT};
use paddock_proto::access::{DeviceId, PairingOffer, Role, TokenGrant};
use paddock_store::{DeviceRecord, UnixMs};
use std::time::Duration;

impl Access {
    /// A one-time offer: a secret for the QR code and a short code to type, for a device
    /// with `role`, valid for `ttl` (the configured TTL when `None`).
    pub fn create_pairing(
        &self,
        role: Role,
        ttl: Option<Duration>,
        url: &str,
        fingerprint: &str,
    ) -> Result<PairingOffer, AccessError> {
        let secret = b64(&self.random(32)?);
        let code = short_code(&self.random(8)?);
        let ttl = ttl.unwrap_or(self.inner.pairing_ttl);
        let (now, made) = (self.inner.clock.wall(), self.inner.clock.mono());
        let expires = now + ttl;
        let mut st = self.lock();
        st.offers
            .retain(|o| made.saturating_duration_since(o.made) < o.ttl + KEEP_SPENT);
        st.offers.push(Offer {
            secret: secret.clone(),
            code: code.clone(),
            role,
            expires,
            made,
            ttl,
            used: false,
        });
        Ok(PairingOffer {
            url: url.to_owned(),
            fingerprint: fingerprint.to_owned(),
            pair_url: format!("{url}/#pair={secret}&fp={fingerprint}"),
            secret,
            code,
            role,
            expires_at: crate::clock::rfc3339(expires),
        })
    }

    /// Proves a pairing secret (or short code) and makes a new device. Blocks (store write).
    pub fn claim(&self, proof: &str, device_name: &str) -> Result<TokenGrant, AccessError> {
        let name = clean_name(device_name)?;
        let store = self.inner.store.as_ref().ok_or(AccessError::NoDatabase)?;
        let proof = proof.trim();
        let as_code: String = proof
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let (role, offer_secret) = {
            let mut st = self.lock();
            let (now, mono) = (self.inner.clock.wall(), self.inner.clock.mono());
            let offer = st.offers.iter_mut().find(|o| {
                ct_eq(o.secret.as_bytes(), proof.as_bytes())
                    | ct_eq(o.code.replace('-', "").as_bytes(), as_code.as_bytes())
            });
            let Some(offer) = offer else {
                return Err(AccessError::PairingInvalid);
            };
            if offer.used {
                return Err(AccessError::PairingUsed);
            }
            if offer.expires <= now || mono.saturating_duration_since(offer.made) >= offer.ttl {
                return Err(AccessError::PairingExpired);
            }
            offer.used = true;
            (offer.role, offer.secret.clone())
        };
        let id = format!("dev-{}", paddock_proto::SessionId::from_random(self.u64()?));
        let refresh = format!("pdr_{}", b64(&self.random(32)?));
        let record = DeviceRecord {
            id: id.clone(),
            name,
            role: role.as_str().to_owned(),
            token_hash: sha256_hex(refresh.as_bytes()),
            created: UnixMs::now(),
            last_seen: Some(UnixMs::now()),
            revoked: None,
        };
        if let Err(e) = store.insert_device(&record) {
            // Nothing is lost: the offer can be used again once the database takes writes.
            if let Some(o) = self
                .lock()
                .offers
                .iter_mut()
                .find(|o| o.secret == offer_secret)
            {
                o.used = false;
            }
            return Err(match e {
                paddock_store::StoreError::DiskFull { .. } => AccessError::DiskFull,
                e => AccessError::Store(e),
            });
        }
        self.lock().devices.insert(
            id.clone(),
            CachedDevice {
                record,
                role,
                last_touch: Some(self.inner.clock.mono()),
                previous: None,
                spent: Default::default(),
            },
        );
        self.grant(DeviceId(id), role, refresh)
    }
}

/// 8 characters from an alphabet without look-alikes, as `XXXX-XXXX` (40 bits).
pub(super) fn short_code(random: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789X";
    let mut s = String::with_capacity(9);
    for (i, b) in random.iter().take(8).enumerate() {
        if i == 4 {
            s.push('-');
        }
        s.push(ALPHABET[(*b as usize) % 31] as char);
    }
    s
}
