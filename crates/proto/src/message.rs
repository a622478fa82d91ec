//! Control messages: the JSON objects `{type, id?, payload}` carried by control frames.
//!
//! `type` is one of `request`, `response`, `notification`, `error`. Requests and responses
//! carry an `id` chosen by the requester; an error answering a request carries its id, an
//! error about the connection itself has none. Payloads are tagged by `op` (requests,
//! responses, notifications) so that every message says what it is. An `op` this build does
//! not know decodes to `Unknown` and is answered with an `unknown_request` error; the
//! connection stays open.

use serde::{Deserialize, Serialize};

mod background;
mod error;
mod notification;
mod request;
mod response;
mod session;
mod terminal;

pub use background::*;
pub use error::*;
pub use notification::*;
pub use request::*;
pub use response::*;
pub use session::*;
pub use terminal::*;

/// One control message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// Asks the peer to do something; answered by a `response` or an `error` with the same id.
    Request { id: u64, payload: Request },
    /// The successful answer to the request with this id.
    Response { id: u64, payload: Response },
    /// Something happened that the peer did not ask about (lag, exit, resize).
    Notification { payload: Notification },
    /// A failed request (with its id) or a fault of the connection (without).
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        payload: ErrorPayload,
    },
}

#[cfg(test)]
mod tests;
