//! VAPID (RFC 8292): the host's P-256 key (made on first start, `<data>/notify/vapid.p8`,
//! 0600) and the ES256 JWT each push request carries, so push services know the sender.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// How long one signature is valid (RFC 8292 allows at most 24 hours).
const VALID_FOR: Duration = Duration::from_secs(12 * 3600);

/// The host's VAPID key.
pub struct Vapid {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    contact: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_key())
            .field("contact", &self.contact)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VapidError {
    #[error("cannot read or make the Web Push key {path}: {source}")]
    File {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the Web Push key {0} is damaged; move it away to make a new one (browsers must then subscribe again)")]
    Damaged(std::path::PathBuf),
    #[error("the push endpoint `{0}` has no scheme and host")]
    BadEndpoint(String),
    #[error("cannot sign with the Web Push key")]
    Sign,
}

impl Vapid {
    /// Loads `path`, or makes the key there on first start.
    pub fn open(path: &Path, contact: &str) -> Result<Self, VapidError> {
        let rng = SystemRandom::new();
        let pkcs8 = crate::keyfile::read_or_make(
            path,
            |b| EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, b, &rng).is_ok(),
            || {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map(|d| d.as_ref().to_vec())
                    .map_err(|_| std::io::Error::other("no secure random numbers"))
            },
        )
        .map_err(|source| VapidError::File {
            path: path.to_owned(),
            source,
        })?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng)
            .map_err(|_| VapidError::Damaged(path.to_owned()))?;
        Ok(Self {
            key,
            rng,
            contact: contact.to_owned(),
        })
    }

    /// The public key, base64url: the `applicationServerKey` browsers subscribe with.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.public_key().as_ref())
    }

    /// The `Authorization` header for a push to `endpoint`: `vapid t=<jwt>, k=<key>`.
    pub fn authorization(&self, endpoint: &str) -> Result<String, VapidError> {
        let audience = origin(endpoint).ok_or_else(|| VapidError::BadEndpoint(endpoint.into()))?;
        let exp = (SystemTime::now() + VALID_FOR)
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": audience, "exp": exp, "sub": self.contact });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let signature = self
            .key
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| VapidError::Sign)?;
        Ok(format!(
            "vapid t={signing_input}.{}, k={}",
            URL_SAFE_NO_PAD.encode(signature.as_ref()),
            self.public_key()
        ))
    }
}

/// `https://push.example.com:8443/x/y` → `https://push.example.com:8443`.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!scheme.is_empty() && !host.is_empty()).then(|| format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_and_signs_a_jwt_its_public_key_verifies() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vapid.p8");
        let v = Vapid::open(&path, "mailto:o@example.com").expect("made");
        let again = Vapid::open(&path, "mailto:o@example.com").expect("read");
        assert_eq!(v.public_key(), again.public_key());
        let auth = v
            .authorization("https://push.example.com/send/abc")
            .expect("signed");
        let (t, k) = auth
            .strip_prefix("vapid t=")
            .and_then(|r| r.split_once(", k="))
            .expect("vapid t=.., k=..");
        assert_eq!(k, v.public_key());
        let (input, sig) = t.rsplit_once('.').expect("three parts");
        let key = URL_SAFE_NO_PAD.decode(k).expect("b64");
        let sig = URL_SAFE_NO_PAD.decode(sig).expect("b64");
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, key)
            .verify(input.as_bytes(), &sig)
            .expect("valid ES256 signature");
        let claims = input.split('.').nth(1).expect("claims");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("b64")).expect("json");
        assert_eq!(claims["aud"], "https://push.example.com");
        assert_eq!(claims["sub"], "mailto:o@example.com");
    }
}
