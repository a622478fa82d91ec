//! The security probe suite: a real `paddock up` attacked the way the threat model in
//! docs/design/endpoint.md ("Threat model") says it can be, one probe per line of it. Every probe
//! expects a refusal the attacker can see AND the audit entry the owner can read
//! (`GET /api/v1/audit`), with the peer's address and the reason.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/web.rs"]
mod web;

mod audit;
mod connections;
mod paths;
mod tokens;
mod volume;
