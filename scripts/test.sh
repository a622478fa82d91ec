#!/usr/bin/env bash
# Sets up what the tests need on a fresh Debian/Ubuntu machine and runs every test:
# formatting, lints, the UI (lint, unit tests, build within its size budget), unit and
# integration tests (real PTYs, real holders, real tmux, real TLS, the real Claude Code and
# Codex CLIs against a local fake of their APIs), the OpenAPI-driven fuzz of the endpoint,
# and the UI's end-to-end suite in a real Chromium.
# Usage: scripts/test.sh            (CI calls exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_install() {
  echo "==> installing $* (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

need tmux || apt_install tmux
# worktrees (issue 16): `paddock run --worktree` runs the git command (crates/cli/tests/worktree.rs).
need git || apt_install git
# A private session bus for the desktop-notification tests (crates/cli/tests/notifications.rs).
need dbus-daemon || apt_install dbus
if ! need cargo; then
  echo "error: cargo is not installed; install Rust from https://rustup.rs and run this again" >&2
  exit 1
fi
if ! need npm; then
  echo "error: npm is not installed; install Node.js 20.19 or newer (https://nodejs.org) and run this again" >&2
  exit 1
fi
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv

echo "==> the real agent CLIs (Claude Code, Codex), pinned, cached once per machine"
scripts/install-agents.sh

echo "==> UI: lint, unit tests, build within the bundle budget (paddock embeds ui/dist)"
(cd ui && npm ci --no-audit --no-fund && npm run lint && npm test && npm run build)

echo "==> the SMTP server the email channel's tests use (aiosmtpd, pinned, cached once per machine)"
scripts/install-smtp-server.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
# The app (src-tauri) needs webkit2gtk and a display: scripts/app.sh builds and tests it below.
cargo clippy --workspace --exclude paddock-app --all-targets -- -D warnings
echo "==> cargo deny (licenses, bans, sources; advisories need the network)"
scripts/deny.sh
echo "==> cargo test"
cargo test --workspace --exclude paddock-app
echo "==> OpenAPI fuzz of the endpoint (schemathesis)"
scripts/schemathesis.sh
echo "==> UI end-to-end (Chromium against a real paddock up)"
ui/scripts/e2e.sh
echo "==> the one-command start: scripts/up.sh on a scratch clone, HTTPS health, Ctrl-C"
scripts/test-up.sh
echo "==> the desktop app: lints, IPC tests, .deb, end-to-end under Xvfb"
scripts/app.sh
echo "==> all tests passed"
