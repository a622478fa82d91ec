//! `paddock://` links: the pairing link the app makes for an offer and percent-encoding for
//! the UI routes it opens. The format is the one the UI's `parseQr` (and the client crate's
//! parser) reads: `paddock://pair?url=<endpoint>&secret=<one-time secret>&fp=<sha-256>`.
use paddock_proto::access::PairingOffer;

/// The `paddock://pair?…` link for an offer.
pub fn pair_link(offer: &PairingOffer) -> String {
    format!(
        "paddock://pair?url={}&secret={}&fp={}",
        encode(&offer.url),
        encode(&offer.secret),
        encode(&offer.fingerprint)
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters (for a query value or a
/// path segment).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
