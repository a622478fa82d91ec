#!/usr/bin/env bash
# End-to-end tests of the desktop app: the real `paddock-app` (built by `tauri build --debug`,
# with the UI inside) on a private X display (Xvfb), with a private session bus
# (dbus-run-session) and a tray host (trayer) on that display, driven through tauri-driver +
# WebKitWebDriver. The tests that need the desktop's notification server start the test one
# (`paddock-notification-server`, crates/fakeapi) on that bus themselves, before the app.
# Every Paddock directory is a fresh temporary one and the endpoint takes a free port.
# Reusable: `scripts/app-e2e.sh [vitest args]` runs ui/e2e/app/*.app.ts; E2E_APP_BIN,
# E2E_DRIVER_URL, E2E_PADDOCK_BIN, E2E_FAKEAPI_BIN, E2E_NOTIFICATION_SERVER_BIN,
# E2E_CLAUDE_BIN, DISPLAY and the PADDOCK_* directories are set for the tests.
# Usage: scripts/app-e2e.sh                  (after scripts/app.sh built the app)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
# The binary inside the .deb `tauri build --debug` made: the UI is in it (target/debug/
# paddock-app is rebuilt without it by `cargo test`, and then loads the Vite dev server).
APP_BIN="$ROOT/target/debug/bundle/deb/Paddock_0.1.0_amd64/data/usr/bin/paddock-app"
[ -x "$APP_BIN" ] || { echo "error: $APP_BIN is missing; build it with scripts/app.sh" >&2; exit 1; }

if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "==> cargo install tauri-driver --locked (about a minute)"
  cargo install tauri-driver --locked
fi
for b in paddock paddock-holder paddock-fakeapi paddock-notification-server; do
  [ -x "$ROOT/target/debug/$b" ] || { echo "error: target/debug/$b is missing; build it with scripts/app.sh (or cargo build --bin $b)" >&2; exit 1; }
done
(cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; })
# The real Claude Code CLI (pinned; installed once per machine, before HOME is replaced below).
CLAUDE="$("$ROOT/scripts/install-agents.sh" | sed -n 's/^claude=//p')"
[ -x "$CLAUDE" ] || { echo "error: scripts/install-agents.sh did not give a claude binary" >&2; exit 1; }

WORK=$(mktemp -d /tmp/paddock-app-e2e-XXXXXX)
cleanup() {
  [ -n "${XVFB_PID:-}" ] && kill "$XVFB_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
for d in run data config home; do mkdir -m 700 "$WORK/$d"; done
printf '[tmux]\nenabled = false\n[server]\nport = 0\n' > "$WORK/config/config.toml"

# A display of our own: Xvfb picks a free number and writes it on the given descriptor.
exec {dfd}<> <(:)
Xvfb -displayfd "$dfd" -screen 0 1400x900x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
XVFB_PID=$!
read -r -t 20 num <&"$dfd" || { echo "error: Xvfb did not start: $(cat "$WORK/xvfb.log")" >&2; exit 1; }
exec {dfd}<&-

export DISPLAY=":$num"
export HOME="$WORK/home" XDG_DATA_HOME="$WORK/home/.local/share" XDG_CONFIG_HOME="$WORK/home/.config"
export PADDOCK_RUNTIME_DIR="$WORK/run" PADDOCK_DATA_DIR="$WORK/data" PADDOCK_CONFIG_DIR="$WORK/config"
export PADDOCK_LOG=info
export E2E_APP_BIN="$APP_BIN" E2E_PADDOCK_BIN="$ROOT/target/debug/paddock"
export E2E_FAKEAPI_BIN="$ROOT/target/debug/paddock-fakeapi" E2E_WORK="$WORK"
export E2E_NOTIFICATION_SERVER_BIN="$ROOT/target/debug/paddock-notification-server" E2E_CLAUDE_BIN="$CLAUDE"

# The private session bus must not start the machine's own notification daemon (dunst,
# xfce4-notifyd... are D-Bus activatable) when the app notifies in a test that has no test
# server: it would own org.freedesktop.Notifications for the rest of the suite (the test
# server of notify.app.ts could not) and draw pop-ups on the display (taken for the tray's
# menu). A service directory listed first wins: there the name's activation fails at once.
mkdir "$WORK/dbus-services"
printf '[D-BUS Service]\nName=org.freedesktop.Notifications\nExec=/bin/false\n' \
  > "$WORK/dbus-services/org.freedesktop.Notifications.service"
cat > "$WORK/dbus-session.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <servicedir>$WORK/dbus-services</servicedir>
  <include>/usr/share/dbus-1/session.conf</include>
</busconfig>
EOF

# Inside a private session bus: a tray host, tauri-driver on a free port, then the tests.
dbus-run-session --config-file="$WORK/dbus-session.conf" -- bash -c '
  set -euo pipefail
  trayer --edge top --align right --widthtype request --height 28 --transparent false >"$E2E_WORK/trayer.log" 2>&1 &
  free_port() { python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])"; }
  port=$(free_port); native=$(free_port)
  tauri-driver --port "$port" --native-port "$native" >"$E2E_WORK/driver.log" 2>&1 &
  driver=$!
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/status" >/dev/null 2>&1 && break
    sleep 0.1
  done
  export E2E_DRIVER_URL="http://127.0.0.1:$port"
  cd ui
  status=0
  npx vitest run --config vitest.app.config.ts "$@" || status=$?
  kill $driver 2>/dev/null || true
  if [ $status -ne 0 ]; then
    echo "---- tauri-driver log"; tail -50 "$E2E_WORK/driver.log"
  fi
  exit $status
' app-e2e "$@"
