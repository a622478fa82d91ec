#!/usr/bin/env bash
# The soak with faults: a real `paddock up` in temp dirs with 50 sessions (flooding, idle,
# interactive bash shells typed into), 50 WSS clients attaching, detaching and resuming at
# random, REST load, and meanwhile kill -9 and SIGSTOP of the supervisor, dropped
# connections and a holder's client killed mid-frame. Exits non-zero naming the check that
# failed (no agent lost, bytes contiguous and equal to the session's record, descriptors and
# memory flat, integrity_check). See README.md, "Soak".
# Usage: scripts/soak.sh [--release] [paddock-bench soak options, e.g. --minutes 60]
#        scripts/soak.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
build=()
if [ "${1:-}" = "--release" ]; then
  profile=release
  build=(--release)
  shift
fi
cargo build -q "${build[@]}" -p paddock -p paddock-bench
target="${CARGO_TARGET_DIR:-target}/$profile"
exec "$target/paddock-bench" soak --paddock "$target/paddock" "$@"
