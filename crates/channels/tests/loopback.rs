//! Every channel against a loopback implementation of its protocol (one test binary, to
//! link once): ntfy with a real supervisor end to end, Slack, Discord, signed webhooks,
//! SMTP (a real aiosmtpd), APNs over HTTP/2 with TLS, FCM with its token exchange.

#[path = "loopback/all.rs"]
mod all;
#[path = "loopback/chat.rs"]
mod chat;
#[path = "loopback/email.rs"]
mod email;
#[path = "loopback/ntfy.rs"]
mod ntfy;
#[path = "loopback/ntfy_server.rs"]
mod ntfy_server;
#[path = "loopback/push.rs"]
mod push;
#[path = "loopback/support.rs"]
mod support;
#[path = "loopback/webhook.rs"]
mod webhook;
