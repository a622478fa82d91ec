//! The session holder: one small process per session that owns the agent's PTY, keeps a
//! model of its screen and a ring of its output, and serves any number of clients on a unix
//! socket. Agents outlive the supervisor, the apps and the terminal that started them because
//! nothing but their holder has their PTY. A holder can also mirror a tmux pane instead of
//! owning a PTY (a "tmux bridge", [`tmux_pane`]), so a pane is a session like any other.
//!
//! Used by the `paddock` binary (which runs holders and is their client) and by the
//! supervisor, which starts holders through [`launch`].
#![deny(unsafe_code)]

mod agent;
pub mod client;
mod conn;
pub mod dirs;
pub(crate) mod fastforward;
mod hold;
pub mod holder;
pub mod launch;
pub mod model;
pub(crate) mod os;
pub mod osc7501;
pub use os::default_sigpipe;
pub mod process;
pub mod rebind;
pub mod ring;
pub mod sessions;
pub(crate) mod sink;
pub mod spec;
mod sync;
mod terminal;
pub mod text;
pub mod tmux_pane;

pub use agent::{to_nix, ExitInfo};
pub use dirs::{runtime_dir, RuntimeDir};
pub use holder::{run, HolderError, Ready};
pub use os::without_terminal;
pub use spec::HolderSpec;
pub use terminal::TerminalError;
