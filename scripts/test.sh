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
# Each step's header says how long the run has taken so far, so a slow step shows in CI's log.
step() { printf '==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_install() {
  step "installing $* (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

need tmux || apt_install tmux
# --- upgrade: `paddock up` reads a running supervisor's command line with ps (procps) ---
need ps || apt_install procps
# --- end upgrade ---
# worktrees (issue 16): `paddock run --worktree` runs the git command (crates/cli/tests/worktree.rs).
need git || apt_install git
# A private session bus for the desktop-notification tests (crates/cli/tests/notifications/).
need dbus-daemon || apt_install dbus
# adopt: begin. `paddock adopt` moves a process with reptyr; its test starts the process
# under `script` (util-linux, in Debian's bsdutils) in a PTY Paddock does not own.
need reptyr || apt_install reptyr
need script || apt_install bsdutils
# adopt: end
if ! need cargo; then
  echo "error: cargo is not installed; install Rust from https://rustup.rs and run this again" >&2
  exit 1
fi
if ! need npm; then
  echo "error: npm is not installed; install Node.js 20.19 or newer (https://nodejs.org) and run this again" >&2
  exit 1
fi
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv

step "the real agent CLIs (Claude Code, Codex, Gemini CLI), pinned, cached once per machine"
scripts/install-agents.sh

step "UI: lint, unit tests, build within the bundle budget (paddock embeds ui/dist)"
(cd ui && npm ci --no-audit --no-fund && npm run lint && npm test && npm run build)

step "the SMTP server the email channel's tests use (aiosmtpd, pinned, cached once per machine)"
scripts/install-smtp-server.sh

step "the README's fuzz targets exist in fuzz/ (the fuzz run itself is scripts/fuzz.sh, by hand)"
scripts/check-fuzz-targets.sh
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
# The app (src-tauri) needs webkit2gtk and a display: scripts/app.sh builds and tests it below.
cargo clippy --workspace --exclude paddock-app --all-targets -- -D warnings
step "cargo deny (licenses, bans, sources; advisories need the network)"
scripts/deny.sh
step "cargo test"
cargo test --workspace --exclude paddock-app
# --- upgrade (issue 16, item 5): holders of an earlier build adopted by this one ---
step "upgrade: an earlier build's holders adopted and worked by this build"
scripts/upgrade-test.sh
# --- end upgrade ---
# soak: begin
step "soak with faults, short: 20 sessions, 20 WSS clients, kill -9 / SIGSTOP / half frames / drops (about 1.5 min)"
scripts/soak.sh --minutes 1 --sessions 20 --clients 20 --fault-every 6 --warmup 15
# soak: end
step "OpenAPI fuzz of the endpoint (schemathesis)"
scripts/schemathesis.sh
step "UI end-to-end (Chromium against a real paddock up)"
ui/scripts/e2e.sh
step "the one-command start: scripts/up.sh on a scratch clone, HTTPS health, Ctrl-C"
scripts/test-up.sh
step "the desktop app: lints, IPC tests, .deb, end-to-end under Xvfb"
scripts/app.sh
step "all tests passed"
