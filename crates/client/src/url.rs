//! A host's base address, `https://HOST:PORT`: what pairing gives and every connection uses.

use crate::error::{ClientError, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// `https://HOST[:PORT]` with nothing after it; HOST may be a name, an IPv4 address or an
/// IPv6 address in brackets. The port defaults to 443.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HostUrl {
    host: String,
    port: u16,
}

impl HostUrl {
    /// Reads `https://host:port`, ignoring any path, query or fragment after it.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || ClientError::InvalidUrl(s.to_owned());
        let rest = s
            .trim()
            .strip_prefix("https://")
            .or_else(|| s.trim().strip_prefix("HTTPS://"))
            .ok_or_else(bad)?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') || authority.is_empty() {
            return Err(bad());
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            h.parse::<std::net::Ipv6Addr>().map_err(|_| bad())?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None if after.is_empty() => 443,
                None => return Err(bad()),
            };
            (format!("[{h}]"), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| bad())?),
                None => (authority.to_owned(), 443),
            }
        };
        let valid_host = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
        if !valid_host || port == 0 {
            return Err(bad());
        }
        Ok(Self {
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// The host as written in a URL (IPv6 in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, for connecting and for the `Host` header.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The name for TLS (SNI is not sent for addresses); the pinned verifier ignores it.
    pub(crate) fn server_name(&self) -> rustls::pki_types::ServerName<'static> {
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<std::net::IpAddr>() {
            Ok(ip) => rustls::pki_types::ServerName::IpAddress(ip.into()),
            Err(_) => rustls::pki_types::ServerName::try_from(bare.to_owned()).unwrap_or(
                rustls::pki_types::ServerName::IpAddress(
                    std::net::IpAddr::from([127, 0, 0, 1]).into(),
                ),
            ),
        }
    }
}

impl fmt::Display for HostUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "https://{}:{}", self.host, self.port)
    }
}

impl TryFrom<String> for HostUrl {
    type Error = ClientError;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<HostUrl> for String {
    fn from(u: HostUrl) -> String {
        u.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_urls_parse_names_addresses_and_ports() {
        let u = HostUrl::parse("https://192.168.1.20:7420/#pair=x").expect("valid");
        assert_eq!(u.authority(), "192.168.1.20:7420");
        assert_eq!(u.to_string(), "https://192.168.1.20:7420");
        assert_eq!(
            HostUrl::parse("https://[::1]:9/").expect("v6").authority(),
            "[::1]:9"
        );
        assert_eq!(
            HostUrl::parse("https://Box.local")
                .expect("name")
                .authority(),
            "box.local:443"
        );
        for bad in [
            "http://a:1",
            "https://",
            "https://a:0",
            "https://a:x",
            "https://u@a:1",
            "https://[zz]:1",
            "a:1",
        ] {
            assert!(HostUrl::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
