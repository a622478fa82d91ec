//! What a holder is asked to run and how it is tuned; handed from `paddock run` to the new
//! holder process on its standard input as JSON.

use paddock_proto::{SessionId, Size};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Default output ring: 4 MiB.
pub const DEFAULT_RING_BYTES: usize = 4 * 1024 * 1024;
/// Default time an exited session stays readable: 10 minutes.
pub const DEFAULT_GRACE_SECS: u64 = 600;
/// Default lag an interactive client may build before it is resynced: 1 MiB.
pub const DEFAULT_MAX_LAG: usize = 1024 * 1024;

/// Everything a holder needs to start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HolderSpec {
    pub id: SessionId,
    pub name: String,
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// Set on top of the environment `paddock run` was started with.
    #[serde(default)]
    pub env: Vec<(String, String)>,
    pub size: Size,
    #[serde(default = "default_ring")]
    pub ring_bytes: usize,
    #[serde(default = "default_grace")]
    pub grace_secs: u64,
    #[serde(default = "default_lag")]
    pub max_lag: usize,
}

fn default_ring() -> usize {
    DEFAULT_RING_BYTES
}
fn default_grace() -> u64 {
    DEFAULT_GRACE_SECS
}
fn default_lag() -> usize {
    DEFAULT_MAX_LAG
}
