#!/usr/bin/env bash
# End-to-end tests of the UI: builds the UI and `paddock` (which embeds ui/dist), installs
# Debian's Chromium if missing, then drives it against a real `paddock up` and real sessions.
# Usage: ui/scripts/e2e.sh   (or `npm run e2e` in ui/). Screenshots land in docs/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
UI="$PWD"
ROOT="$(cd .. && pwd)"

if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian's chromium (the end-to-end tests drive it)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
fi
echo "==> building the UI"
npm run build
echo "==> building paddock (embeds ui/dist) and the fake model API"
(cd "$ROOT" && cargo build --bin paddock --bin paddock-fakeapi)
echo "==> the real Claude Code CLI (installed once per machine)"
CLAUDE="$("$ROOT/scripts/install-agents.sh" | sed -n 's/^claude=//p')"
[ -x "$CLAUDE" ] || { echo "error: scripts/install-agents.sh did not give a claude binary" >&2; exit 1; }
echo "==> end-to-end tests"
E2E_PADDOCK_BIN="$ROOT/target/debug/paddock" E2E_FAKEAPI_BIN="$ROOT/target/debug/paddock-fakeapi" \
  E2E_CLAUDE_BIN="$CLAUDE" npx vitest run --config vitest.e2e.config.ts
