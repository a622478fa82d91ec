//! The desktop entry point of the Paddock app; everything is in the library (`lib.rs`), which
//! the mobile builds enter through `tauri::mobile_entry_point`.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    paddock_app::run();
}
