//! `paddock-client` against a real `paddock up`: pairing pinned to the certificate, a
//! wrong or changed certificate refused before anything is sent, an impostor holding the
//! right certificate but not its key refused, REST with token refresh, revocation, and a
//! terminal stream that resumes across dropped connections without losing or repeating a
//! byte.

#[path = "../common/mod.rs"]
mod common;

mod pairing;
mod relay;
mod rest;
mod support;
mod terminal;
