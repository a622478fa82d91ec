//! Pairing links and short codes, parsed (pure, so it can be tested):
//!
//! - the QR code's link, `https://HOST:PORT/#pair=SECRET&fp=SHA256` (what `paddock pair`
//!   shows; a phone's camera opens it in the browser, the app reads it);
//! - the app's deep link, `paddock://pair?url=https%3A%2F%2FHOST%3APORT&secret=SECRET&fp=SHA256`
//!   (registered by the app; `pair=` is accepted for `secret=`, `fingerprint=` for `fp=`);
//! - a typed short code `XXXX-XXXX` with the host's URL and fingerprint, given apart, or in
//!   one line as `XXXX-XXXX https://HOST:PORT SHA256`.

use crate::error::{ClientError, Result};
use crate::tls::normalize_fingerprint;
use crate::url::HostUrl;

/// What a pairing link or short code says.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingLink {
    /// The host's base URL.
    pub url: HostUrl,
    /// The certificate's SHA-256 (normalized hex), when the link carries it. Pairing needs
    /// it: it is what the client pins.
    pub fingerprint: Option<String>,
    /// The one-time secret (QR) or the short code (typed); single use.
    pub secret: String,
}

impl std::fmt::Debug for PairingLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PairingLink")
            .field("url", &self.url)
            .field("fingerprint", &self.fingerprint)
            .field("secret", &"<redacted>")
            .finish()
    }
}

fn bad(msg: &str) -> ClientError {
    ClientError::BadPairingLink(msg.to_owned())
}

impl PairingLink {
    /// A QR link, a `paddock://pair?...` deep link, or a one-line short code with its URL and
    /// fingerprint.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        if t.is_empty() {
            return Err(bad("the pairing link is empty: paste the link `paddock pair` shows, or its short code with the host's URL and fingerprint"));
        }
        let lower = t.to_ascii_lowercase();
        if lower.starts_with("paddock:") {
            return Self::deep(t);
        }
        if lower.starts_with("https://") {
            return Self::qr(t);
        }
        let parts: Vec<&str> = t.split_whitespace().collect();
        match parts.as_slice() {
            [code, url, fp] => Self::short_code(code, url, Some(fp)),
            [code, url] => Self::short_code(code, url, None),
            _ => Err(bad("this is not a pairing link: use the https://... link that `paddock pair` shows, a paddock://pair?... link, or the short code with the host's URL and fingerprint (`XXXX-XXXX https://HOST:PORT FINGERPRINT`)")),
        }
    }

    /// `https://HOST:PORT/#pair=SECRET&fp=SHA256` (the parameters may also be in the query).
    fn qr(t: &str) -> Result<Self> {
        let url = HostUrl::parse(t).map_err(|_| bad("the link's address is not https://HOST:PORT; run `paddock pair` again and use the new link"))?;
        let params = params_of(t);
        let secret = param(&params, &["pair", "secret"])
            .ok_or_else(|| bad("the link lacks its one-time secret (`#pair=`); run `paddock pair` again and use the new link"))?;
        let fingerprint = fingerprint_param(&params)?;
        Ok(Self {
            url,
            fingerprint,
            secret,
        })
    }

    /// `paddock://pair?url=...&secret=...&fp=...`.
    fn deep(t: &str) -> Result<Self> {
        let rest = t
            .split_once(':')
            .map(|(_, r)| r.trim_start_matches('/'))
            .unwrap_or_default();
        if !rest.to_ascii_lowercase().starts_with("pair") {
            return Err(bad(
                "this paddock:// link is not a pairing link (paddock://pair?...)",
            ));
        }
        let params = params_of(t);
        let url = param(&params, &["url"]).ok_or_else(|| {
            bad("the pairing link lacks the host's address (`url=`); run `paddock pair` again")
        })?;
        let url = HostUrl::parse(&url)
            .map_err(|_| bad("the pairing link's `url=` is not https://HOST:PORT"))?;
        let secret = param(&params, &["secret", "pair", "code"]).ok_or_else(|| {
            bad("the pairing link lacks its secret (`secret=`); run `paddock pair` again")
        })?;
        Ok(Self {
            url,
            fingerprint: fingerprint_param(&params)?,
            secret,
        })
    }

    /// A typed short code (`XXXX-XXXX`; case, spaces and dashes do not matter) for the host at
    /// `url` with the certificate `fingerprint`.
    pub fn short_code(code: &str, url: &str, fingerprint: Option<&str>) -> Result<Self> {
        let c: String = code
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if !(4..=16).contains(&c.len()) || !c.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(bad("a short code is letters and digits as `paddock pair` prints it (XXXX-XXXX); check it and type it again"));
        }
        let url = HostUrl::parse(url).map_err(|_| {
            bad("the host's URL must be https://HOST:PORT, as `paddock pair` prints it")
        })?;
        let fingerprint = match fingerprint {
            Some(f) => Some(normalize_fingerprint(f).ok_or_else(|| {
                bad("the fingerprint must be the 64 hex digits (SHA-256) that `paddock pair` prints")
            })?),
            None => None,
        };
        Ok(Self {
            url,
            fingerprint,
            secret: c,
        })
    }

    /// The deep link of this offer (`paddock://pair?url=...&secret=...&fp=...`).
    pub fn deep_link(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("url", &self.url.to_string());
        q.append_pair("secret", &self.secret);
        if let Some(fp) = &self.fingerprint {
            q.append_pair("fp", fp);
        }
        format!("paddock://pair?{}", q.finish())
    }
}

