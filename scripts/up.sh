#!/usr/bin/env bash
# From a fresh clone, one command to a running host: checks for Rust and Node (and says how to
# get them), builds the UI and the `paddock` binaries (the `app` profile; a second run rebuilds
# only what changed), then runs `paddock up` on its defaults in the foreground: it prints the
# endpoint's URL and how to pair a device. Ctrl-C stops the supervisor; agents keep running.
# Usage: scripts/up.sh [options of `paddock up`, e.g. --listen 0.0.0.0 or --port 0]
#        PADDOCK_PROFILE=dev scripts/up.sh   (unoptimised: a much shorter first build)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/from-source.sh

need_rust_and_node
build_ui
echo "==> building paddock and paddock-holder (cargo, profile $PROFILE; the first build takes a while)"
cargo build --profile "$PROFILE" --bin paddock --bin paddock-holder
echo "==> paddock up (Ctrl-C stops it; the agents keep running)"
echo "    To pair a phone or a browser, run in another terminal: $BIN_DIR/paddock pair"
echo "    (it shows a QR code to scan and a short code to type); to start an agent:"
echo "    $BIN_DIR/paddock run --attach -- claude"
exec "$BIN_DIR/paddock" up "$@"
