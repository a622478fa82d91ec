#!/usr/bin/env bash
# The one-command start, as a newcomer runs it: clones this repository (its committed HEAD)
# into a scratch directory, runs scripts/up.sh there with a fake HOME and private PADDOCK_*
# directories (endpoint on a free loopback port), waits for the URL it prints, checks
# /api/v1/health over HTTPS against the certificate fingerprint it printed, checks it said how
# to pair a device, then stops it with Ctrl-C (SIGINT) and expects a clean exit.
# The build is the test run's own: CARGO_TARGET_DIR is this checkout's target/ and the
# profile is dev (PADDOCK_PROFILE=dev), and the clone's files take the modification times of
# this checkout's identical files, so cargo rebuilds only what differs (a clone is otherwise
# all "new" to it). npm's packages are linked from this checkout's ui/node_modules; the UI
# itself is built in the clone, as scripts/up.sh does.
# Usage: scripts/test-up.sh           (called by scripts/test.sh, after the debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
start=$(date +%s)

WORK=$(mktemp -d /tmp/paddock-up-XXXXXX)
UP_PID=""
cleanup() {
  # Its whole process group (setsid below): a cargo still building goes too.
  if [ -n "$UP_PID" ]; then
    kill -KILL -- "-$UP_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "error: $*" >&2
  echo "---- scripts/up.sh's output" >&2
  tail -40 "$WORK/up.log" >&2 || true
  exit 1
}

git clone -q "$ROOT" "$WORK/clone"
# The same modification times for the same bytes (a fresh clone's are all "now").
python3 - "$ROOT" "$WORK/clone" <<'PY'
import os, subprocess, sys
root, clone = sys.argv[1], sys.argv[2]
files = subprocess.run(["git", "-C", clone, "ls-files", "-z"], capture_output=True, check=True).stdout
for f in filter(None, files.decode().split("\0")):
    a, b = os.path.join(root, f), os.path.join(clone, f)
    try:
        if os.path.isfile(a) and not os.path.islink(a) and open(a, "rb").read() == open(b, "rb").read():
            st = os.stat(a)
            os.utime(b, ns=(st.st_atime_ns, st.st_mtime_ns))
    except OSError:
        pass
PY
[ -d "$ROOT/ui/node_modules" ] || (cd "$ROOT/ui" && npm ci --no-audit --no-fund)
cp -al "$ROOT/ui/node_modules" "$WORK/clone/ui/node_modules"

for d in home run data config; do mkdir -m 700 "$WORK/$d"; done
printf '[tmux]\nenabled = false\n' > "$WORK/config/config.toml"

# Rust's toolchain stays where it is installed (a newcomer's HOME has it; the fake one not).
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
rustup_home="${RUSTUP_HOME:-$HOME/.rustup}"
# A new session (setsid), so that SIGINT reaches up.sh's `paddock up` as Ctrl-C would.
HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_DATA_HOME="$WORK/home/.local/share" \
PADDOCK_RUNTIME_DIR="$WORK/run" PADDOCK_DATA_DIR="$WORK/data" PADDOCK_CONFIG_DIR="$WORK/config" \
CARGO_HOME="$cargo_home" RUSTUP_HOME="$rustup_home" \
CARGO_TARGET_DIR="$ROOT/target" PADDOCK_PROFILE=dev \
  setsid "$WORK/clone/scripts/up.sh" --port 0 >"$WORK/up.log" 2>&1 &
UP_PID=$!

# Its URL (the first build, if anything changed, happens before it).
url=""
for _ in $(seq 1800); do
  url=$(sed -n 's/.*paddock supervisor ready: .*endpoint \(https:[^ ]*\).*/\1/p' "$WORK/up.log" | head -1)
  [ -n "$url" ] && break
  kill -0 "$UP_PID" 2>/dev/null || fail "scripts/up.sh ended before printing the endpoint's URL"
  sleep 0.2
done
[ -n "$url" ] || fail "no endpoint URL from scripts/up.sh within 6 minutes"
case "$url" in https://127.0.0.1:*) ;; *) fail "the endpoint is not on loopback: $url" ;; esac
fp=""
for _ in $(seq 50); do
  fp=$(sed -n 's/^Certificate SHA-256 \([0-9a-f]\{64\}\);.*/\1/p' "$WORK/up.log" | head -1)
  [ -n "$fp" ] && break
  sleep 0.1
done
[ -n "$fp" ] || fail "scripts/up.sh did not print the certificate's fingerprint"
grep -q 'pair a device with `paddock pair`' "$WORK/up.log" || fail "it did not say how to pair a device"
grep -q "run in another terminal: .*/paddock pair" "$WORK/up.log" || fail "it did not say which paddock to run to pair"

# /api/v1/health over HTTPS, on a certificate whose SHA-256 is the printed one.
python3 - "$url" "$fp" <<'PY' || fail "the health check over HTTPS failed"
import hashlib, json, socket, ssl, sys, urllib.parse
url, fp = sys.argv[1], sys.argv[2]
u = urllib.parse.urlparse(url)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # self-signed: trusted by its pinned fingerprint below
with socket.create_connection((u.hostname, u.port), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname=u.hostname) as s:
        got = hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()
        if got != fp:
            sys.exit(f"the endpoint's certificate is {got}, not the printed {fp}")
        s.sendall(f"GET /api/v1/health HTTP/1.1\r\nHost: {u.netloc}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
head, _, body = data.partition(b"\r\n\r\n")
status = head.split(b"\r\n")[0].decode()
if " 200 " not in status:
    sys.exit(f"GET /api/v1/health answered {status}")
if b"chunked" in head.lower():
    sys.exit(f"unexpected chunked body: {body[:200]!r}")
health = json.loads(body)
print(f"    /api/v1/health: {json.dumps(health)[:160]}")
if "version" not in health:
    sys.exit(f"no version in the health answer: {health}")
PY

# Ctrl-C: the supervisor stops and the script ends cleanly.
kill -INT -- "-$UP_PID"
for _ in $(seq 150); do kill -0 "$UP_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$UP_PID" 2>/dev/null && fail "scripts/up.sh did not stop within 15 s of Ctrl-C"
status=0; wait "$UP_PID" || status=$?
UP_PID=""
[ "$status" -eq 0 ] || fail "scripts/up.sh exited with $status after Ctrl-C"
echo "==> scripts/up.sh from a fresh clone served $url and stopped cleanly ($(( $(date +%s) - start )) s)"
