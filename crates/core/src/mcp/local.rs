//! The supervisor's MCP socket (`_mcp.sock`, 0600): each connection starts with one JSON line
//! ([`super::RelayHello`], written by `paddock mcp`), then carries MCP's newline-delimited
//! JSON-RPC both ways. The caller is identified from the socket's peer credentials before any
//! MCP message is read.

use super::{caller, PaddockMcp, RelayHello, RELAY_VERSION};
use crate::supervisor::Handle;
use rmcp::ServiceExt;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

/// Longest hello line accepted.
const MAX_HELLO: usize = 4096;
/// How long a new connection has to send its hello.
const HELLO_WAIT: Duration = Duration::from_secs(5);

/// Serves MCP connections on `listener` until `shutdown` turns true.
pub async fn serve(listener: UnixListener, handle: Handle, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let handle = handle.clone();
                    let shutdown = shutdown.clone();
                    tokio::spawn(async move { connection(stream, handle, shutdown).await });
                }
                Err(e) => tracing::warn!(error = %e, "cannot accept an MCP client"),
            },
            _ = shutdown.changed() => return,
        }
    }
}

async fn connection(stream: UnixStream, handle: Handle, mut shutdown: watch::Receiver<bool>) {
    // Read before anything else: the process on the other end must not be able to exit and
    // hand its pid to another process first.
    let peer_pid = stream
        .peer_cred()
        .ok()
        .and_then(|c| c.pid())
        .and_then(|p| u32::try_from(p).ok());
    let (rd, mut wr) = stream.into_split();
    let mut reader = BufReader::new(rd);
    let hello = match read_hello(&mut reader).await {
        Ok(h) => h,
        Err(message) => {
            let _ = wr.write_all(refusal(&message).as_bytes()).await;
            return;
        }
    };
    let caller = match caller::identify_local(&handle, peer_pid, hello.session.as_deref()).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(pid = ?peer_pid, error = %e, "an MCP client was refused");
            let _ = wr.write_all(refusal(&e.to_string()).as_bytes()).await;
            return;
        }
    };
    tracing::info!(actor = %caller.actor, pid = ?peer_pid, "an MCP client connected");
    let server = PaddockMcp::new(handle, caller);
    let running = match server.serve((reader, wr)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(error = %e, "an MCP client went away during initialization");
            return;
        }
    };
    let token = running.cancellation_token();
    tokio::select! {
        _ = running.waiting() => {}
        _ = shutdown.changed() => token.cancel(),
    }
}

async fn read_hello(
    reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
) -> Result<RelayHello, String> {
    let mut line = Vec::new();
    let read = tokio::time::timeout(HELLO_WAIT, async {
        let mut limited = (&mut *reader).take(MAX_HELLO as u64 + 1);
        limited.read_until(b'\n', &mut line).await
    })
    .await;
    match read {
        Err(_) => return Err("no hello within 5 s; connect with `paddock mcp`".into()),
        Ok(Err(e)) => return Err(format!("cannot read the hello: {e}")),
        Ok(Ok(_)) => {}
    }
    if line.len() > MAX_HELLO || !line.ends_with(b"\n") {
        return Err(
            "the hello line is missing or longer than 4096 bytes; connect with `paddock mcp`"
                .into(),
        );
    }
    let hello: RelayHello = serde_json::from_slice(&line)
        .map_err(|e| format!("the hello is not valid JSON ({e}); connect with `paddock mcp`"))?;
    if hello.version != RELAY_VERSION {
        return Err(format!(
            "relay version {} is not {RELAY_VERSION}: this `paddock mcp` and the running supervisor differ; restart `paddock up`",
            hello.version
        ));
    }
    Ok(hello)
}

/// A JSON-RPC error without an id: what an MCP client shows when the connection is refused.
fn refusal(message: &str) -> String {
    let mut s = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32600, "message": format!("Paddock refused this MCP connection: {message}")},
    })
    .to_string();
    s.push('\n');
    s
}

use tokio::io::AsyncReadExt;
