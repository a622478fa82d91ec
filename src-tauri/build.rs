//! Tauri's build step: reads tauri.conf.json and the capabilities, embeds the icons; and
//! records the commit the app is built from, as `paddock`'s build does.

#[path = "../crates/cli/build_commit.rs"]
mod build_commit;

fn main() {
    println!("cargo:rerun-if-changed=../crates/cli/build_commit.rs");
    build_commit::record();
    tauri_build::build()
}
