//! `paddock hook`: what an agent's hooks call. It forwards the event to the supervisor over
//! the local socket and exits; for a permission request it waits for the answer and prints
//! the agent's decision JSON. It never holds up the agent: without a supervisor, or with
//! input it cannot read, it exits at once, successfully and silently.

use paddock_host::client::Requester;
use paddock_proto::agent::HookCall;
use paddock_proto::{Hello, Mode, Request, Response, SessionId};
use std::io::Read;
use std::time::Duration;

/// Largest payload read from the agent.
const MAX_PAYLOAD: u64 = 1 << 20;
/// How long a hook that is not a permission request may take in all.
const QUICK: Duration = Duration::from_secs(5);

/// Forward an agent's hook event to the supervisor (for agents' hook settings; `paddock
/// claude` and `paddock run` add it for you).
#[derive(clap::Args)]
pub struct Args {
    /// Which agent calls: `claude` or `gemini` (JSON on stdin), or `codex` (JSON as the last
    /// argument).
    #[arg(long, default_value = "claude")]
    pub agent: String,
    /// The owner's own notify program (a JSON array), run after forwarding, with the same
    /// JSON argument (Codex has room for one notify program; Paddock keeps theirs).
    #[arg(long, value_name = "JSON")]
    pub chain: Option<String>,
    /// The event's JSON, when the agent passes it as an argument (Codex's notify).
    pub payload: Option<String>,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let raw = match self.payload {
            Some(p) => p,
            None => {
                let mut s = String::new();
                let _ = std::io::stdin().take(MAX_PAYLOAD).read_to_string(&mut s);
                s
            }
        };
        if let Some(chain) = &self.chain {
            run_chained(chain, &raw);
        }
        let payload: serde_json::Value = match serde_json::from_str(&raw) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("paddock hook: ignoring input that is not JSON ({e})");
                return Ok(());
            }
        };
        let permission = payload
            .get("hook_event_name")
            .and_then(|v| v.as_str())
            .is_some_and(|e| e == "PermissionRequest");
        // Where the agent keeps its files, as its environment says (`CODEX_HOME` or
        // `~/.codex`; `CLAUDE_CONFIG_DIR` or `~/.claude`): the supervisor follows only
        // transcripts inside them.
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let home_dot = |home: Option<String>, dot: &str| home.map(|h| format!("{h}/{dot}"));
        let agent_home = match self.agent.as_str() {
            "codex" => var("CODEX_HOME").or_else(|| home_dot(var("HOME"), ".codex")),
            // Gemini CLI's `GEMINI_CLI_HOME` stands for the home that holds `.gemini`.
            "gemini" => home_dot(var("GEMINI_CLI_HOME").or_else(|| var("HOME")), ".gemini"),
            _ => var("CLAUDE_CONFIG_DIR").or_else(|| home_dot(var("HOME"), ".claude")),
        };
        let call = HookCall {
            agent_home,
            agent: self.agent,
            session: std::env::var("PADDOCK_SESSION_ID")
                .ok()
                .and_then(|s| SessionId::parse(&s).ok()),
            ancestors: ancestors(),
            payload,
        };
        let forward = async {
            let mut c = connect().await?;
            match c.request(Request::Hook(Box::new(call))).await {
                Ok(Response::HookReply { output }) => output,
                _ => None,
            }
        };
        let output = if permission {
            forward.await
        } else {
            tokio::time::timeout(QUICK, forward).await.ok().flatten()
        };
        if let Some(out) = output {
            println!("{out}");
        }
        Ok(())
    }
}

/// Starts the owner's own notify program with the payload as its last argument; does not
/// wait for it.
fn run_chained(chain: &str, payload: &str) {
    let program: Vec<String> = match serde_json::from_str(chain) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("paddock hook: --chain is not a JSON array of strings ({e}); not running it");
            return;
        }
    };
    let Some((cmd, args)) = program.split_first() else {
        return;
    };
    if let Err(e) = std::process::Command::new(cmd)
        .args(args)
        .arg(payload)
        .stdin(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("paddock hook: cannot run your notify program {cmd}: {e}");
    }
}

async fn connect() -> Option<Requester> {
    let dir = paddock_host::runtime_dir().ok()?;
    let socket = paddock_core::supervisor::socket_path(dir.path());
    let mut hello = Hello::control(Mode::ReadOnly);
    hello.client_name = Some("hook".into());
    tokio::time::timeout(Duration::from_secs(1), Requester::connect(&socket, hello))
        .await
        .ok()?
        .ok()
}

/// This process's parent, grandparent, ... (up to 6), to find the session of an agent that
/// Paddock did not start.
fn ancestors() -> Vec<u32> {
    let mut out = vec![std::os::unix::process::parent_id()];
    while out.len() < 6 {
        let Some(&pid) = out.last() else { break };
        match paddock_core::status_files::parent_of(pid) {
            Some(p) if p > 1 => out.push(p),
            _ => break,
        }
    }
    out
}
