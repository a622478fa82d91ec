#!/usr/bin/env bash
# Type-checks what cannot be built on this Linux machine, so CI keeps it honest
# (../shared/reference/tauri.md has the facts behind each step):
#   - the app for Android (aarch64-linux-android) and iOS (aarch64-apple-ios): the mobile
#     entry point, the barcode scanner, everything but linking (no NDK, no Xcode here);
#   - the host for macOS (aarch64-apple-darwin): the whole workspace and the app (without the
#     notification plugin, whose Cocoa code needs the Apple SDK). ring's and bundled SQLite's
#     build scripts compile C against the Apple SDK, so they are overridden (their `links`
#     keys, read from cargo metadata) and libsqlite3-sys gets the bindings it ships.
# Usage: scripts/app-cross-check.sh [android|ios|macos]...   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(android ios macos)

add_target() {
  rustup target list --installed | grep -qx "$1" || rustup target add "$1"
}

# Runs a cargo check; when libsqlite3-sys (its build script overridden) lacks bindgen.rs,
# copies the bindings the crate ships into its OUT_DIR and runs it again.
check_with_sqlite_bindings() {
  local log
  log=$(mktemp)
  if "$@" 2>&1 | tee "$log"; then rm -f "$log"; return 0; fi
  local out
  out=$(grep -o "couldn't read \`[^\`]*/bindgen.rs\`" "$log" | head -1 | sed "s/couldn't read \`//; s/\`$//") || true
  rm -f "$log"
  if [ -z "$out" ]; then return 1; fi
  local src
  src=$(cargo metadata --format-version 1 | python3 -c '
import json, sys
m = json.load(sys.stdin)
print(next(p["manifest_path"] for p in m["packages"] if p["name"] == "libsqlite3-sys"))')
  mkdir -p "$(dirname "$out")"
  cp "$(dirname "$src")/sqlite3/bindgen_bundled_version.rs" "$out"
  "$@"
}

# ring (rustls' crypto, through paddock-client) compiles C for the target in its build script,
# which needs the NDK or the Apple SDK: skipped by overriding its `links` key (a check links
# nothing).
ring_links=$(cargo metadata --format-version 1 | python3 -c '
import json, sys
m = json.load(sys.stdin)
print(next(p["links"] for p in m["packages"] if p["name"] == "ring"))')
ring_override() { echo "target.$1.${ring_links}.rustc-link-lib=[\"ring\"]"; }
# A warning in our code for another platform fails the check, as clippy's -D warnings does here
# (dependencies are capped by cargo; the flags apply to the cross target only, so the host's
# build scripts and proc macros stay shared with the ordinary build).
# The Apple checks compile one Objective-C file with no headers (objc2's exception helper):
# clang with an empty SDK root will do. The path must stay the same from run to run: cc-rs
# asks cargo to rerun the build script when SDKROOT changes, which would recheck all of objc2.
empty_sdk="${CARGO_TARGET_DIR:-target}/cross-check-empty-sdk"
mkdir -p "$empty_sdk"
empty_sdk=$(realpath "$empty_sdk")
strict() { echo "target.$1.rustflags=[\"-Dwarnings\"]"; }

for t in "${targets[@]}"; do
  case "$t" in
    android)
      echo "==> cargo check paddock-app --target aarch64-linux-android"
      add_target aarch64-linux-android
      cargo check -p paddock-app --lib --target aarch64-linux-android \
        --config "$(ring_override aarch64-linux-android)" --config "$(strict aarch64-linux-android)"
      ;;
    ios)
      echo "==> cargo check paddock-app --target aarch64-apple-ios"
      add_target aarch64-apple-ios
      SDKROOT="$empty_sdk" CC_aarch64_apple_ios=clang AR_aarch64_apple_ios=llvm-ar \
        cargo check -p paddock-app --lib --target aarch64-apple-ios \
        --config "$(ring_override aarch64-apple-ios)" --config "$(strict aarch64-apple-ios)"
      ;;
    macos)
      # One invocation for the workspace and the app: features unify once, nothing is checked
      # twice. --no-default-features drops only the app's notification plugin (the one default
      # feature in the workspace besides proto's tokio, which its dependents ask for anyway).
      echo "==> cargo check the workspace and the app --target aarch64-apple-darwin"
      add_target aarch64-apple-darwin
      SDKROOT="$empty_sdk" CC_aarch64_apple_darwin=clang AR_aarch64_apple_darwin=llvm-ar \
        check_with_sqlite_bindings cargo check --workspace --no-default-features \
        --target aarch64-apple-darwin \
        --config "$(ring_override aarch64-apple-darwin)" --config "$(strict aarch64-apple-darwin)" \
        --config 'target.aarch64-apple-darwin.sqlite3.rustc-link-lib=["sqlite3"]'
      ;;
    *) echo "unknown target $t (android, ios or macos)" >&2; exit 2 ;;
  esac
done
