//! Helpers of more than one module: the time limit, and `paddock status --json`.

use crate::common::*;
use std::time::Duration;

pub const T: Duration = Duration::from_secs(20);

pub fn status(env: &Env) -> serde_json::Value {
    serde_json::from_str(&env.ok(&["status", "--json"])).expect("status json")
}
