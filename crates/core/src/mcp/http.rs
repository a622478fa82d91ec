//! MCP over streamable HTTP, for the endpoint's `/mcp`: the same server as the local socket,
//! behind the endpoint's TLS, device tokens and roles (its guard authenticates each request
//! and puts the device in the request's extensions; `PaddockMcp::call_tool` reads it). The
//! Host header is checked against the endpoint's own addresses (DNS rebinding).

use super::{Caller, PaddockMcp};
use crate::supervisor::Handle;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::sync::Arc;

/// Largest MCP request body accepted over HTTP.
const MAX_BODY: usize = 512 * 1024;

/// The `/mcp` service. `hosts` are the names and addresses the endpoint is reached by
/// (without ports); loopback names are always allowed.
pub fn service(
    handle: Handle,
    hosts: &[String],
) -> StreamableHttpService<PaddockMcp, LocalSessionManager> {
    let mut allowed: Vec<String> = vec![
        "localhost".into(),
        "127.0.0.1".into(),
        "::1".into(),
        "[::1]".into(),
    ];
    for h in hosts {
        if !h.is_empty() && !allowed.contains(h) {
            allowed.push(h.clone());
        }
    }
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(allowed)
        .with_max_request_body_bytes(MAX_BODY);
    StreamableHttpService::new(
        move || Ok(PaddockMcp::new(handle.clone(), Caller::nobody())),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}
