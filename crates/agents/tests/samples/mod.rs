//! The files real agent CLIs wrote, kept in `tests/data/`, as the live-state tests read them
//! (`claude_live.rs`, `gemini_recorded.rs`).

use paddock_agents::{adapter_for, AgentKind, HookPayload};
use std::path::{Path, PathBuf};

/// The path of the sample `name`.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The hook payloads recorded in the sample `name` (a JSON list), each parsed by `kind`'s
/// adapter as the agent's hook would hand it over.
pub fn parsed_hooks(kind: &AgentKind, name: &str) -> Vec<HookPayload> {
    let all: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(data(name)).expect("sample file"))
            .expect("samples are JSON");
    let adapter = adapter_for(kind);
    all.iter()
        .map(|v| {
            adapter
                .parse_hook(&serde_json::to_vec(v).expect("json"))
                .expect("parse")
        })
        .collect()
}
