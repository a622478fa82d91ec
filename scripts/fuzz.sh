#!/usr/bin/env bash
# Runs the cargo-fuzz targets under fuzz/ for a while each.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS (default 60) is each target's -max_total_time; TARGETs default to all of them
# (`cargo fuzz list --fuzz-dir fuzz`, i.e. every [[bin]] of fuzz/Cargo.toml).
# Works on stable Rust: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its nightly-only flags
# (-Zsanitizer=address, -Cpasses=sancov-module, ...). Set FUZZ_SANITIZER=none to build
# without AddressSanitizer (faster; Paddock's crates forbid unsafe code) and FUZZ_JOBS to use
# more than one process. Extra libFuzzer flags can go in FUZZ_ARGS.
# Seeds from fuzz/seeds/<target>/ are copied into fuzz/corpus/<target>/ (gitignored) first;
# crashes land in fuzz/artifacts/<target>/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

secs="${1:-60}"
shift || true
if ! [[ "$secs" =~ ^[0-9]+$ ]]; then
    echo "usage: $0 [SECONDS] [TARGET...]  (SECONDS must be a whole number, got '$secs')" >&2
    exit 2
fi
targets=("$@")

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing; installing it" >&2
    cargo install cargo-fuzz --locked
fi

# Every target fuzz/Cargo.toml declares, so the default list cannot drift from it.
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
    if [ "${#targets[@]}" -eq 0 ]; then
        echo "error: cargo fuzz list found no target in fuzz/Cargo.toml" >&2
        exit 1
    fi
fi

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/fuzz/target}"
sanitizer="${FUZZ_SANITIZER:-address}"
jobs="${FUZZ_JOBS:-1}"

status=0
for t in "${targets[@]}"; do
    corpus="fuzz/corpus/$t"
    mkdir -p "$corpus"
    if [ -d "fuzz/seeds/$t" ]; then
        cp -n "fuzz/seeds/$t"/* "$corpus"/ 2>/dev/null || true
    fi
    echo "== fuzzing $t for ${secs}s (sanitizer: $sanitizer, jobs: $jobs)" >&2
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    if ! cargo fuzz run --fuzz-dir fuzz -s "$sanitizer" -j "$jobs" "$t" "$corpus" -- \
        -max_total_time="$secs" -print_final_stats=1 ${FUZZ_ARGS:-}; then
        echo "== $t FAILED: see fuzz/artifacts/$t/" >&2
        status=1
    fi
done
exit "$status"
