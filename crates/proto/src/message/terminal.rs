//! A terminal's size and the signals a client may send to its agent.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A terminal size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
pub struct Size {
    pub cols: u16,
    pub rows: u16,
}

impl Size {
    /// The smallest and largest sizes a holder accepts.
    pub const MIN: Size = Size { cols: 2, rows: 1 };
    pub const MAX: Size = Size {
        cols: 1000,
        rows: 500,
    };

    /// Whether this size is within [`Size::MIN`]..=[`Size::MAX`].
    pub fn is_valid(self) -> bool {
        (Self::MIN.cols..=Self::MAX.cols).contains(&self.cols)
            && (Self::MIN.rows..=Self::MAX.rows).contains(&self.rows)
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.cols, self.rows)
    }
}

/// The signals a client may send to an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wire", derive(ts_rs::TS, utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Signal {
    Int,
    Term,
    Kill,
    Hup,
    Stop,
    Cont,
}

impl Signal {
    pub const ALL: [Signal; 6] = [
        Signal::Int,
        Signal::Term,
        Signal::Kill,
        Signal::Hup,
        Signal::Stop,
        Signal::Cont,
    ];

    /// The conventional name, e.g. `INT`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "INT",
            Signal::Term => "TERM",
            Signal::Kill => "KILL",
            Signal::Hup => "HUP",
            Signal::Stop => "STOP",
            Signal::Cont => "CONT",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a string is not a signal this protocol carries.
#[derive(Debug, thiserror::Error)]
#[error("unknown signal `{0}`: use one of INT, TERM, KILL, HUP, STOP, CONT")]
pub struct UnknownSignal(pub String);

impl FromStr for Signal {
    type Err = UnknownSignal;

    /// Accepts `INT`, `int`, `SIGINT` or `2` (numbers as on Linux and macOS for these six,
    /// except STOP and CONT which differ, so only names are accepted for those).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        let name = upper.strip_prefix("SIG").unwrap_or(&upper);
        let sig = match name {
            "INT" | "2" => Signal::Int,
            "TERM" | "15" => Signal::Term,
            "KILL" | "9" => Signal::Kill,
            "HUP" | "1" => Signal::Hup,
            "STOP" => Signal::Stop,
            "CONT" => Signal::Cont,
            _ => return Err(UnknownSignal(s.to_owned())),
        };
        Ok(sig)
    }
}
