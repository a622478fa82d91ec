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
use paddock_proto::access::{DeviceId, Permission, Role};
use paddock_store::{DeviceRecord, Store};
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::watch;

mod devices;
mod pairing;
mod secrets;
mod tokens;

use devices::clean_name;
use secrets::load_or_make_key;
pub use secrets::sha256_hex;

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

    fn u64(&self) -> Result<u64, AccessError> {
        let b = self.random(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&b);
        Ok(u64::from_le_bytes(a))
    }
}

#[cfg(test)]
mod tests;
