//! The small cryptographic pieces: a constant-time compare, SHA-256, base64url, and the
//! token-signing key file (written through [`crate::keyfile`]).

use super::AccessError;
use ring::rand::{SecureRandom, SystemRandom};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Compares without an early exit (the pairing secrets are compared with what a guesser sent).
pub(super) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn sha256_hex(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

pub(super) fn unb64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
}

/// The 32-byte signing key in `dir/token.key`, made (0600) on first use.
pub(super) fn load_or_make_key(dir: &Path, rng: &SystemRandom) -> Result<Vec<u8>, AccessError> {
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
    crate::keyfile::write_private(&path, &key).map_err(err)?;
    Ok(key)
}
