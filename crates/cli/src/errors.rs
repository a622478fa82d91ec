//! Exit codes, documented in `paddock --help` and the README.

use paddock_host::client::ClientError;
use paddock_host::sessions::LookupError;

/// An error with its own exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("session {id} has exited{code}; `paddock logs {id}` shows its output and `paddock restart {id}` starts it again")]
    Exited { id: String, code: String },
    #[error("session {id} runs in a terminal Paddock does not hold ({backend}): its state, metrics and signals (`paddock signal`, `suspend`, `resume`, `stop`, `kill`) work, its terminal input and output do not")]
    NotHeld { id: String, backend: String },
    #[error("host {host} has no session `{query}`; `paddock ls --host {host}` lists them")]
    NoRemoteSession { query: String, host: String },
    #[error("unknown: {0}")]
    NotTaken(String),
}

pub const NOT_FOUND: u8 = 3;
pub const EXITED: u8 = 4;
pub const UNREACHABLE: u8 = 5;
/// Input was typed, but nothing showed within the wait that the program took it.
pub const NOT_TAKEN: u8 = 6;

pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.downcast_ref::<LookupError>().is_some() {
            return NOT_FOUND;
        }
        match cause.downcast_ref::<CliError>() {
            Some(CliError::Exited { .. }) => return EXITED,
            Some(CliError::NoRemoteSession { .. }) => return NOT_FOUND,
            Some(CliError::NotTaken(_)) => return NOT_TAKEN,
            _ => {}
        }
        if let Some(e) = cause.downcast_ref::<paddock_client::ClientError>() {
            return match e.code() {
                "session_exited" => EXITED,
                "not_found" => NOT_FOUND,
                "unreachable" | "offline" | "timeout" | "closed" => UNREACHABLE,
                _ => 1,
            };
        }
        if let Some(e) = cause.downcast_ref::<ClientError>() {
            return match e {
                ClientError::Refused(p) if p.code == paddock_proto::ErrorCode::SessionExited => {
                    EXITED
                }
                ClientError::Refused(_) => 1,
                _ => UNREACHABLE,
            };
        }
    }
    1
}