/// Parameters from the query and the fragment (the fragment wins).
fn params_of(t: &str) -> Vec<(String, String)> {
    let (before_hash, fragment) = t.split_once('#').unwrap_or((t, ""));
    let query = before_hash.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut out: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    out.extend(form_urlencoded::parse(fragment.as_bytes()).into_owned());
    out
}

fn param(params: &[(String, String)], names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        params
            .iter()
            .rev()
            .find(|(k, v)| k == n && !v.is_empty())
            .map(|(_, v)| v.clone())
    })
}

fn fingerprint_param(params: &[(String, String)]) -> Result<Option<String>> {
    match param(params, &["fp", "fingerprint"]) {
        None => Ok(None),
        Some(f) => normalize_fingerprint(&f).map(Some).ok_or_else(|| {
            bad("the link's fingerprint is not a SHA-256; run `paddock pair` again")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp() -> String {
        "0a".repeat(32)
    }

    #[test]
    fn the_qr_link_gives_url_secret_and_fingerprint() {
        let l = PairingLink::parse(&format!(
            "https://192.168.1.20:7420/#pair=s3cr_t-X&fp={}",
            fp()
        ))
        .expect("valid");
        assert_eq!(l.url.to_string(), "https://192.168.1.20:7420");
        assert_eq!(l.secret, "s3cr_t-X");
        assert_eq!(l.fingerprint, Some(fp()));
        assert!(
            !format!("{l:?}").contains("s3cr_t"),
            "the secret is never printed"
        );
    }

    #[test]
    fn the_deep_link_round_trips() {
        let l = PairingLink::parse(&format!("https://[::1]:9/#pair=abc&fp={}", fp())).expect("qr");
        let deep = l.deep_link();
        assert!(
            deep.starts_with("paddock://pair?url=https%3A%2F%2F%5B%3A%3A1%5D%3A9&"),
            "{deep}"
        );
        assert_eq!(PairingLink::parse(&deep).expect("deep"), l);
        let alias = format!(
            "paddock://pair?url=https://h:1&pair=abc&fingerprint={}",
            fp()
        );
        assert_eq!(PairingLink::parse(&alias).expect("aliases").secret, "abc");
    }

    #[test]
    fn short_codes_take_url_and_fingerprint() {
        let l =
            PairingLink::parse(&format!("abcd-ef12 https://box.lan:7420 {}", fp())).expect("code");
        assert_eq!(l.secret, "ABCDEF12");
        assert_eq!(l.url.authority(), "box.lan:7420");
        assert_eq!(l.fingerprint, Some(fp()));
        assert!(PairingLink::short_code("ab", "https://h:1", None).is_err());
        assert!(PairingLink::short_code("ABCD-EFGH", "http://h:1", None).is_err());
        assert!(PairingLink::short_code("ABCD-EFGH", "https://h:1", Some("beef")).is_err());
    }

    #[test]
    fn broken_links_say_what_is_missing() {
        for (text, needle) in [
            ("https://h:1/#fp=00", "secret"),
            ("paddock://pair?secret=x", "address"),
            ("paddock://open?x=1", "not a pairing link"),
            ("https://h:1/#pair=x&fp=123", "fingerprint"),
            ("hello", "not a pairing link"),
            ("", "empty"),
        ] {
            let e = PairingLink::parse(text).expect_err(text).to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
