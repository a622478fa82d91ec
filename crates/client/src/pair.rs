//! Pairing: proves a pairing link's secret (or short code) to the host over a connection
//! pinned to the link's fingerprint, and records the host and the tokens it grants.

use crate::conn::Connector;
use crate::error::{ClientError, Result};
use crate::hosts::{valid_name, Host, Hosts};
use crate::http::Transport;
use crate::link::PairingLink;
use crate::secrets::Tokens;
use paddock_proto::access::TokenGrant;
use paddock_proto::rest::PairRequest;

/// Pairs this device (`device_name`, as the host's owner will see it) with the host of
/// `link`, and adds it to `hosts` as `name` (by default the host's address). The secret is
/// sent only once the pinned handshake succeeded: with a wrong fingerprint nothing leaves.
pub async fn pair(
    hosts: &Hosts,
    link: &PairingLink,
    device_name: &str,
    name: Option<&str>,
) -> Result<Host> {
    let fingerprint = link.fingerprint.clone().ok_or_else(|| {
        ClientError::BadPairingLink(
            "this code lacks the host's certificate fingerprint, which the client pins: give the fingerprint `paddock pair` prints with it".into(),
        )
    })?;
    let name = match name {
        Some(n) if !valid_name(n) => {
            return Err(ClientError::BadPairingLink(format!(
                "`{n}` is not a host name: use letters, digits, `.`, `-` and `_` (at most 64)"
            )))
        }
        Some(n) => {
            if hosts.list()?.iter().any(|h| h.name == n) {
                return Err(ClientError::HostExists(n.to_owned()));
            }
            n.to_owned()
        }
        None => hosts.free_name(&default_name(link))?,
    };
    let transport = Transport::new(Connector::new(link.url.clone(), &fingerprint));
    let body = serde_json::to_vec(&PairRequest {
        secret: link.secret.clone(),
        device_name: device_name.to_owned(),
    })
    .map_err(|e| ClientError::Protocol(e.to_string()))?;
    let grant: TokenGrant = transport
        .send("POST", "/pair", None, Some(&body))
        .await?
        .error_for_status()?
        .json()?;
    let host = Host {
        name,
        url: link.url.clone(),
        fingerprint,
        device_id: grant.device_id,
        role: grant.role,
    };
    let tokens = Tokens {
        access_token: grant.access_token,
        refresh_token: grant.refresh_token,
    };
    hosts.add(host.clone(), &tokens).await?;
    Ok(host)
}

/// `192.168.1.20`, `box.lan`, `::1` → a host name.
fn default_name(link: &PairingLink) -> String {
    let h: String = link
        .url
        .host()
        .trim_matches(|c| c == '[' || c == ']')
        .chars()
        .map(|c| if c == ':' { '-' } else { c })
        .collect();
    if valid_name(&h) {
        h
    } else {
        "host".into()
    }
}
