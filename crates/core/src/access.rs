//! Who may use the endpoint: the token-signing key, paired devices (kept in the store, cached
//! here), one-time pairing offers, access and refresh tokens, and the audit log. The endpoint
//! (`paddock-server`) and the local API (`paddock pair`, `paddock devices`) both call this;
//! the decisions are made here only.
//!
//! Access tokens are JWTs (HS256, signed with a 256-bit key kept 0600 in the data directory)
//! carrying `sub`, `device_id`, `role`, `permissions`, `iat`, `exp`. Every check also looks the
//! device up in the cache, so a revoked device's tokens fail at once, long before they expire.
//! Refresh tokens are random secrets; only their SHA-256 is stored.
//!
//! Methods that touch the store block (SQLite writes): call them from a blocking context.
//!
//! Time ([`crate::clock`]): token times are wall-clock (they are read on other machines); how
//! long an offer or a rotation grace lasts is measured on the monotonic clock. An offer is
//! valid only while both clocks say it is within its window, so a wall clock set back never
//! makes it outlive its TTL, and one set forward past its window ends it (make a new one).
//! A token issued before the wall clock was set back more than [`CLOCK_LEEWAY_SECS`] is
//! refused as issued in the future; the client refreshes (refresh tokens carry no time).

use crate::clock::{Clock, SystemClock};
use paddock_proto::access::{
    AuditEntry, DeviceId, DeviceView, PairingOffer, Permission, Role, TokenGrant,
};
use paddock_store::{AuditQuery, AuditRecord, DeviceRecord, Store, UnixMs};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::watch;

/// The user every token speaks for: Paddock has one owner per host.
pub const OWNER: &str = "owner";

/// Offers kept after they expire or are used, to say so instead of "unknown".
const KEEP_SPENT: Duration = Duration::from_secs(3600);

