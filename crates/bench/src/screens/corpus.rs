//! The screen corpus's file format: one recording of a real agent's terminal per file, gzipped
//! JSON (`*.json.gz` in `crates/agents/tests/corpus/`), written by [`crate::screens::record`]
//! and read by [`crate::screens::replay`].
//!
//! A recording holds what the terminal received (the PTY's output with each read's time, in
//! milliseconds from the start, the OSC 7501 sequences taken out as a holder takes them out),
//! the terminal's size, and the label timeline: the agent's own OSC 7501 reports (exact and
//! immediate, with their times) and, for Claude Code, its hook events.

use anyhow::Context;
use paddock_proto::program_status::ProgramStatus;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Recordings larger than this (gzipped) are refused: the corpus lives in the repository.
pub const MAX_FILE: u64 = 512 * 1024;

/// One recording.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recording {
    /// The agent's name as Paddock knows it (`claude`, `codex`).
    pub agent: String,
    /// The agent's version (`scripts/agent-versions.env` when recorded).
    pub version: String,
    /// What was done (`bash-permission`, `interrupt`, ...).
    pub scenario: String,
    pub cols: u16,
    pub rows: u16,
    /// The terminal's output: (ms from start, text). Reads are cut at UTF-8 boundaries.
    pub output: Vec<(u64, String)>,
    /// The agent's OSC 7501 reports (`None`: it cleared its record).
    pub reports: Vec<(u64, Option<ProgramStatus>)>,
    /// Hook events (Claude Code): (ms from start, `Event` or `Event:Tool`).
    #[serde(default)]
    pub hooks: Vec<(u64, String)>,
    /// Hook payloads whole (Gemini CLI, which sends no OSC 7501: its hooks are its labels),
    /// read as the supervisor reads them ([`paddock_core::agents::hook_event`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hook_payloads: Vec<(u64, serde_json::Value)>,
    /// The keys sent: (ms from start, what), for a person reading the file.
    #[serde(default)]
    pub input: Vec<(u64, String)>,
    /// When the agent's process ended (ms), if it did before the recording stopped.
    pub exited: Option<u64>,
    /// When the recording stopped (ms).
    pub end: u64,
}

impl Recording {
    /// `AGENT-SCENARIO.json.gz`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.json.gz", self.agent, self.scenario)
    }

    pub fn write(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        let path = dir.join(self.file_name());
        let json = serde_json::to_vec(self)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&json)?;
        let bytes = gz.finish()?;
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let size = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        anyhow::ensure!(
            size <= MAX_FILE,
            "{} is {size} bytes, more than a corpus file may be ({MAX_FILE}); record a shorter scenario",
            path.display()
        );
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(file)
            .take(64 * MAX_FILE)
            .read_to_end(&mut json)
            .with_context(|| format!("{} is not a gzipped recording", path.display()))?;
        serde_json::from_slice(&json)
            .with_context(|| format!("{} is not a screen recording", path.display()))
    }
}

/// The corpus in the repository.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../agents/tests/corpus")
}

/// Every recording in `dir`, sorted by file name.
pub fn load(dir: &Path) -> anyhow::Result<Vec<Recording>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list the corpus {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Recording::read(p)).collect()
}
