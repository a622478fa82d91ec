//! What the desktop app's tray shows and does, without a display, so that it is tested here
//! and the app (`src-tauri/src/tray.rs`) only turns it into native menus and routes clicks:
//! [`model`] (the sessions that need their owner, their labels, the count and tooltip),
//! [`menu`] (the whole menu as data: items, ids, which are enabled or ticked, and what a click
//! on each does) and [`feed`] (the model kept in step with the supervisor, and the tray's own
//! requests to it: Approve / Deny, Pause notifications).
pub mod feed;
pub mod menu;
pub mod model;

pub use feed::TrayFeed;
pub use menu::{TrayAction, TrayItem};
pub use model::{Entry, TrayModel};
