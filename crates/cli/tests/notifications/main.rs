//! Notifications end to end: the real Claude Code (against `paddock-fakeapi`) asks
//! permission under `paddock up`; a Web Push message reaches a loopback push service that
//! checks VAPID and decrypts it; a D-Bus notification with Approve and Deny appears on a
//! private session bus; pressing Approve runs the tool; pressing Deny afterwards is refused
//! and the owner is told who answered. An AskUserQuestion's notification carries the
//! question and its options: pressing one answers it, once, and the agent goes on with it.
//! The endpoint's notification routes: a browser's Web Push subscription and test, action
//! tokens, and the notification settings an admin changes.

#[path = "../common/claude.rs"]
mod claude;
#[path = "../common/mod.rs"]
mod common;
#[path = "../common/web.rs"]
mod web;

mod agent_requests;
mod delivery;
mod routes;
mod support;