/// Last-seen times are written at most this often per device.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Why an access decision or a device operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("no access token; pair this device with `paddock pair` on the host, then send the token as `Authorization: Bearer <token>`")]
    MissingToken,
    #[error("the access token is not valid ({0}); get a new one from /api/v1/auth/refresh or pair again")]
    BadToken(&'static str),
    #[error("the access token has expired; get a new one from /api/v1/auth/refresh")]
    Expired,
    #[error("this device was revoked; pair it again with `paddock pair` on the host")]
    Revoked,
    #[error("the refresh token is not known (or its device was revoked); pair again with `paddock pair` on the host")]
    BadRefresh,
    #[error("this refresh token was already used and replaced more than {grace_secs} s ago; a second use means a copy of it is elsewhere, so device {device} was revoked: pair it again with `paddock pair` on the host (and revoke any device you do not know in `paddock devices list`)")]
    RefreshReused { device: String, grace_secs: u64 },
    #[error("the disk holding Paddock's database is full, so no device can be paired now (a device kept only in memory would be forgotten at the next start); free some space on it and pair again: the same offer still works")]
    DiskFull,
    #[error("that pairing secret or code is not valid; check it, or run `paddock pair` on the host for a new one")]
    PairingInvalid,
    #[error("that pairing offer has expired; run `paddock pair` on the host for a new one")]
    PairingExpired,
    #[error("that pairing offer was already used; run `paddock pair` on the host for a new one")]
    PairingUsed,
    #[error("no device `{0}`; `paddock devices list` shows them")]
    NoSuchDevice(String),
    #[error("a device name must be 1 to 64 characters without control characters")]
    BadName,
    #[error("the database is not available, so devices cannot be paired or changed; `paddock status` says why")]
    NoDatabase,
    #[error("the database refused: {0}; `paddock status` shows its health")]
    Store(#[from] paddock_store::StoreError),
    #[error("cannot use the token key {path}: {source}; check the data directory's owner and permissions")]
    Key {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the system's random number generator failed; try again")]
    Random,
}

/// Who is asking: a device and its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub device_id: DeviceId,
    pub role: Role,
}

impl Principal {
    pub fn allows(&self, p: Permission) -> bool {
        self.role.allows(p)
    }

    /// How the audit log names this caller.
    pub fn actor(&self) -> String {
        format!("device:{}", self.device_id)
    }
}

/// An audit entry to write.
#[derive(Debug, Clone, Default)]
pub struct AuditInput {
    pub actor: String,
    pub device_id: Option<DeviceId>,
    pub action: String,
    pub target: Option<String>,
    pub result: String,
    pub detail: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Claims {
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

/// Clock difference tolerated for a token's `iat` and `nbf`.
const CLOCK_LEEWAY_SECS: u64 = 60;

struct CachedDevice {
    record: DeviceRecord,
    role: Role,
    last_touch: Option<std::time::Instant>,
    /// The refresh token this device had before its last rotation, still accepted for the
    /// rotation grace (`server.refresh_grace`) so that two requests racing with it (two tabs,
    /// a retry after a lost answer) both get the new one.
    previous: Option<Rotated>,
    /// Hashes of refresh tokens this device rotated away (newest last, at most [`SPENT`]):
    /// one presented after its grace is a copy in someone else's hands.
    spent: std::collections::VecDeque<String>,
}

/// Rotated-away refresh tokens remembered per device (memory only), to notice reuse.
const SPENT: usize = 8;

/// A rotation remembered for its grace period (memory only).
struct Rotated {
    old_hash: String,
    new_token: String,
    at: std::time::Instant,
}

/// How long a refresh token stays usable after it was rotated, unless configured
/// (`server.refresh_grace`).
pub const ROTATION_GRACE: Duration = Duration::from_secs(60);

struct Offer {
    secret: String,
    code: String,
    role: Role,
    /// The wall-clock end of its window (as shown to people).
    expires: SystemTime,
    /// When it was made, on the monotonic clock: it also ends `ttl` after this.
    made: Instant,
    ttl: Duration,
    used: bool,
}

struct State {
    devices: HashMap<String, CachedDevice>,
    offers: Vec<Offer>,
    refresh_grace: Duration,
}

/// The access component. Cheap to clone.
#[derive(Clone)]
pub struct Access {
    inner: Arc<Inner>,
}

struct Inner {
    key: ring::hmac::Key,
    store: Option<Store>,
    state: Mutex<State>,
    rng: SystemRandom,
    pairing_ttl: Duration,
    access_ttl: Duration,
    changes: watch::Sender<u64>,
    clock: Arc<dyn Clock>,
}

impl Access {
    /// Loads (or makes, 0600) the signing key in `dir` and the paired devices from `store`.
    pub fn open(
        dir: &Path,
        store: Option<Store>,
        pairing_ttl: Duration,
        access_ttl: Duration,
    ) -> Result<Self, AccessError> {
        Self::open_with_clock(dir, store, pairing_ttl, access_ttl, Arc::new(SystemClock))
    }

    /// [`Access::open`] reading the time from `clock` (tests make it jump).
    pub fn open_with_clock(
        dir: &Path,
        store: Option<Store>,
        pairing_ttl: Duration,
        access_ttl: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AccessError> {
        let rng = SystemRandom::new();
        let key = load_or_make_key(dir, &rng)?;
        let mut devices = HashMap::new();
        if let Some(store) = &store {
            for record in store.devices()? {
                let role = record.role.parse().unwrap_or(Role::Guest);
                devices.insert(
                    record.id.clone(),
                    CachedDevice {
                        record,
                        role,
                        last_touch: None,
                        previous: None,
                        spent: Default::default(),
                    },
                );
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key),
                store,
                state: Mutex::new(State {
                    devices,
                    offers: Vec::new(),
                    refresh_grace: ROTATION_GRACE,
                }),
                rng,
                pairing_ttl,
                access_ttl,
                changes: watch::channel(0).0,
                clock,
            }),
        })
    }

    /// Sets how long a rotated refresh token is still accepted (`server.refresh_grace`).
    pub fn with_refresh_grace(self, grace: Duration) -> Self {
        self.lock().refresh_grace = grace;
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn random(&self, n: usize) -> Result<Vec<u8>, AccessError> {
        let mut buf = vec![0u8; n];
        self.inner
            .rng
            .fill(&mut buf)
            .map_err(|_| AccessError::Random)?;
        Ok(buf)
    }

    /// Bumped whenever a device is revoked (or changes role): live sockets re-check.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

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
        let device_id = DeviceId(id);
        let (access_token, exp) = self.sign(&device_id, role)?;
        Ok(TokenGrant {
            device_id,
            role,
            access_token,
            access_expires_at: crate::clock::rfc3339(exp),
            refresh_token: refresh,
        })
    }

    fn u64(&self) -> Result<u64, AccessError> {
        let b = self.random(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&b);
        Ok(u64::from_le_bytes(a))
    }

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
        let (access_token, exp) = self.sign(&device_id, role)?;
        Ok(TokenGrant {
            device_id,
            role,
            access_token,
            access_expires_at: crate::clock::rfc3339(exp),
            refresh_token: refresh,
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
    fn age_rotations(&self, by: Duration) {
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

    /// Whether the device may still connect (in memory).
    pub fn is_active(&self, device: &DeviceId) -> bool {
        self.lock()
            .devices
            .get(&device.0)
            .is_some_and(|d| d.record.revoked.is_none())
    }

    /// Whether [`Access::touch`] would write now (in memory; never blocks), so callers on
    /// async threads hand it to a blocking thread only then.
    pub fn touch_is_due(&self, device: &DeviceId) -> bool {
        self.lock()
            .devices
            .get(&device.0)
            .is_some_and(|d| d.last_touch.is_none_or(|t| t.elapsed() >= TOUCH_EVERY))
    }

    /// Notes that a device was seen; writes it at most once a minute. Blocks when it writes.
    pub fn touch(&self, device: &DeviceId) {
        let due = {
            let mut st = self.lock();
            match st.devices.get_mut(&device.0) {
                Some(d) if d.last_touch.is_none_or(|t| t.elapsed() >= TOUCH_EVERY) => {
                    d.last_touch = Some(self.inner.clock.mono());
                    d.record.last_seen = Some(UnixMs::now());
                    true
                }
                _ => false,
            }
        };
        if due {
            if let Some(store) = &self.inner.store {
                store.touch_device(&device.0, UnixMs::now());
            }
        }
    }

    /// Every paired device, revoked ones included.
    pub fn devices(&self) -> Vec<DeviceView> {
        let st = self.lock();
        let mut all: Vec<_> = st
            .devices
            .values()
            .map(|d| view(&d.record, d.role))
            .collect();
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        all
    }

    pub fn device(&self, id: &DeviceId) -> Option<DeviceView> {
        self.lock()
            .devices
            .get(&id.0)
            .map(|d| view(&d.record, d.role))
    }

    /// Renames a device: at once in memory, then written (on a full disk, queued and
    /// written when space returns). Blocks (store write).
    pub fn rename(&self, id: &DeviceId, name: &str) -> Result<DeviceView, AccessError> {
        let name = clean_name(name)?;
        let store = self.inner.store.as_ref().ok_or(AccessError::NoDatabase)?;
        let v = {
            let mut st = self.lock();
            let d = st
                .devices
                .get_mut(&id.0)
                .ok_or_else(|| AccessError::NoSuchDevice(id.0.clone()))?;
            d.record.name = name.clone();
            view(&d.record, d.role)
        };
        if let paddock_store::Persisted::Queued(why) = store.rename_device(&id.0, &name) {
            tracing::warn!(device = %id, "a device was renamed but the name is not written yet ({why}); it is written when the database accepts writes again");
        }
        Ok(v)
    }

    /// Revokes a device: its tokens fail from now on and its live sockets are told to close.
    /// The revocation takes effect in memory before anything is written, so a full disk
    /// never lets a revoked device in; it is written at once if the disk takes it, else
    /// queued and written when space returns (docs/design/faults.md). Blocks (store write).
    pub fn revoke(&self, id: &DeviceId) -> Result<DeviceView, AccessError> {
        let store = self.inner.store.as_ref().ok_or(AccessError::NoDatabase)?;
        let at = UnixMs::now();
        let (v, at) = {
            let mut st = self.lock();
            let d = st
                .devices
                .get_mut(&id.0)
                .ok_or_else(|| AccessError::NoSuchDevice(id.0.clone()))?;
            let at = *d.record.revoked.get_or_insert(at);
            (view(&d.record, d.role), at)
        };
        self.inner.changes.send_modify(|n| *n += 1);
        if let paddock_store::Persisted::Queued(why) = store.revoke_device(&id.0, at) {
            tracing::error!(device = %id, "device {id} is revoked (refused from now on) but the revocation is not written yet ({why}); it is written when the database accepts writes again: if Paddock stops before that, revoke it again");
        }
        Ok(v)
    }

    /// Writes an audit entry. Blocks (store write); when the database refuses writes (a full
    /// disk) the entry is kept in memory and written when it accepts them again.
    pub fn audit(&self, entry: AuditInput) {
        let Some(store) = &self.inner.store else {
            tracing::warn!(action = %entry.action, actor = %entry.actor, result = %entry.result, "audit entry not stored: the database is not available");
            return;
        };
        let record = AuditRecord {
            id: 0,
            time: UnixMs::now(),
            actor: entry.actor,
            device_id: entry.device_id.map(|d| d.0),
            action: entry.action,
            target: entry.target,
            result: entry.result,
            details: entry.detail.map(serde_json::Value::String),
        };
        if let paddock_store::Persisted::Queued(why) = store.append_audit(&record) {
            tracing::warn!(action = %record.action, "an audit entry is kept in memory until the database accepts writes again ({why})");
        }
    }

    /// Audit entries, newest first. Blocks (store read).
    pub fn audit_log(
        &self,
        limit: u32,
        before_id: Option<i64>,
        device: Option<&DeviceId>,
    ) -> Result<Vec<AuditEntry>, AccessError> {
        let store = self.inner.store.as_ref().ok_or(AccessError::NoDatabase)?;
        let rows = store.audit(&AuditQuery {
            before_id,
            device_id: device.map(|d| d.0.clone()),
            limit: limit.clamp(1, 1000),
        })?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                time: humantime::format_rfc3339_millis(
                    r.time.to_system_time().max(SystemTime::UNIX_EPOCH),
                )
                .to_string(),
                actor: r.actor,
                device_id: r.device_id.map(DeviceId),
                action: r.action,
                target: r.target,
                result: r.result,
                detail: r.details.map(|d| match d {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }),
            })
            .collect())
    }
}

fn view(r: &DeviceRecord, role: Role) -> DeviceView {
    let t = |ms: UnixMs| crate::clock::rfc3339(ms.to_system_time());
    DeviceView {
        id: DeviceId(r.id.clone()),
        name: r.name.clone(),
        role,
        created_at: t(r.created),
        last_seen_at: r.last_seen.map(t),
        revoked_at: r.revoked.map(t),
    }
}

fn clean_name(name: &str) -> Result<String, AccessError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AccessError::BadName);
    }
    Ok(name.to_owned())
}

