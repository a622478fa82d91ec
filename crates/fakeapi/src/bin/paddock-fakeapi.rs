//! `paddock-fakeapi`: the fake model API on its own, for trying an agent CLI by hand against a
//! script (`ANTHROPIC_BASE_URL=http://127.0.0.1:PORT claude`, or a Codex provider at `/v1`).

use anyhow::Context;
use clap::Parser;
use paddock_fakeapi::{FakeApi, Script};
use std::net::SocketAddr;

/// Serve a scripted fake of the Anthropic Messages and OpenAI Responses APIs on loopback,
/// printing every request, until interrupted.
#[derive(Parser)]
struct Args {
    /// Port to listen on (0: one the OS picks).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// A JSON script: `{"replies": [{"answer": {"kind": "message", "blocks": [{"type": "text",
    /// "text": "hi"}]}}]}` (see `Script` in the crate's docs). Default: answer every request "OK.".
    #[arg(long)]
    script: Option<std::path::PathBuf>,
    /// Also write every request (method, target, headers, JSON body) to DIR/<seq>.json.
    #[arg(long, value_name = "DIR")]
    dump: Option<std::path::PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let script = match &args.script {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the script {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid script", path.display()))?
        }
        None => Script::new(),
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let fake = FakeApi::start_on(addr, script)?;
    println!("listening on {}", fake.url());
    let mut printed = 0;
    let mut dumped = 0;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let log = fake.log();
        let lines: Vec<&str> = log.lines().collect();
        for line in &lines[printed.min(lines.len())..] {
            eprintln!("{line}");
        }
        printed = lines.len();
        if let Some(dir) = &args.dump {
            for r in fake.requests().iter().skip(dumped) {
                let headers: serde_json::Map<String, serde_json::Value> = r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().into()))
                    .collect();
                let record = serde_json::json!({"method": r.method, "target": r.target,
                    "headers": headers, "body": r.body});
                let path = dir.join(format!("{:04}.json", r.seq));
                std::fs::write(&path, serde_json::to_vec_pretty(&record)?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                dumped = r.seq + 1;
            }
        }
    }
}
