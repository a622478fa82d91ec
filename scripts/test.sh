#!/usr/bin/env bash
# Sets up what the tests need on a fresh Debian/Ubuntu machine and runs every test:
# formatting, lints, unit and integration tests (real PTYs, real holders, real tmux, the real
# Claude Code and Codex CLIs against a local fake of their model APIs).
# Usage: scripts/test.sh            (CI calls exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }

if ! need tmux; then
  echo "==> installing tmux (the integration tests drive a real tmux)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq tmux >/dev/null
fi
if ! need npm; then
  echo "==> installing npm (scripts/install-agents.sh fetches the agent CLIs with it)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
if ! need cargo; then
  echo "error: cargo is not installed; install Rust from https://rustup.rs and run this again" >&2
  exit 1
fi

echo "==> the real agent CLIs (Claude Code, Codex), pinned, cached once per machine"
scripts/install-agents.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "==> cargo test"
cargo test --workspace
echo "==> all tests passed"
