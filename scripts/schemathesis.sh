#!/usr/bin/env bash
# OpenAPI-driven fuzzing of the endpoint: starts a real `paddock up` (private directories, a
# free port), pairs an admin device, and runs schemathesis (pinned, from PyPI, in a venv under
# the cache directory) against /api/v1/openapi.json, failing on any 5xx or response that does
# not match the document. Revoking devices is left out (the fuzzer would revoke its own
# device through the links of the document; tests/endpoint/roles.rs covers revocation), and so is
# starting sessions (it would run whatever programs the fuzzer makes up on this machine;
# tests/endpoint_sessions/rest.rs covers the route and its errors). Usage: scripts/schemathesis.sh [PADDOCK_BINARY] [MAX_EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
BIN=${1:-target/debug/paddock}
EXAMPLES=${2:-30}
CACHE=${PADDOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paddock}
VENV="$CACHE/schemathesis-$VERSION"

if [ ! -x "$BIN" ]; then
  echo "==> building paddock"
  cargo build -p paddock
fi
BIN=$(realpath "$BIN")
if [ ! -x "$VENV/bin/st" ]; then
  echo "==> installing schemathesis $VERSION into $VENV"
  python3 -m venv "$VENV" || {
    echo "error: python3 -m venv failed; install python3-venv (apt-get install python3-venv)" >&2
    exit 1
  }
  "$VENV/bin/pip" install -q "schemathesis==$VERSION"
fi

WORK=$(mktemp -d /tmp/pdk-st.XXXXXX)
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  # Sessions started by the fuzzer's requests (none should be) and holders die with the dir.
  rm -rf "$WORK"
}
trap cleanup EXIT
export PADDOCK_RUNTIME_DIR="$WORK/rt" PADDOCK_DATA_DIR="$WORK/data" PADDOCK_CONFIG_DIR="$WORK/conf"
export PADDOCK_SERVER__PORT=0 PADDOCK_SERVER__REQUESTS_PER_MINUTE=1000000 PADDOCK_SERVER__PAIRING_ATTEMPTS_PER_MINUTE=1000000
mkdir -p "$WORK/rt"
"$BIN" up >"$WORK/up.out" 2>"$WORK/up.err" &
PID=$!
for _ in $(seq 1 100); do
  grep -q "supervisor ready" "$WORK/up.out" 2>/dev/null && break
  sleep 0.1
done
URL=$("$BIN" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
# A session for the routes that take one.
"$BIN" run --name fuzz-target -- cat >/dev/null
SECRET=$("$BIN" pair --json --role admin | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
TOKEN=$(curl -sk -X POST -H 'content-type: application/json' \
  -d "{\"secret\":\"$SECRET\",\"device_name\":\"schemathesis\"}" "$URL/api/v1/pair" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

echo "==> schemathesis $VERSION against $URL ($EXAMPLES examples per operation)"
# Its cache directory (.schemathesis) goes to the temporary directory, not the repository.
cd "$WORK"
"$VENV/bin/st" run "$URL/api/v1/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --tls-verify false \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$EXAMPLES" \
  --workers 1 \
  --exclude-operation-id revoke_device \
  --exclude-operation-id start_session
