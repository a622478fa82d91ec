//! Single-use action tokens: what an Approve or Deny on a notification carries.
//!
//! A token is `pna_<id>.<secret>` (a 96-bit public id and a 256-bit secret, base64url). The
//! host keeps, per id, what the token is bound to (notification, request, decision, channel,
//! device, expiry) and `HMAC-SHA256(host key, binding ‖ secret)`, never the secret: a copy of
//! memory or of a log line gives nothing that answers a request, and changing a binding
//! breaks its MAC. Redeeming recomputes the MAC and compares it in constant time, checks the
//! expiry and the channel, and marks the token used: a second use is refused and says when
//! the first was. Whether the request is still open is the permission registry's business.

use paddock_proto::agent::{Decision, PermissionId};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

const PREFIX: &str = "pna_";
/// Used tokens are remembered this long past their expiry, to tell a late press what happened.
const KEEP_AFTER_EXPIRY: Duration = Duration::from_secs(3600);

/// What a token answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub notification: String,
    pub request: PermissionId,
    pub decision: Decision,
    /// The channel it was given to.
    pub channel: String,
    /// The device it was sent to, where the channel knows one (a Web Push subscription).
    pub device: Option<String>,
    pub expires: SystemTime,
}

impl Binding {
    fn canonical(&self) -> Vec<u8> {
        let decision = serde_json::to_string(&self.decision).unwrap_or_default();
        let expires = self
            .expires
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let fields = [
            self.notification.as_str(),
            self.request.as_str(),
            decision.as_str(),
            self.channel.as_str(),
            self.device.as_deref().unwrap_or(""),
            &expires.to_string(),
        ];
        let mut out = Vec::new();
        for f in fields {
            out.extend_from_slice(&(f.len() as u32).to_le_bytes());
            out.extend_from_slice(f.as_bytes());
        }
        out
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TokenError {
    #[error("this action link is not valid (it was mistyped, cut short, or made by another Paddock); open the request in Paddock instead")]
    Invalid,
    #[error("this action expired at {0}; open the request in Paddock to answer it")]
    Expired(String),
    #[error("this action was already used at {0}")]
    Used(String),
    #[error("this action was sent to {expected}, not {got}")]
    WrongChannel { expected: String, got: String },
    #[error("no secure random numbers are available, so no action token can be made")]
    Random,
}

struct Entry {
    mac: Vec<u8>,
    binding: Binding,
    used_at: Option<String>,
}

/// The live tokens. Cheap to clone.
#[derive(Clone)]
pub struct ActionTokens {
    key: Arc<hmac::Key>,
    rng: Arc<SystemRandom>,
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

impl ActionTokens {
    /// `key`: the host's secret (32 bytes from `<data>/notify/action.key`).
    pub fn new(key: &[u8]) -> Self {
        Self {
            key: Arc::new(hmac::Key::new(hmac::HMAC_SHA256, key)),
            rng: Arc::new(SystemRandom::new()),
            entries: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn message(binding: &Binding, secret: &[u8]) -> Vec<u8> {
        let mut m = binding.canonical();
        m.extend_from_slice(secret);
        m
    }

    /// Makes a token for `binding`.
    pub fn issue(&self, binding: Binding) -> Result<String, TokenError> {
        let mut id = [0u8; 12];
        let mut secret = [0u8; 32];
        self.rng.fill(&mut id).map_err(|_| TokenError::Random)?;
        self.rng.fill(&mut secret).map_err(|_| TokenError::Random)?;
        let id = b64(&id);
        let mac = hmac::sign(&self.key, &Self::message(&binding, &secret))
            .as_ref()
            .to_vec();
        let token = format!("{PREFIX}{id}.{}", b64(&secret));
        let mut entries = self.lock();
        let now = SystemTime::now();
        entries.retain(|_, e| e.binding.expires + KEEP_AFTER_EXPIRY > now);
        entries.insert(
            id,
            Entry {
                mac,
                binding,
                used_at: None,
            },
        );
        Ok(token)
    }

    /// Checks a token and uses it up. `channel`: the channel that heard it (its binding must
    /// name it); `None` for a link opened anywhere (the link itself is the credential).
    pub fn redeem(&self, token: &str, channel: Option<&str>) -> Result<Binding, TokenError> {
        let (id, secret) = token
            .trim()
            .strip_prefix(PREFIX)
            .and_then(|t| t.split_once('.'))
            .ok_or(TokenError::Invalid)?;
        let secret = unb64(secret).ok_or(TokenError::Invalid)?;
        let mut entries = self.lock();
        let entry = entries.get_mut(id).ok_or(TokenError::Invalid)?;
        // ring compares the MACs in constant time.
        if hmac::verify(
            &self.key,
            &Self::message(&entry.binding, &secret),
            &entry.mac,
        )
        .is_err()
        {
            return Err(TokenError::Invalid);
        }
        if let Some(at) = &entry.used_at {
            return Err(TokenError::Used(at.clone()));
        }
        if SystemTime::now() > entry.binding.expires {
            return Err(TokenError::Expired(
                humantime::format_rfc3339_seconds(entry.binding.expires).to_string(),
            ));
        }
        if let Some(got) = channel {
            if got != entry.binding.channel {
                return Err(TokenError::WrongChannel {
                    expected: entry.binding.channel.clone(),
                    got: got.to_owned(),
                });
            }
        }
        entry.used_at = Some(crate::permissions::now_text());
        Ok(entry.binding.clone())
    }

    /// How many tokens are remembered (for tests and the bench).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(channel: &str, ttl: Duration) -> Binding {
        Binding {
            notification: "n1".into(),
            request: "p1".into(),
            decision: Decision::Allow,
            channel: channel.into(),
            device: None,
            expires: SystemTime::now() + ttl,
        }
    }

    #[test]
    fn a_token_answers_once_on_its_own_channel() {
        let t = ActionTokens::new(&[7; 32]);
        let token = t
            .issue(binding("desktop", Duration::from_secs(60)))
            .expect("issued");
        let err = t.redeem(&token, Some("ntfy")).expect_err("other channel");
        assert!(err.to_string().contains("sent to desktop"), "{err}");
        let b = t.redeem(&token, Some("desktop")).expect("first use");
        assert_eq!(b.request, "p1");
        let again = t.redeem(&token, Some("desktop")).expect_err("single use");
        assert!(
            matches!(again, TokenError::Used(_)),
            "second use refused: {again}"
        );
    }

    #[test]
    fn forged_tampered_foreign_and_expired_tokens_are_refused() {
        let t = ActionTokens::new(&[7; 32]);
        let token = t
            .issue(binding("web_push", Duration::from_secs(60)))
            .expect("issued");
        let mut forged = token.clone();
        let last = forged.pop().expect("non-empty");
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(t.redeem(&forged, None), Err(TokenError::Invalid));
        assert_eq!(t.redeem("pna_nothing", None), Err(TokenError::Invalid));
        assert_eq!(t.redeem("", None), Err(TokenError::Invalid));
        let other_host = ActionTokens::new(&[8; 32]);
        assert_eq!(other_host.redeem(&token, None), Err(TokenError::Invalid));
        let mut past = binding("web_push", Duration::ZERO);
        past.expires = SystemTime::now() - Duration::from_secs(1);
        let old = t.issue(past).expect("issued");
        assert!(matches!(t.redeem(&old, None), Err(TokenError::Expired(_))));
        // The forged and expired attempts used nothing up.
        t.redeem(&token, None).expect("the real one still works");
    }
}
