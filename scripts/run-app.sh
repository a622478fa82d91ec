#!/usr/bin/env bash
# From a fresh clone, one command to the running desktop app: checks for Rust and Node (and
# says how to get them), installs the system packages the app needs on Debian/Ubuntu
# (webkit2gtk 4.1, the tray's indicator library) when missing, the UI's npm packages, builds
# the UI and the app (`paddock-app` with the UI inside it, the `app` profile), then starts it
# with its window open. Run again, it rebuilds only what changed. The app lives on in the
# tray when its window is closed; Quit is in the tray menu.
# Usage: scripts/run-app.sh [options of paddock-app]
#        PADDOCK_PROFILE=dev scripts/run-app.sh   (unoptimised: a much shorter first build)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/from-source.sh

need_rust_and_node
if [ "$(uname -s)" = Linux ]; then
  # Build: webkit2gtk and its friends (../shared/reference/tauri.md); run: the tray's
  # indicator library (loaded when the tray icon is made).
  apt_need libwebkit2gtk-4.1-dev build-essential libxdo-dev libssl-dev librsvg2-dev \
    libayatana-appindicator3-dev
fi
build_ui
# The bundles (`npx tauri build`, the Tauri CLI from npm in src-tauri/) are for packaging;
# running needs only the binary, built with the feature `tauri build` sets (the UI served
# from inside the binary).
echo "==> building the app (cargo, profile $PROFILE; the first build takes a while)"
cargo build --profile "$PROFILE" -p paddock-app -p paddock --features paddock-app/custom-protocol \
  --bin paddock-app --bin paddock --bin paddock-holder
echo "==> starting $BIN_DIR/paddock-app"
exec "$BIN_DIR/paddock-app" --open "$@"
