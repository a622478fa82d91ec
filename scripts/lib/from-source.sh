# Shared by the from-a-fresh-clone commands (scripts/up.sh, scripts/run-app.sh); sourced, not
# run. Checks for Rust and Node (and says how to get them), installs the UI's npm packages
# when they are missing or the lock file changed, builds the UI when a source changed, and
# builds binaries with the `app` profile (optimised, thin LTO: minutes, not the release
# profile's fat-LTO hour), so a second run rebuilds only what changed.

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# PADDOCK_PROFILE=dev builds unoptimised (target/debug), as the tests do: scripts/test-up.sh
# runs scripts/up.sh on a scratch clone that way, reusing the test run's build.
PROFILE="${PADDOCK_PROFILE:-app}"
unset PADDOCK_PROFILE  # `paddock` reads PADDOCK_* variables as its settings: not this one
if [ "$PROFILE" = dev ]; then BIN_DIR="$TARGET_DIR/debug"; else BIN_DIR="$TARGET_DIR/$PROFILE"; fi

need_rust_and_node() {
  local missing=0
  if ! command -v cargo >/dev/null 2>&1; then
    echo "error: Rust is not installed (no cargo). Install it from https://rustup.rs (one command), open a new terminal and run this again." >&2
    missing=1
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: Node.js is not installed (no npm). Install Node.js 20.19 or newer (https://nodejs.org, or your system's package manager) and run this again." >&2
    missing=1
  fi
  [ "$missing" -eq 0 ] || exit 1
}

# apt packages, installed only when missing (Debian and Ubuntu; elsewhere says what to get).
apt_need() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: these system packages are needed: ${missing[*]}; install them with your package manager and run this again." >&2
    exit 1
  fi
  echo "==> installing ${missing[*]} (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

# npm ci in DIR when node_modules is missing or older than the lock file.
npm_deps() {
  local dir="$1"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "==> npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
}

# The UI (ui/dist, embedded into paddock and the app) when a source is newer than the build.
build_ui() {
  npm_deps ui
  if [ ! -f ui/dist/index.html ] || [ -n "$(find ui/src ui/public ui/index.html ui/package-lock.json ui/vite.config.* \
       -newer ui/dist/index.html -print -quit 2>/dev/null)" ]; then
    echo "==> building the UI"
    (cd ui && npm run build)
  else
    echo "==> the UI is up to date"
  fi
}
