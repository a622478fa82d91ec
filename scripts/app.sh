#!/usr/bin/env bash
# The desktop app (src-tauri, `paddock-app`): system packages, lints, the IPC tests (Tauri's
# mock runtime), the Linux .deb (`tauri build --debug`, whose binary the end-to-end tests
# drive), the end-to-end tests under Xvfb (scripts/app-e2e.sh) and the `cargo check`s for
# Android, iOS and macOS (scripts/app-cross-check.sh). Called by scripts/test.sh after the UI
# is built.
# Usage: scripts/app.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

# Build: webkit2gtk and friends (tauri.md). Run: the tray's indicator library, a virtual
# display, a session bus, the WebDriver of WebKitGTK, a tray host.
PKGS=(libwebkit2gtk-4.1-dev build-essential libxdo-dev libssl-dev librsvg2-dev
      libayatana-appindicator3-dev webkit2gtk-driver xvfb dbus imagemagick trayer
      xdotool clang llvm curl)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]} (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "==> Tauri CLI (prebuilt, from npm)"
(cd src-tauri && npm ci --no-audit --no-fund)
[ -f ui/dist/index.html ] || (cd ui && npm run build)

echo "==> cargo clippy -p paddock-app"
cargo clippy -p paddock-app --all-targets -- -D warnings
echo "==> cargo test -p paddock-app (IPC commands, the tray's pause and native menu, on Tauri's mock runtime)"
cargo test -p paddock-app

echo "==> the Linux .deb (tauri build --debug --bundles deb)"
start=$(date +%s)
(cd src-tauri && npx --no-install tauri build --debug --bundles deb --ci)
ls -l target/debug/bundle/deb/*.deb
echo "    built in $(( $(date +%s) - start )) s"

echo "==> end-to-end: the real app under Xvfb through tauri-driver"
cargo build --bin paddock --bin paddock-holder --bin paddock-fakeapi --bin paddock-notification-server
scripts/app-e2e.sh

echo "==> cargo check for Android, iOS and macOS (scripts/app-cross-check.sh)"
start=$(date +%s)
scripts/app-cross-check.sh
echo "    checked in $(( $(date +%s) - start )) s"
