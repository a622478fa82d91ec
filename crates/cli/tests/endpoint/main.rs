//! The endpoint of a real `paddock up`, its access: real TLS handshakes, real tokens from
//! real pairing, every role against every route, revocation, rate limits, headers,
//! malformed input, plain HTTP, MCP over HTTPS and the doctor's route. Sessions, transcripts
//! and streams over REST and WSS are in endpoint_sessions/; the notification routes in
//! notifications/routes.rs.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/web.rs"]
mod web;

mod abuse;
mod mcp;
mod pairing;
mod roles;
mod transport;
