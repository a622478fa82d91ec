//! An independent MCP client (the official SDK's) on a `paddock mcp` relay that a session's
//! own command runs, its stdio on two FIFOs the test holds, so the supervisor identifies the
//! caller from the socket's peer credentials exactly as it does an agent's.

use crate::common::{Env, PADDOCK};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{Peer, RunningService};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::Value;
use tokio::net::unix::pipe;

/// Starts a session named `name` (with `paddock run` options `opts`) whose command is
/// `paddock mcp`, and connects an MCP client to it.
pub async fn client_in_session(
    env: &Env,
    name: &str,
    opts: &[&str],
) -> (String, RunningService<RoleClient, ()>) {
    client_in_session_with(env, name, opts, ()).await
}

/// [`client_in_session`] with a client handler of the test's own (say, one that records
/// notifications).
pub async fn client_in_session_with<H: ClientHandler>(
    env: &Env,
    name: &str,
    opts: &[&str],
    handler: H,
) -> (String, RunningService<RoleClient, H>) {
    let input = env.dir().join(format!("{name}.in"));
    let output = env.dir().join(format!("{name}.out"));
    for p in [&input, &output] {
        nix::unistd::mkfifo(p, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    }
    // Both ends opened read-write: neither open waits for the other side.
    let tx = pipe::OpenOptions::new()
        .read_write(true)
        .open_sender(&input)
        .expect("open the relay's stdin");
    let rx = pipe::OpenOptions::new()
        .read_write(true)
        .open_receiver(&output)
        .expect("open the relay's stdout");
    let mut args: Vec<&str> = vec!["--name", name];
    args.extend_from_slice(opts);
    let script = r#"exec "$0" mcp < "$1" > "$2""#;
    let (i, o) = (
        input.to_str().expect("path"),
        output.to_str().expect("path"),
    );
    let id = env.run(&args, &["sh", "-c", script, PADDOCK, i, o]);
    let client = handler
        .serve((rx, tx))
        .await
        .expect("MCP initialize through paddock mcp");
    (id, client)
}

/// Calls `tool` with `args` (a JSON object).
pub async fn call(c: &Peer<RoleClient>, tool: &str, args: Value) -> CallToolResult {
    let Value::Object(map) = args else {
        panic!("arguments must be an object")
    };
    c.call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(map))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// A successful tool result's structured content.
pub async fn ok(c: &Peer<RoleClient>, tool: &str, args: Value) -> Value {
    let r = call(c, tool, args).await;
    assert_ne!(r.is_error, Some(true), "{tool} failed: {}", text(&r));
    r.structured_content.clone().expect("structured content")
}

/// A failed tool result's text (the sentence a model reads).
pub async fn refused(c: &Peer<RoleClient>, tool: &str, args: Value) -> String {
    let r = call(c, tool, args).await;
    assert_eq!(r.is_error, Some(true), "{tool} should fail: {}", text(&r));
    text(&r)
}

pub fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}
