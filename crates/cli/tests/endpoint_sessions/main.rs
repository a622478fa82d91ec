//! The endpoint of a real `paddock up`, its sessions: real holders with real PTYs behind
//! REST and WSS, started and messaged over REST, their stored logs, raw transcripts,
//! conversations and history, the event and terminal streams (resumed through a flood).
//! Access (TLS, pairing, roles, limits) is in endpoint/.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/web.rs"]
mod web;

mod rest;
mod streams;
mod transcripts;