/// Compares without an early exit (the pairing secrets are compared with what a guesser sent).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 8 characters from an alphabet without look-alikes, as `XXXX-XXXX` (40 bits).
fn short_code(random: &[u8]) -> String {
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

pub fn sha256_hex(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn unb64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
}

/// The 32-byte signing key in `dir/token.key`, made (0600) on first use.
fn load_or_make_key(dir: &Path, rng: &SystemRandom) -> Result<Vec<u8>, AccessError> {
    let path = dir.join("token.key");
    let err = |source| AccessError::Key {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    match std::fs::read(&path) {
        Ok(k) if k.len() == 32 => return Ok(k),
        Ok(_) => {
            return Err(err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the key file is not 32 bytes; delete it to make a new key (paired devices must pair again)",
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let mut key = vec![0u8; 32];
    rng.fill(&mut key).map_err(|_| AccessError::Random)?;
    let tmp = dir.join("token.key.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(err)?;
    f.write_all(&key).and_then(|_| f.sync_all()).map_err(err)?;
    std::fs::rename(&tmp, &path).map_err(err)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    /// Access on a clock the test moves; tokens last 10 min, offers 60 s.
    fn access_at(clock: &ManualClock) -> (tempfile::TempDir, Access) {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open_in_memory().expect("store");
        let a = Access::open_with_clock(
            dir.path(),
            Some(store),
            Duration::from_secs(60),
            Duration::from_secs(600),
            Arc::new(clock.clone()),
        )
        .expect("open");
        (dir, a)
    }

    fn offer(a: &Access) -> PairingOffer {
        a.create_pairing(Role::Viewer, None, "https://h:1", "ab")
            .expect("offer")
    }

    #[test]
    fn a_wall_clock_set_back_never_lets_an_offer_outlive_its_window() {
        let clock = ManualClock::default();
        let (_dir, a) = access_at(&clock);
        let o = offer(&a);
        clock.jump_wall(-3600);
        clock.advance(Duration::from_secs(59));
        let early = offer(&a);
        a.claim(&early.secret, "in time")
            .expect("an offer within its window pairs");
        clock.advance(Duration::from_secs(1));
        assert!(matches!(
            a.claim(&o.secret, "late"),
            Err(AccessError::PairingExpired)
        ));
    }

    #[test]
    fn a_wall_clock_set_forward_past_an_offers_window_ends_it_and_a_small_step_does_not() {
        let clock = ManualClock::default();
        let (_dir, a) = access_at(&clock);
        let (kept, ended) = (offer(&a), offer(&a));
        clock.jump_wall(10);
        a.claim(&kept.secret, "phone")
            .expect("10 s forward is within the window");
        clock.jump_wall(3600);
        assert!(matches!(
            a.claim(&ended.secret, "tablet"),
            Err(AccessError::PairingExpired)
        ));
    }

    #[test]
    fn a_token_from_before_the_clock_was_set_back_is_refused_as_future_and_refresh_recovers() {
        let clock = ManualClock::default();
        let (_dir, a) = access_at(&clock);
        let grant = a.claim(&offer(&a).secret, "phone").expect("claim");
        clock.jump_wall(-30);
        a.verify(&grant.access_token)
            .expect("a step back within the leeway is tolerated");
        clock.jump_wall(-3600);
        let err = a
            .verify(&grant.access_token)
            .expect_err("issued in the future");
        assert!(err.to_string().contains("check this host's clock"), "{err}");
        let fresh = a
            .refresh(&grant.refresh_token)
            .expect("refresh carries no time");
        a.verify(&fresh.access_token).expect("the new token works");
    }

    #[test]
    fn a_wall_clock_set_forward_expires_tokens_and_refresh_recovers() {
        let clock = ManualClock::default();
        let (_dir, a) = access_at(&clock);
        let grant = a.claim(&offer(&a).secret, "phone").expect("claim");
        clock.jump_wall(601);
        assert!(matches!(
            a.verify(&grant.access_token),
            Err(AccessError::Expired)
        ));
        let fresh = a.refresh(&grant.refresh_token).expect("refresh");
        a.verify(&fresh.access_token)
            .expect("valid on the new time");
    }

    #[test]
    fn a_rotated_refresh_tokens_grace_is_measured_on_the_monotonic_clock() {
        let clock = ManualClock::default();
        let (_dir, a) = access_at(&clock);
        let grant = a.claim(&offer(&a).secret, "phone").expect("claim");
        a.refresh(&grant.refresh_token).expect("rotate");
        // The wall clock going back an hour does not lengthen the grace...
        clock.jump_wall(-3600);
        clock.advance(ROTATION_GRACE);
        assert!(matches!(
            a.refresh(&grant.refresh_token),
            Err(AccessError::RefreshReused { .. })
        ));
    }

    #[test]
    fn a_wall_clock_set_forward_does_not_end_a_rotations_grace() {
        let clock = ManualClock::default();
        let (_dir, a) = access_at(&clock);
        let grant = a.claim(&offer(&a).secret, "phone").expect("claim");
        a.refresh(&grant.refresh_token).expect("rotate");
        clock.jump_wall(3600);
        a.refresh(&grant.refresh_token)
            .expect("a racing request within the grace still gets the new token");
    }

    fn access(ttl: Duration) -> (tempfile::TempDir, Access) {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open_in_memory().expect("store");
        let a = Access::open(dir.path(), Some(store), ttl, Duration::from_secs(60)).expect("open");
        (dir, a)
    }

    #[test]
    fn a_secret_pairs_once_and_its_token_works_until_revoked() {
        let (dir, a) = access(Duration::from_secs(60));
        let offer = a
            .create_pairing(Role::Viewer, None, "https://h:1", "ab")
            .expect("offer");
        let grant = a.claim(&offer.secret, "phone").expect("claim");
        assert_eq!(grant.role, Role::Viewer);
        let p = a.verify(&grant.access_token).expect("valid");
        assert_eq!(p.role, Role::Viewer);
        assert!(matches!(
            a.claim(&offer.secret, "again"),
            Err(AccessError::PairingUsed)
        ));
        assert!(matches!(
            a.claim(&offer.code, "again"),
            Err(AccessError::PairingUsed)
        ));
        let refreshed = a.refresh(&grant.refresh_token).expect("refresh");
        a.revoke(&grant.device_id).expect("revoke");
        assert!(matches!(
            a.verify(&grant.access_token),
            Err(AccessError::Revoked)
        ));
        assert!(matches!(
            a.verify(&refreshed.access_token),
            Err(AccessError::Revoked)
        ));
        assert!(matches!(
            a.refresh(&grant.refresh_token),
            Err(AccessError::Revoked)
        ));
        let mode = std::fs::metadata(dir.path().join("token.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn refresh_tokens_rotate_racing_requests_share_the_new_one_and_the_old_one_dies() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("p.db");
        let open = || {
            let store = Store::open(&db).expect("store");
            Access::open(
                dir.path(),
                Some(store),
                Duration::from_secs(60),
                Duration::from_secs(60),
            )
            .expect("open")
        };
        let a = open();
        let offer = a
            .create_pairing(Role::Operator, None, "https://h:1", "ab")
            .expect("offer");
        let first = a.claim(&offer.secret, "phone").expect("claim");
        let second = a.refresh(&first.refresh_token).expect("refresh");
        assert_ne!(second.refresh_token, first.refresh_token, "rotated");
        assert!(a.verify(&second.access_token).is_ok());
        // Another tab refreshing with the same old token just now gets the same new token.
        let racing = a.refresh(&first.refresh_token).expect("within the grace");
        assert_eq!(racing.refresh_token, second.refresh_token);
        // Once the grace is over the new one works, and rotates.
        a.age_rotations(ROTATION_GRACE);
        let third = a.refresh(&second.refresh_token).expect("the new one works");
        assert_ne!(third.refresh_token, second.refresh_token);
        // The rotation is stored: after a restart only the newest token works.
        drop(a);
        let a = open();
        assert!(matches!(
            a.refresh(&second.refresh_token),
            Err(AccessError::BadRefresh)
        ));
        assert!(a.refresh(&third.refresh_token).is_ok());
    }

    #[test]
    fn a_refresh_token_reused_after_its_grace_revokes_the_device_and_is_audited() {
        let (_dir, a) = access(Duration::from_secs(60));
        let a = a.with_refresh_grace(Duration::from_secs(5));
        let offer = a
            .create_pairing(Role::Operator, None, "https://h:1", "ab")
            .expect("offer");
        let first = a.claim(&offer.secret, "phone").expect("claim");
        let second = a.refresh(&first.refresh_token).expect("rotate");
        a.refresh(&first.refresh_token)
            .expect("within the configured grace");
        a.age_rotations(Duration::from_secs(5));
        let err = a
            .refresh(&first.refresh_token)
            .expect_err("reused after the grace");
        assert!(
            matches!(&err, AccessError::RefreshReused { device, grace_secs: 5 } if *device == first.device_id.0),
            "{err}"
        );
        assert!(err.to_string().contains("pair it again"), "{err}");
        // Whoever holds the newer tokens is out too: the device is revoked.
        assert!(matches!(
            a.verify(&second.access_token),
            Err(AccessError::Revoked)
        ));
        assert!(matches!(
            a.refresh(&second.refresh_token),
            Err(AccessError::Revoked)
        ));
        assert!(a
            .device(&first.device_id)
            .is_some_and(|d| d.revoked_at.is_some()));
        let log = a.audit_log(10, None, None).expect("audit");
        assert!(
            log.iter().any(|e| e.action == "device.revoke"
                && e.detail.as_deref().is_some_and(|d| d.contains("reused"))),
            "{log:?}"
        );
        // A token never issued is only unknown, and revokes nothing.
        assert!(matches!(
            a.refresh("pdr_made_up"),
            Err(AccessError::BadRefresh)
        ));
    }

    #[test]
    fn short_codes_work_in_any_case_and_expired_or_wrong_ones_are_refused() {
        let (_d, a) = access(Duration::from_secs(60));
        let offer = a
            .create_pairing(Role::Operator, None, "https://h:1", "ab")
            .expect("offer");
        assert!(matches!(
            a.claim("WRONG-CODE", "x"),
            Err(AccessError::PairingInvalid)
        ));
        let typed = offer.code.to_lowercase().replace('-', " ");
        assert_eq!(
            a.claim(&typed, "tablet").expect("code").role,
            Role::Operator
        );
        let old = a
            .create_pairing(Role::Operator, Some(Duration::ZERO), "https://h:1", "ab")
            .expect("offer");
        assert!(matches!(
            a.claim(&old.secret, "x"),
            Err(AccessError::PairingExpired)
        ));
    }

    #[test]
    fn tampered_and_foreign_tokens_are_refused() {
        let (_d, a) = access(Duration::from_secs(60));
        let (_d2, b) = access(Duration::from_secs(60));
        let offer = a
            .create_pairing(Role::Guest, None, "u", "f")
            .expect("offer");
        let grant = a.claim(&offer.secret, "x").expect("claim");
        let mut parts: Vec<String> = grant.access_token.split('.').map(str::to_owned).collect();
        parts[1] = b64(br#"{"sub":"owner","device_id":"x","role":"admin","permissions":[],"iat":0,"exp":99999999999,"jti":"a"}"#);
        assert!(matches!(
            a.verify(&parts.join(".")),
            Err(AccessError::BadToken(_))
        ));
        assert!(
            b.verify(&grant.access_token).is_err(),
            "another key's token"
        );
        assert!(matches!(a.verify(""), Err(AccessError::MissingToken)));
        assert!(a.verify("a.b").is_err());
    }
}
