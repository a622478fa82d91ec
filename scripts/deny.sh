#!/usr/bin/env bash
# cargo deny: the licenses, bans (duplicate versions warn) and sources of every dependency,
# as deny.toml says. Advisories are not checked: they need the RustSec database from GitHub,
# and CI reaches only the package registries.
# Installs cargo-deny (pinned, built from crates.io with `cargo install --locked`) once per
# machine; on a fresh machine that build takes a few minutes, later runs a few seconds.
# Usage: scripts/deny.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=0.20.2
# Not a PADDOCK_* variable: paddock reads every one of those as a setting.
ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/paddock/tools/cargo-deny-$VERSION"
if [ ! -x "$ROOT/bin/cargo-deny" ]; then
  echo "==> installing cargo-deny $VERSION (once per machine) into $ROOT"
  cargo install --locked --quiet cargo-deny --version "$VERSION" --root "$ROOT"
fi
"$ROOT/bin/cargo-deny" --version
# cargo-deny reads `cargo metadata` for every target, offline: the crates only other systems
# build with (windows-sys, the Android and Apple ones) must be in the local cache first. A
# Linux build never downloads them, so on a fresh machine they are fetched here (crates.io).
cargo fetch --locked --quiet
"$ROOT/bin/cargo-deny" --offline --log-level warn check --hide-inclusion-graph licenses bans sources
