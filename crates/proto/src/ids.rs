//! Identifier newtypes, so that a session id is never confused with a name or a client id.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A session's id: short, lowercase, unique among the sessions in one runtime directory.
/// Used as the file stem of the session's socket and metadata file, so it is restricted to
/// `[a-z0-9-]` (see [`SessionId::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(transparent)]
pub struct SessionId(String);

/// Why a string is not a valid session id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a session id: ids are 1 to 64 characters of a-z, 0-9 and '-'")]
pub struct InvalidSessionId(pub String);

impl SessionId {
    /// Accepts `[a-z0-9-]{1,64}`, which is safe as a file name on every platform.
    pub fn parse(s: &str) -> Result<Self, InvalidSessionId> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidSessionId(s.to_owned()))
        }
    }

    /// Builds an id from random bits: 8 characters of base 36.
    pub fn from_random(mut bits: u64) -> Self {
        const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let mut s = String::with_capacity(8);
        for _ in 0..8 {
            s.push(DIGITS[(bits % 36) as usize] as char);
            bits /= 36;
        }
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client connection's id within one holder, counted from 1; shown in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(pub u64);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client-{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_accept_only_file_safe_characters() {
        assert!(SessionId::parse("a1-b2").is_ok());
        for bad in ["", "A", "a/b", "../x", "a b", &"x".repeat(65)] {
            assert!(SessionId::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn random_ids_are_valid_and_differ() {
        let a = SessionId::from_random(0x1234_5678_9abc_def0);
        let b = SessionId::from_random(0x0fed_cba9_8765_4321);
        assert_eq!(a.as_str().len(), 8);
        assert!(SessionId::parse(a.as_str()).is_ok());
        assert_ne!(a, b);
    }
}
