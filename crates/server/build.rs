//! Embeds the built UI (`ui/dist`, made by `npm ci && npm run build` in `ui/`) into the
//! binary. When it is missing the endpoint still builds and `/` says how to build the UI.

use std::io::Write;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let ui = manifest.join("../../ui");
    let dist = ui.join("dist");
    println!("cargo:rerun-if-changed=build.rs");
    if dist.is_dir() {
        println!("cargo:rerun-if-changed={}", dist.display());
    } else if ui.is_dir() {
        println!("cargo:rerun-if-changed={}", ui.display());
    }
    let mut files = Vec::new();
    if dist.is_dir() {
        walk(&dist, &dist, &mut files);
    }
    files.sort();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("ui_assets.rs");
    let mut f = match std::fs::File::create(&out) {
        Ok(f) => f,
        Err(e) => {
            println!("cargo:warning=cannot write {}: {e}", out.display());
            return;
        }
    };
    let mut text = String::from("/// The built UI: (path without the leading slash, bytes).\npub static ASSETS: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        println!("cargo:rerun-if-changed={}", abs.display());
        text.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?})),\n",
            abs.display().to_string()
        ));
    }
    text.push_str("];\n");
    let _ = f.write_all(text.as_bytes());
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push((rel.to_string_lossy().replace('\\', "/"), p.clone()));
        }
    }
}
