//! `paddock-client`: the pinned HTTPS and WSS client of a Paddock host, with no Tauri in it.
//!
//! Called by the CLI (`paddock remote`, `paddock --host NAME ...`) and by the app in client
//! mode. One [`HostClient`] talks to one host: every connection pins the certificate paired
//! with ([`tls`]: the SHA-256 must match AND the TLS 1.3 handshake signature must verify with
//! that certificate's key), REST requests carry the device's access token, refreshed with the
//! refresh token as the UI does it ([`auth`]), and the WebSocket gives the host's events
//! ([`events`]) and terminal streams that resume by offset after a dropped connection
//! ([`terminal`], [`offsets`]). [`Hosts`] is the list of known hosts in the config directory,
//! their tokens in the OS keychain or a 0600 file ([`secrets`]); [`link`] parses pairing links
//! and short codes, and [`pair()`] turns one into a known host.
//!
//! ```no_run
//! # async fn demo() -> Result<(), paddock_client::ClientError> {
//! use paddock_client::{Hosts, PairingLink, SecretStore};
//! let hosts = Hosts::open("/home/me/.config/paddock".into(), SecretStore::auto("/home/me/.config/paddock".as_ref()));
//! let link = PairingLink::parse("https://192.168.1.20:7420/#pair=SECRET&fp=ab12...")?;
//! let host = paddock_client::pair(&hosts, &link, "laptop", None).await?;
//! let client = hosts.client(&host.name)?;
//! let sessions: Vec<paddock_proto::supervisor::SessionView> = client.get("/sessions").await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod auth;
pub mod conn;
pub mod error;
pub mod events;
pub mod hosts;
pub mod http;
pub mod link;
pub mod offsets;
pub mod pair;
pub mod pairing_page;
pub mod relay;
pub mod routes;
pub mod secrets;
pub mod terminal;
pub mod tls;
pub mod url;
mod ws;

pub use error::{ClientError, Result};
pub use events::{EventStream, HostEvent};
pub use hosts::{Host, Hosts};
pub use http::{HostClient, Response};
pub use link::PairingLink;
pub use offsets::Offsets;
pub use pair::pair;
pub use secrets::{SecretStore, Tokens};
pub use terminal::{AttachOptions, TerminalEvent, TerminalStream, TerminalWriter};
pub use url::HostUrl;
